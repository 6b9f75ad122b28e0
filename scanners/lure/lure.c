/*
 * lure.c - the lure detectors' driver and the facts they share (lure.h)
 *
 * lure_check() runs the detectors in a fixed order over the report; the
 * helpers here say what a part is (program, script, shortcut, archive,
 * disk image, document), which folder of its container it sits in and
 * whether that folder is hidden. [lure] rows and the side-loading pairs
 * file are read here too.
 */
#include <math.h>
#include <string.h>

#include "moat/confkeys.h"
#include "moat/lure.h"
#include "moat/names.h"
#include "moat/sniff.h"

/* [lure]: the lure detectors (conf->lure), parsed by conf.c */
static const struct conf_key lure_conf_keys[] = {
	{ "lure", "sideload_pairs", CONF_STRING, CONF_OFF(lure.sideload_pairs),
	    MOAT_DATADIR "/sideload.pairs;/etc/moat/sideload.pairs", 0, 4096,
	    "Files of known side-loading pairs, separated by ';': one `host.exe dll.dll` per line "
	    "(# comments). A pair found in a message is extra evidence for lure.sideload. "
	    "A missing file is skipped; moat's own list is installed in the first." },
	{ "lure", "lnk_blanks", CONF_UINT, CONF_OFF(lure.lnk_blanks), "16", 1, 100000,
	    "Blanks before a shortcut's arguments from which they count as hidden "
	    "(lure.lnk_padding): Windows shows only the first 260 characters." },
	{ "lure", "skip", CONF_STRING, CONF_OFF(lure.skip), "", 0, 1024,
	    "Detectors that do not run, separated by ';': shortcut, sideload, image, decoy, "
	    "nesting, masquerade, smuggle, script, embedded, password, office, and derive (the "
	    "stage that walks files smuggled in pages and opens encrypted archives with the "
	    "mail's passwords). For cost or a test; a finding that misfires is tuned in "
	    "[scores], which keeps it in the report." },
};

const struct conf_group lure_conf_group = CONF_GROUP("lure", lure_conf_keys);

#define LURE_PAIRS_MAX	100000	/* pairs read from all files */
#define LURE_NAME_MAX	255	/* bytes of a host or DLL name in a pair */

/* lure_pair_name - whether NAME can be half of a pair: a file name, no separators */
static gboolean
lure_pair_name(const char *name)
{
	return *name != '\0' && strlen(name) <= LURE_NAME_MAX && strpbrk(name, "/\\") == NULL &&
	    g_utf8_validate(name, -1, NULL);
}

/* lure_fields - the blank-separated words of LINE (NULL-terminated; caller g_strfreev()s) */
static char **
lure_fields(const char *line)
{
	char **all = g_strsplit_set(line, " \t\r", -1);
	GPtrArray *words = g_ptr_array_new();

	for (guint i = 0; all[i] != NULL; i++) {
		if (*all[i] != '\0')
			g_ptr_array_add(words, all[i]);
		else
			g_free(all[i]);
	}
	g_free(all);		/* the words moved to WORDS, the empty ones are freed */
	g_ptr_array_add(words, NULL);
	return (char **)g_ptr_array_free(words, FALSE);
}

/* lure_pairs_read - the pairs in PATH added to PAIRS; NULL, or an error (a missing file is none) */
static char *
lure_pairs_read(GPtrArray *pairs, const char *path)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) gerr = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, &gerr))
		return g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? NULL :
		    g_strdup_printf("[lure] sideload_pairs: %s", gerr->message);
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		char *hash = strchr(lines[i], '#');
		g_auto(GStrv) f = NULL;

		if (hash != NULL)
			*hash = '\0';
		f = lure_fields(lines[i]);
		if (f[0] == NULL)
			continue;
		if (f[1] == NULL || f[2] != NULL || !lure_pair_name(f[0]) || !lure_pair_name(f[1]))
			return g_strdup_printf("%s:%u: expected `host.exe dll.dll`", path, i + 1);
		if (pairs->len >= LURE_PAIRS_MAX)
			return g_strdup_printf("%s:%u: more than %u pairs", path, i + 1, LURE_PAIRS_MAX);
		g_ptr_array_add(pairs, g_strdup_printf("%s/%s", f[0], f[1]));
	}
	return NULL;
}

static gint
lure_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The detectors in the order lure_check() runs them, by the names [lure] skip takes. */
static const struct {
	const char *name;
	void (*check)(struct moat_report *rep, const struct moat_conf *conf);
} lure_detectors[] = {
	/* The shortcut detector first: the side-loading one reads what it found. */
	{ "shortcut", lure_shortcut_check }, { "sideload", lure_sideload_check },
	{ "image", lure_image_check }, { "decoy", lure_decoy_check },
	{ "nesting", lure_nesting_check }, { "masquerade", lure_masquerade_check },
	{ "smuggle", lure_smuggle_check }, { "script", lure_script_check },
	{ "embedded", lure_embedded_check }, { "password", lure_password_check },
	{ "office", lure_office_check },
};

gboolean
lure_skipped(const struct moat_conf *conf, const char *name)
{
	gsize n = strlen(name);

	for (const char *p = conf->lure.skip; p != NULL && *p != '\0'; p += strcspn(p, ";")) {
		p += strspn(p, "; \t");
		if (strncmp(p, name, n) == 0 && strchr("; \t", p[n]) != NULL)
			return TRUE;	/* strchr() finds the terminating '\0' too */
	}
	return FALSE;
}

/* lure_skip_check - NULL, or an error naming the first word of [lure] skip that is no detector */
static char *
lure_skip_check(const char *skip)
{
	g_auto(GStrv) words = g_strsplit(skip, ";", -1);

	for (guint i = 0; words[i] != NULL; i++) {
		const char *w = g_strstrip(words[i]);
		gboolean known = *w == '\0' || strcmp(w, "derive") == 0;

		for (gsize d = 0; !known && d < G_N_ELEMENTS(lure_detectors); d++)
			known = strcmp(w, lure_detectors[d].name) == 0;
		if (!known)
			return g_strdup_printf("[lure] skip: no detector is called '%s'", w);
	}
	return NULL;
}

char *
lure_conf_finish(struct moat_conf *conf)
{
	g_auto(GStrv) paths = g_strsplit(conf->lure.sideload_pairs, ";", -1);
	GPtrArray *pairs = g_ptr_array_new();
	char *why = lure_skip_check(conf->lure.skip);

	for (guint i = 0; why == NULL && paths[i] != NULL; i++)
		if (*g_strstrip(paths[i]) != '\0')
			why = lure_pairs_read(pairs, paths[i]);
	if (why != NULL) {
		g_ptr_array_foreach(pairs, (GFunc)(void (*)(void))g_free, NULL);
		g_ptr_array_unref(pairs);
		return why;
	}
	for (guint i = 0; i < pairs->len; i++) {
		char *folded = g_utf8_casefold(pairs->pdata[i], -1);

		g_free(pairs->pdata[i]);
		pairs->pdata[i] = folded;
	}
	g_ptr_array_sort(pairs, lure_strcmp);
	g_ptr_array_add(pairs, NULL);
	g_strfreev(conf->lure.pairs);
	conf->lure.pairs = (char **)g_ptr_array_free(pairs, FALSE);
	return NULL;
}

void
lure_check(struct moat_report *rep, const struct moat_conf *conf)
{
	/* [limits] scan_budget_ms covers the detectors too: past it, the rest do not run. */
	for (gsize i = 0; i < G_N_ELEMENTS(lure_detectors) && !report_over_budget(rep); i++)
		if (!lure_skipped(conf, lure_detectors[i].name))
			lure_detectors[i].check(rep, conf);
}

/* Facts about parts ---------------------------------------------------------- */

/* lure_runnable_name - whether member M is a program, script or shortcut by its name or magic */
static gboolean
lure_runnable_name(const struct moat_part *m)
{
	const char *risk = names_risk(m->filename);
	enum sniff_class c = sniff_class_of(m->sniffed);

	return c == SNIFF_EXECUTABLE || c == SNIFF_SCRIPT ||
	    (m->sniffed != NULL && strcmp(m->sniffed, "lnk") == 0) ||
	    (risk != NULL && strcmp(risk, "attach.internet_shortcut") != 0 &&
	    strcmp(risk, "attach.disk_image") != 0);
}

/*
 * lure_office - whether zip P is an OOXML, ODF or other zip-based document
 * (a DOCX is a zip): named so, or holding [Content_Types].xml or an ODF
 * manifest. One that holds a program, script or shortcut is an archive
 * whatever it is called: a manifest dropped in must not hide a lure.
 */
static gboolean
lure_office(const struct moat_part *p)
{
	g_autofree char *ext = names_extension(p->filename);
	gboolean office = ext != NULL && names_document_ext(ext);

	for (guint i = 0; p->children != NULL && i < p->children->len; i++) {
		const struct moat_part *c = p->children->pdata[i];

		if (lure_runnable_name(c))
			return FALSE;
		if (c->filename != NULL && (strcmp(c->filename, "[Content_Types].xml") == 0 ||
		    strcmp(c->filename, "mimetype") == 0 || strcmp(c->filename, "META-INF/manifest.xml") == 0))
			office = TRUE;
	}
	return office;
}

enum lure_kind
lure_kind_of(const struct moat_part *p)
{
	const char *risk = names_risk(p->filename);
	g_autofree char *ext = names_extension(p->filename);

	switch (sniff_class_of(p->sniffed)) {
	case SNIFF_EXECUTABLE:
		return LURE_PROGRAM;
	case SNIFF_SHORTCUT:
		if (strcmp(p->sniffed, "lnk") == 0)
			return LURE_SHORTCUT;
		break;
	case SNIFF_DISK_IMAGE:
		return LURE_DISK_IMAGE;
	case SNIFF_ARCHIVE:
		if (strcmp(p->sniffed, "zip") == 0 && lure_office(p))
			return LURE_DOCUMENT;
		return LURE_ARCHIVE;
	default:
		break;
	}
	if (risk != NULL) {
		if (strcmp(risk, "attach.executable") == 0)
			return LURE_PROGRAM;
		if (strcmp(risk, "attach.script") == 0)
			return LURE_SCRIPT;
		if (strcmp(risk, "attach.shortcut") == 0)
			return LURE_SHORTCUT;
		if (strcmp(risk, "attach.disk_image") == 0)
			return LURE_DISK_IMAGE;
	}
	if (sniff_class_of(p->sniffed) == SNIFF_SCRIPT)
		return LURE_SCRIPT;
	if ((ext != NULL && names_document_ext(ext)) || sniff_class_of(p->sniffed) == SNIFF_DOCUMENT ||
	    sniff_class_of(p->sniffed) == SNIFF_MEDIA)
		return LURE_DOCUMENT;
	return LURE_OTHER;
}

const char *
lure_basename(const char *name)
{
	const char *slash;

	if (name == NULL)
		return NULL;
	slash = strrchr(name, '/');
	if (strrchr(name, '\\') > slash)
		slash = strrchr(name, '\\');
	return slash != NULL ? slash + 1 : name;
}

char *
lure_folder(const char *name)
{
	const char *base = lure_basename(name);
	char *folder;

	if (name == NULL || base == name)
		return g_strdup("");
	folder = g_strndup(name, (gsize)(base - name - 1));
	g_strdelimit(folder, "\\", '/');
	return folder;
}

gboolean
lure_folder_hidden(const struct moat_part *c, const char *folder, const char **which)
{
	g_autofree char *f = g_strdup(folder);
	const char *found = NULL;

	/* "a/b/c", then "a/b", then "a": FOUND ends as the outermost hidden one */
	while (*f != '\0') {
		const struct moat_dir *d = report_part_dir(c, f);
		char *slash;

		if (d != NULL && (d->hidden || d->system))
			found = d->name;
		if ((slash = strrchr(f, '/')) == NULL)
			break;
		*slash = '\0';
	}
	if (which != NULL)
		*which = found;
	return found != NULL;
}

gboolean
lure_odd_folder(const char *name)
{
	if (name == NULL || *name == '\0' || !g_utf8_validate(name, -1, NULL))
		return FALSE;
	for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '_' || c == '#' || c == '~' || c == '-' || c == '.' || c == '$' ||
		    g_unichar_isspace(c) || c == 0x00a0 || c == 0x3000 || c == 0x2800 ||
		    report_unichar_trick(c) != REPORT_TRICK_NONE)
			continue;
		return FALSE;
	}
	return TRUE;
}

const struct moat_part *
lure_runnable_below(const struct moat_part *c, guint *levels)
{
	for (guint i = 0; c->children != NULL && i < c->children->len; i++) {
		const struct moat_part *m = c->children->pdata[i], *found;
		enum lure_kind k = lure_kind_of(m);
		guint below = 0;

		if (k == LURE_PROGRAM || k == LURE_SCRIPT || k == LURE_SHORTCUT) {
			if (levels != NULL)
				*levels = 0;
			return m;
		}
		if ((found = lure_runnable_below(m, &below)) != NULL) {
			if (levels != NULL)
				*levels = below + 1;
			return found;
		}
	}
	return NULL;
}

gboolean
lure_system_folder(const char *name)
{
	static const char *const folders[] = {
		"$RECYCLE.BIN", "RECYCLER", "System Volume Information",
	};

	for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(folders); i++) {
		gsize n = strlen(folders[i]);

		if (g_ascii_strncasecmp(name, folders[i], n) == 0 && (name[n] == '\0' || name[n] == '/'))
			return TRUE;
	}
	return FALSE;
}

double
lure_entropy(const guint8 *data, gsize len)
{
	guint64 count[256] = { 0 };
	double h = 0;

	if (len == 0)
		return 0;
	for (gsize i = 0; i < len; i++)
		count[data[i]]++;
	for (int i = 0; i < 256; i++) {
		double q = (double)count[i] / (double)len;

		if (count[i] != 0)
			h -= q * log2(q);
	}
	return h;
}

const guint8 *
lure_data(const struct moat_part *p, gsize *len)
{
	*len = 0;
	return p->content != NULL ? g_bytes_get_data(p->content, len) : NULL;
}
