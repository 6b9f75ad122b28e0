/*
 * webusers.h - moat-web's users file: who may use the quarantine in a
 * browser, in which role, and their password hashes
 *
 * One line per user, "name:role:hash", hash a libsodium crypto_pwhash_str()
 * string (Argon2id, $argon2id$v=19$m=...). Lines starting with '#' and
 * empty lines are skipped. `moat web user` writes the file (a temp file
 * renamed over it, mode 0640, group of [milter] user so moat-web can read
 * it); moat-web reads it (web/auth.c). Names: 1 to 64 of [A-Za-z0-9._@-].
 * Reentrant; libsodium must be initialised (webusers_init()).
 */
#ifndef MOAT_WEBUSERS_H
#define MOAT_WEBUSERS_H

#include <glib.h>
#include <sys/types.h>

#define WEBUSERS_NAME_MAX 64
#define WEBUSERS_MAX 10000		/* users in one file; more is an error */
#define WEBUSERS_PASSWORD_MAX 1024	/* bytes of a password */

enum webusers_role {
	WEBUSERS_ADMIN,			/* everything: release, delete */
	WEBUSERS_REVIEWER,		/* list, show, release to the original recipients */
	WEBUSERS_AUDITOR,		/* list, show, history, statistics: read only */
	WEBUSERS_NROLES
};

struct webusers_user {
	char *name;
	enum webusers_role role;
	char *hash;			/* crypto_pwhash_str() output */
};

/* webusers_init - libsodium's sodium_init(); 0, or MOAT_EINTERNAL */
int webusers_init(void);

/*
 * webusers_load - the users in PATH: a GPtrArray of struct webusers_user *
 * (owns them), in file order. A missing file is an empty list. MOAT_EIO
 * (unreadable), MOAT_EPARSE (a bad line: *err names it). Caller g_free()s *err.
 */
int webusers_load(GPtrArray **out, char **err, const char *path);

/*
 * webusers_save - write USERS to PATH atomically: a temp file beside it,
 * fsync, rename. A new file gets mode 0640 and group GID (-1: the caller's);
 * an existing one keeps its mode, owner and group.
 */
int webusers_save(char **err, const char *path, const GPtrArray *users, gid_t gid);

/* webusers_hash - PASSWORD's crypto_pwhash_str() (Argon2id, interactive limits); caller g_free()s; NULL on failure */
char *webusers_hash(const char *password);

/* webusers_verify - whether PASSWORD matches HASH (crypto_pwhash_str_verify) */
gboolean webusers_verify(const char *hash, const char *password);

/* webusers_find - the user called NAME in USERS (borrowed), or NULL */
struct webusers_user *webusers_find(const GPtrArray *users, const char *name);

gboolean webusers_name_valid(const char *name);
/* "admin", "reviewer", "auditor" */
const char *webusers_role_name(enum webusers_role r);
/* the role called NAME, or -1 */
int webusers_role_parse(const char *name);
void webusers_user_free(struct webusers_user *u);

#endif
