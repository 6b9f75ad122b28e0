/*
 * quarantine.h - moat's quarantine store: held messages, why, and what
 * admins did with them
 *
 * A backend keeps the messages (byte for byte as moatd received them), an
 * index row for each and its history: SQLite, the default, in a directory
 * (DIR/index.sqlite and sharded message files); PostgreSQL in a database
 * several gateways share. moatd puts; `moat quarantine`
 * lists, shows, releases, deletes and purges. Every change of status is a
 * row of history (who, when, what). The store sees reports and envelopes,
 * never milter contexts.
 *
 * A message is on disk, synced, under its final name and in the index
 * before quar_put() returns: only then may moatd tell the MTA it is gone.
 * A put is idempotent on the message's key (quar_key()): the same message
 * put again, because the MTA retried after moatd died before answering,
 * gives back the first item's id.
 *
 * A struct quar may be used by several threads (the backend locks); each
 * process opens its own. Errors are MOAT_E* codes with a message in *err
 * (caller g_free()s).
 */
#ifndef MOAT_QUARANTINE_H
#define MOAT_QUARANTINE_H

#include <glib.h>

#include "moat/conf.h"

#define QUAR_ID_LEN 22			/* 16 random bytes, base64url, no padding */

enum quar_status {
	QUAR_HELD,
	QUAR_RELEASING,			/* one admin's release is delivering it */
	QUAR_RELEASED,
	QUAR_DELETED,			/* message file removed, index row and history kept */
	QUAR_NSTATUS
};

/* One item of the index. Strings are owned, never NULL once read from a store ("" for none). */
struct quar_item {
	char id[QUAR_ID_LEN + 1];
	char *node;			/* the gateway that stored it ([quarantine] node) */
	gint64 time;			/* when it was stored, seconds since the epoch */
	char *queue_id;			/* the MTA's, as it gave it */
	char *client_addr;
	char *helo;
	char *mail_from;		/* raw envelope sender as the MTA gave it ("" for <>) */
	GPtrArray *rcpts;		/* raw envelope recipients, char * owned */
	char *header_from;		/* for display */
	char *subject;			/* for display */
	char *message_id;
	guint64 size;			/* bytes of the message file */
	gint score;
	char *action;			/* the verdict's action name ("quarantine") */
	char *findings;			/* "id1,id2": the scoring findings */
	char *report_json;		/* the report as `moat scan --json` prints it, or "" */
	char *key;			/* quar_key(): what makes a retry the same item */
	enum quar_status status;
	gint64 changed;			/* time of the last status change */
};

/* One line of an item's history. */
struct quar_event {
	gint64 time;
	char *who;			/* "moatd", or the admin's login */
	char *what;			/* "stored", "released", "release failed", "deleted", ... */
	char *detail;			/* recipients, reason, ...; "" for none */
};

/* The order of quar_list() */
enum quar_order {
	QUAR_BY_STORED,			/* stored last first */
	QUAR_BY_CHANGED,		/* status changed last first (then by id) */
};

/*
 * What quar_list() and quar_count() select; zero/NULL fields do not
 * filter. The store does the selecting, ordering and paging (SQL): a
 * page of 50 reads 50 rows, and without_report leaves each row's report
 * (about 11 KB of JSON, most of a row) where it is.
 */
struct quar_filter {
	gint64 since, until;		/* stored at or after / before (seconds) */
	const char *sender;		/* envelope sender, any case, exact */
	const char *recipient;		/* one of the envelope recipients, any case, exact */
	const char *finding;		/* one of the findings ids, exact */
	int status;			/* an enum quar_status, or -1 for any */
	gboolean acted;			/* only items whose status changed since they were stored */
	enum quar_order order;
	guint limit;			/* at most this many; 0: all */
	guint offset;			/* after skipping this many (paging) */
	gboolean without_report;	/* the items' report_json "": the index alone, for lists */
};

/* How quar_count() groups the items a filter selects */
enum quar_count_by {
	QUAR_COUNT_ALL,			/* one group, key "": how many there are */
	QUAR_COUNT_STATUS,		/* key: the status's name (quar_status_name()) */
	QUAR_COUNT_DAY,			/* key: the day it was stored, "YYYY-MM-DD" (UTC) */
	QUAR_COUNT_FINDING,		/* key: a finding id; an item counts for each id it lists */
};

/* One group of quar_count() */
struct quar_count {
	char *key;
	guint n;
};

/*
 * The message bytes for quar_put(): DATA/LEN when DATA is not NULL, else
 * read from FD (from offset 0, with pread: the descriptor's offset is left
 * alone).
 */
struct quar_source {
	const guint8 *data;
	gsize len;
	int fd;
};

struct quar;

/* quar_open() flags */
#define QUAR_CREATE	1u	/* make what is missing: folders, an empty schema (moatd) */
#define QUAR_MIGRATE	2u	/* open an older schema too, for quar_migrate() */

/*
 * quar_open - open the store of CONF's [quarantine] backend. With
 * QUAR_CREATE a missing store is made (SQLite: folders 2770, setgid, so
 * files take the group, [quarantine] admin_group when set; files 0660; a
 * new database gets the current schema). A store whose schema is older
 * than this moat's is refused, naming `moat quarantine migrate`, unless
 * QUAR_MIGRATE. Caller closes with quar_close().
 */
int quar_open(struct quar **out, char **err, const struct moat_conf *conf, unsigned flags);

/* quar_migrate - bring the store's schema to this moat's: *FROM and *TO the versions */
int quar_migrate(struct quar *q, int *from, int *to, char **err);

/* quar_node - the name this store's puts carry ([quarantine] node, or the host name) */
const char *quar_node(const struct quar *q);
/*
 * quar_set_max_bytes - the quota from now on (0: none); moatd gives the
 * running config's [quarantine] max_bytes before each put, so a reload
 * changes it. Atomic.
 */
void quar_set_max_bytes(struct quar *q, guint64 max_bytes);

/* quar_close - NULL is a no-op */
void quar_close(struct quar *q);

/*
 * quar_key - the key of a message for idempotent puts: SHA-256 hex of its
 * Message-ID, its body digest (hex) and its envelope. Not the header block:
 * Sendmail shows the milter its own Received: line, with a new queue id on
 * every attempt. Caller g_free()s.
 */
char *quar_key(const char *message_id, const char *body_sha256, const char *mail_from,
    const GPtrArray *rcpts);

/*
 * quar_put - store the message SRC with the index row META (its id, node,
 * time, size, status and changed are set here; key must be set). *ID gets the
 * new item's id, or the id of the item already stored under META->key
 * (*DUP TRUE, nothing written). Fails with MOAT_EIO when the message could
 * not be made durable (nothing is indexed then), MOAT_EFULL when
 * [quarantine] max_bytes would be passed.
 */
int quar_put(struct quar *q, char id[QUAR_ID_LEN + 1], gboolean *dup, char **err,
    const struct quar_item *meta, const struct quar_source *src);

/* quar_get - the item ID (caller frees with quar_item_free()); MOAT_ENOENT when there is none */
int quar_get(struct quar *q, struct quar_item **out, char **err, const char *id);

/*
 * quar_list - the items F selects, in F's order, at most F's limit after
 * F's offset: a GPtrArray of struct quar_item * (owns them)
 */
int quar_list(struct quar *q, GPtrArray **out, char **err, const struct quar_filter *f);

/*
 * quar_count - how many of the items F selects (its order, limit, offset
 * and without_report aside) fall in each group BY, most first, then by
 * key: a GPtrArray of struct quar_count * (owns them). The store counts,
 * no item is read: SQL aggregates (by finding on SQLite, which cannot
 * split a column, the findings column alone of each match). Groups of
 * none are left out, but QUAR_COUNT_ALL always gives its one group.
 */
int quar_count(struct quar *q, GPtrArray **out, char **err, const struct quar_filter *f,
    enum quar_count_by by);

/*
 * quar_message_open - *FD reads ID's message, as stored, from its start
 * (caller closes); MOAT_ENOENT when the item has none (deleted, purged,
 * unknown)
 */
int quar_message_open(struct quar *q, int *fd, char **err, const char *id);

/*
 * quar_transition - move ID from status FROM to TO and record WHO did WHAT
 * (DETAIL may be NULL), atomically: MOAT_EBUSY when ID is not in FROM (another
 * admin got there first). A QUAR_RELEASING item whose claim is older than
 * QUAR_CLAIM_SECONDS counts as held (the releasing command died). To
 * QUAR_DELETED also removes the message file.
 */
#define QUAR_CLAIM_SECONDS 600
int quar_transition(struct quar *q, char **err, const char *id, enum quar_status from,
    enum quar_status to, const char *who, const char *what, const char *detail);

/* quar_note - add a line to ID's history without changing its status */
int quar_note(struct quar *q, char **err, const char *id, const char *who, const char *what,
    const char *detail);

/* quar_history - ID's history, oldest first: a GPtrArray of struct quar_event * (owns them) */
int quar_history(struct quar *q, GPtrArray **out, char **err, const char *id);

/*
 * quar_purge - remove for good (files, index rows, history) every item
 * stored before BEFORE (seconds since the epoch); *N gets how many
 */
int quar_purge(struct quar *q, guint *n, char **err, gint64 before);

/* quar_usage - bytes of message files in the store and items not deleted */
int quar_usage(struct quar *q, guint64 *bytes, guint *items, char **err);

void quar_item_free(struct quar_item *item);
void quar_event_free(struct quar_event *ev);
void quar_count_free(struct quar_count *c);

/*
 * quar_conf_check - whether CONF's [quarantine] values make sense (mode,
 * reply and full_action are one of their words); an error text naming the
 * key (caller g_free()s) or NULL. conf_load() calls it.
 */
char *quar_conf_check(const struct moat_conf *conf);

/* quar_status_name - "held", "releasing", "released", "deleted" */
const char *quar_status_name(enum quar_status s);
/* quar_status_parse - the status named NAME, or -1 */
int quar_status_parse(const char *name);
/* quar_id_valid - whether ID has the shape of an id (22 base64url characters) */
gboolean quar_id_valid(const char *id);

#endif
