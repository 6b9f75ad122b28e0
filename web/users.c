/*
 * users.c - moat-web's users file (webusers.h): read, write, hash, verify
 *
 * In: the file [web] users names. Out: users with their roles and Argon2id
 * hashes (libsodium crypto_pwhash_str, interactive limits: about 64 MiB
 * and a tenth of a second per check). Linked into moat (moat web user) and
 * moat-web. A file is at most WEBUSERS_MAX lines of at most 1 KiB each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "moat/moat.h"
#include "moat/webusers.h"

#define WEBUSERS_LINE_MAX 1024

static const char *const webusers_roles[WEBUSERS_NROLES] = { "admin", "reviewer", "auditor" };

int
webusers_init(void)
{
	return sodium_init() < 0 ? MOAT_EINTERNAL : 0;
}

const char *
webusers_role_name(enum webusers_role r)
{
	return (unsigned)r < WEBUSERS_NROLES ? webusers_roles[r] : "none";
}

int
webusers_role_parse(const char *name)
{
	for (int i = 0; i < WEBUSERS_NROLES; i++)
		if (name != NULL && strcmp(name, webusers_roles[i]) == 0)
			return i;
	return -1;
}

gboolean
webusers_name_valid(const char *name)
{
	gsize n;

	if (name == NULL || (n = strlen(name)) == 0 || n > WEBUSERS_NAME_MAX)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-' && *p != '@')
			return FALSE;
	return TRUE;
}

void
webusers_user_free(struct webusers_user *u)
{
	if (u == NULL)
		return;
	g_free(u->name);
	if (u->hash != NULL)
		sodium_memzero(u->hash, strlen(u->hash));
	g_free(u->hash);
	g_free(u);
}

struct webusers_user *
webusers_find(const GPtrArray *users, const char *name)
{
	for (guint i = 0; users != NULL && name != NULL && i < users->len; i++)
		if (strcmp(((struct webusers_user *)users->pdata[i])->name, name) == 0)
			return users->pdata[i];
	return NULL;
}

/* webusers_parse_line - "name:role:hash" into a new user, or NULL */
static struct webusers_user *
webusers_parse_line(const char *line)
{
	g_auto(GStrv) f = g_strsplit(line, ":", 3);
	struct webusers_user *u;
	int role;

	if (g_strv_length(f) != 3 || !webusers_name_valid(f[0]) ||
	    (role = webusers_role_parse(f[1])) < 0 || !g_str_has_prefix(f[2], "$argon2") ||
	    strlen(f[2]) >= crypto_pwhash_STRBYTES)
		return NULL;
	u = g_new0(struct webusers_user, 1);
	u->name = g_strdup(f[0]);
	u->role = (enum webusers_role)role;
	u->hash = g_strdup(f[2]);
	return u;
}

int
webusers_load(GPtrArray **out, char **err, const char *path)
{
	g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func((GDestroyNotify)webusers_user_free);
	char line[WEBUSERS_LINE_MAX + 2];
	FILE *fp = fopen(path, "re");
	guint lineno = 0;
	int rc = MOAT_EPARSE;

	if (fp == NULL) {
		int e = errno;

		if (e == ENOENT) {
			*out = g_steal_pointer(&users);
			return 0;
		}
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		return MOAT_EIO;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct webusers_user *u;
		gsize n = strlen(line);

		lineno++;
		if (n > WEBUSERS_LINE_MAX || (n > 0 && line[n - 1] != '\n' && !feof(fp))) {
			*err = g_strdup_printf("%s:%u: line too long", path, lineno);
			goto out;
		}
		g_strchomp(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (users->len >= WEBUSERS_MAX) {
			*err = g_strdup_printf("%s: more than %u users", path, WEBUSERS_MAX);
			goto out;
		}
		if ((u = webusers_parse_line(line)) == NULL) {
			*err = g_strdup_printf("%s:%u: not name:admin|reviewer|auditor:$argon2id$...",
			    path, lineno);
			goto out;
		}
		if (webusers_find(users, u->name) != NULL) {
			*err = g_strdup_printf("%s:%u: %s is there twice", path, lineno, u->name);
			webusers_user_free(u);
			goto out;
		}
		g_ptr_array_add(users, u);
	}
	if (ferror(fp)) {
		*err = g_strdup_printf("%s: read error", path);
		rc = MOAT_EIO;
		goto out;
	}
	*out = g_steal_pointer(&users);
	rc = 0;
out:
	sodium_memzero(line, sizeof(line));
	fclose(fp);
	return rc;
}

/* webusers_write_all - LEN bytes of BUF to FD */
static gboolean
webusers_write_all(int fd, const char *buf, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		buf += n;
		len -= (gsize)n;
	}
	return TRUE;
}

int
webusers_save(char **err, const char *path, const GPtrArray *users, gid_t gid)
{
	g_autofree char *tmp = g_strdup_printf("%s.tmp.%ld", path, (long)getpid());
	GString *text = g_string_new("# moat-web users (moat web user add|passwd|del): name:role:argon2id\n");
	struct stat st;
	gboolean have = stat(path, &st) == 0;
	int fd, rc = MOAT_EIO, e;

	for (guint i = 0; i < users->len; i++) {
		const struct webusers_user *u = users->pdata[i];

		g_string_append_printf(text, "%s:%s:%s\n", u->name, webusers_role_name(u->role), u->hash);
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", tmp, g_strerror(e));
		goto out;
	}
	/* the mode and group before the hashes go in: never readable by others */
	if (fchmod(fd, have ? st.st_mode & 07777 : 0640) < 0 ||
	    fchown(fd, have ? st.st_uid : (uid_t)-1, have ? st.st_gid : gid) < 0 ||
	    !webusers_write_all(fd, text->str, text->len) || fsync(fd) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", tmp, g_strerror(e));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(text->str, text->len);
	g_string_free(text, TRUE);
	return rc;
}

char *
webusers_hash(const char *password)
{
	char buf[crypto_pwhash_STRBYTES];

	if (crypto_pwhash_str(buf, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return NULL;
	return g_strdup(buf);
}

gboolean
webusers_verify(const char *hash, const char *password)
{
	return hash != NULL && password != NULL &&
	    crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
