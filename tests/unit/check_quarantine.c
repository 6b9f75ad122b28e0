/*
 * check_quarantine.c - the quarantine store through its interface, for every backend
 *
 * Each test runs once per entry of quar_backends[] (tcase_add_loop_test):
 * a new backend passes the same tests. SQLite stores live in fresh temp
 * folders; PostgreSQL ones in the database MOAT_TEST_PG names (a private
 * cluster tests/pg.sh started for make check), emptied before each test;
 * without it those runs are skipped and say so.
 * What an admin relies on: a put is on disk byte for byte, a retry is the
 * same item, filters select exactly, two releases cannot both win, delete
 * and purge leave nothing behind, the quota refuses before writing, and
 * folders and files keep the modes the group needs whatever the umask.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "checks.h"
#include "moat/moat.h"
#include "moat/quarantine.h"
#include "moat/release.h"
#include "quarantine/backend.h"

struct store {
	char *dir;			/* the temp folder; the store is DIR/q */
	struct moat_conf *conf;
	struct quar *q;
};

static gboolean
is_pg(int b)
{
	return strcmp(quar_backends[b]->name, "postgresql") == 0;
}

/* pg_sql - run SQL on the test database; FALSE when it failed */
static gboolean
pg_sql(const char *sql)
{
	PGconn *c = PQconnectdb(g_getenv("MOAT_TEST_PG"));
	PGresult *r;

	PQclear(PQexec(c, "SET client_min_messages = warning"));
	r = PQexec(c, sql);
	gboolean ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "pg_sql: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok;
}

/*
 * store_open - a new store for backend number B, with EXTRA config lines;
 * FALSE (and a note) when the backend cannot be tested here
 */
static gboolean
store_open(struct store *s, int b, const char *extra)
{
	g_autofree char *text = NULL;
	const char *pg = g_getenv("MOAT_TEST_PG");
	char *err = NULL;

	memset(s, 0, sizeof(*s));
	if (is_pg(b) && (pg == NULL || *pg == '\0')) {
		printf("skipped: a quarantine test on postgresql (no MOAT_TEST_PG: make check sets it)\n");
		return FALSE;
	}
	s->dir = g_dir_make_tmp("moat-quar-XXXXXX", NULL);
	ck_assert_ptr_nonnull(s->dir);
	if (is_pg(b))
		ck_assert(pg_sql("DROP TABLE IF EXISTS moat_items, moat_history, moat_usage, moat_schema;"
		    " DROP FUNCTION IF EXISTS moat_usage_keep"));
	text = g_strdup_printf("[quarantine]\nbackend = %s\ndir = %s/q\npg_conninfo = %s\nnode = gw1\n%s",
	    quar_backends[b]->name, s->dir, pg != NULL ? pg : "", extra != NULL ? extra : "");
	ck_assert_int_eq(conf_load_data(&s->conf, &err, text, strlen(text)), 0);
	ck_assert_msg(quar_open(&s->q, &err, s->conf, QUAR_CREATE) == 0, "open: %s", err);
	return TRUE;
}

/* rm_rf - remove PATH and what is under it */
static void
rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			rm_rf(p);
		else
			g_unlink(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(path);
}

static void
store_close(struct store *s)
{
	quar_close(s->q);
	conf_free(s->conf);
	rm_rf(s->dir);
	g_free(s->dir);
}

/* item - index fields of a held message from SENDER to RCPTS ("a;b"), with FINDINGS; free with item_clear() */
static void
item(struct quar_item *it, const char *sender, const char *rcpts, const char *findings,
    const char *mid)
{
	g_auto(GStrv) v = g_strsplit(rcpts, ";", -1);

	memset(it, 0, sizeof(*it));
	it->queue_id = g_strdup("4XyZ1a2B3c");
	it->client_addr = g_strdup("192.0.2.7");
	it->helo = g_strdup("mx.example.net");
	it->mail_from = g_strdup(sender);
	it->rcpts = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; v[i] != NULL; i++)
		g_ptr_array_add(it->rcpts, g_strdup(v[i]));
	it->header_from = g_strdup("\"Accounts\" <billing@example.net>");
	it->subject = g_strdup("Überweisung – Rechnung 42");
	it->message_id = g_strdup(mid);
	it->score = 12;
	it->action = g_strdup("quarantine");
	it->findings = g_strdup(findings);
	it->report_json = g_strdup("{\"verdict\": {\"score\": 12}}");
	it->key = quar_key(mid, "00ff", sender, it->rcpts);
}

static void
item_clear(struct quar_item *it)
{
	g_free(it->queue_id);
	g_free(it->client_addr);
	g_free(it->helo);
	g_free(it->mail_from);
	g_ptr_array_unref(it->rcpts);
	g_free(it->header_from);
	g_free(it->subject);
	g_free(it->message_id);
	g_free(it->action);
	g_free(it->findings);
	g_free(it->report_json);
	g_free(it->key);
}

static const char message[] = "Received: from mx (mx [192.0.2.7])\r\nFrom: a@example.net\r\n"
    "Subject: x\r\n\r\nbody line\r\n.\r\n\xff\xfe bytes\r\n";

/* put - store MESSAGE under IT; the new id in ID */
static void
put(struct store *s, const struct quar_item *it, char id[QUAR_ID_LEN + 1])
{
	struct quar_source src = { (const guint8 *)message, sizeof(message) - 1, -1 };
	g_autofree char *err = NULL;
	gboolean dup = TRUE;

	ck_assert_msg(quar_put(s->q, id, &dup, &err, it, &src) == 0, "put: %s", err);
	ck_assert(!dup);
}

/* put_simple - a put of an item from SENDER to RCPTS with FINDINGS and Message-ID MID */
static void
put_simple(struct store *s, const char *sender, const char *rcpts, const char *findings,
    const char *mid, char id[QUAR_ID_LEN + 1])
{
	struct quar_item it;

	item(&it, sender, rcpts, findings, mid);
	put(s, &it, id);
	item_clear(&it);
}

/* message_bytes - the bytes of ID's message, as quar_message_open() reads them */
static GBytes *
message_bytes(struct store *s, const char *id)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	g_autofree char *err = NULL;
	char buf[65536];
	ssize_t n;
	int fd = -1;

	ck_assert_msg(quar_message_open(s->q, &fd, &err, id) == 0, "message: %s", err);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(b, (const guint8 *)buf, (guint)n);
	ck_assert_int_eq(n, 0);
	close(fd);
	return g_byte_array_free_to_bytes(g_steal_pointer(&b));
}

/* Every field comes back as it went in, the file holds the message byte for byte. */
START_TEST(test_put_get)
{
	struct store s;
	struct quar_item it, *got = NULL;
	char id[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL;
	g_autoptr(GBytes) b = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	item(&it, "bounce+x=y@example.net", "ceo@example.org;Finance@Example.org", "attach.shortcut",
	    "<1@example.net>");
	put(&s, &it, id);
	ck_assert(quar_id_valid(id));
	ck_assert_int_eq(quar_get(s.q, &got, &err, id), 0);
	ck_assert_str_eq(got->id, id);
	ck_assert_str_eq(got->mail_from, "bounce+x=y@example.net");
	ck_assert_uint_eq(got->rcpts->len, 2);
	ck_assert_str_eq(got->rcpts->pdata[1], "Finance@Example.org");
	ck_assert_str_eq(got->subject, "Überweisung – Rechnung 42");
	ck_assert_str_eq(got->helo, "mx.example.net");
	ck_assert_str_eq(got->findings, "attach.shortcut");
	ck_assert_str_eq(got->report_json, it.report_json);
	ck_assert_str_eq(got->key, it.key);
	ck_assert_int_eq(got->score, 12);
	ck_assert_uint_eq(got->size, sizeof(message) - 1);
	ck_assert_int_eq(got->status, QUAR_HELD);
	ck_assert(got->time > 1700000000 && got->time <= g_get_real_time() / G_USEC_PER_SEC);
	ck_assert_str_eq(got->node, "gw1");
	b = message_bytes(&s, id);
	ck_assert_uint_eq(g_bytes_get_size(b), sizeof(message) - 1);
	ck_assert(memcmp(g_bytes_get_data(b, NULL), message, sizeof(message) - 1) == 0);
	quar_item_free(got);
	item_clear(&it);
	store_close(&s);
}
END_TEST

/*
 * Bytes that are not UTF-8, as mail can carry them: the envelope comes back
 * exactly (a release sends it back), a Subject or Message-ID at least as
 * valid text (a database in UTF-8 refuses the raw bytes; the message keeps
 * them), and the item is found by its raw sender and recipient.
 */
START_TEST(test_not_utf8)
{
	struct store s;
	struct quar_item it, *got = NULL;
	struct quar_filter by_from = { .status = -1, .sender = "b\xe9la\\x@example.net" };
	struct quar_filter by_rcpt = { .status = -1, .recipient = "z\xff@example.org" };
	g_autoptr(GPtrArray) l1 = NULL, l2 = NULL;
	char id[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	item(&it, "b\xe9la\\x@example.net", "ceo@example.org;z\xff@example.org", "x",
	    "<\xe9t\xe9@x>");
	g_free(it.subject);
	it.subject = g_strdup("R\xe9sum\xe9 \xff");
	put(&s, &it, id);
	ck_assert_int_eq(quar_get(s.q, &got, &err, id), 0);
	ck_assert_str_eq(got->mail_from, "b\xe9la\\x@example.net");
	ck_assert_str_eq(got->rcpts->pdata[1], "z\xff@example.org");
	ck_assert(g_utf8_validate(got->subject, -1, NULL) || strcmp(got->subject, it.subject) == 0);
	ck_assert(g_str_has_prefix(got->subject, "R"));
	ck_assert_int_eq(quar_list(s.q, &l1, &err, &by_from), 0);
	ck_assert_uint_eq(l1->len, 1);
	ck_assert_int_eq(quar_list(s.q, &l2, &err, &by_rcpt), 0);
	ck_assert_uint_eq(l2->len, 1);
	quar_item_free(got);
	item_clear(&it);
	store_close(&s);
}
END_TEST

/* A message read from a descriptor: all of it, and the descriptor's offset is left alone. */
START_TEST(test_put_fd)
{
	struct store s;
	struct quar_item it;
	char id[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL;
	g_autoptr(GBytes) got = NULL;
	struct quar_source src = { NULL, 0, -1 };
	gboolean dup;
	gsize big = 3 * 65536 + 17;
	g_autofree char *text = g_malloc(big);
	g_autofree char *file = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	for (gsize i = 0; i < big; i++)
		text[i] = (char)('a' + i % 26);
	file = g_build_filename(s.dir, "spool", NULL);
	ck_assert(g_file_set_contents(file, text, (gssize)big, NULL));
	src.fd = open(file, O_RDONLY);
	ck_assert_int_ge(src.fd, 0);
	ck_assert_int_eq(lseek(src.fd, 5, SEEK_SET), 5);
	item(&it, "a@example.net", "b@example.org", "x", "<fd@x>");
	it.size = big;
	ck_assert_msg(quar_put(s.q, id, &dup, &err, &it, &src) == 0, "put: %s", err);
	ck_assert_int_eq(lseek(src.fd, 0, SEEK_CUR), 5);
	close(src.fd);
	got = message_bytes(&s, id);
	ck_assert_uint_eq(g_bytes_get_size(got), big);
	ck_assert(memcmp(g_bytes_get_data(got, NULL), text, big) == 0);
	item_clear(&it);
	store_close(&s);
}
END_TEST

/* The same message again (the MTA retried) is the first item; once deleted, a new one. */
START_TEST(test_idempotent)
{
	struct store s;
	struct quar_item it;
	struct quar_source src = { (const guint8 *)message, sizeof(message) - 1, -1 };
	char id[QUAR_ID_LEN + 1], again[QUAR_ID_LEN + 1], third[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL;
	g_autoptr(GPtrArray) all = NULL;
	struct quar_filter f = { .status = -1 };
	gboolean dup = FALSE;
	guint64 bytes;
	guint n;

	if (!store_open(&s, _i, NULL))
		return;
	item(&it, "a@example.net", "b@example.org", "x", "<same@x>");
	put(&s, &it, id);
	ck_assert_int_eq(quar_put(s.q, again, &dup, &err, &it, &src), 0);
	ck_assert(dup);
	ck_assert_str_eq(again, id);
	ck_assert_int_eq(quar_usage(s.q, &bytes, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(bytes, sizeof(message) - 1);
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_DELETED, "admin", "deleted",
	    NULL), 0);
	ck_assert_int_eq(quar_put(s.q, third, &dup, &err, &it, &src), 0);
	ck_assert(!dup);
	ck_assert_str_ne(third, id);
	ck_assert_int_eq(quar_list(s.q, &all, &err, &f), 0);
	ck_assert_uint_eq(all->len, 2);
	item_clear(&it);
	store_close(&s);
}
END_TEST

/* The key: stable, and any part of the envelope, Message-ID or body changes it. */
START_TEST(test_key)
{
	g_autoptr(GPtrArray) r1 = g_ptr_array_new();
	g_autoptr(GPtrArray) r2 = g_ptr_array_new();
	g_autofree char *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL, *k5 = NULL, *k6 = NULL;

	g_ptr_array_add(r1, "a@x");
	g_ptr_array_add(r2, "a@x");
	g_ptr_array_add(r2, "b@x");
	k1 = quar_key("<m@x>", "aa", "s@x", r1);
	k2 = quar_key("<m@x>", "aa", "s@x", r1);
	k3 = quar_key("<m@x>", "aa", "s@x", r2);
	k4 = quar_key("<m@x>", "ab", "s@x", r1);
	k5 = quar_key("<m@x>a", "a", "s@x", r1);	/* the fields cannot run into each other */
	k6 = quar_key(NULL, "aa", "s@x", r1);
	ck_assert_uint_eq(strlen(k1), 64);
	ck_assert_str_eq(k1, k2);
	ck_assert_str_ne(k1, k3);
	ck_assert_str_ne(k1, k4);
	ck_assert_str_ne(k4, k5);
	ck_assert_str_ne(k1, k6);
}
END_TEST

/* list: every filter selects exactly what it names, newest first, up to the limit. */
START_TEST(test_list_filters)
{
	struct store s;
	char a[QUAR_ID_LEN + 1], b[QUAR_ID_LEN + 1], c[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL;
	struct {
		struct quar_filter f;
		guint n;
		const char *first;
	} cases[] = {
		{ { .status = -1 }, 3, c },
		{ { .status = QUAR_HELD, .sender = "ALICE@example.net" }, 2, b },
		{ { .status = -1, .recipient = "ceo@example.org" }, 2, c },
		{ { .status = -1, .recipient = "eo@example.org" }, 0, NULL },	/* not a substring */
		{ { .status = -1, .recipient = "CFO@EXAMPLE.ORG" }, 1, b },
		{ { .status = -1, .finding = "lure.sideload" }, 1, b },
		{ { .status = -1, .finding = "lure.side" }, 0, NULL },		/* not a prefix */
		{ { .status = -1, .finding = "attach.shortcut" }, 3, c },
		{ { .status = -1, .limit = 1 }, 1, c },
		{ { .status = QUAR_RELEASED }, 0, NULL },
		{ { .status = -1, .since = 1 }, 3, c },
		{ { .status = -1, .until = 1 }, 0, NULL },
	};

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "alice@example.net", "ceo@example.org", "attach.shortcut", "<a@x>", a);
	put_simple(&s, "Alice@Example.net", "cfo@example.org", "lure.sideload,attach.shortcut", "<b@x>",
	    b);
	put_simple(&s, "bob@example.net", "x@example.org;ceo@example.org", "attach.shortcut", "<c@x>",
	    c);
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) got = NULL;

		ck_assert_int_eq(quar_list(s.q, &got, &err, &cases[i].f), 0);
		ck_assert_msg(got->len == cases[i].n, "case %zu: %u items, expected %u", i, got->len,
		    cases[i].n);
		if (cases[i].first != NULL)
			ck_assert_str_eq(((struct quar_item *)got->pdata[0])->id, cases[i].first);
	}
	store_close(&s);
}
END_TEST

/* store_sql - SQL on the store's own database; ITEMS in it names the backend's table of items */
static void
store_sql(struct store *s, int b, const char *sql)
{
	g_autoptr(GString) q = g_string_new(sql);

	g_string_replace(q, "ITEMS", is_pg(b) ? "moat_items" : "items", 0);
	if (is_pg(b)) {
		ck_assert(pg_sql(q->str));
	} else {
		g_autofree char *db = g_build_filename(s->dir, "q", "index.sqlite", NULL);
		sqlite3 *h = NULL;

		ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
		ck_assert_msg(sqlite3_exec(h, q->str, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", q->str,
		    sqlite3_errmsg(h));
		sqlite3_close(h);
	}
}

/*
 * Paging in the store: limit and offset cut the order the whole list has;
 * without_report leaves out the report and nothing else.
 */
START_TEST(test_list_pages)
{
	struct store s;
	g_autofree char *err = NULL;
	struct quar_filter all = { .status = -1 };
	g_autoptr(GPtrArray) full = NULL, past = NULL, tail = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	for (int i = 0; i < 7; i++) {
		g_autofree char *mid = g_strdup_printf("<p%d@x>", i);
		char id[QUAR_ID_LEN + 1];

		put_simple(&s, i % 2 ? "alice@example.net" : "bob@example.net",
		    "ceo@example.org;cfo@example.org", i % 3 ? "attach.shortcut" : "lure.sideload", mid,
		    id);
	}
	ck_assert_int_eq(quar_list(s.q, &full, &err, &all), 0);
	ck_assert_uint_eq(full->len, 7);
	for (guint off = 0; off < 7; off += 3) {
		struct quar_filter f = { .status = -1, .limit = 3, .offset = off, .without_report = TRUE };
		g_autoptr(GPtrArray) page = NULL;

		ck_assert_int_eq(quar_list(s.q, &page, &err, &f), 0);
		ck_assert_uint_eq(page->len, MIN(3u, 7 - off));
		for (guint j = 0; j < page->len; j++) {
			const struct quar_item *a = page->pdata[j], *b = full->pdata[off + j];

			ck_assert_str_eq(a->id, b->id);
			ck_assert_str_eq(a->report_json, "");
			ck_assert_str_ne(b->report_json, "");
			ck_assert_str_eq(a->findings, b->findings);
			ck_assert_str_eq(a->mail_from, b->mail_from);
			ck_assert_str_eq(a->subject, b->subject);
			ck_assert_str_eq(a->key, b->key);
			ck_assert_str_eq(a->node, "gw1");
			ck_assert_uint_eq(a->rcpts->len, 2);
			ck_assert_str_eq(a->rcpts->pdata[1], "cfo@example.org");
			ck_assert_int_eq(a->status, QUAR_HELD);
			ck_assert_uint_eq(a->size, b->size);
		}
	}
	ck_assert_int_eq(quar_list(s.q, &past, &err, &(struct quar_filter){ .status = -1, .limit = 3,
	    .offset = 7 }), 0);
	ck_assert_uint_eq(past->len, 0);
	/* an offset without a limit: the rest */
	ck_assert_int_eq(quar_list(s.q, &tail, &err, &(struct quar_filter){ .status = -1,
	    .offset = 5 }), 0);
	ck_assert_uint_eq(tail->len, 2);
	ck_assert_str_eq(((struct quar_item *)tail->pdata[1])->id,
	    ((struct quar_item *)full->pdata[6])->id);
	store_close(&s);
}
END_TEST

/* count_is - group I of GROUPS is KEY with N items */
static void
count_is(const GPtrArray *groups, guint i, const char *key, guint n)
{
	const struct quar_count *c;

	ck_assert_msg(i < groups->len, "group %u of %u", i, groups->len);
	c = groups->pdata[i];
	ck_assert_msg(strcmp(c->key, key) == 0 && c->n == n, "group %u: %s %u, expected %s %u", i,
	    c->key, c->n, key, n);
}

/* counted - quar_count(F, BY) on S, asserting it worked */
static GPtrArray *
counted(struct store *s, const struct quar_filter *f, enum quar_count_by by)
{
	GPtrArray *groups = NULL;
	g_autofree char *err = NULL;

	ck_assert_msg(quar_count(s->q, &groups, &err, f, by) == 0, "count: %s", err);
	return groups;
}

/* day_of - the UTC date of T, as quar_count() names days */
static char *
day_of(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);

	return g_date_time_format(dt, "%Y-%m-%d");
}

/*
 * The store's own counts, by status, day and finding, under the list's
 * filters: what the web's list and statistics pages show. Most first, then
 * by key; an empty selection still has its total.
 */
START_TEST(test_count)
{
	struct store s;
	char a[QUAR_ID_LEN + 1], b[QUAR_ID_LEN + 1], c[QUAR_ID_LEN + 1], d[QUAR_ID_LEN + 1];
	char e[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL, *sql = NULL, *today = NULL, *before = NULL;
	g_autoptr(GPtrArray) g1 = NULL, g2 = NULL, g3 = NULL, g4 = NULL, g5 = NULL, g6 = NULL;
	g_autoptr(GPtrArray) g7 = NULL, g8 = NULL, g9 = NULL;
	struct quar_item *it = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "alice@example.net", "ceo@example.org", "attach.shortcut", "<a@x>", a);
	put_simple(&s, "alice@example.net", "ceo@example.org", "lure.sideload,attach.shortcut",
	    "<b@x>", b);
	put_simple(&s, "bob@example.net", "ceo@example.org", "attach.shortcut,name.double_extension",
	    "<c@x>", c);
	put_simple(&s, "bob@example.net", "ceo@example.org", "", "<d@x>", d);
	put_simple(&s, "carol@example.net", "ceo@example.org", "lure.sideload", "<e@x>", e);
	ck_assert_int_eq(quar_transition(s.q, &err, b, QUAR_HELD, QUAR_RELEASED, "ann", "released",
	    NULL), 0);
	ck_assert_int_eq(quar_transition(s.q, &err, c, QUAR_HELD, QUAR_DELETED, "ann", "deleted",
	    NULL), 0);
	sql = g_strdup_printf("UPDATE ITEMS SET time = time - 2 * 86400 WHERE id = '%s'", d);
	store_sql(&s, _i, sql);
	ck_assert_int_eq(quar_get(s.q, &it, &err, a), 0);
	today = day_of(it->time);
	before = day_of(it->time - 2 * 86400);
	quar_item_free(it);

	g1 = counted(&s, &(struct quar_filter){ .status = -1 }, QUAR_COUNT_ALL);
	ck_assert_uint_eq(g1->len, 1);
	count_is(g1, 0, "", 5);
	g2 = counted(&s, &(struct quar_filter){ .status = QUAR_HELD, .limit = 1, .offset = 1 },
	    QUAR_COUNT_ALL);
	count_is(g2, 0, "", 3);			/* limit and offset do not count */
	g3 = counted(&s, &(struct quar_filter){ .status = -1, .sender = "nobody@example.net" },
	    QUAR_COUNT_ALL);
	ck_assert_uint_eq(g3->len, 1);
	count_is(g3, 0, "", 0);
	g4 = counted(&s, &(struct quar_filter){ .status = -1 }, QUAR_COUNT_STATUS);
	ck_assert_uint_eq(g4->len, 3);
	count_is(g4, 0, "held", 3);
	count_is(g4, 1, "deleted", 1);
	count_is(g4, 2, "released", 1);
	g5 = counted(&s, &(struct quar_filter){ .status = -1 }, QUAR_COUNT_FINDING);
	ck_assert_uint_eq(g5->len, 3);
	count_is(g5, 0, "attach.shortcut", 3);
	count_is(g5, 1, "lure.sideload", 2);
	count_is(g5, 2, "name.double_extension", 1);
	g6 = counted(&s, &(struct quar_filter){ .status = QUAR_HELD }, QUAR_COUNT_FINDING);
	ck_assert_uint_eq(g6->len, 2);
	count_is(g6, 0, "attach.shortcut", 1);
	count_is(g6, 1, "lure.sideload", 1);
	g7 = counted(&s, &(struct quar_filter){ .status = -1, .sender = "ALICE@example.net",
	    .finding = "attach.shortcut" }, QUAR_COUNT_FINDING);
	ck_assert_uint_eq(g7->len, 2);
	count_is(g7, 0, "attach.shortcut", 2);
	count_is(g7, 1, "lure.sideload", 1);
	g8 = counted(&s, &(struct quar_filter){ .status = -1 }, QUAR_COUNT_DAY);
	ck_assert_uint_eq(g8->len, 2);
	count_is(g8, 0, today, 4);
	count_is(g8, 1, before, 1);
	g9 = counted(&s, &(struct quar_filter){ .status = -1,
	    .since = g_get_real_time() / G_USEC_PER_SEC - 86400 }, QUAR_COUNT_DAY);
	ck_assert_uint_eq(g9->len, 1);
	count_is(g9, 0, today, 4);
	store_close(&s);
}
END_TEST

/*
 * acted and QUAR_BY_CHANGED, as the web's history page asks: the items
 * someone acted on (a release that failed back to held too), changed last
 * first, at most the limit.
 */
START_TEST(test_list_acted)
{
	struct store s;
	char a[QUAR_ID_LEN + 1], b[QUAR_ID_LEN + 1], c[QUAR_ID_LEN + 1], d[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL, *sql = NULL;
	struct quar_filter f = { .status = -1, .acted = TRUE, .order = QUAR_BY_CHANGED,
		.without_report = TRUE };
	g_autoptr(GPtrArray) l1 = NULL, l2 = NULL, l3 = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "a@example.net", "ceo@example.org", "x", "<a@x>", a);
	put_simple(&s, "a@example.net", "ceo@example.org", "x", "<b@x>", b);
	put_simple(&s, "a@example.net", "ceo@example.org", "x", "<c@x>", c);
	put_simple(&s, "a@example.net", "ceo@example.org", "x", "<d@x>", d);
	/* stored a while ago: what happens now is after it */
	store_sql(&s, _i, "UPDATE ITEMS SET time = time - 1000, changed = changed - 1000");
	ck_assert_int_eq(quar_transition(s.q, &err, b, QUAR_HELD, QUAR_DELETED, "ann", "deleted",
	    NULL), 0);
	ck_assert_int_eq(quar_transition(s.q, &err, c, QUAR_HELD, QUAR_RELEASING, "ann",
	    "release started", NULL), 0);
	ck_assert_int_eq(quar_transition(s.q, &err, c, QUAR_RELEASING, QUAR_HELD, "ann",
	    "release failed", "451 try later"), 0);
	ck_assert_int_eq(quar_transition(s.q, &err, d, QUAR_HELD, QUAR_RELEASED, "ann", "released",
	    NULL), 0);
	/* changed: c last, then b, then d */
	sql = g_strdup_printf("UPDATE ITEMS SET changed = changed - 10 WHERE id = '%s';"
	    " UPDATE ITEMS SET changed = changed - 20 WHERE id = '%s'", b, d);
	store_sql(&s, _i, sql);
	ck_assert_int_eq(quar_list(s.q, &l1, &err, &f), 0);
	ck_assert_uint_eq(l1->len, 3);
	ck_assert_str_eq(((struct quar_item *)l1->pdata[0])->id, c);
	ck_assert_str_eq(((struct quar_item *)l1->pdata[1])->id, b);
	ck_assert_str_eq(((struct quar_item *)l1->pdata[2])->id, d);
	ck_assert_str_eq(((struct quar_item *)l1->pdata[0])->report_json, "");
	f.limit = 2;
	ck_assert_int_eq(quar_list(s.q, &l2, &err, &f), 0);
	ck_assert_uint_eq(l2->len, 2);
	ck_assert_str_eq(((struct quar_item *)l2->pdata[1])->id, b);
	f.limit = 0;
	f.status = QUAR_HELD;
	ck_assert_int_eq(quar_list(s.q, &l3, &err, &f), 0);
	ck_assert_uint_eq(l3->len, 1);
	ck_assert_str_eq(((struct quar_item *)l3->pdata[0])->id, c);
	store_close(&s);
}
END_TEST

/* Of two releases of one item, one wins; a stale claim can be taken over; history records each step. */
START_TEST(test_transitions)
{
	struct store s;
	char id[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL;
	g_autoptr(GPtrArray) hist = NULL;
	struct quar_item *got = NULL;
	const struct quar_event *ev;

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "a@example.net", "b@example.org", "x", "<t@x>", id);
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_RELEASING, "ann",
	    "release started", "b@example.org"), 0);
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_RELEASING, "bob",
	    "release started", NULL), MOAT_EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "releasing"));
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_RELEASING, QUAR_RELEASED, "ann",
	    "released", "250 ok"), 0);
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_RELEASING, "bob",
	    "release started", NULL), MOAT_EBUSY);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_transition(s.q, &err, "AAAAAAAAAAAAAAAAAAAAAA", QUAR_HELD,
	    QUAR_RELEASING, "bob", "x", NULL), MOAT_ENOENT);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_transition(s.q, &err, "../../etc/passwd", QUAR_HELD, QUAR_DELETED,
	    "bob", "x", NULL), MOAT_ENOENT);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_note(s.q, &err, id, "ann", "exported", NULL), 0);
	ck_assert_int_eq(quar_history(s.q, &hist, &err, id), 0);
	ck_assert_uint_eq(hist->len, 4);
	ev = hist->pdata[0];
	ck_assert_str_eq(ev->who, "moatd");
	ck_assert_str_eq(ev->what, "stored");
	ev = hist->pdata[2];
	ck_assert_str_eq(ev->who, "ann");
	ck_assert_str_eq(ev->what, "released");
	ck_assert_str_eq(ev->detail, "250 ok");
	ck_assert_int_eq(quar_get(s.q, &got, &err, id), 0);
	ck_assert_int_eq(got->status, QUAR_RELEASED);
	quar_item_free(got);
	store_close(&s);
}
END_TEST

/* A release whose command died (claimed more than QUAR_CLAIM_SECONDS ago) can be taken over. */
START_TEST(test_stale_claim)
{
	struct store s;
	char id[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL, *db = NULL, *sql = NULL;
	sqlite3 *h = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "a@example.net", "b@example.org", "x", "<s@x>", id);
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_RELEASING, "ann", "claim",
	    NULL), 0);
	/* the claim ages in the database itself */
	sql = g_strdup_printf("UPDATE %s SET changed = changed - %d WHERE id = '%s'",
	    is_pg(_i) ? "moat_items" : "items", QUAR_CLAIM_SECONDS + 5, id);
	if (is_pg(_i)) {
		ck_assert(pg_sql(sql));
	} else {
		db = g_build_filename(s.dir, "q", "index.sqlite", NULL);
		ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
		ck_assert_int_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_RELEASING, "bob", "claim",
	    NULL), 0);
	store_close(&s);
}
END_TEST

/* delete: the file goes, the row and history stay; purge: everything older goes, the rest stays. */
START_TEST(test_delete_purge)
{
	struct store s;
	char a[QUAR_ID_LEN + 1], b[QUAR_ID_LEN + 1];
	g_autofree char *err = NULL, *fa = NULL;
	g_autoptr(GPtrArray) all = NULL;
	struct quar_filter f = { .status = -1 };
	struct quar_item *got = NULL;
	guint64 bytes;
	guint n = 99, items;
	int fd = -1;

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "a@example.net", "b@example.org", "x", "<d1@x>", a);
	put_simple(&s, "a@example.net", "b@example.org", "x", "<d2@x>", b);
	fa = quar_files_path(s.conf->quarantine.dir, a);
	ck_assert(is_pg(_i) || g_file_test(fa, G_FILE_TEST_EXISTS));
	ck_assert_int_eq(quar_transition(s.q, &err, a, QUAR_HELD, QUAR_DELETED, "ann", "deleted", NULL),
	    0);
	ck_assert(!g_file_test(fa, G_FILE_TEST_EXISTS));
	ck_assert_int_eq(quar_message_open(s.q, &fd, &err, a), MOAT_ENOENT);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_get(s.q, &got, &err, a), 0);
	ck_assert_int_eq(got->status, QUAR_DELETED);
	quar_item_free(got);
	ck_assert_int_eq(quar_usage(s.q, &bytes, &items, &err), 0);
	ck_assert_uint_eq(items, 1);		/* the quota counts what is on disk */
	ck_assert_uint_eq(bytes, sizeof(message) - 1);
	/* nothing is older than a day ago: both stay */
	ck_assert_int_eq(quar_purge(s.q, &n, &err, g_get_real_time() / G_USEC_PER_SEC - 86400), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(quar_purge(s.q, &n, &err, g_get_real_time() / G_USEC_PER_SEC + 1), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(quar_list(s.q, &all, &err, &f), 0);
	ck_assert_uint_eq(all->len, 0);
	ck_assert_int_eq(quar_usage(s.q, &bytes, &items, &err), 0);
	ck_assert_uint_eq(items, 0);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_int_eq(quar_get(s.q, &got, &err, b), MOAT_ENOENT);
	g_clear_pointer(&err, g_free);
	g_free(fa);
	fa = quar_files_path(s.conf->quarantine.dir, b);
	ck_assert(!g_file_test(fa, G_FILE_TEST_EXISTS));
	store_close(&s);
}
END_TEST

/* The quota refuses before anything is written. */
START_TEST(test_quota)
{
	struct store s;
	char id[QUAR_ID_LEN + 1];
	struct quar_item it;
	struct quar_source src = { (const guint8 *)message, sizeof(message) - 1, -1 };
	g_autofree char *err = NULL, *tmp = NULL;
	gboolean dup;
	guint64 bytes;
	guint n;
	GDir *d;

	g_autofree char *quota = g_strdup_printf("max_bytes = %zu\n", sizeof(message) + 10);

	/* room for one message, not two */
	if (!store_open(&s, _i, quota))
		return;
	put_simple(&s, "a@example.net", "b@example.org", "x", "<q1@x>", id);
	item(&it, "a@example.net", "b@example.org", "x", "<q2@x>");
	ck_assert_int_eq(quar_put(s.q, id, &dup, &err, &it, &src), MOAT_EFULL);
	ck_assert_ptr_nonnull(strstr(err, "max_bytes"));
	ck_assert_int_eq(quar_usage(s.q, &bytes, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	if (!is_pg(_i)) {	/* no temp file left behind */
		tmp = g_build_filename(s.dir, "q", "tmp", NULL);
		d = g_dir_open(tmp, 0, NULL);
		ck_assert_ptr_nonnull(d);
		ck_assert_ptr_null(g_dir_read_name(d));
		g_dir_close(d);
	}
	item_clear(&it);
	store_close(&s);
}
END_TEST

/* Folders 2770, files 0660 (the admin group reads them), whatever the umask. */
START_TEST(test_modes)
{
	struct store s;
	char id[QUAR_ID_LEN + 1];
	g_autofree char *db = NULL, *file = NULL, *msg = NULL, *wal = NULL;
	struct stat st;
	mode_t old = umask(077);

	if (is_pg(_i) || !store_open(&s, _i, NULL)) {
		umask(old);
		return;		/* files and their modes are SQLite's */
	}
	put_simple(&s, "a@example.net", "b@example.org", "x", "<m@x>", id);
	umask(old);
	ck_assert_int_eq(stat(s.conf->quarantine.dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 02770);
	msg = g_build_filename(s.conf->quarantine.dir, "msg", NULL);
	ck_assert_int_eq(stat(msg, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 02770);
	file = quar_files_path(s.conf->quarantine.dir, id);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	if (strcmp(quar_backends[_i]->name, "sqlite") == 0) {
		db = g_build_filename(s.conf->quarantine.dir, "index.sqlite", NULL);
		wal = g_strconcat(db, "-wal", NULL);
		ck_assert_int_eq(stat(db, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0660);
		ck_assert_int_eq(stat(wal, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0660);
	}
	store_close(&s);
}
END_TEST

struct racer {
	struct store *s;
	int n;
	int who;
	GPtrArray *ids;			/* char *, owned */
};

static gpointer
racer_run(gpointer data)
{
	struct racer *r = data;

	for (int i = 0; i < r->n; i++) {
		char id[QUAR_ID_LEN + 1];
		g_autofree char *mid = g_strdup_printf("<%d.%d@race>", r->who, i);

		put_simple(r->s, "a@example.net", "b@example.org", "x", mid, id);
		g_ptr_array_add(r->ids, g_strdup(id));
	}
	return NULL;
}

/* moatd's threads put at once into one store: every item kept, every id distinct. */
START_TEST(test_threads)
{
	struct store s;
	struct racer r[4];
	GThread *t[4];
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) all = NULL;
	struct quar_filter f = { .status = -1 };
	g_autofree char *err = NULL;

	if (!store_open(&s, _i, NULL))
		return;
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ &s, 50, i, g_ptr_array_new_with_free_func(g_free) };
		t[i] = g_thread_new("racer", racer_run, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		g_thread_join(t[i]);
		for (guint k = 0; k < r[i].ids->len; k++)
			ck_assert(g_hash_table_add(seen, r[i].ids->pdata[k]));
	}
	ck_assert_uint_eq(g_hash_table_size(seen), 200);
	ck_assert_int_eq(quar_list(s.q, &all, &err, &f), 0);
	ck_assert_uint_eq(all->len, 200);
	for (int i = 0; i < 4; i++)
		g_ptr_array_unref(r[i].ids);
	store_close(&s);
}
END_TEST

/*
 * An SMTP server in a thread, for releases: one connection, 250 to all
 * (550 to RCPT when REFUSE), the lines after DATA kept. Started only when
 * a release will connect: it waits in accept().
 */
struct sink {
	int lfd;
	guint port;
	gboolean refuse;
	GString *cmds;			/* the commands, as sent */
	GString *data;			/* what came after DATA, without the final ".\r\n" */
	GThread *thread;
};

static gpointer
sink_run(gpointer p)
{
	struct sink *k = p;
	int fd = accept(k->lfd, NULL, NULL);
	FILE *in, *out;
	char line[4096];
	gboolean data = FALSE;

	if (fd < 0)
		return NULL;
	in = fdopen(fd, "r");
	out = fdopen(dup(fd), "w");
	fputs("220 sink ESMTP\r\n", out);
	fflush(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (data && strcmp(line, ".\r\n") == 0) {
			data = FALSE;
			fputs("250 2.0.0 Ok: queued as T1\r\n", out);
		} else if (data) {
			g_string_append(k->data, line);
		} else {
			g_string_append(k->cmds, line);
			data = g_ascii_strncasecmp(line, "DATA", 4) == 0;
			if (g_ascii_strncasecmp(line, "EHLO", 4) == 0)
				fputs("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n", out);
			else if (g_ascii_strncasecmp(line, "RCPT", 4) == 0 && k->refuse)
				fputs("550 5.1.1 <x>: Recipient address rejected\r\n", out);
			else if (data)
				fputs("354 go ahead\r\n", out);
			else if (g_ascii_strncasecmp(line, "QUIT", 4) == 0)
				fputs("221 bye\r\n", out);
			else
				fputs("250 ok\r\n", out);
		}
		fflush(out);
	}
	fclose(in);
	fclose(out);
	return NULL;
}

/* sink_listen - a listening socket on 127.0.0.1, its port in *PORT */
static int
sink_listen(guint *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void
sink_start(struct sink *k, gboolean refuse)
{
	memset(k, 0, sizeof(*k));
	k->lfd = sink_listen(&k->port);
	k->refuse = refuse;
	k->cmds = g_string_new(NULL);
	k->data = g_string_new(NULL);
	k->thread = g_thread_new("sink", sink_run, k);
}

/* sink_stop - after the release: the thread joined, the socket closed (the strings stay) */
static void
sink_stop(struct sink *k)
{
	g_thread_join(k->thread);
	close(k->lfd);
}

static void
sink_free(struct sink *k)
{
	g_string_free(k->cmds, TRUE);
	g_string_free(k->data, TRUE);
}

/* release_conf - S's [quarantine] with release_host 127.0.0.1:PORT (strings borrowed from S, HP) */
static struct conf_quarantine
release_conf(const struct store *s, char *hp, gsize n, guint port)
{
	struct conf_quarantine c = s->conf->quarantine;

	g_snprintf(hp, n, "127.0.0.1:%u", port);
	c.release_host = hp;
	c.release_timeout = 5;
	return c;
}

/* history_line - event I of ID's history as "who|what|detail" (caller g_free()s) */
static char *
history_line(struct store *s, const char *id, guint i)
{
	g_autoptr(GPtrArray) hist = NULL;
	g_autofree char *err = NULL;
	const struct quar_event *ev;

	ck_assert_int_eq(quar_history(s->q, &hist, &err, id), 0);
	ck_assert_msg(i < hist->len, "event %u of %u", i, hist->len);
	ev = hist->pdata[i];
	return g_strdup_printf("%s|%s|%s", ev->who, ev->what, ev->detail);
}

/* status_now - ID's status */
static enum quar_status
status_now(struct store *s, const char *id)
{
	struct quar_item *it = NULL;
	g_autofree char *err = NULL;
	enum quar_status st;

	ck_assert_int_eq(quar_get(s->q, &it, &err, id), 0);
	st = it->status;
	quar_item_free(it);
	return st;
}

/*
 * quar_release, as `moat quarantine release` and moat-web run it: the
 * message goes to its recipients with X-Moat-Released by the actor on top
 * and the forged X-Moat-* lines out, history says who and what the MTA
 * answered, a second release is refused; --to replaces the recipients.
 */
START_TEST(test_release)
{
	static const char forged[] = "X-Moat-Verdict: clean\r\nFrom: a@example.net\r\n"
	    "Subject: x\r\n\r\nbody\r\n";
	struct store s;
	struct sink k;
	struct quar_item it;
	struct quar_source src = { (const guint8 *)forged, sizeof(forged) - 1, -1 };
	char id[QUAR_ID_LEN + 1], hp[64], *err = NULL, *reply = NULL, *rcpts = NULL;
	struct conf_quarantine c;
	g_autoptr(GPtrArray) to = g_ptr_array_new();
	g_autofree char *h1 = NULL, *h2 = NULL, *h3 = NULL, *want = NULL;
	gboolean dup;

	if (!store_open(&s, _i, NULL))
		return;
	item(&it, "a@example.net", "ceo@example.org;cfo@example.org", "attach.shortcut", "<r@x>");
	ck_assert_msg(quar_put(s.q, id, &dup, &err, &it, &src) == 0, "put: %s", err);
	item_clear(&it);
	sink_start(&k, FALSE);
	c = release_conf(&s, hp, sizeof(hp), k.port);
	ck_assert_msg(quar_release(s.q, &reply, &rcpts, &err, &c, id, NULL, "ann") == 0, "release: %s",
	    err);
	sink_stop(&k);
	ck_assert_str_eq(reply, "250 2.0.0 Ok: queued as T1");
	ck_assert_str_eq(rcpts, "ceo@example.org, cfo@example.org");
	ck_assert_ptr_nonnull(strstr(k.cmds->str, "MAIL FROM:<a@example.net>"));
	ck_assert_ptr_nonnull(strstr(k.cmds->str, "RCPT TO:<cfo@example.org>"));
	want = g_strdup_printf("(quarantine %s)\r\nFrom: a@example.net\r\n", id);
	ck_assert_msg(g_str_has_prefix(k.data->str, "X-Moat-Released: by ann on ") &&
	    strstr(k.data->str, want) != NULL, "delivered: %s", k.data->str);
	ck_assert_ptr_null(strstr(k.data->str, "X-Moat-Verdict"));
	ck_assert_int_eq(status_now(&s, id), QUAR_RELEASED);
	h1 = history_line(&s, id, 1);
	h2 = history_line(&s, id, 2);
	ck_assert_str_eq(h1, "ann|release started|ceo@example.org, cfo@example.org");
	g_free(want);
	want = g_strdup_printf("ann|released|to ceo@example.org, cfo@example.org via 127.0.0.1:%u: "
	    "250 2.0.0 Ok: queued as T1", k.port);
	ck_assert_str_eq(h2, want);
	sink_free(&k);
	g_clear_pointer(&reply, g_free);
	g_clear_pointer(&rcpts, g_free);
	/* again: no delivery (nothing listens), told why */
	ck_assert_int_eq(quar_release(s.q, &reply, &rcpts, &err, &c, id, NULL, "bob"), MOAT_EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "is released, not held"));
	g_clear_pointer(&err, g_free);
	/* deleted after its release; its history stays */
	ck_assert_int_eq(quar_delete(s.q, &err, id, "ann"), 0);
	ck_assert_int_eq(status_now(&s, id), QUAR_DELETED);
	h3 = history_line(&s, id, 3);
	ck_assert_str_eq(h3, "ann|deleted|");
	ck_assert_int_eq(quar_release(s.q, &reply, &rcpts, &err, &c, id, NULL, "bob"), MOAT_ENOENT);
	g_clear_pointer(&err, g_free);

	/* --to: another recipient than the envelope's */
	put_simple(&s, "a@example.net", "ceo@example.org", "x", "<r2@x>", id);
	g_ptr_array_add(to, "it-security@example.org");
	sink_start(&k, FALSE);
	c = release_conf(&s, hp, sizeof(hp), k.port);
	ck_assert_msg(quar_release(s.q, &reply, &rcpts, &err, &c, id, to, "ann") == 0, "release: %s",
	    err);
	sink_stop(&k);
	ck_assert_str_eq(rcpts, "it-security@example.org");
	ck_assert_ptr_nonnull(strstr(k.cmds->str, "RCPT TO:<it-security@example.org>"));
	ck_assert_ptr_null(strstr(k.cmds->str, "ceo@"));
	sink_free(&k);
	g_free(reply);
	g_free(rcpts);
	store_close(&s);
}
END_TEST

/*
 * A release that cannot deliver (refused, nobody listening) leaves the
 * item held with the reason in its history; one without recipients or
 * without an item does not start; delete takes held or released, not an
 * item being released.
 */
START_TEST(test_release_fails)
{
	struct store s;
	struct sink k;
	char id[QUAR_ID_LEN + 1], none[QUAR_ID_LEN + 1], hp[64], *err = NULL;
	char *reply = NULL, *rcpts = NULL;
	struct conf_quarantine c;
	g_autofree char *h = NULL, *h2 = NULL;
	guint dead;
	int fd;

	if (!store_open(&s, _i, NULL))
		return;
	put_simple(&s, "a@example.net", "ceo@example.org", "x", "<f@x>", id);
	sink_start(&k, TRUE);
	c = release_conf(&s, hp, sizeof(hp), k.port);
	ck_assert_int_eq(quar_release(s.q, &reply, &rcpts, &err, &c, id, NULL, "web:ann"), MOAT_EBUSY);
	sink_stop(&k);
	ck_assert_ptr_nonnull(strstr(err, "550 5.1.1"));
	ck_assert_ptr_null(strstr(k.cmds->str, "DATA"));
	ck_assert_ptr_null(reply);
	ck_assert_int_eq(status_now(&s, id), QUAR_HELD);
	h = history_line(&s, id, 2);
	ck_assert_msg(g_str_has_prefix(h, "web:ann|release failed|") && strstr(h, "550 5.1.1"), "%s", h);
	sink_free(&k);
	g_clear_pointer(&err, g_free);
	/* nobody listens there */
	fd = sink_listen(&dead);
	close(fd);
	c = release_conf(&s, hp, sizeof(hp), dead);
	ck_assert_int_eq(quar_release(s.q, &reply, &rcpts, &err, &c, id, NULL, "ann"), MOAT_EBUSY);
	ck_assert_int_eq(status_now(&s, id), QUAR_HELD);
	h2 = history_line(&s, id, 4);
	ck_assert_msg(g_str_has_prefix(h2, "ann|release failed|"), "%s", h2);
	g_clear_pointer(&err, g_free);
	/* no recipient; no such item */
	put_simple(&s, "a@example.net", "", "x", "<none@x>", none);
	ck_assert_int_eq(quar_release(s.q, &reply, &rcpts, &err, &c, none, NULL, "ann"), MOAT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no recipient"));
	ck_assert_int_eq(status_now(&s, none), QUAR_HELD);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_release(s.q, &reply, &rcpts, &err, &c, "AAAAAAAAAAAAAAAAAAAAAA", NULL,
	    "ann"), MOAT_ENOENT);
	g_clear_pointer(&err, g_free);
	/* someone's release in progress is not deleted; a held item is */
	ck_assert_int_eq(quar_transition(s.q, &err, id, QUAR_HELD, QUAR_RELEASING, "bob",
	    "release started", NULL), 0);
	ck_assert_int_eq(quar_delete(s.q, &err, id, "ann"), MOAT_EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "is releasing"));
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_delete(s.q, &err, none, "ann"), 0);
	ck_assert_int_eq(status_now(&s, none), QUAR_DELETED);
	ck_assert_int_eq(quar_delete(s.q, &err, none, "ann"), MOAT_EBUSY);
	g_clear_pointer(&err, g_free);
	ck_assert_ptr_null(rcpts);
	store_close(&s);
}
END_TEST

/*
 * Processes that open one new SQLite store at the same moment (two moatds
 * started together, moatd and moat-web) all get it: switching the new
 * file to WAL answers all but one SQLITE_BUSY at once, without waiting
 * (the Postfix bench's two moatds met it; Python's sqlite3 shows it in
 * about one of 18 such opens).
 */
START_TEST(test_open_together)
{
	enum { ROUNDS = 30, N = 4 };
	g_autofree char *dir = g_dir_make_tmp("moat-quar-XXXXXX", NULL);
	g_autofree char *text = g_strdup_printf("[quarantine]\nbackend = sqlite\ndir = %s\n", dir);
	struct moat_conf *conf = NULL;
	struct quar *q = NULL;
	char *err = NULL;
	int failed = 0;

	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), 0);
	/* the message directories once (4,096 of them); each round a new index */
	ck_assert_msg(quar_open(&q, &err, conf, QUAR_CREATE) == 0, "open: %s", err);
	quar_close(q);
	for (int r = 0; r < ROUNDS; r++) {
		int go[2];
		pid_t kids[N];

		for (guint k = 0; k < 3; k++) {
			g_autofree char *f = g_strdup_printf("%s/index.sqlite%s", dir,
			    (const char *[]){ "", "-wal", "-shm" }[k]);

			g_unlink(f);
		}
		ck_assert_int_eq(pipe(go), 0);
		for (int i = 0; i < N; i++) {
			if ((kids[i] = fork()) == 0) {
				char c;

				close(go[1]);
				if (read(go[0], &c, 1) != 0)	/* all go when the pipe closes */
					_exit(3);
				if (quar_open(&q, &err, conf, QUAR_CREATE) != 0) {
					fprintf(stderr, "round %d, open %d: %s\n", r, i, err);
					_exit(1);
				}
				quar_close(q);
				_exit(0);
			}
			ck_assert_int_ge(kids[i], 0);
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < N; i++) {
			int st;

			ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
			failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
	}
	ck_assert_int_eq(failed, 0);
	conf_free(conf);
	rm_rf(dir);
}
END_TEST

/* Opening a store that is not there without CREATE fails and says where; bad config words are named. */
START_TEST(test_open_and_conf)
{
	struct moat_conf *conf = NULL;
	struct quar *q = NULL;
	char *err = NULL;
	const char *bad[] = { "mode = keep\n", "reply = bounce\n", "full_action = drop\n",
		"dir = relative/q\n", "backend = mysql\n", "backend = postgresql\npg_conninfo =\n" };
	const char *text = "[quarantine]\ndir = /nonexistent/moat-q\n";

	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), 0);
	ck_assert_int_lt(quar_open(&q, &err, conf, 0), 0);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/moat-q"));
	g_clear_pointer(&err, g_free);
	conf_free(conf);
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *t = g_strconcat("[quarantine]\n", bad[i], NULL);
		const char *eq = strrchr(bad[i], '=');
		const char *kb = g_strrstr_len(bad[i], eq - bad[i], "\n");
		g_autofree char *key = NULL;

		kb = kb != NULL ? kb + 1 : bad[i];
		key = g_strndup(kb, (gsize)(eq - kb - 1));

		conf = NULL;
		ck_assert_int_eq(conf_load_data(&conf, &err, t, strlen(t)), MOAT_EINVAL);
		ck_assert_msg(strstr(err, key) != NULL, "'%s' not named in '%s'", key, err);
		g_clear_pointer(&err, g_free);
	}
	ck_assert(quar_id_valid("AbCdEfGhIjKlMnOpQrSt-_"));
	ck_assert(!quar_id_valid("AbCdEfGhIjKlMnOpQrSt/_"));
	ck_assert(!quar_id_valid("short"));
	ck_assert_int_eq(quar_status_parse("Released"), QUAR_RELEASED);
	ck_assert_int_eq(quar_status_parse("gone"), -1);
}
END_TEST

/*
 * A store made by an older moat (SQLite schema 1, no node column) is
 * refused with the command that upgrades it; quar_migrate() brings it to
 * the current version and keeps its items.
 */
START_TEST(test_migrate_sqlite)
{
	g_autofree char *dir = g_dir_make_tmp("moat-quar-XXXXXX", NULL);
	g_autofree char *q = g_build_filename(dir, "q", NULL), *db = NULL, *text = NULL;
	struct moat_conf *conf = NULL;
	struct quar *store = NULL;
	struct quar_item *it = NULL;
	char *err = NULL;
	sqlite3 *h = NULL;
	int from = 0, to = 0;

	text = g_strdup_printf("[quarantine]\ndir = %s\n", q);
	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), 0);
	ck_assert_int_eq(g_mkdir(q, 0700), 0);
	db = g_build_filename(q, "index.sqlite", NULL);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE items (id TEXT PRIMARY KEY, time INTEGER NOT"
	    " NULL, queue_id TEXT NOT NULL, client_addr TEXT NOT NULL, helo TEXT NOT NULL, mail_from"
	    " TEXT NOT NULL, rcpts TEXT NOT NULL, header_from TEXT NOT NULL, subject TEXT NOT NULL,"
	    " message_id TEXT NOT NULL, size INTEGER NOT NULL, score INTEGER NOT NULL, action TEXT NOT"
	    " NULL, findings TEXT NOT NULL, report TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT"
	    " NULL, changed INTEGER NOT NULL); CREATE TABLE history (id TEXT NOT NULL, time INTEGER NOT"
	    " NULL, who TEXT NOT NULL, what TEXT NOT NULL, detail TEXT NOT NULL); CREATE TABLE usage"
	    " (bytes INTEGER NOT NULL, items INTEGER NOT NULL); INSERT INTO usage VALUES (3, 1);"
	    " INSERT INTO items VALUES ('AAAAAAAAAAAAAAAAAAAAAA', 1, 'Q', '192.0.2.1', 'h', 'a@x',"
	    " 'b@x', 'A', 'S', '<m@x>', 3, 10, 'quarantine', 'attach.shortcut', '', 'k', 0, 1);"
	    " PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	{
		g_autofree char *msg = g_build_filename(q, "msg", NULL);
		g_autofree char *tmp = g_build_filename(q, "tmp", NULL);

		ck_assert_int_eq(g_mkdir(msg, 02770), 0);
		ck_assert_int_eq(g_mkdir(tmp, 02770), 0);
	}
	ck_assert_int_eq(quar_open(&store, &err, conf, QUAR_CREATE), MOAT_EINVAL);
	ck_assert_msg(strstr(err, "moat quarantine migrate") != NULL, "%s", err);
	g_clear_pointer(&err, g_free);
	ck_assert_int_eq(quar_open(&store, &err, conf, QUAR_MIGRATE), 0);
	ck_assert_int_eq(quar_migrate(store, &from, &to, &err), 0);
	ck_assert_int_eq(from, 1);
	ck_assert_int_gt(to, 1);
	ck_assert_int_eq(quar_get(store, &it, &err, "AAAAAAAAAAAAAAAAAAAAAA"), 0);
	ck_assert_str_eq(it->findings, "attach.shortcut");
	ck_assert_str_eq(it->node, "");
	quar_item_free(it);
	quar_close(store);
	ck_assert_int_eq(quar_open(&store, &err, conf, 0), 0);	/* current now */
	quar_close(store);
	conf_free(conf);
	rm_rf(dir);
}
END_TEST

Suite *
quarantine_suite(void)
{
	Suite *s = suite_create("quarantine");
	TCase *tc = tcase_create("store");
	int nb = 0;

	while (quar_backends[nb] != NULL)
		nb++;
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_put_get, 0, nb);
	tcase_add_loop_test(tc, test_put_fd, 0, nb);
	tcase_add_loop_test(tc, test_not_utf8, 0, nb);
	tcase_add_loop_test(tc, test_idempotent, 0, nb);
	tcase_add_test(tc, test_key);
	tcase_add_loop_test(tc, test_list_filters, 0, nb);
	tcase_add_loop_test(tc, test_list_pages, 0, nb);
	tcase_add_loop_test(tc, test_count, 0, nb);
	tcase_add_loop_test(tc, test_list_acted, 0, nb);
	tcase_add_loop_test(tc, test_transitions, 0, nb);
	tcase_add_loop_test(tc, test_stale_claim, 0, nb);
	tcase_add_loop_test(tc, test_delete_purge, 0, nb);
	tcase_add_loop_test(tc, test_quota, 0, nb);
	tcase_add_loop_test(tc, test_modes, 0, nb);
	tcase_add_loop_test(tc, test_threads, 0, nb);
	tcase_add_loop_test(tc, test_release, 0, nb);
	tcase_add_loop_test(tc, test_release_fails, 0, nb);
	tcase_add_test(tc, test_open_and_conf);
	tcase_add_test(tc, test_open_together);
	tcase_add_test(tc, test_migrate_sqlite);
	suite_add_tcase(s, tc);
	return s;
}
