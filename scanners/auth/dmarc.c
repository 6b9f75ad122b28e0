/*
 * dmarc.c - DMARC (RFC 7489) for the From domain, with libopendmarc
 * In: the From domain, the SPF and DKIM results, the DNS (struct auth_dns).
 * Out: struct auth_dmarc. We look the policy up ourselves (auth_dns_txt(),
 * so the message's DNS deadline and the test zone apply) and hand the one
 * record to libopendmarc, which parses it; libopendmarc never asks the DNS.
 * Limits: two TXT lookups per message (the domain, its organisational domain).
 * Threading: dmarc_init() once (GOnce); after that libopendmarc's public
 * suffix table is only read (opendmarc_get_tld() looks up under its mutex and
 * never inserts), and every check has its own policy context.
 *
 * Alignment (RFC 7489 §3.1) is worked out here, not taken from
 * opendmarc_policy_fetch_alignment(): libopendmarc 1.4.2's
 * opendmarc_policy_check_alignment() calls a From domain that is the
 * organisational domain of the authenticated one aligned even in strict mode
 * (From example.com, SPF bounce.example.com, aspf=s), and in relaxed mode
 * aligns any two names of which one is a suffix of the other, public
 * suffixes included (From example.co.uk, DKIM d=co.uk). Its verdict is kept
 * in the reason when it differs from ours.
 */
#include <string.h>

#include <opendmarc/dmarc.h>

#include "moat/dmarc.h"
#include "moat/moat.h"

/* in libopendmarc.so but not in its header (opendmarc_tld.c) */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

#define DMARC_NAME_MAX	253		/* RFC 1035 name, without the trailing dot */

struct dmarc_init_state {
	int rc;
	char *err;			/* why init failed; kept for every later caller */
};

static struct dmarc_init_state dmarc_state = { MOAT_EINVAL, NULL };
static const char *dmarc_init_path;

/* dmarc_init_once - GOnce body: read the public suffix list at dmarc_init_path */
static gpointer
dmarc_init_once(gpointer unused)
{
	OPENDMARC_LIB_T lib;
	int st;

	(void)unused;
	memset(&lib, 0, sizeof(lib));
	lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
	if (dmarc_init_path == NULL || *dmarc_init_path == '\0') {
		dmarc_state.err = g_strdup("no public suffix list configured");
		return NULL;
	}
	if (strlen(dmarc_init_path) >= sizeof(lib.tld_source_file)) {
		dmarc_state.err = g_strdup("public suffix list path too long");
		return NULL;
	}
	/* libopendmarc reports a missing file only through errno; say it plainly */
	if (!g_file_test(dmarc_init_path, G_FILE_TEST_IS_REGULAR)) {
		dmarc_state.err = g_strdup_printf("public suffix list %s: not a readable file",
		    dmarc_init_path);
		return NULL;
	}
	g_strlcpy((char *)lib.tld_source_file, dmarc_init_path, sizeof(lib.tld_source_file));
	if ((st = opendmarc_policy_library_init(&lib)) != DMARC_PARSE_OKAY) {
		dmarc_state.err = g_strdup_printf("libopendmarc could not load %s (status %d)",
		    dmarc_init_path, st);
		return NULL;
	}
	dmarc_state.rc = 0;
	return NULL;
}

int
dmarc_init(const char *path, char **err)
{
	static GOnce once = G_ONCE_INIT;

	/* only the first call's PATH is read (init runs before the threads start) */
	if (once.status != G_ONCE_STATUS_READY)
		dmarc_init_path = path;
	g_once(&once, dmarc_init_once, NULL);
	if (dmarc_state.rc != 0 && err != NULL)
		*err = g_strdup(dmarc_state.err);
	return dmarc_state.rc;
}

/* dmarc_norm - DOMAIN lower-case, without leading and trailing dots; NULL when empty or too long */
static char *
dmarc_norm(const char *domain)
{
	const char *s, *e;

	if (domain == NULL)
		return NULL;
	for (s = domain; *s == '.'; s++)
		;
	for (e = s + strlen(s); e > s && e[-1] == '.'; e--)
		;
	if (e == s || e - s > DMARC_NAME_MAX)
		return NULL;
	return g_ascii_strdown(s, e - s);
}

char *
dmarc_org_domain(const char *domain)
{
	g_autofree char *d = dmarc_norm(domain);
	g_autofree char *probe = NULL;
	g_autofree char *org = NULL;
	u_char tld[DMARC_NAME_MAX + 8];

	if (d == NULL)
		return g_strdup(domain);
	if (dmarc_state.rc != 0)
		return g_steal_pointer(&d);
	/*
	 * A workaround: libopendmarc 1.4.2's opendmarc_reverse_domain() drops a leftmost
	 * label of one character ("b.com" reads as "com"), so we ask for a
	 * name one label longer: opendmarc_get_tld() takes the longest rule that
	 * matches, and a longer name has the same organisational domain unless
	 * DOMAIN is itself a public suffix, when the answer is PROBE. No rule
	 * (an unknown TLD) leaves TLD empty. Either way DOMAIN stands for itself.
	 */
	probe = g_strconcat("zz.", d, NULL);
	memset(tld, 0, sizeof(tld));
	if (strlen(probe) > DMARC_NAME_MAX
	    || opendmarc_get_tld((u_char *)probe, tld, sizeof(tld) - 1) != 0
	    || (org = dmarc_norm((char *)tld)) == NULL || strcmp(org, probe) == 0)
		return g_steal_pointer(&d);
	return g_steal_pointer(&org);
}

/* dmarc_aligned - RFC 7489 §3.1: strict = the same name, relaxed = the same organisational domain */
static gboolean
dmarc_aligned(const char *from, const char *from_org, const char *auth, int mode)
{
	g_autofree char *a = dmarc_norm(auth);
	g_autofree char *a_org = NULL;

	if (a == NULL)
		return FALSE;
	if (strcmp(a, from) == 0)
		return TRUE;
	if (mode == DMARC_RECORD_A_STRICT)
		return FALSE;
	a_org = dmarc_org_domain(a);
	return strcmp(a_org, from_org) == 0;
}

/* dmarc_is_record - the record starts with the DMARC1 version tag (RFC 7489 §6.4 ABNF: case as written) */
static gboolean
dmarc_is_record(const char *txt)
{
	const char *p = txt;

	if (*p++ != 'v')
		return FALSE;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '=')
		return FALSE;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "DMARC1", 6) != 0)
		return FALSE;
	p += 6;
	return *p == '\0' || *p == ';' || *p == ' ' || *p == '\t';
}

enum dmarc_lookup {
	DMARC_FOUND,			/* *record set: exactly one DMARC record */
	DMARC_ABSENT,			/* no name, no TXT, or no TXT that is DMARC */
	DMARC_SEVERAL,			/* more than one: RFC 7489 §6.6.3 step 3, no DMARC */
	DMARC_TEMPFAIL,
};

/* dmarc_lookup - the DMARC record at _dmarc.DOMAIN; *record is a new string when FOUND */
static enum dmarc_lookup
dmarc_lookup(char **record, struct auth_dns *dns, const char *domain)
{
	g_autofree char *name = g_strconcat("_dmarc.", domain, NULL);
	g_autoptr(GPtrArray) txt = NULL;
	const char *found = NULL;

	*record = NULL;
	switch (auth_dns_txt(dns, name, &txt)) {
	case AUTH_DNS_OK:
		break;
	case AUTH_DNS_TEMPFAIL:
		return DMARC_TEMPFAIL;
	default:
		return DMARC_ABSENT;
	}
	for (guint i = 0; i < txt->len; i++) {
		if (!dmarc_is_record(txt->pdata[i]))
			continue;	/* SPF and the like at the same name: not ours */
		if (found != NULL)
			return DMARC_SEVERAL;
		found = txt->pdata[i];
	}
	if (found == NULL)
		return DMARC_ABSENT;
	*record = g_strdup(found);
	return DMARC_FOUND;
}

static int
dmarc_spf_outcome(enum auth_result r)
{
	switch (r) {
	case AUTH_PASS:
		return DMARC_POLICY_SPF_OUTCOME_PASS;
	case AUTH_FAIL:
	case AUTH_SOFTFAIL:
	case AUTH_PERMERROR:
		return DMARC_POLICY_SPF_OUTCOME_FAIL;
	case AUTH_TEMPERROR:
		return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	default:
		return DMARC_POLICY_SPF_OUTCOME_NONE;
	}
}

static int
dmarc_dkim_outcome(enum auth_result r)
{
	switch (r) {
	case AUTH_PASS:
		return DMARC_POLICY_DKIM_OUTCOME_PASS;
	case AUTH_TEMPERROR:
		return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
	case AUTH_NONE:
		return DMARC_POLICY_DKIM_OUTCOME_NONE;
	default:
		return DMARC_POLICY_DKIM_OUTCOME_FAIL;
	}
}

static const char *
dmarc_policy_name(int p)
{
	switch (p) {
	case DMARC_RECORD_P_NONE:
		return "none";
	case DMARC_RECORD_P_QUARANTINE:
		return "quarantine";
	case DMARC_RECORD_P_REJECT:
		return "reject";
	default:
		return NULL;
	}
}

/* the arguments of one check, normalised */
struct dmarc_in {
	const char *from;		/* lower-case, no dots at the ends */
	const char *org;
	const struct auth_spf *spf;	/* the SPF result DMARC uses, or NULL */
	gboolean spf_is_helo;		/* SPF is HELO's (MAIL FROM was empty) */
	const GPtrArray *dkim;
};

/*
 * dmarc_evaluate - fill OUT from the one RECORD found at DOMAIN (IN->from, or
 * IN->org when AT_ORG) with libopendmarc context PCTX
 */
static void
dmarc_evaluate(struct auth_dmarc *out, DMARC_POLICY_T *pctx, const struct dmarc_in *in,
    const char *record, gboolean at_org)
{
	int st, p = 0, sp = 0, adkim = 0, aspf = 0, pct = 100, lib_dkim = 0, lib_spf = 0;
	int lib_verdict, policy;
	const char *spf_dom = NULL;
	gboolean lib_pass;

	/*
	 * The record first: it sets adkim=, which opendmarc_policy_store_dkim()
	 * uses to pick its one signature. DOMAIN is the From domain (libopendmarc
	 * takes it as such); the organisational domain is given only when the
	 * record is the organisational domain's, because libopendmarc applies
	 * sp= whenever it has one.
	 */
	st = opendmarc_policy_store_dmarc(pctx, (u_char *)record, (u_char *)in->from,
	    at_org ? (u_char *)in->org : NULL);
	if (st != DMARC_PARSE_OKAY) {
		if (st == DMARC_PARSE_ERROR_NO_REQUIRED_P) {
			/* RFC 7489 §6.6.3: no valid p= (and we send no reports): no DMARC */
			out->result = AUTH_NONE;
			out->reason = g_strdup_printf("DMARC record of %s has no p=",
			    at_org ? in->org : in->from);
		} else {
			out->result = AUTH_PERMERROR;
			out->reason = g_strdup_printf("bad DMARC record at %s: %s",
			    at_org ? in->org : in->from, opendmarc_policy_status_to_str(st));
		}
		return;
	}
	(void)opendmarc_policy_fetch_p(pctx, &p);
	(void)opendmarc_policy_fetch_sp(pctx, &sp);
	(void)opendmarc_policy_fetch_adkim(pctx, &adkim);
	(void)opendmarc_policy_fetch_aspf(pctx, &aspf);
	(void)opendmarc_policy_fetch_pct(pctx, &pct);

	if (in->spf != NULL && in->spf->domain != NULL) {
		spf_dom = in->spf->domain;
		(void)opendmarc_policy_store_spf(pctx, (u_char *)spf_dom,
		    dmarc_spf_outcome(in->spf->result),
		    in->spf_is_helo ? DMARC_POLICY_SPF_ORIGIN_HELO
		    : DMARC_POLICY_SPF_ORIGIN_MAILFROM, (u_char *)in->spf->reason);
		out->spf_aligned = in->spf->result == AUTH_PASS
		    && dmarc_aligned(in->from, in->org, spf_dom, aspf);
	}
	for (guint i = 0; in->dkim != NULL && i < in->dkim->len; i++) {
		const struct auth_dkim *d = in->dkim->pdata[i];

		if (d == NULL || d->domain == NULL)
			continue;
		(void)opendmarc_policy_store_dkim(pctx, (u_char *)d->domain, (u_char *)d->selector,
		    dmarc_dkim_outcome(d->result), (u_char *)d->reason);
		if (d->result == AUTH_PASS && dmarc_aligned(in->from, in->org, d->domain, adkim))
			out->dkim_aligned = TRUE;
	}
	lib_verdict = opendmarc_get_policy_to_enforce(pctx);
	(void)opendmarc_policy_fetch_alignment(pctx, &lib_dkim, &lib_spf);
	lib_pass = lib_verdict == DMARC_POLICY_PASS;

	/* sp= for a subdomain under its organisational domain's record (§6.6.3 step 6) */
	policy = at_org && sp != DMARC_RECORD_P_UNSPECIFIED ? sp : p;
	out->policy = g_strdup(dmarc_policy_name(policy));
	if (out->spf_aligned || out->dkim_aligned) {
		out->result = AUTH_PASS;
		out->disposition = g_strdup("none");
		out->reason = g_strdup(out->dkim_aligned ? "aligned DKIM pass" : "aligned SPF pass");
	} else {
		out->result = AUTH_FAIL;
		out->reason = g_strdup("neither SPF nor DKIM passed aligned");
		/*
		 * §6.6.4: pct= applies the policy to that share of failing mail;
		 * the rest gets the next policy down (quarantine -> none,
		 * reject -> quarantine).
		 */
		if (policy == DMARC_RECORD_P_NONE || pct >= 100 || g_random_int_range(0, 100) < pct)
			out->disposition = g_strdup(out->policy);
		else {
			out->disposition = g_strdup(policy == DMARC_RECORD_P_REJECT ? "quarantine"
			    : "none");
			g_free(out->reason);
			out->reason = g_strdup_printf("neither SPF nor DKIM passed aligned; "
			    "sampled out by pct=%d", pct);
		}
	}
	if (lib_pass != (out->result == AUTH_PASS)) {
		char *r = g_strdup_printf("%s (libopendmarc 1.4.2 would say %s)", out->reason,
		    lib_pass ? "pass" : "fail");

		g_free(out->reason);
		out->reason = r;
	}
}

void
dmarc_check(struct auth_dmarc *out, struct auth_dns *dns, const char *client_ip,
    const char *from_domain, const struct auth_spf *mailfrom, const struct auth_spf *helo,
    const GPtrArray *dkim)
{
	g_autofree char *from = NULL;
	g_autofree char *org = NULL;
	g_autofree char *record = NULL;
	DMARC_POLICY_T *pctx = NULL;
	struct dmarc_in in;
	enum dmarc_lookup lk;
	gboolean at_org = FALSE;
	const char *ip;

	auth_dmarc_clear(out);
	if (from_domain == NULL || *from_domain == '\0') {
		out->result = AUTH_NONE;
		out->reason = g_strdup("no single From domain");
		return;
	}
	out->from_domain = g_strdup(from_domain);
	if ((from = dmarc_norm(from_domain)) == NULL) {
		out->result = AUTH_NONE;
		out->reason = g_strdup("From domain is not a domain name");
		return;
	}
	if (dmarc_state.rc != 0) {
		out->result = AUTH_TEMPERROR;
		out->reason = g_strdup_printf("DMARC not set up: %s",
		    dmarc_state.err != NULL ? dmarc_state.err : "dmarc_init() not called");
		return;
	}
	org = dmarc_org_domain(from);
	out->org_domain = g_strdup(org);

	/* RFC 7489 §6.6.3: the From domain's record, else its organisational domain's */
	lk = dmarc_lookup(&record, dns, from);
	if (lk == DMARC_ABSENT && strcmp(from, org) != 0) {
		lk = dmarc_lookup(&record, dns, org);
		at_org = TRUE;
	}
	switch (lk) {
	case DMARC_FOUND:
		break;
	case DMARC_ABSENT:
		out->result = AUTH_NONE;
		out->reason = g_strdup("no DMARC record");
		return;
	case DMARC_SEVERAL:
		out->result = AUTH_NONE;
		out->reason = g_strdup_printf("several DMARC records at _dmarc.%s",
		    at_org ? org : from);
		return;
	case DMARC_TEMPFAIL:
		out->result = AUTH_TEMPERROR;
		out->reason = g_strdup_printf("DNS lookup of _dmarc.%s failed",
		    at_org ? org : from);
		return;
	}

	ip = client_ip != NULL && *client_ip != '\0' ? client_ip : "0.0.0.0";
	if ((pctx = opendmarc_policy_connect_init((u_char *)ip, strchr(ip, ':') != NULL)) == NULL) {
		out->result = AUTH_TEMPERROR;
		out->reason = g_strdup("libopendmarc: no memory");
		return;
	}
	(void)opendmarc_policy_store_from_domain(pctx, (u_char *)from);
	in.from = from;
	in.org = org;
	/* RFC 7489 uses MAIL FROM; HELO stands in when MAIL FROM was empty (RFC 7208 §2.4) */
	in.spf = mailfrom != NULL && mailfrom->identity != NULL ? mailfrom
	    : helo != NULL && helo->identity != NULL ? helo : NULL;
	in.spf_is_helo = in.spf != NULL && in.spf == helo;
	in.dkim = dkim;
	dmarc_evaluate(out, pctx, &in, record, at_org);
	(void)opendmarc_policy_connect_shutdown(pctx);
}
