/*
 * password.h - the passwords a message gives for its encrypted archives
 *
 * Lures ship an encrypted ZIP or 7z so that no gateway can read it and put
 * the password in the mail ("Passwort: 4711", "密码：abc", a token on the
 * line after "password", a date such as 07-12-2026). password_find() reads
 * the subject and the text and HTML parts (each decoded from its charset to
 * Unicode) and returns the candidates, most likely first; the container
 * walk tries each on the encrypted members (decrypt.h). Pure function of
 * the report, reentrant, no I/O.
 */
#ifndef MOAT_PASSWORD_H
#define MOAT_PASSWORD_H

#include <glib.h>

#include "moat/report.h"

#define PASSWORD_MAX_CANDIDATES	16	/* candidates returned per message by default */
#define PASSWORD_MAX_LEN	64	/* bytes of one candidate; longer tokens are not passwords */

/* One candidate password. */
struct password {
	char *text;			/* UTF-8, owned */
	gboolean cued;			/* follows a password word ("password: X", "Kennwort"),
					 * not only a likely shape (a date, a lone token) */
	char *where;			/* where it was found, for evidence: "subject", or the
					 * part's path_display; owned */
};

/*
 * password_find - the candidate passwords of REP (its subject and its MIME
 * text/plain and text/html parts whose bytes were kept, read as text.h
 * gives them), deduplicated, cued ones first, at most MAX. Uncued ones are
 * date-like tokens (07-12-2026, 2026.12.07, 07122026) and, only when REP
 * already holds an encrypted part, a line that is one token of 4-8 digits
 * or of letters and digits. Each is 3 to PASSWORD_MAX_LEN bytes of valid
 * UTF-8, full-width forms folded to ASCII (NFKC). At most 256 KiB of a part
 * and 2 MiB of a message are read. Returns a GPtrArray of struct password *
 * that frees them (g_ptr_array_unref()); empty, never NULL.
 */
GPtrArray *password_find(const struct moat_report *rep, guint max);

/* password_free - free one candidate (the array's free function); NULL is a no-op */
void password_free(struct password *pw);

#endif
