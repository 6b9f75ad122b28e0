/*
 * policy.c - findings to score to action
 *
 * In: a report with findings and the config. Out: each finding's effective
 * score ([scores] override or catalogue default; "off" scores 0 and is
 * marked), the total, the action from the [policy] thresholds, and the
 * reasons: every scoring finding, highest score first. Pure, thread-safe.
 */
#include <string.h>

#include "moat/policy.h"

static gint
policy_by_score(gconstpointer a, gconstpointer b)
{
	const struct moat_finding *fa = *(const struct moat_finding *const *)a;
	const struct moat_finding *fb = *(const struct moat_finding *const *)b;

	if (fa->score != fb->score)
		return fa->score > fb->score ? -1 : 1;
	return strcmp(fa->id, fb->id);
}

void
policy_decide(struct moat_report *rep, const struct moat_conf *conf)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	struct moat_verdict *v = &rep->verdict;
	gint total = 0;

	g_ptr_array_set_size(v->reasons, 0);
	for (guint i = 0; i < rep->findings->len; i++) {
		struct moat_finding *f = rep->findings->pdata[i];
		gint s = conf_finding_score(conf, f->id, f->kind->score);

		f->off = s == CONF_SCORE_OFF;
		f->score = f->off ? 0 : s;
		total += f->score;
		if (f->score != 0)
			g_ptr_array_add(sorted, f);
	}
	g_ptr_array_sort(sorted, policy_by_score);
	for (guint i = 0; i < sorted->len; i++) {
		const struct moat_finding *f = sorted->pdata[i];

		g_ptr_array_add(v->reasons, g_strdup_printf("%s (%d)%s%s", f->id, f->score,
		    f->path_display[0] ? ": " : "", f->path_display));
	}
	v->score = total;
	if (total >= conf->reject_score)
		v->action = MOAT_REJECT;
	else if (total >= conf->quarantine_score)
		v->action = MOAT_QUARANTINE;
	else if (total >= conf->tag_score)
		v->action = MOAT_TAG;
	else
		v->action = MOAT_ACCEPT;
}
