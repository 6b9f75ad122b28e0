/*
 * policy.h - turn findings into an action
 *
 * Each finding's effective score is its catalogue score or the [scores]
 * override; the total is compared with the [policy] thresholds:
 * accept < tag_score <= tag < quarantine_score <= quarantine < reject_score <= reject.
 * Pure function of the report and the config.
 */
#ifndef MOAT_POLICY_H
#define MOAT_POLICY_H

#include "moat/conf.h"
#include "moat/report.h"

/* policy_decide - fill REP->verdict (and each finding's score) from REP->findings */
void policy_decide(struct moat_report *rep, const struct moat_conf *conf);

#endif
