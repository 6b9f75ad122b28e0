/*
 * script.h - what the script checks share: a script's text and its searches
 *
 * Private to scanners/lure/: scripttext.c reads a script part into a
 * struct script_text and searches it, scriptfetch.c finds download-and-run
 * in it (lure.script_downloader), script.c holds the entry points of
 * lure.h and the obfuscation signs. script_ is the prefix these three
 * files share; nothing else includes this header.
 */
#ifndef MOAT_LURE_SCRIPT_H
#define MOAT_LURE_SCRIPT_H

#include <glib.h>

#define SCRIPT_HITS_MAX		1024		/* occurrences of one pattern looked at */
#define SCRIPT_LINE_MAX		512		/* bytes of one statement read */

enum script_lang { L_OTHER, L_POWERSHELL, L_BATCH, L_VBS, L_JS, L_HTA, L_WSF, L_REG };

/* The text of one script, squeezed, and what the squeeze saw. */
struct script_text {
	char *sq;		/* carets, backticks and literal glue dropped; case kept */
	char *low;		/* SQ in lower case: what the patterns are matched on */
	gsize len;
	enum script_lang lang;
	guint carets;		/* '^' between two letters or digits */
	guint ticks;		/* '`' between two letters (not an escape like `n) */
	guint short_joins;	/* "lit" + "lit" glue after a literal of at most 4 characters */
	gsize longest_line;
	gsize nonword, visible;	/* punctuation among the non-blank bytes */
	guint64 spent, budget;	/* bytes searched so far, and at most (script_find()) */
};

static inline gboolean
script_ident(char c)
{
	return g_ascii_isalnum(c) || c == '_' || (guchar)c >= 0x80;
}

/* scripttext.c: reading */

/* script_text_init - T gets the text of the LEN bytes at DATA (borrowed); free with script_text_clear() */
void script_text_init(struct script_text *t, const guint8 *data, gsize len, enum script_lang lang);
/* script_text_clear - free what T holds and zero it */
void script_text_clear(struct script_text *t);
/* script_is_text - whether DATA is text (no NUL in its first 4 KiB, UTF-16 read as such) */
gboolean script_is_text(const guint8 *data, gsize len);

/* scripttext.c: searching; positions are offsets into T->low, G_MAXSIZE for none */

gsize script_find(struct script_text *t, gsize from, gsize to, const char *needle);
gsize script_find_word(struct script_text *t, gsize from, gsize to, const char *needle);
gsize script_line_end(struct script_text *t, gsize at);
gsize script_line_start(struct script_text *t, gsize at);
/* script_snippet - evidence: the script from AT to its line's end (caller g_free()s) */
char *script_snippet(struct script_text *t, gsize at);

/* scriptfetch.c */

/* script_download - the first download-and-run form in T: evidence, or NULL (caller g_free()s) */
char *script_download(struct script_text *t);

#endif
