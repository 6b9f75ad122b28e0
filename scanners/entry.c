/*
 * entry.c - the syntax of list entries (entry.h)
 *
 * In: one entry as an admin writes it in moat.conf. Out: its normalised
 * form, or why it is not valid. Used by conf.c when it reads [lists] and
 * [outbound], and by lists.c to match networks. Pure functions, no I/O,
 * thread-safe. Includes neither conf.h nor lists.h: the config and the
 * lists both build on it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "moat/entry.h"

#define ENTRY_DOMAIN_MAX 253	/* RFC 1035 */
#define ENTRY_ADDRESS_MAX 320	/* 64 + @ + 255, with room */

/* entry_ip - ADDR as an IPv4 or IPv6 address (IPv4-mapped IPv6 made IPv4); FALSE if it is none */
static gboolean
entry_ip(int *family, guint8 out[16], const char *addr)
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

/* entry_prefix_equal - whether A and B agree on their first BITS bits */
static gboolean
entry_prefix_equal(const guint8 *a, const guint8 *b, guint bits)
{
	guint bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return FALSE;
	if (rest == 0)
		return TRUE;
	return ((a[bytes] ^ b[bytes]) & (guint8)(0xff << (8 - rest))) == 0;
}

/*
 * entry_host_bits_clear - whether NET has no bit set past its prefix:
 * 10.1.2.3/8 is a typo, either for a host or for 10.0.0.0/8; say which.
 */
static gboolean
entry_host_bits_clear(const struct entry_net *net, char **why, const char *text)
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
entry_parse_network(struct entry_net *out, char **why, const char *text)
{
	g_autofree char *addr = g_strdup(text);
	char *slash = strchr(addr, '/'), *end = NULL;
	guint max;
	gint64 prefix;
	gboolean mapped;

	if (slash != NULL)
		*slash++ = '\0';
	if (!entry_ip(&out->family, out->addr, addr)) {
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
	return entry_host_bits_clear(out, why, text);
}

gboolean
entry_addr_in_net(const char *addr, const struct entry_net *net)
{
	guint8 a[16];
	int family;

	if (!entry_ip(&family, a, addr) || family != net->family)
		return FALSE;
	return entry_prefix_equal(a, net->addr, net->prefix);
}

/* entry_domain_ok - whether D (lower case, no leading dot) is a plausible domain name */
static gboolean
entry_domain_ok(const char *d)
{
	gsize label = 0;

	if (*d == '\0' || strlen(d) > ENTRY_DOMAIN_MAX)
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

/* entry_norm_domain - a domain entry, or NULL with *why */
static char *
entry_norm_domain(char **why, const char *entry, gboolean dotted_ok)
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
	if (!entry_domain_ok(name)) {
		*why = g_strdup_printf("'%s': not a domain name", entry);
		return NULL;
	}
	return g_steal_pointer(&d);
}

/* entry_norm_address - an address entry, or NULL with *why */
static char *
entry_norm_address(char **why, const char *entry)
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
	if (at == NULL || at == a || strlen(a) > ENTRY_ADDRESS_MAX) {
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
	if ((dom = entry_norm_domain(&dwhy, at + 1, FALSE)) == NULL) {
		*why = g_strdup_printf("'%s': not an address local@domain (bad domain)", entry);
		return NULL;
	}
	/* The trailing dot of the domain, if any, is gone in DOM. */
	return g_strdup_printf("%.*s@%s", (int)(at - a), a, dom);
}

char *
entry_normalise(char **why, enum entry_kind kind, const char *entry)
{
	struct entry_net net;
	char buf[INET6_ADDRSTRLEN];

	switch (kind) {
	case ENTRY_ADDRESS:
		return entry_norm_address(why, entry);
	case ENTRY_DOMAIN:
		return entry_norm_domain(why, entry, TRUE);
	case ENTRY_NETWORK:
		if (!entry_parse_network(&net, why, entry))
			return NULL;
		inet_ntop(net.family, net.addr, buf, sizeof(buf));
		return g_strdup_printf("%s/%u", buf, net.prefix);
	case ENTRY_SHA256:
		if (strlen(entry) != 64 || strspn(entry, "0123456789abcdefABCDEF") != 64) {
			*why = g_strdup_printf("'%s': not a SHA-256 (64 hex digits)", entry);
			return NULL;
		}
		return g_ascii_strdown(entry, -1);
	}
	g_assert_not_reached();
}

