/*
 * check_report.c - the finding catalogue, findings, text cleaning and the
 * JSON report a user reads with `moat scan --json`
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "checks.h"
#include "moat/report.h"

START_TEST(test_catalogue)
{
	gsize n;
	const struct moat_finding_kind *k = report_kinds(&n);

	ck_assert_uint_gt(n, 10);
	for (gsize i = 0; i < n; i++) {
		ck_assert_msg(strchr(k[i].id, '.') != NULL, "%s: not group.name", k[i].id);
		ck_assert_msg(k[i].summary[0] != '\0', "%s: no summary", k[i].id);
		ck_assert_msg(k[i].attack[0] == '\0' || k[i].attack[0] == 'T', "%s: attack", k[i].id);
		ck_assert_ptr_eq(report_kind_lookup(k[i].id), &k[i]);	/* ids are unique */
	}
	ck_assert_ptr_null(report_kind_lookup("no.such"));
}
END_TEST

START_TEST(test_finding_path_and_evidence)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_finding *f;

	g_ptr_array_add(path, "invoice.zip");
	g_ptr_array_add(path, "docs.iso");
	g_ptr_array_add(path, "Invoice\xe2\x80\xaeknl.pdf");
	f = report_add_finding(rep, "name.bidi_control", path, "bad\tname\x1b[31m %s", "\xe2\x80\xae");
	g_ptr_array_unref(path);	/* the finding holds its own copy */
	ck_assert_uint_eq(f->path->len, 3);
	ck_assert_str_eq(f->path_display,
	    "invoice.zip \xe2\x80\xba docs.iso \xe2\x80\xba Invoice<U+202E>knl.pdf");
	ck_assert_str_eq(f->evidence, "bad\xef\xbf\xbdname\xef\xbf\xbd[31m <U+202E>");
	ck_assert_int_eq(f->score, 10);
	ck_assert_ptr_eq(report_has_finding(rep, "name.bidi_control"), f);
	ck_assert_ptr_null(report_has_finding(rep, "attach.script"));
	report_free(rep);
	report_free(NULL);
}
END_TEST

START_TEST(test_clean_text)
{
	g_autofree char *bad_utf8 = report_clean_text("a\xff\xfe" "b", -1, 0);
	g_autofree char *longer = report_clean_text("0123456789abcdef0123456789", -1, 16);

	ck_assert(g_utf8_validate(bad_utf8, -1, NULL));
	ck_assert_ptr_nonnull(strchr(bad_utf8, 'b'));
	ck_assert_uint_le(strlen(longer), 16);
	ck_assert(g_str_has_suffix(longer, "\xe2\x80\xa6"));
	ck_assert_ptr_null(report_clean_text(NULL, -1, 0));
}
END_TEST

START_TEST(test_json)
{
	struct moat_report *rep = report_new();
	struct moat_part *p;
	GPtrArray *path = g_ptr_array_new();
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree char *doc = NULL;
	JsonObject *root, *f, *part;
	JsonArray *findings;

	rep->source = g_strdup("x.eml");
	rep->hdr.subject = g_strdup("Rechnung \xff");	/* bytes from mail: made valid */
	g_ptr_array_add(path, "a.exe");
	p = report_part_new(rep, path);
	p->id = g_strdup("2");
	p->content_type = g_strdup("application/octet-stream");
	p->sniffed = "pe";
	report_add_finding(rep, "attach.executable", path, "extension .exe");
	g_ptr_array_unref(path);
	doc = report_to_json(rep, FALSE);

	ck_assert(json_parser_load_from_data(parser, doc, -1, NULL));
	root = json_node_get_object(json_parser_get_root(parser));
	ck_assert_int_eq(json_object_get_int_member(root, "schema_version"), REPORT_SCHEMA_VERSION);
	ck_assert_str_eq(json_object_get_string_member(root, "source"), "x.eml");
	ck_assert(json_object_has_member(root, "envelope"));
	ck_assert(json_object_has_member(root, "verdict"));
	ck_assert(json_node_is_null(json_object_get_member(
	    json_object_get_object_member(root, "headers"), "from")));
	ck_assert(g_utf8_validate(json_object_get_string_member(
	    json_object_get_object_member(root, "headers"), "subject"), -1, NULL));
	part = json_array_get_object_element(json_object_get_array_member(root, "parts"), 0);
	ck_assert_str_eq(json_object_get_string_member(part, "sniffed_type"), "pe");
	ck_assert_str_eq(json_object_get_string_member(part, "path_display"), "a.exe");
	findings = json_object_get_array_member(root, "findings");
	ck_assert_uint_eq(json_array_get_length(findings), 1);
	f = json_array_get_object_element(findings, 0);
	ck_assert_str_eq(json_object_get_string_member(f, "id"), "attach.executable");
	ck_assert_int_eq(json_object_get_int_member(f, "score"), 10);
	ck_assert_str_eq(json_object_get_string_member(f, "severity"), "high");
	ck_assert_str_eq(json_object_get_string_member(f, "attack"), "T1204.002");
	ck_assert_str_eq(json_object_get_string_member(f, "evidence"), "extension .exe");
	ck_assert_uint_eq(json_array_get_length(json_object_get_array_member(f, "path")), 1);
	report_free(rep);
}
END_TEST

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_catalogue);
	tcase_add_test(tc, test_finding_path_and_evidence);
	tcase_add_test(tc, test_clean_text);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return s;
}
