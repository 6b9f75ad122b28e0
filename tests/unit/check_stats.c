/*
 * check_stats.c - moatd's counters and their Prometheus text: counting by
 * action and finding id, the id cap and "other", label escaping, histogram
 * buckets (inclusive bounds, cumulative, +Inf, sum, count), the exposition
 * format line by line, and the HTTP answers of the status endpoint, on a
 * real socket too: silent clients, more of them than STATUS_CLIENTS_MAX,
 * or one reconnecting in a loop do not keep the next client waiting.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "helpers.h"
#include "moat/moat.h"
#include "milter/stats.h"
#include "milter/status.h"

/* count_prefix - lines of TEXT starting with PREFIX */
static guint
count_prefix(const char *text, const char *prefix)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint n = 0;

	for (gsize i = 0; lines[i] != NULL; i++)
		n += g_str_has_prefix(lines[i], prefix);
	return n;
}

static void
reset(void)
{
	stats_reset();
}

/* t_has_line, which these tests read the exposition with: whole lines only,
 * the first and a last one without its newline included */
static const struct { const char *text, *line; gboolean want; } line_cases[] = {
	{ "a 1\nb 2\nc 3\n", "a 1", TRUE }, { "a 1\nb 2\nc 3\n", "b 2", TRUE },
	{ "a 1\nb 2\nc 3\n", "c 3", TRUE }, { "a 1\nb 2\nc 3", "c 3", TRUE },
	{ "a 1\nb 2\n", "a", FALSE }, { "a 1\nb 2\n", "1", FALSE },
	{ "a 10\n", "a 1", FALSE }, { "xa 1\n", "a 1", FALSE }, { "a 1\n", "", FALSE },
	{ "", "a 1", FALSE },
};

START_TEST(test_has_line)
{
	ck_assert_msg(t_has_line(line_cases[_i].text, line_cases[_i].line) == line_cases[_i].want,
	    "'%s' in '%s'", line_cases[_i].line, line_cases[_i].text);
}
END_TEST

START_TEST(test_messages_by_action)
{
	g_autofree char *text = NULL;

	stats_message(MOAT_ACCEPT, NULL, 0, 10);
	stats_message(MOAT_ACCEPT, NULL, 0, 10);
	stats_message(MOAT_TAG, NULL, 0, 10);
	stats_message(MOAT_REJECT, NULL, 0, 10);
	stats_message(MOAT_TEMPFAIL, NULL, 0, 10);
	text = stats_render();
	t_assert_line(text, "moat_messages_total{action=\"accept\"} 2");
	t_assert_line(text, "moat_messages_total{action=\"tag\"} 1");
	t_assert_line(text, "moat_messages_total{action=\"quarantine\"} 0");
	t_assert_line(text, "moat_messages_total{action=\"reject\"} 1");
	t_assert_line(text, "moat_messages_total{action=\"tempfail\"} 1");
	/* no report: nothing counts as scanned */
	t_assert_line(text, "moat_scanned_bytes_total 0");
}
END_TEST

START_TEST(test_findings_and_bytes)
{
	struct moat_report *rep = report_new(), *empty = report_new();
	g_autofree char *text = NULL;

	report_add_finding(rep, "attach.executable", NULL, "a.exe");
	report_add_finding(rep, "attach.executable", NULL, "b.exe");
	report_add_finding(rep, "scan.budget_exceeded", NULL, "60000 ms");
	report_add_finding(rep, "av.Win.Test.EICAR_HDB-1", NULL, "eicar.com");
	stats_message(MOAT_QUARANTINE, rep, 2048, 1000);
	stats_message(MOAT_ACCEPT, empty, 100, 1000);
	text = stats_render();
	t_assert_line(text, "moat_findings_total{id=\"attach.executable\"} 2");
	t_assert_line(text, "moat_findings_total{id=\"scan.budget_exceeded\"} 1");
	t_assert_line(text, "moat_findings_total{id=\"av.Win.Test.EICAR_HDB-1\"} 1");
	ck_assert_uint_eq(count_prefix(text, "moat_findings_total{id=\"other\"}"), 0);
	t_assert_line(text, "moat_budget_exceeded_total 1");
	t_assert_line(text, "moat_scanned_bytes_total 2148");
	report_free(rep);
	report_free(empty);
}
END_TEST

/* More distinct ids than the cap: the first STATS_MAX_FINDING_IDS by name, the rest "other". */
START_TEST(test_finding_id_cap)
{
	struct moat_report *rep = report_new();
	g_autofree char *text = NULL;
	g_autofree char *longid = g_strnfill(300, 'x');
	g_autofree char *longsig = g_strconcat("av.", longid, NULL);

	report_add_finding(rep, "av.Quote\"Back\\slash", NULL, "-");
	report_add_finding(rep, longsig, NULL, "-");
	for (int i = 0; i < STATS_MAX_FINDING_IDS + 3; i++) {
		g_autofree char *id = g_strdup_printf("av.Sig-%04d", i);

		report_add_finding(rep, id, NULL, "-");
	}
	stats_message(MOAT_REJECT, rep, 1, 1);
	stats_message(MOAT_REJECT, rep, 1, 1);
	text = stats_render();
	ck_assert_uint_eq(count_prefix(text, "moat_findings_total{id=\"av."), STATS_MAX_FINDING_IDS);
	/* 2 + 1003 ids, 1000 kept: 5 ids twice each go to other */
	t_assert_line(text, "moat_findings_total{id=\"other\"} 10");
	t_assert_line(text, "moat_findings_total{id=\"av.Quote\\\"Back\\\\slash\"} 2");
	/* cut to STATS_FINDING_ID_MAX bytes */
	t_assert_line(text, "moat_findings_total{id=\"av.%.*s\"} 2", STATS_FINDING_ID_MAX - 3, longid);
	report_free(rep);
}
END_TEST

START_TEST(test_histogram)
{
	g_autofree char *text = NULL;

	stats_message(MOAT_ACCEPT, NULL, 0, 500);		/* 0.5 ms */
	stats_message(MOAT_ACCEPT, NULL, 0, 1000);		/* 1 ms: le="0.001" is inclusive */
	stats_message(MOAT_ACCEPT, NULL, 0, 1001);		/* just past: 0.002 */
	stats_message(MOAT_ACCEPT, NULL, 0, 300 * 1000);	/* 0.5 */
	stats_message(MOAT_ACCEPT, NULL, 0, 70 * G_USEC_PER_SEC);	/* past 60 s: +Inf only */
	text = stats_render();
	t_assert_line(text, "moat_scan_duration_seconds_bucket{le=\"0.001\"} 2");
	t_assert_line(text, "moat_scan_duration_seconds_bucket{le=\"0.002\"} 3");
	t_assert_line(text, "moat_scan_duration_seconds_bucket{le=\"0.25\"} 3");
	t_assert_line(text, "moat_scan_duration_seconds_bucket{le=\"0.5\"} 4");
	t_assert_line(text, "moat_scan_duration_seconds_bucket{le=\"60\"} 4");
	t_assert_line(text, "moat_scan_duration_seconds_bucket{le=\"+Inf\"} 5");
	t_assert_line(text, "moat_scan_duration_seconds_count 5");
	t_assert_line(text, "moat_scan_duration_seconds_sum 70.302501");
	ck_assert_uint_eq(count_prefix(text, "moat_scan_duration_seconds_bucket"), STATS_NBUCKETS + 1);
}
END_TEST

START_TEST(test_gauges_and_counters)
{
	g_autofree char *text = NULL;

	stats_connection(1);
	stats_connection(1);
	stats_connection(-1);
	stats_in_flight(1);
	stats_in_flight(1);
	stats_in_flight(-1);
	stats_tempfail(STATS_TEMPFAIL_SHUTDOWN);
	stats_tempfail(STATS_TEMPFAIL_ERROR);
	stats_tempfail(STATS_TEMPFAIL_ERROR);
	stats_internal_error();
	stats_poison();
	stats_quarantine(STATS_QUAR_STORED);
	stats_quarantine(STATS_QUAR_STORED);
	stats_quarantine(STATS_QUAR_DUPLICATE);
	stats_quarantine(STATS_QUAR_FULL);
	stats_quarantine_purged(7);
	stats_reload(TRUE);
	stats_reload(FALSE);
	stats_reload(TRUE);
	text = stats_render();
	t_assert_line(text, "moat_connections_total 2");
	t_assert_line(text, "moat_connections_open 1");
	t_assert_line(text, "moat_messages_in_flight 1");
	t_assert_line(text, "moat_tempfails_total{reason=\"error\"} 2");
	t_assert_line(text, "moat_tempfails_total{reason=\"mta\"} 0");
	t_assert_line(text, "moat_tempfails_total{reason=\"shutdown\"} 1");
	t_assert_line(text, "moat_internal_errors_total 1");
	t_assert_line(text, "moat_poison_quarantines_total 1");
	t_assert_line(text, "moat_quarantine_total{result=\"stored\"} 2");
	t_assert_line(text, "moat_quarantine_total{result=\"duplicate\"} 1");
	t_assert_line(text, "moat_quarantine_total{result=\"full\"} 1");
	t_assert_line(text, "moat_quarantine_total{result=\"failed\"} 0");
	t_assert_line(text, "moat_quarantine_purged_total 7");
	t_assert_line(text, "moat_quarantine_store_up 1");	/* the last put before "full" was fine */
	stats_quarantine(STATS_QUAR_FAILED);
	g_free(text);
	text = stats_render();
	t_assert_line(text, "moat_quarantine_store_up 0");
	t_assert_line(text, "moat_quarantine_total{result=\"failed\"} 1");
	t_assert_line(text, "moat_config_reloads_total{result=\"ok\"} 2");
	t_assert_line(text, "moat_config_reloads_total{result=\"failed\"} 1");
}
END_TEST

/*
 * The text format 0.0.4, line by line: "# HELP name text", "# TYPE name
 * type" once per family and before its samples, samples "name{l="v",...}
 * value" of a declared family (histograms: _bucket, _sum, _count), counters
 * ending in _total, every name moat_, values numbers, a final newline.
 */
START_TEST(test_exposition_format)
{
	g_autoptr(GRegex) help = g_regex_new("^# HELP (moat_[a-z_]+) \\S.*$", 0, 0, NULL);
	g_autoptr(GRegex) type = g_regex_new("^# TYPE (moat_[a-z_]+) (counter|gauge|histogram)$", 0,
	    0, NULL);
	g_autoptr(GRegex) sample = g_regex_new("^(moat_[a-z_]+)(\\{[a-z_]+=\"([^\"\\\\]|\\\\.)*\""
	    "(,[a-z_]+=\"([^\"\\\\]|\\\\.)*\")*\\})? (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|\\+Inf)$",
	    0, 0, NULL);
	g_autoptr(GHashTable) types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	struct moat_report *rep = report_new();
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree char *helped = NULL;
	guint samples = 0;

	report_add_finding(rep, "attach.shortcut", NULL, "x.lnk");
	stats_message(MOAT_TAG, rep, 10, 1234);
	stats_connection(1);
	text = stats_render();
	ck_assert(g_str_has_suffix(text, "\n"));
	lines = g_strsplit(text, "\n", -1);
	for (gsize i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++) {
		/* g_regex_match() always gives a GMatchInfo to free: one per pattern */
		g_autoptr(GMatchInfo) mh = NULL;
		g_autoptr(GMatchInfo) mt = NULL;
		g_autoptr(GMatchInfo) ms = NULL;
		const char *l = lines[i];

		if (g_regex_match(help, l, 0, &mh)) {
			g_free(helped);
			helped = g_match_info_fetch(mh, 1);
		} else if (g_regex_match(type, l, 0, &mt)) {
			char *name = g_match_info_fetch(mt, 1), *kind = g_match_info_fetch(mt, 2);

			ck_assert_msg(helped != NULL && strcmp(helped, name) == 0, "TYPE without HELP: %s", l);
			ck_assert_msg(!g_hash_table_contains(types, name), "family twice: %s", l);
			if (strcmp(kind, "counter") == 0)
				ck_assert_msg(g_str_has_suffix(name, "_total"), "counter %s", name);
			g_hash_table_insert(types, name, kind);
		} else if (g_regex_match(sample, l, 0, &ms)) {
			g_autofree char *name = g_match_info_fetch(ms, 1);
			const char *t = g_hash_table_lookup(types, name);

			if (t == NULL) {	/* a histogram's series */
				for (const char *const *sfx = (const char *const[]){ "_bucket", "_sum",
				    "_count", NULL }; *sfx != NULL && t == NULL; sfx++)
					if (g_str_has_suffix(name, *sfx)) {
						g_autofree char *base = g_strndup(name, strlen(name) - strlen(*sfx));

						t = g_hash_table_lookup(types, base);
						ck_assert_msg(t != NULL && strcmp(t, "histogram") == 0, "%s", l);
					}
			}
			ck_assert_msg(t != NULL, "sample of an undeclared family: %s", l);
			samples++;
		} else {
			ck_abort_msg("not a line of the text format: '%s'", l);
		}
	}
	ck_assert_uint_eq(g_hash_table_size(types), 18);
	ck_assert_uint_eq(samples, 46);	/* 18 of them the histogram's */
	report_free(rep);
}
END_TEST

/* --- the HTTP side -------------------------------------------------------- */

static char *
answer(const char *req, gsize *len)
{
	return status_response(req, strlen(req), len);
}

START_TEST(test_http_metrics)
{
	gsize len;
	g_autofree char *out = answer("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", &len);
	const char *body = strstr(out, "\r\n\r\n");
	const char *cl;

	ck_assert_uint_eq(len, strlen(out));
	ck_assert(g_str_has_prefix(out, "HTTP/1.0 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert(g_str_has_prefix(body, "# HELP moat_messages_total "));
	ck_assert_ptr_nonnull(cl = strstr(out, "Content-Length: "));
	ck_assert_uint_eq(g_ascii_strtoull(cl + 16, NULL, 10), strlen(body));
}
END_TEST

static const struct {
	const char *req;
	const char *status;		/* the answer starts with it */
	gboolean body;			/* and has a body */
} http_cases[] = {
	{ "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n", TRUE },
	{ "GET /metrics?name[]=x HTTP/1.1\n\n", "HTTP/1.0 200 OK\r\n", TRUE },
	{ "HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 200 OK\r\n", FALSE },
	{ "GET /metrics HTTP/1.0\r\n", "HTTP/1.0 200 OK\r\n", TRUE },	/* EOF before the blank line */
	{ "GET / HTTP/1.1\r\n\r\n", "HTTP/1.0 404 Not Found\r\n", TRUE },
	{ "GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.0 404 Not Found\r\n", TRUE },
	{ "HEAD /nope HTTP/1.1\r\n\r\n", "HTTP/1.0 404 Not Found\r\n", FALSE },
	{ "POST /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 405 Method Not Allowed\r\n", TRUE },
	{ "GET /metrics\r\n\r\n", "HTTP/1.0 400 Bad Request\r\n", TRUE },
	{ "GET /metrics SMTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request\r\n", TRUE },
	{ "GET  /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 400 Bad Request\r\n", TRUE },
	{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "HTTP/1.0 400 Bad Request\r\n", TRUE },
	{ "EHLO x\r\n", "HTTP/1.0 400 Bad Request\r\n", TRUE },
};

START_TEST(test_http_answers)
{
	gsize len;
	g_autofree char *out = answer(http_cases[_i].req, &len);
	const char *end = strstr(out, "\r\n\r\n");

	ck_assert_msg(g_str_has_prefix(out, http_cases[_i].status), "%s -> %s", http_cases[_i].req, out);
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(end[4] != '\0', http_cases[_i].body);
}
END_TEST

/* A request header that fills the cap without ending is refused, not waited for. */
START_TEST(test_http_too_long)
{
	GString *req = g_string_new("GET /metrics HTTP/1.1\r\n");
	g_autofree char *out = NULL;
	gsize len;

	while (req->len < STATUS_REQUEST_MAX)
		g_string_append(req, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	out = status_response(req->str, STATUS_REQUEST_MAX, &len);
	ck_assert(g_str_has_prefix(out, "HTTP/1.0 400 "));
	g_string_free(req, TRUE);
}
END_TEST

static char *sock_dir;

static void
sock_setup(void)
{
	stats_reset();
	sock_dir = g_dir_make_tmp("moat-status-XXXXXX", NULL);
}

static void
sock_teardown(void)
{
	status_stop();
	g_rmdir(sock_dir);
	g_clear_pointer(&sock_dir, g_free);
}

static int
sock_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* sock_get - send REQ on a new connection to PATH, read to EOF */
static char *
sock_get(const char *path, const char *req)
{
	GString *out = g_string_new(NULL);
	int fd = sock_connect(path);
	char buf[4096];
	ssize_t n;

	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	close(fd);
	return g_string_free(out, FALSE);
}

START_TEST(test_socket_serves)
{
	g_autofree char *path = g_build_filename(sock_dir, "status.sock", NULL);
	g_autofree char *spec = g_strconcat("unix:", path, NULL);
	g_autofree char *out = NULL, *out2 = NULL, *err = NULL;
	struct stat sb;
	gint64 t0;
	int fd, silent;

	ck_assert_int_eq(status_listen(&fd, &err, spec), 0);
	ck_assert_int_eq(status_start(fd, spec, &err), 0);
	stats_message(MOAT_REJECT, NULL, 0, 5);
	out = sock_get(path, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
	ck_assert(g_str_has_prefix(out, "HTTP/1.0 200 OK\r\n"));
	t_assert_line(out, "moat_messages_total{action=\"reject\"} 1");
	/* A client that says nothing does not hold up the next one. */
	silent = sock_connect(path);
	t0 = g_get_monotonic_time();
	out2 = sock_get(path, "GET /nothing HTTP/1.0\r\n\r\n");
	ck_assert(g_str_has_prefix(out2, "HTTP/1.0 404 "));
	ck_assert_int_le(g_get_monotonic_time() - t0, (STATUS_CLIENT_MS + 1000) * 1000);
	close(silent);
	status_stop();
	ck_assert_int_lt(stat(path, &sb), 0);	/* removed */
}
END_TEST

/*
 * sock_connect_by - a connection to PATH made before DEADLINE (monotonic
 * µs), or -1. SO_SNDTIMEO bounds a unix socket's connect() while the
 * listener's backlog is full, so an endpoint that stopped accepting makes
 * the test fail rather than hang.
 */
static int
sock_connect_by(const char *path, gint64 deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	gint64 left = deadline - g_get_monotonic_time();
	struct timeval tv = { .tv_sec = left / G_USEC_PER_SEC, .tv_usec = left % G_USEC_PER_SEC };
	int fd;

	if (left <= 0 || (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* sock_eof_by - FD is readable before DEADLINE and reads as EOF (no answer) */
static gboolean
sock_eof_by(int fd, gint64 deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	gint64 left = (deadline - g_get_monotonic_time()) / 1000;
	char c;

	return poll(&p, 1, (int)MAX(left, 0)) == 1 && read(fd, &c, 1) == 0;
}

/*
 * sock_fetch - send REQ on a new connection to PATH and read to EOF, all
 * within MS; the answer, or NULL when it did not come in time. *US: how
 * long it took.
 */
static char *
sock_fetch(const char *path, const char *req, int ms, gint64 *us)
{
	gint64 t0 = g_get_monotonic_time(), deadline = t0 + (gint64)ms * 1000;
	g_autoptr(GString) out = g_string_new(NULL);
	int fd = sock_connect_by(path, deadline);
	gboolean eof = FALSE;
	char buf[4096];
	ssize_t n;

	if (fd >= 0 && write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
		while (!eof) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			gint64 left = (deadline - g_get_monotonic_time()) / 1000;

			if (left <= 0 || poll(&p, 1, (int)left) != 1 || (n = read(fd, buf, sizeof(buf))) < 0)
				break;
			g_string_append_len(out, buf, n);
			eof = n == 0;
		}
	}
	if (fd >= 0)
		close(fd);
	*us = g_get_monotonic_time() - t0;
	return eof ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

/* is_full_200 - OUT is a 200 answer whose body is as long as its Content-Length says */
static gboolean
is_full_200(const char *out)
{
	const char *body = out ? strstr(out, "\r\n\r\n") : NULL;
	const char *cl = out ? strstr(out, "\r\nContent-Length: ") : NULL;

	return body != NULL && cl != NULL && cl < body && g_str_has_prefix(out, "HTTP/1.0 200 OK\r\n") &&
	    g_ascii_strtoull(cl + 18, NULL, 10) == strlen(body + 4) &&
	    strstr(body, "\nmoat_messages_total{action=\"accept\"} ") != NULL;
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
#define PROMPT_MS 500			/* a client among silent ones is answered within this */

/* the number of silent clients held open in test_socket_silent_clients */
static const int silent_counts[] = { 1, STATUS_CLIENTS_MAX, 3 * STATUS_CLIENTS_MAX };

/*
 * K silent clients (one, as many as the endpoint has room for, three times
 * that): the next client is answered in full within PROMPT_MS all the
 * same; past STATUS_CLIENTS_MAX the oldest silent ones were dropped; the
 * newest is closed, unanswered, at its own STATUS_CLIENT_MS deadline; and
 * status_stop() does not wait for any of them.
 */
START_TEST(test_socket_silent_clients)
{
	const int k = silent_counts[_i];
	g_autofree char *path = g_build_filename(sock_dir, "status.sock", NULL);
	g_autofree char *spec = g_strconcat("unix:", path, NULL);
	g_autofree char *out = NULL, *err = NULL;
	g_autofree int *silent = g_new(int, k);
	gint64 t_last = 0, us, t0;
	int fd;

	ck_assert_int_eq(status_listen(&fd, &err, spec), 0);
	ck_assert_int_eq(status_start(fd, spec, &err), 0);
	for (int i = 0; i < k; i++) {
		t_last = g_get_monotonic_time();
		silent[i] = sock_connect_by(path, t_last + PROMPT_MS * 1000);
		ck_assert_msg(silent[i] >= 0, "silent client %d of %d: no connection within %d ms", i + 1,
		    k, PROMPT_MS);
	}
	out = sock_fetch(path, GET_METRICS, 3 * STATUS_CLIENT_MS, &us);
	ck_assert_msg(is_full_200(out), "no full answer behind %d silent clients (%" G_GINT64_FORMAT
	    " ms): %s", k, us / 1000, out ? out : "(none: timed out or reset)");
	ck_assert_msg(us <= PROMPT_MS * 1000, "answered behind %d silent clients in %" G_GINT64_FORMAT
	    " ms, over %d", k, us / 1000, PROMPT_MS);
	if (k > STATUS_CLIENTS_MAX)
		ck_assert_msg(sock_eof_by(silent[0], g_get_monotonic_time()), "the oldest was not dropped");
	/* The newest one keeps its slot until its own deadline, then is closed unanswered. */
	ck_assert(sock_eof_by(silent[k - 1], t_last + (STATUS_CLIENT_MS + 1000) * 1000));
	ck_assert_int_ge(g_get_monotonic_time() - t_last, (STATUS_CLIENT_MS - 100) * 1000);
	/* Fresh silent clients up to the limit, then stop: nobody is waited for. */
	for (int i = 0; i < MIN(k, STATUS_CLIENTS_MAX); i++) {
		close(silent[i]);
		silent[i] = sock_connect_by(path, g_get_monotonic_time() + PROMPT_MS * 1000);
		ck_assert_int_ge(silent[i], 0);
	}
	t0 = g_get_monotonic_time();
	status_stop();
	ck_assert_int_lt(g_get_monotonic_time() - t0, PROMPT_MS * 1000);
	for (int i = 0; i < k; i++)
		close(silent[i]);
}
END_TEST

/* A client reconnecting in a loop; each connection says nothing and stays open a while. */
struct churn {
	const char *path;
	gint64 until;			/* monotonic µs */
	guint connects;
};

static gpointer
churn_run(gpointer data)
{
	struct churn *ch = data;
	int ring[2 * STATUS_CLIENTS_MAX];
	guint n = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(ring); i++)
		ring[i] = -1;
	while (g_get_monotonic_time() < ch->until) {
		int fd = sock_connect_by(ch->path, MIN(ch->until, g_get_monotonic_time() + 100 * 1000));

		if (fd < 0)
			continue;
		if (ring[n % G_N_ELEMENTS(ring)] >= 0)
			close(ring[n % G_N_ELEMENTS(ring)]);
		ring[n++ % G_N_ELEMENTS(ring)] = fd;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(ring); i++)
		if (ring[i] >= 0)
			close(ring[i]);
	ch->connects = n;
	return NULL;
}

/*
 * A client that reconnects in a tight loop for a second, keeping its last
 * 2 * STATUS_CLIENTS_MAX connections open and silent, does not starve
 * another: every GET meanwhile is answered in full within PROMPT_MS.
 */
START_TEST(test_socket_reconnect_loop)
{
	g_autofree char *path = g_build_filename(sock_dir, "status.sock", NULL);
	g_autofree char *spec = g_strconcat("unix:", path, NULL);
	g_autofree char *err = NULL;
	struct churn ch = { .path = path };
	GThread *t;
	guint gets = 0;
	int fd;

	ck_assert_int_eq(status_listen(&fd, &err, spec), 0);
	ck_assert_int_eq(status_start(fd, spec, &err), 0);
	ch.until = g_get_monotonic_time() + G_USEC_PER_SEC;
	t = g_thread_new("churn", churn_run, &ch);
	g_usleep(50 * 1000);		/* let it fill the endpoint first */
	while (g_get_monotonic_time() < ch.until - PROMPT_MS * 1000 / 2) {
		gint64 us;
		g_autofree char *out = sock_fetch(path, GET_METRICS, 3 * STATUS_CLIENT_MS, &us);

		ck_assert_msg(is_full_200(out), "GET %u during the reconnect loop: no full answer "
		    "(%" G_GINT64_FORMAT " ms): %s", gets + 1, us / 1000, out ? out : "(none: timed out or reset)");
		ck_assert_msg(us <= PROMPT_MS * 1000, "GET %u during the reconnect loop took %"
		    G_GINT64_FORMAT " ms, over %d", gets + 1, us / 1000, PROMPT_MS);
		gets++;
		g_usleep(10 * 1000);
	}
	g_thread_join(t);
	ck_assert_uint_ge(gets, 5);
	/* enough churn that the endpoint was full and dropping clients throughout */
	ck_assert_msg(ch.connects > 4 * STATUS_CLIENTS_MAX, "only %u connections", ch.connects);
}
END_TEST

/* A socket file nobody answers on is replaced; one a live process listens on is not. */
START_TEST(test_socket_stale_and_busy)
{
	g_autofree char *path = g_build_filename(sock_dir, "status.sock", NULL);
	g_autofree char *spec = g_strconcat("unix:", path, NULL);
	g_autofree char *file = g_build_filename(sock_dir, "plain", NULL);
	g_autofree char *fspec = g_strconcat("unix:", file, NULL);
	char *err = NULL;
	int fd, fd2;

	ck_assert_int_eq(status_listen(&fd, &err, spec), 0);
	ck_assert_int_ne(status_listen(&fd2, &err, spec), 0);	/* busy */
	ck_assert_ptr_nonnull(strstr(err, "another process listens on it"));
	g_clear_pointer(&err, g_free);
	close(fd);						/* now stale */
	ck_assert_int_eq(status_listen(&fd2, &err, spec), 0);
	close(fd2);
	g_unlink(path);
	ck_assert(g_file_set_contents(file, "x", 1, NULL));
	ck_assert_int_ne(status_listen(&fd, &err, fspec), 0);
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	g_free(err);
	g_unlink(file);
}
END_TEST

Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("counters");
	TCase *th = tcase_create("http");
	TCase *ts = tcase_create("socket");

	tcase_add_checked_fixture(tc, reset, NULL);
	tcase_add_loop_test(tc, test_has_line, 0, G_N_ELEMENTS(line_cases));
	tcase_add_test(tc, test_messages_by_action);
	tcase_add_test(tc, test_findings_and_bytes);
	tcase_add_test(tc, test_finding_id_cap);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_gauges_and_counters);
	tcase_add_test(tc, test_exposition_format);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(th, reset, NULL);
	tcase_add_test(th, test_http_metrics);
	tcase_add_loop_test(th, test_http_answers, 0, G_N_ELEMENTS(http_cases));
	tcase_add_test(th, test_http_too_long);
	suite_add_tcase(s, th);
	tcase_add_checked_fixture(ts, sock_setup, sock_teardown);
	tcase_set_timeout(ts, 20);
	tcase_add_test(ts, test_socket_serves);
	tcase_add_loop_test(ts, test_socket_silent_clients, 0, G_N_ELEMENTS(silent_counts));
	tcase_add_test(ts, test_socket_reconnect_loop);
	tcase_add_test(ts, test_socket_stale_and_busy);
	suite_add_tcase(s, ts);
	return s;
}
