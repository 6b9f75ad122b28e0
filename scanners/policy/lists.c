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

#define LISTS_DOMAIN_MAX 253	/* RFC 1035 */
#define LISTS_ADDRESS_MAX 320	/* 64 + @ + 255, with room */

/* lists_ip - ADDR as an IPv4 or IPv6 address (IPv4-mapped IPv6 made IPv4); FALSE if it is none */
static gboolean
lists_ip(int *family, guint8 out[16], const char *addr)
{
	static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (addr == NULL)
		return FALSE;
	if (inet_pton(AF_INET, addr, out) == 1) {
		*family = AF_INET;
		return TRUE;
	}
	if (inet_pton(AF_INET6, addr, out) != 1)
		return FALSE;
	*family = AF_INET6;
	if (memcmp(out, mapped, sizeof(mapped)) == 0) {
		memmove(out, out + 12, 4);
		*family = AF_INET;
	}
	return TRUE;
}

/* lists_prefix_equal - whether A and B agree on their first BITS bits */
static gboolean
lists_prefix_equal(const guint8 *a, const guint8 *b, guint bits)
{
	guint bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return FALSE;
	if (rest == 0)
		return TRUE;
	return ((a[bytes] ^ b[bytes]) & (guint8)(0xff << (8 - rest))) == 0;
}

/*
 * lists_host_bits_clear - whether NET has no bit set past its prefix:
 * 10.1.2.3/8 is a typo, either for a host or for 10.0.0.0/8; say which.
 */
static gboolean
lists_host_bits_clear(const struct lists_net *net, char **why, const char *text)
{
	guint8 masked[16];
	guint len = net->family == AF_INET ? 4 : 16;
	guint bytes = net->prefix / 8, rest = net->prefix % 8;
	char buf[INET6_ADDRSTRLEN];

	memcpy(masked, net->addr, len);
	if (rest != 0)
		masked[bytes++] &= (guint8)(0xff << (8 - rest));
	memset(masked + bytes, 0, len - bytes);
	if (memcmp(masked, net->addr, len) == 0)
		return TRUE;
	inet_ntop(net->family, masked, buf, sizeof(buf));
	*why = g_strdup_printf("'%s': bits are set past the /%u prefix (the network is %s/%u)",
	    text, net->prefix, buf, net->prefix);
	return FALSE;
}

gboolean
lists_parse_network(struct lists_net *out, char **why, const char *text)
{
	g_autofree char *addr = g_strdup(text);
	char *slash = strchr(addr, '/'), *end = NULL;
	guint max;
	gint64 prefix;
	gboolean mapped;

	if (slash != NULL)
		*slash++ = '\0';
	if (!lists_ip(&out->family, out->addr, addr)) {
		*why = g_strdup_printf("'%s': not an IPv4 or IPv6 address", text);
		return FALSE;
	}
	/* An IPv4-mapped entry was made IPv4 above: its prefix counts from bit 96. */
	max = out->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		out->prefix = max;
		return TRUE;
	}
	prefix = g_ascii_strtoll(slash, &end, 10);
	if (!g_ascii_isdigit(*slash) || *end != '\0' || strlen(slash) > 3) {
		*why = g_strdup_printf("'%s': prefix length '%s' is not a number", text, slash);
		return FALSE;
	}
	mapped = out->family == AF_INET && strchr(addr, ':') != NULL;
	if (mapped) {
		if (prefix < 96) {
			*why = g_strdup_printf("'%s': an IPv4-mapped network needs a prefix of 96 or more",
			    text);
			return FALSE;
		}
		prefix -= 96;
	}
	if (prefix > max) {
		*why = g_strdup_printf("'%s': prefix length %s is out of range %s..%u for %s", text,
		    slash, mapped ? "96" : "0", mapped ? max + 96 : max,
		    out->family == AF_INET && !mapped ? "IPv4" : "IPv6");
		return FALSE;
	}
	out->prefix = (guint)prefix;
	return lists_host_bits_clear(out, why, text);
}

gboolean
lists_addr_in_net(const char *addr, const struct lists_net *net)
{
	guint8 a[16];
	int family;

	if (!lists_ip(&family, a, addr) || family != net->family)
		return FALSE;
	return lists_prefix_equal(a, net->addr, net->prefix);
}

/* lists_domain_ok - whether D (lower case, no leading dot) is a plausible domain name */
static gboolean
lists_domain_ok(const char *d)
{
	gsize label = 0;

	if (*d == '\0' || strlen(d) > LISTS_DOMAIN_MAX)
		return FALSE;
	for (const char *p = d; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63)
				return FALSE;
			if (*p == '\0')
				return TRUE;
			label = 0;
			continue;
		}
		/* Letters, digits, '-', '_' (seen in real names), and UTF-8 for IDNs. */
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && (guchar)*p < 0x80)
			return FALSE;
		label++;
	}
}

/* lists_norm_domain - a domain entry, or NULL with *why */
static char *
lists_norm_domain(char **why, const char *entry, gboolean dotted_ok)
{
	g_autofree char *d = g_ascii_strdown(entry, -1);
	gsize n = strlen(d);
	const char *name = d;

	if (n > 1 && d[n - 1] == '.' && d[n - 2] != '.')
		d[n - 1] = '\0';	/* the root: example.com. is example.com */
	if (dotted_ok && *name == '.')
		name++;
	if (strchr(d, '@') != NULL) {
		*why = g_strdup_printf("'%s': an address, not a domain (addresses go in *_senders)", entry);
		return NULL;
	}
	if (!lists_domain_ok(name)) {
		*why = g_strdup_printf("'%s': not a domain name", entry);
		return NULL;
	}
	return g_steal_pointer(&d);
}

/* lists_norm_address - an address entry, or NULL with *why */
static char *
lists_norm_address(char **why, const char *entry)
{
	g_autofree char *a = NULL;
	g_autofree char *dom = NULL;
	g_autofree char *dwhy = NULL;
	gsize n = strlen(entry);
	const char *at;

	if (n >= 2 && entry[0] == '<' && entry[n - 1] == '>')
		a = g_ascii_strdown(entry + 1, (gssize)(n - 2));
	else
		a = g_ascii_strdown(entry, -1);
	at = strrchr(a, '@');
	if (at == NULL || at == a || strlen(a) > LISTS_ADDRESS_MAX) {
		*why = g_strdup_printf("'%s': not an address local@domain%s", entry,
		    at == NULL ? " (domains go in *_domains)" : "");
		return NULL;
	}
	for (const char *p = a; *p != '\0'; p++) {
		if ((guchar)*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f) {
			*why = g_strdup_printf("'%s': not an address local@domain", entry);
			return NULL;
		}
	}
	if ((dom = lists_norm_domain(&dwhy, at + 1, FALSE)) == NULL) {
		*why = g_strdup_printf("'%s': not an address local@domain (bad domain)", entry);
		return NULL;
	}
	/* The trailing dot of the domain, if any, is gone in DOM. */
	return g_strdup_printf("%.*s@%s", (int)(at - a), a, dom);
}

char *
lists_normalise(char **why, enum lists_kind kind, const char *entry)
{
	struct lists_net net;
	char buf[INET6_ADDRSTRLEN];

	switch (kind) {
	case LISTS_ADDRESS:
		return lists_norm_address(why, entry);
	case LISTS_DOMAIN:
		return lists_norm_domain(why, entry, TRUE);
	case LISTS_NETWORK:
		if (!lists_parse_network(&net, why, entry))
			return NULL;
		inet_ntop(net.family, net.addr, buf, sizeof(buf));
		return g_strdup_printf("%s/%u", buf, net.prefix);
	case LISTS_SHA256:
		if (strlen(entry) != 64 || strspn(entry, "0123456789abcdefABCDEF") != 64) {
			*why = g_strdup_printf("'%s': not a SHA-256 (64 hex digits)", entry);
			return NULL;
		}
		return g_ascii_strdown(entry, -1);
	}
	g_assert_not_reached();
}

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
		struct lists_net net;
		g_autofree char *why = NULL;

		/* Entries were checked when the config was read; a bad one never matches. */
		if (lists_parse_network(&net, &why, networks[i]) && lists_addr_in_net(addr, &net))
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
