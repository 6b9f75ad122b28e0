/*
 * check_av.c - libclamav's engine: what a scan that did not run means, and
 * reloads that would lose signatures
 *
 * Scans: libclamav ignores a buffer of 5 bytes or fewer without calling
 * back, on purpose, which must pass (a mail whose body is "ok"), while a
 * temp directory it cannot use must still fail. Reloads: a signature
 * directory the running engine has signatures from that is gone, emptied,
 * replaced, unreadable or cut short keeps the running engine, its count
 * and its signatures, fails with the reason, is counted by moatd
 * (moat_engine_reloads_total) and is not tried again until the files
 * change; a first load skips such a directory with a warning, and a
 * directory the config drops or a database file removed whole is a change
 * on purpose. Signatures are .ndb lines written at test time in a temp dir.
 */
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "helpers.h"
#include "moat/av.h"
#include "moat/moat.h"
#include "moat/scan.h"
#include "milter/reload.h"
#include "milter/stats.h"

static char *top;	/* the temp dir everything here lives in */
static char *sigs;	/* top/sigs: the signature directory under test */

/* rm_tree - PATH and everything under it; missing is fine */
static void
rm_tree(const char *path)
{
	struct stat st;
	GDir *d;
	const char *name;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		g_chmod(path, 0700);	/* a test may have taken it away */
	d = g_dir_open(path, 0, NULL);
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *sub = g_build_filename(path, name, NULL);

		rm_tree(sub);
	}
	if (d != NULL) {
		g_dir_close(d);
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

/* write_sigs - FILE in the signature dir with N signatures Moat.Test.<FILE>.<k>, each matching "moat-<FILE>-<k>" */
static void
write_sigs(const char *file, guint n)
{
	g_autofree char *path = g_build_filename(sigs, file, NULL);
	GString *text = g_string_new(NULL);

	for (guint k = 0; k < n; k++) {
		g_autofree char *marker = g_strdup_printf("moat-%s-%u", file, k);

		g_string_append_printf(text, "Moat.Test.%s.%u:0:*:", file, k);
		for (const char *p = marker; *p != '\0'; p++)
			g_string_append_printf(text, "%02x", (guchar)*p);
		g_string_append_c(text, '\n');
	}
	ck_assert(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
	g_string_free(text, TRUE);
}

/* conf_with - a config: signature_dirs DIRS, spool_dir SPOOL ($TMPDIR when NULL) */
static struct moat_conf *
conf_with(const char *dirs, const char *spool)
{
	return t_conf_loadf("[av]\nsignature_dirs = %s\n[milter]\nspool_dir = %s\n",
	    dirs, spool != NULL ? spool : g_get_tmp_dir());
}

/* load - av_load(C); its return, *ERR kept for the caller (g_free) */
static int
load(const struct moat_conf *c, char **err)
{
	g_autofree char *warn = NULL;

	*err = NULL;
	return av_load(c, err, &warn);
}

static enum av_verdict
count_files(void *ctx, const struct av_file *f, void **token)
{
	(void)f;
	(void)token;
	(*(guint *)ctx)++;
	return AV_SCAN;
}

static void
add_match(void *ctx, void *token, const char *sig)
{
	(void)token;
	g_hash_table_add(ctx, g_strdup(sig));	/* all-match mode may report one twice */
}

static const struct av_hooks file_hooks = { count_files, NULL };
static const struct av_hooks match_hooks = { NULL, add_match };

/* matches - how many signatures of the current engine match DATA */
static guint
matches(const char *data)
{
	struct cl_engine *e = av_acquire();
	g_autofree char *err = NULL;
	g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	ck_assert_ptr_nonnull(e);
	ck_assert_msg(av_scan(e, data, strlen(data), "t", &match_hooks, names, &err) == 0, "%s", err);
	av_release(e);
	return g_hash_table_size(names);
}

static void
setup(void)
{
	stats_reset();
	top = g_dir_make_tmp("moat-av-XXXXXX", NULL);
	ck_assert_ptr_nonnull(top);
	sigs = g_build_filename(top, "sigs", NULL);
	ck_assert_int_eq(g_mkdir(sigs, 0755), 0);
}

static void
teardown(void)
{
	av_unload();
	rm_tree(top);
	g_clear_pointer(&sigs, g_free);
	g_clear_pointer(&top, g_free);
}

/* Scans ------------------------------------------------------------------------ */

START_TEST(test_tiny_buffers_scan)
{
	/* libclamav ignores 1 to 5 bytes without a callback (scanners.c, len <= 5): not an error */
	struct moat_conf *c = conf_with(sigs, NULL);
	g_autofree char *err = NULL;
	struct cl_engine *e;
	guint files;

	write_sigs("a.ndb", 1);
	ck_assert_int_eq(load(c, &err), 0);
	e = av_acquire();
	for (gsize len = 1; len <= 5; len++) {
		files = 0;
		ck_assert_msg(av_scan(e, "okay!", len, "tiny", &file_hooks, &files, &err) == 0,
		    "%zu bytes: %s", len, err);
		ck_assert_uint_eq(files, 0);
	}
	files = 0;	/* from 6 bytes on libclamav scans, and says so */
	ck_assert_int_eq(av_scan(e, "okay!!", 6, "six", &file_hooks, &files, &err), 0);
	ck_assert_uint_eq(files, 1);
	av_release(e);
	conf_free(c);
}
END_TEST

START_TEST(test_mail_body_ok)
{
	/* issue 11 bug 4: this mail made `moat scan` exit 2 and moatd tempfail it */
	static const char mail[] = "From: a@example.net\nTo: b@example.org\nSubject: hi\n"
	    "Message-ID: <ok@example.net>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nok\n";
	struct moat_conf *c = conf_with(sigs, NULL);
	g_autofree char *err = NULL;
	struct moat_report *rep;

	write_sigs("a.ndb", 1);
	ck_assert_int_eq(load(c, &err), 0);
	rep = t_scan_text(mail, c);
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_unusable_tmpdir_fails)
{
	/* libclamav answers CL_CLEAN without scanning when it cannot make its temp dir */
	g_autofree char *file = g_build_filename(top, "not-a-dir", NULL);
	g_autofree char *missing = g_build_filename(top, "no-such-dir", NULL);
	const char *spools[] = { missing, file };
	static const char data[] = "a text long enough for libclamav to look at";

	ck_assert(g_file_set_contents(file, "x", 1, NULL));
	write_sigs("a.ndb", 1);
	for (gsize i = 0; i < G_N_ELEMENTS(spools); i++) {
		struct moat_conf *c = conf_with(sigs, spools[i]);
		g_autofree char *err = NULL;
		struct cl_engine *e;

		ck_assert_int_eq(load(c, &err), 0);
		e = av_acquire();
		ck_assert_int_eq(av_scan(e, data, strlen(data), "t", &file_hooks,
		    &(guint){ 0 }, &err), MOAT_EIO);
		ck_assert_ptr_nonnull(strstr(err, "temp directory"));
		g_clear_pointer(&err, g_free);
		/* what libclamav skips anyway needs no temp dir */
		ck_assert_int_eq(av_scan(e, "ok\n", 3, "t", &file_hooks, &(guint){ 0 }, &err), 0);
		av_release(e);
		conf_free(c);
	}
}
END_TEST

/* Reloads ---------------------------------------------------------------------- */

/*
 * reload_keeps - the engine loaded from sigs with 3 signatures in a.ndb;
 * then BREAK(); the reload must fail naming WHY, and the running engine, its
 * count and its signatures stay
 */
static void
reload_keeps(void (*brk)(void), const char *why)
{
	struct moat_conf *c = conf_with(sigs, NULL);
	g_autofree char *err = NULL;
	struct cl_engine *before, *after;

	write_sigs("a.ndb", 3);
	ck_assert_int_eq(load(c, &err), 0);
	ck_assert_uint_eq(av_signatures(), 3);
	before = av_acquire();
	brk();
	ck_assert(av_stale(c));
	ck_assert_int_eq(load(c, &err), MOAT_EIO);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, sigs) != NULL && strstr(err, why) != NULL &&
	    strstr(err, "where the running engine has 3") != NULL, "error: %s", err);
	after = av_acquire();
	ck_assert_ptr_eq(after, before);
	ck_assert_uint_eq(av_signatures(), 3);
	ck_assert_uint_eq(matches("moat-a.ndb-0 moat-a.ndb-1 moat-a.ndb-2"), 3);
	ck_assert(!av_stale(c));	/* not tried again until the files change */
	av_release(before);
	av_release(after);
	conf_free(c);
}

static void
brk_remove(void)
{
	rm_tree(sigs);
}

static void
brk_empty(void)
{
	g_autofree char *a = g_build_filename(sigs, "a.ndb", NULL);

	ck_assert_int_eq(g_unlink(a), 0);
}

static void
brk_file(void)
{
	rm_tree(sigs);
	ck_assert(g_file_set_contents(sigs, "not a directory", -1, NULL));
}

static void
brk_cut(void)
{
	write_sigs("a.ndb", 2);	/* half-written by an update */
}

static void
brk_corrupt(void)
{
	g_autofree char *b = g_build_filename(sigs, "b.ndb", NULL);

	ck_assert(g_file_set_contents(b, "Moat.Test.Broken:0:*:zz\n", -1, NULL));
}

START_TEST(test_reload_dir_removed)
{
	reload_keeps(brk_remove, "No such file or directory");
}
END_TEST

START_TEST(test_reload_dir_emptied)
{
	reload_keeps(brk_empty, "no signature databases");
}
END_TEST

START_TEST(test_reload_dir_now_a_file)
{
	reload_keeps(brk_file, "not a directory");
}
END_TEST

START_TEST(test_reload_file_cut_short)
{
	reload_keeps(brk_cut, "2 signatures from the same files");
}
END_TEST

static void
brk_unreadable(void)
{
	ck_assert_int_eq(g_chmod(sigs, 0), 0);
}

START_TEST(test_reload_dir_unreadable)
{
	/* moatd after its privilege drop; root reads anything, so as root the reload runs as nobody */
	struct moat_conf *c;
	g_autofree char *err = NULL;
	struct passwd *pw;
	int status = -1;
	pid_t pid;

	if (geteuid() != 0) {
		reload_keeps(brk_unreadable, "Permission denied");
		return;
	}
	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	c = conf_with(sigs, NULL);
	write_sigs("a.ndb", 3);
	ck_assert_int_eq(load(c, &err), 0);
	g_chmod(top, 0700);	/* g_dir_make_tmp's mode: nobody cannot look in */
	if ((pid = fork()) == 0) {
		if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(3);
		if (load(c, &err) != MOAT_EIO || strstr(err, "Permission denied") == NULL)
			_exit(1);
		_exit(av_signatures() == 3 && matches("moat-a.ndb-1") == 1 ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %d", status);
	conf_free(c);
}
END_TEST

START_TEST(test_reload_corrupt_keeps)
{
	/* libclamav refuses a broken database: the running engine stays, as ever */
	struct moat_conf *c = conf_with(sigs, NULL);
	g_autofree char *err = NULL;

	write_sigs("a.ndb", 3);
	ck_assert_int_eq(load(c, &err), 0);
	brk_corrupt();
	ck_assert_int_eq(load(c, &err), MOAT_EIO);
	ck_assert_ptr_nonnull(strstr(err, sigs));
	ck_assert_uint_eq(av_signatures(), 3);
	conf_free(c);
}
END_TEST

START_TEST(test_first_load_skips)
{
	/* at start-up a missing or empty directory is skipped with a warning, as before */
	g_autofree char *missing = g_build_filename(top, "missing", NULL);
	g_autofree char *dirs = g_strdup_printf("%s;%s", missing, sigs);
	struct moat_conf *c = conf_with(dirs, NULL);
	g_autofree char *err = NULL, *warn = NULL;

	ck_assert_int_eq(av_load(c, &err, &warn), 0);
	ck_assert_ptr_nonnull(warn);
	ck_assert_msg(strstr(warn, missing) != NULL && strstr(warn, sigs) != NULL, "%s", warn);
	ck_assert_ptr_nonnull(strstr(warn, "no signature databases, skipped"));
	ck_assert_ptr_nonnull(strstr(warn, "[av] signature_dirs: "));
	ck_assert_uint_eq(av_signatures(), 1);	/* the built-in EICAR signature */
	conf_free(c);
}
END_TEST

/* [av] temp_dir that is no directory: named in the warning, libclamav writes in spool_dir, scans work */
START_TEST(test_temp_dir_missing)
{
	g_autofree char *sigdir = g_build_filename(SAMPLES_DIR, "..", "conf", "signatures", NULL);
	struct moat_conf *c = t_conf_loadf("[av]\nsignature_dirs = %s\ntemp_dir = /nonexistent/moat-scan\n"
	    "[milter]\nspool_dir = %s\n", sigdir, g_get_tmp_dir());
	g_autofree char *err = NULL, *warn = NULL;
	struct moat_report *rep;

	ck_assert_int_eq(av_load(c, &err, &warn), 0);
	ck_assert_msg(warn != NULL && strstr(warn, "[av] temp_dir /nonexistent/moat-scan is no directory") != NULL,
	    "%s", warn ? warn : "(no warning)");
	rep = t_scan_sample("demo/virus-eicar-in-zip.eml", c);
	t_finding(rep, "av.Moat.Test.EICAR");
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_reload_changes_on_purpose)
{
	/* a database file removed whole, or a directory the config no longer names */
	g_autofree char *other = g_build_filename(top, "other", NULL);
	g_autofree char *b = g_build_filename(sigs, "b.ndb", NULL);
	struct moat_conf *c = conf_with(sigs, NULL), *c2;
	g_autofree char *err = NULL;

	write_sigs("a.ndb", 2);
	write_sigs("b.ndb", 1);
	ck_assert_int_eq(load(c, &err), 0);
	ck_assert_uint_eq(av_signatures(), 3);
	ck_assert_int_eq(g_unlink(b), 0);
	ck_assert_msg(load(c, &err) == 0, "%s", err);
	ck_assert_uint_eq(av_signatures(), 2);
	/* a cut-short file next to a removed one: fewer from the same files it is not */
	write_sigs("b.ndb", 3);
	ck_assert_int_eq(load(c, &err), 0);
	ck_assert_uint_eq(av_signatures(), 5);
	ck_assert_int_eq(g_unlink(b), 0);
	write_sigs("a.ndb", 1);
	ck_assert_msg(load(c, &err) == 0, "%s", err);
	ck_assert_uint_eq(av_signatures(), 1);
	/* more signatures from the same files are welcome */
	write_sigs("a.ndb", 4);
	ck_assert_int_eq(load(c, &err), 0);
	ck_assert_uint_eq(av_signatures(), 4);
	/* the config drops the directory */
	ck_assert_int_eq(g_mkdir(other, 0755), 0);
	c2 = conf_with(other, NULL);
	rm_tree(sigs);
	ck_assert_msg(load(c2, &err) == 0, "%s", err);
	ck_assert_uint_eq(av_signatures(), 1);	/* built-in */
	conf_free(c2);
	conf_free(c);
}
END_TEST

START_TEST(test_reload_after_repair)
{
	/* once the files change again (the update finished), the reload goes through */
	struct moat_conf *c = conf_with(sigs, NULL);
	g_autofree char *err = NULL;

	write_sigs("a.ndb", 3);
	ck_assert_int_eq(load(c, &err), 0);
	brk_cut();
	ck_assert_int_eq(load(c, &err), MOAT_EIO);
	g_clear_pointer(&err, g_free);
	ck_assert(!av_stale(c));
	write_sigs("a.ndb", 4);
	ck_assert(av_stale(c));
	ck_assert_msg(load(c, &err) == 0, "%s", err);
	ck_assert_uint_eq(av_signatures(), 4);
	conf_free(c);
}
END_TEST

START_TEST(test_moatd_refresh_counts)
{
	/* moatd's signature watcher: the failed reload is logged, counted, and the engine stays */
	g_autofree char *path = g_build_filename(top, "moat.conf", NULL);
	g_autofree char *text = g_strdup_printf("[av]\nsignature_dirs = %s\n[milter]\nspool_dir = %s\n",
	    sigs, g_get_tmp_dir());
	g_autofree char *err = NULL, *m = NULL;
	struct moat_conf *c = NULL;

	write_sigs("a.ndb", 3);
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	ck_assert_msg(conf_load(&c, &err, path, FALSE) == 0, "%s", err);
	ck_assert_msg(moatd_load_engine(c, &err) == 0, "%s", err);
	moatd_conf_init(c, path, FALSE);
	ck_assert_int_eq(moatd_av_refresh(), 0);	/* nothing changed */
	rm_tree(sigs);
	ck_assert_int_eq(moatd_av_refresh(), MOAT_EIO);
	ck_assert_int_eq(moatd_av_refresh(), 0);	/* the same files: not tried again */
	m = stats_render();
	ck_assert_msg(t_has_line(m, "moat_engine_reloads_total{result=\"failed\"} 1") &&
	    t_has_line(m, "moat_engine_reloads_total{result=\"ok\"} 0") &&
	    t_has_line(m, "moat_signatures 3"), "%s", m);
	g_clear_pointer(&m, g_free);
	ck_assert_int_eq(g_mkdir(sigs, 0755), 0);
	write_sigs("a.ndb", 4);
	ck_assert_int_eq(moatd_av_refresh(), 1);
	m = stats_render();
	ck_assert_msg(t_has_line(m, "moat_engine_reloads_total{result=\"ok\"} 1") &&
	    t_has_line(m, "moat_signatures 4"), "%s", m);
	moatd_conf_shutdown();
}
END_TEST

Suite *
av_suite(void)
{
	Suite *s = suite_create("av");
	TCase *tc = tcase_create("av");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tiny_buffers_scan);
	tcase_add_test(tc, test_mail_body_ok);
	tcase_add_test(tc, test_unusable_tmpdir_fails);
	tcase_add_test(tc, test_reload_dir_removed);
	tcase_add_test(tc, test_reload_dir_emptied);
	tcase_add_test(tc, test_reload_dir_now_a_file);
	tcase_add_test(tc, test_reload_file_cut_short);
	tcase_add_test(tc, test_reload_dir_unreadable);
	tcase_add_test(tc, test_reload_corrupt_keeps);
	tcase_add_test(tc, test_first_load_skips);
	tcase_add_test(tc, test_temp_dir_missing);
	tcase_add_test(tc, test_reload_changes_on_purpose);
	tcase_add_test(tc, test_reload_after_repair);
	tcase_add_test(tc, test_moatd_refresh_counts);
	suite_add_tcase(s, tc);
	return s;
}
