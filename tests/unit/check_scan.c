/*
 * check_scan.c - scan_message() end to end: hostile input, third-party
 * corpora, file errors and the demo samples
 *
 * Every hostile input must end in a report (never a crash or a hang: the
 * tcase timeout fails a hang) with a finding that says what was wrong.
 * The same tests run under ASan + UBSan in `make asan`.
 */
#include <string.h>

#include "checks.h"
#include "helpers.h"
#include "moat/conf.h"
#include "moat/moat.h"
#include "moat/report.h"
#include "moat/scan.h"

/* scan_buf - LEN bytes at DATA under CONF_TEXT (NULL: the defaults); caller frees */
static struct moat_report *
scan_buf(const void *data, gsize len, const char *conf_text)
{
	struct moat_conf *conf = conf_text != NULL ? t_conf_load(conf_text) : NULL;
	struct moat_report *rep = t_scan_bytes(data, len, conf);

	ck_assert_int_ge(rep->verdict.action, MOAT_ACCEPT);
	conf_free(conf);
	return rep;
}

START_TEST(test_zero_bytes)
{
	struct moat_report *rep = scan_buf("", 0, NULL);

	ck_assert_uint_eq(rep->size, 0);
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.malformed"));
	report_free(rep);
}
END_TEST

START_TEST(test_random_binary)
{
	GRand *rnd = g_rand_new_with_seed(20261128);
	gsize len = 1 << 20;
	guint32 *buf = g_malloc(len);
	struct moat_report *rep;

	for (gsize i = 0; i < len / 4; i++)
		buf[i] = g_rand_int(rnd);
	rep = scan_buf(buf, len, NULL);
	ck_assert_uint_eq(rep->size, len);
	ck_assert_uint_gt(rep->findings->len, 0);	/* garbage is never clean mail */
	report_free(rep);
	g_free(buf);
	g_rand_free(rnd);
}
END_TEST

/* a message whose body is one line of LEN bytes */
static char *
one_line_message(gsize len, gsize *total)
{
	const char *hdr = "From: a@example.com\nSubject: long line\n\n";
	gsize hl = strlen(hdr);
	char *m = g_malloc(hl + len + 2);

	memcpy(m, hdr, hl);
	memset(m + hl, 'A', len);
	m[hl + len] = '\n';
	m[hl + len + 1] = '\0';
	*total = hl + len + 1;
	return m;
}

START_TEST(test_50mb_line_over_limit)
{
	gsize total;
	g_autofree char *m = one_line_message(50u << 20, &total);
	struct moat_report *rep = scan_buf(m, total, NULL);

	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.message_too_large"));
	ck_assert_int_ne(rep->verdict.action, MOAT_ACCEPT);	/* unscanned is never clean */
	report_free(rep);
}
END_TEST

START_TEST(test_50mb_line_parsed)
{
	gsize total;
	g_autofree char *m = one_line_message(50u << 20, &total);
	struct moat_report *rep = scan_buf(m, total,
	    "[limits]\nmax_message_bytes = 64M\nmax_decoded_bytes = 64M\n");
	const struct moat_part *p;

	ck_assert_uint_eq(rep->parts->len, 1);
	p = rep->parts->pdata[0];
	ck_assert_uint_eq(p->decoded_size, (50u << 20) + 1);
	ck_assert_str_eq(p->sniffed, "text");
	report_free(rep);
}
END_TEST

START_TEST(test_10000_parts)
{
	GString *s = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=B\n\n");
	struct moat_report *rep;
	const struct moat_finding *f;

	for (int i = 0; i < 10000; i++)
		g_string_append_printf(s, "--B\nContent-Type: text/plain\n\npart %d\n", i);
	g_string_append(s, "--B--\n");
	rep = scan_buf(s->str, s->len, NULL);
	ck_assert_uint_eq(rep->parts->len, 1000);
	f = report_has_finding(rep, "mime.too_many_parts");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->evidence, "10000"));
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_budget)
{
	GString *s = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=B\n\n");
	struct moat_report *rep;
	const struct moat_finding *f;

	for (int i = 0; i < 10000; i++)
		g_string_append_printf(s, "--B\nContent-Type: text/plain\n\npart %d\n", i);
	g_string_append(s, "--B--\n");
	/* Parsing 10,000 parts takes longer than 1 ms on any machine. */
	rep = scan_buf(s->str, s->len, "[limits]\nscan_budget_ms = 1\nmax_parts = 20000\n");
	f = report_has_finding(rep, "scan.budget_exceeded");
	ck_assert_ptr_nonnull(f);
	/* the evidence says how long the scan had run, not only how late the check came */
	ck_assert_msg(g_regex_match_simple("^stopped [0-9]+ ms into the scan, [0-9]+ ms past "
	    "\\[limits\\] scan_budget_ms$", f->evidence, 0, 0), "%s", f->evidence);
	ck_assert_uint_lt(rep->parts->len, 10000);
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);	/* a cause that repeats */
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_200_multipart_levels)
{
	GString *s = g_string_new("From: a@example.com\nMIME-Version: 1.0\n");
	struct moat_report *rep;

	for (int i = 0; i < 200; i++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	g_string_append(s, "Content-Type: application/octet-stream; name=deep.exe\n\nMZ\n");
	for (int i = 200; i-- > 0;)
		g_string_append_printf(s, "--b%d--\n", i);
	rep = scan_buf(s->str, s->len, NULL);
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.too_deep"));
	ck_assert_int_ne(rep->verdict.action, MOAT_ACCEPT);
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_200_message_levels)
{
	GString *s = g_string_new("");
	struct moat_report *rep;

	for (int i = 0; i < 200; i++)
		g_string_append(s, "From: a@example.com\nMIME-Version: 1.0\n"
		    "Content-Type: message/rfc822\n\n");
	g_string_append(s, "From: z@example.com\n\ninnermost\n");
	rep = scan_buf(s->str, s->len, NULL);
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.too_deep"));
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_1mb_header_line)
{
	GString *s = g_string_new("From: a@example.com\nX-Long: ");
	struct moat_report *rep;
	const struct moat_finding *f;

	for (int i = 0; i < (1 << 20) / 8; i++)
		g_string_append(s, "abcdefgh");
	g_string_append(s, "\nSubject: still read\n\nbody\n");
	rep = scan_buf(s->str, s->len, NULL);
	f = report_has_finding(rep, "mime.long_header");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->evidence, "X-Long"));
	ck_assert_str_eq(rep->hdr.subject, "still read");
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

/* Every mail of the third-party MIME corpora ends in a report (each corpus
 * in TESTDATA_DIR: scan_suite() skips a missing one). */
static void
scan_tree(const char *dir, guint *count)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	struct moat_conf *conf = conf_new_defaults();
	const char *name;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct moat_report *rep;

		if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
			scan_tree(path, count);
			continue;
		}
		rep = t_scan_file(path, conf);
		ck_assert_ptr_nonnull(rep->source);
		report_free(rep);
		(*count)++;
	}
	conf_free(conf);
}

static const struct { const char *dir; guint min; } corpora[] = {
	{ "mime-mimekit", 36 },
	{ "mime-cpython-email", 47 },
	{ "mime-gmime", 40 },
	{ "tnef-mimekit", 16 },
};

START_TEST(test_corpus)
{
	g_autofree char *dir = g_build_filename(TESTDATA_DIR, corpora[_i].dir, NULL);
	guint count = 0;

	scan_tree(dir, &count);
	ck_assert_uint_ge(count, corpora[_i].min);
}
END_TEST

START_TEST(test_missing_file)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = NULL;
	char *err = NULL;

	ck_assert_int_eq(scan_file(&rep, &err, "/nonexistent/x.eml", conf), MOAT_EIO);
	ck_assert_ptr_null(rep);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.eml"));
	g_free(err);
	err = NULL;
	ck_assert_int_eq(scan_file(&rep, &err, SAMPLES_DIR, conf), MOAT_EIO);
	ck_assert_ptr_nonnull(strstr(err, "directory"));
	g_free(err);
	conf_free(conf);
}
END_TEST

START_TEST(test_envelope_copied)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_envelope env = { .client_addr = "192.0.2.7", .helo = "mx.example.net",
	    .mail_from = "a@example.net", .rcpt_to = g_ptr_array_new() };
	struct moat_report *rep = NULL;
	const char *msg = "From: a@example.net\n\nhi\n";

	g_ptr_array_add(env.rcpt_to, "b@example.com");
	ck_assert_int_eq(scan_bytes(&rep, msg, strlen(msg), &env, conf), 0);
	ck_assert_str_eq(rep->env.client_addr, "192.0.2.7");
	ck_assert_str_eq(rep->env.helo, "mx.example.net");
	ck_assert_str_eq(rep->env.mail_from, "a@example.net");
	ck_assert_uint_eq(rep->env.rcpt_to->len, 1);
	ck_assert_str_eq(rep->env.rcpt_to->pdata[0], "b@example.com");
	report_free(rep);
	g_ptr_array_unref(env.rcpt_to);
	conf_free(conf);
}
END_TEST

/* samples/demo: what `make demo` shows, with the findings a user would expect */
static const struct {
	const char *file;
	enum moat_action action;
	const char *findings;	/* space-separated ids that must be present */
} demo_cases[] = {
	{ "clean-text.eml", MOAT_ACCEPT, "" },
	{ "clean-pdf-invoice.eml", MOAT_ACCEPT, "" },
	{ "lure-double-extension.eml", MOAT_REJECT,
	    "name.double_extension attach.executable type.mismatch" },
	{ "lure-rlo-name.eml", MOAT_REJECT, "name.bidi_control attach.executable" },
	{ "lure-lnk-in-mail.eml", MOAT_QUARANTINE, "attach.shortcut" },
	{ "lure-iso-image.eml", MOAT_QUARANTINE, "attach.disk_image" },
	{ "lure-js-posing-as-jpg.eml", MOAT_QUARANTINE, "name.conflict attach.script" },
	/* lure-mustang-decoy-zip.eml needs the container walk: check_lure.c and the golden report */
};

START_TEST(test_demo_sample)
{
	g_autofree char *name = g_build_filename("demo", demo_cases[_i].file, NULL);
	g_auto(GStrv) want = g_strsplit(demo_cases[_i].findings, " ", -1);
	struct moat_report *rep = t_scan_sample(name, NULL);

	for (int i = 0; want[i] != NULL; i++)
		if (want[i][0] != '\0')
			ck_assert_msg(report_has_finding(rep, want[i]) != NULL, "%s: no %s",
			    demo_cases[_i].file, want[i]);
	if (demo_cases[_i].findings[0] == '\0')
		ck_assert_msg(rep->findings->len == 0, "%s: unexpected finding %s",
		    demo_cases[_i].file, ((struct moat_finding *)rep->findings->pdata[0])->kind->id);
	ck_assert_msg(rep->verdict.action == demo_cases[_i].action, "%s: %s, want %s",
	    demo_cases[_i].file, report_action_name(rep->verdict.action),
	    report_action_name(demo_cases[_i].action));
	report_free(rep);
}
END_TEST

Suite *
scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *bad = tcase_create("hostile");
	TCase *corp = tcase_create("corpora");
	TCase *misc = tcase_create("files");

	/* A hang fails the test; ASan makes everything several times slower. */
	tcase_set_timeout(bad, 120);
	tcase_add_test(bad, test_zero_bytes);
	tcase_add_test(bad, test_random_binary);
	tcase_add_test(bad, test_50mb_line_over_limit);
	tcase_add_test(bad, test_50mb_line_parsed);
	tcase_add_test(bad, test_10000_parts);
	tcase_add_test(bad, test_200_multipart_levels);
	tcase_add_test(bad, test_budget);
	tcase_add_test(bad, test_200_message_levels);
	tcase_add_test(bad, test_1mb_header_line);
	suite_add_tcase(s, bad);

	tcase_set_timeout(corp, 120);
	for (int i = 0; i < (int)G_N_ELEMENTS(corpora); i++) {
		g_autofree char *name = g_strdup_printf("scan/corpus %s", corpora[i].dir);

		if (testdata_have(corpora[i].dir, name))
			tcase_add_loop_test(corp, test_corpus, i, i + 1);
	}
	suite_add_tcase(s, corp);

	tcase_add_test(misc, test_missing_file);
	tcase_add_test(misc, test_envelope_copied);
	tcase_add_loop_test(misc, test_demo_sample, 0, G_N_ELEMENTS(demo_cases));
	suite_add_tcase(s, misc);
	return s;
}
