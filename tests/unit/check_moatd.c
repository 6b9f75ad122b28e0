/*
 * check_moatd.c - moatd's core without an MTA: the message rebuilt from
 * milter callbacks, the spool (memory, then an unlinked temp file), the
 * decision and its SMTP text, the Subject tag, the poison count
 */
#include <string.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "helpers.h"
#include "moat/av.h"
#include "moat/conf.h"
#include "milter/moatd.h"

static struct moat_conf *
moatd_conf(const char *spool_dir, const char *memory)
{
	return t_conf_loadf("[milter]\nspool_dir = %s\nspool_memory_bytes = %s\n", spool_dir, memory);
}

/* feed - a message through the callbacks' entry points, as Postfix sends it */
static struct moatd_msg *
feed(const struct moat_conf *conf, const char *body, gboolean leadspc)
{
	struct moatd_msg *msg = moatd_msg_new();

	moatd_msg_header(msg, conf, "From", leadspc ? " a@example.com" : "a@example.com", leadspc);
	moatd_msg_header(msg, conf, "Subject", leadspc ? " Hello\n\tworld" : "Hello\n\tworld", leadspc);
	moatd_msg_header(msg, conf, "X-Moat-Verdict", "accept", FALSE);
	moatd_msg_header(msg, conf, "x-moat-score", "0", FALSE);
	moatd_msg_eoh(msg, conf);
	moatd_msg_body(msg, conf, (const unsigned char *)body, strlen(body));
	return msg;
}

START_TEST(test_rebuild_in_memory)
{
	struct moat_conf *conf = moatd_conf("/tmp", "1M");
	struct moatd_msg *msg = feed(conf, "line one\r\nline two\r\n", _i == 1);
	const char *want = "From: a@example.com\r\nSubject: Hello\r\n\tworld\r\n"
	    "X-Moat-Verdict: accept\r\nx-moat-score: 0\r\n\r\nline one\r\nline two\r\n";

	ck_assert_int_eq(msg->fd, -1);
	ck_assert_uint_eq(msg->mem->len, strlen(want));
	ck_assert(memcmp(msg->mem->data, want, strlen(want)) == 0);
	ck_assert_uint_eq(msg->size, strlen(want));
	ck_assert_str_eq(msg->subject, "Hello\n\tworld");
	ck_assert_uint_eq(msg->moat_headers[MOATD_HDR_VERDICT], 1);
	ck_assert_uint_eq(msg->moat_headers[MOATD_HDR_SCORE], 1);
	ck_assert_uint_eq(msg->moat_headers[MOATD_HDR_FINDINGS], 0);
	moatd_msg_free(msg);
	conf_free(conf);
}
END_TEST

START_TEST(test_spool_file_unlinked)
{
	g_autofree char *dir = g_dir_make_tmp("moatd-spool-XXXXXX", NULL);
	struct moat_conf *conf = moatd_conf(dir, "1K");
	GString *body = g_string_new(NULL);
	struct moatd_msg *msg;
	struct moatd_decision d;
	GDir *dh;

	for (int i = 0; i < 200; i++)
		g_string_append(body, "a line of text that goes on and on\r\n");
	msg = feed(conf, body->str, FALSE);
	ck_assert_ptr_null(msg->mem);
	ck_assert_int_ge(msg->fd, 0);
	dh = g_dir_open(dir, 0, NULL);
	ck_assert_ptr_null(g_dir_read_name(dh));	/* nothing visible in the spool */
	g_dir_close(dh);
	moatd_msg_decide(&d, msg, conf);
	ck_assert_int_eq(d.action, MOAT_ACCEPT);
	ck_assert_ptr_nonnull(d.report);
	ck_assert_str_eq(d.report->hdr.subject, "Hello world");
	ck_assert_uint_eq(d.report->size, msg->size);
	moatd_decision_clear(&d);
	moatd_msg_free(msg);
	g_rmdir(dir);
	g_string_free(body, TRUE);
	conf_free(conf);
}
END_TEST

START_TEST(test_spool_dir_missing_tempfails)
{
	struct moat_conf *conf = moatd_conf("/nonexistent/spool", "16");
	struct moatd_msg *msg = feed(conf, "body\r\n", FALSE);
	struct moatd_decision d;

	ck_assert(msg->spool_failed);
	moatd_msg_decide(&d, msg, conf);
	ck_assert_int_eq(d.action, MOAT_TEMPFAIL);	/* never an unscanned accept */
	ck_assert_ptr_nonnull(strstr(d.reason, "temporary"));
	moatd_decision_clear(&d);
	moatd_msg_free(msg);
	conf_free(conf);
}
END_TEST

START_TEST(test_decide_reject)
{
	struct moat_conf *conf = moatd_conf("/tmp", "1M");
	struct moatd_msg *msg = moatd_msg_new();
	struct moatd_decision d;
	const char *body = "--B\r\nContent-Type: application/pdf; name=\"Invoice.pdf.exe\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==\r\n"
	    "--B--\r\n";

	g_ptr_array_add(msg->env.rcpt_to, g_strdup("b@example.org"));
	moatd_msg_header(msg, conf, "From", "a@example.com", FALSE);
	moatd_msg_header(msg, conf, "Content-Type", "multipart/mixed; boundary=B", FALSE);
	moatd_msg_eoh(msg, conf);
	moatd_msg_body(msg, conf, (const unsigned char *)body, strlen(body));
	moatd_msg_decide(&d, msg, conf);
	ck_assert_int_eq(d.action, MOAT_REJECT);
	ck_assert_ptr_nonnull(strstr(d.reason, "name.double_extension"));
	ck_assert_str_eq(d.report->env.rcpt_to->pdata[0], "b@example.org");
	moatd_decision_clear(&d);
	moatd_msg_free(msg);
	conf_free(conf);
}
END_TEST

START_TEST(test_tagged_subject)
{
	g_autofree char *a = moatd_tagged_subject("Invoice", "[SUSPICIOUS]");
	g_autofree char *b = moatd_tagged_subject(NULL, "[SUSPICIOUS]");

	ck_assert_str_eq(a, "[SUSPICIOUS] Invoice");
	ck_assert_str_eq(b, "[SUSPICIOUS]");
	ck_assert_ptr_null(moatd_tagged_subject("[SUSPICIOUS] Invoice", "[SUSPICIOUS]"));
	ck_assert_ptr_null(moatd_tagged_subject("  [SUSPICIOUS] Invoice", "[SUSPICIOUS]"));
	ck_assert_ptr_null(moatd_tagged_subject("Invoice", ""));
}
END_TEST

START_TEST(test_findings_line)
{
	struct moat_report *rep = report_new();
	g_autofree char *line = NULL;

	report_add_finding(rep, "attach.executable", NULL, "a");
	report_add_finding(rep, "attach.executable", NULL, "b");
	report_add_finding(rep, "name.conflict", NULL, "c")->score = 0;
	report_add_finding(rep, "mime.ambiguous", NULL, "d");
	line = moatd_findings_line(rep);
	ck_assert_str_eq(line, "attach.executable,mime.ambiguous");
	report_free(rep);
}
END_TEST

START_TEST(test_poison_count)
{
	const char *digest = "feedfacefeedface";

	ck_assert_uint_eq(moatd_poison_count(digest, FALSE), 1);
	ck_assert_uint_eq(moatd_poison_count(digest, FALSE), 2);
	ck_assert_uint_eq(moatd_poison_count("other", FALSE), 1);
	ck_assert_uint_eq(moatd_poison_count(digest, TRUE), 3);	/* counted, then forgotten */
	ck_assert_uint_eq(moatd_poison_count(digest, FALSE), 1);
	moatd_poison_count(digest, TRUE);
	moatd_poison_count("other", TRUE);
}
END_TEST

/* libclamav cannot work (its temp directory is gone): the log names the cause, the reply does not. */
START_TEST(test_scan_error_cause_logged)
{
	g_autofree char *text = g_strdup_printf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[milter]\nspool_dir = /nonexistent/moatd-spool\nspool_memory_bytes = 1M\n",
	    SAMPLES_DIR);
	g_autofree char *logpath = g_build_filename(g_get_tmp_dir(), "moatd-log-XXXXXX", NULL);
	g_autofree char *log = NULL, *err = NULL, *warn = NULL;
	struct moat_conf *conf = t_conf_load(text);
	struct moatd_msg *msg;
	struct moatd_decision d;
	int fd = g_mkstemp(logpath), saved = dup(STDERR_FILENO);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(av_load(conf, &err, &warn), 0);
	msg = feed(conf, "a body libclamav must look at\r\n", FALSE);
	moatd_log_init(TRUE);
	dup2(fd, STDERR_FILENO);	/* moatd -f logs to stderr */
	moatd_msg_decide(&d, msg, conf);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	ck_assert_int_eq(d.action, MOAT_TEMPFAIL);
	ck_assert_ptr_null(strstr(d.reason, "temp directory"));	/* not told to the sender */
	ck_assert(g_file_get_contents(logpath, &log, NULL, NULL));
	ck_assert_msg(strstr(log, "scan failed (input/output error: libclamav") != NULL &&
	    strstr(log, "temp directory") != NULL, "log: %s", log);
	g_unlink(logpath);
	moatd_decision_clear(&d);
	moatd_msg_free(msg);
	av_unload();
	g_free(warn);
	conf_free(conf);
}
END_TEST

Suite *
moatd_suite(void)
{
	Suite *s = suite_create("moatd");
	TCase *tc = tcase_create("moatd");

	tcase_add_loop_test(tc, test_rebuild_in_memory, 0, 2);
	tcase_add_test(tc, test_spool_file_unlinked);
	tcase_add_test(tc, test_spool_dir_missing_tempfails);
	tcase_add_test(tc, test_decide_reject);
	tcase_add_test(tc, test_tagged_subject);
	tcase_add_test(tc, test_findings_line);
	tcase_add_test(tc, test_poison_count);
	tcase_add_test(tc, test_scan_error_cause_logged);
	suite_add_tcase(s, tc);
	return s;
}
