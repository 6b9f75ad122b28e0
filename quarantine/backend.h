/*
 * backend.h - what an index backend of the quarantine store provides
 *
 * quarantine.c owns the message files (files.c) and the rules (ids, keys,
 * quota, who may do what); a backend only keeps the index and the history,
 * each call atomic. The SQLite backend (sqlite.c) is the default; another
 * (PostgreSQL) fills the same table of functions and runs the same tests
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
	/* open the index of the store in DIR; CREATE: make it when missing */
	int (*open)(void **state, char **err, const char *dir, gboolean create);
	void (*close)(void *state);
	/* the item not deleted whose key is KEY into ID; MOAT_ENOENT when none */
	int (*find_key)(void *state, char id[QUAR_ID_LEN + 1], char **err, const char *key);
	/*
	 * add ITEM (every field set) and its first history line (WHO, "stored");
	 * MOAT_EBUSY when an item not deleted has its key already
	 */
	int (*insert)(void *state, char **err, const struct quar_item *item, const char *who);
	int (*get)(void *state, struct quar_item **out, char **err, const char *id);
	int (*list)(void *state, GPtrArray **out, char **err, const struct quar_filter *f);
	/*
	 * ID from FROM to TO at NOW, with a history line; a QUAR_RELEASING item
	 * changed before STALE counts as QUAR_HELD. MOAT_ENOENT: no such id;
	 * MOAT_EBUSY: not in FROM.
	 */
	int (*transition)(void *state, char **err, const char *id, enum quar_status from,
	    enum quar_status to, gint64 now, gint64 stale, const char *who, const char *what,
	    const char *detail);
	int (*note)(void *state, char **err, const char *id, gint64 now, const char *who,
	    const char *what, const char *detail);
	int (*history)(void *state, GPtrArray **out, char **err, const char *id);
	/* the ids of the items stored before BEFORE (char *, owned) */
	int (*older)(void *state, GPtrArray **ids, char **err, gint64 before);
	/* remove ID and its history for good */
	int (*remove)(void *state, char **err, const char *id);
	/* bytes and count of the items not deleted */
	int (*usage)(void *state, guint64 *bytes, guint *items, char **err);
};

extern const struct quar_backend quar_sqlite_backend;	/* sqlite.c */
/* every backend, NULL-terminated: [quarantine] backend names one, the tests loop over them */
extern const struct quar_backend *const quar_backends[];

/* files.c: the message files of a store, DIR/msg/XY/ID, written through DIR/tmp */

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

#endif
