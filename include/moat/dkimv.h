/*
 * dkimv.h - DKIM verification (RFC 6376) with libopendkim
 *
 * One part of sender authentication (auth.h has the result types and the
 * DNS every part asks); scanners/auth/dkimv.c.
 */
#ifndef MOAT_DKIMV_H
#define MOAT_DKIMV_H

#include "moat/auth.h"

/*
 * dkimv_check - verify every DKIM signature on the message in STREAM (as
 * received, CRLF line ends; read from its start), at most
 * [auth] dkim_max_signatures of them; one struct auth_dkim per signature
 * appended to OUT (which frees them with auth_dkim_free()).
 */
void dkimv_check(GPtrArray *out, struct auth_dns *dns, GMimeStream *stream,
    const struct moat_conf *conf);

#endif
