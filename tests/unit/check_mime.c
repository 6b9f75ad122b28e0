/*
 * check_mime.c - the MIME inventory: header facts, names, decoding, limits
 *
 * Messages are built in the test or read from samples/mime/ and from
 * GMime's own decoder vectors in TESTDATA_DIR/mime-gmime/encodings
 * (skipped when that corpus is missing).
 */
#include <string.h>

#include "checks.h"
#include "helpers.h"
#include "moat/conf.h"
#include "moat/mime.h"
#include "moat/report.h"
#include "moat/scan.h"

#define ENC_DIR TESTDATA_DIR "/mime-gmime/encodings/"

/* scan_sample - samples/mime/NAME under the defaults */
static struct moat_report *
scan_sample(const char *name)
{
	g_autofree char *rel = g_build_filename("mime", name, NULL);

	return t_scan_sample(rel, NULL);
}

static char *
file_sha256(const char *path)
{
	g_autofree char *data = NULL;
	gsize len;

	ck_assert(g_file_get_contents(path, &data, &len, NULL));
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

START_TEST(test_header_facts)
{
	struct moat_report *rep = t_scan_text(
	    "From: =?UTF-8?Q?J=C3=BCrgen?= Example <jurgen@example.com>\n"
	    "Reply-To: other@example.net\n"
	    "Return-Path: <bounce@example.org>\n"
	    "Subject: =?UTF-8?B?UmVjaG51bmc=?= 42\n"
	    "Message-ID: <abc@example.com>\n"
	    "Date: Sat, 28 Nov 2026 10:00:00 +0000\n"
	    "\nhello\n", NULL);

	ck_assert_str_eq(rep->hdr.from_name, "Jürgen Example");
	ck_assert_str_eq(rep->hdr.from_addr, "jurgen@example.com");
	ck_assert_ptr_nonnull(strstr(rep->hdr.reply_to, "other@example.net"));
	ck_assert_ptr_nonnull(strstr(rep->hdr.return_path, "bounce@example.org"));
	ck_assert_str_eq(rep->hdr.subject, "Rechnung 42");
	ck_assert_str_eq(rep->hdr.message_id, "abc@example.com");
	ck_assert_str_eq(rep->hdr.date, "Sat, 28 Nov 2026 10:00:00 +0000");
	ck_assert_uint_eq(rep->parts->len, 1);
	ck_assert_str_eq(((struct moat_part *)rep->parts->pdata[0])->content_type, "text/plain");
	ck_assert_uint_eq(rep->findings->len, 0);
	report_free(rep);
}
END_TEST

START_TEST(test_part_fields)
{
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=XX\n\n"
	    "--XX\nContent-Type: text/plain\n\nbody\n"
	    "--XX\nContent-Type: application/pdf; name=\"a.pdf\"\n"
	    "Content-Disposition: attachment; filename=\"a.pdf\"\n"
	    "Content-Transfer-Encoding: BASE64\n\n"
	    "JVBERi0xLjQKJSVFT0YK\n"
	    "--XX--\n", NULL);
	const struct moat_part *p;
	g_autofree char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "%PDF-1.4\n%%EOF\n", -1);

	ck_assert_uint_eq(rep->parts->len, 2);
	p = rep->parts->pdata[1];
	ck_assert_str_eq(p->id, "2");
	ck_assert_uint_eq(p->depth, 1);
	ck_assert_str_eq(p->filename, "a.pdf");
	ck_assert_str_eq(p->disposition, "attachment");
	ck_assert_str_eq(p->transfer_encoding, "base64");
	ck_assert(p->is_attachment);
	ck_assert_uint_eq(p->decoded_size, 15);
	ck_assert_str_eq(p->sha256, sha);
	ck_assert_str_eq(p->sniffed, "pdf");
	ck_assert_str_eq(p->path_display, "a.pdf");
	ck_assert_uint_eq(g_bytes_get_size(p->content), 15);
	ck_assert_uint_eq(rep->findings->len, 0);
	report_free(rep);
}
END_TEST

/* GMime's decoder vectors: the inventory must hash the decoded bytes. */
static const struct { const char *file, *cte, *plain; } enc_cases[] = {
	{ "photo.b64", "base64", "photo.jpg" },
	{ "photo.uu", "x-uuencode", "photo.jpg" },
	{ "wikipedia.qp", "quoted-printable", "wikipedia.txt" },
};

START_TEST(test_decoders)
{
	g_autofree char *enc_path = g_strconcat(ENC_DIR, enc_cases[_i].file, NULL);
	g_autofree char *plain_path = g_strconcat(ENC_DIR, enc_cases[_i].plain, NULL);
	g_autofree char *want = file_sha256(plain_path);
	g_autofree char *body = NULL;
	g_autofree char *msg = NULL;
	struct moat_report *rep;
	const struct moat_part *p;

	ck_assert(g_file_get_contents(enc_path, &body, NULL, NULL));
	msg = g_strdup_printf("From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: application/octet-stream; name=\"x\"\n"
	    "Content-Transfer-Encoding: %s\n\n%s", enc_cases[_i].cte, body);
	rep = t_scan_text(msg, NULL);
	ck_assert_uint_eq(rep->parts->len, 1);
	p = rep->parts->pdata[0];
	ck_assert_str_eq(p->sha256, want);
	ck_assert_ptr_null(report_has_finding(rep, "mime.bad_base64"));
	report_free(rep);
}
END_TEST

START_TEST(test_bad_base64)
{
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: application/octet-stream; name=x.bin\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "TVqQAAMAAAAEAAAA#//8AALgAAAAA!AAAQAAAAAAAA\n", NULL);
	const struct moat_finding *f = report_has_finding(rep, "mime.bad_base64");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->evidence, "2 characters"));
	ck_assert_str_eq(f->path_display, "x.bin");
	report_free(rep);
}
END_TEST

START_TEST(test_base64_after_padding)
{
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: application/octet-stream; name=x.bin\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "aGVsbG8=\nTVqQAAMAAAAEAAAA\n", NULL);

	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.bad_base64"));
	report_free(rep);
}
END_TEST

START_TEST(test_nested_message_path)
{
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=OUT\n\n"
	    "--OUT\nContent-Type: text/plain\n\nsee attached\n"
	    "--OUT\nContent-Type: message/rfc822\n"
	    "Content-Disposition: attachment; filename=\"fwd.eml\"\n\n"
	    "From: b@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=IN\n\n"
	    "--IN\nContent-Type: application/octet-stream; name=\"inner.exe\"\n"
	    "Content-Transfer-Encoding: base64\n\nTVo=\n"
	    "--IN--\n"
	    "--OUT--\n", NULL);
	const struct moat_part *p = t_part_named(rep, "inner.exe");

	ck_assert_str_eq(p->path_display, "fwd.eml \xe2\x80\xba inner.exe");
	ck_assert_uint_eq(p->path->len, 2);
	ck_assert_uint_eq(p->depth, 3);
	ck_assert_str_eq(p->id, "2.1");
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.executable"));
	report_free(rep);
}
END_TEST

START_TEST(test_encoded_message_is_walked)
{
	/* "From: b@example.com\nContent-Type: application/x-msdownload; name=x.exe\n\nMZ\n" */
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\nContent-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "RnJvbTogYkBleGFtcGxlLmNvbQpDb250ZW50LVR5cGU6IGFwcGxpY2F0aW9uL3gtbXNkb3dubG9h\n"
	    "ZDsgbmFtZT14LmV4ZQoKTVoK\n", NULL);
	const struct moat_part *p = t_part_named(rep, "x.exe");

	ck_assert_uint_eq(p->depth, 1);
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.ambiguous"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.executable"));
	report_free(rep);
}
END_TEST

START_TEST(test_boundary_near_miss)
{
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"bound_32a79e25 XXX\"\n\n"
	    "--bound_32a79e25 YYY\nContent-Type: text/plain\n\nhello\n"
	    "--bound_32a79e25 YYY--\n", NULL);
	const struct moat_finding *f = report_has_finding(rep, "mime.ambiguous");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->evidence, "never delimits"));
	report_free(rep);
	rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"bound_32a79e25 XXX\"\n\n"
	    "--bound_32a79e25 XXX\nContent-Type: text/plain\n\nhello\n"
	    "--bound_32a79e25 XXX--  \n", NULL);
	ck_assert_ptr_null(report_has_finding(rep, "mime.ambiguous"));
	report_free(rep);
}
END_TEST

/* A multipart tree DEPTH levels deep around one text leaf. */
static char *
nested_multipart(guint depth)
{
	GString *s = g_string_new("From: a@example.com\nMIME-Version: 1.0\n");

	for (guint i = 0; i < depth; i++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; boundary=b%u\n\n--b%u\n", i, i);
	g_string_append(s, "Content-Type: text/plain\n\ndeep\n");
	for (guint i = depth; i-- > 0;)
		g_string_append_printf(s, "--b%u--\n", i);
	return g_string_free(s, FALSE);
}

START_TEST(test_depth_limit)
{
	struct moat_conf *conf = t_conf_load("[limits]\nmax_depth = 5\n");
	g_autofree char *shallow = nested_multipart(5);
	g_autofree char *deep = nested_multipart(6);
	struct moat_report *rep;

	rep = t_scan_text(shallow, conf);
	ck_assert_uint_eq(rep->parts->len, 1);
	ck_assert_ptr_null(report_has_finding(rep, "mime.too_deep"));
	report_free(rep);
	rep = t_scan_text(deep, conf);
	ck_assert_uint_eq(rep->parts->len, 0);
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.too_deep"));
	report_free(rep);
	conf_free(conf);
}
END_TEST

START_TEST(test_decoded_bytes_limit)
{
	struct moat_conf *conf = t_conf_load("[limits]\nmax_decoded_bytes = 1K\n");
	GString *s = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=B\n\n");
	struct moat_report *rep;
	const struct moat_part *p1, *p2;

	for (int i = 0; i < 2; i++) {
		g_string_append(s, "--B\nContent-Type: text/plain\n\n");
		for (int j = 0; j < 10; j++)
			g_string_append(s, "0123456789012345678901234567890123456789012345678901234567890123\n");
	}
	g_string_append(s, "--B--\n");
	rep = t_scan_text(s->str, conf);
	ck_assert_uint_eq(rep->parts->len, 2);
	p1 = rep->parts->pdata[0];
	p2 = rep->parts->pdata[1];
	ck_assert_ptr_nonnull(p1->content);
	ck_assert_ptr_null(p2->content);
	ck_assert_str_eq(p1->sha256, p2->sha256);	/* still hashed */
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.too_large"));
	report_free(rep);
	conf_free(conf);
	g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_warnings_become_findings)
{
	struct moat_report *rep = t_scan_text(
	    "From: a@example.com\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed\n\n"
	    "--x\nContent-Type: text/plain\n\nhi\n--x--\n", NULL);
	const struct moat_finding *f = report_has_finding(rep, "mime.ambiguous");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->evidence, "multipart without boundary"));
	report_free(rep);
}
END_TEST

/* samples/mime: names decoded to UTF-8 from RFC 2047 and RFC 2231 */
START_TEST(test_sample_rfc2047_name)
{
	struct moat_report *rep = scan_sample("rfc2047-filename.eml");

	t_part_named(rep, "Überweisung.pdf");
	report_free(rep);
}
END_TEST

START_TEST(test_sample_rfc2231_continuation)
{
	struct moat_report *rep = scan_sample("rfc2231-continuation.eml");

	t_part_named(rep, "Verträge_2026.docx");
	report_free(rep);
}
END_TEST

START_TEST(test_sample_name_conflict)
{
	struct moat_report *rep = scan_sample("name-conflict.eml");
	const struct moat_part *p = t_part_named(rep, "photo.jpg");

	ck_assert_str_eq(p->disp_filename, "photo.jpg");
	ck_assert_str_eq(p->type_name, "photo.js");
	ck_assert_ptr_nonnull(report_has_finding(rep, "name.conflict"));
	ck_assert_ptr_nonnull(report_has_finding(rep, "attach.script"));
	report_free(rep);
}
END_TEST

START_TEST(test_sample_tnef)
{
	struct moat_report *rep = scan_sample("tnef-winmail.eml");
	const struct moat_part *p = t_part_named(rep, "winmail.dat");

	ck_assert_str_eq(p->sniffed, "tnef");
	ck_assert_ptr_nonnull(report_has_finding(rep, "mime.tnef"));
	report_free(rep);
}
END_TEST

/* samples/mime: each edge case with the findings it must (and must only) give */
static const struct {
	const char *file;
	const char *findings;	/* exactly these ids, space-separated, in any order;
				 * an id twice means two findings of that kind */
} sample_cases[] = {
	{ "arabic-name.eml", "" },
	{ "hebrew-name.eml", "" },
	{ "headers-full.eml", "" },
	{ "plain-8bit-header.eml", "" },
	{ "rfc2047-filename.eml", "" },
	{ "rfc2231-continuation.eml", "" },
	{ "invisible-char-name.eml", "name.invisible_char" },
	{ "padded-double-ext.eml", "name.double_extension attach.executable" },
	{ "bad-base64.eml", "mime.bad_base64 mime.ambiguous" },
	{ "multipart-no-boundary.eml", "mime.ambiguous mime.ambiguous" },
	{ "duplicate-content-type.eml", "mime.ambiguous" },
	{ "mismatch-pdf-is-zip.eml", "type.mismatch" },
	{ "script-js.eml", "attach.script" },
	{ "nested-rfc822.eml", "attach.executable" },
	{ "name-conflict.eml", "name.conflict attach.script" },
	{ "tnef-winmail.eml", "mime.tnef" },
};

START_TEST(test_sample_findings)
{
	struct moat_report *rep = scan_sample(sample_cases[_i].file);
	g_auto(GStrv) want = g_strsplit(sample_cases[_i].findings, " ", -1);
	guint nwant = 0;

	for (int i = 0; want[i] != NULL; i++) {
		if (want[i][0] == '\0')
			continue;
		nwant++;
		ck_assert_msg(report_has_finding(rep, want[i]) != NULL, "%s: no %s",
		    sample_cases[_i].file, want[i]);
	}
	ck_assert_msg(rep->findings->len == nwant, "%s: %u findings, want %u (first: %s)",
	    sample_cases[_i].file, rep->findings->len, nwant, rep->findings->len ?
	    ((struct moat_finding *)rep->findings->pdata[0])->kind->id : "-");
	report_free(rep);
}
END_TEST

START_TEST(test_sample_headers)
{
	struct moat_report *rep = scan_sample("headers-full.eml");

	ck_assert_str_eq(rep->hdr.from_name, "Alice Example");
	ck_assert_str_eq(rep->hdr.from_addr, "alice@example.com");
	ck_assert_ptr_nonnull(rep->hdr.reply_to);
	ck_assert_ptr_nonnull(rep->hdr.return_path);
	ck_assert_ptr_nonnull(rep->hdr.subject);
	ck_assert_ptr_nonnull(rep->hdr.message_id);
	ck_assert_ptr_nonnull(rep->hdr.date);
	report_free(rep);
}
END_TEST

Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("inventory");

	tcase_add_test(tc, test_header_facts);
	tcase_add_test(tc, test_part_fields);
	if (testdata_have("mime-gmime", "mime/decoders"))
		tcase_add_loop_test(tc, test_decoders, 0, G_N_ELEMENTS(enc_cases));
	tcase_add_test(tc, test_bad_base64);
	tcase_add_test(tc, test_base64_after_padding);
	tcase_add_test(tc, test_nested_message_path);
	tcase_add_test(tc, test_encoded_message_is_walked);
	tcase_add_test(tc, test_boundary_near_miss);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_decoded_bytes_limit);
	tcase_add_test(tc, test_warnings_become_findings);
	tcase_add_test(tc, test_sample_rfc2047_name);
	tcase_add_test(tc, test_sample_rfc2231_continuation);
	tcase_add_test(tc, test_sample_name_conflict);
	tcase_add_test(tc, test_sample_tnef);
	tcase_add_loop_test(tc, test_sample_findings, 0, G_N_ELEMENTS(sample_cases));
	tcase_add_test(tc, test_sample_headers);
	suite_add_tcase(s, tc);
	return s;
}
