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
#include "helpers.h"
#include "moat/av.h"
#include "moat/moat.h"
#include "moat/scan.h"
#include "moat/zipdir.h"

#define TESTFILES "/usr/share/clamav-testfiles"
#define FIXTURES BUILD_DIR "/fixtures"	/* tests/fixtures/build.sh, run by make unit */
#define CLAM_SIG "av.Moat.Test.ClamExe"
#define EICAR_SIG "av.Moat.Test.EICAR"

static char *sigdir;
static struct moat_conf *conf;

/* walk_setup - a signature dir with clam.exe's MD5, and an engine loaded from it and conf/signatures */
static void
walk_setup(void)
{
	g_autofree char *exe = NULL, *md5 = NULL, *hdb = NULL, *line = NULL;
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
	conf = t_conf_loadf("[av]\nsignature_dirs = %s;%s/../conf/signatures\n"
	    "[milter]\nspool_dir = %s\n", sigdir, SAMPLES_DIR, g_get_tmp_dir());
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
	for (gsize i = 0, n = strlen(b64); i < n; i += 76)
		g_string_append_printf(m, "%.76s\n", b64 + i);
	g_string_append(m, "--b--\n");
	return g_string_free(m, FALSE);
}

static struct moat_report *
scan_attachment(const char *name, const void *data, gsize len, const struct moat_conf *c)
{
	g_autofree char *m = mail_with(name, data, len);

	return t_scan_text(m, c);
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
	if (clam_cases[_i].path != NULL) {
		const struct moat_part *m = t_member(rep, clam_cases[_i].path);

		ck_assert_str_eq(f->path_display, clam_cases[_i].path);	/* on the member itself */
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
	m = t_member(rep, f->path_display);
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
	struct moat_conf *c = t_conf_load("[containers]\nmax_depth = 4\n");
	struct moat_report *rep;
	g_autofree char *path = g_build_filename(TESTFILES, "clam_cache_emax.tgz", NULL);
	g_autofree char *data = NULL;
	gsize len;

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
	struct moat_report *rep = t_scan_sample("demo/virus-eicar-in-zip.eml", conf);
	const struct moat_finding *f;
	const struct moat_part *m;

	f = report_has_finding(rep, EICAR_SIG);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path_display, "remittance.zip › eicar.txt");
	m = t_member(rep, "remittance.zip › eicar.txt");
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
	struct moat_conf *c = t_conf_load("[av]\nenabled = no\n");
	struct moat_report *rep;

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
	/* an admin may quarantine one signature, or all of av.* */
	struct moat_conf *c = t_conf_load("[scores]\nav.Moat.Test.EICAR = quarantine\n");
	struct moat_report *rep;

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

	c = t_conf_load(text);
	ck_assert_int_eq(av_load(c, &err, &warn), 0);
	ck_assert_ptr_nonnull(warn);
	ck_assert_ptr_nonnull(strstr(warn, "/nonexistent/moat-sigs"));
	ck_assert_uint_eq(av_signatures(), 1);	/* the built-in EICAR signature instead */
	conf_free(c);
	/* back to the suite's engine */
	g_clear_pointer(&warn, g_free);
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
	ck_assert_uint_eq(av_signatures(), 2);
}
END_TEST

static void
count_match(void *ctx, void *token, const char *sig)
{
	(void)token;
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
	g_autofree char *text = g_strdup_printf("[av]\nsignature_dirs = %s\n", sigdir);
	guint hits = 0;

	ck_assert_ptr_nonnull(old);
	c = t_conf_load(text);
	ck_assert_int_eq(av_load(c, &err, &warn), 0);	/* the new engine knows clam.exe only */
	ck_assert_uint_eq(av_signatures(), 1);
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

/* Fixtures: tests/fixtures/build.sh ---------------------------------------- */

static struct moat_report *
scan_fixture(const char *name, const struct moat_conf *c)
{
	g_autofree char *path = g_build_filename(FIXTURES, name, NULL);
	g_autofree char *data = NULL;
	gsize len;

	ck_assert_msg(g_file_get_contents(path, &data, &len, NULL),
	    "%s missing: run tests/fixtures/build.sh %s", path, FIXTURES);
	return scan_attachment(name, data, len, c);
}

/* add_members - "path\tflags" of every member under P, into SET */
static void
add_members(GHashTable *set, const struct moat_report *rep, const struct moat_part *p)
{
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *m = rep->parts->pdata[i];
		g_autofree char *flags = NULL;

		if (m->parent != p)
			continue;
		flags = g_strdup_printf("%s%s%s", m->hidden ? "hidden" : "",
		    m->hidden && m->encrypted ? "," : "", m->encrypted ? "encrypted" : "");
		g_hash_table_add(set, g_strdup_printf("%s\t%s", m->path_display,
		    *flags ? flags : "-"));
		add_members(set, rep, m);
	}
}

/*
 * manifest_line - a MANIFEST.tsv line as moat should show it: with its
 * full path inside the archive or image (ISO images are listed by
 * libarchive for their folders, since libclamav gives base names only).
 */
static char *
manifest_line(const char *path, const char *flags)
{
	return g_strdup_printf("%s\t%s", path, flags);
}

static const char *const manifest_cases[] = {
	"plain.zip", "encrypted.zip", "hidden.zip", "lure.7z", "encrypted.7z", "image.iso",
	"sideload.tar.gz", "nested.zip", "deep.zip", "stored.rar", "nested.rar", "eicar.zip",
};

START_TEST(test_fixture_inventory)
{
	const char *name = manifest_cases[_i];
	g_autofree char *path = g_build_filename(FIXTURES, "MANIFEST.tsv", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GHashTable) want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) got = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct moat_report *rep = scan_fixture(name, conf);
	GHashTableIter it;
	gpointer key;

	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (gsize i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", 3);

		if (g_strv_length(f) != 3 || strcmp(f[0], name) != 0 || strcmp(f[1], name) == 0 ||
		    strcmp(f[2], "dir") == 0)
			continue;	/* directories are not members: their files are */
		g_hash_table_add(want, manifest_line(f[1], f[2]));
	}
	ck_assert_uint_gt(g_hash_table_size(want), 0);
	add_members(got, rep, rep->parts->pdata[1]);
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &key, NULL))
		ck_assert_msg(g_hash_table_contains(got, key), "%s: missing member '%s'", name,
		    (char *)key);
	g_hash_table_iter_init(&it, got);
	while (g_hash_table_iter_next(&it, &key, NULL))
		ck_assert_msg(g_hash_table_contains(want, key), "%s: unexpected member '%s'", name,
		    (char *)key);
	report_free(rep);
}
END_TEST

/*
 * What a user should see about each fixture: the findings that make the
 * verdict. The encrypted ones come without a password (derive.h): a
 * program's name behind one holds, so do names that are encrypted too.
 */
static const struct { const char *file, *finding, *at; enum moat_action at_least; } verdict_cases[] = {
	{ "encrypted.zip", "container.encrypted", "encrypted.zip › payload.exe", MOAT_QUARANTINE },
	{ "encrypted.zip", "lure.encrypted_runnable", "encrypted.zip", MOAT_QUARANTINE },
	{ "encrypted-headers.7z", "lure.encrypted_hidden_names", "encrypted-headers.7z",
	    MOAT_QUARANTINE },
	{ "lure.7z", "name.double_extension", "lure.7z › Invoice.pdf.lnk", MOAT_QUARANTINE },
	{ "stored.rar", "name.double_extension", "stored.rar › report.doc.exe", MOAT_QUARANTINE },
	{ "nested.zip", "name.double_extension",
	    "nested.zip › outer/inner.7z › image.iso › Document.pdf.exe", MOAT_REJECT },
	{ "nested.rar", "type.mismatch", NULL, MOAT_ACCEPT },
	{ "eicar.zip", EICAR_SIG, "eicar.zip › eicar.com", MOAT_REJECT },
	{ "bomb.zip", "container.bomb", NULL, MOAT_QUARANTINE },
	{ "many.zip", "container.too_many_members", "many.zip", MOAT_QUARANTINE },
};

START_TEST(test_fixture_verdict)
{
	struct moat_report *rep = scan_fixture(verdict_cases[_i].file, conf);
	const struct moat_finding *f = report_has_finding(rep, verdict_cases[_i].finding);

	if (strcmp(verdict_cases[_i].finding, "type.mismatch") == 0) {
		/* nested.rar: plain.zip inside a RAR is found and opened, nothing is wrong */
		ck_assert_ptr_null(f);
		ck_assert_ptr_nonnull(t_member(rep, "nested.rar › plain.zip › invoice.pdf"));
		ck_assert_msg(rep->verdict.action == MOAT_ACCEPT, "nested.rar: %s",
		    rep->verdict.reasons->len ? (char *)rep->verdict.reasons->pdata[0] : "");
	} else {
		ck_assert_msg(f != NULL, "%s: no %s", verdict_cases[_i].file, verdict_cases[_i].finding);
		if (verdict_cases[_i].at != NULL)
			ck_assert_str_eq(f->path_display, verdict_cases[_i].at);
		ck_assert_int_ge(rep->verdict.action, verdict_cases[_i].at_least);
	}
	report_free(rep);
}
END_TEST

START_TEST(test_fixture_flags)
{
	struct moat_report *rep = scan_fixture("hidden.zip", conf);
	const struct moat_part *m = t_member(rep, "hidden.zip › update.exe");

	ck_assert_ptr_nonnull(m);
	ck_assert(m->hidden);
	ck_assert(t_member(rep, "hidden.zip › desktop.ini")->hidden);
	ck_assert(!t_member(rep, "hidden.zip › readme.txt")->hidden);
	report_free(rep);
	rep = scan_fixture("stored.rar", conf);
	m = t_member(rep, "stored.rar › report.doc.exe");
	ck_assert_ptr_nonnull(m);
	ck_assert(m->hidden);					/* RAR5 attribute, via libarchive */
	ck_assert_str_eq(m->sniffed, "pe");
	ck_assert_uint_eq(strlen(m->sha256), 64);		/* extracted, hashed, scanned */
	ck_assert_ptr_nonnull(t_member(rep, "stored.rar › docs/readme.txt"));
	report_free(rep);
	rep = scan_fixture("encrypted.7z", conf);
	m = t_member(rep, "encrypted.7z › payload.exe");
	ck_assert_ptr_nonnull(m);
	ck_assert(m->encrypted);
	ck_assert_str_eq(m->sha256, "");			/* not readable, not hashed */
	report_free(rep);
}
END_TEST

START_TEST(test_fixture_depth)
{
	/* nested.zip › outer/inner.7z › image.iso › Document.pdf.exe: three containers deep */
	struct moat_report *rep = scan_fixture("nested.zip", conf);
	const struct moat_part *m = t_member(rep,
	    "nested.zip › outer/inner.7z › image.iso › Document.pdf.exe");
	struct moat_conf *c;

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->container_depth, 3);
	ck_assert_str_eq(m->parent->parent->filename, "outer/inner.7z");
	report_free(rep);
	/* deep.zip: twelve zips in each other; past max_depth the rest is not opened */
	c = t_conf_load("[containers]\nmax_depth = 5\n");
	rep = scan_fixture("deep.zip", c);
	ck_assert_ptr_nonnull(report_has_finding(rep, "container.too_deep"));
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	for (guint i = 0; i < rep->parts->len; i++)
		ck_assert_uint_le(((struct moat_part *)rep->parts->pdata[i])->container_depth, 5);
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_fixture_many_limit)
{
	/* a small member limit: the rest are counted in the finding, never listed */
	struct moat_conf *c = t_conf_loadf("[containers]\nmax_members = 2\n"
	    "[av]\nsignature_dirs = %s\n", sigdir);
	struct moat_report *rep;
	guint members = 0;

	rep = scan_fixture("sideload.tar.gz", c);
	for (guint i = 0; i < rep->parts->len; i++)
		members += ((struct moat_part *)rep->parts->pdata[i])->parent != NULL;
	ck_assert_uint_eq(members, 2);
	ck_assert_ptr_nonnull(report_has_finding(rep, "container.too_many_members"));
	report_free(rep);
	conf_free(c);
}
END_TEST

/*
 * A RAR member past max_member_bytes is a bomb: the members after it are
 * listed (evil.exe's name still counts) but never taken out into memory.
 */
START_TEST(test_fixture_rar_bomb_stops)
{
	struct moat_conf *c = t_conf_loadf("[containers]\nmax_member_bytes = 1M\n"
	    "[av]\nsignature_dirs = %s\n", sigdir);
	struct moat_report *rep;
	const struct moat_part *big2, *evil;

	rep = scan_fixture("bomb.rar", c);
	ck_assert_ptr_nonnull(report_has_finding(rep, "container.bomb"));
	big2 = t_member(rep, "bomb.rar \xe2\x80\xba big2.bin");
	evil = t_member(rep, "bomb.rar \xe2\x80\xba evil.exe");
	ck_assert_str_eq(big2->sha256, "");	/* listed, not extracted */
	ck_assert_str_eq(evil->sha256, "");
	ck_assert_uint_eq(evil->decoded_size, 512);
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.executable"));
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_same_attachment_twice)
{
	/* moatd's engine lives on: the second mail with the same archive is walked in full too */
	guint n[2] = { 0, 0 };

	for (int round = 0; round < 2; round++) {
		struct moat_report *rep = scan_fixture("nested.zip", conf);

		for (guint i = 0; i < rep->parts->len; i++)
			n[round] += ((struct moat_part *)rep->parts->pdata[i])->parent != NULL;
		report_free(rep);
	}
	ck_assert_uint_ge(n[0], 5);
	ck_assert_uint_eq(n[1], n[0]);
}
END_TEST

/* Evasions found in review: each used to hide a member, a flag or a verdict. */

START_TEST(test_review_unicode_7z)
{
	/* a Cyrillic name: libarchive gave NULL in the C locale and moat crashed */
	struct moat_report *rep = scan_fixture("unicode.7z", conf);

	ck_assert_ptr_nonnull(t_member(rep, "unicode.7z › \xd1\x81\xd1\x87\xd1\x91\xd1\x82.txt"));
	report_free(rep);
}
END_TEST

START_TEST(test_review_eocd_count)
{
	/* an end-of-directory record that claims 0 entries hid both encrypted members */
	struct moat_report *rep = scan_fixture("eocd-count0.zip", conf);
	const struct moat_part *m = t_member(rep, "eocd-count0.zip › payload.exe");

	ck_assert_ptr_nonnull(m);
	ck_assert(m->encrypted);
	ck_assert_ptr_nonnull(t_member(rep, "eocd-count0.zip › notes.txt"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "container.encrypted"));
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
}
END_TEST

START_TEST(test_review_decoy)
{
	/* a plain y/report.pdf must not pass for the encrypted x/report.pdf */
	struct moat_report *rep = scan_fixture("decoy.zip", conf);
	const struct moat_part *x = t_member(rep, "decoy.zip › x/report.pdf");
	const struct moat_part *y = t_member(rep, "decoy.zip › y/report.pdf");
	const struct moat_finding *f = report_has_finding(rep, "container.encrypted");

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	ck_assert(x->encrypted);
	ck_assert(!y->encrypted);
	ck_assert_uint_eq(strlen(y->sha256), 64);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path_display, "decoy.zip › x/report.pdf");
	report_free(rep);
}
END_TEST

START_TEST(test_review_alias)
{
	/* the same bytes as readme.txt and run.js in an image: two files, not an 8.3 alias */
	struct moat_report *rep = scan_fixture("alias.iso", conf);

	ck_assert_ptr_nonnull(t_member(rep, "alias.iso › run.js"));
	ck_assert_ptr_nonnull(t_member(rep, "alias.iso › readme.txt"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.script"));
	report_free(rep);
}
END_TEST

START_TEST(test_review_rar_dirs)
{
	/* 10,000 directories ahead of the payload: directories are not members */
	struct moat_report *rep = scan_fixture("dirs.rar", conf);

	ck_assert_ptr_nonnull(t_member(rep, "dirs.rar › evil.exe"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.executable"));
	report_free(rep);
}
END_TEST

START_TEST(test_review_no_false_bomb)
{
	/* 28 MiB out of 400 KB is a ratio of 72, under 100: the tar layer must not count twice */
	struct moat_report *rep = scan_fixture("biglog.tar.gz", conf);

	ck_assert_ptr_null(report_has_finding(rep, "container.bomb"));
	ck_assert_ptr_nonnull(t_member(rep, "biglog.tar.gz › app.log"));
	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	report_free(rep);
}
END_TEST

/*
 * Bytes moat makes itself (walk_derived(): here the ZIP a page's script
 * builds, tests/fixtures/lures_decrypt.py) stay inside the limits of the
 * part they came from: container depth, members per message, memory, the
 * bytes taken out of that part.
 */
START_TEST(test_derived_limits)
{
	static const char *const mail = FIXTURES "/lures/mail-decrypt-smuggle-blob.html.eml";
	static const char *const zip = "Remittance.html › Remittance_2211.zip";
	struct moat_conf *c;
	struct moat_report *rep;

	rep = t_scan_file(mail, conf);
	ck_assert_str_eq(t_member(rep, zip)->derived, "decoded from script in Remittance.html");
	ck_assert_ptr_nonnull(t_member(rep, "Remittance.html › Remittance_2211.zip › _/data.bin"));
	report_free(rep);
	/* one level of containers: the page's ZIP is listed, what is in it is not */
	c = t_conf_loadf("[containers]\nmax_depth = 1\n[av]\nsignature_dirs = %s\n", sigdir);
	rep = t_scan_file(mail, c);
	ck_assert_uint_eq(t_member(rep, zip)->container_depth, 1);
	ck_assert_str_eq(t_finding(rep, "container.too_deep")->path_display, zip);
	for (guint i = 0; i < rep->parts->len; i++)
		ck_assert_uint_le(((struct moat_part *)rep->parts->pdata[i])->container_depth, 1);
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	conf_free(c);
	/* one member per message: the ZIP, none of its members */
	c = t_conf_loadf("[containers]\nmax_members = 1\n[av]\nsignature_dirs = %s\n", sigdir);
	rep = t_scan_file(mail, c);
	ck_assert_ptr_nonnull(t_member(rep, zip));
	ck_assert_ptr_nonnull(t_finding(rep, "container.too_many_members"));
	ck_assert_uint_eq(rep->parts->len, 3);	/* text, page, ZIP */
	report_free(rep);
	conf_free(c);
	/* 1 KiB of members in memory: the 2,671-byte ZIP is not even made */
	c = t_conf_loadf("[containers]\nmax_member_bytes = 1K\n[av]\nsignature_dirs = %s\n",
	    sigdir);
	rep = t_scan_file(mail, c);
	ck_assert_str_eq(t_finding(rep, "container.bomb")->path_display, "Remittance.html");
	ck_assert_uint_eq(rep->parts->len, 2);
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	conf_free(c);
}
END_TEST

START_TEST(test_review_tmpdir_missing)
{
	/* libclamav answered "clean" without scanning when its temp directory was missing */
	g_autofree char *text = g_strdup_printf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[milter]\nspool_dir = /nonexistent/moat-spool\n", SAMPLES_DIR);
	g_autofree char *err = NULL, *warn = NULL, *path = NULL, *data = NULL, *m = NULL;
	struct moat_conf *c = NULL;
	struct moat_report *rep = NULL;
	gsize len;

	c = t_conf_load(text);
	ck_assert_int_eq(av_load(c, &err, &warn), 0);
	path = g_build_filename(FIXTURES, "eicar.zip", NULL);
	ck_assert(g_file_get_contents(path, &data, &len, NULL));
	m = mail_with("eicar.zip", data, len);
	ck_assert_int_eq(scan_bytes(&rep, m, strlen(m), NULL, c), MOAT_EIO);	/* tempfail, not accept */
	ck_assert_ptr_null(rep);
	conf_free(c);
	g_clear_pointer(&warn, g_free);
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
}
END_TEST

/* Every truncated or corrupted archive ends in a report, never a crash or an error. */
START_TEST(test_fixture_damaged)
{
	g_autoptr(GDir) d = g_dir_open(FIXTURES, 0, NULL);
	const char *name;
	guint n = 0;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		struct moat_report *rep;

		if (!g_str_has_suffix(name, ".trunc") && !g_str_has_suffix(name, ".corrupt"))
			continue;
		rep = scan_fixture(name, conf);
		ck_assert_msg(rep->verdict.action != MOAT_TEMPFAIL, "%s", name);
		report_free(rep);
		n++;
	}
	ck_assert_uint_ge(n, 26);
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
	tcase_add_loop_test(tc, test_fixture_inventory, 0, G_N_ELEMENTS(manifest_cases));
	tcase_add_loop_test(tc, test_fixture_verdict, 0, G_N_ELEMENTS(verdict_cases));
	tcase_add_test(tc, test_fixture_flags);
	tcase_add_test(tc, test_fixture_depth);
	tcase_add_test(tc, test_fixture_many_limit);
	tcase_add_test(tc, test_fixture_rar_bomb_stops);
	tcase_add_test(tc, test_fixture_damaged);
	tcase_add_test(tc, test_same_attachment_twice);
	tcase_add_test(tc, test_review_unicode_7z);
	tcase_add_test(tc, test_review_eocd_count);
	tcase_add_test(tc, test_review_decoy);
	tcase_add_test(tc, test_review_alias);
	tcase_add_test(tc, test_review_rar_dirs);
	tcase_add_test(tc, test_review_no_false_bomb);
	tcase_add_test(tc, test_review_tmpdir_missing);
	tcase_add_test(tc, test_derived_limits);
	suite_add_tcase(s, tc);
	return s;
}
