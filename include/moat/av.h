/*
 * av.h - libclamav: one engine shared by every scan, swapped on reload
 *
 * av_load() compiles an engine from the configured signature directories
 * with every limit set from [containers] and [limits], then makes it the
 * current one. Scans take a reference (av_acquire), so a reload never
 * waits for them and never frees an engine under a running scan: the old
 * engine goes when its last scan releases it (cl_engine_addref and
 * cl_engine_free count references). With the public databases an engine
 * holds about 1 GB, and two exist while a reload overlaps running scans.
 *
 * av_scan() runs one buffer through an engine and reports each file
 * libclamav opens inside it (container members, at any depth) and each
 * signature that matched, through the hooks given. Reentrant.
 */
#ifndef MOAT_AV_H
#define MOAT_AV_H

#include <glib.h>
#include <stdint.h>

#include "moat/conf.h"

struct cl_engine;

/* One file libclamav is about to scan: the buffer itself (level 0) or a member. */
struct av_file {
	const char *type;		/* libclamav's type without "CL_TYPE_", lower-case, interned */
	const char *name;		/* name inside the container, or NULL */
	const char *const *ancestors;	/* names of the LEVEL levels above it, each may be NULL */
	guint level;			/* 0: the buffer given to av_scan() */
	const guint8 *data;		/* the whole file, valid during the hook */
	gsize size;
	gboolean normalized;		/* a normalised copy (HTML, script), not a real file */
};

enum av_verdict { AV_SCAN = 0, AV_SKIP };	/* what a file hook wants done with the file */

/*
 * The hooks. file() may set *TOKEN to what identifies the file for the
 * caller (a member, say); left NULL, the file takes the token of the file
 * it is inside. match() gets the token of the innermost file being scanned
 * when the signature matched (NULL before any): libclamav reports a file's
 * end (its post-scan callback) even when file() skipped it, so the files in
 * progress are a stack.
 */
struct av_hooks {
	enum av_verdict (*file)(void *ctx, const struct av_file *f, void **token);
	void (*match)(void *ctx, void *token, const char *signature);
};

/* av_init - initialise libclamav; once per process, before anything else here */
void av_init(void);

/*
 * av_load - compile an engine for CONF and make it the current one. Missing,
 * unreadable or empty signature directories are skipped and named in *warn
 * (one line for the log, "[av] signature_dirs: ..."; caller g_free()s; NULL
 * when none) - on the first load; an [av] temp_dir that is no directory is
 * named there too (libclamav then writes in [milter] spool_dir). A reload (an
 * engine is current) never loses signatures by accident: when a directory
 * the current engine has signatures from, and CONF still names, would be
 * skipped, or gives fewer signatures from the same database files (one cut
 * short by an update), it fails and the current engine stays. A directory
 * CONF no longer names, or a database file removed whole, is a change on
 * purpose. Returns 0, or MOAT_EIO with *err set when libclamav fails or a
 * reload would lose signatures; the current engine then stays. With [av]
 * enabled = no the current engine is dropped and 0 is returned.
 */
int av_load(const struct moat_conf *conf, char **err, char **warn);

/*
 * av_stale - whether the signature directories of CONF changed (a file
 * added, removed, resized or rewritten) since the current engine was
 * loaded: then av_load() again. FALSE with [av] enabled = no.
 */
gboolean av_stale(const struct moat_conf *conf);

/* av_acquire - the current engine with a reference, or NULL when none is loaded */
struct cl_engine *av_acquire(void);
/* av_release - drop a reference av_acquire() gave; NULL is a no-op */
void av_release(struct cl_engine *engine);
/* av_unload - drop the current engine (at exit); scans holding it finish first */
void av_unload(void);
/* av_signatures - signatures in the current engine, 0 when none is loaded */
guint av_signatures(void);

/*
 * av_scan - scan LEN bytes at DATA, named NAME, with ENGINE, calling HOOKS
 * with CTX. Returns 0 when the scan ran to the end (matches or not; a
 * buffer of 5 bytes or fewer, which libclamav ignores, calls no hook),
 * MOAT_EIO with *err set on an internal error (memory, temp files: the
 * message should be tempfailed), or MOAT_EINVAL with *err set when
 * libclamav could not parse the data (corrupt input: a finding, not a failure).
 */
int av_scan(struct cl_engine *engine, const void *data, gsize len, const char *name,
    const struct av_hooks *hooks, void *ctx, char **err);

#endif
