/*
 * action.c - release and delete, as `moat quarantine release|delete` do
 *
 * In: an item id and the web user ("web:NAME" in the history). Out: the
 * store's transitions and a delivery through [quarantine] release_host
 * (quar_smtp_send). The same steps and history words as cli/quarantine.c:
 * a release first claims the item (held -> releasing, "release started"),
 * which the store does as one compare-and-set, so of two releases at once
 * (web and CLI, two browsers) one delivers and the other gets MOAT_EBUSY;
 * then sends, then records "released" or puts it back ("release failed").
 * Blocking: a release waits for the MTA, [quarantine] release_timeout per step.
 */
#include <syslog.h>
#include <unistd.h>

#include "moat/moat.h"
#include "moat/quarsmtp.h"
#include "web.h"

/* action_released_header - the X-Moat-Released line a release puts first */
static char *
action_released_header(const char *who, const char *id)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S +0000");

	return g_strdup_printf("X-Moat-Released: by %s on %s (quarantine %s)\r\n", who, date, id);
}

/* action_rcpts - the recipients joined by ", " */
static char *
action_rcpts(const GPtrArray *rcpts)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < rcpts->len; i++)
		g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", (const char *)rcpts->pdata[i]);
	return g_string_free(s, FALSE);
}

int
web_release(struct web_app *app, char **msg, const char *qid, const char *who)
{
	const struct conf_quarantine *c = &app->conf->quarantine;
	struct quar_item *it = NULL;
	g_autofree char *err = NULL, *list = NULL, *prepend = NULL, *reply = NULL, *detail = NULL;
	struct quar_smtp_job job;
	int fd = -1, rc;

	if ((rc = quar_get(app->q, &it, &err, qid)) < 0 ||
	    (rc = quar_message_open(app->q, &fd, &err, qid)) < 0)
		goto out;
	if (it->rcpts->len == 0) {
		err = g_strdup_printf("%s has no recipient", qid);
		rc = MOAT_EINVAL;
		goto out;
	}
	list = action_rcpts(it->rcpts);
	/* the claim: of two releases at once, one gets it and delivers */
	if ((rc = quar_transition(app->q, &err, qid, QUAR_HELD, QUAR_RELEASING, who, "release started",
	    list)) < 0)
		goto out;
	prepend = action_released_header(who, qid);
	job = (struct quar_smtp_job){ .host_port = c->release_host,
		.helo = *c->release_helo != '\0' ? c->release_helo : g_get_host_name(),
		.timeout_seconds = c->release_timeout, .mail_from = it->mail_from,
		.rcpts = (const char *const *)it->rcpts->pdata, .n_rcpts = it->rcpts->len,
		.prepend = prepend, .fd = fd, .drop_prefix = "X-Moat-" };
	if ((rc = quar_smtp_send(&reply, &err, &job)) < 0) {
		g_autofree char *why = g_steal_pointer(&err);

		quar_transition(app->q, &err, qid, QUAR_RELEASING, QUAR_HELD, who, "release failed", why);
		g_free(err);
		err = g_steal_pointer(&why);
		rc = MOAT_EBUSY;
		syslog(LOG_WARNING, "%s could not release %s to %s: %s", who, qid, list, err);
		goto out;
	}
	detail = g_strdup_printf("to %s via %s: %s", list, c->release_host, reply);
	if ((rc = quar_transition(app->q, &err, qid, QUAR_RELEASING, QUAR_RELEASED, who, "released",
	    detail)) < 0) {
		syslog(LOG_ERR, "%s released %s to %s (%s) but could not record it: %s", who, qid, list,
		    reply, err);
		g_free(err);
		err = g_strdup_printf("DELIVERED (%s) but the store could not record it; do not "
		    "release it again", reply);
		goto out;
	}
	syslog(LOG_NOTICE, "%s released %s to %s (%s)", who, qid, list, reply);
	err = g_steal_pointer(&reply);
out:
	if (fd >= 0)
		close(fd);
	quar_item_free(it);
	*msg = g_steal_pointer(&err);
	return rc;
}

int
web_delete(struct web_app *app, char **msg, const char *qid, const char *who)
{
	g_autofree char *err = NULL;
	int rc;

	/* held or released; releasing is someone's delivery in progress */
	rc = quar_transition(app->q, &err, qid, QUAR_HELD, QUAR_DELETED, who, "deleted", NULL);
	if (rc == MOAT_EBUSY) {
		g_clear_pointer(&err, g_free);
		rc = quar_transition(app->q, &err, qid, QUAR_RELEASED, QUAR_DELETED, who, "deleted", NULL);
	}
	if (rc == 0)
		syslog(LOG_NOTICE, "%s deleted %s", who, qid);
	*msg = g_steal_pointer(&err);
	return rc;
}
