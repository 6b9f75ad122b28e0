/*
 * auth.c - who is asking: moat-web's users, sessions and login throttle
 *
 * In: [web] of the config (users file, session_ttl, the throttle, trusted
 * proxies). Out: identities (a copy of name, role, CSRF token). The users
 * file is read again whenever it changes (size, time or inode), so `moat
 * web user del` locks a user out at their next request, and a role change
 * applies at once; a file that does not parse locks everyone out (logged)
 * rather than keep stale rights.
 *
 * Sessions live in this process only (a restart logs everyone out): 32
 * random bytes as id, a CSRF token of their own, an idle expiry of [web]
 * session_ttl and WEB_ABSOLUTE_TTL after login at most. A proxy's user has
 * no session; their CSRF token is an HMAC of their name under a key made
 * at start. At most AUTH_MAX_SESSIONS sessions and AUTH_MAX_THROTTLE
 * throttle entries (the oldest goes); at most AUTH_MAX_HASHING password
 * checks at once (each costs 64 MiB). Thread-safe: one mutex, never held
 * while a hash is computed.
 */
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <sodium.h>

#include "moat/lists.h"
#include "moat/moat.h"
#include "web.h"

#define AUTH_MAX_SESSIONS 10000
#define AUTH_MAX_THROTTLE 4096
#define AUTH_MAX_HASHING 2
/*
 * What an unknown name's password is checked against, so that a wrong name
 * costs as much as a wrong password: an Argon2id hash (interactive limits,
 * as webusers_hash() makes) of 32 random bytes nobody kept.
 */
#define AUTH_DUMMY_HASH "$argon2id$v=19$m=65536,t=2,p=1$C4Zah+0J6OVcmaxWezBPyQ$" \
	"ZkWiVv7yWrpYNw50zomXl2U55cKIPcqp8ZBOEIpNY7Y"

struct auth_session {
	char name[WEBUSERS_NAME_MAX + 1];
	char csrf[WEB_SID_LEN + 1];
	gint64 created, seen;
};

struct auth_fails {
	guint n;
	gint64 first;
};

struct web_auth {
	const struct moat_conf *conf;
	GMutex lock;
	GPtrArray *users;		/* struct webusers_user *, the file as last read */
	struct stat users_st;		/* of that read; st_ino 0: never read */
	GHashTable *sessions;		/* sid -> struct auth_session * */
	GHashTable *fails;		/* "u:name" or "a:addr" -> struct auth_fails * */
	guint hashing;			/* password checks running */
	guint8 proxy_key[crypto_auth_KEYBYTES];
};

/* auth_hex_random - N random bytes as 2N hex digits into OUT */
static void
auth_hex_random(char *out, gsize n)
{
	guint8 buf[64];

	g_assert(n <= sizeof(buf));
	randombytes_buf(buf, n);
	sodium_bin2hex(out, 2 * n + 1, buf, n);
}

void
web_auth_login_token(char out[WEB_SID_LEN + 1])
{
	auth_hex_random(out, WEB_SID_LEN / 2);
}

struct web_auth *
web_auth_new(const struct moat_conf *conf)
{
	struct web_auth *a = g_new0(struct web_auth, 1);

	a->conf = conf;
	g_mutex_init(&a->lock);
	a->users = g_ptr_array_new_with_free_func((GDestroyNotify)webusers_user_free);
	a->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	a->fails = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	crypto_auth_keygen(a->proxy_key);
	return a;
}

void
web_auth_free(struct web_auth *a)
{
	if (a == NULL)
		return;
	g_ptr_array_unref(a->users);
	g_hash_table_destroy(a->sessions);
	g_hash_table_destroy(a->fails);
	sodium_memzero(a->proxy_key, sizeof(a->proxy_key));
	g_mutex_clear(&a->lock);
	g_free(a);
}

/* auth_users_fresh - the users file, read again if it changed; with the lock held */
static void
auth_users_fresh(struct web_auth *a)
{
	const char *path = a->conf->web.users;
	g_autofree char *err = NULL;
	GPtrArray *users = NULL;
	struct stat st;

	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (a->users_st.st_ino != 0 && st.st_ino == a->users_st.st_ino &&
	    st.st_size == a->users_st.st_size && st.st_mtim.tv_sec == a->users_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->users_st.st_mtim.tv_nsec)
		return;
	if (webusers_load(&users, &err, path) < 0) {
		syslog(LOG_ERR, "users: %s: nobody may log in until it is fixed", err);
		users = g_ptr_array_new_with_free_func((GDestroyNotify)webusers_user_free);
	}
	g_ptr_array_unref(a->users);
	a->users = users;
	a->users_st = st;
	if (st.st_ino == 0)
		a->users_st.st_ino = 1;	/* missing: read again when it appears (ino changes) */
}

/* auth_fails_get - the failures under KEY at NOW (expired ones forgotten), or NULL; lock held */
static struct auth_fails *
auth_fails_get(struct web_auth *a, const char *key, gint64 now)
{
	struct auth_fails *f = g_hash_table_lookup(a->fails, key);

	if (f != NULL && now - f->first >= a->conf->web.login_lockout) {
		g_hash_table_remove(a->fails, key);
		return NULL;
	}
	return f;
}

/* auth_fails_add - one more failure under KEY at NOW; the table stays bounded; lock held */
static void
auth_fails_add(struct web_auth *a, const char *key, gint64 now)
{
	struct auth_fails *f = auth_fails_get(a, key, now);
	GHashTableIter it;
	gpointer k, v;
	const char *oldest = NULL;
	gint64 oldest_t = G_MAXINT64;

	if (f != NULL) {
		f->n++;
		return;
	}
	if (g_hash_table_size(a->fails) >= AUTH_MAX_THROTTLE) {
		g_hash_table_iter_init(&it, a->fails);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (((struct auth_fails *)v)->first < oldest_t) {
				oldest_t = ((struct auth_fails *)v)->first;
				oldest = k;
			}
		if (oldest != NULL)
			g_hash_table_remove(a->fails, oldest);
	}
	f = g_new0(struct auth_fails, 1);
	f->n = 1;
	f->first = now;
	g_hash_table_insert(a->fails, g_strdup(key), f);
}

/* auth_locked - whether KEY has had login_max_failures within login_lockout; lock held */
static gboolean
auth_locked(struct web_auth *a, const char *key, gint64 now)
{
	struct auth_fails *f = auth_fails_get(a, key, now);

	return f != NULL && f->n >= a->conf->web.login_max_failures;
}

/* auth_sessions_prune - forget expired sessions; lock held */
static void
auth_sessions_prune(struct web_auth *a, gint64 now)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->sessions);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct auth_session *s = v;

		if (now - s->seen >= a->conf->web.session_ttl || now - s->created >= WEB_ABSOLUTE_TTL)
			g_hash_table_iter_remove(&it);
	}
}

int
web_auth_login(struct web_auth *a, char sid[WEB_SID_LEN + 1], const char *name,
    const char *password, const char *addr, gint64 now)
{
	g_autofree char *ukey = g_strconcat("u:", name, NULL), *akey = g_strconcat("a:", addr, NULL);
	g_autofree char *hash = NULL;
	struct webusers_user *u;
	struct auth_session *s;
	gboolean ok;

	g_mutex_lock(&a->lock);
	if (auth_locked(a, ukey, now) || auth_locked(a, akey, now) || a->hashing >= AUTH_MAX_HASHING) {
		g_mutex_unlock(&a->lock);
		syslog(LOG_WARNING, "login refused for a while: user %s from %s (too many failures, "
		    "or too many logins at once)", webusers_name_valid(name) ? name : "(bad name)", addr);
		return MOAT_EBUSY;
	}
	auth_users_fresh(a);
	u = webusers_name_valid(name) ? webusers_find(a->users, name) : NULL;
	hash = g_strdup(u != NULL ? u->hash : AUTH_DUMMY_HASH);
	a->hashing++;
	g_mutex_unlock(&a->lock);

	ok = webusers_verify(hash, password) && u != NULL;

	g_mutex_lock(&a->lock);
	a->hashing--;
	if (!ok) {
		auth_fails_add(a, ukey, now);
		auth_fails_add(a, akey, now);
		g_mutex_unlock(&a->lock);
		syslog(LOG_WARNING, "login failed: user %s from %s",
		    webusers_name_valid(name) ? name : "(bad name)", addr);
		return MOAT_EPERM;
	}
	g_hash_table_remove(a->fails, ukey);
	auth_sessions_prune(a, now);
	if (g_hash_table_size(a->sessions) >= AUTH_MAX_SESSIONS) {
		g_mutex_unlock(&a->lock);
		syslog(LOG_ERR, "login of %s refused: %u sessions open", name, AUTH_MAX_SESSIONS);
		return MOAT_EBUSY;
	}
	s = g_new0(struct auth_session, 1);
	g_strlcpy(s->name, name, sizeof(s->name));
	auth_hex_random(s->csrf, WEB_SID_LEN / 2);
	s->created = s->seen = now;
	auth_hex_random(sid, WEB_SID_LEN / 2);
	g_hash_table_insert(a->sessions, g_strdup(sid), s);
	g_mutex_unlock(&a->lock);
	syslog(LOG_NOTICE, "login: %s from %s", name, addr);
	return 0;
}

gboolean
web_auth_session(struct web_auth *a, struct web_identity *id, const char *sid, gint64 now)
{
	struct auth_session *s;
	struct webusers_user *u;
	gboolean ok = FALSE;

	if (!web_token_valid(sid))
		return FALSE;
	g_mutex_lock(&a->lock);
	if ((s = g_hash_table_lookup(a->sessions, sid)) == NULL)
		goto out;
	if (now - s->seen >= a->conf->web.session_ttl || now - s->created >= WEB_ABSOLUTE_TTL) {
		g_hash_table_remove(a->sessions, sid);
		goto out;
	}
	auth_users_fresh(a);
	if ((u = webusers_find(a->users, s->name)) == NULL) {
		g_hash_table_remove(a->sessions, sid);	/* deleted since: out at once */
		goto out;
	}
	s->seen = now;
	g_strlcpy(id->name, s->name, sizeof(id->name));
	id->role = u->role;
	memcpy(id->csrf, s->csrf, sizeof(id->csrf));
	g_strlcpy(id->sid, sid, sizeof(id->sid));
	ok = TRUE;
out:
	g_mutex_unlock(&a->lock);
	return ok;
}

gboolean
web_auth_proxy(struct web_auth *a, struct web_identity *id, const char *name)
{
	guint8 mac[crypto_auth_BYTES];
	struct webusers_user *u;
	gboolean ok = FALSE;

	if (!webusers_name_valid(name))
		return FALSE;
	g_mutex_lock(&a->lock);
	auth_users_fresh(a);
	if ((u = webusers_find(a->users, name)) != NULL) {
		g_strlcpy(id->name, name, sizeof(id->name));
		id->role = u->role;
		id->sid[0] = '\0';
		crypto_auth(mac, (const guint8 *)name, strlen(name), a->proxy_key);
		sodium_bin2hex(id->csrf, sizeof(id->csrf), mac, WEB_SID_LEN / 2);
		ok = TRUE;
	}
	g_mutex_unlock(&a->lock);
	return ok;
}

void
web_auth_logout(struct web_auth *a, const char *sid)
{
	if (!web_token_valid(sid))
		return;
	g_mutex_lock(&a->lock);
	g_hash_table_remove(a->sessions, sid);
	g_mutex_unlock(&a->lock);
}

gboolean
web_auth_csrf_ok(const struct web_identity *id, const char *token)
{
	return web_token_valid(token) && web_token_valid(id->csrf) &&
	    sodium_memcmp(token, id->csrf, WEB_SID_LEN) == 0;
}

gboolean
web_auth_trusted(const struct web_auth *a, const char *addr)
{
	char *const *nets = a->conf->web.trusted_proxy;

	if (nets == NULL || nets[0] == NULL || addr == NULL)
		return FALSE;
	return lists_network_match(nets, strcmp(addr, "unix") == 0 ? "127.0.0.1" : addr) != NULL;
}
