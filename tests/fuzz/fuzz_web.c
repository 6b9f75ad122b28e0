/*
 * fuzz_web.c - libFuzzer harness: moat-web's own request parsing (form
 * bodies and query strings, the Cookie header, the list's filter) and the
 * one escaping function, whose output must hold no markup of the input's
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check_escaped - OUT (web_esc of anything) has no < > " ' but the code spans' own */
static void
fuzz_check_escaped(const GString *out)
{
	g_autofree char *copy = g_strdup(out->str);
	char *p;

	if (!g_utf8_validate(out->str, (gssize)out->len, NULL))
		abort();
	while ((p = strstr(copy, "<span class=\"cc\">")) != NULL)
		memset(p, 'x', strlen("<span class=\"cc\">"));
	while ((p = strstr(copy, "</span>")) != NULL)
		memset(p, 'x', strlen("</span>"));
	if (strpbrk(copy, "<>\"'") != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);	/* stops at a NUL */
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *cookie = NULL, *err = NULL;
	GHashTable *form = web_form_parse((const char *)data, size);
	struct quar_filter f;
	guint page;

	if (form != NULL) {
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, form);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (!g_utf8_validate(k, -1, NULL) || !g_utf8_validate(v, -1, NULL))
				abort();
		if (web_filter_parse(&f, &page, &err, form) < 0 && err == NULL)
			abort();
		g_hash_table_unref(form);
	}
	if ((cookie = web_cookie_get(text, WEB_COOKIE_SESSION)) != NULL)
		for (const char *p = cookie; *p != '\0'; p++)
			if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
				abort();
	web_esc(out, (const char *)data, (gssize)size);
	fuzz_check_escaped(out);
	g_string_truncate(out, 0);
	web_html(out, "<a href=\"/list?from=%U\">%s</a>", text, text);
	if (!g_str_has_prefix(out->str, "<a href=\"/list?from=") || strchr(out->str + 20, '"') !=
	    strstr(out->str, "\">"))
		abort();
	return 0;
}
