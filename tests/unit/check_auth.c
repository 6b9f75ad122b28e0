/*
 * check_auth.c - auth_check() as moatd runs it, through scan_message_opts()
 * with zones for DNS: the findings and verdicts a forged, a good and an
 * unreachable sender give, who is not checked (SMTP AUTH, internal
 * networks), several From addresses, [auth] dmarc_reject; then the
 * Authentication-Results header written and recognised (RFC 8601).
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "checks.h"
#include "moat/auth.h"
#include "moat/dmarc.h"
#include "moat/scan.h"

static SPF_server_t *spf_zone;
static GHashTable *txt_zone;

static void
txt_add(const char *name, const char *txt)
{
	GPtrArray *recs = g_hash_table_lookup(txt_zone, name);

	if (recs == NULL) {
		recs = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(txt_zone, g_strdup(name), recs);
	}
	g_ptr_array_add(recs, g_strdup(txt));
}

static void
spf_add(const char *name, const char *txt)
{
	ck_assert_int_eq(SPF_dns_zone_add_str(spf_zone->resolver, name, ns_t_txt, NETDB_SUCCESS,
	    txt), SPF_E_SUCCESS);
}

static void
zones_setup(void)
{
	char *err = NULL;

	/* the organisational domains come from Debian's list when it is there */
	(void)dmarc_init("/usr/share/publicsuffix/public_suffix_list.dat", &err);
	g_free(err);
	spf_zone = SPF_server_new(SPF_DNS_ZONE, 0);
	ck_assert_ptr_nonnull(spf_zone);
	txt_zone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);
	/* bank.example: strict about its name */
	spf_add("bank.example", "v=spf1 ip4:192.0.2.0/24 -all");
	txt_add("_dmarc.bank.example", "v=DMARC1; p=reject");
	/* shop.example: monitors only */
	spf_add("shop.example", "v=spf1 ip4:192.0.2.0/24 ~all");
	txt_add("_dmarc.shop.example", "v=DMARC1; p=none");
	/* slow.example: its DNS does not answer */
	SPF_dns_zone_add_str(spf_zone->resolver, "slow.example", ns_t_any, TRY_AGAIN, NULL);
	txt_add("_dmarc.slow.example", "TIMEOUT");
}

static void
zones_teardown(void)
{
	SPF_server_free(spf_zone);
	g_hash_table_unref(txt_zone);
}

/* run - REP for MSG sent from CLIENT with MAIL FROM SENDER, checked against the zones */
static struct moat_report *
run(const struct moat_conf *conf, const char *msg, const char *client, const char *sender,
    const char *auth_user)
{
	struct auth_dns dns = { .zone = txt_zone, .spf_zone = spf_zone };
	struct scan_opts opts = { .auth = TRUE, .dns = &dns };
	struct moat_envelope env;
	struct moat_report *rep = NULL;
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));

	report_envelope_init(&env);
	env.client_addr = g_strdup(client);
	env.helo = g_strdup("mx.sender.example");
	env.mail_from = g_strdup(sender);
	env.auth = g_strdup(auth_user);
	g_ptr_array_add(env.rcpt_to, g_strdup("ann@inside.example"));
	ck_assert_int_eq(scan_message_opts(&rep, NULL, s, &env, conf, &opts), 0);
	g_object_unref(s);
	report_envelope_clear(&env);
	ck_assert_ptr_nonnull(rep->auth);
	return rep;
}

static const char FROM_BANK[] =
    "From: Bank <service@bank.example>\r\nTo: ann@inside.example\r\n"
    "Subject: statement\r\nMessage-ID: <1@bank.example>\r\n\r\nYour statement.\r\n";
static const char FROM_SHOP[] =
    "From: Shop <news@shop.example>\r\nTo: ann@inside.example\r\n"
    "Subject: offers\r\n\r\nOffers.\r\n";
static const char FROM_SLOW[] =
    "From: Slow <a@slow.example>\r\nTo: ann@inside.example\r\nSubject: hi\r\n\r\nHi.\r\n";
static const char FROM_TWO[] =
    "From: service@bank.example, other@shop.example\r\nTo: ann@inside.example\r\n"
    "Subject: two\r\n\r\nTwo.\r\n";

START_TEST(test_genuine)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = run(conf, FROM_BANK, "192.0.2.10", "bounce@bank.example", NULL);
	g_autofree char *ar = auth_results_header(rep->auth, &rep->env, "mx.inside.example");

	ck_assert_int_eq(rep->auth->spf_mailfrom.result, AUTH_PASS);
	ck_assert_int_eq(rep->auth->dmarc.result, AUTH_PASS);
	ck_assert(rep->auth->dmarc.spf_aligned);
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	ck_assert_uint_eq(rep->findings->len, 0);
	ck_assert_msg(g_str_has_prefix(ar, "mx.inside.example;\n\tspf=pass"), "%s", ar);
	ck_assert_ptr_nonnull(strstr(ar, "smtp.mailfrom=bounce@bank.example"));
	ck_assert_ptr_nonnull(strstr(ar, "dkim=none"));
	ck_assert_ptr_nonnull(strstr(ar, "dmarc=pass (p=reject dis=none) header.from=bank.example"));
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_forged)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = run(conf, FROM_BANK, "203.0.113.9", "service@bank.example", NULL);

	ck_assert_int_eq(rep->auth->spf_mailfrom.result, AUTH_FAIL);
	ck_assert_int_eq(rep->auth->dmarc.result, AUTH_FAIL);
	ck_assert_str_eq(rep->auth->dmarc.disposition, "reject");
	ck_assert_ptr_nonnull(report_has_finding(rep, "auth.spf_fail"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "auth.dmarc_reject"));
	/* 3 + 8: quarantined, not rejected, while dmarc_reject is off */
	ck_assert_int_eq(rep->verdict.score, 11);
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_dmarc_reject)
{
	static const char text[] = "[auth]\ndmarc_reject = yes\n";
	static const char off[] = "[auth]\ndmarc_reject = yes\n[scores]\nauth.dmarc_reject = off\n";
	struct moat_conf *conf = NULL;
	struct moat_report *rep;

	ck_assert_int_eq(conf_load_data(&conf, NULL, text, sizeof(text) - 1), 0);
	rep = run(conf, FROM_BANK, "203.0.113.9", "service@bank.example", NULL);
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	ck_assert_ptr_nonnull(strstr(rep->verdict.reasons->pdata[0], "DMARC policy of bank.example"));
	report_free(rep);
	/* p=none never rejects */
	rep = run(conf, FROM_SHOP, "203.0.113.9", "news@shop.example", NULL);
	ck_assert_int_eq(rep->auth->dmarc.result, AUTH_FAIL);
	ck_assert_ptr_nonnull(report_has_finding(rep, "auth.dmarc_fail"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "auth.spf_softfail"));
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	report_free(rep);
	conf_free(conf);
	/* the finding switched off: no rejection */
	ck_assert_int_eq(conf_load_data(&conf, NULL, off, sizeof(off) - 1), 0);
	rep = run(conf, FROM_BANK, "203.0.113.9", "service@bank.example", NULL);
	ck_assert_int_ne(rep->verdict.action, MOAT_REJECT);
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_dns_down)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = run(conf, FROM_SLOW, "203.0.113.9", "a@slow.example", NULL);
	const struct moat_finding *f = report_has_finding(rep, "auth.temperror");

	ck_assert_int_eq(rep->auth->spf_mailfrom.result, AUTH_TEMPERROR);
	ck_assert_int_eq(rep->auth->dmarc.result, AUTH_TEMPERROR);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->evidence, "spf mailfrom"));
	ck_assert_ptr_nonnull(strstr(f->evidence, "dmarc"));
	/* a DNS failure neither scores nor holds mail */
	ck_assert_int_eq(rep->verdict.score, 0);
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	ck_assert_uint_gt(rep->auth->dns_timeouts, 0);
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_not_checked)
{
	static const char text[] = "[outbound]\ninternal_networks = 10.0.0.0/8\n";
	struct moat_conf *conf = NULL;
	struct moat_report *rep;
	g_autofree char *ar = NULL;

	ck_assert_int_eq(conf_load_data(&conf, NULL, text, sizeof(text) - 1), 0);
	rep = run(conf, FROM_BANK, "10.1.2.3", "service@bank.example", NULL);
	ck_assert_str_eq(rep->auth->skipped, "internal network");
	ck_assert_ptr_null(rep->auth->spf_mailfrom.identity);
	ck_assert_uint_eq(rep->findings->len, 0);
	report_free(rep);
	rep = run(conf, FROM_BANK, "203.0.113.9", "service@bank.example", "ann");
	ck_assert_str_eq(rep->auth->skipped, "authenticated submission");
	ck_assert_uint_eq(rep->findings->len, 0);
	ar = auth_results_header(rep->auth, &rep->env, "mx");
	ck_assert_str_eq(ar, "mx; auth=pass smtp.auth=ann");
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_from_count)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = run(conf, FROM_TWO, "192.0.2.10", "bounce@bank.example", NULL);

	ck_assert_uint_eq(rep->auth->from_count, 2);
	ck_assert_int_eq(rep->auth->dmarc.result, AUTH_PERMERROR);
	ck_assert_ptr_nonnull(report_has_finding(rep, "auth.from_multiple"));
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_results_ours)
{
	ck_assert(auth_results_ours(" mx.inside.example; spf=pass", "mx.inside.example"));
	ck_assert(auth_results_ours("MX.Inside.Example;spf=pass", "mx.inside.example"));
	ck_assert(auth_results_ours("(forged) mx.inside.example 1; none", "mx.inside.example"));
	ck_assert(auth_results_ours("\"mx.inside.example\"; none", "mx.inside.example"));
	ck_assert(auth_results_ours("\n\tmx.inside.example;\n\tdkim=pass", "mx.inside.example"));
	ck_assert(!auth_results_ours("mx.inside.example.evil; spf=pass", "mx.inside.example"));
	ck_assert(!auth_results_ours("gmail.com; spf=pass smtp.mailfrom=mx.inside.example",
	    "mx.inside.example"));
	ck_assert(!auth_results_ours("", "mx.inside.example"));
	ck_assert(!auth_results_ours("(unclosed comment mx.inside.example", "mx.inside.example"));
}
END_TEST

START_TEST(test_header_escaping)
{
	struct moat_auth a = { 0 };
	struct moat_envelope env;
	struct auth_dkim *d = g_new0(struct auth_dkim, 1);
	g_autofree char *ar = NULL;

	report_envelope_init(&env);
	env.mail_from = g_strdup("\"odd user\"@x.example");
	a.spf_mailfrom.identity = g_strdup("mailfrom");
	a.spf_mailfrom.result = AUTH_FAIL;
	a.spf_mailfrom.reason = g_strdup("a (nested) comment\\ with\r\nbreaks");
	a.dkim = g_ptr_array_new_with_free_func((GDestroyNotify)auth_dkim_free);
	d->result = AUTH_FAIL;
	d->domain = g_strdup("x.example");
	d->reason = g_strdup("body hash did not verify");
	g_ptr_array_add(a.dkim, d);
	ar = auth_results_header(&a, &env, "mx");
	/* one comment, closed, no line breaks but the folds; the odd address quoted */
	ck_assert_ptr_nonnull(strstr(ar, "spf=fail (a _nested_ comment_ with__breaks) "
	    "smtp.mailfrom=\"\\\"odd user\\\"@x.example\""));
	ck_assert_ptr_nonnull(strstr(ar, "dkim=fail (body hash did not verify) header.d=x.example"));
	ck_assert_ptr_nonnull(strstr(ar, "dmarc=none"));
	for (const char *p = ar; *p != '\0'; p++)
		ck_assert(*p != '\r' && (*p != '\n' || p[1] == '\t'));
	auth_spf_clear(&a.spf_mailfrom);
	g_ptr_array_unref(a.dkim);
	report_envelope_clear(&env);
}
END_TEST

START_TEST(test_result_names)
{
	ck_assert_str_eq(auth_result_name(AUTH_NONE), "none");
	ck_assert_str_eq(auth_result_name(AUTH_SOFTFAIL), "softfail");
	ck_assert_str_eq(auth_result_name(AUTH_POLICY), "policy");
	ck_assert_str_eq(auth_result_name(AUTH_PERMERROR), "permerror");
	ck_assert_str_eq(auth_result_name((enum auth_result)99), "none");
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("driver");

	tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
	tcase_add_test(tc, test_genuine);
	tcase_add_test(tc, test_forged);
	tcase_add_test(tc, test_dmarc_reject);
	tcase_add_test(tc, test_dns_down);
	tcase_add_test(tc, test_not_checked);
	tcase_add_test(tc, test_from_count);
	suite_add_tcase(s, tc);
	tc = tcase_create("header");
	tcase_add_test(tc, test_results_ours);
	tcase_add_test(tc, test_header_escaping);
	tcase_add_test(tc, test_result_names);
	suite_add_tcase(s, tc);
	return s;
}
