/*
 * image.c - disk images by mail that carry something to run (T1553.005)
 *
 * Files inside an ISO, IMG or VHD lose the Mark-of-the-Web when Windows
 * mounts the image on a double-click, so SmartScreen and Office's macro
 * block never see them. attach.disk_image marks every image; this detector
 * adds lure.disk_image_payload when the image holds programs, scripts,
 * shortcuts or hidden files (at any depth, through archives inside it).
 * Images moat cannot list give container.opaque_image in the walk (walk.h).
 */
#include <string.h>

#include "moat/lure.h"

/* What an image holds, counted over its members and theirs. */
struct image_tally {
	guint programs, scripts, shortcuts, hidden;
	const struct moat_part *first;	/* the first of them, for the evidence */
};

static void
image_count(const struct moat_part *c, struct image_tally *t, unsigned depth)
{
	for (guint i = 0; c->children != NULL && i < c->children->len; i++) {
		const struct moat_part *m = c->children->pdata[i];
		g_autofree char *folder = lure_folder(m->filename);
		gboolean counted = TRUE;

		switch (lure_kind_of(m)) {
		case LURE_PROGRAM:	t->programs++; break;
		case LURE_SCRIPT:	t->scripts++; break;
		case LURE_SHORTCUT:	t->shortcuts++; break;
		default:		counted = FALSE; break;
		}
		if (!lure_system_folder(m->filename) && (m->hidden || m->system ||
		    (depth == 0 && lure_folder_hidden(c, folder, NULL)))) {
			t->hidden++;
			counted = TRUE;
		}
		if (counted && t->first == NULL)
			t->first = m;
		image_count(m, t, depth + 1);
	}
}

void
lure_image_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		struct image_tally t = { 0 };
		GString *what;

		if (p->children == NULL || lure_kind_of(p) != LURE_DISK_IMAGE)
			continue;
		image_count(p, &t, 0);
		if (t.first == NULL)
			continue;
		what = g_string_new(NULL);
		if (t.programs > 0)
			g_string_append_printf(what, "%u program%s, ", t.programs, t.programs > 1 ? "s" : "");
		if (t.scripts > 0)
			g_string_append_printf(what, "%u script%s, ", t.scripts, t.scripts > 1 ? "s" : "");
		if (t.shortcuts > 0)
			g_string_append_printf(what, "%u shortcut%s, ", t.shortcuts,
			    t.shortcuts > 1 ? "s" : "");
		if (t.hidden > 0)
			g_string_append_printf(what, "%u hidden (or in a hidden folder), ", t.hidden);
		g_string_truncate(what, what->len - 2);
		report_add_finding_at(rep, "lure.disk_image_payload", p, "holds %s (first: %s)",
		    what->str, t.first->filename != NULL ? t.first->filename : "?");
		g_string_free(what, TRUE);
	}
}
