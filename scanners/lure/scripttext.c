/*
 * scripttext.c - reading and searching a script's text (script.h)
 *
 * The text: a BOM or the NULs of UTF-16 (PowerShell and .reg files often
 * are) are read; then one pass drops carets, backticks and the glue
 * between string literals ("Pow"+"erShell", "Pow" & "erShell") so that
 * the patterns match through them, and counts what it dropped. At most
 * SCRIPT_HEAD_MAX bytes from the start and SCRIPT_TAIL_MAX from the end
 * of a part are read (padding must not push the payload out of sight).
 * Every search is memmem() or a forward scan with a fixed window: linear
 * in the text, no backtracking, and paid for from the text's budget
 * (script_find()). lure_script_language() (lure.h) names a text's
 * language from the same reading. Reentrant; buffers live for one part.
 */
#include <string.h>

#include "moat/lure.h"
#include "script.h"

#define SCRIPT_HEAD_MAX		(1u << 20)	/* bytes read from a script's start */
#define SCRIPT_TAIL_MAX		(256u << 10)	/* ... and from its end, when it is larger */
#define SCRIPT_SNIPPET		96		/* bytes of script quoted in evidence */
#define SCRIPT_WORK		256		/* bytes searched per byte of text, at most ... */
#define SCRIPT_WORK_MIN		(1u << 20)	/* ... plus this many */

/* Reading the text --------------------------------------------------------------- */

/* script_utf16 - 1: UTF-16LE, 2: UTF-16BE, 0: bytes; *SKIP gets the BOM's length */
static int
script_utf16(const guint8 *d, gsize len, gsize *skip)
{
	gsize n = MIN(len, 512) & ~(gsize)1, zodd = 0, zeven = 0;

	*skip = 0;
	if (len >= 2 && ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))) {
		*skip = 2;
		return d[0] == 0xff ? 1 : 2;
	}
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) {
		*skip = 3;
		return 0;
	}
	if (n < 16)
		return 0;
	for (gsize i = 0; i < n; i += 2) {
		zeven += d[i] == 0;
		zodd += d[i + 1] == 0;
	}
	/* ASCII text in UTF-16: the high byte of nearly every unit is 0, the low one never */
	if (zodd * 4 >= n / 2 * 3 && zeven * 8 < n / 2)
		return 1;
	if (zeven * 4 >= n / 2 * 3 && zodd * 8 < n / 2)
		return 2;
	return 0;
}

/* script_narrow - append the LEN bytes at D to OUT as 8-bit text (ENC as script_utf16()) */
static void
script_narrow(GByteArray *out, const guint8 *d, gsize len, int enc)
{
	if (enc == 0) {
		g_byte_array_append(out, d, (guint)len);
		return;
	}
	gsize at = out->len;

	g_byte_array_set_size(out, (guint)(at + len / 2));
	for (gsize i = 0; i + 1 < len; i += 2) {
		guint u = enc == 1 ? (guint)(d[i] | d[i + 1] << 8) : (guint)(d[i] << 8 | d[i + 1]);

		out->data[at++] = u < 0x80 ? (guint8)u : 0x80;	/* beyond ASCII: one letter-like byte */
	}
}

/*
 * script_read - the text of the LEN bytes at DATA as 8-bit characters: the
 * head, and the tail when the part is larger than both together (caller
 * g_byte_array_unref()s)
 */
static GByteArray *
script_read(const guint8 *data, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint)MIN(len, SCRIPT_HEAD_MAX + SCRIPT_TAIL_MAX + 1));
	gsize skip;
	int enc = script_utf16(data, len, &skip);

	data += skip;
	len -= skip;
	if (len <= SCRIPT_HEAD_MAX + SCRIPT_TAIL_MAX) {
		script_narrow(out, data, len, enc);
	} else {
		gsize tail = len - SCRIPT_TAIL_MAX;

		script_narrow(out, data, SCRIPT_HEAD_MAX, enc);
		g_byte_array_append(out, (const guint8 *)"\n", 1);
		if (enc != 0 && (tail & 1) != 0)
			tail++;		/* stay on a UTF-16 unit */
		script_narrow(out, data + tail, len - tail, enc);
	}
	return out;
}

/*
 * script_glue - at quote T[I]: the bytes of `" + "` or `" & "` (a VBScript
 * `& _` line break too) up to and with the next literal's opening quote,
 * or 0 when no literal follows
 */
static gsize
script_glue(const guint8 *t, gsize i, gsize n)
{
	gsize j = i + 1, end = MIN(n, i + 32);

	while (j < end && (t[j] == ' ' || t[j] == '\t'))
		j++;
	if (j >= end || (t[j] != '+' && t[j] != '&'))
		return 0;
	j++;
	while (j < end && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n' || t[j] == '_'))
		j++;
	if (j >= end || (t[j] != '"' && t[j] != '\''))
		return 0;
	return j - i + 1;
}

static inline gboolean
script_alnum(guint8 c)
{
	return g_ascii_isalnum(c) || c >= 0x80;
}

/*
 * script_squeeze - fill T from the N bytes of text at S (one pass). String
 * literals are followed well enough to find glue only after a closing
 * quote: a quote opens one, the same quote not escaped by '\\' or '`'
 * closes it, a line ends it (an apostrophe in a comment spoils one line).
 */
static void
script_squeeze(struct script_text *t, const guint8 *s, gsize n)
{
	gsize o = 0, line = 0, opened = 0;
	guint8 in_str = 0;

	t->sq = g_malloc(n + 1);
	t->low = g_malloc(n + 1);
	for (gsize i = 0; i < n; i++) {
		guint8 c = s[i];
		gboolean between = i > 0 && i + 1 < n && script_alnum(s[i - 1]) && script_alnum(s[i + 1]);
		gsize g;

		line = c == '\n' ? 0 : line + 1;
		t->longest_line = MAX(t->longest_line, line);
		if (c == '\n')
			in_str = 0;
		if (c == '^') {
			t->carets += between;
			continue;
		}
		if (c == '`' && !(in_str != 0 && i + 1 < n && s[i + 1] == in_str)) {
			t->ticks += between && g_ascii_isalpha(s[i + 1]) &&
			    strchr("abefnrtuv", g_ascii_tolower(s[i + 1])) == NULL;
			continue;
		}
		if ((c == '"' || c == '\'') && in_str == c && !(s[i - 1] == '\\' || s[i - 1] == '`') &&
		    (g = script_glue(s, i, n)) > 0) {
			t->short_joins += i - opened <= 5;
			in_str = s[i + g - 1];
			opened = i + g - 1;
			i += g - 1;
			continue;
		}
		if ((c == '"' || c == '\'') && in_str == 0) {
			in_str = c;
			opened = i;
		} else if (in_str != 0 && c == in_str && !(s[i - 1] == '\\' || s[i - 1] == '`')) {
			in_str = 0;
		}
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			t->visible++;
			t->nonword += !script_alnum(c) && c != '_';
		}
		t->sq[o] = (char)c;
		t->low[o++] = g_ascii_tolower(c);
	}
	t->sq[o] = t->low[o] = '\0';
	t->len = o;
}

void
script_text_clear(struct script_text *t)
{
	g_free(t->sq);
	g_free(t->low);
	memset(t, 0, sizeof(*t));
}

/* Where things are ---------------------------------------------------------------- */

/*
 * script_find - the first NEEDLE in T->low[FROM, TO), or G_MAXSIZE. Every
 * search of the checks comes here and is paid for: past T->budget bytes
 * searched, nothing more is found (hostile text full of near misses costs
 * a bounded multiple of its size, not its square).
 */
gsize
script_find(struct script_text *t, gsize from, gsize to, const char *needle)
{
	const char *p;

	to = MIN(to, t->len);
	if (from >= to || t->spent > t->budget)
		return G_MAXSIZE;
	p = memmem(t->low + from, to - from, needle, strlen(needle));
	t->spent += p != NULL ? (gsize)(p - t->low) - from + 1 : to - from;
	return p != NULL ? (gsize)(p - t->low) : G_MAXSIZE;
}

/* script_word - whether the N bytes at T->low[AT] stand alone: no letter, digit, '_', '-' or '.' on either side */
static gboolean
script_word(struct script_text *t, gsize at, gsize n)
{
	char b = at > 0 ? t->low[at - 1] : ' ', a = at + n < t->len ? t->low[at + n] : ' ';

	return !script_ident(b) && b != '-' && b != '.' && b != '$' && !script_ident(a) && a != '-';
}

/* script_find_word - the first NEEDLE standing alone in T->low[FROM, TO), or G_MAXSIZE */
gsize
script_find_word(struct script_text *t, gsize from, gsize to, const char *needle)
{
	gsize n = strlen(needle);

	for (;;) {
		gsize at = script_find(t, from, to, needle);

		if (at == G_MAXSIZE || script_word(t, at, n))
			return at;
		from = at + 1;
	}
}

/* script_line_end - the end of the line holding AT (at most SCRIPT_LINE_MAX on) */
gsize
script_line_end(struct script_text *t, gsize at)
{
	gsize end = MIN(t->len, at + SCRIPT_LINE_MAX);
	const char *nl = memchr(t->low + at, '\n', end - at);

	end = nl != NULL ? (gsize)(nl - t->low) : end;
	t->spent += end - at;
	return end;
}

/* script_line_start - the start of the line holding AT (at most SCRIPT_LINE_MAX back) */
gsize
script_line_start(struct script_text *t, gsize at)
{
	gsize stop = at > SCRIPT_LINE_MAX ? at - SCRIPT_LINE_MAX : 0;

	while (at > stop && t->low[at - 1] != '\n') {
		at--;
		t->spent++;
	}
	return at;
}

/* script_snippet - the script from AT to its line's end, at most SCRIPT_SNIPPET bytes (caller g_free()s) */
char *
script_snippet(struct script_text *t, gsize at)
{
	gsize end = MIN(script_line_end(t, at), at + SCRIPT_SNIPPET);

	while (at < end && g_ascii_isspace(t->sq[at]))
		at++;
	while (end > at && g_ascii_isspace(t->sq[end - 1]))
		end--;
	return report_clean_text(t->sq + at, (gssize)(end - at), 0);
}

/* The text of a part ---------------------------------------------------------- */

/* script_text_init - T (cleared first) gets the squeezed text of the LEN bytes at DATA in language LANG */
void
script_text_init(struct script_text *t, const guint8 *data, gsize len, enum script_lang lang)
{
	GByteArray *text = script_read(data, len);

	memset(t, 0, sizeof(*t));
	t->lang = lang;
	script_squeeze(t, text->data, text->len);
	t->budget = (guint64)t->len * SCRIPT_WORK + SCRIPT_WORK_MIN;
	g_byte_array_unref(text);
}

/* script_is_text - whether the first bytes of T hold no NUL: a script, not a jar or a program */
gboolean
script_is_text(const guint8 *data, gsize len)
{
	gsize skip;
	int enc = script_utf16(data, len, &skip);
	gsize n = MIN(len, 4096);

	if (enc == 0)
		return memchr(data + skip, '\0', n - MIN(n, skip)) == NULL;
	for (gsize i = skip; i + 1 < n; i += 2)
		if (data[i] == 0 && data[i + 1] == 0)
			return FALSE;
	return TRUE;
}

/* What language a text is in --------------------------------------------------------- */

/* script_markers - how many of the NULL-ended NEEDLES LOW (N bytes) holds */
static guint
script_markers(const char *low, gsize n, const char *const *needles)
{
	guint c = 0;

	for (gsize i = 0; needles[i] != NULL; i++)
		c += memmem(low, n, needles[i], strlen(needles[i])) != NULL;
	return c;
}

/* script_batch_lines - lines of LOW (N bytes) that start with a batch command; *LINES gets all non-blank lines */
static guint
script_batch_lines(const char *low, gsize n, guint *lines)
{
	static const char *const cmds[] = { "@echo", "echo ", "set ", "start ", "call ", "cmd ", "cmd.exe",
	    "if ", "for ", "goto ", "rem ", "::", "%~", "del ", "copy ", "timeout ", "exit /b",
	    "powershell", "curl ", "bitsadmin", "certutil", NULL };
	guint hits = 0;

	*lines = 0;
	for (gsize i = 0; i < n;) {
		const char *nl = memchr(low + i, '\n', n - i);
		gsize e = nl != NULL ? (gsize)(nl - low) : n, s = i;

		while (s < e && g_ascii_isspace(low[s]))
			s++;
		if (s < e) {
			(*lines)++;
			for (gsize k = 0; cmds[k] != NULL; k++)
				if (e - s >= strlen(cmds[k]) && memcmp(low + s, cmds[k], strlen(cmds[k])) == 0) {
					hits++;
					break;
				}
		}
		i = e + 1;
	}
	return hits;
}

const char *
lure_script_language(const guint8 *data, gsize len)
{
	static const char *const ps[] = { "$env:", "new-object", "invoke-", "-join", "[system.",
	    "[convert]", "write-host", "start-process", "param(", "$psscriptroot", "-erroraction",
	    "out-null", "[io.", "iex", NULL };
	static const char *const vbs[] = { "createobject(", "wscript.", "dim ", "end sub",
	    "end function", "on error resume next", "msgbox", "execute", NULL };
	static const char *const winjs[] = { "activexobject", "wscript.", "getobject(", NULL };
	static const char *const html[] = { "<html", "<head", "<body", "<script", NULL };
	GByteArray *text;
	g_autofree char *low = NULL;
	const char *lang = NULL;
	guint lines, cmds;
	gsize n;

	if (len == 0 || !script_is_text(data, len))
		return NULL;
	text = script_read(data, MIN(len, 8192));
	n = text->len;
	low = g_ascii_strdown((const char *)text->data, (gssize)n);
	g_byte_array_unref(text);
	n = strlen(low);	/* a NUL in UTF-16 text ends it */
	if (memmem(low, n, "<hta:application", 16) != NULL)
		lang = "hta";
	else if (memmem(low, n, "<job", 4) != NULL || memmem(low, n, "<package", 8) != NULL ||
	    memmem(low, n, "<scriptlet", 10) != NULL || memmem(low, n, "<component", 10) != NULL)
		lang = memmem(low, n, "<script", 7) != NULL ? "wsf" : NULL;
	else if (script_markers(low, n, html) > 0)
		lang = script_markers(low, n, winjs) > 0 || memmem(low, n, "vbscript", 8) != NULL ||
		    memmem(low, n, "createobject(", 13) != NULL ? "hta" : NULL;
	else if (g_str_has_prefix(low, "@echo") || g_str_has_prefix(low, "::") ||
	    g_str_has_prefix(low, "rem "))
		lang = "batch";
	else if (script_markers(low, n, vbs) >= 2)
		lang = "vbscript";
	else if (script_markers(low, n, winjs) > 0 && (memmem(low, n, "var ", 4) != NULL ||
	    memmem(low, n, "function", 8) != NULL || memmem(low, n, "new ", 4) != NULL))
		lang = "jscript";
	else if (script_markers(low, n, ps) >= 2)
		lang = "powershell";
	else if ((cmds = script_batch_lines(low, n, &lines)) >= 2 || (cmds == 1 && lines <= 3))
		lang = "batch";
	return lang;
}
