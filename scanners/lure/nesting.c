/*
 * nesting.c - archives inside archives, weighed by what the innermost holds (T1027)
 *
 * Each layer of archive is one more chance that a gateway gives up (depth
 * limits, unsupported formats, a password on the inner one). Nesting alone
 * is common and harmless: a ZIP of DOCX files is a ZIP of ZIPs, and people
 * zip folders that hold zips of photos. So an archive inside an archive is
 * a finding only when something below it runs: a program, a script or a
 * shortcut. Reported once, at the outermost archive that is itself inside
 * an archive.
 */
#include "moat/lure.h"

void
lure_nesting_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		const struct moat_part *inner;
		guint levels = 0;

		if (p->parent == NULL || p->children == NULL || lure_kind_of(p) != LURE_ARCHIVE ||
		    lure_kind_of(p->parent) != LURE_ARCHIVE)
			continue;
		if (p->parent->parent != NULL && lure_kind_of(p->parent->parent) == LURE_ARCHIVE)
			continue;	/* reported at the level above */
		if ((inner = lure_runnable_below(p, &levels)) == NULL)
			continue;
		report_add_finding_at(rep, "lure.nested_archive", p,
		    "archive inside %s holds '%s' %u level%s down",
		    p->parent->filename != NULL ? p->parent->filename : "an archive",
		    inner->filename != NULL ? inner->filename : "?", levels + 1,
		    levels == 0 ? "" : "s");
	}
}
