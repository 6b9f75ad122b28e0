/*
 * masquerade.c - programs dressed as documents (T1036.008, T1036)
 *
 * name.double_extension already catches "report.pdf.exe". This detector
 * looks at the bytes: a program whose only extension is a document's
 * ("report.pdf" that is a PE, opened through a shortcut or a side-loading
 * host), a program named like an Office owner file ("~$report.docx", which
 * Explorer hides from most users' eyes), and a program's or shortcut's name
 * that mixes Latin with Cyrillic or Greek letters in one word ("Invоice",
 * a Cyrillic "о"): a homoglyph made to pass a glance and a filter.
 * Names wholly in Cyrillic, Arabic, Hebrew or Chinese are ordinary.
 * An archive named as a document ("topic.pdf.zip", Ke3chang's shape) that
 * holds a program dresses the program the same way.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/names.h"
#include "moat/sniff.h"

/* masquerade_mixed_word - the first word of NAME mixing Latin with Cyrillic or Greek, or NULL */
static char *
masquerade_mixed_word(const char *name)
{
	const char *word = NULL;
	gboolean latin = FALSE, other = FALSE;

	if (name == NULL || !g_utf8_validate(name, -1, NULL))
		return NULL;
	for (const char *p = name;; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c != 0 && g_unichar_isalpha(c)) {
			GUnicodeScript s = g_unichar_get_script(c);

			if (word == NULL)
				word = p;
			latin |= s == G_UNICODE_SCRIPT_LATIN;
			other |= s == G_UNICODE_SCRIPT_CYRILLIC || s == G_UNICODE_SCRIPT_GREEK;
			continue;
		}
		if (word != NULL && latin && other)
			return g_strndup(word, (gsize)(p - word));
		word = NULL;
		latin = other = FALSE;
		if (c == 0)
			return NULL;
	}
}

/* masquerade_archive - a program inside an archive named as a document ("topic.pdf.zip") */
static void
masquerade_archive(struct moat_report *rep, const struct moat_part *p, const char *base)
{
	const char *dot = strrchr(base, '.');
	g_autofree char *stem = dot != NULL ? g_strndup(base, (gsize)(dot - base)) : NULL;
	g_autofree char *shown = names_extension(stem);
	const struct moat_part *inner;

	if (shown == NULL || !names_document_ext(shown) || (inner = lure_runnable_below(p, NULL)) == NULL)
		return;
	report_add_finding_at(rep, "lure.program_as_document", inner,
	    "'%s' is a program in '%s', an archive named as a .%s document",
	    lure_basename(inner->filename), base, shown);
}

static void
masquerade_part(struct moat_report *rep, const struct moat_part *p)
{
	const char *base = lure_basename(p->filename);
	enum lure_kind k = lure_kind_of(p);
	g_autofree char *ext = names_extension(base);
	g_autofree char *mixed = NULL;
	gboolean program_bytes = sniff_class_of(p->sniffed) == SNIFF_EXECUTABLE;

	if (base == NULL)
		return;
	if (k == LURE_ARCHIVE)
		masquerade_archive(rep, p, base);
	if (program_bytes && ext != NULL && names_document_ext(ext))
		report_add_finding_at(rep, "lure.program_as_document", p,
		    "'%s' is a program (%s), named as a .%s document", base, p->sniffed, ext);
	else if (g_str_has_prefix(base, "~$") && (program_bytes || k == LURE_PROGRAM))
		report_add_finding_at(rep, "lure.program_as_document", p,
		    "'%s' is a program named like an Office owner file", base);
	if ((k == LURE_PROGRAM || k == LURE_SCRIPT || k == LURE_SHORTCUT) &&
	    (mixed = masquerade_mixed_word(base)) != NULL)
		report_add_finding_at(rep, "lure.mixed_script_name", p,
		    "'%s' mixes Latin with Cyrillic or Greek letters in '%s'", base, mixed);
}

void
lure_masquerade_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len; i++)
		masquerade_part(rep, rep->parts->pdata[i]);
}
