/*
 * decoy.c - the decoy layout (T1564.001)
 *
 * What the user sees on opening the archive is one shortcut or one
 * document; the programs sit in a folder named to be overlooked ("_",
 * "__", "#", a non-breaking or ideographic space) or marked hidden, often
 * many levels deep. Per container: every visible top-level file is a
 * shortcut or a document, and an odd or hidden folder holds a program, a
 * script or a shortcut. A Windows-zipped folder of photos with a hidden
 * Thumbs.db, or a macOS zip with __MACOSX/, holds no program and stays clean.
 */
#include <string.h>

#include "moat/lure.h"

/* decoy_odd_path - the first element of FOLDER that looks like a decoy folder's, or NULL */
static char *
decoy_odd_path(const char *folder)
{
	g_auto(GStrv) parts = g_strsplit(folder, "/", -1);

	for (guint i = 0; parts[i] != NULL; i++)
		if (lure_odd_folder(parts[i]))
			return g_strdup(parts[i]);
	return NULL;
}

/* decoy_spell - NAME as the evidence shows it: blanks and invisible characters by code point */
static char *
decoy_spell(const char *name)
{
	GString *out = g_string_new(NULL);

	for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c > 0x20 && c < 0x7f)
			g_string_append_c(out, (char)c);
		else
			g_string_append_printf(out, "<U+%04X>", c);
	}
	return g_string_free(out, FALSE);
}

/* decoy_levels - how many folders deep FOLDER is ("" is 0) */
static guint
decoy_levels(const char *folder)
{
	guint n = *folder != '\0';

	for (const char *p = folder; *p != '\0'; p++)
		n += *p == '/';
	return n;
}

/*
 * decoy_wrapper - the one plain folder every member of C sits in ("Docs/",
 * as zipping a folder makes it), or "" when there is none: what the user
 * sees first is that folder's top. Caller g_free()s.
 */
static char *
decoy_wrapper(const struct moat_part *c)
{
	g_autofree char *first = NULL;

	for (guint i = 0; i < c->children->len; i++) {
		const struct moat_part *m = c->children->pdata[i];
		const char *name = m->filename != NULL ? m->filename : "";
		const char *slash = strpbrk(name, "/\\");

		if (slash == NULL)
			return g_strdup("");
		if (first == NULL)
			first = g_strndup(name, (gsize)(slash - name));
		else if (strncmp(name, first, strlen(first)) != 0 || name + strlen(first) != slash)
			return g_strdup("");
	}
	if (first == NULL || lure_odd_folder(first) || lure_folder_hidden(c, first, NULL))
		return g_strdup("");
	return g_strdup_printf("%s/", first);
}

static void
decoy_container(struct moat_report *rep, const struct moat_part *c)
{
	const struct moat_part *shown = NULL, *payload = NULL;
	g_autofree char *why = NULL, *where = NULL, *wrapper = decoy_wrapper(c);
	gsize skip = strlen(wrapper);
	guint visible = 0;

	for (guint i = 0; i < c->children->len; i++) {
		const struct moat_part *m = c->children->pdata[i];
		g_autofree char *full = lure_folder(m->filename);
		g_autofree char *folder = g_strdup(strlen(full) >= skip ? full + skip : "");
		g_autofree char *odd = NULL;
		enum lure_kind k = lure_kind_of(m);
		const char *hidden = NULL;

		if (*folder == '\0') {
			if (m->hidden || m->system)
				continue;
			if (k != LURE_SHORTCUT && k != LURE_DOCUMENT)
				return;		/* a program or an archive in plain sight: another shape */
			visible++;
			if (shown == NULL || k == LURE_SHORTCUT)
				shown = m;
			continue;
		}
		if (payload != NULL || lure_system_folder(folder) ||
		    (k != LURE_PROGRAM && k != LURE_SCRIPT && k != LURE_SHORTCUT))
			continue;
		if ((odd = decoy_odd_path(folder)) != NULL) {
			g_autofree char *spelt = decoy_spell(odd);

			why = g_strdup_printf("folder '%s'", spelt);
		} else if (lure_folder_hidden(c, full, &hidden)) {
			why = g_strdup_printf("hidden folder '%s'", hidden);
		} else {
			continue;
		}
		payload = m;
		where = g_strdup_printf("%u level%s deep", decoy_levels(folder),
		    decoy_levels(folder) > 1 ? "s" : "");
	}
	if (shown == NULL || payload == NULL)
		return;
	report_add_finding_at(rep, "lure.decoy_folder", c,
	    "the top level shows only %u %s ('%s'); %s, %s, holds '%s'", visible,
	    lure_kind_of(shown) == LURE_SHORTCUT ? "shortcut or document" : "document",
	    shown->filename != NULL ? shown->filename : "?", why, where,
	    payload->filename != NULL ? payload->filename : "?");
}

void
lure_decoy_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		enum lure_kind k;

		if (p->children == NULL)
			continue;
		k = lure_kind_of(p);
		if (k == LURE_ARCHIVE || k == LURE_DISK_IMAGE)
			decoy_container(rep, p);
	}
}
