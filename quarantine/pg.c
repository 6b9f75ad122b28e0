/*
 * pg.c - the shared quarantine backend: rows, history and message bytes in
 * one PostgreSQL database every gateway writes ([quarantine] backend =
 * postgresql, pg_conninfo)
 *
 * Tables moat_items (the message in a bytea column: one commit makes an item
 * durable with its bytes, on every node alike, and no shared file system is
 * needed), moat_history, moat_usage (kept by a trigger, what the quota
 * reads) and moat_schema (the version; pg_migrations[] bring it up, applied
 * by `moat quarantine migrate`, or on a new empty database by the first
 * gateway that opens it). Text that is not UTF-8 is made valid for the
 * index (the body keeps the raw bytes); envelope addresses are escaped
 * instead (pg_escape), since a release sends them back as they came. A key is unique among the items not deleted (a
 * partial unique index), so a message retried through another gateway is
 * still one item; a release claims its item with a conditional UPDATE, so
 * two admins on two nodes deliver once.
 *
 * One connection per open store, behind a mutex (moatd's threads share it);
 * a connection found broken is reset before the next call, and a call that
 * fails is an error (moatd tempfails), never retried blindly; connecting
 * and each statement are bounded (pg_connect). Messages are held in memory
 * while they are written or read: at most PG_MESSAGE_MAX.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "moat/moat.h"
#include "backend.h"

struct qpg {
	GMutex lock;
	PGconn *conn;
};

/* pg_migrations[v] brings version v to v + 1: append, never edit one that shipped */
static const char *const pg_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE moat_items ("
	"  seq bigserial, id text PRIMARY KEY, node text NOT NULL, time bigint NOT NULL, queue_id text NOT NULL,"
	"  client_addr text NOT NULL, helo text NOT NULL, mail_from text NOT NULL,"
	"  rcpts text NOT NULL, header_from text NOT NULL, subject text NOT NULL,"
	"  message_id text NOT NULL, size bigint NOT NULL, score integer NOT NULL,"
	"  action text NOT NULL, findings text NOT NULL, report text NOT NULL, key text NOT NULL,"
	"  status integer NOT NULL, changed bigint NOT NULL, body bytea);"
	"CREATE UNIQUE INDEX moat_items_key ON moat_items (key) WHERE status <> 3;"
	"CREATE INDEX moat_items_time ON moat_items (time);"
	"CREATE TABLE moat_history (seq bigserial PRIMARY KEY, id text NOT NULL,"
	"  time bigint NOT NULL, who text NOT NULL, what text NOT NULL, detail text NOT NULL);"
	"CREATE INDEX moat_history_id ON moat_history (id);"
	"CREATE TABLE moat_usage (bytes bigint NOT NULL, items bigint NOT NULL);"
	"INSERT INTO moat_usage VALUES (0, 0);"
	"CREATE FUNCTION moat_usage_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  IF TG_OP = 'INSERT' AND NEW.status <> 3 THEN"
	"    UPDATE moat_usage SET bytes = bytes + NEW.size, items = items + 1;"
	"  ELSIF TG_OP = 'DELETE' AND OLD.status <> 3 THEN"
	"    UPDATE moat_usage SET bytes = bytes - OLD.size, items = items - 1;"
	"  ELSIF TG_OP = 'UPDATE' AND OLD.status <> 3 AND NEW.status = 3 THEN"
	"    UPDATE moat_usage SET bytes = bytes - OLD.size, items = items - 1;"
	"  END IF; RETURN NULL; END $$;"
	"CREATE TRIGGER moat_usage_keep AFTER INSERT OR DELETE OR UPDATE OF status ON moat_items"
	"  FOR EACH ROW EXECUTE FUNCTION moat_usage_keep();",
};
#define PG_VERSION ((int)G_N_ELEMENTS(pg_migrations))
/*
 * The largest message the backend stores: it is held in memory three times
 * while it goes, and a bytea parameter's length is an int. Above [limits]
 * max_message_bytes (12 MiB) with room; a larger one gets full_action.
 */
#define PG_MESSAGE_MAX (64 << 20)

/* the columns pg_row() reads; a list without reports reads '' in the report's place */
#define PG_COLUMNS_HEAD "id, time, queue_id, client_addr, helo, mail_from, rcpts, header_from, " \
	"subject, message_id, size, score, action, findings, "
#define PG_COLUMNS_TAIL ", key, status, changed, node"
#define PG_COLUMNS PG_COLUMNS_HEAD "report" PG_COLUMNS_TAIL

/* pg_error - *ERR from RES (or the connection); the MOAT_E* code for it */
static int
pg_error(struct qpg *s, char **err, const PGresult *res, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL && *PQresultErrorMessage(res) ? PQresultErrorMessage(res) :
	    PQerrorMessage(s->conn);
	g_autofree char *one = g_strdup(msg != NULL ? msg : "unknown error");
	char *w = one;

	/* libpq's messages run over several lines; a log line is one line */
	for (const char *r = one; *r != '\0'; r++) {
		if (g_ascii_isspace(*r)) {
			if (w > one && w[-1] != ' ')
				*w++ = ' ';
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	g_strchomp(one);

	*err = g_strdup_printf("postgresql: %s: %s", what, one);
	if (state != NULL && strcmp(state, "23505") == 0)	/* unique_violation */
		return MOAT_EBUSY;
	if (state != NULL && strcmp(state, "53100") == 0)	/* disk_full */
		return MOAT_EFULL;
	return MOAT_EIO;
}

/* pg_ready - the connection, reset when it broke since the last call; FALSE with *ERR */
static gboolean
pg_ready(struct qpg *s, char **err)
{
	/* a call cut off inside a transaction (a lost connection) leaves it open: start over */
	if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		return TRUE;
	PQreset(s->conn);
	if (PQstatus(s->conn) == CONNECTION_OK)
		return TRUE;
	pg_error(s, err, NULL, "connection");
	return FALSE;
}

/*
 * pg_valid - V[0..N) as a database in UTF-8 takes them: a text parameter
 * (FMTS NULL or 0) that is not valid UTF-8, which mail can put in a
 * Subject or Message-ID, gets its bad bytes replaced (a copy kept in KEEP;
 * the raw message is in the body), or every put of it would fail. The
 * envelope addresses, which a release sends back, are escaped before
 * (pg_escape). Returns V itself when nothing needed it.
 */
static const char *const *
pg_valid(int n, const char *const *v, const int *fmts, GPtrArray *keep)
{
	const char **out = NULL;

	for (int i = 0; i < n; i++) {
		if (v[i] == NULL || (fmts != NULL && fmts[i] != 0) || g_utf8_validate(v[i], -1, NULL))
			continue;
		if (out == NULL) {
			out = g_new(const char *, n);
			memcpy(out, v, sizeof(*out) * (gsize)n);
			g_ptr_array_add(keep, out);
		}
		g_ptr_array_add(keep, (gpointer)(out[i] = g_utf8_make_valid(v[i], -1)));
	}
	return out != NULL ? out : v;
}

/*
 * pg_escape - S with '\' doubled and each byte of it that is not valid
 * UTF-8 as \xHH: an envelope address as the MTA gave it, kept exactly in
 * a text column (pg_unescape gives it back). Caller g_free()s.
 */
static char *
pg_escape(const char *s)
{
	GString *o = g_string_new(NULL);
	const char *p = s, *end = s + strlen(s), *bad;

	while (p < end) {
		g_utf8_validate(p, end - p, &bad);
		for (; p < bad; p++) {
			if (*p == '\\')
				g_string_append_c(o, '\\');
			g_string_append_c(o, *p);
		}
		if (p < end)
			g_string_append_printf(o, "\\x%02x", (guint8)*p++);
	}
	return g_string_free(o, FALSE);
}

/* pg_unescape - what pg_escape() was given; caller g_free()s */
static char *
pg_unescape(const char *s)
{
	GString *o = g_string_new(NULL);

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\\' && p[1] == '\\') {
			g_string_append_c(o, '\\');
			p++;
		} else if (*p == '\\' && p[1] == 'x' && g_ascii_isxdigit(p[2]) && g_ascii_isxdigit(p[3])) {
			g_string_append_c(o, (char)(g_ascii_xdigit_value(p[2]) << 4 | g_ascii_xdigit_value(p[3])));
			p += 3;
		} else {
			g_string_append_c(o, *p);
		}
	}
	return g_string_free(o, FALSE);
}

/*
 * pg_exec - SQL with N text parameters (NULL-terminated array V); the result
 * (caller PQclear()s) when its status is WANT, else NULL with *ERR and *RC
 */
static PGresult *
pg_exec(struct qpg *s, char **err, int *rc, ExecStatusType want, const char *sql, int n,
    const char *const *v)
{
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
	/* without parameters, the simple protocol: a migration is several statements */
	PGresult *res = n == 0 ? PQexec(s->conn, sql) : PQexecParams(s->conn, sql, n, NULL,
	    pg_valid(n, v, NULL, keep), NULL, NULL, 0);

	if (PQresultStatus(res) == want)
		return res;
	*rc = pg_error(s, err, res, "query");
	PQclear(res);
	return NULL;
}

/* pg_cmd - a statement without rows; 0 or the MOAT_E* code */
static int
pg_cmd(struct qpg *s, char **err, const char *sql, int n, const char *const *v)
{
	int rc = 0;
	PGresult *res = pg_exec(s, err, &rc, PGRES_COMMAND_OK, sql, n, v);

	PQclear(res);
	return rc;
}

/* pg_end - COMMIT when RC is 0, else ROLLBACK; RC, or the commit's failure */
static int
pg_end(struct qpg *s, char **err, int rc)
{
	if (rc == 0)
		return pg_cmd(s, err, "COMMIT", 0, NULL);
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return rc;
}

/* pg_version - the schema version, 0 for a database without moat's tables, -1 on error */
static int
pg_version(struct qpg *s, char **err)
{
	PGresult *res;
	int rc, v;

	res = pg_exec(s, err, &rc, PGRES_TUPLES_OK,
	    "SELECT to_regclass('moat_schema') IS NOT NULL", 0, NULL);
	if (res == NULL)
		return -1;
	v = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (v == 0)
		return 0;
	if ((res = pg_exec(s, err, &rc, PGRES_TUPLES_OK, "SELECT max(version) FROM moat_schema", 0,
	    NULL)) == NULL)
		return -1;
	v = PQgetisnull(res, 0, 0) ? 0 : atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* pg_upgrade - the migrations from the version found (*FROM) to PG_VERSION, in one transaction */
static int
pg_upgrade(struct qpg *s, int *from, char **err)
{
	int rc, v;

	if ((rc = pg_cmd(s, err, "BEGIN", 0, NULL)) < 0)
		return rc;
	/* one gateway at a time (a lock held to the transaction's end): the others wait, then find the work done */
	{
		PGresult *res = PQexec(s->conn, "SELECT pg_advisory_xact_lock(7403220)");

		rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : pg_error(s, err, res, "lock");
		PQclear(res);
		if (rc < 0)
			return pg_end(s, err, rc);
	}
	rc = pg_cmd(s, err, "CREATE TABLE IF NOT EXISTS moat_schema (version integer NOT NULL,"
	    " applied bigint NOT NULL)", 0, NULL);
	if (rc < 0 || (v = pg_version(s, err)) < 0)
		return pg_end(s, err, rc < 0 ? rc : MOAT_EIO);
	*from = v;
	for (; rc == 0 && v < PG_VERSION; v++) {
		g_autofree char *n = g_strdup_printf("%d", v + 1);
		const char *p[] = { n };

		if ((rc = pg_cmd(s, err, pg_migrations[v], 0, NULL)) == 0)
			rc = pg_cmd(s, err, "INSERT INTO moat_schema VALUES ($1::integer,"
			    " extract(epoch FROM now())::bigint)", 1, p);
	}
	return pg_end(s, err, rc);
}

static void
pg_free(struct qpg *s)
{
	if (s->conn != NULL)
		PQfinish(s->conn);
	g_mutex_clear(&s->lock);
	g_free(s);
}

/*
 * pg_connect - CONNINFO with moat's defaults under it: a database that
 * stops answering must not hold moatd's threads past the MTA's milter
 * timeouts, so connecting, an idle or dead peer and each statement are
 * bounded (10 s, ~60 s, 30 s). Keys CONNINFO sets win: it comes last.
 */
static PGconn *
pg_connect(const char *conninfo)
{
	static const char *const keys[] = { "connect_timeout", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout", "options", "dbname", NULL };
	/* synchronous_commit: a commit is on the server's disk before moatd answers the MTA */
	const char *vals[] = { "10", "30", "10", "3", "30000",
		"-c statement_timeout=30000 -c synchronous_commit=on", conninfo, NULL };

	return PQconnectdbParams(keys, vals, 1);
}

/* pg_notice - NOTICEs (CREATE ... IF NOT EXISTS says what it skipped) are not errors: dropped */
static void
pg_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int
pg_open(void **state, char **err, const struct conf_quarantine *c, unsigned flags)
{
	struct qpg *s = g_new0(struct qpg, 1);
	int rc = MOAT_EIO, v, from;

	g_mutex_init(&s->lock);
	s->conn = pg_connect(c->pg_conninfo);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		pg_error(s, err, NULL, "connect");
		goto fail;
	}
	PQsetNoticeProcessor(s->conn, pg_notice, NULL);
	if ((v = pg_version(s, err)) < 0)
		goto fail;
	if (v == 0 && (flags & QUAR_CREATE) && (rc = pg_upgrade(s, &from, err)) < 0)
		goto fail;
	if ((v = pg_version(s, err)) < 0) {
		rc = MOAT_EIO;
		goto fail;
	}
	if (v != PG_VERSION && !((flags & QUAR_MIGRATE) && v < PG_VERSION)) {
		*err = v == 0 ? g_strdup("postgresql: no quarantine tables in the database: run "
		    "'moat quarantine migrate' (or start moatd, which makes them)") :
		    quar_schema_error("postgresql", v, PG_VERSION);
		rc = MOAT_EINVAL;
		goto fail;
	}
	*state = s;
	return 0;
fail:
	pg_free(s);
	return rc;
}

static void
pg_close(void *state)
{
	pg_free(state);
}

static int
pg_migrate(void *state, int *from, int *to, char **err)
{
	struct qpg *s = state;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err))
		rc = pg_upgrade(s, from, err);
	g_mutex_unlock(&s->lock);
	*to = PG_VERSION;
	return rc;
}

static int
pg_find_key(void *state, char id[QUAR_ID_LEN + 1], char **err, const char *key)
{
	struct qpg *s = state;
	const char *p[] = { key };
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err) && (res = pg_exec(s, err, &rc, PGRES_TUPLES_OK,
	    "SELECT id FROM moat_items WHERE key = $1 AND status <> 3", 1, p)) != NULL) {
		rc = MOAT_ENOENT;
		if (PQntuples(res) > 0) {
			g_strlcpy(id, PQgetvalue(res, 0, 0), QUAR_ID_LEN + 1);
			rc = 0;
		} else {
			*err = g_strdup("postgresql: no item with this key");
		}
	}
	PQclear(res);
	g_mutex_unlock(&s->lock);
	return rc;
}

/* pg_read_source - SRC's bytes in memory: borrowed when it has them, else read into *OWNED */
static int
pg_read_source(const guint8 **data, gsize *len, GByteArray **owned, char **err,
    const struct quar_source *src)
{
	guint8 buf[65536];
	off_t off = 0;
	ssize_t n;

	if (src->data != NULL) {
		*data = src->data;
		*len = src->len;
		return 0;
	}
	*owned = g_byte_array_new();
	while ((n = pread(src->fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			*err = g_strdup_printf("reading the spooled message: %s", g_strerror(e));
			return MOAT_EIO;
		}
		g_byte_array_append(*owned, buf, (guint)n);
		off += n;
	}
	*data = (*owned)->data;
	*len = (*owned)->len;
	return 0;
}

/* pg_join - the recipients, each pg_escape()d, as one "\n"-separated column */
static char *
pg_join(const GPtrArray *rcpts)
{
	GString *j = g_string_new(NULL);

	for (guint i = 0; rcpts != NULL && i < rcpts->len; i++) {
		g_autofree char *e = pg_escape(rcpts->pdata[i]);

		if (i > 0)
			g_string_append_c(j, '\n');
		g_string_append(j, e);
	}
	return g_string_free(j, FALSE);
}

static int
pg_insert(void *state, char **err, struct quar_item *it, const struct quar_source *src,
    const char *who)
{
	struct qpg *s = state;
	g_autoptr(GByteArray) owned = NULL;
	g_autofree char *rcpts = pg_join(it->rcpts), *time = NULL, *size = NULL, *score = NULL;
	g_autofree char *status = NULL, *changed = NULL, *from = pg_escape(it->mail_from);
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
	const guint8 *data = NULL;
	gsize len = 0;
	int rc;

	/* the whole message is in memory while it goes (three copies: ours, libpq's, the server's) */
	if ((src->data != NULL ? src->len : it->size) > PG_MESSAGE_MAX) {
		*err = g_strdup_printf("postgresql: a message of %" G_GUINT64_FORMAT " bytes is more than "
		    "the backend takes (%d MiB)", (guint64)(src->data != NULL ? src->len : it->size),
		    PG_MESSAGE_MAX >> 20);
		return MOAT_EFULL;
	}
	if ((rc = pg_read_source(&data, &len, &owned, err, src)) < 0)
		return rc;
	if (len > PG_MESSAGE_MAX) {
		*err = g_strdup_printf("postgresql: a message of %" G_GSIZE_FORMAT " bytes is more than "
		    "the backend takes (%d MiB)", len, PG_MESSAGE_MAX >> 20);
		return MOAT_EFULL;
	}
	it->size = len;
	time = g_strdup_printf("%" G_GINT64_FORMAT, it->time);
	size = g_strdup_printf("%" G_GSIZE_FORMAT, len);
	score = g_strdup_printf("%d", it->score);
	status = g_strdup_printf("%d", it->status);
	changed = g_strdup_printf("%" G_GINT64_FORMAT, it->changed);
	{
		const char *v[] = { it->id, it->node, time, it->queue_id, it->client_addr, it->helo,
			from, rcpts, it->header_from, it->subject, it->message_id, size, score,
			it->action, it->findings, it->report_json, it->key, status, changed,
			(const char *)data };
		int lens[G_N_ELEMENTS(v)] = { 0 }, fmts[G_N_ELEMENTS(v)] = { 0 };
		const char *h[] = { it->id, time, who, it->findings };
		PGresult *res;

		lens[19] = (int)len;
		fmts[19] = 1;		/* the message as binary: no escaping, no copy */
		g_mutex_lock(&s->lock);
		if (!pg_ready(s, err)) {
			g_mutex_unlock(&s->lock);
			return MOAT_EIO;
		}
		if ((rc = pg_cmd(s, err, "BEGIN", 0, NULL)) < 0) {
			g_mutex_unlock(&s->lock);
			return rc;
		}
		res = PQexecParams(s->conn, "INSERT INTO moat_items (id, node, time, queue_id,"
		    " client_addr, helo, mail_from, rcpts, header_from, subject, message_id, size, score,"
		    " action, findings, report, key, status, changed, body) VALUES ($1, $2,"
		    " $3::bigint, $4, $5, $6, $7, $8, $9, $10, $11, $12::bigint, $13::integer, $14, $15,"
		    " $16, $17, $18::integer, $19::bigint, $20::bytea)", G_N_ELEMENTS(v), NULL,
		    pg_valid(G_N_ELEMENTS(v), v, fmts, keep), lens, fmts, 0);
		rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_error(s, err, res, "insert");
		PQclear(res);
		if (rc == 0)
			rc = pg_cmd(s, err, "INSERT INTO moat_history (id, time, who, what, detail) VALUES"
			    " ($1, $2::bigint, $3, 'stored', $4)", 4, h);
		rc = pg_end(s, err, rc);
		g_mutex_unlock(&s->lock);
	}
	return rc;
}

/* pg_row - the item in row I of RES (PG_COLUMNS) */
static struct quar_item *
pg_row(const PGresult *res, int i)
{
	struct quar_item *it = g_new0(struct quar_item, 1);
	const char *rcpts = PQgetvalue(res, i, 6);
	g_auto(GStrv) v = g_strsplit(rcpts, "\n", -1);

	g_strlcpy(it->id, PQgetvalue(res, i, 0), sizeof(it->id));
	it->time = g_ascii_strtoll(PQgetvalue(res, i, 1), NULL, 10);
	it->queue_id = g_strdup(PQgetvalue(res, i, 2));
	it->client_addr = g_strdup(PQgetvalue(res, i, 3));
	it->helo = g_strdup(PQgetvalue(res, i, 4));
	it->mail_from = pg_unescape(PQgetvalue(res, i, 5));
	it->rcpts = g_ptr_array_new_with_free_func(g_free);
	for (guint k = 0; *rcpts != '\0' && v[k] != NULL; k++)
		g_ptr_array_add(it->rcpts, pg_unescape(v[k]));
	it->header_from = g_strdup(PQgetvalue(res, i, 7));
	it->subject = g_strdup(PQgetvalue(res, i, 8));
	it->message_id = g_strdup(PQgetvalue(res, i, 9));
	it->size = g_ascii_strtoull(PQgetvalue(res, i, 10), NULL, 10);
	it->score = atoi(PQgetvalue(res, i, 11));
	it->action = g_strdup(PQgetvalue(res, i, 12));
	it->findings = g_strdup(PQgetvalue(res, i, 13));
	it->report_json = g_strdup(PQgetvalue(res, i, 14));
	it->key = g_strdup(PQgetvalue(res, i, 15));
	it->status = (enum quar_status)CLAMP(atoi(PQgetvalue(res, i, 16)), 0, QUAR_NSTATUS - 1);
	it->changed = g_ascii_strtoll(PQgetvalue(res, i, 17), NULL, 10);
	it->node = g_strdup(PQgetvalue(res, i, 18));
	return it;
}

static int
pg_get(void *state, struct quar_item **out, char **err, const char *id)
{
	struct qpg *s = state;
	const char *p[] = { id };
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err) && (res = pg_exec(s, err, &rc, PGRES_TUPLES_OK,
	    "SELECT " PG_COLUMNS " FROM moat_items WHERE id = $1", 1, p)) != NULL) {
		if (PQntuples(res) == 0) {
			*err = g_strdup_printf("%s: no such item in the quarantine", id);
			rc = MOAT_ENOENT;
		} else {
			*out = pg_row(res, 0);
			rc = 0;
		}
	}
	PQclear(res);
	g_mutex_unlock(&s->lock);
	return rc;
}

/*
 * pg_where - F's conditions as a WHERE clause on moat_items, their values
 * appended to VALS (owned strings) as $1, $2, ...: only the parameters
 * used, since PostgreSQL types each one it sees
 */
static void
pg_where(GString *sql, GPtrArray *vals, const struct quar_filter *f)
{
#define PG_PARAM(fmt, value) do { \
		g_ptr_array_add(vals, value); \
		g_string_append_printf(sql, fmt, vals->len); \
	} while (0)
	g_string_append(sql, " WHERE true");
	if (f->since != 0)
		PG_PARAM(" AND time >= $%u::bigint", g_strdup_printf("%" G_GINT64_FORMAT, f->since));
	if (f->until != 0)
		PG_PARAM(" AND time < $%u::bigint", g_strdup_printf("%" G_GINT64_FORMAT, f->until));
	if (f->sender != NULL)
		PG_PARAM(" AND lower(mail_from) = lower($%u)", pg_escape(f->sender));
	/* one of the "\n"-separated recipients, one of the ","-separated findings */
	if (f->recipient != NULL)
		PG_PARAM(" AND strpos(E'\\n' || lower(rcpts) || E'\\n', E'\\n' || lower($%u) || E'\\n')"
		    " > 0", pg_escape(f->recipient));
	if (f->finding != NULL)
		PG_PARAM(" AND strpos(',' || findings || ',', ',' || $%u || ',') > 0",
		    g_strdup(f->finding));
	if (f->status >= 0)
		PG_PARAM(" AND status = $%u::integer", g_strdup_printf("%d", f->status));
	if (f->acted)
		g_string_append(sql, " AND (changed > time OR status <> 0)");
#undef PG_PARAM
}

/* pg_query - SQL with VALS as its parameters: the result (caller PQclear()s), or NULL with *ERR */
static PGresult *
pg_query(struct qpg *s, char **err, int *rc, const GString *sql, const GPtrArray *vals)
{
	PGresult *res = NULL;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err))
		res = pg_exec(s, err, rc, PGRES_TUPLES_OK, sql->str, (int)vals->len,
		    (const char *const *)vals->pdata);
	g_mutex_unlock(&s->lock);
	return res;
}

static int
pg_list(void *state, GPtrArray **out, char **err, const struct quar_filter *f)
{
	g_autoptr(GString) sql = g_string_new("SELECT " PG_COLUMNS_HEAD);
	g_autoptr(GPtrArray) vals = g_ptr_array_new_with_free_func(g_free);
	PGresult *res;
	int rc = MOAT_EIO;

	g_string_append(sql, f->without_report ? "''" : "report");
	g_string_append(sql, PG_COLUMNS_TAIL " FROM moat_items");
	pg_where(sql, vals, f);
	g_string_append(sql, f->order == QUAR_BY_CHANGED ? " ORDER BY changed DESC, id" :
	    " ORDER BY time DESC, seq DESC");
	if (f->limit > 0) {
		g_ptr_array_add(vals, g_strdup_printf("%u", f->limit));
		g_string_append_printf(sql, " LIMIT $%u::bigint", vals->len);
	}
	if (f->offset > 0) {
		g_ptr_array_add(vals, g_strdup_printf("%u", f->offset));
		g_string_append_printf(sql, " OFFSET $%u::bigint", vals->len);
	}
	if ((res = pg_query(state, err, &rc, sql, vals)) == NULL)
		return rc;
	*out = g_ptr_array_new_with_free_func((GDestroyNotify)quar_item_free);
	for (int i = 0; i < PQntuples(res); i++)
		g_ptr_array_add(*out, pg_row(res, i));
	PQclear(res);
	return 0;
}

/* pg_count - one aggregate query; the findings column split at its commas by unnest() */
static int
pg_count(void *state, GPtrArray **out, char **err, const struct quar_filter *f,
    enum quar_count_by by)
{
	g_autoptr(GString) sql = g_string_new(NULL);
	g_autoptr(GPtrArray) vals = g_ptr_array_new_with_free_func(g_free);
	PGresult *res;
	int rc = MOAT_EIO;

	if (by == QUAR_COUNT_FINDING) {
		g_string_append(sql, "SELECT u.f, count(*) FROM moat_items CROSS JOIN LATERAL"
		    " unnest(string_to_array(findings, ',')) AS u(f)");
		pg_where(sql, vals, f);
		g_string_append(sql, " AND u.f <> '' GROUP BY 1");
	} else {
		g_string_append(sql, by == QUAR_COUNT_STATUS ? "SELECT status, count(*) FROM moat_items" :
		    by == QUAR_COUNT_DAY ? "SELECT time / 86400, count(*) FROM moat_items" :
		    "SELECT '', count(*) FROM moat_items");
		pg_where(sql, vals, f);
		if (by != QUAR_COUNT_ALL)
			g_string_append(sql, " GROUP BY 1");
	}
	if ((res = pg_query(state, err, &rc, sql, vals)) == NULL)
		return rc;
	*out = g_ptr_array_new_with_free_func((GDestroyNotify)quar_count_free);
	for (int i = 0; i < PQntuples(res); i++)
		g_ptr_array_add(*out, quar_count_new(by, PQgetvalue(res, i, 0),
		    (guint)g_ascii_strtoull(PQgetvalue(res, i, 1), NULL, 10)));
	PQclear(res);
	return 0;
}

/* pg_message - ID's bytes into an anonymous memory file, read from its start */
static int
pg_message(void *state, int *fd, char **err, const char *id)
{
	struct qpg *s = state;
	const char *p[] = { id };
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err)) {
		res = PQexecParams(s->conn, "SELECT body FROM moat_items WHERE id = $1 AND status <> 3"
		    " AND body IS NOT NULL", 1, NULL, p, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			rc = pg_error(s, err, res, "message");
	}
	g_mutex_unlock(&s->lock);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		return rc;
	} else if (PQntuples(res) == 0) {
		*err = g_strdup_printf("%s: the message is no longer in the store", id);
		rc = MOAT_ENOENT;
	} else {
		const char *b = PQgetvalue(res, 0, 0);
		gsize len = (gsize)PQgetlength(res, 0, 0), done = 0;
		int f = memfd_create("moat-message", MFD_CLOEXEC);

		while (f >= 0 && done < len) {
			ssize_t n = write(f, b + done, len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (gsize)n;
		}
		if (f < 0 || done != len || lseek(f, 0, SEEK_SET) != 0) {
			int e = errno;

			*err = g_strdup_printf("%s: a copy of the message: %s", id, g_strerror(e));
			if (f >= 0)
				close(f);
		} else {
			*fd = f;
			rc = 0;
		}
	}
	PQclear(res);
	return rc;
}

static int
pg_transition(void *state, char **err, const char *id, enum quar_status from,
    enum quar_status to, gint64 now, gint64 stale, const char *who, const char *what,
    const char *detail)
{
	struct qpg *s = state;
	g_autofree char *t = g_strdup_printf("%d", to), *f = g_strdup_printf("%d", from);
	g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, now);
	g_autofree char *st = g_strdup_printf("%" G_GINT64_FORMAT, stale);
	const char *p[] = { t, n, id, f, st };
	const char *h[] = { id, n, who, what, detail };
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (!pg_ready(s, err) || (rc = pg_cmd(s, err, "BEGIN", 0, NULL)) < 0) {
		g_mutex_unlock(&s->lock);
		return rc < 0 ? rc : MOAT_EIO;
	}
	/* compare and set: of two admins (on two gateways) releasing at once, one changes the row */
	res = pg_exec(s, err, &rc, PGRES_COMMAND_OK, "UPDATE moat_items SET status = $1::integer,"
	    " changed = $2::bigint, body = CASE WHEN $1::integer = 3 THEN NULL ELSE body END"
	    " WHERE id = $3 AND (status = $4::integer OR ($4::integer = 0 AND status = 1 AND"
	    " changed < $5::bigint))", 5, p);
	if (res != NULL && strcmp(PQcmdTuples(res), "0") == 0) {
		PGresult *q = pg_exec(s, err, &rc, PGRES_TUPLES_OK,
		    "SELECT status FROM moat_items WHERE id = $1", 1, p + 2);

		if (q != NULL && PQntuples(q) == 0) {
			*err = g_strdup_printf("%s: no such item in the quarantine", id);
			rc = MOAT_ENOENT;
		} else if (q != NULL) {
			*err = g_strdup_printf("%s is %s, not %s", id,
			    quar_status_name((enum quar_status)atoi(PQgetvalue(q, 0, 0))),
			    quar_status_name(from));
			rc = MOAT_EBUSY;
		}
		PQclear(q);
	} else if (res != NULL) {
		rc = pg_cmd(s, err, "INSERT INTO moat_history (id, time, who, what, detail) VALUES"
		    " ($1, $2::bigint, $3, $4, $5)", 5, h);
	}
	PQclear(res);
	rc = pg_end(s, err, rc);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
pg_note(void *state, char **err, const char *id, gint64 now, const char *who, const char *what,
    const char *detail)
{
	struct qpg *s = state;
	g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, now);
	const char *h[] = { id, n, who, what, detail };
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err))
		rc = pg_cmd(s, err, "INSERT INTO moat_history (id, time, who, what, detail) VALUES"
		    " ($1, $2::bigint, $3, $4, $5)", 5, h);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
pg_history(void *state, GPtrArray **out, char **err, const char *id)
{
	struct qpg *s = state;
	const char *p[] = { id };
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err) && (res = pg_exec(s, err, &rc, PGRES_TUPLES_OK, "SELECT time, who, what,"
	    " detail FROM moat_history WHERE id = $1 ORDER BY time, seq", 1, p)) != NULL) {
		*out = g_ptr_array_new_with_free_func((GDestroyNotify)quar_event_free);
		for (int i = 0; i < PQntuples(res); i++) {
			struct quar_event *ev = g_new0(struct quar_event, 1);

			ev->time = g_ascii_strtoll(PQgetvalue(res, i, 0), NULL, 10);
			ev->who = g_strdup(PQgetvalue(res, i, 1));
			ev->what = g_strdup(PQgetvalue(res, i, 2));
			ev->detail = g_strdup(PQgetvalue(res, i, 3));
			g_ptr_array_add(*out, ev);
		}
		rc = 0;
	}
	PQclear(res);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
pg_older(void *state, GPtrArray **ids, char **err, gint64 before)
{
	struct qpg *s = state;
	g_autofree char *b = g_strdup_printf("%" G_GINT64_FORMAT, before);
	const char *p[] = { b };
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err) && (res = pg_exec(s, err, &rc, PGRES_TUPLES_OK,
	    "SELECT id FROM moat_items WHERE time < $1::bigint", 1, p)) != NULL) {
		*ids = g_ptr_array_new_with_free_func(g_free);
		for (int i = 0; i < PQntuples(res); i++)
			g_ptr_array_add(*ids, g_strdup(PQgetvalue(res, i, 0)));
		rc = 0;
	}
	PQclear(res);
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
pg_remove(void *state, char **err, const char *id)
{
	struct qpg *s = state;
	const char *p[] = { id };
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err) && (rc = pg_cmd(s, err, "BEGIN", 0, NULL)) == 0) {
		rc = pg_cmd(s, err, "DELETE FROM moat_items WHERE id = $1", 1, p);
		if (rc == 0)
			rc = pg_cmd(s, err, "DELETE FROM moat_history WHERE id = $1", 1, p);
		rc = pg_end(s, err, rc);
	}
	g_mutex_unlock(&s->lock);
	return rc;
}

static int
pg_usage(void *state, guint64 *bytes, guint *items, char **err)
{
	struct qpg *s = state;
	PGresult *res = NULL;
	int rc = MOAT_EIO;

	g_mutex_lock(&s->lock);
	if (pg_ready(s, err) && (res = pg_exec(s, err, &rc, PGRES_TUPLES_OK,
	    "SELECT bytes, items FROM moat_usage", 0, NULL)) != NULL) {
		if (PQntuples(res) == 1) {
			*bytes = g_ascii_strtoull(PQgetvalue(res, 0, 0), NULL, 10);
			*items = (guint)g_ascii_strtoull(PQgetvalue(res, 0, 1), NULL, 10);
			rc = 0;
		} else {
			*err = g_strdup("postgresql: moat_usage does not have its one row");
		}
	}
	PQclear(res);
	g_mutex_unlock(&s->lock);
	return rc;
}

const struct quar_backend quar_pg_backend = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.migrate = pg_migrate,
	.find_key = pg_find_key,
	.insert = pg_insert,
	.get = pg_get,
	.list = pg_list,
	.count = pg_count,
	.message = pg_message,
	.transition = pg_transition,
	.note = pg_note,
	.history = pg_history,
	.older = pg_older,
	.remove = pg_remove,
	.usage = pg_usage,
};
