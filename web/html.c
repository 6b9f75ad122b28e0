/*
 * html.c - every byte of moat-web's HTML: web_esc(), the one escaping
 * function, and web_html(), the template call that puts arguments in only
 * through it
 *
 * In: text from the store (a mail's Subject, names, findings' evidence:
 * hostile) and the pages' own markup (string literals). Out: HTML appended
 * to a GString. Nothing a mail carries is ever copied into a page except
 * through web_esc(): the pages have no other way to add an argument.
 * Reentrant.
 */
#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "web.h"

/*
 * html_shown_as_code - characters that would act on the page rather than
 * be read: C0 and C1 controls (not \n, \t), DEL, bidi embeddings,
 * overrides, isolates and marks, zero-width characters, line and paragraph
 * separators, the BOM, and the interlinear annotation and object
 * replacement characters. U+202E (RLO) in a file name is how
 * "invoice\u202Efdp.exe" shows as "invoiceexe.pdf".
 */
static gboolean
html_shown_as_code(gunichar c)
{
	if (c == '\n' || c == '\t')
		return FALSE;
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x061c || c == 0x180e ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffc);
}

void
web_esc(GString *out, const char *s, gssize len)
{
	g_autofree char *valid = NULL;
	const char *p, *end;

	if (s == NULL)
		return;
	valid = g_utf8_make_valid(s, len);
	end = valid + strlen(valid);
	for (p = valid; p < end; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		switch (c) {
		case '&': g_string_append(out, "&amp;"); continue;
		case '<': g_string_append(out, "&lt;"); continue;
		case '>': g_string_append(out, "&gt;"); continue;
		case '"': g_string_append(out, "&quot;"); continue;
		case '\'': g_string_append(out, "&#39;"); continue;
		default: break;
		}
		if (html_shown_as_code(c))
			g_string_append_printf(out, "<span class=\"cc\">U+%04X</span>", (unsigned)c);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
}

/* html_url - S percent-encoded (all but unreserved characters), then through web_esc() */
static void
html_url(GString *out, const char *s)
{
	g_autoptr(GString) enc = g_string_new(NULL);

	for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
		if (g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			g_string_append_c(enc, (char)*p);
		else
			g_string_append_printf(enc, "%%%02X", *p);
	}
	web_esc(out, enc->str, (gssize)enc->len);	/* nothing left to escape; one path all the same */
}

void
web_html(GString *out, const char *fmt, ...)
{
	va_list ap;
	const char *p = fmt, *pct;

	va_start(ap, fmt);
	while ((pct = strchr(p, '%')) != NULL) {
		g_string_append_len(out, p, pct - p);
		switch (pct[1]) {
		case 's': web_esc(out, va_arg(ap, const char *), -1); break;
		case 'U': html_url(out, va_arg(ap, const char *)); break;
		case 'd': g_string_append_printf(out, "%d", va_arg(ap, int)); break;
		case 'u': g_string_append_printf(out, "%u", va_arg(ap, unsigned)); break;
		case 'L': g_string_append_printf(out, "%" G_GINT64_FORMAT, va_arg(ap, gint64)); break;
		case '%': g_string_append_c(out, '%'); break;
		default: assert(!"web_html: unknown conversion"); break;
		}
		p = pct + 2;
	}
	g_string_append(out, p);
	va_end(ap);
}

char *
web_time(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);

	return dt != NULL ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("?");
}
