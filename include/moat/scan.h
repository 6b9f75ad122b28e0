/*
 * scan.h - the analysis pipeline: one message in, one report out
 *
 * scan_message() serves moatd, `moat scan`, the tests, the fuzzers and the
 * benchmarks alike. It knows nothing of the milter protocol. Reentrant
 * after scan_init(); CONF is read-only and may be shared between threads.
 */
#ifndef MOAT_SCAN_H
#define MOAT_SCAN_H

#include <gmime/gmime.h>
#include "moat/conf.h"
#include "moat/report.h"

/* scan_init - initialise the libraries the scanners use; once per process */
void scan_init(void);

/*
 * scan_message - scan the message in STREAM (borrowed). ENV, when not NULL,
 * is copied into the report's envelope. On success *out is a report with a
 * verdict (caller frees with report_free()) and 0 is returned; on an internal
 * error a negative MOAT_E* code is returned, *out is untouched and *err
 * (when ERR is not NULL) says the cause in a library's words, for the log
 * (caller g_free()s).
 */
int scan_message(struct moat_report **out, char **err, GMimeStream *stream,
    const struct moat_envelope *env, const struct moat_conf *conf);

struct auth_dns;

/* What scan_message_opts() does beyond scan_message(). */
struct scan_opts {
	gboolean auth;			/* check SPF, DKIM, DMARC (auth.h) on ENV's message */
	struct auth_dns *dns;		/* unit tests: the zone the checks ask; NULL: the resolver */
};

/*
 * scan_message_opts - scan_message() with OPTS (NULL: none). With
 * opts->auth the sender checks run after the lure detectors, on their own
 * DNS budget ([auth] dns_budget_ms), before the policy weighs everything.
 */
int scan_message_opts(struct moat_report **out, char **err, GMimeStream *stream,
    const struct moat_envelope *env, const struct moat_conf *conf, const struct scan_opts *opts);

/* scan_bytes - scan_message() on a buffer (copied: GMime needs its own stream) */
int scan_bytes(struct moat_report **out, const void *data, gsize len,
    const struct moat_envelope *env, const struct moat_conf *conf);

/*
 * scan_file - scan_message() on the file at PATH ("-" reads standard input).
 * On any error *err says which file and why (caller g_free()s): MOAT_EIO
 * when it cannot be read, or scan_message()'s code and cause.
 */
int scan_file(struct moat_report **out, char **err, const char *path,
    const struct moat_conf *conf);

/* scan_file_env - scan_file() with an envelope as moatd would pass it (ENV may be NULL) */
int scan_file_env(struct moat_report **out, char **err, const char *path,
    const struct moat_envelope *env, const struct moat_conf *conf);

/* scan_file_opts - scan_file_env() with OPTS (scan_message_opts()) */
int scan_file_opts(struct moat_report **out, char **err, const char *path,
    const struct moat_envelope *env, const struct moat_conf *conf, const struct scan_opts *opts);

#endif
