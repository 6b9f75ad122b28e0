/*
 * decrypt.h - encrypted ZIP entries opened with the passwords a message gives
 *
 * Lures ship an encrypted ZIP and put its password in the mail body
 * (password.h finds the candidates). decrypt_zip() tries them on each
 * encrypted entry with libarchive, which decrypts ZipCrypto and WinZip AES
 * (AE-1, AE-2); Debian's libarchive 3.6 decrypts neither 7z AES nor RAR
 * ("currently not supported"), so those stay closed. One candidate per
 * libarchive reader: with several passphrases in one reader, libarchive
 * takes the first that passes ZipCrypto's one-byte check (a wrong one does
 * about once in 256) and the entry then fails instead of going on to the
 * next. Each reader tries its candidate on every entry still closed, so a
 * message's archive costs one reader per candidate, not one per entry and
 * candidate. An entry counts as opened only when libarchive read it to the
 * end without an error, its size is the declared one and its CRC-32 is
 * the central directory's (AE-2 stores none: libarchive checks its HMAC).
 * Bounded: at most max_entries entries, max_bytes of one entry in memory,
 * nothing after the deadline. Pure function of its inputs, reentrant.
 */
#ifndef MOAT_DECRYPT_H
#define MOAT_DECRYPT_H

#include <glib.h>

#define DECRYPT_MAX_ENTRIES	64	/* encrypted entries tried per message */

/* What became of one encrypted entry. */
enum decrypt_outcome {
	DECRYPT_OPENED = 0,	/* a candidate opened it; its bytes were handed over */
	DECRYPT_WRONG,		/* every candidate was tried and none opened it */
	DECRYPT_UNSUPPORTED,	/* libarchive cannot read it: PKWARE strong encryption, or
				 * an entry its reader does not list */
	DECRYPT_TOO_LARGE,	/* declared larger than max_bytes: not tried */
	DECRYPT_NOT_TRIED,	/* not every candidate was tried: the deadline, or none given */
};

/* One encrypted entry of the archive, as its central directory gives it. */
struct decrypt_entry {
	const char *name;		/* the name as stored (raw bytes, NUL-terminated) */
	guint index;			/* its place among the archive's directory entries */
	guint64 size;			/* uncompressed size as declared */
	enum decrypt_outcome outcome;
	guint candidate;		/* DECRYPT_OPENED: the index of the candidate that opened it */
	guint tried;			/* candidates tried on it */
};

/*
 * Called once per encrypted entry: an opened one as soon as it opens, with
 * its decrypted bytes (DATA, LEN bytes, borrowed for the call); then every
 * other one in directory order with its outcome and DATA NULL.
 */
typedef void (*decrypt_fn)(void *ctx, const struct decrypt_entry *e, const guint8 *data,
    gsize len);

struct decrypt_limits {
	guint max_entries;		/* encrypted entries taken from the directory; the ones
					 * after them are not reported at all */
	guint64 max_bytes;		/* bytes of one entry taken out into memory */
	gint64 deadline;		/* g_get_monotonic_time() past which nothing more is
					 * tried; 0: none */
};

/*
 * decrypt_zip - try the N candidate passwords CANDS (UTF-8, borrowed) in
 * order on the encrypted entries of the ZIP in the LEN bytes at DATA
 * (borrowed) and report each entry through FN. Returns the number of
 * entries reported (0: no encrypted entry, or no readable ZIP directory).
 */
guint decrypt_zip(const guint8 *data, gsize len, const char *const *cands, guint n,
    const struct decrypt_limits *lim, decrypt_fn fn, void *ctx);

/* decrypt_outcome_name - "opened", "wrong", "unsupported", "too large", "not tried" */
const char *decrypt_outcome_name(enum decrypt_outcome o);

#endif
