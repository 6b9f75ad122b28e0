/*
 * spf.h - SPF (RFC 7208) with libspf2
 *
 * One part of sender authentication (auth.h has the result types and the
 * DNS every part asks); scanners/auth/spf.c.
 */
#ifndef MOAT_SPF_H
#define MOAT_SPF_H

#include "moat/auth.h"

/*
 * spf_check - SPF for one identity: MAIL FROM's SENDER when it is not NULL
 * or empty, else HELO's (postmaster@HELO), from CLIENT_IP (IPv4 or IPv6
 * text). Fills OUT (cleared first). Never fails: what cannot be checked
 * is temperror or permerror.
 */
void spf_check(struct auth_spf *out, struct auth_dns *dns, const char *client_ip,
    const char *helo, const char *sender);

#endif
