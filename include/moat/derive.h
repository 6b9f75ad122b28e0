/*
 * derive.h - the derive stage: files moat makes itself, walked like members
 *
 * Some of what a message carries only exists once it is decoded: the file
 * an HTML page builds in the browser from its script (smuggle.h), the
 * members of an encrypted ZIP whose password the body gives (password.h,
 * decrypt.h). derive_message() runs after the MIME inventory and before
 * the walk ends (the libclamav engine is still held): it decodes them and
 * walks them as members (walk_derived()), so the name checks, the lure
 * detectors and libclamav see them like any attachment, with their
 * provenance in moat_part.derived. Then it judges what stays encrypted:
 *  - opened: judged by its contents; container.decrypted (score 0) says
 *    how it was opened;
 *  - not opened, member names visible and none a program, script,
 *    shortcut, archive or disk image: container.encrypted on each (tag);
 *  - not opened and such names (lure.encrypted_runnable), or the names are
 *    hidden (lure.encrypted_hidden_names: 7z or RAR with encrypted
 *    headers), or a password the body gives does not open it
 *    (lure.password_mismatch): held (T1027.013).
 * Bounded: DECRYPT_MAX_ENTRIES entries and PASSWORD_MAX_CANDIDATES
 * candidates per message, the walk's limits and the time budget.
 */
#ifndef MOAT_DERIVE_H
#define MOAT_DERIVE_H

#include "moat/conf.h"
#include "moat/report.h"

struct walk;

/*
 * derive_message - decode, decrypt and walk what REP's parts carry (W: the
 * message's walk, borrowed; NULL when libclamav is off: then only the
 * judgement of encrypted parts runs), then judge the encrypted archives.
 */
void derive_message(struct moat_report *rep, const struct moat_conf *conf, struct walk *w);

#endif
