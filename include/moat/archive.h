/*
 * archive.h - what libarchive reads for moat: 7z, RAR and ISO listings, RAR members
 *
 * libclamav opens most containers itself (walk.h), but Debian's libclamav
 * has no RAR support and neither it nor its callback says which 7z or RAR
 * entries are encrypted or hidden. This module reads those two formats
 * with libarchive, from memory, with only the 7-Zip, RAR, RAR5 and ISO 9660
 * readers enabled: the raw, empty and mtree readers never bid on arbitrary
 * data. ISO 9660 images are listed for their full paths (Joliet, Rock
 * Ridge): libclamav names an image's files by their base names only.
 * Reentrant.
 */
#ifndef MOAT_ARCHIVE_H
#define MOAT_ARCHIVE_H

#include <glib.h>

struct arch_entry {
	const char *name;		/* path inside the archive, UTF-8 when libarchive could convert it */
	gint64 size;			/* declared size, -1 when unknown */
	gboolean encrypted;		/* the entry's data (or the whole header) is encrypted */
	gboolean hidden;		/* Windows hidden attribute */
	gboolean system;		/* Windows system attribute */
	gboolean is_dir;
};

struct arch_hooks {
	/* per entry, in archive order; return TRUE to be given its bytes */
	gboolean (*entry)(void *ctx, const struct arch_entry *e);
	/* the entry's bytes (NULL: names only); TRUNCATED when larger than the limit or unreadable */
	void (*data)(void *ctx, const struct arch_entry *e, const guint8 *buf, gsize len,
	    gboolean truncated);
};

/*
 * What arch_walk() made of an archive: a closed set decided from
 * libarchive's API (return codes, archive_read_has_encrypted_entries(),
 * archive_entry_is_encrypted()), never from its message text.
 */
enum arch_result {
	ARCH_OK = 0,		/* read to the end */
	ARCH_TOO_MANY,		/* stopped at MAX_ENTRIES; the entry past it is not reported */
	ARCH_ENCRYPTED,		/* the archive's own headers are encrypted: no entry can be listed */
	ARCH_CORRUPT,		/* stopped early: truncated, corrupt, or not such an archive */
};

/*
 * arch_walk - list the 7z, RAR or ISO 9660 archive in the LEN bytes at DATA, at most
 * MAX_ENTRIES files (directories are reported but not counted), handing
 * over at most MAX_BYTES of each entry asked for. Entries before a stop
 * were reported. With ARCH_ENCRYPTED and ARCH_CORRUPT, *err says
 * libarchive's words for the log (caller g_free()s).
 */
enum arch_result arch_walk(const guint8 *data, gsize len, guint max_entries, guint64 max_bytes,
    const struct arch_hooks *hooks, void *ctx, char **err);

#endif
