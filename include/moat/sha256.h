/*
 * sha256.h - SHA-256 as lower-case hex, through OpenSSL's libcrypto
 *
 * The digests moat reports (part and member sha256, lists' block_sha256,
 * the poison key) all come from here, so they are one format: 64 lower-case
 * hex digits and a NUL, the same text GLib's GChecksum gives.
 *
 * Thread-safe: the algorithm is fetched once, at first use; a context
 * belongs to one thread at a time.
 *
 * Failures: OpenSSL fails here only when it cannot allocate (or is broken),
 * never because of the data. Like g_malloc(), these functions then abort
 * the process with g_error(); they have no error return to check.
 */
#ifndef MOAT_SHA256_H
#define MOAT_SHA256_H

#include <glib.h>

#define SHA256_HEX_LEN 64	/* hex digits; buffers take SHA256_HEX_LEN + 1 */

/* sha256_hex - the digest of LEN bytes at DATA into OUT (NUL-terminated) */
void sha256_hex(const void *data, gsize len, char out[SHA256_HEX_LEN + 1]);

/* An incremental digest: data fed in pieces gives the digest of the whole. */
struct sha256;

/* sha256_new - an empty context; caller frees with sha256_free() */
struct sha256 *sha256_new(void);

/* sha256_update - LEN more bytes at DATA (borrowed for the call only) */
void sha256_update(struct sha256 *s, const void *data, gsize len);

/*
 * sha256_final_hex - the digest of everything fed since sha256_new() or
 * the last sha256_final_hex() into OUT; S starts over, empty, for reuse.
 */
void sha256_final_hex(struct sha256 *s, char out[SHA256_HEX_LEN + 1]);

/* sha256_peek_hex - the digest of what S has been fed so far; S goes on unchanged */
void sha256_peek_hex(const struct sha256 *s, char out[SHA256_HEX_LEN + 1]);

/* sha256_free - release S; NULL is a no-op */
void sha256_free(struct sha256 *s);

#endif
