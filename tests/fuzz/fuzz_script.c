/*
 * fuzz_script.c - libFuzzer harness: the script, OneNote and CHM checks
 *
 * The input, a heap copy of exactly its size (any read outside it is
 * caught), is put three ways into a report built by hand, as the walk
 * would leave it: a script attachment named by the input's last byte
 * (.ps1 .bat .vbs .js .hta .wsf .reg, or .txt to be sniffed) for
 * lure_script_check(); a OneNote section (the input after the notebook
 * magic) for lure_embedded_check(); and a CHM whose one member page is
 * the input. Every finding must be of a script, OneNote or CHM kind with
 * one line of evidence; lure_script_language() must name a known
 * language or none. Seeds: the lure fixtures (tests/fixtures/lures_script.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/lure.h"
#include "moat/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const guint8 fuzz_one_magic[16] = {
	0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3,
};

/* fuzz_part - a report whose one attachment NAME holds the LEN bytes at DATA (taken) */
static struct moat_report *
fuzz_part(const char *name, guint8 *data, gsize len, struct moat_part **out)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, (char *)name);
	p = report_part_new(rep, path);
	g_ptr_array_free(path, TRUE);
	p->filename = g_strdup(name);
	p->is_attachment = TRUE;
	p->content = g_bytes_new_take(data, len);
	p->sniffed = sniff_type(data, MIN(len, SNIFF_HEAD_BYTES), NULL);
	*out = p;
	return rep;
}

/* fuzz_check - every finding of REP is one of ours, with one printable line of evidence */
static void
fuzz_check(const struct moat_report *rep)
{
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (!g_str_has_prefix(f->id, "lure.script_") && strcmp(f->id, "lure.onenote_payload") != 0 &&
		    strcmp(f->id, "lure.chm_payload") != 0)
			__builtin_trap();
		if (f->evidence == NULL || strchr(f->evidence, '\n') != NULL ||
		    !g_utf8_validate(f->evidence, -1, NULL))
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"a.ps1", "a.bat", "a.vbs", "a.js", "a.hta", "a.wsf", "a.reg", "a.txt",
	};
	static const char *const langs[] = {
		"hta", "wsf", "batch", "powershell", "jscript", "vbscript",
	};
	guint8 *copy = g_malloc(MAX(size, 1));
	guint8 *one = g_malloc(size + 16);
	struct moat_report *rep;
	struct moat_part *p, *m;
	const char *lang;

	if (size > 0)
		memcpy(copy, data, size);
	lang = lure_script_language(copy, size);
	for (gsize i = 0; lang != NULL && i <= G_N_ELEMENTS(langs); i++)
		if (i == G_N_ELEMENTS(langs))
			__builtin_trap();
		else if (strcmp(lang, langs[i]) == 0)
			break;

	rep = fuzz_part(names[size > 0 ? data[size - 1] % G_N_ELEMENTS(names) : 0], copy, size, &p);
	lure_script_check(rep, NULL);
	fuzz_check(rep);
	report_free(rep);

	memcpy(one, fuzz_one_magic, 16);
	if (size > 0)
		memcpy(one + 16, data, size);
	rep = fuzz_part("a.one", one, size + 16, &p);
	lure_embedded_check(rep, NULL);
	fuzz_check(rep);
	report_free(rep);

	rep = fuzz_part("a.chm", g_memdup2("ITSF\3\0\0\0", 8), 8, &p);
	m = report_member_new(rep, p, "/index.htm");
	m->is_attachment = TRUE;
	m->content = g_bytes_new(data, size);
	m->sniffed = "text";
	lure_embedded_check(rep, NULL);
	fuzz_check(rep);
	report_free(rep);
	return 0;
}
