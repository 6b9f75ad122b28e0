/*
 * check_sha256.c - SHA-256 through libcrypto: the FIPS 180-2 vectors (the
 * empty string, "abc", the 448-bit message, a million 'a'), the same
 * lower-case hex as GLib's GChecksum (the reports and lists were written
 * with it), pieces of odd sizes give the one-shot digest, a context starts
 * over after sha256_final_hex(), sha256_peek_hex() leaves it alone, and
 * threads hashing at once from the first use agree.
 */
#include <string.h>

#include <glib.h>

#include "checks.h"
#include "moat/sha256.h"

#define MILLION_A 1000000

static const struct {
	const char *in;
	const char *hex;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static const char million_a_hex[] =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

/* Piece sizes for the incremental test: around the 64-byte block and beyond. */
static const gsize pieces[] = { 1, 3, 7, 13, 55, 63, 64, 65, 127, 4093, 65537 };

/* million_a - MILLION_A bytes of 'a'; caller frees */
static char *
million_a(void)
{
	char *buf = g_malloc(MILLION_A);

	memset(buf, 'a', MILLION_A);
	return buf;
}

START_TEST(test_vectors)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(vectors[_i].in, strlen(vectors[_i].in), hex);
	ck_assert_str_eq(hex, vectors[_i].hex);
}
END_TEST

START_TEST(test_million_a)
{
	g_autofree char *buf = million_a();
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(buf, MILLION_A, hex);
	ck_assert_str_eq(hex, million_a_hex);
}
END_TEST

/* The digests already in reports and lists came from GChecksum: same text, every length. */
START_TEST(test_same_as_gchecksum)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(13);
	guchar buf[300];
	char hex[SHA256_HEX_LEN + 1];

	for (guint i = 0; i < sizeof(buf); i++)
		buf[i] = (guchar)g_rand_int_range(rand, 0, 256);
	for (gsize len = 0; len <= sizeof(buf); len++) {
		g_autofree char *glib = g_compute_checksum_for_data(G_CHECKSUM_SHA256, buf, len);

		sha256_hex(buf, len, hex);
		ck_assert_str_eq(hex, glib);
	}
}
END_TEST

START_TEST(test_pieces)
{
	g_autofree char *buf = million_a();
	struct sha256 *s = sha256_new();
	char hex[SHA256_HEX_LEN + 1], once[SHA256_HEX_LEN + 1];
	const gsize len = MILLION_A - 1;	/* odd: the last piece is short for most sizes */
	gsize step = pieces[_i];

	buf[12345] = 'b';			/* not all one byte: an offset slip would show */
	for (gsize off = 0; off < len; off += step)
		sha256_update(s, buf + off, MIN(step, len - off));
	sha256_update(s, buf, 0);		/* nothing: no change */
	sha256_final_hex(s, hex);
	sha256_free(s);
	sha256_hex(buf, len, once);
	ck_assert_str_eq(hex, once);
}
END_TEST

START_TEST(test_million_a_incremental)
{
	g_autofree char *buf = million_a();
	struct sha256 *s = sha256_new();
	char hex[SHA256_HEX_LEN + 1];

	for (gsize off = 0; off < MILLION_A; off += 999)
		sha256_update(s, buf + off, MIN(999, MILLION_A - off));
	sha256_final_hex(s, hex);
	sha256_free(s);
	ck_assert_str_eq(hex, million_a_hex);
}
END_TEST

/* mime.c reuses one context for every leaf: each final starts an empty digest. */
START_TEST(test_final_restarts)
{
	struct sha256 *s = sha256_new();
	char hex[SHA256_HEX_LEN + 1];

	sha256_final_hex(s, hex);
	ck_assert_str_eq(hex, vectors[0].hex);
	sha256_update(s, "xyz", 3);
	sha256_final_hex(s, hex);
	sha256_update(s, "abc", 3);
	sha256_final_hex(s, hex);
	ck_assert_str_eq(hex, vectors[1].hex);
	sha256_final_hex(s, hex);
	ck_assert_str_eq(hex, vectors[0].hex);
	sha256_free(s);
	sha256_free(NULL);
}
END_TEST

/* moatd's poison key reads the body digest while the context lives on. */
START_TEST(test_peek)
{
	struct sha256 *s = sha256_new();
	char hex[SHA256_HEX_LEN + 1], ab[SHA256_HEX_LEN + 1];

	sha256_update(s, "ab", 2);
	sha256_peek_hex(s, hex);
	sha256_hex("ab", 2, ab);
	ck_assert_str_eq(hex, ab);
	sha256_peek_hex(s, hex);
	ck_assert_str_eq(hex, ab);
	sha256_update(s, "c", 1);
	sha256_final_hex(s, hex);
	ck_assert_str_eq(hex, vectors[1].hex);
	sha256_free(s);
}
END_TEST

static gpointer
hash_million_a(gpointer data)
{
	const char *buf = data;
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 *s = sha256_new();

	sha256_update(s, buf, MILLION_A / 2);
	sha256_update(s, buf + MILLION_A / 2, MILLION_A - MILLION_A / 2);
	sha256_final_hex(s, hex);
	sha256_free(s);
	if (strcmp(hex, million_a_hex) != 0)
		return GINT_TO_POINTER(1);
	sha256_hex(buf, MILLION_A, hex);
	return GINT_TO_POINTER(strcmp(hex, million_a_hex) != 0);
}

/* moatd scans in several threads: the first use (the algorithm's fetch) may be in any of them. */
START_TEST(test_threads)
{
	g_autofree char *buf = million_a();
	GThread *t[4];

	for (guint i = 0; i < G_N_ELEMENTS(t); i++)
		t[i] = g_thread_new("sha256", hash_million_a, buf);
	for (guint i = 0; i < G_N_ELEMENTS(t); i++)
		ck_assert_int_eq(GPOINTER_TO_INT(g_thread_join(t[i])), 0);
}
END_TEST

Suite *
sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_vectors, 0, G_N_ELEMENTS(vectors));
	tcase_add_test(tc, test_million_a);
	tcase_add_test(tc, test_same_as_gchecksum);
	tcase_add_loop_test(tc, test_pieces, 0, G_N_ELEMENTS(pieces));
	tcase_add_test(tc, test_million_a_incremental);
	tcase_add_test(tc, test_final_restarts);
	tcase_add_test(tc, test_peek);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}
