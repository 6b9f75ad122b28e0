/*
 * sha256.c - SHA-256 as lower-case hex, through OpenSSL's EVP interface
 *
 * In: bytes, at once or in pieces. Out: 64 lower-case hex digits and a NUL.
 * Why OpenSSL: GLib's GChecksum is portable C and was measured at about
 * half of all instructions on ham (issue 13); libcrypto's assembly uses the
 * CPU's SHA extensions (SHA-NI) where it has them, AVX2 or SSSE3 elsewhere.
 *
 * The EVP_MD is fetched explicitly, once: OpenSSL 3 would otherwise look
 * the algorithm up in its provider store on every EVP_DigestInit_ex() with
 * EVP_sha256() (crypto(7), "Performance"). The fetched EVP_MD is shared,
 * read-only, by every thread, and kept for the life of the process.
 *
 * An EVP failure here is a lost allocation or a broken libcrypto, never
 * the data's fault: like g_malloc() we abort with g_error() (sha256.h).
 */
#include <openssl/evp.h>

#include "moat/sha256.h"

struct sha256 {
	EVP_MD_CTX *evp;	/* owned; initialised for SHA-256 at all times */
};

/* sha256_md - the process's SHA-256 implementation, fetched at first use */
static const EVP_MD *
sha256_md(void)
{
	static const EVP_MD *md;	/* written once under g_once_init_enter() */

	if (g_once_init_enter(&md)) {
		EVP_MD *fetched = EVP_MD_fetch(NULL, "SHA256", NULL);

		if (fetched == NULL)
			g_error("sha256: OpenSSL has no SHA-256 (EVP_MD_fetch failed)");
		g_once_init_leave(&md, fetched);
	}
	return md;
}

/* sha256_to_hex - the 32 bytes at MD as hex into OUT */
static void
sha256_to_hex(const unsigned char *md, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}

void
sha256_hex(const void *data, gsize len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, sha256_md(), NULL) || n != 32)
		g_error("sha256: EVP_Digest failed");
	sha256_to_hex(md, out);
}

struct sha256 *
sha256_new(void)
{
	struct sha256 *s = g_new(struct sha256, 1);

	if ((s->evp = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex2(s->evp, sha256_md(), NULL))
		g_error("sha256: cannot make an EVP context");
	return s;
}

void
sha256_update(struct sha256 *s, const void *data, gsize len)
{
	if (len > 0 && !EVP_DigestUpdate(s->evp, data, len))
		g_error("sha256: EVP_DigestUpdate failed");
}

void
sha256_final_hex(struct sha256 *s, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(s->evp, md, &n) || n != 32 ||
	    !EVP_DigestInit_ex2(s->evp, sha256_md(), NULL))
		g_error("sha256: EVP_DigestFinal_ex failed");
	sha256_to_hex(md, out);
}

void
sha256_peek_hex(const struct sha256 *s, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();

	if (copy == NULL || !EVP_MD_CTX_copy_ex(copy, s->evp) || !EVP_DigestFinal_ex(copy, md, &n) ||
	    n != 32)
		g_error("sha256: cannot copy an EVP context");
	EVP_MD_CTX_free(copy);
	sha256_to_hex(md, out);
}

void
sha256_free(struct sha256 *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->evp);
	g_free(s);
}
