/*
 * backend.h - what a backend of the quarantine store provides
 *
 * quarantine.c keeps the rules (ids, keys, quota, who may do what); a
 * backend keeps the items: their index rows, their history and their
 * message bytes, each call atomic. SQLite (sqlite.c: an index file beside
 * sharded message files, files.c) is the embedded default; PostgreSQL
 * (pg.c: rows and message bytes in one database every gateway shares)
 * serves several gateways. Both run the same interface tests
 * (tests/unit/check_quarantine.c loops over quar_backends[]).
 *
 * Every function returns 0 or a MOAT_E* code with *err set (caller
 * g_free()s). STATE is what open gave; the backend locks it as it needs:
 * one struct quar is shared by moatd's threads.
 */
#ifndef MOAT_QUARANTINE_BACKEND_H
#define MOAT_QUARANTINE_BACKEND_H

#include "moat/quarantine.h"

struct quar_backend {
	const char *name;
	/*
	 * open the store C describes; FLAGS as quar_open()'s. A store whose
	 * schema is older than the backend's is refused unless QUAR_MIGRATE.
	 */
	int (*open)(void **state, char **err, const struct conf_quarantine *c, unsigned flags);
	void (*close)(void *state);
	/* bring the schema to the backend's version: *FROM, *TO the versions before and after */
	int (*migrate)(void *state, int *from, int *to, char **err);
	/* the item not deleted whose key is KEY into ID; MOAT_ENOENT when none */
	int (*find_key)(void *state, char id[QUAR_ID_LEN + 1], char **err, const char *key);
	/*
	 * store ITEM (every field set but size) and its message SRC, durably,
	 * with its first history line (WHO, "stored"): both or neither. Sets
	 * ITEM->size to the bytes stored. MOAT_EBUSY when an item not deleted
	 * has its key already.
	 */
	int (*insert)(void *state, char **err, struct quar_item *item, const struct quar_source *src,
	    const char *who);
	int (*get)(void *state, struct quar_item **out, char **err, const char *id);
	int (*list)(void *state, GPtrArray **out, char **err, const struct quar_filter *f);
	/* the groups BY of the items F selects (struct quar_count *, owned), in any order */
	int (*count)(void *state, GPtrArray **out, char **err, const struct quar_filter *f,
	    enum quar_count_by by);
	/* a descriptor reading ID's message from offset 0 (caller closes); MOAT_ENOENT when gone */
	int (*message)(void *state, int *fd, char **err, const char *id);
	/*
	 * ID from FROM to TO at NOW, with a history line; a QUAR_RELEASING item
	 * changed before STALE counts as QUAR_HELD. To QUAR_DELETED also drops
	 * the message. MOAT_ENOENT: no such id; MOAT_EBUSY: not in FROM.
	 */
	int (*transition)(void *state, char **err, const char *id, enum quar_status from,
	    enum quar_status to, gint64 now, gint64 stale, const char *who, const char *what,
	    const char *detail);
	int (*note)(void *state, char **err, const char *id, gint64 now, const char *who,
	    const char *what, const char *detail);
	int (*history)(void *state, GPtrArray **out, char **err, const char *id);
	/* the ids of the items stored before BEFORE (char *, owned) */
	int (*older)(void *state, GPtrArray **ids, char **err, gint64 before);
	/* remove ID, its message and its history for good */
	int (*remove)(void *state, char **err, const char *id);
	/* bytes and count of the items not deleted */
	int (*usage)(void *state, guint64 *bytes, guint *items, char **err);
};

extern const struct quar_backend quar_sqlite_backend;	/* sqlite.c */
extern const struct quar_backend quar_pg_backend;	/* pg.c */
/* every backend, NULL-terminated: [quarantine] backend names one, the tests loop over them */
extern const struct quar_backend *const quar_backends[];

/* files.c: the SQLite backend's message files, DIR/msg/XY/ID, written through DIR/tmp */

/* quar_files_prepare - make DIR, DIR/msg, DIR/tmp (2770) when CREATE, else check they are there */
int quar_files_prepare(char **err, const char *dir, gboolean create, const char *group);
/*
 * quar_files_write - write SRC as ID's message file: to a temp file, fsync,
 * rename into its shard, fsync the shard (and the folder above when the
 * shard is new). *SIZE gets the bytes written.
 */
int quar_files_write(guint64 *size, char **err, const char *dir, const char *id,
    const struct quar_source *src);
/* quar_files_path - ID's message file name (caller g_free()s); it may not exist */
char *quar_files_path(const char *dir, const char *id);
/* quar_files_remove - remove ID's message file, if any, and sync its shard */
int quar_files_remove(char **err, const char *dir, const char *id);

/*
 * quar_count_new - a group for a backend's count: KEY as it came from the
 * database (BY STATUS: the number, DAY: days since the epoch, as text)
 * made what quar_count() promises; N items
 */
struct quar_count *quar_count_new(enum quar_count_by by, const char *key, guint n);

/* quar_schema_error - the text for a store at schema VERSION when the backend has WANT */
char *quar_schema_error(const char *where, int version, int want);

#endif
