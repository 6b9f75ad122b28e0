/*
 * reload.h - moatd's running config: shared by reference, replaced on
 * SIGHUP; and the admission of messages, which SIGTERM's drain closes
 *
 * Each message takes a reference to the config that is current at its MAIL
 * FROM (moatd_admit) and keeps it to its end (moatd_msg_free releases it).
 * A reload swaps the current pointer under a mutex and never touches a
 * config in use: new messages get the new config, messages in flight finish
 * with the old one, freed when the last of them drops it. Free of
 * libmilter, so tests drive it; every function is thread-safe.
 */
#ifndef MOAT_RELOAD_H
#define MOAT_RELOAD_H

#include <glib.h>

#include "moat/conf.h"

struct moatd_conf_ref {
	struct moat_conf *conf;		/* owned, read-only while referenced */
	guint generation;		/* 1 for the config moatd started with, +1 per reload */
	gint refs;			/* atomic */
};

/*
 * moatd_conf_init - make CONF (taken over) the running config; moatd_reload()
 * reads PATH again (copied; a missing file gives the defaults when MISSING_OK).
 * Also opens the admission of messages.
 */
void moatd_conf_init(struct moat_conf *conf, const char *path, gboolean missing_ok);

/* moatd_conf_get - a new reference to the running config (moatd_conf_unref() it); NULL before init */
struct moatd_conf_ref *moatd_conf_get(void);
/* moatd_conf_unref - drop a reference; the last one frees the config. NULL is a no-op */
void moatd_conf_unref(struct moatd_conf_ref *ref);

/*
 * moatd_load_engine - compile libclamav's engine for CONF and make it the
 * current one (av_load), logging skipped directories and the signature
 * count (also the moat_signatures gauge). Returns 0, or MOAT_EIO with *err
 * set (caller g_free()s): a reload that would lose signatures fails so.
 */
int moatd_load_engine(const struct moat_conf *conf, char **err);

/*
 * moatd_reload - read the config file again. When it is good it becomes the
 * running config (keys that need a restart keep their running values, each
 * logged); when it is bad the running config stays and the error is logged
 * as "PATH: [group] key: reason". Counted in moat_config_reloads_total,
 * and the engine's rebuild in moat_engine_reloads_total.
 * Returns 0, or MOAT_EIO / MOAT_EINVAL when the old config was kept.
 */
int moatd_reload(void);

/*
 * moatd_admit - admit a new message: a reference to the running config,
 * which moatd_release() gives back when the message ends. NULL while moatd
 * drains for shutdown: the message must be tempfailed.
 */
struct moatd_conf_ref *moatd_admit(void);
/* moatd_release - the message admitted with REF ended; NULL is a no-op */
void moatd_release(struct moatd_conf_ref *ref);

/* moatd_conn_opened, moatd_conn_closed - a connection from the MTA came or went */
void moatd_conn_opened(void);
void moatd_conn_closed(void);

/* moatd_drain_begin - admit no more messages (moatd_admit() gives NULL from now on) */
void moatd_drain_begin(void);
/* moatd_drain_wait - wait until no message is in flight, or UNTIL (monotonic µs); messages left */
guint moatd_drain_wait(gint64 until);
/* moatd_conns_wait - wait until no connection is open, or UNTIL; connections left */
guint moatd_conns_wait(gint64 until);

/*
 * moatd_av_refresh - reload libclamav's engine when the files in the
 * running config's signature directories changed (freshclam); scans in
 * flight finish on the old engine. Returns 1 when it reloaded, 0 when
 * nothing changed, or a MOAT_E* code when the new engine failed (the
 * running one stays; logged, counted in moat_engine_reloads_total).
 */
int moatd_av_refresh(void);
/*
 * moatd_av_watch_start, _stop - a thread calling moatd_av_refresh() at once,
 * then every [av] check_seconds (never when that is 0)
 */
void moatd_av_watch_start(void);
void moatd_av_watch_stop(void);

/* moatd_conf_shutdown - drop the running config (messages still in flight keep theirs) */
void moatd_conf_shutdown(void);

#endif
