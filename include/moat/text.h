/*
 * text.h - a mail's text as Unicode: a part's bytes read in their charset,
 * HTML reduced to its text, blanks and invisible characters tidied
 *
 * For detectors that search what a message says (password.h): a text/plain
 * or text/html part's kept bytes (moat_part.content) are in the charset the
 * part declares (moat_part.charset); text_part() gives them as clean UTF-8.
 * Every function is one bounded linear pass over its input (iconv, one HTML
 * pass, g_utf8_normalize()), reentrant, no I/O.
 */
#ifndef MOAT_TEXT_H
#define MOAT_TEXT_H

#include <glib.h>

#include "moat/report.h"

#define TEXT_OUT_MAX	(4u * 1024 * 1024)	/* UTF-8 bytes iconv may write for one input */

/*
 * text_utf8 - LEN bytes at DATA in CHARSET (a MIME name, lower-case; NULL:
 * not said) as UTF-8 with no NULs. A declared charset reads as the superset
 * mail in it really uses (iso-8859-1 as windows-1252, gb2312 as GB18030,
 * shift_jis as CP932, euc-kr as CP949, big5 as CP950); a byte it cannot
 * read becomes U+FFFD and a character cut at the end is dropped. With no
 * charset, an unknown one or "utf-8", valid UTF-8 is taken as it is and
 * anything else read as windows-1252. The caller bounds LEN; at most
 * about 3 * LEN bytes come out, and iconv's output stops at TEXT_OUT_MAX.
 * Caller g_free()s.
 */
char *text_utf8(const guint8 *data, gsize len, const char *charset);

/*
 * text_html - the text of HTML S (LEN bytes of UTF-8): tags dropped,
 * <br> <p> <div> <li> <tr> <h1>... as line breaks, <td> <th> as tabs,
 * comments, <script> and <style> skipped, &nbsp; &amp; &lt; &gt; &quot;
 * &#NN; &#xNN; and the typographic quotes decoded, the source's own line
 * breaks as blanks (as a browser shows them). Caller g_free()s.
 */
char *text_html(const char *s, gsize len);

/*
 * text_clean - TEXT (valid UTF-8) NFKC-normalised (full-width letters and
 * digits become ASCII), blanks as ' ', every line break as one '\n', tabs
 * kept, zero-width, soft-hyphen and bidi control characters removed (they
 * split words to hide them), other controls as ' '. Caller g_free()s.
 */
char *text_clean(const char *text);

/* text_part_is_text - whether P is a MIME (not archive) text/plain or text/html part with kept bytes; *HTML says which */
gboolean text_part_is_text(const struct moat_part *p, gboolean *html);

/*
 * text_part - the clean text of P (text_part_is_text()): at most MAX bytes
 * of its content read in its charset (an HTML part without one: its <meta
 * charset>), HTML reduced to text, cleaned. "" for any other part.
 * Caller g_free()s.
 */
char *text_part(const struct moat_part *p, gsize max);

#endif
