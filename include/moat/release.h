/*
 * release.h - what an admin does to a held item: release it to its
 * recipients, or delete it
 *
 * The one place `moat quarantine release|delete` and moat-web do it, with
 * the same steps and history words, through the store's interface
 * (quarantine.h) and an SMTP delivery to [quarantine] release_host
 * (quarsmtp.h). A release first claims its item (held -> releasing,
 * "release started"), which the store does as one compare-and-set, so of
 * two releases at once (CLI and web, two browsers, two gateways) one
 * delivers and the other gets MOAT_EBUSY; then it sends, then records
 * "released", or puts the item back to held ("release failed", with the
 * reason). WHO, the actor, goes into the history, syslog (mail facility,
 * as the caller opened it) and the X-Moat-Released line: the admin's
 * login for the CLI, "web:NAME" for moat-web.
 *
 * Blocking: a release waits for the MTA, [quarantine] release_timeout
 * seconds per SMTP step. Reentrant, as the store is.
 */
#ifndef MOAT_RELEASE_H
#define MOAT_RELEASE_H

#include <glib.h>

#include "moat/conf.h"
#include "moat/quarantine.h"

/*
 * quar_release - deliver item ID to TO (char *, borrowed; NULL or empty:
 * its original envelope recipients) through C's release_host, from its
 * original envelope sender, recorded as WHO. 0 with *REPLY what the MTA
 * said ("250 2.0.0 Ok: queued as ...") and *RCPTS the recipients as one
 * line ("a, b"). Else *ERR says why: MOAT_ENOENT (no such item, or its
 * message is gone), MOAT_EINVAL (no recipient), MOAT_EBUSY (another
 * release has it or had it, or the delivery failed: the item is held
 * again), or the store's error when the message was DELIVERED but could
 * not be recorded (*ERR says so: it must not be released again). Caller
 * g_free()s the strings.
 */
int quar_release(struct quar *q, char **reply, char **rcpts, char **err,
    const struct conf_quarantine *c, const char *id, const GPtrArray *to, const char *who);

/*
 * quar_delete - remove item ID's message, held or released (one being
 * released is someone's delivery in progress: MOAT_EBUSY), recorded as WHO
 * ("deleted"); its row and history stay. *ERR on failure, caller g_free()s.
 */
int quar_delete(struct quar *q, char **err, const char *id, const char *who);

#endif
