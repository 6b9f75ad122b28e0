/*
 * text.c - a mail's text as Unicode (text.h)
 *
 * Charsets are read with iconv through GMime's names for them
 * (g_mime_iconv_open()), so MIME aliases ("latin1", "x-sjis") work; the
 * loop goes on past bytes iconv refuses, one U+FFFD each. The HTML pass
 * is a plain scan with no backtracking: a '<' with no '>' after it ends
 * the text, a <script> or <style> with no end tag ends it too.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include <gmime/gmime.h>

#include "moat/text.h"

#define TEXT_META_PEEK	1024		/* bytes of an HTML part searched for <meta charset> */

/* text_iconv_name - the iconv name to read CHARSET with; NULL: UTF-8, or not said */
static const char *
text_iconv_name(const char *charset)
{
	/* A declared charset's superset, which mail in it really uses. */
	static const char *const map[][2] = {
		{ "iso-8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
		{ "iso8859-1", "WINDOWS-1252" }, { "gb2312", "GB18030" }, { "gbk", "GB18030" },
		{ "x-gbk", "GB18030" }, { "euc-cn", "GB18030" }, { "cp936", "GB18030" },
		{ "shift_jis", "CP932" }, { "shift-jis", "CP932" }, { "x-sjis", "CP932" },
		{ "sjis", "CP932" }, { "windows-31j", "CP932" }, { "euc-kr", "CP949" },
		{ "ks_c_5601-1987", "CP949" }, { "big5", "CP950" }, { "x-big5", "CP950" },
		{ "iso-8859-8-i", "ISO-8859-8" }, { "tis-620", "CP874" }, { "iso-8859-11", "CP874" },
	};
	static const char *const utf8[] = {
		"utf-8", "utf8", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default",
	};

	if (charset == NULL)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(utf8); i++)
		if (strcmp(charset, utf8[i]) == 0)
			return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
		if (strcmp(charset, map[i][0]) == 0)
			return map[i][1];
	return charset;
}

/*
 * text_iconv - LEN bytes at DATA read as charset NAME, appended to OUT as
 * UTF-8: a byte iconv cannot read becomes U+FFFD, a character cut at the
 * end is dropped, and OUT stops growing at TEXT_OUT_MAX. FALSE when iconv
 * does not know NAME (OUT unchanged).
 */
static gboolean
text_iconv(GString *out, const guint8 *data, gsize len, const char *name)
{
	iconv_t cd = g_mime_iconv_open("UTF-8", name);
	char *in = (char *)data;
	size_t inleft = len;
	char buf[4096];

	if (cd == (iconv_t)-1)
		return FALSE;
	while (inleft > 0 && out->len < TEXT_OUT_MAX) {
		char *o = buf;
		size_t oleft = sizeof(buf);
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		int e = errno;

		g_string_append_len(out, buf, (gssize)(o - buf));
		if (r != (size_t)-1)
			break;
		if (e == E2BIG)
			continue;
		if (e != EILSEQ)
			break;		/* EINVAL: a character cut at the end */
		g_string_append(out, "\xef\xbf\xbd");
		in++;
		inleft--;
	}
	{
		char *o = buf;
		size_t oleft = sizeof(buf);

		/* a stateful charset (ISO-2022-JP) may owe a shift back */
		if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1)
			g_string_append_len(out, buf, (gssize)(o - buf));
	}
	g_mime_iconv_close(cd);
	return TRUE;
}

/*
 * text_guess - LEN bytes at DATA, in no charset iconv knows, into OUT:
 * UTF-8 when they are (but for a character the caller's bound cut), else
 * windows-1252, or UTF-8 with U+FFFD for bad bytes when DECLARED_UTF says so
 */
static void
text_guess(GString *out, const guint8 *data, gsize len, gboolean declared_utf)
{
	g_autofree guint8 *copy = NULL;
	g_autofree char *valid = NULL;
	const char *valid_end = NULL;

	if (memchr(data, '\0', len) != NULL) {
		/* NULs would stop UTF-8 validation and GLib's string functions */
		copy = g_memdup2(data, len);
		for (gsize i = 0; i < len; i++)
			if (copy[i] == '\0')
				copy[i] = ' ';
		data = copy;
	}
	if (g_utf8_validate_len((const char *)data, len, &valid_end) ||
	    (const guint8 *)valid_end + 4 > data + len) {
		g_string_append_len(out, (const char *)data, valid_end - (const char *)data);
		return;
	}
	if (!declared_utf && text_iconv(out, data, len, "WINDOWS-1252"))
		return;
	valid = g_utf8_make_valid((const char *)data, (gssize)len);
	g_string_append(out, valid);
}

/* text_utf8 - DATA in CHARSET as UTF-8: iconv, else text_guess() */
char *
text_utf8(const guint8 *data, gsize len, const char *charset)
{
	const char *name = text_iconv_name(charset);
	GString *out = g_string_sized_new(len + 16);

	if (name == NULL || !text_iconv(out, data, len, name))
		text_guess(out, data, len, charset != NULL && name == NULL && strstr(charset, "utf") != NULL);
	for (gsize i = 0; i < out->len; i++)
		if (out->str[i] == '\0')
			out->str[i] = ' ';
	/*
	 * glibc's UCS-4 and WCHAR_T decoders let code points past U+10FFFF
	 * through, and its UTF-8 encoder writes them as 4- to 6-byte forms
	 * that are no UTF-8 ("charset=ucs-4" is the mail's to choose).
	 */
	if (!g_utf8_validate_len(out->str, out->len, NULL)) {
		g_autofree char *valid = g_utf8_make_valid(out->str, (gssize)out->len);

		g_string_assign(out, valid);
	}
	return g_string_free(out, FALSE);
}

/* text_find_ci - the first ASCII NEEDLE (lower-case) in [P, END), case-insensitive, or NULL */
static const char *
text_find_ci(const char *p, const char *end, const char *needle)
{
	gsize n = strlen(needle);

	for (; p + n <= end; p++)
		if (g_ascii_tolower(*p) == needle[0] && g_ascii_strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* text_meta_charset - the charset an HTML part's <meta> names in its first bytes, or NULL. g_free(). */
static char *
text_meta_charset(const guint8 *data, gsize len)
{
	const char *s = (const char *)data, *end = s + MIN(len, TEXT_META_PEEK);
	const char *p = text_find_ci(s, end, "charset=");
	gsize n = 0;

	if (p == NULL)
		return NULL;
	p += strlen("charset=");
	if (p < end && (*p == '"' || *p == '\''))
		p++;
	while (p + n < end && n < 64 && (g_ascii_isalnum(p[n]) || strchr("-_.:", p[n]) != NULL))
		n++;
	return n > 0 ? g_ascii_strdown(p, (gssize)n) : NULL;
}

/* HTML entities a password or its quotes may be written with. */
static const struct {
	const char *name;
	gunichar c;
} text_entities[] = {
	{ "nbsp", 0xa0 }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "ldquo", 0x201c }, { "rdquo", 0x201d }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "laquo", 0xab }, { "raquo", 0xbb }, { "bdquo", 0x201e },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "shy", 0xad }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "colon", ':' }, { "excl", '!' }, { "num", '#' },
};

/* text_entity - the entity at P ('&'), appended to OUT; returns the bytes it took (0: not one) */
static gsize
text_entity(GString *out, const char *p, const char *end)
{
	const char *semi = memchr(p, ';', (gsize)MIN(end - p, 12));
	gunichar c = 0;

	if (semi == NULL)
		return 0;
	if (p[1] == '#') {
		gboolean hex = p + 2 < semi && (p[2] == 'x' || p[2] == 'X');
		const char *d = p + 2 + hex;

		if (d == semi)
			return 0;
		for (; d < semi; d++) {
			if (!(hex ? g_ascii_isxdigit(*d) : g_ascii_isdigit(*d)))
				return 0;
			c = c * (hex ? 16 : 10) + (gunichar)(hex ? g_ascii_xdigit_value(*d) :
			    g_ascii_digit_value(*d));
		}
		if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			c = 0xfffd;
	} else {
		gsize n = (gsize)(semi - p - 1);

		for (gsize i = 0; c == 0 && i < G_N_ELEMENTS(text_entities); i++)
			if (strlen(text_entities[i].name) == n && strncmp(p + 1, text_entities[i].name, n) == 0)
				c = text_entities[i].c;
		if (c == 0)
			return 0;
	}
	g_string_append_unichar(out, c);
	return (gsize)(semi - p + 1);
}

/* text_tag_breaks - what tag NAME (lower-case, LEN bytes) stands for in text: '\n', '\t' or 0 */
static char
text_tag_breaks(const char *name, gsize len)
{
	static const char *const lines[] = {
		"br", "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "pre", "hr", "dt", "dd", "section", "article", "header", "footer",
		"center", "title", "body",
	};

	if ((len == 2 && (strncmp(name, "td", 2) == 0 || strncmp(name, "th", 2) == 0)))
		return '\t';
	for (gsize i = 0; i < G_N_ELEMENTS(lines); i++)
		if (strlen(lines[i]) == len && strncmp(name, lines[i], len) == 0)
			return '\n';
	return 0;
}

/* text_html - one pass: entities, tags to breaks or nothing, comments and scripts skipped */
char *
text_html(const char *s, gsize len)
{
	GString *out = g_string_sized_new(len / 2 + 16);
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *gt, *name;
		gsize n = 0, took;
		gboolean closing;

		if (*p == '&' && (took = text_entity(out, p, end)) > 0) {
			p += took;
			continue;
		}
		if (*p != '<' || p + 1 >= end || !(g_ascii_isalpha(p[1]) || p[1] == '/' || p[1] == '!')) {
			g_string_append_c(out, *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
			p++;
			continue;
		}
		if (end - p >= 4 && strncmp(p, "<!--", 4) == 0) {
			const char *close = text_find_ci(p + 4, end, "-->");

			p = close != NULL ? close + 3 : end;
			continue;
		}
		closing = p[1] == '/';
		name = p + 1 + closing;
		while (name + n < end && g_ascii_isalnum(name[n]))
			n++;
		if ((gt = memchr(name + n, '>', (gsize)(end - name - n))) == NULL)
			break;		/* an unclosed tag to the end: no text after it */
		p = gt + 1;
		if (!closing && ((n == 6 && g_ascii_strncasecmp(name, "script", 6) == 0) ||
		    (n == 5 && g_ascii_strncasecmp(name, "style", 5) == 0))) {
			const char *close = text_find_ci(p, end, n == 6 ? "</script" : "</style");

			p = close != NULL ? close : end;
			continue;
		}
		if (n > 0 && n <= 10) {
			char lower[11];
			char br;

			for (gsize i = 0; i < n; i++)
				lower[i] = g_ascii_tolower(name[i]);
			if ((br = text_tag_breaks(lower, n)) != 0)
				g_string_append_c(out, br);
		}
	}
	return g_string_free(out, FALSE);
}

/* text_clean - NFKC, then one pass over the characters */
char *
text_clean(const char *text)
{
	g_autofree char *nfkc = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	const char *src = nfkc != NULL ? nfkc : text;
	GString *out = g_string_sized_new(strlen(src) + 1);

	for (const char *p = src; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '\r' && p[1] == '\n')
			continue;
		if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 || c == 0x2028 ||
		    c == 0x2029)
			g_string_append_c(out, '\n');
		else if (c == '\t')
			g_string_append_c(out, '\t');
		else if (c == 0xad || (c >= 0x200b && c <= 0x200f) || c == 0x2060 || c == 0xfeff ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
			continue;	/* invisible: they split words to hide them */
		else if (g_unichar_isspace(c) || g_unichar_iscntrl(c))
			g_string_append_c(out, ' ');
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
	return g_string_free(out, FALSE);
}

/* Parts ------------------------------------------------------------------ */

gboolean
text_part_is_text(const struct moat_part *p, gboolean *html)
{
	*html = FALSE;
	if (p->parent != NULL || p->content == NULL || p->content_type == NULL)
		return FALSE;
	*html = strcmp(p->content_type, "text/html") == 0;
	return *html || strcmp(p->content_type, "text/plain") == 0;
}

char *
text_part(const struct moat_part *p, gsize max)
{
	gsize len = 0;
	const guint8 *data;
	g_autofree char *meta = NULL, *utf8 = NULL, *stripped = NULL;
	gboolean html;

	if (!text_part_is_text(p, &html))
		return g_strdup("");
	data = g_bytes_get_data(p->content, &len);
	len = MIN(len, max);
	if (len == 0 || data == NULL)
		return g_strdup("");
	if (html && p->charset == NULL)
		meta = text_meta_charset(data, len);
	utf8 = text_utf8(data, len, p->charset != NULL ? p->charset : meta);
	if (html)
		stripped = text_html(utf8, strlen(utf8));
	return text_clean(html ? stripped : utf8);
}
