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
