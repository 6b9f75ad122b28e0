/*
 * lists.c - [lists] allow and block lists, [outbound] direction
 *
 * In: the report's envelope and parts, the config's sorted lists. Out:
 * policy.blocked_* findings, the allow entry covering a message, and the
 * allow-listed part a finding sits in. Networks are parsed with inet_pton
 * (never inet_aton, which takes "10" for 10.0.0.0); client addresses come
 * from the milter as inet_ntop text or "local". Addresses, domains and
 * hashes are found by binary search in the sorted lists; networks are tried
 * one by one (such lists are short). Pure, thread-safe.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "moat/confkeys.h"
#include "moat/lists.h"

/* [lists]: allow and block lists (conf->lists), parsed by conf.c */
static const struct conf_key lists_conf_keys[] = {
	{ "lists", "allow_senders", CONF_LIST_ADDRESS, CONF_OFF(lists.allow_senders), "", 0, CONF_LIST_MAX,
	    "Envelope senders (MAIL FROM, any case) whose mail is accepted whatever it scores, "
	    "but for av.* and policy.blocked_* findings. Forgeable: prefer allow_networks." },
	{ "lists", "block_senders", CONF_LIST_ADDRESS, CONF_OFF(lists.block_senders), "", 0, CONF_LIST_MAX,
	    "Envelope senders whose mail gets policy.blocked_sender (the reject threshold)." },
	{ "lists", "allow_domains", CONF_LIST_DOMAIN, CONF_OFF(lists.allow_domains), "", 0, CONF_LIST_MAX,
	    "Envelope sender domains allowed as allow_senders: example.com exactly, "
	    ".example.com for it and its subdomains." },
	{ "lists", "block_domains", CONF_LIST_DOMAIN, CONF_OFF(lists.block_domains), "", 0, CONF_LIST_MAX,
	    "Envelope sender domains blocked as block_senders (example.com, .example.com)." },
	{ "lists", "allow_networks", CONF_LIST_NETWORK, CONF_OFF(lists.allow_networks), "", 0, CONF_LIST_MAX,
	    "SMTP client networks (192.0.2.0/24, 2001:db8::/32, or one address) allowed as "
	    "allow_senders; the client address cannot be forged." },
	{ "lists", "block_networks", CONF_LIST_NETWORK, CONF_OFF(lists.block_networks), "", 0, CONF_LIST_MAX,
	    "SMTP client networks whose mail gets policy.blocked_network (the reject threshold)." },
	{ "lists", "allow_sha256", CONF_LIST_SHA256, CONF_OFF(lists.allow_sha256), "", 0, CONF_LIST_MAX,
	    "SHA-256 of attachments (or container members) whose findings, and those of what "
	    "is inside them, are switched off (kept in the report, scored 0); not av.*." },
	{ "lists", "block_sha256", CONF_LIST_SHA256, CONF_OFF(lists.block_sha256), "", 0, CONF_LIST_MAX,
	    "SHA-256 of attachments or container members that give policy.blocked_hash "
	    "(the reject threshold)." },
	{ "lists", "allow_recipients", CONF_LIST_ADDRESS, CONF_OFF(lists.allow_recipients), "", 0, CONF_LIST_MAX,
	    "Recipients who get mail unfiltered (abuse@ must see the phishing), as allow_senders; "
	    "only when every recipient of the message is listed." },
};

const struct conf_group lists_conf_group = CONF_GROUP("lists", lists_conf_keys);

/* [outbound]: which mail is outbound, and its thresholds (conf->outbound) */
static const struct conf_key lists_outbound_keys[] = {
	{ "outbound", "internal_networks", CONF_LIST_NETWORK, CONF_OFF(outbound.internal_networks), "", 0, CONF_LIST_MAX,
	    "Client networks whose mail is outbound, as is mail after SMTP AUTH ({auth_authen})." },
	{ "outbound", "tag_score", CONF_INT, CONF_OFF(outbound.tag_score), "5", 1, 100000,
	    "[policy] tag_score for outbound mail." },
	{ "outbound", "quarantine_score", CONF_INT, CONF_OFF(outbound.quarantine_score), "10", 1, 100000,
	    "[policy] quarantine_score for outbound mail." },
	{ "outbound", "reject_score", CONF_INT, CONF_OFF(outbound.reject_score), "20", 1, 100000,
	    "[policy] reject_score for outbound mail. The defaults equal the inbound ones: an "
	    "executable sent from an authenticated account more likely means a stolen password "
	    "than a habit." },
};

const struct conf_group lists_outbound_group = CONF_GROUP("outbound", lists_outbound_keys);

static int
lists_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

gboolean
lists_has(char *const *list, const char *s)
{
	if (list == NULL || s == NULL)
		return FALSE;
	return bsearch(s, list, g_strv_length((char **)list), sizeof(char *), lists_cmp) != NULL;
}

const char *
lists_network_match(char *const *networks, const char *addr)
{
	for (gsize i = 0; networks != NULL && networks[i] != NULL; i++) {
		struct entry_net net;
		g_autofree char *why = NULL;

		/* Entries were checked when the config was read; a bad one never matches. */
		if (entry_parse_network(&net, &why, networks[i]) && entry_addr_in_net(addr, &net))
			return networks[i];
	}
	return NULL;
}

const char *
lists_domain_match(char *const *domains, const char *domain)
{
	g_autofree char *d = NULL;
	char *const *hit;
	gsize n, count;

	if (domains == NULL || domain == NULL || *domain == '\0')
		return NULL;
	d = g_strconcat(".", domain, NULL);
	for (char *p = d; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	n = strlen(d);
	if (n > 1 && d[n - 1] == '.')
		d[n - 1] = '\0';
	count = g_strv_length((char **)domains);
	if ((hit = bsearch(d + 1, domains, count, sizeof(char *), lists_cmp)) != NULL)
		return *hit;
	/* ".example.com" covers example.com and every name ending in it. */
	for (const char *p = d; p != NULL; p = strchr(p + 1, '.'))
		if ((hit = bsearch(p, domains, count, sizeof(char *), lists_cmp)) != NULL)
			return *hit;
	return NULL;
}

/* lists_sender_domain - the domain of ADDR (after its last '@'), or NULL */
static const char *
lists_sender_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* lists_has_address - whether address ADDR (any case) is in LIST */
static gboolean
lists_has_address(char *const *list, const char *addr)
{
	g_autofree char *a = NULL;

	if (addr == NULL || *addr == '\0' || list == NULL || *list == NULL)
		return FALSE;
	a = g_ascii_strdown(addr, -1);
	return lists_has(list, a);
}

enum moat_direction
lists_direction(const struct moat_envelope *env, const struct moat_conf *conf)
{
	if (env->auth != NULL && *env->auth != '\0')
		return MOAT_OUTBOUND;
	if (lists_network_match(conf->outbound.internal_networks, env->client_addr) != NULL)
		return MOAT_OUTBOUND;
	return MOAT_INBOUND;
}

/* lists_add_once - a finding ID at PATH with EVIDENCE, unless REP has that one already */
static void
lists_add_once(struct moat_report *rep, const char *id, GPtrArray *path, const char *evidence)
{
	g_autofree char *where = report_path_display(path);

	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (strcmp(f->id, id) == 0 && strcmp(f->path_display, where) == 0)
			return;
	}
	report_add_finding(rep, id, path, "%s", evidence);
}

void
lists_block(struct moat_report *rep, const struct moat_conf *conf)
{
	const char *from = rep->env.mail_from, *hit;
	g_autofree char *why = NULL;

	if (lists_has_address(conf->lists.block_senders, from))
		why = g_strdup_printf("sender %s is in [lists] block_senders", from);
	else if ((hit = lists_domain_match(conf->lists.block_domains, lists_sender_domain(from))) != NULL)
		why = g_strdup_printf("sender %s matches [lists] block_domains %s", from, hit);
	if (why != NULL)
		lists_add_once(rep, "policy.blocked_sender", NULL, why);
	g_clear_pointer(&why, g_free);

	if ((hit = lists_network_match(conf->lists.block_networks, rep->env.client_addr)) != NULL) {
		why = g_strdup_printf("client %s is in [lists] block_networks %s",
		    rep->env.client_addr, hit);
		lists_add_once(rep, "policy.blocked_network", NULL, why);
		g_clear_pointer(&why, g_free);
	}

	if (conf->lists.block_sha256 == NULL || conf->lists.block_sha256[0] == NULL)
		return;
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (p->sha256[0] == '\0' || !lists_has(conf->lists.block_sha256, p->sha256))
			continue;
		why = g_strdup_printf("SHA-256 %s is in [lists] block_sha256", p->sha256);
		lists_add_once(rep, "policy.blocked_hash", p->path, why);
		g_clear_pointer(&why, g_free);
	}
}

/* lists_all_recipients - a description when every recipient is in allow_recipients, else NULL */
static char *
lists_all_recipients(const GPtrArray *rcpts, char *const *allow)
{
	if (rcpts == NULL || rcpts->len == 0 || allow == NULL || allow[0] == NULL)
		return NULL;
	/* One message, one verdict: a listed abuse@ must not unfilter a colleague's copy. */
	for (guint i = 0; i < rcpts->len; i++)
		if (!lists_has_address(allow, rcpts->pdata[i]))
			return NULL;
	if (rcpts->len == 1)
		return g_strdup_printf("recipient %s", (const char *)rcpts->pdata[0]);
	return g_strdup_printf("recipients %s and %u more", (const char *)rcpts->pdata[0],
	    rcpts->len - 1);
}

char *
lists_allowed(const struct moat_report *rep, const struct moat_conf *conf)
{
	const char *from = rep->env.mail_from, *hit;

	if ((hit = lists_network_match(conf->lists.allow_networks, rep->env.client_addr)) != NULL)
		return g_strdup_printf("network %s (client %s)", hit, rep->env.client_addr);
	if (lists_has_address(conf->lists.allow_senders, from))
		return g_strdup_printf("sender %s", from);
	if ((hit = lists_domain_match(conf->lists.allow_domains, lists_sender_domain(from))) != NULL)
		return g_strdup_printf("domain %s (sender %s)", hit, from);
	/* Recipients past max_recipients were not kept: nobody can tell they are all listed. */
	if (rep->env.rcpt_dropped > 0)
		return NULL;
	return lists_all_recipients(rep->env.rcpt_to, conf->lists.allow_recipients);
}

gboolean
lists_binding(const struct moat_finding *f)
{
	return g_str_has_prefix(f->id, "av.") || g_str_has_prefix(f->id, "policy.blocked_");
}

/* lists_path_starts - whether PATH begins with the LEN elements of PREFIX */
static gboolean
lists_path_starts(const GPtrArray *path, const GPtrArray *prefix, guint len)
{
	if (path->len < len || prefix->len != len)
		return FALSE;
	for (guint i = 0; i < len; i++)
		if (strcmp(path->pdata[i], prefix->pdata[i]) != 0)
			return FALSE;
	return TRUE;
}

const struct moat_part *
lists_hash_allowed(const struct moat_report *rep, const struct moat_conf *conf,
    const struct moat_finding *f)
{
	if (conf->lists.allow_sha256 == NULL || conf->lists.allow_sha256[0] == NULL || f->path->len == 0)
		return NULL;
	/* Outermost first: an allowed archive covers what was found inside it. */
	for (guint len = 1; len <= f->path->len; len++) {
		const struct moat_part *first = NULL;
		gboolean all = TRUE;

		for (guint i = 0; i < rep->parts->len && all; i++) {
			const struct moat_part *p = rep->parts->pdata[i];

			if (!lists_path_starts(f->path, p->path, len))
				continue;
			if (p->sha256[0] == '\0' || !lists_has(conf->lists.allow_sha256, p->sha256))
				all = FALSE;
			else if (first == NULL)
				first = p;
		}
		if (all && first != NULL)
			return first;
	}
	return NULL;
}
