/*
 * form.c - moat-web's own request parsing: form bodies and query strings
 * (application/x-www-form-urlencoded), the Cookie header, the list's filter
 *
 * In: bytes a browser, or anyone who can reach the socket, sent. Out:
 * owned tables and strings, or NULL/an error for anything malformed. Every
 * input is bounded (WEB_FORM_MAX_BYTES, WEB_FORM_MAX_FIELDS, 128 bytes of
 * a cookie value); nothing is looked up, nothing allocated beyond the
 * input's size. libmicrohttpd parses the HTTP itself. Reentrant; fuzzed by
 * tests/fuzz/fuzz_web.c.
 */
#include <string.h>

#include "moat/moat.h"
#include "web.h"

#define FORM_COOKIE_MAX 128

/* form_hex - the value of hex digit C, or -1 */
static int
form_hex(char c)
{
	return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/* form_decode - S[0..LEN) with '+' as space and %XX decoded; NULL on a bad escape, a NUL or bad UTF-8 */
static char *
form_decode(const char *s, gsize len)
{
	GString *out = g_string_sized_new(len);

	for (gsize i = 0; i < len; i++) {
		if (s[i] == '+') {
			g_string_append_c(out, ' ');
		} else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = form_hex(s[i + 1])) < 0 || (lo = form_hex(s[i + 2])) < 0)
				goto bad;
			g_string_append_c(out, (char)(hi * 16 + lo));
			i += 2;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
	if (memchr(out->str, '\0', out->len) != NULL || !g_utf8_validate(out->str, (gssize)out->len, NULL))
		goto bad;
	return g_string_free(out, FALSE);
bad:
	g_string_free(out, TRUE);
	return NULL;
}

GHashTable *
web_form_parse(const char *s, gsize len)
{
	g_autoptr(GHashTable) t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gsize i = 0;
	guint fields = 0;

	if (len > WEB_FORM_MAX_BYTES || (len > 0 && s == NULL))
		return NULL;
	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		gsize end = amp != NULL ? (gsize)(amp - s) : len;
		const char *eq = memchr(s + i, '=', end - i);
		gsize kend = eq != NULL ? (gsize)(eq - s) : end;
		char *k, *v;

		if (end > i) {
			if (++fields > WEB_FORM_MAX_FIELDS)
				return NULL;
			if ((k = form_decode(s + i, kend - i)) == NULL)
				return NULL;
			v = eq != NULL ? form_decode(eq + 1, end - kend - 1) : g_strdup("");
			if (v == NULL) {
				g_free(k);
				return NULL;
			}
			if (g_hash_table_contains(t, k)) {
				g_free(k);
				g_free(v);
			} else {
				g_hash_table_insert(t, k, v);
			}
		}
		i = end + 1;
	}
	return g_steal_pointer(&t);
}

/* form_cookie_char - a character moat-web's cookie values are made of */
static gboolean
form_cookie_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

char *
web_cookie_get(const char *header, const char *name)
{
	gsize nlen = strlen(name);
	const char *p = header;

	if (header == NULL || strlen(header) > WEB_FORM_MAX_BYTES)
		return NULL;
	/* "a=1; b=2": pairs split by ';', blanks around them */
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';');
		gsize n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = end != NULL ? (gsize)(end - p) : strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > nlen + 1 && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			gsize vlen = n - nlen - 1;

			if (vlen > FORM_COOKIE_MAX)
				return NULL;
			for (gsize i = 0; i < vlen; i++)
				if (!form_cookie_char(v[i]))
					return NULL;
			return g_strndup(v, vlen);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

gboolean
web_token_valid(const char *s)
{
	gsize n = 0;

	if (s == NULL)
		return FALSE;
	for (; s[n] != '\0'; n++)
		if (!g_ascii_isdigit(s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
			return FALSE;
	return n == WEB_SID_LEN;
}

/* form_date - "YYYY-MM-DD" as seconds at 00:00 UTC, or -1 */
static gint64
form_date(const char *s)
{
	g_autofree char *iso = NULL;
	g_autoptr(GDateTime) dt = NULL;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !g_ascii_isdigit(s[i]))
			return -1;
	iso = g_strconcat(s, "T00:00:00Z", NULL);
	if ((dt = g_date_time_new_from_iso8601(iso, NULL)) == NULL)
		return -1;
	return g_date_time_to_unix(dt);
}

/* form_field - Q's NAME when it is there and not empty, else NULL (borrowed) */
static const char *
form_field(GHashTable *q, const char *name)
{
	const char *v = q != NULL ? g_hash_table_lookup(q, name) : NULL;

	return v != NULL && *v != '\0' ? v : NULL;
}

int
web_filter_parse(struct quar_filter *f, guint *page, char **err, GHashTable *q)
{
	const char *v;
	gint64 t;

	*f = (struct quar_filter){ .status = QUAR_HELD };
	*page = 1;
	if ((v = form_field(q, "status")) != NULL) {
		f->status = strcmp(v, "all") == 0 ? -1 : quar_status_parse(v);
		if (f->status < 0 && strcmp(v, "all") != 0) {
			*err = g_strdup("status: held, releasing, released, deleted or all");
			goto bad;
		}
	}
	f->sender = form_field(q, "from");
	f->recipient = form_field(q, "rcpt");
	f->finding = form_field(q, "finding");
	for (int i = 0; i < 2; i++) {
		if ((v = form_field(q, i == 0 ? "since" : "until")) == NULL)
			continue;
		if ((t = form_date(v)) < 0) {
			*err = g_strdup_printf("%s: a date, YYYY-MM-DD (UTC)", i == 0 ? "since" : "until");
			goto bad;
		}
		/* until is inclusive: the whole day */
		*(i == 0 ? &f->since : &f->until) = i == 0 ? t : t + 86400;
	}
	if ((v = form_field(q, "page")) != NULL) {
		guint64 n = 0;

		if (!g_ascii_string_to_unsigned(v, 10, 1, 1000000, &n, NULL)) {
			*err = g_strdup("page: a number from 1");
			goto bad;
		}
		*page = (guint)n;
	}
	return 0;
bad:
	*f = (struct quar_filter){ .status = QUAR_HELD };
	*page = 1;
	return MOAT_EINVAL;
}
