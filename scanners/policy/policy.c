/*
 * policy.c - findings to score to action
 *
 * In: a report with findings and the config. Out: the direction (inbound,
 * or outbound with the [outbound] thresholds), policy.blocked_* findings
 * from the block lists, each finding's effective score ([scores] override
 * or catalogue default; "off" scores 0 and is marked; an allow list sets
 * it to 0 and marks it allowed, but never for av.* or policy.blocked_*),
 * the total, the action from the thresholds, and the reasons: every scoring
 * finding id, highest score first, then what allowed the message or its parts.
 * An id counts once per message, with its highest score: five programs in
 * one zip are one attach.executable, not five (each is still reported).
 * Pure, thread-safe.
 */
#include <string.h>

#include "moat/auth.h"
#include "moat/confkeys.h"
#include "moat/lists.h"
#include "moat/policy.h"

/* [policy]: the thresholds and the Subject tag (conf->policy), parsed by conf.c */
static const struct conf_key policy_conf_keys[] = {
	{ "policy", "tag_score", CONF_INT, CONF_OFF(policy.tag_score), "5", 1, 100000,
	    "Total score at or above which a message is tagged." },
	{ "policy", "quarantine_score", CONF_INT, CONF_OFF(policy.quarantine_score), "10", 1, 100000,
	    "Total score at or above which a message is quarantined." },
	{ "policy", "reject_score", CONF_INT, CONF_OFF(policy.reject_score), "20", 1, 100000,
	    "Total score at or above which a message is rejected." },
	{ "policy", "subject_tag", CONF_STRING, CONF_OFF(policy.subject_tag), "[SUSPICIOUS]", 0, 64,
	    "Put before the Subject of a tagged message (once); empty: leave the Subject alone." },
};

const struct conf_group policy_conf_group = CONF_GROUP("policy", policy_conf_keys);

static gint
policy_by_score(gconstpointer a, gconstpointer b)
{
	const struct moat_finding *fa = *(const struct moat_finding *const *)a;
	const struct moat_finding *fb = *(const struct moat_finding *const *)b;

	if (fa->score != fb->score)
		return fa->score > fb->score ? -1 : 1;
	return strcmp(fa->id, fb->id);
}

/* The thresholds of one direction. */
struct policy_thresholds {
	gint tag, quarantine, reject;
};

/* policy_score - F's effective score; a block scores the reject threshold unless [scores] says else */
static gint
policy_score(const struct moat_conf *conf, const struct moat_finding *f,
    const struct policy_thresholds *t)
{
	gint def = g_str_has_prefix(f->id, "policy.blocked_") ? t->reject : f->kind->score;

	return conf_finding_score_at(conf, f->id, def, t->tag, t->quarantine, t->reject);
}

/*
 * policy_dmarc_reject - with [auth] dmarc_reject, a DMARC fail whose policy
 * asks to reject this message is rejected whatever the score, unless
 * auth.dmarc_reject was switched off or allowed
 */
static void
policy_dmarc_reject(struct moat_report *rep, const struct moat_conf *conf)
{
	const struct moat_finding *f = report_has_finding(rep, "auth.dmarc_reject");

	if (!conf->auth.dmarc_reject || f == NULL || f->score <= 0 || rep->auth == NULL ||
	    g_strcmp0(rep->auth->dmarc.disposition, "reject") != 0 ||
	    rep->verdict.action == MOAT_REJECT)
		return;
	rep->verdict.action = MOAT_REJECT;
	g_ptr_array_insert(rep->verdict.reasons, 0, g_strdup_printf("DMARC policy of %s is "
	    "reject ([auth] dmarc_reject)", rep->auth->dmarc.from_domain));
}

void
policy_decide(struct moat_report *rep, const struct moat_conf *conf)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	g_autoptr(GPtrArray) allowed_parts = g_ptr_array_new();
	g_autoptr(GHashTable) counted = g_hash_table_new(g_str_hash, g_str_equal);
	struct moat_verdict *v = &rep->verdict;
	struct policy_thresholds t = { conf->policy.tag_score, conf->policy.quarantine_score, conf->policy.reject_score };
	gint total = 0;

	v->direction = lists_direction(&rep->env, conf);
	if (v->direction == MOAT_OUTBOUND)
		t = (struct policy_thresholds){ conf->outbound.tag_score, conf->outbound.quarantine_score,
		    conf->outbound.reject_score };
	lists_block(rep, conf);
	if (rep->env.rcpt_dropped > 0 && report_has_finding(rep, "policy.recipients_dropped") == NULL)
		report_add_finding(rep, "policy.recipients_dropped", NULL, "%u recipients kept, "
		    "%u more counted", rep->env.rcpt_to->len, rep->env.rcpt_dropped);
	g_free(v->allowed);
	v->allowed = lists_allowed(rep, conf);
	g_ptr_array_set_size(v->reasons, 0);
	for (guint i = 0; i < rep->findings->len; i++) {
		struct moat_finding *f = rep->findings->pdata[i];
		gint s = policy_score(conf, f, &t);
		const struct moat_part *by_hash = NULL;

		f->off = s == CONF_SCORE_OFF;
		f->allowed = FALSE;
		if (!lists_binding(f) && (v->allowed != NULL ||
		    (by_hash = lists_hash_allowed(rep, conf, f)) != NULL)) {
			f->allowed = TRUE;
			/* One reason per part that kept a finding from counting. */
			if (by_hash != NULL && !f->off && s != 0 &&
			    !g_ptr_array_find(allowed_parts, by_hash, NULL))
				g_ptr_array_add(allowed_parts, (gpointer)by_hash);
		}
		f->score = f->off || f->allowed ? 0 : s;
		if (f->score != 0)
			g_ptr_array_add(sorted, f);
	}
	g_ptr_array_sort(sorted, policy_by_score);
	for (guint i = 0; i < sorted->len; i++) {
		const struct moat_finding *f = sorted->pdata[i];

		if (!g_hash_table_add(counted, f->id))
			continue;	/* the same id again, with a score no higher: counted once */
		total += f->score;
		g_ptr_array_add(v->reasons, g_strdup_printf("%s (%d)%s%s", f->id, f->score,
		    f->path_display[0] ? ": " : "", f->path_display));
	}
	if (v->allowed != NULL)
		g_ptr_array_add(v->reasons, g_strdup_printf("allowed: %s", v->allowed));
	for (guint i = 0; i < allowed_parts->len; i++) {
		const struct moat_part *p = allowed_parts->pdata[i];

		g_ptr_array_add(v->reasons, g_strdup_printf("allowed: sha256 %s: %s", p->sha256,
		    p->path_display));
	}
	v->score = total;
	if (total >= t.reject)
		v->action = MOAT_REJECT;
	else if (total >= t.quarantine)
		v->action = MOAT_QUARANTINE;
	else if (total >= t.tag)
		v->action = MOAT_TAG;
	else
		v->action = MOAT_ACCEPT;
	policy_dmarc_reject(rep, conf);
}
