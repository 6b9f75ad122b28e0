/*
 * quarbench.c - `make bench`: what a put into the quarantine store costs
 *
 *   quarbench DIR [COUNT] [THREADS] [CONNINFO]
 *
 * Opens a store in DIR/store-N (made here, removed at the end; DIR should
 * be on the disk the store will live on, not a tmpfs: the cost is the
 * fsyncs), or with CONNINFO the PostgreSQL backend in that database (its
 * moat tables are dropped first and at the end: give it a test database),
 * and puts COUNT messages (default 400) from THREADS threads
 * (default 2, as moatd's workers would), half of 2 KB, half of 200 KB, each
 * with its own key. Prints the latency of a put (p50, p99, max, in ms, as
 * moatd waits for it before answering the MTA), puts per second, and the
 * same for a retry of a stored message (the key found, nothing written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>

#include "moat/conf.h"
#include "moat/quarantine.h"

struct worker {
	struct quar *q;
	int first, n;
	gboolean retry;
	double *ms;			/* n latencies */
};

static guint8 *small_msg, *large_msg;
#define SMALL_BYTES 2048
#define LARGE_BYTES (200 * 1024)

static gpointer
worker_run(gpointer data)
{
	struct worker *w = data;

	for (int i = 0; i < w->n; i++) {
		int k = w->first + i;
		g_autofree char *mid = g_strdup_printf("<%d@bench>", k);
		g_autoptr(GPtrArray) rcpts = g_ptr_array_new();
		struct quar_item it = { 0 };
		struct quar_source src = { k % 2 ? large_msg : small_msg,
			k % 2 ? LARGE_BYTES : SMALL_BYTES, -1 };
		char id[QUAR_ID_LEN + 1], *err = NULL;
		gboolean dup;
		gint64 t0;

		g_ptr_array_add(rcpts, "user@example.org");
		it.queue_id = "4BENCH";
		it.client_addr = "192.0.2.1";
		it.helo = "mx.example.net";
		it.mail_from = "sender@example.net";
		it.rcpts = rcpts;
		it.header_from = "Sender <sender@example.net>";
		it.subject = "Invoice";
		it.message_id = mid;
		it.action = "quarantine";
		it.findings = "attach.shortcut";
		it.report_json = "{\"verdict\":{\"action\":\"quarantine\",\"score\":10}}";
		it.key = quar_key(mid, "bench", it.mail_from, rcpts);
		t0 = g_get_monotonic_time();
		if (quar_put(w->q, id, &dup, &err, &it, &src) != 0 || dup != w->retry) {
			fprintf(stderr, "quarbench: put %d: %s\n", k, err ? err : "unexpected dup flag");
			exit(1);
		}
		w->ms[i] = (double)(g_get_monotonic_time() - t0) / 1000.0;
		g_free(it.key);
	}
	return NULL;
}

/* pg_reset - drop moat's tables from the database CONNINFO names */
static gboolean
pg_reset(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;
	gboolean ok;

	PQclear(PQexec(c, "SET client_min_messages = warning"));
	r = PQexec(c, "DROP TABLE IF EXISTS moat_items, moat_history, moat_usage, moat_schema;"
	    " DROP FUNCTION IF EXISTS moat_usage_keep");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "quarbench: %s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR))
			rm_rf(p);
		else
			g_unlink(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(path);
}

/* round - COUNT puts over THREADS threads; prints one line named WHAT */
static void
round_run(struct quar *q, const char *what, int count, int threads, gboolean retry)
{
	struct worker *w = g_new0(struct worker, threads);
	GThread **t = g_new0(GThread *, threads);
	double *all = g_new0(double, count);
	gint64 t0 = g_get_monotonic_time();
	double secs;
	int at = 0;

	for (int i = 0; i < threads; i++) {
		int n = count / threads + (i < count % threads);

		w[i] = (struct worker){ q, at, n, retry, all + at };
		at += n;
		t[i] = g_thread_new("put", worker_run, &w[i]);
	}
	for (int i = 0; i < threads; i++)
		g_thread_join(t[i]);
	secs = (double)(g_get_monotonic_time() - t0) / 1e6;
	qsort(all, (size_t)count, sizeof(double), cmp_double);
	printf("%-38s %6d %8.2f %8.2f %8.2f %9.0f\n", what, count, all[count / 2],
	    all[(int)(count * 0.99)], all[count - 1], count / secs);
	g_free(all);
	g_free(t);
	g_free(w);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	int count = argc > 2 ? atoi(argv[2]) : 400, threads = argc > 3 ? atoi(argv[3]) : 2;
	const char *pg = argc > 4 && *argv[4] != '\0' ? argv[4] : NULL;
	g_autofree char *store = NULL, *text = NULL;
	struct moat_conf *conf = NULL;
	struct quar *q = NULL;
	char *err = NULL;

	if (count < 2 || threads < 1) {
		fprintf(stderr, "usage: quarbench DIR [COUNT >= 2] [THREADS]\n");
		return 2;
	}
	{
		g_autofree char *abs = g_canonicalize_filename(dir, NULL);

		store = g_strdup_printf("%s/store-%d", abs, (int)getpid());
	}
	if (pg != NULL && !pg_reset(pg))
		return 1;
	text = g_strdup_printf("[quarantine]\ndir = %s\nmax_bytes = 0\nbackend = %s\n"
	    "pg_conninfo = %s\n", store, pg != NULL ? "postgresql" : "sqlite", pg != NULL ? pg : "");
	if (conf_load_data(&conf, &err, text, strlen(text)) != 0 ||
	    quar_open(&q, &err, conf, QUAR_CREATE) != 0) {
		fprintf(stderr, "quarbench: %s\n", err);
		return 1;
	}
	small_msg = g_malloc(SMALL_BYTES);
	large_msg = g_malloc(LARGE_BYTES);
	memset(small_msg, 'a', SMALL_BYTES);
	memset(large_msg, 'b', LARGE_BYTES);
	printf("== quarantine store: a put, as moatd waits for it (%s, %d threads)\n",
	    pg != NULL ? "postgresql" : dir, threads);
	printf("%-38s %6s %8s %8s %8s %9s\n", "", "puts", "p50 ms", "p99 ms", "max ms", "puts/s");
	round_run(q, "new items (2 KB and 200 KB)", count, threads, FALSE);
	round_run(q, "retries (key found, nothing written)", count, threads, TRUE);
	quar_close(q);
	conf_free(conf);
	if (pg != NULL)
		pg_reset(pg);
	rm_rf(store);
	g_free(small_msg);
	g_free(large_msg);
	return 0;
}
