/*
 * zipdir.c - the ZIP central directory, read from memory (zipdir.h)
 *
 * In: the bytes of a whole ZIP file. Out: one zipdir_entry per central
 * directory record. Every offset is checked against the buffer before it
 * is read; nothing is decompressed. Layout: APPNOTE.TXT 6.3, sections
 * 4.3.12 (central file header), 4.3.14-16 (ZIP64 and end of directory).
 */
#include <string.h>

#include "moat/bytes.h"
#include "moat/zipdir.h"

#define SIG_CENTRAL	0x02014b50u
#define SIG_EOCD	0x06054b50u
#define SIG_EOCD64	0x06064b50u
#define SIG_LOCATOR64	0x07064b50u
#define EOCD_SIZE	22
#define CENTRAL_SIZE	46
#define EOCD64_SIZE	56	/* without its extensible data */
#define LOCATOR64_SIZE	20
#define COMMENT_MAX	65535

/* Host systems ("version made by" high byte) whose attributes are DOS attributes. */
#define HOST_MSDOS	0
#define HOST_HPFS	6
#define HOST_NTFS	10
#define HOST_VFAT	14

#define DOS_HIDDEN	0x02
#define DOS_SYSTEM	0x04
#define DOS_DIR		0x10

/*
 * zipdir_find_eocd - offset of the last end-of-directory record before
 * BELOW (searched backwards from the end), or -1
 */
static gint64
zipdir_find_eocd(const guint8 *data, gsize len, gsize below)
{
	gsize lowest;

	if (len < EOCD_SIZE)
		return -1;
	lowest = len - EOCD_SIZE > COMMENT_MAX ? len - EOCD_SIZE - COMMENT_MAX : 0;
	for (gsize off = MIN(len - EOCD_SIZE + 1, below); off-- > lowest;)
		if (bytes_le32(data + off) == SIG_EOCD)
			return (gint64)off;
	return -1;
}

/* zipdir_is_central - a central file header starts at OFF and fits below END */
static gboolean
zipdir_is_central(const guint8 *data, guint64 off, guint64 end)
{
	return bytes_fit(off, CENTRAL_SIZE, end) && bytes_le32(data + off) == SIG_CENTRAL;
}

/*
 * zipdir_zip64 - entries, size and offset of the directory from the ZIP64
 * records of the EOCD at EOCD; *AT gets where the ZIP64 record starts.
 * The record lies before its locator, which lies just before the EOCD.
 * A stub put in front of the archive moves the record away from where
 * the locator says: then it is looked for right before the locator, where
 * it is when it has no extensible data (as Python's zipfile always reads it).
 */
static gboolean
zipdir_zip64(const guint8 *data, gsize eocd, guint64 *count, guint64 *size,
    guint64 *offset, guint64 *at)
{
	guint64 loc, rec;

	if (eocd < LOCATOR64_SIZE || bytes_le32(data + eocd - LOCATOR64_SIZE) != SIG_LOCATOR64)
		return FALSE;
	loc = eocd - LOCATOR64_SIZE;
	rec = bytes_le64(data + loc + 8);
	if (!bytes_fit(rec, EOCD64_SIZE, loc) || bytes_le32(data + rec) != SIG_EOCD64) {
		if (loc < EOCD64_SIZE || bytes_le32(data + loc - EOCD64_SIZE) != SIG_EOCD64)
			return FALSE;
		rec = loc - EOCD64_SIZE;
	}
	*count = bytes_le64(data + rec + 32);
	*size = bytes_le64(data + rec + 40);
	*offset = bytes_le64(data + rec + 48);
	*at = rec;
	return TRUE;
}

/* zipdir_extra64 - sizes from a ZIP64 extra field (id 1) where the record says 0xFFFFFFFF */
static void
zipdir_extra64(const guint8 *extra, gsize n, struct zipdir_entry *e)
{
	while (n >= 4) {
		guint16 id = bytes_le16(extra), sz = bytes_le16(extra + 2);
		const guint8 *p = extra + 4, *end;

		if ((gsize)sz > n - 4)
			return;
		end = p + sz;
		if (id == 0x0001) {
			if (e->size == 0xFFFFFFFFu && end - p >= 8) {
				e->size = bytes_le64(p);
				p += 8;
			}
			if (e->csize == 0xFFFFFFFFu && end - p >= 8)
				e->csize = bytes_le64(p);
			return;
		}
		extra += 4 + sz;
		n -= 4 + (gsize)sz;
	}
}

/*
 * zipdir_start - where the central directory of the EOCD at EOCD starts
 * (*POS) and where it must end (*END: the EOCD or the ZIP64 record); FALSE
 * when this EOCD points to no directory (a decoy in the comment, a
 * truncated file). The declared entry count and size are not trusted:
 * libclamav reads central headers until they run out, and so does moat.
 */
static gboolean
zipdir_start(const guint8 *data, gsize eocd, guint64 *pos, guint64 *end)
{
	guint64 count = bytes_le16(data + eocd + 10), size = bytes_le32(data + eocd + 12);
	guint64 offset = bytes_le32(data + eocd + 16), dir_end = eocd;

	if ((count == 0xFFFF || size == 0xFFFFFFFFu || offset == 0xFFFFFFFFu) &&
	    !zipdir_zip64(data, eocd, &count, &size, &offset, &dir_end))
		return FALSE;
	/* dir_end <= eocd < len from here on: whatever fits below it is in the buffer */
	if (!bytes_fit(offset, size, dir_end))
		size = 0;	/* a lying size: the offset alone must do */
	if (count == 0 && size == 0 && offset == dir_end) {
		*pos = *end = dir_end;		/* an empty archive */
		return TRUE;
	}
	/*
	 * Data before the archive (a self-extractor stub) moves every offset:
	 * then the directory is the SIZE bytes that end where its end record
	 * (or the ZIP64 one) begins.
	 */
	if (size > 0 && zipdir_is_central(data, dir_end - size, dir_end))
		*pos = dir_end - size;
	else if (zipdir_is_central(data, offset, dir_end))
		*pos = offset;
	else
		return FALSE;
	*end = dir_end;
	return TRUE;
}

gint64
zipdir_read(const guint8 *data, gsize len, guint max, zipdir_fn fn, void *ctx)
{
	guint64 pos = 0, end = 0;
	gint64 eocd = (gint64)len + 1, n = 0;

	do
		eocd = zipdir_find_eocd(data, len, (gsize)eocd);
	while (eocd >= 0 && !zipdir_start(data, (gsize)eocd, &pos, &end));
	if (eocd < 0)
		return -1;
	while (bytes_fit(pos, CENTRAL_SIZE, end) && (guint64)n < max) {
		const guint8 *h = data + pos;
		guint16 nlen = bytes_le16(h + 28), xlen = bytes_le16(h + 30), clen = bytes_le16(h + 32);
		guint8 host = h[5];
		guint32 attr = bytes_le32(h + 38);
		guint64 rec = CENTRAL_SIZE + (guint64)nlen + xlen + clen;
		struct zipdir_entry e = { 0 };
		g_autofree char *name = NULL;

		if (bytes_le32(h) != SIG_CENTRAL || !bytes_fit(pos, rec, end))
			break;
		name = g_strndup((const char *)h + CENTRAL_SIZE, nlen);
		e.name = name;
		e.utf8 = (bytes_le16(h + 8) & 0x0800) != 0;
		e.method = bytes_le16(h + 10);
		e.flags = bytes_le16(h + 8);
		e.crc32 = bytes_le32(h + 16);
		e.encrypted = (e.flags & 0x0001) != 0 || e.method == 99;
		e.csize = bytes_le32(h + 20);
		e.size = bytes_le32(h + 24);
		zipdir_extra64(h + CENTRAL_SIZE + nlen, xlen, &e);
		if (host == HOST_MSDOS || host == HOST_HPFS || host == HOST_NTFS || host == HOST_VFAT) {
			e.hidden = (attr & DOS_HIDDEN) != 0;
			e.system = (attr & DOS_SYSTEM) != 0;
			e.is_dir = (attr & DOS_DIR) != 0;
		}
		if (nlen > 0 && name[nlen - 1] == '/')
			e.is_dir = TRUE;
		n++;
		if (!fn(ctx, &e))
			break;
		pos += rec;
	}
	return n;
}
