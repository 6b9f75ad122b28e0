/*
 * officetext.c - DDE fields and Excel 4.0 macro sheets in an Office package (officetext.h)
 *
 * Each member is read once, as bytes: no XML tree, so a padded part costs
 * a pass and no memory beyond OFFICETEXT_FIELD_MAX. What is matched:
 *  - Word (the .xml parts under word/): the text of <w:instrText>
 *    elements (any prefix) joined per field, and w:instr attributes; DDE
 *    or DDEAUTO first in one, or a QUOTE field whose character codes
 *    spell it;
 *  - Excel worksheets (<f> formulas) and CSV: APP|'TOPIC'!ITEM where APP
 *    is a command interpreter or the topic runs one; a finance sheet's
 *    =BLP|... or =REUTER|... link is none of these;
 *  - xl/macrosheets/: an Excel 4.0 macro sheet; with an Auto_Open name in
 *    xl/workbook.xml and a formula that runs or loads code, it auto-runs.
 */
#include <string.h>

#include "officetext.h"

/* ot_entity - the XML entity at P (just past '&') into OUT; where it ends, or P for none */
static const guint8 *
ot_entity(const guint8 *p, const guint8 *end, GString *out)
{
	static const struct { const char *name; char c; } named[] = {
		{ "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	gunichar u = 0;
	const guint8 *q = p;

	for (gsize i = 0; i < G_N_ELEMENTS(named); i++) {
		gsize n = strlen(named[i].name);

		if ((gsize)(end - p) >= n && memcmp(p, named[i].name, n) == 0) {
			g_string_append_c(out, named[i].c);
			return p + n;
		}
	}
	if (q >= end || *q++ != '#')
		return p;
	if (q < end && (*q == 'x' || *q == 'X')) {
		for (q++; q < end && g_ascii_isxdigit(*q) && u < 0x110000; q++)
			u = u * 16 + (gunichar)g_ascii_xdigit_value(*q);
	} else {
		for (; q < end && g_ascii_isdigit(*q) && u < 0x110000; q++)
			u = u * 10 + (gunichar)(*q - '0');
	}
	if (q >= end || *q != ';' || !g_unichar_validate(u) || u == 0)
		return p;
	g_string_append_unichar(out, u);
	return q + 1;
}

/*
 * ot_text - the character data from P to STOP (the next '<', or the quote
 * closing an attribute) into OUT, entities decoded, OUT kept under MAX
 * bytes; returns where STOP is (or END)
 */
static const guint8 *
ot_text(const guint8 *p, const guint8 *end, guint8 stop, GString *out, gsize max)
{
	while (p < end && *p != stop) {
		const guint8 *q;

		if (*p == '&' && (q = ot_entity(p + 1, end, out)) != p + 1) {
			p = q;
		} else {
			if (out->len < max)
				g_string_append_c(out, (char)*p);
			p++;
		}
		if (out->len > max)
			g_string_truncate(out, max);
	}
	return p;
}

/* ot_opens - whether the element name at AT (inside DATA) opens a start tag, any prefix */
static gboolean
ot_opens(const guint8 *data, const guint8 *at)
{
	const guint8 *b = at;

	if (b > data && b[-1] == ':') {		/* a prefix: "w:" */
		b--;
		while (b > data && (g_ascii_isalnum(b[-1]) || b[-1] == '_' || b[-1] == '-' || b[-1] == '.'))
			b--;
	}
	return b > data && b[-1] == '<';
}

/* ot_next - the next of NEEDLE in [AT, END), or END */
static const guint8 *
ot_next(const guint8 *at, const guint8 *end, const char *needle)
{
	const guint8 *f = at < end ? memmem(at, (gsize)(end - at), needle, strlen(needle)) : NULL;

	return f != NULL ? f : end;
}

/* ot_field_dde - F if it is a DDE instruction (officetext_is_dde()), else NULL and F freed */
static GString *
ot_field_dde(GString *f)
{
	if (f != NULL && officetext_is_dde(f->str, f->len))
		return f;
	if (f != NULL)
		g_string_free(f, TRUE);
	return NULL;
}

/*
 * ot_dde_instruction - the first DDE field instruction of Word part DATA,
 * or NULL: a complex field's instrText runs joined as Word joins them (a
 * fldChar "begin" starts the next field), a simple field's instr attribute
 * alone; each judged when it ends, at most OFFICETEXT_FIELD_MAX bytes of
 * it kept (its keyword comes first). Caller g_string_free()s.
 */
static GString *
ot_dde_instruction(const guint8 *data, gsize len)
{
	const guint8 *end = data + len, *instr = ot_next(data, end, "instr");
	const guint8 *begin = ot_next(data, end, "fldCharType");
	GString *cur = NULL, *hit = NULL;

	while (hit == NULL && (instr < end || begin < end)) {
		const guint8 *p;

		if (begin < instr) {
			p = begin + 11;
			while (p < end && (*p == '=' || *p == '"' || *p == '\'' || *p == ' '))
				p++;
			if ((gsize)(end - p) >= 5 && memcmp(p, "begin", 5) == 0) {
				hit = ot_field_dde(cur);	/* the field before is complete */
				cur = NULL;
			}
			begin = ot_next(p, end, "fldCharType");
			continue;
		}
		p = instr + 5;
		if ((gsize)(end - p) > 4 && memcmp(p, "Text", 4) == 0 &&
		    (p[4] == '>' || g_ascii_isspace(p[4])) && ot_opens(data, instr)) {
			p += 4;
			while (p < end && *p != '>')
				p++;
			if (p < end && p[-1] != '/') {
				if (cur == NULL)
					cur = g_string_new(NULL);
				p = ot_text(p + 1, end, '<', cur, OFFICETEXT_FIELD_MAX);
			}
		} else if (instr > data && instr[-1] == ':' && p + 1 < end && *p == '=' &&
		    (p[1] == '"' || p[1] == '\'')) {
			GString *simple = g_string_new(NULL);

			p = ot_text(p + 2, end, p[1], simple, OFFICETEXT_FIELD_MAX);
			hit = ot_field_dde(simple);
		}
		instr = ot_next(MAX(p, instr + 5), end, "instr");
	}
	if (hit == NULL)
		return ot_field_dde(cur);
	if (cur != NULL)
		g_string_free(cur, TRUE);
	return hit;
}

/* ot_word_at - whether word W (lower case) starts at S[i], whole */
static gboolean
ot_word_at(const char *s, gsize n, gsize i, const char *w)
{
	gsize k = strlen(w);

	return i + k <= n && g_ascii_strncasecmp(s + i, w, k) == 0 &&
	    (i == 0 || !g_ascii_isalnum(s[i - 1])) && (i + k == n || !g_ascii_isalnum(s[i + k]));
}

/* ot_quoted_dde - whether a QUOTE field at S[i] (after the word) spells DDE with character codes */
static gboolean
ot_quoted_dde(const char *s, gsize n, gsize i)
{
	char spelled[64];
	gsize k = 0;

	while (i < n && k + 1 < sizeof(spelled)) {
		guint v = 0, digits = 0;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		while (i < n && g_ascii_isdigit(s[i]) && digits < 4)
			v = v * 10 + (guint)(s[i++] - '0'), digits++;
		if (digits == 0)
			break;
		spelled[k++] = v > 0 && v < 128 ? (char)v : '?';
	}
	spelled[k] = '\0';
	return k >= 3 && g_ascii_strncasecmp(spelled, "dde", 3) == 0;
}

gboolean
officetext_is_dde(const char *s, gsize n)
{
	gsize i = 0;

	while (i < n && g_ascii_isspace(s[i]))
		i++;
	return ot_word_at(s, n, i, "ddeauto") || ot_word_at(s, n, i, "dde") ||
	    (ot_word_at(s, n, i, "quote") && ot_quoted_dde(s, n, i + 5));
}

/*
 * ot_dde_formula - whether formula F (N bytes) is a DDE call APP|'TOPIC'!
 * that starts a command interpreter: APP one, or TOPIC naming one
 */
static gboolean
ot_dde_formula(const char *f, gsize n)
{
	static const char *const apps[] = { "cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh",
	    "mshta", "rundll32", "regsvr32", "wscript", "cscript", "certutil", "bitsadmin",
	    "msiexec", "conhost" };
	static const char *const topics[] = { "cmd", "powershell", "mshta", "rundll32", "regsvr32",
	    "certutil", "bitsadmin", "msiexec", "\\..\\" };

	for (gsize i = 0; i + 1 < n; i++) {
		gsize a = i, k;
		g_autofree char *app = NULL, *topic = NULL;
		const char *base;

		if (f[i] != '|' || (f[i + 1] != '\'' && f[i + 1] != '"'))
			continue;
		while (a > 0 && (g_ascii_isalnum(f[a - 1]) || strchr("._\\/:-", f[a - 1]) != NULL))
			a--;
		app = g_ascii_strdown(f + a, (gssize)(i - a));
		base = strrchr(app, '\\') != NULL ? strrchr(app, '\\') + 1 : app;
		for (k = i + 2; k < n && f[k] != f[i + 1]; k++)
			;
		topic = g_ascii_strdown(f + i + 2, (gssize)(k - i - 2));
		for (gsize t = 0; t < G_N_ELEMENTS(apps); t++)
			if (strcmp(base, apps[t]) == 0)
				return TRUE;
		for (gsize t = 0; t < G_N_ELEMENTS(topics); t++)
			if (strstr(topic, topics[t]) != NULL)
				return TRUE;
	}
	return FALSE;
}

/* ot_formulas - the first DDE formula in worksheet DATA's <f> elements, decoded; caller frees */
static char *
ot_formulas(const guint8 *data, gsize len)
{
	const guint8 *end = data + len, *at = data;

	while ((at = memmem(at, (gsize)(end - at), "<f", 2)) != NULL) {
		g_autoptr(GString) f = g_string_new(NULL);
		const guint8 *p = at + 2;

		at = p;
		if (p >= end || (*p != '>' && *p != ' '))
			continue;
		while (p < end && *p != '>')
			p++;
		if (p >= end || p[-1] == '/')
			continue;
		at = ot_text(p + 1, end, '<', f, OFFICETEXT_FIELD_MAX);
		if (ot_dde_formula(f->str, f->len))
			return g_string_free(g_steal_pointer(&f), FALSE);
	}
	return NULL;
}

/* ot_has_ci - whether the LEN bytes at D hold WORD, ASCII case folded */
static gboolean
ot_has_ci(const guint8 *d, gsize len, const char *word)
{
	gsize n = strlen(word);

	for (gsize i = 0; i + n <= len; i++)
		if (g_ascii_tolower(d[i]) == word[0] && g_ascii_strncasecmp((const char *)d + i, word, n) == 0)
			return TRUE;
	return FALSE;
}

/* ot_xlm_calls - what macro sheet DATA's formulas run or load, comma separated, or NULL */
static char *
ot_xlm_calls(const guint8 *data, gsize len)
{
	static const char *const calls[] = { "EXEC(", "CALL(", "REGISTER(", "URLDownloadToFile",
	    "ShellExecute", "RUN(" };
	GString *s = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(calls); i++) {
		g_autofree char *low = g_ascii_strdown(calls[i], -1);

		if (ot_has_ci(data, len, low))
			g_string_append_printf(s, "%s%.*s", s->len ? ", " : "",
			    (int)strcspn(calls[i], "("), calls[i]);
	}
	if (s->len == 0) {
		g_string_free(s, TRUE);
		return NULL;
	}
	return g_string_free(s, FALSE);
}

/* ot_shown - S (N bytes) made safe for evidence; caller frees */
static char *
ot_shown(const char *s, gsize n)
{
	return report_clean_text(s, (gssize)MIN(n, (gsize)OFFICETEXT_SHOWN_MAX * 2),
	    OFFICETEXT_SHOWN_MAX);
}

void
officetext_check(struct moat_report *rep, const struct moat_part *pkg)
{
	const struct moat_part *sheet = NULL, *book = NULL;
	gboolean dde = FALSE;

	for (guint i = 0; pkg->children != NULL && i < pkg->children->len; i++) {
		const struct moat_part *m = pkg->children->pdata[i];
		const char *name = m->filename;
		gsize len;
		const guint8 *data = lure_data(m, &len);

		if (name != NULL && sheet == NULL && g_str_has_prefix(name, "xl/macrosheets/"))
			sheet = m;	/* there by its name, even when its bytes were not kept */
		if (name == NULL || data == NULL)
			continue;
		if (!dde && g_str_has_prefix(name, "word/") && g_str_has_suffix(name, ".xml")) {
			g_autoptr(GString) f = ot_dde_instruction(data, len);
			g_autofree char *shown = NULL;

			if (f != NULL) {
				shown = ot_shown(g_strchug(f->str), strlen(f->str));
				report_add_finding_at(rep, "lure.dde_field", pkg,
				    "field in %s runs a program on opening: %s", name, shown);
				dde = TRUE;
			}
		} else if (!dde && g_str_has_prefix(name, "xl/worksheets/")) {
			g_autofree char *f = ot_formulas(data, len);

			if (f != NULL) {
				g_autofree char *shown = ot_shown(f, strlen(f));

				report_add_finding_at(rep, "lure.dde_field", pkg,
				    "DDE formula in %s starts a command: %s", name, shown);
				dde = TRUE;
			}
		} else if (strcmp(name, "xl/workbook.xml") == 0) {
			book = m;
		}
	}
	if (sheet != NULL) {
		gsize len = 0, blen = 0;
		const guint8 *data = lure_data(sheet, &len), *bdata = book ? lure_data(book, &blen) : NULL;
		gboolean auto_open = bdata != NULL && (ot_has_ci(bdata, blen, "auto_open") ||
		    ot_has_ci(bdata, blen, "auto_activate"));
		g_autofree char *calls = auto_open && data != NULL ? ot_xlm_calls(data, len) : NULL;

		report_add_finding_at(rep, "lure.office_macro", pkg,
		    "Excel 4.0 macro sheet %s%s", sheet->filename,
		    auto_open ? ", run by the name Auto_Open" : "");
		if (auto_open && calls != NULL)
			report_add_finding_at(rep, "lure.macro_autoexec", pkg,
			    "in %s: Auto_Open runs the Excel 4.0 macro sheet when the workbook opens; "
			    "its formulas call %s", sheet->filename, calls);
	}
}

void
officetext_csv(struct moat_report *rep, const struct moat_part *p)
{
	gsize len;
	const guint8 *data = lure_data(p, &len), *end, *line;

	if (data == NULL)
		return;
	end = data + MIN(len, (gsize)OFFICETEXT_CSV_MAX);
	for (line = data; line < end;) {
		const guint8 *eol = memchr(line, '\n', (gsize)(end - line));
		gsize n = (gsize)((eol != NULL ? eol : end) - line);

		if (memchr(line, '|', n) != NULL && ot_dde_formula((const char *)line, n)) {
			g_autofree char *shown = ot_shown((const char *)line, n);

			report_add_finding_at(rep, "lure.dde_field", p,
			    "DDE formula in a CSV line starts a command when Excel opens it: %s", shown);
			return;
		}
		line = eol != NULL ? eol + 1 : end;
	}
}
