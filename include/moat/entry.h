/*
 * entry.h - the syntax of one [lists] or [outbound] entry
 *
 * An address, a domain, a network or a SHA-256, as the config stores it
 * (lower case, networks as ADDR/PREFIX). conf.c checks every entry with
 * entry_normalise() when it reads the file; lists.c parses networks with
 * entry_parse_network() to match them. Pure functions, thread-safe.
 */
#ifndef MOAT_ENTRY_H
#define MOAT_ENTRY_H

#include <glib.h>

/* What the entries of one list are; 0 is "not a list" in conf.c's key table. */
enum entry_kind {
	ENTRY_ADDRESS = 1,	/* local@domain, case-insensitive */
	ENTRY_DOMAIN,		/* example.com (exactly), .example.com (it and its subdomains) */
	ENTRY_NETWORK,		/* 192.0.2.0/24, 2001:db8::/32, or one address */
	ENTRY_SHA256,		/* 64 hex digits */
};

/* One parsed network: ADDR with the bits past PREFIX all zero. */
struct entry_net {
	int family;		/* AF_INET or AF_INET6 */
	guint8 addr[16];	/* network byte order; 4 bytes used for AF_INET */
	guint prefix;		/* 0..32 or 0..128 */
};

/*
 * entry_parse_network - TEXT as ADDR/PREFIX, or as one address (/32, /128).
 * An IPv4-mapped IPv6 network (::ffff:a.b.c.d/96 and longer) becomes the
 * IPv4 one. Returns FALSE with *why set (caller g_free()s) when TEXT is not
 * an address, the prefix is not a number in range for the family, or bits
 * past the prefix are set (a typo for another network).
 */
gboolean entry_parse_network(struct entry_net *out, char **why, const char *text);

/* entry_addr_in_net - whether the address ADDR (text; IPv4-mapped IPv6 counts as IPv4) is in NET */
gboolean entry_addr_in_net(const char *addr, const struct entry_net *net);

/*
 * entry_normalise - ENTRY (of kind KIND) as the config stores it: lower
 * case, <> around an address dropped, a trailing dot of a domain dropped, a
 * network in canonical ADDR/PREFIX form. Caller g_free()s. NULL with *why
 * set (caller g_free()s) when the entry is not valid for KIND.
 */
char *entry_normalise(char **why, enum entry_kind kind, const char *entry);

#endif
