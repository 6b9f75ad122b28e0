/*
 * check_diskimg.c - the disk image reader on lure images and hostile layouts
 *
 * The images are assembled here byte by byte by a small FAT builder
 * (struct fat: boot sector, FATs, root region or cluster, 8.3 and VFAT
 * long-name entries, contiguous or fragmented files), then wrapped in an
 * MBR, a fixed VHD or a dynamic VHD. Every input is copied to a heap
 * block of exactly its length, so a read past it shows under
 * AddressSanitizer (make asan) or valgrind.
 */
#include <string.h>

#include <glib.h>

#include "checks.h"
#include "moat/diskimg.h"

#define BPS	512

/* a FAT volume being built */
struct fat {
	guint8 *img;
	gsize len;
	enum diskimg_fs fs;
	guint32 spc, rsvd, nfats, fatsz, rootent, total;
	gsize fat, root, data;		/* byte offsets */
	guint32 next;			/* next free cluster */
};

/* a directory being filled: its bytes and how many are used */
struct fdir {
	gsize off, cap, used;
	guint32 cluster;		/* 0: the FAT12/16 root region */
};

static void
le16(guint8 *p, guint16 v)
{
	p[0] = v & 0xFF;
	p[1] = v >> 8;
}

static void
le32(guint8 *p, guint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xFF;
}

static void
be32(guint8 *p, guint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (24 - 8 * i)) & 0xFF;
}

static void
be64(guint8 *p, guint64 v)
{
	be32(p, (guint32)(v >> 32));
	be32(p + 4, (guint32)v);
}

static void
fat_set(struct fat *f, guint32 c, guint32 v)
{
	for (guint32 k = 0; k < f->nfats; k++) {
		guint8 *t = f->img + f->fat + (gsize)k * f->fatsz * BPS;

		if (f->fs == DISKIMG_FS_FAT12) {
			guint8 *p = t + c + c / 2;
			guint16 old = p[0] | p[1] << 8;

			le16(p, (c & 1) ? (guint16)((old & 0x000F) | (v & 0xFFF) << 4)
			    : (guint16)((old & 0xF000) | (v & 0xFFF)));
		} else if (f->fs == DISKIMG_FS_FAT16) {
			le16(t + 2 * c, (guint16)v);
		} else {
			le32(t + 4 * c, v);
		}
	}
}

static guint32
fat_eoc(const struct fat *f)
{
	return f->fs == DISKIMG_FS_FAT12 ? 0xFFF : f->fs == DISKIMG_FS_FAT16 ? 0xFFFF : 0x0FFFFFFF;
}

static gsize
cluster_off(const struct fat *f, guint32 c)
{
	return f->data + (gsize)(c - 2) * f->spc * BPS;
}

/* fat_new - a formatted, empty volume of TOTAL sectors; FAT32 when FS says so */
static struct fat *
fat_new(enum diskimg_fs fs, guint32 total)
{
	struct fat *f = g_new0(struct fat, 1);
	guint8 *b;
	guint32 bits = fs == DISKIMG_FS_FAT12 ? 12 : fs == DISKIMG_FS_FAT16 ? 16 : 32;

	f->fs = fs;
	f->total = total;
	f->spc = 1;
	f->nfats = 2;
	f->rsvd = fs == DISKIMG_FS_FAT32 ? 32 : 1;
	f->rootent = fs == DISKIMG_FS_FAT32 ? 0 : 224;
	f->fatsz = (guint32)(((guint64)total + 2) * bits / 8 / BPS + 1);
	f->len = (gsize)total * BPS;
	f->img = g_malloc0(f->len);
	f->fat = (gsize)f->rsvd * BPS;
	f->root = f->fat + (gsize)f->nfats * f->fatsz * BPS;
	f->data = f->root + (gsize)f->rootent * 32;
	f->next = 2;
	b = f->img;
	memcpy(b, "\xEB\x3C\x90MSDOS5.0", 11);
	le16(b + 0x0B, BPS);
	b[0x0D] = (guint8)f->spc;
	le16(b + 0x0E, (guint16)f->rsvd);
	b[0x10] = (guint8)f->nfats;
	le16(b + 0x11, (guint16)f->rootent);
	if (total < 0x10000)
		le16(b + 0x13, (guint16)total);
	else
		le32(b + 0x20, total);
	b[0x15] = 0xF8;
	if (fs == DISKIMG_FS_FAT32) {
		le32(b + 0x24, f->fatsz);
		le32(b + 0x2C, 2);		/* root cluster */
		b[0x42] = 0x29;
		memcpy(b + 0x52, "FAT32   ", 8);
		fat_set(f, 2, fat_eoc(f));	/* the root directory's one cluster */
		f->next = 3;
	} else {
		le16(b + 0x16, (guint16)f->fatsz);
		b[0x26] = 0x29;
		memcpy(b + 0x36, fs == DISKIMG_FS_FAT12 ? "FAT12   " : "FAT16   ", 8);
	}
	b[510] = 0x55;
	b[511] = 0xAA;
	fat_set(f, 0, 0x0FFFFFF8 & fat_eoc(f));
	fat_set(f, 1, fat_eoc(f));
	return f;
}

static void
fat_free(struct fat *f)
{
	if (f != NULL)
		g_free(f->img);
	g_free(f);
}

static struct fdir
fat_root(const struct fat *f)
{
	struct fdir d = { f->root, (gsize)f->rootent * 32, 0, 0 };

	if (f->fs == DISKIMG_FS_FAT32)
		d = (struct fdir){ cluster_off(f, 2), f->spc * BPS, 0, 2 };
	return d;
}

static guint8
short_sum(const guint8 *name)
{
	guint8 sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (guint8)(((sum & 1) << 7) + (sum >> 1) + name[i]);
	return sum;
}

/* dir_add - LONG's entries (when not NULL), then the 8.3 entry SHORT (11 bytes) */
static void
dir_add(struct fat *f, struct fdir *d, const char *shrt, const char *lng, guint8 attr,
    guint32 cluster, guint32 size)
{
	guint8 *p;

	if (lng != NULL) {
		glong n = 0;
		gunichar2 *w = g_utf8_to_utf16(lng, -1, NULL, &n, NULL);
		int count = (int)(n + 12) / 13;
		static const guint8 at[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

		for (int seq = count; seq >= 1; seq--) {
			p = f->img + d->off + d->used;
			g_assert(d->used + 32 <= d->cap);
			memset(p, 0, 32);
			p[0] = (guint8)(seq | (seq == count ? 0x40 : 0));
			p[11] = 0x0F;
			p[13] = short_sum((const guint8 *)shrt);
			for (int i = 0; i < 13; i++) {
				glong k = (glong)(seq - 1) * 13 + i;

				le16(p + at[i], k < n ? w[k] : k == n ? 0 : 0xFFFF);
			}
			d->used += 32;
		}
		g_free(w);
	}
	g_assert(d->used + 32 <= d->cap);
	p = f->img + d->off + d->used;
	memcpy(p, shrt, 11);
	p[11] = attr;
	le16(p + 20, (guint16)(cluster >> 16));
	le16(p + 26, (guint16)cluster);
	le32(p + 28, size);
	d->used += 32;
}

/* fat_file - a file of LEN bytes at D; GAP free clusters between its clusters; its first */
static guint32
fat_file(struct fat *f, struct fdir *d, const char *shrt, const char *lng, guint8 attr,
    const guint8 *data, gsize len, guint gap)
{
	gsize cs = f->spc * BPS;
	guint32 first = len > 0 ? f->next : 0, prev = 0;

	for (gsize at = 0; at < len; at += cs) {
		guint32 c = f->next;

		memcpy(f->img + cluster_off(f, c), data + at, MIN(cs, len - at));
		if (prev != 0)
			fat_set(f, prev, c);
		fat_set(f, c, fat_eoc(f));
		prev = c;
		f->next += 1 + gap;
	}
	dir_add(f, d, shrt, lng, attr, first, (guint32)len);
	return first;
}

/* fat_mkdir - a one-cluster directory at PARENT, with "." and ".." */
static struct fdir
fat_mkdir(struct fat *f, struct fdir *parent, const char *shrt, const char *lng, guint8 attr)
{
	guint32 c = f->next++;
	struct fdir d = { cluster_off(f, c), f->spc * BPS, 0, c };

	fat_set(f, c, fat_eoc(f));
	dir_add(f, parent, shrt, lng, attr | 0x10, c, 0);
	dir_add(f, &d, ".          ", NULL, 0x10, c, 0);
	dir_add(f, &d, "..         ", NULL, 0x10, parent->cluster, 0);
	return d;
}

/* pattern - LEN bytes, different per SEED, starting "MZ" */
static guint8 *
pattern(gsize len, guint seed)
{
	guint8 *p = g_malloc(len);

	for (gsize i = 0; i < len; i++)
		p[i] = (guint8)(i * 7 + seed + i / 251);
	if (len >= 2)
		memcpy(p, "MZ", 2);
	return p;
}

#define README		"hello, world\n"
#define INVOICE_LEN	1500
#define PAYLOAD_LEN	700
#define FRAG_LEN	2000

/*
 * floppy - the lure: a 1.44 MB FAT12 floppy with a volume label, a deleted
 * entry, a text file, a long-named executable, a hidden folder with a DLL
 * three levels down, and a fragmented file
 */
static struct fat *
floppy(void)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT12, 2880);
	struct fdir root = fat_root(f), h, a, b;
	g_autofree guint8 *inv = pattern(INVOICE_LEN, 1);
	g_autofree guint8 *dll = pattern(PAYLOAD_LEN, 2);
	g_autofree guint8 *frag = pattern(FRAG_LEN, 3);

	dir_add(f, &root, "LURE       ", NULL, 0x08, 0, 0);
	dir_add(f, &root, "\xE5" "ELETED TXT", NULL, 0x20, 0, 5);
	fat_file(f, &root, "README  TXT", NULL, 0x20, (const guint8 *)README, strlen(README), 0);
	fat_file(f, &root, "INVOIC~1EXE", "Invoice 2024.pdf.exe", 0x20, inv, INVOICE_LEN, 0);
	h = fat_mkdir(f, &root, "HIDDEN     ", NULL, 0x02);
	a = fat_mkdir(f, &h, "A          ", NULL, 0);
	b = fat_mkdir(f, &a, "B          ", NULL, 0);
	fat_file(f, &b, "PAYLOAD DLL", NULL, 0x06, dll, PAYLOAD_LEN, 0);
	fat_file(f, &root, "FRAG    BIN", NULL, 0x20, frag, FRAG_LEN, 2);
	return f;
}

static const char *const floppy_list[] = {
	"README.TXT 13 -", "Invoice 2024.pdf.exe 1500 -", "HIDDEN 0 dh", "HIDDEN/A 0 d",
	"HIDDEN/A/B 0 d", "HIDDEN/A/B/PAYLOAD.DLL 700 hs", "FRAG.BIN 2000 -",
};

/* what the hooks saw */
struct seen {
	GPtrArray *list;		/* "name size flags" */
	GHashTable *data;		/* name -> GBytes */
	GHashTable *trunc;		/* names handed over truncated */
	const guint8 *img;		/* the image, to tell slices from copies */
	gsize len;
	GHashTable *sliced;		/* names handed as a slice of the image */
};

static gboolean
on_entry(void *ctx, const struct diskimg_entry *e)
{
	struct seen *s = ctx;

	ck_assert(g_utf8_validate(e->name, -1, NULL));
	g_ptr_array_add(s->list, g_strdup_printf("%s %" G_GUINT64_FORMAT " %s%s%s%s", e->name, e->size,
	    e->is_dir ? "d" : "", e->hidden ? "h" : "", e->system ? "s" : "",
	    !e->is_dir && !e->hidden && !e->system ? "-" : ""));
	return TRUE;
}

static void
on_data(void *ctx, const struct diskimg_entry *e, const guint8 *buf, gsize len, gboolean truncated)
{
	struct seen *s = ctx;

	ck_assert(!e->is_dir);
	ck_assert(buf != NULL || len == 0);
	ck_assert_uint_le(len, e->size);
	g_hash_table_insert(s->data, g_strdup(e->name), g_bytes_new(buf, len));
	if (truncated)
		g_hash_table_add(s->trunc, g_strdup(e->name));
	if (buf != NULL && buf >= s->img && buf < s->img + s->len)
		g_hash_table_add(s->sliced, g_strdup(e->name));
}

static const struct diskimg_hooks hooks = { on_entry, on_data };

static void
seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->list = g_ptr_array_new_with_free_func(g_free);
	s->data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
	s->trunc = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s->sliced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
seen_clear(struct seen *s)
{
	g_ptr_array_unref(s->list);
	g_hash_table_unref(s->data);
	g_hash_table_unref(s->trunc);
	g_hash_table_unref(s->sliced);
}

/* walk_exact - diskimg_walk on a heap copy of exactly LEN bytes */
static enum diskimg_result
walk_exact(struct seen *s, const guint8 *img, gsize len, guint max_entries, guint64 max_bytes,
    char **err)
{
	guint8 *copy = g_memdup2(img, len);
	enum diskimg_result rc;

	seen_init(s);
	s->img = copy;
	s->len = len;
	rc = diskimg_walk(copy, len, max_entries, max_bytes, &hooks, s, err);
	g_free(copy);
	s->img = NULL;
	return rc;
}

static void
check_list(const struct seen *s, const char *const *want, guint n)
{
	for (guint i = 0; i < MIN(n, s->list->len); i++)
		ck_assert_str_eq(g_ptr_array_index(s->list, i), want[i]);
	ck_assert_uint_eq(s->list->len, n);
}

static void
check_data(const struct seen *s, const char *name, const guint8 *want, gsize len)
{
	GBytes *b = g_hash_table_lookup(s->data, name);
	gsize n = 0;
	const guint8 *p;

	ck_assert_msg(b != NULL, "no data for %s", name);
	p = g_bytes_get_data(b, &n);
	ck_assert_uint_eq(n, len);
	ck_assert(len == 0 || memcmp(p, want, len) == 0);
}

/* check_floppy_files - the floppy's list and bytes, as walked into S */
static void
check_floppy_files(const struct seen *s)
{
	g_autofree guint8 *inv = pattern(INVOICE_LEN, 1);
	g_autofree guint8 *dll = pattern(PAYLOAD_LEN, 2);
	g_autofree guint8 *frag = pattern(FRAG_LEN, 3);

	check_list(s, floppy_list, G_N_ELEMENTS(floppy_list));
	check_data(s, "README.TXT", (const guint8 *)README, strlen(README));
	check_data(s, "Invoice 2024.pdf.exe", inv, INVOICE_LEN);
	check_data(s, "HIDDEN/A/B/PAYLOAD.DLL", dll, PAYLOAD_LEN);
	check_data(s, "FRAG.BIN", frag, FRAG_LEN);
	ck_assert_uint_eq(g_hash_table_size(s->trunc), 0);
}

START_TEST(test_fat12_floppy)
{
	struct fat *f = floppy();
	struct diskimg_probe p;
	struct seen s;
	char *err = (char *)"unset";

	diskimg_probe(&p, f->img, f->len);
	ck_assert_int_eq(p.container, DISKIMG_RAW);
	ck_assert_int_eq(p.table, DISKIMG_TABLE_NONE);
	ck_assert_int_eq(p.fs, DISKIMG_FS_FAT12);
	ck_assert_str_eq(diskimg_fs_name(p.fs), "fat12");
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, &err), DISKIMG_OK);
	ck_assert_ptr_null(err);
	check_floppy_files(&s);
	/* contiguous files are slices of the image, the fragmented one a copy */
	ck_assert(g_hash_table_contains(s.sliced, "Invoice 2024.pdf.exe"));
	ck_assert(!g_hash_table_contains(s.sliced, "FRAG.BIN"));
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* a long name whose checksum is not its short entry's is not used */
START_TEST(test_long_name_checksum)
{
	struct fat *f = floppy();
	struct fdir root = fat_root(f);
	struct seen s;
	guint8 *e;

	/* the root: label, deleted, README, then the two long-name entries of INVOIC~1 */
	e = f->img + root.off + 3 * 32;
	ck_assert_int_eq(e[11], 0x0F);
	e[13] ^= 1;
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL), DISKIMG_OK);
	ck_assert_str_eq(g_ptr_array_index(s.list, 1), "INVOIC~1.EXE 1500 -");
	seen_clear(&s);
	/* a sequence out of order is not used either */
	e[13] ^= 1;
	e[0] = 0x43;
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL), DISKIMG_OK);
	ck_assert_str_eq(g_ptr_array_index(s.list, 1), "INVOIC~1.EXE 1500 -");
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* a chain that loops, a directory whose chain loops, one that holds its parent */
START_TEST(test_fat_loop)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT12, 2880);
	struct fdir root = fat_root(f), d;
	g_autofree guint8 *big = pattern(3 * BPS, 4);
	struct seen s;
	char *err = NULL;
	guint32 c;
	GBytes *b;

	c = fat_file(f, &root, "LOOP    EXE", NULL, 0x20, big, 3 * BPS, 0);
	fat_set(f, c + 2, c);			/* last cluster back to the first */
	dir_add(f, &root, "BIG     EXE", NULL, 0x20, c, 0xFFFFFFFF);
	le32(f->img + root.off + 28, 0xFFFFFFF0);	/* LOOP.EXE says 4 GB */
	d = fat_mkdir(f, &root, "SELF       ", NULL, 0);
	fat_set(f, d.cluster, d.cluster);	/* its chain is itself */
	dir_add(f, &d, "UP         ", NULL, 0x10, d.cluster, 0);	/* and it holds itself */
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, G_MAXUINT64, &err), DISKIMG_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "loops"));
	g_free(err);
	ck_assert(g_hash_table_contains(s.trunc, "LOOP.EXE"));
	b = g_hash_table_lookup(s.data, "LOOP.EXE");
	ck_assert_uint_le(g_bytes_get_size(b), 2880 * BPS);
	ck_assert(g_hash_table_contains(s.trunc, "BIG.EXE"));
	ck_assert_str_eq(g_ptr_array_index(s.list, 2), "SELF 0 d");
	ck_assert_str_eq(g_ptr_array_index(s.list, 3), "SELF/UP 0 d");
	ck_assert_uint_eq(s.list->len, 4);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* fifty entries sharing one chain hand over no more than twice the image */
START_TEST(test_cross_linked)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT12, 2880);
	struct fdir root = fat_root(f);
	gsize n = 64 * 1024;
	g_autofree guint8 *big = pattern(n, 5);
	guint32 c = fat_file(f, &root, "BIG     EXE", NULL, 0x20, big, n, 0);
	struct seen s;
	guint64 total = 0;
	GHashTableIter it;
	gpointer v;

	for (int i = 0; i < 200; i++) {
		char name[12];

		g_snprintf(name, sizeof(name), "X%07dEXE", i);
		dir_add(f, &root, name, NULL, 0x20, c, (guint32)n);
	}
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 1000, 1 << 20, NULL), DISKIMG_CORRUPT);
	ck_assert_uint_eq(s.list->len, 201);
	g_hash_table_iter_init(&it, s.data);
	while (g_hash_table_iter_next(&it, NULL, &v))
		total += g_bytes_get_size(v);
	ck_assert_uint_le(total, 2 * f->len + (1 << 20));
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* mbr_wrap - an MBR whose first entry (after an empty one) is VOL at LBA 63 */
static GByteArray *
mbr_wrap(const guint8 *vol, gsize len, guint8 type)
{
	GByteArray *b = g_byte_array_new();
	guint8 *e;

	g_byte_array_set_size(b, 63 * BPS + len);
	memset(b->data, 0, 63 * BPS);
	memcpy(b->data + 63 * BPS, vol, len);
	b->data[0] = 0xFA;			/* boot code: cli */
	e = b->data + 0x1BE + 16;
	e[0] = 0x80;
	e[4] = type;
	le32(e + 8, 63);
	le32(e + 12, (guint32)(len / BPS));
	b->data[510] = 0x55;
	b->data[511] = 0xAA;
	return b;
}

START_TEST(test_mbr_fat16)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT16, 8192);
	struct fdir root = fat_root(f), d;
	g_autofree guint8 *exe = pattern(5000, 6);
	g_autoptr(GByteArray) b = NULL;
	static const char *const want[] = { "setup.exe 5000 -", "docs 0 d", "docs/Read me.lnk 3 -" };
	struct diskimg_probe p;
	struct seen s;

	fat_file(f, &root, "SETUP   EXE", NULL, 0x20 | 0x00, exe, 5000, 0);
	f->img[root.off + 12] = 0x18;		/* NT flags: name and extension lower case */
	d = fat_mkdir(f, &root, "DOCS       ", "docs", 0);
	fat_file(f, &d, "README~1LNK", "Read me.lnk", 0x20, (const guint8 *)"L\0\0", 3, 0);
	b = mbr_wrap(f->img, f->len, 0x06);
	diskimg_probe(&p, b->data, b->len);
	ck_assert_int_eq(p.container, DISKIMG_RAW);
	ck_assert_int_eq(p.table, DISKIMG_TABLE_MBR);
	ck_assert_int_eq(p.fs, DISKIMG_FS_FAT16);
	ck_assert_uint_eq(p.volume_offset, 63 * BPS);
	ck_assert_int_eq(walk_exact(&s, b->data, b->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_list(&s, want, G_N_ELEMENTS(want));
	check_data(&s, "setup.exe", exe, 5000);
	seen_clear(&s);
	/* the same partition typed NTFS, its boot sector NTFS's */
	memcpy(b->data + 63 * BPS + 3, "NTFS    ", 8);
	ck_assert_int_eq(walk_exact(&s, b->data, b->len, 100, 1 << 20, NULL), DISKIMG_UNSUPPORTED);
	ck_assert_uint_eq(s.list->len, 0);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

START_TEST(test_fat32)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT32, 4096);
	struct fdir root = fat_root(f), d;
	g_autofree guint8 *exe = pattern(3000, 7);
	static const char *const want[] = { "\xd0\x9e\xd0\xbf\xd0\xbb\xd0\xb0\xd1\x82\xd0\xb0.exe 3000 -",
	    "$RECYCLE.BIN 0 dhs", "$RECYCLE.BIN/x.dll 3000 -" };
	struct diskimg_probe p;
	struct seen s;

	fat_file(f, &root, "_5D0~1  EXE", "\xd0\x9e\xd0\xbf\xd0\xbb\xd0\xb0\xd1\x82\xd0\xb0.exe", 0x20,
	    exe, 3000, 1);
	d = fat_mkdir(f, &root, "$RECYCLEBIN", "$RECYCLE.BIN", 0x06);
	fat_file(f, &d, "X       DLL", "x.dll", 0x20, exe, 3000, 0);
	diskimg_probe(&p, f->img, f->len);
	ck_assert_int_eq(p.fs, DISKIMG_FS_FAT32);
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_list(&s, want, G_N_ELEMENTS(want));
	check_data(&s, "$RECYCLE.BIN/x.dll", exe, 3000);
	check_data(&s, "\xd0\x9e\xd0\xbf\xd0\xbb\xd0\xb0\xd1\x82\xd0\xb0.exe", exe, 3000);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* a GPT disk: protective MBR, header at LBA 1, entries at LBA 2, the volume at LBA 34 */
START_TEST(test_gpt)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT32, 4096);
	struct fdir root = fat_root(f);
	g_autoptr(GByteArray) b = g_byte_array_new();
	static const char *const want[] = { "A.EXE 600 -" };
	g_autofree guint8 *exe = pattern(600, 8);
	struct diskimg_probe p;
	struct seen s;
	guint8 *d;

	fat_file(f, &root, "A       EXE", NULL, 0x20, exe, 600, 0);
	/* FAT32 ExtFlags: mirroring off, FAT 1 active; FAT 0 says the file has no chain */
	f->img[0x28] = 0x81;
	memset(f->img + f->fat, 0, (gsize)f->fatsz * BPS);
	g_byte_array_set_size(b, 34 * BPS + (guint)f->len);
	d = b->data;
	memset(d, 0, 34 * BPS);
	memcpy(d + 34 * BPS, f->img, f->len);
	d[0x1BE + 4] = 0xEE;
	le32(d + 0x1BE + 8, 1);
	le32(d + 0x1BE + 12, 0xFFFFFFFF);
	d[510] = 0x55;
	d[511] = 0xAA;
	memcpy(d + BPS, "EFI PART", 8);
	le32(d + BPS + 0x48, 2);
	le32(d + BPS + 0x50, 128);
	le32(d + BPS + 0x54, 128);
	memcpy(d + 2 * BPS, "\xA2\xA0\xD0\xEB\xE5\xB9\x33\x44\x87\xC0\x68\xB6\xB7\x26\x99\xC7", 16);
	le32(d + 2 * BPS + 32, 34);
	diskimg_probe(&p, b->data, b->len);
	ck_assert_int_eq(p.table, DISKIMG_TABLE_GPT);
	ck_assert_int_eq(p.fs, DISKIMG_FS_FAT32);
	ck_assert_str_eq(diskimg_table_name(p.table), "gpt");
	ck_assert_int_eq(walk_exact(&s, b->data, b->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_list(&s, want, G_N_ELEMENTS(want));
	check_data(&s, "A.EXE", exe, 600);
	seen_clear(&s);
	/* no used entry: nothing to list */
	memset(d + 2 * BPS, 0, 16);
	ck_assert_int_eq(walk_exact(&s, b->data, b->len, 100, 1 << 20, NULL), DISKIMG_UNSUPPORTED);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* vhd_footer - a VHD footer of TYPE for a disk of SIZE bytes, its header at NEXT */
static void
vhd_footer(guint8 *p, guint32 type, guint64 size, guint64 next)
{
	guint32 sum = 0;

	memset(p, 0, 512);
	memcpy(p, "conectix", 8);
	be32(p + 8, 2);
	be32(p + 12, 0x00010000);
	be64(p + 16, next);
	memcpy(p + 28, "moat", 4);
	memcpy(p + 36, "Wi2k", 4);
	be64(p + 40, size);
	be64(p + 48, size);
	be32(p + 60, type);
	for (int i = 0; i < 512; i++)
		sum += p[i];
	be32(p + 64, ~sum);
}

static GByteArray *
vhd_fixed(const guint8 *disk, gsize len)
{
	GByteArray *b = g_byte_array_sized_new((guint)len + 512);

	g_byte_array_set_size(b, (guint)len + 512);
	memcpy(b->data, disk, len);
	vhd_footer(b->data + len, 2, len, G_MAXUINT64);
	return b;
}

/* vhd_dynamic - DISK as a dynamic VHD of BLOCK-byte blocks, allocated ones stored backwards */
static GByteArray *
vhd_dynamic(const guint8 *disk, gsize len, guint32 block)
{
	guint32 n = (guint32)((len + block - 1) / block);
	gsize bat = 1536, at = bat + ((gsize)n * 4 + 511) / 512 * 512;
	GByteArray *b = g_byte_array_new();
	guint8 *h, foot[512];

	g_byte_array_set_size(b, (guint)at);
	memset(b->data, 0, at);
	vhd_footer(b->data, 3, len, 512);
	h = b->data + 512;
	memcpy(h, "cxsparse", 8);
	be64(h + 8, G_MAXUINT64);
	be64(h + 16, bat);
	be32(h + 24, 0x00010000);
	be32(h + 28, n);
	be32(h + 32, block);
	memset(b->data + bat, 0xFF, (gsize)n * 4);
	for (guint32 i = n; i-- > 0;) {
		gsize off = (gsize)i * block, take = MIN(block, len - off);
		gboolean zero = TRUE;
		guint8 bitmap[512];

		for (gsize k = 0; k < take && zero; k++)
			zero = disk[off + k] == 0;
		if (zero)
			continue;
		be32(b->data + bat + 4 * i, (guint32)(b->len / 512));
		memset(bitmap, 0xFF, sizeof(bitmap));
		g_byte_array_append(b, bitmap, 512);
		g_byte_array_append(b, disk + off, (guint)take);
		if (take < block) {
			g_autofree guint8 *pad = g_malloc0(block - take);

			g_byte_array_append(b, pad, (guint)(block - take));
		}
	}
	memcpy(foot, b->data, 512);
	g_byte_array_append(b, foot, 512);	/* the footer again at the end */
	return b;
}

START_TEST(test_vhd_fixed)
{
	struct fat *f = floppy();
	g_autoptr(GByteArray) b = vhd_fixed(f->img, f->len);
	struct diskimg_probe p;
	struct seen s;

	diskimg_probe(&p, b->data, b->len);
	ck_assert_int_eq(p.container, DISKIMG_VHD_FIXED);
	ck_assert_int_eq(p.fs, DISKIMG_FS_FAT12);
	ck_assert_uint_eq(p.disk_size, f->len);
	ck_assert_int_eq(walk_exact(&s, b->data, b->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_floppy_files(&s);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

START_TEST(test_vhd_dynamic)
{
	struct fat *f = floppy();
	struct fat *g = fat_new(DISKIMG_FS_FAT16, 8192);
	struct fdir root = fat_root(g);
	g_autoptr(GByteArray) b = vhd_dynamic(f->img, f->len, 4096);
	g_autoptr(GByteArray) m = NULL, v = NULL;
	struct diskimg_probe p;
	struct seen s;

	ck_assert_uint_lt(b->len, f->len);	/* the empty blocks are not stored */
	diskimg_probe(&p, b->data, b->len);
	ck_assert_int_eq(p.container, DISKIMG_VHD_DYNAMIC);
	ck_assert_int_eq(p.fs, DISKIMG_FS_FAT12);
	ck_assert_uint_eq(p.disk_size, f->len);
	ck_assert_str_eq(diskimg_container_name(p.container), "vhd-dynamic");
	ck_assert_int_eq(walk_exact(&s, b->data, b->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_floppy_files(&s);
	seen_clear(&s);
	/* an MBR and FAT16 in a dynamic VHD with 2 MB blocks */
	fat_file(g, &root, "A       EXE", NULL, 0x20, (const guint8 *)"MZ", 2, 0);
	m = mbr_wrap(g->img, g->len, 0x0E);
	v = vhd_dynamic(m->data, m->len, 2 << 20);
	diskimg_probe(&p, v->data, v->len);
	ck_assert_int_eq(p.table, DISKIMG_TABLE_MBR);
	ck_assert_int_eq(walk_exact(&s, v->data, v->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_data(&s, "A.EXE", (const guint8 *)"MZ", 2);
	seen_clear(&s);
	fat_free(g);
	fat_free(f);
}
END_TEST

static const struct {
	const char *what;
	enum diskimg_container container;
	enum diskimg_fs fs;
	enum diskimg_result rc;
} unsupported_cases[] = {
	{ "vhdx", DISKIMG_VHDX, DISKIMG_FS_NONE, DISKIMG_UNSUPPORTED },
	{ "ntfs", DISKIMG_RAW, DISKIMG_FS_NTFS, DISKIMG_UNSUPPORTED },
	{ "exfat", DISKIMG_RAW, DISKIMG_FS_EXFAT, DISKIMG_UNSUPPORTED },
	{ "differencing", DISKIMG_VHD_DIFFERENCING, DISKIMG_FS_NONE, DISKIMG_UNSUPPORTED },
	{ "mbr-unknown", DISKIMG_RAW, DISKIMG_FS_UNKNOWN, DISKIMG_UNSUPPORTED },
	{ "text", DISKIMG_CONTAINER_NONE, DISKIMG_FS_NONE, DISKIMG_CORRUPT },
	{ "empty", DISKIMG_CONTAINER_NONE, DISKIMG_FS_NONE, DISKIMG_CORRUPT },
};

START_TEST(test_unsupported)
{
	guint8 img[4096] = { 0 };
	gsize len = sizeof(img);
	const char *what = unsupported_cases[_i].what;
	struct diskimg_probe p;
	struct seen s;
	char *err = NULL;

	if (strcmp(what, "vhdx") == 0) {
		memcpy(img, "vhdxfile", 8);
	} else if (strcmp(what, "ntfs") == 0 || strcmp(what, "exfat") == 0) {
		memcpy(img, strcmp(what, "ntfs") == 0 ? "\xEB\x52\x90NTFS    " : "\xEB\x76\x90" "EXFAT   ",
		    11);
		img[510] = 0x55;
		img[511] = 0xAA;
	} else if (strcmp(what, "differencing") == 0) {
		vhd_footer(img, 4, 1 << 20, 512);
	} else if (strcmp(what, "mbr-unknown") == 0) {
		img[0x1BE + 4] = 0x83;		/* Linux */
		le32(img + 0x1BE + 8, 2);
		img[510] = 0x55;
		img[511] = 0xAA;
	} else if (strcmp(what, "text") == 0) {
		memset(img, 'a', len);
	} else {
		len = 0;
	}
	diskimg_probe(&p, img, len);
	ck_assert_int_eq(p.container, unsupported_cases[_i].container);
	ck_assert_int_eq(p.fs, unsupported_cases[_i].fs);
	ck_assert_int_eq(walk_exact(&s, img, len, 100, 1 << 20, &err), unsupported_cases[_i].rc);
	ck_assert_ptr_nonnull(err);
	ck_assert_uint_eq(s.list->len, 0);
	g_free(err);
	seen_clear(&s);
}
END_TEST

/* every prefix of the images, and every byte of the structures set to 0 and 0xFF */
START_TEST(test_truncated)
{
	struct fat *f = floppy();
	g_autoptr(GByteArray) dyn = vhd_dynamic(f->img, f->len, 4096);
	struct seen s;

	for (gsize len = 0; len < f->len; len += len < 8192 ? 61 : 4093) {
		enum diskimg_result rc = walk_exact(&s, f->img, len, 100, 1 << 20, NULL);

		ck_assert(rc == DISKIMG_OK || rc == DISKIMG_CORRUPT);
		seen_clear(&s);
	}
	ck_assert_int_eq(walk_exact(&s, f->img, 19 * BPS + 100, 100, 1 << 20, NULL), DISKIMG_CORRUPT);
	seen_clear(&s);
	for (gsize len = 0; len < dyn->len; len += len < 8192 ? 61 : 997) {
		enum diskimg_result rc = walk_exact(&s, dyn->data, len, 100, 1 << 20, NULL);

		ck_assert(rc == DISKIMG_OK || rc == DISKIMG_CORRUPT);
		seen_clear(&s);
	}
	/* the floppy's boot sector; the dynamic VHD's footer, header and BAT */
	for (gsize at = 0; at < 512 + 2048; at++) {
		guint8 *p = at < 512 ? f->img + at : dyn->data + at - 512;
		guint8 old = *p;

		for (int v = 0; v < 2; v++) {
			*p = v ? 0xFF : 0x00;
			if (at < 512)
				walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL);
			else
				walk_exact(&s, dyn->data, dyn->len, 100, 1 << 20, NULL);
			seen_clear(&s);
		}
		*p = old;
	}
	fat_free(f);
}
END_TEST

START_TEST(test_max_entries)
{
	struct fat *f = floppy();
	static const char *const want[] = { "README.TXT 13 -", "Invoice 2024.pdf.exe 1500 -",
	    "HIDDEN 0 dh", "HIDDEN/A 0 d", "HIDDEN/A/B 0 d" };
	struct seen s;
	char *err = NULL;

	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 2, 1 << 20, &err), DISKIMG_TOO_MANY);
	check_list(&s, want, G_N_ELEMENTS(want));
	ck_assert_str_eq(err, "more than 2 files");
	g_free(err);
	seen_clear(&s);
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 4, 1 << 20, NULL), DISKIMG_OK);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

START_TEST(test_max_bytes)
{
	struct fat *f = floppy();
	g_autofree guint8 *inv = pattern(INVOICE_LEN, 1);
	g_autofree guint8 *frag = pattern(FRAG_LEN, 3);
	g_autoptr(GByteArray) dyn = vhd_dynamic(f->img, f->len, 4096);
	struct seen s;

	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 600, NULL), DISKIMG_OK);
	check_data(&s, "README.TXT", (const guint8 *)README, strlen(README));
	ck_assert(!g_hash_table_contains(s.trunc, "README.TXT"));
	check_data(&s, "Invoice 2024.pdf.exe", inv, 600);
	ck_assert(g_hash_table_contains(s.trunc, "Invoice 2024.pdf.exe"));
	check_data(&s, "FRAG.BIN", frag, 600);
	ck_assert(g_hash_table_contains(s.trunc, "FRAG.BIN"));
	seen_clear(&s);
	ck_assert_int_eq(walk_exact(&s, dyn->data, dyn->len, 100, 0, NULL), DISKIMG_OK);
	ck_assert_uint_eq(g_hash_table_size(s.trunc), 4);
	check_data(&s, "FRAG.BIN", NULL, 0);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* a chain that ends early or runs off the volume hands over what it has */
START_TEST(test_short_chain)
{
	struct fat *f = floppy();
	struct fdir root = fat_root(f);
	g_autofree guint8 *inv = pattern(INVOICE_LEN, 1);
	struct seen s;
	guint32 c = 3;			/* README.TXT took cluster 2; the invoice 3, 4, 5 */

	fat_set(f, c + 1, 0xFFF);
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL), DISKIMG_OK);
	check_data(&s, "Invoice 2024.pdf.exe", inv, 2 * BPS);
	ck_assert(g_hash_table_contains(s.trunc, "Invoice 2024.pdf.exe"));
	seen_clear(&s);
	fat_set(f, c + 1, 0xFF0);	/* past the volume's clusters, below the bad mark */
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL), DISKIMG_CORRUPT);
	check_data(&s, "Invoice 2024.pdf.exe", inv, 2 * BPS);
	seen_clear(&s);
	/* a file of 5 bytes at cluster 0 (the fuzzer's first find): nothing, truncated */
	root.used = 0;
	dir_add(f, &root, "EMPTY   EXE", NULL, 0x20, 0, 5);
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, NULL), DISKIMG_CORRUPT);
	check_data(&s, "EMPTY.EXE", NULL, 0);
	ck_assert(g_hash_table_contains(s.trunc, "EMPTY.EXE"));
	seen_clear(&s);
	fat_free(f);
}
END_TEST

/* directories 40 deep: reported down to the limit, then CORRUPT */
START_TEST(test_deep)
{
	struct fat *f = fat_new(DISKIMG_FS_FAT12, 2880);
	struct fdir d = fat_root(f);
	struct seen s;
	char *err = NULL;

	for (int i = 0; i < 40; i++)
		d = fat_mkdir(f, &d, "D          ", NULL, 0);
	ck_assert_int_eq(walk_exact(&s, f->img, f->len, 100, 1 << 20, &err), DISKIMG_CORRUPT);
	ck_assert_uint_eq(s.list->len, DISKIMG_MAX_DEPTH + 1);
	ck_assert_ptr_nonnull(strstr(err, "levels"));
	g_free(err);
	seen_clear(&s);
	fat_free(f);
}
END_TEST

Suite *
diskimg_suite(void)
{
	Suite *s = suite_create("diskimg");
	TCase *tc = tcase_create("diskimg");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fat12_floppy);
	tcase_add_test(tc, test_long_name_checksum);
	tcase_add_test(tc, test_fat_loop);
	tcase_add_test(tc, test_cross_linked);
	tcase_add_test(tc, test_mbr_fat16);
	tcase_add_test(tc, test_fat32);
	tcase_add_test(tc, test_gpt);
	tcase_add_test(tc, test_vhd_fixed);
	tcase_add_test(tc, test_vhd_dynamic);
	tcase_add_loop_test(tc, test_unsupported, 0, G_N_ELEMENTS(unsupported_cases));
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_max_entries);
	tcase_add_test(tc, test_max_bytes);
	tcase_add_test(tc, test_short_chain);
	tcase_add_test(tc, test_deep);
	suite_add_tcase(s, tc);
	return s;
}
