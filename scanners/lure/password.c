/*
 * password.c - the passwords a message gives (password.h)
 *
 * password_find() reads the subject and every MIME text/plain and
 * text/html part whose bytes were kept (archive members are not read) as
 * text.h gives them: in their charset, HTML reduced to text, NFKC
 * (full-width letters and digits, as Japanese and Chinese mail writes
 * them, become ASCII), blanks as ' ', invisible characters out.
 *
 * Candidates, in this order:
 *  - cued: a password word in one of over 40 languages (passcue.c), then a
 *    separator (":", "=", " - ", a tab, "is", "ist", "lautet", "est", "es",
 *    "é", "是", "为", "は", "는" ...), then the token (passtoken.c): a
 *    quoted one, or the run up to the next blank; a token ending in '!'
 *    gives a second candidate without it. A strong word may have up to
 *    PW_WORDS_MAX words and a "(note)" before its separator ("Kennwort für
 *    das Archiv: X", "пароль от архива: X"); a weak one ("code", "pass",
 *    "pw", "clave") needs ':' or '=' right after it. A line that is only a
 *    password word (or ends in one and its separator) takes the next
 *    non-blank line when that line is one token. Quoted tokens near a
 *    strong word, in its sentence ("use \"Inv2026\" as the password"), are
 *    cued too.
 *  - uncued: date-like tokens (DD-MM-YYYY, DD.MM.YYYY, DD/MM/YYYY,
 *    YYYY-MM-DD, YYYYMMDD, DDMMYYYY) anywhere, and, only when the report
 *    holds an encrypted part, a line that is one token of 4-8 digits or of
 *    letters and digits.
 * Tokens are 3 to PASSWORD_MAX_LEN bytes; URLs, mail addresses, masks
 * ("****") and words that follow a password word in ordinary mail
 * ("reset", "expired", "your", and "wie" besprochen, "envoyé" séparément,
 * "ask" me by phone ...: pw_stop[] in passcue.c) are not candidates, and
 * URLs are skipped whole (no "?pwd=x").
 *
 * Bounded: PW_PART_MAX bytes per part, PW_TEXT_MAX for the message, every
 * look-ahead limited (a note, PW_WORDS_MAX words, PW_PEEK bytes of the next
 * line, a token); linear in the text. Pure functions of the report,
 * reentrant, no I/O.
 */
#include <string.h>

#include "moat/password.h"
#include "moat/text.h"
#include "password_int.h"

#define PW_TEXT_MAX	(2u * 1024 * 1024)	/* bytes of all parts read, per message */
#define PW_WORDS_MAX	4		/* words between a strong password word and its separator */
#define PW_WORD_MAX	24		/* bytes of one such word */
#define PW_NOTE_MAX	40		/* bytes of a "(case-sensitive)" note after the word */
#define PW_PEEK		128		/* bytes of the next line read for the own-line form */
#define PW_QUOTE_NEAR	40		/* bytes between a quoted token and its password word */
#define PW_SPANS_MAX	8		/* password words of one line a quote may go with */

/* State of one password_find() call. */
struct pw_scan {
	GPtrArray *cued;		/* struct password *, owned */
	GPtrArray *uncued;		/* struct password *, owned */
	guint max;
	const char *where;		/* borrowed: "subject" or a part's path_display */
	gboolean lone;			/* lone tokens count (the report holds an encrypted part) */
	gboolean generic;		/* CUE_GENERIC words count */
};

void
password_free(struct password *pw)
{
	if (pw == NULL)
		return;
	g_free(pw->text);
	g_free(pw->where);
	g_free(pw);
}

/* Candidates ------------------------------------------------------------------ */

/* pw_index - the index in LIST of the candidate with text T (LEN bytes), or -1 */
static gint
pw_index(GPtrArray *list, const char *t, gsize len)
{
	for (guint i = 0; i < list->len; i++) {
		const struct password *pw = list->pdata[i];

		if (strlen(pw->text) == len && memcmp(pw->text, t, len) == 0)
			return (gint)i;
	}
	return -1;
}

/*
 * pw_add - T (LEN bytes) as a candidate, cued or not, when plausible and
 * new; a cued one replaces the same text found uncued before. Each list
 * holds at most S->max. Returns whether T is plausible.
 */
static gboolean
pw_add(struct pw_scan *s, const char *t, gsize len, gboolean cued)
{
	GPtrArray *list = cued ? s->cued : s->uncued;
	struct password *pw;
	gint i;

	if (!pw_plausible(t, len))
		return FALSE;
	if (list->len >= s->max || pw_index(s->cued, t, len) >= 0)
		return TRUE;
	if ((i = pw_index(s->uncued, t, len)) >= 0) {
		if (!cued)
			return TRUE;
		g_ptr_array_remove_index(s->uncued, (guint)i);
	}
	pw = g_new0(struct password, 1);
	pw->text = g_strndup(t, len);
	pw->cued = cued;
	pw->where = g_strdup(s->where);
	g_ptr_array_add(list, pw);
	return TRUE;
}

/*
 * pw_token - the candidate at P on a line ending at EOL, quoted or bare,
 * added as cued; a bare one ending in '!' also without it. After an "is"
 * word (SEP 'w'), a token of letters only counts only when its sentence
 * ends after it ("the password is infected." yes, "is about to" no);
 * after a quote (SEP 'q') only the quoted token counts. Returns whether a
 * plausible token was there.
 */
static gboolean
pw_token(struct pw_scan *s, const char *p, const char *eol, int sep)
{
	const char *t, *after;
	gsize len;
	gboolean ok;

	if (pw_quoted_at(p, eol, &t, &len) != NULL)
		return pw_add(s, t, len, TRUE);
	if (sep == 'q')
		return FALSE;
	if (strchr("\"'([<", *p) != NULL || (guchar)*p >= 0x80) {
		const char *closers[2];
		gsize open_len, n;

		if (pw_opener(p, eol, &open_len, closers, &n) != NULL)
			p = pw_blanks(p + open_len, eol);	/* an opener without its closer */
		if (p >= eol)
			return FALSE;
	}
	if ((after = pw_bare_at(p, eol, &t, &len)) == NULL || len == 0)
		return FALSE;
	if (sep == 'b') {
		const char *e = pw_blanks(after, eol);

		/* "(password 2026)", "Passwort 4711." but not "password 8 characters long" */
		gboolean digit = FALSE;

		for (gsize i = 0; i < len; i++)
			digit = digit || g_ascii_isdigit(t[i]);
		if (!digit || (e < eol && (t + len >= eol || strchr(").,;!", t[len]) == NULL)))
			return FALSE;
	}
	if (sep == 'w') {
		gboolean letters = TRUE;

		for (const char *q = t; q < t + len; q = g_utf8_next_char(q))
			letters = letters && g_unichar_isalpha(g_utf8_get_char(q));
		after = pw_blanks(after, eol);
		if (letters && after < eol && !(t + len < eol && strchr(".!", t[len]) != NULL))
			return FALSE;
	}
	ok = pw_add(s, t, len, TRUE);
	if (ok && len > 1 && t[len - 1] == '!')
		pw_add(s, t, len - 1, TRUE);
	return ok;
}

/*
 * pw_next_line - the token that is the whole of the next non-blank line
 * after NEXT (at most one blank line between), as pw_token() would add it
 */
static void
pw_next_line(struct pw_scan *s, const char *next, const char *end)
{
	for (int skipped = 0; next < end && skipped < 2; skipped++) {
		const char *peek = next + MIN((gsize)(end - next), PW_PEEK);
		const char *nl = memchr(next, '\n', (gsize)(peek - next));
		const char *eol = nl != NULL ? nl : peek;
		const char *b = pw_blanks(next, eol), *e = eol;

		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (b == e) {
			if (nl == NULL)
				return;
			next = nl + 1;
			continue;
		}
		if (nl == NULL && peek < end)
			return;		/* longer than PW_PEEK: not one token */
		if (memchr(b, ' ', (gsize)(e - b)) != NULL || memchr(b, '\t', (gsize)(e - b)) != NULL)
			return;
		pw_token(s, b, e, ':');
		return;
	}
}

/*
 * pw_take - the password after separator SEP (pw_sep()), which ends at Q
 * on the line ending at EOL: the token there, or the next line's when the
 * line ends. Returns FALSE when an "is" word or a quote led to nothing (the
 * caller reads on: "password to open the archive: X").
 */
static gboolean
pw_take(struct pw_scan *s, int sep, const char *q, const char *eol, const char *next,
    const char *end, gboolean weak)
{
	q = pw_blanks(q, eol);
	if (sep == 'w' && q < eol && *q == ':')
		q = pw_blanks(q + 1, eol);
	if (q >= eol) {
		if (!weak && next < end)
			pw_next_line(s, next, end);
		return TRUE;
	}
	return pw_token(s, q, eol, sep) || sep == ':';
}

/*
 * pw_after_cue - what follows password word CUE, which starts at
 * CUE_START and ends at P on the line [LINE, EOL) (NEXT: the next line's
 * start, END: the text's): an optional note, words and a separator, then
 * the token, or the next line when nothing follows.
 */
static void
pw_after_cue(struct pw_scan *s, const struct pw_cue *cue, const char *cue_start, const char *p,
    const char *line, const char *eol, const char *next, const char *end)
{
	gboolean weak = (cue->flags & CUE_WEAK) != 0;
	const char *q = pw_blanks(p, eol);

	if (!weak && q < eol && *q == '(') {
		const char *close = memchr(q, ')', (gsize)MIN(eol - q, PW_NOTE_MAX));

		if (close != NULL)
			p = close + 1;
	}
	for (int w = 0, is_ok = TRUE;; w++) {
		int sep = pw_sep(p, eol, weak, w == 0, is_ok, &q);
		const char *we;

		if (sep != 0 && pw_take(s, sep, q, eol, next, end, weak))
			return;
		is_ok = is_ok && sep != 'w';
		if (sep == 0 && w == 0 && q >= eol) {
			/* a line that is only the word: the password on the next line */
			if (!weak && pw_blanks(line, eol) == cue_start && next < end)
				pw_next_line(s, next, end);
			return;
		}
		if (weak || w >= PW_WORDS_MAX)
			return;
		/* one more word before the separator ("Kennwort für das Archiv: X") */
		q = pw_blanks(q, eol);
		for (we = q; we < eol && *we != ' ' && *we != ':' && *we != '\t';)
			we++;
		if (we == q || we - q > PW_WORD_MAX || strchr(".!?,;", we[-1]) != NULL)
			return;
		p = we;
	}
}

/* Where the strong password words of one line are, for pw_quotes_in(). */
struct pw_spans {
	const char *start[PW_SPANS_MAX], *end[PW_SPANS_MAX];
	guint n;
};

/* pw_gap_ok - whether [A, B) is short and holds no sentence end: a quote there goes with the word */
static gboolean
pw_gap_ok(const char *a, const char *b)
{
	if (b < a || b - a > PW_QUOTE_NEAR)
		return FALSE;
	for (const char *p = a; p < b; p++)
		if (strchr(".!?;", *p) != NULL && (p + 1 == b || p[1] == ' '))
			return FALSE;
	return TRUE;
}

/*
 * pw_quotes_in - the quoted tokens of line [LINE, EOL) in the sentence of
 * one of its strong password words SP and within PW_QUOTE_NEAR bytes of it
 * ("use \"Inv2026\" as the password"), cued; an ASCII apostrophe opens or
 * closes a quote only beside a non-letter ("l'archive" is none)
 */
static void
pw_quotes_in(struct pw_scan *s, const char *line, const char *eol, const struct pw_spans *sp)
{
	for (const char *p = line; p < eol && s->cued->len < s->max;) {
		const char *t, *after;
		gsize len;

		if ((*p != '\'' || !pw_word_char(pw_prev(line, p))) &&
		    (after = pw_quoted_at(p, eol, &t, &len)) != NULL &&
		    (*p != '\'' || after == eol || !pw_word_char(g_utf8_get_char(after)))) {
			gboolean near = FALSE;

			for (guint i = 0; !near && i < sp->n; i++)
				near = pw_gap_ok(after, sp->start[i]) || pw_gap_ok(sp->end[i], p);
			if (near && strchr("([<", *p) == NULL)
				pw_add(s, t, len, TRUE);
			p = after;
			continue;
		}
		p = g_utf8_next_char(p);
	}
}

/* pw_lone - line [P, EOL) as an uncued candidate when it is one token of 4-8 digits or of letters and digits */
static void
pw_lone(struct pw_scan *s, const char *p, const char *eol)
{
	const char *b = pw_blanks(p, eol), *e = eol;
	gboolean digit = FALSE, letter = FALSE;
	gsize n;

	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (gsize)(e - b);
	if (n < 4 || n > 32 || memchr(b, ' ', n) != NULL || memchr(b, '\t', n) != NULL)
		return;
	for (const char *q = b; q < e; q++) {
		if (strchr("/:@", *q) != NULL)
			return;
		digit = digit || g_ascii_isdigit(*q);
		letter = letter || g_ascii_isalpha(*q) || (guchar)*q >= 0x80;
	}
	if (digit && (letter || n <= 8))
		pw_add(s, b, n, FALSE);
}

/* pw_line - the candidates of line [LINE, EOL); NEXT and END as pw_after_cue() */
static void
pw_line(struct pw_scan *s, const char *line, const char *eol, const char *next, const char *end)
{
	struct pw_spans sp = { .n = 0 };
	const char *p = line;

	while (p < eol && s->cued->len < s->max) {
		const struct pw_cue *cue;
		const char *after;
		gsize n;

		if ((after = pw_url_end(p, eol)) != NULL && !pw_word_char(pw_prev(line, p))) {
			p = after;
			continue;
		}
		if ((guchar)*p >= 0x80 || g_ascii_isalpha(*p)) {
			if ((cue = pw_cue_at(line, p, eol, &after)) != NULL) {
				if ((cue->flags & CUE_GENERIC) && !s->generic) {
					p = after;
					continue;
				}
				if (!(cue->flags & CUE_WEAK) && sp.n < PW_SPANS_MAX) {
					sp.start[sp.n] = p;
					sp.end[sp.n++] = after;
				}
				pw_after_cue(s, cue, p, after, line, eol, next, end);
				p = after;
				continue;
			}
		} else if (g_ascii_isdigit(*p) && !pw_word_char(pw_prev(line, p)) &&
		    (n = pw_date_at(p, eol)) > 0 &&
		    (p + n == eol || !pw_word_char(g_utf8_get_char(p + n)))) {
			pw_add(s, p, n, FALSE);
			p += n;
			continue;
		}
		p = g_utf8_next_char(p);
	}
	if (sp.n > 0)
		pw_quotes_in(s, line, eol, &sp);
	if (s->lone)
		pw_lone(s, line, eol);
}

/* pw_text - the candidates of cleaned TEXT, line by line */
static void
pw_text(struct pw_scan *s, const char *text)
{
	const char *end = text + strlen(text);

	for (const char *line = text; line < end && s->cued->len < s->max;) {
		const char *nl = memchr(line, '\n', (gsize)(end - line));
		const char *eol = nl != NULL ? nl : end;
		const char *next = nl != NULL ? nl + 1 : end;

		pw_line(s, line, eol, next, end);
		line = next;
	}
}

/* pw_has_encrypted - whether REP holds an encrypted part */
static gboolean
pw_has_encrypted(const struct moat_report *rep)
{
	for (guint i = 0; i < rep->parts->len; i++)
		if (((const struct moat_part *)rep->parts->pdata[i])->encrypted)
			return TRUE;
	return FALSE;
}

/* pw_sources - the candidates of REP's subject and text parts, into S */
static void
pw_sources(struct pw_scan *s, const struct moat_report *rep)
{
	gsize left = PW_TEXT_MAX;

	if (rep->hdr.subject != NULL) {
		g_autofree char *subject = text_clean(rep->hdr.subject);

		s->where = "subject";
		pw_text(s, subject);
	}
	for (guint i = 0; i < rep->parts->len && left > 0 && s->cued->len < s->max; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		g_autofree char *text = NULL;
		gboolean html;
		gsize take;

		if (!text_part_is_text(p, &html))
			continue;
		take = MIN(g_bytes_get_size(p->content), MIN(PW_PART_MAX, left));
		left -= take;
		text = text_part(p, take);
		s->where = p->path_display;
		pw_text(s, text);
	}
}

/* pw_find - password_find(), with or without the CUE_GENERIC words ("code:", "PIN:") */
GPtrArray *
pw_find(const struct moat_report *rep, guint max, gboolean generic)
{
	struct pw_scan s = {
		.cued = g_ptr_array_new_with_free_func((GDestroyNotify)password_free),
		.uncued = g_ptr_array_new_with_free_func((GDestroyNotify)password_free),
		.max = max,
		.lone = pw_has_encrypted(rep),
		.generic = generic,
	};

	if (max > 0)
		pw_sources(&s, rep);
	/* cued first, then the likely shapes, at most MAX in all */
	for (guint i = 0; i < s.uncued->len && s.cued->len < max; i++) {
		g_ptr_array_add(s.cued, s.uncued->pdata[i]);
		s.uncued->pdata[i] = NULL;
	}
	g_ptr_array_unref(s.uncued);
	return s.cued;
}

GPtrArray *
password_find(const struct moat_report *rep, guint max)
{
	return pw_find(rep, max, TRUE);
}
