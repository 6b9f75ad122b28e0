/*
 * check_charset.c - GMime's charset names, bounded (charset.h): a message
 * full of new charset names leaves GMime's table and the heap as they
 * were, through GMime's own parser; the names mail really uses, GMime's
 * aliases among them, are still read as before, also once the novel names
 * have run out; a name that is no name reads as GMime reads an unknown one.
 *
 * Check runs each test in a child of its own, so the counts each test
 * reads are its own; they are compared before and after all the same.
 */
#include <malloc.h>
#include <string.h>

#include <gmime/gmime.h>

#include "checks.h"
#include "helpers.h"
#include "moat/charset.h"
#include "moat/mime.h"

/* decode - one header value through GMime, as its parser decodes Subject */
static char *
decode(const char *value)
{
	return g_mime_utils_header_decode_text(NULL, value);
}

/* novel_words - N encoded-words of "x" in names no iconv knows, from name number FIRST */
static char *
novel_words(guint first, guint n)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < n; i++)
		g_string_append_printf(s, "%s=?x-no-such-charset-%u?Q?x?=", i ? " " : "", first + i);
	return g_string_free(s, FALSE);
}

/* use_up - decode N new names from name number FIRST, 64 to a header */
static void
use_up(guint first, guint n)
{
	for (guint i = 0; i < n; i += 64) {
		g_autofree char *words = novel_words(first + i, MIN(64, n - i));

		g_free(decode(words));
	}
}

/* GMime's parser itself asks charset.c: the Subject of a parsed message */
START_TEST(test_parser_asks_the_bound)
{
	struct moat_conf *conf = t_conf_load("");
	struct mime_charset_stats a, b;
	g_autofree char *words = novel_words(4000000, 400);
	g_autofree char *msg = g_strdup_printf("From: a@example.org\r\nTo: b@example.org\r\n"
	    "Subject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n", words);
	struct moat_report *rep;

	mime_charset_stats(&a);
	rep = t_scan_text(msg, conf);
	mime_charset_stats(&b);
	ck_assert_ptr_nonnull(rep->hdr.subject);
	ck_assert_uint_eq(b.novel - a.novel, MIN(400, MIME_CHARSET_NOVEL_MAX - a.novel));
	ck_assert_uint_ge(b.refused - a.refused, 400 - (MIME_CHARSET_NOVEL_MAX - a.novel));
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* 100,000 new names: GMime's table grew by 90 bytes a name before; now by none */
START_TEST(test_names_do_not_grow_the_heap)
{
	struct mime_charset_stats a, b;
	size_t before, after;

	mime_init();
	/* the novel names are used up first, so that what follows is the steady state */
	use_up(1000000, MIME_CHARSET_NOVEL_MAX);
	mime_charset_stats(&a);
	ck_assert_uint_eq(a.novel, MIME_CHARSET_NOVEL_MAX);
	before = mallinfo2().uordblks;
	for (guint i = 0; i < 100000; i += 500) {
		g_autofree char *words = novel_words(i, 500);

		g_free(decode(words));
	}
	after = mallinfo2().uordblks;
	mime_charset_stats(&b);
	ck_assert_uint_eq(b.refused - a.refused, 100000);
	ck_assert_uint_eq(b.names, a.names);
	ck_assert_msg(after < before + 256 * 1024, "the heap grew by %zu bytes for 100,000 names",
	    after - before);
}
END_TEST

/* The names mail uses, with what they decode to: before and after the novel names run out */
static const struct {
	const char *word;
	const char *text;
} known[] = {
	{ "=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9" },
	{ "=?utf-8?B?Y2Fmw6k=?=", "caf\xc3\xa9" },
	{ "=?windows-1252?Q?=93quoted=94?=", "\xe2\x80\x9cquoted\xe2\x80\x9d" },
	{ "=?windows-cp1252?Q?=93quoted=94?=", "\xe2\x80\x9cquoted\xe2\x80\x9d" },
	{ "=?iso-8859-8-i?B?+ezl7Q==?=", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d" },
	{ "=?ks_c_5601-1987?B?x9GxuQ==?=", "\xed\x95\x9c\xea\xb5\xad" },
	{ "=?gb2312?B?1tC5+g==?=", "\xe4\xb8\xad\xe5\x9b\xbd" },
	{ "=?Shift_JIS?B?k/qWew==?=", "\xe6\x97\xa5\xe6\x9c\xac" },
	{ "=?koi8-r?B?8NLJ18XU?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "=?iso-2022-jp?B?GyRCRnxLXBsoQg==?=", "\xe6\x97\xa5\xe6\x9c\xac" },
};

static void
assert_known_decode(const char *when)
{
	for (gsize i = 0; i < G_N_ELEMENTS(known); i++) {
		g_autofree char *text = decode(known[i].word);

		ck_assert_msg(strcmp(text, known[i].text) == 0, "%s: %s decoded to \"%s\", not \"%s\"",
		    when, known[i].word, text, known[i].text);
	}
}

START_TEST(test_known_names_still_read)
{
	struct mime_charset_stats st;

	mime_init();
	assert_known_decode("at start");
	use_up(2000000, MIME_CHARSET_NOVEL_MAX + 64);
	mime_charset_stats(&st);
	ck_assert_uint_eq(st.novel, MIME_CHARSET_NOVEL_MAX);
	ck_assert_uint_ge(st.refused, 64);
	assert_known_decode("after the novel names ran out");
}
END_TEST

/*
 * Names outside the bound read as GMime reads a charset it cannot
 * convert: as its fallback charset, UTF-8 here. "utf+8" and "utf 8" are
 * UTF-8 to glibc's iconv, which drops the '+' and the blank; as names they
 * would be new keys without end, so they are refused too.
 */
START_TEST(test_odd_names_read_as_unknown)
{
	static const char *const odd[] = {
		"=?utf+8?Q?caf=C3=A9?=", "=?u.t.f-8?Q?caf=C3=A9?=",
		"=?a-charset-name-of-forty-one-letters-xyz?Q?caf=C3=A9?=",
		"=?iso-8859-1garbage?Q?caf=C3=A9?=",
	};
	struct mime_charset_stats a, b;

	mime_init();
	use_up(3000000, MIME_CHARSET_NOVEL_MAX);
	mime_charset_stats(&a);
	for (gsize i = 0; i < G_N_ELEMENTS(odd); i++) {
		g_autofree char *text = decode(odd[i]);

		ck_assert_msg(strcmp(text, "caf\xc3\xa9") == 0, "%s decoded to \"%s\"", odd[i], text);
	}
	mime_charset_stats(&b);
	ck_assert_uint_eq(b.refused - a.refused, G_N_ELEMENTS(odd));
	ck_assert_uint_eq(b.names, a.names);
}
END_TEST

Suite *
charset_suite(void)
{
	Suite *s = suite_create("charset");
	TCase *tc = tcase_create("bound");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parser_asks_the_bound);
	tcase_add_test(tc, test_names_do_not_grow_the_heap);
	tcase_add_test(tc, test_known_names_still_read);
	tcase_add_test(tc, test_odd_names_read_as_unknown);
	suite_add_tcase(s, tc);
	return s;
}
