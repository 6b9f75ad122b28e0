/*
 * spf.c - SPF (RFC 7208) for MAIL FROM and HELO, with libspf2
 *
 * In: the client address (IPv4 or IPv6 text), HELO name, MAIL FROM address
 * and the message's struct auth_dns. Out: one struct auth_spf (auth.h),
 * strings owned by it. Never fails: what cannot be checked is temperror
 * (DNS) or none (nothing to check), with the reason in out->reason.
 *
 * DNS. Each thread keeps one SPF_server_t (GPrivate, freed when the thread
 * ends; making one per check would cost about 3 µs, measured) whose DNS
 * layer is ours, the budget layer: every lookup libspf2 asks goes through
 * spf_budget_lookup(), which
 *   - answers past the message's deadline (auth_dns.deadline) with
 *     TRY_AGAIN without asking, counted in auth_dns.timeouts only;
 *   - answers the obsolete SPF RR type (99) with NO_DATA without asking:
 *     RFC 7208 §3.1 and §4.4 use TXT only, and libspf2 would ask for type
 *     99 first, doubling every record fetch;
 *   - otherwise asks the layer below and counts auth_dns.lookups, and
 *     auth_dns.timeouts when the answer is TRY_AGAIN (timeout, SERVFAIL).
 * The layer below is libspf2's resolv layer (res_nquery() on a per-thread
 * res_state), or, when a test put a zone server in auth_dns.spf_zone, that
 * server's DNS layer, so tests go through the same budget and counting.
 *
 * Limits: the deadline is checked before each lookup, not during one. A
 * lookup in flight is bounded only by the resolver's own
 * "options timeout:N attempts:N" (resolv.conf or RES_OPTIONS; glibc's
 * default is 5 s x 2 attempts per server), so the worst overshoot of the
 * budget is one lookup's timeout: keep those small on a mail host.
 * Lookups per check are capped by libspf2 (10 DNS mechanisms, 10 MX and PTR
 * names). No result cache: each check asks again.
 *
 * libspf2 prints nothing: its warning, info and debug handlers are off and
 * its error handler, which it calls only on internal failure (no memory,
 * res_ninit() failing) and which must not return, goes to syslog and
 * aborts. Loopback clients (127/8, ::1) pass: libspf2 gives them a free
 * ride.
 *
 * Threads: reentrant. Shared state is libspf2's handler pointers (set once
 * under g_once) and a test zone (only read). Everything else is per thread.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_resolv.h>

#include "moat/spf.h"

#define SPF_REASON_MAX	400	/* bytes of libspf2's comment kept in the reason */

/* One thread's SPF server and the budget layer under it. */
struct spf_thread {
	SPF_server_t *server;		/* owned; its resolver is &budget */
	SPF_dns_server_t budget;	/* our layer; layer_below set per check */
	SPF_dns_server_t *resolv;	/* owned: libspf2's resolv layer */
	struct auth_dns *dns;		/* borrowed for the check running, else NULL */
};

static void spf_thread_free(gpointer p);
static GPrivate spf_thread_key = G_PRIVATE_INIT(spf_thread_free);

/* spf_log_fatal - libspf2's error handler: must not return (spf_log.h) */
static void __attribute__((noreturn))
spf_log_fatal(const char *file, int line, const char *msg)
{
	syslog(LOG_ERR, "libspf2 internal error at %s:%d: %s", file != NULL ? file : "?", line,
	    msg != NULL ? msg : "?");
	abort();
}

/* spf_once - silence libspf2 once per process */
static gpointer
spf_once(gpointer unused)
{
	(void)unused;
	SPF_error_handler = spf_log_fatal;
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
	return NULL;
}

/* spf_budget_lookup - the budget layer (see the top of the file) */
static SPF_dns_rr_t *
spf_budget_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct spf_thread *t = layer->hook;
	struct auth_dns *dns = t->dns;
	SPF_dns_rr_t *rr;

	if (type == ns_t_spf)
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	if (dns != NULL && dns->deadline != 0 && g_get_monotonic_time() >= dns->deadline) {
		dns->timeouts++;
		return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
	}
	rr = SPF_dns_lookup(layer->layer_below, domain, type, should_cache);
	if (dns != NULL) {
		dns->lookups++;
		if (rr != NULL && rr->herrno == TRY_AGAIN)
			dns->timeouts++;
	}
	return rr;
}

static void
spf_thread_free(gpointer p)
{
	struct spf_thread *t = p;

	if (t == NULL)
		return;
	if (t->server != NULL)
		SPF_server_free(t->server);	/* leaves &t->budget alone: destroy_resolver is 0 */
	if (t->resolv != NULL)
		SPF_dns_free(t->resolv);
	g_free(t);
}

/* spf_thread_get - this thread's server, made on first use; NULL when out of memory */
static struct spf_thread *
spf_thread_get(void)
{
	static GOnce once = G_ONCE_INIT;
	struct spf_thread *t = g_private_get(&spf_thread_key);

	if (t != NULL)
		return t;
	g_once(&once, spf_once, NULL);
	t = g_new0(struct spf_thread, 1);
	t->budget.destroy = NULL;	/* we free it: SPF_dns_free() leaves it */
	t->budget.lookup = spf_budget_lookup;
	t->budget.name = "moat-budget";
	t->budget.hook = t;
	if ((t->resolv = SPF_dns_resolv_new(NULL, "moat-resolv", 0)) == NULL ||
	    (t->server = SPF_server_new_dns(&t->budget, 0)) == NULL) {
		spf_thread_free(t);
		return NULL;
	}
	/* explanations come from DNS: keep them to printable characters */
	SPF_server_set_sanitize(t->server, 1);
	g_private_set(&spf_thread_key, t);
	return t;
}

/* spf_reason_set - OUT's reason from TEXT (may be NULL): one printable line */
static void
spf_reason_set(struct auth_spf *out, const char *text, const char *detail)
{
	GString *s = g_string_new(text != NULL ? text : "");

	if (detail != NULL && *detail != '\0' && strstr(s->str, detail) == NULL)
		g_string_append_printf(s, "%s%s", s->len > 0 ? ": " : "", detail);
	if (s->len > SPF_REASON_MAX)
		g_string_truncate(s, SPF_REASON_MAX);
	for (gsize i = 0; i < s->len; i++)
		if ((guchar)s->str[i] < 0x20 || (guchar)s->str[i] >= 0x7f)
			s->str[i] = '?';
	g_free(out->reason);
	out->reason = g_string_free(s, FALSE);
}

static enum auth_result
spf_result_map(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return AUTH_PASS;
	case SPF_RESULT_FAIL:		return AUTH_FAIL;
	case SPF_RESULT_SOFTFAIL:	return AUTH_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return AUTH_NEUTRAL;
	case SPF_RESULT_NONE:		return AUTH_NONE;
	case SPF_RESULT_PERMERROR:	return AUTH_PERMERROR;
	case SPF_RESULT_TEMPERROR:	return AUTH_TEMPERROR;
	case SPF_RESULT_INVALID:
	default:			return AUTH_TEMPERROR;
	}
}

/*
 * spf_result_of - the result of a query that returned ERR. libspf2 leaves
 * the result unset (INVALID) when a record does not compile (syntax) or
 * a DNS error is unknown to it: the first is permerror (RFC 7208 §4.6), the
 * second temperror.
 */
static enum auth_result
spf_result_of(SPF_response_t *res, SPF_errcode_t err)
{
	if (SPF_response_result(res) != SPF_RESULT_INVALID)
		return spf_result_map(SPF_response_result(res));
	if (err == SPF_E_DNS_ERROR || err == SPF_E_NO_MEMORY || err == SPF_E_INTERNAL_ERROR)
		return AUTH_TEMPERROR;
	return AUTH_PERMERROR;
}

/* spf_set_client - REQ's client address from IP text; FALSE when it is none */
static gboolean
spf_set_client(SPF_request_t *req, const char *ip)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (ip == NULL)
		return FALSE;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS;
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return FALSE;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {	/* RFC 7208 §5: checked as IPv4 */
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS;
	}
	return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS;
}

/*
 * spf_comment - libspf2's comment without the host name it puts first
 * ("vm: domain of a.test designates ..."): in Authentication-Results the
 * authserv-id already says who checked
 */
static const char *
spf_comment(const char *c)
{
	const char *colon = c != NULL ? strstr(c, ": ") : NULL;

	if (colon == NULL || memchr(c, ' ', (size_t)(colon - c)) != NULL)
		return c;
	return colon + 2;
}

/* spf_run - ask libspf2 with REQ set up; fills OUT's result and reason */
static void
spf_run(struct auth_spf *out, SPF_request_t *req)
{
	SPF_response_t *res = NULL;
	const char *detail = NULL;
	SPF_errcode_t err = SPF_request_query_mailfrom(req, &res);

	if (res == NULL) {
		out->result = AUTH_TEMPERROR;
		spf_reason_set(out, "out of memory", NULL);
		return;
	}
	out->result = spf_result_of(res, err);
	/* the first error says why a record did not count (syntax, DNS) */
	for (int i = 0; i < SPF_response_messages(res); i++) {
		SPF_error_t *e = SPF_response_message(res, i);

		if (e != NULL && SPF_error_errorp(e)) {
			detail = SPF_error_message(e);
			break;
		}
	}
	spf_reason_set(out, spf_comment(SPF_response_get_header_comment(res)), detail);
	SPF_response_free(res);
}

void
spf_check(struct auth_spf *out, struct auth_dns *dns, const char *client_ip,
    const char *helo, const char *sender)
{
	gboolean use_helo = sender == NULL || *sender == '\0';
	SPF_request_t *req = NULL;
	struct spf_thread *t;

	auth_spf_clear(out);
	out->identity = g_strdup(use_helo ? "helo" : "mailfrom");
	out->result = AUTH_NONE;
	if (use_helo) {
		if (helo == NULL || *helo == '\0') {
			spf_reason_set(out, "no HELO name", NULL);
			return;
		}
		out->sender = g_strconcat("postmaster@", helo, NULL);
		out->domain = g_strdup(helo);
	} else {
		const char *at = strrchr(sender, '@');

		/* libspf2's reading: "a@b" is itself, "b" and "@b" are postmaster@b */
		if (at != NULL && at != sender)
			out->sender = g_strdup(sender);
		else
			out->sender = g_strconcat("postmaster@", at != NULL ? at + 1 : sender, NULL);
		out->domain = g_strdup(strrchr(out->sender, '@') + 1);
	}
	if (out->domain[0] == '\0') {
		spf_reason_set(out, "no domain to check", NULL);
		return;
	}
	if (dns != NULL && dns->deadline != 0 && g_get_monotonic_time() >= dns->deadline) {
		dns->timeouts++;
		out->result = AUTH_TEMPERROR;
		spf_reason_set(out, "DNS budget spent", NULL);
		return;
	}
	if ((t = spf_thread_get()) == NULL) {
		out->result = AUTH_TEMPERROR;
		spf_reason_set(out, "out of memory", NULL);
		return;
	}
	t->budget.layer_below = dns != NULL && dns->spf_zone != NULL ?
	    ((SPF_server_t *)dns->spf_zone)->resolver : t->resolv;
	if ((req = SPF_request_new(t->server)) == NULL) {
		out->result = AUTH_TEMPERROR;
		spf_reason_set(out, "out of memory", NULL);
		return;
	}
	if (!spf_set_client(req, client_ip)) {
		spf_reason_set(out, "no client address", NULL);
		goto out;
	}
	if ((helo != NULL && *helo != '\0' && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) ||
	    SPF_request_set_env_from(req, out->sender) != SPF_E_SUCCESS) {
		out->result = AUTH_TEMPERROR;
		spf_reason_set(out, "out of memory", NULL);
		goto out;
	}
	req->use_helo = use_helo;	/* libspf2 then checks helo_dom, not env_from's domain */
	t->dns = dns;
	spf_run(out, req);
	t->dns = NULL;
out:
	t->budget.layer_below = NULL;
	SPF_request_free(req);
}
