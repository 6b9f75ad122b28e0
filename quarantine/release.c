/*
 * release.c - release and delete a held item, for `moat quarantine` and moat-web
 *
 * In: the store, [quarantine]'s release settings, an item id and who acts.
 * Out: the item's transitions with their history lines, a delivery through
 * quar_smtp_send() and a syslog line per change. The steps and their
 * guarantees are release.h's: one place, so that the CLI and the browser
 * cannot drift apart. No state; blocking while the MTA answers.
 */
#include <syslog.h>
#include <unistd.h>

#include "moat/moat.h"
#include "moat/quarsmtp.h"
#include "moat/release.h"

/* release_header - the X-Moat-Released line a release puts first; caller g_free()s */
static char *
release_header(const char *who, const char *id)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S +0000");

	return g_strdup_printf("X-Moat-Released: by %s on %s (quarantine %s)\r\n", who, date, id);
}

/* release_join - RCPTS joined by ", "; caller g_free()s */
static char *
release_join(const GPtrArray *rcpts)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < rcpts->len; i++)
		g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", (const char *)rcpts->pdata[i]);
	return g_string_free(s, FALSE);
}

/*
 * release_send - IT's message (FD) to DEST, as C says, with the
 * X-Moat-Released line of WHO; 0 and *ANSWER, or MOAT_E* and *WHY
 */
static int
release_send(char **answer, char **why, const struct conf_quarantine *c,
    const struct quar_item *it, int fd, const GPtrArray *dest, const char *who)
{
	char *prepend = release_header(who, it->id);
	struct quar_smtp_job job = { .host_port = c->release_host,
		.helo = *c->release_helo != '\0' ? c->release_helo : g_get_host_name(),
		.timeout_seconds = c->release_timeout, .mail_from = it->mail_from,
		.rcpts = (const char *const *)dest->pdata, .n_rcpts = dest->len,
		.prepend = prepend, .fd = fd,
		.drop_prefix = "X-Moat-" };	/* verdict headers a sender forged, as moatd drops them */
	int rc = quar_smtp_send(answer, why, &job);

	g_free(prepend);
	return rc;
}

int
quar_release(struct quar *q, char **reply, char **rcpts, char **err,
    const struct conf_quarantine *c, const char *id, const GPtrArray *to, const char *who)
{
	struct quar_item *it = NULL;
	const GPtrArray *dest;
	char *list = NULL, *answer = NULL, *why = NULL, *detail = NULL;
	int fd = -1, rc;

	if ((rc = quar_get(q, &it, err, id)) < 0 || (rc = quar_message_open(q, &fd, err, id)) < 0)
		goto out;
	dest = to != NULL && to->len > 0 ? to : it->rcpts;
	if (dest->len == 0) {
		*err = g_strdup_printf("%s: no recipient", id);
		rc = MOAT_EINVAL;
		goto out;
	}
	list = release_join(dest);
	/* the claim: of two releases at once, one gets it and delivers */
	if ((rc = quar_transition(q, err, id, QUAR_HELD, QUAR_RELEASING, who, "release started",
	    list)) < 0)
		goto out;
	if ((rc = release_send(&answer, &why, c, it, fd, dest, who)) < 0) {
		char *e = NULL;

		/* held again, with the reason: it can be released later */
		quar_transition(q, &e, id, QUAR_RELEASING, QUAR_HELD, who, "release failed", why);
		g_free(e);
		syslog(LOG_WARNING, "quarantine: %s could not release %s to %s: %s", who, id, list, why);
		*err = why;
		why = NULL;
		rc = MOAT_EBUSY;
		goto out;
	}
	detail = g_strdup_printf("to %s via %s: %s", list, c->release_host, answer);
	if ((rc = quar_transition(q, &why, id, QUAR_RELEASING, QUAR_RELEASED, who, "released",
	    detail)) < 0) {
		/* delivered: say so loudly, or someone releases it again */
		syslog(LOG_ERR, "quarantine: %s released %s to %s (%s) but could not record it: %s",
		    who, id, list, answer, why);
		*err = g_strdup_printf("%s was DELIVERED (%s) but the store could not record it (%s); "
		    "do not release it again", id, answer, why);
		goto out;
	}
	syslog(LOG_NOTICE, "quarantine: %s released %s to %s (%s)", who, id, list, answer);
	*reply = answer;
	*rcpts = list;
	answer = list = NULL;		/* the caller's now */
out:
	if (fd >= 0)
		close(fd);
	quar_item_free(it);
	g_free(list);
	g_free(answer);
	g_free(why);
	g_free(detail);
	return rc;
}

int
quar_delete(struct quar *q, char **err, const char *id, const char *who)
{
	int rc;

	/* held or released: either may be deleted; releasing is someone's delivery in progress */
	rc = quar_transition(q, err, id, QUAR_HELD, QUAR_DELETED, who, "deleted", NULL);
	if (rc == MOAT_EBUSY) {
		g_clear_pointer(err, g_free);
		rc = quar_transition(q, err, id, QUAR_RELEASED, QUAR_DELETED, who, "deleted", NULL);
	}
	if (rc == 0)
		syslog(LOG_NOTICE, "quarantine: %s deleted %s", who, id);
	return rc;
}
