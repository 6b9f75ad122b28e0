/*
 * passtoken.c - the token a password word gives, and whether it can be a password
 *
 * A token is quoted (straight, curly, guillemets, CJK brackets: the inside,
 * without blanks) or bare (up to a blank, a closing quote, CJK punctuation,
 * or, for an ASCII token, a CJK character: "パスワードは1234です";
 * trailing '.' ',' ';' ':' '?' and unmatched closers dropped). It can be
 * a password when it is 3 to PASSWORD_MAX_LEN bytes of valid UTF-8 with
 * no blank or control byte, and no mask ("****"), URL, mail address or
 * stop word (passcue.c). Dates (DD-MM-YYYY, DD.MM.YYYY, DD/MM/YYYY,
 * YYYY-MM-DD, YYYYMMDD, DDMMYYYY) and the URLs a line holds are found here
 * too. Every read stops at the line's end or a fixed length; nothing is
 * allocated. Reentrant.
 */
#include <string.h>

#include "moat/password.h"
#include "password_int.h"

#define PW_MIN_CHARS	3		/* characters of a candidate */

/* Openers and their closers for quoted tokens. */
static const char *const pw_quotes[][2] = {
	{ "\"", "\"" }, { "'", "'" }, { "\xe2\x80\x9c", "\xe2\x80\x9d" },	/* “ ” */
	{ "\xe2\x80\x9e", "\xe2\x80\x9c" }, { "\xe2\x80\x9e", "\xe2\x80\x9d" },	/* „ “ „ ” */
	{ "\xc2\xab", "\xc2\xbb" }, { "\xc2\xbb", "\xc2\xab" },	/* « » » « */
	{ "\xe2\x80\x98", "\xe2\x80\x99" }, { "\xe2\x80\x9a", "\xe2\x80\x98" },	/* ‘ ’ ‚ ‘ */
	{ "\xe3\x80\x8c", "\xe3\x80\x8d" }, { "\xe3\x80\x8e", "\xe3\x80\x8f" },	/* 「」 『』 */
	{ "\xe3\x80\x90", "\xe3\x80\x91" }, { "[", "]" }, { "(", ")" }, { "<", ">" },	/* 【】 */
};

/* Tokens ---------------------------------------------------------------------- */

/* pw_is_mask - whether T is a mask ("*****", "xxxx", "....", "<password>" was cut before) */
static gboolean
pw_is_mask(const char *t, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if (strchr("*xX._-#?", t[i]) == NULL || t[i] != t[0])
			return FALSE;
	return TRUE;
}

/* pw_is_address - whether T looks like a mail address or a host: name@host.tld, www.x */
static gboolean
pw_is_address(const char *t, gsize len)
{
	const char *at = memchr(t, '@', len), *dot;

	if (g_strstr_len(t, (gssize)len, "://") != NULL ||
	    (len > 4 && g_ascii_strncasecmp(t, "www.", 4) == 0))
		return TRUE;
	if (at == NULL || at == t)
		return FALSE;
	dot = memchr(at, '.', (gsize)(t + len - at));
	if (dot == NULL || dot == at + 1 || dot + 2 >= t + len)
		return FALSE;
	for (const char *p = at + 1; p < t + len; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
			return FALSE;
	return TRUE;
}

/* pw_plausible - whether T (LEN bytes, UTF-8) can be a password */
gboolean
pw_plausible(const char *t, gsize len)
{
	glong chars;

	if (len == 0 || len > PASSWORD_MAX_LEN || !g_utf8_validate_len(t, len, NULL))
		return FALSE;
	chars = g_utf8_strlen(t, (gssize)len);
	if (chars < PW_MIN_CHARS)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if ((guchar)t[i] <= ' ')
			return FALSE;
	return !pw_is_mask(t, len) && !pw_is_address(t, len) && !pw_is_stop(t, len);
}

/*
 * pw_opener - the quote or bracket opening at P, or NULL; *OPEN_LEN gets
 * its length and CLOSERS (room for 2) the *NCLOSERS quotes that close it
 */
const char *
pw_opener(const char *p, const char *end, gsize *open_len, const char **closers, gsize *nclosers)
{
	const char *opener = NULL;

	*nclosers = 0;
	for (gsize i = 0; i < G_N_ELEMENTS(pw_quotes); i++) {
		gsize n = strlen(pw_quotes[i][0]);

		if ((gsize)(end - p) >= n && memcmp(p, pw_quotes[i][0], n) == 0) {
			opener = pw_quotes[i][0];
			*open_len = n;
			closers[(*nclosers)++] = pw_quotes[i][1];
		}
	}
	return opener;
}

/*
 * pw_quoted_at - the token quoted at P: *T and *LEN get its inside (no
 * blanks, at most PASSWORD_MAX_LEN bytes) and the return is past its
 * closing quote; NULL when P opens no such quote on the line.
 */
const char *
pw_quoted_at(const char *p, const char *end, const char **t, gsize *len)
{
	const char *closers[2];
	gsize open_len = 0, nclosers;
	const char *in, *limit;

	if (pw_opener(p, end, &open_len, closers, &nclosers) == NULL)
		return NULL;
	/* « Facture2026 »: French sets blanks inside its quotes */
	in = pw_blanks(p + open_len, end);
	limit = end - in > PASSWORD_MAX_LEN + 4 ? in + PASSWORD_MAX_LEN + 4 : end;
	for (const char *q = in; q < limit; q++) {
		const char *b = pw_blanks(q, limit);

		for (gsize k = 0; k < nclosers; k++) {
			gsize n = strlen(closers[k]);

			if (q > in && (gsize)(end - b) >= n && memcmp(b, closers[k], n) == 0) {
				*t = in;
				*len = (gsize)(q - in);
				return b + n;
			}
		}
		if (b > q)
			return NULL;	/* a blank inside: words, not a password */
	}
	return NULL;
}

/* pw_is_closer - whether C closes a quote or bracket */
static gboolean
pw_is_closer(gunichar c)
{
	return c == '"' || c == '\'' || c == ')' || c == ']' || c == '>' || c == 0x201d ||
	    c == 0x2019 || c == 0xbb || c == 0xab || c == 0x300d || c == 0x300f || c == 0x3011 ||
	    c == 0x201c;
}

/* pw_opener_of - the ASCII bracket that closer C matches, or 0 */
static gunichar
pw_opener_of(gunichar c)
{
	switch (c) {
	case ')': return '(';
	case ']': return '[';
	case '>': return '<';
	default: return 0;
	}
}

/*
 * pw_bare_at - the unquoted token at P: up to a blank, a closing quote, CJK
 * punctuation, or (for a token that is ASCII so far) a CJK character;
 * trailing '.' ',' ';' ':' '?' and unmatched closers dropped. *T and *LEN
 * get it; returns where it ended, or NULL when it is longer than a
 * password can be.
 */
const char *
pw_bare_at(const char *p, const char *end, const char **t, gsize *len)
{
	const char *q = p;
	gboolean ascii = TRUE;

	while (q < end && *q != ' ' && *q != '\t') {
		gunichar c = g_utf8_get_char(q);

		if ((c >= 0x3000 && c <= 0x303f) || (c >= 0xff01 && c <= 0xff0f) ||
		    (q > p && pw_is_closer(c) && pw_opener_of(c) == 0 && c != '\''))
			break;
		if (pw_is_cjk(c) && ascii && q > p)
			break;
		if (c >= 0x80)
			ascii = FALSE;
		q = g_utf8_next_char(q);
		if (q - p > PASSWORD_MAX_LEN + 8)
			return NULL;
	}
	*t = p;
	*len = (gsize)(q - p);
	while (*len > 0) {
		char last = p[*len - 1];
		gunichar open = pw_opener_of((gunichar)(guchar)last);

		if (strchr(".,;:?", last) != NULL ||
		    (open != 0 && memchr(p, (int)open, *len - 1) == NULL) ||
		    (last == '\'' && memchr(p, '\'', *len - 1) == NULL))
			(*len)--;
		else
			break;
	}
	return q;
}

/* Dates and links ------------------------------------------------------------- */

/* pw_digits - how many ASCII digits start at P (at most MAX) */
static gsize
pw_digits(const char *p, const char *end, gsize max)
{
	gsize n = 0;

	while (p + n < end && n < max && g_ascii_isdigit(p[n]))
		n++;
	return n;
}

/* pw_num - the decimal value of the N digits at P */
static guint
pw_num(const char *p, gsize n)
{
	guint v = 0;

	for (gsize i = 0; i < n; i++)
		v = v * 10 + (guint)(p[i] - '0');
	return v;
}

/* pw_date_ok - whether A and B are a day and a month in some order, and Y a year */
static gboolean
pw_date_ok(guint a, guint b, guint y)
{
	return y >= 1950 && y <= 2099 && a >= 1 && b >= 1 &&
	    ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
}

/*
 * pw_date_at - the length of a date-like token at P (DD-MM-YYYY,
 * DD.MM.YYYY, DD/MM/YYYY, YYYY-MM-DD, YYYYMMDD, DDMMYYYY), 0 when none.
 */
gsize
pw_date_at(const char *p, const char *end)
{
	gsize a = pw_digits(p, end, 9), b, c;
	const char *q;
	char sep;

	if (a == 8)
		return pw_date_ok(pw_num(p + 6, 2), pw_num(p + 4, 2), pw_num(p, 4)) ||
		    pw_date_ok(pw_num(p, 2), pw_num(p + 2, 2), pw_num(p + 4, 4)) ? 8 : 0;
	if ((a != 1 && a != 2 && a != 4) || p + a >= end || strchr("-./", p[a]) == NULL)
		return 0;
	sep = p[a];
	q = p + a + 1;
	b = pw_digits(q, end, 3);
	if ((b != 1 && b != 2) || q + b >= end || q[b] != sep)
		return 0;
	c = pw_digits(q + b + 1, end, 5);
	if (a == 4 && (c == 1 || c == 2) && pw_date_ok(pw_num(q + b + 1, c), pw_num(q, b), pw_num(p, 4)))
		return a + b + c + 2;
	if (a != 4 && c == 4 && pw_date_ok(pw_num(p, a), pw_num(q, b), pw_num(q + b + 1, 4)))
		return a + b + c + 2;
	return 0;
}

/* pw_url_end - if a URL starts at P, where it ends (the next blank), else NULL */
const char *
pw_url_end(const char *p, const char *eol)
{
	static const char *const schemes[] = { "http://", "https://", "ftp://", "www.", "mailto:" };

	if (g_ascii_tolower(*p) != 'h' && g_ascii_tolower(*p) != 'f' &&
	    g_ascii_tolower(*p) != 'w' && g_ascii_tolower(*p) != 'm')
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++) {
		gsize n = strlen(schemes[i]);

		if ((gsize)(eol - p) >= n && g_ascii_strncasecmp(p, schemes[i], n) == 0) {
			const char *q = p + n;

			while (q < eol && *q != ' ' && *q != '\t')
				q++;
			return q;
		}
	}
	return NULL;
}
