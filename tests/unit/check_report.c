/*
 * check_report.c - the report a user reads: the finding catalogue (ids,
 * summaries, ATT&CK ids), findings with their path and one-line evidence
 * (control, bidi and invisible characters shown, bad UTF-8 repaired), and
 * the JSON of `moat scan --json` read back with json-glib.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "checks.h"
#include "moat/report.h"

#define SEP	REPORT_PATH_SEP		/* " › " */
#define FFFD	"\xef\xbf\xbd"		/* U+FFFD REPLACEMENT CHARACTER */
#define ELLIPSIS "\xe2\x80\xa6"		/* U+2026 */

START_TEST(test_catalogue)
{
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);

	ck_assert_uint_gt(n, 10);
	for (gsize i = 0; i < n; i++) {
		ck_assert_msg(g_regex_match_simple("^[a-z0-9]+\\.([a-z0-9_]+|\\*)$", k[i].id, 0, 0),
		    "'%s' is not group.name or group.*", k[i].id);
		ck_assert_msg(k[i].summary != NULL && k[i].summary[0] != '\0', "%s: no summary",
		    k[i].id);
		ck_assert_msg(k[i].attack != NULL, "%s: attack is NULL", k[i].id);
		ck_assert_msg(k[i].attack[0] == '\0' ||
		    g_regex_match_simple("^T[0-9]{4}(\\.[0-9]{3})?$", k[i].attack, 0, 0),
		    "%s: attack '%s' is not an ATT&CK technique id", k[i].id, k[i].attack);
		/* Only a fact worth recording but not weighing (auth.temperror) scores 0. */
		ck_assert_msg(k[i].score > 0 || (k[i].score == 0 && k[i].severity == MOAT_SEV_INFO),
		    "%s: default score %d", k[i].id, k[i].score);
		ck_assert_str_ne(report_severity_name(k[i].severity), "unknown");
		for (gsize j = 0; j < i; j++)
			ck_assert_msg(strcmp(k[i].id, k[j].id) != 0, "%s is listed twice", k[i].id);
		ck_assert_ptr_eq(report_kind_lookup(k[i].id), &k[i]);
	}
	ck_assert_ptr_null(report_kind_lookup("no.such"));
	ck_assert_ptr_null(report_kind_lookup(""));
	/* A signature name belongs to "av.*"; a group alone or "av." does not. */
	ck_assert_str_eq(report_kind_lookup("av.Win.Test.EICAR_HDB-1")->id, "av.*");
	ck_assert_ptr_null(report_kind_lookup("av."));
	ck_assert_ptr_null(report_kind_lookup("av"));
	ck_assert_ptr_null(report_kind_lookup("attach.nosuch"));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(report_action_name(MOAT_ACCEPT), "accept");
	ck_assert_str_eq(report_action_name(MOAT_TAG), "tag");
	ck_assert_str_eq(report_action_name(MOAT_QUARANTINE), "quarantine");
	ck_assert_str_eq(report_action_name(MOAT_REJECT), "reject");
	ck_assert_str_eq(report_action_name(MOAT_TEMPFAIL), "tempfail");
	ck_assert_str_eq(report_severity_name(MOAT_SEV_INFO), "info");
	ck_assert_str_eq(report_severity_name(MOAT_SEV_HIGH), "high");
	ck_assert_str_eq(report_severity_name(MOAT_SEV_CRITICAL), "critical");
}
END_TEST

START_TEST(test_finding_path)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new_with_free_func(g_free);
	const struct moat_finding_kind *kind = report_kind_lookup("name.bidi_control");
	struct moat_finding *f;

	g_ptr_array_add(path, g_strdup("invoice.zip"));
	g_ptr_array_add(path, g_strdup("docs.iso"));
	g_ptr_array_add(path, g_strdup("Invoice\xe2\x80\xaeknl.pdf"));
	f = report_add_finding(rep, "name.bidi_control", path, "U+202E");
	g_ptr_array_unref(path);	/* the finding holds its own copy */
	path = NULL;

	ck_assert_ptr_eq(f->kind, kind);
	ck_assert_int_eq(f->score, kind->score);
	ck_assert(!f->off);
	ck_assert_uint_eq(f->path->len, 3);
	ck_assert_str_eq(f->path->pdata[0], "invoice.zip");
	ck_assert_str_eq(f->path->pdata[2], "Invoice\xe2\x80\xaeknl.pdf");	/* kept as given */
	/* " › " is U+203A between spaces; the override shows as text, not applied */
	ck_assert_str_eq(f->path_display,
	    "invoice.zip \xe2\x80\xba docs.iso \xe2\x80\xba Invoice<U+202E>knl.pdf");
	ck_assert_ptr_eq(report_has_finding(rep, "name.bidi_control"), f);
	ck_assert_ptr_null(report_has_finding(rep, "attach.script"));
	ck_assert_uint_eq(rep->findings->len, 1);
	report_free(rep);
	report_free(NULL);
}
END_TEST

START_TEST(test_finding_on_message)
{
	struct moat_report *rep = report_new();
	GPtrArray *empty = g_ptr_array_new();
	struct moat_finding *a = report_add_finding(rep, "mime.malformed", NULL, "x");
	struct moat_finding *b = report_add_finding(rep, "mime.too_deep", empty, "y");

	ck_assert_uint_eq(a->path->len, 0);
	ck_assert_str_eq(a->path_display, "");
	ck_assert_uint_eq(b->path->len, 0);
	ck_assert_str_eq(b->path_display, "");
	ck_assert_ptr_eq(report_has_finding(rep, "mime.too_deep"), b);
	g_ptr_array_unref(empty);
	report_free(rep);
}
END_TEST

START_TEST(test_part_path)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, "outer.eml");
	g_ptr_array_add(path, "a\tb.zip");
	p = report_part_new(rep, path);
	g_ptr_array_set_size(path, 0);	/* the part copied it */
	ck_assert_uint_eq(rep->parts->len, 1);
	ck_assert_ptr_eq(rep->parts->pdata[0], p);
	ck_assert_uint_eq(p->path->len, 2);
	ck_assert_str_eq(p->path->pdata[1], "a\tb.zip");
	ck_assert_str_eq(p->path_display, "outer.eml" SEP "a" FFFD "b.zip");
	g_ptr_array_unref(path);
	report_free(rep);
}
END_TEST

/* Evidence comes from mail: whatever it holds, the finding shows one line of valid UTF-8. */
static const struct { const char *raw, *shown; } evidence_cases[] = {
	{ "plain words", "plain words" },
	{ "line1\nline2\r\n", "line1" FFFD "line2" FFFD FFFD },
	{ "tab\there", "tab" FFFD "here" },
	{ "esc\x1b[31mred", "esc" FFFD "[31mred" },
	{ "del\x7f", "del" FFFD },
	{ "a\xe2\x80\xa8" "b\xe2\x80\xa9", "a" FFFD "b" FFFD },	/* U+2028, U+2029 */
	{ "nel\xc2\x85" "c1", "nel" FFFD "c1" },	/* U+0085, a C1 line break */
	{ "Invoice\xe2\x80\xae" "fdp.exe", "Invoice<U+202E>fdp.exe" },
	{ "\xe2\x81\xa6x\xe2\x81\xa9", "<U+2066>x<U+2069>" },
	{ "pay\xe2\x80\x8bment", "pay<U+200B>ment" },
	{ "\xef\xbb\xbf" "bom", "<U+FEFF>bom" },
	{ "bad \xff\xfe utf8", "bad " FFFD FFFD " utf8" },
	{ "broken \xc3(", "broken " FFFD "(" },
	{ "Rechnung f\xfcr Sie", "Rechnung f" FFFD "r Sie" },	/* Latin-1, not UTF-8 */
	{ "\xd7\x93\xd7\x95\xd7\x97.pdf \xe6\x8a\xa5\xe5\x91\x8a", "\xd7\x93\xd7\x95\xd7\x97.pdf "
	    "\xe6\x8a\xa5\xe5\x91\x8a" },	/* Hebrew and Chinese are text, not tricks */
};

START_TEST(test_evidence)
{
	struct moat_report *rep = report_new();
	struct moat_finding *f = report_add_finding(rep, "type.mismatch", NULL, "%s",
	    evidence_cases[_i].raw);

	ck_assert_str_eq(f->evidence, evidence_cases[_i].shown);
	ck_assert(g_utf8_validate(f->evidence, -1, NULL));
	ck_assert_ptr_null(strpbrk(f->evidence, "\r\n"));
	report_free(rep);
}
END_TEST

/* Long evidence is cut to at most 400 bytes, on a character boundary, with an ellipsis. */
static const struct { const char *lead, *fill; } long_cases[] = {
	{ "", "x" },
	{ "", "\xc3\xa9" },		/* é: two bytes, must not be split */
	{ "", "\xe2\x80\xae" },	/* shown as "<U+202E>", 8 bytes */
	{ "aaaaa", "\xf3\xa0\x81\x81" },	/* a tag character, shown as "<U+E0041>", 9 bytes */
};

START_TEST(test_evidence_is_bounded)
{
	struct moat_report *rep = report_new();
	GString *big = g_string_new(long_cases[_i].lead);
	struct moat_finding *f;
	gsize len;
	gboolean valid, ellipsis;

	for (int i = 0; i < 1000; i++)
		g_string_append(big, long_cases[_i].fill);
	f = report_add_finding(rep, "mime.malformed", NULL, "%s", big->str);
	len = strlen(f->evidence);
	valid = g_utf8_validate(f->evidence, -1, NULL);
	ellipsis = g_str_has_suffix(f->evidence, ELLIPSIS);
	g_string_free(big, TRUE);
	report_free(rep);	/* before asserting: nothing leaks when it fails */

	ck_assert_msg(len <= 400, "evidence is %zu bytes", (size_t)len);
	ck_assert_uint_gt(len, 300);
	ck_assert(valid);
	ck_assert(ellipsis);
}
END_TEST

/* report_clean_text keeps at most MAX bytes, whatever the characters expand to. */
static const struct { const char *s; gsize max; } bound_cases[] = {
	{ "0123456789abcdef0123456789", 16 },
	{ "0123456789abcdef0123456789", 17 },
	{ "\xe2\x80\xae\xe2\x80\xae\xe2\x80\xae\xe2\x80\xae", 20 },	/* <U+202E> is 8 bytes */
	{ "123456789\xf3\xa0\x81\x81" "abc", 17 },	/* U+E0041, a tag: "<U+E0041>" is 9 */
	{ "123456789\xf3\xa0\x81\x81", 17 },
	{ "\xf3\xa0\x81\x81\xf3\xa0\x81\x81\xf3\xa0\x81\x81", 12 },
};

START_TEST(test_clean_text_bound)
{
	char *out = report_clean_text(bound_cases[_i].s, -1, bound_cases[_i].max);
	gsize len = strlen(out);
	gboolean valid = g_utf8_validate(out, -1, NULL);
	g_autofree char *shown = g_strescape(out, NULL);

	g_free(out);
	ck_assert_msg(len <= bound_cases[_i].max, "'%s' is %zu bytes, max %zu", shown,
	    (size_t)len, (size_t)bound_cases[_i].max);
	ck_assert(valid);
}
END_TEST

START_TEST(test_clean_text)
{
	g_autofree char *bad_utf8 = report_clean_text("a\xff\xfe" "b", -1, 0);
	g_autofree char *by_len = report_clean_text("abc\ndef", 3, 0);
	g_autofree char *whole = report_clean_text("0123456789abcdef0123456789", -1, 0);

	ck_assert_str_eq(bad_utf8, "a" FFFD FFFD "b");
	ck_assert_str_eq(by_len, "abc");
	ck_assert_str_eq(whole, "0123456789abcdef0123456789");	/* 0: no limit */
	ck_assert_ptr_null(report_clean_text(NULL, -1, 0));
}
END_TEST

START_TEST(test_unichar_trick)
{
	static const gunichar bidi[] = { 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066,
	    0x2067, 0x2068, 0x2069 };
	static const gunichar invisible[] = { 0x200b, 0x200c, 0x200d, 0xfeff, 0x00ad, 0x2060,
	    0x3164, 0xe0041 };
	static const gunichar plain[] = { 'a', 0x05d3, 0x0627, 0x62a5, 0x00e9, 0x203a };

	for (gsize i = 0; i < G_N_ELEMENTS(bidi); i++)
		ck_assert_int_eq(report_unichar_trick(bidi[i]), REPORT_TRICK_BIDI);
	for (gsize i = 0; i < G_N_ELEMENTS(invisible); i++)
		ck_assert_int_eq(report_unichar_trick(invisible[i]), REPORT_TRICK_INVISIBLE);
	for (gsize i = 0; i < G_N_ELEMENTS(plain); i++)
		ck_assert_int_eq(report_unichar_trick(plain[i]), REPORT_TRICK_NONE);
}
END_TEST

/* json_member - OBJ's member NAME, failing the test when it is absent */
static JsonNode *
json_member(JsonObject *obj, const char *name)
{
	JsonNode *n = json_object_get_member(obj, name);

	ck_assert_msg(n != NULL, "no member '%s'", name);
	return n;
}

static JsonObject *
json_obj(JsonObject *obj, const char *name)
{
	JsonNode *n = json_member(obj, name);

	ck_assert_msg(JSON_NODE_HOLDS_OBJECT(n), "'%s' is not an object", name);
	return json_node_get_object(n);
}

static JsonArray *
json_arr(JsonObject *obj, const char *name)
{
	JsonNode *n = json_member(obj, name);

	ck_assert_msg(JSON_NODE_HOLDS_ARRAY(n), "'%s' is not an array", name);
	return json_node_get_array(n);
}

static const char *
json_s(JsonObject *obj, const char *name)
{
	JsonNode *n = json_member(obj, name);

	ck_assert_msg(json_node_get_value_type(n) == G_TYPE_STRING, "'%s' is not a string", name);
	return json_node_get_string(n);
}

static gint64
json_i(JsonObject *obj, const char *name)
{
	JsonNode *n = json_member(obj, name);

	ck_assert_msg(json_node_get_value_type(n) == G_TYPE_INT64, "'%s' is not an integer", name);
	return json_node_get_int(n);
}

static void
json_assert_null(JsonObject *obj, const char *name)
{
	ck_assert_msg(JSON_NODE_HOLDS_NULL(json_member(obj, name)), "'%s' is not null", name);
}

/* A report as the scanners and the policy would leave it. */
static struct moat_report *
json_sample_report(void)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;

	rep->source = g_strdup("x.eml");
	rep->size = 2164;
	rep->env.client_addr = g_strdup("192.0.2.7");
	rep->env.mail_from = g_strdup("ap@example.net");
	g_ptr_array_add(rep->env.rcpt_to, g_strdup("bob@example.org"));
	rep->hdr.subject = g_strdup("Rechnung \xff");	/* bytes from mail: made valid */
	rep->hdr.from_addr = g_strdup("ap@example.net");
	g_ptr_array_add(path, "docs.zip");
	g_ptr_array_add(path, "a.exe");
	p = report_part_new(rep, path);
	p->id = g_strdup("2");
	p->depth = 1;
	p->content_type = g_strdup("application/octet-stream");
	p->filename = g_strdup("a.exe");
	p->decoded_size = 4096;
	p->sniffed = "pe";
	report_add_finding(rep, "attach.executable", path, "extension .exe, bytes are pe");
	report_add_finding(rep, "mime.malformed", NULL, "GMime warning");
	g_ptr_array_unref(path);
	rep->verdict.action = MOAT_QUARANTINE;
	rep->verdict.score = 11;
	g_ptr_array_add(rep->verdict.reasons, g_strdup("attach.executable (10): docs.zip"
	    SEP "a.exe"));
	return rep;
}

START_TEST(test_json)
{
	struct moat_report *rep = json_sample_report();
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree char *doc = report_to_json(rep, FALSE);
	JsonObject *root, *env, *hdr, *part, *f, *verdict;
	JsonArray *parts, *findings, *fpath;
	GError *err = NULL;

	ck_assert_msg(json_parser_load_from_data(parser, doc, -1, &err), "%s",
	    err ? err->message : "");
	ck_assert(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
	root = json_node_get_object(json_parser_get_root(parser));
	ck_assert_int_eq(json_i(root, "schema_version"), REPORT_SCHEMA_VERSION);
	ck_assert_str_eq(json_s(root, "source"), "x.eml");
	ck_assert_int_eq(json_i(root, "size"), 2164);

	env = json_obj(root, "envelope");
	ck_assert_str_eq(json_s(env, "client_address"), "192.0.2.7");
	ck_assert_str_eq(json_s(env, "mail_from"), "ap@example.net");
	json_assert_null(env, "helo");
	ck_assert_uint_eq(json_array_get_length(json_arr(env, "rcpt_to")), 1);
	ck_assert_str_eq(json_array_get_string_element(json_arr(env, "rcpt_to"), 0),
	    "bob@example.org");

	hdr = json_obj(root, "headers");
	json_assert_null(hdr, "from");
	json_assert_null(hdr, "message_id");
	ck_assert_str_eq(json_s(hdr, "from_address"), "ap@example.net");
	ck_assert_str_eq(json_s(hdr, "subject"), "Rechnung " FFFD);

	parts = json_arr(root, "parts");
	ck_assert_uint_eq(json_array_get_length(parts), 1);
	part = json_array_get_object_element(parts, 0);
	ck_assert_str_eq(json_s(part, "id"), "2");
	ck_assert_str_eq(json_s(part, "path_display"), "docs.zip" SEP "a.exe");
	ck_assert_uint_eq(json_array_get_length(json_arr(part, "path")), 2);
	ck_assert_str_eq(json_s(part, "sniffed_type"), "pe");
	ck_assert_str_eq(json_s(part, "content_type"), "application/octet-stream");
	ck_assert_int_eq(json_i(part, "size"), 4096);
	ck_assert_int_eq(json_i(part, "depth"), 1);
	json_assert_null(part, "sha256");	/* not decoded: no hash */
	json_assert_null(part, "disposition");

	findings = json_arr(root, "findings");
	ck_assert_uint_eq(json_array_get_length(findings), 2);
	f = json_array_get_object_element(findings, 0);
	ck_assert_str_eq(json_s(f, "id"), "attach.executable");
	ck_assert_int_eq(json_i(f, "score"), report_kind_lookup("attach.executable")->score);
	ck_assert_str_eq(json_s(f, "severity"), "high");
	ck_assert_str_eq(json_s(f, "attack"), "T1204.002");
	fpath = json_arr(f, "path");
	ck_assert_uint_eq(json_array_get_length(fpath), 2);
	ck_assert_str_eq(json_array_get_string_element(fpath, 0), "docs.zip");
	ck_assert_str_eq(json_array_get_string_element(fpath, 1), "a.exe");
	ck_assert_str_eq(json_s(f, "path_display"), "docs.zip" SEP "a.exe");
	ck_assert_str_eq(json_s(f, "evidence"), "extension .exe, bytes are pe");
	ck_assert(!json_node_get_boolean(json_member(f, "off")));
	f = json_array_get_object_element(findings, 1);
	ck_assert_str_eq(json_s(f, "id"), "mime.malformed");
	json_assert_null(f, "attack");	/* "" in the catalogue */
	ck_assert_uint_eq(json_array_get_length(json_arr(f, "path")), 0);
	ck_assert_str_eq(json_s(f, "path_display"), "");

	verdict = json_obj(root, "verdict");
	ck_assert_str_eq(json_s(verdict, "action"), "quarantine");
	ck_assert_int_eq(json_i(verdict, "score"), 11);
	ck_assert_str_eq(json_array_get_string_element(json_arr(verdict, "reasons"), 0),
	    "attach.executable (10): docs.zip" SEP "a.exe");
	report_free(rep);
}
END_TEST

START_TEST(test_json_pretty_same)
{
	struct moat_report *rep = json_sample_report();
	g_autofree char *flat = report_to_json(rep, FALSE);
	g_autofree char *pretty = report_to_json(rep, TRUE);
	g_autoptr(JsonParser) p1 = json_parser_new();
	g_autoptr(JsonParser) p2 = json_parser_new();

	ck_assert_ptr_null(strchr(flat, '\n'));
	ck_assert_ptr_nonnull(strchr(pretty, '\n'));
	ck_assert(json_parser_load_from_data(p1, flat, -1, NULL));
	ck_assert(json_parser_load_from_data(p2, pretty, -1, NULL));
	ck_assert(json_node_equal(json_parser_get_root(p1), json_parser_get_root(p2)));
	report_free(rep);
}
END_TEST

START_TEST(test_json_empty_report)
{
	struct moat_report *rep = report_new();
	g_autofree char *doc = report_to_json(rep, FALSE);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root;

	ck_assert(json_parser_load_from_data(parser, doc, -1, NULL));
	root = json_node_get_object(json_parser_get_root(parser));
	ck_assert_int_eq(json_i(root, "schema_version"), REPORT_SCHEMA_VERSION);
	json_assert_null(root, "source");
	ck_assert_uint_eq(json_array_get_length(json_arr(root, "parts")), 0);
	ck_assert_uint_eq(json_array_get_length(json_arr(root, "findings")), 0);
	ck_assert_uint_eq(json_array_get_length(json_arr(json_obj(root, "envelope"), "rcpt_to")), 0);
	ck_assert_str_eq(json_s(json_obj(root, "verdict"), "action"), "accept");
	report_free(rep);
}
END_TEST

/* A 1 MB attachment name costs at most REPORT_ELEMENT_MAX bytes per path element, tail kept. */
START_TEST(test_long_name_capped)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new_with_free_func(g_free);
	GString *name = g_string_new(NULL);
	struct moat_part *top, *m;
	const char *el;

	for (int i = 0; i < 200000; i++)
		g_string_append(name, "\xc3\xa9" "abc");	/* é: a cut must not split it */
	g_string_append(name, ".pdf.exe");
	g_ptr_array_add(path, g_strdup(name->str));
	top = report_part_new(rep, path);
	top->id = g_strdup("2");
	el = top->path->pdata[0];
	ck_assert_uint_le(strlen(el), REPORT_ELEMENT_MAX);
	ck_assert(g_str_has_suffix(el, ".pdf.exe"));
	ck_assert(strstr(el, ELLIPSIS) != NULL);
	ck_assert(g_utf8_validate(el, -1, NULL));
	ck_assert_uint_le(strlen(top->path_display), REPORT_DISPLAY_MAX);
	m = report_member_new(rep, top, name->str);
	/* the parent's element is shared, not copied */
	ck_assert_ptr_eq(m->path->pdata[0], top->path->pdata[0]);
	ck_assert_uint_le(strlen(m->path->pdata[1]), REPORT_ELEMENT_MAX);
	ck_assert_uint_le(strlen(m->filename), REPORT_NAME_MAX);
	ck_assert(g_str_has_suffix(m->filename, ".pdf.exe"));
	ck_assert_uint_le(strlen(m->path_display), REPORT_DISPLAY_MAX);
	g_string_free(name, TRUE);
	g_ptr_array_unref(path);
	report_free(rep);
}
END_TEST

/* A deep chain of members: each display path stays under its cap. */
START_TEST(test_deep_display_capped)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new_with_free_func(g_free);
	struct moat_part *p;
	g_autofree char *long_name = g_strnfill(5000, 'n');

	g_ptr_array_add(path, g_strdup("top.zip"));
	p = report_part_new(rep, path);
	p->id = g_strdup("2");
	for (int i = 0; i < 40; i++) {
		p = report_member_new(rep, p, long_name);
		ck_assert_uint_le(strlen(p->path_display), REPORT_DISPLAY_MAX);
	}
	ck_assert(g_str_has_prefix(p->path_display, "top.zip" SEP));
	ck_assert_uint_eq(p->path->len, 41);
	g_ptr_array_unref(path);
	report_free(rep);
}
END_TEST

/* Past REPORT_MAX_SAME_ID findings of one id, the rest are counted, not kept. */
START_TEST(test_same_id_capped)
{
	struct moat_report *rep = report_new();
	struct moat_finding *first = NULL, *f;
	g_autofree char *json = NULL;

	for (int i = 0; i < REPORT_MAX_SAME_ID + 50; i++) {
		f = report_add_finding(rep, "container.encrypted", NULL, "member %d", i);
		if (i == 0)
			first = f;
		if (i >= REPORT_MAX_SAME_ID)
			ck_assert_ptr_eq(f, first);
	}
	report_add_finding(rep, "attach.executable", NULL, "another id is still kept");
	ck_assert_uint_eq(rep->findings->len, REPORT_MAX_SAME_ID + 1);
	ck_assert_uint_eq(rep->findings_dropped, 50);
	json = report_to_json(rep, FALSE);
	ck_assert(strstr(json, "\"findings_dropped\":50") != NULL);
	report_free(rep);
}
END_TEST

/* Past REPORT_MAX_FINDINGS, a new id of a kind found already is dropped; a new kind is kept. */
START_TEST(test_total_capped)
{
	struct moat_report *rep = report_new();
	struct moat_part *p;
	GPtrArray *path = g_ptr_array_new();
	struct moat_finding *f;

	g_ptr_array_add(path, (gpointer)"a.zip");
	p = report_part_new(rep, path);
	for (guint i = 0; rep->findings->len < REPORT_MAX_FINDINGS; i++) {
		g_autofree char *id = g_strdup_printf("av.Test.Sig%u", i);

		report_add_finding_at(rep, id, p, "match %u", i);
	}
	ck_assert_uint_le(rep->findings->len, REPORT_MAX_FINDINGS);
	f = report_add_finding_at(rep, "av.Brand.New", p, "past the cap");
	ck_assert_str_ne(f->id, "av.Brand.New");	/* an av.* finding exists: dropped */
	f = report_add_finding_at(rep, "attach.executable", p, "a kind not seen yet");
	ck_assert_str_eq(f->id, "attach.executable");
	ck_assert_ptr_eq(f->path->pdata[0], p->path->pdata[0]);	/* shared with the part */
	ck_assert_str_eq(f->path_display, "a.zip");
	g_ptr_array_unref(path);
	report_free(rep);
}
END_TEST

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("findings");
	TCase *tt = tcase_create("text");
	TCase *tj = tcase_create("json");

	tcase_add_test(tc, test_catalogue);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_finding_path);
	tcase_add_test(tc, test_finding_on_message);
	tcase_add_test(tc, test_part_path);
	tcase_add_test(tc, test_long_name_capped);
	tcase_add_test(tc, test_deep_display_capped);
	tcase_add_test(tc, test_same_id_capped);
	tcase_add_test(tc, test_total_capped);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(tt, test_evidence, 0, G_N_ELEMENTS(evidence_cases));
	tcase_add_loop_test(tt, test_evidence_is_bounded, 0, G_N_ELEMENTS(long_cases));
	tcase_add_loop_test(tt, test_clean_text_bound, 0, G_N_ELEMENTS(bound_cases));
	tcase_add_test(tt, test_clean_text);
	tcase_add_test(tt, test_unichar_trick);
	suite_add_tcase(s, tt);

	tcase_add_test(tj, test_json);
	tcase_add_test(tj, test_json_pretty_same);
	tcase_add_test(tj, test_json_empty_report);
	suite_add_tcase(s, tj);
	return s;
}
