/*
 * check_spf.c - spf_check() through a libspf2 zone: every result (pass,
 * fail, softfail, neutral, none, permerror, temperror on a timeout), IPv6
 * and IPv4-mapped clients, the HELO identity when MAIL FROM is empty, what
 * is not checked (no HELO, no client address), the SPF RR type ignored
 * (RFC 7208), lookups counted, and the DNS budget: spent before the check
 * (zone and the real resolver) gives temperror without a lookup.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "checks.h"
#include "moat/auth.h"
#include "moat/spf.h"

static SPF_server_t *zone;

static void
zone_txt(const char *name, const char *txt)
{
	ck_assert_int_eq(SPF_dns_zone_add_str(zone->resolver, name, ns_t_txt, NETDB_SUCCESS, txt),
	    SPF_E_SUCCESS);
}

static void
zone_setup(void)
{
	SPF_dns_server_t *z;

	zone = SPF_server_new(SPF_DNS_ZONE, 0);
	ck_assert_ptr_nonnull(zone);
	z = zone->resolver;
	zone_txt("pass.example", "v=spf1 ip4:192.0.2.0/24 -all");
	zone_txt("fail.example", "v=spf1 ip4:198.51.100.1 -all");
	zone_txt("soft.example", "v=spf1 ~all");
	zone_txt("neutral.example", "v=spf1 ?all");
	zone_txt("nospf.example", "some other TXT record");
	zone_txt("syntax.example", "v=spf1 ip4:192.0.2.300 -all");
	zone_txt("v6.example", "v=spf1 ip6:2001:db8::/32 -all");
	zone_txt("a.example", "v=spf1 a -all");
	zone_txt("slow.example", "v=spf1 include:timeout.example -all");
	zone_txt("mail.helo.example", "v=spf1 ip4:192.0.2.25 -all");
	SPF_dns_zone_add_str(z, "a.example", ns_t_a, NETDB_SUCCESS, "192.0.2.80");
	/* only the obsolete SPF type: RFC 7208 reads TXT alone, so none */
	SPF_dns_zone_add_str(z, "type99.example", ns_t_spf, NETDB_SUCCESS, "v=spf1 +all");
	SPF_dns_zone_add_str(z, "timeout.example", ns_t_any, TRY_AGAIN, NULL);
}

static void
zone_teardown(void)
{
	SPF_server_free(zone);
	zone = NULL;
}

/* the result cases, through the zone */
static const struct {
	const char *ip, *helo, *sender;
	enum auth_result want;
	const char *identity, *checked;
} cases[] = {
	{ "192.0.2.7", "mx.pass.example", "a@pass.example", AUTH_PASS, "mailfrom", "a@pass.example" },
	{ "192.0.2.7", "mx.pass.example", "a@fail.example", AUTH_FAIL, "mailfrom", "a@fail.example" },
	{ "192.0.2.7", NULL, "a@soft.example", AUTH_SOFTFAIL, "mailfrom", "a@soft.example" },
	{ "192.0.2.7", NULL, "a@neutral.example", AUTH_NEUTRAL, "mailfrom", "a@neutral.example" },
	{ "192.0.2.7", NULL, "a@nospf.example", AUTH_NONE, "mailfrom", "a@nospf.example" },
	{ "192.0.2.7", NULL, "a@unknown.example", AUTH_NONE, "mailfrom", "a@unknown.example" },
	{ "192.0.2.7", NULL, "a@syntax.example", AUTH_PERMERROR, "mailfrom", "a@syntax.example" },
	{ "192.0.2.7", NULL, "a@slow.example", AUTH_TEMPERROR, "mailfrom", "a@slow.example" },
	{ "192.0.2.7", NULL, "a@timeout.example", AUTH_TEMPERROR, "mailfrom", "a@timeout.example" },
	{ "2001:db8::25", NULL, "a@v6.example", AUTH_PASS, "mailfrom", "a@v6.example" },
	{ "2001:db9::25", NULL, "a@v6.example", AUTH_FAIL, "mailfrom", "a@v6.example" },
	{ "::ffff:192.0.2.7", NULL, "a@pass.example", AUTH_PASS, "mailfrom", "a@pass.example" },
	{ "192.0.2.80", NULL, "a@a.example", AUTH_PASS, "mailfrom", "a@a.example" },
	{ "192.0.2.81", NULL, "a@a.example", AUTH_FAIL, "mailfrom", "a@a.example" },
	{ "192.0.2.7", NULL, "a@type99.example", AUTH_NONE, "mailfrom", "a@type99.example" },
	{ "192.0.2.7", NULL, "pass.example", AUTH_PASS, "mailfrom", "postmaster@pass.example" },
	{ "192.0.2.25", "mail.helo.example", "", AUTH_PASS, "helo", "postmaster@mail.helo.example" },
	{ "192.0.2.26", "mail.helo.example", NULL, AUTH_FAIL, "helo", "postmaster@mail.helo.example" },
	{ "192.0.2.25", "", "", AUTH_NONE, "helo", NULL },
	{ "not-an-ip", "mx.pass.example", "a@pass.example", AUTH_NONE, "mailfrom", "a@pass.example" },
	{ NULL, "mx.pass.example", "a@pass.example", AUTH_NONE, "mailfrom", "a@pass.example" },
};

START_TEST(test_spf_results)
{
	struct auth_dns dns = { .spf_zone = zone };
	struct auth_spf out = { 0 };

	spf_check(&out, &dns, cases[_i].ip, cases[_i].helo, cases[_i].sender);
	ck_assert_msg(out.result == cases[_i].want, "case %d (%s): got %s (%s)", _i,
	    cases[_i].sender ? cases[_i].sender : "(null)", auth_result_name(out.result),
	    out.reason ? out.reason : "");
	ck_assert_str_eq(out.identity, cases[_i].identity);
	if (cases[_i].checked != NULL)
		ck_assert_str_eq(out.sender, cases[_i].checked);
	else
		ck_assert_ptr_null(out.sender);
	if (out.result != AUTH_PASS) {
		ck_assert_ptr_nonnull(out.reason);
		for (const char *p = out.reason; *p != '\0'; p++)
			ck_assert_msg(*p >= 0x20 && *p < 0x7f, "unprintable reason: %s", out.reason);
	}
	auth_spf_clear(&out);
}
END_TEST

START_TEST(test_spf_fields)
{
	struct auth_dns dns = { .spf_zone = zone };
	struct auth_spf out = { 0 };

	spf_check(&out, &dns, "192.0.2.80", "mx.a.example", "Who@A.example");
	ck_assert_int_eq(out.result, AUTH_PASS);
	ck_assert_str_eq(out.domain, "A.example");
	/* the TXT record, then the A of a.example; the SPF type is never asked */
	ck_assert_uint_eq(dns.lookups, 2);
	ck_assert_uint_eq(dns.timeouts, 0);
	auth_spf_clear(&out);

	spf_check(&out, &dns, "192.0.2.7", NULL, "a@timeout.example");
	ck_assert_int_eq(out.result, AUTH_TEMPERROR);
	ck_assert_uint_eq(dns.lookups, 3);
	ck_assert_uint_eq(dns.timeouts, 1);
	auth_spf_clear(&out);

	spf_check(&out, &dns, "192.0.2.7", "", "");
	ck_assert_int_eq(out.result, AUTH_NONE);
	ck_assert_str_eq(out.reason, "no HELO name");
	auth_spf_clear(&out);

	spf_check(&out, &dns, "bogus", NULL, "a@pass.example");
	ck_assert_str_eq(out.reason, "no client address");
	auth_spf_clear(&out);
}
END_TEST

/* a spent budget: no lookup is asked, one timeout is counted */
static void
check_spent(struct auth_dns *dns)
{
	struct auth_spf out = { 0 };
	gint64 t0 = g_get_monotonic_time();

	dns->deadline = t0 - 1;
	spf_check(&out, dns, "192.0.2.7", "mx.pass.example", "a@pass.example");
	ck_assert_int_eq(out.result, AUTH_TEMPERROR);
	ck_assert_str_eq(out.reason, "DNS budget spent");
	ck_assert_str_eq(out.identity, "mailfrom");
	ck_assert_uint_eq(dns->lookups, 0);
	ck_assert_uint_eq(dns->timeouts, 1);
	ck_assert_int_lt(g_get_monotonic_time() - t0, 100000);
	auth_spf_clear(&out);
}

START_TEST(test_spf_budget_zone)
{
	struct auth_dns dns = { .spf_zone = zone };

	check_spent(&dns);
}
END_TEST

/* the production path (libspf2's resolver under the budget layer) asks nothing either */
START_TEST(test_spf_budget_resolver)
{
	struct auth_dns dns = { 0 };

	check_spent(&dns);
}
END_TEST

/* loopback clients get libspf2's free ride, without DNS */
START_TEST(test_spf_loopback)
{
	struct auth_dns dns = { 0 };
	struct auth_spf out = { 0 };

	spf_check(&out, &dns, "127.0.0.1", "localhost", "root@localhost.invalid");
	ck_assert_int_eq(out.result, AUTH_PASS);
	ck_assert_uint_eq(dns.lookups, 0);
	auth_spf_clear(&out);
}
END_TEST

Suite *
spf_suite(void)
{
	Suite *s = suite_create("spf");
	TCase *tc = tcase_create("zone");

	tcase_add_checked_fixture(tc, zone_setup, zone_teardown);
	tcase_add_loop_test(tc, test_spf_results, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_spf_fields);
	tcase_add_test(tc, test_spf_budget_zone);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolver");
	tcase_add_test(tc, test_spf_budget_resolver);
	tcase_add_test(tc, test_spf_loopback);
	suite_add_tcase(s, tc);
	return s;
}
