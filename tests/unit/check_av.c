/*
 * check_av.c - libclamav's engine: what a scan that did not run means
 *
 * libclamav ignores a buffer of 5 bytes or fewer without calling back, on
 * purpose, which must pass (a mail whose body is "ok"), while a temp
 * directory it cannot use must still fail. Signatures are .ndb lines
 * written at test time in a temp dir.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "moat/av.h"
#include "moat/moat.h"
#include "moat/scan.h"

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
	g_autofree char *text = g_strdup_printf("[av]\nsignature_dirs = %s\n[milter]\nspool_dir = %s\n",
	    dirs, spool != NULL ? spool : g_get_tmp_dir());
	g_autofree char *err = NULL;
	struct moat_conf *c = NULL;

	ck_assert_msg(conf_load_data(&c, &err, text, strlen(text)) == 0, "%s", err);
	return c;
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

static const struct av_hooks file_hooks = { count_files, NULL };

static void
setup(void)
{
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
	struct moat_report *rep = NULL;

	write_sigs("a.ndb", 1);
	ck_assert_int_eq(load(c, &err), 0);
	ck_assert_int_eq(scan_bytes(&rep, mail, strlen(mail), NULL, c), 0);
	ck_assert_ptr_nonnull(rep);
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
	suite_add_tcase(s, tc);
	return s;
}
