/*
 * scan.c - scan_message(): the analysis pipeline
 *
 * In: one message on a GMimeStream, an optional envelope, the config.
 * Out: a report with inventory, findings and verdict. Order: MIME
 * inventory (each leaf walked by libclamav as it is decoded), then the
 * derive stage (files smuggled in pages and encrypted members the body's
 * password opens, walked while the engine is held; the judgement of what
 * stays encrypted), then name and type checks per part, then the lure
 * detectors over the whole tree, then (when asked) sender authentication,
 * then the policy.
 * Knows nothing of the milter protocol. Reentrant after scan_init().
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat/auth.h"
#include "moat/av.h"
#include "moat/derive.h"
#include "moat/lure.h"
#include "moat/mime.h"
#include "moat/moat.h"
#include "moat/names.h"
#include "moat/policy.h"
#include "moat/scan.h"
#include "moat/walk.h"

void
scan_init(void)
{
	/*
	 * Names inside archives are converted to UTF-8 by libarchive through
	 * the C library's locale: in the "C" locale a 7z or RAR name outside
	 * ASCII cannot be converted at all. Every moat program starts here.
	 */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	mime_init();
	av_init();
}

int
scan_message(struct moat_report **out, char **err_out, GMimeStream *stream,
    const struct moat_envelope *env, const struct moat_conf *conf)
{
	return scan_message_opts(out, err_out, stream, env, conf, NULL);
}

int
scan_message_opts(struct moat_report **out, char **err_out, GMimeStream *stream,
    const struct moat_envelope *env, const struct moat_conf *conf, const struct scan_opts *opts)
{
	struct moat_report *rep = report_new();
	struct cl_engine *engine = conf->av.enabled ? av_acquire() : NULL;
	struct walk *walk = engine != NULL ? walk_new(rep, conf, engine) : NULL;
	struct moat_leaf_hook hook = { walk_leaf, walk };
	g_autofree char *err = NULL;
	int rc;

	rep->deadline = g_get_monotonic_time() + (gint64)conf->limits.scan_budget_ms * 1000;
	if (env != NULL)
		report_envelope_copy(&rep->env, env);
	/* The walk scans each leaf as the inventory decodes it: no part goes unscanned. */
	rc = mime_inventory(rep, stream, conf, walk != NULL ? &hook : NULL);
	if (rc >= 0)
		derive_message(rep, conf, walk);
	if (walk_finish(walk, &err) < 0) {
		rc = rc < 0 ? rc : MOAT_EIO;
		if (err_out != NULL)
			*err_out = g_steal_pointer(&err);
	}
	av_release(engine);
	if (rc < 0)
		goto out;
	for (guint i = 0; i < rep->parts->len; i++)
		names_check_part(rep, rep->parts->pdata[i]);
	lure_check(rep, conf);
	if (opts != NULL && opts->auth)
		auth_check(rep, stream, conf, opts->dns);
	policy_decide(rep, conf);
	*out = rep;
	rep = NULL;		/* the caller owns it now */
	rc = 0;
out:
	report_free(rep);
	return rc;
}

int
scan_bytes(struct moat_report **out, const void *data, gsize len,
    const struct moat_envelope *env, const struct moat_conf *conf)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	int rc = scan_message(out, NULL, stream, env, conf);

	g_object_unref(stream);
	return rc;
}

/*
 * scan_read_fd - all of FD in a memory stream: pipes and terminals have no
 * length and cannot be rewound, and the inventory needs both.
 */
static GMimeStream *
scan_read_fd(char **err, int fd, const char *name)
{
	GByteArray *buf = g_byte_array_new();
	guint8 chunk[65536];
	ssize_t n;
	GMimeStream *mem;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			*err = g_strdup_printf("%s: %s", name, g_strerror(e));
			g_byte_array_unref(buf);
			return NULL;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	mem = g_mime_stream_mem_new_with_byte_array(buf);	/* takes BUF */
	return mem;
}

/* scan_open_file - a read-only stream on PATH: mapped when it is a non-empty file */
static GMimeStream *
scan_open_file(char **err, const char *path)
{
	GMimeStream *s = NULL;
	struct stat st;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		e = errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		e = EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (s = g_mime_stream_mmap_new(fd, PROT_READ, MAP_PRIVATE)) != NULL) {
		g_mime_stream_mmap_set_owner(GMIME_STREAM_MMAP(s), TRUE);	/* takes FD */
		return s;
	}
	if (!S_ISREG(st.st_mode)) {
		s = scan_read_fd(err, fd, path);
		close(fd);
		return s;
	}
	return g_mime_stream_fs_new(fd);	/* takes FD */
fail:
	*err = g_strdup_printf("%s: %s", path, g_strerror(e));
	if (fd >= 0)
		close(fd);
	return NULL;
}

int
scan_file(struct moat_report **out, char **err, const char *path, const struct moat_conf *conf)
{
	return scan_file_env(out, err, path, NULL, conf);
}

int
scan_file_env(struct moat_report **out, char **err, const char *path,
    const struct moat_envelope *env, const struct moat_conf *conf)
{
	return scan_file_opts(out, err, path, env, conf, NULL);
}

int
scan_file_opts(struct moat_report **out, char **err, const char *path,
    const struct moat_envelope *env, const struct moat_conf *conf, const struct scan_opts *opts)
{
	GMimeStream *stream;
	g_autofree char *why = NULL;
	int rc;

	if (strcmp(path, "-") == 0)
		stream = scan_read_fd(err, STDIN_FILENO, "-");
	else
		stream = scan_open_file(err, path);
	if (stream == NULL)
		return MOAT_EIO;
	rc = scan_message_opts(out, &why, stream, env, conf, opts);
	g_object_unref(stream);
	if (rc == 0)
		(*out)->source = g_strdup(path);
	else
		*err = g_strdup_printf("%s: %s%s%s", path, moat_strerror(rc), why ? ": " : "",
		    why ? why : "");
	return rc;
}
