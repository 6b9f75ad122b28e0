/*
 * check_walk.c - libclamav and the container walk, on real files
 *
 * Signatures: moat's bundled conf/signatures (EICAR) plus a hash signature
 * of Debian's clamav-testfiles clam.exe, written at test time, so that the
 * test files' containers (zip, 7z, cab, tar.gz, CHM, PDF, OLE2 ...) are only
 * detected when the walk really reaches the clam.exe inside them.
 * Containers built by tests/fixtures/build.sh sit in FIXTURES_DIR.
 */
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "moat/av.h"
#include "moat/scan.h"
#include "moat/zipdir.h"

#define TESTFILES "/usr/share/clamav-testfiles"
#define CLAM_SIG "av.Moat.Test.ClamExe"
#define EICAR_SIG "av.Moat.Test.EICAR"

static char *sigdir;
static struct moat_conf *conf;

/* walk_setup - a signature dir with clam.exe's MD5, and an engine loaded from it and conf/signatures */
static void
walk_setup(void)
{
	g_autofree char *exe = NULL, *md5 = NULL, *hdb = NULL, *line = NULL, *text = NULL;
	g_autofree char *err = NULL, *warn = NULL;
	gsize len;

	sigdir = g_dir_make_tmp("moat-sigs-XXXXXX", NULL);
	ck_assert_ptr_nonnull(sigdir);
	ck_assert_msg(g_file_get_contents(TESTFILES "/clam.exe", &exe, &len, NULL),
	    "clamav-testfiles is not installed");
	md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, (const guchar *)exe, len);
	line = g_strdup_printf("%s:%zu:Moat.Test.ClamExe\n", md5, len);
	hdb = g_build_filename(sigdir, "clam.hdb", NULL);
	ck_assert(g_file_set_contents(hdb, line, -1, NULL));
	text = g_strdup_printf("[av]\nsignature_dirs = %s;%s/../conf/signatures\n"
	    "[milter]\nspool_dir = %s\n", sigdir, SAMPLES_DIR, g_get_tmp_dir());
	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), 0);
	ck_assert_msg(av_load(conf, &err, &warn) == 0, "av_load: %s", err);
	ck_assert_ptr_null(warn);
	ck_assert_uint_eq(av_signatures(), 2);
}

static void
walk_teardown(void)
{
	g_autofree char *hdb = g_build_filename(sigdir, "clam.hdb", NULL);

	av_unload();
	conf_free(conf);
	unlink(hdb);
	rmdir(sigdir);
	g_free(sigdir);
}

/* mail_with - a message carrying DATA as a base64 attachment named NAME */
static char *
mail_with(const char *name, const void *data, gsize len)
{
	g_autofree char *b64 = g_base64_encode(data, len);
	GString *m = g_string_new(NULL);

	g_string_append_printf(m, "From: a@example.net\nTo: b@example.org\nSubject: %s\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\nsee attached\n"
	    "--b\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n", name, name);
	for (gsize i = 0; b64[i] != '\0'; i += 76)
		g_string_append_printf(m, "%.76s\n", b64 + i);
	g_string_append(m, "--b--\n");
	return g_string_free(m, FALSE);
}

static struct moat_report *
scan_attachment(const char *name, const void *data, gsize len, const struct moat_conf *c)
{
	g_autofree char *m = mail_with(name, data, len);
	struct moat_report *rep = NULL;

	ck_assert_int_eq(scan_bytes(&rep, m, strlen(m), NULL, c), 0);
	return rep;
}

static struct moat_report *
scan_testfile(const char *name)
{
	g_autofree char *path = g_build_filename(TESTFILES, name, NULL);
	g_autofree char *data = NULL;
	gsize len;

	ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "cannot read %s", path);
	return scan_attachment(name, data, len, conf);
}

/* member - the part whose path display is PATH, or NULL */
static const struct moat_part *
member(const struct moat_report *rep, const char *path)
{
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (strcmp(p->path_display, path) == 0)
			return p;
	}
	return NULL;
}

/*
 * The clamav-testfiles whose clam.exe libclamav reaches byte for byte, with
 * the member path moat shows for it (NULL: more than one, e.g. the OLE2
 * document holds a PE in two streams). Unnamed layers show as
 * "(embedded pe)"; names libclamav invents are not shown. The packed executables (UPX, ASPack ...)
 * are unpacked into something else than clam.exe, and ARJ, SIS, SZDD and
 * the InstallShield files have no parser in Debian's libclamav build or
 * hide clam.exe in a form a whole-file hash cannot see: they are left out.
 */
static const struct { const char *file, *path; } clam_cases[] = {
	{ "clam.zip", "clam.zip › clam.exe" },
	{ "clam.7z", "clam.7z › clam.exe" },
	{ "clam.cab", "clam.cab › clam.exe" },
	{ "clam.tar.gz", "clam.tar.gz › clam.exe" },
	{ "clam.bz2.zip", "clam.bz2.zip › clam.exe" },
	{ "clam.chm", "clam.chm › /clam.exe.txt" },
	{ "clam.pdf", "clam.pdf › (embedded pe)" },
	{ "clam.ole.doc", NULL },
	{ "clam.exe.html", "clam.exe.html › (embedded pe)" },
	{ "clam.exe.rtf", "clam.exe.rtf › (embedded pe)" },
	{ "clam.exe.bz2", "clam.exe.bz2 › (embedded pe)" },
	{ "clam.exe.binhex", "clam.exe.binhex › (embedded pe)" },
	{ "clam.exe.mbox.base64", "clam.exe.mbox.base64 › clam.exe" },
	{ "clam.exe.mbox.uu", "clam.exe.mbox.uu › (embedded pe)" },
	{ "clam.mail", "clam.mail › clam.exe" },
	{ "clam.tnef", "clam.tnef › (embedded pe)" },
	{ "clam.newc.cpio", "clam.newc.cpio › clam.exe" },
	{ "clam.odc.cpio", "clam.odc.cpio › clam.exe" },
	{ "clam.bin-le.cpio", "clam.bin-le.cpio › clam.exe" },
	{ "clam.bin-be.cpio", "clam.bin-be.cpio › clam.exe" },
	{ "clam.impl.zip", "clam.impl.zip › CLAM.EXE" },
	{ "clam_cache_emax.tgz", NULL },
};

START_TEST(test_testfiles_detected_inside_containers)
{
	struct moat_report *rep = scan_testfile(clam_cases[_i].file);
	const struct moat_finding *f = report_has_finding(rep, CLAM_SIG);

	ck_assert_msg(f != NULL, "%s: clam.exe not reached", clam_cases[_i].file);
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	ck_assert_uint_ge(f->path->len, 2);	/* found in a member, not in the attachment */
	if (clam_cases[_i].path != NULL) {
		const struct moat_part *m = member(rep, clam_cases[_i].path);

		ck_assert_msg(m != NULL, "%s: no member %s", clam_cases[_i].file, clam_cases[_i].path);
		ck_assert_str_eq(f->path_display, clam_cases[_i].path);
		ck_assert_uint_eq(m->decoded_size, 544);
		ck_assert_str_eq(m->sniffed, "pe");
		ck_assert_uint_ge(m->container_depth, 1);
		ck_assert_uint_eq(strlen(m->sha256), 64);
	}
	report_free(rep);
}
END_TEST

START_TEST(test_exe_alone_found_at_top)
{
	/* clam.exe attached as itself: found at the top level, no member */
	struct moat_report *rep = scan_testfile("clam.exe");
	const struct moat_finding *f = report_has_finding(rep, CLAM_SIG);

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path_display, "clam.exe");
	report_free(rep);
}
END_TEST

START_TEST(test_nested_depth_and_path)
{
	/* clam_cache_emax.tgz: eight .tgz inside each other, clam.exe at the bottom */
	struct moat_report *rep = scan_testfile("clam_cache_emax.tgz");
	const struct moat_finding *f = report_has_finding(rep, CLAM_SIG);
	const struct moat_part *m;

	ck_assert_ptr_nonnull(f);
	m = member(rep, f->path_display);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->container_depth, 9);
	ck_assert(g_str_has_prefix(f->path_display, "clam_cache_emax.tgz › clam01.tgz › clam02.tgz"));
	ck_assert(g_str_has_suffix(f->path_display, "clam08.tgz › clam.exe"));
	/* each member's parent is the container one level up */
	for (const struct moat_part *p = m; p->parent != NULL; p = p->parent)
		ck_assert_uint_eq(p->container_depth, p->parent->container_depth + 1);
	report_free(rep);
}
END_TEST

START_TEST(test_nested_too_deep)
{
	g_autofree char *err = NULL;
	struct moat_conf *c = NULL;
	const char *text = "[containers]\nmax_depth = 4\n";
	struct moat_report *rep;
	g_autofree char *path = g_build_filename(TESTFILES, "clam_cache_emax.tgz", NULL);
	g_autofree char *data = NULL;
	gsize len;

	ck_assert_int_eq(conf_load_data(&c, &err, text, strlen(text)), 0);
	ck_assert(g_file_get_contents(path, &data, &len, NULL));
	rep = scan_attachment("clam_cache_emax.tgz", data, len, c);
	ck_assert_ptr_nonnull(report_has_finding(rep, "container.too_deep"));
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);	/* unopened is never clean */
	for (guint i = 0; i < rep->parts->len; i++)
		ck_assert_uint_le(((struct moat_part *)rep->parts->pdata[i])->container_depth, 4);
	report_free(rep);
	conf_free(c);
}
END_TEST

static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static char *
eicar(gsize *len)
{
	char *e = g_strconcat(eicar_a, eicar_b, NULL);

	*len = strlen(e);
	return e;
}

START_TEST(test_eicar_bundled_signature)
{
	gsize len;
	g_autofree char *e = eicar(&len);
	struct moat_report *rep = scan_attachment("readme.txt", e, len, conf);
	const struct moat_finding *f = report_has_finding(rep, EICAR_SIG);

	ck_assert_uint_eq(len, 68);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->score, 20);
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	report_free(rep);
}
END_TEST

START_TEST(test_demo_eicar_in_zip)
{
	/* what `make demo` shows: the bundled signature finds EICAR inside the zip */
	g_autofree char *path = g_build_filename(SAMPLES_DIR, "demo", "virus-eicar-in-zip.eml", NULL);
	g_autofree char *err = NULL;
	struct moat_report *rep = NULL;
	const struct moat_finding *f;
	const struct moat_part *m;

	ck_assert_int_eq(scan_file(&rep, &err, path, conf), 0);
	f = report_has_finding(rep, EICAR_SIG);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path_display, "remittance.zip › eicar.txt");
	m = member(rep, "remittance.zip › eicar.txt");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->decoded_size, 68);
	ck_assert_str_eq(m->parent->filename, "remittance.zip");
	ck_assert_str_eq(m->id, "2/1");
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	report_free(rep);
}
END_TEST

START_TEST(test_av_disabled)
{
	gsize len;
	g_autofree char *e = eicar(&len);
	g_autofree char *err = NULL;
	struct moat_conf *c = NULL;
	const char *text = "[av]\nenabled = no\n";
	struct moat_report *rep;

	ck_assert_int_eq(conf_load_data(&c, &err, text, strlen(text)), 0);
	rep = scan_attachment("readme.txt", e, len, c);
	ck_assert_ptr_null(report_has_finding(rep, EICAR_SIG));
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_av_scores_override)
{
	gsize len;
	g_autofree char *e = eicar(&len);
	g_autofree char *err = NULL;
	struct moat_conf *c = NULL;
	/* an admin may quarantine one signature, or all of av.* */
	const char *text = "[scores]\nav.Moat.Test.EICAR = quarantine\n";
	struct moat_report *rep;

	ck_assert_int_eq(conf_load_data(&c, &err, text, strlen(text)), 0);
	rep = scan_attachment("readme.txt", e, len, c);
	ck_assert_ptr_nonnull(report_has_finding(rep, EICAR_SIG));
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_missing_sigdir_warns)
{
	g_autofree char *err = NULL, *warn = NULL;
	struct moat_conf *c = NULL;
	const char *text = "[av]\nsignature_dirs = /nonexistent/moat-sigs\n";

	ck_assert_int_eq(conf_load_data(&c, &err, text, strlen(text)), 0);
	ck_assert_int_eq(av_load(c, &err, &warn), 0);
	ck_assert_ptr_nonnull(warn);
	ck_assert_ptr_nonnull(strstr(warn, "/nonexistent/moat-sigs"));
	ck_assert_uint_eq(av_signatures(), 0);
	conf_free(c);
	/* back to the suite's engine */
	g_clear_pointer(&warn, g_free);
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
	ck_assert_uint_eq(av_signatures(), 2);
}
END_TEST

static void
count_match(void *ctx, int key, const char *sig)
{
	(void)key;
	if (strstr(sig, "EICAR") != NULL)
		(*(guint *)ctx)++;
}

static const struct av_hooks count_hooks = { NULL, count_match };

START_TEST(test_reload_keeps_running_engine)
{
	/* A scan holding the old engine goes on with it after a reload swapped it out. */
	struct cl_engine *old = av_acquire();
	g_autofree char *err = NULL, *warn = NULL;
	gsize len;
	g_autofree char *e = eicar(&len);
	struct moat_report *rep;
	struct moat_conf *c = NULL;
	const char *text = "[av]\nsignature_dirs = /nonexistent\n";
	guint hits = 0;

	ck_assert_ptr_nonnull(old);
	ck_assert_int_eq(conf_load_data(&c, &err, text, strlen(text)), 0);
	ck_assert_int_eq(av_load(c, &err, &warn), 0);	/* the new engine has no signatures */
	rep = scan_attachment("readme.txt", e, len, conf);
	ck_assert_ptr_null(report_has_finding(rep, EICAR_SIG));
	report_free(rep);
	ck_assert_int_eq(av_scan(old, e, len, "eicar", &count_hooks, &hits, &err), 0);
	ck_assert_uint_eq(hits, 1);		/* the old one still knows EICAR */
	av_release(old);
	conf_free(c);
	g_clear_pointer(&warn, g_free);
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
}
END_TEST

#define LOAD_THREADS 3
#define LOAD_SCANS 40

static gpointer
scan_loop(gpointer data)
{
	const char *m = data;
	guint found = 0;

	for (int n = 0; n < LOAD_SCANS; n++) {
		struct moat_report *rep = NULL;

		if (scan_bytes(&rep, m, strlen(m), NULL, conf) == 0 &&
		    report_has_finding(rep, EICAR_SIG) != NULL)
			found++;
		report_free(rep);
	}
	return GUINT_TO_POINTER(found);
}

START_TEST(test_reload_under_load)
{
	/* Scans on three threads while the engine is recompiled and swapped ten times. */
	gsize len;
	g_autofree char *e = eicar(&len);
	g_autofree char *m = mail_with("readme.txt", e, len);
	GThread *t[LOAD_THREADS];
	guint found = 0;

	for (int n = 0; n < LOAD_THREADS; n++)
		t[n] = g_thread_new("scan", scan_loop, m);
	for (int n = 0; n < 10; n++) {
		g_autofree char *err = NULL, *warn = NULL;

		ck_assert_msg(av_load(conf, &err, &warn) == 0, "reload %d: %s", n, err);
	}
	for (int n = 0; n < LOAD_THREADS; n++)
		found += GPOINTER_TO_UINT(g_thread_join(t[n]));
	ck_assert_uint_eq(found, LOAD_THREADS * LOAD_SCANS);	/* no scan missed a beat */
	ck_assert_uint_eq(av_signatures(), 2);
}
END_TEST

START_TEST(test_stale_after_freshclam)
{
	/* freshclam drops a new database in: the engine is stale until reloaded */
	g_autofree char *extra = g_build_filename(sigdir, "extra.ndb", NULL);
	g_autofree char *err = NULL, *warn = NULL;

	ck_assert(!av_stale(conf));
	ck_assert(g_file_set_contents(extra, "Moat.Test.Extra:0:*:6d6f61742d746573742d6578747261\n",
	    -1, NULL));
	ck_assert(av_stale(conf));
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
	ck_assert(!av_stale(conf));
	ck_assert_uint_eq(av_signatures(), 3);
	unlink(extra);
	ck_assert(av_stale(conf));
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
	ck_assert_uint_eq(av_signatures(), 2);
}
END_TEST

/* ZIP central directory ---------------------------------------------------- */

static gboolean
count_entry(void *ctx, const struct zipdir_entry *e)
{
	(void)e;
	(*(guint *)ctx)++;
	return TRUE;
}

START_TEST(test_zipdir_testfile)
{
	g_autofree char *data = NULL;
	gsize len;
	guint n = 0;

	ck_assert(g_file_get_contents(TESTFILES "/clam.zip", &data, &len, NULL));
	ck_assert_int_eq(zipdir_read((const guint8 *)data, len, 100, count_entry, &n), 1);
	ck_assert_uint_eq(n, 1);
	/* every truncation of it is refused or read partly, never read out of bounds */
	for (gsize cut = 0; cut < len; cut++) {
		gint64 r = zipdir_read((const guint8 *)data, cut, 100, count_entry, &n);

		ck_assert_int_le(r, 1);
	}
	ck_assert_int_eq(zipdir_read((const guint8 *)"PK\5\6", 4, 100, count_entry, &n), -1);
}
END_TEST

Suite *
walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("testfiles");

	tcase_add_unchecked_fixture(tc, walk_setup, walk_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_testfiles_detected_inside_containers, 0,
	    G_N_ELEMENTS(clam_cases));
	tcase_add_test(tc, test_exe_alone_found_at_top);
	tcase_add_test(tc, test_nested_depth_and_path);
	tcase_add_test(tc, test_nested_too_deep);
	tcase_add_test(tc, test_eicar_bundled_signature);
	tcase_add_test(tc, test_demo_eicar_in_zip);
	tcase_add_test(tc, test_av_disabled);
	tcase_add_test(tc, test_av_scores_override);
	tcase_add_test(tc, test_missing_sigdir_warns);
	tcase_add_test(tc, test_reload_keeps_running_engine);
	tcase_add_test(tc, test_reload_under_load);
	tcase_add_test(tc, test_zipdir_testfile);
	tcase_add_test(tc, test_stale_after_freshclam);
	suite_add_tcase(s, tc);
	return s;
}
