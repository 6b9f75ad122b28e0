/*
 * helpers.h - what the unit suites share: a config from text, a scan that
 * must succeed, a finding or part looked up, a whole line found in text
 *
 * Each t_ function that returns a pointer fails the running test
 * (ck_abort_msg, with what it looked for and what there was) instead of
 * returning NULL, so a test never dereferences a NULL it did not check;
 * t_finding_at only answers, like t_has_line.
 * A failure is reported at the line in helpers.c: the message names the
 * text, id or path it was about. t_has_line only answers; t_assert_line is
 * a macro so that it fails at the caller's line.
 *
 * Compiled into check_moat with the suites (SAMPLES_DIR from the Makefile).
 * Not thread-safe where Check is not: call them from the test's thread.
 */
#ifndef MOAT_TESTS_HELPERS_H
#define MOAT_TESTS_HELPERS_H

#include <check.h>
#include <glib.h>

#include "moat/conf.h"
#include "moat/report.h"

/* t_conf_load - TEXT over the built-in defaults, as conf_load_data() reads
 * it; fails the test with conf's reason when it is refused. Caller frees
 * with conf_free(). */
struct moat_conf *t_conf_load(const char *text);

/* t_conf_loadf - t_conf_load() of the printf-formatted text */
struct moat_conf *t_conf_loadf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* t_scan_bytes - scan_bytes() of LEN bytes at DATA, without an envelope,
 * under CONF (borrowed; NULL: the built-in defaults); fails the test unless
 * it returns 0 and a report. Caller frees with report_free(). */
struct moat_report *t_scan_bytes(const void *data, gsize len, const struct moat_conf *conf);

/* t_scan_text - t_scan_bytes() of the NUL-terminated message MSG */
struct moat_report *t_scan_text(const char *msg, const struct moat_conf *conf);

/* t_scan_file - scan_file() of PATH under CONF (borrowed; NULL: defaults);
 * fails the test with scan_file()'s reason. Caller frees with report_free(). */
struct moat_report *t_scan_file(const char *path, const struct moat_conf *conf);

/* t_scan_sample - t_scan_file() of SAMPLES_DIR/NAME ("demo/clean-text.eml") */
struct moat_report *t_scan_sample(const char *name, const struct moat_conf *conf);

/* t_finding - the first finding ID in REP; fails the test, naming the ids
 * REP has, when there is none. Borrowed: valid until report_free(REP). */
const struct moat_finding *t_finding(const struct moat_report *rep, const char *id);

/* t_part_named - the first part or member of REP whose filename is
 * FILENAME; fails the test when there is none. Borrowed, as t_finding. */
const struct moat_part *t_part_named(const struct moat_report *rep, const char *filename);

/* t_member - the part or member of REP whose path_display is PATH
 * ("a.zip › b.exe"); fails the test, listing REP's paths, when there is
 * none. Borrowed, as t_finding. */
const struct moat_part *t_member(const struct moat_report *rep, const char *path);

/* t_av_conf - the built-in defaults with libclamav loaded from moat's own
 * conf/signatures and the spool in the temp directory, as the lure suites
 * scan their fixtures; release with t_av_release() */
struct moat_conf *t_av_conf(void);

/* t_av_release - unload the engine and free *CONF (set to NULL) */
void t_av_release(struct moat_conf **conf);

/* t_ids_of - REP's finding ids, " a b c" (caller g_free()s) */
char *t_ids_of(const struct moat_report *rep);

/* t_finding_at - a finding ID of REP whose path has an element containing
 * TEXT (NULL: any path), or NULL: it answers, it does not fail the test */
const struct moat_finding *t_finding_at(const struct moat_report *rep, const char *id,
    const char *text);

/* t_held - whether REP's verdict holds the message: quarantine or reject */
gboolean t_held(const struct moat_report *rep);

/* t_thread_us - CPU time of the calling thread, in microseconds: what the
 * cost tests compare, so that other processes on the machine do not count */
gint64 t_thread_us(void);

/* t_has_line - TEXT holds LINE as a whole line: the first, one in the
 * middle or the last, with or without a newline after it */
gboolean t_has_line(const char *text, const char *line);

/* t_assert_line(TEXT, FMT, ...) - TEXT holds the formatted line; the
 * failure shows the line and TEXT */
#define t_assert_line(text, ...) do {						\
	g_autofree char *t_want_ = g_strdup_printf(__VA_ARGS__);		\
	ck_assert_msg(t_has_line((text), t_want_), "no line '%s' in:\n%s", t_want_, (text)); \
} while (0)

#endif
