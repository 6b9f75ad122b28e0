/*
 * fuzz_office.c - libFuzzer harness: the VBA reader and the Office lure detector
 *
 * Each input goes three ways, each on a heap copy of exactly its size:
 * vba_read() as a compound file (every module's source must be
 * NUL-terminated within VBA_MAX_SOURCE, and all of them within
 * VBA_MAX_TOTAL); lure_office_check() over a DOCX-like report whose
 * word/_rels/settings.xml.rels is the input (libxml2 with office.c's
 * options), and whose word/document.xml, worksheet or macro sheet is
 * (officetext.c's fields and formulas); and lure_office_check() over one
 * attachment of the input's bytes, sniffed as moat sniffs them (OLE2,
 * RTF), and as a .csv. Seeds: office_seeds.py.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/lure.h"
#include "moat/sniff.h"
#include "moat/vba.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_vba - vba_read() of the input and what its answer must satisfy */
static void
fuzz_vba(const guint8 *copy, size_t size)
{
	struct vba_file *f = vba_read(copy, size);
	gsize total = 0;

	for (guint i = 0; f != NULL && i < f->modules->len; i++) {
		const struct vba_module *m = f->modules->pdata[i];

		if (m->len > VBA_MAX_SOURCE || (m->source != NULL && strlen(m->source) > m->len) ||
		    !g_utf8_validate(m->name, -1, NULL) || !g_utf8_validate(m->project, -1, NULL))
			__builtin_trap();
		total += m->len;
	}
	if (total > VBA_MAX_TOTAL || (f != NULL && f->modules->len > VBA_MAX_MODULES))
		__builtin_trap();
	vba_file_free(f);
}

/* fuzz_report - a report of attachment NAME holding the input; member MEMBER too when not NULL */
static void
fuzz_report(const char *name, const char *member, GBytes *bytes)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p, *m;
	gsize len;
	const guint8 *d = g_bytes_get_data(bytes, &len);

	g_ptr_array_add(path, (char *)name);
	p = report_part_new(rep, path);
	g_ptr_array_unref(path);
	p->filename = g_strdup(name);
	if (member != NULL) {
		p->sniffed = "zip";
		p->content = g_bytes_new_static("PK\003\004", 4);
		m = report_member_new(rep, p, "[Content_Types].xml");
		m->content = g_bytes_new_static("<Types/>", 8);
		m = report_member_new(rep, p, member);
		m->sniffed = "xml";
		m->content = g_bytes_ref(bytes);
	} else {
		p->sniffed = sniff_type(d, MIN(len, SNIFF_HEAD_BYTES), NULL);
		p->content = g_bytes_ref(bytes);
	}
	lure_office_check(rep, NULL);
	report_free(rep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guint8 *copy = g_malloc(MAX(size, 1));
	GBytes *bytes;

	if (size > 0)
		memcpy(copy, data, size);
	fuzz_vba(copy, size);
	bytes = g_bytes_new_take(copy, size);
	fuzz_report("Letter.docx", "word/_rels/settings.xml.rels", bytes);
	fuzz_report("Letter.docx", "word/document.xml", bytes);
	fuzz_report("Book.xlsx", "xl/worksheets/sheet1.xml", bytes);
	fuzz_report("Book.xlsm", "xl/macrosheets/sheet1.xml", bytes);
	fuzz_report("Letter.doc", NULL, bytes);
	fuzz_report("Figures.csv", NULL, bytes);
	g_bytes_unref(bytes);
	return 0;
}
