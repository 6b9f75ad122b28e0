/*
 * check_names.c - findings from attachment names and types: the extension
 * Windows uses, executables/scripts/shortcuts/disk images by extension or by
 * magic, double extensions (also padded with blanks), bidi controls and
 * invisible characters (and ordinary Arabic, Hebrew and Chinese names that
 * are not tricks), conflicting names, declared vs. sniffed type.
 */
#include <string.h>

#include "checks.h"
#include "moat/names.h"
#include "moat/sniff.h"

static const struct { const char *name, *ext; } ext_cases[] = {
	{ "a.PDF.Exe", "exe" },
	{ "noext", NULL },
	{ "trail.exe. . ", "exe" },	/* Windows drops trailing dots and blanks */
	{ "trail.exe...", "exe" },
	{ ".hidden", "hidden" },	/* a leading-dot name is all extension, as on Windows */
	{ "archive.tar.gz", "gz" },
	{ "dir/file.", NULL },
	{ "dir.d/file", NULL },		/* a dot in a directory is not an extension */
	{ "C:\\dir.d\\file", NULL },
	{ "x.settingcontent-ms", "settingcontent-ms" },
	{ "", NULL },
	{ ". . .", NULL },
};

START_TEST(test_extension)
{
	g_autofree char *e = names_extension(ext_cases[_i].name);

	ck_assert_pstr_eq(e, ext_cases[_i].ext);
}
END_TEST

static const struct { const char *name; gunichar c; gboolean bidi; } trick_cases[] = {
	{ "Report\xe2\x80\xaegpj.scr", 0x202e, TRUE },		/* RIGHT-TO-LEFT OVERRIDE */
	{ "a\xe2\x81\xa6" "b.pdf", 0x2066, TRUE },		/* LEFT-TO-RIGHT ISOLATE */
	{ "a\xe2\x81\xa9" "b.pdf", 0x2069, TRUE },		/* POP DIRECTIONAL ISOLATE */
	{ "pay\xe2\x80\x8bment.pdf", 0x200b, FALSE },		/* ZERO WIDTH SPACE */
	{ "\xef\xbb\xbfinvoice.pdf", 0xfeff, FALSE },		/* ZERO WIDTH NO-BREAK SPACE */
	{ "in\xc2\xadvoice.pdf", 0x00ad, FALSE },		/* SOFT HYPHEN */
	{ "x\xf3\xa0\x81\x81.pdf", 0xe0041, FALSE },		/* TAG LATIN CAPITAL A */
	{ "a\xe2\x80\x8b" "b\xe2\x80\xae" "c", 0x200b, FALSE },	/* the first one counts */
	{ "\xd8\xaa\xd9\x82\xd8\xb1\xd9\x8a\xd8\xb1.pdf", 0, FALSE },	/* Arabic */
	{ "\xd7\x93\xd7\x95\xd7\x97.pdf", 0, FALSE },			/* Hebrew */
	{ "\xe6\x8a\xa5\xe5\x91\x8a.pdf", 0, FALSE },			/* Chinese */
	{ "r\xc3\xa9sum\xc3\xa9.pdf", 0, FALSE },
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

#define ARABIC	"\xd8\xaa\xd9\x82\xd8\xb1\xd9\x8a\xd8\xb1.pdf"
#define HEBREW	"\xd7\x93\xd7\x95\xd7\x97.pdf"
#define CHINESE	"\xe6\x8a\xa5\xe5\x91\x8a.pdf"
#define RLO	"\xe2\x80\xae"
#define ZWSP	"\xe2\x80\x8b"

/* One part as the inventory would leave it, checked alone. */
static const struct {
	const char *disp, *type_name, *content_type, *sniffed;
	const char *want;	/* exactly these ids, space-separated, in any order */
	const char *hint;	/* some finding's evidence says this, or NULL */
} part_cases[] = {
	/* A nameless text body that only starts like a script is text. */
	{ NULL, NULL, "text/xml", "wsf", "", NULL },
	{ NULL, NULL, "text/plain", "chm", "", NULL },
	{ NULL, NULL, "text/plain", "pe", "attach.executable", NULL },
	{ "Invoice.pdf.exe", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", "shows as .pdf but is .exe" },
	{ "INVOICE.PDF.EXE", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", NULL },
	{ "Invoice.pdf .exe", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", NULL },
	{ "report.docx            .scr", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", "shows as .docx but is .scr" },
	{ "setup            .exe", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", "blanks hide" },
	{ "Invoice.pdf\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0.exe", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", "padded with blanks" },	/* U+00A0 */
	{ "Invoice.pdf\xe2\xa0\x80\xe2\xa0\x80\xe2\xa0\x80.exe", NULL, "application/octet-stream", "pe",
	    "name.double_extension attach.executable", "padded with blanks" },	/* U+2800 */
	{ "setup.x86.exe", NULL, "application/octet-stream", "pe", "attach.executable", NULL },
	{ "archive.tar.gz", NULL, "application/gzip", "gzip", "", NULL },
	{ "Report" RLO "gpj.scr", NULL, "application/octet-stream", "pe",
	    "name.bidi_control attach.executable", "U+202E" },
	{ "pay" ZWSP "ment.pdf", NULL, "application/pdf", "pdf", "name.invisible_char", "U+200B" },
	{ "photo.jpg", NULL, "image/jpeg", "pe", "attach.executable type.mismatch",
	    "bytes are pe" },
	{ "statement.pdf", NULL, "application/pdf", "zip", "type.mismatch", ".pdf declared" },
	{ "invoice.pdf", NULL, "application/pdf", "pdf", "", NULL },
	{ "invoice.pdf", NULL, "application/zip", "pdf", "type.mismatch",
	    "Content-Type application/zip" },
	{ "tool.exe", NULL, "application/pdf", "pe", "attach.executable type.mismatch",
	    "Content-Type application/pdf" },
	{ "tool.exe", NULL, "application/octet-stream", "zip", "attach.executable type.mismatch",
	    NULL },
	{ NULL, NULL, "application/pdf", "pe", "attach.executable type.mismatch",
	    "Content-Type application/pdf" },
	{ NULL, NULL, "application/octet-stream", "lnk", "attach.shortcut", NULL },
	{ "photo.jpg", "photo.js", "image/jpeg", "jpeg", "name.conflict attach.script",
	    "name 'photo.js'" },
	{ "Photo.JPG", "photo.jpg", "image/jpeg", "jpeg", "", NULL },	/* one file to Windows */
	{ NULL, "run.vbs", "text/plain", "text", "attach.script", NULL },
	{ "PATCH", "patch", "text/plain", "text", "", NULL },
	{ "x.lnk", NULL, "application/octet-stream", "lnk", "attach.shortcut", NULL },
	{ "x.url", NULL, "application/octet-stream", "url", "attach.internet_shortcut", NULL },
	{ "notes.txt", NULL, "text/plain", "lnk", "attach.shortcut", NULL },
	{ "Jumphost.RDP", NULL, "application/x-rdp", "text", "attach.shortcut", NULL },
	{ "Shared.searchConnector-ms", NULL, "application/octet-stream", "text", "attach.shortcut",
	    NULL },
	{ "Fix.diagcab", NULL, "application/vnd.ms-cab-compressed", "cab", "attach.shortcut", NULL },
	{ "x.iso", NULL, "application/octet-stream", "iso", "attach.disk_image", NULL },
	{ "x.iso", NULL, "application/x-iso9660-image", "udf", "attach.disk_image", NULL },
	{ "x.img", NULL, "application/octet-stream", "data", "attach.disk_image", NULL },
	{ "x.vhdx", NULL, "application/octet-stream", "vhdx", "attach.disk_image", NULL },
	{ "doc.one", NULL, "application/octet-stream", "onenote", "attach.onenote", NULL },
	{ "help.chm", NULL, "application/octet-stream", "chm", "attach.compiled_help", NULL },
	{ "run.js", NULL, "text/javascript", "text", "attach.script", NULL },
	{ "page.html", NULL, "text/html", "wsf", "attach.script", NULL },
	{ NULL, NULL, "text/plain", "text", "", NULL },
	{ ARABIC, NULL, "application/pdf", "pdf", "", NULL },
	{ HEBREW, NULL, "application/pdf", "pdf", "", NULL },
	{ CHINESE, NULL, "application/pdf", "pdf", "", NULL },
	{ "letter.docx", NULL, "application/octet-stream", "zip", "", NULL },
	{ "Rechnung.doc", NULL, "application/msword", "ole2", "", NULL },
};

START_TEST(test_part)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new_with_free_func(g_free);
	struct moat_part *p;
	const char *name = part_cases[_i].disp ? part_cases[_i].disp : part_cases[_i].type_name;
	g_auto(GStrv) want = g_strsplit(part_cases[_i].want, " ", -1);
	g_autoptr(GString) got = g_string_new(NULL);
	guint nwant = 0;
	gboolean hinted = FALSE;

	/* as mime_walk() names parts: the file name, or the position and type */
	g_ptr_array_add(path, g_strdup("Rechnung.eml"));
	g_ptr_array_add(path, name ? g_strdup(name) :
	    g_strdup_printf("(part 2, %s)", part_cases[_i].content_type));
	p = report_part_new(rep, path);
	g_ptr_array_unref(path);
	p->id = g_strdup("2");
	p->disp_filename = g_strdup(part_cases[_i].disp);
	p->type_name = g_strdup(part_cases[_i].type_name);
	p->filename = g_strdup(name);
	p->content_type = g_strdup(part_cases[_i].content_type);
	p->is_attachment = name != NULL;
	p->sniffed = part_cases[_i].sniffed;
	names_check_part(rep, p);

	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		g_string_append_printf(got, " %s", f->kind->id);
		ck_assert_str_eq(f->path_display, p->path_display);
		if (part_cases[_i].hint != NULL && strstr(f->evidence, part_cases[_i].hint) != NULL)
			hinted = TRUE;
	}
	for (int i = 0; want[i] != NULL; i++) {
		if (want[i][0] == '\0')
			continue;
		nwant++;
		ck_assert_msg(report_has_finding(rep, want[i]) != NULL, "case %d: no %s; got%s",
		    _i, want[i], got->str);
	}
	ck_assert_msg(rep->findings->len == nwant, "case %d: want '%s', got%s", _i,
	    part_cases[_i].want, got->str);
	ck_assert_msg(part_cases[_i].hint == NULL || hinted, "case %d: no evidence says '%s'",
	    _i, part_cases[_i].hint);
	report_free(rep);
}
END_TEST

/* The sniffed type from real bytes, as the walker sets it, gives the same findings. */
START_TEST(test_part_sniffed_bytes)
{
	static const unsigned char lnk[] =
	    "L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46\x9b\0\0\0";
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, "Invoice.pdf");
	p = report_part_new(rep, path);
	g_ptr_array_unref(path);
	p->disp_filename = g_strdup("Invoice.pdf");
	p->filename = g_strdup("Invoice.pdf");
	p->content_type = g_strdup("application/pdf");
	p->sniffed = sniff_type(lnk, sizeof(lnk) - 1, NULL);
	names_check_part(rep, p);
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.shortcut"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "type.mismatch"));
	ck_assert_uint_eq(rep->findings->len, 2);
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
	tcase_add_test(tc, test_part_sniffed_bytes);
	suite_add_tcase(s, tc);
	return s;
}
