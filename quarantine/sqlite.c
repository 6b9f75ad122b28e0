/*
 * sqlite.c - the embedded quarantine backend: DIR/index.sqlite (WAL,
 * synchronous=FULL) beside the message files DIR/msg/XY/ID (files.c)
 *
 * Tables: items (one row per held message), history (who did what to it,
 * when), usage (what the quota reads). A key is unique among the items not
 * deleted (a partial index), which is what makes a retried put find its
 * first item. A message file is synced before its row is committed, and a
 * row says deleted before its file goes: after a crash there may be a file
 * nobody lists, never a listed item without its message. One connection
 * per open store, behind a mutex: moatd's threads share it, and each call
 * is one statement or one transaction. Other processes (moat quarantine)
 * wait up to QSQL_BUSY_MS for a lock. The schema version is PRAGMA
 * user_version; qsql_migrations[] bring an older store up.
 *
 * The database file is made 0660 before SQLite opens it: SQLite gives its
 * -wal and -shm files the database file's mode (and, run as root, its
 * owner), so all three end up alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "moat/moat.h"
#include "backend.h"

#define QSQL_BUSY_MS 10000

struct qsql {
	GMutex lock;
	sqlite3 *db;
	char *path;			/* the index */
	char *dir;			/* the store: messages under msg/ */
};

/* version 1, the first schema */
static const char qsql_schema[] =
	"CREATE TABLE IF NOT EXISTS items ("
	"  id TEXT PRIMARY KEY, time INTEGER NOT NULL, queue_id TEXT NOT NULL,"
	"  client_addr TEXT NOT NULL, helo TEXT NOT NULL, mail_from TEXT NOT NULL,"
	"  rcpts TEXT NOT NULL, header_from TEXT NOT NULL, subject TEXT NOT NULL,"
	"  message_id TEXT NOT NULL, size INTEGER NOT NULL, score INTEGER NOT NULL,"
	"  action TEXT NOT NULL, findings TEXT NOT NULL, report TEXT NOT NULL,"
	"  key TEXT NOT NULL, status INTEGER NOT NULL, changed INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items(key) WHERE status != 3;"
	"CREATE INDEX IF NOT EXISTS items_time ON items(time);"
	"CREATE TABLE IF NOT EXISTS history ("
	"  id TEXT NOT NULL, time INTEGER NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL,"
	"  detail TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS history_id ON history(id);"
	/*
	 * What the quota reads on every put, kept by triggers in the same
	 * transaction as the change: a sum over the items would grow with the
	 * store (a scan of every row per held message).
	 */
	"CREATE TABLE IF NOT EXISTS usage (bytes INTEGER NOT NULL, items INTEGER NOT NULL);"
	"INSERT INTO usage SELECT total(size), count(*) FROM items WHERE status != 3"
	"  AND NOT EXISTS (SELECT 1 FROM usage);"
	"CREATE TRIGGER IF NOT EXISTS usage_insert AFTER INSERT ON items WHEN NEW.status != 3"
	"  BEGIN UPDATE usage SET bytes = bytes + NEW.size, items = items + 1; END;"
	"CREATE TRIGGER IF NOT EXISTS usage_delete AFTER DELETE ON items WHEN OLD.status != 3"
	"  BEGIN UPDATE usage SET bytes = bytes - OLD.size, items = items - 1; END;"
	"CREATE TRIGGER IF NOT EXISTS usage_deleted AFTER UPDATE OF status ON items"
	"  WHEN OLD.status != 3 AND NEW.status = 3"
	"  BEGIN UPDATE usage SET bytes = bytes - OLD.size, items = items - 1; END;";

/* qsql_migrations[v - 1] brings version v to v + 1: append, never edit one that shipped */
static const char *const qsql_migrations[] = {
	/* 1 -> 2: the gateway that stored each item */
	"ALTER TABLE items ADD COLUMN node TEXT NOT NULL DEFAULT '';",
};
#define QSQL_VERSION ((int)G_N_ELEMENTS(qsql_migrations) + 1)

/* qsql_fail - *ERR from the connection's last error; the MOAT_E* code for it */
static int
qsql_fail(struct qsql *s, char **err, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);

	*err = g_strdup_printf("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return MOAT_EBUSY;
	if ((code & 0xff) == SQLITE_FULL)
		return MOAT_EFULL;
	return MOAT_EIO;
}

/* qsql_prepare - a statement for SQL, or NULL with *ERR set */
static sqlite3_stmt *
qsql_prepare(struct qsql *s, char **err, int *rc, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*rc = qsql_fail(s, err, "prepare");
		return NULL;
	}
	return st;
}

/* qsql_text - column I as an owned string, "" for NULL */
static char *
qsql_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return g_strdup(t != NULL ? (const char *)t : "");
}

static void
qsql_bind(sqlite3_stmt *st, int i, const char *text)
{
	sqlite3_bind_text(st, i, text != NULL ? text : "", -1, SQLITE_TRANSIENT);
}

/* qsql_version - the store's schema version, 0 for a new database */
static int
qsql_version(struct qsql *s)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * qsql_upgrade - in one transaction (two processes opening a new store make
 * it once): the first schema when the database is new, then the
 * migrations up to QSQL_VERSION. *FROM gets the version found.
 */
static int
qsql_upgrade(struct qsql *s, int *from, char **err)
{
	g_autofree char *set = g_strdup_printf("PRAGMA user_version=%d", QSQL_VERSION);
	char *msg = NULL;
	int v, rc = SQLITE_OK;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if ((v = qsql_version(s)) < 0)
		goto fail;
	*from = v;
	if (v == 0)
		rc = sqlite3_exec(s->db, qsql_schema, NULL, NULL, &msg);
	for (int m = MAX(v, 1) - 1; rc == SQLITE_OK && m < QSQL_VERSION - 1; m++)
		rc = sqlite3_exec(s->db, qsql_migrations[m], NULL, NULL, &msg);
	if (rc != SQLITE_OK || (v < QSQL_VERSION &&
	    sqlite3_exec(s->db, set, NULL, NULL, &msg) != SQLITE_OK) ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	*err = g_strdup_printf("%s: schema: %s", s->path, msg != NULL ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return MOAT_EIO;
}

static void
qsql_free(struct qsql *s)
{
	sqlite3_close(s->db);
	g_mutex_clear(&s->lock);
	g_free(s->path);
	g_free(s->dir);
	g_free(s);
}

/*
 * qsql_set_wal - WAL and FULL sync on S's connection. Switching a store to
 * WAL takes an exclusive lock, and when two processes open a new store at
 * once (two moatds, or moatd and moat-web) SQLite answers one of them
 * SQLITE_BUSY at once rather than call the busy handler, which could
 * deadlock there: try again for up to QSQL_BUSY_MS.
 */
static int
qsql_set_wal(struct qsql *s, char **msg)
{
	gint64 until = g_get_monotonic_time() + QSQL_BUSY_MS * G_GINT64_CONSTANT(1000);
	int rc;

	while ((rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL,
	    NULL, msg)) == SQLITE_BUSY && g_get_monotonic_time() < until) {
		sqlite3_free(*msg);
		*msg = NULL;
		g_usleep(10 * 1000);
	}
	return rc;
}

static int
qsql_open(void **state, char **err, const struct conf_quarantine *c, unsigned flags)
{
	struct qsql *s = g_new0(struct qsql, 1);
	char *msg = NULL;
	int fd, e, rc, version, from;

	g_mutex_init(&s->lock);
	s->dir = g_strdup(c->dir);
	s->path = g_build_filename(c->dir, "index.sqlite", NULL);
	if ((rc = quar_files_prepare(err, c->dir, (flags & QUAR_CREATE) != 0, c->admin_group)) < 0)
		goto fail;
	rc = MOAT_EIO;
	if ((flags & QUAR_CREATE) && (fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) >= 0) {
		struct stat st;

		/* a new file: 0660 whatever the umask (a second fchmod of an old one is harmless) */
		if (fstat(fd, &st) == 0 && st.st_size == 0 && fchmod(fd, 0660) < 0) {
			e = errno;
			*err = g_strdup_printf("%s: %s", s->path, g_strerror(e));
			close(fd);
			goto fail;
		}
		close(fd);
	}
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL)
	    != SQLITE_OK) {
		*err = g_strdup_printf("%s: %s", s->path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, QSQL_BUSY_MS);
	/*
	 * FULL: a commit is on disk when sqlite3_step() returns, as the message
	 * file is when files.c returns; moatd answers the MTA only after both.
	 */
	if (qsql_set_wal(s, &msg) != SQLITE_OK) {
		*err = g_strdup_printf("%s: %s", s->path, msg != NULL ? msg : "cannot set WAL");
		sqlite3_free(msg);
		goto fail;
	}
	version = qsql_version(s);
	if (version == 0 && (flags & QUAR_CREATE) && (rc = qsql_upgrade(s, &from, err)) < 0)
		goto fail;
	version = qsql_version(s);
	if (version != QSQL_VERSION && !((flags & QUAR_MIGRATE) && version < QSQL_VERSION)) {
		*err = version == 0 ? g_strdup_printf("%s: not a quarantine store (empty)", s->path) :
		    quar_schema_error(s->path, version, QSQL_VERSION);
		rc = MOAT_EINVAL;
		goto fail;
	}
	*state = s;
	return 0;
fail:
	qsql_free(s);
	return rc;
}

static int
qsql_migrate(void *state, int *from, int *to, char **err)
{
	struct qsql *s = state;
	int rc;

	g_mutex_lock(&s->lock);
	rc = qsql_upgrade(s, from, err);
	g_mutex_unlock(&s->lock);
	*to = QSQL_VERSION;
	return rc;
}

static void
qsql_close(void *state)
{
	qsql_free(state);
}

static int
qsql_find_key(void *state, char id[QUAR_ID_LEN + 1], char **err, const char *key)
{
	struct qsql *s = state;
	sqlite3_stmt *st;
	int rc = MOAT_ENOENT, r;

	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, "SELECT id FROM items WHERE key = ? AND status != 3")) ==
	    NULL)
		goto out;
	qsql_bind(st, 1, key);
	if ((r = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
		g_strlcpy(id, (const char *)sqlite3_column_text(st, 0), QUAR_ID_LEN + 1);
		rc = 0;
	} else if (r == SQLITE_ROW || r == SQLITE_DONE) {
		*err = g_strdup_printf("%s: no item with this key", s->path);
	} else {
		rc = qsql_fail(s, err, "find");
	}
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

/* qsql_history_add - one history row; the caller holds the lock */
static int
qsql_history_add(struct qsql *s, char **err, const char *id, gint64 now, const char *who,
    const char *what, const char *detail)
{
	sqlite3_stmt *st;
	int rc = MOAT_EIO;

	if ((st = qsql_prepare(s, err, &rc, "INSERT INTO history VALUES (?, ?, ?, ?, ?)")) == NULL)
		return rc;
	qsql_bind(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	qsql_bind(st, 3, who);
	qsql_bind(st, 4, what);
	qsql_bind(st, 5, detail);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : qsql_fail(s, err, "history");
	sqlite3_finalize(st);
	return rc;
}

/* qsql_end - COMMIT when RC is 0, else ROLLBACK; RC, or the commit's failure */
static int
qsql_end(struct qsql *s, char **err, int rc)
{
	if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = qsql_fail(s, err, "commit");
	if (rc < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* qsql_join - the recipients as one "\n"-separated column */
static char *
qsql_join(const GPtrArray *rcpts)
{
	GString *j = g_string_new(NULL);

	for (guint i = 0; rcpts != NULL && i < rcpts->len; i++) {
		if (i > 0)
			g_string_append_c(j, '\n');
		g_string_append(j, rcpts->pdata[i]);
	}
	return g_string_free(j, FALSE);
}

/* qsql_insert_row - IT's row and first history line, in one transaction */
static int
qsql_insert_row(struct qsql *s, char **err, const struct quar_item *it, const char *who)
{
	g_autofree char *rcpts = qsql_join(it->rcpts);
	sqlite3_stmt *st = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = qsql_fail(s, err, "begin");
		g_mutex_unlock(&s->lock);
		return rc;
	}
	if ((st = qsql_prepare(s, err, &rc, "INSERT INTO items (id, time, queue_id, client_addr, helo,"
	    " mail_from, rcpts, header_from, subject, message_id, size, score, action, findings,"
	    " report, key, status, changed, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?)")) == NULL)
		goto out;
	qsql_bind(st, 1, it->id);
	sqlite3_bind_int64(st, 2, it->time);
	qsql_bind(st, 3, it->queue_id);
	qsql_bind(st, 4, it->client_addr);
	qsql_bind(st, 5, it->helo);
	qsql_bind(st, 6, it->mail_from);
	qsql_bind(st, 7, rcpts);
	qsql_bind(st, 8, it->header_from);
	qsql_bind(st, 9, it->subject);
	qsql_bind(st, 10, it->message_id);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)it->size);
	sqlite3_bind_int(st, 12, it->score);
	qsql_bind(st, 13, it->action);
	qsql_bind(st, 14, it->findings);
	qsql_bind(st, 15, it->report_json);
	qsql_bind(st, 16, it->key);
	sqlite3_bind_int(st, 17, it->status);
	sqlite3_bind_int64(st, 18, it->changed);
	qsql_bind(st, 19, it->node);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = qsql_fail(s, err, "insert");
		goto out;
	}
	rc = qsql_history_add(s, err, it->id, it->time, who, "stored", it->findings);
out:
	sqlite3_finalize(st);
	rc = qsql_end(s, err, rc);
	g_mutex_unlock(&s->lock);
	return rc;
}

/*
 * qsql_insert - the message file first, synced, outside the lock (threads
 * write theirs at once); then the row. A row that fails takes its file
 * with it.
 */
static int
qsql_insert(void *state, char **err, struct quar_item *it, const struct quar_source *src,
    const char *who)
{
	struct qsql *s = state;
	char *why = NULL;
	int rc;

	if ((rc = quar_files_write(&it->size, err, s->dir, it->id, src)) < 0)
		return rc;
	if ((rc = qsql_insert_row(s, err, it, who)) < 0) {
		quar_files_remove(&why, s->dir, it->id);
		g_free(why);
	}
	return rc;
}

static int qsql_get(void *state, struct quar_item **out, char **err, const char *id);

/* qsql_message - ID's file, when its row is there and not deleted */
static int
qsql_message(void *state, int *fd, char **err, const char *id)
{
	struct qsql *s = state;
	struct quar_item *it = NULL;
	g_autofree char *path = quar_files_path(s->dir, id);
	gboolean deleted;
	int rc, e;

	if ((rc = qsql_get(state, &it, err, id)) < 0)
		return rc;
	deleted = it->status == QUAR_DELETED;
	quar_item_free(it);
	if (!deleted && (*fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
		return 0;
	e = deleted ? ENOENT : errno;
	if (e != ENOENT) {
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		return MOAT_EIO;
	}
	*err = g_strdup_printf("%s: the message is no longer in the store", id);
	return MOAT_ENOENT;
}

/* the columns qsql_row() reads; a list without reports reads '' in the report's place */
#define QSQL_COLUMNS_HEAD "id, time, queue_id, client_addr, helo, mail_from, rcpts, header_from, " \
	"subject, message_id, size, score, action, findings, "
#define QSQL_COLUMNS_TAIL ", key, status, changed, node"
#define QSQL_COLUMNS QSQL_COLUMNS_HEAD "report" QSQL_COLUMNS_TAIL

/* qsql_row - the item in ST's current row (QSQL_COLUMNS) */
static struct quar_item *
qsql_row(sqlite3_stmt *st)
{
	struct quar_item *it = g_new0(struct quar_item, 1);
	g_autofree char *rcpts = qsql_text(st, 6);
	g_auto(GStrv) v = NULL;

	if (sqlite3_column_text(st, 0) != NULL)	/* the index is a file others can write */
		g_strlcpy(it->id, (const char *)sqlite3_column_text(st, 0), sizeof(it->id));
	it->time = sqlite3_column_int64(st, 1);
	it->queue_id = qsql_text(st, 2);
	it->client_addr = qsql_text(st, 3);
	it->helo = qsql_text(st, 4);
	it->mail_from = qsql_text(st, 5);
	it->rcpts = g_ptr_array_new_with_free_func(g_free);
	v = g_strsplit(rcpts, "\n", -1);
	for (guint i = 0; *rcpts != '\0' && v[i] != NULL; i++)
		g_ptr_array_add(it->rcpts, g_strdup(v[i]));
	it->header_from = qsql_text(st, 7);
	it->subject = qsql_text(st, 8);
	it->message_id = qsql_text(st, 9);
	it->size = (guint64)sqlite3_column_int64(st, 10);
	it->score = sqlite3_column_int(st, 11);
	it->action = qsql_text(st, 12);
	it->findings = qsql_text(st, 13);
	it->report_json = qsql_text(st, 14);
	it->key = qsql_text(st, 15);
	it->status = (enum quar_status)CLAMP(sqlite3_column_int(st, 16), 0, QUAR_NSTATUS - 1);
	it->changed = sqlite3_column_int64(st, 17);
	it->node = qsql_text(st, 18);
	return it;
}

static int
qsql_get(void *state, struct quar_item **out, char **err, const char *id)
{
	struct qsql *s = state;
	sqlite3_stmt *st;
	int rc = MOAT_EIO, r;

	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, "SELECT " QSQL_COLUMNS " FROM items WHERE id = ?")) ==
	    NULL)
		goto out;
	qsql_bind(st, 1, id);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = qsql_row(st);
		rc = 0;
	} else if (r == SQLITE_DONE) {
		*err = g_strdup_printf("%s: no such item in the quarantine", id);
		rc = MOAT_ENOENT;
	} else {
		rc = qsql_fail(s, err, "get");
	}
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

/* qsql_where - F's conditions as a WHERE clause on items, parameters ?1 to ?6 (qsql_bind_filter) */
static void
qsql_where(GString *sql, const struct quar_filter *f)
{
	g_string_append(sql, " WHERE 1");
	if (f->since != 0)
		g_string_append(sql, " AND time >= ?1");
	if (f->until != 0)
		g_string_append(sql, " AND time < ?2");
	if (f->sender != NULL)
		g_string_append(sql, " AND lower(mail_from) = lower(?3)");
	/* one of the "\n"-separated recipients, one of the ","-separated findings */
	if (f->recipient != NULL)
		g_string_append(sql, " AND instr(char(10) || lower(rcpts) || char(10),"
		    " char(10) || lower(?4) || char(10)) > 0");
	if (f->finding != NULL)
		g_string_append(sql, " AND instr(',' || findings || ',', ',' || ?5 || ',') > 0");
	if (f->status >= 0)
		g_string_append(sql, " AND status = ?6");
	if (f->acted)
		g_string_append(sql, " AND (changed > time OR status != 0)");
}

/* qsql_bind_filter - F's values for qsql_where(); those the clause does not use are ignored */
static void
qsql_bind_filter(sqlite3_stmt *st, const struct quar_filter *f)
{
	sqlite3_bind_int64(st, 1, f->since);
	sqlite3_bind_int64(st, 2, f->until);
	qsql_bind(st, 3, f->sender);
	qsql_bind(st, 4, f->recipient);
	qsql_bind(st, 5, f->finding);
	sqlite3_bind_int(st, 6, f->status);
}

static int
qsql_list(void *state, GPtrArray **out, char **err, const struct quar_filter *f)
{
	struct qsql *s = state;
	g_autoptr(GString) sql = g_string_new("SELECT " QSQL_COLUMNS_HEAD);
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)quar_item_free);
	sqlite3_stmt *st;
	int rc = MOAT_EIO, r;

	g_string_append(sql, f->without_report ? "''" : "report");
	g_string_append(sql, QSQL_COLUMNS_TAIL " FROM items");
	qsql_where(sql, f);
	g_string_append(sql, f->order == QUAR_BY_CHANGED ? " ORDER BY changed DESC, id" :
	    " ORDER BY time DESC, rowid DESC");
	if (f->limit > 0 || f->offset > 0)
		g_string_append(sql, " LIMIT ?7 OFFSET ?8");
	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, sql->str)) == NULL)
		goto out;
	qsql_bind_filter(st, f);
	sqlite3_bind_int64(st, 7, f->limit > 0 ? (sqlite3_int64)f->limit : -1);	/* -1: no limit */
	sqlite3_bind_int64(st, 8, f->offset);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(items, qsql_row(st));
	if (r != SQLITE_DONE) {
		rc = qsql_fail(s, err, "list");
		goto out;
	}
	*out = g_steal_pointer(&items);
	rc = 0;
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

/* qsql_tally - each ","-separated id of FINDINGS (may be NULL) counted once more in IDS (id -> count) */
static void
qsql_tally(GHashTable *ids, const char *findings)
{
	const char *p = findings != NULL ? findings : "";

	while (*p != '\0') {
		gsize len = strcspn(p, ",");

		if (len > 0) {
			char *id = g_strndup(p, len);
			guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ids, id));

			/* takes ID; when the key was there already, frees it */
			g_hash_table_insert(ids, id, GUINT_TO_POINTER(n + 1));
		}
		p += len + (p[len] == ',');
	}
}

/*
 * qsql_count - one aggregate query; by finding, the findings column of
 * each match is split here: SQLite has no split function, and a
 * recursive CTE doing it took three times as long as the scan itself
 */
static int
qsql_count(void *state, GPtrArray **out, char **err, const struct quar_filter *f,
    enum quar_count_by by)
{
	struct qsql *s = state;
	g_autoptr(GString) sql = g_string_new(by == QUAR_COUNT_FINDING ? "SELECT findings FROM items" :
	    by == QUAR_COUNT_STATUS ? "SELECT status, count(*) FROM items" :
	    by == QUAR_COUNT_DAY ? "SELECT time / 86400, count(*) FROM items" :
	    "SELECT '', count(*) FROM items");
	g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func((GDestroyNotify)quar_count_free);
	g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k, v;
	sqlite3_stmt *st;
	int rc = MOAT_EIO, r;

	qsql_where(sql, f);
	if (by == QUAR_COUNT_STATUS || by == QUAR_COUNT_DAY)
		g_string_append(sql, " GROUP BY 1");
	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, sql->str)) == NULL)
		goto out;
	qsql_bind_filter(st, f);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (by == QUAR_COUNT_FINDING)
			qsql_tally(ids, (const char *)sqlite3_column_text(st, 0));
		else
			g_ptr_array_add(groups, quar_count_new(by,
			    (const char *)sqlite3_column_text(st, 0), (guint)sqlite3_column_int64(st, 1)));
	}
	if (r != SQLITE_DONE) {
		rc = qsql_fail(s, err, "count");
		goto out;
	}
	g_hash_table_iter_init(&it, ids);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_ptr_array_add(groups, quar_count_new(by, k, GPOINTER_TO_UINT(v)));
	*out = g_steal_pointer(&groups);
	rc = 0;
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
qsql_transition(void *state, char **err, const char *id, enum quar_status from,
    enum quar_status to, gint64 now, gint64 stale, const char *who, const char *what,
    const char *detail)
{
	struct qsql *s = state;
	sqlite3_stmt *st = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = qsql_fail(s, err, "begin");
		g_mutex_unlock(&s->lock);
		return rc;
	}
	/* compare and set: of two admins releasing at once, one changes the row */
	if ((st = qsql_prepare(s, err, &rc, "UPDATE items SET status = ?1, changed = ?2 WHERE id = ?3"
	    " AND (status = ?4 OR (?4 = 0 AND status = 1 AND changed < ?5))")) == NULL)
		goto out;
	sqlite3_bind_int(st, 1, to);
	sqlite3_bind_int64(st, 2, now);
	qsql_bind(st, 3, id);
	sqlite3_bind_int(st, 4, from);
	sqlite3_bind_int64(st, 5, stale);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = qsql_fail(s, err, "update");
		goto out;
	}
	if (sqlite3_changes(s->db) == 0) {
		sqlite3_stmt *q = NULL;
		int status = -1;

		if (sqlite3_prepare_v2(s->db, "SELECT status FROM items WHERE id = ?", -1, &q, NULL) ==
		    SQLITE_OK) {
			qsql_bind(q, 1, id);
			if (sqlite3_step(q) == SQLITE_ROW)
				status = sqlite3_column_int(q, 0);
		}
		sqlite3_finalize(q);
		if (status < 0) {
			*err = g_strdup_printf("%s: no such item in the quarantine", id);
			rc = MOAT_ENOENT;
		} else {
			*err = g_strdup_printf("%s is %s, not %s", id,
			    quar_status_name((enum quar_status)status), quar_status_name(from));
			rc = MOAT_EBUSY;
		}
		goto out;
	}
	rc = qsql_history_add(s, err, id, now, who, what, detail);
out:
	sqlite3_finalize(st);
	rc = qsql_end(s, err, rc);
	g_mutex_unlock(&s->lock);
	/* the row says deleted first: a crash here leaves a file nobody lists */
	return rc == 0 && to == QUAR_DELETED ? quar_files_remove(err, s->dir, id) : rc;
}

static int
qsql_note(void *state, char **err, const char *id, gint64 now, const char *who, const char *what,
    const char *detail)
{
	struct qsql *s = state;
	int rc;

	g_mutex_lock(&s->lock);
	rc = qsql_history_add(s, err, id, now, who, what, detail);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
qsql_history(void *state, GPtrArray **out, char **err, const char *id)
{
	struct qsql *s = state;
	g_autoptr(GPtrArray) evs = g_ptr_array_new_with_free_func((GDestroyNotify)quar_event_free);
	sqlite3_stmt *st;
	int rc = MOAT_EIO, r;

	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, "SELECT time, who, what, detail FROM history WHERE id = ?"
	    " ORDER BY time, rowid")) == NULL)
		goto out;
	qsql_bind(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct quar_event *ev = g_new0(struct quar_event, 1);

		ev->time = sqlite3_column_int64(st, 0);
		ev->who = qsql_text(st, 1);
		ev->what = qsql_text(st, 2);
		ev->detail = qsql_text(st, 3);
		g_ptr_array_add(evs, ev);
	}
	if (r != SQLITE_DONE) {
		rc = qsql_fail(s, err, "history");
		goto out;
	}
	*out = g_steal_pointer(&evs);
	rc = 0;
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
qsql_older(void *state, GPtrArray **ids, char **err, gint64 before)
{
	struct qsql *s = state;
	g_autoptr(GPtrArray) v = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *st;
	int rc = MOAT_EIO, r;

	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, "SELECT id FROM items WHERE time < ?")) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, before);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(v, qsql_text(st, 0));
	if (r != SQLITE_DONE) {
		rc = qsql_fail(s, err, "older");
		goto out;
	}
	*ids = g_steal_pointer(&v);
	rc = 0;
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
qsql_remove(void *state, char **err, const char *id)
{
	struct qsql *s = state;
	sqlite3_stmt *st = NULL;
	int rc = MOAT_EIO;

	/* the file first: a row without its file is listed as gone, never lost unseen */
	if ((rc = quar_files_remove(err, s->dir, id)) < 0)
		return rc;
	rc = MOAT_EIO;
	g_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = qsql_fail(s, err, "begin");
		g_mutex_unlock(&s->lock);
		return rc;
	}
	for (int i = 0; i < 2; i++) {
		rc = MOAT_EIO;
		if ((st = qsql_prepare(s, err, &rc, i == 0 ? "DELETE FROM items WHERE id = ?" :
		    "DELETE FROM history WHERE id = ?")) == NULL)
			break;
		qsql_bind(st, 1, id);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : qsql_fail(s, err, "remove");
		sqlite3_finalize(st);
		st = NULL;
		if (rc < 0)
			break;
	}
	rc = qsql_end(s, err, rc);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
qsql_usage(void *state, guint64 *bytes, guint *items, char **err)
{
	struct qsql *s = state;
	sqlite3_stmt *st;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if ((st = qsql_prepare(s, err, &rc, "SELECT bytes, items FROM usage")) == NULL)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*bytes = (guint64)sqlite3_column_int64(st, 0);
		*items = (guint)sqlite3_column_int(st, 1);
		rc = 0;
	} else {
		rc = qsql_fail(s, err, "usage");
	}
out:
	sqlite3_finalize(st);
	g_mutex_unlock(&s->lock);
	return rc;
}

const struct quar_backend quar_sqlite_backend = {
	.name = "sqlite",
	.open = qsql_open,
	.close = qsql_close,
	.find_key = qsql_find_key,
	.migrate = qsql_migrate,
	.insert = qsql_insert,
	.message = qsql_message,
	.get = qsql_get,
	.list = qsql_list,
	.count = qsql_count,
	.transition = qsql_transition,
	.note = qsql_note,
	.history = qsql_history,
	.older = qsql_older,
	.remove = qsql_remove,
	.usage = qsql_usage,
};
