/*
 * archive.h - what libarchive reads for moat: 7z and RAR listings, RAR members
 *
 * libclamav opens most containers itself (walk.h), but Debian's libclamav
 * has no RAR support and neither it nor its callback says which 7z or RAR
 * entries are encrypted or hidden. This module reads those two formats
 * with libarchive, from memory, with only the 7-Zip, RAR and RAR5 readers
 * enabled: the raw, empty and mtree readers never bid on arbitrary data.
 * Reentrant.
 */
#ifndef MOAT_ARCHIVE_H
#define MOAT_ARCHIVE_H

#include <glib.h>

struct arch_entry {
	const char *name;		/* path inside the archive, UTF-8 when libarchive could convert it */
	gint64 size;			/* declared size, -1 when unknown */
	gboolean encrypted;		/* the entry's data (or the whole header) is encrypted */
	gboolean hidden;		/* Windows hidden or system attribute */
	gboolean is_dir;
};

struct arch_hooks {
	/* per entry, in archive order; return TRUE to be given its bytes */
	gboolean (*entry)(void *ctx, const struct arch_entry *e);
	/* the entry's bytes (NULL: names only); TRUNCATED when larger than the limit or unreadable */
	void (*data)(void *ctx, const struct arch_entry *e, const guint8 *buf, gsize len,
	    gboolean truncated);
};

#define ARCH_TOO_MANY 1	/* arch_walk() stopped at MAX_ENTRIES */

/*
 * arch_walk - list the 7z or RAR archive in the LEN bytes at DATA, at most
 * MAX_ENTRIES files (directories are reported but not counted), handing
 * over at most MAX_BYTES of each entry asked for. Returns 0 when the whole
 * archive was read; ARCH_TOO_MANY when it stopped at MAX_ENTRIES (the
 * entry past the limit is not reported); MOAT_EPARSE with *err set
 * (caller g_free()s) when libarchive stopped early: truncated, corrupt,
 * headers encrypted, or not such an archive. Entries before that were
 * reported.
 */
int arch_walk(const guint8 *data, gsize len, guint max_entries, guint64 max_bytes,
    const struct arch_hooks *hooks, void *ctx, char **err);

#endif
