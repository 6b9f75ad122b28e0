/*
 * stats.h - moatd's counters and their Prometheus text exposition
 *
 * One set per process, shared by every connection thread. All of it sits
 * under one mutex, taken once per connection and once or twice per message
 * (never while scanning), and by stats_render() for the time of one copy.
 * Free of libmilter, so tests drive it. Counters only grow (stats_reset()
 * is for tests and moatd's start).
 *
 * Finding ids are dynamic ("av.<signature>" names whatever libclamav
 * matched), so at most STATS_MAX_FINDING_IDS distinct ids are counted by
 * name, each cut to STATS_FINDING_ID_MAX bytes; findings with further ids
 * are counted under id="other".
 */
#ifndef MOAT_STATS_H
#define MOAT_STATS_H

#include <glib.h>

#include "moat/report.h"

#define STATS_MAX_FINDING_IDS 1000
#define STATS_FINDING_ID_MAX 128
#define STATS_NBUCKETS 15

/* Upper bounds (inclusive) of the scan-time histogram buckets in ms; +Inf follows. */
extern const guint stats_bucket_ms[STATS_NBUCKETS];

/* Why moatd answered 4xx (moat_tempfails_total{reason}). */
enum stats_tempfail {
	STATS_TEMPFAIL_ERROR,		/* an internal error on the message (scan, spool) */
	STATS_TEMPFAIL_MTA,		/* the MTA refused a header change or the quarantine */
	STATS_TEMPFAIL_SHUTDOWN,	/* MAIL FROM while moatd drains for SIGTERM */
	STATS_NTEMPFAIL
};

/* stats_reset - every counter to 0, the start time to now */
void stats_reset(void);

/* stats_connection - DELTA +1: a connection from the MTA opened (counted); -1: it closed */
void stats_connection(gint delta);
/* stats_in_flight - DELTA +1: a message started (MAIL FROM); -1: it ended, however */
void stats_in_flight(gint delta);

/*
 * stats_message - one message answered at end of message with ACTION (what
 * the MTA was told). REP (borrowed, NULL when the scan failed) gives the
 * findings, each counted by id, and scan.budget_exceeded; BYTES count as
 * scanned when REP is set; SCAN_US goes into the histogram.
 */
void stats_message(enum moat_action action, const struct moat_report *rep, guint64 bytes,
    gint64 scan_us);

void stats_tempfail(enum stats_tempfail why);
/* stats_internal_error - a message moatd could not scan (it is tempfailed or held) */
void stats_internal_error(void);
/* stats_poison - a message quarantined after [milter] poison_attempts internal errors */
void stats_poison(void);
/* stats_reload - a config reload on SIGHUP that succeeded (OK) or kept the old config */
/* What a put into the quarantine store came to (moat_quarantine_total{result}). */
enum stats_quar {
	STATS_QUAR_STORED,		/* a new item */
	STATS_QUAR_DUPLICATE,		/* a retry of an item already stored */
	STATS_QUAR_FULL,		/* [quarantine] max_bytes reached */
	STATS_QUAR_FAILED,		/* the store failed: tempfail */
	STATS_NQUAR
};
void stats_quarantine(enum stats_quar result);
void stats_quarantine_purged(guint n);
void stats_reload(gboolean ok);
/*
 * stats_engine_reload - libclamav's engine rebuilt after start (SIGHUP, or
 * changed signature files): OK, or failed and the running engine kept
 */
void stats_engine_reload(gboolean ok);
/* stats_signatures - N signatures in the running engine now (0: none loaded) */
void stats_signatures(guint n);

/*
 * stats_render - every counter in the Prometheus text format 0.0.4
 * (# HELP, # TYPE, one sample a line). Caller g_free()s.
 */
char *stats_render(void);

#endif
