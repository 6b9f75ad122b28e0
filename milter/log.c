/*
 * log.c - moatd's log lines: syslog (mail facility), or stderr with -f
 *
 * Every line about a message starts with its queue id, NOQUEUE before the
 * MTA gave one. Text from mail must be cleaned by the caller
 * (report_clean_text) before it gets here. Thread-safe: one write per line.
 */
#include <stdio.h>
#include <syslog.h>

#include "moatd.h"

static gboolean log_stderr;

void
moatd_log_init(gboolean foreground)
{
	log_stderr = foreground;
	if (!foreground)
		openlog("moatd", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
moatd_log(const struct moatd_msg *msg, int level, const char *fmt, ...)
{
	/* Daemon-level lines (msg NULL) carry no queue id at all. */
	const char *qid = msg == NULL ? NULL : msg->queue_id ? msg->queue_id : "NOQUEUE";
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (log_stderr) {
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		g_autofree char *ts = g_date_time_format(now, "%F %T");

		fprintf(stderr, "%s moatd: %s%s%s\n", ts, qid ? qid : "", qid ? ": " : "", text);
	} else {
		syslog(level, "%s%s%s", qid ? qid : "", qid ? ": " : "", text);
	}
}
