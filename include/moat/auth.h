/*
 * auth.h - who really sent a message: SPF, DKIM, DMARC, look-alike senders
 *
 * auth_check() runs the checks over a message as received (scanners/auth/):
 * SPF for MAIL FROM and HELO (libspf2), every DKIM signature (libopendkim),
 * DMARC for the From domain (libopendmarc), then look-alike and display-name
 * senders. Results go into the report (rep->auth), findings into its
 * findings; auth_results_header() writes them as RFC 8601's header.
 *
 * DNS: the system resolver, every lookup bounded by the message's DNS
 * deadline ([auth] dns_budget_ms). A lookup asked past the deadline is not
 * sent and counts as a temporary error, so a dead DNS server costs the
 * budget and nothing more. Unit tests put a zone in struct auth_dns
 * instead (the only fake DNS in moat).
 *
 * Thread safety: the libraries are set up once (auth_init()); each check
 * works on its own struct auth_dns and report.
 */
#ifndef MOAT_AUTH_H
#define MOAT_AUTH_H

#include <gmime/gmime.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "moat/conf.h"
#include "moat/report.h"

/* Results in RFC 8601's words (auth_result_name()). */
enum auth_result {
	AUTH_NONE = 0,
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,		/* SPF only */
	AUTH_NEUTRAL,
	AUTH_POLICY,		/* DKIM: valid, but not acceptable (a key too short) */
	AUTH_TEMPERROR,
	AUTH_PERMERROR,
};

/* One SPF check (RFC 7208). Strings owned. */
struct auth_spf {
	enum auth_result result;
	char *identity;			/* "mailfrom" or "helo"; NULL when not checked */
	char *sender;			/* the checked address: "a@example.com", "postmaster@helo" */
	char *domain;			/* its domain */
	char *reason;			/* libspf2's comment, or why it was not checked; or NULL */
};

/* One DKIM signature (RFC 6376). Strings owned. */
struct auth_dkim {
	enum auth_result result;
	char *domain;			/* d=, or NULL when the signature is unreadable */
	char *selector;			/* s= */
	char *algorithm;		/* "rsa-sha256", "ed25519-sha256", ... */
	char *identity;			/* i=, or NULL */
	char *b;			/* the first 8 characters of b= (RFC 6008 header.b) */
	guint key_bits;			/* 0 when unknown */
	char *reason;			/* "body hash did not verify", "key not found", ...; or NULL */
};

/* DMARC for the From domain (RFC 7489). Strings owned. */
struct auth_dmarc {
	enum auth_result result;
	char *from_domain;		/* the one From domain, or NULL (none or several) */
	char *org_domain;		/* its organisational domain */
	char *policy;			/* the record's p= (sp= for a subdomain): "none",
					 * "quarantine", "reject"; NULL when there is no record */
	char *disposition;		/* what the policy asks for this message: "none",
					 * "quarantine", "reject" */
	gboolean spf_aligned;		/* SPF passed for a domain aligned with From */
	gboolean dkim_aligned;		/* a signature passed for a domain aligned with From */
	char *reason;			/* or NULL */
};

/* Everything auth_check() found out about one message. */
struct moat_auth {
	char *skipped;			/* why the checks did not run ("authenticated submission",
					 * "internal network", "no client address"), or NULL */
	struct auth_spf spf_mailfrom;	/* identity NULL when MAIL FROM is empty */
	struct auth_spf spf_helo;
	GPtrArray *dkim;		/* struct auth_dkim *, owned: every signature, in order */
	struct auth_dmarc dmarc;
	guint from_count;		/* From mailboxes in the header */
	guint dns_lookups;		/* lookups made */
	guint dns_timeouts;		/* lookups that timed out or were past the budget */
	guint elapsed_ms;		/* the checks' wall time */
};

/* What the checks ask the DNS for. */
enum auth_dns_status {
	AUTH_DNS_OK = 0,		/* records found */
	AUTH_DNS_NXDOMAIN,		/* the name does not exist */
	AUTH_DNS_NODATA,		/* the name exists, no record of that type */
	AUTH_DNS_TEMPFAIL,		/* timeout, SERVFAIL, past the deadline */
};

/*
 * The DNS one message's checks use. DEADLINE bounds them all. ZONE and
 * SPF_ZONE are for unit tests only: when ZONE is set auth_dns_txt() answers
 * from it and never asks the resolver; when SPF_ZONE is set SPF is checked
 * against it (an SPF_server_t * over libspf2's zone layer).
 */
struct auth_dns {
	gint64 deadline;		/* monotonic µs; 0: no deadline */
	GHashTable *zone;		/* tests: lower-case name -> GPtrArray of char * (TXT);
					 * an entry holding the one string "TIMEOUT" times out */
	void *spf_zone;			/* tests: SPF_server_t * */
	guint lookups;			/* counted by every lookup */
	guint timeouts;			/* counted by every lookup that timed out or was late */
};

/* auth_result_name - "pass", "fail", ... (RFC 8601) */
const char *auth_result_name(enum auth_result r);

/*
 * auth_init - set the libraries up once per process (libopendmarc's public
 * suffix list from CONF). Later calls do nothing. On failure returns
 * MOAT_EINVAL and *err says why (caller g_free()s); the checks then give
 * temperror for DMARC.
 */
int auth_init(const struct moat_conf *conf, char **err);

/*
 * auth_check - run the checks on the message in STREAM (borrowed: read from
 * its start, position restored) with REP's envelope and headers, which the
 * MIME inventory has filled. DNS (NULL: the system resolver under
 * [auth] dns_budget_ms) is what the checks ask. Sets rep->auth and adds
 * findings. Never fails: what cannot be checked is temperror or permerror.
 */
void auth_check(struct moat_report *rep, GMimeStream *stream, const struct moat_conf *conf,
    struct auth_dns *dns);

/*
 * auth_results_header - the value of the Authentication-Results header for
 * AUTH (RFC 8601), AUTHSERV_ID first, without the field name and with
 * folding left to the MTA. Caller g_free()s.
 */
char *auth_results_header(const struct moat_auth *auth, const struct moat_envelope *env,
    const char *authserv_id);

/*
 * auth_results_ours - whether the Authentication-Results value VALUE claims
 * AUTHSERV_ID (RFC 8601 §5: such a header from outside is forged). Compares
 * the authserv-id case-insensitively, after comments and blanks.
 */
gboolean auth_results_ours(const char *value, const char *authserv_id);

/* auth_authserv_id - [auth] authserv_id, or the host name when that is empty; static */
const char *auth_authserv_id(const struct moat_conf *conf);

/* auth_free - release AUTH and everything in it; NULL is a no-op */
void auth_free(struct moat_auth *auth);

/* auth_to_json - add AUTH as member "auth" of the JSON object BUILDER is in */
void auth_to_json(const struct moat_auth *auth, JsonBuilder *builder);

/*
 * auth_dns_txt - the TXT records at NAME, each record's strings joined, in
 * *OUT (a new GPtrArray of char *, free with g_ptr_array_unref()) when
 * AUTH_DNS_OK. Past DNS's deadline nothing is asked: AUTH_DNS_TEMPFAIL.
 * scanners/auth/dns.c
 */
enum auth_dns_status auth_dns_txt(struct auth_dns *dns, const char *name, GPtrArray **out);

/* auth_dns_left_ms - milliseconds left before DNS's deadline (G_MAXINT without one); dns.c */
gint auth_dns_left_ms(const struct auth_dns *dns);

/* what the parts' results hold, released; auth.c */
void auth_spf_clear(struct auth_spf *s);
void auth_dkim_free(struct auth_dkim *d);
void auth_dmarc_clear(struct auth_dmarc *d);

#endif
