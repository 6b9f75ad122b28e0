/*
 * check_conf.c - the config file: defaults, overrides, errors naming
 * "[group] key", [scores], the printed config loading back
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "moat/conf.h"
#include "moat/moat.h"

static struct moat_conf *
load_ok(const char *text)
{
	struct moat_conf *conf = NULL;
	char *err = NULL;

	if (conf_load_data(&conf, &err, text, strlen(text)) != 0)
		ck_abort_msg("unexpected error: %s", err);
	return conf;
}

START_TEST(test_defaults)
{
	struct moat_conf *c = conf_new_defaults();

	ck_assert_int_eq(c->tag_score, 5);
	ck_assert_int_eq(c->quarantine_score, 10);
	ck_assert_int_eq(c->reject_score, 20);
	ck_assert_uint_eq(c->max_parts, 1000);
	ck_assert_uint_eq(c->max_depth, 30);
	ck_assert_uint_eq(c->max_message_bytes, 10240000);
	ck_assert_uint_eq(c->max_decoded_bytes, 64u << 20);
	ck_assert_uint_eq(c->max_header_bytes, 65536);
	ck_assert_ptr_null(c->path);
	conf_free(c);
	conf_free(NULL);
}
END_TEST

START_TEST(test_overrides_and_suffixes)
{
	struct moat_conf *c = load_ok("# comment\n[limits]\nmax_parts = 50\n"
	    "max_decoded_bytes = 2M\nmax_message_bytes = 3k\n[policy]\ntag_score = 3\n");

	ck_assert_uint_eq(c->max_parts, 50);
	ck_assert_uint_eq(c->max_decoded_bytes, 2u << 20);
	ck_assert_uint_eq(c->max_message_bytes, 3072);
	ck_assert_int_eq(c->tag_score, 3);
	ck_assert_int_eq(c->reject_score, 20);	/* untouched keys keep their default */
	conf_free(c);
}
END_TEST

static const struct { const char *text, *want; } bad_cases[] = {
	{ "[limts]\nmax_parts = 3\n", "[limts]: unknown group" },
	{ "[limits]\nmax_prts = 3\n", "[limits] max_prts: unknown key" },
	{ "[limits]\nmax_depth = many\n", "[limits] max_depth: not a number: 'many'" },
	{ "[limits]\nmax_depth = 0\n", "[limits] max_depth: 0 is out of range" },
	{ "[limits]\nmax_parts = -4\n", "[limits] max_parts: -4 is out of range" },
	{ "[limits]\nmax_decoded_bytes = 12X\n", "[limits] max_decoded_bytes: not a size: '12X'" },
	{ "[policy]\ntag_score = 12\n", "[policy] tag_score: must not exceed quarantine_score" },
	{ "[policy]\nreject_score = 8\n", "[policy] quarantine_score: must not exceed reject_score" },
	{ "[scores]\nno.such_finding = 3\n", "[scores] no.such_finding: unknown finding id" },
	{ "[scores]\nattach.script = lots\n", "[scores] attach.script: not a number or 'off'" },
	{ "[scores]\nattach.script = 5000\n", "[scores] attach.script: 5000 is out of range" },
	{ "not a key file\n", "config:" },
};

START_TEST(test_errors_name_group_and_key)
{
	struct moat_conf *c = NULL;
	char *err = NULL;
	int rc = conf_load_data(&c, &err, bad_cases[_i].text, strlen(bad_cases[_i].text));

	ck_assert_int_eq(rc, MOAT_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, bad_cases[_i].want) != NULL, "'%s' lacks '%s'", err,
	    bad_cases[_i].want);
	g_free(err);
}
END_TEST

START_TEST(test_scores)
{
	struct moat_conf *c = load_ok("[scores]\nattach.disk_image = 12\nname.conflict = off\n"
	    "mime.malformed = -2\n");

	ck_assert_int_eq(conf_finding_score(c, "attach.disk_image", 6), 12);
	ck_assert_int_eq(conf_finding_score(c, "name.conflict", 3), CONF_SCORE_OFF);
	ck_assert_int_eq(conf_finding_score(c, "mime.malformed", 1), -2);
	ck_assert_int_eq(conf_finding_score(c, "attach.script", 8), 8);
	conf_free(c);
}
END_TEST

START_TEST(test_files)
{
	g_autofree char *dir = g_dir_make_tmp("moat-conf-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "moat.conf", NULL);
	g_autofree char *missing = g_build_filename(dir, "absent.conf", NULL);
	struct moat_conf *c = NULL;
	char *err = NULL;

	ck_assert_int_eq(conf_load(&c, &err, missing, TRUE), 0);
	ck_assert_uint_eq(c->max_parts, 1000);
	conf_free(c);
	c = NULL;
	ck_assert_int_eq(conf_load(&c, &err, missing, FALSE), MOAT_EIO);
	ck_assert_ptr_nonnull(strstr(err, "absent.conf"));
	g_free(err);
	err = NULL;

	ck_assert(g_file_set_contents(path, "[limits]\nmax_depth = 7\n", -1, NULL));
	ck_assert_int_eq(conf_load(&c, &err, path, FALSE), 0);
	ck_assert_uint_eq(c->max_depth, 7);
	ck_assert_str_eq(c->path, path);
	conf_free(c);
	c = NULL;
	ck_assert(g_file_set_contents(path, "[limits]\nmax_depth = x\n", -1, NULL));
	ck_assert_int_eq(conf_load(&c, &err, path, TRUE), MOAT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, path));	/* the file is named */
	g_free(err);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(test_print_round_trip)
{
	struct moat_conf *c = load_ok("[limits]\nmax_parts = 77\n[policy]\nreject_score = 40\n"
	    "[scores]\nname.conflict = off\nattach.onenote = 9\n");
	struct moat_conf *again;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	conf_print(c, fp);
	fclose(fp);
	again = load_ok(text);
	ck_assert_uint_eq(again->max_parts, 77);
	ck_assert_int_eq(again->reject_score, 40);
	ck_assert_int_eq(conf_finding_score(again, "name.conflict", 3), CONF_SCORE_OFF);
	ck_assert_int_eq(conf_finding_score(again, "attach.onenote", 6), 9);
	conf_free(again);
	conf_free(c);
	free(text);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_overrides_and_suffixes);
	tcase_add_loop_test(tc, test_errors_name_group_and_key, 0, G_N_ELEMENTS(bad_cases));
	tcase_add_test(tc, test_scores);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_print_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
