/*
 * dmarc.h - DMARC (RFC 7489) with libopendmarc
 *
 * One part of sender authentication (auth.h has the result types and the
 * DNS every part asks); scanners/auth/dmarc.c.
 */
#ifndef MOAT_DMARC_H
#define MOAT_DMARC_H

#include "moat/auth.h"

/*
 * dmarc_init - load the public suffix list at PATH for organisational
 * domains; once per process (later calls return the first call's result).
 * Returns 0, or MOAT_EINVAL with *err saying why (caller g_free()s).
 */
int dmarc_init(const char *path, char **err);

/*
 * dmarc_check - DMARC for FROM_DOMAIN given the SPF and DKIM results: looks
 * the policy up (the domain, then its organisational domain), works out
 * alignment, result and the disposition the policy asks for. Fills OUT
 * (cleared first).
 */
void dmarc_check(struct auth_dmarc *out, struct auth_dns *dns, const char *client_ip,
    const char *from_domain, const struct auth_spf *mailfrom, const struct auth_spf *helo,
    const GPtrArray *dkim);

/* dmarc_org_domain - DOMAIN's organisational domain (public suffix list); caller g_free()s */
char *dmarc_org_domain(const char *domain);

#endif
