/*
 * check_dmarc.c - DMARC (RFC 7489) through a test zone: aligned SPF or DKIM
 * pass, both failing, relaxed vs. strict alignment of a subdomain, sp= for
 * subdomains, the organisational domain's record, no record, DNS timeout,
 * two records, junk records, pct=, HELO standing in for an empty MAIL FROM;
 * organisational domains from the system's public suffix list.
 */
#include <string.h>

#include "checks.h"
#include "moat/conf.h"
#include "moat/dmarc.h"

/* one zone entry: "_dmarc.name" and up to three TXT records ("TIMEOUT": times out) */
struct zone_rr {
	const char *name;
	const char *txt[3];
};

static const struct dmarc_case {
	const char *what;
	struct zone_rr zone[3];
	const char *from;
	const char *spf_domain;		/* MAIL FROM's domain, or NULL (empty MAIL FROM) */
	enum auth_result spf;
	const char *helo;		/* HELO's domain, or NULL */
	enum auth_result helo_spf;
	const char *dkim_domain;	/* one signature's d=, or NULL */
	enum auth_result dkim;
	/* expected */
	enum auth_result result;
	const char *policy, *disposition, *org;
	gboolean spf_aligned, dkim_aligned;
	const char *reason;		/* a part of the reason, or NULL */
} cases[] = {
	{ "p=reject, SPF aligned pass",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "example.com", "example.com", AUTH_PASS, NULL, 0, "other.net", AUTH_FAIL,
	  AUTH_PASS, "reject", "none", "example.com", TRUE, FALSE, "SPF" },
	{ "DKIM aligned pass only",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "example.com", "bounce.other.net", AUTH_PASS, NULL, 0, "example.com", AUTH_PASS,
	  AUTH_PASS, "reject", "none", "example.com", FALSE, TRUE, "DKIM" },
	{ "both fail",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "example.com", "example.com", AUTH_FAIL, NULL, 0, "example.com", AUTH_FAIL,
	  AUTH_FAIL, "reject", "reject", "example.com", FALSE, FALSE, NULL },
	{ "DKIM passes for another domain only",
	  { { "_dmarc.example.com", { "v=DMARC1; p=quarantine" } } },
	  "example.com", NULL, 0, NULL, 0, "example.com.evil.net", AUTH_PASS,
	  AUTH_FAIL, "quarantine", "quarantine", "example.com", FALSE, FALSE, NULL },
	{ "relaxed: SPF for a subdomain aligns",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "example.com", "bounce.example.com", AUTH_PASS, NULL, 0, NULL, 0,
	  AUTH_PASS, "reject", "none", "example.com", TRUE, FALSE, NULL },
	/* libopendmarc 1.4.2 calls this aligned; RFC 7489 §3.1.2 does not */
	{ "aspf=s: SPF for a subdomain does not align",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject; aspf=s" } } },
	  "example.com", "bounce.example.com", AUTH_PASS, NULL, 0, NULL, 0,
	  AUTH_FAIL, "reject", "reject", "example.com", FALSE, FALSE, "libopendmarc" },
	{ "adkim=s: DKIM for the parent does not align",
	  { { "_dmarc.news.example.com", { "v=DMARC1; p=reject; adkim=s" } } },
	  "news.example.com", NULL, 0, NULL, 0, "example.com", AUTH_PASS,
	  AUTH_FAIL, "reject", "reject", "example.com", FALSE, FALSE, NULL },
	{ "adkim=s: DKIM for the same name aligns",
	  { { "_dmarc.news.example.com", { "v=DMARC1; p=reject; adkim=s" } } },
	  "News.Example.COM.", NULL, 0, NULL, 0, "news.example.com", AUTH_PASS,
	  AUTH_PASS, "reject", "none", "example.com", FALSE, TRUE, NULL },
	{ "sp= for a subdomain without its own record",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject; sp=quarantine" } } },
	  "mail.example.com", "mail.example.com", AUTH_FAIL, NULL, 0, NULL, 0,
	  AUTH_FAIL, "quarantine", "quarantine", "example.com", FALSE, FALSE, NULL },
	{ "no sp=: a subdomain gets p=",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "mail.example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_FAIL, "reject", "reject", "example.com", FALSE, FALSE, NULL },
	{ "sp= is not for the organisational domain itself",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject; sp=none" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_FAIL, "reject", "reject", "example.com", FALSE, FALSE, NULL },
	{ "the subdomain's own record wins over sp=",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject; sp=reject" } },
	    { "_dmarc.mail.example.com", { "v=DMARC1; p=none" } } },
	  "mail.example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_FAIL, "none", "none", "example.com", FALSE, FALSE, NULL },
	{ "organisational domain's record, relaxed DKIM pass",
	  { { "_dmarc.example.co.uk", { "v=DMARC1; p=reject" } } },
	  "a.news.example.co.uk", NULL, 0, NULL, 0, "example.co.uk", AUTH_PASS,
	  AUTH_PASS, "reject", "none", "example.co.uk", FALSE, TRUE, NULL },
	{ "no record",
	  { { "_dmarc.other.org", { "v=DMARC1; p=reject" } } },
	  "example.com", "example.com", AUTH_FAIL, NULL, 0, NULL, 0,
	  AUTH_NONE, NULL, NULL, "example.com", FALSE, FALSE, "no DMARC record" },
	{ "only other TXT records",
	  { { "_dmarc.example.com", { "v=spf1 -all", "hello" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_NONE, NULL, NULL, "example.com", FALSE, FALSE, NULL },
	{ "timeout",
	  { { "_dmarc.example.com", { "TIMEOUT" } } },
	  "example.com", "example.com", AUTH_PASS, NULL, 0, NULL, 0,
	  AUTH_TEMPERROR, NULL, NULL, "example.com", FALSE, FALSE, "_dmarc.example.com" },
	{ "timeout at the organisational domain",
	  { { "_dmarc.example.com", { "TIMEOUT" } } },
	  "mail.example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_TEMPERROR, NULL, NULL, "example.com", FALSE, FALSE, NULL },
	/* RFC 7489 §6.6.3 step 3: several records, no DMARC (and no fallback) */
	{ "two records",
	  { { "_dmarc.mail.example.com", { "v=DMARC1; p=none", "v=DMARC1; p=reject" } },
	    { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "mail.example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_NONE, NULL, NULL, "example.com", FALSE, FALSE, "several" },
	{ "junk p=",
	  { { "_dmarc.example.com", { "v=DMARC1; p=bob" } } },
	  "example.com", "example.com", AUTH_PASS, NULL, 0, NULL, 0,
	  AUTH_PERMERROR, NULL, NULL, "example.com", FALSE, FALSE, "bad DMARC record" },
	{ "junk pct=",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject; pct=500" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_PERMERROR, NULL, NULL, "example.com", FALSE, FALSE, NULL },
	{ "no p=",
	  { { "_dmarc.example.com", { "v=DMARC1; rua=mailto:d@example.com" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_NONE, NULL, NULL, "example.com", FALSE, FALSE, "no p=" },
	{ "wrong version is not a record",
	  { { "_dmarc.example.com", { "v=DMARC2; p=reject" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_NONE, NULL, NULL, "example.com", FALSE, FALSE, NULL },
	{ "p=none fails with disposition none",
	  { { "_dmarc.example.com", { "v = DMARC1 ; p = none" } } },
	  "example.com", "example.com", AUTH_SOFTFAIL, NULL, 0, NULL, 0,
	  AUTH_FAIL, "none", "none", "example.com", FALSE, FALSE, NULL },
	{ "pct=0: reject becomes quarantine",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject; pct=0" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_FAIL, "reject", "quarantine", "example.com", FALSE, FALSE, "pct=0" },
	{ "pct=0: quarantine becomes none",
	  { { "_dmarc.example.com", { "v=DMARC1; p=quarantine; pct=0" } } },
	  "example.com", NULL, 0, NULL, 0, NULL, 0,
	  AUTH_FAIL, "quarantine", "none", "example.com", FALSE, FALSE, NULL },
	{ "empty MAIL FROM: HELO's SPF stands in",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "example.com", NULL, 0, "mx.example.com", AUTH_PASS, NULL, 0,
	  AUTH_PASS, "reject", "none", "example.com", TRUE, FALSE, NULL },
	{ "MAIL FROM set: HELO's pass does not count",
	  { { "_dmarc.example.com", { "v=DMARC1; p=reject" } } },
	  "example.com", "other.net", AUTH_PASS, "mx.example.com", AUTH_PASS, NULL, 0,
	  AUTH_FAIL, "reject", "reject", "example.com", FALSE, FALSE, NULL },
	{ "a public suffix does not align with a domain under it",
	  { { "_dmarc.example.co.uk", { "v=DMARC1; p=reject" } } },
	  "example.co.uk", "co.uk", AUTH_PASS, NULL, 0, "co.uk", AUTH_PASS,
	  AUTH_FAIL, "reject", "reject", "example.co.uk", FALSE, FALSE, NULL },
};

static void
dmarc_setup(void)
{
	struct moat_conf *conf = conf_new_defaults();
	g_autofree char *err = NULL;

	ck_assert_msg(dmarc_init(conf->auth.public_suffix_list, &err) == 0, "dmarc_init: %s", err);
	conf_free(conf);
}

static GHashTable *
zone_new(const struct zone_rr *rrs, gsize n)
{
	GHashTable *zone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);

	for (gsize i = 0; i < n && rrs[i].name != NULL; i++) {
		GPtrArray *txt = g_ptr_array_new_with_free_func(g_free);

		for (gsize j = 0; j < G_N_ELEMENTS(rrs[i].txt) && rrs[i].txt[j] != NULL; j++)
			g_ptr_array_add(txt, g_strdup(rrs[i].txt[j]));
		g_hash_table_insert(zone, g_strdup(rrs[i].name), txt);
	}
	return zone;
}

START_TEST(test_dmarc_check)
{
	const struct dmarc_case *c = &cases[_i];
	struct auth_dns dns = { 0 };
	struct auth_spf mailfrom = { 0 }, helo = { 0 };
	struct auth_dkim sig = { 0 };
	struct auth_dmarc out = { 0 };
	g_autoptr(GPtrArray) dkim = g_ptr_array_new();

	dns.zone = zone_new(c->zone, G_N_ELEMENTS(c->zone));
	if (c->spf_domain != NULL) {
		mailfrom.identity = (char *)"mailfrom";
		mailfrom.domain = (char *)c->spf_domain;
		mailfrom.result = c->spf;
	}
	if (c->helo != NULL) {
		helo.identity = (char *)"helo";
		helo.domain = (char *)c->helo;
		helo.result = c->helo_spf;
	}
	if (c->dkim_domain != NULL) {
		sig.domain = (char *)c->dkim_domain;
		sig.selector = (char *)"s1";
		sig.result = c->dkim;
		g_ptr_array_add(dkim, &sig);
	}
	dmarc_check(&out, &dns, "192.0.2.7", c->from, &mailfrom, &helo, dkim);
	ck_assert_msg(out.result == c->result, "%s: result %s, want %s (%s)", c->what,
	    auth_result_name(out.result), auth_result_name(c->result), out.reason);
	ck_assert_msg(g_strcmp0(out.policy, c->policy) == 0, "%s: policy %s", c->what, out.policy);
	ck_assert_msg(g_strcmp0(out.disposition, c->disposition) == 0, "%s: disposition %s",
	    c->what, out.disposition);
	ck_assert_msg(g_strcmp0(out.org_domain, c->org) == 0, "%s: org %s", c->what,
	    out.org_domain);
	ck_assert_msg(out.spf_aligned == c->spf_aligned, "%s: spf_aligned", c->what);
	ck_assert_msg(out.dkim_aligned == c->dkim_aligned, "%s: dkim_aligned", c->what);
	ck_assert_pstr_eq(out.from_domain, c->from);
	ck_assert_ptr_nonnull(out.reason);
	if (c->reason != NULL)
		ck_assert_msg(strstr(out.reason, c->reason) != NULL, "%s: reason \"%s\" lacks \"%s\"",
		    c->what, out.reason, c->reason);
	for (const char *p = out.reason; *p != '\0'; p++)
		ck_assert_msg(g_ascii_isprint(*p), "%s: unprintable reason", c->what);
	auth_dmarc_clear(&out);
	g_hash_table_unref(dns.zone);
}
END_TEST

START_TEST(test_dmarc_no_from)
{
	struct auth_dns dns = { 0 };
	struct auth_dmarc out = { 0 };

	/* out starts dirty: dmarc_check() clears it first */
	out.policy = g_strdup("reject");
	dmarc_check(&out, &dns, "192.0.2.7", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(out.result, AUTH_NONE);
	ck_assert_ptr_null(out.policy);
	ck_assert_ptr_nonnull(out.reason);
	dmarc_check(&out, &dns, NULL, "", NULL, NULL, NULL);
	ck_assert_int_eq(out.result, AUTH_NONE);
	dmarc_check(&out, &dns, NULL, "...", NULL, NULL, NULL);
	ck_assert_int_eq(out.result, AUTH_NONE);
	ck_assert_uint_eq(dns.lookups, 0);
	auth_dmarc_clear(&out);
}
END_TEST

static const struct { const char *domain, *org; } org_cases[] = {
	{ "a.b.c.example.com", "example.com" },
	{ "b.com", "b.com" },			/* libopendmarc alone says "com" */
	{ "x.b.com", "b.com" },
	{ "Mail.Example.COM.", "example.com" },
	{ "example.co.uk", "example.co.uk" },
	{ "a.example.co.uk", "example.co.uk" },
	{ "co.uk", "co.uk" },			/* a public suffix stands for itself */
	{ "com", "com" },
	{ "host.example.invalidtld", "host.example.invalidtld" },	/* no rule */
	{ "www.city.kawasaki.jp", "city.kawasaki.jp" },	/* !city.kawasaki.jp */
};

START_TEST(test_dmarc_org_domain)
{
	g_autofree char *org = dmarc_org_domain(org_cases[_i].domain);

	ck_assert_str_eq(org, org_cases[_i].org);
}
END_TEST

START_TEST(test_dmarc_init_once)
{
	g_autofree char *err = NULL;

	/* the first call's list stays; a later path is not read */
	ck_assert_int_eq(dmarc_init("/nonexistent/psl.dat", &err), 0);
	ck_assert_ptr_null(err);
}
END_TEST

Suite *
dmarc_suite(void)
{
	Suite *s = suite_create("dmarc");
	TCase *tc = tcase_create("dmarc");

	tcase_add_checked_fixture(tc, dmarc_setup, NULL);
	tcase_add_loop_test(tc, test_dmarc_check, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_dmarc_no_from);
	tcase_add_loop_test(tc, test_dmarc_org_domain, 0, G_N_ELEMENTS(org_cases));
	tcase_add_test(tc, test_dmarc_init_once);
	suite_add_tcase(s, tc);
	return s;
}
