/*
 * check_decrypt.c - encrypted archives opened with the mail's passwords (scanners/containers/decrypt.c)
 *
 * decrypt_zip() on the archives tests/fixtures/build.sh and lures_decrypt.py
 * make at test time (ZipCrypto with `zip -P`, WinZip AES with 7z), then the
 * derive stage end to end through scan_bytes(): what the message's password
 * opens is walked in place of the encrypted member, what stays closed is
 * judged by its names, and the files HTML smuggling carries are walked as
 * members of the page. libclamav is loaded with moat's own signatures.
 */
#include <string.h>
#include <time.h>

#include "checks.h"
#include "helpers.h"
#include "moat/decrypt.h"
#include "moat/smuggle.h"

#define FIXTURES BUILD_DIR "/fixtures"	/* tests/fixtures/build.sh, run by make unit */
#define LURES FIXTURES "/lures"

static struct moat_conf *conf;

static void
decrypt_setup(void)
{
	conf = t_av_conf();
}

static void
decrypt_teardown(void)
{
	t_av_release(&conf);
}

/* read - the bytes of fixture PATH (caller g_free()s) */
static guint8 *
read_fixture(const char *path, gsize *len)
{
	gchar *data = NULL;

	ck_assert_msg(g_file_get_contents(path, &data, len, NULL),
	    "%s missing: run tests/fixtures/build.sh %s", path, FIXTURES);
	return (guint8 *)data;
}

/* What decrypt_zip() reported, one row per entry. */
struct got {
	GPtrArray *rows;		/* char *: "name outcome candidate tried len head" */
	guint opened;
	gboolean mz;			/* an opened entry starts with MZ */
};

static void
got_entry(void *ctx, const struct decrypt_entry *e, const guint8 *data, gsize len)
{
	struct got *g = ctx;

	g_ptr_array_add(g->rows, g_strdup_printf("%s %s %u %u %zu", e->name,
	    decrypt_outcome_name(e->outcome), e->candidate, e->tried, (size_t)len));
	if (e->outcome == DECRYPT_OPENED) {
		ck_assert_ptr_nonnull(data);
		ck_assert_uint_eq(len, e->size);
		g->opened++;
		g->mz |= len >= 2 && data[0] == 'M' && data[1] == 'Z';
	} else {
		ck_assert_ptr_null(data);
	}
}

/* try_zip - decrypt_zip() of fixture PATH with CANDS under LIM (NULL: generous); caller frees rows */
static struct got
try_zip(const char *path, const char *const *cands, guint n, const struct decrypt_limits *lim)
{
	static const struct decrypt_limits def = { DECRYPT_MAX_ENTRIES, 64u << 20, 0 };
	struct got g = { g_ptr_array_new_with_free_func(g_free), 0, FALSE };
	gsize len;
	g_autofree guint8 *data = read_fixture(path, &len);
	guint reported = decrypt_zip(data, len, cands, n, lim != NULL ? lim : &def, got_entry, &g);

	ck_assert_uint_eq(reported, g.rows->len);
	return g;
}

static gboolean
has_row(const struct got *g, const char *row)
{
	for (guint i = 0; i < g->rows->len; i++)
		if (strcmp(g->rows->pdata[i], row) == 0)
			return TRUE;
	return FALSE;
}

#define assert_row(g, row) ck_assert_msg(has_row(&(g), (row)), "no row '%s' (%u rows, first '%s')", \
	(row), (g).rows->len, (g).rows->len ? (char *)(g).rows->pdata[0] : "")

START_TEST(test_zipcrypto_second_candidate)
{
	/* encrypted.zip: zip -P infected, payload.exe and notes.txt */
	static const char *const cands[] = { "not-it", "infected" };
	struct got g = try_zip(FIXTURES "/encrypted.zip", cands, 2, NULL);

	ck_assert_uint_eq(g.rows->len, 2);
	ck_assert_uint_eq(g.opened, 2);
	ck_assert(g.mz);
	for (guint i = 0; i < g.rows->len; i++)
		ck_assert_msg(strstr(g.rows->pdata[i], " opened 1 2 ") != NULL, "%s",
		    (char *)g.rows->pdata[i]);
	g_ptr_array_unref(g.rows);
}
END_TEST

START_TEST(test_zipcrypto_wrong)
{
	static const char *const cands[] = { "infected1", "Infected", "infecte" };
	struct got g = try_zip(FIXTURES "/encrypted.zip", cands, 3, NULL);

	ck_assert_uint_eq(g.opened, 0);
	ck_assert_uint_eq(g.rows->len, 2);
	for (guint i = 0; i < g.rows->len; i++)
		ck_assert_msg(strstr(g.rows->pdata[i], " wrong 0 3 0") != NULL, "%s",
		    (char *)g.rows->pdata[i]);
	g_ptr_array_unref(g.rows);
}
END_TEST

START_TEST(test_no_candidates)
{
	struct got g = try_zip(FIXTURES "/encrypted.zip", NULL, 0, NULL);

	ck_assert_uint_eq(g.rows->len, 2);
	assert_row(g, "payload.exe not tried 0 0 0");
	g_ptr_array_unref(g.rows);
}
END_TEST

/*
 * ZipCrypto checks a password by one byte of its 12-byte header: a wrong
 * one passes about once in 256 and libarchive then fails the entry. With
 * 2,000 wrong candidates before the right one, some pass that check for
 * each entry (all but certainly: 0.9961^2000 < 0.1%); one reader per
 * candidate means the right one is still tried, and opens both.
 */
START_TEST(test_check_byte_passes_do_not_stop)
{
	enum { WRONG = 2000 };
	g_autoptr(GPtrArray) cands = g_ptr_array_new_with_free_func(g_free);
	struct got g;

	for (guint i = 0; i < WRONG; i++)
		g_ptr_array_add(cands, g_strdup_printf("wrong-%u", i));
	g_ptr_array_add(cands, g_strdup("infected"));
	g = try_zip(FIXTURES "/encrypted.zip", (const char *const *)cands->pdata, cands->len, NULL);
	ck_assert_uint_eq(g.opened, 2);
	for (guint i = 0; i < g.rows->len; i++)
		ck_assert_msg(strstr(g.rows->pdata[i], " opened 2000 2001 ") != NULL, "%s",
		    (char *)g.rows->pdata[i]);
	g_ptr_array_unref(g.rows);
}
END_TEST

START_TEST(test_winzip_aes)
{
	/* lures_decrypt.py: 7z a -tzip -mem=AES256 -p12041985, two PDFs (AE-2: no CRC stored) */
	static const char *const right[] = { "12.04.1985", "12041985" }, *const wrong[] = { "1204198" };
	struct got g = try_zip(LURES "/decrypt-records-aes.zip", right, 2, NULL);

	ck_assert_uint_eq(g.opened, 2);
	ck_assert_msg(strstr(g.rows->pdata[0], " opened 1 2 ") != NULL, "%s", (char *)g.rows->pdata[0]);
	g_ptr_array_unref(g.rows);
	g = try_zip(LURES "/decrypt-records-aes.zip", wrong, 1, NULL);
	ck_assert_uint_eq(g.opened, 0);
	assert_row(g, "Befund.pdf wrong 0 1 0");
	g_ptr_array_unref(g.rows);
}
END_TEST

START_TEST(test_limits)
{
	static const char *const cands[] = { "infected" };
	struct decrypt_limits one = { 1, 64u << 20, 0 }, small = { 64, 16, 0 },
	    late = { 64, 64u << 20, 1 };
	struct got g;

	/* one entry: the second is not reported at all */
	g = try_zip(FIXTURES "/encrypted.zip", cands, 1, &one);
	ck_assert_uint_eq(g.rows->len, 1);
	ck_assert_uint_eq(g.opened, 1);
	g_ptr_array_unref(g.rows);
	/* 16 bytes at most: neither is taken out */
	g = try_zip(FIXTURES "/encrypted.zip", cands, 1, &small);
	ck_assert_uint_eq(g.opened, 0);
	for (guint i = 0; i < g.rows->len; i++)
		ck_assert_msg(strstr(g.rows->pdata[i], " too large 0 0 0") != NULL, "%s",
		    (char *)g.rows->pdata[i]);
	g_ptr_array_unref(g.rows);
	/* a deadline long past: nothing is tried */
	g = try_zip(FIXTURES "/encrypted.zip", cands, 1, &late);
	ck_assert_uint_eq(g.opened, 0);
	assert_row(g, "payload.exe not tried 0 0 0");
	g_ptr_array_unref(g.rows);
}
END_TEST

START_TEST(test_not_a_zip)
{
	static const char *const cands[] = { "infected" };
	static const struct decrypt_limits lim = { 64, 1u << 20, 0 };
	gsize len;
	g_autofree guint8 *data = read_fixture(FIXTURES "/encrypted.zip", &len);
	struct got g = { g_ptr_array_new_with_free_func(g_free), 0, FALSE };

	/* cut short: no central directory, nothing to report */
	ck_assert_uint_eq(decrypt_zip(data, len / 2, cands, 1, &lim, got_entry, &g), 0);
	ck_assert_uint_eq(decrypt_zip((const guint8 *)"PK\x05\x06", 4, cands, 1, &lim, got_entry,
	    &g), 0);
	/* the data damaged, the directory intact: no entry opens, none crashes */
	for (gsize i = 0; i < len / 2; i += 7)
		data[i] ^= 0x5a;
	decrypt_zip(data, len, cands, 1, &lim, got_entry, &g);
	ck_assert_uint_eq(g.opened, 0);
	g_ptr_array_unref(g.rows);
}
END_TEST

/* mail_zip - a message whose text says BODY and which carries fixture PATH as NAME */
static char *
mail_zip(const char *subject, const char *body, const char *name, const char *path)
{
	gsize len;
	g_autofree guint8 *data = read_fixture(path, &len);
	g_autofree char *b64 = g_base64_encode(data, len);
	GString *m = g_string_new(NULL);

	g_string_append_printf(m, "From: a@example.net\nTo: b@example.org\nSubject: %s\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain; charset=utf-8\n\n%s\n"
	    "--b\nContent-Type: application/zip\n"
	    "Content-Disposition: attachment; filename=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n", subject, body, name);
	for (gsize i = 0, n = strlen(b64); i < n; i += 76)
		g_string_append_printf(m, "%.76s\n", b64 + i);
	g_string_append(m, "--b--\n");
	return g_string_free(m, FALSE);
}

static struct moat_report *
scan_zip_mail(const char *body, const char *path)
{
	g_autofree char *m = mail_zip("Invoice", body, "invoice.zip", path);

	return t_scan_text(m, conf);
}

START_TEST(test_scan_opened_is_judged_by_contents)
{
	struct moat_report *rep = scan_zip_mail("Hello,\n\nthe password is: infected\n",
	    FIXTURES "/encrypted.zip");
	const struct moat_part *exe = t_member(rep, "invoice.zip › payload.exe");
	const struct moat_finding *f = t_finding(rep, "container.decrypted");
	g_autofree char *json = report_to_json(rep, FALSE);

	/* the encrypted member itself, filled in: one listing, not two */
	ck_assert(exe->encrypted);
	ck_assert_str_eq(exe->derived, "decrypted with the password from the body (part 1, text/plain)");
	ck_assert_str_eq(exe->sniffed, "pe");
	ck_assert_uint_eq(strlen(exe->sha256), 64);
	ck_assert_ptr_nonnull(t_member(rep, "invoice.zip › notes.txt")->derived);
	ck_assert_str_eq(f->path_display, "invoice.zip");
	ck_assert_int_eq(f->score, 0);
	ck_assert_str_eq(f->evidence, "2 of 2 encrypted members opened with the password from "
	    "the body (part 1, text/plain) and scanned");
	ck_assert_ptr_null(report_has_finding(rep, "container.encrypted"));
	ck_assert_ptr_null(report_has_finding(rep, "lure.encrypted_runnable"));
	/* what the program inside says: it is a program */
	ck_assert_str_eq(t_finding(rep, "attach.executable")->path_display, "invoice.zip › payload.exe");
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	ck_assert_ptr_nonnull(strstr(json, "\"derived\":\"decrypted with the password from the body "
	    "(part 1, text/plain)\""));
	ck_assert_ptr_nonnull(strstr(json, "\"derived\":null"));
	report_free(rep);
}
END_TEST

START_TEST(test_scan_documents_opened_clean)
{
	/* lures_decrypt.py: a payslip in a ZipCrypto ZIP, "Das Passwort lautet: Geheim-2026" */
	struct moat_report *rep = t_scan_file(LURES "/mail-decrypt-payslip.zip.eml", conf);

	ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
	ck_assert_int_eq(rep->verdict.score, 0);
	ck_assert_ptr_nonnull(t_finding(rep, "container.decrypted"));
	ck_assert_str_eq(t_part_named(rep, "Gehaltsabrechnung_2026-11.pdf")->sniffed, "pdf");
	report_free(rep);
}
END_TEST

START_TEST(test_scan_wrong_password_held)
{
	struct moat_report *rep = scan_zip_mail("Password: infected2026\n", FIXTURES "/encrypted.zip");
	const struct moat_finding *f = t_finding(rep, "lure.password_mismatch");

	ck_assert_str_eq(f->path_display, "invoice.zip");
	ck_assert_str_eq(f->evidence, "the password given in the body (part 1, text/plain) opens "
	    "none of its 2 encrypted members (1 candidate tried)");
	ck_assert_str_eq(t_finding(rep, "container.encrypted")->evidence, "encrypted member, not "
	    "scanned: the password the message gives does not open it");
	ck_assert_ptr_null(report_has_finding(rep, "container.decrypted"));
	ck_assert_ptr_null(t_member(rep, "invoice.zip › notes.txt")->derived);
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
}
END_TEST

START_TEST(test_scan_no_password_by_names)
{
	struct moat_report *rep = scan_zip_mail("see attached\n", FIXTURES "/encrypted.zip");
	const struct moat_finding *f = t_finding(rep, "lure.encrypted_runnable");

	ck_assert_str_eq(f->path_display, "invoice.zip");
	ck_assert_ptr_nonnull(strstr(f->evidence, "payload.exe (1 of 2 encrypted members"));
	ck_assert_str_eq(t_finding(rep, "container.encrypted")->evidence,
	    "encrypted member, not scanned: the message gives no password");
	ck_assert_int_ge(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
	/* documents only, no password: tagged, the banner says it was not scanned */
	rep = t_scan_file(LURES "/mail-decrypt-nopw-docs.zip.eml", conf);
	ck_assert_int_eq(rep->verdict.action, MOAT_TAG);
	ck_assert_int_eq(rep->verdict.score, 5);
	ck_assert_ptr_nonnull(t_finding(rep, "container.encrypted"));
	for (guint i = 0; i < rep->findings->len; i++)
		ck_assert(!g_str_has_prefix(((struct moat_finding *)rep->findings->pdata[i])->id,
		    "lure."));
	report_free(rep);
}
END_TEST

/* Prose after a password word is no password: a ZIP of documents it cannot open is only tagged. */
static const char *const prose[] = {
	"Kennwort: wie besprochen\n", "Le mot de passe : envoyé séparément\n",
	"Password - ask me by phone\n",
};

START_TEST(test_scan_prose_no_mismatch)
{
	struct moat_report *rep = scan_zip_mail(prose[_i], LURES "/decrypt-nopw-docs.zip");

	ck_assert_ptr_null(report_has_finding(rep, "lure.password_mismatch"));
	ck_assert_ptr_nonnull(t_finding(rep, "container.encrypted"));
	ck_assert_int_eq(rep->verdict.action, MOAT_TAG);
	report_free(rep);
}
END_TEST

START_TEST(test_scan_7z)
{
	/* 7z AES with visible names: libarchive 3.6 cannot decrypt it, even with the password */
	struct moat_report *rep = scan_zip_mail("Password: infected\n", FIXTURES "/encrypted.7z");
	const struct moat_finding *f = t_finding(rep, "container.encrypted");

	ck_assert_str_eq(f->evidence, "encrypted member, not scanned: moat cannot decrypt 7z "
	    "(libarchive 3.6 has no 7z decryption)");
	ck_assert_ptr_null(report_has_finding(rep, "lure.password_mismatch"));
	ck_assert_ptr_nonnull(t_finding(rep, "lure.encrypted_runnable"));	/* payload.exe */
	report_free(rep);
	/* names encrypted too: nothing can be seen, held */
	rep = scan_zip_mail("see attached\n", FIXTURES "/encrypted-headers.7z");
	f = t_finding(rep, "lure.encrypted_hidden_names");
	ck_assert_str_eq(f->path_display, "invoice.zip");
	ck_assert_ptr_null(report_has_finding(rep, "container.encrypted"));
	ck_assert_int_eq(rep->verdict.action, MOAT_QUARANTINE);
	report_free(rep);
}
END_TEST

START_TEST(test_scan_smuggled_zip_walked)
{
	/* lures_decrypt.py: a page whose script builds Remittance_2211.zip holding a shortcut */
	struct moat_report *rep = t_scan_file(LURES "/mail-decrypt-smuggle-blob.html.eml", conf);
	const struct moat_part *zip = t_member(rep, "Remittance.html › Remittance_2211.zip");
	const struct moat_finding *f = t_finding(rep, "lure.lnk_interpreter");

	ck_assert_str_eq(zip->derived, "decoded from script in Remittance.html");
	ck_assert_str_eq(zip->sniffed, "zip");
	ck_assert_uint_eq(zip->container_depth, 1);
	ck_assert_str_eq(f->path_display,
	    "Remittance.html › Remittance_2211.zip › Remittance_2211.pdf.lnk");
	ck_assert_ptr_null(t_member(rep, "Remittance.html › Remittance_2211.zip › "
	    "Remittance_2211.pdf.lnk")->derived);	/* found inside what was derived */
	ck_assert_int_eq(rep->verdict.action, MOAT_REJECT);
	report_free(rep);
}
END_TEST

START_TEST(test_scan_smuggled_encrypted)
{
	/* the page smuggles an encrypted ZIP and gives its password: both steps */
	struct moat_report *rep = t_scan_file(LURES "/mail-decrypt-smuggle-locked.html.eml", conf);
	const struct moat_part *lnk = t_part_named(rep, "Voicemail_0931.pdf.lnk");

	ck_assert_str_eq(lnk->derived, "decrypted with the password from the body (part 2, text/html)");
	ck_assert_str_eq(lnk->parent->derived, "decoded from script in the body (part 2, text/html)");
	ck_assert_ptr_nonnull(t_finding(rep, "lure.lnk_interpreter"));
	report_free(rep);
}
END_TEST

/*
 * smuggled_page - a report of page.html whose script decodes ZIP (LEN
 * bytes) from base64 into a Blob, then FILL repeated to about SIZE bytes
 */
static struct moat_report *
smuggled_page(const guint8 *zip, gsize len, const char *fill, gsize size)
{
	struct moat_report *rep = report_new();
	g_autoptr(GPtrArray) path = g_ptr_array_new();
	g_autofree char *b64 = g_base64_encode(zip, len);
	GString *page = g_string_new(NULL);
	struct moat_part *p;

	g_string_printf(page, "<html><script>var f = atob('%s'); var b = new Blob([f]);\n", b64);
	while (page->len < size)
		g_string_append(page, fill);
	g_string_append(page, "</script></html>");
	g_ptr_array_add(path, (char *)"page.html");
	p = report_part_new(rep, path);
	p->filename = g_strdup("page.html");
	p->content = g_bytes_new_take(page->str, page->len);
	g_string_free(page, FALSE);
	return rep;
}

/*
 * The names a page gives its downloads are read once: 1 MB of
 * "msSaveBlob(" costs about what 1 MB of text does (each call read 4 KB
 * ahead for its arguments: 9.8 s for a 7.7 MB page), and the ZIP it
 * carries still comes out whole.
 */
START_TEST(test_smuggle_names_linear)
{
	static const char *const fills[] = { "msSaveBlxb(", "msSaveBlob(", "new File(" };
	gsize len;
	g_autofree guint8 *zip = read_fixture(FIXTURES "/deep.zip", &len);
	gint64 us[G_N_ELEMENTS(fills)];

	for (gsize k = 0; k < G_N_ELEMENTS(fills); k++) {
		struct moat_report *rep = smuggled_page(zip, len, fills[k], 1u << 20);
		g_autoptr(GPtrArray) files = NULL;
		const struct smuggle_file *f;
		gint64 t0 = t_thread_us();

		files = smuggle_files(rep, rep->parts->pdata[0], 64u << 20);
		us[k] = t_thread_us() - t0;
		ck_assert_uint_eq(files->len, 1);
		f = files->pdata[0];
		ck_assert_ptr_nonnull(f->bytes);
		ck_assert_uint_eq(g_bytes_get_size(f->bytes), len);
		ck_assert_int_eq(memcmp(g_bytes_get_data(f->bytes, NULL), zip, len), 0);
		report_free(rep);
	}
	for (gsize k = 1; k < G_N_ELEMENTS(fills); k++)
		ck_assert_msg(us[k] < 8 * us[0] + 20000, "'%s': %" G_GINT64_FORMAT " us, text: %"
		    G_GINT64_FORMAT " us", fills[k], us[k], us[0]);
}
END_TEST

Suite *
decrypt_suite(void)
{
	Suite *s = suite_create("decrypt");
	TCase *tc = tcase_create("decrypt");

	tcase_add_unchecked_fixture(tc, decrypt_setup, decrypt_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_zipcrypto_second_candidate);
	tcase_add_test(tc, test_zipcrypto_wrong);
	tcase_add_test(tc, test_no_candidates);
	tcase_add_test(tc, test_check_byte_passes_do_not_stop);
	tcase_add_test(tc, test_winzip_aes);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_not_a_zip);
	tcase_add_test(tc, test_scan_opened_is_judged_by_contents);
	tcase_add_test(tc, test_scan_documents_opened_clean);
	tcase_add_test(tc, test_scan_wrong_password_held);
	tcase_add_test(tc, test_scan_no_password_by_names);
	tcase_add_loop_test(tc, test_scan_prose_no_mismatch, 0, G_N_ELEMENTS(prose));
	tcase_add_test(tc, test_scan_7z);
	tcase_add_test(tc, test_scan_smuggled_zip_walked);
	tcase_add_test(tc, test_scan_smuggled_encrypted);
	tcase_add_test(tc, test_smuggle_names_linear);
	suite_add_tcase(s, tc);
	return s;
}
