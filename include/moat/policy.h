/*
 * policy.h - turn findings into an action
 *
 * Each finding's effective score is its catalogue score or the [scores]
 * override; the total is compared with the [policy] thresholds, or the
 * [outbound] ones for outbound mail (lists_direction()):
 * accept < tag_score <= tag < quarantine_score <= quarantine < reject_score <= reject.
 * The [lists] (lists.h) add policy.blocked_* findings, which score the
 * reject threshold, and an allow entry sets the findings it covers to 0,
 * except av.* and policy.blocked_*. Pure function of the report and the config.
 */
#ifndef MOAT_POLICY_H
#define MOAT_POLICY_H

#include "moat/conf.h"
#include "moat/report.h"

/*
 * policy_decide - fill REP->verdict (direction, allowed, action, score,
 * reasons) and each finding's score from REP->findings, REP->env and
 * REP->parts; adds the policy.blocked_* findings (once: it may run again).
 */
void policy_decide(struct moat_report *rep, const struct moat_conf *conf);

#endif
