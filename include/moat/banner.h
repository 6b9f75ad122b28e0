/*
 * banner.h - a warning recipients see at the top of suspicious mail
 *
 * Two halves (scanners/banner/): words.c says what the banner says, in
 * the configured language, from the report's findings (templates in
 * [banner] templates); rewrite.c puts it at the top of every text/plain
 * and text/html part a reader may be shown (both halves of
 * multipart/alternative, nested multiparts), decoded, in the part's
 * charset or switched to UTF-8, re-encoded with the part's transfer
 * encoding. Attachments keep their bytes. Signed or encrypted mail
 * (multipart/signed, multipart/encrypted, application/pkcs7-mime) and mail
 * that already starts with a moat banner are left alone, with the reason.
 *
 * Nothing here knows the milter: moatd hands the rewritten body to
 * smfi_replacebody() and the header changes to smfi_chgheader().
 * Reentrant; no global state but the templates in a struct moat_conf.
 */
#ifndef MOAT_BANNER_H
#define MOAT_BANNER_H

#include <gmime/gmime.h>
#include <glib.h>

#include "moat/conf.h"
#include "moat/report.h"

#define BANNER_MARKER_HEADER	"X-Moat-Banner"	/* on every bannered message */
#define BANNER_HTML_ATTR	"data-moat-banner"	/* on the banner's HTML block */

/* What the banner says, in one language. Strings owned, UTF-8. */
struct banner_text {
	char *title;			/* "Caution: this message may be a phishing attempt." */
	GPtrArray *reasons;		/* char *: one plain sentence per reason, most serious
					 * first, at most [banner] max_reasons */
	char *advice;			/* "Do not open attachments or links unless ..." */
	gboolean external;		/* the external-sender notice alone (no reasons) */
};

/* What banner_rewrite() made. Strings owned. */
struct banner_result {
	GByteArray *body;		/* the new body (what follows the header's blank
					 * line), CRLF line ends; NULL when nothing changed */
	char *content_type;		/* the message's new Content-Type value when a
					 * single-part message switched charset, or NULL */
	char *transfer_encoding;	/* its new Content-Transfer-Encoding, or NULL */
	guint parts;			/* text parts that got the banner */
	char *skipped;			/* why nothing changed ("signed (multipart/signed)",
					 * "already bannered", "no text part"), or NULL */
};

/*
 * banner_words - what the banner on REP's message says under CONF: the
 * findings that scored, most serious first, each as the sentence its
 * template gives ([banner] language), or the external-sender notice alone when
 * EXTERNAL is TRUE (accepted mail: whatever scored stayed below the tag
 * threshold, so the notice alone). Fills OUT (release with
 * banner_text_clear()). Returns 0, or MOAT_EINVAL with *err saying why
 * (a template missing or broken; caller g_free()s).
 */
int banner_words(struct banner_text *out, char **err, const struct moat_report *rep,
    const struct moat_conf *conf, gboolean external);

/*
 * banner_conf_check - whether CONF's banner template loads (the language
 * file exists, every key is there, every placeholder known): NULL, or why
 * not, naming the file and key (caller g_free()s)
 */
char *banner_conf_check(const struct moat_conf *conf);

/* banner_text_clear - release what OUT holds and zero it */
void banner_text_clear(struct banner_text *text);

/*
 * banner_rewrite - put TEXT at the top of the text parts of the message in
 * STREAM (as received, CRLF; read from its start, position restored).
 * Fills OUT (release with banner_result_clear()): OUT->body is NULL and
 * OUT->skipped says why when the message is left alone. Returns 0, or a
 * negative MOAT_E* code when the message cannot be read (moatd tempfails).
 */
int banner_rewrite(struct banner_result *out, GMimeStream *stream, const struct banner_text *text);

/* banner_result_clear - release what OUT holds and zero it */
void banner_result_clear(struct banner_result *out);

/* banner_plain - TEXT as the lines put in front of a text/plain part (UTF-8, LF); caller g_free()s */
char *banner_plain(const struct banner_text *text);

/*
 * banner_html - TEXT as the block put after <body> of a text/html part:
 * one <div BANNER_HTML_ATTR> with inline CSS only (no <style>, no script),
 * readable in light and dark mode, every string HTML-escaped. UTF-8;
 * caller g_free()s.
 */
char *banner_html(const struct banner_text *text);

#endif
