/*
 * check_policy.c - scores to actions at the threshold boundaries, [scores]
 * overrides and "off", reasons ordered and not duplicated
 */
#include <string.h>

#include "checks.h"
#include "moat/policy.h"

/* A report whose findings are N copies of mime.malformed (score 1 by default). */
static struct moat_report *
report_scoring(int n)
{
	struct moat_report *rep = report_new();

	for (int i = 0; i < n; i++)
		report_add_finding(rep, "mime.malformed", NULL, "warning %d", i);
	return rep;
}

static const struct { int score; enum moat_action action; } threshold_cases[] = {
	{ 0, MOAT_ACCEPT }, { 4, MOAT_ACCEPT }, { 5, MOAT_TAG }, { 9, MOAT_TAG },
	{ 10, MOAT_QUARANTINE }, { 19, MOAT_QUARANTINE }, { 20, MOAT_REJECT }, { 45, MOAT_REJECT },
};

START_TEST(test_thresholds)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = report_scoring(threshold_cases[_i].score);

	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, threshold_cases[_i].score);
	ck_assert_msg(rep->verdict.action == threshold_cases[_i].action, "score %d: %s",
	    threshold_cases[_i].score, report_action_name(rep->verdict.action));
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_overrides)
{
	const char *text = "[scores]\nmime.malformed = 7\nname.conflict = off\n"
	    "[policy]\ntag_score = 3\nquarantine_score = 30\nreject_score = 40\n";
	struct moat_conf *conf = NULL;
	struct moat_report *rep = report_new();
	const struct moat_finding *off;
	char *err = NULL;

	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), 0);
	report_add_finding(rep, "name.conflict", NULL, "filename 'a' but name 'b'");
	report_add_finding(rep, "mime.malformed", NULL, "x");
	report_add_finding(rep, "attach.script", NULL, "extension .js");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, 15);
	ck_assert_int_eq(rep->verdict.action, MOAT_TAG);
	off = report_has_finding(rep, "name.conflict");
	ck_assert(off->off);
	ck_assert_int_eq(off->score, 0);
	ck_assert_uint_eq(rep->verdict.reasons->len, 2);	/* "off" explains nothing */
	ck_assert(g_str_has_prefix(rep->verdict.reasons->pdata[0], "attach.script (8)"));
	ck_assert(g_str_has_prefix(rep->verdict.reasons->pdata[1], "mime.malformed (7)"));
	policy_decide(rep, conf);	/* deciding again does not pile up reasons */
	ck_assert_uint_eq(rep->verdict.reasons->len, 2);
	report_free(rep);
	conf_free(conf);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_loop_test(tc, test_thresholds, 0, G_N_ELEMENTS(threshold_cases));
	tcase_add_test(tc, test_overrides);
	suite_add_tcase(s, tc);
	return s;
}
