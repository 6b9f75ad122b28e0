/*
 * check_lists.c - [lists] and [outbound]: networks at their edges (/0, /32,
 * /128, other family, bad prefixes, host bits, IPv4-mapped), domains and
 * subdomains, case, config errors naming the entry, and the policy they
 * drive: blocks score the reject threshold, an allow entry never overrides
 * a block or a virus (av.*), allow_sha256 covers a part and what is inside
 * it but not a namesake, allow_recipients only when every recipient is
 * listed, and outbound mail judged by its own thresholds.
 */
#include <string.h>
#include <sys/socket.h>

#include "checks.h"
#include "helpers.h"
#include "moat/lists.h"
#include "moat/moat.h"
#include "moat/policy.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Network entries: the stored form, or a piece of the reason they are refused. */
static const struct { const char *in; const char *norm; const char *why; } net_cases[] = {
	{ "0.0.0.0/0", "0.0.0.0/0", NULL },
	{ "192.0.2.1/32", "192.0.2.1/32", NULL },
	{ "192.0.2.1", "192.0.2.1/32", NULL },
	{ "192.0.2.0/24", "192.0.2.0/24", NULL },
	{ "192.0.2.128/25", "192.0.2.128/25", NULL },
	{ "::/0", "::/0", NULL },
	{ "2001:DB8::/32", "2001:db8::/32", NULL },
	{ "2001:db8::1/128", "2001:db8::1/128", NULL },
	{ "2001:db8::1", "2001:db8::1/128", NULL },
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8", NULL },
	{ "::ffff:192.0.2.7", "192.0.2.7/32", NULL },
	{ "192.0.2.1/24", NULL, "bits are set past the /24 prefix (the network is 192.0.2.0/24)" },
	{ "2001:db8::1/32", NULL, "the network is 2001:db8::/32" },
	{ "192.0.2.0/33", NULL, "prefix length 33 is out of range 0..32 for IPv4" },
	{ "2001:db8::/129", NULL, "prefix length 129 is out of range 0..128 for IPv6" },
	{ "::ffff:10.0.0.0/64", NULL, "IPv4-mapped network needs a prefix of 96 or more" },
	{ "192.0.2.0/", NULL, "prefix length '' is not a number" },
	{ "192.0.2.0/-1", NULL, "is not a number" },
	{ "192.0.2.0/+8", NULL, "is not a number" },
	{ "192.0.2.0/8x", NULL, "is not a number" },
	{ "192.0.2.0/24/8", NULL, "is not a number" },
	{ "10/8", NULL, "not an IPv4 or IPv6 address" },	/* inet_aton would take it */
	{ "mail.example.com", NULL, "not an IPv4 or IPv6 address" },
	{ "", NULL, "not an IPv4 or IPv6 address" },
};

START_TEST(test_network_entries)
{
	char *why = NULL;
	g_autofree char *norm = entry_normalise(&why, ENTRY_NETWORK, net_cases[_i].in);

	if (net_cases[_i].norm != NULL) {
		ck_assert_msg(norm != NULL, "'%s' refused: %s", net_cases[_i].in, why);
		ck_assert_str_eq(norm, net_cases[_i].norm);
	} else {
		ck_assert_msg(norm == NULL, "'%s' taken as %s", net_cases[_i].in, norm);
		ck_assert_msg(strstr(why, net_cases[_i].why) != NULL, "'%s': %s", net_cases[_i].in, why);
		ck_assert_msg(strstr(why, net_cases[_i].in) != NULL, "the entry is not named: %s", why);
	}
	g_free(why);
}
END_TEST

/* Client addresses against one network. */
static const struct { const char *addr; const char *net; gboolean in; } match_cases[] = {
	{ "203.0.113.9", "0.0.0.0/0", TRUE },
	{ "::1", "0.0.0.0/0", FALSE },			/* the other family, even under /0 */
	{ "10.0.0.1", "::/0", FALSE },
	{ "2001:db8::1", "::/0", TRUE },
	{ "192.0.2.1", "192.0.2.1/32", TRUE },
	{ "192.0.2.2", "192.0.2.1/32", FALSE },
	{ "192.0.2.255", "192.0.2.0/24", TRUE },
	{ "192.0.3.0", "192.0.2.0/24", FALSE },
	{ "192.0.2.128", "192.0.2.128/25", TRUE },
	{ "192.0.2.127", "192.0.2.128/25", FALSE },	/* the boundary inside a byte */
	{ "2001:db8::1", "2001:db8::1/128", TRUE },
	{ "2001:db8::2", "2001:db8::1/128", FALSE },
	{ "2001:db8:ffff::1", "2001:db8::/32", TRUE },
	{ "2001:db9::1", "2001:db8::/32", FALSE },
	{ "2001:db8::8000", "2001:db8::8000/113", TRUE },
	{ "2001:db8::7fff", "2001:db8::8000/113", FALSE },
	{ "::ffff:192.0.2.7", "192.0.2.0/24", TRUE },	/* a v4 client on a v6 socket */
	{ "::ffff:192.0.2.7", "::ffff:192.0.2.0/120", TRUE },
	{ "local", "0.0.0.0/0", FALSE },		/* moatd's word for a non-IP client */
	{ NULL, "0.0.0.0/0", FALSE },
};

START_TEST(test_network_match)
{
	struct entry_net net;
	char *why = NULL;

	ck_assert_msg(entry_parse_network(&net, &why, match_cases[_i].net), "%s", why);
	ck_assert_msg(entry_addr_in_net(match_cases[_i].addr, &net) == match_cases[_i].in,
	    "%s in %s: want %d", match_cases[_i].addr, match_cases[_i].net, match_cases[_i].in);
}
END_TEST

/* Sender domains against ".example.org; example.com" (sorted as the config keeps them). */
static const struct { const char *domain; const char *hit; } domain_cases[] = {
	{ "example.com", "example.com" },
	{ "EXAMPLE.Com", "example.com" },
	{ "mail.example.com", NULL },		/* no dot: exactly that domain */
	{ "example.org", ".example.org" },	/* a dot: the domain too */
	{ "mail.example.org", ".example.org" },
	{ "a.b.Example.ORG", ".example.org" },
	{ "example.org.", ".example.org" },	/* the root label */
	{ "badexample.org", NULL },
	{ "org", NULL },
	{ "", NULL },
	{ NULL, NULL },
};

START_TEST(test_domain_match)
{
	char *list[] = { ".example.org", "example.com", NULL };
	const char *hit = lists_domain_match(list, domain_cases[_i].domain);

	if (domain_cases[_i].hit == NULL)
		ck_assert_msg(hit == NULL, "%s matched %s", domain_cases[_i].domain, hit);
	else
		ck_assert_msg(hit != NULL && strcmp(hit, domain_cases[_i].hit) == 0, "%s: %s",
		    domain_cases[_i].domain, hit ? hit : "no match");
}
END_TEST

/* Address, domain and hash entries: stored form or the reason. */
static const struct { enum entry_kind kind; const char *in; const char *norm; const char *why; }
    entry_cases[] = {
	{ ENTRY_ADDRESS, "Alice@Example.COM", "alice@example.com", NULL },
	{ ENTRY_ADDRESS, "<bob@example.org>", "bob@example.org", NULL },
	{ ENTRY_ADDRESS, "odd@name@example.org", "odd@name@example.org", NULL },
	{ ENTRY_ADDRESS, "carol@example.net.", "carol@example.net", NULL },
	{ ENTRY_ADDRESS, "example.com", NULL, "domains go in *_domains" },
	{ ENTRY_ADDRESS, "@example.com", NULL, "not an address" },
	{ ENTRY_ADDRESS, "a b@example.com", NULL, "not an address" },
	{ ENTRY_ADDRESS, "dave@", NULL, "bad domain" },
	{ ENTRY_ADDRESS, "dave@exa mple.com", NULL, "not an address" },
	{ ENTRY_DOMAIN, "Example.COM.", "example.com", NULL },
	{ ENTRY_DOMAIN, ".Example.com", ".example.com", NULL },
	{ ENTRY_DOMAIN, "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
	{ ENTRY_DOMAIN, "a..b", NULL, "not a domain name" },
	{ ENTRY_DOMAIN, ".", NULL, "not a domain name" },
	{ ENTRY_DOMAIN, "..example.com", NULL, "not a domain name" },
	{ ENTRY_DOMAIN, "ex ample.com", NULL, "not a domain name" },
	{ ENTRY_DOMAIN, "alice@example.com", NULL, "addresses go in *_senders" },
	{ ENTRY_SHA256, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", HASH_A, NULL },
	{ ENTRY_SHA256, "aaaa", NULL, "not a SHA-256" },
	{ ENTRY_SHA256, HASH_A "a", NULL, "not a SHA-256" },
	{ ENTRY_SHA256, "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg", NULL,
	    "not a SHA-256" },
};

START_TEST(test_entries)
{
	char *why = NULL;
	g_autofree char *norm = entry_normalise(&why, entry_cases[_i].kind, entry_cases[_i].in);

	if (entry_cases[_i].norm != NULL) {
		ck_assert_msg(norm != NULL, "'%s' refused: %s", entry_cases[_i].in, why);
		ck_assert_str_eq(norm, entry_cases[_i].norm);
	} else {
		ck_assert_msg(norm == NULL, "'%s' taken as %s", entry_cases[_i].in, norm);
		ck_assert_msg(strstr(why, entry_cases[_i].why) != NULL, "'%s': %s",
		    entry_cases[_i].in, why);
	}
	g_free(why);
}
END_TEST

/* Bad entries are config errors naming "[group] key" and the entry. */
static const struct { const char *text; const char *want; } conf_error_cases[] = {
	{ "[lists]\nblock_networks = 10.0.0.0/8; 10.1.2.3/8\n",
	    "config: [lists] block_networks: '10.1.2.3/8': bits are set past the /8 prefix" },
	{ "[lists]\nallow_networks = 2001:db8::/200\n",
	    "config: [lists] allow_networks: '2001:db8::/200': prefix length 200 is out of range" },
	{ "[lists]\nallow_senders = alice@example.com; bob\n",
	    "config: [lists] allow_senders: 'bob': not an address" },
	{ "[lists]\nblock_domains = bad..example\n",
	    "config: [lists] block_domains: 'bad..example': not a domain name" },
	{ "[lists]\nallow_sha256 = 1234\n", "config: [lists] allow_sha256: '1234': not a SHA-256" },
	{ "[lists]\nallow_recipients = abuse\n", "config: [lists] allow_recipients: 'abuse'" },
	{ "[lists]\nallow_ips = 10.0.0.0/8\n", "config: [lists] allow_ips: unknown key" },
	{ "[outbound]\ninternal_networks = intranet\n",
	    "config: [outbound] internal_networks: 'intranet': not an IPv4 or IPv6 address" },
	{ "[outbound]\ntag_score = 12\n", "config: [outbound] tag_score: must not exceed" },
	{ "[outbound]\nreject_score = 8\n", "config: [outbound] quarantine_score: must not exceed" },
	{ "[scores]\npolicy.blocked_everything = off\n", "unknown finding id" },
};

START_TEST(test_conf_errors)
{
	const char *text = conf_error_cases[_i].text;
	struct moat_conf *conf = NULL;
	g_autofree char *err = NULL;

	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), MOAT_EINVAL);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(err, conf_error_cases[_i].want) != NULL, "got: %s", err);
}
END_TEST

/* Lists are stored sorted, once each, and conf_print() writes them so they load again. */
START_TEST(test_conf_lists)
{
	struct moat_conf *conf = t_conf_load("[lists]\nblock_senders = b@x.example; A@X.example;"
	    " b@x.example ;;\nallow_networks = 10.0.0.0/8\n[outbound]\nreject_score = 30\n");
	struct moat_conf *defaults = conf_new_defaults(), *again;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_uint_eq(g_strv_length(conf->lists.block_senders), 2);
	ck_assert_str_eq(conf->lists.block_senders[0], "a@x.example");
	ck_assert_str_eq(conf->lists.block_senders[1], "b@x.example");
	ck_assert_uint_eq(g_strv_length(defaults->lists.allow_senders), 0);	/* empty, never NULL */
	ck_assert_int_eq(defaults->outbound.tag_score, 5);
	ck_assert_int_eq(defaults->outbound.quarantine_score, 10);
	ck_assert_int_eq(defaults->outbound.reject_score, 20);
	fp = open_memstream(&buf, &len);
	conf_print(conf, fp);
	fclose(fp);
	t_assert_line(buf, "block_senders = a@x.example;b@x.example");
	again = t_conf_load(buf);
	ck_assert_uint_eq(g_strv_length(again->lists.block_senders), 2);
	ck_assert_str_eq(again->lists.allow_networks[0], "10.0.0.0/8");
	ck_assert_int_eq(again->outbound.reject_score, 30);
	free(buf);
	conf_free(again);
	conf_free(defaults);
	conf_free(conf);
}
END_TEST

/* rep_new - a report with envelope FROM, CLIENT and the recipients in RCPTS ("a;b") */
static struct moat_report *
rep_new(const char *from, const char *client, const char *rcpts)
{
	struct moat_report *rep = report_new();
	g_auto(GStrv) r = g_strsplit(rcpts ? rcpts : "", ";", -1);

	rep->env.mail_from = g_strdup(from);
	rep->env.client_addr = g_strdup(client);
	for (gsize i = 0; r[i] != NULL; i++)
		if (*r[i] != '\0')
			g_ptr_array_add(rep->env.rcpt_to, g_strdup(r[i]));
	return rep;
}

/* rep_part - an attachment NAME with SHA256 in REP */
static struct moat_part *
rep_part(struct moat_report *rep, const char *name, const char *sha256)
{
	g_autoptr(GPtrArray) path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, (gpointer)name);
	p = report_part_new(rep, path);
	p->id = g_strdup_printf("%u", rep->parts->len + 1);
	p->filename = g_strdup(name);
	p->is_attachment = TRUE;
	g_strlcpy(p->sha256, sha256, sizeof(p->sha256));
	return p;
}

static const char *
last_reason(const struct moat_report *rep)
{
	GPtrArray *r = rep->verdict.reasons;

	return r->len ? r->pdata[r->len - 1] : "";
}

/* A block on the sender, its domain or the client scores the reject threshold. */
static const struct { const char *conf; const char *from, *client; const char *id; gint score;
    enum moat_action action; } block_cases[] = {
	{ "[lists]\nblock_senders = Mallory@Example.NET\n", "mallory@example.net", "192.0.2.1",
	    "policy.blocked_sender", 20, MOAT_REJECT },
	{ "[lists]\nblock_senders = mallory@example.net\n", "MALLORY@example.NET", "192.0.2.1",
	    "policy.blocked_sender", 20, MOAT_REJECT },
	{ "[lists]\nblock_domains = .example.net\n", "x@mx.eu.example.net", "192.0.2.1",
	    "policy.blocked_sender", 20, MOAT_REJECT },
	{ "[lists]\nblock_networks = 192.0.2.0/24\n", "a@example.com", "192.0.2.1",
	    "policy.blocked_network", 20, MOAT_REJECT },
	{ "[lists]\nblock_networks = 2001:db8::/32\n", "a@example.com", "2001:db8::25",
	    "policy.blocked_network", 20, MOAT_REJECT },
	/* the reject threshold, whatever it is */
	{ "[policy]\nreject_score = 35\n[lists]\nblock_networks = 192.0.2.0/24\n", "a@example.com",
	    "192.0.2.1", "policy.blocked_network", 35, MOAT_REJECT },
	/* [scores] still has the last word */
	{ "[lists]\nblock_domains = example.net\n[scores]\npolicy.blocked_sender = tag\n",
	    "x@example.net", "192.0.2.1", "policy.blocked_sender", 5, MOAT_TAG },
	{ "[lists]\nblock_networks = 192.0.2.0/24\n[scores]\npolicy.* = 12\n", "a@example.com",
	    "192.0.2.1", "policy.blocked_network", 12, MOAT_QUARANTINE },
	/* near misses */
	{ "[lists]\nblock_domains = example.net\n", "x@mx.example.net", "192.0.2.1", NULL, 0,
	    MOAT_ACCEPT },
	{ "[lists]\nblock_networks = 192.0.2.0/24\n", "a@example.com", "192.0.3.1", NULL, 0,
	    MOAT_ACCEPT },
	{ "[lists]\nblock_senders = mallory@example.net\n", "", "192.0.2.1", NULL, 0, MOAT_ACCEPT },
};

START_TEST(test_block)
{
	struct moat_conf *conf = t_conf_load(block_cases[_i].conf);
	struct moat_report *rep = rep_new(block_cases[_i].from, block_cases[_i].client, "u@example.com");

	policy_decide(rep, conf);
	if (block_cases[_i].id == NULL) {
		ck_assert_uint_eq(rep->findings->len, 0);
	} else {
		const struct moat_finding *f = t_finding(rep, block_cases[_i].id);

		ck_assert_int_eq(f->score, block_cases[_i].score);
		ck_assert_uint_eq(f->path->len, 0);	/* about the message */
	}
	ck_assert_int_eq(rep->verdict.action, block_cases[_i].action);
	policy_decide(rep, conf);	/* deciding again adds nothing */
	ck_assert_uint_eq(rep->findings->len, block_cases[_i].id ? 1 : 0);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* An allow entry accepts, keeps the findings (marked, scored 0) and says why. */
static const struct { const char *conf; const char *from, *client, *rcpts; const char *why; }
    allow_cases[] = {
	{ "[lists]\nallow_senders = Partner@Example.com\n", "partner@EXAMPLE.com", "203.0.113.5",
	    "u@example.org", "allowed: sender partner@EXAMPLE.com" },
	{ "[lists]\nallow_domains = .example.com\n", "a@b.example.com", "203.0.113.5",
	    "u@example.org", "allowed: domain .example.com (sender a@b.example.com)" },
	{ "[lists]\nallow_networks = 203.0.113.0/24\n", "a@example.net", "203.0.113.5",
	    "u@example.org", "allowed: network 203.0.113.0/24 (client 203.0.113.5)" },
	{ "[lists]\nallow_recipients = abuse@example.org\n", "a@example.net", "203.0.113.5",
	    "ABUSE@example.org", "allowed: recipient ABUSE@example.org" },
	{ "[lists]\nallow_recipients = abuse@example.org; postmaster@example.org\n", "a@example.net",
	    "203.0.113.5", "abuse@example.org;postmaster@example.org",
	    "allowed: recipients abuse@example.org and 1 more" },
};

START_TEST(test_allow)
{
	struct moat_conf *conf = t_conf_load(allow_cases[_i].conf);
	struct moat_report *rep = rep_new(allow_cases[_i].from, allow_cases[_i].client,
	    allow_cases[_i].rcpts);
	const struct moat_finding *f;

	report_add_finding(rep, "attach.executable", NULL, "extension .exe");
	report_add_finding(rep, "name.double_extension", NULL, "invoice.pdf.exe");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	ck_assert_int_eq(rep->verdict.score, 0);
	ck_assert_uint_eq(rep->findings->len, 2);
	f = t_finding(rep, "attach.executable");
	ck_assert(f->allowed);
	ck_assert(!f->off);
	ck_assert_int_eq(f->score, 0);
	ck_assert_uint_eq(rep->verdict.reasons->len, 1);
	ck_assert_str_eq(last_reason(rep), allow_cases[_i].why);
	ck_assert_str_eq(rep->verdict.allowed, allow_cases[_i].why + strlen("allowed: "));
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* Recipients past [milter] max_recipients: no allow by recipients, a finding that says so. */
START_TEST(test_recipients_dropped)
{
	struct moat_conf *conf = t_conf_load("[lists]\nallow_recipients = abuse@example.org\n");
	struct moat_report *rep = rep_new("a@example.net", "203.0.113.5", "abuse@example.org");
	const struct moat_finding *f;

	report_add_finding(rep, "attach.executable", NULL, "extension .exe");
	rep->env.rcpt_dropped = 3;	/* moatd kept abuse@, three more arrived past the limit */
	policy_decide(rep, conf);
	ck_assert_ptr_null(rep->verdict.allowed);
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	f = t_finding(rep, "policy.recipients_dropped");
	ck_assert_str_eq(f->evidence, "1 recipients kept, 3 more counted");
	policy_decide(rep, conf);	/* deciding again adds nothing */
	ck_assert_uint_eq(rep->findings->len, 2);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/*
 * What an allow entry cannot override: a block (any of them, even on the
 * same sender) and a virus. The message is judged on those alone.
 */
static const struct { const char *conf; const char *finding; const char *id;
    enum moat_action action; } binding_cases[] = {
	{ "[lists]\nallow_senders = a@example.com\nblock_networks = 192.0.2.0/24\n", NULL,
	    "policy.blocked_network", MOAT_REJECT },
	{ "[lists]\nallow_networks = 192.0.2.0/24\nblock_senders = a@example.com\n", NULL,
	    "policy.blocked_sender", MOAT_REJECT },
	{ "[lists]\nallow_senders = a@example.com\nblock_domains = example.com\n", NULL,
	    "policy.blocked_sender", MOAT_REJECT },
	{ "[lists]\nallow_networks = 192.0.2.0/24\n", "av.Win.Test.EICAR_HDB-1",
	    "av.Win.Test.EICAR_HDB-1", MOAT_REJECT },
	{ "[lists]\nallow_senders = a@example.com\n", "av.Doc.Dropper.Agent-1",
	    "av.Doc.Dropper.Agent-1", MOAT_REJECT },
	{ "[lists]\nallow_recipients = u@example.com\n", "av.Win.Test.EICAR_HDB-1",
	    "av.Win.Test.EICAR_HDB-1", MOAT_REJECT },
	/* an admin may still lower a virus in [scores]; the allow entry alone does not */
	{ "[lists]\nallow_senders = a@example.com\n[scores]\nav.* = tag\n", "av.Win.Test.EICAR_HDB-1",
	    "av.Win.Test.EICAR_HDB-1", MOAT_TAG },
};

START_TEST(test_allow_never_overrides)
{
	struct moat_conf *conf = t_conf_load(binding_cases[_i].conf);
	struct moat_report *rep = rep_new("a@example.com", "192.0.2.9", "u@example.com");
	const struct moat_finding *f, *exe;

	report_add_finding(rep, "attach.executable", NULL, "extension .exe");
	if (binding_cases[_i].finding != NULL)
		report_add_finding(rep, binding_cases[_i].finding, NULL, "signature matched");
	policy_decide(rep, conf);
	f = t_finding(rep, binding_cases[_i].id);
	exe = t_finding(rep, "attach.executable");
	ck_assert(!f->allowed);
	ck_assert(exe->allowed);	/* the rest is still allowed */
	ck_assert_int_eq(exe->score, 0);
	ck_assert_int_eq(rep->verdict.score, f->score);
	ck_assert_int_eq(rep->verdict.action, binding_cases[_i].action);
	ck_assert_ptr_nonnull(rep->verdict.allowed);
	ck_assert_msg(g_str_has_prefix(rep->verdict.reasons->pdata[0], binding_cases[_i].id),
	    "first reason: %s", (const char *)rep->verdict.reasons->pdata[0]);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* One message, one verdict: allow_recipients needs every recipient listed. */
static const struct { const char *rcpts; enum moat_action action; } rcpt_cases[] = {
	{ "abuse@example.org", MOAT_ACCEPT },
	{ "abuse@example.org;Abuse@Example.org", MOAT_ACCEPT },
	{ "abuse@example.org;ceo@example.org", MOAT_REJECT },	/* the strictest applies */
	{ "ceo@example.org;abuse@example.org", MOAT_REJECT },
	{ "ceo@example.org", MOAT_REJECT },
	{ "", MOAT_REJECT },					/* no recipient: nothing listed */
};

START_TEST(test_recipients)
{
	struct moat_conf *conf = t_conf_load("[lists]\nallow_recipients = abuse@example.org\n");
	struct moat_report *rep = rep_new("a@example.net", "198.51.100.1", rcpt_cases[_i].rcpts);

	report_add_finding(rep, "attach.executable", NULL, "extension .exe");
	report_add_finding(rep, "name.double_extension", NULL, "invoice.pdf.exe");
	report_add_finding(rep, "type.mismatch", NULL, "pdf declared, bytes are pe");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.action, rcpt_cases[_i].action);
	ck_assert(t_finding(rep, "attach.executable")->allowed == (rcpt_cases[_i].action == MOAT_ACCEPT));
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* allow_sha256 switches off a part's findings (and its members'), not av.*; block_sha256 blocks. */
START_TEST(test_hashes)
{
	struct moat_conf *conf = t_conf_load("[lists]\nallow_sha256 = " HASH_A "\nblock_sha256 = "
	    HASH_B "\n");
	struct moat_report *rep = rep_new("a@example.net", "198.51.100.1", "u@example.org");
	struct moat_part *tool = rep_part(rep, "tool.zip", HASH_A);
	struct moat_part *member = report_member_new(rep, tool, "setup.exe");
	struct moat_part *bad = rep_part(rep, "bad.exe", HASH_B);
	const struct moat_finding *f;

	g_strlcpy(member->sha256, HASH_B, sizeof(member->sha256));	/* blocked inside an allowed zip */
	report_add_finding(rep, "attach.executable", member->path, "bytes are pe");
	report_add_finding(rep, "type.mismatch", tool->path, "zip declared as pdf");
	report_add_finding(rep, "av.Win.Test.EICAR_HDB-1", member->path, "signature matched");
	report_add_finding(rep, "attach.executable", bad->path, "bytes are pe");
	policy_decide(rep, conf);

	ck_assert(((struct moat_finding *)rep->findings->pdata[0])->allowed);	/* inside tool.zip */
	ck_assert_int_eq(((struct moat_finding *)rep->findings->pdata[0])->score, 0);
	ck_assert(((struct moat_finding *)rep->findings->pdata[1])->allowed);	/* tool.zip itself */
	f = rep->findings->pdata[2];
	ck_assert(!f->allowed);						/* a virus */
	ck_assert_int_eq(f->score, 20);
	f = rep->findings->pdata[3];
	ck_assert(!f->allowed);						/* another part */
	ck_assert_int_eq(f->score, 10);
	/* two blocked hashes: the member and bad.exe, each at its path */
	ck_assert_uint_eq(rep->findings->len, 6);
	f = rep->findings->pdata[4];
	ck_assert_str_eq(f->id, "policy.blocked_hash");
	ck_assert_str_eq(f->path_display, member->path_display);
	ck_assert(!f->allowed);
	ck_assert_int_eq(f->score, 20);
	ck_assert_msg(strstr(f->evidence, HASH_B) != NULL, "%s", f->evidence);
	ck_assert_str_eq(((struct moat_finding *)rep->findings->pdata[5])->path_display, "bad.exe");
	/* av 20 + attach.executable 10 + policy.blocked_hash 20: an id counts once */
	ck_assert_int_eq(rep->verdict.score, 20 + 10 + 20);
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	ck_assert_ptr_null(rep->verdict.allowed);	/* the message is not allowed, one part is */
	ck_assert_str_eq(last_reason(rep), "allowed: sha256 " HASH_A ": tool.zip");
	policy_decide(rep, conf);
	ck_assert_uint_eq(rep->findings->len, 6);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* A second attachment with the allowed one's name is not covered by its hash. */
START_TEST(test_hash_namesake)
{
	struct moat_conf *conf = t_conf_load("[lists]\nallow_sha256 = " HASH_A "\n");
	struct moat_report *rep = rep_new("a@example.net", "198.51.100.1", "u@example.org");
	struct moat_part *good = rep_part(rep, "report.exe", HASH_A);
	struct moat_part *evil = rep_part(rep, "report.exe", HASH_B);

	report_add_finding(rep, "attach.executable", good->path, "bytes are pe");
	report_add_finding(rep, "attach.executable", evil->path, "bytes are pe");
	policy_decide(rep, conf);
	ck_assert(!((struct moat_finding *)rep->findings->pdata[0])->allowed);
	ck_assert(!((struct moat_finding *)rep->findings->pdata[1])->allowed);
	ck_assert_int_eq(((struct moat_finding *)rep->findings->pdata[1])->score, 10);
	ck_assert_int_eq(rep->verdict.score, 10);	/* one id, counted once */
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* Outbound: SMTP AUTH or an internal client; its own thresholds, inbound untouched. */
static const struct { const char *auth, *client; enum moat_direction dir; enum moat_action action;
    gint blocked; } out_cases[] = {
	{ NULL, "203.0.113.7", MOAT_INBOUND, MOAT_ACCEPT, 20 },
	{ "alice", "203.0.113.7", MOAT_OUTBOUND, MOAT_QUARANTINE, 8 },
	{ "", "203.0.113.7", MOAT_INBOUND, MOAT_ACCEPT, 20 },	/* an empty macro is no login */
	{ NULL, "10.20.30.40", MOAT_OUTBOUND, MOAT_QUARANTINE, 8 },
	{ NULL, "::ffff:10.20.30.40", MOAT_OUTBOUND, MOAT_QUARANTINE, 8 },
	{ NULL, "fd00::25", MOAT_OUTBOUND, MOAT_QUARANTINE, 8 },
	{ NULL, "11.0.0.1", MOAT_INBOUND, MOAT_ACCEPT, 20 },
};

/* out_report - out_cases[ROW]: mime.malformed (1) and mime.long_header (2), score 3; one attachment with SHA256, decided */
static struct moat_report *
out_report(const struct moat_conf *conf, int row, const char *sha256)
{
	struct moat_report *rep = rep_new("a@example.com", out_cases[row].client, "x@example.net");

	rep->env.auth = g_strdup(out_cases[row].auth);
	rep_part(rep, "x.bin", sha256);
	report_add_finding(rep, "mime.malformed", NULL, "warning");
	report_add_finding(rep, "mime.long_header", NULL, "Subject: 70000 bytes");
	policy_decide(rep, conf);
	return rep;
}

START_TEST(test_outbound)
{
	struct moat_conf *conf = t_conf_load("[outbound]\ninternal_networks = 10.0.0.0/8; fd00::/8\n"
	    "tag_score = 2\nquarantine_score = 3\nreject_score = 8\n"
	    "[lists]\nblock_sha256 = " HASH_B "\n");
	struct moat_report *rep, *blocked;
	g_autofree char *json = NULL;

	rep = out_report(conf, _i, HASH_A);
	ck_assert_int_eq(lists_direction(&rep->env, conf), out_cases[_i].dir);
	ck_assert_int_eq(rep->verdict.direction, out_cases[_i].dir);
	ck_assert_int_eq(rep->verdict.score, 3);
	ck_assert_int_eq(rep->verdict.action, out_cases[_i].action);
	json = report_to_json(rep, FALSE);
	ck_assert_msg(strstr(json, out_cases[_i].dir == MOAT_OUTBOUND ? "\"direction\":\"outbound\""
	    : "\"direction\":\"inbound\"") != NULL, "%s", json);
	/* a block scores the reject threshold of the message's direction */
	blocked = out_report(conf, _i, HASH_B);
	ck_assert_int_eq(t_finding(blocked, "policy.blocked_hash")->score, out_cases[_i].blocked);
	ck_assert_int_eq(blocked->verdict.action, MOAT_REJECT);
	report_free(blocked);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* [scores] action words give the thresholds of the message's direction. */
START_TEST(test_outbound_words)
{
	struct moat_conf *conf = t_conf_load("[outbound]\ntag_score = 2\nquarantine_score = 3\n"
	    "reject_score = 4\n[scores]\nattach.script = quarantine\n");
	struct moat_report *rep = rep_new("a@example.com", "203.0.113.7", "x@example.net");

	report_add_finding(rep, "attach.script", NULL, "extension .js");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, 10);
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	rep->env.auth = g_strdup("alice");
	policy_decide(rep, conf);
	ck_assert_int_eq(rep->verdict.score, 3);
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	conf_free(conf);
}
END_TEST

/* The JSON report carries auth, direction, the allow entry and each finding's mark. */
START_TEST(test_json)
{
	struct moat_conf *conf = t_conf_load("[lists]\nallow_senders = a@example.com\n");
	struct moat_report *rep = rep_new("a@example.com", "203.0.113.7", "x@example.net");
	g_autofree char *json = NULL;

	rep->env.auth = g_strdup("alice");
	report_add_finding(rep, "attach.script", NULL, "extension .js");
	policy_decide(rep, conf);
	json = report_to_json(rep, FALSE);
	ck_assert_msg(strstr(json, "\"auth\":\"alice\"") != NULL, "%s", json);
	ck_assert_msg(strstr(json, "\"allowed\":true") != NULL, "%s", json);
	ck_assert_msg(strstr(json, "\"direction\":\"outbound\",\"allowed\":\"sender a@example.com\"")
	    != NULL, "%s", json);
	report_free(rep);
	conf_free(conf);
}
END_TEST

Suite *
lists_suite(void)
{
	Suite *s = suite_create("lists");
	TCase *tc = tcase_create("entries");
	TCase *tp = tcase_create("policy");

	tcase_add_loop_test(tc, test_network_entries, 0, G_N_ELEMENTS(net_cases));
	tcase_add_loop_test(tc, test_network_match, 0, G_N_ELEMENTS(match_cases));
	tcase_add_loop_test(tc, test_domain_match, 0, G_N_ELEMENTS(domain_cases));
	tcase_add_loop_test(tc, test_entries, 0, G_N_ELEMENTS(entry_cases));
	tcase_add_loop_test(tc, test_conf_errors, 0, G_N_ELEMENTS(conf_error_cases));
	tcase_add_test(tc, test_conf_lists);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tp, test_block, 0, G_N_ELEMENTS(block_cases));
	tcase_add_loop_test(tp, test_allow, 0, G_N_ELEMENTS(allow_cases));
	tcase_add_loop_test(tp, test_allow_never_overrides, 0, G_N_ELEMENTS(binding_cases));
	tcase_add_loop_test(tp, test_recipients, 0, G_N_ELEMENTS(rcpt_cases));
	tcase_add_test(tp, test_hashes);
	tcase_add_test(tp, test_recipients_dropped);
	tcase_add_test(tp, test_hash_namesake);
	tcase_add_loop_test(tp, test_outbound, 0, G_N_ELEMENTS(out_cases));
	tcase_add_test(tp, test_outbound_words);
	tcase_add_test(tp, test_json);
	suite_add_tcase(s, tp);
	return s;
}
