/*
 * dns.c - TXT lookups for DKIM keys and DMARC records, under a deadline
 *
 * In: a name and the message's struct auth_dns. Out: the TXT records, or
 * why there are none. The system resolver (res_nquery() on a per-thread
 * resolver state, so threads never share one); each lookup gets what is
 * left of the deadline as its timeout (in whole seconds, the resolver's
 * unit: at least 1) and one attempt per server. A lookup asked past the
 * deadline is not sent. With a zone in struct auth_dns (unit tests) the
 * answer comes from the zone and the resolver is never asked.
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include "moat/auth.h"

#define DNS_ANSWER_MAX	65536	/* a TXT answer larger than this is truncated: tempfail */
#define DNS_NAME_MAX	253

/* dns_state - this thread's resolver state, initialised on first use; NULL when it cannot be */
static res_state
dns_state(void)
{
	static __thread struct __res_state state;
	static __thread gboolean ready;

	if (!ready) {
		if (res_ninit(&state) != 0)
			return NULL;
		ready = TRUE;
	}
	return &state;
}

gint
auth_dns_left_ms(const struct auth_dns *dns)
{
	gint64 left;

	if (dns->deadline == 0)
		return G_MAXINT;
	left = (dns->deadline - g_get_monotonic_time()) / 1000;
	return left <= 0 ? 0 : (gint)MIN(left, (gint64)G_MAXINT);
}

/* dns_zone_txt - NAME's records in the test zone */
static enum auth_dns_status
dns_zone_txt(struct auth_dns *dns, const char *name, GPtrArray **out)
{
	g_autofree char *key = g_ascii_strdown(name, -1);
	GPtrArray *recs;
	gsize n = strlen(key);

	if (n > 0 && key[n - 1] == '.')
		key[n - 1] = '\0';
	if ((recs = g_hash_table_lookup(dns->zone, key)) == NULL)
		return AUTH_DNS_NXDOMAIN;
	if (recs->len == 1 && strcmp(recs->pdata[0], "TIMEOUT") == 0) {
		dns->timeouts++;
		return AUTH_DNS_TEMPFAIL;
	}
	if (recs->len == 0)
		return AUTH_DNS_NODATA;
	*out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < recs->len; i++)
		g_ptr_array_add(*out, g_strdup(recs->pdata[i]));
	return AUTH_DNS_OK;
}

/* dns_txt_rdata - one TXT record's character-strings joined, or NULL when malformed */
static char *
dns_txt_rdata(const guint8 *p, gsize len)
{
	GString *s = g_string_sized_new(len);

	while (len > 0) {
		gsize n = p[0];

		if (n + 1 > len) {
			g_string_free(s, TRUE);
			return NULL;
		}
		g_string_append_len(s, (const char *)p + 1, (gssize)n);
		p += n + 1;
		len -= n + 1;
	}
	return g_string_free(s, FALSE);
}

/* dns_parse - the TXT records of answer ANS (LEN bytes) */
static enum auth_dns_status
dns_parse(const guint8 *ans, int len, GPtrArray **out)
{
	ns_msg msg;
	ns_rr rr;
	int n;

	if (ns_initparse(ans, len, &msg) < 0)
		return AUTH_DNS_TEMPFAIL;
	n = ns_msg_count(msg, ns_s_an);
	*out = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < n; i++) {
		char *txt;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;	/* the CNAMEs on the way */
		if ((txt = dns_txt_rdata(ns_rr_rdata(rr), ns_rr_rdlen(rr))) != NULL)
			g_ptr_array_add(*out, txt);
	}
	if ((*out)->len == 0) {
		g_ptr_array_unref(*out);
		*out = NULL;
		return AUTH_DNS_NODATA;
	}
	return AUTH_DNS_OK;
}

enum auth_dns_status
auth_dns_txt(struct auth_dns *dns, const char *name, GPtrArray **out)
{
	g_autofree guint8 *ans = NULL;
	res_state st;
	gint left;
	int len;

	*out = NULL;
	if (name == NULL || *name == '\0' || strlen(name) > DNS_NAME_MAX)
		return AUTH_DNS_NXDOMAIN;
	if ((left = auth_dns_left_ms(dns)) == 0) {
		dns->timeouts++;
		return AUTH_DNS_TEMPFAIL;
	}
	dns->lookups++;
	if (dns->zone != NULL)
		return dns_zone_txt(dns, name, out);
	if ((st = dns_state()) == NULL)
		return AUTH_DNS_TEMPFAIL;
	/* The resolver counts in seconds: what is left, rounded up, once per server. */
	st->retrans = left == G_MAXINT ? RES_TIMEOUT : MAX(1, (left + 999) / 1000);
	st->retry = 1;
	ans = g_malloc(DNS_ANSWER_MAX);
	len = res_nquery(st, name, ns_c_in, ns_t_txt, ans, DNS_ANSWER_MAX);
	if (len < 0) {
		switch (st->res_h_errno) {
		case HOST_NOT_FOUND:
			return AUTH_DNS_NXDOMAIN;
		case NO_DATA:
			return AUTH_DNS_NODATA;
		default:
			dns->timeouts++;
			return AUTH_DNS_TEMPFAIL;
		}
	}
	if (len > DNS_ANSWER_MAX)
		return AUTH_DNS_TEMPFAIL;
	return dns_parse(ans, len, out);
}
