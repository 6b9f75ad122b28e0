/*
 * check_lure.c - the lure detectors (scanners/lure/) as a mail admin sees them
 *
 * Three kinds of test. The fixture mails of tests/fixtures/lures.py, one
 * loop test per row of lures/MANIFEST-lures.tsv (read when the suite is
 * made, so a new row is tested here as in tests/cli/lures.sh): a lure
 * shows its ids and is held, a look-alike shows no lure.* id and is not.
 * Small containers written here byte by byte (stored zips with MS-DOS
 * attributes, an Internet shortcut, a shortcut) for one detector decision
 * each. And the [lure] config and the helpers of lure.h on their own.
 *
 * The scans need a libclamav engine for the container walk: it is loaded
 * once per test case from moat's bundled signatures (conf/signatures);
 * every other key keeps its built-in default, as lures.sh's empty config.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "helpers.h"
#include "moat/lnk.h"
#include "moat/lure.h"
#include "moat/moat.h"

#define LURES_DIR	BUILD_DIR "/fixtures/lures"	/* tests/fixtures/build.sh, run by make unit */
#define MANIFEST	LURES_DIR "/MANIFEST-lures.tsv"
#define NBSP		"\xc2\xa0"			/* U+00A0 */
#define IDEO_SPACE	"\xe3\x80\x80"			/* U+3000 */
#define DOS_DIR		0x10
#define DOS_HIDDEN	0x02
#define DOS_SYSTEM	0x04

static struct moat_conf *conf;	/* the defaults, [av] on moat's own signatures */

/* The manifest's rows, read by lure_suite() before Check forks. */
struct row {
	char *mail, *kind, *ids;
};
static GPtrArray *rows;

/* lure_setup - an engine from conf/signatures; CONF otherwise the built-in defaults */
static void
lure_setup(void)
{
	conf = t_av_conf();
}

static void
lure_teardown(void)
{
	t_av_release(&conf);
}

/* Fixture mails: lures/MANIFEST-lures.tsv --------------------------------------- */

/* rows_read - the manifest's rows; an empty list when it is missing (the test says so) */
static GPtrArray *
rows_read(void)
{
	GPtrArray *r = g_ptr_array_new();
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(MANIFEST, &text, NULL, NULL))
		return r;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", 3);
		struct row *row;

		if (lines[i][0] == '#' || lines[i][0] == '\0' || g_strv_length(f) != 3)
			continue;
		row = g_new0(struct row, 1);
		row->mail = g_strdup(f[0]);
		row->kind = g_strdup(f[1]);
		row->ids = g_strdup(g_strstrip(f[2]));
		g_ptr_array_add(r, row);
	}
	return r;
}

START_TEST(test_manifest_present)
{
	ck_assert_msg(g_file_test(MANIFEST, G_FILE_TEST_IS_REGULAR),
	    "%s missing: run tests/fixtures/build.sh %s/fixtures", MANIFEST, BUILD_DIR);
	ck_assert_uint_ge(rows->len, 22);
}
END_TEST

/* Each row: a lure shows every listed id and is held; a look-alike shows no lure.* and is not. */
START_TEST(test_manifest_row)
{
	const struct row *row = rows->pdata[_i];
	g_autofree char *path = g_build_filename(LURES_DIR, row->mail, NULL);
	struct moat_report *rep = t_scan_file(path, conf);
	g_autofree char *got = t_ids_of(rep);
	const char *action = report_action_name(rep->verdict.action);

	if (strcmp(row->kind, "lure") == 0) {
		g_auto(GStrv) want = g_strsplit(row->ids, ",", -1);
		g_autoptr(GString) missing = g_string_new(NULL);

		for (guint i = 0; strcmp(row->ids, "-") != 0 && want[i] != NULL; i++) {
			g_auto(GStrv) at = g_strsplit(want[i], "@", 2);

			if (*at[0] != '\0' && t_finding_at(rep, at[0], at[1]) == NULL)
				g_string_append_printf(missing, " %s", want[i]);
		}
		ck_assert_msg(missing->len == 0 && t_held(rep), "%s: missing:%s; %s (score %d; a lure is "
		    "quarantined or rejected); found:%s", row->mail, missing->len ? missing->str : " none",
		    action, rep->verdict.score, got);
	} else {
		ck_assert_msg(strcmp(row->kind, "benign") == 0, "%s: kind '%s' is neither lure nor benign",
		    row->mail, row->kind);
		for (guint i = 0; i < rep->findings->len; i++) {
			const struct moat_finding *f = rep->findings->pdata[i];

			ck_assert_msg(!g_str_has_prefix(f->id, "lure."), "%s: unexpected %s at %s: %s",
			    row->mail, f->id, f->path_display, f->evidence);
		}
		ck_assert_msg(rep->verdict.action == MOAT_ACCEPT || rep->verdict.action == MOAT_TAG,
		    "%s: %s (score %d), want accept or tag; found:%s", row->mail, action,
		    rep->verdict.score, got);
	}
	report_free(rep);
}
END_TEST

/* evidence_names - finding ID of REP, whose evidence must hold each of the NULL-ended texts */
static void
evidence_names(const struct moat_report *rep, const char *id, ...)
{
	const struct moat_finding *f = t_finding(rep, id);
	const char *text;
	va_list ap;

	va_start(ap, id);
	while ((text = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(f->evidence, text) != NULL, "%s: no \"%s\" in: %s", id, text,
		    f->evidence);
	va_end(ap);
}

/* What the quarantine view shows about Mustang Panda's zip: each piece of the bundle named. */
START_TEST(test_mustang_evidence)
{
	struct moat_report *rep = t_scan_file(LURES_DIR "/mail-mustang.zip.eml", conf);

	evidence_names(rep, "lure.sideload", "putty.exe", "wsc.dll", "opaque wsc_proxy.dat",
	    "hidden folder '_'", NULL);
	evidence_names(rep, "lure.lnk_padding", "300 blanks", NULL);
	evidence_names(rep, "lure.decoy_folder", "folder '_'", "Meeting Minutes.pdf.lnk", NULL);
	ck_assert_ptr_nonnull(t_finding_at(rep, "lure.sideload", "putty.exe"));
	report_free(rep);
}
END_TEST

/* Containers built here ------------------------------------------------------------ */

/* A stored zip as Windows' Explorer writes it: "made by" MS-DOS, DOS attributes. */
struct zipw {
	GByteArray *out;	/* local headers and data */
	GByteArray *cd;		/* the central directory, appended at zipw_end() */
	guint16 n;
};

static void
le16(GByteArray *b, guint16 v)
{
	guint8 p[2] = { v & 0xff, v >> 8 };

	g_byte_array_append(b, p, 2);
}

static void
le32(GByteArray *b, guint32 v)
{
	le16(b, v & 0xffff);
	le16(b, v >> 16);
}

static guint32
crc32_of(const guint8 *p, gsize len)
{
	guint32 c = 0xffffffffu;

	for (gsize i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void
zipw_init(struct zipw *z)
{
	z->out = g_byte_array_new();
	z->cd = g_byte_array_new();
	z->n = 0;
}

/* zipw_add - member NAME (UTF-8; a trailing '/' for a folder) of LEN bytes, DOS attributes ATTR */
static void
zipw_add(struct zipw *z, const char *name, const void *data, gsize len, guint8 attr)
{
	guint32 crc = crc32_of(data, len), at = z->out->len;
	guint16 nlen = (guint16)strlen(name);
	GByteArray *b[2] = { z->out, z->cd };

	for (int i = 0; i < 2; i++) {
		le32(b[i], i == 0 ? 0x04034b50 : 0x02014b50);
		if (i == 1)
			le16(b[i], 20);		/* made by: MS-DOS (0), 2.0 */
		le16(b[i], 20);			/* needed */
		le16(b[i], 0x0800);		/* names in UTF-8 */
		le16(b[i], 0);			/* stored */
		le16(b[i], 0x4800);		/* 09:00:00 */
		le16(b[i], (46 << 9) | (11 << 5) | 2);	/* 2026-11-02 */
		le32(b[i], crc);
		le32(b[i], (guint32)len);
		le32(b[i], (guint32)len);
		le16(b[i], nlen);
		le16(b[i], 0);			/* extra */
		if (i == 1) {
			le16(b[i], 0);		/* comment */
			le16(b[i], 0);		/* disk */
			le16(b[i], 0);		/* internal attributes */
			le32(b[i], attr);
			le32(b[i], at);
		}
		g_byte_array_append(b[i], (const guint8 *)name, nlen);
	}
	g_byte_array_append(z->out, data, (guint)len);
	z->n++;
}

/* zipw_end - the finished zip (caller g_byte_array_unref()s); Z is spent */
static GByteArray *
zipw_end(struct zipw *z)
{
	guint32 at = z->out->len;

	g_byte_array_append(z->out, z->cd->data, z->cd->len);
	le32(z->out, 0x06054b50);
	le16(z->out, 0);
	le16(z->out, 0);
	le16(z->out, z->n);
	le16(z->out, z->n);
	le32(z->out, z->cd->len);
	le32(z->out, at);
	le16(z->out, 0);
	g_byte_array_unref(z->cd);
	return z->out;
}

/* Member contents: enough bytes for libclamav (it skips files of 5 bytes or less). */
static const char pdf_bytes[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    "trailer << /Root 1 0 R >>\n%%EOF\n";
static const char exe_bytes[] = "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0 not really a program";
static const char txt_bytes[] = "Minutes of the board meeting, 2 November 2026.\n";
static const char js_bytes[] = "var s = new ActiveXObject(\"WScript.Shell\");\ns.Run(\"calc.exe\");\n";

/* scan_attached - a mail with LEN bytes at DATA attached as NAME, scanned under C */
static struct moat_report *
scan_attached(const char *name, const void *data, gsize len, const struct moat_conf *c)
{
	g_autofree char *b64 = g_base64_encode(data, len);
	g_autoptr(GString) m = g_string_new(NULL);

	g_string_append_printf(m, "From: a@example.net\nTo: b@example.org\nSubject: %s\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\nsee attached\n"
	    "--b\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n", name, name);
	for (gsize i = 0, n = strlen(b64); i < n; i += 76)
		g_string_append_printf(m, "%.76s\n", b64 + i);
	g_string_append(m, "--b--\n");
	return t_scan_text(m->str, c);
}

/* decoy_zip_attr - a top-level PDF beside folder FOLDER (DOS attributes ATTR) holding a.exe */
static GByteArray *
decoy_zip_attr(const char *folder, guint8 attr)
{
	g_autofree char *dir = g_strdup_printf("%s/", folder);
	g_autofree char *exe = g_strdup_printf("%s/a.exe", folder);
	struct zipw z;

	zipw_init(&z);
	zipw_add(&z, "Agenda.pdf", pdf_bytes, sizeof(pdf_bytes) - 1, 0x20);
	zipw_add(&z, dir, "", 0, attr);
	zipw_add(&z, exe, exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	return zipw_end(&z);
}

static GByteArray *
decoy_zip(const char *folder)
{
	return decoy_zip_attr(folder, DOS_DIR);
}

/*
 * A folder named with one non-breaking space, which the user does not see,
 * is a decoy folder; the evidence spells its name by code point.
 */
START_TEST(test_decoy_nbsp_folder)
{
	g_autoptr(GByteArray) zip = decoy_zip(NBSP);
	struct moat_report *rep = scan_attached("Agenda.zip", zip->data, zip->len, conf);

	t_member(rep, "Agenda.zip › " NBSP "/a.exe");
	evidence_names(rep, "lure.decoy_folder", "Agenda.pdf", "folder '<U+00A0>'", "a.exe", NULL);
	report_free(rep);
}
END_TEST

/* An installer beside its read-me in "setup" is an ordinary zip. */
START_TEST(test_decoy_plain_folder)
{
	g_autoptr(GByteArray) zip = decoy_zip("setup");
	struct moat_report *rep = scan_attached("Agenda.zip", zip->data, zip->len, conf);
	g_autofree char *got = t_ids_of(rep);

	t_member(rep, "Agenda.zip › setup/a.exe");
	ck_assert_msg(report_has_finding(rep, "lure.decoy_folder") == NULL, "found:%s", got);
	report_free(rep);
}
END_TEST

/* The same "setup" marked hidden in the zip's listing is a decoy again. */
START_TEST(test_decoy_hidden_folder)
{
	g_autoptr(GByteArray) zip = decoy_zip_attr("setup", DOS_DIR | DOS_HIDDEN);
	struct moat_report *rep = scan_attached("Agenda.zip", zip->data, zip->len, conf);

	evidence_names(rep, "lure.decoy_folder", "hidden folder 'setup'", "a.exe", NULL);
	report_free(rep);
}
END_TEST

/* A manifest dropped into the zip must not make it pass for an ODF document and hide the decoy. */
START_TEST(test_decoy_manifest_trick)
{
	struct zipw z;
	g_autoptr(GByteArray) zip = NULL;
	struct moat_report *rep;

	zipw_init(&z);
	zipw_add(&z, "Agenda.pdf", pdf_bytes, sizeof(pdf_bytes) - 1, 0x20);
	zipw_add(&z, "META-INF/manifest.xml", "<m/>", 4, 0x20);
	zipw_add(&z, "_/", "", 0, DOS_DIR);
	zipw_add(&z, "_/a.exe", exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	zip = zipw_end(&z);
	rep = scan_attached("Agenda.zip", zip->data, zip->len, conf);
	evidence_names(rep, "lure.decoy_folder", "folder '_'", "a.exe", NULL);
	report_free(rep);
}
END_TEST

/* A hidden folder named in a DOS code page (CP866 "Файлы", no UTF-8 flag) is still seen hidden. */
START_TEST(test_decoy_codepage_folder)
{
	g_autoptr(GByteArray) zip = decoy_zip_attr("\x94\xa0\xa9\xab\xeb", DOS_DIR | DOS_HIDDEN);
	struct moat_report *rep = scan_attached("Agenda.zip", zip->data, zip->len, conf);

	evidence_names(rep, "lure.decoy_folder", "hidden folder", "a.exe", NULL);
	report_free(rep);
}
END_TEST

/* A zipped volume with a program in its recycle bin is no decoy layout. */
START_TEST(test_decoy_recycle_bin)
{
	g_autoptr(GByteArray) zip = decoy_zip_attr("$RECYCLE.BIN", DOS_DIR | DOS_HIDDEN | DOS_SYSTEM);
	struct moat_report *rep = scan_attached("Backup.zip", zip->data, zip->len, conf);
	g_autofree char *got = t_ids_of(rep);

	ck_assert_msg(report_has_finding(rep, "lure.decoy_folder") == NULL, "found:%s", got);
	report_free(rep);
}
END_TEST

/*
 * A host that does not import the DLL beside it (delay-loaded) is a
 * side-loading bundle only when [lure] sideload_pairs knows the pair.
 */
START_TEST(test_sideload_known_pair)
{
	struct zipw z;
	g_autoptr(GByteArray) zip = NULL;
	g_autofree char *dir = g_dir_make_tmp("moat-lure-XXXXXX", NULL);
	g_autofree char *pairs = g_build_filename(dir, "pairs", NULL);
	struct moat_conf *c;
	struct moat_report *rep;
	g_autofree char *got = NULL;

	zipw_init(&z);
	zipw_add(&z, "Invitation.exe", exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	zipw_add(&z, "libcef.dll", exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	zip = zipw_end(&z);
	c = t_conf_loadf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[lure]\nsideload_pairs =\n", SAMPLES_DIR);	/* none, whatever is installed */
	rep = scan_attached("Invitation.zip", zip->data, zip->len, c);
	got = t_ids_of(rep);
	ck_assert_msg(report_has_finding(rep, "lure.sideload") == NULL, "no pairs; found:%s", got);
	report_free(rep);
	conf_free(c);
	ck_assert(g_file_set_contents(pairs, "invitation.exe LIBCEF.DLL\n", -1, NULL));
	c = t_conf_loadf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[lure]\nsideload_pairs = %s\n", SAMPLES_DIR, pairs);
	rep = scan_attached("Invitation.zip", zip->data, zip->len, c);
	evidence_names(rep, "lure.sideload", "Invitation.exe loads libcef.dll", "a known side-loading pair",
	    NULL);
	report_free(rep);
	conf_free(c);
	unlink(pairs);
	rmdir(dir);
}
END_TEST

/* nested_zip - outer.zip › inner.zip › NAME (LEN bytes at DATA) */
static GByteArray *
nested_zip(const char *name, const char *data, gsize len)
{
	struct zipw in, out;
	g_autoptr(GByteArray) inner = NULL;

	zipw_init(&in);
	zipw_add(&in, name, data, len, 0x20);
	inner = zipw_end(&in);
	zipw_init(&out);
	zipw_add(&out, "inner.zip", inner->data, inner->len, 0x20);
	return zipw_end(&out);
}

/* A zip of a zip of a text file is what people send every day. */
START_TEST(test_nested_text)
{
	g_autoptr(GByteArray) zip = nested_zip("minutes.txt", txt_bytes, sizeof(txt_bytes) - 1);
	struct moat_report *rep = scan_attached("outer.zip", zip->data, zip->len, conf);
	g_autofree char *got = t_ids_of(rep);

	t_member(rep, "outer.zip › inner.zip › minutes.txt");
	ck_assert_msg(report_has_finding(rep, "lure.nested_archive") == NULL, "found:%s", got);
	report_free(rep);
}
END_TEST

/* The same with a script at the bottom is a matryoshka: reported at the inner zip. */
START_TEST(test_nested_script)
{
	g_autoptr(GByteArray) zip = nested_zip("update.js", js_bytes, sizeof(js_bytes) - 1);
	struct moat_report *rep = scan_attached("outer.zip", zip->data, zip->len, conf);

	t_member(rep, "outer.zip › inner.zip › update.js");
	ck_assert_str_eq(t_finding(rep, "lure.nested_archive")->path_display, "outer.zip › inner.zip");
	evidence_names(rep, "lure.nested_archive", "update.js", NULL);
	report_free(rep);
}
END_TEST

/* An Internet shortcut to a web page is noted, not held. */
START_TEST(test_url_https)
{
	static const char url[] = "[InternetShortcut]\r\nURL=https://www.example.org/agenda\r\n";
	struct moat_report *rep = scan_attached("Agenda.url", url, sizeof(url) - 1, conf);
	g_autofree char *got = t_ids_of(rep);

	ck_assert_msg(rep->findings->len == 1, "want attach.internet_shortcut only; found:%s", got);
	t_finding(rep, "attach.internet_shortcut");
	ck_assert_msg(!t_held(rep), "%s (score %d)", report_action_name(rep->verdict.action),
	    rep->verdict.score);
	report_free(rep);
}
END_TEST

/* One to a local program (file:///C:/x.exe) runs it: lure.url_file. */
START_TEST(test_url_file)
{
	static const char url[] = "[InternetShortcut]\r\nURL=file:///C:/x.exe\r\n";
	struct moat_report *rep = scan_attached("Agenda.url", url, sizeof(url) - 1, conf);

	evidence_names(rep, "lure.url_file", "file:///C:/x.exe", NULL);
	report_free(rep);
}
END_TEST

/* HTML smuggling (smuggle.c) ------------------------------------------------------ */

/* What the quarantine view says about each smuggling fixture: how it is built, what, how saved. */
static const struct {
	const char *mail, *texts[3];
} smuggle_evidence[] = {
	{ "mail-smuggle-mssave.html.eml", { "atob()", "→ zip", "msSaveOrOpenBlob" } },
	{ "mail-smuggle-objurl.html.eml", { "Blob from atob()", "→ iso", "createObjectURL" } },
	{ "mail-smuggle-charcode.html.eml", { "fromCharCode", "char codes", "→ hta" } },
	{ "mail-smuggle-dataurl.html.eml", { "data:application/zip", "→ zip", "download" } },
	{ "mail-smuggle-html.zip.eml", { "atob()", "→ zip", "msSaveOrOpenBlob" } },
	{ "mail-smuggle.svg.eml", { "Blob", "→ zip", "a.download and click()" } },
};

START_TEST(test_smuggle_evidence)
{
	g_autofree char *path = g_build_filename(LURES_DIR, smuggle_evidence[_i].mail, NULL);
	struct moat_report *rep = t_scan_file(path, conf);
	const char *const *t = smuggle_evidence[_i].texts;

	evidence_names(rep, "lure.html_smuggling", t[0], t[1], t[2], NULL);
	ck_assert_ptr_null(report_has_finding(rep, "lure.html_script_payload"));
	report_free(rep);
}
END_TEST

/* smuggle_page - a report of one HTML part NAME holding PAGE (taken), for the detector alone */
static struct moat_report *
smuggle_page(const char *name, GBytes *page)
{
	struct moat_report *rep = report_new();
	g_autoptr(GPtrArray) path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, (char *)name);
	p = report_part_new(rep, path);
	p->filename = g_strdup(name);
	p->content_type = g_strdup("text/html");
	p->content = page;
	return rep;
}

/* smuggle_b64_page - a page whose script holds BYTES as base64 and then SCRIPT */
static GBytes *
smuggle_b64_page(const void *bytes, gsize len, const char *script)
{
	g_autofree char *b64 = g_base64_encode(bytes, len);
	char *page = g_strdup_printf("<html><body><script>\nvar f = \"%s\";\n%s</script></body></html>\n",
	    b64, script);

	return g_bytes_new_take(page, strlen(page));
}

/* A payload decoded in script with no save is the weaker finding; a picture is neither. */
START_TEST(test_smuggle_script_payload)
{
	GByteArray *zip, *png = g_byte_array_new();
	struct zipw z;
	struct moat_report *rep;
	static const guint8 magic[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	zipw_init(&z);
	for (int i = 0; i < 40; i++) {
		g_autofree char *name = g_strdup_printf("_/part%02d.exe", i);

		zipw_add(&z, name, exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	}
	zip = zipw_end(&z);
	rep = smuggle_page("a.html", smuggle_b64_page(zip->data, zip->len, "var d = atob(f);\n"));
	lure_smuggle_check(rep, conf);
	evidence_names(rep, "lure.html_script_payload", "atob()", "→ zip", "in script", NULL);
	ck_assert_ptr_null(report_has_finding(rep, "lure.html_smuggling"));
	report_free(rep);

	g_byte_array_append(png, magic, sizeof(magic));
	for (guint i = 0; i < 8192; i++)
		g_byte_array_append(png, (const guint8 *)&i, 1);
	rep = smuggle_page("b.html", smuggle_b64_page(png->data, png->len,
	    "var img = new Blob([atob(f)]); var u = URL.createObjectURL(img);\n"));
	lure_smuggle_check(rep, conf);
	ck_assert_msg(rep->findings->len == 0, "a picture shown from script: %s",
	    rep->findings->len ? ((struct moat_finding *)rep->findings->pdata[0])->id : "");
	report_free(rep);
	g_byte_array_unref(zip);
	g_byte_array_unref(png);
}
END_TEST

/*
 * smuggle_pieces_page - a page whose script holds BYTES as base64 cut into
 * literals of PIECE characters: "..." + "..." (ARRAY FALSE) or ['...',
 * '...'].join('') (TRUE), then SCRIPT
 */
static GBytes *
smuggle_pieces_page(const void *bytes, gsize len, gsize piece, gboolean array, const char *script)
{
	g_autofree char *b64 = g_base64_encode(bytes, len);
	GString *page = g_string_new("<html><body><script>\nvar f = ");
	gsize n = strlen(b64), total;

	g_string_append(page, array ? "['" : "\"");
	for (gsize i = 0; i < n; i += piece) {
		if (i > 0)
			g_string_append(page, array ? "',\n'" : "\"\n  + \"");
		g_string_append_len(page, b64 + i, (gssize)MIN(piece, n - i));
	}
	g_string_append(page, array ? "'].join('');\n" : "\";\n");
	g_string_append(page, script);
	g_string_append(page, "</script></body></html>\n");
	total = page->len;
	return g_bytes_new_take(g_string_free(page, FALSE), total);
}

/* smuggle_one_zip - a zip of N copies of the test program (caller g_byte_array_unref()s) */
static GByteArray *
smuggle_one_zip(int n)
{
	struct zipw z;

	zipw_init(&z);
	for (int i = 0; i < n; i++) {
		g_autofree char *name = g_strdup_printf("Invoice_%02d.pdf.exe", i);

		zipw_add(&z, name, exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	}
	return zipw_end(&z);
}

static const char smuggle_save[] = "var b = new Blob([Uint8Array.from(atob(f), c => c.charCodeAt(0))]);\n"
    "var a = document.createElement('a'); a.href = URL.createObjectURL(b);\n"
    "a.download = 'Invoice.zip'; a.click();\n";

/*
 * Base64 cut into literals shorter than a line, joined with '+' or by an
 * array's join(''): read as one payload, from its first piece, so the
 * zip is seen as a zip; a small zip in script counts too.
 */
START_TEST(test_smuggle_pieces)
{
	static const struct {
		gsize piece;
		gboolean array;
		int members;
	} cases[] = { { 48, FALSE, 8 }, { 60, TRUE, 8 }, { 16, FALSE, 4 }, { 76, TRUE, 8 },
	    { 48, FALSE, 1 } };

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		GByteArray *zip = smuggle_one_zip(cases[i].members);
		struct moat_report *rep = smuggle_page("a.html", smuggle_pieces_page(zip->data,
		    zip->len, cases[i].piece, cases[i].array, smuggle_save));

		lure_smuggle_check(rep, conf);
		ck_assert_msg(report_has_finding(rep, "lure.html_smuggling") != NULL, "pieces of %zu, "
		    "%s, %d members: not seen", cases[i].piece, cases[i].array ? "array" : "'+'",
		    cases[i].members);
		evidence_names(rep, "lure.html_smuggling", "atob()", "→ zip", "createObjectURL", NULL);
		report_free(rep);
		g_byte_array_unref(zip);
	}
}
END_TEST

/*
 * A zip under a one-byte key (XOR 0x5A, or +7 on each byte), undone by the
 * page after atob(): seen as an encoded zip, and held
 */
START_TEST(test_smuggle_keyed)
{
	for (int add = 0; add < 2; add++) {
		GByteArray *zip = smuggle_one_zip(8);
		struct moat_report *rep;

		for (guint i = 0; i < zip->len; i++)
			zip->data[i] = add ? (guint8)(zip->data[i] + 7) : (guint8)(zip->data[i] ^ 0x5a);
		rep = smuggle_page("a.html", smuggle_b64_page(zip->data, zip->len,
		    "var s = atob(f), u = new Uint8Array(s.length);\n"
		    "for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) ^ 90;\n"
		    "var a = document.createElement('a'); a.href = URL.createObjectURL(new Blob([u]));\n"
		    "a.download = 'Invoice.zip'; a.click();\n"));
		lure_smuggle_check(rep, conf);
		evidence_names(rep, "lure.html_smuggling", "atob()", "→ encoded zip", "createObjectURL",
		    NULL);
		report_free(rep);
		g_byte_array_unref(zip);
	}
}
END_TEST

/* An SVG whose script element has the svg: prefix is read as a script too */
START_TEST(test_smuggle_prefixed_script)
{
	GByteArray *zip = smuggle_one_zip(8);
	g_autofree char *b64 = g_base64_encode(zip->data, zip->len);
	char *svg = g_strdup_printf("<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"><svg:script>"
	    "<![CDATA[var f = \"%s\";\n%s]]></svg:script></svg:svg>", b64, smuggle_save);
	struct moat_report *rep = smuggle_page("Scan.svg", g_bytes_new_take(svg, strlen(svg)));

	lure_smuggle_check(rep, conf);
	evidence_names(rep, "lure.html_smuggling", "atob()", "→ zip", NULL);
	report_free(rep);
	g_byte_array_unref(zip);
}
END_TEST

/* smuggle_escaped - every byte of S as %XX, as obfuscators write a page for unescape(); caller frees */
static char *
smuggle_escaped(const char *s)
{
	GString *esc = g_string_new(NULL);

	for (const char *c = s; *c != '\0'; c++)
		g_string_append_printf(esc, "%%%02X", (guint8)*c);
	return g_string_free(esc, FALSE);
}

/*
 * A page that writes out another with document.write(unescape(...)): the
 * written page is walked as a member of the first, and its own smuggled
 * zip is found there, with the shortcut inside it
 */
START_TEST(test_smuggle_written_page)
{
	GByteArray *zip = smuggle_one_zip(8);
	g_autofree char *b64 = g_base64_encode(zip->data, zip->len);
	g_autofree char *inner = g_strdup_printf("<html><body><script>var f = \"%s\";\n%s</script>"
	    "</body></html>", b64, smuggle_save);
	g_autofree char *escaped = smuggle_escaped(inner);
	g_autofree char *outer = g_strdup_printf("<html><body><script>document.write(unescape('%s'));"
	    "</script></body></html>", escaped);
	g_autofree char *part = g_base64_encode((const guchar *)outer, strlen(outer));
	g_autofree char *msg = g_strdup_printf("From: a@example.net\r\nTo: b@example.org\r\n"
	    "Subject: Invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nSee the invoice.\r\n--b\r\nContent-Type: text/html; "
	    "name=Invoice.html\r\nContent-Disposition: attachment; filename=Invoice.html\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n", part);
	struct moat_report *rep = t_scan_text(msg, conf);
	const struct moat_finding *f = t_finding_at(rep, "lure.html_smuggling", "smuggled.html");

	ck_assert_msg(f != NULL, "no lure.html_smuggling on the written page: %s", t_ids_of(rep));
	ck_assert_ptr_nonnull(t_finding_at(rep, "attach.executable", "Invoice_00.pdf.exe"));
	ck_assert(t_held(rep));
	report_free(rep);
	g_byte_array_unref(zip);
}
END_TEST

/*
 * More payloads than are sniffed (SMUGGLE_SNIFFS_MAX): the best one may
 * have no type; with atob() and no save it is a payload in script, and
 * nothing reads the missing type (fuzz_derive found a strcmp() of it)
 */
START_TEST(test_smuggle_unsniffed)
{
	GString *page = g_string_new("<html><script>\n");
	struct moat_report *rep;
	guint32 x = 88172645u;

	for (int k = 0; k < 24; k++) {
		GByteArray *noise = g_byte_array_new();
		g_autofree char *b64 = NULL;

		/* each larger than the one before: the last, unsniffed, is the best */
		for (guint i = 0; i < 6000u + 100u * (guint)k; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			g_byte_array_append(noise, (const guint8 *)&x, 1);
		}
		b64 = g_base64_encode(noise->data, noise->len);
		g_string_append_printf(page, "var p%d = \"%s\";\n", k, b64);
		g_byte_array_unref(noise);
	}
	g_string_append(page, "var d = atob(p0);\n</script></html>\n");
	rep = smuggle_page("many.html", g_bytes_new_take(page->str, page->len));
	g_string_free(page, FALSE);
	lure_smuggle_check(rep, conf);
	ck_assert_ptr_null(report_has_finding(rep, "lure.html_smuggling"));
	report_free(rep);
}
END_TEST

/*
 * Bytes of no known type that a page saves (an encrypted-mail envelope's
 * ciphertext, a chart's data) only tag; an Office file a report offers as
 * a download is no lure by itself; short words in arrays are code.
 */
START_TEST(test_smuggle_not_files)
{
	GByteArray *noise = g_byte_array_new(), *xlsx;
	struct zipw z;
	struct moat_report *rep;
	GString *words = g_string_new("<html><script>var w = [");
	guint32 x = 2463534242u;

	for (guint i = 0; i < 48 * 1024; i++) {	/* xorshift: no magic, no text */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		g_byte_array_append(noise, (const guint8 *)&x, 1);
	}
	rep = smuggle_page("securedoc.html", smuggle_b64_page(noise->data, noise->len,
	    "var b = new Blob([atob(f)]); navigator.msSaveOrOpenBlob(b, 'message.bin');\n"));
	lure_smuggle_check(rep, conf);
	evidence_names(rep, "lure.html_script_payload", "→ data", "msSaveOrOpenBlob", "no known file type",
	    NULL);
	ck_assert_ptr_null(report_has_finding(rep, "lure.html_smuggling"));
	report_free(rep);

	zipw_init(&z);
	zipw_add(&z, "[Content_Types].xml", "<Types/>", 8, 0x20);
	for (int i = 0; i < 12; i++) {
		g_autofree char *name = g_strdup_printf("xl/worksheets/sheet%d.xml", i);

		zipw_add(&z, name, exe_bytes, sizeof(exe_bytes) - 1, 0x20);
	}
	xlsx = zipw_end(&z);
	{
		g_autofree char *b64 = g_base64_encode(xlsx->data, xlsx->len);
		char *page = g_strdup_printf("<html><body><a download=\"sales.xlsx\" "
		    "href=\"data:application/octet-stream;base64,%s\">Download as Excel</a></body>"
		    "</html>", b64);

		rep = smuggle_page("sales.html", g_bytes_new_take(page, strlen(page)));
	}
	lure_smuggle_check(rep, conf);
	ck_assert_msg(rep->findings->len == 0, "an Excel download: %s",
	    ((struct moat_finding *)rep->findings->pdata[0])->id);
	report_free(rep);

	for (guint i = 0; i < 400; i++)
		g_string_append_printf(words, "%s'labelForTheColumnNumber%u'", i ? ", " : "", i);
	g_string_append(words, "]; var u = URL.createObjectURL(new Blob([w.join(',')]));"
	    "var a = document.createElement('a'); a.download = 'columns.csv'; a.href = u; a.click();"
	    "</script></html>");
	rep = smuggle_page("table.html", g_bytes_new_take(words->str, words->len));
	g_string_free(words, FALSE);
	lure_smuggle_check(rep, conf);
	ck_assert_ptr_null(report_has_finding(rep, "lure.html_smuggling"));
	report_free(rep);
	g_byte_array_unref(noise);
	g_byte_array_unref(xlsx);
}
END_TEST

/* Hostile pages of 8 MB (base64, char codes, broken escapes, "<" floods): linear and quick. */
START_TEST(test_smuggle_hostile)
{
	static const char *const fills[] = { "A", "1,", "%4", "\\x", "<", "AAAA\",\"", "0x" };
	const gsize size = 8u << 20;

	for (gsize f = 0; f < G_N_ELEMENTS(fills); f++) {
		GString *page = g_string_sized_new(size + 256);
		gsize start, n = strlen(fills[f]);
		struct moat_report *rep;
		gint64 t0;

		g_string_append(page, "<html><script>var f = \"");
		start = page->len;
		g_string_append_len(page, fills[f], (gssize)n);
		while (page->len < size)	/* doubling: quick under a sanitizer too */
			g_string_append_len(page, page->str + start,
			    (gssize)MIN(page->len - start, size + 64 - page->len));	/* no realloc */
		g_string_append(page, "\"; var b = new Blob([atob(f)]); navigator.msSaveOrOpenBlob(b, "
		    "'a.zip');</script></html>");
		rep = smuggle_page("big.html", g_bytes_new_take(page->str, page->len));
		g_string_free(page, FALSE);
		t0 = g_get_monotonic_time();
		lure_smuggle_check(rep, conf);
		ck_assert_msg(g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC, "fill '%s': %.1f s",
		    fills[f], (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
		report_free(rep);
	}
}
END_TEST

static void
utf16(GByteArray *b, const char *s, guint blanks)
{
	glong n = 0;
	gunichar2 *w = g_utf8_to_utf16(s, -1, NULL, &n, NULL);

	le16(b, (guint16)(blanks + n));
	for (guint i = 0; i < blanks; i++)
		le16(b, ' ');
	for (glong i = 0; i < n; i++)
		le16(b, w[i]);
	g_free(w);
}

/* lnk_padded - a Unicode shortcut to cmd.exe whose arguments follow BLANKS blanks (MS-SHLLINK 2.1, 2.4) */
static GByteArray *
lnk_padded(guint blanks)
{
	static const guint8 clsid[16] = { 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46 };
	static const guint8 zero[24] = { 0 };
	GByteArray *b = g_byte_array_new();

	le32(b, 0x4C);
	g_byte_array_append(b, clsid, 16);
	le32(b, LNK_HAS_RELATIVE_PATH | LNK_HAS_ARGUMENTS | LNK_IS_UNICODE);
	le32(b, 0x20);			/* FILE_ATTRIBUTE_ARCHIVE */
	g_byte_array_append(b, zero, 24);	/* three FILETIMEs */
	le32(b, 289792);		/* FileSize */
	le32(b, 0);			/* IconIndex */
	le32(b, 7);			/* SW_SHOWMINNOACTIVE */
	le16(b, 0);			/* HotKey */
	g_byte_array_append(b, zero, 10);	/* reserved */
	utf16(b, "..\\..\\Windows\\System32\\cmd.exe", 0);
	utf16(b, "/c start notes.txt", blanks);
	le32(b, 0);			/* TerminalBlock */
	return b;
}

/* 20 blanks: hidden under the default (16), not under [lure] lnk_blanks = 32. */
START_TEST(test_lnk_blanks_threshold)
{
	g_autoptr(GByteArray) lnk = lnk_padded(20);
	struct moat_conf *c32 = t_conf_loadf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[lure]\nlnk_blanks = 32\n", SAMPLES_DIR);
	struct moat_report *rep;
	g_autofree char *got = NULL;

	ck_assert_uint_eq(conf->lure.lnk_blanks, 16);
	ck_assert_uint_eq(c32->lure.lnk_blanks, 32);
	rep = scan_attached("notes.lnk", lnk->data, lnk->len, c32);
	got = t_ids_of(rep);
	t_finding(rep, "lure.lnk_interpreter");		/* the shortcut was read */
	ck_assert_msg(report_has_finding(rep, "lure.lnk_padding") == NULL, "lnk_blanks 32; found:%s", got);
	report_free(rep);
	rep = scan_attached("notes.lnk", lnk->data, lnk->len, conf);
	evidence_names(rep, "lure.lnk_padding", "20 blanks", "/c start notes.txt", NULL);
	report_free(rep);
	conf_free(c32);
}
END_TEST

/*
 * A shortcut that names cmd.exe only in its EnvironmentVariableDataBlock
 * ("%windir%\system32\cmd.exe"), no LinkInfo, no relative path: the
 * interpreter is still seen.
 */
START_TEST(test_lnk_env_target)
{
	static const guint8 clsid[16] = { 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46 };
	static const guint8 zero[24] = { 0 };
	const char *target = "%windir%\\system32\\cmd.exe";
	g_autoptr(GByteArray) b = g_byte_array_new();
	guint8 block[0x314 - 8] = { 0 };
	struct moat_report *rep;

	le32(b, 0x4C);
	g_byte_array_append(b, clsid, 16);
	le32(b, LNK_HAS_ARGUMENTS | LNK_IS_UNICODE | 0x200);	/* HasExpString */
	le32(b, 0x20);
	g_byte_array_append(b, zero, 24);
	le32(b, 0);
	le32(b, 0);
	le32(b, 7);
	le16(b, 0);
	g_byte_array_append(b, zero, 10);
	utf16(b, "/c \"_\\_\\update.exe\"", 0);
	le32(b, 0x314);
	le32(b, 0xA0000001u);
	for (gsize i = 0; target[i] != '\0'; i++) {
		block[i] = (guint8)target[i];
		block[260 + 2 * i] = (guint8)target[i];
	}
	g_byte_array_append(b, block, sizeof(block));
	le32(b, 0);
	rep = scan_attached("Invoice.lnk", b->data, b->len, conf);
	evidence_names(rep, "lure.lnk_interpreter", "runs cmd", "%windir%", NULL);
	report_free(rep);
}
END_TEST

/* [lure] sideload_pairs: moat conf's own check --------------------------------- */

struct tmp {
	char *dir;
	GPtrArray *files;
};

/* tmp_write - TEXT as file NAME in T's directory; the path (borrowed from T) */
static const char *
tmp_write(struct tmp *t, const char *name, const char *text)
{
	char *path;

	if (t->dir == NULL) {
		t->dir = g_dir_make_tmp("moat-lure-XXXXXX", NULL);
		ck_assert_ptr_nonnull(t->dir);
		t->files = g_ptr_array_new_with_free_func(g_free);
	}
	path = g_build_filename(t->dir, name, NULL);
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	g_ptr_array_add(t->files, path);
	return path;
}

static void
tmp_clear(struct tmp *t)
{
	for (guint i = 0; t->files != NULL && i < t->files->len; i++)
		unlink(t->files->pdata[i]);
	if (t->dir != NULL)
		rmdir(t->dir);
	g_free(t->dir);
	if (t->files != NULL)
		g_ptr_array_unref(t->files);
	memset(t, 0, sizeof(*t));
}

/* load - conf_load() of a moat.conf naming PAIRS; its return, the config or *ERR */
static int
load(struct tmp *t, const char *pairs, struct moat_conf **out, char **err)
{
	g_autofree char *text = g_strdup_printf("[lure]\nsideload_pairs = %s\n", pairs);

	*out = NULL;
	*err = NULL;
	return conf_load(out, err, tmp_write(t, "moat.conf", text), FALSE);
}

START_TEST(test_pairs_load)
{
	struct tmp t = { 0 };
	const char *pairs = tmp_write(&t, "pairs", "# host  dll\n"
	    "Putty.EXE   WSC.dll\n"
	    "\n"
	    "\tInvitation.exe\tlibcef.dll   # CEF\n"
	    "avastsvc.exe wsc.dll\n");
	struct moat_conf *c;
	char *err;

	ck_assert_msg(load(&t, pairs, &c, &err) == 0, "%s", err);
	ck_assert_uint_eq(g_strv_length(c->lure.pairs), 3);
	ck_assert_str_eq(c->lure.pairs[0], "avastsvc.exe/wsc.dll");
	ck_assert_str_eq(c->lure.pairs[1], "invitation.exe/libcef.dll");
	ck_assert_str_eq(c->lure.pairs[2], "putty.exe/wsc.dll");
	conf_free(c);
	tmp_clear(&t);
}
END_TEST

/*
 * [lure] skip: the named detectors do not run (a macro document without
 * lure.office_macro, a smuggled zip not walked), the others do, and a
 * word that names no detector is refused.
 */
START_TEST(test_skip)
{
	g_autofree char *docm = g_build_filename(LURES_DIR, "mail-office-macro.docm.eml", NULL);
	g_autofree char *smuggled = g_build_filename(LURES_DIR, "mail-decrypt-smuggle-blob.html.eml",
	    NULL);
	struct moat_conf *skip = t_conf_loadf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[lure]\nskip = office ; derive\n", SAMPLES_DIR);
	struct moat_report *on, *off, *walked, *unwalked;
	struct moat_conf *bad = NULL;
	g_autofree char *err = NULL;

	ck_assert(lure_skipped(skip, "office") && lure_skipped(skip, "derive"));
	ck_assert(!lure_skipped(skip, "offic") && !lure_skipped(skip, "script"));
	ck_assert(!lure_skipped(conf, "office"));
	on = t_scan_file(docm, conf);
	off = t_scan_file(docm, skip);
	ck_assert_ptr_nonnull(report_has_finding(on, "lure.office_macro"));
	ck_assert_ptr_null(report_has_finding(off, "lure.office_macro"));
	walked = t_scan_file(smuggled, conf);
	unwalked = t_scan_file(smuggled, skip);
	ck_assert_uint_gt(walked->parts->len, unwalked->parts->len);
	ck_assert_ptr_nonnull(report_has_finding(unwalked, "lure.html_smuggling"));

	const char *typo = "[lure]\nskip = offce\n";

	ck_assert_int_eq(conf_load_data(&bad, &err, typo, strlen(typo)), MOAT_EINVAL);
	ck_assert_msg(strstr(err, "no detector is called 'offce'") != NULL, "%s", err);
	report_free(on);
	report_free(off);
	report_free(walked);
	report_free(unwalked);
	conf_free(skip);
}
END_TEST

/* A bad line is refused by name and line, under the config's own name. */
START_TEST(test_pairs_bad_line)
{
	static const char *const bad[] = {
		"putty.exe\n",				/* half a pair */
		"putty.exe wsc.dll extra.dll\n",	/* three */
		"_\\putty.exe wsc.dll\n",		/* a path, not a file name */
		"putty.exe sub/wsc.dll\n",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct tmp t = { 0 };
		g_autofree char *text = g_strdup_printf("# known pairs\nnvsmart.exe nvsmartmax.dll\n%s",
		    bad[i]);
		const char *pairs = tmp_write(&t, "pairs", text);
		g_autofree char *where = g_strdup_printf("%s:3:", pairs);
		struct moat_conf *c;
		char *err;

		ck_assert_int_eq(load(&t, pairs, &c, &err), MOAT_EINVAL);
		ck_assert_ptr_null(c);
		ck_assert_msg(strstr(err, where) != NULL, "line %s: no '%s' in: %s", bad[i], where, err);
		ck_assert_msg(strstr(err, "moat.conf") != NULL, "no config name in: %s", err);
		g_free(err);
		tmp_clear(&t);
	}
}
END_TEST

/* A missing file is no error (the pairs are extra evidence): an empty list. */
START_TEST(test_pairs_missing)
{
	struct tmp t = { 0 };
	const char *pairs = tmp_write(&t, "pairs", "x.exe y.dll\n");
	g_autofree char *gone = g_strdup_printf("%s.gone", pairs);
	g_autofree char *both = g_strdup_printf("%s;%s", gone, pairs);
	struct moat_conf *c;
	char *err;

	ck_assert_msg(load(&t, gone, &c, &err) == 0, "%s", err);
	ck_assert_ptr_nonnull(c->lure.pairs);
	ck_assert_ptr_null(c->lure.pairs[0]);
	conf_free(c);
	ck_assert_msg(load(&t, both, &c, &err) == 0, "%s", err);	/* the one there is read */
	ck_assert_uint_eq(g_strv_length(c->lure.pairs), 1);
	ck_assert_str_eq(c->lure.pairs[0], "x.exe/y.dll");
	conf_free(c);
	tmp_clear(&t);
}
END_TEST

/* The list moat installs loads, sorted and lower-case. */
START_TEST(test_pairs_shipped)
{
	struct tmp t = { 0 };
	struct moat_conf *c;
	char *err;

	ck_assert_msg(load(&t, SAMPLES_DIR "/../conf/sideload.pairs", &c, &err) == 0, "%s", err);
	ck_assert_uint_ge(g_strv_length(c->lure.pairs), 8);
	for (guint i = 0; c->lure.pairs[i] != NULL; i++) {
		g_autofree char *low = g_utf8_casefold(c->lure.pairs[i], -1);

		ck_assert_str_eq(c->lure.pairs[i], low);
		ck_assert_ptr_nonnull(strchr(c->lure.pairs[i], '/'));
		if (i > 0)
			ck_assert_int_le(strcmp(c->lure.pairs[i - 1], c->lure.pairs[i]), 0);
	}
	conf_free(c);
	tmp_clear(&t);
}
END_TEST

/* The helpers of lure.h ------------------------------------------------------------ */

START_TEST(test_odd_folder)
{
	static const char *const odd[] = { "_", "__", "#", IDEO_SPACE, NBSP, "~", "-", "..." };
	static const char *const plain[] = { "docs", "2024", "", "_docs", "a b", "Holiday" };

	for (gsize i = 0; i < G_N_ELEMENTS(odd); i++)
		ck_assert_msg(lure_odd_folder(odd[i]), "'%s' is odd", odd[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(plain); i++)
		ck_assert_msg(!lure_odd_folder(plain[i]), "'%s' is not odd", plain[i]);
	ck_assert(!lure_odd_folder(NULL));
}
END_TEST

START_TEST(test_entropy)
{
	g_autoptr(GRand) r = g_rand_new_with_seed(14);
	guint8 *buf = g_malloc(65536);
	g_autoptr(GString) text = g_string_new(NULL);

	for (gsize i = 0; i < 65536; i += 4) {
		guint32 v = g_rand_int(r);

		memcpy(buf + i, &v, 4);
	}
	ck_assert_double_gt(lure_entropy(buf, 65536), 7.9);
	while (text->len < 65536)
		g_string_append(text, "Please find attached the minutes of Monday's meeting; "
		    "the next one is on 2 November. ");
	ck_assert_double_lt(lure_entropy((const guint8 *)text->str, text->len), 5);
	memset(buf, 'A', 65536);
	ck_assert_double_eq(lure_entropy(buf, 65536), 0);
	ck_assert_double_eq(lure_entropy(buf, 0), 0);
	g_free(buf);
}
END_TEST

START_TEST(test_folder)
{
	static const struct { const char *name, *folder; } cases[] = {
		{ "a/b/c.exe", "a/b" },
		{ "c.exe", "" },
		{ "a\\b\\c.exe", "a/b" },
		{ "_/_/putty.exe", "_/_" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *f = lure_folder(cases[i].name);

		ck_assert_str_eq(f, cases[i].folder);
	}
	ck_assert_str_eq(lure_basename("a\\b\\c.exe"), "c.exe");
}
END_TEST

Suite *
lure_suite(void)
{
	Suite *s = suite_create("lure");
	TCase *fx = tcase_create("fixtures");
	TCase *built = tcase_create("built");
	TCase *cf = tcase_create("conf");
	TCase *help = tcase_create("helpers");

	rows = rows_read();
	tcase_add_unchecked_fixture(fx, lure_setup, lure_teardown);
	tcase_set_timeout(fx, 60);
	tcase_add_test(fx, test_manifest_present);
	tcase_add_loop_test(fx, test_manifest_row, 0, (int)rows->len);
	tcase_add_test(fx, test_mustang_evidence);
	suite_add_tcase(s, fx);

	tcase_add_unchecked_fixture(built, lure_setup, lure_teardown);
	tcase_set_timeout(built, 60);	/* test_smuggle_hostile under a sanitizer */
	tcase_add_test(built, test_decoy_nbsp_folder);
	tcase_add_test(built, test_decoy_plain_folder);
	tcase_add_test(built, test_decoy_hidden_folder);
	tcase_add_test(built, test_decoy_manifest_trick);
	tcase_add_test(built, test_decoy_codepage_folder);
	tcase_add_test(built, test_decoy_recycle_bin);
	tcase_add_test(built, test_sideload_known_pair);
	tcase_add_test(built, test_nested_text);
	tcase_add_test(built, test_nested_script);
	tcase_add_test(built, test_url_https);
	tcase_add_test(built, test_url_file);
	tcase_add_test(built, test_lnk_blanks_threshold);
	tcase_add_test(built, test_lnk_env_target);
	tcase_add_loop_test(built, test_smuggle_evidence, 0, G_N_ELEMENTS(smuggle_evidence));
	tcase_add_test(built, test_smuggle_script_payload);
	tcase_add_test(built, test_smuggle_pieces);
	tcase_add_test(built, test_smuggle_not_files);
	tcase_add_test(built, test_smuggle_keyed);
	tcase_add_test(built, test_smuggle_prefixed_script);
	tcase_add_test(built, test_smuggle_written_page);
	tcase_add_test(built, test_smuggle_unsniffed);
	tcase_add_test(built, test_smuggle_hostile);
	tcase_add_test(built, test_skip);
	suite_add_tcase(s, built);

	tcase_add_test(cf, test_pairs_load);
	tcase_add_test(cf, test_pairs_bad_line);
	tcase_add_test(cf, test_pairs_missing);
	tcase_add_test(cf, test_pairs_shipped);
	suite_add_tcase(s, cf);

	tcase_add_test(help, test_odd_folder);
	tcase_add_test(help, test_entropy);
	tcase_add_test(help, test_folder);
	suite_add_tcase(s, help);
	return s;
}
