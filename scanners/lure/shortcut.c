/*
 * shortcut.c - Windows shortcuts (.lnk) and Internet shortcuts (.url)
 *
 * A .lnk anywhere in the message (a mail part or any member) is read with
 * lnk_read() and judged by what it runs: a command interpreter or a system
 * binary that runs code, arguments behind a run of blanks, a relative
 * target into a folder of its own archive (the Mustang Panda layout:
 * "%ComSpec% /c _\_\_\putty.exe"), a document's icon on a program. A file
 * with a shortcut's header that cannot be read is itself a finding. A .url
 * to a web page is only an Internet shortcut; one to file:// or a UNC or
 * WebDAV path runs whatever the remote share serves.
 */
#include <string.h>

#include "moat/bytes.h"
#include "moat/lnk.h"
#include "moat/lure.h"
#include "moat/names.h"

#define URL_READ_MAX	65536	/* bytes of a .url read for its URL= line */
#define SHOW_MAX	160	/* characters of a command line in the evidence */

/* Programs a lure's shortcut runs: interpreters and system binaries that run code. */
static const char *const shortcut_runners[] = {
	"cmd", "powershell", "pwsh", "powershell_ise", "mshta", "rundll32", "regsvr32",
	"wscript", "cscript", "conhost", "forfiles", "curl", "bitsadmin", "certutil",
	"msiexec", "wmic", "schtasks", "cmstp", "installutil", "msbuild", "hh", "odbcconf",
	"pcalua", "scriptrunner", "ftp", "bash", "wsl", "expand", "esentutl", "finger",
	"msdt", "control", "regasm", "regsvcs", "presentationhost", "syncappvpublishingserver",
	"mavinject", "ieexec", "desktopimgdownldr", "tar", "xcopy", "robocopy", "java", "javaw",
	"python", "pythonw", "node",
};

/* Icons a lure borrows: documents, readers, browsers, Office. */
static const char *const shortcut_doc_icons[] = {
	"acrord32.exe", "acrobat.exe", "foxitreader.exe", "foxitpdfreader.exe", "msedge.exe",
	"chrome.exe", "firefox.exe", "iexplore.exe", "winword.exe", "excel.exe", "powerpnt.exe",
	"wordpad.exe", "notepad.exe", "sumatrapdf.exe",
};

/* shortcut_program - the base name of PATH, lower-case, without ".exe" */
static char *
shortcut_program(const char *path)
{
	const char *base = lure_basename(path);
	char *p = g_strstrip(g_ascii_strdown(base, -1));
	gsize n = strlen(p);

	if (n > 4 && strcmp(p + n - 4, ".exe") == 0)
		p[n - 4] = '\0';
	return p;
}

static gboolean
shortcut_listed(const char *const *list, gsize n, const char *name)
{
	for (gsize i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return TRUE;
	return FALSE;
}

/* shortcut_target - what the shortcut runs, as its fields say (borrowed from INFO), or NULL */
static const char *
shortcut_target(const struct lnk_info *info)
{
	if (info->local_base_path_unicode != NULL)
		return info->local_base_path_unicode;
	if (info->local_base_path != NULL)
		return info->local_base_path;
	if (info->env_target != NULL)
		return info->env_target;
	if (info->relative_path != NULL)
		return info->relative_path;
	return info->target_name;
}

/* shortcut_runner - the runner the shortcut starts (a shortcut_runners[] name), or NULL */
static const char *
shortcut_runner(const struct lnk_info *info)
{
	const char *fields[] = { shortcut_target(info), info->env_target, info->relative_path,
		info->target_name };

	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		g_autofree char *prog = NULL, *folded = NULL;

		if (fields[i] == NULL)
			continue;
		folded = g_ascii_strdown(fields[i], -1);
		if (strstr(folded, "%comspec%") != NULL)	/* Windows ignores the case of variables */
			return "cmd";
		prog = shortcut_program(fields[i]);
		for (gsize k = 0; k < G_N_ELEMENTS(shortcut_runners); k++)
			if (strcmp(shortcut_runners[k], prog) == 0)
				return shortcut_runners[k];
	}
	return NULL;
}

/* shortcut_show - S cut for the evidence line (caller g_free()s) */
static char *
shortcut_show(const char *s)
{
	if (s == NULL)
		return g_strdup("");
	if (g_utf8_strlen(s, -1) <= SHOW_MAX)
		return g_strdup(s);
	return g_strdup_printf("%.*s…", (int)(g_utf8_offset_to_pointer(s, SHOW_MAX) - s), s);
}

/*
 * shortcut_names - container C's members by lower-case name ('/'-separated),
 * made once per container and kept in NAMES (container -> table)
 */
static GHashTable *
shortcut_names(GHashTable *names, const struct moat_part *c)
{
	GHashTable *t = g_hash_table_lookup(names, c);

	if (t != NULL)
		return t;
	t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; c->children != NULL && i < c->children->len; i++) {
		const struct moat_part *m = c->children->pdata[i];
		char *key;

		if (m->filename == NULL)
			continue;
		key = g_ascii_strdown(m->filename, -1);
		g_strdelimit(key, "\\", '/');
		g_hash_table_insert(t, key, (gpointer)m);
	}
	g_hash_table_insert(names, (gpointer)c, t);
	return t;
}

/*
 * shortcut_member - the member of container C that path TOKEN (from a
 * shortcut's fields, '\\'-separated, maybe quoted, maybe ".\"-prefixed)
 * names, looked up in C's member table NAMES from the shortcut's own
 * folder HOME (lower-case, "" at the top) and from the top; NULL when none
 */
static const struct moat_part *
shortcut_member(GHashTable *names, const char *home, const char *token)
{
	const struct moat_part *m;
	g_autofree char *from_home = NULL;
	g_autofree char *t = g_strdup(token);
	char *p = t;
	gsize n;

	g_strdelimit(t, "\\", '/');
	g_strstrip(t);
	while (*p == '"' || *p == '\'')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == '"' || p[n - 1] == '\''))
		p[--n] = '\0';
	/* ".\", "%cd%\", "%~dp0\": the shortcut's own folder */
	for (;;) {
		if (g_str_has_prefix(p, "./"))
			p += 2;
		else if (g_ascii_strncasecmp(p, "%cd%/", 5) == 0)
			p += 5;
		else if (g_ascii_strncasecmp(p, "%~dp0", 5) == 0)
			p += p[5] == '/' ? 6 : 5;
		else
			break;
	}
	if (*p == '\0' || strchr(p, '/') == NULL || strchr(p, ':') != NULL || *p == '%' || *p == '/')
		return NULL;	/* only relative paths into a folder: not C:\, %VAR%, \\host */
	for (char *c = p; *c != '\0'; c++)
		*c = g_ascii_tolower(*c);
	if (*home != '\0') {
		from_home = g_strconcat(home, "/", p, NULL);
		if ((m = g_hash_table_lookup(names, from_home)) != NULL)
			return m;
	}
	return g_hash_table_lookup(names, p);
}

/* shortcut_into_archive - a member of LNK's container that LNK's fields run, or NULL */
static const struct moat_part *
shortcut_into_archive(GHashTable *tables, const struct moat_part *lnk, const struct lnk_info *info)
{
	const char *fields[] = { info->relative_path, info->arguments, info->local_base_path_unicode,
		info->local_base_path, info->working_dir };
	g_autofree char *home = NULL;
	GHashTable *names;

	if (lnk->parent == NULL)
		return NULL;
	names = shortcut_names(tables, lnk->parent);
	home = lure_folder(lnk->filename);
	for (char *c = home; *c != '\0'; c++)
		*c = g_ascii_tolower(*c);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		g_auto(GStrv) tokens = NULL;

		if (fields[i] == NULL)
			continue;
		/* quoted paths may hold blanks: split on quotes first, then on blanks */
		tokens = g_strsplit_set(fields[i], "\" ", -1);
		for (guint k = 0; tokens[k] != NULL; k++) {
			const struct moat_part *m = shortcut_member(names, home, tokens[k]);

			if (m != NULL)
				return m;
		}
		if (fields[i] == info->arguments) {
			g_auto(GStrv) quoted = g_strsplit(fields[i], "\"", -1);

			/* the odd pieces are inside quotes; stop at the
			 * terminator, never step over it */
			for (guint k = 1; quoted[k - 1] != NULL && quoted[k] != NULL; k += 2) {
				const struct moat_part *m = shortcut_member(names, home, quoted[k]);

				if (m != NULL)
					return m;
			}
		}
	}
	return NULL;
}

/* shortcut_doc_icon - whether the icon is a document's or a reader's while the target is not */
static gboolean
shortcut_doc_icon(const struct lnk_info *info)
{
	g_autofree char *icon = NULL, *target = NULL, *ext = NULL;
	const char *where = info->icon_location != NULL ? info->icon_location : info->env_icon;
	const char *comma;

	if (where == NULL)
		return FALSE;
	icon = g_ascii_strdown(lure_basename(where), -1);
	if ((comma = strchr(icon, ',')) != NULL)
		icon[comma - icon] = '\0';	/* "acrord32.exe,1": the icon index */
	g_strstrip(icon);
	target = g_ascii_strdown(lure_basename(shortcut_target(info) != NULL ?
	    shortcut_target(info) : ""), -1);
	if (strcmp(icon, target) == 0)
		return FALSE;
	ext = names_extension(icon);
	return (ext != NULL && names_document_ext(ext)) ||
	    shortcut_listed(shortcut_doc_icons, G_N_ELEMENTS(shortcut_doc_icons), icon);
}

/* shortcut_lnk - the findings for the shortcut P, LEN bytes at DATA */
static void
shortcut_lnk(struct moat_report *rep, const struct moat_conf *conf, GHashTable *tables,
    const struct moat_part *p, const guint8 *data, gsize len)
{
	struct lnk_info info = { 0 };
	const struct moat_part *into;
	const char *runner;
	g_autofree char *args = NULL, *target = NULL;

	if (lnk_read(&info, data, len) < 0) {
		report_add_finding_at(rep, "lure.lnk_malformed", p,
		    "%" G_GSIZE_FORMAT " bytes with a shortcut's header that do not read as one", len);
		return;
	}
	args = shortcut_show(info.arguments);
	target = shortcut_show(shortcut_target(&info));
	if ((runner = shortcut_runner(&info)) != NULL)
		report_add_finding_at(rep, "lure.lnk_interpreter", p, "runs %s: %s %s",
		    runner, target, args);
	if (info.arguments_blanks >= conf->lure.lnk_blanks)
		report_add_finding_at(rep, "lure.lnk_padding", p,
		    "%u blanks before the arguments '%s'", info.arguments_blanks, args);
	if ((into = shortcut_into_archive(tables, p, &info)) != NULL)
		report_add_finding_at(rep, "lure.lnk_relative_target", p,
		    "runs '%s' from its own %s", into->filename,
		    p->parent->filename != NULL ? p->parent->filename : "container");
	if ((runner != NULL || into != NULL) && shortcut_doc_icon(&info))
		report_add_finding_at(rep, "lure.lnk_document_icon", p,
		    "icon '%s' on a shortcut that runs %s",
		    info.icon_location != NULL ? info.icon_location : info.env_icon, target);
	lnk_info_clear(&info);
}

/*
 * shortcut_file_url - whether URL V opens a file rather than a page:
 * file:, a UNC path (\\host\share, //host/share, WebDAV's host@SSL),
 * or a Windows search or diagnostics handler that shows or runs files
 * from a remote share (search-ms:, search:, ms-msdt:)
 */
static gboolean
shortcut_file_url(const char *v)
{
	static const char *const schemes[] = { "file:", "search-ms:", "search:", "ms-msdt:" };

	for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++)
		if (g_ascii_strncasecmp(v, schemes[i], strlen(schemes[i])) == 0)
			return TRUE;
	return g_str_has_prefix(v, "\\\\") || g_str_has_prefix(v, "//");
}

/* shortcut_url - lure.url_file for an Internet shortcut P whose URL= is a file path */
static void
shortcut_url(struct moat_report *rep, const struct moat_part *p, const guint8 *data, gsize len)
{
	g_autofree char *text = g_strndup((const char *)data, MIN(len, URL_READ_MAX));
	g_auto(GStrv) lines = g_strsplit_set(text, "\r\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		const char *v = g_strstrip(lines[i]);

		if (g_ascii_strncasecmp(v, "URL=", 4) != 0)
			continue;
		v += 4;
		if (shortcut_file_url(v)) {
			g_autofree char *show = report_clean_text(v, -1, SHOW_MAX);

			report_add_finding_at(rep, "lure.url_file", p, "opens %s", show);
			return;
		}
	}
}

void
lure_shortcut_check(struct moat_report *rep, const struct moat_conf *conf)
{
	/* container -> its members by name: one table per container, not one search per token */
	GHashTable *tables = g_hash_table_new_full(NULL, NULL, NULL,
	    (GDestroyNotify)g_hash_table_unref);

	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		const char *risk = names_risk(p->filename);
		gsize len;
		const guint8 *data = lure_data(p, &len);

		if (data == NULL)
			continue;
		if ((p->sniffed != NULL && strcmp(p->sniffed, "lnk") == 0) ||
		    (risk != NULL && strcmp(risk, "attach.shortcut") == 0 && bytes_fit(0, 4, len) &&
		    bytes_le32(data) == 0x4c))
			shortcut_lnk(rep, conf, tables, p, data, len);
		else if ((risk != NULL && strcmp(risk, "attach.internet_shortcut") == 0) ||
		    (len >= 18 && g_ascii_strncasecmp((const char *)data, "[InternetShortcut]", 18) == 0))
			shortcut_url(rep, p, data, len);
	}
	g_hash_table_unref(tables);
}
