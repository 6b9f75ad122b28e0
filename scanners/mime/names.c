/*
 * names.c - findings from a part's names and sniffed type
 *
 * In: one struct moat_part of the inventory. Out: attach.*, name.* and
 * type.mismatch findings in the report. Every declared name of the part
 * (Content-Disposition filename and Content-Type name) is checked, because
 * mail clients disagree on which one they show. No I/O, thread-safe.
 */
#include <string.h>

#include "moat/names.h"
#include "moat/sniff.h"

/* What Windows does with a double-click on a file of this extension. */
struct names_ext {
	const char *ext;
	const char *finding;	/* attach.* id, or NULL for a harmless type */
	const char *expect;	/* sniffed types the bytes may have, "|"-separated, or NULL */
};

static const struct names_ext names_exts[] = {
	{ "exe", "attach.executable", "pe|mz" }, { "dll", "attach.executable", "pe|mz" },
	{ "scr", "attach.executable", "pe|mz" }, { "cpl", "attach.executable", "pe|mz" },
	{ "com", "attach.executable", NULL }, { "pif", "attach.executable", NULL },
	{ "msi", "attach.executable", "ole2" }, { "msp", "attach.executable", "ole2" },
	{ "mst", "attach.executable", "ole2" }, { "msc", "attach.executable", NULL },
	{ "ocx", "attach.executable", "pe|mz" }, { "sys", "attach.executable", "pe|mz" },
	{ "xll", "attach.executable", "pe|mz" }, { "gadget", "attach.executable", NULL },
	{ "appx", "attach.executable", "zip" }, { "msix", "attach.executable", "zip" },
	{ "appxbundle", "attach.executable", "zip" }, { "msixbundle", "attach.executable", "zip" },
	{ "application", "attach.executable", NULL },
	{ "js", "attach.script", NULL }, { "jse", "attach.script", NULL },
	{ "vbs", "attach.script", NULL }, { "vbe", "attach.script", NULL },
	{ "vb", "attach.script", NULL }, { "wsf", "attach.script", NULL },
	{ "wsh", "attach.script", NULL }, { "wsc", "attach.script", NULL },
	{ "ws", "attach.script", NULL }, { "sct", "attach.script", NULL },
	{ "hta", "attach.script", NULL }, { "ps1", "attach.script", NULL },
	{ "psm1", "attach.script", NULL }, { "psd1", "attach.script", NULL },
	{ "bat", "attach.script", NULL }, { "cmd", "attach.script", NULL },
	{ "jar", "attach.script", "zip" }, { "reg", "attach.script", NULL },
	{ "inf", "attach.script", NULL }, { "msh", "attach.script", NULL },
	{ "lnk", "attach.shortcut", "lnk" }, { "url", "attach.internet_shortcut", NULL },
	{ "scf", "attach.shortcut", NULL }, { "settingcontent-ms", "attach.shortcut", NULL },
	{ "appref-ms", "attach.shortcut", NULL }, { "library-ms", "attach.shortcut", NULL },
	/* a Remote Desktop file sharing the drives with a server outside (APT29,
	 * 2024), a search connector opening a WebDAV share, a troubleshooting pack */
	{ "rdp", "attach.shortcut", NULL }, { "searchconnector-ms", "attach.shortcut", NULL },
	{ "diagcab", "attach.shortcut", "cab" },
	{ "iso", "attach.disk_image", "iso|udf" }, { "img", "attach.disk_image", NULL },
	{ "vhd", "attach.disk_image", "vhd|fat|mbr" }, { "vhdx", "attach.disk_image", "vhdx" },
	{ "udf", "attach.disk_image", "udf|iso" },
	{ "chm", "attach.compiled_help", "chm" },
	{ "one", "attach.onenote", "onenote" }, { "onepkg", "attach.onenote", "cab" },
	/* Harmless types, listed for the mismatch check. */
	{ "pdf", NULL, "pdf" },
	{ "doc", NULL, "ole2|rtf" }, { "xls", NULL, "ole2" }, { "ppt", NULL, "ole2" },
	{ "msg", NULL, "ole2" }, { "rtf", NULL, "rtf" },
	{ "docx", NULL, "zip" }, { "xlsx", NULL, "zip" }, { "pptx", NULL, "zip" },
	{ "docm", NULL, "zip" }, { "xlsm", NULL, "zip" }, { "pptm", NULL, "zip" },
	{ "odt", NULL, "zip" }, { "ods", NULL, "zip" }, { "odp", NULL, "zip" },
	{ "zip", NULL, "zip" }, { "rar", NULL, "rar" }, { "7z", NULL, "7z" },
	{ "cab", NULL, "cab" }, { "gz", NULL, "gzip" }, { "tgz", NULL, "gzip" },
	{ "bz2", NULL, "bzip2" }, { "xz", NULL, "xz" }, { "tar", NULL, "tar" },
	{ "jpg", NULL, "jpeg" }, { "jpeg", NULL, "jpeg" }, { "png", NULL, "png" },
	{ "gif", NULL, "gif" },
};

/* Extensions a lure puts before the real one to look like a document. */
static const char *const names_decoys[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv",
	"odt", "ods", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "mp3",
	"mp4", "avi", "mov", "wav", "htm", "html", "xml", "zip", "rar", "7z", "eml",
};

/* A Content-Type stands for an extension when a part has no name. */
static const struct { const char *type, *ext; } names_types[] = {
	{ "application/pdf", "pdf" }, { "application/zip", "zip" },
	{ "application/x-zip-compressed", "zip" }, { "application/msword", "doc" },
	{ "application/vnd.ms-excel", "xls" }, { "image/jpeg", "jpg" },
	{ "image/png", "png" }, { "image/gif", "gif" }, { "application/rtf", "rtf" },
	{ "application/x-msdownload", "exe" }, { "application/x-dosexec", "exe" },
	{ "application/hta", "hta" }, { "application/x-iso9660-image", "iso" },
	{ "application/onenote", "one" },
};

static const struct names_ext *
names_ext_lookup(const char *ext)
{
	for (gsize i = 0; ext != NULL && i < G_N_ELEMENTS(names_exts); i++)
		if (strcmp(names_exts[i].ext, ext) == 0)
			return &names_exts[i];
	return NULL;
}

static gboolean
names_is_decoy(const char *ext)
{
	for (gsize i = 0; i < G_N_ELEMENTS(names_decoys); i++)
		if (strcmp(names_decoys[i], ext) == 0)
			return TRUE;
	return FALSE;
}

const char *
names_risk(const char *name)
{
	g_autofree char *ext = names_extension(name);
	const struct names_ext *e = names_ext_lookup(ext);

	return e != NULL ? e->finding : NULL;
}

gboolean
names_document_ext(const char *ext)
{
	return ext != NULL && names_is_decoy(ext) && strcmp(ext, "zip") != 0 &&
	    strcmp(ext, "rar") != 0 && strcmp(ext, "7z") != 0;
}

/* names_strip_end - length of NAME once Windows drops trailing dots and spaces */
static gsize
names_strip_end(const char *name, gsize len)
{
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '.'))
		len--;
	return len;
}

/* names_ext_at - the extension ending at NAME[len], lower-case, or NULL; *dot gets its dot */
static char *
names_ext_at(const char *name, gsize len, gsize *dot)
{
	gsize i = len;

	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/' && name[i - 1] != '\\')
		i--;
	if (i == 0 || name[i - 1] != '.' || i == len || len - i > 20)
		return NULL;
	*dot = i - 1;
	return g_ascii_strdown(name + i, (gssize)(len - i));
}

char *
names_extension(const char *name)
{
	gsize dot;

	if (name == NULL)
		return NULL;
	return names_ext_at(name, names_strip_end(name, strlen(name)), &dot);
}

gunichar
names_find_trick(const char *name, gboolean *is_bidi)
{
	if (name == NULL || !g_utf8_validate(name, -1, NULL))
		return 0;
	for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		int t = report_unichar_trick(c);

		if (t != REPORT_TRICK_NONE) {
			*is_bidi = t == REPORT_TRICK_BIDI;
			return c;
		}
	}
	return 0;
}

/* names_expect_ok - whether SNIFFED is one of the "|"-separated EXPECT */
static gboolean
names_expect_ok(const char *expect, const char *sniffed)
{
	gsize n = strlen(sniffed);

	for (const char *p = expect; p != NULL; p = strchr(p, '|'), p = p ? p + 1 : NULL)
		if (strncmp(p, sniffed, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return TRUE;
	return FALSE;
}

/*
 * names_blanks_before - bytes of blank characters ending at NAME[end]; *count
 * gets how many characters. Unicode spaces (U+00A0, U+2000..U+200A, U+3000)
 * and the Braille blank U+2800 hide an extension as well as ASCII ones.
 */
static gsize
names_blanks_before(const char *name, gsize end, gsize *count)
{
	const char *p = name + end;

	*count = 0;
	while (p > name) {
		const char *prev = g_utf8_find_prev_char(name, p);
		gunichar c;

		if (prev == NULL)
			break;
		c = g_utf8_get_char_validated(prev, p - prev);
		if (c == (gunichar)-1 || c == (gunichar)-2 || (!g_unichar_isspace(c) && c != 0x2800))
			break;
		p = prev;
		(*count)++;
	}
	return (gsize)(name + end - p);
}

/* names_check_double - name.double_extension for "invoice.pdf.exe", "a.docx   .scr" */
static void
names_check_double(struct moat_report *rep, const struct moat_part *part, const char *name)
{
	gsize len = names_strip_end(name, strlen(name)), dot, dot2, pad, nblanks;
	g_autofree char *last = names_ext_at(name, len, &dot);
	g_autofree char *prev = NULL;
	const struct names_ext *e = names_ext_lookup(last);

	if (e == NULL || e->finding == NULL)
		return;
	/* Blanks before the real extension push it out of sight in a file dialog. */
	pad = names_blanks_before(name, dot, &nblanks);
	prev = names_ext_at(name, dot - pad, &dot2);
	if (prev != NULL && names_is_decoy(prev))
		report_add_finding_at(rep, "name.double_extension", part,
		    "'%s' shows as .%s but is .%s%s", name, prev, last,
		    nblanks >= 3 ? " (padded with blanks)" : "");
	else if (nblanks >= 3)
		report_add_finding_at(rep, "name.double_extension", part,
		    "'%s': %zu blanks hide the real extension .%s", name, nblanks, last);
}

/* names_check_tricks - bidi controls and invisible characters in NAME */
static void
names_check_tricks(struct moat_report *rep, const struct moat_part *part, const char *name)
{
	gboolean bidi = FALSE;
	gunichar c = names_find_trick(name, &bidi);

	if (c == 0)
		return;
	report_add_finding_at(rep, bidi ? "name.bidi_control" : "name.invisible_char", part,
	    "U+%04X in '%s'", c, name);
}

/* names_type_ext - the extension a bare Content-Type stands for, or NULL */
static const char *
names_type_ext(const char *content_type)
{
	for (gsize i = 0; content_type != NULL && i < G_N_ELEMENTS(names_types); i++)
		if (g_ascii_strcasecmp(names_types[i].type, content_type) == 0)
			return names_types[i].ext;
	return NULL;
}

/*
 * names_check_type - attach.* by extension or by magic, and type.mismatch.
 * EXT is the declared extension (or the one a bare Content-Type stands for).
 * LABEL says where it was declared when that is not the name in the path
 * ("name 'photo.js'", "Content-Type application/pdf"), or is NULL.
 * Returns whether it recorded a type.mismatch.
 */
static gboolean
names_check_type(struct moat_report *rep, const struct moat_part *part, const char *ext,
    const char *label)
{
	const char *sep = label ? ": " : "";
	const struct names_ext *e = names_ext_lookup(ext);
	enum sniff_class cls = sniff_class_of(part->sniffed);
	const char *by_magic = NULL;

	switch (cls) {
	case SNIFF_EXECUTABLE:	by_magic = "attach.executable"; break;
	case SNIFF_SHORTCUT:
		by_magic = strcmp(part->sniffed, "url") == 0 ? "attach.internet_shortcut" : "attach.shortcut";
		break;
	case SNIFF_SCRIPT:	by_magic = "attach.script"; break;
	case SNIFF_DISK_IMAGE:	by_magic = "attach.disk_image"; break;
	default:
		if (g_strcmp0(part->sniffed, "chm") == 0)
			by_magic = "attach.compiled_help";
		else if (g_strcmp0(part->sniffed, "onenote") == 0)
			by_magic = "attach.onenote";
	}
	if (e != NULL && e->finding != NULL)
		report_add_finding_at(rep, e->finding, part, "%s%sextension .%s%s%s",
		    label ? label : "", sep, ext,
		    by_magic ? ", bytes are " : "", by_magic ? part->sniffed : "");
	if (by_magic != NULL && (e == NULL || e->finding == NULL || strcmp(e->finding, by_magic) != 0))
		report_add_finding_at(rep, by_magic, part, "%s%sbytes are %s",
		    label ? label : "", sep, part->sniffed);

	/* Text bytes under a binary name are left to later checks (HTML smuggling). */
	if (e != NULL && e->expect != NULL && cls != SNIFF_UNKNOWN && cls != SNIFF_TEXT &&
	    !names_expect_ok(e->expect, part->sniffed)) {
		report_add_finding_at(rep, "type.mismatch", part, "%s%s.%s declared, bytes are %s",
		    label ? label : "", sep, ext, part->sniffed);
		return TRUE;
	}
	return FALSE;
}

/*
 * names_check_content_type - type.mismatch for a Content-Type that lies
 * about the bytes (application/pdf holding a PE), when the name did not
 * already give one.
 */
static void
names_check_content_type(struct moat_report *rep, const struct moat_part *part)
{
	const char *ext = names_type_ext(part->content_type);
	const struct names_ext *e = names_ext_lookup(ext);
	enum sniff_class cls = sniff_class_of(part->sniffed);

	if (e != NULL && e->expect != NULL && cls != SNIFF_UNKNOWN && cls != SNIFF_TEXT &&
	    !names_expect_ok(e->expect, part->sniffed))
		report_add_finding_at(rep, "type.mismatch", part,
		    "Content-Type %s declared, bytes are %s", part->content_type, part->sniffed);
}

/* names_same - whether two names are one file to Windows (case-insensitive) */
static gboolean
names_same(const char *a, const char *b)
{
	g_autofree char *fa = g_utf8_casefold(a, -1);
	g_autofree char *fb = g_utf8_casefold(b, -1);

	return strcmp(fa, fb) == 0;
}

void
names_check_part(struct moat_report *rep, const struct moat_part *part)
{
	const char *names[2] = { part->disp_filename, part->type_name };
	gboolean named = FALSE, mismatch = FALSE;

	if (part->disp_filename != NULL && part->type_name != NULL &&
	    !names_same(part->disp_filename, part->type_name))
		report_add_finding_at(rep, "name.conflict", part,
		    "filename '%s' but name '%s'", part->disp_filename, part->type_name);

	for (int i = 0; i < 2; i++) {
		g_autofree char *ext = NULL;
		g_autofree char *label = NULL;

		if (names[i] == NULL || (i == 1 && names[0] != NULL && names_same(names[0], names[1])))
			continue;
		named = TRUE;
		ext = names_extension(names[i]);
		/* The path shows part->filename; any other name is spelled out. */
		if (part->filename == NULL || strcmp(names[i], part->filename) != 0)
			label = g_strdup_printf("name '%s'", names[i]);
		names_check_tricks(rep, part, names[i]);
		names_check_double(rep, part, names[i]);
		mismatch |= names_check_type(rep, part, ext, label);
	}
	/*
	 * A nameless text body that merely starts like a script or help file
	 * ("<package", "ITSF meeting") is text; binary magic (PE, LNK) still counts.
	 */
	if (!named && (part->content_type == NULL || !g_str_has_prefix(part->content_type, "text/") ||
	    sniff_class_of(part->sniffed) == SNIFF_EXECUTABLE ||
	    sniff_class_of(part->sniffed) == SNIFF_SHORTCUT))
		names_check_type(rep, part, NULL, NULL);	/* magic alone */
	if (!mismatch)
		names_check_content_type(rep, part);
}
