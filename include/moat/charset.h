/*
 * charset.h - GMime's table of charset names, bounded
 *
 * GMime keeps every charset name it is asked about (the charset of each
 * RFC 2047 encoded-word and RFC 2231 parameter it decodes, of each text
 * part moat reads) in one process-wide table that is never emptied. A
 * sender who writes a new name in every encoded-word grows moatd and
 * moat-web for as long as they run: about 90 bytes a name. charset.c
 * stands in front of that table (g_mime_charset_iconv_name(), which every
 * other GMime charset call goes through) and hands GMime only names from
 * a bounded set:
 *
 *   - names glibc's iconv opens as they are (about 1,200 exist);
 *   - the mail aliases GMime maps itself ("ks_c_5601-1987", "gb2312-80",
 *     "windows-cp1252", "iso-8859-8-i", ...);
 *   - up to MIME_CHARSET_NOVEL_MAX other names, first come first served,
 *     so that a rare name GMime knows how to read keeps working.
 *
 * Any other name is given to GMime as one unknown name, which no iconv
 * opens: its text is read the way GMime reads every charset it cannot
 * convert (its fallback charsets), and the table does not grow. A name is
 * at most MIME_CHARSET_NAME_MAX bytes of [A-Za-z0-9._:-]; anything else is
 * unknown too.
 */
#ifndef MOAT_CHARSET_H
#define MOAT_CHARSET_H

#include <glib.h>

#define MIME_CHARSET_NAME_MAX	40	/* bytes of a charset name looked up */
#define MIME_CHARSET_NOVEL_MAX	256	/* names iconv does not know, passed on */

struct mime_charset_stats {
	guint	names;		/* distinct names passed on to GMime */
	guint	novel;		/* of which neither iconv nor the alias list knew */
	guint64	refused;	/* lookups answered with the unknown name */
};

/* mime_charset_init - find GMime's own function; FALSE when it cannot (the message says why) */
gboolean mime_charset_init(char **err);

/* mime_charset_stats - what the bound has done in this process so far */
void mime_charset_stats(struct mime_charset_stats *st);

#endif
