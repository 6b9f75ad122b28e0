/*
 * quarantine.c - the quarantine store's rules over its backend
 *
 * In: [quarantine] of the config, messages and their index rows. Out: items,
 * their messages, their history and counts of them, through the backend
 * the config names (backend.h). Ids are 16 bytes from getrandom(), base64url: unguessable,
 * and safe in a path and a URL. The quota is checked before a message is
 * written. Thread-safe as the backends are (each locks its connection).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "moat/confkeys.h"
#include "moat/moat.h"
#include "moat/sha256.h"
#include "backend.h"

struct quar {
	const struct quar_backend *be;
	void *state;
	char *where;			/* the dir, or the database, for messages */
	char *node;
	guint64 max_bytes;		/* atomic: quar_set_max_bytes() */
};

/* [quarantine] (conf->quarantine) */
static const struct conf_key quar_conf_keys[] = {
	{ "quarantine", "mode", CONF_STRING, CONF_OFF(quarantine.mode), "store", 4, 5,
	    "store: moatd keeps held mail in moat's own store (dir), which moat quarantine "
	    "lists, shows and releases; hold: in the MTA's hold queue (Postfix postsuper -H, "
	    "Sendmail -qQ), as before the store. Changes need a restart." },
	{ "quarantine", "backend", CONF_STRING, CONF_OFF(quarantine.backend), "sqlite", 1, 32,
	    "sqlite: one gateway's store in dir (index.sqlite, WAL, and the message files); "
	    "postgresql: rows and messages in the database pg_conninfo names, which several "
	    "gateways share. Changes need a restart." },
	{ "quarantine", "pg_conninfo", CONF_STRING, CONF_OFF(quarantine.pg_conninfo), "", 0, 1024,
	    "backend = postgresql: the libpq connection string (host=db.example.org dbname=moat "
	    "user=moat, or a postgresql:// URI); a password belongs in ~/.pgpass, not here. "
	    "Changes need a restart." },
	{ "quarantine", "node", CONF_STRING, CONF_OFF(quarantine.node), "", 0, 64,
	    "This gateway's name in the items it stores and in its log lines; empty: the host "
	    "name. Changes need a restart." },
	{ "quarantine", "dir", CONF_STRING, CONF_OFF(quarantine.dir), "/var/lib/moat/quarantine",
	    1, 1024,
	    "The store: index.sqlite and msg/XY/ID files, folders 2770, files 0660. moatd makes it; "
	    "changes need a restart. May sit on another file system than spool_dir." },
	{ "quarantine", "reply", CONF_STRING, CONF_OFF(quarantine.reply), "discard", 6, 7,
	    "Once a message is safe in the store: discard (the client is told 250, nothing is "
	    "delivered) or reject (550 5.7.1 with the item's id, so a sender can quote it)." },
	{ "quarantine", "retention_days", CONF_UINT, CONF_OFF(quarantine.retention_days), "30", 0,
	    36500,
	    "Items stored longer ago are purged (message, index row, history) by moatd every hour "
	    "and by moat quarantine purge; 0 keeps them." },
	{ "quarantine", "max_bytes", CONF_BYTES, CONF_OFF(quarantine.max_bytes), "10G", 0,
	    G_GINT64_CONSTANT(1) << 50,
	    "Bytes of message files the store may hold; 0: no limit. Past it full_action applies "
	    "and moatd logs it and counts moat_quarantine_full_total." },
	{ "quarantine", "full_action", CONF_STRING, CONF_OFF(quarantine.full_action), "tempfail",
	    4, 8,
	    "What a message to be held gets when the store is over max_bytes: tempfail (the MTA "
	    "retries; nothing is dropped) or hold (the MTA's hold queue)." },
	{ "quarantine", "admin_group", CONF_STRING, CONF_OFF(quarantine.admin_group), "", 0, 64,
	    "Group whose members may use moat quarantine, besides moatd's user ([milter] user) and "
	    "root; the store's folders get it. Empty: nobody else." },
	{ "quarantine", "release_host", CONF_STRING, CONF_OFF(quarantine.release_host),
	    "127.0.0.1:10026", 3, 300,
	    "Where moat quarantine release delivers, host:port or [IPv6]:port: an MTA listener "
	    "without milters (README: the master.cf line)." },
	{ "quarantine", "release_helo", CONF_STRING, CONF_OFF(quarantine.release_helo), "", 0, 255,
	    "EHLO name of a release; empty: this host's name." },
	{ "quarantine", "release_timeout", CONF_UINT, CONF_OFF(quarantine.release_timeout), "60", 1,
	    3600,
	    "Seconds a release waits for each SMTP step before it gives up (the item stays held)." },
};

const struct conf_group quar_conf_group = CONF_GROUP("quarantine", quar_conf_keys);

const struct quar_backend *const quar_backends[] = { &quar_sqlite_backend, &quar_pg_backend,
	NULL };

/* quar_backend_find - the backend called NAME, or NULL */
static const struct quar_backend *
quar_backend_find(const char *name)
{
	for (gsize i = 0; quar_backends[i] != NULL; i++)
		if (strcmp(quar_backends[i]->name, name) == 0)
			return quar_backends[i];
	return NULL;
}

char *
quar_conf_check(const struct moat_conf *conf)
{
	const struct conf_quarantine *c = &conf->quarantine;

	if (strcmp(c->mode, "store") != 0 && strcmp(c->mode, "hold") != 0)
		return g_strdup_printf("[quarantine] mode: '%s': store or hold", c->mode);
	if (strcmp(c->reply, "discard") != 0 && strcmp(c->reply, "reject") != 0)
		return g_strdup_printf("[quarantine] reply: '%s': discard or reject", c->reply);
	if (strcmp(c->full_action, "tempfail") != 0 && strcmp(c->full_action, "hold") != 0)
		return g_strdup_printf("[quarantine] full_action: '%s': tempfail or hold",
		    c->full_action);
	if (quar_backend_find(c->backend) == NULL)
		return g_strdup_printf("[quarantine] backend: '%s': sqlite or postgresql", c->backend);
	if (strcmp(c->backend, "postgresql") == 0 && *c->pg_conninfo == '\0')
		return g_strdup("[quarantine] pg_conninfo: empty, and backend = postgresql needs it");
	if (!g_path_is_absolute(c->dir))
		return g_strdup_printf("[quarantine] dir: '%s': not an absolute path", c->dir);
	return NULL;
}

static const char *const quar_status_names[QUAR_NSTATUS] = {
	"held", "releasing", "released", "deleted",
};

const char *
quar_status_name(enum quar_status s)
{
	return (unsigned)s < QUAR_NSTATUS ? quar_status_names[s] : "unknown";
}

int
quar_status_parse(const char *name)
{
	for (int i = 0; i < QUAR_NSTATUS; i++)
		if (g_ascii_strcasecmp(name, quar_status_names[i]) == 0)
			return i;
	return -1;
}

gboolean
quar_id_valid(const char *id)
{
	gsize n = 0;

	if (id == NULL)
		return FALSE;
	for (; id[n] != '\0'; n++)
		if (!g_ascii_isalnum(id[n]) && id[n] != '-' && id[n] != '_')
			return FALSE;
	return n == QUAR_ID_LEN;
}

/* quar_new_id - 16 random bytes as 22 base64url characters */
static int
quar_new_id(char id[QUAR_ID_LEN + 1], char **err)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	guint8 r[16];
	gsize got = 0;
	int o = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			*err = g_strdup_printf("getrandom: %s", g_strerror(e));
			return MOAT_EINTERNAL;
		}
		got += (gsize)n;
	}
	/* 5 groups of 3 bytes give 20 characters, the last byte 2 more */
	for (int i = 0; i < 15; i += 3) {
		guint32 v = (guint32)r[i] << 16 | (guint32)r[i + 1] << 8 | r[i + 2];

		for (int k = 3; k >= 0; k--)
			id[o++] = b64[(v >> (6 * k)) & 63];
	}
	id[o++] = b64[r[15] >> 2];
	id[o++] = b64[(r[15] & 3) << 4];
	id[o] = '\0';
	return 0;
}

char *
quar_key(const char *message_id, const char *body_sha256, const char *mail_from,
    const GPtrArray *rcpts)
{
	GString *k = g_string_new(NULL);
	char sum[SHA256_HEX_LEN + 1];

	/* NUL cannot be in any of them: it separates them unambiguously */
	g_string_append(k, message_id != NULL ? message_id : "");
	g_string_append_c(k, '\0');
	g_string_append(k, body_sha256 != NULL ? body_sha256 : "");
	g_string_append_c(k, '\0');
	g_string_append(k, mail_from != NULL ? mail_from : "");
	for (guint i = 0; rcpts != NULL && i < rcpts->len; i++) {
		g_string_append_c(k, '\0');
		g_string_append(k, rcpts->pdata[i]);
	}
	sha256_hex(k->str, k->len, sum);
	g_string_free(k, TRUE);
	return g_strdup(sum);
}

char *
quar_schema_error(const char *where, int version, int want)
{
	if (version > want)
		return g_strdup_printf("%s: schema version %d is newer than this moat's (%d): "
		    "upgrade moat on this gateway", where, version, want);
	return g_strdup_printf("%s: schema version %d, this moat needs %d: run "
	    "'moat quarantine migrate'", where, version, want);
}

int
quar_open(struct quar **out, char **err, const struct moat_conf *conf, unsigned flags)
{
	const struct conf_quarantine *c = &conf->quarantine;
	struct quar *q = g_new0(struct quar, 1);
	int rc;

	if ((q->be = quar_backend_find(c->backend)) == NULL) {
		*err = g_strdup_printf("[quarantine] backend: no backend '%s'", c->backend);
		g_free(q);
		return MOAT_EINVAL;
	}
	q->where = g_strdup(strcmp(c->backend, "sqlite") == 0 ? c->dir : "the database");
	q->node = g_strdup(*c->node != '\0' ? c->node : g_get_host_name());
	q->max_bytes = c->max_bytes;
	if ((rc = q->be->open(&q->state, err, c, flags)) < 0) {
		quar_close(q);
		return rc;
	}
	*out = q;
	return 0;
}

int
quar_migrate(struct quar *q, int *from, int *to, char **err)
{
	return q->be->migrate(q->state, from, to, err);
}

const char *
quar_node(const struct quar *q)
{
	return q->node;
}

void
quar_set_max_bytes(struct quar *q, guint64 max_bytes)
{
	__atomic_store_n(&q->max_bytes, max_bytes, __ATOMIC_RELAXED);
}

void
quar_close(struct quar *q)
{
	if (q == NULL)
		return;
	if (q->state != NULL)
		q->be->close(q->state);
	g_free(q->where);
	g_free(q->node);
	g_free(q);
}

/* quar_row - META with the fields quar_put() sets, strings borrowed: never freed */
static struct quar_item
quar_row(const struct quar *q, const struct quar_item *meta, const char *id, gint64 now)
{
	struct quar_item row = *meta;

	g_strlcpy(row.id, id, sizeof(row.id));
	row.node = q->node;
	row.time = now;
	row.changed = now;
	row.status = QUAR_HELD;
	return row;
}

int
quar_put(struct quar *q, char id[QUAR_ID_LEN + 1], gboolean *dup, char **err,
    const struct quar_item *meta, const struct quar_source *src)
{
	struct quar_item row;
	guint64 bytes = 0, max;
	guint items;
	int rc;

	*dup = FALSE;
	if ((rc = q->be->find_key(q->state, id, err, meta->key)) == 0) {
		*dup = TRUE;
		return 0;
	}
	if (rc != MOAT_ENOENT)
		return rc;
	g_clear_pointer(err, g_free);
	if ((max = __atomic_load_n(&q->max_bytes, __ATOMIC_RELAXED)) > 0) {
		guint64 need = src->data != NULL ? src->len : meta->size;

		if ((rc = q->be->usage(q->state, &bytes, &items, err)) < 0)
			return rc;
		if (bytes + need > max) {
			*err = g_strdup_printf("%s: %" G_GUINT64_FORMAT " bytes in %u items, "
			    "%" G_GUINT64_FORMAT " more would pass [quarantine] max_bytes "
			    "(%" G_GUINT64_FORMAT ")", q->where, bytes, items, need, max);
			return MOAT_EFULL;
		}
	}
	if ((rc = quar_new_id(id, err)) < 0)
		return rc;
	row = quar_row(q, meta, id, g_get_real_time() / G_USEC_PER_SEC);
	if ((rc = q->be->insert(q->state, err, &row, src, "moatd")) == 0)
		return 0;
	/* another thread, or another gateway, stored the same message meanwhile? */
	if (rc == MOAT_EBUSY) {
		g_autofree char *why = g_steal_pointer(err);

		if (q->be->find_key(q->state, id, err, meta->key) == 0) {
			*dup = TRUE;
			return 0;
		}
		g_free(*err);
		*err = g_steal_pointer(&why);	/* say why the insert failed */
	}
	return rc;
}

int
quar_get(struct quar *q, struct quar_item **out, char **err, const char *id)
{
	if (!quar_id_valid(id)) {
		*err = g_strdup_printf("'%s': not a quarantine id", id);
		return MOAT_ENOENT;
	}
	return q->be->get(q->state, out, err, id);
}

int
quar_list(struct quar *q, GPtrArray **out, char **err, const struct quar_filter *f)
{
	return q->be->list(q->state, out, err, f);
}

struct quar_count *
quar_count_new(enum quar_count_by by, const char *key, guint n)
{
	struct quar_count *c = g_new0(struct quar_count, 1);

	key = key != NULL ? key : "";	/* a NULL the database gave */
	c->n = n;
	if (by == QUAR_COUNT_STATUS) {
		c->key = g_strdup(quar_status_name((enum quar_status)atoi(key)));
	} else if (by == QUAR_COUNT_DAY) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(
		    g_ascii_strtoll(key, NULL, 10) * 86400);

		c->key = dt != NULL ? g_date_time_format(dt, "%Y-%m-%d") : g_strdup("?");
	} else {
		c->key = g_strdup(key);
	}
	return c;
}

/* quar_count_cmp - most first, then by key */
static gint
quar_count_cmp(gconstpointer a, gconstpointer b)
{
	const struct quar_count *x = *(const struct quar_count *const *)a;
	const struct quar_count *y = *(const struct quar_count *const *)b;

	return x->n != y->n ? (x->n > y->n ? -1 : 1) : strcmp(x->key, y->key);
}

int
quar_count(struct quar *q, GPtrArray **out, char **err, const struct quar_filter *f,
    enum quar_count_by by)
{
	int rc;

	if ((rc = q->be->count(q->state, out, err, f, by)) == 0)
		g_ptr_array_sort(*out, quar_count_cmp);
	return rc;
}

int
quar_message_open(struct quar *q, int *fd, char **err, const char *id)
{
	if (!quar_id_valid(id)) {
		*err = g_strdup_printf("'%s': not a quarantine id", id);
		return MOAT_ENOENT;
	}
	return q->be->message(q->state, fd, err, id);
}

int
quar_transition(struct quar *q, char **err, const char *id, enum quar_status from,
    enum quar_status to, const char *who, const char *what, const char *detail)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (!quar_id_valid(id)) {
		*err = g_strdup_printf("'%s': not a quarantine id", id);
		return MOAT_ENOENT;
	}
	return q->be->transition(q->state, err, id, from, to, now, now - QUAR_CLAIM_SECONDS, who,
	    what, detail != NULL ? detail : "");
}

int
quar_note(struct quar *q, char **err, const char *id, const char *who, const char *what,
    const char *detail)
{
	return q->be->note(q->state, err, id, g_get_real_time() / G_USEC_PER_SEC, who, what,
	    detail != NULL ? detail : "");
}

int
quar_history(struct quar *q, GPtrArray **out, char **err, const char *id)
{
	return q->be->history(q->state, out, err, id);
}

/*
 * quar_purge - an item being released right now stays (its release records
 * its end); one that cannot be removed does not stop the others: the first
 * error is returned after the rest are done
 */
int
quar_purge(struct quar *q, guint *n, char **err, gint64 before)
{
	g_autoptr(GPtrArray) ids = NULL;
	gint64 live = g_get_real_time() / G_USEC_PER_SEC - QUAR_CLAIM_SECONDS;
	int rc, first = 0;

	*n = 0;
	if ((rc = q->be->older(q->state, &ids, err, before)) < 0)
		return rc;
	for (guint i = 0; i < ids->len; i++) {
		struct quar_item *it = NULL;
		char *why = NULL;

		if (q->be->get(q->state, &it, &why, ids->pdata[i]) == 0 &&
		    it->status == QUAR_RELEASING && it->changed >= live) {
			quar_item_free(it);
			continue;
		}
		quar_item_free(it);
		g_clear_pointer(&why, g_free);
		if ((rc = q->be->remove(q->state, &why, ids->pdata[i])) < 0) {
			if (first == 0) {
				first = rc;
				*err = g_steal_pointer(&why);
			}
			g_free(why);
			continue;
		}
		(*n)++;
	}
	return first;
}

int
quar_usage(struct quar *q, guint64 *bytes, guint *items, char **err)
{
	return q->be->usage(q->state, bytes, items, err);
}

void
quar_item_free(struct quar_item *item)
{
	if (item == NULL)
		return;
	g_free(item->node);
	g_free(item->queue_id);
	g_free(item->client_addr);
	g_free(item->helo);
	g_free(item->mail_from);
	if (item->rcpts != NULL)
		g_ptr_array_unref(item->rcpts);
	g_free(item->header_from);
	g_free(item->subject);
	g_free(item->message_id);
	g_free(item->action);
	g_free(item->findings);
	g_free(item->report_json);
	g_free(item->key);
	g_free(item);
}

void
quar_count_free(struct quar_count *c)
{
	if (c == NULL)
		return;
	g_free(c->key);
	g_free(c);
}

void
quar_event_free(struct quar_event *ev)
{
	if (ev == NULL)
		return;
	g_free(ev->who);
	g_free(ev->what);
	g_free(ev->detail);
	g_free(ev);
}
