/*
 * mime.h - the MIME inventory: parse a message with GMime and list its parts
 *
 * In: a GMimeStream holding one RFC 5322 message. Out: header facts, one
 * struct moat_part per leaf (decoded once: size, SHA-256, sniffed type,
 * kept bytes), and findings for malformed MIME, bad base64 and limits.
 * Each call uses its own GMimeParserOptions, so it is safe from any thread
 * once mime_init() has run.
 */
#ifndef MOAT_MIME_H
#define MOAT_MIME_H

#include <gmime/gmime.h>
#include "moat/conf.h"
#include "moat/report.h"

/* mime_init - initialise GMime once per process (idempotent, thread-safe) */
void mime_init(void);

/*
 * mime_inventory - parse STREAM (borrowed; read from its current position)
 * into REP under CONF's limits. Never fails on bad input: what could not be
 * read becomes a finding. HOOK (may be NULL; borrowed) gets every decoded
 * leaf, the lenient reading's salvaged parts too, while its bytes are at
 * hand; an encoded message/rfc822 that the inventory opens is not handed
 * over whole, its leaves are. Returns 0, or MOAT_ENOMEM / MOAT_EIO / MOAT_EINTERNAL.
 */
int mime_inventory(struct moat_report *rep, GMimeStream *stream, const struct moat_conf *conf,
    const struct moat_leaf_hook *hook);

#endif
