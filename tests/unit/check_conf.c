/*
 * check_conf.c - the config file as an admin writes it: built-in defaults,
 * values overriding them (K/M/G sizes), errors naming "[group] key" and the
 * reason, [scores] overrides and "off", loading real files (missing, bad,
 * the shipped conf/moat.conf) and conf_print output loading back the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "helpers.h"
#include "moat/conf.h"
#include "moat/moat.h"

/* The scalar settings of a config, in one array so tests can compare them all. */
enum { F_MESSAGE, F_PARTS, F_DEPTH, F_DECODED, F_HEADER, F_TAG, F_QUARANTINE, F_REJECT, F_N };

static void
conf_fields(gint64 out[F_N], const struct moat_conf *c)
{
	out[F_MESSAGE] = (gint64)c->limits.max_message_bytes;
	out[F_PARTS] = c->limits.max_parts;
	out[F_DEPTH] = c->limits.max_depth;
	out[F_DECODED] = (gint64)c->limits.max_decoded_bytes;
	out[F_HEADER] = c->limits.max_header_bytes;
	out[F_TAG] = c->policy.tag_score;
	out[F_QUARANTINE] = c->policy.quarantine_score;
	out[F_REJECT] = c->policy.reject_score;
}

/* conf_assert_equal - every setting and every [scores] entry of A and B agree */
static void
conf_assert_equal(const struct moat_conf *a, const struct moat_conf *b)
{
	gint64 fa[F_N], fb[F_N];
	GHashTableIter it;
	gpointer id, score;

	conf_fields(fa, a);
	conf_fields(fb, b);
	for (int i = 0; i < F_N; i++)
		ck_assert_msg(fa[i] == fb[i], "setting %d: %" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT,
		    i, fa[i], fb[i]);
	ck_assert_uint_eq(g_hash_table_size(a->scores), g_hash_table_size(b->scores));
	g_hash_table_iter_init(&it, a->scores);
	while (g_hash_table_iter_next(&it, &id, &score)) {
		gpointer other;

		ck_assert_msg(g_hash_table_lookup_extended(b->scores, id, NULL, &other),
		    "[scores] %s lost", (const char *)id);
		ck_assert_int_eq(GPOINTER_TO_INT(other), GPOINTER_TO_INT(score));
	}
}

START_TEST(test_defaults)
{
	struct moat_conf *c = conf_new_defaults();

	ck_assert_int_eq(c->policy.tag_score, 5);
	ck_assert_int_eq(c->policy.quarantine_score, 10);
	ck_assert_int_eq(c->policy.reject_score, 20);
	ck_assert_uint_eq(c->limits.max_parts, 1000);
	ck_assert_uint_eq(c->limits.max_depth, 30);
	ck_assert_uint_eq(c->limits.max_message_bytes, 12u << 20);
	ck_assert_uint_eq(c->limits.max_decoded_bytes, 32u << 20);
	ck_assert_uint_eq(c->limits.max_header_bytes, 65536);
	ck_assert_uint_eq(g_hash_table_size(c->scores), 0);
	ck_assert_int_eq(conf_finding_score(c, "attach.script", 8), 8);
	ck_assert_ptr_null(c->path);
	conf_free(c);
	conf_free(NULL);
}
END_TEST

START_TEST(test_empty_file_is_defaults)
{
	struct moat_conf *def = conf_new_defaults();
	struct moat_conf *c = t_conf_load("# only a comment\n\n");

	conf_assert_equal(c, def);
	conf_free(c);
	conf_free(def);
}
END_TEST

/* One key set in a file: that setting changes, every other keeps its default. */
static const struct {
	const char *text;
	int field;
	gint64 want;
} value_cases[] = {
	{ "[limits]\nmax_parts = 50\n", F_PARTS, 50 },
	{ "[limits]\nmax_parts =    12   \n", F_PARTS, 12 },
	{ "[limits]\nmax_depth = 1000\n", F_DEPTH, 1000 },
	{ "[limits]\nmax_header_bytes = 998\n", F_HEADER, 998 },
	{ "[limits]\nmax_message_bytes = 1024\n", F_MESSAGE, 1024 },
	{ "[limits]\nmax_message_bytes = 3k\n", F_MESSAGE, 3 * 1024 },
	{ "[limits]\nmax_message_bytes = 3K\n", F_MESSAGE, 3 * 1024 },
	{ "[limits]\nmax_message_bytes = 25M\n", F_MESSAGE, 25 * 1024 * 1024 },
	{ "[limits]\nmax_message_bytes = 4G\n", F_MESSAGE, G_GINT64_CONSTANT(4) << 30 },
	{ "[limits]\nmax_decoded_bytes = 2m\n", F_DECODED, 2 * 1024 * 1024 },
	{ "[limits]\nmax_decoded_bytes = 1G\n", F_DECODED, G_GINT64_CONSTANT(1) << 30 },
	{ "[limits]\nmax_decoded_bytes = 16g\n", F_DECODED, G_GINT64_CONSTANT(16) << 30 },
	{ "[policy]\ntag_score = 3\n", F_TAG, 3 },
	{ "[policy]\ntag_score = 10\n", F_TAG, 10 },	/* equal to quarantine_score is fine */
	{ "[policy]\nquarantine_score = 15\n", F_QUARANTINE, 15 },
	{ "[policy]\nreject_score = 100\n", F_REJECT, 100 },
};

START_TEST(test_value)
{
	struct moat_conf *def = conf_new_defaults();
	struct moat_conf *c = t_conf_load(value_cases[_i].text);
	gint64 got[F_N], want[F_N];

	conf_fields(want, def);
	want[value_cases[_i].field] = value_cases[_i].want;
	conf_fields(got, c);
	for (int i = 0; i < F_N; i++)
		ck_assert_msg(got[i] == want[i], "%s: setting %d is %" G_GINT64_FORMAT
		    ", want %" G_GINT64_FORMAT, value_cases[_i].text, i, got[i], want[i]);
	ck_assert_ptr_null(c->path);	/* read from a string, not a file */
	conf_free(c);
	conf_free(def);
}
END_TEST

START_TEST(test_several_values)
{
	struct moat_conf *c = t_conf_load("# comment\n[limits]\nmax_parts = 50\n"
	    "max_decoded_bytes = 2M\n\n[policy]\ntag_score = 3\nreject_score = 40\n"
	    "[limits]\nmax_depth = 7\n");

	ck_assert_uint_eq(c->limits.max_parts, 50);
	ck_assert_uint_eq(c->limits.max_decoded_bytes, 2u << 20);
	ck_assert_uint_eq(c->limits.max_depth, 7);
	ck_assert_int_eq(c->policy.tag_score, 3);
	ck_assert_int_eq(c->policy.quarantine_score, 10);
	ck_assert_int_eq(c->policy.reject_score, 40);
	ck_assert_uint_eq(c->limits.max_message_bytes, 12u << 20);
	conf_free(c);
}
END_TEST

/* A refused file: the message names where ("[group] key") and why. */
static const struct {
	const char *text;
	const char *where;	/* the message starts with this */
	const char *why;	/* and contains this */
} bad_cases[] = {
	{ "[limts]\nmax_parts = 3\n", "config: [limts]: ", "unknown group" },
	{ "[limits]\nmax_prts = 3\n", "config: [limits] max_prts: ", "unknown key" },
	{ "[policy]\nmax_parts = 3\n", "config: [policy] max_parts: ", "unknown key" },
	{ "[scores]\n[limits]\ntag_score = 3\n", "config: [limits] tag_score: ", "unknown key" },
	{ "[limits]\nmax_depth = many\n", "config: [limits] max_depth: ", "not a number: 'many'" },
	{ "[limits]\nmax_depth =\n", "config: [limits] max_depth: ", "not a number: ''" },
	{ "[limits]\nmax_depth = 3.5\n", "config: [limits] max_depth: ", "not a number" },
	{ "[limits]\nmax_parts = 1M\n", "config: [limits] max_parts: ", "not a number: '1M'" },
	{ "[limits]\nmax_decoded_bytes = 12X\n", "config: [limits] max_decoded_bytes: ",
	    "not a size: '12X'" },
	{ "[limits]\nmax_decoded_bytes = 1MB\n", "config: [limits] max_decoded_bytes: ",
	    "not a size" },
	{ "[limits]\nmax_depth = 0\n", "config: [limits] max_depth: ", "out of range" },
	{ "[limits]\nmax_depth = 1001\n", "config: [limits] max_depth: ", "out of range" },
	{ "[limits]\nmax_message_bytes = 1023\n", "config: [limits] max_message_bytes: ",
	    "out of range" },
	{ "[limits]\nmax_decoded_bytes = 17G\n", "config: [limits] max_decoded_bytes: ",
	    "out of range" },
	{ "[limits]\nmax_parts = 99999999999\n", "config: [limits] max_parts: ", "out of range" },
	{ "[limits]\nmax_parts = -4\n", "config: [limits] max_parts: ", "-4 is out of range" },
	{ "[limits]\nmax_message_bytes = -1K\n", "config: [limits] max_message_bytes: ",
	    "out of range" },
	{ "[policy]\ntag_score = -5\n", "config: [policy] tag_score: ", "out of range" },
	{ "[policy]\ntag_score = 12\n", "config: [policy] tag_score: ",
	    "must not exceed quarantine_score" },
	{ "[policy]\nquarantine_score = 4\n", "config: [policy] tag_score: ",
	    "must not exceed quarantine_score" },
	{ "[policy]\nreject_score = 8\n", "config: [policy] quarantine_score: ",
	    "must not exceed reject_score" },
	{ "[scores]\nno.such_finding = 3\n", "config: [scores] no.such_finding: ",
	    "unknown finding id" },
	{ "[scores]\nattach.script = lots\n", "config: [scores] attach.script: ",
	    "not a number, 'off', 'tag', 'quarantine' or 'reject'" },
	{ "[scores]\nattach.script = 5000\n", "config: [scores] attach.script: ", "out of range" },
	{ "[scores]\nattach.script = -5000\n", "config: [scores] attach.script: ", "out of range" },
	{ "not a key file\n", "config: ", "" },
	{ "[milter]\nstatus_socket = inet:9100@0.0.0.0\n", "config: [milter] status_socket: ",
	    "not a loopback address" },
	{ "[milter]\nstatus_socket = inet:9100\n", "config: [milter] status_socket: ",
	    "not a loopback address" },
	{ "[milter]\nstatus_socket = inet6:9100@2001:db8::1\n", "config: [milter] status_socket: ",
	    "not a loopback address" },
	{ "[milter]\nstatus_socket = inet:99999@127.0.0.1\n", "config: [milter] status_socket: ",
	    "port 1..65535" },
	{ "[milter]\nstatus_socket = inet:9100@mail.example.com\n",
	    "config: [milter] status_socket: ", "not a numeric IPv4 address or localhost" },
	{ "[milter]\nstatus_socket = tcp:9100\n", "config: [milter] status_socket: ",
	    "not unix:/path or inet:PORT@HOST" },
	{ "[milter]\nstatus_socket = unix:run/status.sock\n", "config: [milter] status_socket: ",
	    "not an absolute path" },
	{ "[milter]\ndrain_seconds = 4000\n", "config: [milter] drain_seconds: ", "out of range" },
};

START_TEST(test_error)
{
	struct moat_conf *c = NULL;
	char *err = NULL;
	int rc = conf_load_data(&c, &err, bad_cases[_i].text, strlen(bad_cases[_i].text));

	ck_assert_int_eq(rc, MOAT_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(g_str_has_prefix(err, bad_cases[_i].where), "'%s' does not start with '%s'",
	    err, bad_cases[_i].where);
	ck_assert_msg(strstr(err, bad_cases[_i].why) != NULL, "'%s' lacks '%s'", err,
	    bad_cases[_i].why);
	ck_assert_ptr_null(strchr(err, '\n'));	/* one line for the log */
	g_free(err);
}
END_TEST

/* [milter] status_socket: off, unix, or loopback TCP only; drain_seconds */
START_TEST(test_status_socket)
{
	static const char *const ok[] = {
		"", "unix:/run/moat/status.sock", "local:/tmp/s", "inet:9100@127.0.0.1",
		"inet:9100@127.1.2.3", "inet:9100@localhost", "inet6:9100@::1", "inet6:9100@localhost",
	};
	struct moat_conf *c = conf_new_defaults();

	ck_assert_str_eq(c->milter.status_socket, "unix:/run/moat/status.sock");
	ck_assert_uint_eq(c->milter.drain_seconds, 30);
	conf_free(c);
	for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autofree char *text = g_strdup_printf("[milter]\nstatus_socket = %s\n"
		    "drain_seconds = 0\n", ok[i]);

		c = t_conf_load(text);
		ck_assert_str_eq(c->milter.status_socket, ok[i]);
		ck_assert_uint_eq(c->milter.drain_seconds, 0);
		conf_free(c);
	}
}
END_TEST

START_TEST(test_scores)
{
	struct moat_conf *c = t_conf_load("[scores]\nattach.disk_image = 12\nname.conflict = off\n"
	    "mime.malformed = -2\nmime.tnef = OFF\nattach.onenote = 0\n");

	ck_assert_uint_eq(g_hash_table_size(c->scores), 5);
	ck_assert_int_eq(conf_finding_score(c, "attach.disk_image", 6), 12);
	ck_assert_int_eq(conf_finding_score(c, "name.conflict", 3), CONF_SCORE_OFF);
	ck_assert_int_eq(conf_finding_score(c, "mime.tnef", 1), CONF_SCORE_OFF);
	ck_assert_int_eq(conf_finding_score(c, "mime.malformed", 1), -2);
	ck_assert_int_eq(conf_finding_score(c, "attach.onenote", 6), 0);
	/* not overridden: the caller's default */
	ck_assert_int_eq(conf_finding_score(c, "attach.script", 8), 8);
	ck_assert_int_eq(conf_finding_score(NULL, "attach.script", 8), 8);
	/* thresholds are untouched by [scores] */
	ck_assert_int_eq(c->policy.tag_score, 5);
	conf_free(c);
}
END_TEST

START_TEST(test_shipped_conf)
{
	g_autofree char *path = g_build_filename(SAMPLES_DIR, "..", "conf", "moat.conf", NULL);
	struct moat_conf *def = conf_new_defaults();
	struct moat_conf *c = NULL;
	char *err = NULL;

	/* Its comment says: "the values below are the built-in defaults". */
	if (conf_load(&c, &err, path, FALSE) != 0)
		ck_abort_msg("%s", err);
	conf_assert_equal(c, def);
	ck_assert_str_eq(c->path, path);
	conf_free(c);
	conf_free(def);
}
END_TEST

/* Files: one temporary directory per test case, removed with what is in it. */
static char *tmp_dir;

static void
tmp_setup(void)
{
	tmp_dir = g_dir_make_tmp("moat-conf-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
}

static void
tmp_teardown(void)
{
	GDir *d = g_dir_open(tmp_dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(tmp_dir, name, NULL);

		g_unlink(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	tmp_dir = NULL;
}

START_TEST(test_missing_file)
{
	g_autofree char *missing = g_build_filename(tmp_dir, "absent.conf", NULL);
	struct moat_conf *def = conf_new_defaults();
	struct moat_conf *c = NULL;
	char *err = NULL;

	ck_assert_int_eq(conf_load(&c, &err, missing, TRUE), 0);
	ck_assert_ptr_null(err);
	conf_assert_equal(c, def);
	ck_assert_ptr_null(c->path);	/* nothing was read */
	conf_free(c);
	c = NULL;

	ck_assert_int_eq(conf_load(&c, &err, missing, FALSE), MOAT_EIO);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(g_str_has_prefix(err, missing), "'%s' does not name %s", err, missing);
	g_free(err);
	conf_free(def);
}
END_TEST

START_TEST(test_real_file)
{
	g_autofree char *path = g_build_filename(tmp_dir, "moat.conf", NULL);
	struct moat_conf *c = NULL;
	char *err = NULL;

	ck_assert(g_file_set_contents(path, "[limits]\nmax_depth = 7\n"
	    "[scores]\nattach.script = off\n", -1, NULL));
	ck_assert_int_eq(conf_load(&c, &err, path, FALSE), 0);
	ck_assert_uint_eq(c->limits.max_depth, 7);
	ck_assert_int_eq(conf_finding_score(c, "attach.script", 8), CONF_SCORE_OFF);
	ck_assert_str_eq(c->path, path);
	conf_free(c);
	c = NULL;

	/* a present but bad file is an error even when a missing one would not be */
	ck_assert(g_file_set_contents(path, "[limits]\nmax_depth = x\n", -1, NULL));
	ck_assert_int_eq(conf_load(&c, &err, path, TRUE), MOAT_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_msg(g_str_has_prefix(err, path), "'%s' does not name the file", err);
	ck_assert_ptr_nonnull(strstr(err, "[limits] max_depth: not a number: 'x'"));
	g_free(err);
}
END_TEST

/* conf_print writes a file that loads back to the same config. */
static const char *const print_cases[] = {
	"",
	"[limits]\nmax_parts = 77\nmax_decoded_bytes = 3G\nmax_message_bytes = 1k\n"
	    "[policy]\ntag_score = 1\nquarantine_score = 1\nreject_score = 40\n",
	"[scores]\nname.conflict = off\nattach.onenote = 9\nmime.malformed = -2\n"
	    "attach.executable = 0\n",
	"[limits]\nmax_header_bytes = 998\n[policy]\nreject_score = 100000\n"
	    "[scores]\nmime.tnef = OFF\ntype.mismatch = 1000\n",
	/* escapes in strings (found by fuzz_conf): printed escaped, read back the same */
	"[milter]\nstatus_socket = unix:/run/x\\nwhile\\t \\\\ y\n"
	    "[policy]\nsubject_tag = [A\\rB]\n[av]\nsignature_dirs = /a b;\\\\c\n",
};

START_TEST(test_print_round_trip)
{
	struct moat_conf *c = t_conf_load(print_cases[_i]);
	struct moat_conf *again;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *fp = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(fp);
	conf_print(c, fp);
	ck_assert_int_eq(fclose(fp), 0);
	again = t_conf_load(text);
	conf_assert_equal(again, c);

	/* and printing the reloaded config gives the same text */
	fp = open_memstream(&text2, &len2);
	ck_assert_ptr_nonnull(fp);
	conf_print(again, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_str_eq(text2, text);

	conf_free(again);
	conf_free(c);
	free(text);
	free(text2);
}
END_TEST

START_TEST(test_print_every_key)
{
	struct moat_conf *c = conf_new_defaults();
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	static const char *const lines[] = {
		"[limits]", "max_message_bytes = 12582912", "max_parts = 1000",
		"max_depth = 30", "max_decoded_bytes = 33554432",
		"max_header_bytes = 65536", "[policy]", "tag_score = 5",
		"quarantine_score = 10", "reject_score = 20", "[scores]",
	};

	conf_print(c, fp);
	ck_assert_int_eq(fclose(fp), 0);
	for (gsize i = 0; i < G_N_ELEMENTS(lines); i++)
		t_assert_line(text, "%s", lines[i]);
	conf_free(c);
	free(text);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("values");
	TCase *tf = tcase_create("files");
	TCase *tp = tcase_create("print");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_file_is_defaults);
	tcase_add_loop_test(tc, test_value, 0, G_N_ELEMENTS(value_cases));
	tcase_add_test(tc, test_several_values);
	tcase_add_loop_test(tc, test_error, 0, G_N_ELEMENTS(bad_cases));
	tcase_add_test(tc, test_scores);
	tcase_add_test(tc, test_status_socket);
	suite_add_tcase(s, tc);

	/* unchecked: the directory is removed even when a test fails */
	tcase_add_unchecked_fixture(tf, tmp_setup, tmp_teardown);
	tcase_add_test(tf, test_missing_file);
	tcase_add_test(tf, test_real_file);
	tcase_add_test(tf, test_shipped_conf);
	suite_add_tcase(s, tf);

	tcase_add_loop_test(tp, test_print_round_trip, 0, G_N_ELEMENTS(print_cases));
	tcase_add_test(tp, test_print_every_key);
	suite_add_tcase(s, tp);
	return s;
}
