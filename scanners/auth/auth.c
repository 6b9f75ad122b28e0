/*
 * auth.c - sender authentication's driver: auth_check() and its results
 *
 * In: a report whose envelope and headers the MIME inventory filled, the
 * message as received. Out: rep->auth (SPF for MAIL FROM and HELO, every
 * DKIM signature, DMARC) and findings auth.*; auth_results_header() gives
 * the RFC 8601 header. Inbound mail only: authenticated submission and
 * [outbound] internal_networks are not checked. The parts are spf.c,
 * dkimv.c, dmarc.c, lookalike.c; DNS is dns.c. [auth] rows are here.
 * Reentrant after auth_init().
 */
#include <string.h>
#include <unistd.h>

#include "moat/auth.h"
#include "moat/confkeys.h"
#include "moat/dkimv.h"
#include "moat/dmarc.h"
#include "moat/lists.h"
#include "moat/lookalike.h"
#include "moat/moat.h"
#include "moat/spf.h"

/* [auth]: sender authentication (conf->auth), parsed by conf.c */
static const struct conf_key auth_conf_keys[] = {
	{ "auth", "enabled", CONF_BOOL, CONF_OFF(auth.enabled), "yes", 0, 1,
	    "Check SPF, DKIM and DMARC on inbound mail (not on authenticated submission or "
	    "[outbound] internal_networks)." },
	{ "auth", "add_header", CONF_BOOL, CONF_OFF(auth.add_header), "yes", 0, 1,
	    "moatd prepends an Authentication-Results header (RFC 8601) with the results, and "
	    "removes incoming ones that claim authserv_id." },
	{ "auth", "authserv_id", CONF_STRING, CONF_OFF(auth.authserv_id), "", 0, 255,
	    "The name Authentication-Results starts with; empty: this host's name." },
	{ "auth", "dns_budget_ms", CONF_UINT, CONF_OFF(auth.dns_budget_ms), "5000", 100, 600000,
	    "Time all of one message's DNS lookups may take; checks not done by then are "
	    "temperror. It adds to [limits] scan_budget_ms under Postfix's milter_content_timeout." },
	{ "auth", "dkim_min_key_bits", CONF_UINT, CONF_OFF(auth.dkim_min_key_bits), "1024", 512,
	    16384, "A DKIM signature with a shorter RSA key verifies as dkim=policy, not pass." },
	{ "auth", "dkim_max_signatures", CONF_UINT, CONF_OFF(auth.dkim_max_signatures), "8", 1,
	    100, "DKIM signatures verified per message; further ones are not looked at." },
	{ "auth", "dmarc_reject", CONF_BOOL, CONF_OFF(auth.dmarc_reject), "no", 0, 1,
	    "Reject (550 5.7.1) a message that fails DMARC when the From domain's policy is "
	    "reject; otherwise auth.dmarc_reject only scores." },
	{ "auth", "public_suffix_list", CONF_STRING, CONF_OFF(auth.public_suffix_list),
	    "/usr/share/publicsuffix/public_suffix_list.dat", 0, 4096,
	    "The public suffix list DMARC and the look-alike check take organisational "
	    "domains from (Debian package publicsuffix)." },
	{ "auth", "protected_domains", CONF_LIST_DOMAIN, CONF_OFF(auth.protected_domains), "", 0,
	    CONF_LIST_MAX, "Domains whose look-alikes are flagged (auth.lookalike_domain): "
	    "the organisation's own and its partners'. Empty: the recipients' domains." },
	{ "auth", "trusted_domains", CONF_LIST_DOMAIN, CONF_OFF(auth.trusted_domains), "", 0,
	    CONF_LIST_MAX, "Domains that look like a protected one on purpose (example.de beside "
	    "example.com): never flagged as look-alikes." },
	{ "auth", "protected_names", CONF_STRING, CONF_OFF(auth.protected_names), "", 0, 65536,
	    "Display names only insiders use, separated by ';' (\"Jane Doe;Payroll\"): shown "
	    "on mail from outside they are auth.display_name." },
};

const struct conf_group auth_conf_group = CONF_GROUP("auth", auth_conf_keys);

static const char *const auth_result_names[] = {
	[AUTH_NONE] = "none", [AUTH_PASS] = "pass", [AUTH_FAIL] = "fail",
	[AUTH_SOFTFAIL] = "softfail", [AUTH_NEUTRAL] = "neutral", [AUTH_POLICY] = "policy",
	[AUTH_TEMPERROR] = "temperror", [AUTH_PERMERROR] = "permerror",
};

const char *
auth_result_name(enum auth_result r)
{
	return (guint)r < G_N_ELEMENTS(auth_result_names) ? auth_result_names[r] : "none";
}

void
auth_spf_clear(struct auth_spf *s)
{
	g_free(s->identity);
	g_free(s->sender);
	g_free(s->domain);
	g_free(s->reason);
	memset(s, 0, sizeof(*s));
}

void
auth_dkim_free(struct auth_dkim *d)
{
	if (d == NULL)
		return;
	g_free(d->domain);
	g_free(d->selector);
	g_free(d->algorithm);
	g_free(d->identity);
	g_free(d->b);
	g_free(d->reason);
	g_free(d);
}

void
auth_dmarc_clear(struct auth_dmarc *d)
{
	g_free(d->from_domain);
	g_free(d->org_domain);
	g_free(d->policy);
	g_free(d->disposition);
	g_free(d->reason);
	memset(d, 0, sizeof(*d));
}

void
auth_free(struct moat_auth *auth)
{
	if (auth == NULL)
		return;
	g_free(auth->skipped);
	auth_spf_clear(&auth->spf_mailfrom);
	auth_spf_clear(&auth->spf_helo);
	if (auth->dkim != NULL)
		g_ptr_array_unref(auth->dkim);
	auth_dmarc_clear(&auth->dmarc);
	g_free(auth);
}

int
auth_init(const struct moat_conf *conf, char **err)
{
	return dmarc_init(conf->auth.public_suffix_list, err);
}

const char *
auth_authserv_id(const struct moat_conf *conf)
{
	static char host[256];
	static gsize once;

	if (*conf->auth.authserv_id != '\0')
		return conf->auth.authserv_id;
	if (g_once_init_enter(&once)) {
		if (gethostname(host, sizeof(host) - 1) != 0 || *host == '\0')
			g_strlcpy(host, "localhost", sizeof(host));
		g_once_init_leave(&once, 1);
	}
	return host;
}

/* auth_skip_reason - why ENV's message is not checked (static), or NULL */
static const char *
auth_skip_reason(const struct moat_envelope *env, const struct moat_conf *conf)
{
	if (env->auth != NULL && *env->auth != '\0')
		return "authenticated submission";
	if (env->client_addr == NULL || *env->client_addr == '\0')
		return "no client address";
	if (lists_network_match(conf->outbound.internal_networks, env->client_addr) != NULL)
		return "internal network";
	return NULL;
}

/* auth_domain_of - the domain of address ADDR, lower-case, no trailing dot; or NULL */
static char *
auth_domain_of(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	char *d;
	gsize n;

	if (at == NULL || at[1] == '\0')
		return NULL;
	d = g_ascii_strdown(at + 1, -1);
	if ((n = strlen(d)) > 0 && d[n - 1] == '.')
		d[n - 1] = '\0';
	return d;
}

/* auth_spf_findings - auth.spf_fail or auth.spf_softfail for the identity SPF decided on */
static void
auth_spf_findings(struct moat_report *rep, const struct auth_spf *s)
{
	const char *id = s->result == AUTH_FAIL ? "auth.spf_fail" :
	    s->result == AUTH_SOFTFAIL ? "auth.spf_softfail" : NULL;

	if (id != NULL)
		report_add_finding(rep, id, NULL, "%s %s from %s%s%s%s", s->identity,
		    s->sender ? s->sender : "", rep->env.client_addr, s->reason ? " (" : "",
		    s->reason ? s->reason : "", s->reason ? ")" : "");
}

/* auth_dkim_passed - whether a signature in SIGS passed for DOMAIN */
static gboolean
auth_dkim_passed(const GPtrArray *sigs, const char *domain)
{
	for (guint i = 0; domain != NULL && i < sigs->len; i++) {
		const struct auth_dkim *d = sigs->pdata[i];

		if (d->result == AUTH_PASS && d->domain != NULL &&
		    g_ascii_strcasecmp(d->domain, domain) == 0)
			return TRUE;
	}
	return FALSE;
}

/* auth_findings - what the results say about the sender, as findings */
static void
auth_findings(struct moat_report *rep)
{
	const struct moat_auth *a = rep->auth;
	const struct auth_spf *spf = a->spf_mailfrom.identity != NULL ? &a->spf_mailfrom
	    : &a->spf_helo;
	GString *temp = g_string_new(NULL);

	if (spf->identity != NULL)
		auth_spf_findings(rep, spf);
	if (spf->result == AUTH_TEMPERROR)
		g_string_append_printf(temp, ", spf %s", spf->identity);
	for (guint i = 0; i < a->dkim->len; i++) {
		const struct auth_dkim *d = a->dkim->pdata[i];

		if (d->result == AUTH_FAIL && !auth_dkim_passed(a->dkim, d->domain))
			report_add_finding(rep, "auth.dkim_fail", NULL, "d=%s s=%s: %s",
			    d->domain ? d->domain : "?", d->selector ? d->selector : "?",
			    d->reason ? d->reason : "signature did not verify");
		if (d->result == AUTH_TEMPERROR)
			g_string_append_printf(temp, ", dkim d=%s", d->domain ? d->domain : "?");
	}
	if (a->from_count == 0 || rep->hdr.from_addr == NULL)
		report_add_finding(rep, "auth.from_missing", NULL, a->from_count == 0 ?
		    "no From address" : "From holds a group, no plain address");
	else if (a->from_count > 1)
		report_add_finding(rep, "auth.from_multiple", NULL, "%u From addresses",
		    a->from_count);
	if (a->dmarc.result == AUTH_FAIL) {
		const char *p = a->dmarc.policy ? a->dmarc.policy : "none";
		const char *id = strcmp(p, "reject") == 0 ? "auth.dmarc_reject" :
		    strcmp(p, "quarantine") == 0 ? "auth.dmarc_quarantine" : "auth.dmarc_fail";

		report_add_finding(rep, id, NULL, "From domain %s (p=%s): neither SPF nor DKIM "
		    "passed aligned with it", a->dmarc.from_domain, p);
	}
	if (a->dmarc.result == AUTH_TEMPERROR)
		g_string_append(temp, ", dmarc");
	if (temp->len > 0)
		report_add_finding(rep, "auth.temperror", NULL, "not finished: %s", temp->str + 2);
	g_string_free(temp, TRUE);
}

void
auth_check(struct moat_report *rep, GMimeStream *stream, const struct moat_conf *conf,
    struct auth_dns *dns_in)
{
	struct auth_dns own = { 0 };
	struct auth_dns *dns = dns_in != NULL ? dns_in : &own;
	const struct moat_envelope *env = &rep->env;
	const char *sender = env->raw_mail_from != NULL ? env->raw_mail_from : env->mail_from;
	const char *helo = env->raw_helo != NULL ? env->raw_helo : env->helo;
	struct moat_auth *a = g_new0(struct moat_auth, 1);
	g_autofree char *from_domain = NULL;
	gint64 t0 = g_get_monotonic_time();
	const char *skip;

	a->dkim = g_ptr_array_new_with_free_func((GDestroyNotify)auth_dkim_free);
	a->from_count = rep->hdr.from_count;
	rep->auth = a;
	if ((skip = auth_skip_reason(env, conf)) != NULL) {
		a->skipped = g_strdup(skip);
		return;
	}
	if (dns_in == NULL)
		own.deadline = t0 + (gint64)conf->auth.dns_budget_ms * 1000;
	(void)auth_init(conf, NULL);	/* once per process; dmarc_check() says when it failed */
	if (helo != NULL && *helo != '\0')
		spf_check(&a->spf_helo, dns, env->client_addr, helo, NULL);
	if (sender != NULL && *sender != '\0')
		spf_check(&a->spf_mailfrom, dns, env->client_addr, helo, sender);
	if (rep->hdr.dkim_signatures > 0)	/* most mail is signed; reading it all is not free */
		dkimv_check(a->dkim, dns, stream, conf);
	from_domain = a->from_count == 1 ? auth_domain_of(rep->hdr.from_addr) : NULL;
	if (from_domain != NULL) {
		dmarc_check(&a->dmarc, dns, env->client_addr, from_domain, &a->spf_mailfrom,
		    &a->spf_helo, a->dkim);
	} else {
		/* a From group ("Friendly:<ceo@bank.example>;") must not dodge DMARC */
		a->dmarc.result = a->from_count == 0 ? AUTH_NONE : AUTH_PERMERROR;
		a->dmarc.reason = a->from_count == 1 ? g_strdup("From has no plain address") :
		    g_strdup_printf("%u From addresses", a->from_count);
	}
	a->dns_lookups = dns->lookups;
	a->dns_timeouts = dns->timeouts;
	a->elapsed_ms = (guint)((g_get_monotonic_time() - t0) / 1000);
	auth_findings(rep);
	lookalike_check(rep, conf);
}

/* --- Authentication-Results (RFC 8601) --- */

/* auth_ar_comment - " (TEXT)" with what a comment cannot hold made '_' */
static void
auth_ar_comment(GString *s, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	g_string_append(s, " (");
	for (const char *p = text; *p != '\0' && p - text < 200; p++)
		g_string_append_c(s, (*p < 0x20 || *p == 0x7f || strchr("()\\", *p) != NULL) ?
		    '_' : *p);
	g_string_append_c(s, ')');
}

/* auth_ar_value - " PROP=VALUE", VALUE quoted unless it is all token characters */
static void
auth_ar_value(GString *s, const char *prop, const char *value)
{
	gboolean plain = *value != '\0';

	for (const char *p = value; *p != '\0' && plain; p++)
		plain = g_ascii_isalnum(*p) || strchr("!#$%&'*+-/=?^_`{|}~.@", *p) != NULL;
	g_string_append_printf(s, " %s=", prop);
	if (plain) {
		g_string_append(s, value);
		return;
	}
	g_string_append_c(s, '"');
	for (const char *p = value; *p != '\0' && p - value < 255; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, (guchar)*p < 0x20 || *p == 0x7f ? '_' : *p);
	}
	g_string_append_c(s, '"');
}

/* auth_ar_spf - "; spf=RESULT (reason) smtp.PROP=VALUE" */
static void
auth_ar_spf(GString *s, const struct auth_spf *spf, const char *prop, const char *value)
{
	g_string_append_printf(s, ";\n\tspf=%s", auth_result_name(spf->result));
	auth_ar_comment(s, spf->reason);
	if (value != NULL && *value != '\0')
		auth_ar_value(s, prop, value);
}

char *
auth_results_header(const struct moat_auth *a, const struct moat_envelope *env,
    const char *authserv_id)
{
	GString *s = g_string_new(authserv_id);
	const char *sender = env->raw_mail_from != NULL ? env->raw_mail_from : env->mail_from;

	if (a->skipped != NULL) {
		if (env->auth != NULL && *env->auth != '\0') {
			g_string_append(s, "; auth=pass");
			auth_ar_value(s, "smtp.auth", env->auth);
		} else {
			g_string_append(s, "; none");
		}
		return g_string_free(s, FALSE);
	}
	if (a->spf_mailfrom.identity != NULL)
		auth_ar_spf(s, &a->spf_mailfrom, "smtp.mailfrom", sender);
	if (a->spf_helo.identity != NULL)
		auth_ar_spf(s, &a->spf_helo, "smtp.helo", env->raw_helo ? env->raw_helo : env->helo);
	if (a->spf_mailfrom.identity == NULL && a->spf_helo.identity == NULL)
		g_string_append(s, ";\n\tspf=none");
	if (a->dkim->len == 0)
		g_string_append(s, ";\n\tdkim=none");
	for (guint i = 0; i < a->dkim->len; i++) {
		const struct auth_dkim *d = a->dkim->pdata[i];

		g_string_append_printf(s, ";\n\tdkim=%s", auth_result_name(d->result));
		auth_ar_comment(s, d->result != AUTH_PASS ? d->reason : NULL);
		if (d->domain != NULL)
			auth_ar_value(s, "header.d", d->domain);
		if (d->identity != NULL)
			auth_ar_value(s, "header.i", d->identity);
		if (d->selector != NULL)
			auth_ar_value(s, "header.s", d->selector);
		if (d->algorithm != NULL)
			auth_ar_value(s, "header.a", d->algorithm);
		if (d->b != NULL)
			auth_ar_value(s, "header.b", d->b);
	}
	g_string_append_printf(s, ";\n\tdmarc=%s", auth_result_name(a->dmarc.result));
	if (a->dmarc.policy != NULL) {
		g_autofree char *c = g_strdup_printf("p=%s dis=%s", a->dmarc.policy,
		    a->dmarc.disposition ? a->dmarc.disposition : "none");

		auth_ar_comment(s, c);
	} else {
		auth_ar_comment(s, a->dmarc.reason);
	}
	if (a->dmarc.from_domain != NULL)
		auth_ar_value(s, "header.from", a->dmarc.from_domain);
	return g_string_free(s, FALSE);
}

/* auth_skip_cfws - past blanks and (nested) comments */
static const char *
auth_skip_cfws(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\\' && depth > 0 && p[1] != '\0')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !g_ascii_isspace(*p))
			break;
	}
	return p;
}

gboolean
auth_results_ours(const char *value, const char *authserv_id)
{
	const char *p = auth_skip_cfws(value);
	GString *id = g_string_new(NULL);
	gboolean ours;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			g_string_append_c(id, *p);
		}
	} else {
		for (; *p != '\0' && *p != ';' && *p != '(' && !g_ascii_isspace(*p); p++)
			g_string_append_c(id, *p);
	}
	ours = id->len > 0 && g_ascii_strcasecmp(id->str, authserv_id) == 0;
	g_string_free(id, TRUE);
	return ours;
}

/* --- the report's "auth" member --- */

static void
auth_json_str(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	if (value != NULL)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void
auth_json_spf(JsonBuilder *b, const struct auth_spf *s)
{
	json_builder_begin_object(b);
	auth_json_str(b, "identity", s->identity);
	auth_json_str(b, "sender", s->sender);
	auth_json_str(b, "domain", s->domain);
	auth_json_str(b, "result", auth_result_name(s->result));
	auth_json_str(b, "reason", s->reason);
	json_builder_end_object(b);
}

void
auth_to_json(const struct moat_auth *a, JsonBuilder *b)
{
	json_builder_set_member_name(b, "auth");
	json_builder_begin_object(b);
	auth_json_str(b, "skipped", a->skipped);
	json_builder_set_member_name(b, "spf");
	json_builder_begin_array(b);
	if (a->spf_mailfrom.identity != NULL)
		auth_json_spf(b, &a->spf_mailfrom);
	if (a->spf_helo.identity != NULL)
		auth_json_spf(b, &a->spf_helo);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "dkim");
	json_builder_begin_array(b);
	for (guint i = 0; i < a->dkim->len; i++) {
		const struct auth_dkim *d = a->dkim->pdata[i];

		json_builder_begin_object(b);
		auth_json_str(b, "result", auth_result_name(d->result));
		auth_json_str(b, "domain", d->domain);
		auth_json_str(b, "selector", d->selector);
		auth_json_str(b, "algorithm", d->algorithm);
		auth_json_str(b, "identity", d->identity);
		json_builder_set_member_name(b, "key_bits");
		json_builder_add_int_value(b, d->key_bits);
		auth_json_str(b, "reason", d->reason);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "dmarc");
	json_builder_begin_object(b);
	auth_json_str(b, "result", auth_result_name(a->dmarc.result));
	auth_json_str(b, "from_domain", a->dmarc.from_domain);
	auth_json_str(b, "org_domain", a->dmarc.org_domain);
	auth_json_str(b, "policy", a->dmarc.policy);
	auth_json_str(b, "disposition", a->dmarc.disposition);
	json_builder_set_member_name(b, "spf_aligned");
	json_builder_add_boolean_value(b, a->dmarc.spf_aligned);
	json_builder_set_member_name(b, "dkim_aligned");
	json_builder_add_boolean_value(b, a->dmarc.dkim_aligned);
	auth_json_str(b, "reason", a->dmarc.reason);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "from_count");
	json_builder_add_int_value(b, a->from_count);
	json_builder_set_member_name(b, "dns_lookups");
	json_builder_add_int_value(b, a->dns_lookups);
	json_builder_set_member_name(b, "dns_timeouts");
	json_builder_add_int_value(b, a->dns_timeouts);
	json_builder_set_member_name(b, "elapsed_ms");
	json_builder_add_int_value(b, a->elapsed_ms);
	json_builder_end_object(b);
}
