/*
 * store.c - moatd puts held mail into moat's quarantine store, and purges it
 *
 * In: a message as spooled (msg.c) and its decision. Out: an item in the
 * store, synced, before mlfi.c tells the MTA anything. The store pointer
 * is set once before the milter threads start and cleared after they end;
 * quarantine/ locks its index. The purge thread sleeps on a condition, so
 * moatd_store_close() wakes it at once.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "moat/moat.h"
#include "reload.h"
#include "stats.h"
#include "store.h"

#define STORE_PURGE_EVERY_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

static struct quar *store;		/* NULL in hold mode */
static guint store_pause_ms;		/* MOATD_TEST_STORE_PAUSE_MS: tests only */

static GMutex purge_lock;
static GCond purge_cond;
static gboolean purge_stop;
static GThread *purge_thread;

int
moatd_store_open(const struct moat_conf *conf, char **err)
{
	const char *pause = getenv("MOATD_TEST_STORE_PAUSE_MS");
	int rc;

	if (strcmp(conf->quarantine.mode, "store") != 0)
		return 0;
	if ((rc = quar_open(&store, err, conf, QUAR_CREATE)) < 0)
		return rc;
	moatd_log(NULL, LOG_INFO, "quarantine store: %s as node %s",
	    strcmp(conf->quarantine.backend, "sqlite") == 0 ? conf->quarantine.dir : "postgresql",
	    quar_node(store));
	if (pause != NULL && *pause != '\0') {
		store_pause_ms = (guint)CLAMP(g_ascii_strtoull(pause, NULL, 10), 0, 600000);
		moatd_log(NULL, LOG_WARNING, "MOATD_TEST_STORE_PAUSE_MS=%u: every put into the "
		    "quarantine waits before moatd answers (a test setting)", store_pause_ms);
	}
	return 0;
}

gboolean
moatd_store_active(void)
{
	return store != NULL;
}

const char *
moatd_store_node(void)
{
	return store != NULL ? quar_node(store) : "";
}

/* store_item - the index row of MSG and D: strings borrowed (MESSAGE_ID trimmed), but the key */
static void
store_item(struct quar_item *it, struct moatd_msg *msg, const struct moatd_decision *d,
    char *findings, char *report_json, char *message_id)
{
	const struct moat_report *rep = d->report;

	memset(it, 0, sizeof(*it));
	it->queue_id = msg->queue_id != NULL ? msg->queue_id : "";
	it->client_addr = msg->env.client_addr != NULL ? msg->env.client_addr : "";
	it->helo = msg->env.helo != NULL ? msg->env.helo : "";
	it->mail_from = msg->raw_from != NULL ? msg->raw_from : "";
	it->rcpts = msg->raw_rcpts;
	it->header_from = rep != NULL && rep->hdr.from != NULL ? rep->hdr.from : "";
	/* decoded for display when the scan got that far, else as received */
	it->subject = rep != NULL && rep->hdr.subject != NULL ? rep->hdr.subject :
	    msg->subject != NULL ? msg->subject : "";
	it->message_id = message_id;
	it->size = msg->size;
	it->score = rep != NULL ? rep->verdict.score : 0;
	it->action = (char *)report_action_name(d->action);
	it->findings = findings;
	it->report_json = report_json;
	it->key = moatd_msg_key(msg);
}

enum moatd_stored
moatd_store_put(char id[QUAR_ID_LEN + 1], struct moatd_msg *msg, const struct moatd_decision *d,
    const struct moat_conf *conf)
{
	g_autofree char *findings = d->report ? moatd_findings_line(d->report) : g_strdup("poison");
	g_autofree char *json = d->report ? report_to_json(d->report, FALSE) : g_strdup("");
	g_autofree char *err = NULL;
	g_autofree char *mid = g_strstrip(g_strdup(msg->message_id != NULL ? msg->message_id : ""));
	struct quar_source src = { NULL, 0, -1 };
	struct quar_item it;
	gboolean dup = FALSE;
	int rc;

	if (msg->mem != NULL) {
		src.data = msg->mem->data;
		src.len = msg->mem->len;
	} else {
		src.fd = msg->fd;
	}
	store_item(&it, msg, d, findings, json, mid);
	quar_set_max_bytes(store, conf->quarantine.max_bytes);	/* this message's config: reloads count */
	rc = quar_put(store, id, &dup, &err, &it, &src);
	g_free(it.key);
	if (rc == MOAT_EFULL) {
		stats_quarantine(STATS_QUAR_FULL);
		moatd_log(msg, LOG_ERR, "quarantine full: %s; %s", err, conf->quarantine.full_action);
		return MOATD_STORE_FULL;
	}
	if (rc < 0) {
		stats_quarantine(STATS_QUAR_FAILED);
		moatd_log(msg, LOG_ERR, "quarantine: cannot store the message: %s", err);
		return MOATD_STORE_FAILED;
	}
	stats_quarantine(dup ? STATS_QUAR_DUPLICATE : STATS_QUAR_STORED);
	/* the summary line names the item; a retry is worth a line of its own */
	if (dup)
		moatd_log(msg, LOG_INFO, "quarantine=%s was stored by an earlier attempt", id);
	if (store_pause_ms > 0)
		g_usleep((gulong)store_pause_ms * 1000);
	return MOATD_STORED;
}

/* store_purge_once - purge items older than DAYS, logged and counted */
static void
store_purge_once(guint days)
{
	g_autofree char *err = NULL;
	gint64 before = g_get_real_time() / G_USEC_PER_SEC - (gint64)days * 86400;
	guint n = 0;

	if (quar_purge(store, &n, &err, before) < 0)
		moatd_log(NULL, LOG_ERR, "quarantine purge: %s (%u purged)", err, n);
	else if (n > 0)
		moatd_log(NULL, LOG_INFO, "quarantine purge: %u item%s older than %u days", n,
		    n == 1 ? "" : "s", days);
	stats_quarantine_purged(n);
}

/* store_purge_loop - purge now, then every hour, with the running config's retention_days */
static gpointer
store_purge_loop(gpointer data)
{
	gint64 until;

	(void)data;
	g_mutex_lock(&purge_lock);
	while (!purge_stop) {
		struct moatd_conf_ref *ref = moatd_conf_get();
		guint days = ref != NULL ? ref->conf->quarantine.retention_days : 0;

		moatd_conf_unref(ref);
		g_mutex_unlock(&purge_lock);
		if (days > 0)
			store_purge_once(days);
		g_mutex_lock(&purge_lock);
		until = g_get_monotonic_time() + STORE_PURGE_EVERY_US;
		while (!purge_stop && g_cond_wait_until(&purge_cond, &purge_lock, until))
			;	/* woken early: stop, or a spurious wake-up */
	}
	g_mutex_unlock(&purge_lock);
	return NULL;
}

void
moatd_store_purge_start(void)
{
	if (store == NULL)
		return;
	purge_stop = FALSE;
	purge_thread = g_thread_try_new("moatd-purge", store_purge_loop, NULL, NULL);
	if (purge_thread == NULL)
		moatd_log(NULL, LOG_ERR, "cannot start the quarantine purge thread: "
		    "run moat quarantine purge from cron");
}

void
moatd_store_close(void)
{
	if (purge_thread != NULL) {
		g_mutex_lock(&purge_lock);
		purge_stop = TRUE;
		g_cond_signal(&purge_cond);
		g_mutex_unlock(&purge_lock);
		g_thread_join(purge_thread);
		purge_thread = NULL;
	}
	quar_close(store);
	store = NULL;
}
