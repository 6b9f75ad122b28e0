/*
 * check_policy.c - findings to verdict: the total score against the
 * [policy] thresholds at their boundaries, catalogue scores and [scores]
 * overrides, "off" findings kept but not scored or given as reasons,
 * reasons highest score first, and deciding twice giving the same verdict.
 */
#include <string.h>

#include "checks.h"
#include "helpers.h"
#include "moat/moat.h"
#include "moat/policy.h"

#define SEP REPORT_PATH_SEP

/* Totals at and around the thresholds; test_thresholds_one_finding reaches each with one finding. */
static const struct { int score; enum moat_action action; } threshold_cases[] = {
	{ 0, MOAT_ACCEPT }, { 4, MOAT_ACCEPT }, { 5, MOAT_TAG }, { 9, MOAT_TAG },
	{ 10, MOAT_QUARANTINE }, { 19, MOAT_QUARANTINE }, { 20, MOAT_REJECT }, { 45, MOAT_REJECT },
};

/* An id counts once per message, with its highest score; every instance stays in the report. */
START_TEST(test_same_id_counts_once)
{
	struct moat_conf *conf = t_conf_load("[scores]\nmime.malformed = 1\n");
	struct moat_report *rep = report_new();
	int n = threshold_cases[_i].score;

	for (int i = 0; i < n; i++)
		report_add_finding(rep, "mime.malformed", NULL, "warning %d", i);
	report_add_finding(rep, "attach.executable", NULL, "first");
	report_add_finding(rep, "attach.executable", NULL, "second");
	policy_decide(rep, conf);
	ck_assert_uint_eq(rep->findings->len, (guint)n + 2);
	ck_assert_int_eq(rep->verdict.score, 10 + (n > 0 ? 1 : 0));
	ck_assert_uint_eq(rep->verdict.reasons->len, n > 0 ? 2 : 1);
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	for (guint i = 0; i < rep->findings->len; i++)
		ck_assert_int_gt(((struct moat_finding *)rep->findings->pdata[i])->score, 0);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* The same boundaries with one finding whose score is set in [scores]. */
START_TEST(test_thresholds_one_finding)
{
	g_autofree char *text = g_strdup_printf("[scores]\nattach.script = %d\n",
	    threshold_cases[_i].score);
	struct moat_conf *conf = t_conf_load(text);
	struct moat_report *rep = report_new();

	report_add_finding(rep, "attach.script", NULL, "extension .js");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, threshold_cases[_i].score);
	ck_assert_int_eq(rep->verdict.action, threshold_cases[_i].action);
	ck_assert_int_eq(((struct moat_finding *)rep->findings->pdata[0])->score,
	    threshold_cases[_i].score);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* Thresholds from [policy] replace the defaults. */
static const struct { int score; enum moat_action action; } custom_cases[] = {
	{ 2, MOAT_ACCEPT }, { 3, MOAT_TAG }, { 29, MOAT_TAG }, { 30, MOAT_QUARANTINE },
	{ 39, MOAT_QUARANTINE }, { 40, MOAT_REJECT },
};

START_TEST(test_custom_thresholds)
{
	g_autofree char *text = g_strdup_printf("[policy]\ntag_score = 3\nquarantine_score = 30\n"
	    "reject_score = 40\n[scores]\nattach.executable = %d\n", custom_cases[_i].score);
	struct moat_conf *conf = t_conf_load(text);
	struct moat_report *rep = report_new();

	report_add_finding(rep, "attach.executable", NULL, "x");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, custom_cases[_i].score);
	ck_assert_int_eq(rep->verdict.action, custom_cases[_i].action);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* Without overrides each finding scores its catalogue default, and they add up. */
START_TEST(test_default_scores)
{
	static const char *const ids[] = { "name.double_extension", "attach.executable",
	    "type.mismatch" };
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = report_new();
	gint sum = 0;
	enum moat_action want;

	for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
		report_add_finding(rep, ids[i], NULL, "x");
		sum += report_kind_lookup(ids[i])->score;
	}
	policy_decide(rep, conf);
	for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		ck_assert_int_eq(f->score, f->kind->score);
		ck_assert(!f->off);
	}
	want = sum >= 20 ? MOAT_REJECT : sum >= 10 ? MOAT_QUARANTINE : sum >= 5 ? MOAT_TAG :
	    MOAT_ACCEPT;
	ck_assert_int_eq(rep->verdict.score, sum);
	ck_assert_int_eq(rep->verdict.action, want);
	ck_assert_uint_eq(rep->verdict.reasons->len, G_N_ELEMENTS(ids));
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_off)
{
	struct moat_conf *conf = t_conf_load("[scores]\nname.conflict = off\n");
	struct moat_report *rep = report_new();
	const struct moat_finding *off;
	gint script = report_kind_lookup("attach.script")->score;

	report_add_finding(rep, "name.conflict", NULL, "filename 'a' but name 'b'");
	report_add_finding(rep, "attach.script", NULL, "extension .js");
	policy_decide(rep, conf);
	ck_assert_uint_eq(rep->findings->len, 2);	/* kept in the report */
	off = report_has_finding(rep, "name.conflict");
	ck_assert(off->off);
	ck_assert_int_eq(off->score, 0);
	ck_assert(!report_has_finding(rep, "attach.script")->off);
	ck_assert_int_eq(rep->verdict.score, script);
	ck_assert_uint_eq(rep->verdict.reasons->len, 1);	/* "off" explains nothing */
	for (guint i = 0; i < rep->verdict.reasons->len; i++)
		ck_assert_msg(strstr(rep->verdict.reasons->pdata[i], "name.conflict") == NULL,
		    "reason '%s'", (const char *)rep->verdict.reasons->pdata[i]);
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_all_off)
{
	struct moat_conf *conf = t_conf_load("[scores]\nattach.executable = off\n");
	struct moat_report *rep = report_new();

	report_add_finding(rep, "attach.executable", NULL, "x");
	report_add_finding(rep, "attach.executable", NULL, "y");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, 0);
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	ck_assert_uint_eq(rep->verdict.reasons->len, 0);
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_negative_score)
{
	struct moat_conf *conf = t_conf_load("[scores]\nmime.malformed = -3\nattach.script = 7\n");
	struct moat_report *rep = report_new();

	report_add_finding(rep, "mime.malformed", NULL, "x");
	report_add_finding(rep, "attach.script", NULL, "y");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, 4);
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* Findings added lowest score first; reasons come out highest first, ties by id. */
static struct moat_report *
order_report(void)
{
	static const char *const ids[] = { "mime.malformed", "name.conflict", "type.mismatch",
	    "name.double_extension", "attach.script", "attach.executable" };
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();

	g_ptr_array_add(path, "docs.zip");
	g_ptr_array_add(path, "a.pdf.exe");
	for (gsize i = 0; i < G_N_ELEMENTS(ids); i++)
		report_add_finding(rep, ids[i], i == 0 ? NULL : path, "x");
	g_ptr_array_unref(path);
	return rep;
}

static const char *const order_want[] = {
	"attach.executable (10): docs.zip" SEP "a.pdf.exe",
	"attach.script (8): docs.zip" SEP "a.pdf.exe",
	"name.double_extension (8): docs.zip" SEP "a.pdf.exe",
	"type.mismatch (4): docs.zip" SEP "a.pdf.exe",
	"name.conflict (3): docs.zip" SEP "a.pdf.exe",
	"mime.malformed (1)",	/* the message itself: no path */
};

#define ORDER_CONF_BUT_EXE "[scores]\nmime.malformed = 1\nname.conflict = 3\n" \
	"type.mismatch = 4\nname.double_extension = 8\nattach.script = 8\n"
#define ORDER_CONF ORDER_CONF_BUT_EXE "attach.executable = 10\n"

START_TEST(test_reasons_order)
{
	struct moat_conf *conf = t_conf_load(ORDER_CONF);
	struct moat_report *rep = order_report();

	policy_decide(rep, conf);
	ck_assert_uint_eq(rep->verdict.reasons->len, G_N_ELEMENTS(order_want));
	for (gsize i = 0; i < G_N_ELEMENTS(order_want); i++)
		ck_assert_str_eq(rep->verdict.reasons->pdata[i], order_want[i]);
	ck_assert_int_eq(rep->verdict.score, 34);
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	/* the findings themselves stay in the order they were found */
	ck_assert_str_eq(((struct moat_finding *)rep->findings->pdata[0])->kind->id,
	    "mime.malformed");
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_decide_again)
{
	struct moat_conf *conf = t_conf_load(ORDER_CONF);
	struct moat_conf *quiet = t_conf_load(ORDER_CONF_BUT_EXE "attach.executable = off\n");
	struct moat_report *rep = order_report();
	const struct moat_finding *exe = report_has_finding(rep, "attach.executable");

	policy_decide(rep, conf);
	policy_decide(rep, conf);	/* no reasons piled up, same verdict */
	ck_assert_uint_eq(rep->verdict.reasons->len, G_N_ELEMENTS(order_want));
	for (gsize i = 0; i < G_N_ELEMENTS(order_want); i++)
		ck_assert_str_eq(rep->verdict.reasons->pdata[i], order_want[i]);
	ck_assert_int_eq(rep->verdict.score, 34);

	policy_decide(rep, quiet);	/* a reload switching one off */
	ck_assert(exe->off);
	ck_assert_int_eq(exe->score, 0);
	ck_assert_int_eq(rep->verdict.score, 24);
	ck_assert_uint_eq(rep->verdict.reasons->len, G_N_ELEMENTS(order_want) - 1);
	ck_assert_str_eq(rep->verdict.reasons->pdata[0], order_want[1]);

	policy_decide(rep, conf);	/* and back on */
	ck_assert(!exe->off);
	ck_assert_int_eq(exe->score, 10);
	ck_assert_int_eq(rep->verdict.score, 34);
	ck_assert_uint_eq(rep->verdict.reasons->len, G_N_ELEMENTS(order_want));
	report_free(rep);
	conf_free(quiet);
	conf_free(conf);
}
END_TEST

START_TEST(test_group_and_action_words)
{
	const char *text = "[scores]\nattach.* = reject\nattach.onenote = 2\nname.conflict = quarantine\n";
	struct moat_conf *conf = t_conf_load(text);
	struct moat_report *rep = report_new();

	ck_assert_int_eq(conf_finding_score(conf, "attach.shortcut", 8), 20);	/* the group */
	ck_assert_int_eq(conf_finding_score(conf, "attach.onenote", 6), 2);	/* exact id wins */
	ck_assert_int_eq(conf_finding_score(conf, "name.conflict", 3), 10);
	ck_assert_int_eq(conf_finding_score(conf, "mime.malformed", 1), 1);
	report_add_finding(rep, "attach.shortcut", NULL, "extension .lnk");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);	/* one finding is enough */
	report_free(rep);
	conf_free(conf);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_loop_test(tc, test_same_id_counts_once, 0, G_N_ELEMENTS(threshold_cases));
	tcase_add_loop_test(tc, test_thresholds_one_finding, 0, G_N_ELEMENTS(threshold_cases));
	tcase_add_loop_test(tc, test_custom_thresholds, 0, G_N_ELEMENTS(custom_cases));
	tcase_add_test(tc, test_default_scores);
	tcase_add_test(tc, test_off);
	tcase_add_test(tc, test_all_off);
	tcase_add_test(tc, test_negative_score);
	tcase_add_test(tc, test_reasons_order);
	tcase_add_test(tc, test_decide_again);
	tcase_add_test(tc, test_group_and_action_words);
	suite_add_tcase(s, tc);
	return s;
}
