/*
 * diskimg.c - the files of a FAT disk image, raw, partitioned or in a VHD (diskimg.h)
 *
 * In: the bytes of a whole .img or .vhd, borrowed. Out: one hook call per
 * directory entry and, when asked, one with the file's bytes.
 * Layers: a virtual disk (disk_read: raw bytes, a fixed VHD without its
 * footer, or a dynamic VHD through its block allocation table, holes read
 * as zeros), a partition (MBR or GPT, first used entry, else the whole
 * disk), a FAT volume (BPB, FAT, directories), all reading the disk only
 * through disk_read() and disk_slice(), so FAT runs the same in each.
 * Limits (diskimg.h): every offset and size from the image is checked with
 * bytes_fit(); a chain is followed at most the volume's cluster count and
 * a loop is caught by Brent's method; directory clusters read are at most
 * the clusters that fit in the image; a directory is entered once, at
 * most DISKIMG_MAX_DEPTH deep; bytes handed over are capped per file and
 * per walk. VHD checksums and the dynamic VHD's sector bitmaps are not
 * checked (a reader that accepts more than Windows only scans more).
 * Reentrant: no state outside the call.
 */
#include <stdarg.h>
#include <string.h>

#include "moat/bytes.h"
#include "moat/diskimg.h"

#define SECTOR		512
#define VHD_FOOTER	512
#define VHD_DYN_HEADER	1024
#define VHD_TYPE_FIXED	2
#define VHD_TYPE_DYN	3
#define VHD_TYPE_DIFF	4
#define VHD_BAT_FREE	0xFFFFFFFFu
#define VHD_BLOCK_MAX	(256u << 20)	/* the spec's default is 2 MB */
#define GPT_ENTRIES_MAX	128		/* entries looked at for the first used one */
#define FAT12_MAX	4085		/* clusters: fewer means FAT12 (Microsoft FAT spec) */
#define FAT16_MAX	65525
#define FAT32_MAX	0x0FFFFFF5u
#define DIRENT		32
#define ATTR_HIDDEN	0x02
#define ATTR_SYSTEM	0x04
#define ATTR_LABEL	0x08
#define ATTR_DIR	0x10
#define ATTR_LFN	0x0F
#define LFN_MAX		20		/* entries of 13 UTF-16 units: 255 characters and a NUL */

/* the virtual disk */
struct disk {
	const guint8 *data;
	gsize len;
	guint64 size;		/* bytes of the disk */
	gboolean sparse;	/* a dynamic VHD: through the BAT */
	guint64 bat;		/* BAT offset in DATA */
	guint32 entries;	/* BAT entries */
	guint32 block;		/* bytes per block, a power of two */
	guint32 bitmap;		/* sector bitmap bytes before each block's data */
};

/* a FAT volume on the disk; offsets from its first byte */
struct vol {
	const struct disk *d;
	guint64 base;		/* where the volume starts on the disk */
	enum diskimg_fs fs;
	guint32 cs;		/* bytes per cluster */
	guint64 fat;		/* the first FAT */
	guint64 root;		/* FAT12/16 root directory region */
	guint32 root_bytes;
	guint32 root_cluster;	/* FAT32 */
	guint64 first;		/* cluster 2 */
	guint32 nclusters;
	guint32 bad, eoc;	/* the bad-cluster mark, the first end-of-chain mark */
};

struct image {
	struct diskimg_probe p;
	struct disk d;
	struct vol v;
	const char *why;	/* static: why nothing could be listed */
};

struct walk {
	const struct vol *v;
	const struct diskimg_hooks *hooks;
	void *ctx;
	guint max_entries;
	guint64 max_bytes;
	guint files;
	guint64 byte_budget;	/* bytes still to be handed over in this walk */
	guint64 dir_budget;	/* directory clusters still to be read */
	GHashTable *seen;	/* first clusters of the directories entered */
	GString *path;
	enum diskimg_result rc;
	gboolean stop;
	char *err;
};

/* the long name being gathered before a short entry */
struct lfn {
	gunichar2 u[LFN_MAX * 13];
	guint8 sum;
	guint8 count;		/* entries in the set */
	gint expect;		/* the sequence number wanted next; -1: none in progress */
};

static guint32
be32(const guint8 *p)
{
	return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static guint64
be64(const guint8 *p)
{
	return (guint64)be32(p) << 32 | be32(p + 4);
}

/* disk_read - the N bytes at OFF of the disk into DST; FALSE past its end or its BAT */
static gboolean
disk_read(const struct disk *d, guint64 off, guint8 *dst, gsize n)
{
	if (!bytes_fit(off, n, d->size))
		return FALSE;
	if (!d->sparse) {
		memcpy(dst, d->data + off, n);	/* d->size <= d->len: checked when opened */
		return TRUE;
	}
	while (n > 0) {
		guint64 blk = off / d->block, in = off % d->block;
		gsize chunk = (gsize)MIN((guint64)n, d->block - in);
		guint32 s;

		if (blk >= d->entries)
			return FALSE;
		s = be32(d->data + d->bat + 4 * blk);
		if (s == VHD_BAT_FREE) {
			memset(dst, 0, chunk);
		} else {
			guint64 at = (guint64)s * SECTOR + d->bitmap;

			if (!bytes_fit(at, in + chunk, d->len))
				return FALSE;
			memcpy(dst, d->data + at + in, chunk);
		}
		dst += chunk;
		off += chunk;
		n -= chunk;
	}
	return TRUE;
}

/* disk_slice - the N bytes at OFF as a pointer into DATA when they lie there in one piece */
static const guint8 *
disk_slice(const struct disk *d, guint64 off, gsize n)
{
	guint64 in, at;
	guint32 s;

	if (!bytes_fit(off, n, d->size))
		return NULL;
	if (!d->sparse)
		return d->data + off;
	in = off % d->block;
	if (off / d->block >= d->entries || n > d->block - in)
		return NULL;
	s = be32(d->data + d->bat + 4 * (off / d->block));
	at = (guint64)s * SECTOR + d->bitmap;
	if (s == VHD_BAT_FREE || !bytes_fit(at, in + n, d->len))
		return NULL;
	return d->data + at + in;
}

/* vhd_dynamic - set D up from the footer F of a dynamic VHD; the static reason when it fails */
static const char *
vhd_dynamic(struct disk *d, const guint8 *f)
{
	guint64 hdr = be64(f + 0x10), size = be64(f + 0x30);
	const guint8 *h;

	if (!bytes_fit(hdr, VHD_DYN_HEADER, d->len) || memcmp(d->data + hdr, "cxsparse", 8) != 0)
		return "no dynamic VHD header where the footer says";
	h = d->data + hdr;
	d->bat = be64(h + 0x10);
	d->entries = be32(h + 0x1C);
	d->block = be32(h + 0x20);
	if (d->block < SECTOR || d->block > VHD_BLOCK_MAX || (d->block & (d->block - 1)) != 0)
		return "dynamic VHD block size out of range";
	if (!bytes_fit(d->bat, (guint64)d->entries * 4, d->len))
		return "dynamic VHD block allocation table past the end";
	/* one bit per sector, in whole sectors */
	d->bitmap = ((d->block / SECTOR / 8) + SECTOR - 1) / SECTOR * SECTOR;
	d->size = MIN(size, (guint64)d->entries * d->block);
	d->sparse = TRUE;
	return NULL;
}

/* img_container - find the disk in DATA: raw, VHD fixed or dynamic */
static void
img_container(struct image *img, const guint8 *data, gsize len)
{
	const guint8 *f = NULL;
	guint32 type;

	img->d.data = data;
	img->d.len = len;
	img->d.size = len;
	img->p.container = DISKIMG_RAW;
	if (len >= 8 && memcmp(data, "vhdxfile", 8) == 0) {
		img->p.container = DISKIMG_VHDX;
		img->why = "VHDX is not supported";
		return;
	}
	/* a dynamic disk has its footer's copy at the head; a fixed one only at the end */
	if (len >= VHD_FOOTER && memcmp(data, "conectix", 8) == 0 &&
	    (be32(data + 0x3C) == VHD_TYPE_DYN || be32(data + 0x3C) == VHD_TYPE_DIFF))
		f = data;
	else if (len >= VHD_FOOTER && memcmp(data + len - VHD_FOOTER, "conectix", 8) == 0)
		f = data + len - VHD_FOOTER;
	if (f == NULL)
		return;
	type = be32(f + 0x3C);
	if (type == VHD_TYPE_FIXED) {
		img->p.container = DISKIMG_VHD_FIXED;
		img->d.size = len - VHD_FOOTER;
	} else if (type == VHD_TYPE_DYN) {
		img->p.container = DISKIMG_VHD_DYNAMIC;
		img->d.size = 0;
		img->why = vhd_dynamic(&img->d, f);
	} else if (type == VHD_TYPE_DIFF) {
		img->p.container = DISKIMG_VHD_DIFFERENCING;
		img->d.size = 0;
		img->why = "a differencing VHD needs its parent: not supported";
	} else {
		img->p.container = DISKIMG_CONTAINER_NONE;
		img->d.size = 0;
		img->why = "VHD footer of an unknown disk type";
	}
	img->p.disk_size = img->d.size;
}

/* fat_bpb - set V up from the boot sector B; FALSE when its BPB is not a FAT volume's */
static gboolean
fat_bpb(struct vol *v, const guint8 *b)
{
	guint32 bps = bytes_le16(b + 0x0B), spc = b[0x0D], rsvd = bytes_le16(b + 0x0E);
	guint32 nfats = b[0x10], rootent = bytes_le16(b + 0x11), media = b[0x15];
	guint64 total = bytes_le16(b + 0x13) ? bytes_le16(b + 0x13) : bytes_le32(b + 0x20);
	guint64 fatsz = bytes_le16(b + 0x16) ? bytes_le16(b + 0x16) : bytes_le32(b + 0x24);
	guint64 rootsec, start, n, fit;

	if ((bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) || spc == 0 ||
	    (spc & (spc - 1)) != 0 || rsvd == 0 || nfats == 0 || nfats > 4 ||
	    (media != 0xF0 && media < 0xF8) || fatsz == 0 || total == 0)
		return FALSE;
	rootsec = ((guint64)rootent * DIRENT + bps - 1) / bps;
	start = rsvd + nfats * fatsz + rootsec;
	if (start >= total || (n = (total - start) / spc) == 0)
		return FALSE;
	v->cs = bps * spc;
	v->fat = (guint64)rsvd * bps;
	v->root = v->fat + nfats * fatsz * bps;
	v->root_bytes = rootent * DIRENT;
	v->first = start * bps;
	/*
	 * FAT32 when the 16-bit FAT size is 0 (as Linux decides: mkfs.fat -F 32
	 * makes small FAT32 volumes), else FAT12 or FAT16 by the cluster count
	 * (as Windows decides).
	 */
	if (bytes_le16(b + 0x16) == 0) {
		v->fs = DISKIMG_FS_FAT32;
		v->bad = 0x0FFFFFF7;
		fit = fatsz * bps / 4;
		v->root_cluster = bytes_le32(b + 0x2C) & 0x0FFFFFFF;
		if (rootent != 0)
			return FALSE;
		/* ExtFlags: with mirroring off (bit 7) only the active FAT (bits 0-3) counts */
		if ((b[0x28] & 0x80) && (b[0x28] & 0x0F) < nfats)
			v->fat += (guint64)(b[0x28] & 0x0F) * fatsz * bps;
	} else if (n < FAT12_MAX) {
		v->fs = DISKIMG_FS_FAT12;
		v->bad = 0xFF7;
		fit = fatsz * bps * 2 / 3;
	} else if (n < FAT16_MAX) {
		v->fs = DISKIMG_FS_FAT16;
		v->bad = 0xFFF7;
		fit = fatsz * bps / 2;
	} else {
		return FALSE;		/* too many clusters for FAT16, yet a 16-bit FAT size */
	}
	if (v->fs != DISKIMG_FS_FAT32 && rootent == 0)
		return FALSE;
	v->eoc = v->bad + 1;
	/* clusters the FAT has no entry for cannot be used */
	n = MIN(n, fit > 2 ? fit - 2 : 0);
	v->nclusters = (guint32)MIN(n, (guint64)FAT32_MAX);
	return v->nclusters > 0;
}

/* boot_fs - the file system of the boot sector B; sets V up for FAT */
static enum diskimg_fs
boot_fs(struct vol *v, const guint8 *b)
{
	if (memcmp(b + 3, "NTFS    ", 8) == 0)
		return DISKIMG_FS_NTFS;
	if (memcmp(b + 3, "EXFAT   ", 8) == 0)
		return DISKIMG_FS_EXFAT;
	if (fat_bpb(v, b))
		return v->fs;
	return DISKIMG_FS_UNKNOWN;
}

/* boot_jumps - a boot sector's first instruction: JMP short + NOP, or JMP near */
static gboolean
boot_jumps(const guint8 *b)
{
	return (b[0] == 0xEB && b[2] == 0x90) || b[0] == 0xE9;
}

/* gpt_first - the byte offset of the first used GPT entry's volume; FALSE when none */
static gboolean
gpt_first(const struct disk *d, guint64 *at)
{
	guint8 h[SECTOR], e[128];
	guint64 lba;
	guint32 count, esz;

	if (!disk_read(d, SECTOR, h, SECTOR) || memcmp(h, "EFI PART", 8) != 0)
		return FALSE;
	lba = bytes_le64(h + 0x48);
	count = MIN(bytes_le32(h + 0x50), GPT_ENTRIES_MAX);
	esz = bytes_le32(h + 0x54);
	if (esz < sizeof(e) || esz > 4096 || lba > d->size / SECTOR)
		return FALSE;
	for (guint32 i = 0; i < count; i++) {
		static const guint8 unused[16];

		if (!disk_read(d, lba * SECTOR + (guint64)i * esz, e, sizeof(e)))
			return FALSE;
		if (memcmp(e, unused, 16) == 0)
			continue;
		if (bytes_le64(e + 32) > d->size / SECTOR)
			return FALSE;
		*at = bytes_le64(e + 32) * SECTOR;
		return TRUE;
	}
	return FALSE;
}

/* mbr_first - the first used entry of the MBR in B: its type, its volume's offset in *AT */
static guint8
mbr_first(const guint8 *b, guint64 *at)
{
	guint8 type = 0;

	if (b[510] != 0x55 || b[511] != 0xAA)
		return 0;
	for (int i = 0; i < 4; i++) {
		const guint8 *e = b + 0x1BE + 16 * i;

		if (e[0] != 0 && e[0] != 0x80)
			return 0;		/* boot flags are 0 or 0x80: not a table */
		if (type == 0 && e[4] != 0) {
			type = e[4];
			*at = (guint64)bytes_le32(e + 8) * SECTOR;
		}
	}
	return *at == 0 && type != 0xEE ? 0 : type;
}

/* img_volume - the partition and file system of the disk IMG->d */
static void
img_volume(struct image *img)
{
	guint8 b[SECTOR];
	guint64 at = 0;
	guint8 type;

	img->v.d = &img->d;
	if (!disk_read(&img->d, 0, b, SECTOR)) {
		img->why = "no boot sector";
		return;
	}
	if (memcmp(b + 3, "NTFS    ", 8) == 0 || memcmp(b + 3, "EXFAT   ", 8) == 0 ||
	    (boot_jumps(b) && fat_bpb(&img->v, b))) {
		img->p.fs = boot_fs(&img->v, b);
	} else if ((type = mbr_first(b, &at)) != 0) {
		img->p.table = DISKIMG_TABLE_MBR;
		if (type == 0xEE) {
			img->p.table = DISKIMG_TABLE_GPT;
			if (!gpt_first(&img->d, &at)) {
				img->p.fs = DISKIMG_FS_UNKNOWN;
				img->why = "no usable GPT partition";
				return;
			}
		}
		img->p.volume_offset = at;
		if (!disk_read(&img->d, at, b, SECTOR)) {
			img->p.fs = DISKIMG_FS_UNKNOWN;
			img->why = "the first partition starts past the end of the disk";
			return;
		}
		img->p.fs = boot_fs(&img->v, b);
	} else if (fat_bpb(&img->v, b)) {
		img->p.fs = img->v.fs;		/* no jump instruction: read it all the same */
	} else {
		img->why = "no FAT, NTFS or exFAT boot sector and no partition table";
		return;
	}
	img->v.base = at;
	if (img->p.fs == DISKIMG_FS_NTFS)
		img->why = "NTFS is not supported";
	else if (img->p.fs == DISKIMG_FS_EXFAT)
		img->why = "exFAT is not supported";
	else if (img->p.fs == DISKIMG_FS_UNKNOWN)
		img->why = "the partition holds no FAT, NTFS or exFAT volume";
}

static void
img_open(struct image *img, const guint8 *data, gsize len)
{
	memset(img, 0, sizeof(*img));
	img_container(img, data, len);
	if (img->why == NULL && img->p.container != DISKIMG_CONTAINER_NONE)
		img_volume(img);
	/* bytes with no VHD, no table and no boot sector are no disk at all */
	if (img->p.container == DISKIMG_RAW && img->p.table == DISKIMG_TABLE_NONE &&
	    img->p.fs == DISKIMG_FS_NONE)
		img->p.container = DISKIMG_CONTAINER_NONE;
	img->p.disk_size = img->d.size;
}

void
diskimg_probe(struct diskimg_probe *out, const guint8 *data, gsize len)
{
	struct image img;

	img_open(&img, data, len);
	*out = img.p;
}

/* walk_note - record the first problem; the walk goes on unless it is TOO_MANY */
static void G_GNUC_PRINTF(3, 4)
walk_note(struct walk *w, enum diskimg_result rc, const char *fmt, ...)
{
	va_list ap;

	if (w->rc != DISKIMG_OK)
		return;
	w->rc = rc;
	va_start(ap, fmt);
	w->err = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* a cluster chain, with Brent's loop detection */
struct chain {
	guint32 cur;
	guint32 steps;
	guint32 saved, power, lam;
};

enum chain_step { CHAIN_NEXT, CHAIN_END, CHAIN_BROKEN, CHAIN_LOOP };

static gboolean
cluster_ok(const struct vol *v, guint32 c)
{
	return c >= 2 && c - 2 < v->nclusters;
}

static guint64
cluster_at(const struct vol *v, guint32 c)
{
	return v->base + v->first + (guint64)(c - 2) * v->cs;
}

static void
chain_start(struct chain *ch, guint32 c)
{
	ch->cur = ch->saved = c;
	ch->steps = 0;
	ch->power = 1;
	ch->lam = 0;
}

/* chain_next - move CH to the next cluster of its chain */
static enum chain_step
chain_next(const struct vol *v, struct chain *ch)
{
	guint64 off;
	guint8 b[4];
	guint32 c = ch->cur, next;

	if (v->fs == DISKIMG_FS_FAT12)
		off = (guint64)c + c / 2;
	else
		off = (guint64)c * (v->fs == DISKIMG_FS_FAT16 ? 2 : 4);
	if (!disk_read(v->d, v->base + v->fat + off, b, v->fs == DISKIMG_FS_FAT32 ? 4 : 2))
		return CHAIN_BROKEN;
	if (v->fs == DISKIMG_FS_FAT12)
		next = (c & 1) ? bytes_le16(b) >> 4 : bytes_le16(b) & 0xFFF;
	else if (v->fs == DISKIMG_FS_FAT16)
		next = bytes_le16(b);
	else
		next = bytes_le32(b) & 0x0FFFFFFF;
	if (next >= v->eoc)
		return CHAIN_END;
	if (!cluster_ok(v, next))
		return CHAIN_BROKEN;	/* free, reserved, bad or past the volume */
	if (next == ch->saved || ++ch->steps >= v->nclusters)
		return CHAIN_LOOP;
	if (++ch->lam == ch->power) {
		ch->saved = next;
		ch->power *= 2;
		ch->lam = 0;
	}
	ch->cur = next;
	return CHAIN_NEXT;
}

/* walk_chain_note - say what broke CHAIN of the entry at the path */
static void
walk_chain_note(struct walk *w, enum chain_step st)
{
	if (st == CHAIN_LOOP)
		walk_note(w, DISKIMG_CORRUPT, "%s: cluster chain loops", w->path->str);
	else if (st == CHAIN_BROKEN)
		walk_note(w, DISKIMG_CORRUPT, "%s: cluster chain broken", w->path->str);
}

struct run {
	guint64 off, len;
};

/* file_data - hand over the bytes of the file E starting at cluster C */
static void
file_data(struct walk *w, const struct diskimg_entry *e, guint32 c)
{
	const struct vol *v = w->v;
	g_autoptr(GArray) runs = g_array_new(FALSE, FALSE, sizeof(struct run));
	g_autofree guint8 *buf = NULL;
	const guint8 *slice = NULL;
	guint64 need = MIN(e->size, w->max_bytes), got = 0;
	gboolean truncated = e->size > w->max_bytes;
	struct chain ch;

	if (need > w->byte_budget) {
		walk_note(w, DISKIMG_CORRUPT, "more file data than the image holds: cross-linked files");
		need = w->byte_budget;
		truncated = TRUE;
	}
	if (e->size == 0) {
		w->hooks->data(w->ctx, e, (const guint8 *)"", 0, FALSE);
		return;
	}
	if (need > 0 && !cluster_ok(v, c)) {
		walk_note(w, DISKIMG_CORRUPT, "%s: first cluster out of range", w->path->str);
		need = 0;
		truncated = TRUE;
	}
	chain_start(&ch, c);
	while (got < need) {
		struct run r = { cluster_at(v, ch.cur), MIN((guint64)v->cs, need - got) };
		struct run *last = runs->len ? &g_array_index(runs, struct run, runs->len - 1) : NULL;
		enum chain_step st;

		if (!bytes_fit(r.off, r.len, v->d->size)) {
			/* checked before the buffer is sized: a chain cannot claim more than the disk */
			walk_note(w, DISKIMG_CORRUPT, "%s: data past the end of the disk", w->path->str);
			break;
		}
		if (last != NULL && last->off + last->len == r.off)
			last->len += r.len;
		else
			g_array_append_val(runs, r);
		got += r.len;
		if (got < need && (st = chain_next(v, &ch)) != CHAIN_NEXT) {
			walk_chain_note(w, st);
			break;
		}
	}
	if (got < need)
		truncated = TRUE;
	if (runs->len == 1)
		slice = disk_slice(v->d, g_array_index(runs, struct run, 0).off, (gsize)got);
	if (slice == NULL && got > 0) {
		guint64 at = 0;

		buf = g_malloc((gsize)got);
		for (guint i = 0; i < runs->len; i++) {
			const struct run *r = &g_array_index(runs, struct run, i);

			if (!disk_read(v->d, r->off, buf + at, (gsize)r->len)) {
				walk_note(w, DISKIMG_CORRUPT, "%s: data past the end of the disk",
				    w->path->str);
				truncated = TRUE;
				break;
			}
			at += r->len;
		}
		got = at;
		slice = got > 0 ? buf : NULL;
	}
	w->byte_budget -= got;
	w->hooks->data(w->ctx, e, slice, (gsize)got, truncated);
}

/* lfn_take - add the long-name entry P to L */
static void
lfn_take(struct lfn *l, const guint8 *p)
{
	static const guint8 at[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
	guint seq = p[0] & 0x1F;

	if (p[0] & 0x40) {
		l->expect = seq >= 1 && seq <= LFN_MAX ? (gint)seq : -1;
		l->count = (guint8)seq;
		l->sum = p[13];
	} else if (l->expect < 1 || (gint)seq != l->expect || p[13] != l->sum) {
		l->expect = -1;
	}
	if (l->expect < 1)
		return;
	for (int i = 0; i < 13; i++)
		l->u[(seq - 1) * 13 + i] = bytes_le16(p + at[i]);
	l->expect--;
}

/* lfn_sum - the checksum of an 8.3 name that its long-name entries carry */
static guint8
lfn_sum(const guint8 *name)
{
	guint8 sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (guint8)(((sum & 1) << 7) + (sum >> 1) + name[i]);
	return sum;
}

/* name_add - C to S as UTF-8, path separators and controls as '_', surrogates as U+FFFD */
static void
name_add(GString *s, gunichar c)
{
	if (c < 0x20 || c == '/' || c == '\\' || c == 0x7F)
		c = '_';
	else if (c >= 0xD800 && c <= 0xDFFF)
		c = 0xFFFD;
	g_string_append_unichar(s, c);
}

/* name_long - the long name in L for the short entry P to S; FALSE when there is none */
static gboolean
name_long(GString *s, const struct lfn *l, const guint8 *p)
{
	gsize n = (gsize)l->count * 13, start = s->len;

	if (l->expect != 0 || l->sum != lfn_sum(p) || l->u[0] == 0)
		return FALSE;
	for (gsize i = 0; i < n && l->u[i] != 0; i++) {
		gunichar c = l->u[i];

		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && l->u[i + 1] >= 0xDC00 &&
		    l->u[i + 1] <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (l->u[i + 1] - 0xDC00);
			i++;
		}
		name_add(s, c);
	}
	return s->len > start;
}

/* name_short - the 8.3 name of P to S, lower-cased as its NT flags say; code page as Latin-1 */
static void
name_short(GString *s, const guint8 *p)
{
	int base = 8, ext = 3;

	while (base > 0 && p[base - 1] == ' ')
		base--;
	while (ext > 0 && p[8 + ext - 1] == ' ')
		ext--;
	if (base == 0)
		g_string_append_c(s, '_');
	for (int i = 0; i < base + ext; i++) {
		gunichar c = i < base ? p[i] : p[8 + i - base];

		if (i == 0 && c == 0x05)
			c = 0xE5;	/* a name starting with 0xE5 stores 0x05 */
		if (i == base)
			g_string_append_c(s, '.');
		if (c < 0x80 && (p[12] & (i < base ? 0x08 : 0x10)))
			c = g_ascii_tolower((gchar)c);
		name_add(s, c);
	}
}

static void dir_walk(struct walk *w, guint32 cluster, guint depth);

/*
 * dir_entry - the short entry P of a directory DEPTH deep, its long name
 * in L; the path is in w->path up to its parent
 */
static void
dir_entry(struct walk *w, const guint8 *p, const struct lfn *l, guint depth)
{
	struct diskimg_entry e = { 0 };
	gsize plen = w->path->len;
	guint32 c = bytes_le16(p + 26);
	gboolean want;

	if (w->v->fs == DISKIMG_FS_FAT32)
		c |= (guint32)bytes_le16(p + 20) << 16;
	if (p[0] == '.' && (memcmp(p + 1, "          ", 10) == 0 ||
	    (p[1] == '.' && memcmp(p + 2, "         ", 9) == 0)))
		return;
	if (plen > 0)
		g_string_append_c(w->path, '/');
	if (!name_long(w->path, l, p))
		name_short(w->path, p);
	e.name = w->path->str;
	e.attributes = p[11];
	e.hidden = (p[11] & ATTR_HIDDEN) != 0;
	e.system = (p[11] & ATTR_SYSTEM) != 0;
	e.is_dir = (p[11] & ATTR_DIR) != 0;
	e.size = e.is_dir ? 0 : bytes_le32(p + 28);
	if (!e.is_dir && w->files >= w->max_entries) {
		g_free(w->err);		/* TOO_MANY wins over a CORRUPT noted before */
		w->err = g_strdup_printf("more than %u files", w->max_entries);
		w->rc = DISKIMG_TOO_MANY;
		w->stop = TRUE;
		goto out;
	}
	want = w->hooks->entry != NULL && w->hooks->entry(w->ctx, &e);
	if (!e.is_dir) {
		w->files++;
		if (want && w->hooks->data != NULL)
			file_data(w, &e, c);
	} else if (depth >= DISKIMG_MAX_DEPTH) {
		walk_note(w, DISKIMG_CORRUPT, "%s: more than %u directory levels", e.name,
		    DISKIMG_MAX_DEPTH);
	} else if (!cluster_ok(w->v, c)) {
		walk_note(w, DISKIMG_CORRUPT, "%s: directory cluster out of range", e.name);
	} else if (!g_hash_table_add(w->seen, GUINT_TO_POINTER(c))) {
		walk_note(w, DISKIMG_CORRUPT, "%s: directory entered twice", e.name);
	} else {
		dir_walk(w, c, depth + 1);
	}
out:
	g_string_truncate(w->path, plen);
}

/* dir_block - the N bytes of directory entries at B; FALSE at the end of the directory */
static gboolean
dir_block(struct walk *w, const guint8 *b, gsize n, struct lfn *l, guint depth)
{
	for (gsize i = 0; i + DIRENT <= n && !w->stop; i += DIRENT) {
		const guint8 *p = b + i;

		if (p[0] == 0x00)
			return FALSE;
		if (p[0] == 0xE5) {
			l->expect = -1;
		} else if ((p[11] & 0x3F) == ATTR_LFN) {
			lfn_take(l, p);
		} else {
			if (!(p[11] & ATTR_LABEL))
				dir_entry(w, p, l, depth);
			l->expect = -1;
		}
	}
	return !w->stop;
}

/* dir_walk - the directory at CLUSTER (0: the FAT12/16 root region), DEPTH levels down */
static void
dir_walk(struct walk *w, guint32 cluster, guint depth)
{
	const struct vol *v = w->v;
	g_autofree guint8 *buf = g_malloc(v->cs);
	g_autofree struct lfn *l = g_new0(struct lfn, 1);
	struct chain ch;
	enum chain_step st;

	l->expect = -1;
	if (cluster == 0) {
		for (guint32 at = 0; at < v->root_bytes; at += v->cs) {
			gsize n = MIN(v->cs, v->root_bytes - at);

			if (!disk_read(v->d, v->base + v->root + at, buf, n)) {
				walk_note(w, DISKIMG_CORRUPT, "root directory past the end of the disk");
				return;
			}
			if (!dir_block(w, buf, n, l, depth))
				return;
		}
		return;
	}
	chain_start(&ch, cluster);
	for (;;) {
		if (w->dir_budget == 0) {
			walk_note(w, DISKIMG_CORRUPT, "more directory clusters than the image holds");
			return;
		}
		w->dir_budget--;
		if (!disk_read(v->d, cluster_at(v, ch.cur), buf, v->cs)) {
			walk_note(w, DISKIMG_CORRUPT, "%s: directory past the end of the disk",
			    depth > 0 ? w->path->str : "/");
			return;
		}
		if (!dir_block(w, buf, v->cs, l, depth))
			return;
		if ((st = chain_next(v, &ch)) != CHAIN_NEXT) {
			walk_chain_note(w, st);
			return;
		}
	}
}

enum diskimg_result
diskimg_walk(const guint8 *data, gsize len, guint max_entries, guint64 max_bytes,
    const struct diskimg_hooks *hooks, void *ctx, char **err)
{
	static const struct diskimg_hooks none = { NULL, NULL };
	struct image img;
	struct walk w = { 0 };

	if (err != NULL)
		*err = NULL;
	img_open(&img, data, len);
	if (img.why != NULL || (img.p.fs != DISKIMG_FS_FAT12 && img.p.fs != DISKIMG_FS_FAT16 &&
	    img.p.fs != DISKIMG_FS_FAT32)) {
		gboolean unsupported = img.p.container == DISKIMG_VHDX ||
		    img.p.container == DISKIMG_VHD_DIFFERENCING || img.p.fs == DISKIMG_FS_NTFS ||
		    img.p.fs == DISKIMG_FS_EXFAT || img.p.fs == DISKIMG_FS_UNKNOWN;

		if (err != NULL)
			*err = g_strdup(img.why != NULL ? img.why : "not a disk image");
		return unsupported ? DISKIMG_UNSUPPORTED : DISKIMG_CORRUPT;
	}
	w.v = &img.v;
	w.hooks = hooks != NULL ? hooks : &none;
	w.ctx = ctx;
	w.max_entries = max_entries;
	w.max_bytes = max_bytes;
	w.byte_budget = (guint64)len * DISKIMG_MAX_OVERLAP;	/* len < 2^63: no wrap */
	w.byte_budget += MIN(max_bytes, G_MAXUINT64 - w.byte_budget);
	w.dir_budget = MIN((guint64)img.v.nclusters, len / img.v.cs + 1);
	w.seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	w.path = g_string_new(NULL);
	if (img.v.fs == DISKIMG_FS_FAT32) {
		if (!cluster_ok(&img.v, img.v.root_cluster))
			walk_note(&w, DISKIMG_CORRUPT, "root directory cluster out of range");
		else {
			g_hash_table_add(w.seen, GUINT_TO_POINTER(img.v.root_cluster));
			dir_walk(&w, img.v.root_cluster, 0);
		}
	} else {
		dir_walk(&w, 0, 0);
	}
	g_hash_table_unref(w.seen);
	g_string_free(w.path, TRUE);
	if (err != NULL)
		*err = w.err;
	else
		g_free(w.err);
	return w.rc;
}

const char *
diskimg_container_name(enum diskimg_container c)
{
	static const char *const names[] = { "none", "raw", "vhd-fixed", "vhd-dynamic",
	    "vhd-differencing", "vhdx" };

	return (guint)c < G_N_ELEMENTS(names) ? names[c] : "none";
}

const char *
diskimg_table_name(enum diskimg_table t)
{
	static const char *const names[] = { "none", "mbr", "gpt" };

	return (guint)t < G_N_ELEMENTS(names) ? names[t] : "none";
}

const char *
diskimg_fs_name(enum diskimg_fs fs)
{
	static const char *const names[] = { "none", "fat12", "fat16", "fat32", "ntfs", "exfat",
	    "unknown" };

	return (guint)fs < G_N_ELEMENTS(names) ? names[fs] : "none";
}
