/*
 * zipdir.h - read a ZIP archive's central directory
 *
 * libclamav extracts ZIP members but does not say which are encrypted or
 * carry the DOS hidden and system attributes; libarchive does not give the
 * attributes either. The central directory has both, so moat reads it
 * itself: bounds-checked, no decompression, ZIP64 and data prepended to
 * the archive (self-extractors) understood. Pure function, thread-safe.
 */
#ifndef MOAT_ZIPDIR_H
#define MOAT_ZIPDIR_H

#include <glib.h>

struct zipdir_entry {
	const char *name;		/* the name as stored (NUL-terminated copy, raw bytes) */
	gboolean utf8;			/* general purpose bit 11: the name is UTF-8 */
	guint64 size;			/* uncompressed size as declared */
	guint64 csize;			/* compressed size as declared */
	guint16 method;			/* 0 stored, 8 deflate, 99 AES, ... */
	guint16 flags;			/* general purpose bit flag (bit 6: PKWARE strong encryption) */
	guint32 crc32;			/* CRC-32 of the data as declared (0 under WinZip AE-2) */
	gboolean encrypted;		/* general purpose bit 0 (or AES) */
	gboolean hidden;		/* DOS attribute 0x02, when made on DOS or Windows */
	gboolean system;		/* DOS attribute 0x04, likewise */
	gboolean is_dir;		/* name ends in '/' or DOS attribute 0x10 */
};

/* Called per entry in directory order; return FALSE to stop. */
typedef gboolean (*zipdir_fn)(void *ctx, const struct zipdir_entry *e);

/*
 * zipdir_read - call FN for each central directory entry of the LEN bytes
 * at DATA, at most MAX entries. Returns the number of entries reported, or
 * -1 when DATA has no readable central directory (not a ZIP, truncated).
 * An entry that runs past the directory ends the walk early.
 */
gint64 zipdir_read(const guint8 *data, gsize len, guint max, zipdir_fn fn, void *ctx);

#endif
