/*
 * check_banner.c - the banner in the message (scanners/banner/rewrite.c)
 *
 * Each case builds a message, runs banner_rewrite() and parses the result
 * back with GMime: the original header (with the new Content-Type /
 * Content-Transfer-Encoding of a single-part message) plus out->body. The
 * asserts are on the decoded text: the banner at the top, the original
 * text intact after it, in the charset the part declares. Charsets:
 * UTF-8, ISO-8859-2, windows-1251, with banners that fit them and ones
 * that do not; QP and base64; HTML with and without <body>;
 * multipart/alternative; attachments unchanged (raw bytes and decoded
 * SHA-256); never twice; signed, S/MIME, PGP inline and forwarded mail
 * left alone; broken MIME without a crash. Then the mimekit and gmime
 * corpora: no crash, and every non-text leaf decodes as before.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "checks.h"
#include "moat/banner.h"
#include "moat/mime.h"

#define TITLE_EN "Caution: this message may be a phishing attempt."
#define REASON_EN "The attachment invoice.zip contains a Windows shortcut that runs a command."
#define ADVICE_EN "Do not open attachments or links unless you expected them."

enum lang { EN, DE, RU, FR };

/* t_text - the banner's words in LANG; release with banner_text_clear() */
static void
t_text(struct banner_text *t, enum lang lang)
{
	static const char *const words[][3] = {
		[EN] = { TITLE_EN, REASON_EN, ADVICE_EN },
		[DE] = { "Vorsicht: diese Nachricht könnte Phishing sein.",
		    "Der Anhang enthält eine Verknüpfung, die einen Befehl ausführt (Größe).",
		    "Öffnen Sie keine Anhänge <script> & \"Links\"." },
		[RU] = { "Осторожно: возможно, это фишинг.",
		    "Вложение содержит ярлык Windows.", "Не открывайте вложения." },
		[FR] = { "Attention : ce message est peut-être une tentative d'hameçonnage.",
		    "La pièce jointe contient un raccourci.", "N'ouvrez pas les pièces jointes." },
	};

	memset(t, 0, sizeof(*t));
	t->title = g_strdup(words[lang][0]);
	t->reasons = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(t->reasons, g_strdup(words[lang][1]));
	t->advice = g_strdup(words[lang][2]);
}

/* t_crlf - LF text as CRLF bytes */
static GByteArray *
t_crlf(const char *s, gsize len)
{
	GByteArray *a = g_byte_array_new();

	for (gsize i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			g_byte_array_append(a, (const guint8 *)"\r", 1);
		g_byte_array_append(a, (const guint8 *)s + i, 1);
	}
	return a;
}

/* t_rewrite - banner_rewrite() of MSG (LEN bytes, LF or CRLF) with TEXT */
static GByteArray *
t_rewrite(struct banner_result *res, const char *msg, gsize len, const struct banner_text *text)
{
	GByteArray *in = t_crlf(msg, len);
	GMimeStream *s = g_mime_stream_mem_new_with_byte_array(in);

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	g_mime_stream_seek(s, 7 < in->len ? 7 : 0, GMIME_STREAM_SEEK_SET);
	ck_assert_int_eq(banner_rewrite(res, s, text), 0);
	ck_assert_int_eq(g_mime_stream_tell(s), 7 < in->len ? 7 : 0);	/* position restored */
	if (res->body != NULL) {
		ck_assert_ptr_null(res->skipped);
		for (guint i = 0; i < res->body->len; i++)	/* CRLF throughout */
			if (res->body->data[i] == '\n')
				ck_assert_msg(i > 0 && res->body->data[i - 1] == '\r', "bare LF at %u", i);
	} else {
		ck_assert_ptr_nonnull(res->skipped);
	}
	g_object_unref(s);
	return in;
}

/* t_header_end - where the body of the CRLF message IN starts */
static gsize
t_header_end(const GByteArray *in)
{
	for (gsize i = 0; i + 1 < in->len; i++) {
		if (i == 0 && memcmp(in->data, "\r\n", 2) == 0)
			return 2;
		if (i + 3 < in->len && memcmp(in->data + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return in->len;
}

/* t_after - the message as delivered: IN's header, changed as RES says, + RES's body */
static GMimeMessage *
t_after(const GByteArray *in, const struct banner_result *res)
{
	gsize hend = t_header_end(in);
	GString *m = g_string_new(NULL);
	g_auto(GStrv) lines = NULL;
	g_autofree char *head = g_strndup((const char *)in->data, hend);
	GMimeStream *s;
	GMimeParser *p;
	GMimeMessage *msg;
	gboolean skip = FALSE;

	lines = g_strsplit(head, "\r\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == ' ' || lines[i][0] == '\t') {
			if (!skip && lines[i][0] != '\0')
				g_string_append_printf(m, "%s\r\n", lines[i]);
			continue;
		}
		skip = (res->content_type != NULL && g_ascii_strncasecmp(lines[i], "Content-Type:", 13) == 0) ||
		    (res->transfer_encoding != NULL &&
		    g_ascii_strncasecmp(lines[i], "Content-Transfer-Encoding:", 26) == 0);
		if (!skip && lines[i][0] != '\0')
			g_string_append_printf(m, "%s\r\n", lines[i]);
	}
	if (res->content_type != NULL)
		g_string_append_printf(m, "Content-Type: %s\r\n", res->content_type);
	if (res->transfer_encoding != NULL)
		g_string_append_printf(m, "Content-Transfer-Encoding: %s\r\n", res->transfer_encoding);
	g_string_append(m, "\r\n");
	g_string_append_len(m, (const char *)res->body->data, res->body->len);
	s = g_mime_stream_mem_new_with_buffer(m->str, m->len);
	p = g_mime_parser_new_with_stream(s);
	msg = g_mime_parser_construct_message(p, NULL);
	ck_assert_ptr_nonnull(msg);
	g_object_unref(p);
	g_object_unref(s);
	g_string_free(m, TRUE);
	return msg;
}

/* t_leaves - every leaf of O, in order, messages entered (borrowed) */
static void
t_leaves(GMimeObject *o, GPtrArray *out, gboolean into_messages)
{
	if (GMIME_IS_MULTIPART(o)) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o)); i++)
			t_leaves(g_mime_multipart_get_part(GMIME_MULTIPART(o), i), out, into_messages);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

		if (into_messages && m != NULL)
			t_leaves(g_mime_message_get_mime_part(m), out, into_messages);
		else
			g_ptr_array_add(out, o);
	} else if (o != NULL) {
		g_ptr_array_add(out, o);
	}
}

/* t_text_of - leaf N of MSG decoded to UTF-8 (GMime's charset conversion); caller frees */
static char *
t_text_of(GMimeMessage *msg, guint n)
{
	g_autoptr(GPtrArray) leaves = g_ptr_array_new();
	GMimeObject *o;

	t_leaves(g_mime_message_get_mime_part(msg), leaves, TRUE);
	ck_assert_uint_gt(leaves->len, n);
	o = leaves->pdata[n];
	ck_assert(GMIME_IS_TEXT_PART(o));
	return g_mime_text_part_get_text(GMIME_TEXT_PART(o));
}

/* t_sha - decoded SHA-256 of leaf O; caller frees */
static char *
t_sha(GMimeObject *o)
{
	GByteArray *a = g_byte_array_new();
	GMimeStream *s = g_mime_stream_mem_new_with_byte_array(a);
	GMimeDataWrapper *w = GMIME_IS_PART(o) ? g_mime_part_get_content(GMIME_PART(o)) : NULL;
	char *hex;

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	if (w != NULL)
		g_mime_data_wrapper_write_to_stream(w, s);
	else
		g_mime_object_write_to_stream(o, NULL, s);
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, a->data, a->len);
	g_object_unref(s);
	g_byte_array_unref(a);
	return hex;
}

static const char *
t_param(GMimeMessage *msg, guint n, const char *name)
{
	g_autoptr(GPtrArray) leaves = g_ptr_array_new();

	t_leaves(g_mime_message_get_mime_part(msg), leaves, TRUE);
	return g_mime_object_get_content_type_parameter(leaves->pdata[n], name);
}

static GMimeContentEncoding
t_cte(GMimeMessage *msg, guint n)
{
	g_autoptr(GPtrArray) leaves = g_ptr_array_new();

	t_leaves(g_mime_message_get_mime_part(msg), leaves, TRUE);
	return g_mime_part_get_content_encoding(leaves->pdata[n]);
}

/* t_starts - TEXT (CRLF or LF) starts with the lines PREFIX (LF) */
static gboolean
t_starts(const char *text, const char *prefix)
{
	g_autoptr(GString) a = g_string_new(text);

	g_string_replace(a, "\r\n", "\n", 0);
	return g_str_has_prefix(a->str, prefix);
}

static gboolean
t_contains(const char *text, const char *needle)
{
	g_autoptr(GString) a = g_string_new(text);

	g_string_replace(a, "\r\n", "\n", 0);
	return strstr(a->str, needle) != NULL;
}

#define PLAIN_EN_SIGN "\xe2\x9a\xa0 " TITLE_EN "\n- " REASON_EN "\n" ADVICE_EN "\n"
#define PLAIN_EN_ASCII "(!) " TITLE_EN "\n- " REASON_EN "\n" ADVICE_EN "\n"

START_TEST(test_words)
{
	struct banner_text t;
	g_autofree char *p = NULL, *h = NULL, *e = NULL;

	t_text(&t, DE);
	p = banner_plain(&t);
	ck_assert(g_str_has_prefix(p, "\xe2\x9a\xa0 Vorsicht: diese Nachricht"));
	ck_assert_ptr_null(strchr(p, '\r'));
	h = banner_html(&t);
	ck_assert(g_str_has_prefix(h, "<div " BANNER_HTML_ATTR "=\"1\" style=\""));
	ck_assert_ptr_nonnull(strstr(h, "&lt;script&gt; &amp; &quot;Links&quot;"));
	ck_assert_ptr_null(strstr(h, "<script"));
	ck_assert_ptr_null(strstr(h, "<style"));
	ck_assert_ptr_nonnull(strstr(h, "<strong"));
	ck_assert_ptr_nonnull(strstr(h, "<li"));
	ck_assert_ptr_nonnull(strstr(h, "color:#ffffff"));
	banner_text_clear(&t);
	t.title = g_strdup("External sender: this message comes from outside.");
	t.external = TRUE;
	e = banner_plain(&t);
	ck_assert_str_eq(e, "\xe2\x9a\xa0 External sender: this message comes from outside.\n");
	banner_text_clear(&t);
}
END_TEST

/* A single-part message; LANG's banner; what the part must say afterwards */
static const struct {
	const char *name;
	const char *msg;
	enum lang lang;
	const char *start;		/* decoded text starts with (LF) */
	const char *orig;		/* ... and still holds */
	const char *charset;		/* part's charset afterwards */
	GMimeContentEncoding cte;	/* afterwards */
	gboolean ct_changed, cte_changed;
} single[] = {
	{ "utf8-7bit", "From: a@example.net\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\nHello Bob,\npay now.\n",
	    EN, PLAIN_EN_SIGN, "\nHello Bob,\npay now.\n", "utf-8", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
	    FALSE, TRUE },
	{ "utf8-8bit", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\nGrüße, Jürgen\n",
	    DE, "\xe2\x9a\xa0 Vorsicht: diese", "\nGrüße, Jürgen\n", "UTF-8", GMIME_CONTENT_ENCODING_8BIT,
	    FALSE, FALSE },
	{ "ascii-none", "From: a@example.net\nSubject: x\n\nHello\n",
	    EN, PLAIN_EN_ASCII, "\nHello\n", NULL, GMIME_CONTENT_ENCODING_DEFAULT, FALSE, FALSE },
	{ "latin2-8bit-en", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=iso-8859-2\nContent-Transfer-Encoding: 8bit\n\n"
	    "Za\xbf\xf3\xb3\xe6 g\xea\xb6l\xb1 ja\xbc\xf1; P\xf8\xedli\xb9 \xbelu\xbbou\xe8k\xfd k\xf9\xf2\n",
	    EN, PLAIN_EN_ASCII, "\nZażółć gęślą jaźń; Příliš žluťoučký kůň\n", "iso-8859-2",
	    GMIME_CONTENT_ENCODING_8BIT, FALSE, FALSE },
	{ "latin2-qp-de", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=\"ISO-8859-2\"\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "Za=BF=F3=B3=E6 g=EA=B6l=B1 ja=BC=F1\n",
	    DE, "(!) Vorsicht: diese Nachricht könnte Phishing sein.\n- Der Anhang enthält",
	    "\nZażółć gęślą jaźń\n", "ISO-8859-2", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, FALSE, FALSE },
	{ "latin2-qp-ru", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=iso-8859-2; format=flowed\n"
	    "Content-Transfer-Encoding: quoted-printable\n\nZa=BF=F3=B3=E6 g=EA=B6l=B1 ja=BC=F1\n",
	    RU, "\xe2\x9a\xa0 Осторожно: возможно, это фишинг.\n- Вложение", "\nZażółć gęślą jaźń\n",
	    "utf-8", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, TRUE, FALSE },
	{ "latin2-7bit-fr", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=iso-8859-2\n\nDobry den\n",
	    FR, "\xe2\x9a\xa0 Attention : ce message", "\nDobry den\n", "utf-8",
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, TRUE, TRUE },
	{ "cp1251-b64-en", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=windows-1251\nContent-Transfer-Encoding: base64\n\n"
	    "z/Do4uXyLCDs6PAhDQo=\n",
	    EN, PLAIN_EN_ASCII, "\nПривет, мир!\n", "windows-1251", GMIME_CONTENT_ENCODING_BASE64, FALSE, FALSE },
	{ "cp1251-b64-ru", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=windows-1251\nContent-Transfer-Encoding: base64\n\n"
	    "z/Do4uXyLCDs6PAhDQo=\n",
	    RU, "(!) Осторожно: возможно, это фишинг.\n", "\nПривет, мир!\n", "windows-1251",
	    GMIME_CONTENT_ENCODING_BASE64, FALSE, FALSE },
	{ "cp1251-b64-de", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=windows-1251\nContent-Transfer-Encoding: base64\n\n"
	    "z/Do4uXyLCDs6PAhDQo=\n",
	    DE, "\xe2\x9a\xa0 Vorsicht: diese Nachricht könnte Phishing sein.\n", "\nПривет, мир!\n",
	    "utf-8", GMIME_CONTENT_ENCODING_BASE64, TRUE, FALSE },
	{ "html-nobody", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=iso-8859-2\nContent-Transfer-Encoding: 8bit\n\n"
	    "<p>Za\xbf\xf3\xb3\xe6</p>\n",
	    RU, "<div " BANNER_HTML_ATTR "=\"1\"", "</div>\n<p>Zażółć</p>\n", "iso-8859-2",
	    GMIME_CONTENT_ENCODING_8BIT, FALSE, FALSE },
	{ "html-BODY", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "<!DOCTYPE html>\n<HTML><head><title><body>x</title><!-- <body> -->"
	    "<style>p{color:red}</style></head>\n<BODY class=3D\"x\" data-a=3D'>'>\n<p>Hi</p></BODY></HTML>\n",
	    EN, "<!DOCTYPE html>\n<HTML><head><title><body>x</title><!-- <body> --><style>p{color:red}</style>"
	    "</head>\n<BODY class=\"x\" data-a='>'><div " BANNER_HTML_ATTR "=\"1\"",
	    "</div>\n\n<p>Hi</p></BODY></HTML>\n", "us-ascii", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
	    FALSE, FALSE },
	{ "html-text-first", "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=utf-8\n\n<html><head></head>Pay now<body>x</body></html>\n",
	    EN, "<html><head></head><div " BANNER_HTML_ATTR, "</div>\nPay now<body>x", "utf-8",
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, FALSE, TRUE },
};

START_TEST(test_single)
{
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;
	GMimeMessage *msg;
	g_autofree char *text = NULL;
	const char *cs;

	t_text(&t, single[_i].lang);
	in = t_rewrite(&res, single[_i].msg, strlen(single[_i].msg), &t);
	ck_assert_msg(res.body != NULL, "%s: skipped %s", single[_i].name, res.skipped);
	ck_assert_uint_eq(res.parts, 1);
	ck_assert_msg((res.content_type != NULL) == single[_i].ct_changed, "%s: content_type %s",
	    single[_i].name, res.content_type);
	ck_assert_msg((res.transfer_encoding != NULL) == single[_i].cte_changed, "%s: cte %s",
	    single[_i].name, res.transfer_encoding);
	msg = t_after(in, &res);
	text = t_text_of(msg, 0);
	ck_assert_msg(t_starts(text, single[_i].start), "%s: starts\n%s", single[_i].name, text);
	ck_assert_msg(t_contains(text, single[_i].orig), "%s: lost the text\n%s", single[_i].name, text);
	cs = t_param(msg, 0, "charset");
	if (single[_i].charset == NULL)
		ck_assert_ptr_null(cs);
	else
		ck_assert_msg(cs != NULL && strcmp(cs, single[_i].charset) == 0, "%s: charset %s",
		    single[_i].name, cs);
	ck_assert_msg(t_cte(msg, 0) == single[_i].cte, "%s: cte %d", single[_i].name, t_cte(msg, 0));
	if (single[_i].ct_changed)	/* other parameters kept */
		ck_assert(strstr(single[_i].msg, "format=flowed") == NULL ||
		    strstr(res.content_type, "format=flowed") != NULL);
	g_object_unref(msg);
	g_byte_array_unref(in);
	banner_result_clear(&res);
	banner_text_clear(&t);
}
END_TEST

#define ZIP_B64 "UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAFAAAAYS50eHRQSwECFAAKAAAAAAAAACEAAAAAAAAAAAAA\n" \
	"AAAABQAAAAAAAAAAAAAAAAAAAAAAYS50eHRQSwUGAAAAAAEAAQAzAAAAIwAAAAAA\n"
#define PDF_B64 "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCiUlRU9G\n"

static const char mixed_msg[] =
    "From: a@example.net\nSubject: invoice\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
    "This is a multi-part message in MIME format.\n"
    "--outer\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n"
    "--alt\nContent-Type: text/plain; charset=iso-8859-2\nContent-Transfer-Encoding: quoted-printable\n\n"
    "Faktura w za=B3=B1czniku.\n"
    "--alt\nContent-Type: text/html; charset=iso-8859-2\nContent-Transfer-Encoding: base64\n\n"
    "PGh0bWw+PGJvZHk+PHA+RmFrdHVyYSB3IHphs7Fjem5pa3UuPC9wPjwvYm9keT48L2h0bWw+DQo=\n"
    "--alt--\n\n"
    "--outer\nContent-Type: application/pdf; name=\"invoice.pdf\"\n"
    "Content-Disposition: attachment; filename=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n\n"
    PDF_B64
    "--outer\nContent-Type: application/zip\nContent-Disposition: attachment; filename=a.zip\n"
    "Content-Transfer-Encoding: base64\n\n" ZIP_B64
    "--outer\nContent-Type: text/plain; name=notes.txt\nContent-Disposition: inline; filename=notes.txt\n\n"
    "attached notes, no banner\n"
    "--outer--\nepilogue\n";

START_TEST(test_mixed)
{
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;
	GMimeMessage *msg, *before;
	g_autofree char *plain = NULL, *html = NULL, *notes = NULL;
	g_autoptr(GPtrArray) a = g_ptr_array_new(), b = g_ptr_array_new();
	GMimeStream *s;
	GMimeParser *p;

	t_text(&t, RU);
	in = t_rewrite(&res, mixed_msg, strlen(mixed_msg), &t);
	ck_assert_msg(res.body != NULL, "skipped %s", res.skipped);
	ck_assert_uint_eq(res.parts, 2);
	ck_assert_ptr_null(res.content_type);
	ck_assert_ptr_null(res.transfer_encoding);
	/* the attachments' encoded bytes and the epilogue are there as they were */
	{
		g_autoptr(GByteArray) pdf = t_crlf(PDF_B64, strlen(PDF_B64));
		g_autoptr(GByteArray) zip = t_crlf(ZIP_B64, strlen(ZIP_B64));

		ck_assert_ptr_nonnull(g_strstr_len((char *)res.body->data, res.body->len, "This is a multi-part"));
		ck_assert(memmem(res.body->data, res.body->len, pdf->data, pdf->len) != NULL);
		ck_assert(memmem(res.body->data, res.body->len, zip->data, zip->len) != NULL);
		ck_assert(memmem(res.body->data, res.body->len, "--outer--\r\nepilogue\r\n", 21) != NULL);
	}
	msg = t_after(in, &res);
	plain = t_text_of(msg, 0);
	ck_assert_msg(t_starts(plain, "\xe2\x9a\xa0 Осторожно"), "%s", plain);
	ck_assert_msg(t_contains(plain, "\nFaktura w załączniku."), "%s", plain);
	ck_assert_str_eq(t_param(msg, 0, "charset"), "utf-8");
	html = t_text_of(msg, 1);
	ck_assert_msg(t_starts(html, "<html><body><div " BANNER_HTML_ATTR), "%s", html);
	ck_assert(t_contains(html, "</div>\n<p>Faktura w załączniku.</p></body></html>"));
	ck_assert(t_contains(html, "&#1054;&#1089;"));	/* Cyrillic as references: */
	ck_assert_str_eq(t_param(msg, 1, "charset"), "iso-8859-2");	/* charset kept */
	ck_assert_int_eq(t_cte(msg, 1), GMIME_CONTENT_ENCODING_BASE64);
	notes = t_text_of(msg, 4);
	ck_assert_str_eq(notes, "attached notes, no banner");
	/* every non-text leaf decodes as before */
	s = g_mime_stream_mem_new_with_buffer((const char *)in->data, in->len);
	p = g_mime_parser_new_with_stream(s);
	before = g_mime_parser_construct_message(p, NULL);
	t_leaves(g_mime_message_get_mime_part(before), a, TRUE);
	t_leaves(g_mime_message_get_mime_part(msg), b, TRUE);
	ck_assert_uint_eq(a->len, b->len);
	for (guint i = 2; i < a->len; i++) {
		g_autofree char *x = t_sha(a->pdata[i]), *y = t_sha(b->pdata[i]);

		ck_assert_str_eq(x, y);
	}
	g_object_unref(before);
	g_object_unref(p);
	g_object_unref(s);
	g_object_unref(msg);
	/* never twice */
	{
		struct banner_result again;
		GByteArray *in2;
		GString *m2 = g_string_new_len((const char *)in->data, (gssize)t_header_end(in));

		g_string_append_len(m2, (const char *)res.body->data, res.body->len);
		in2 = t_rewrite(&again, m2->str, m2->len, &t);
		ck_assert_str_eq(again.skipped, "already bannered");
		banner_result_clear(&again);
		g_byte_array_unref(in2);
		g_string_free(m2, TRUE);
	}
	g_byte_array_unref(in);
	banner_result_clear(&res);
	banner_text_clear(&t);
}
END_TEST

/* never twice: each single-part case run again on its own result */
START_TEST(test_twice)
{
	struct banner_text t;
	struct banner_result r1, r2;
	GByteArray *in, *in2;
	GMimeMessage *msg;
	GMimeStream *mem;
	GByteArray *again = g_byte_array_new();

	t_text(&t, single[_i].lang);
	in = t_rewrite(&r1, single[_i].msg, strlen(single[_i].msg), &t);
	ck_assert_ptr_nonnull(r1.body);
	msg = t_after(in, &r1);
	mem = g_mime_stream_mem_new_with_byte_array(again);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, mem);
	in2 = t_rewrite(&r2, (const char *)again->data, again->len, &t);
	ck_assert_msg(r2.skipped != NULL && strcmp(r2.skipped, "already bannered") == 0,
	    "%s: %s", single[_i].name, r2.skipped);
	g_object_unref(mem);
	g_object_unref(msg);
	g_byte_array_unref(again);
	g_byte_array_unref(in);
	g_byte_array_unref(in2);
	banner_result_clear(&r1);
	banner_result_clear(&r2);
	banner_text_clear(&t);
}
END_TEST

static const struct {
	const char *msg;
	const char *skipped;
} left_alone[] = {
	{ "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nsigned text\n--b\nContent-Type: application/pgp-signature\n\n"
	    "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n--b--\n",
	    "signed (multipart/signed)" },
	{ "From: a@example.net\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n"
	    "--m\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nsigned text\n--b\nContent-Type: application/pkcs7-signature\n\n"
	    "AAAA\n--b--\n--m\nContent-Type: text/plain\n\nlist footer\n--m--\n",
	    "signed (multipart/signed)" },
	{ "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n"
	    "Content-Disposition: attachment; filename=smime.p7m\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\n",
	    "encrypted (application/pkcs7-mime)" },
	{ "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: application/x-pkcs7-mime; smime-type=signed-data; name=smime.p7m\n"
	    "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQE=\n",
	    "signed (application/pkcs7-mime)" },
	{ "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e\n\n"
	    "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n\n"
	    "-----BEGIN PGP MESSAGE-----\nxx\n-----END PGP MESSAGE-----\n--e--\n",
	    "encrypted (multipart/encrypted)" },
	{ "From: a@example.net\nSubject: x\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n"
	    "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n",
	    "signed (PGP inline)" },
	{ "From: a@example.net\nSubject: x\n\n\n-----BEGIN PGP MESSAGE-----\nxx\n-----END PGP MESSAGE-----\n",
	    "encrypted (PGP inline)" },
	{ "From: a@example.net\nMIME-Version: 1.0\nContent-Type: application/pdf\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0=\n", "no text part" },
	{ "From: a@example.net\nMIME-Version: 1.0\nContent-Type: text/plain\n"
	    "Content-Disposition: attachment; filename=a.txt\n\ntext\n", "no text part" },
	{ "From: a@example.net\nSubject: x\n\n" PLAIN_EN_ASCII "\nhello\n", "already bannered" },
	{ "From: a@example.net\nSubject: x\nContent-Type: text/html\n\n<html><body>\n <div class=x "
	    BANNER_HTML_ATTR "=\"1\">old</div>hi", "already bannered" },
};

START_TEST(test_left_alone)
{
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;

	t_text(&t, EN);
	in = t_rewrite(&res, left_alone[_i].msg, strlen(left_alone[_i].msg), &t);
	ck_assert_ptr_null(res.body);
	ck_assert_uint_eq(res.parts, 0);
	ck_assert_str_eq(res.skipped, left_alone[_i].skipped);
	g_byte_array_unref(in);
	banner_result_clear(&res);
	banner_text_clear(&t);
}
END_TEST

START_TEST(test_forwarded)
{
	static const char m[] = "From: a@example.net\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=f\n\n--f\nContent-Type: text/plain\n\nsee below\n"
	    "--f\nContent-Type: message/rfc822\n\nFrom: b@example.org\nSubject: inner\n"
	    "Content-Type: text/html\n\n<p>inner text</p>\n--f--\n";
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;
	GMimeMessage *msg;
	g_autofree char *outer = NULL, *inner = NULL;

	t_text(&t, EN);
	in = t_rewrite(&res, m, strlen(m), &t);
	ck_assert_ptr_nonnull(res.body);
	ck_assert_uint_eq(res.parts, 1);
	msg = t_after(in, &res);
	outer = t_text_of(msg, 0);
	ck_assert(t_starts(outer, PLAIN_EN_ASCII));
	inner = t_text_of(msg, 1);
	ck_assert_str_eq(inner, "<p>inner text</p>");
	ck_assert(memmem(res.body->data, res.body->len,
	    "From: b@example.org\r\nSubject: inner\r\nContent-Type: text/html\r\n\r\n<p>inner text</p>\r\n", 83));
	g_object_unref(msg);
	g_byte_array_unref(in);
	banner_result_clear(&res);
	banner_text_clear(&t);
}
END_TEST

static const char *const broken[] = {
	"",
	"\n",
	"From: a\n",
	"From: a\n\n",
	"garbage without a header\n\nbody\n",
	"From: a\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nno boundary param\n--x--\n",
	"From: a\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nnever closed\n",
	"From: a\nContent-Type: multipart/alternative; boundary=x\n\n--x\nContent-Type: text/html\n\n<body",
	"From: a\nContent-Type: text/plain; charset=x-no-such-charset\n\nsome text \xff\xfe\n",
	"From: a\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\nbad \xc3\xa9 8bit \xff\n",
	"From: a\nContent-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n//5oAGkACgA=\n",
	"From: a\nContent-Type: text/html; charset=iso-2022-jp\n\n\x1b$B$3$s\x1b(B<body>x\n",
	"From: a\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not*base64===AAA=\nQQ\n",
	"From: a\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n`\nend\n",
	"From: a\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ=\n=4",
	"From: a\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx\n----\n",
	"From: a\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\nno headers\n--x\nContent-Type: text/plain\n"
	    "Content-Type: text/html\n\ntwo types\n--x--\n",
	"From: a\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nnested same boundary\r\n--x--\r\n",
	"From: a\nContent-Type: multipart/mixed; boundary=--\n\n----\n\nboundary of dashes\n------\n",
	"From: a\nContent-Type: text/html\n\n<!-- never closed <body>",
	"From: a\nContent-Type: text/html\n\n<script>never closed <body>",
	"From: a\nContent-Type: text/html\n\n<a href='x",
};

START_TEST(test_broken)
{
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;

	t_text(&t, _i % 2 ? RU : EN);
	in = t_rewrite(&res, broken[_i], strlen(broken[_i]), &t);
	if (res.body != NULL) {
		GMimeMessage *msg = t_after(in, &res);

		ck_assert_uint_gt(res.parts, 0);
		g_object_unref(msg);
	}
	g_byte_array_unref(in);
	banner_result_clear(&res);
	banner_text_clear(&t);
}
END_TEST

/*
 * A blank line before a last boundary without a line end: GMime ends the
 * part on the CR of the boundary's CR LF, and the new body ends on a CR
 * too. The Russian banner makes an ASCII part quoted-printable.
 */
static const char *const blank_before_boundary[] = {
	"From: a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n\n--b",
	"From: a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhello\n\n--b",
	"From: a\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n"
	    "aGVsbG8K\n\n--b",
	"From: a\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "caf=C3=A9\n\n--b",
};

START_TEST(test_blank_before_boundary)
{
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;

	for (enum lang lang = EN; lang <= RU; lang++) {
		t_text(&t, lang);
		in = t_rewrite(&res, blank_before_boundary[_i], strlen(blank_before_boundary[_i]), &t);
		ck_assert_ptr_nonnull(res.body);	/* and CR LF throughout */
		ck_assert_uint_eq(res.parts, 1);
		g_byte_array_unref(in);
		banner_result_clear(&res);
		banner_text_clear(&t);
	}
}
END_TEST

/* UTF-16 text with CR LF ("\r\0\n\0"): the banner's lines end CR LF too */
START_TEST(test_utf16_crlf)
{
	static const char msg[] = "From: a\nContent-Type: text/plain; charset=utf-16le\n"
	    "Content-Transfer-Encoding: base64\n\naABpAA0ACgB0AGgAZQByAGUADQAKAA==\n";
	struct banner_text t;
	struct banner_result res;
	GByteArray *in;
	GMimeMessage *after;
	g_autofree char *text = NULL;

	t_text(&t, EN);
	in = t_rewrite(&res, msg, strlen(msg), &t);
	ck_assert_ptr_nonnull(res.body);
	after = t_after(in, &res);
	text = t_text_of(after, 0);
	for (const char *p = text; *p != '\0'; p++)
		if (*p == '\n')
			ck_assert_msg(p > text && p[-1] == '\r', "LF without CR at %td in %s", p - text, text);
	ck_assert(t_contains(text, "hi\nthere\n"));
	g_object_unref(after);
	g_byte_array_unref(in);
	banner_result_clear(&res);
	banner_text_clear(&t);
}
END_TEST

/* a stream that fails to read: MOAT_EIO */
START_TEST(test_unreadable)
{
	struct banner_text t;
	struct banner_result res;
	GMimeStream *s = g_mime_stream_fs_new(-1);
	int rc;

	t_text(&t, EN);
	rc = banner_rewrite(&res, s, &t);
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_null(res.body);
	banner_result_clear(&res);
	g_object_unref(s);
	banner_text_clear(&t);
}
END_TEST

/* ---- the public corpora ---- */

struct corpus_count {
	guint files, bannered;
	GHashTable *reasons;		/* skipped reason -> count */
};

static void
corpus_one(const char *path, struct corpus_count *cc, const struct banner_text *t)
{
	g_autofree char *data = NULL;
	gsize len;
	struct banner_result res;
	GByteArray *in;

	if (!g_file_get_contents(path, &data, &len, NULL))
		return;
	cc->files++;
	in = t_rewrite(&res, data, len, t);
	if (res.body != NULL) {
		GMimeMessage *msg = t_after(in, &res), *before;
		GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)in->data, in->len);
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		g_autoptr(GPtrArray) a = g_ptr_array_new(), b = g_ptr_array_new();

		cc->bannered++;
		before = g_mime_parser_construct_message(p, NULL);
		t_leaves(g_mime_message_get_mime_part(before), a, FALSE);
		t_leaves(g_mime_message_get_mime_part(msg), b, FALSE);
		ck_assert_msg(a->len == b->len, "%s: %u leaves, were %u", path, b->len, a->len);
		for (guint i = 0; i < a->len; i++) {
			g_autofree char *x = NULL, *y = NULL;
			GMimeContentType *ct = g_mime_object_get_content_type(a->pdata[i]);

			if (g_mime_content_type_is_type(ct, "text", "plain") ||
			    g_mime_content_type_is_type(ct, "text", "html"))
				continue;
			x = t_sha(a->pdata[i]);
			y = t_sha(b->pdata[i]);
			ck_assert_msg(strcmp(x, y) == 0, "%s: leaf %u changed", path, i);
		}
		g_object_unref(before);
		g_object_unref(p);
		g_object_unref(s);
		g_object_unref(msg);
	} else {
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(cc->reasons, res.skipped));

		g_hash_table_replace(cc->reasons, g_strdup(res.skipped), GUINT_TO_POINTER(n + 1));
	}
	g_byte_array_unref(in);
	banner_result_clear(&res);
}

static void
corpus_tree(const char *dir, struct corpus_count *cc, const struct banner_text *t)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			corpus_tree(path, cc, t);
		else
			corpus_one(path, cc, t);
	}
}

static const char *const corpora[] = { "mime-mimekit/messages", "mime-gmime" };

START_TEST(test_corpus)
{
	g_autofree char *dir = g_build_filename(TESTDATA_DIR, corpora[_i], NULL);
	struct corpus_count cc = { 0 };
	struct banner_text t;
	GHashTableIter it;
	gpointer k, v;

	t_text(&t, _i == 0 ? RU : DE);
	cc.reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	corpus_tree(dir, &cc, &t);
	printf("banner %s: %u files, %u bannered", corpora[_i], cc.files, cc.bannered);
	g_hash_table_iter_init(&it, cc.reasons);
	while (g_hash_table_iter_next(&it, &k, &v))
		printf("; %s: %u", (char *)k, GPOINTER_TO_UINT(v));
	printf("\n");
	ck_assert_uint_gt(cc.files, 10);
	ck_assert_uint_gt(cc.bannered, 0);
	g_hash_table_unref(cc.reasons);
	banner_text_clear(&t);
}
END_TEST

Suite *
banner_suite(void)
{
	Suite *s = suite_create("banner");
	TCase *tc = tcase_create("rewrite");

	mime_init();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_words);
	tcase_add_loop_test(tc, test_single, 0, G_N_ELEMENTS(single));
	tcase_add_loop_test(tc, test_twice, 0, G_N_ELEMENTS(single));
	tcase_add_test(tc, test_mixed);
	tcase_add_loop_test(tc, test_left_alone, 0, G_N_ELEMENTS(left_alone));
	tcase_add_test(tc, test_forwarded);
	tcase_add_loop_test(tc, test_broken, 0, G_N_ELEMENTS(broken));
	tcase_add_loop_test(tc, test_blank_before_boundary, 0, G_N_ELEMENTS(blank_before_boundary));
	tcase_add_test(tc, test_utf16_crlf);
	tcase_add_test(tc, test_unreadable);
	if (testdata_have("mime-mimekit", "banner/corpus mime-mimekit"))
		tcase_add_loop_test(tc, test_corpus, 0, 1);
	if (testdata_have("mime-gmime", "banner/corpus mime-gmime"))
		tcase_add_loop_test(tc, test_corpus, 1, 2);
	suite_add_tcase(s, tc);
	return s;
}
