/*
 * webfill.c - a quarantine store with many held items, to measure moat-web on
 *
 *   webfill CONF COUNT MESSAGE REPORT [DAYS]
 *
 * Opens (makes) the store CONF's [quarantine] names, SQLite or PostgreSQL,
 * and puts COUNT copies of the message file MESSAGE through quar_put(), as
 * moatd does, each with the report file REPORT (`moat scan --json` of it)
 * as its report, a key and Message-ID of its own, one of 100 senders
 * (sender<i % 100>@example.net), one of 40 recipients and findings from
 * the table below (lure.sideload on 20% of them). quar_put() stamps them
 * now, so their stored times are then spread over the last DAYS (30) days
 * in the database itself; then every 50th is released (claim, released)
 * and every 100th of the others deleted by "web:bench", so that the
 * history and the statistics have something to show. Prints how long the
 * puts took and one item's id (for the message page). For tests/bench/web.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "moat/conf.h"
#include "moat/moat.h"
#include "moat/quarantine.h"

/* findings of item i: fill_findings[i % 10] */
static const char *const fill_findings[10] = {
	"attach.shortcut", "attach.shortcut", "attach.shortcut", "attach.shortcut",
	"attach.shortcut,lure.lnk_interpreter", "attach.shortcut,lure.lnk_padding",
	"lure.sideload,attach.executable", "name.double_extension,attach.executable",
	"container.encrypted", "lure.sideload,lure.decoy_folder,name.double_extension",
};

/* fill_spread - the items' times over the last DAYS days, in the store's database; 0 or -1 */
static int
fill_spread(const struct conf_quarantine *c, guint days)
{
	g_autofree char *sql = NULL;
	const char *table = strcmp(c->backend, "sqlite") == 0 ? "items" : "moat_items";
	const char *row = strcmp(c->backend, "sqlite") == 0 ? "rowid" : "seq";
	int ok;

	/* a fixed scatter of each row's number: the same store every run */
	sql = g_strdup_printf("UPDATE %s SET time = time - (%s * 7919) %% %u, "
	    "changed = time - (%s * 7919) %% %u", table, row, days * 86400, row, days * 86400);
	if (strcmp(c->backend, "sqlite") == 0) {
		g_autofree char *path = g_build_filename(c->dir, "index.sqlite", NULL);
		sqlite3 *db = NULL;

		ok = sqlite3_open(path, &db) == SQLITE_OK &&
		    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
		if (!ok)
			fprintf(stderr, "webfill: %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
	} else {
		PGconn *pg = PQconnectdb(c->pg_conninfo);
		PGresult *res = PQexec(pg, sql);

		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "webfill: postgresql: %s", PQerrorMessage(pg));
		PQclear(res);
		PQfinish(pg);
	}
	return ok ? 0 : -1;
}

/* fill_put - item number I with MSG and REPORT; its id in ID; 0 or -1 */
static int
fill_put(struct quar *q, char id[QUAR_ID_LEN + 1], guint i, GBytes *msg, const char *report)
{
	g_autoptr(GPtrArray) rcpts = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *from = g_strdup_printf("sender%u@example.net", i % 100);
	g_autofree char *mid = g_strdup_printf("<%u.webfill@example.net>", i);
	g_autofree char *subject = g_strdup_printf("Invoice %u: your parcel could not be delivered", i);
	g_autofree char *key = NULL, *err = NULL;
	struct quar_source src = { g_bytes_get_data(msg, NULL), g_bytes_get_size(msg), -1 };
	struct quar_item it = { 0 };
	gboolean dup;

	g_ptr_array_add(rcpts, g_strdup_printf("user%u@example.org", i % 40));
	key = quar_key(mid, "", from, rcpts);
	it.queue_id = "4WEBFILL";
	it.client_addr = "192.0.2.25";
	it.helo = "mx.example.net";
	it.mail_from = from;
	it.rcpts = rcpts;
	it.header_from = "\"Parcel service\" <noreply@example.net>";
	it.subject = subject;
	it.message_id = mid;
	it.size = src.len;
	it.score = 10 + (int)(i % 7);
	it.action = "quarantine";
	it.findings = (char *)fill_findings[i % G_N_ELEMENTS(fill_findings)];
	it.report_json = (char *)report;
	it.key = key;
	if (quar_put(q, id, &dup, &err, &it, &src) < 0) {
		fprintf(stderr, "webfill: put %u: %s\n", i, err);
		return -1;
	}
	return 0;
}

/* fill_act - release item ID (when RELEASE) or delete it, as web:bench would; 0 or -1 */
static int
fill_act(struct quar *q, const char *id, gboolean release)
{
	g_autofree char *err = NULL;
	int rc;

	if (release) {
		rc = quar_transition(q, &err, id, QUAR_HELD, QUAR_RELEASING, "web:bench",
		    "release started", "user1@example.org");
		if (rc == 0)
			rc = quar_transition(q, &err, id, QUAR_RELEASING, QUAR_RELEASED, "web:bench",
			    "released", "to user1@example.org via 127.0.0.1:10026: 250 2.0.0 Ok");
	} else {
		rc = quar_transition(q, &err, id, QUAR_HELD, QUAR_DELETED, "web:bench", "deleted", NULL);
	}
	if (rc < 0)
		fprintf(stderr, "webfill: %s: %s\n", id, err);
	return rc < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct moat_conf *conf = NULL;
	struct quar *q = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autofree char *report = NULL, *err = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	guint count, days = argc > 5 ? (guint)atoi(argv[5]) : 30;
	gint64 t0;
	int status = 1;

	if (argc < 5 || argc > 6 || (count = (guint)atoi(argv[2])) == 0 || days == 0) {
		fprintf(stderr, "usage: webfill CONF COUNT MESSAGE REPORT [DAYS]\n");
		return 2;
	}
	if (conf_load(&conf, &err, argv[1], TRUE) < 0 ||
	    quar_open(&q, &err, conf, QUAR_CREATE) < 0) {
		fprintf(stderr, "webfill: %s\n", err);
		goto out;
	}
	{
		char *data = NULL;
		gsize len = 0;

		if (!g_file_get_contents(argv[3], &data, &len, NULL) ||
		    !g_file_get_contents(argv[4], &report, NULL, NULL)) {
			fprintf(stderr, "webfill: cannot read %s or %s\n", argv[3], argv[4]);
			g_free(data);
			goto out;
		}
		msg = g_bytes_new_take(data, len);
	}
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < count; i++) {
		char id[QUAR_ID_LEN + 1];

		if (fill_put(q, id, i, msg, report) < 0)
			goto out;
		g_ptr_array_add(ids, g_strdup(id));
	}
	printf("webfill: %u items put in %.1f s\n", count,
	    (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	if (fill_spread(&conf->quarantine, days) < 0)
		goto out;
	for (guint i = 0; i < count; i++)
		if ((i % 50 == 49 || i % 100 == 1) && fill_act(q, ids->pdata[i], i % 50 == 49) < 0)
			goto out;
	printf("webfill: item %s\n", (const char *)ids->pdata[0]);
	status = 0;
out:
	quar_close(q);
	conf_free(conf);
	return status;
}
