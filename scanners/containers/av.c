/*
 * av.c - libclamav: load, share, reload and use one scanning engine
 *
 * In: the config (signature directories, limits). Out: a compiled engine
 * that scans buffers and reports every file it opens inside them through
 * the caller's hooks. The current engine sits behind a mutex; a scan takes
 * a libclamav reference to it, so av_load() can swap in a new one while
 * scans run on the old; a new one that would lose signatures the current
 * one has from a directory still configured (unreadable, gone, emptied,
 * cut short) is not swapped in (av_losses). Thread-safe.
 *
 * Heuristics, chosen for a mail gateway:
 *  - on: limit alerts (Heuristics.Limits.Exceeded.*), which become moat's
 *    container.* findings: past a limit a member is not scanned, so it must
 *    not pass as clean;
 *  - off: encrypted archives and documents (moat reports container.encrypted
 *    itself, per member), macros (libclamav flags every macro document; the
 *    macro lure checks are moat's own), phishing (needs the public
 *    databases and a URL list, and duplicates moat's header checks),
 *    broken executables and media (false positives on truncated downloads),
 *    structured data (DLP is not this filter's job).
 * All-match mode is on: the scan goes on after a match, so the inventory of
 * a malicious attachment is as complete as that of a clean one.
 *
 * Flash (SWF) is not parsed: libclamav sizes its decompression buffer by
 * the header's declared length before any limit applies (fuzz_walk: an
 * 891-byte "ZWS" file asked for 704 MB), and no browser has run Flash since
 * 2021. An SWF is still matched as bytes like any other file.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clamav.h>

#include "moat/av.h"
#include "moat/confkeys.h"
#include "moat/moat.h"

/* [av]: libclamav (conf->av), parsed by conf.c */
static const struct conf_key av_conf_keys[] = {
	{ "av", "enabled", CONF_BOOL, CONF_OFF(av.enabled), "yes", 0, 1,
	    "Scan every decoded part with libclamav and inventory what is inside containers; "
	    "no: MIME checks only." },
	{ "av", "signature_dirs", CONF_STRING, CONF_OFF(av.signature_dirs),
	    "/var/lib/clamav;" MOAT_DATADIR "/signatures", 0, 4096,
	    "ClamAV database directories, separated by ';' (.cvd .cld .ndb .ldb .hdb .hsb .yar ...). "
	    "A missing directory is skipped with a warning. freshclam keeps /var/lib/clamav current; "
	    "moat's own signatures are installed in the second." },
	{ "av", "check_seconds", CONF_UINT, CONF_OFF(av.check_seconds), "60", 0, 86400,
	    "moatd looks this often for changed files in signature_dirs (freshclam) and then "
	    "reloads the engine; 0: only on SIGHUP." },
	{ "av", "temp_dir", CONF_STRING, CONF_OFF(av.temp_dir), "", 0, 1024,
	    "Where libclamav makes a directory per scan and writes what it extracts; empty: "
	    "[milter] spool_dir. On a disk file system the inode churn costs half of moatd's "
	    "CPU: give it a size-capped tmpfs (moatd.service: /run/moat/scan). A full one "
	    "tempfails mail, never passes it unscanned; one that is no directory gives a "
	    "warning and spool_dir." },
};

const struct conf_group av_conf_group = CONF_GROUP("av", av_conf_keys);

static GMutex av_lock;

/*
 * av_temp_dir - where libclamav writes: [av] temp_dir, else [milter]
 * spool_dir. A temp_dir that is no directory (moatd.service makes
 * /run/moat/scan; `moat scan` may run where moatd does not) falls back to
 * spool_dir, and *WHY (when not NULL) says so, for the log.
 */
static const char *
av_temp_dir(const struct moat_conf *conf, char **why)
{
	if (*conf->av.temp_dir == '\0')
		return conf->milter.spool_dir;
	if (g_file_test(conf->av.temp_dir, G_FILE_TEST_IS_DIR))
		return conf->av.temp_dir;
	if (why != NULL)
		*why = g_strdup_printf("[av] temp_dir %s is no directory: libclamav writes in "
		    "[milter] spool_dir %s", conf->av.temp_dir, conf->milter.spool_dir);
	return conf->milter.spool_dir;
}
static struct cl_engine *av_current;	/* one reference held here */
static guint av_nsigs;
static char *av_print;			/* av_fingerprint() of the loaded directories */
static char *av_failed;			/* av_fingerprint() of the last load that failed */
static GPtrArray *av_dirs;		/* struct av_dir: those the current engine has signatures from */

/* What the libclamav callbacks get as their context: the caller's hooks. */
struct av_call {
	const struct av_hooks *hooks;
	void *ctx;
	gboolean scanned;	/* libclamav reported the buffer itself (level 0) */
	GPtrArray *open;	/* tokens of the files being scanned, innermost last */
};

/* av_innermost - the token of the innermost file being scanned, or NULL */
static void *
av_innermost(const struct av_call *call)
{
	return call->open->len > 0 ? call->open->pdata[call->open->len - 1] : NULL;
}

/* av_type_name - "CL_TYPE_MSEXE" as "msexe", interned (lives as long as the process) */
static const char *
av_type_name(const char *type)
{
	char buf[64];
	gsize i;

	if (type == NULL)
		return NULL;
	if (g_str_has_prefix(type, "CL_TYPE_"))
		type += 8;
	for (i = 0; type[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = g_ascii_tolower(type[i]);
	buf[i] = '\0';
	return g_intern_string(buf);
}

static cl_error_t
av_cb_file(int fd, const char *type, const char **ancestors, size_t parent_size,
    const char *name, size_t size, const char *buffer, uint32_t level,
    uint32_t attributes, void *context)
{
	struct av_call *call = context;
	struct av_file f = {
		.type = av_type_name(type),
		.name = name,
		.ancestors = ancestors,
		.level = level,
		.data = (const guint8 *)buffer,
		.size = size,
		.normalized = (attributes & LAYER_ATTRIBUTES_NORMALIZED) != 0,
	};
	enum av_verdict v = AV_SCAN;
	void *token = NULL;

	(void)fd;
	(void)parent_size;
	if (call == NULL)
		return CL_CLEAN;
	if (level == 0)
		call->scanned = TRUE;
	if (call->hooks->file != NULL && (buffer != NULL || size == 0))
		v = call->hooks->file(call->ctx, &f, &token);
	/* libclamav calls av_cb_post for this file, scanned or skipped: it is open until then */
	g_ptr_array_add(call->open, token != NULL ? token : av_innermost(call));
	return v == AV_SKIP ? CL_BREAK : CL_CLEAN;
}

static cl_error_t
av_cb_post(int fd, int result, const char *virname, void *context)
{
	struct av_call *call = context;

	(void)fd;
	(void)result;
	(void)virname;
	if (call != NULL && call->open->len > 0)
		g_ptr_array_set_size(call->open, call->open->len - 1);
	return CL_CLEAN;	/* the result stands */
}

static void
av_cb_match(int fd, const char *signature, void *context)
{
	struct av_call *call = context;

	(void)fd;
	if (call != NULL && call->hooks->match != NULL && signature != NULL)
		call->hooks->match(call->ctx, av_innermost(call), signature);
}

/* av_cb_msg - libclamav's own messages: errors to stderr, the rest dropped (they are per-file noise) */
static void
av_cb_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *context)
{
	(void)fullmsg;
	(void)context;
	if (severity == CL_MSG_ERROR)
		g_printerr("libclamav: %s", msg);
}

void
av_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		cl_set_clcb_msg(av_cb_msg);
		if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS)
			g_error("libclamav: cl_init failed");
		g_once_init_leave(&done, 1);
	}
}

/* av_set - one engine field, or a message naming it */
static char *
av_set(struct cl_engine *e, enum cl_engine_field field, const char *name, long long v)
{
	cl_error_t rc = cl_engine_set_num(e, field, v);

	return rc == CL_SUCCESS ? NULL :
	    g_strdup_printf("libclamav: cannot set %s: %s", name, cl_strerror(rc));
}

/* av_limits - every limit the engine has, from CONF; a message on failure */
static char *
av_limits(struct cl_engine *e, const struct moat_conf *conf)
{
	char *why;
	/*
	 * libclamav counts a decompression layer (the gz of a tar.gz) as a
	 * level too: moat's own walk stops at [containers] max_depth, and this
	 * limit, twice as deep, only backs it up.
	 */
	long long recursion = 2LL * conf->containers.max_depth + 2;

	/* libclamav applies MaxFileSize to the attachment too: never below what a message may hold */
	long long filesize = (long long)MIN(MAX(conf->containers.max_member_bytes,
	    conf->limits.max_message_bytes), G_GUINT64_CONSTANT(2047) << 20);

	if ((why = av_set(e, CL_ENGINE_MAX_SCANSIZE, "MaxScanSize",
	    (long long)conf->containers.max_expanded_bytes)) ||
	    (why = av_set(e, CL_ENGINE_MAX_FILESIZE, "MaxFileSize", filesize)) ||
	    (why = av_set(e, CL_ENGINE_MAX_RECURSION, "MaxRecursion", recursion)) ||
	    (why = av_set(e, CL_ENGINE_MAX_FILES, "MaxFiles", conf->containers.max_members)) ||
	    (why = av_set(e, CL_ENGINE_MAX_SCANTIME, "MaxScanTime", conf->limits.scan_budget_ms)) ||
	    /*
	     * libclamav's clean-file cache skips a file it has seen clean
	     * before, members and all: the second mail with the same zip would
	     * come out with an empty inventory. moat needs the walk every time.
	     */
	    (why = av_set(e, CL_ENGINE_DISABLE_CACHE, "DisableCache", 1)))
		return why;
	if (cl_engine_set_str(e, CL_ENGINE_TMPDIR, av_temp_dir(conf, NULL)) != CL_SUCCESS)
		return g_strdup_printf("libclamav: cannot set the temp directory %s",
		    av_temp_dir(conf, NULL));
	return NULL;
}

/* av_is_database - whether NAME is a file libclamav loads from a signature directory */
static gboolean
av_is_database(const char *name)
{
	static const char *const ext[] = {
		".cvd", ".cld", ".cud", ".ndb", ".ndu", ".ldb", ".ldu", ".hdb", ".hdu", ".hsb",
		".hsu", ".mdb", ".mdu", ".msb", ".msu", ".cdb", ".cbc", ".idb", ".ign", ".ign2",
		".fp", ".sfp", ".pdb", ".gdb", ".wdb", ".ftm", ".yar", ".yara", ".crb", ".cat",
		".pwdb", ".imp",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(ext); i++)
		if (g_str_has_suffix(name, ext[i]))
			return TRUE;
	return FALSE;
}

/* av_by_name - g_ptr_array_sort() hands over pointers to the elements */
static gint
av_by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * av_databases - the database files in DIR, sorted (readdir order is not
 * stable; freshclam's temp files and state are not databases), or NULL with
 * errno set when DIR cannot be read
 */
static GPtrArray *
av_databases(const char *dir)
{
	GPtrArray *names;
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((de = readdir(d)) != NULL)
		if (av_is_database(de->d_name))
			g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(d);
	g_ptr_array_sort(names, av_by_name);
	return names;
}

/* One signature directory as a load finds it. */
struct av_dir {
	char *path;
	char *why;		/* why the load skips it, or NULL */
	GPtrArray *names;	/* its database files (NULL when skipped) */
	guint nsigs;		/* signatures libclamav loaded from it */
};

static void
av_dir_free(gpointer p)
{
	struct av_dir *d = p;

	g_free(d->path);
	g_free(d->why);
	if (d->names != NULL)
		g_ptr_array_unref(d->names);
	g_free(d);
}

/* av_find_dirs - every signature directory of CONF, looked at: loadable, or why not */
static GPtrArray *
av_find_dirs(const struct moat_conf *conf)
{
	g_auto(GStrv) paths = g_strsplit(conf->av.signature_dirs, ";", -1);
	GPtrArray *dirs = g_ptr_array_new_with_free_func(av_dir_free);

	for (gsize i = 0; paths[i] != NULL; i++) {
		const char *path = g_strstrip(paths[i]);
		struct av_dir *d;
		struct stat st;

		if (*path == '\0')
			continue;
		d = g_new0(struct av_dir, 1);
		d->path = g_strdup(path);
		g_ptr_array_add(dirs, d);
		if (stat(path, &st) < 0)
			d->why = g_strdup(g_strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			d->why = g_strdup("not a directory");
		else if ((d->names = av_databases(path)) == NULL)
			d->why = g_strdup(g_strerror(errno));
		else if (d->names->len == 0)	/* libclamav complains about a dir without */
			d->why = g_strdup("no signature databases");
	}
	return dirs;
}

/* av_dir_find - the directory PATH in DIRS, or NULL */
static const struct av_dir *
av_dir_find(const GPtrArray *dirs, const char *path)
{
	for (guint i = 0; i < dirs->len; i++)
		if (strcmp(((const struct av_dir *)dirs->pdata[i])->path, path) == 0)
			return dirs->pdata[i];
	return NULL;
}

/* av_names_kept - whether every name in WAS (sorted) is in NOW (sorted) */
static gboolean
av_names_kept(const GPtrArray *was, const GPtrArray *now)
{
	guint k = 0;

	for (guint i = 0; i < was->len; i++) {
		while (k < now->len && strcmp(now->pdata[k], was->pdata[i]) < 0)
			k++;
		if (k == now->len || strcmp(now->pdata[k], was->pdata[i]) != 0)
			return FALSE;
	}
	return TRUE;
}

/*
 * av_losses - what loading DIRS would lose of the running engine: a
 * directory it has signatures from that the load skips (missing, unreadable,
 * emptied) or, once LOADED, that gives fewer signatures from the same files
 * (one cut short by an update). A directory the config no longer names and
 * a database file removed whole are changes on purpose, not losses. NULL
 * when nothing is lost (always, with no engine running); caller g_free()s.
 */
static char *
av_losses(const GPtrArray *dirs, gboolean loaded)
{
	GString *lost = g_string_new(NULL);

	g_mutex_lock(&av_lock);
	for (guint i = 0; av_dirs != NULL && i < av_dirs->len; i++) {
		const struct av_dir *was = av_dirs->pdata[i];
		const struct av_dir *now = av_dir_find(dirs, was->path);

		if (now == NULL)
			continue;
		if (now->why != NULL)
			g_string_append_printf(lost, "%s%s: %s", lost->len ? "; " : "", now->path, now->why);
		else if (loaded && now->nsigs < was->nsigs && av_names_kept(was->names, now->names))
			g_string_append_printf(lost, "%s%s: %u signatures from the same files (one cut "
			    "short?)", lost->len ? "; " : "", now->path, now->nsigs);
		else
			continue;
		g_string_append_printf(lost, ", where the running engine has %u", was->nsigs);
	}
	g_mutex_unlock(&av_lock);
	if (lost->len == 0) {
		g_string_free(lost, TRUE);
		return NULL;
	}
	g_string_prepend(lost, "[av] signature_dirs: ");
	g_string_append(lost, "; not loaded, so as not to scan with fewer signatures");
	return g_string_free(lost, FALSE);
}

/* av_load_dirs - every loadable directory of DIRS into E, counted in each and in *NSIGS */
static char *
av_load_dirs(struct cl_engine *e, GPtrArray *dirs, guint *nsigs)
{
	for (guint i = 0; i < dirs->len; i++) {
		struct av_dir *d = dirs->pdata[i];
		unsigned int n = 0;
		cl_error_t rc;

		if (d->why != NULL)
			continue;
		if ((rc = cl_load(d->path, e, &n, CL_DB_BYTECODE)) != CL_SUCCESS)
			return g_strdup_printf("libclamav: loading %s: %s", d->path, cl_strerror(rc));
		d->nsigs = n;
		*nsigs += n;
	}
	return NULL;
}

/* av_skipped - the directories of DIRS the load skipped, and why; NULL when none */
static char *
av_skipped(const GPtrArray *dirs)
{
	GString *warn = g_string_new(NULL);

	for (guint i = 0; i < dirs->len; i++) {
		const struct av_dir *d = dirs->pdata[i];

		if (d->why != NULL)
			g_string_append_printf(warn, "%s%s: %s, skipped", warn->len ? "; " : "",
			    d->path, d->why);
	}
	if (warn->len == 0) {
		g_string_free(warn, TRUE);
		return NULL;
	}
	g_string_prepend(warn, "[av] signature_dirs: ");
	return g_string_free(warn, FALSE);
}

/*
 * av_fingerprint - name, size and mtime of every file in the signature
 * directories of CONF: freshclam replaces files whole, so a changed
 * fingerprint means new signatures. Caller g_free()s.
 */
static char *
av_fingerprint(const struct moat_conf *conf)
{
	g_auto(GStrv) dirs = g_strsplit(conf->av.signature_dirs, ";", -1);
	GString *fp = g_string_new(NULL);

	for (gsize i = 0; dirs[i] != NULL; i++) {
		const char *dir = g_strstrip(dirs[i]);
		g_autoptr(GPtrArray) names = *dir != '\0' ? av_databases(dir) : NULL;

		g_string_append_printf(fp, "%s:", dir);
		for (guint k = 0; names != NULL && k < names->len; k++) {
			g_autofree char *path = g_build_filename(dir, names->pdata[k], NULL);
			struct stat st;

			if (stat(path, &st) == 0)
				g_string_append_printf(fp, "%s/%lld/%lld.%09ld;", (char *)names->pdata[k],
				    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				    st.st_mtim.tv_nsec);
		}
		g_string_append_c(fp, '\n');
	}
	return g_string_free(fp, FALSE);
}

gboolean
av_stale(const struct moat_conf *conf)
{
	g_autofree char *now = NULL;
	gboolean stale;

	if (!conf->av.enabled)
		return FALSE;
	now = av_fingerprint(conf);
	g_mutex_lock(&av_lock);
	/* A load that failed is not tried again until the files change once more. */
	stale = (av_print == NULL || strcmp(now, av_print) != 0) &&
	    (av_failed == NULL || strcmp(now, av_failed) != 0);
	g_mutex_unlock(&av_lock);
	return stale;
}

/*
 * av_load_builtin - moat's EICAR signature, when no directory had any:
 * libclamav scans about twice as slowly with an engine no database was
 * ever loaded into, and an EICAR test should work on any gateway. cl_load()
 * takes files only, so the one line goes through a temp file in DIR ($TMPDIR
 * or /tmp: the spool directory may be the very thing that is broken).
 */
static char *
av_load_builtin(struct cl_engine *e, const char *dir, guint *nsigs)
{
	static const char ndb[] = "Moat.Test.EICAR:0:0:"
	    "58354f2150254041505b345c505a58353428505e2937434329377d24"
	    "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a\n";
	g_autofree char *path = g_build_filename(dir, "moat-builtin-XXXXXX.ndb", NULL);
	unsigned int n = 0;
	cl_error_t rc;
	int fd = g_mkstemp(path);

	if (fd < 0)
		return g_strdup_printf("cannot write the built-in signature in %s: %s", dir,
		    g_strerror(errno));
	if (write(fd, ndb, sizeof(ndb) - 1) != (ssize_t)(sizeof(ndb) - 1)) {
		int e2 = errno;

		close(fd);
		unlink(path);
		return g_strdup_printf("cannot write the built-in signature in %s: %s", dir,
		    g_strerror(e2));
	}
	close(fd);
	rc = cl_load(path, e, &n, CL_DB_BYTECODE);
	unlink(path);
	if (rc != CL_SUCCESS)
		return g_strdup_printf("libclamav: the built-in signature: %s", cl_strerror(rc));
	*nsigs += n;
	return NULL;
}

int
av_load(const struct moat_conf *conf, char **err, char **warn)
{
	char *print;
	g_autoptr(GPtrArray) dirs = NULL;
	GPtrArray *old_dirs;
	struct cl_engine *e, *old;
	guint nsigs = 0;
	char *why;

	*warn = NULL;
	if (!conf->av.enabled) {
		av_unload();
		return 0;
	}
	av_init();
	print = av_fingerprint(conf);	/* before loading: a change during the load shows next time */
	if ((e = cl_engine_new()) == NULL) {
		g_free(print);
		*err = g_strdup("libclamav: cannot create an engine");
		return MOAT_EIO;
	}
	dirs = av_find_dirs(conf);
	if ((why = av_limits(e, conf)) != NULL ||
	    (why = av_losses(dirs, FALSE)) != NULL ||	/* before the long part */
	    (why = av_load_dirs(e, dirs, &nsigs)) != NULL ||
	    (why = av_losses(dirs, TRUE)) != NULL ||
	    (nsigs == 0 && (why = av_load_builtin(e, g_get_tmp_dir(), &nsigs)) != NULL))
		goto fail;
	cl_engine_set_clcb_file_inspection(e, av_cb_file);
	cl_engine_set_clcb_post_scan(e, av_cb_post);
	cl_engine_set_clcb_virus_found(e, av_cb_match);
	if (cl_engine_compile(e) != CL_SUCCESS) {
		why = g_strdup("libclamav: the signatures do not compile");
		goto fail;
	}
	*warn = av_skipped(dirs);
	if (av_temp_dir(conf, &why) != NULL && why != NULL) {
		char *both = *warn != NULL ? g_strdup_printf("%s; %s", *warn, why) : g_strdup(why);

		g_free(*warn);
		g_free(why);
		*warn = both;
	}
	for (guint i = dirs->len; i-- > 0;)	/* what the new engine has signatures from */
		if (((struct av_dir *)dirs->pdata[i])->nsigs == 0)
			g_ptr_array_remove_index(dirs, i);
	g_mutex_lock(&av_lock);
	old = av_current;
	av_current = e;
	av_nsigs = nsigs;
	old_dirs = av_dirs;
	av_dirs = g_steal_pointer(&dirs);
	g_free(av_print);
	av_print = print;
	g_mutex_unlock(&av_lock);
	if (old_dirs != NULL)
		g_ptr_array_unref(old_dirs);
	if (old != NULL)
		cl_engine_free(old);	/* freed for real when its last scan releases it */
	return 0;
fail:
	cl_engine_free(e);
	g_mutex_lock(&av_lock);
	g_free(av_failed);
	av_failed = print;
	g_mutex_unlock(&av_lock);
	*err = why;
	return MOAT_EIO;
}

struct cl_engine *
av_acquire(void)
{
	struct cl_engine *e;

	g_mutex_lock(&av_lock);
	if ((e = av_current) != NULL && cl_engine_addref(e) != CL_SUCCESS)
		e = NULL;
	g_mutex_unlock(&av_lock);
	return e;
}

void
av_release(struct cl_engine *engine)
{
	if (engine != NULL)
		cl_engine_free(engine);
}

void
av_unload(void)
{
	struct cl_engine *old;
	GPtrArray *old_dirs;

	g_mutex_lock(&av_lock);
	old = av_current;
	av_current = NULL;
	av_nsigs = 0;
	old_dirs = av_dirs;
	av_dirs = NULL;
	g_clear_pointer(&av_print, g_free);
	g_mutex_unlock(&av_lock);
	if (old_dirs != NULL)
		g_ptr_array_unref(old_dirs);
	av_release(old);
}

guint
av_signatures(void)
{
	guint n;

	g_mutex_lock(&av_lock);
	n = av_current != NULL ? av_nsigs : 0;
	g_mutex_unlock(&av_lock);
	return n;
}

/* av_internal - whether RC is the scanner's own failure rather than bad input */
static gboolean
av_internal(cl_error_t rc)
{
	switch (rc) {
	case CL_EMEM: case CL_ETMPFILE: case CL_ETMPDIR: case CL_EWRITE: case CL_ECREAT:
	case CL_EMAP: case CL_EOPEN: case CL_EDUP: case CL_ESTAT: case CL_EUNLINK:
	case CL_ENULLARG: case CL_EARG: case CL_EMALFDB: case CL_EACCES: case CL_ESEEK:
		return TRUE;
	default:
		return FALSE;
	}
}

/*
 * What libclamav ignores without a callback: cli_magic_scan() returns
 * CL_CLEAN at once for "File is too small" when the map holds 5 bytes or
 * fewer (libclamav/scanners.c, `if (ctx->fmap->len <= 5)`, the same in
 * 1.0.9 and 1.4.5); nested files of that size are skipped the same way.
 */
#define AV_TOO_SMALL 5

int
av_scan(struct cl_engine *engine, const void *data, gsize len, const char *name,
    const struct av_hooks *hooks, void *ctx, char **err)
{
	struct av_call call = { hooks, ctx, FALSE, NULL };
	struct cl_scan_options opt = {
		.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS,
		.parse = CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_PDF |
		    CL_SCAN_PARSE_HWP3 | CL_SCAN_PARSE_XMLDOCS |
		    CL_SCAN_PARSE_MAIL | CL_SCAN_PARSE_OLE2 | CL_SCAN_PARSE_HTML |
		    CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ONENOTE | CL_SCAN_PARSE_IMAGE,
		.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX,
	};
	static const char empty[1];
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_fmap_t *map;
	cl_error_t rc;

	/* libclamav refuses an empty map; an empty file has nothing to find. */
	if (len == 0)
		return 0;
	if ((map = cl_fmap_open_memory(data != NULL ? data : empty, len)) == NULL) {
		*err = g_strdup("libclamav: cannot map the buffer");
		return MOAT_EIO;
	}
	call.open = g_ptr_array_new();
	rc = cl_scanmap_callback(map, name, &virname, &scanned, engine, &opt, &call);
	g_ptr_array_unref(call.open);
	cl_fmap_close(map);
	/*
	 * libclamav answers CL_CLEAN without having looked at anything when it
	 * cannot create its temp directory (full disk, missing spool_dir):
	 * that must not pass as clean. It answers the same, on purpose, for a
	 * buffer of AV_TOO_SMALL bytes or fewer: nothing to find there.
	 */
	if ((rc == CL_CLEAN || rc == CL_BREAK) && !call.scanned && len > AV_TOO_SMALL) {
		*err = g_strdup("libclamav did not scan the data (is the temp directory writable?)");
		return MOAT_EIO;
	}
	if (rc == CL_CLEAN || rc == CL_VIRUS || rc == CL_BREAK)
		return 0;
	*err = g_strdup_printf("libclamav: %s", cl_strerror(rc));
	return av_internal(rc) ? MOAT_EIO : MOAT_EINVAL;
}
