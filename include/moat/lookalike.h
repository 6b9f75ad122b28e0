/*
 * lookalike.h - senders that imitate protected domains and names
 *
 * One part of sender authentication (auth.h has the result types and the
 * DNS every part asks); scanners/auth/lookalike.c.
 */
#ifndef MOAT_LOOKALIKE_H
#define MOAT_LOOKALIKE_H

#include "moat/auth.h"

/*
 * lookalike_check - a From domain that imitates a protected one, or a
 * display name that shows a protected name or address while the From
 * domain is outside (findings auth.lookalike_domain, auth.display_name).
 * Reads rep->hdr, rep->env (recipients) and rep->auth (DMARC).
 */
void lookalike_check(struct moat_report *rep, const struct moat_conf *conf);

#endif
