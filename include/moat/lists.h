/*
 * lists.h - [lists] allow and block lists, and which way a message goes
 *
 * The config keeps every list as a sorted vector of normalised entries
 * (entry_normalise(): lower case, networks as ADDR/PREFIX), so a lookup is a
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
#include "moat/entry.h"
#include "moat/report.h"

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
