/*
 * reload.c - the running config (held by reference, reloaded on SIGHUP) and
 * the admission of messages (closed by SIGTERM's drain)
 *
 * In: the config moatd started with, SIGHUPs (moatd_reload, called from
 * main.c's signal thread), MAIL FROMs and message ends (mlfi.c). Out: the
 * config each message uses. Locks: reload_lock serialises reloads;
 * conf_lock guards the current pointer for the time of a swap or a
 * reference; gate_lock and gate_cond the counts the drain waits on. Order:
 * reload_lock, then gate_lock, then conf_lock. No libmilter here.
 */
#include <stddef.h>
#include <string.h>
#include <syslog.h>

#include "moat/av.h"
#include "moat/moat.h"
#include "moatd.h"
#include "reload.h"
#include "stats.h"

static GMutex reload_lock;
static char *reload_path;		/* NULL before init and after shutdown */
static gboolean reload_missing_ok;
static guint reload_generation;

static GMutex conf_lock;
static struct moatd_conf_ref *conf_current;

static GMutex gate_lock;
static GCond gate_cond;
static gboolean gate_draining;
static guint gate_in_flight;
static guint gate_conns;

/*
 * The strings a running moatd cannot change: sockets are bound, privileges
 * dropped, the quarantine store is open (or, in hold mode, not).
 */
static const struct {
	const char *group, *key;
	size_t offset;
} restart_keys[] = {
	{ "milter", "socket", offsetof(struct moat_conf, milter.socket) },
	{ "milter", "socket_owner", offsetof(struct moat_conf, milter.socket_owner) },
	{ "milter", "socket_group", offsetof(struct moat_conf, milter.socket_group) },
	{ "milter", "user", offsetof(struct moat_conf, milter.user) },
	{ "milter", "status_socket", offsetof(struct moat_conf, milter.status_socket) },
	{ "quarantine", "mode", offsetof(struct moat_conf, quarantine.mode) },
	{ "quarantine", "dir", offsetof(struct moat_conf, quarantine.dir) },
	{ "quarantine", "backend", offsetof(struct moat_conf, quarantine.backend) },
	{ "quarantine", "pg_conninfo", offsetof(struct moat_conf, quarantine.pg_conninfo) },
	{ "quarantine", "node", offsetof(struct moat_conf, quarantine.node) },
};

/* moatd_conf_ref_new - a reference holder for CONF (taken over), one reference */
static struct moatd_conf_ref *
moatd_conf_ref_new(struct moat_conf *conf, guint generation)
{
	struct moatd_conf_ref *ref = g_new0(struct moatd_conf_ref, 1);

	ref->conf = conf;
	ref->generation = generation;
	ref->refs = 1;
	return ref;
}

/* moatd_conf_swap - make REF (its reference taken over) current; drop the old one */
static void
moatd_conf_swap(struct moatd_conf_ref *ref)
{
	struct moatd_conf_ref *old;

	g_mutex_lock(&conf_lock);
	old = conf_current;
	conf_current = ref;
	g_mutex_unlock(&conf_lock);
	moatd_conf_unref(old);	/* freed here, or by the last message that holds it */
}

void
moatd_conf_init(struct moat_conf *conf, const char *path, gboolean missing_ok)
{
	g_mutex_lock(&reload_lock);
	g_free(reload_path);
	reload_path = g_strdup(path);
	reload_missing_ok = missing_ok;
	reload_generation = 1;
	moatd_conf_swap(moatd_conf_ref_new(conf, reload_generation));
	g_mutex_unlock(&reload_lock);
	g_mutex_lock(&gate_lock);
	gate_draining = FALSE;
	g_mutex_unlock(&gate_lock);
}

struct moatd_conf_ref *
moatd_conf_get(void)
{
	struct moatd_conf_ref *ref;

	g_mutex_lock(&conf_lock);
	if ((ref = conf_current) != NULL)
		g_atomic_int_inc(&ref->refs);
	g_mutex_unlock(&conf_lock);
	return ref;
}

void
moatd_conf_unref(struct moatd_conf_ref *ref)
{
	if (ref == NULL || !g_atomic_int_dec_and_test(&ref->refs))
		return;
	conf_free(ref->conf);
	g_free(ref);
}

/* moatd_keep_restart_keys - give NEW the running values of the keys that need a restart */
static void
moatd_keep_restart_keys(struct moat_conf *new, const struct moat_conf *old)
{
	for (gsize i = 0; i < G_N_ELEMENTS(restart_keys); i++) {
		char **n = (char **)(void *)((char *)new + restart_keys[i].offset);
		char *const *o = (char *const *)(const void *)((const char *)old + restart_keys[i].offset);

		if (strcmp(*n, *o) == 0)
			continue;
		moatd_log(NULL, LOG_WARNING, "reload: [%s] %s: '%s' needs a restart; '%s' stays",
		    restart_keys[i].group, restart_keys[i].key, *n, *o);
		g_free(*n);
		*n = g_strdup(*o);
	}
	if (new->milter.socket_mode != old->milter.socket_mode) {
		moatd_log(NULL, LOG_WARNING, "reload: [milter] socket_mode: %04o needs a restart; "
		    "%04o stays", new->milter.socket_mode, old->milter.socket_mode);
		new->milter.socket_mode = old->milter.socket_mode;
	}
}

int
moatd_load_engine(const struct moat_conf *conf, char **err)
{
	g_autofree char *warn = NULL;
	int rc = av_load(conf, err, &warn);

	if (rc == 0 && warn != NULL)
		moatd_log(NULL, LOG_WARNING, "%s", warn);
	if (rc == 0 && conf->av.enabled)
		moatd_log(NULL, LOG_INFO, "libclamav engine loaded: %u signatures", av_signatures());
	stats_signatures(av_signatures());
	return rc;
}

int
moatd_reload(void)
{
	struct moat_conf *conf = NULL;
	struct moatd_conf_ref *old = NULL;
	char *err = NULL;
	int rc = MOAT_EINVAL;

	g_mutex_lock(&reload_lock);	/* one at a time; none after moatd_conf_shutdown() */
	if (reload_path == NULL || (old = moatd_conf_get()) == NULL)
		goto out;
	if ((rc = conf_load(&conf, &err, reload_path, reload_missing_ok)) < 0) {
		moatd_log(NULL, LOG_ERR, "reload failed, the running config stays: %s", err);
		stats_reload(FALSE);
		goto out;
	}
	moatd_keep_restart_keys(conf, old->conf);
	/*
	 * libclamav's engine is rebuilt from CONF before the swap, beside the
	 * running one (av.h): scans in flight keep theirs. When it fails, the
	 * running config and engine both stay.
	 */
	rc = moatd_load_engine(conf, &err);
	stats_engine_reload(rc == 0);
	if (rc < 0) {
		moatd_log(NULL, LOG_ERR, "reload failed, the running config and engine stay: %s", err);
		stats_reload(FALSE);
		goto out;
	}
	moatd_conf_swap(moatd_conf_ref_new(conf, ++reload_generation));
	conf = NULL;
	stats_reload(TRUE);
	moatd_log(NULL, LOG_INFO, "reloaded %s (config generation %u); messages in flight finish "
	    "with the one before", reload_path, reload_generation);
	rc = 0;
out:
	g_mutex_unlock(&reload_lock);
	moatd_conf_unref(old);
	conf_free(conf);
	g_free(err);
	return rc;
}

int
moatd_av_refresh(void)
{
	struct moatd_conf_ref *ref;
	g_autofree char *err = NULL;
	int rc = 0;

	g_mutex_lock(&reload_lock);
	if ((ref = moatd_conf_get()) != NULL && av_stale(ref->conf)) {
		moatd_log(NULL, LOG_INFO, "the signature databases changed: reloading the engine");
		rc = moatd_load_engine(ref->conf, &err);
		stats_engine_reload(rc == 0);
		if (rc < 0)
			moatd_log(NULL, LOG_ERR, "engine reload failed, the running engine stays: %s", err);
		else
			rc = 1;
	}
	g_mutex_unlock(&reload_lock);
	moatd_conf_unref(ref);
	return rc;
}

/* The thread that looks for new signatures every [av] check_seconds. */
static GMutex watch_lock;
static GCond watch_cond;
static gboolean watch_stop;
static GThread *watch_thread;

static gpointer
moatd_av_watch(gpointer data)
{
	gint64 next = 0;
	gboolean first = TRUE;

	(void)data;
	g_mutex_lock(&watch_lock);
	while (!watch_stop) {
		struct moatd_conf_ref *ref = moatd_conf_get();
		guint every = ref != NULL ? ref->conf->av.check_seconds : 0;
		gint64 now = g_get_monotonic_time();

		moatd_conf_unref(ref);
		/*
		 * The first look comes at once: after the privilege drop, a
		 * directory [milter] user cannot read shows now, not a reload later.
		 */
		if (every > 0 && next == 0)
			next = first ? now : now + (gint64)every * G_USEC_PER_SEC;
		first = FALSE;
		if (every > 0 && now >= next) {
			g_mutex_unlock(&watch_lock);
			moatd_av_refresh();
			g_mutex_lock(&watch_lock);
			next = 0;
			continue;
		}
		/* Wake at least every second: a reload may change check_seconds. */
		g_cond_wait_until(&watch_cond, &watch_lock, MIN(every > 0 ? next : G_MAXINT64,
		    now + G_USEC_PER_SEC));
	}
	g_mutex_unlock(&watch_lock);
	return NULL;
}

void
moatd_av_watch_start(void)
{
	watch_stop = FALSE;
	watch_thread = g_thread_new("moatd-av-watch", moatd_av_watch, NULL);
}

void
moatd_av_watch_stop(void)
{
	if (watch_thread == NULL)
		return;
	g_mutex_lock(&watch_lock);
	watch_stop = TRUE;
	g_cond_signal(&watch_cond);
	g_mutex_unlock(&watch_lock);
	g_thread_join(watch_thread);
	watch_thread = NULL;
}

struct moatd_conf_ref *
moatd_admit(void)
{
	struct moatd_conf_ref *ref = NULL;

	g_mutex_lock(&gate_lock);
	if (!gate_draining && (ref = moatd_conf_get()) != NULL)
		gate_in_flight++;
	g_mutex_unlock(&gate_lock);
	if (ref != NULL)
		stats_in_flight(1);
	return ref;
}

void
moatd_release(struct moatd_conf_ref *ref)
{
	if (ref == NULL)
		return;
	g_mutex_lock(&gate_lock);
	g_assert(gate_in_flight > 0);
	gate_in_flight--;
	g_cond_broadcast(&gate_cond);
	g_mutex_unlock(&gate_lock);
	stats_in_flight(-1);
	moatd_conf_unref(ref);
}

void
moatd_conn_opened(void)
{
	g_mutex_lock(&gate_lock);
	gate_conns++;
	g_mutex_unlock(&gate_lock);
	stats_connection(1);
}

void
moatd_conn_closed(void)
{
	g_mutex_lock(&gate_lock);
	if (gate_conns > 0)
		gate_conns--;
	g_cond_broadcast(&gate_cond);
	g_mutex_unlock(&gate_lock);
	stats_connection(-1);
}

void
moatd_drain_begin(void)
{
	g_mutex_lock(&gate_lock);
	gate_draining = TRUE;
	g_mutex_unlock(&gate_lock);
}

/* moatd_gate_wait - wait until *COUNT is 0 or UNTIL; what is left */
static guint
moatd_gate_wait(const guint *count, gint64 until)
{
	guint left;

	g_mutex_lock(&gate_lock);
	while (*count > 0 && g_cond_wait_until(&gate_cond, &gate_lock, until))
		;
	left = *count;
	g_mutex_unlock(&gate_lock);
	return left;
}

guint
moatd_drain_wait(gint64 until)
{
	return moatd_gate_wait(&gate_in_flight, until);
}

guint
moatd_conns_wait(gint64 until)
{
	return moatd_gate_wait(&gate_conns, until);
}

void
moatd_conf_shutdown(void)
{
	g_mutex_lock(&reload_lock);
	g_clear_pointer(&reload_path, g_free);
	moatd_conf_swap(NULL);
	g_mutex_unlock(&reload_lock);
}
