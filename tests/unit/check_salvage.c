/*
 * check_salvage.c - the lenient second reading (salvage.c)
 *
 * One test per trick of the MIME evasion corpus that the lenient reading
 * learnt: a small hand-written message hides PAYLOAD behind the trick, and
 * moat must show it (a part holds its bytes) or flag the message
 * mime.ambiguous. Each brings a near miss shaped like real mail that must
 * come out without a scored finding.
 */
#include <string.h>

#include "checks.h"
#include "moat/conf.h"
#include "moat/report.h"
#include "moat/scan.h"

/* what every message here hides: a zip's magic, a line break, a high byte */
static const guchar payload[] = { 'P', 'K', 3, 4, '\n', 0xff };

#define HDR "From: a@example.com\nTo: b@example.com\nSubject: t\nMIME-Version: 1.0\n"
#define MULTI HDR "Content-Type: multipart/mixed; boundary=\"b_1234\"\n\n" \
	"--b_1234\nContent-Type: text/plain\n\nSee the attachment.\n\n"

static struct moat_report *
salv_scan(const char *msg)
{
	struct moat_conf *conf = conf_new_defaults();
	struct moat_report *rep = NULL;

	ck_assert_int_eq(scan_bytes(&rep, msg, strlen(msg), NULL, conf), 0);
	conf_free(conf);
	return rep;
}

/* salv_part_with - the part whose decoded bytes are DATA (LEN bytes), or NULL */
static const struct moat_part *
salv_part_with(const struct moat_report *rep, const guchar *data, gsize len)
{
	g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);

	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (strcmp(p->sha256, sha) == 0)
			return p;
	}
	return NULL;
}

/* salv_assert_found - MSG shows the payload; its mime.ambiguous finding says WHY (or none: NULL) */
static void
salv_assert_found(const char *msg, const char *why)
{
	struct moat_report *rep = salv_scan(msg);
	const struct moat_finding *f = report_has_finding(rep, "mime.ambiguous");

	ck_assert_msg(salv_part_with(rep, payload, sizeof(payload)) != NULL, "payload not shown");
	if (why != NULL) {
		ck_assert_ptr_nonnull(f);
		ck_assert_msg(strstr(f->evidence, why) != NULL, "evidence '%s' lacks '%s'",
		    f->evidence, why);
	}
	report_free(rep);
}

/* salv_assert_clean - MSG, a real-mail shape, gets no scored finding and no salvaged part */
static void
salv_assert_clean(const char *msg)
{
	struct moat_report *rep = salv_scan(msg);

	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		ck_assert_msg(f->score == 0, "scored finding %s (%s)", f->id, f->evidence);
	}
	for (guint i = 0; i < rep->parts->len; i++)
		ck_assert(!((const struct moat_part *)rep->parts->pdata[i])->salvaged);
	report_free(rep);
}

/* "=50= \n": blanks after a final '=' are transport padding (RFC 2045 6.7); GMime keeps them */
START_TEST(test_qp_padded_soft_break)
{
	salv_assert_found(MULTI "--b_1234\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "=50= \n=4B=\t\n=03=  \n=04= \n=0A= \n=FF\n--b_1234--\n", "soft line break");
	/* near miss: soft breaks without blanks, blanks at the end of a text line */
	salv_assert_clean(MULTI "--b_1234\nContent-Type: text/plain; name=\"notes.txt\"\n"
	    "Content-Disposition: attachment; filename=\"notes.txt\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Total =3D 12, see the long line that an encoder breaks he=\nre.  \n"
	    "Regards =\n\n--b_1234--\n");
}
END_TEST

/* "=0a=50=": lower-case escapes among upper-case ones; GMime decodes them, a strict decoder drops them */
START_TEST(test_qp_mixed_case_escapes)
{
	salv_assert_found(MULTI "--b_1234\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "=0a=50=\n=0a=4B=\n=0a=03=\n=0a=04=\n=0a=0A=\n=0a=FF\n--b_1234--\n", "both cases");
	/* near miss: an encoder that writes lower-case hex, all of it */
	salv_assert_clean(MULTI "--b_1234\nContent-Type: text/plain; charset=iso-8859-1; name=\"cv.txt\"\n"
	    "Content-Disposition: attachment; filename=\"cv.txt\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Ren=e9 M=fcller, Z=fcrich =3d 8001\n--b_1234--\n");
}
END_TEST

/* "X-Foo: bar\rContent-Transfer-Encoding: base64": a client that ends lines at CR reads two headers */
START_TEST(test_header_bare_cr)
{
	salv_assert_found(MULTI "--b_1234\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    "X-Foo: bar\rContent-Transfer-Encoding: base64\n\n"
	    "UEsDBAr/\n--b_1234--\n", "bare CR");
	/* near miss: bare CRs in Thread-Topic and a description, before no header we read */
	salv_assert_clean(HDR "Thread-Topic: Fwd:\rRe: the scan\n"
	    "Content-Type: multipart/mixed; boundary=\"b_1234\"\n\n"
	    "--b_1234\nContent-Type: text/plain\n\nSee the attachment.\n\n"
	    "--b_1234\nContent-Type: application/pdf; name=\"scan.pdf\"\n"
	    "Content-Description: Scan\rof the invoice\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b_1234--\n");
}
END_TEST

/* " Content-Transfer-Encoding: base64": folded into the header before, or a header of its own */
START_TEST(test_header_folded_content)
{
	salv_assert_found(MULTI "--b_1234\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    " Content-Transfer-Encoding: base64\n\n"
	    "UEsDBAr/\n--b_1234--\n", "folded header line");
	/* near miss: SpamAssassin's folded report, folded Content-* parameters */
	salv_assert_clean(HDR "X-Spam-Report:\n\t* -2.6 BAYES_00 BODY: Bayes spam probability is 0 to 1%\n"
	    "\tContent analysis details:   (-2.6 points, 5.0 required)\n"
	    "\tContent preview:  see the attachment\n"
	    "Content-Type: multipart/mixed;\n boundary=\"b_1234\"\n\n"
	    "--b_1234\nContent-Type: text/plain\n\nSee the attachment.\n\n"
	    "--b_1234\nContent-Type: application/pdf;\n\tname=\"scan.pdf\"\n"
	    "Content-Disposition: attachment;\n filename=\"scan.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b_1234--\n");
}
END_TEST

/* "--b\n\nContent-Transfer-Encoding: base64": a part without headers, or headers after a blank line */
START_TEST(test_blank_line_before_headers)
{
	salv_assert_found(MULTI "--b_1234\n\nContent-Transfer-Encoding: base64\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n\n"
	    "UEsDBAr/\n--b_1234--\n", "blank line between");
	/* near miss: a part without headers that quotes other headers after a blank line */
	salv_assert_clean(MULTI "--b_1234\n\nFrom: the minutes of Monday\nSubject: budget\n\n"
	    "We agreed on the numbers.\n--b_1234--\n");
}
END_TEST

/* boundary=' b_1234': no quotes to RFC 2045, so the boundary is "'"; quotes and a blank to a client */
START_TEST(test_boundary_single_quotes)
{
	salv_assert_found(HDR "Content-Type: multipart/mixed; boundary=' b_1234'\n\n"
	    "-- b_1234\nContent-Type: text/plain\n\nSee the attachment.\n\n"
	    "-- b_1234\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    "Content-Transfer-Encoding: base64\n\nUEsDBAr/\n-- b_1234--\n", "single quotes");
	/* near miss: a quoted boundary with a blank inside (RFC 2046 5.1.1 allows it) */
	salv_assert_clean(HDR "Content-Type: multipart/mixed; boundary=\"b 1234\"\n\n"
	    "--b 1234\nContent-Type: text/plain\n\nSee the attachment.\n\n"
	    "--b 1234\nContent-Type: application/pdf; name=\"it's.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b 1234--\n");
}
END_TEST

/* " \r--b" and "\r--b": no boundary line to RFC 2046, one to a client that ends lines at CR */
START_TEST(test_boundary_behind_bare_cr)
{
	static const char *const lead[] = { " \r", "\r", "\t\r\r" };

	for (gsize i = 0; i < G_N_ELEMENTS(lead); i++) {
		g_autofree char *msg = g_strdup_printf(HDR
		    "Content-Type: multipart/mixed; boundary=\"b_1234\"\n\n"
		    "%s--b_1234\nContent-Type: application/octet-stream\n"
		    "Content-Disposition: attachment; filename=\"p.bin\"\n"
		    "Content-Transfer-Encoding: base64\n\nUEsDBAr/\n\n"
		    "--b_1234\nContent-Type: text/plain\n\ninnocent\n\n--b_1234--\n", lead[i]);

		salv_assert_found(msg, "bare CR");
	}
	/* near miss: CRLF mail with blank-only lines and a signature separator */
	salv_assert_clean("From: a@example.com\r\nTo: b@example.com\r\nSubject: t\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b_1234\"\r\n\r\n"
	    "--b_1234\r\nContent-Type: text/plain\r\n\r\nHello\r\n \r\n-- \r\nAlice\r\n\r\n"
	    "--b_1234\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n \r\n--b_1234--\r\n");
}
END_TEST

/* no boundary declared at all, but "--b_12345678--" closes parts that "--b_12345678 X" opens */
START_TEST(test_boundary_undeclared)
{
	salv_assert_found(HDR "\n--b_12345678 X\nContent-Type: text/plain\n\nSee the attachment.\n"
	    "--b_12345678 X\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    "Content-Transfer-Encoding: base64\n\nUEsDBAr/\n--b_12345678--\n", "close delimiter");
	/* near miss: a plain-text question that quotes a multipart body */
	salv_assert_clean(HDR "\nMail.app wrote this, why does it break?\n\n"
	    "--Apple-Mail-1234 starts each part\n--Apple-Mail-1234\n"
	    "Content-Type: text/plain\n\nhello\n--Apple-Mail-1234--\n\n-- \nBob\n");
}
END_TEST

/* "begin 644 name" and uuencode in a text body: GMime shows text, clients an attachment */
START_TEST(test_inline_uuencode)
{
	static const char msg[] = "From: a@example.com\nTo: b@example.com\nSubject: t\n\n"
	    "Here it is.\n\n---\nbegin 644 p.bin\n&4$L#!`K_\n`\nend\n\n---\nBye\n";
	struct moat_report *rep;

	salv_assert_found(msg, NULL);
	rep = salv_scan(msg);
	ck_assert_ptr_null(report_has_finding(rep, "mime.ambiguous"));	/* shown, so not ambiguous */
	report_free(rep);
	/* near miss: prose about uuencode */
	salv_assert_clean("From: a@example.com\nTo: b@example.com\nSubject: t\n\n"
	    "The first line reads\nbegin 644 notes.txt\nThen comes the data, and at last\nend\n");
}
END_TEST

/* yEnc ("=ybegin", bytes plus 42, "=yend") inline in a text body, and as a transfer encoding */
START_TEST(test_yenc)
{
	static const char msg[] = "From: a@example.com\nTo: b@example.com\nSubject: t\n\n"
	    "Here it is.\n\n---\n=ybegin line=128 size=6 name=p.bin\r\nzu-.=t)\r\n=yend size=6\n";
	struct moat_report *rep;

	salv_assert_found(msg, NULL);
	rep = salv_scan(msg);
	ck_assert_ptr_null(report_has_finding(rep, "mime.ambiguous"));	/* shown, so not ambiguous */
	report_free(rep);
	salv_assert_found(MULTI "--b_1234\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"p.bin\"\n"
	    "Content-Transfer-Encoding: x-yencode\n\n"
	    "=ybegin line=128 size=6 name=p.bin\nzu-.4)\n=yend size=6\n--b_1234--\n", "x-yencode");
	/* near miss: prose about yEnc */
	salv_assert_clean("From: a@example.com\nTo: b@example.com\nSubject: t\n\n"
	    "A post starts with\n=ybegin and its parameters, and ends with\n=yend\n");
}
END_TEST

Suite *
salvage_suite(void)
{
	Suite *s = suite_create("salvage");
	TCase *tc = tcase_create("lenient");

	tcase_add_test(tc, test_qp_padded_soft_break);
	tcase_add_test(tc, test_qp_mixed_case_escapes);
	tcase_add_test(tc, test_header_bare_cr);
	tcase_add_test(tc, test_header_folded_content);
	tcase_add_test(tc, test_blank_line_before_headers);
	tcase_add_test(tc, test_boundary_single_quotes);
	tcase_add_test(tc, test_boundary_behind_bare_cr);
	tcase_add_test(tc, test_boundary_undeclared);
	tcase_add_test(tc, test_inline_uuencode);
	tcase_add_test(tc, test_yenc);
	suite_add_tcase(s, tc);
	return s;
}
