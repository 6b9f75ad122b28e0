/*
 * files.c - the quarantine's message files: DIR/msg/XY/ID, XY the id's first two characters
 *
 * A message is copied (never linked: the store may sit on another file
 * system than moatd's spool) into DIR/tmp under a temp name, synced,
 * renamed into its shard and the shard synced, so that after a crash a
 * file is either whole under its final name or not there at all. Folders
 * are 2770 (setgid: everything takes the store's group), files 0660,
 * whatever the umask. 4096 shards, all made with the store, keep any
 * folder small.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "moat/moat.h"
#include "backend.h"

#define FILES_DIR_MODE 02770
#define FILES_FILE_MODE 0660
#define FILES_CHUNK (64 * 1024)

/* files_sync_dir - fsync the folder PATH, so a rename or a new entry in it survives a crash */
static int
files_sync_dir(char **err, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e;

	if (fd < 0 || fsync(fd) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: sync: %s", path, g_strerror(e));
		if (fd >= 0)
			close(fd);
		return MOAT_EIO;
	}
	close(fd);
	return 0;
}

/* files_mkdir - make PATH 2770 (when CREATE; else it must be there), with GROUP when given */
static int
files_mkdir(char **err, const char *path, gboolean create, const char *group)
{
	struct stat st;
	int e;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			*err = g_strdup_printf("%s: not a directory", path);
			return MOAT_EIO;
		}
		return 0;
	}
	e = errno;
	if (e != ENOENT || !create) {
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		return e == ENOENT ? MOAT_ENOENT : MOAT_EIO;
	}
	/* mkdir() drops the setgid bit and applies the umask: chmod says what we mean. */
	if ((mkdir(path, FILES_DIR_MODE) < 0 && errno != EEXIST) || chmod(path, FILES_DIR_MODE) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		return MOAT_EIO;
	}
	if (group != NULL && *group != '\0') {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
			*err = g_strdup_printf("%s: no group '%s' ([quarantine] admin_group)", path, group);
			return MOAT_EINVAL;
		}
		/* chown drops the setgid bit again for a non-root caller. */
		if (chown(path, (uid_t)-1, gr.gr_gid) < 0 || chmod(path, FILES_DIR_MODE) < 0) {
			e = errno;
			*err = g_strdup_printf("%s: group %s: %s", path, group, g_strerror(e));
			return MOAT_EIO;
		}
	}
	return 0;
}

/*
 * quar_files_prepare - with CREATE, every shard too, synced once: a shard
 * made later by one thread could be used by another before its entry in
 * msg/ is on disk, and a crash would lose that message with the shard
 */
int
quar_files_prepare(char **err, const char *dir, gboolean create, const char *group)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	g_autofree char *msg = g_build_filename(dir, "msg", NULL);
	g_autofree char *tmp = g_build_filename(dir, "tmp", NULL);
	gboolean made = FALSE;
	int rc;

	if ((rc = files_mkdir(err, dir, create, group)) < 0 ||
	    (rc = files_mkdir(err, msg, create, NULL)) < 0 ||
	    (rc = files_mkdir(err, tmp, create, NULL)) < 0)
		return rc;
	for (int i = 0; create && i < 64; i++) {
		for (int k = 0; k < 64; k++) {
			char name[3] = { b64[i], b64[k], '\0' };
			g_autofree char *shard = g_build_filename(msg, name, NULL);

			if (g_file_test(shard, G_FILE_TEST_IS_DIR))
				continue;
			if ((rc = files_mkdir(err, shard, TRUE, NULL)) < 0)
				return rc;
			made = TRUE;
		}
	}
	return made ? files_sync_dir(err, msg) : 0;
}

char *
quar_files_path(const char *dir, const char *id)
{
	char shard[3] = { id[0], id[0] != '\0' ? id[1] : '\0', '\0' };

	return g_build_filename(dir, "msg", shard, id, NULL);
}

/* files_write_all - LEN bytes to FD; an errno on failure, else 0 */
static int
files_write_all(int fd, const guint8 *p, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (gsize)n;
	}
	return 0;
}

/* files_copy - SRC into FD; *SIZE the bytes; an errno on failure, else 0 */
static int
files_copy(guint64 *size, int fd, const struct quar_source *src)
{
	g_autofree guint8 *buf = NULL;
	off_t off = 0;
	int e;

	if (src->data != NULL) {
		*size = src->len;
		return files_write_all(fd, src->data, src->len);
	}
	buf = g_malloc(FILES_CHUNK);
	for (;;) {
		ssize_t n = pread(src->fd, buf, FILES_CHUNK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		if ((e = files_write_all(fd, buf, (gsize)n)) != 0)
			return e;
		off += n;
	}
	*size = (guint64)off;
	return 0;
}

int
quar_files_write(guint64 *size, char **err, const char *dir, const char *id,
    const struct quar_source *src)
{
	g_autofree char *tmp = g_strdup_printf("%s/tmp/%s.XXXXXX", dir, id);
	g_autofree char *final = quar_files_path(dir, id);
	g_autofree char *shard = g_path_get_dirname(final);
	g_autofree char *msgdir = g_path_get_dirname(shard);
	gboolean new_shard = !g_file_test(shard, G_FILE_TEST_IS_DIR);
	int fd, e = 0, rc;

	g_assert(quar_id_valid(id));	/* made by quar_put() */
	if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, FILES_FILE_MODE)) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", tmp, g_strerror(e));
		return MOAT_EIO;
	}
	if (fchmod(fd, FILES_FILE_MODE) < 0 || (e = files_copy(size, fd, src)) != 0 || fsync(fd) < 0) {
		e = e != 0 ? e : errno;
		*err = g_strdup_printf("%s: %s", tmp, g_strerror(e));
		close(fd);
		unlink(tmp);
		return MOAT_EIO;
	}
	if (close(fd) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", tmp, g_strerror(e));
		unlink(tmp);
		return MOAT_EIO;
	}
	if ((new_shard && ((rc = files_mkdir(err, shard, TRUE, NULL)) < 0 ||
	    (rc = files_sync_dir(err, msgdir)) < 0))) {
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, final) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", final, g_strerror(e));
		unlink(tmp);
		return MOAT_EIO;
	}
	if ((rc = files_sync_dir(err, shard)) < 0) {
		unlink(final);
		return rc;
	}
	return 0;
}

int
quar_files_remove(char **err, const char *dir, const char *id)
{
	g_autofree char *path = NULL, *shard = NULL;
	int e;

	/* ids come back from the index: one that is not an id never names a path */
	if (!quar_id_valid(id)) {
		*err = g_strdup_printf("%s: '%s' in the index is not a quarantine id", dir, id);
		return MOAT_EINVAL;
	}
	path = quar_files_path(dir, id);
	shard = g_path_get_dirname(path);

	if (unlink(path) < 0) {
		e = errno;
		if (e == ENOENT)
			return 0;
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		return MOAT_EIO;
	}
	return files_sync_dir(err, shard);
}
