/*
 * office.c - Office macros and remote templates (T1204.002, T1036.008, T1221)
 *
 * Over every part of the walked tree, mail parts and members alike:
 *  - a compound file (.doc, .xls, vbaProject.bin inside a docm/xlsm/pptm,
 *    whatever its name) is read with vba.h: a VBA project is
 *    lure.office_macro (6: some businesses still mail macro workbooks).
 *    When the project's source has a procedure Office runs on opening
 *    (AutoOpen, Document_Open, Workbook_Open, Auto_Open, an ActiveX
 *    _Painted or _Layout event) and a way to run or download something
 *    (Shell, WScript.Shell, ShellExecute, URLDownloadToFile, XMLHTTP,
 *    WinHttp, PowerShell, cmd.exe, mshta, WMI's Win32_Process, shellcode
 *    APIs; or CreateObject/GetObject/CallByName with its target hidden
 *    behind Chr() runs or StrReverse) it is lure.macro_autoexec (12).
 *    A macro document named as one that cannot hold macros (a docm or a
 *    Word 97 .doc called .docx, a docm called .doc) is lure.macro_renamed (10).
 *  - the relationship parts (*.rels) of an OOXML package, parsed with
 *    libxml2 (no network, no DTD: OPC forbids one, and its entities are
 *    the only way to make attribute values blow up; at most
 *    OFFICE_XML_MAX bytes): a relationship of type attachedTemplate,
 *    oleObject, frame or subDocument with TargetMode="External" whose
 *    target is on another machine is lure.remote_template (12): Word
 *    fetches it on opening, and a template brings its macros along.
 *  - an RTF document's {\*\template ...} to such a target likewise.
 *  - Equation Editor 3.0 objects (EQNEDT32.EXE, the CVE-2017-11882 and
 *    CVE-2018-0802 exploits' carrier): a storage of its CLSID in a
 *    compound file (a .doc's ObjectPool, a docx's embeddings/oleObject1.bin, an
 *    attachment in a .msg), and an RTF's \objdata (rtfobj.c), are
 *    lure.equation_editor (15).
 *  - what a package's XML and a CSV say (officetext.c): DDE fields and
 *    formulas (lure.dde_field, 12; an RTF's \fldinst here), and Excel 4.0
 *    macro sheets (lure.office_macro, lure.macro_autoexec with Auto_Open).
 * A target is on another machine when it is an http(s)/ftp URL (also
 * wrapped, mhtml:http://...), or a UNC path (\\host\share, //host/share,
 * file://host/share, file:///\\host\share) whose host is an address or a
 * DNS name (it has a dot) or WebDAV (host@SSL). A single-label host
 * (\\fileserver\Templates), or one under a suffix only a company's own
 * DNS answers (fs01.firma.local, .corp, .lan, .internal, home.arpa), is a
 * company's own file server: a recipient outside cannot reach it, and
 * documents made from its templates are everyday mail. file:///C:/... (a
 * local Normal.dotm), a relative target, and external hyperlinks and
 * pictures (Type hyperlink, image) are normal.
 *
 * Findings go on the document a recipient opens (the docm, not its
 * vbaProject.bin; the docx, not its settings.xml.rels): the banner names
 * it, and the evidence names the part inside.
 *
 * Cost: only OLE2 parts, .rels members and RTF parts are read; on mail
 * without Office documents this is one pass over the part list (callgrind,
 * 300 easy_ham mails: 0.08% of scan_message()'s instructions; on the 38
 * Office fixture mails 5.7%, a third of it libxml2).
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "moat/lure.h"
#include "moat/names.h"
#include "moat/vba.h"
#include "officetext.h"
#include "rtfobj.h"

/*
 * Bytes of a .rels or [Content_Types].xml parsed: libxml2's tree takes up
 * to about 35 bytes per byte of markup (4 MB of empty elements: 124 MB),
 * so 1 MB keeps it inside a message's memory bound (SECURITY.md); real
 * relationship parts are a few KB, a 2,000-slide deck's about 250 KB.
 */
#define OFFICE_XML_MAX		(1u << 20)
#define OFFICE_XML_ITEMS	100000		/* relationships or type entries read per part */
#define OFFICE_RTF_MAX		(64u << 20)	/* bytes of an RTF document searched */
#define OFFICE_RTF_HITS		64		/* \template words looked at per document */
#define OFFICE_TARGET_MAX	2048		/* bytes of an RTF template's text decoded */
#define OFFICE_TARGET_READ	(64u << 10)	/* bytes of one \template destination read */
#define OFFICE_TOKEN_MAX	64		/* bytes of a VBA word compared */
#define OFFICE_CHR_MANY		8		/* Chr() calls that hide a string */
#define OFFICE_SIGNS_MAX	6		/* signs named in the evidence */
#define OFFICE_SHOWN_MAX	200		/* bytes of a target in the evidence */

/* What a VBA word says about the project. */
enum office_sign {
	SIGN_AUTORUN = 1,	/* a procedure Office runs by itself */
	SIGN_RUNS,		/* starts a program, or downloads */
	SIGN_OBJECT,		/* reaches a COM object by a name it may build */
	SIGN_HIDES,		/* builds or turns strings to hide them */
	SIGN_DISPATCH,		/* calls a member by a name it may build: OBJECT and HIDES */
	SIGN_FETCH,		/* fetches from the web: RUNS with a SAVE, else a report's data */
	SIGN_SAVE,		/* writes fetched bytes to a file */
	SIGN_CHR,		/* one character from a number: many hide a string */
};

static const struct office_word {
	const char *word;	/* lower-case */
	gboolean prefix;	/* a word that starts with it counts (URLDownloadToFileA) */
	enum office_sign sign;
} office_words[] = {
	{ "autoopen", FALSE, SIGN_AUTORUN }, { "auto_open", FALSE, SIGN_AUTORUN },
	{ "autoexec", FALSE, SIGN_AUTORUN }, { "autoclose", FALSE, SIGN_AUTORUN },
	{ "auto_close", FALSE, SIGN_AUTORUN }, { "autonew", FALSE, SIGN_AUTORUN },
	{ "document_open", FALSE, SIGN_AUTORUN }, { "document_close", FALSE, SIGN_AUTORUN },
	{ "document_new", FALSE, SIGN_AUTORUN }, { "documentopen", FALSE, SIGN_AUTORUN },
	{ "workbook_open", FALSE, SIGN_AUTORUN }, { "workbook_activate", FALSE, SIGN_AUTORUN },
	{ "workbook_beforeclose", FALSE, SIGN_AUTORUN }, { "auto_activate", FALSE, SIGN_AUTORUN },
	{ "workbook_windowactivate", FALSE, SIGN_AUTORUN },
	{ "shell", FALSE, SIGN_RUNS }, { "vba.shell", FALSE, SIGN_RUNS },
	{ "interaction.shell", FALSE, SIGN_RUNS }, { "wscript.shell", FALSE, SIGN_RUNS },
	{ "shell.application", FALSE, SIGN_RUNS }, { "shellexecute", TRUE, SIGN_RUNS },
	{ "urldownloadtofile", TRUE, SIGN_RUNS }, { "msxml2.xmlhttp", TRUE, SIGN_FETCH },
	{ "msxml2.serverxmlhttp", TRUE, SIGN_FETCH }, { "microsoft.xmlhttp", TRUE, SIGN_FETCH },
	{ "winhttp.winhttprequest", TRUE, SIGN_FETCH }, { "net.webclient", FALSE, SIGN_RUNS },
	{ "adodb.stream", FALSE, SIGN_SAVE }, { "savetofile", FALSE, SIGN_SAVE },
	{ "responsebody", FALSE, SIGN_SAVE },
	{ "downloadstring", TRUE, SIGN_RUNS }, { "downloadfile", TRUE, SIGN_RUNS },
	{ "powershell", TRUE, SIGN_RUNS }, { "pwsh", FALSE, SIGN_RUNS },
	{ "pwsh.exe", FALSE, SIGN_RUNS }, { "cmd.exe", FALSE, SIGN_RUNS },
	{ "mshta", TRUE, SIGN_RUNS }, { "certutil", TRUE, SIGN_RUNS },
	{ "bitsadmin", TRUE, SIGN_RUNS }, { "regsvr32", TRUE, SIGN_RUNS },
	{ "rundll32", TRUE, SIGN_RUNS }, { "wscript.exe", FALSE, SIGN_RUNS },
	{ "cscript.exe", FALSE, SIGN_RUNS }, { "schtasks", TRUE, SIGN_RUNS },
	{ "msiexec", TRUE, SIGN_RUNS }, { "curl.exe", FALSE, SIGN_RUNS },
	{ "wmic", TRUE, SIGN_RUNS },
	/* GetObject("new:{CLSID}"): WScript.Shell and Shell.Application by number */
	{ "72c24dd5", FALSE, SIGN_RUNS }, { "13709620", FALSE, SIGN_RUNS },
	{ "win32_process", TRUE, SIGN_RUNS }, { "winmgmts", TRUE, SIGN_RUNS },
	{ "virtualalloc", TRUE, SIGN_RUNS }, { "createthread", FALSE, SIGN_RUNS },
	{ "rtlmovememory", FALSE, SIGN_RUNS }, { "writeprocessmemory", FALSE, SIGN_RUNS },
	{ "createobject", FALSE, SIGN_OBJECT }, { "getobject", FALSE, SIGN_OBJECT },
	{ "callbyname", FALSE, SIGN_DISPATCH }, { "strreverse", FALSE, SIGN_HIDES },
	{ "chr", FALSE, SIGN_CHR }, { "chrw", FALSE, SIGN_CHR }, { "chrb", FALSE, SIGN_CHR },
	{ "chr$", FALSE, SIGN_CHR }, { "chrw$", FALSE, SIGN_CHR },
};

/* What the source of one project says, over all its modules. */
struct office_signs {
	char autorun[OFFICE_TOKEN_MAX + 1];	/* the first auto-run name as written, or "" */
	const char *autorun_module;	/* borrowed from the vba_file */
	GPtrArray *shown;		/* char *: the signs as written, first of each, at most SIGNS_MAX */
	GHashTable *seen;		/* lower-case words already in SHOWN */
	gboolean runs, object, hides, fetch, save;
	guint chr;
};

/* office_sign_of - what lower-case word W says, 0 for nothing */
static enum office_sign
office_sign_of(const char *w, gsize n)
{
	for (gsize i = 0; i < G_N_ELEMENTS(office_words); i++) {
		const struct office_word *k = &office_words[i];
		gsize kn = strlen(k->word);

		if ((n == kn || (k->prefix && n > kn)) && memcmp(w, k->word, kn) == 0)
			return k->sign;
	}
	/*
	 * ActiveX events run on opening too: InkPicture1_Painted,
	 * Frame1_Layout, and InkEdit1_GotFocus when the control has the focus
	 * as the document opens
	 */
	if ((n > 8 && memcmp(w + n - 8, "_painted", 8) == 0) ||
	    (n > 9 && memcmp(w + n - 9, "_painting", 9) == 0) ||
	    (n > 7 && memcmp(w + n - 7, "_layout", 7) == 0) ||
	    (n > 9 && memcmp(w + n - 9, "_gotfocus", 9) == 0))
		return SIGN_AUTORUN;
	return 0;
}

/* office_note - record word W (as written: RAW) of module M in S */
static void
office_note(struct office_signs *s, const char *w, const char *raw, gsize n, const char *module)
{
	enum office_sign sign = office_sign_of(w, n);

	switch (sign) {
	case SIGN_AUTORUN:
		if (s->autorun[0] == '\0') {
			memcpy(s->autorun, raw, n);
			s->autorun[n] = '\0';
			s->autorun_module = module;
		}
		return;
	case SIGN_CHR:
		s->chr++;
		return;
	case SIGN_RUNS:
		s->runs = TRUE;
		break;
	case SIGN_OBJECT:
		s->object = TRUE;
		break;
	case SIGN_HIDES:
		s->hides = TRUE;
		break;
	case SIGN_DISPATCH:
		s->object = s->hides = TRUE;
		break;
	case SIGN_FETCH:
		s->fetch = TRUE;
		break;
	case SIGN_SAVE:
		s->save = TRUE;
		break;
	default:
		return;
	}
	if (s->shown->len < OFFICE_SIGNS_MAX && g_hash_table_add(s->seen, g_strndup(w, n)))
		g_ptr_array_add(s->shown, g_strndup(raw, n));
}

/*
 * office_read_source - the words of one module's SOURCE into S: runs of
 * letters, digits, '_', '.' and '$' (a ProgID such as WScript.Shell is one
 * word), without leading dots, compared lower-case; longer than
 * OFFICE_TOKEN_MAX they are nothing the tables hold
 */
static void
office_read_source(struct office_signs *s, const char *src, gsize len, const char *module)
{
	gsize i = 0;

	while (i < len) {
		char low[OFFICE_TOKEN_MAX];
		gsize start, n;

		while (i < len && !(g_ascii_isalnum(src[i]) || src[i] == '_'))
			i++;
		start = i;
		while (i < len && (g_ascii_isalnum(src[i]) || src[i] == '_' || src[i] == '.' ||
		    src[i] == '$'))
			i++;
		n = i - start;
		if (n == 0 || n > OFFICE_TOKEN_MAX)
			continue;
		while (n > 0 && src[start + n - 1] == '.')
			n--;	/* "Shell." at a sentence's end */
		for (gsize k = 0; k < n; k++)
			low[k] = g_ascii_tolower(src[start + k]);
		office_note(s, low, src + start, n, module);
	}
}

/*
 * office_autoexec - lure.macro_autoexec at document DOC when F's source
 * (read from its part IN, "" for DOC itself) runs something on opening
 */
static void
office_autoexec(struct moat_report *rep, const struct moat_part *doc, const char *in,
    const struct vba_file *f)
{
	struct office_signs s = { .shown = g_ptr_array_new_with_free_func(g_free),
	    .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
	gboolean hidden;

	for (guint i = 0; i < f->modules->len; i++) {
		const struct vba_module *m = f->modules->pdata[i];

		if (m->source != NULL)
			office_read_source(&s, m->source, m->len, m->name);
	}
	hidden = s.hides || s.chr >= OFFICE_CHR_MANY;
	/* a fetch alone fills cells (exchange rates); fetched and saved, it is a download */
	if (s.autorun[0] != '\0' && (s.runs || (s.fetch && s.save) || (s.object && hidden))) {
		g_autofree char *signs = NULL;

		g_ptr_array_add(s.shown, NULL);
		signs = g_strjoinv(", ", (char **)s.shown->pdata);
		report_add_finding_at(rep, "lure.macro_autoexec", doc,
		    "%s%s%s%s (module %s) runs when the document opens; the macros call %s%s",
		    *in != '\0' ? "in " : "", in, *in != '\0' ? ": " : "", s.autorun,
		    s.autorun_module, signs, s.chr >= OFFICE_CHR_MANY ? " and build strings from "
		    "Chr() codes" : "");
	}
	g_ptr_array_unref(s.shown);
	g_hash_table_destroy(s.seen);
}

/* Macro documents under other names --------------------------------------- */

/* office_package - whether P is an OOXML package: a zip holding [Content_Types].xml */
static gboolean
office_package(const struct moat_part *p)
{
	if (p == NULL || p->sniffed == NULL || strcmp(p->sniffed, "zip") != 0)
		return FALSE;
	for (guint i = 0; p->children != NULL && i < p->children->len; i++) {
		const struct moat_part *c = p->children->pdata[i];

		if (c->filename != NULL && g_ascii_strcasecmp(c->filename, "[Content_Types].xml") == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * office_renamed - lure.macro_renamed at DOC (a package, or a compound
 * file) holding macros when its name says it cannot: a package or a
 * compound file named as a type without macros (.docx, .xlsx, .rtf), or a
 * package named as a Word/Excel 97 file (.doc: Office opens it by its
 * bytes, and a filter that holds .docm lets it by). DONE keeps one
 * finding per document.
 */
static void
office_renamed(struct moat_report *rep, const struct moat_part *doc, GHashTable *done)
{
	static const char *const plain[] = {
		"docx", "dotx", "xlsx", "xltx", "pptx", "potx", "ppsx", "rtf",
	};
	static const char *const ole2[] = { "doc", "dot", "xls", "xlt", "ppt", "pot", "pps" };
	const char *base = lure_basename(doc->filename);
	g_autofree char *ext = names_extension(base);
	gboolean package = office_package(doc), no_macros = FALSE, old = FALSE;

	if (ext == NULL || !g_hash_table_add(done, (gpointer)doc))
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(plain); i++)
		no_macros |= strcmp(ext, plain[i]) == 0;
	for (gsize i = 0; package && i < G_N_ELEMENTS(ole2); i++)
		old |= strcmp(ext, ole2[i]) == 0;
	if (no_macros || old)
		report_add_finding_at(rep, "lure.macro_renamed", doc,
		    "'%s' is a %s document with VBA macros named .%s, %s", base,
		    package ? "macro-enabled OOXML" : "compound (OLE2)", ext, no_macros ?
		    "a type that cannot hold macros" : "a Word/Excel 97 type: Office opens it by its "
		    "content");
}

/*
 * office_owner - the document macro part P belongs to: its package, or P
 * itself. PACKAGES remembers office_package() of each parent asked about,
 * so that a zip of many members costs one look at its member list, not
 * one per member.
 */
static const struct moat_part *
office_owner(const struct moat_part *p, GHashTable *packages)
{
	gpointer known = g_hash_table_lookup(packages, p->parent);
	gboolean package;

	if (known != NULL) {
		package = GPOINTER_TO_INT(known) == 1;
	} else {
		package = office_package(p->parent);
		g_hash_table_insert(packages, (gpointer)p->parent, GINT_TO_POINTER(package ? 1 : 2));
	}
	return package ? p->parent : p;
}

/* office_in - where part P sits in document DOC, for the evidence: its name, or "" for DOC */
static const char *
office_in(const struct moat_part *p, const struct moat_part *doc)
{
	return p != doc && p->filename != NULL ? p->filename : "";
}

/*
 * office_ole2 - the VBA projects of compound file P: the findings go to
 * the document it belongs to (the docm, not its vbaProject.bin), which
 * is what the banner names; the evidence says which part
 */
static void
office_ole2(struct moat_report *rep, const struct moat_part *p, GHashTable *done,
    GHashTable *packages)
{
	gsize len;
	const guint8 *data = lure_data(p, &len);
	struct vba_file *f = data != NULL ? vba_read(data, len) : NULL;
	const struct moat_part *doc = office_owner(p, packages);
	const char *in = office_in(p, doc);
	g_autoptr(GString) names = g_string_new(NULL);
	guint read = 0;

	if (f != NULL && f->equation != NULL)
		report_add_finding_at(rep, "lure.equation_editor", doc,
		    "Equation Editor 3.0 object (EQNEDT32.EXE, exploited by CVE-2017-11882 and "
		    "CVE-2018-0802) %s%s%swith its CLSID at %s", *in != '\0' ? "in " : "", in,
		    *in != '\0' ? ", " : "", f->equation);
	if (f == NULL || f->projects == 0) {
		vba_file_free(f);
		return;
	}
	for (guint i = 0; i < f->modules->len; i++) {
		const struct vba_module *m = f->modules->pdata[i];

		read += m->source != NULL;
		if (i < 4)
			g_string_append_printf(names, "%s%s", i > 0 ? ", " : "", m->name);
	}
	if (f->modules->len > 4)
		g_string_append_printf(names, " and %u more", f->modules->len - 4);
	report_add_finding_at(rep, "lure.office_macro", doc,
	    "VBA project %s%s%s(storage %s%s): %u module%s%s%s%s%s", *in != '\0' ? "in " : "", in,
	    *in != '\0' ? " " : "", f->first, f->projects > 1 ? ", and more" : "", f->modules->len,
	    f->modules->len == 1 ? "" : "s", names->len > 0 ? " (" : "", names->str,
	    names->len > 0 ? ")" : "", read < f->modules->len || f->unread > 0 ?
	    "; some source could not be read" : "");
	office_autoexec(rep, doc, in, f);
	office_renamed(rep, doc, done);
	vba_file_free(f);
}

/* Remote targets -------------------------------------------------------------- */

/*
 * office_internal_name - whether the N bytes at HOST end in a suffix that
 * only resolves inside a company (RFC 6762 .local, RFC 8375 home.arpa, the
 * .lan/.corp/.internal/.intranet names Active Directory sites use): a file
 * server there is out of an outside sender's reach, like a single label
 */
static gboolean
office_internal_name(const char *host, gsize n)
{
	static const char *const suffixes[] = { ".local", ".lan", ".corp", ".internal",
	    ".intranet", ".localdomain", ".home.arpa" };

	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		gsize k = strlen(suffixes[i]);

		if (n > k && g_ascii_strncasecmp(host + n - k, suffixes[i], k) == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * office_remote_host - whether HOST (up to a separator) names a machine
 * outside: a dot, ':' or '@' in it, unless a name office_internal_name()
 * keeps inside
 */
static gboolean
office_remote_host(const char *host)
{
	gsize n = strcspn(host, "/\\");

	if (n == 0 || (n == 9 && g_ascii_strncasecmp(host, "localhost", 9) == 0) ||
	    (n == 1 && (host[0] == '?' || host[0] == '.')))
		return FALSE;	/* \\?\C:\ and \\.\ are local device paths */
	if (strcspn(host, ":@") >= n && office_internal_name(host, n))
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (host[i] == '.' || host[i] == ':' || host[i] == '@')
			return TRUE;
	return FALSE;
}

/* office_seps - how many '/' and '\\' start S */
static gsize
office_seps(const char *s)
{
	return strspn(s, "/\\");
}

/*
 * office_remote - whether a document would fetch TARGET from another
 * machine (see the top of this file); "file:" with a drive letter, a
 * relative path and a single-label host are local
 */
static gboolean
office_remote(const char *t)
{
	gsize n;

	while (g_ascii_isspace(*t))
		t++;
	if (g_ascii_strncasecmp(t, "file:", 5) == 0) {
		t += 5;
		n = office_seps(t);
		t += n;
		if (g_ascii_isalpha(t[0]) && (t[1] == ':' || t[1] == '|'))
			return FALSE;	/* file:///C:/... */
		return (n == 2 || n >= 4) && office_remote_host(t);
	}
	if (g_ascii_strncasecmp(t, "http:", 5) == 0 || g_ascii_strncasecmp(t, "https:", 6) == 0 ||
	    g_ascii_strncasecmp(t, "ftp:", 4) == 0)
		return TRUE;
	/* a scheme wrapping a URL: mhtml:http://..., ms-word:ofe|u|https://... */
	if (g_ascii_isalpha(t[0]) && strcspn(t, ":") > 1 && strchr(t, ':') != NULL) {
		g_autofree char *low = g_ascii_strdown(t, -1);

		if (strstr(low, "http://") != NULL || strstr(low, "https://") != NULL)
			return TRUE;
	}
	n = office_seps(t);
	return n >= 2 && office_remote_host(t + n);
}

/* office_xml_init - libxml2's one-time set-up, before the first parse on any thread */
static void
office_xml_init(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		xmlInitParser();
		g_once_init_leave(&once, 1);
	}
}

/*
 * office_xml - the XML part P as a tree, or NULL: at most OFFICE_XML_MAX
 * bytes (libxml2 recovers what it can of a cut or broken part), no
 * network, no entity substitution, and none with a DTD
 */
static xmlDocPtr
office_xml(const struct moat_part *p)
{
	gsize len;
	const guint8 *data = lure_data(p, &len);
	xmlDocPtr doc;

	if (data == NULL || len == 0)
		return NULL;
	office_xml_init();
	doc = xmlReadMemory((const char *)data, (int)MIN(len, OFFICE_XML_MAX), "part.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
	if (doc != NULL && doc->intSubset != NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* office_prop - attribute NAME (no namespace) of element N, or NULL; caller xmlFree()s */
static char *
office_prop(xmlNodePtr n, const char *name)
{
	return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

/* office_fetched_type - whether relationship type TYPE is one Office loads when external */
static gboolean
office_fetched_type(const char *type, const char **word)
{
	static const char *const types[] = { "attachedTemplate", "oleObject", "frame", "subDocument" };
	const char *last = type != NULL ? strrchr(type, '/') : NULL;

	for (gsize i = 0; last != NULL && i < G_N_ELEMENTS(types); i++)
		if (g_ascii_strcasecmp(last + 1, types[i]) == 0) {
			*word = types[i];
			return TRUE;
		}
	return FALSE;
}

/* office_rels - lure.remote_template at relationship part P for an external target it fetches */
static void
office_rels(struct moat_report *rep, const struct moat_part *p, GHashTable *packages)
{
	xmlDocPtr doc = office_xml(p);
	xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	g_autofree char *first = NULL;
	const char *what = NULL;
	guint more = 0, items = 0;

	for (xmlNodePtr n = root != NULL ? xmlFirstElementChild(root) : NULL;
	    n != NULL && items < OFFICE_XML_ITEMS; n = xmlNextElementSibling(n), items++) {
		char *type, *mode, *target;
		const char *word = NULL;

		if (xmlStrcmp(n->name, (const xmlChar *)"Relationship") != 0)
			continue;
		type = office_prop(n, "Type");
		mode = office_prop(n, "TargetMode");
		target = office_prop(n, "Target");
		if (office_fetched_type(type, &word) && mode != NULL &&
		    g_ascii_strcasecmp(mode, "External") == 0 && target != NULL && office_remote(target)) {
			if (first == NULL) {
				first = report_clean_text(target, -1, OFFICE_SHOWN_MAX);
				what = word;
			} else {
				more++;
			}
		}
		xmlFree(type);
		xmlFree(mode);
		xmlFree(target);
	}
	if (first != NULL)
		report_add_finding_at(rep, "lure.remote_template", office_owner(p, packages),
		    "%s in %s loaded from %s on opening (TargetMode External)%s", what, p->filename,
		    first, more > 0 ? ", and more external targets" : "");
	if (doc != NULL)
		xmlFreeDoc(doc);
}

/* RTF ---------------------------------------------------------------------------- */

/*
 * office_rtf_text - the text of the destination from P (after "\template")
 * to the '}' closing it, RTF decoded: \'hh escapes, \uN characters (their
 * fallback byte skipped), \\ \{ \}, other control words dropped, CR and LF
 * ignored; at most OFFICE_TARGET_MAX bytes out,
 * from at most OFFICE_TARGET_READ bytes in: each \template word reads on
 * from its place, so an unclosed one read to the end of the document made
 * OFFICE_RTF_HITS of them cost 64 passes over it. Caller g_free()s.
 */
static char *
office_rtf_text(const guint8 *p, const guint8 *end)
{
	GString *out = g_string_new(NULL);
	int depth = 0;

	if ((gsize)(end - p) > OFFICE_TARGET_READ)
		end = p + OFFICE_TARGET_READ;
	while (p < end && out->len < OFFICE_TARGET_MAX) {
		guint8 c = *p++;

		if (c == '\r' || c == '\n') {
			continue;
		} else if (c == '{') {
			depth++;
		} else if (c == '}') {
			if (depth-- == 0)
				break;
		} else if (c != '\\') {
			g_string_append_c(out, (char)c);
		} else if (p < end && (*p == '\\' || *p == '{' || *p == '}')) {
			g_string_append_c(out, (char)*p++);
		} else if (p + 2 < end && *p == '\'' && rtfobj_hex(p[1]) >= 0 && rtfobj_hex(p[2]) >= 0) {
			g_string_append_c(out, (char)(rtfobj_hex(p[1]) << 4 | rtfobj_hex(p[2])));
			p += 3;
		} else {
			const guint8 *w = p;
			char word[8];
			gint64 num;

			p = rtfobj_word(p, end, word, sizeof(word), &num);
			/* \uN: the character N (signed 16 bits), then one fallback byte to skip */
			if (strcmp(word, "u") == 0 && w + 1 < end && (g_ascii_isdigit(w[1]) || w[1] == '-')) {
				gunichar u = (gunichar)(num & 0xffff);

				if (g_unichar_validate(u) && u != 0)
					g_string_append_unichar(out, u);
				if (p + 3 < end && p[0] == '\\' && p[1] == '\'' && rtfobj_hex(p[2]) >= 0 &&
				    rtfobj_hex(p[3]) >= 0)
					p += 4;		/* a \'hh is one fallback character */
				else if (p < end && *p != '\\' && *p != '{' && *p != '}')
					p++;
			}
		}
	}
	return g_string_free(out, FALSE);
}

/*
 * office_rtf_next - after control word WORD ("\\template", its backslash
 * included) at or after *AT in DATA..END: where its text starts, *AT moved
 * past it; NULL when there is no more. An escaped one ("\\\\template" is
 * text) or a longer word ("\\templatex") is passed over.
 */
static const guint8 *
office_rtf_next(const guint8 *data, const guint8 **at, const guint8 *end, const char *word)
{
	gsize n = strlen(word);
	const guint8 *p;

	while (*at < end && (p = memmem(*at, (gsize)(end - *at), word, n)) != NULL) {
		*at = p + n;
		if (rtfobj_at_word(data, p, end, n))
			return p + n;
	}
	return NULL;
}

/* office_rtf_fields - lure.dde_field at RTF P (DATA to END) for a {\*\fldinst DDEAUTO ...} */
static void
office_rtf_fields(struct moat_report *rep, const struct moat_part *p, const guint8 *data,
    const guint8 *end)
{
	const guint8 *at = data, *text_at;

	for (guint hits = 0; hits < OFFICE_RTF_HITS &&
	    (text_at = office_rtf_next(data, &at, end, "\\fldinst")) != NULL; hits++) {
		g_autofree char *text = office_rtf_text(text_at, end), *shown = NULL;

		if (!officetext_is_dde(text, strlen(text)))
			continue;
		shown = report_clean_text(g_strchug(text), -1, OFFICE_SHOWN_MAX);
		report_add_finding_at(rep, "lure.dde_field", p,
		    "RTF field runs a program on opening: %s", shown);
		return;
	}
}

/* office_rtf - lure.remote_template at RTF document P whose \template is on another machine */
static void
office_rtf(struct moat_report *rep, const struct moat_part *p)
{
	gsize len;
	const guint8 *data = lure_data(p, &len), *at, *end, *text_at;

	if (data == NULL)
		return;
	end = data + MIN(len, OFFICE_RTF_MAX);
	rtfobj_check(rep, p, data, (gsize)(end - data));
	at = data;
	for (guint hits = 0; hits < OFFICE_RTF_HITS &&
	    (text_at = office_rtf_next(data, &at, end, "\\template")) != NULL; hits++) {
		g_autofree char *text = office_rtf_text(text_at, end), *shown = NULL;

		if (!office_remote(g_strstrip(text)))
			continue;
		shown = report_clean_text(text, -1, OFFICE_SHOWN_MAX);
		report_add_finding_at(rep, "lure.remote_template", p,
		    "RTF template loaded from %s on opening", shown);
		break;
	}
	office_rtf_fields(rep, p, data, end);
}

/* Packages: a vbaProject part whose bytes were not kept --------------------------- */

/*
 * office_unread_vba - lure.office_macro at a member of package P that its
 * [Content_Types].xml or its name says is a VBA project (vbaProject.bin),
 * when its bytes were not kept ([limits] max_decoded_bytes): it could not
 * be read, but it is there
 */
static void
office_unread_vba(struct moat_report *rep, const struct moat_part *p, GHashTable *done)
{
	static const char vba_type[] = "application/vnd.ms-office.vbaProject";
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	gboolean bin = FALSE, unkept = FALSE;

	for (guint i = 0; i < p->children->len; i++)
		unkept |= ((const struct moat_part *)p->children->pdata[i])->content == NULL;
	if (!unkept)
		return;		/* every member's bytes are at hand: office_ole2() read them */
	for (guint i = 0; i < p->children->len; i++) {
		const struct moat_part *c = p->children->pdata[i];
		xmlDocPtr doc;
		xmlNodePtr root;
		guint items = 0;

		if (c->filename == NULL || g_ascii_strcasecmp(c->filename, "[Content_Types].xml") != 0 ||
		    (doc = office_xml(c)) == NULL)
			continue;
		root = xmlDocGetRootElement(doc);
		for (xmlNodePtr n = root != NULL ? xmlFirstElementChild(root) : NULL;
		    n != NULL && items < OFFICE_XML_ITEMS; n = xmlNextElementSibling(n), items++) {
			char *type = office_prop(n, "ContentType");
			char *name = office_prop(n, xmlStrcmp(n->name, (const xmlChar *)"Default") == 0 ?
			    "Extension" : "PartName");

			if (type != NULL && name != NULL && g_ascii_strcasecmp(type, vba_type) == 0) {
				if (xmlStrcmp(n->name, (const xmlChar *)"Default") == 0)
					bin |= g_ascii_strcasecmp(name, "bin") == 0;
				else
					g_ptr_array_add(parts, g_strdup(name[0] == '/' ? name + 1 : name));
			}
			xmlFree(type);
			xmlFree(name);
		}
		xmlFreeDoc(doc);
	}
	for (guint i = 0; i < p->children->len; i++) {
		const struct moat_part *c = p->children->pdata[i];
		const char *base = lure_basename(c->filename);
		gboolean vba = base != NULL && g_ascii_strcasecmp(base, "vbaProject.bin") == 0;

		for (guint k = 0; !vba && c->filename != NULL && k < parts->len; k++)
			vba = g_ascii_strcasecmp(c->filename, parts->pdata[k]) == 0;
		if (!vba || c->content != NULL)
			continue;
		report_add_finding_at(rep, "lure.office_macro", p,
		    "VBA project part %s (%s) not read: its bytes were not kept ([limits] "
		    "max_decoded_bytes)", c->filename, bin ? "[Content_Types].xml: *.bin" : "by its name");
		office_renamed(rep, p, done);
	}
}

/* office_rels_name - whether BASE names a relationship part ("settings.xml.rels", ".rels") */
static gboolean
office_rels_name(const char *base)
{
	gsize n = base != NULL ? strlen(base) : 0;

	return n >= 5 && g_ascii_strcasecmp(base + n - 5, ".rels") == 0;
}

/* office_rtf_bytes - whether P's bytes start as RTF: Word takes "{\rt" for RTF, whatever follows */
static gboolean
office_rtf_bytes(const struct moat_part *p)
{
	gsize len;
	const guint8 *data = lure_data(p, &len);

	return data != NULL && len >= 4 && memcmp(data, "{\\rt", 4) == 0;
}

void
lure_office_check(struct moat_report *rep, const struct moat_conf *conf)
{
	g_autoptr(GHashTable) done = g_hash_table_new(NULL, NULL);	/* documents renamed-checked */
	g_autoptr(GHashTable) packages = g_hash_table_new(NULL, NULL);	/* office_owner()'s */

	(void)conf;
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		gboolean ole2 = p->sniffed != NULL && strcmp(p->sniffed, "ole2") == 0;
		gboolean rels = !ole2 && p->parent != NULL && office_rels_name(lure_basename(p->filename));
		gboolean rtf = !ole2 && !rels && office_rtf_bytes(p), package = office_package(p);
		const char *base = lure_basename(p->filename);

		if (base != NULL && strlen(base) > 4 &&
		    g_ascii_strcasecmp(base + strlen(base) - 4, ".csv") == 0)
			officetext_csv(rep, p);
		if (!ole2 && !rels && !rtf && !package)
			continue;
		if (report_over_budget(rep))
			return;
		if (ole2)
			office_ole2(rep, p, done, packages);
		else if (rels)
			office_rels(rep, p, packages);
		else if (rtf)
			office_rtf(rep, p);
		if (package) {
			office_unread_vba(rep, p, done);
			officetext_check(rep, p);
		}
	}
}
