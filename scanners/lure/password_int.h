/*
 * password_int.h - what the password files share: the password words and the tokens
 *
 * Private to scanners/lure/. password_find() (password.h) reads a
 * message's text line by line (password.c); passcue.c holds the password
 * words of over 40 languages and reads what follows one (separators, "is"
 * words, words that are never the password); passtoken.c reads the token
 * a password word gives (quoted, bare, a date) and says whether it can be
 * a password; passlink.c is lure.password_link. pw_ is the prefix these
 * files share; nothing else includes this header. The text they read is
 * text.h's: UTF-8, cleaned, blanks as ' ' or tabs; a line is [LINE, EOL).
 */
#ifndef MOAT_LURE_PASSWORD_INT_H
#define MOAT_LURE_PASSWORD_INT_H

#include <glib.h>

#include "moat/report.h"

#define PW_PART_MAX	(256u * 1024)	/* bytes of one part read */

/* How a password word is read. */
enum {
	CUE_WEAK = 1 << 0,	/* a common word too: only "cue:" or "cue=" counts */
	CUE_INFIX = 1 << 1,	/* may end a compound word (Archivpasswort, zipwachtwoord) */
	CUE_CJK = 1 << 2,	/* a script written without blanks: no word boundaries */
	CUE_GENERIC = 1 << 3,	/* not a password: licence and activation codes, PINs (tried on
				 * archives, no evidence for lure.password_link) */
};

struct pw_cue {
	const char *word;
	guint flags;
};

/* passcue.c: characters and password words */

gboolean pw_is_cjk(gunichar c);
gboolean pw_word_char(gunichar c);
gunichar pw_prev(const char *line, const char *p);
const char *pw_blanks(const char *p, const char *end);
/* pw_cue_at - the password word at P (borrowed from the table), or NULL; *AFTER gets its end */
const struct pw_cue *pw_cue_at(const char *line, const char *p, const char *end, const char **after);
gboolean pw_is_stop(const char *t, gsize len);
/* pw_sep - the separator after a password word: 0, ':', 'w', 'q' or 'b' (see passcue.c) */
int pw_sep(const char *p, const char *eol, gboolean weak, gboolean loose, gboolean is_ok,
    const char **after);

/* passtoken.c: tokens; *T points into the text, nothing is allocated */

gboolean pw_plausible(const char *t, gsize len);
const char *pw_opener(const char *p, const char *end, gsize *open_len, const char **closers,
    gsize *nclosers);
const char *pw_quoted_at(const char *p, const char *end, const char **t, gsize *len);
const char *pw_bare_at(const char *p, const char *end, const char **t, gsize *len);
gsize pw_date_at(const char *p, const char *end);
const char *pw_url_end(const char *p, const char *eol);

/* password.c */

/* pw_find - password_find(), with or without the CUE_GENERIC words; caller g_ptr_array_unref()s */
GPtrArray *pw_find(const struct moat_report *rep, guint max, gboolean generic);

#endif
