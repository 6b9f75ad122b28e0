/*
 * vba.c - VBA projects in a compound file (vba.h)
 *
 * Three layers, each bounded by the file it reads:
 *  - the compound file (MS-CFB 2.2-2.6): header, FAT (from the header's
 *    DIFAT and the DIFAT chain), directory, mini FAT and mini stream. A
 *    chain is followed at most as many steps as its table has entries, so
 *    a loop ends; the FAT has one entry per sector the file really has;
 *    the directory tree is walked with a stack and a visited mark, so a
 *    cycle between entries is walked once.
 *  - the dir stream's records (MS-OVBA 2.3.4.2): a run of (id, size,
 *    data); only PROJECTVERSION (0x0009) has a size that does not count
 *    its data (4 said, 6 there). A module is its MODULESTREAMNAME (0x001A,
 *    or 0x0032 in UTF-16), MODULEOFFSET (0x0031) and terminator (0x002B).
 *  - the CompressedContainer (2.4.1.3): chunks of at most 4096 bytes out,
 *    literals and copy tokens whose offset/length split depends on the
 *    position in the chunk; a copy from before the chunk is corrupt.
 * What is read is copied out (names, sources); the caller's bytes are
 * only borrowed for the call.
 */
#include <string.h>

#include "moat/bytes.h"
#include "moat/vba.h"

#define CFB_HEADER	512
#define CFB_ENTRY	128
#define CFB_FREESECT	0xFFFFFFFFu
#define CFB_ENDOFCHAIN	0xFFFFFFFEu
#define CFB_NOSTREAM	0xFFFFFFFFu
#define CFB_STORAGE	1
#define CFB_STREAM	2
#define CFB_ROOT	5
#define OVBA_CHUNK	4096
#define VBA_DIR_MAX	(1u << 20)	/* bytes of a dir stream decompressed */

/* One compound file being read. */
struct cfb {
	const guint8 *d;		/* the file (borrowed) */
	gsize len;
	guint ssz;			/* sector size: 512 (version 3) or 4096 (version 4) */
	guint32 nsec;			/* sectors the file has after its header */
	guint32 *fat;			/* NSEC entries */
	guint32 *minifat;
	guint32 nminifat;
	GByteArray *mini;		/* the mini stream (the root entry's data) */
	guint32 cutoff;			/* streams smaller than this are in the mini stream */
	const guint8 *dir;		/* the directory (in DIRBUF), CFB_ENTRY bytes an entry */
	GByteArray *dirbuf;
	guint32 nent;
	guint32 *parent;		/* per entry: the storage it is in, CFB_NOSTREAM if unreached */
	guint32 *next;			/* per entry: the next entry of the same storage */
	guint32 *first;			/* per entry (a storage): its first entry */
	char **names;			/* per entry: its name in UTF-8 */
};

/* cfb_sector - the bytes of sector S (fewer at the end of a cut file) and *N, or NULL */
static const guint8 *
cfb_sector(const struct cfb *c, guint32 s, gsize *n)
{
	guint64 off = ((guint64)s + 1) * c->ssz;

	if (s >= c->nsec || off >= c->len)
		return NULL;
	*n = MIN(c->ssz, c->len - off);
	return c->d + off;
}

/*
 * cfb_chain - the chain from sector START through the FAT, at most MAX
 * bytes; *CLEAN FALSE when it ends on a bad sector or a loop rather than
 * at ENDOFCHAIN (what was read is kept)
 */
static GByteArray *
cfb_chain(const struct cfb *c, guint32 start, gsize max, gboolean *clean)
{
	GByteArray *out = g_byte_array_new();
	guint32 s = start;

	for (guint32 steps = 0; s != CFB_ENDOFCHAIN && out->len < max; steps++) {
		gsize n;
		const guint8 *p;

		if (steps >= c->nsec || (p = cfb_sector(c, s, &n)) == NULL) {
			*clean = FALSE;
			break;
		}
		g_byte_array_append(out, p, (guint)MIN(n, max - out->len));
		s = c->fat[s];
	}
	return out;
}

/* cfb_mini_chain - the chain from mini sector START in the mini stream, at most MAX bytes */
static GByteArray *
cfb_mini_chain(const struct cfb *c, guint32 start, gsize max, gboolean *clean)
{
	GByteArray *out = g_byte_array_new();
	guint32 s = start;

	for (guint32 steps = 0; s != CFB_ENDOFCHAIN && out->len < max; steps++) {
		guint64 off = (guint64)s * 64;

		if (steps >= c->nminifat || s >= c->nminifat || off >= c->mini->len) {
			*clean = FALSE;
			break;
		}
		g_byte_array_append(out, c->mini->data + off,
		    (guint)MIN(MIN(64, c->mini->len - off), max - out->len));
		s = c->minifat[s];
	}
	return out;
}

/* cfb_fat_sector - FAT sector S holds entries from K * (sector size / 4) on */
static void
cfb_fat_sector(struct cfb *c, guint32 k, guint32 s)
{
	guint per = c->ssz / 4;
	gsize n;
	const guint8 *p = cfb_sector(c, s, &n);

	for (guint i = 0; p != NULL && i < n / 4 && (guint64)k * per + i < c->nsec; i++)
		c->fat[(guint64)k * per + i] = bytes_le32(p + 4 * i);
}

/*
 * cfb_fat - the FAT from the header's 109 DIFAT entries and the DIFAT
 * chain after them, one entry per sector the file has; FALSE when the
 * header names no FAT sector
 */
static gboolean
cfb_fat(struct cfb *c)
{
	guint32 nfat = MIN(bytes_le32(c->d + 44), c->nsec), difat = bytes_le32(c->d + 68);
	guint per = c->ssz / 4;
	guint32 got = 0;

	c->fat = g_new(guint32, MAX(c->nsec, 1));
	for (guint32 i = 0; i < c->nsec; i++)
		c->fat[i] = CFB_FREESECT;
	for (; got < 109 && got < nfat; got++)
		cfb_fat_sector(c, got, bytes_le32(c->d + 76 + 4 * got));
	for (guint32 steps = 0; got < nfat && difat != CFB_ENDOFCHAIN && steps < c->nsec; steps++) {
		gsize n;
		const guint8 *d = cfb_sector(c, difat, &n);

		if (d == NULL || n < c->ssz)
			break;
		for (guint i = 0; i + 1 < per && got < nfat; i++, got++)
			cfb_fat_sector(c, got, bytes_le32(d + 4 * i));
		difat = bytes_le32(d + 4 * (per - 1));
	}
	return got > 0;
}

/* cfb_name - entry E's name as UTF-8 (a bad one made valid) */
static char *
cfb_name(const guint8 *e)
{
	guint16 bytes = bytes_le16(e + 64), units[32];
	glong n = MIN(bytes, 64) / 2;
	char *s;

	for (glong i = 0; i < n; i++)
		units[i] = bytes_le16(e + 2 * i);
	while (n > 0 && units[n - 1] == 0)
		n--;
	s = g_utf16_to_utf8(units, n, NULL, NULL, NULL);
	if (s == NULL) {	/* a lone surrogate: keep the ASCII, mark the rest */
		s = g_malloc(n + 1);
		for (glong i = 0; i < n; i++)
			s[i] = units[i] > 0 && units[i] < 0x80 ? (char)units[i] : '?';
		s[n] = '\0';
	}
	return s;
}

/*
 * cfb_tree - walk the directory from the root: PARENT, NEXT and FIRST
 * link each entry to its storage and siblings. Each entry is taken once:
 * a sibling or child link to an entry already placed is ignored.
 */
static void
cfb_tree(struct cfb *c)
{
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(guint32) * 2);
	guint8 *seen = g_malloc0(c->nent);
	guint32 item[2] = { bytes_le32(c->dir + 76), 0 };	/* (entry, its storage) */

	c->parent = g_new(guint32, c->nent);
	c->next = g_new(guint32, c->nent);
	c->first = g_new(guint32, c->nent);
	for (guint32 i = 0; i < c->nent; i++)
		c->parent[i] = c->next[i] = c->first[i] = CFB_NOSTREAM;
	seen[0] = 1;
	g_array_append_val(stack, item);
	while (stack->len > 0) {
		guint32 *top = &g_array_index(stack, guint32, 2 * (stack->len - 1));
		guint32 e = top[0], p = top[1];
		const guint8 *ent;

		g_array_set_size(stack, stack->len - 1);
		if (e >= c->nent || seen[e])
			continue;
		seen[e] = 1;
		ent = c->dir + (gsize)e * CFB_ENTRY;
		c->parent[e] = p;
		c->next[e] = c->first[p];
		c->first[p] = e;
		for (int k = 0; k < 3; k++) {
			guint32 link[2] = { bytes_le32(ent + 68 + 4 * k), k < 2 ? p : e };

			if (link[0] < c->nent && !seen[link[0]])
				g_array_append_val(stack, link);
		}
	}
	g_free(seen);
	g_array_unref(stack);
}

/* cfb_type - entry E's object type (0 for an unused or unreached one) */
static guint8
cfb_type(const struct cfb *c, guint32 e)
{
	return e < c->nent && (e == 0 || c->parent[e] != CFB_NOSTREAM) ?
	    c->dir[(gsize)e * CFB_ENTRY + 66] : 0;
}

/* cfb_stream - the bytes of stream entry E, at most MAX; *CLEAN as cfb_chain() */
static GByteArray *
cfb_stream(const struct cfb *c, guint32 e, gsize max, gboolean *clean)
{
	const guint8 *ent = c->dir + (gsize)e * CFB_ENTRY;
	guint64 size = c->ssz == 512 ? bytes_le32(ent + 120) : bytes_le64(ent + 120);
	guint32 start = bytes_le32(ent + 116);
	GByteArray *b;

	max = (gsize)MIN(size, (guint64)max);
	b = size < c->cutoff ? cfb_mini_chain(c, start, max, clean) : cfb_chain(c, start, max, clean);
	if (b->len < max)
		*clean = FALSE;
	return b;
}

/* cfb_child - the entry named NAME (ASCII case folded, as MS-CFB compares) in storage S */
static guint32
cfb_child(const struct cfb *c, guint32 s, const char *name, guint8 type)
{
	for (guint32 e = c->first[s]; e != CFB_NOSTREAM; e = c->next[e])
		if (cfb_type(c, e) == type && g_ascii_strcasecmp(c->names[e], name) == 0)
			return e;
	return CFB_NOSTREAM;
}

/* cfb_path - storage S's path below the root ("Macros/VBA"); caller g_free()s */
static char *
cfb_path(const struct cfb *c, guint32 s)
{
	GPtrArray *up = g_ptr_array_new();
	GString *path = g_string_new(NULL);

	for (guint32 k = s; k != 0 && k != CFB_NOSTREAM && up->len < c->nent; k = c->parent[k])
		g_ptr_array_add(up, c->names[k]);
	for (guint i = up->len; i-- > 0;)
		g_string_append_printf(path, "%s%s", path->len > 0 ? "/" : "", (char *)up->pdata[i]);
	g_ptr_array_unref(up);
	return g_string_free(path, FALSE);
}

static void
cfb_clear(struct cfb *c)
{
	g_free(c->fat);
	g_free(c->minifat);
	if (c->mini != NULL)
		g_byte_array_unref(c->mini);
	if (c->dirbuf != NULL)
		g_byte_array_unref(c->dirbuf);
	for (guint32 i = 0; c->names != NULL && i < c->nent; i++)
		g_free(c->names[i]);
	g_free(c->names);
	g_free(c->parent);
	g_free(c->next);
	g_free(c->first);
}

/* cfb_open - read the header, FAT, directory, mini FAT and mini stream; FALSE: not a compound file */
static gboolean
cfb_open(struct cfb *c, const guint8 *d, gsize len)
{
	static const guint8 magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	gboolean clean = TRUE;
	GByteArray *mf;
	guint16 shift;

	memset(c, 0, sizeof(*c));
	if (len < CFB_HEADER || memcmp(d, magic, 8) != 0)
		return FALSE;
	shift = bytes_le16(d + 30);
	if (shift != 9 && shift != 12)
		return FALSE;
	c->d = d;
	c->len = len;
	c->ssz = 1u << shift;
	if (len <= c->ssz)
		return FALSE;
	c->nsec = (guint32)MIN((len - c->ssz + c->ssz - 1) / c->ssz, G_MAXUINT32 - 1);
	c->cutoff = bytes_le32(d + 56);
	if (!cfb_fat(c))
		return FALSE;
	c->dirbuf = cfb_chain(c, bytes_le32(d + 48), (gsize)VBA_MAX_ENTRIES * CFB_ENTRY, &clean);
	c->nent = c->dirbuf->len / CFB_ENTRY;
	if (c->nent == 0 || c->dirbuf->data[66] != CFB_ROOT)
		return FALSE;
	c->dir = c->dirbuf->data;
	mf = cfb_chain(c, bytes_le32(d + 60), len, &clean);
	c->nminifat = mf->len / 4;
	c->minifat = g_new(guint32, MAX(c->nminifat, 1));
	for (guint32 i = 0; i < c->nminifat; i++)
		c->minifat[i] = bytes_le32(mf->data + 4 * i);
	g_byte_array_unref(mf);
	c->mini = cfb_chain(c, bytes_le32(c->dir + 116),
	    (gsize)MIN(bytes_le32(c->dir + 120), (guint64)len), &clean);
	c->names = g_new(char *, c->nent);
	for (guint32 i = 0; i < c->nent; i++)
		c->names[i] = cfb_name(c->dir + (gsize)i * CFB_ENTRY);
	cfb_tree(c);
	return TRUE;
}

/* MS-OVBA ------------------------------------------------------------------ */

GByteArray *
vba_decompress(const guint8 *in, gsize len, gsize max, gboolean *clean)
{
	GByteArray *out;
	gsize pos = 1;
	gboolean ok = TRUE;

	if (len == 0 || in[0] != 0x01)
		return NULL;
	out = g_byte_array_new();
	while (ok && pos + 2 <= len && out->len < max) {
		guint16 hdr = bytes_le16(in + pos);
		gsize end = pos + MIN((gsize)(hdr & 0x0fff) + 3, len - pos), start = out->len;

		pos += 2;
		if (!(hdr & 0x8000)) {	/* stored: 4096 bytes as they are */
			gsize n = MIN(MIN((gsize)OVBA_CHUNK, len - pos), max - out->len);

			g_byte_array_append(out, in + pos, (guint)n);
			pos += OVBA_CHUNK;
			ok = n == OVBA_CHUNK;
			continue;
		}
		while (ok && pos < end) {
			guint8 flags = in[pos++];

			for (int bit = 0; bit < 8 && ok && pos < end; bit++) {
				gsize d = out->len - start, off, n;
				guint bits = 4;
				guint16 token;

				if (!(flags & (1u << bit))) {
					if ((ok = out->len < max && d < OVBA_CHUNK))
						g_byte_array_append(out, in + pos++, 1);
					continue;
				}
				if (pos + 2 > end || d == 0) {
					ok = FALSE;
					break;
				}
				token = bytes_le16(in + pos);
				pos += 2;
				while ((1u << bits) < d)
					bits++;
				off = (gsize)(token >> (16 - bits)) + 1;
				n = (gsize)(token & (0xffffu >> bits)) + 3;
				if (off > d || d + n > OVBA_CHUNK || n > max - out->len) {
					ok = FALSE;
					break;
				}
				for (gsize k = 0; k < n; k++) {
					guint8 b = out->data[out->len - off];	/* before append moves it */

					g_byte_array_append(out, &b, 1);
				}
			}
		}
		pos = end;
	}
	if (clean != NULL)
		*clean = ok && out->len < max;
	return out;
}

/* One module named in a dir stream. */
struct vba_ref {
	char *stream;			/* MODULESTREAMNAME, UTF-8 */
	guint32 offset;			/* MODULEOFFSET: where the compressed source starts */
	gboolean have_offset;
};

static void
vba_ref_free(struct vba_ref *r)
{
	g_free(r->stream);
	g_free(r);
}

/* vba_utf16 - the SIZE bytes of UTF-16LE at P as UTF-8, or NULL when they are not UTF-16 */
static char *
vba_utf16(const guint8 *p, guint32 size)
{
	gunichar2 *u = g_new(gunichar2, size / 2 + 1);
	char *s;

	for (guint32 i = 0; i < size / 2; i++)
		u[i] = bytes_le16(p + 2 * i);
	s = g_utf16_to_utf8(u, size / 2, NULL, NULL, NULL);
	g_free(u);
	return s;
}

/*
 * vba_dir_refs - the modules the decompressed dir stream D names, at most
 * VBA_MAX_MODULES. A record that runs past the end ends the list.
 */
static GPtrArray *
vba_dir_refs(const GByteArray *d)
{
	GPtrArray *refs = g_ptr_array_new_with_free_func((GDestroyNotify)vba_ref_free);
	struct vba_ref cur = { NULL, 0, FALSE };
	char *unicode = NULL;
	gsize pos = 0;

	while (pos + 6 <= d->len && refs->len < VBA_MAX_MODULES) {
		guint16 id = bytes_le16(d->data + pos);
		guint32 size = bytes_le32(d->data + pos + 2);
		const guint8 *p = d->data + pos + 6;

		if (id == 0x0009)
			size = 6;	/* PROJECTVERSION: Reserved says 4, Major and Minor follow */
		if (!bytes_fit(pos + 6, size, d->len) || id == 0x0010)
			break;
		if (id == 0x001a) {
			g_free(cur.stream);
			cur.stream = g_strndup((const char *)p, size);
		} else if (id == 0x0032) {
			g_free(unicode);
			unicode = vba_utf16(p, size);
		} else if (id == 0x0031 && size == 4) {
			cur.offset = bytes_le32(p);
			cur.have_offset = TRUE;
		} else if (id == 0x002b) {	/* the module's terminator */
			struct vba_ref *r = g_new0(struct vba_ref, 1);

			r->stream = unicode != NULL ? g_steal_pointer(&unicode) : g_steal_pointer(&cur.stream);
			r->offset = cur.offset;
			r->have_offset = cur.have_offset;
			if (r->stream != NULL)
				g_ptr_array_add(refs, r);
			else
				vba_ref_free(r);
			g_clear_pointer(&cur.stream, g_free);
			g_clear_pointer(&unicode, g_free);
			cur.have_offset = FALSE;
		}
		pos += 6 + (gsize)size;
	}
	g_free(cur.stream);
	g_free(unicode);
	return refs;
}

static void
vba_module_free(struct vba_module *m)
{
	g_free(m->name);
	g_free(m->project);
	g_free(m->source);
	g_free(m);
}

/*
 * One vba_read(): what it may still read. Directory entries may share a
 * chain, so the streams read (dir, modules, nested files) are counted
 * against VBA_READ_FACTOR times the file's size rather than trusted to be
 * distinct.
 */
struct vba_ctx {
	struct vba_file *f;
	guint64 read_left;		/* stream bytes that may still be copied */
	gsize source;			/* source bytes kept so far (VBA_MAX_TOTAL) */
	guint nested;			/* compound files opened inside streams */
};

#define VBA_READ_FACTOR		4	/* stream bytes read per byte of file */
#define VBA_MAX_NESTED		16	/* compound files in streams (an Outlook .msg's attachments) */
#define VBA_MAX_DEPTH		2	/* ... and in theirs */

/* vba_stream - stream E of C within X's read budget; *CLEAN FALSE when cut */
static GByteArray *
vba_stream(struct vba_ctx *x, const struct cfb *c, guint32 e, gsize max, gboolean *clean)
{
	GByteArray *b;

	if (x->read_left < max) {
		max = (gsize)x->read_left;
		x->f->truncated = TRUE;
	}
	b = cfb_stream(c, e, max, clean);
	x->read_left -= b->len;
	return b;
}

/* vba_source - module M's source: stream E of C from OFFSET on, decompressed */
static void
vba_source(struct vba_ctx *x, struct vba_module *m, const struct cfb *c, guint32 e, guint32 offset)
{
	gboolean clean = TRUE, whole = TRUE;
	GByteArray *raw = vba_stream(x, c, e, c->len, &whole);
	GByteArray *src = offset < raw->len ? vba_decompress(raw->data + offset, raw->len - offset,
	    MIN(VBA_MAX_SOURCE, VBA_MAX_TOTAL - x->source), &clean) : NULL;

	if (src != NULL) {
		m->len = src->len;
		m->source = g_malloc(src->len + 1);
		if (src->len > 0)
			memcpy(m->source, src->data, src->len);
		m->source[src->len] = '\0';
		x->source += src->len;
		g_byte_array_unref(src);
	}
	m->truncated = m->source == NULL || !clean || !whole;
	g_byte_array_unref(raw);
}

/*
 * vba_project - the modules of the project in storage S of C, whose dir
 * stream is entry DIR, added to X's file; PATH names the storage
 * ("Macros/VBA", "__attach_version1.0_#00000000/__substg1.0_37010102 › Macros/VBA")
 */
static void
vba_project(struct vba_ctx *x, const struct cfb *c, guint32 s, guint32 dir, const char *path)
{
	struct vba_file *f = x->f;
	gboolean clean = TRUE;
	GByteArray *raw = vba_stream(x, c, dir, c->len, &clean);
	GByteArray *plain = vba_decompress(raw->data, raw->len, VBA_DIR_MAX, NULL);
	GPtrArray *refs = plain != NULL ? vba_dir_refs(plain) : NULL;
	GHashTable *streams = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	/* the storage's streams by ASCII-folded name: MS-CFB compares names so */
	for (guint32 e = c->first[s]; e != CFB_NOSTREAM; e = c->next[e])
		if (cfb_type(c, e) == CFB_STREAM)
			g_hash_table_insert(streams, g_ascii_strdown(c->names[e], -1), GUINT_TO_POINTER(e + 1));
	if (refs == NULL || refs->len == 0)
		f->unread++;
	for (guint i = 0; refs != NULL && i < refs->len; i++) {
		const struct vba_ref *r = refs->pdata[i];
		g_autofree char *key = g_ascii_strdown(r->stream, -1);
		guint e = GPOINTER_TO_UINT(g_hash_table_lookup(streams, key));
		struct vba_module *m;

		if (f->modules->len >= VBA_MAX_MODULES) {
			f->truncated = TRUE;
			break;
		}
		m = g_new0(struct vba_module, 1);
		m->name = g_utf8_make_valid(r->stream, -1);
		m->project = g_strdup(path);
		if (e != 0 && r->have_offset)
			vba_source(x, m, c, e - 1, r->offset);
		else
			m->truncated = TRUE;
		f->truncated |= m->truncated;
		g_ptr_array_add(f->modules, m);
	}
	g_hash_table_destroy(streams);
	if (refs != NULL)
		g_ptr_array_unref(refs);
	if (plain != NULL)
		g_byte_array_unref(plain);
	g_byte_array_unref(raw);
}

static gboolean vba_read_cfb(struct vba_ctx *x, const guint8 *data, gsize len, guint depth,
    const char *prefix);

/* vba_join - PREFIX › PATH ("PATH" alone without a prefix); caller g_free()s */
static char *
vba_join(const char *prefix, const char *path)
{
	return prefix != NULL ? g_strdup_printf("%s \xe2\x80\xba %s", prefix, path) : g_strdup(path);
}

/*
 * vba_equation - the first storage of C (or its root) with Equation Editor
 * 3.0's CLSID into F->equation. The CLSID decides which program Office
 * starts for the object; an "Equation Native" stream does not (MathType
 * keeps its formulas in one too, under its own CLSID).
 */
static void
vba_equation(struct vba_file *f, const struct cfb *c, const char *prefix)
{
	/* {0002CE02-0000-0000-C000-000000000046} as MS-CFB stores a CLSID */
	static const guint8 clsid[16] = { 0x02, 0xce, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };

	for (guint32 e = 0; e < c->nent; e++) {
		guint8 type = cfb_type(c, e);
		g_autofree char *path = NULL;

		if ((type != CFB_STORAGE && type != CFB_ROOT) ||
		    memcmp(c->dir + (gsize)e * CFB_ENTRY + 80, clsid, sizeof(clsid)) != 0)
			continue;
		path = e == 0 ? g_strdup("the root storage") : cfb_path(c, e);
		f->equation = vba_join(prefix, path);
		return;
	}
}

/*
 * vba_nested - the compound files in C's streams (an Outlook .msg keeps
 * each attached file in one), read in turn at DEPTH + 1
 */
static void
vba_nested(struct vba_ctx *x, const struct cfb *c, guint depth, const char *prefix)
{
	static const guint8 magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };

	for (guint32 e = 1; e < c->nent && x->nested < VBA_MAX_NESTED && x->read_left > 0; e++) {
		gboolean clean = TRUE;
		GByteArray *head, *all;
		g_autofree char *dir = NULL, *path = NULL, *where = NULL;

		if (cfb_type(c, e) != CFB_STREAM)
			continue;
		head = cfb_stream(c, e, sizeof(magic), &clean);
		clean = head->len == sizeof(magic) && memcmp(head->data, magic, sizeof(magic)) == 0;
		g_byte_array_unref(head);
		if (!clean)
			continue;
		x->nested++;
		all = vba_stream(x, c, e, c->len, &clean);
		dir = cfb_path(c, c->parent[e]);
		path = *dir != '\0' ? g_strdup_printf("%s/%s", dir, c->names[e]) : g_strdup(c->names[e]);
		where = vba_join(prefix, path);
		vba_read_cfb(x, all->data, all->len, depth + 1, where);
		g_byte_array_unref(all);
	}
}

/*
 * vba_read_cfb - the projects of the compound file at DATA into X, and
 * those of the compound files in its streams; PREFIX says where it sits
 * (NULL: the file itself). FALSE when it is no compound file.
 */
static gboolean
vba_read_cfb(struct vba_ctx *x, const guint8 *data, gsize len, guint depth, const char *prefix)
{
	struct vba_file *f = x->f;
	struct cfb c;
	guint8 *done;

	if (!cfb_open(&c, data, len)) {
		cfb_clear(&c);
		return FALSE;
	}
	done = g_malloc0(c.nent);	/* storages looked at: each once, however many dir streams */
	for (guint32 e = 0; e < c.nent; e++) {
		guint32 s = c.parent[e];
		g_autofree char *path = NULL, *where = NULL;

		if (cfb_type(&c, e) != CFB_STREAM || g_ascii_strcasecmp(c.names[e], "dir") != 0 ||
		    done[s])
			continue;
		done[s] = 1;
		/* a project: dir beside _VBA_PROJECT, or dir in a storage called VBA */
		if (cfb_child(&c, s, "_VBA_PROJECT", CFB_STREAM) == CFB_NOSTREAM &&
		    (s == 0 || g_ascii_strcasecmp(c.names[s], "VBA") != 0))
			continue;
		/*
		 * Past the projects read, only counted: a path is as long as
		 * the storage is deep, and 5,000 storages each inside the one
		 * before made building every path 2.4 s for a 2 MB file.
		 */
		if (f->projects++ >= VBA_MAX_PROJECTS) {
			f->truncated = TRUE;
			continue;
		}
		path = cfb_path(&c, s);
		where = vba_join(prefix, path);
		if (f->projects == 1)
			f->first = g_strdup(where);
		vba_project(x, &c, s, e, where);
	}
	g_free(done);
	if (f->equation == NULL)
		vba_equation(f, &c, prefix);
	if (depth < VBA_MAX_DEPTH)
		vba_nested(x, &c, depth, prefix);
	cfb_clear(&c);
	return TRUE;
}

struct vba_file *
vba_read(const guint8 *data, gsize len)
{
	struct vba_ctx x = { NULL, (guint64)len * VBA_READ_FACTOR, 0, 0 };

	x.f = g_new0(struct vba_file, 1);
	x.f->modules = g_ptr_array_new_with_free_func((GDestroyNotify)vba_module_free);
	if (!vba_read_cfb(&x, data, len, 0, NULL))
		g_clear_pointer(&x.f, vba_file_free);
	return x.f;
}

void
vba_file_free(struct vba_file *f)
{
	if (f == NULL)
		return;
	g_free(f->first);
	g_free(f->equation);
	g_ptr_array_unref(f->modules);
	g_free(f);
}
