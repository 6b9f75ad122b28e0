/*
 * rewrite.c - the banner put into the message (banner.h)
 *
 * In: the message as received (CRLF) on a GMimeStream and the banner's
 * words. Out: the new body for smfi_replacebody() and, for a single-part
 * message, the new Content-Type / Content-Transfer-Encoding values.
 *
 * The message is spliced, never re-serialised: GMime parses a CRLF copy
 * with a persistent stream, so every leaf's content is a substream whose
 * bounds are byte offsets in the copy, and every header carries its
 * offset. Only the content of the text parts that get the banner (and,
 * where the charset or transfer encoding changes, those parts' own
 * Content-Type / Content-Transfer-Encoding fields) is replaced; the
 * preamble, boundaries, epilogue, attachments and forwarded messages are
 * the received bytes. Bare LF in the input is made CRLF first (SMTP
 * carries CRLF; smfi_replacebody() wants it).
 *
 * Charsets: the banner is written in the part's charset when it can be:
 * plain text with the warning sign, else with "(!)" in its place; HTML
 * with characters the charset lacks as numeric character references, so
 * an HTML part in an ASCII-compatible charset never changes charset.
 * Otherwise the part's text is converted to UTF-8 (bytes the declared
 * charset does not define become U+FFFD) and the part says charset=utf-8.
 *
 * Limits: a part over BANNER_PART_MAX decoded bytes is left alone, at most
 * BANNER_MAX_PARTS parts get the banner (the first in document order: the
 * ones a reader sees first), multiparts nested deeper than
 * BANNER_MAX_DEPTH are not entered. Parser options are per call, no
 * global state: reentrant after mime_init().
 */
#include <errno.h>
#include <string.h>

#include "moat/banner.h"
#include "moat/mime.h"
#include "moat/moat.h"

#define BANNER_PART_MAX		(16u * 1024 * 1024)	/* decoded bytes of one text part */
#define BANNER_MAX_PARTS	100
#define BANNER_MAX_DEPTH	32
#define BANNER_LOOK_BYTES	4096	/* of a plain part's start compared with the banner */
#define BANNER_LINE_MAX		998	/* RFC 5322 2.1.1: past it, 7bit/8bit become QP */
#define BANNER_SIGN		"\xe2\x9a\xa0"	/* U+26A0 WARNING SIGN */
#define BANNER_SIGN_ASCII	"(!)"

/* one replacement in the CRLF copy: bytes [start, end) become NEW */
struct bn_edit {
	gsize start, end;
	GByteArray *bytes;		/* owned */
};

/* a text part that is to get the banner */
struct bn_target {
	GMimePart *part;		/* borrowed from the message */
	gboolean html;
	gboolean top;			/* the message's own part: headers go to OUT */
	GPtrArray *boundaries;		/* char *, owned: the enclosing multiparts' */
	GByteArray *text;		/* owned: the decoded content */
	char *charset;			/* owned: as declared, or "us-ascii" */
	gsize content_start, content_end;
};

struct bn_ctx {
	const guchar *buf;		/* the CRLF copy, borrowed from COPY */
	gsize len;
	gsize body_start;
	GMimeStream *mem;		/* the parser's stream, owned */
	const struct banner_text *text;	/* borrowed */
	char *plain;			/* banner_plain(), LF */
	char *plain_ascii;		/* the same with BANNER_SIGN_ASCII */
	char *html;			/* banner_html() */
	char *html_ncr;			/* the same, non-ASCII as &#N; */
	GPtrArray *targets;		/* struct bn_target *, owned */
	GArray *edits;			/* struct bn_edit */
	char *skip;			/* why the whole message is left alone */
	char *fail;			/* the first part that could not take the banner */
	char *top_ct, *top_cte;		/* new top-level header values */
	guint parts;
};

static void
bn_target_free(gpointer p)
{
	struct bn_target *t = p;

	if (t == NULL)
		return;
	if (t->boundaries != NULL)
		g_ptr_array_unref(t->boundaries);
	if (t->text != NULL)
		g_byte_array_unref(t->text);
	g_free(t->charset);
	g_free(t);
}

/* bn_fail - remember the first reason a part was left alone */
static void G_GNUC_PRINTF(2, 3)
bn_fail(struct bn_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->fail != NULL)
		return;
	va_start(ap, fmt);
	c->fail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* ---- the words ---- */

/* bn_flat - S as one line of valid UTF-8: controls and line breaks as blanks */
static char *
bn_flat(const char *s)
{
	char *v = g_utf8_make_valid(s != NULL ? s : "", -1);

	for (char *p = v; *p != '\0'; p++)
		if ((guchar)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return g_strstrip(v);
}

/* bn_plain_with - the plain banner with SIGN in front of the title */
static char *
bn_plain_with(const struct banner_text *text, const char *sign)
{
	GString *s = g_string_new(NULL);
	char *title = bn_flat(text->title);

	g_string_append_printf(s, "%s %s\n", sign, title);
	g_free(title);
	if (text->external && (text->reasons == NULL || text->reasons->len == 0))
		return g_string_free(s, FALSE);		/* the external notice: one line */
	for (guint i = 0; text->reasons != NULL && i < text->reasons->len; i++) {
		char *r = bn_flat(text->reasons->pdata[i]);

		g_string_append_printf(s, "- %s\n", r);
		g_free(r);
	}
	if (text->advice != NULL && text->advice[0] != '\0') {
		char *a = bn_flat(text->advice);

		g_string_append_printf(s, "%s\n", a);
		g_free(a);
	}
	/* underscores: a line of '-' could read as a boundary or a signature */
	g_string_append(s, "________________________________________\n");
	return g_string_free(s, FALSE);
}

char *
banner_plain(const struct banner_text *text)
{
	return bn_plain_with(text, BANNER_SIGN);
}

/* bn_html_escape - S flattened, with & < > " ' as entities, onto OUT */
static void
bn_html_escape(GString *out, const char *s)
{
	char *v = bn_flat(s);

	for (const char *p = v; *p != '\0'; p++) {
		switch (*p) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default: g_string_append_c(out, *p); break;
		}
	}
	g_free(v);
}

/*
 * Dark amber-red with white text and an amber border: about 8:1 contrast,
 * and a dark block with an explicit colour on every element is what the
 * dark modes of Gmail, Outlook and Apple Mail leave as it is. !important
 * on the visibility properties beats a sender's <style> rules.
 */
#define BN_CSS_BOX "display:block!important;visibility:visible!important;opacity:1!important;" \
	"margin:0 0 16px 0;padding:10px 14px;border:3px solid #ffb000;border-radius:4px;" \
	"background:#8a1c00;background-color:#8a1c00;color:#ffffff;" \
	"font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.4;text-align:left"
#define BN_CSS_TEXT "color:#ffffff;background-color:#8a1c00;font-family:Arial,Helvetica,sans-serif"

char *
banner_html(const struct banner_text *text)
{
	GString *s = g_string_new(NULL);

	g_string_append(s, "<div " BANNER_HTML_ATTR "=\"1\" style=\"" BN_CSS_BOX "\">\n");
	g_string_append(s, "<strong style=\"" BN_CSS_TEXT ";font-size:15px\">" BANNER_SIGN " ");
	bn_html_escape(s, text->title);
	g_string_append(s, "</strong>\n");
	if (text->reasons != NULL && text->reasons->len > 0) {
		g_string_append(s, "<ul style=\"" BN_CSS_TEXT ";margin:6px 0 6px 0;padding:0 0 0 22px\">\n");
		for (guint i = 0; i < text->reasons->len; i++) {
			g_string_append(s, "<li style=\"" BN_CSS_TEXT "\">");
			bn_html_escape(s, text->reasons->pdata[i]);
			g_string_append(s, "</li>\n");
		}
		g_string_append(s, "</ul>\n");
	}
	if (text->advice != NULL && text->advice[0] != '\0' &&
	    !(text->external && (text->reasons == NULL || text->reasons->len == 0))) {
		g_string_append(s, "<div style=\"" BN_CSS_TEXT "\">");
		bn_html_escape(s, text->advice);
		g_string_append(s, "</div>\n");
	}
	g_string_append(s, "</div>\n");
	return g_string_free(s, FALSE);
}

/* bn_ncr - UTF-8 S with every non-ASCII character as &#N; (HTML only) */
static char *
bn_ncr(const char *s)
{
	GString *out = g_string_new(NULL);

	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);

		if (u < 0x80)
			g_string_append_c(out, (char)u);
		else
			g_string_append_printf(out, "&#%u;", (unsigned)u);
	}
	return g_string_free(out, FALSE);
}

/* ---- charsets ---- */

/* bn_charset_ascii_safe - stateless and ASCII-compatible: '<', '>' and line
 * ends are themselves, so bytes may be inserted after any of them */
static gboolean
bn_charset_ascii_safe(const char *cs)
{
	static const char *const prefixes[] = {
		"us-ascii", "ascii", "ansi_x3.4", "utf-8", "utf8", "iso-8859", "iso8859",
		"iso_8859", "latin", "windows-", "cp", "koi8", "mac", "tis-620", "viscii",
		"shift_jis", "sjis", "euc-", "euc", "gb2312", "gbk", "gb18030", "big5",
		"ks_c_5601", "x-", NULL,
	};

	for (int i = 0; prefixes[i] != NULL; i++)
		if (g_ascii_strncasecmp(cs, prefixes[i], strlen(prefixes[i])) == 0)
			return TRUE;
	return FALSE;
}

static gboolean
bn_charset_is(const char *cs, const char *a, const char *b)
{
	return g_ascii_strcasecmp(cs, a) == 0 || (b != NULL && g_ascii_strcasecmp(cs, b) == 0);
}

static gboolean
bn_charset_utf8(const char *cs)
{
	return bn_charset_is(cs, "utf-8", "utf8");
}

static gboolean
bn_charset_ascii(const char *cs)
{
	return bn_charset_is(cs, "us-ascii", "ascii") || g_ascii_strncasecmp(cs, "ansi_x3.4", 9) == 0;
}

/* bn_iconv_ok - iconv can convert from CS */
static gboolean
bn_iconv_ok(const char *cs)
{
	GIConv cd = g_iconv_open("UTF-8", g_mime_charset_iconv_name(cs));

	if (cd == (GIConv)-1)
		return FALSE;
	g_iconv_close(cd);
	return TRUE;
}

/*
 * bn_to_charset - UTF-8 S in charset CS, or NULL when a character cannot be
 * represented or iconv does not know CS
 */
static GByteArray *
bn_to_charset(const char *s, const char *cs)
{
	gsize n = 0;
	char *conv;
	GByteArray *out;

	if (bn_charset_utf8(cs))
		conv = g_strdup(s), n = strlen(s);
	else if (bn_charset_ascii(cs) || !bn_iconv_ok(cs)) {
		/* an unknown charset: assume ASCII-compatible, as readers do */
		for (const char *p = s; *p != '\0'; p++)
			if ((guchar)*p >= 0x80)
				return NULL;
		conv = g_strdup(s), n = strlen(s);
	} else if ((conv = g_convert(s, -1, g_mime_charset_iconv_name(cs), "UTF-8", NULL, &n,
	    NULL)) == NULL)
		return NULL;
	out = g_byte_array_new_take((guint8 *)conv, n);
	return out;
}

/*
 * bn_to_utf8 - LEN bytes at P, in charset CS, as UTF-8 onto OUT; a byte CS
 * does not define becomes U+FFFD. Declared us-ascii or an unknown charset:
 * valid UTF-8 is taken as it is, anything else read as windows-1252.
 */
static void
bn_to_utf8(GByteArray *out, const guchar *p, gsize len, const char *cs)
{
	const char *from = g_mime_charset_iconv_name(cs);
	GIConv cd;
	gchar obuf[4096];

	if (len == 0)
		return;
	if (bn_charset_utf8(cs) || ((bn_charset_ascii(cs) || !bn_iconv_ok(cs)) &&
	    g_utf8_validate((const char *)p, (gssize)len, NULL))) {
		char *v = g_utf8_make_valid((const char *)p, (gssize)len);

		g_byte_array_append(out, (const guint8 *)v, (guint)strlen(v));
		g_free(v);
		return;
	}
	if (bn_charset_ascii(cs) || !bn_iconv_ok(cs))
		from = "WINDOWS-1252";
	if ((cd = g_iconv_open("UTF-8", from)) == (GIConv)-1 &&
	    (cd = g_iconv_open("UTF-8", "ISO-8859-1")) == (GIConv)-1)
		return;
	gchar *in = (gchar *)p;
	gsize inleft = len;

	while (inleft > 0) {
		gchar *o = obuf;
		gsize oleft = sizeof(obuf);
		gsize r = g_iconv(cd, &in, &inleft, &o, &oleft);
		int e = errno;

		g_byte_array_append(out, (const guint8 *)obuf, (guint)(o - obuf));
		if (r != (gsize)-1 || e == E2BIG)
			continue;
		/* EILSEQ, or EINVAL (cut short at the end): one byte as U+FFFD */
		g_byte_array_append(out, (const guint8 *)"\xef\xbf\xbd", 3);
		in++;
		inleft--;
		g_iconv(cd, NULL, NULL, NULL, NULL);
	}
	{
		gchar *o = obuf;
		gsize oleft = sizeof(obuf);

		g_iconv(cd, NULL, NULL, &o, &oleft);	/* back to the initial state */
		g_byte_array_append(out, (const guint8 *)obuf, (guint)(o - obuf));
	}
	g_iconv_close(cd);
}

/* ---- HTML ---- */

static gboolean
bn_space(guchar c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* bn_find_ci - the first NEEDLE (ASCII, any case) in [from, n) of S, or N */
static gsize
bn_find_ci(const guchar *s, gsize n, gsize from, const char *needle)
{
	gsize k = strlen(needle);

	for (gsize i = from; i + k <= n; i++)
		if (g_ascii_strncasecmp((const char *)s + i, needle, k) == 0)
			return i;
	return n;
}

/* bn_tag_end - past the '>' closing the tag at I (quotes respected), or N */
static gsize
bn_tag_end(const guchar *s, gsize n, gsize i)
{
	guchar q = 0;

	for (i++; i < n; i++) {
		if (q != 0) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			if (bn_space(s[i - 1]) || s[i - 1] == '=')
				q = s[i];
		} else if (s[i] == '>')
			return i + 1;
	}
	return n;
}

static gboolean
bn_name_in(const char *name, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (g_ascii_strcasecmp(name, list[i]) == 0)
			return TRUE;
	return FALSE;
}

/*
 * bn_html_at - where the banner goes in the HTML S: right after the <body>
 * tag; or, when text or a body element comes first (the browser opens the
 * body there), right before it; else after </head>, after <html>, or at the
 * start. Comments, attribute values and the text of <title>, <style>,
 * <script> are skipped, so "<!-- <body> -->" does not hide the banner.
 */
static gsize
bn_html_at(const guchar *s, gsize n)
{
	static const char *const head[] = { "html", "head", "meta", "link", "base", "basefont",
	    "bgsound", "title", "style", "script", "noscript", "template", NULL };
	static const char *const raw[] = { "title", "style", "script", "textarea", "xmp", NULL };
	gsize i = 0, after_html = 0, after_head = 0;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = after_html = 3;		/* keep a BOM first */
	while (i < n) {
		char name[16];
		gsize j, k = 0;
		gboolean closing;

		if (s[i] != '<') {
			if (!bn_space(s[i]))
				return i;	/* text: the body starts here */
			i++;
			continue;
		}
		if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
			j = bn_find_ci(s, n, i + 4, "-->");
			i = j < n ? j + 3 : n;
			continue;
		}
		if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
			i = bn_tag_end(s, n, i);
			continue;
		}
		closing = i + 1 < n && s[i + 1] == '/';
		for (j = i + 1 + closing; j < n && g_ascii_isalnum(s[j]); j++)
			if (k + 1 < sizeof(name))
				name[k++] = (char)s[j];
		name[k] = '\0';
		if (k == 0)
			return i;		/* a '<' that is text */
		j = bn_tag_end(s, n, i);
		if (closing) {
			if (g_ascii_strcasecmp(name, "head") == 0)
				after_head = j;
			i = j;
			continue;
		}
		if (g_ascii_strcasecmp(name, "body") == 0)
			return j;
		if (!bn_name_in(name, head))
			return i;		/* a body element: the body starts here */
		if (g_ascii_strcasecmp(name, "html") == 0)
			after_html = j;
		if (bn_name_in(name, raw)) {
			char close[20];

			g_snprintf(close, sizeof(close), "</%s", name);
			j = bn_find_ci(s, n, j, close);
			j = j < n ? bn_tag_end(s, n, j) : n;
		}
		i = j;
	}
	return after_head > 0 ? after_head : after_html;
}

/* bn_html_bannered - the first tag at AT (after blanks) carries BANNER_HTML_ATTR */
static gboolean
bn_html_bannered(const guchar *s, gsize n, gsize at)
{
	gsize end;

	while (at < n && bn_space(s[at]))
		at++;
	if (at >= n || s[at] != '<')
		return FALSE;
	end = bn_tag_end(s, n, at);
	return bn_find_ci(s, end, at, BANNER_HTML_ATTR) < end;
}

/* bn_plain_bannered - the part's text starts with the banner's first line */
static gboolean
bn_plain_bannered(struct bn_ctx *c, const struct bn_target *t)
{
	GByteArray *u = g_byte_array_new();
	const char *firsts[] = { c->plain, c->plain_ascii };
	gboolean hit = FALSE;
	const char *p;
	gsize n;

	bn_to_utf8(u, t->text->data, MIN(t->text->len, BANNER_LOOK_BYTES), t->charset);
	p = (const char *)u->data;
	n = u->len;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3, n -= 3;
	while (n > 0 && bn_space((guchar)*p))
		p++, n--;
	for (guint i = 0; i < G_N_ELEMENTS(firsts) && !hit; i++) {
		gsize k = strcspn(firsts[i], "\n");

		hit = n >= k && memcmp(p, firsts[i], k) == 0;
	}
	g_byte_array_unref(u);
	return hit;
}

/* bn_pgp_inline - the plain text starts with an OpenPGP armour header */
static const char *
bn_pgp_inline(const struct bn_target *t)
{
	const guchar *p = t->text->data;
	gsize n = t->text->len;

	while (n > 0 && bn_space(*p))
		p++, n--;
	if (n >= 34 && memcmp(p, "-----BEGIN PGP SIGNED MESSAGE-----", 34) == 0)
		return "signed (PGP inline)";
	if (n >= 27 && memcmp(p, "-----BEGIN PGP MESSAGE-----", 27) == 0)
		return "encrypted (PGP inline)";
	return NULL;
}

/* ---- the walk ---- */

static gboolean
bn_is(GMimeObject *o, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* bn_sealed - why O keeps the whole message as it is, or NULL */
static const char *
bn_sealed(GMimeObject *o)
{
	if (bn_is(o, "multipart", "signed"))
		return "signed (multipart/signed)";
	if (bn_is(o, "multipart", "encrypted"))
		return "encrypted (multipart/encrypted)";
	if (bn_is(o, "application", "pkcs7-mime") || bn_is(o, "application", "x-pkcs7-mime")) {
		const char *t = g_mime_object_get_content_type_parameter(o, "smime-type");

		if (t != NULL && g_ascii_strcasecmp(t, "signed-data") == 0)
			return "signed (application/pkcs7-mime)";
		return "encrypted (application/pkcs7-mime)";
	}
	if (bn_is(o, "application", "pgp-encrypted") || bn_is(o, "application", "pgp"))
		return "encrypted (PGP)";
	return NULL;
}

/* bn_attachment - a part the reader opens, not reads: no banner */
static gboolean
bn_attachment(GMimePart *part)
{
	const char *d = g_mime_object_get_disposition(GMIME_OBJECT(part));

	if (d != NULL && g_ascii_strcasecmp(d, "attachment") == 0)
		return TRUE;
	return g_mime_part_get_filename(part) != NULL;
}

/* bn_walk - collect the text parts under O; set c->skip for sealed mail */
static void
bn_walk(struct bn_ctx *c, GMimeObject *o, GPtrArray *bounds, guint depth, gboolean top)
{
	const char *why;

	if (c->skip != NULL || o == NULL)
		return;
	if ((why = bn_sealed(o)) != NULL) {
		c->skip = g_strdup(why);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o) || GMIME_IS_MESSAGE_PARTIAL(o))
		return;			/* forwarded mail stays as it was */
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		const char *b = g_mime_multipart_get_boundary(mp);

		if (depth >= BANNER_MAX_DEPTH) {
			bn_fail(c, "cannot rewrite: multiparts nested deeper than %d", BANNER_MAX_DEPTH);
			return;
		}
		g_ptr_array_add(bounds, g_strdup(b != NULL ? b : ""));
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			bn_walk(c, g_mime_multipart_get_part(mp, i), bounds, depth + 1, FALSE);
		g_free(g_ptr_array_steal_index(bounds, bounds->len - 1));
		return;
	}
	if (!GMIME_IS_PART(o) || bn_attachment(GMIME_PART(o)))
		return;
	if (bn_is(o, "text", "plain") || bn_is(o, "text", "html")) {
		struct bn_target *t = g_new0(struct bn_target, 1);

		t->part = GMIME_PART(o);
		t->html = bn_is(o, "text", "html");
		t->top = top;
		t->boundaries = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < bounds->len; i++)
			g_ptr_array_add(t->boundaries, g_strdup(bounds->pdata[i]));
		g_ptr_array_add(c->targets, t);
	}
}

/*
 * bn_load - T's content span in the copy and its decoded text. FALSE (and
 * c->fail) when the part cannot be spliced or is too large.
 */
static gboolean
bn_load(struct bn_ctx *c, struct bn_target *t)
{
	GMimeDataWrapper *w = g_mime_part_get_content(t->part);	/* transfer none */
	GMimeStream *s = w != NULL ? g_mime_data_wrapper_get_stream(w) : NULL;
	GMimeStream *out;
	GMimeContentEncoding enc;
	const char *cs;

	if (s == NULL || s->super_stream != c->mem || s->bound_start < (gint64)c->body_start ||
	    s->bound_end < s->bound_start || s->bound_end > (gint64)c->len) {
		bn_fail(c, "cannot rewrite: a text part without a place in the message");
		return FALSE;
	}
	t->content_start = (gsize)s->bound_start;
	t->content_end = (gsize)s->bound_end;
	if (t->content_end - t->content_start > BANNER_PART_MAX / 3 * 4 + BANNER_PART_MAX / 10) {
		bn_fail(c, "cannot rewrite: text part over %u bytes", BANNER_PART_MAX);
		return FALSE;
	}
	enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		bn_fail(c, "cannot rewrite: uuencoded text part");
		return FALSE;
	}
	t->text = g_byte_array_new();
	out = g_mime_stream_mem_new_with_byte_array(t->text);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
	if (g_mime_data_wrapper_write_to_stream(w, out) < 0) {
		g_object_unref(out);
		bn_fail(c, "cannot rewrite: text part cannot be decoded");
		return FALSE;
	}
	g_object_unref(out);
	if (t->text->len > BANNER_PART_MAX) {
		bn_fail(c, "cannot rewrite: text part over %u bytes", BANNER_PART_MAX);
		return FALSE;
	}
	cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(t->part), "charset");
	t->charset = g_strstrip(g_strdup(cs != NULL ? cs : ""));
	if (t->charset[0] == '\0') {
		g_free(t->charset);
		t->charset = g_strdup("us-ascii");
	}
	return TRUE;
}

/* ---- one part rewritten ---- */

/* bn_eol - LF text (base64 of a Unix file) keeps LF; anything else gets CRLF */
static gboolean
bn_text_lf(const GByteArray *text)
{
	const guint8 *nl = text->len > 0 ? memchr(text->data, '\n', text->len) : NULL;

	return nl != NULL && (nl == text->data || nl[-1] != '\r');
}

/* bn_crlf - LF-only S with CRLF line ends (unless LF) */
static char *
bn_crlf(const char *s, gboolean lf)
{
	GString *out = g_string_new(NULL);

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\n' && !lf)
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

/* bn_encode - DATA in transfer encoding ENC (QP or base64), CRLF line ends */
static GByteArray *
bn_encode(const GByteArray *data, GMimeContentEncoding enc)
{
	GMimeEncoding st;
	GByteArray *in = g_byte_array_sized_new(data->len);
	GByteArray *out = g_byte_array_sized_new(data->len / 2 * 3 + 64);
	char *buf;
	gsize n;

	/* QP: canonical CRLF as the encoder's hard line breaks (LF) */
	for (guint i = 0, run = 0; i <= data->len; i++) {
		if (i == data->len || (enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
		    data->data[i] == '\r' && i + 1 < data->len && data->data[i + 1] == '\n')) {
			if (i > run)
				g_byte_array_append(in, data->data + run, i - run);
			run = i + 1;
		}
	}
	g_mime_encoding_init_encode(&st, enc);
	buf = g_malloc(g_mime_encoding_outlen(&st, in->len) + 16);
	n = g_mime_encoding_flush(&st, (const char *)in->data, in->len, buf);
	for (gsize i = 0, run = 0; i <= n; i++) {
		if (i == n || (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))) {
			g_byte_array_append(out, (const guint8 *)buf + run, (guint)(i - run));
			if (i < n)
				g_byte_array_append(out, (const guint8 *)"\r", 1);
			run = i;
		}
	}
	g_free(buf);
	g_byte_array_unref(in);
	return out;
}

static gboolean
bn_has_8bit(const GByteArray *a)
{
	for (guint i = 0; i < a->len; i++)
		if (a->data[i] >= 0x80 || a->data[i] == 0)
			return TRUE;
	return FALSE;
}

static gsize
bn_max_line(const guint8 *p, gsize n)
{
	gsize best = 0, cur = 0;

	for (gsize i = 0; i < n; i++) {
		if (p[i] == '\n')
			cur = 0;
		else if (++cur > best)
			best = cur;
	}
	return best;
}

/* bn_hits_boundary - a line of ENC starts with "--" and an enclosing boundary */
static gboolean
bn_hits_boundary(const struct bn_target *t, const GByteArray *enc)
{
	for (gsize i = 0; i + 2 <= enc->len; i++) {
		if ((i != 0 && enc->data[i - 1] != '\n') || enc->data[i] != '-' || enc->data[i + 1] != '-')
			continue;
		for (guint b = 0; b < t->boundaries->len; b++) {
			const char *bd = t->boundaries->pdata[b];
			gsize k = strlen(bd);

			if (i + 2 + k <= enc->len && memcmp(enc->data + i + 2, bd, k) == 0)
				return TRUE;
		}
	}
	return FALSE;
}

static void
bn_edit_add(struct bn_ctx *c, gsize start, gsize end, const void *p, gsize n)
{
	struct bn_edit e = { start, end, g_byte_array_sized_new((guint)n) };

	g_byte_array_append(e.bytes, p, (guint)n);
	g_array_append_val(c->edits, e);
}

/* bn_ct_value - T's Content-Type with charset=utf-8, one line (T itself unchanged:
 * setting a parameter on it would add a header field GMime never parsed) */
static char *
bn_ct_value(struct bn_target *t)
{
	GMimeContentType *old = g_mime_object_get_content_type(GMIME_OBJECT(t->part));
	GMimeParamList *params = g_mime_content_type_get_parameters(old);
	GMimeContentType *ct = g_mime_content_type_new(g_mime_content_type_get_media_type(old),
	    g_mime_content_type_get_media_subtype(old));
	char *v, *p, *q;

	for (int i = 0; params != NULL && i < g_mime_param_list_length(params); i++) {
		GMimeParam *pm = g_mime_param_list_get_parameter_at(params, i);

		if (g_ascii_strcasecmp(g_mime_param_get_name(pm), "charset") == 0)
			g_mime_content_type_set_parameter(ct, "charset", "utf-8");
		else
			g_mime_content_type_set_parameter(ct, g_mime_param_get_name(pm),
			    g_mime_param_get_value(pm));
	}
	if (g_mime_content_type_get_parameter(ct, "charset") == NULL)
		g_mime_content_type_set_parameter(ct, "charset", "utf-8");
	v = g_mime_content_type_encode(ct, NULL);
	g_object_unref(ct);
	/* unfold: the value goes on one line (or to smfi_chgheader()) */
	for (p = q = v; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n')
			*q++ = *p == '\t' ? ' ' : *p;
	*q = '\0';
	return g_strstrip(v);
}

/* bn_field - NAME: VALUE in place of the field at AT, or onto ADD (NULL VALUE: nothing) */
static void
bn_field(struct bn_ctx *c, GString *add, const char *name, const char *value, const gsize *at)
{
	char *f;

	if (value == NULL)
		return;
	f = g_strdup_printf("%s: %s\r\n", name, value);
	if (at != NULL)
		bn_edit_add(c, at[0], at[1], f, strlen(f));
	else
		g_string_append(add, f);
	g_free(f);
}

/*
 * bn_header_edits - T's own Content-Type (CT, or NULL) and
 * Content-Transfer-Encoding (CTE, or NULL) fields replaced in the copy,
 * or added at the end of its header. FALSE when the header cannot be
 * placed (no offsets, a field twice).
 */
static gboolean
bn_header_edits(struct bn_ctx *c, struct bn_target *t, const char *ct, const char *cte)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(t->part));
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	gsize hend = t->content_start, prev = c->body_start;
	gsize ct_at[2] = { 0, 0 }, cte_at[2] = { 0, 0 };
	int nct = 0, ncte = 0;
	GString *add = g_string_new(NULL);

	/* the header ends where its blank line starts, just before the content */
	if (hend >= 2 && c->buf[hend - 2] == '\r' && c->buf[hend - 1] == '\n')
		hend -= 2;
	else
		goto bad;
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		gint64 off = g_mime_header_get_offset(h);
		gsize end;
		const char *name = g_mime_header_get_name(h);

		if (off < (gint64)prev || off >= (gint64)hend)
			goto bad;
		prev = (gsize)off;
		end = i + 1 < n ? (gsize)g_mime_header_get_offset(g_mime_header_list_get_header_at(hl,
		    i + 1)) : hend;
		if (end <= (gsize)off || end > hend)
			goto bad;
		if (g_ascii_strcasecmp(name, "Content-Type") == 0 && nct++ == 0)
			ct_at[0] = (gsize)off, ct_at[1] = end;
		if (g_ascii_strcasecmp(name, "Content-Transfer-Encoding") == 0 && ncte++ == 0)
			cte_at[0] = (gsize)off, cte_at[1] = end;
	}
	if ((ct != NULL && nct > 1) || (cte != NULL && ncte > 1))
		goto bad;
	bn_field(c, add, "Content-Type", ct, nct == 1 ? ct_at : NULL);
	bn_field(c, add, "Content-Transfer-Encoding", cte, ncte == 1 ? cte_at : NULL);
	if (add->len > 0)
		bn_edit_add(c, hend, hend, add->str, add->len);
	g_string_free(add, TRUE);
	return TRUE;
bad:
	g_string_free(add, TRUE);
	bn_fail(c, "cannot rewrite: a text part's header cannot be changed in place");
	return FALSE;
}

/*
 * bn_newtext - T's decoded text with the banner, in *CS (T's charset, or
 * "utf-8" when the banner does not fit it); owned
 */
static GByteArray *
bn_newtext(struct bn_ctx *c, struct bn_target *t, const char **cs)
{
	gboolean lf;
	gboolean safe = bn_charset_ascii_safe(t->charset) || !bn_iconv_ok(t->charset);
	GByteArray *out = g_byte_array_new(), *ban = NULL, *work = NULL;
	const GByteArray *src = t->text;
	gsize at = 0;
	char *b1 = NULL;

	*cs = t->charset;
	if (!safe) {
		/* UTF-16, UTF-7, ISO-2022-*: work on the text as UTF-8 */
		work = g_byte_array_new();
		bn_to_utf8(work, t->text->data, t->text->len, t->charset);
		src = work;
		*cs = "utf-8";
	}
	lf = bn_text_lf(src);	/* UTF-16's CR LF is "\r\0\n\0": judge the UTF-8 */
	if (t->html) {
		at = bn_html_at(src->data, src->len);
		b1 = bn_crlf(c->html, lf);
		if ((ban = bn_to_charset(b1, *cs)) == NULL) {
			g_free(b1);
			b1 = bn_crlf(c->html_ncr, lf);	/* ASCII: fits every safe charset */
			ban = g_byte_array_new();
			g_byte_array_append(ban, (const guint8 *)b1, (guint)strlen(b1));
		}
	} else {
		const char *forms[] = { c->plain, c->plain_ascii };

		for (guint i = 0; i < G_N_ELEMENTS(forms) && ban == NULL; i++) {
			char *withblank = g_strconcat(forms[i], "\n", NULL);

			g_free(b1);
			b1 = bn_crlf(withblank, lf);
			g_free(withblank);
			ban = bn_to_charset(b1, *cs);
		}
		if (ban == NULL) {
			/* not representable: the whole part becomes UTF-8 */
			g_free(b1);
			b1 = g_strconcat(c->plain, "\n", NULL);
			{
				char *t2 = bn_crlf(b1, lf);

				g_free(b1);
				b1 = t2;
			}
			ban = g_byte_array_new();
			g_byte_array_append(ban, (const guint8 *)b1, (guint)strlen(b1));
			work = g_byte_array_new();
			bn_to_utf8(work, t->text->data, t->text->len, t->charset);
			src = work;
			*cs = "utf-8";
		}
	}
	g_byte_array_append(out, src->data, (guint)at);
	g_byte_array_append(out, ban->data, ban->len);
	if (src->len > at)	/* an empty part's data is NULL */
		g_byte_array_append(out, src->data + at, (guint)(src->len - at));
	g_free(b1);
	g_byte_array_unref(ban);
	if (work != NULL)
		g_byte_array_unref(work);
	return out;
}

/* bn_rewrite_part - the edits that put the banner into T; FALSE: T left alone */
static gboolean
bn_rewrite_part(struct bn_ctx *c, struct bn_target *t)
{
	GMimeDataWrapper *w = g_mime_part_get_content(t->part);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w), nenc = enc;
	const char *cs = NULL;
	GByteArray *text = bn_newtext(c, t, &cs), *body = NULL;
	char *ct = NULL;
	const char *cte = NULL;
	gboolean ok = FALSE;
	const guint8 *orig = c->buf + t->content_start;
	gsize olen = t->content_end - t->content_start;

	if (cs != t->charset && !(bn_charset_utf8(t->charset)))
		ct = bn_ct_value(t);
	switch (enc) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		break;
	case GMIME_CONTENT_ENCODING_8BIT:
	case GMIME_CONTENT_ENCODING_BINARY:
		if (enc == GMIME_CONTENT_ENCODING_8BIT && bn_max_line(text->data, text->len) > BANNER_LINE_MAX &&
		    bn_max_line(orig, olen) <= BANNER_LINE_MAX)
			nenc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
		break;
	default:	/* 7bit or none */
		if (bn_has_8bit(text) || (bn_max_line(text->data, text->len) > BANNER_LINE_MAX &&
		    bn_max_line(orig, olen) <= BANNER_LINE_MAX))
			nenc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
		break;
	}
	if (nenc != enc)
		cte = "quoted-printable";
	if (nenc == GMIME_CONTENT_ENCODING_BASE64 || nenc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
		body = bn_encode(text, nenc);
		/* the newline before the boundary belongs to it: match the original */
		if (nenc == GMIME_CONTENT_ENCODING_BASE64 && (olen == 0 || orig[olen - 1] != '\n'))
			while (body->len > 0 && (body->data[body->len - 1] == '\n' ||
			    body->data[body->len - 1] == '\r'))
				g_byte_array_set_size(body, body->len - 1);
	} else {
		body = g_byte_array_ref(text);
	}
	/*
	 * GMime may end a part on the CR of the boundary's CR LF (a blank line
	 * before the boundary): the new body ends on a CR too, or that LF
	 * would stand alone
	 */
	if (t->content_end < c->len && c->buf[t->content_end] == '\n' &&
	    (body->len == 0 || body->data[body->len - 1] != '\r'))
		g_byte_array_append(body, (const guint8 *)"\r", 1);
	if (!t->top && bn_hits_boundary(t, body)) {
		bn_fail(c, "cannot rewrite: the banner would read as a MIME boundary");
		goto out;
	}
	if (t->top) {
		if (ct != NULL)
			c->top_ct = g_strdup(ct);
		if (cte != NULL)
			c->top_cte = g_strdup(cte);
	} else if ((ct != NULL || cte != NULL) && !bn_header_edits(c, t, ct, cte)) {
		goto out;
	}
	bn_edit_add(c, t->content_start, t->content_end, body->data, body->len);
	ok = TRUE;
out:
	g_free(ct);
	g_byte_array_unref(text);
	if (body != NULL)
		g_byte_array_unref(body);
	return ok;
}

/* ---- the message ---- */

static gint
bn_edit_cmp(gconstpointer a, gconstpointer b)
{
	const struct bn_edit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* bn_apply - the new body: the copy from body_start with the edits; NULL on overlap */
static GByteArray *
bn_apply(struct bn_ctx *c)
{
	GByteArray *out = g_byte_array_new();
	gsize at = c->body_start;

	g_array_sort(c->edits, bn_edit_cmp);
	for (guint i = 0; i < c->edits->len; i++) {
		struct bn_edit *e = &g_array_index(c->edits, struct bn_edit, i);

		if (e->start < at || e->end < e->start || e->end > c->len) {
			g_byte_array_unref(out);
			return NULL;
		}
		g_byte_array_append(out, c->buf + at, (guint)(e->start - at));
		g_byte_array_append(out, e->bytes->data, e->bytes->len);
		at = e->end;
	}
	g_byte_array_append(out, c->buf + at, (guint)(c->len - at));
	return out;
}

/* bn_read_crlf - the whole of STREAM, bare LF made CRLF; NULL on a read error */
static GByteArray *
bn_read_crlf(GMimeStream *stream)
{
	gint64 pos = g_mime_stream_tell(stream);
	GByteArray *out = g_byte_array_new();
	char buf[16384];
	gssize n;
	char last = 0;

	if (g_mime_stream_reset(stream) != 0)
		goto bad;
	while ((n = g_mime_stream_read(stream, buf, sizeof(buf))) > 0) {
		gssize run = 0;		/* bytes of BUF not yet copied */

		for (gssize i = 0; i < n; i++) {
			if (buf[i] == '\n' && (i > 0 ? buf[i - 1] : last) != '\r') {
				g_byte_array_append(out, (const guint8 *)buf + run, (guint)(i - run));
				g_byte_array_append(out, (const guint8 *)"\r", 1);
				run = i;
			}
		}
		g_byte_array_append(out, (const guint8 *)buf + run, (guint)(n - run));
		last = buf[n - 1];
	}
	if (n < 0)
		goto bad;
	if (pos >= 0)
		g_mime_stream_seek(stream, pos, GMIME_STREAM_SEEK_SET);
	return out;
bad:
	if (pos >= 0)
		g_mime_stream_seek(stream, pos, GMIME_STREAM_SEEK_SET);
	g_byte_array_unref(out);
	return NULL;
}

static void
bn_no_warnings(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	(void)offset; (void)code; (void)item; (void)data;
}

/* bn_run - parse, check, rewrite: fills c->skip or c->edits */
static void
bn_run(struct bn_ctx *c)
{
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeParser *parser = g_mime_parser_new_with_stream(c->mem);
	GMimeMessage *msg;
	GPtrArray *bounds = g_ptr_array_new_with_free_func(g_free);
	GMimeObject *top;
	gint64 hend;

	g_mime_parser_options_set_warning_callback(opts, bn_no_warnings, NULL);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	msg = g_mime_parser_construct_message(parser, opts);	/* transfer full */
	hend = g_mime_parser_get_headers_end(parser);
	if (msg == NULL || hend < 0 || hend > (gint64)c->len) {
		c->skip = g_strdup("cannot rewrite: no message header");
		goto out;
	}
	c->body_start = (gsize)hend;
	if (c->len - c->body_start >= 2 && memcmp(c->buf + c->body_start, "\r\n", 2) == 0)
		c->body_start += 2;
	top = g_mime_message_get_mime_part(msg);		/* transfer none */
	bn_walk(c, top, bounds, 0, TRUE);
	if (c->skip != NULL)
		goto out;
	for (guint i = 0; i < c->targets->len; i++) {
		struct bn_target *t = c->targets->pdata[i];
		const char *why;

		if (!bn_load(c, t)) {
			g_ptr_array_remove_index(c->targets, i--);
			continue;
		}
		if (!t->html && (why = bn_pgp_inline(t)) != NULL) {
			c->skip = g_strdup(why);
			goto out;
		}
		if (t->html ? bn_html_bannered(t->text->data, t->text->len,
		    bn_html_at(t->text->data, t->text->len)) : bn_plain_bannered(c, t)) {
			c->skip = g_strdup("already bannered");
			goto out;
		}
	}
	if (c->targets->len == 0 && c->fail == NULL) {
		c->skip = g_strdup("no text part");
		goto out;
	}
	for (guint i = 0; i < c->targets->len && c->parts < BANNER_MAX_PARTS; i++)
		if (bn_rewrite_part(c, c->targets->pdata[i]))
			c->parts++;
	if (c->parts == 0)
		c->skip = g_strdup(c->fail != NULL ? c->fail : "no text part");
out:
	g_ptr_array_unref(bounds);
	if (msg != NULL)
		g_object_unref(msg);
	g_object_unref(parser);
	g_mime_parser_options_free(opts);
}

int
banner_rewrite(struct banner_result *out, GMimeStream *stream, const struct banner_text *text)
{
	struct bn_ctx c = { 0 };
	GByteArray *copy = NULL;
	int rc = MOAT_EIO;

	memset(out, 0, sizeof(*out));
	mime_init();
	if ((copy = bn_read_crlf(stream)) == NULL)
		goto out;
	c.buf = copy->data;
	c.len = copy->len;
	c.text = text;
	c.mem = g_mime_stream_mem_new_with_byte_array(copy);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(c.mem), FALSE);	/* COPY stays ours */
	c.plain = banner_plain(text);
	c.plain_ascii = bn_plain_with(text, BANNER_SIGN_ASCII);
	c.html = banner_html(text);
	c.html_ncr = bn_ncr(c.html);
	c.targets = g_ptr_array_new_with_free_func(bn_target_free);
	c.edits = g_array_new(FALSE, FALSE, sizeof(struct bn_edit));
	bn_run(&c);
	if (c.skip == NULL && (out->body = bn_apply(&c)) == NULL)
		c.skip = g_strdup("cannot rewrite: overlapping parts");
	if (c.skip != NULL) {
		out->skipped = c.skip;
		c.skip = NULL;
	} else {
		out->parts = c.parts;
		out->content_type = c.top_ct;
		out->transfer_encoding = c.top_cte;
		c.top_ct = c.top_cte = NULL;
	}
	rc = 0;
out:
	for (guint i = 0; c.edits != NULL && i < c.edits->len; i++)
		g_byte_array_unref(g_array_index(c.edits, struct bn_edit, i).bytes);
	if (c.edits != NULL)
		g_array_free(c.edits, TRUE);
	if (c.targets != NULL)
		g_ptr_array_unref(c.targets);
	g_clear_object(&c.mem);
	g_free(c.plain);
	g_free(c.plain_ascii);
	g_free(c.html);
	g_free(c.html_ncr);
	g_free(c.skip);
	g_free(c.fail);
	g_free(c.top_ct);
	g_free(c.top_cte);
	if (copy != NULL)
		g_byte_array_unref(copy);
	return rc;
}
