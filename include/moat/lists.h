/*
 * lists.h - [lists] allow and block lists, and which way a message goes
 *
 * The config keeps every list as a sorted vector of normalised entries
 * (lists_normalise(): lower case, networks as ADDR/PREFIX), so a lookup is a
 * binary search and `moat config check` prints what is matched. The policy
 * (policy.c) asks this module three things: which block entries a message
 * hits (findings policy.blocked_*), which allow entry covers it, and whether
 * a finding sits in a part whose SHA-256 is allow-listed. Pure functions of
 * the report and the config; thread-safe.
 */
#ifndef MOAT_LISTS_H
#define MOAT_LISTS_H

#include <glib.h>

#include "moat/conf.h"
#include "moat/report.h"

/* What the entries of one list are; 0 is "not a list" in conf.c's key table. */
enum lists_kind {
	LISTS_ADDRESS = 1,	/* local@domain, case-insensitive */
	LISTS_DOMAIN,		/* example.com (exactly), .example.com (it and its subdomains) */
	LISTS_NETWORK,		/* 192.0.2.0/24, 2001:db8::/32, or one address */
	LISTS_SHA256,		/* 64 hex digits */
};

/* One parsed network: ADDR with the bits past PREFIX all zero. */
struct lists_net {
	int family;		/* AF_INET or AF_INET6 */
	guint8 addr[16];	/* network byte order; 4 bytes used for AF_INET */
	guint prefix;		/* 0..32 or 0..128 */
};

/*
 * lists_parse_network - TEXT as ADDR/PREFIX, or as one address (/32, /128).
 * An IPv4-mapped IPv6 network (::ffff:a.b.c.d/96 and longer) becomes the
 * IPv4 one. Returns FALSE with *why set (caller g_free()s) when TEXT is not
 * an address, the prefix is not a number in range for the family, or bits
 * past the prefix are set (a typo for another network).
 */
gboolean lists_parse_network(struct lists_net *out, char **why, const char *text);

/* lists_addr_in_net - whether the address ADDR (text; IPv4-mapped IPv6 counts as IPv4) is in NET */
gboolean lists_addr_in_net(const char *addr, const struct lists_net *net);

/*
 * lists_normalise - ENTRY (of kind KIND) as the config stores it: lower
 * case, <> around an address dropped, a trailing dot of a domain dropped, a
 * network in canonical ADDR/PREFIX form. Caller g_free()s. NULL with *why
 * set (caller g_free()s) when the entry is not valid for KIND.
 */
char *lists_normalise(char **why, enum lists_kind kind, const char *entry);

/* lists_has - whether LIST (sorted with strcmp, NULL-terminated, may be NULL) holds S */
gboolean lists_has(char *const *list, const char *s);

/* lists_network_match - the first entry of NETWORKS holding client address ADDR, or NULL; borrowed */
const char *lists_network_match(char *const *networks, const char *addr);

/*
 * lists_domain_match - the entry of DOMAINS that matches DOMAIN (any case):
 * "example.com" matches only itself, ".example.com" itself and every name
 * under it. NULL when none; borrowed from DOMAINS.
 */
const char *lists_domain_match(char *const *domains, const char *domain);

/*
 * lists_direction - MOAT_OUTBOUND when ENV carries an SMTP AUTH user or its
 * client address is in [outbound] internal_networks; else MOAT_INBOUND.
 */
enum moat_direction lists_direction(const struct moat_envelope *env, const struct moat_conf *conf);

/*
 * lists_block - add to REP a finding for each block entry the message hits:
 * policy.blocked_sender (block_senders, block_domains), policy.blocked_network
 * (block_networks), policy.blocked_hash for each part (container members
 * too) whose SHA-256 is in block_sha256. A finding already in REP with the
 * same id and path is not added twice, so the policy may run again.
 */
void lists_block(struct moat_report *rep, const struct moat_conf *conf);

/*
 * lists_allowed - the allow entry that covers the whole message, tried in
 * this order: allow_networks, allow_senders, allow_domains, then
 * allow_recipients (only when every recipient is listed). Returns a short
 * description such as "sender alice@example.com" (caller g_free()s), or NULL.
 */
char *lists_allowed(const struct moat_report *rep, const struct moat_conf *conf);

/*
 * lists_binding - whether no allow entry may switch F off: a virus (av.*)
 * or an admin's own block (policy.blocked_*).
 */
gboolean lists_binding(const struct moat_finding *f);

/*
 * lists_hash_allowed - the allow-listed part F was found in or under, or
 * NULL. Parts are matched by path; when several parts share a path (two
 * attachments of the same name), all of them must be allow-listed, so a
 * second file cannot hide behind the name of an allowed one. Borrowed from REP.
 */
const struct moat_part *lists_hash_allowed(const struct moat_report *rep,
    const struct moat_conf *conf, const struct moat_finding *f);

#endif
