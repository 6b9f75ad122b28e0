/*
 * embedded.c - OneNote and CHM files that carry something to run (T1566.001, T1218.001)
 *
 * lure.onenote_payload: a OneNote section (.one, sniffed "onenote") that
 * embeds a program, a script (HTA, batch, PowerShell, VBScript, JScript,
 * WSF), a shortcut, a disk image or a compiled help file: the notebook
 * shows a picture of a button over it and the user double-clicks the
 * file. Two views: the members the container walk recorded under the
 * notebook (libclamav extracts embedded files; one without a name is
 * recorded only when it is a program, script, shortcut or disk image, so
 * a batch file or an HTML-looking HTA is dropped there), and the
 * notebook's own FileDataStoreObjects (MS-ONESTORE 2.6.13: the GUID
 * {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, a 64-bit length, 12 bytes, the
 * file), found here with memmem() and sniffed (sniff.h, then
 * lure_script_language() for text). The names of embedded files are
 * UTF-16LE strings in the notebook; those with a runnable extension are
 * quoted in the evidence. Pictures, PDFs, Office files and plain text
 * stay clean (attach.onenote still scores the notebook). A script found
 * only as a blob also goes through the script checks (script.c).
 *
 * lure.chm_payload: a compiled help file (sniffed "chm") whose members
 * (libclamav extracts them, names and all) hold a program, script or
 * shortcut, or a page that runs one: the HHCtrl ActiveX object
 * (clsid:adb880a6-d8ff-11cf-9377-00aa003b7a11) with Command "ShortCut"
 * (hh.exe starts the program Item1 names), or script that drives
 * WScript.Shell or Shell.Application (.Run, .Exec, ShellExecute) or saves
 * a file with ADODB.Stream. Such a page goes through the script checks
 * too. Help pages with HHCtrl's Related Topics, keyword links or Close
 * buttons, pictures and navigation script stay clean (attach.compiled_help
 * still scores the file).
 *
 * Bounds: EMBEDDED_BLOBS_MAX blobs and EMBEDDED_NAMES_MAX names per
 * notebook, the first EMBEDDED_PAGE_MAX bytes of each CHM page,
 * EMBEDDED_MEMBERS_MAX members per file; every scan is memmem() or a
 * forward pass. Pure function of the report; reentrant.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/names.h"
#include "moat/sniff.h"

#define EMBEDDED_BLOBS_MAX	256		/* FileDataStoreObjects looked at per notebook */
#define EMBEDDED_NAMES_MAX	8		/* names quoted per notebook */
#define EMBEDDED_NAME_UNITS	128		/* UTF-16 units of one name */
#define EMBEDDED_MEMBERS_MAX	10000		/* members of one file looked at */
#define EMBEDDED_PAGE_MAX	(1u << 20)	/* bytes of a CHM page read */
#define EMBEDDED_SAID_MAX	6		/* payloads named in the evidence */
#define EMBEDDED_BLOB_HEAD	36		/* guidHeader, cbLength, unused, reserved */
#define EMBEDDED_SCRIPTS_MAX	4		/* script blobs per notebook read by the script checks */

/* FileDataStoreObject's guidHeader, as the bytes of {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC} */
static const guint8 embedded_blob_guid[16] = {
	0xe7, 0x16, 0xe3, 0xbd, 0x65, 0x26, 0x11, 0x45,
	0xa4, 0xc4, 0x8d, 0x4d, 0x0b, 0x7a, 0x9e, 0xac,
};

/* Extensions of the embedded files quoted by name. */
static const char *const embedded_exts[] = {
	"exe", "scr", "dll", "com", "pif", "cpl", "msi", "hta", "js", "jse", "vbs", "vbe",
	"wsf", "wsh", "ps1", "bat", "cmd", "lnk", "chm", "jar", "iso", "img", "vhd", "vhdx",
};

/* What one file carries, for the evidence. */
struct embedded_said {
	GString *what;		/* "hta (1 KB), pe 'View.exe'" */
	guint n, more;
};

static void G_GNUC_PRINTF(2, 3)
embedded_say(struct embedded_said *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n >= EMBEDDED_SAID_MAX) {
		s->more++;
		return;
	}
	if (s->n++ > 0)
		g_string_append(s->what, ", ");
	va_start(ap, fmt);
	g_string_append_vprintf(s->what, fmt, ap);
	va_end(ap);
}

static void
embedded_said_end(struct embedded_said *s)
{
	if (s->more > 0)
		g_string_append_printf(s->what, " and %u more", s->more);
}

/* embedded_size - LEN as "812 bytes" or "14 KB" (caller g_free()s) */
static char *
embedded_size(gsize len)
{
	return len < 1024 ? g_strdup_printf("%" G_GSIZE_FORMAT " bytes", len) :
	    g_strdup_printf("%" G_GSIZE_FORMAT " KB", (len + 1023) / 1024);
}

/*
 * embedded_runnable - what the LEN bytes at D are when a user should not
 * run them from a notebook ("pe", "lnk", "hta", "batch", ...), or NULL
 */
static const char *
embedded_runnable(const guint8 *d, gsize len)
{
	enum sniff_class cls;
	const char *type = sniff_type(d, MIN(len, SNIFF_HEAD_BYTES), &cls);

	switch (cls) {
	case SNIFF_EXECUTABLE:
	case SNIFF_SCRIPT:
	case SNIFF_DISK_IMAGE:
		return type;
	case SNIFF_SHORTCUT:
		return strcmp(type, "lnk") == 0 ? type : NULL;
	case SNIFF_DOCUMENT:
		return strcmp(type, "chm") == 0 ? type : NULL;
	case SNIFF_TEXT:
	case SNIFF_UNKNOWN:
		return lure_script_language(d, len);
	default:
		return NULL;
	}
}

/* embedded_is_member - whether container C has a member holding exactly the LEN bytes at D */
static gboolean
embedded_is_member(const struct moat_part *c, const guint8 *d, gsize len)
{
	for (guint i = 0; c->children != NULL && i < c->children->len && i < EMBEDDED_MEMBERS_MAX; i++) {
		gsize mlen;
		const guint8 *m = lure_data(c->children->pdata[i], &mlen);

		if (m != NULL && mlen == len && memcmp(m, d, len) == 0)
			return TRUE;
	}
	return FALSE;
}

/* embedded_names - the names with a runnable extension among the UTF-16LE strings of D */
static void
embedded_names(const guint8 *d, gsize len, GString *out)
{
	guint found = 0;

	for (const guint8 *p = d; found < EMBEDDED_NAMES_MAX &&
	    (p = memchr(p, '.', len - (gsize)(p - d))) != NULL; p++) {
		gsize at = (gsize)(p - d), e = at + 2, start = at, units = 0;
		char ext[8];
		gsize n = 0;
		gboolean known = FALSE;

		if (at + 1 >= len || d[at + 1] != 0)
			continue;
		while (e + 1 < len && n < 5 && d[e + 1] == 0 && g_ascii_isalnum(d[e])) {
			ext[n++] = g_ascii_tolower(d[e]);
			e += 2;
		}
		ext[n] = '\0';
		if (n == 0 || n > 4 || (e + 1 < len && d[e + 1] == 0 && g_ascii_isalnum(d[e])))
			continue;
		for (gsize i = 0; i < G_N_ELEMENTS(embedded_exts) && !known; i++)
			known = strcmp(ext, embedded_exts[i]) == 0;
		if (!known)
			continue;
		/* back over the name: printable units, no path or quote characters */
		while (start >= 2 && units < EMBEDDED_NAME_UNITS) {
			guint u = d[start - 2] | d[start - 1] << 8;

			if (u < 0x20 || u == 0x7f || (u < 0x80 && strchr("\\/:*?\"<>|", (int)u) != NULL) ||
			    (u >= 0xd800 && u < 0xe000))
				break;
			start -= 2;
			units++;
		}
		/* a file's own name stands alone: after a length or a NUL, not in a path or URL */
		if (start >= 2 && (d[start - 1] != 0 || d[start - 2] >= 0x20))
			units = 0;
		if (units > 0) {
			gunichar2 u16[EMBEDDED_NAME_UNITS + 8];
			glong nu = (glong)((e - start) / 2);
			g_autofree char *name = NULL;

			for (glong k = 0; k < nu; k++)	/* D may be odd-aligned */
				u16[k] = (gunichar2)(d[start + 2 * k] | d[start + 2 * k + 1] << 8);
			name = g_utf16_to_utf8(u16, nu, NULL, NULL, NULL);
			if (name != NULL) {
				g_autofree char *clean = report_clean_text(name, -1, 0);
				g_autofree char *listed = g_strdup_printf(", %s,", clean);
				g_autofree char *have = g_strdup_printf(", %s,", out->str);

				if (strstr(have, listed) == NULL)	/* each name once */
					g_string_append_printf(out, "%s%s", found++ > 0 ? ", " : "", clean);
			}
		}
		p = d + e - 1;
	}
}

/*
 * embedded_blobs - the notebook ONE's FileDataStoreObjects that are
 * runnable, named in S; each script that is not a member of ONE already
 * goes through the script checks
 */
static void
embedded_blobs(struct moat_report *rep, const struct moat_part *one, const guint8 *d, gsize len,
    struct embedded_said *s)
{
	guint blobs = 0, scripts = 0;
	gsize at = 0;

	while (blobs < EMBEDDED_BLOBS_MAX && at + EMBEDDED_BLOB_HEAD <= len && !report_over_budget(rep)) {
		const guint8 *p = memmem(d + at, len - at, embedded_blob_guid, 16), *file;
		gsize room, blen;
		guint64 cb = 0;
		const char *type;
		g_autofree char *size = NULL;

		if (p == NULL || len - (gsize)(p - d) < EMBEDDED_BLOB_HEAD)
			break;
		blobs++;
		for (int i = 7; i >= 0; i--)
			cb = cb << 8 | p[16 + i];
		file = p + EMBEDDED_BLOB_HEAD;
		room = len - (gsize)(file - d);
		blen = cb < room ? (gsize)cb : room;	/* a length past the end: what is there */
		at = (gsize)(file - d) + blen;		/* the next one starts after this file */
		if (blen == 0 || (type = embedded_runnable(file, blen)) == NULL)
			continue;
		if (embedded_is_member(one, file, blen))
			continue;	/* the walk recorded it: named with the members, checked as a part */
		size = embedded_size(blen);
		embedded_say(s, "%s (%s)", type, size);
		if (sniff_class_of(type) != SNIFF_EXECUTABLE && strcmp(type, "lnk") != 0 &&
		    sniff_class_of(type) != SNIFF_DISK_IMAGE && strcmp(type, "chm") != 0 &&
		    scripts++ < EMBEDDED_SCRIPTS_MAX) {
			g_autofree char *what = g_strdup_printf("embedded %s", type);

			lure_script_content(rep, one, file, blen, type, what);
		}
	}
}

/* embedded_members - the runnable members under C (depth first, bounded), named in S */
static void
embedded_members(const struct moat_part *c, struct embedded_said *s, guint *seen)
{
	for (guint i = 0; c->children != NULL && i < c->children->len && *seen < EMBEDDED_MEMBERS_MAX; i++) {
		const struct moat_part *m = c->children->pdata[i];
		enum lure_kind k = lure_kind_of(m);
		const char *name = lure_basename(m->filename);

		(*seen)++;
		if (k == LURE_PROGRAM || k == LURE_SCRIPT || k == LURE_SHORTCUT || k == LURE_DISK_IMAGE) {
			const char *kind = k == LURE_PROGRAM ? "program" : k == LURE_SCRIPT ? "script" :
			    k == LURE_SHORTCUT ? "shortcut" : "disk image";

			/* the walk names a nameless one "(embedded pe)" */
			if (name == NULL || g_str_has_prefix(name, "(embedded "))
				embedded_say(s, "a %s (%s)", kind, m->sniffed != NULL ? m->sniffed : "?");
			else
				embedded_say(s, "%s '%s'", kind, name);
		} else {
			embedded_members(m, s, seen);
		}
	}
}

/* embedded_onenote - lure.onenote_payload for notebook P */
static void
embedded_onenote(struct moat_report *rep, const struct moat_part *p)
{
	struct embedded_said s = { g_string_new(NULL), 0, 0 };
	g_autoptr(GString) names = g_string_new(NULL);
	guint seen = 0;
	gsize len;
	const guint8 *d = lure_data(p, &len);
	guint members;

	embedded_members(p, &s, &seen);
	members = s.n + s.more;
	if (d != NULL) {
		struct embedded_said blobs = { g_string_new(NULL), 0, 0 };

		embedded_blobs(rep, p, d, len, &blobs);
		embedded_said_end(&blobs);
		if (blobs.n > 0)
			g_string_append_printf(s.what, "%s%s", members > 0 ? ", " : "", blobs.what->str);
		s.n += blobs.n;
		g_string_free(blobs.what, TRUE);
		if (s.n > 0)
			embedded_names(d, len, names);
	}
	embedded_said_end(&s);
	if (s.n > 0)
		report_add_finding_at(rep, "lure.onenote_payload", p, "the notebook embeds %s%s%s",
		    s.what->str, names->len > 0 ? "; names in it: " : "", names->str);
	g_string_free(s.what, TRUE);
}

/* embedded_find - the first NEEDLE in LOW[FROM, TO), or G_MAXSIZE */
static gsize
embedded_find(const char *low, gsize from, gsize to, const char *needle)
{
	const char *p = from < to ? memmem(low + from, to - from, needle, strlen(needle)) : NULL;

	return p != NULL ? (gsize)(p - low) : G_MAXSIZE;
}

/* embedded_param - the value of PARAM NAME (lower-case) in LOW[FROM, TO), cleaned (caller g_free()s), or NULL */
static char *
embedded_param(const char *low, const char *orig, gsize from, gsize to, const char *name)
{
	g_autofree char *key = g_strdup_printf("name=\"%s\"", name);
	gsize at = embedded_find(low, from, to, key), v, e;

	if (at == G_MAXSIZE || (v = embedded_find(low, at, MIN(to, at + 64), "value=\"")) == G_MAXSIZE)
		return NULL;
	v += 7;
	for (e = v; e < to && e - v < 160 && low[e] != '"'; e++)
		;
	return report_clean_text(orig + v, (gssize)(e - v), 0);
}

/*
 * embedded_page - what CHM page M (its first bytes) does that runs a program:
 * "runs «Item1» through the HHCtrl ShortCut command" or "drives WScript.Shell"
 * (caller g_free()s), or NULL
 */
static char *
embedded_page(const guint8 *d, gsize len)
{
	static const char *const shells[] = { "wscript.shell", "shell.application", "adodb.stream" };
	static const char *const runs[] = { ".run", ".exec", "shellexecute", "savetofile" };
	gsize n = MIN(len, EMBEDDED_PAGE_MAX);
	g_autofree char *low = g_ascii_strdown((const char *)d, (gssize)n);
	g_autofree char *orig = g_strndup((const char *)d, n);
	gsize obj = 0;

	n = strlen(low);	/* a NUL ends the page */
	for (guint k = 0; k < 64; k++) {
		gsize end;

		obj = embedded_find(low, obj, n, "adb880a6-d8ff-11cf-9377-00aa003b7a11");
		if (obj == G_MAXSIZE)
			break;
		end = embedded_find(low, obj, n, "</object");
		end = end == G_MAXSIZE ? MIN(n, obj + 4096) : end;
		if (embedded_find(low, obj, end, "\"shortcut\"") != G_MAXSIZE ||
		    embedded_find(low, obj, end, "=shortcut") != G_MAXSIZE) {
			g_autofree char *item = embedded_param(low, orig, obj, end, "item1");

			return g_strdup_printf("runs «%s» with the HHCtrl ShortCut command",
			    item != NULL ? item : "?");
		}
		obj = end;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(shells); i++)
		if (embedded_find(low, 0, n, shells[i]) != G_MAXSIZE)
			for (gsize j = 0; j < G_N_ELEMENTS(runs); j++)
				if (embedded_find(low, 0, n, runs[j]) != G_MAXSIZE)
					return g_strdup_printf("runs script that uses %s (%s)", shells[i], runs[j]);
	return NULL;
}

/* embedded_pages - the CHM pages under C that run programs, named in S; their script checked */
static void
embedded_pages(struct moat_report *rep, const struct moat_part *c, struct embedded_said *s, guint *seen)
{
	for (guint i = 0; c->children != NULL && i < c->children->len && *seen < EMBEDDED_MEMBERS_MAX &&
	    !report_over_budget(rep); i++) {
		const struct moat_part *m = c->children->pdata[i];
		gsize len;
		const guint8 *d = lure_data(m, &len);
		g_autofree char *why = NULL;

		(*seen)++;
		embedded_pages(rep, m, s, seen);
		if (d == NULL || sniff_class_of(m->sniffed) != SNIFF_TEXT ||
		    (why = embedded_page(d, len)) == NULL)
			continue;
		embedded_say(s, "page '%s', which %s", lure_basename(m->filename) != NULL ?
		    lure_basename(m->filename) : "?", why);
		lure_script_content(rep, m, d, len, "hta", "help page");
	}
}

/* embedded_chm - lure.chm_payload for compiled help file P */
static void
embedded_chm(struct moat_report *rep, const struct moat_part *p)
{
	struct embedded_said s = { g_string_new(NULL), 0, 0 };
	guint seen = 0;

	embedded_members(p, &s, &seen);
	seen = 0;
	embedded_pages(rep, p, &s, &seen);
	embedded_said_end(&s);
	if (s.n > 0)
		report_add_finding_at(rep, "lure.chm_payload", p, "the help file holds %s", s.what->str);
	g_string_free(s.what, TRUE);
}

void
lure_embedded_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len && !report_over_budget(rep); i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (g_strcmp0(p->sniffed, "onenote") == 0)
			embedded_onenote(rep, p);
		else if (g_strcmp0(p->sniffed, "chm") == 0)
			embedded_chm(rep, p);
	}
}
