/*
 * check_lookalike.c - look-alike From domains and display names (lookalike.c)
 *
 * Each case builds a report by hand (From, recipients, a DMARC result) and
 * runs lookalike_check() under an [auth] snippet. The false-positive check
 * runs it over ham-spamassassin's easy_ham with each mail's To and Cc
 * domains as the protected set (the default: no protected_domains) and
 * prints how many were flagged; skipped when the corpus is absent.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "checks.h"
#include "helpers.h"
#include "moat/auth.h"
#include "moat/conf.h"
#include "moat/dmarc.h"
#include "moat/lookalike.h"
#include "moat/report.h"

#define HAM_DIR TESTDATA_DIR "/ham-spamassassin/easy_ham"
#define HAM_MAX_PER_MILLE 5	/* at most 0.5% of ham flagged */

#define LA_CONF "[auth]\nprotected_domains = example.com; partner.org; paypal.com; gmx.com\n" \
	"protected_names = Jane Doe; Payroll ;;\n"

/* la_report - a report from FROM_NAME <FROM_ADDR> to RCPT (';'-separated, or NULL) */
static struct moat_report *
la_report(const char *from_name, const char *from_addr, const char *rcpt, enum auth_result dmarc)
{
	struct moat_report *rep = report_new();

	rep->hdr.from_name = g_strdup(from_name);
	rep->hdr.from_addr = g_strdup(from_addr);
	if (rcpt != NULL) {
		g_auto(GStrv) v = g_strsplit(rcpt, ";", -1);

		for (guint i = 0; v[i] != NULL; i++)
			g_ptr_array_add(rep->env.rcpt_to, g_strdup(v[i]));
	}
	rep->auth = g_new0(struct moat_auth, 1);
	rep->auth->dmarc.result = dmarc;
	return rep;
}

/* la_free - REP and its auth results (report_free() releases rep->auth) */
static void
la_free(struct moat_report *rep)
{
	report_free(rep);
}

/* la_run - the evidence of finding ID after lookalike_check() on FROM under
 * CONF_TEXT, or NULL when there is none; caller g_free()s */
static char *
la_run(const char *conf_text, const char *from_name, const char *from_addr, const char *rcpt,
    enum auth_result dmarc, const char *id)
{
	struct moat_conf *conf = t_conf_load(conf_text);
	struct moat_report *rep = la_report(from_name, from_addr, rcpt, dmarc);
	const struct moat_finding *f;
	char *ev;

	lookalike_check(rep, conf);
	f = report_has_finding(rep, id);
	ev = f != NULL ? g_strdup(f->evidence) : NULL;
	ck_assert_uint_le(rep->findings->len, 2);
	la_free(rep);
	conf_free(conf);
	return ev;
}

/* Look-alike domains under LA_CONF: the From address and the evidence, or NULL for none. */
static const struct {
	const char *from;
	const char *evidence;
} la_domains[] = {
	{ "service@paypa1.com", "From domain paypa1.com imitates paypal.com (look-alike letters)" },
	{ "a@exarnple.com", "From domain exarnple.com imitates example.com (look-alike letters)" },
	{ "a@exampel.com", "From domain exampel.com imitates example.com (letters swapped)" },
	{ "a@exanple.com", "From domain exanple.com imitates example.com (one letter off)" },
	{ "a@partnre.org", "From domain partnre.org imitates partner.org (letters swapped)" },
	{ "a@paypai.com", "From domain paypai.com imitates paypal.com (one letter off)" },
	/* Cyrillic а (U+0430), as an A-label and as UTF-8 */
	{ "a@xn--exmple-4nf.com", "From domain ex\xd0\xb0mple.com imitates example.com "
	    "(mixed scripts: Latin with Cyrillic)" },
	{ "a@ex\xd0\xb0mple.com", "From domain ex\xd0\xb0mple.com imitates example.com "
	    "(mixed scripts: Latin with Cyrillic)" },
	{ "a@XN--EXMPLE-4NF.COM", "From domain ex\xd0\xb0mple.com imitates example.com "
	    "(mixed scripts: Latin with Cyrillic)" },
	/* all Cyrillic: раураl is р а у р а l, with a Latin l */
	{ "a@xn--l-7sba6dbr.com", "From domain \xd1\x80\xd0\xb0\xd1\x83\xd1\x80\xd0\xb0l.com "
	    "imitates paypal.com (mixed scripts: Latin with Cyrillic)" },
	{ "a@p\xc3\xa4ypal.com", "From domain p\xc3\xa4ypal.com imitates paypal.com "
	    "(accented letters)" },
	{ "a@\xce\xb5xample.com", "From domain \xce\xb5xample.com imitates example.com "
	    "(mixed scripts: Latin with Greek)" },
	{ "a@ex-ample.com", "From domain ex-ample.com imitates example.com (hyphen added)" },
	{ "a@partn-er.org", "From domain partn-er.org imitates partner.org (hyphen added)" },
	{ "a@example-secure.com", "From domain example-secure.com imitates example.com "
	    "(lure word added)" },
	{ "a@payroll-example.net", "From domain payroll-example.net imitates example.com "
	    "(lure word added)" },
	{ "a@example-news.com", NULL },		/* not a lure word */
	{ "a@hr-example.com", "From domain hr-example.com imitates example.com (lure word added)" },
	{ "a@example.co", "From domain example.co imitates example.com (TLD swap)" },
	{ "a@example.net", "From domain example.net imitates example.com (TLD swap)" },
	{ "a@partner.com", "From domain partner.com imitates partner.org (TLD swap)" },
	{ "a@example.com", NULL },
	{ "a@EXAMPLE.COM.", NULL },
	{ "a@mail.example.com", NULL },
	{ "a@a.b.partner.org", NULL },
	{ "a@gmx.de", NULL },		/* three letters: too short for any rule */
	{ "a@gmx.net", NULL },
	{ "a@gmail.com", NULL },
	{ "a@google.com", NULL },
	{ "a@sample.com", NULL },
	{ "a@examples.org", "From domain examples.org imitates example.com (one letter off)" },
	{ "a@exemplary.com", NULL },
	{ "a@partners-united.org", NULL },
	{ "a@apple.com", NULL },
	{ "a@localhost", NULL },
	{ "no-at-sign", NULL },
	{ "a@", NULL },
};

START_TEST(test_domains)
{
	g_autofree char *ev = la_run(LA_CONF, NULL, la_domains[_i].from, "u@example.com",
	    AUTH_NONE, "auth.lookalike_domain");

	if (la_domains[_i].evidence == NULL)
		ck_assert_msg(ev == NULL, "%s: unexpected finding: %s", la_domains[_i].from, ev);
	else
		ck_assert_msg(ev != NULL && strcmp(ev, la_domains[_i].evidence) == 0,
		    "%s: want '%s', got '%s'", la_domains[_i].from, la_domains[_i].evidence,
		    ev != NULL ? ev : "(none)");
}
END_TEST

START_TEST(test_trusted)
{
	const char *conf = LA_CONF "trusted_domains = example.net; partner.com\n";
	g_autofree char *net = la_run(conf, NULL, "a@example.net", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *sub = la_run(conf, NULL, "a@mail.partner.com", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *co = la_run(conf, NULL, "a@example.co", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *name = la_run(conf, "Jane Doe", "jane@example.net", NULL, AUTH_NONE,
	    "auth.display_name");

	ck_assert_ptr_null(net);
	ck_assert_ptr_null(sub);
	ck_assert_ptr_nonnull(co);
	ck_assert_ptr_null(name);		/* a trusted sibling may use the names */
}
END_TEST

/* No list configured: the recipients' domains are protected. */
START_TEST(test_recipients)
{
	g_autofree char *rn = la_run("", NULL, "a@exarnple.com", "bob@example.com;x@other.test",
	    AUTH_NONE, "auth.lookalike_domain");
	g_autofree char *other = la_run("", NULL, "a@0ther.test", "bob@example.com;<x@other.test>",
	    AUTH_NONE, "auth.lookalike_domain");
	g_autofree char *none = la_run("", NULL, "a@exarnple.com", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	/* both sister domains receive: the sender is one of them, DMARC vouches */
	g_autofree char *pass = la_run("", NULL, "a@example.com", "bob@example.com;c@examples.com",
	    AUTH_PASS, "auth.lookalike_domain");
	/* without DMARC a recipient domain proves nothing: the sender chose it */
	g_autofree char *fail = la_run("", NULL, "a@example.com", "bob@example.com;c@examples.com",
	    AUTH_FAIL, "auth.lookalike_domain");
	/* a recipient's namesake under another suffix is a sister or a stranger,
	 * not a look-alike (python.net writes to python.org lists) */
	g_autofree char *sister = la_run("", NULL, "a@python.net", "bob@python.org", AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *sister_uk = la_run("", NULL, "a@example.co.uk", "bob@example.org",
	    AUTH_FAIL, "auth.lookalike_domain");
	/* a configured protected domain is never a look-alike of another one */
	g_autofree char *conf = la_run("[auth]\nprotected_domains = example.com; example.co\n",
	    NULL, "a@example.com", NULL, AUTH_FAIL, "auth.lookalike_domain");

	/* mailbox providers' recipients protect nothing, unless configured */
	g_autofree char *fr = la_run("", NULL, "a@hotmail.fr", "bob@hotmail.com", AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *mail = la_run("", NULL, "a@mail.com", "bob@gmail.com", AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *shown = la_run("", "bob@gmail.com via List", "list@lists.example.org",
	    "bob@gmail.com", AUTH_NONE, "auth.display_name");
	g_autofree char *fr_conf = la_run("[auth]\nprotected_domains = hotmail.com\n", NULL,
	    "a@hotmail.fr", NULL, AUTH_NONE, "auth.lookalike_domain");

	ck_assert_ptr_null(fr);
	ck_assert_ptr_null(mail);
	ck_assert_ptr_null(shown);
	ck_assert_str_eq(fr_conf, "From domain hotmail.fr imitates hotmail.com (TLD swap)");
	ck_assert_str_eq(rn, "From domain exarnple.com imitates example.com (look-alike letters)");
	ck_assert_str_eq(other, "From domain 0ther.test imitates other.test (look-alike letters)");
	ck_assert_ptr_null(none);
	ck_assert_ptr_null(pass);
	ck_assert_str_eq(fail, "From domain example.com imitates examples.com (one letter off)");
	ck_assert_ptr_null(sister);
	ck_assert_ptr_null(sister_uk);
	ck_assert_ptr_null(conf);
}
END_TEST

/* Display names under LA_CONF: name, From address, evidence or NULL. */
static const struct {
	const char *name;
	const char *from;
	const char *evidence;
} la_names[] = {
	{ "Jane Doe", "jane@gmail.com",
	    "display name \"Jane Doe\" is protected, From jane@gmail.com is outside" },
	{ "JANE  DOE (via Docs)", "x@evil.test",
	    "display name \"JANE  DOE (via Docs)\" is protected, From x@evil.test is outside" },
	{ "J\xd0\xb0ne Doe", "x@evil.test",	/* Cyrillic а */
	    "display name \"J\xd0\xb0ne Doe\" is protected, From x@evil.test is outside" },
	{ "Ja<U+200B>ne Doe", "x@evil.test",	/* as report_clean_text() shows U+200B */
	    "display name \"Ja<U+200B>ne Doe\" is protected, From x@evil.test is outside" },
	{ "payroll", "x@evil.test",
	    "display name \"payroll\" is protected, From x@evil.test is outside" },
	{ "ceo@example.com", "x@evil.test",
	    "display name shows ceo@example.com, From is x@evil.test" },
	{ "\"CEO\" <ceo@Mail.Example.com>", "x@evil.test",
	    "display name shows ceo@mail.example.com, From is x@evil.test" },
	{ "ceo@exa<U+200B>mple.com.", "x@evil.test",
	    "display name shows ceo@example.com, From is x@evil.test" },
	{ "Jane Doe", "jane@example.com", NULL },	/* inside */
	{ "Jane Doe", "jane@mail.partner.org", NULL },
	{ "ceo@example.com", "ceo@example.com", NULL },
	{ "bob@gmail.com", "x@evil.test", NULL },	/* not a protected domain */
	{ "Jane Doerr", "x@evil.test", NULL },	/* whole words only */
	{ "Janet Doe", "x@evil.test", NULL },
	{ "Payrolls Inc", "x@evil.test", NULL },
	{ "Bob Smith", "bob@evil.test", NULL },
	{ "", "x@evil.test", NULL },
	{ NULL, "x@evil.test", NULL },
	{ "Jane Doe", NULL, NULL },
};

START_TEST(test_names)
{
	g_autofree char *ev = la_run(LA_CONF, la_names[_i].name, la_names[_i].from, NULL,
	    AUTH_NONE, "auth.display_name");

	if (la_names[_i].evidence == NULL)
		ck_assert_msg(ev == NULL, "%s: unexpected finding: %s", la_names[_i].name, ev);
	else
		ck_assert_msg(ev != NULL && strcmp(ev, la_names[_i].evidence) == 0,
		    "%s: want '%s', got '%s'", la_names[_i].name, la_names[_i].evidence,
		    ev != NULL ? ev : "(none)");
}
END_TEST

/* Recipients as the protected set: the shown-address rule applies, names need a list. */
START_TEST(test_names_recipients)
{
	g_autofree char *addr = la_run("", "boss@example.com", "x@evil.test", "bob@example.com",
	    AUTH_NONE, "auth.display_name");
	g_autofree char *name = la_run("", "Jane Doe", "x@evil.test", "bob@example.com",
	    AUTH_NONE, "auth.display_name");

	ck_assert_str_eq(addr, "display name shows boss@example.com, From is x@evil.test");
	ck_assert_ptr_null(name);
}
END_TEST

/* la_many - an [auth] snippet protecting N domains aNNNN.test, then example.com */
static char *
la_many(guint n)
{
	GString *text = g_string_new("[auth]\nprotected_domains = ");

	for (guint i = 0; i < n; i++)
		g_string_append_printf(text, "a%04u.test;", i);
	g_string_append(text, "example.com\n");
	return g_string_free(text, FALSE);
}

/* No more than LA_MAX_DOMAINS (1000) protected domains are looked at; labels
 * are at most 63 bytes. */
START_TEST(test_bounds)
{
	g_autofree char *few = la_many(999), *many = la_many(1000);
	g_autofree char *in = la_run(few, NULL, "x@exarnple.com", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *out = la_run(many, NULL, "x@exarnple.com", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *label = g_strnfill(64, 'e');
	g_autofree char *from = g_strdup_printf("x@%s.com", label);
	g_autofree char *name = g_strdup_printf("x@%s.example.com", label);
	g_autofree char *long_label = la_run(LA_CONF, NULL, from, NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	g_autofree char *long_name = la_run(LA_CONF, name, "x@evil.test", NULL, AUTH_NONE,
	    "auth.display_name");

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_null(out);		/* example.com is the 1001st: not compared */
	ck_assert_ptr_null(long_label);
	ck_assert_ptr_null(long_name);
}
END_TEST

/* With the public suffix list the registrable label of a subdomain, or under a
 * two-label suffix, is the one left of the suffix. */
START_TEST(test_org_domains)
{
	struct moat_conf *defaults = conf_new_defaults();
	g_autofree char *err = NULL;
	g_autofree char *sub = NULL, *uk = NULL, *same = NULL;

	if (dmarc_init(defaults->auth.public_suffix_list, &err) != 0) {
		printf("skipped: lookalike/org_domains (%s)\n", err);
		conf_free(defaults);
		return;
	}
	sub = la_run(LA_CONF, NULL, "a@mail.paypai.com", NULL, AUTH_NONE, "auth.lookalike_domain");
	uk = la_run(LA_CONF, NULL, "a@example.co.uk", NULL, AUTH_NONE, "auth.lookalike_domain");
	same = la_run(LA_CONF, NULL, "a@www.example.com", NULL, AUTH_NONE,
	    "auth.lookalike_domain");
	ck_assert_str_eq(sub, "From domain mail.paypai.com imitates paypal.com (one letter off)");
	ck_assert_str_eq(uk, "From domain example.co.uk imitates example.com (TLD swap)");
	ck_assert_ptr_null(same);
	conf_free(defaults);
}
END_TEST

/* la_ham_addrs - the mailboxes of LIST added to OUT (char *) */
static void
la_ham_addrs(GPtrArray *out, InternetAddressList *list)
{
	for (int i = 0; list != NULL && i < internet_address_list_length(list); i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			g_ptr_array_add(out, g_strdup(internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(a))));
	}
}

/* la_ham_clean - a header value as mime.c keeps it: one line, report_clean_text() */
static char *
la_ham_clean(const char *s)
{
	g_autofree char *flat = NULL;

	if (s == NULL)
		return NULL;
	flat = g_strdelimit(g_strdup(s), "\t\r\n", ' ');
	return report_clean_text(flat, -1, 998);
}

/* la_ham_one - lookalike_check() on the mail at PATH; TRUE when it is flagged */
static gboolean
la_ham_one(const char *path, const char *name, const struct moat_conf *conf)
{
	GMimeStream *stream = g_mime_stream_fs_open(path, O_RDONLY, 0644, NULL);
	GMimeParser *parser;
	GMimeMessage *msg;
	struct moat_report *rep;
	InternetAddressList *from;
	gboolean flagged;

	ck_assert_ptr_nonnull(stream);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return FALSE;
	rep = la_report(NULL, NULL, NULL, AUTH_NONE);
	from = g_mime_message_get_from(msg);		/* transfer none */
	if (from != NULL && internet_address_list_length(from) > 0) {
		InternetAddress *first = internet_address_list_get_address(from, 0);

		rep->hdr.from_name = la_ham_clean(internet_address_get_name(first));
		if (INTERNET_ADDRESS_IS_MAILBOX(first))
			rep->hdr.from_addr = la_ham_clean(internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(first)));
	}
	la_ham_addrs(rep->env.rcpt_to, g_mime_message_get_to(msg));
	la_ham_addrs(rep->env.rcpt_to, g_mime_message_get_cc(msg));
	lookalike_check(rep, conf);
	flagged = rep->findings->len > 0;
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		printf("lookalike ham %s: %s: %s\n", name, f->id, f->evidence);
	}
	la_free(rep);
	g_object_unref(msg);
	return flagged;
}

START_TEST(test_ham)
{
	struct moat_conf *conf = conf_new_defaults();
	g_autoptr(GDir) d = g_dir_open(HAM_DIR, 0, NULL);
	const char *name;
	guint count = 0, flagged = 0;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(HAM_DIR, name, NULL);

		if (!g_str_has_suffix(name, ".txt") || strncmp(name, "LICENSE", 7) == 0)
			continue;
		count++;
		flagged += la_ham_one(path, name, conf);
	}
	printf("lookalike ham: %u mails, %u flagged\n", count, flagged);
	ck_assert_uint_gt(count, 0);
	ck_assert_msg(flagged * 1000 <= count * HAM_MAX_PER_MILLE, "%u of %u ham flagged",
	    flagged, count);
	conf_free(conf);
}
END_TEST

Suite *
lookalike_suite(void)
{
	Suite *s = suite_create("lookalike");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_domains, 0, G_N_ELEMENTS(la_domains));
	tcase_add_test(tc, test_trusted);
	tcase_add_test(tc, test_recipients);
	tcase_add_loop_test(tc, test_names, 0, G_N_ELEMENTS(la_names));
	tcase_add_test(tc, test_names_recipients);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_org_domains);
	if (testdata_have("ham-spamassassin", "lookalike/ham_false_positives"))
		tcase_add_test(tc, test_ham);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
