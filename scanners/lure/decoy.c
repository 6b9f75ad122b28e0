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

/* decoy_levels - how many folders deep FOLDER is ("" is 0) */
static guint
decoy_levels(const char *folder)
{
	guint n = *folder != '\0';

	for (const char *p = folder; *p != '\0'; p++)
		n += *p == '/';
	return n;
}

static void
decoy_container(struct moat_report *rep, const struct moat_part *c)
{
	const struct moat_part *shown = NULL, *payload = NULL;
	g_autofree char *why = NULL, *where = NULL;
	guint visible = 0;

	for (guint i = 0; i < c->children->len; i++) {
		const struct moat_part *m = c->children->pdata[i];
		g_autofree char *folder = lure_folder(m->filename);
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
		if (payload != NULL || (k != LURE_PROGRAM && k != LURE_SCRIPT && k != LURE_SHORTCUT))
			continue;
		if ((odd = decoy_odd_path(folder)) != NULL) {
			why = g_strdup_printf("folder '%s'", odd);
		} else if (lure_folder_hidden(c, folder, &hidden)) {
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
	    shown->filename, why, where, payload->filename);
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
