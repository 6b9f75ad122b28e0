/*
 * check_names.c - findings from names and types: executables by extension
 * or magic, double extensions, bidi and invisible characters (and ordinary
 * right-to-left names that are not tricks), declared vs. sniffed type
 */
#include <string.h>

#include "checks.h"
#include "moat/names.h"

static const struct { const char *name, *ext; } ext_cases[] = {
	{ "a.PDF.Exe", "exe" },
	{ "noext", NULL },
	{ "trail.exe. . ", "exe" },
	{ "archive.tar.gz", "gz" },
	{ "dir/file.", NULL },
	{ "x.settingcontent-ms", "settingcontent-ms" },
};

START_TEST(test_extension)
{
	g_autofree char *e = names_extension(ext_cases[_i].name);

	ck_assert_pstr_eq(e, ext_cases[_i].ext);
}
END_TEST

static const struct { const char *name; gunichar c; gboolean bidi; } trick_cases[] = {
	{ "Report\xe2\x80\xaegpj.scr", 0x202e, TRUE },
	{ "a\xe2\x81\xa6" "b.pdf", 0x2066, TRUE },
	{ "pay\xe2\x80\x8bment.pdf", 0x200b, FALSE },
	{ "\xef\xbb\xbfinvoice.pdf", 0xfeff, FALSE },
	{ "\xd8\xaa\xd9\x82\xd8\xb1\xd9\x8a\xd8\xb1.pdf", 0, FALSE },	/* Arabic */
	{ "\xd7\x93\xd7\x95\xd7\x97.pdf", 0, FALSE },			/* Hebrew */
	{ "\xe6\x8a\xa5\xe5\x91\x8a.pdf", 0, FALSE },			/* Chinese */
	{ "plain.pdf", 0, FALSE },
};

START_TEST(test_tricks)
{
	gboolean bidi = !trick_cases[_i].bidi;

	ck_assert_uint_eq(names_find_trick(trick_cases[_i].name, &bidi), trick_cases[_i].c);
	if (trick_cases[_i].c != 0)
		ck_assert_int_eq(bidi, trick_cases[_i].bidi);
}
END_TEST

/* One part as the inventory would leave it, checked alone. */
static const struct {
	const char *disp, *type_name, *content_type, *sniffed;
	const char *want;	/* exactly these ids, space-separated */
} part_cases[] = {
	{ "Invoice.pdf.exe", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable" },
	{ "report.docx            .scr", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable" },
	{ "setup.x86.exe", NULL, "application/octet-stream", "pe", "attach.executable" },
	{ "archive.tar.gz", NULL, "application/gzip", "gzip", "" },
	{ "Report\xe2\x80\xaegpj.scr", NULL, "application/octet-stream", "pe",
	    "name.bidi_control attach.executable" },
	{ "photo.jpg", NULL, "image/jpeg", "pe", "attach.executable type.mismatch" },
	{ "statement.pdf", NULL, "application/pdf", "zip", "type.mismatch" },
	{ "invoice.pdf", NULL, "application/pdf", "pdf", "" },
	{ NULL, NULL, "application/pdf", "pe", "attach.executable type.mismatch" },
	{ "photo.jpg", "photo.js", "image/jpeg", "jpeg", "name.conflict attach.script" },
	{ "PATCH", "patch", "text/plain", "text", "" },
	{ "x.lnk", NULL, "application/octet-stream", "lnk", "attach.shortcut" },
	{ "x.iso", NULL, "application/octet-stream", "iso", "attach.disk_image" },
	{ "notes.txt", NULL, "text/plain", "lnk", "attach.shortcut" },
	{ NULL, NULL, "text/plain", "text", "" },
	{ "\xd8\xaa\xd9\x82\xd8\xb1\xd9\x8a\xd8\xb1.pdf", NULL, "application/pdf", "pdf", "" },
	{ "pay\xe2\x80\x8bment.pdf", NULL, "application/pdf", "pdf", "name.invisible_char" },
	{ "doc.one", NULL, "application/octet-stream", "onenote", "attach.onenote" },
	{ "help.chm", NULL, "application/octet-stream", "chm", "attach.compiled_help" },
	{ "run.js", NULL, "text/javascript", "text", "attach.script" },
};

START_TEST(test_part)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;
	g_auto(GStrv) want = g_strsplit(part_cases[_i].want, " ", -1);
	guint nwant = 0;

	g_ptr_array_add(path, (gpointer)(part_cases[_i].disp ? part_cases[_i].disp : "(part 1)"));
	p = report_part_new(rep, path);
	g_ptr_array_unref(path);
	p->disp_filename = g_strdup(part_cases[_i].disp);
	p->type_name = g_strdup(part_cases[_i].type_name);
	p->filename = g_strdup(part_cases[_i].disp ? part_cases[_i].disp : part_cases[_i].type_name);
	p->content_type = g_strdup(part_cases[_i].content_type);
	p->sniffed = part_cases[_i].sniffed;
	names_check_part(rep, p);

	for (int i = 0; want[i] != NULL; i++) {
		const struct moat_finding *f;

		if (want[i][0] == '\0')
			continue;
		nwant++;
		f = report_has_finding(rep, want[i]);
		ck_assert_msg(f != NULL, "case %d: no %s", _i, want[i]);
		ck_assert_str_eq(f->path_display, p->path_display);
	}
	ck_assert_msg(rep->findings->len == nwant, "case %d: %u findings, want %u (first %s)", _i,
	    rep->findings->len, nwant, rep->findings->len ?
	    ((struct moat_finding *)rep->findings->pdata[0])->kind->id : "-");
	report_free(rep);
}
END_TEST

Suite *
names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_extension, 0, G_N_ELEMENTS(ext_cases));
	tcase_add_loop_test(tc, test_tricks, 0, G_N_ELEMENTS(trick_cases));
	tcase_add_loop_test(tc, test_part, 0, G_N_ELEMENTS(part_cases));
	suite_add_tcase(s, tc);
	return s;
}
