/*
 * rtfobj.c - OLE objects embedded in an RTF document (rtfobj.h)
 *
 * One pass per \objdata destination, as Word reads one: hex digits in
 * pairs, every other byte skipped (blanks, line ends, stray letters),
 * control words skipped (\binN takes N raw bytes), and a group nested in
 * the destination ({\*\junk 4142}) skipped whole, for Word ignores it
 * too. Each destination decodes to at most RTFOBJ_MAX_BYTES and a
 * document to RTFOBJ_MAX_TOTAL, so a 64 MB document of hex costs one pass
 * and 16 MB at most.
 */
#include <string.h>

#include "moat/bytes.h"
#include "moat/vba.h"
#include "rtfobj.h"

#define RTFOBJ_CLASS_MAX	256	/* bytes of an OLE1 class name (MS-OLEDS: any ANSI string) */
#define RTFOBJ_CLASS_SHOWN	40	/* bytes of a class name in the evidence */

int
rtfobj_hex(guint8 c)
{
	return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

const guint8 *
rtfobj_word(const guint8 *at, const guint8 *end, char *word, gsize wmax, gint64 *param)
{
	gsize n = 0;
	gboolean minus = FALSE;

	*param = 0;
	word[0] = '\0';
	if (at < end && !g_ascii_isalpha(*at))
		return at + 1;
	while (at < end && g_ascii_isalpha(*at)) {
		if (n + 1 < wmax)
			word[n++] = (char)*at;
		at++;
	}
	word[n] = '\0';
	if (at < end && *at == '-') {
		minus = TRUE;
		at++;
	}
	while (at < end && g_ascii_isdigit(*at)) {
		if (*param < G_MAXINT32)
			*param = *param * 10 + (*at - '0');
		at++;
	}
	if (minus)
		*param = -*param;
	if (at < end && *at == ' ')
		at++;
	return at;
}

/*
 * rtfobj_decode - the bytes of the destination that starts at AT (after
 * the \objdata word), up to its closing brace or END, at most MAX of them
 */
static GByteArray *
rtfobj_decode(const guint8 *at, const guint8 *end, gsize max)
{
	GByteArray *out = g_byte_array_new();
	guint depth = 0;
	int hi = -1;

	while (at < end && out->len < max) {
		guint8 c = *at++;
		char word[8];
		gint64 param;
		int v;

		if (c == '{') {
			depth++;
		} else if (c == '}') {
			if (depth-- == 0)
				break;
		} else if (c == '\\') {
			at = rtfobj_word(at, end, word, sizeof(word), &param);
			if (depth == 0 && strcmp(word, "bin") == 0 && param > 0) {
				gsize n = (gsize)MIN((guint64)param, (guint64)(end - at));

				n = MIN(n, max - out->len);
				g_byte_array_append(out, at, (guint)n);
				at += n;
				hi = -1;
			}
		} else if (depth == 0 && (v = rtfobj_hex(c)) >= 0) {
			if (hi < 0) {
				hi = v;
			} else {
				guint8 b = (guint8)(hi << 4 | v);

				g_byte_array_append(out, &b, 1);
				hi = -1;
			}
		}
	}
	return out;
}

/* rtfobj_equation_class - NAME (LEN bytes, not NUL-terminated) is Equation Editor 3.0's ProgID */
static gboolean
rtfobj_equation_class(const char *name, gsize len)
{
	static const char *const names[] = { "Equation", "Equation.2", "Equation.3" };

	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\0'))
		len--;
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		if (len == strlen(names[i]) && g_ascii_strncasecmp(name, names[i], len) == 0)
			return TRUE;
	return FALSE;
}

/*
 * rtfobj_ole1_class - the class name of the OLE1 EmbeddedObject in the LEN
 * bytes at D (version, format id, then a length-prefixed ANSI string) into
 * CLS, shown clean; FALSE when D holds none
 */
static gboolean
rtfobj_ole1_class(const guint8 *d, gsize len, char cls[RTFOBJ_CLASS_MAX + 1], gsize *clen)
{
	guint32 n;

	if (len < 12)
		return FALSE;
	n = bytes_le32(d + 8);
	if (n == 0 || n > RTFOBJ_CLASS_MAX || n > len - 12)
		return FALSE;
	memcpy(cls, d + 12, n);
	cls[n] = '\0';
	*clen = strnlen(cls, n);
	return TRUE;
}

/*
 * rtfobj_object - why the decoded \objdata D (LEN bytes) is an Equation
 * Editor object, or NULL; caller g_free()s
 */
static char *
rtfobj_object(const guint8 *d, gsize len)
{
	static const guint8 magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	char cls[RTFOBJ_CLASS_MAX + 1];
	g_autofree char *shown = NULL;
	gsize clen = 0;
	gboolean named = rtfobj_ole1_class(d, len, cls, &clen);
	const guint8 *cf = memmem(d, len, magic, sizeof(magic));
	struct vba_file *f;
	char *why = NULL;

	if (named)
		shown = report_clean_text(cls, (gssize)clen, RTFOBJ_CLASS_SHOWN);
	if (named && rtfobj_equation_class(cls, clen))
		return g_strdup_printf("class \"%s\"", shown);
	if (cf == NULL || (f = vba_read(cf, len - (gsize)(cf - d))) == NULL)
		return NULL;
	if (f->equation != NULL)
		why = g_strdup_printf("a compound file with its CLSID at %s%s%s%s", f->equation,
		    named ? ", under class \"" : "", named ? shown : "", named ? "\"" : "");
	vba_file_free(f);
	return why;
}

gboolean
rtfobj_at_word(const guint8 *data, const guint8 *at, const guint8 *end, gsize n)
{
	const guint8 *b = at;

	while (b > data && b[-1] == '\\')
		b--;
	/* "\\objdata" is text; "\objdatax" another word */
	return (at - b) % 2 == 0 && !(at + n < end && g_ascii_isalpha(at[n]));
}

/* rtfobj_named_class - an \objclass destination in DATA names Equation Editor */
static gboolean
rtfobj_named_class(const guint8 *data, const guint8 *end)
{
	const guint8 *at = data;

	for (guint hits = 0; hits < RTFOBJ_MAX_OBJECTS &&
	    (at = memmem(at, (gsize)(end - at), "\\objclass", 9)) != NULL; hits++, at += 9) {
		const guint8 *t = at + 9, *e;

		if (!rtfobj_at_word(data, at, end, 9))
			continue;
		while (t < end && *t == ' ')
			t++;
		for (e = t; e < end && e - t < RTFOBJ_CLASS_MAX && *e != '}' && *e != '\\'; e++)
			;
		if (rtfobj_equation_class((const char *)t, (gsize)(e - t)))
			return TRUE;
	}
	return FALSE;
}

void
rtfobj_check(struct moat_report *rep, const struct moat_part *p, const guint8 *data, gsize len)
{
	const guint8 *end = data + len, *at = data;
	gboolean update = memmem(data, len, "\\objupdate", 10) != NULL;
	gboolean named = rtfobj_named_class(data, end);
	gsize total = 0;
	guint k = 0;

	for (guint hits = 0; hits < RTFOBJ_MAX_OBJECTS && total < RTFOBJ_MAX_TOTAL &&
	    (at = memmem(at, (gsize)(end - at), "\\objdata", 8)) != NULL; hits++) {
		GByteArray *obj;
		g_autofree char *why = NULL;

		if (!rtfobj_at_word(data, at, end, 8)) {
			at += 8;
			continue;
		}
		at += 8;
		k++;
		obj = rtfobj_decode(at, end, MIN(RTFOBJ_MAX_BYTES, RTFOBJ_MAX_TOTAL - total));
		total += obj->len;
		if (obj->len > 0)	/* an empty GByteArray has no data pointer at all */
			why = rtfobj_object(obj->data, obj->len);
		if (why == NULL && obj->len > 0 && named)
			why = g_strdup("the document's \\objclass names it");
		g_byte_array_unref(obj);
		if (why != NULL) {
			report_add_finding_at(rep, "lure.equation_editor", p,
			    "Equation Editor 3.0 object (EQNEDT32.EXE, exploited by CVE-2017-11882 "
			    "and CVE-2018-0802) in \\objdata %u: %s%s", k, why,
			    update ? "; \\objupdate opens it with the document" : "");
			return;
		}
	}
}
