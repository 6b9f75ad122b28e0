/*
 * check_corpus.c - third-party corpora a user would judge moat by
 *
 * MIME evasion (TESTDATA_DIR/mime-evasion-noxxi): every mail hides an
 * attachment behind a MIME trick; moat must show the payload in the
 * inventory ("found": its decoded bytes, or its real name) or flag the
 * message mime.ambiguous ("flagged"). Mails neither found nor flagged must
 * be listed in evasion-known-misses.txt; any other miss fails the test, so
 * the number can only go down. The counts per validity level are printed.
 *
 * False positives (ham-spamassassin): 2,750 real legitimate mails; none may
 * be quarantined or rejected with the default config. Every mail with any
 * finding is printed with its findings. Real-world shapes (samples/real:
 * meeting invitations, signed mail, inline images, list footers, forwards)
 * must come out without a single scored finding.
 *
 * Every mail goes through the whole pipeline as moatd runs it: libclamav's
 * engine loaded with moat's signatures, so an error of the walk fails here.
 * A test whose corpus is not in the test data is skipped (testdata_have()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "helpers.h"
#include "moat/av.h"
#include "moat/conf.h"
#include "moat/report.h"
#include "moat/scan.h"

#define EVASION_DIR TESTDATA_DIR "/mime-evasion-noxxi"
#define KNOWN_MISSES SAMPLES_DIR "/../tests/unit/evasion-known-misses.txt"
#define REAL_DIR SAMPLES_DIR "/real"

/* corpus_engine - libclamav with moat's signatures, as moatd and moat scan load it */
static void
corpus_engine(void)
{
	struct moat_conf *c = t_conf_load("[av]\nsignature_dirs = " SAMPLES_DIR "/../conf/signatures\n");
	char *err = NULL, *warn = NULL;

	if (av_load(c, &err, &warn) != 0)
		ck_abort_msg("engine: %s", err);
	ck_assert_uint_gt(av_signatures(), 0);
	g_free(warn);
	conf_free(c);
}

struct evasion_row {
	char *file;
	int validity;
	char *payload_id;
};

static GPtrArray *
evasion_index(const char *set)
{
	g_autofree char *path = g_strdup_printf("%s/%s/index.tsv", EVASION_DIR, set);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *rows = g_ptr_array_new();

	ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
		struct evasion_row *r;

		if (lines[i][0] == '#' || g_strv_length(f) < 3)
			continue;
		r = g_new0(struct evasion_row, 1);
		r->file = g_strdup(f[0]);
		r->validity = atoi(f[1]);
		r->payload_id = g_strdup(f[2]);
		g_ptr_array_add(rows, r);
	}
	return rows;
}

static void
evasion_rows_free(GPtrArray *rows)
{
	for (guint i = 0; i < rows->len; i++) {
		struct evasion_row *r = rows->pdata[i];

		g_free(r->file);
		g_free(r->payload_id);
		g_free(r);
	}
	g_ptr_array_unref(rows);
}

static gboolean
part_has_text(const struct moat_part *p, const char *needle)
{
	gsize n;
	const void *d;

	if (p->content == NULL)
		return FALSE;
	d = g_bytes_get_data(p->content, &n);
	return memmem(d, n, needle, strlen(needle)) != NULL;
}

/* hide-content: found when a part holds the payload's bytes */
static gboolean
found_content(const struct moat_report *rep, const struct evasion_row *r, const char *sha)
{
	(void)r;
	for (guint i = 0; i < rep->parts->len; i++)
		if (strcmp(((struct moat_part *)rep->parts->pdata[i])->sha256, sha) == 0)
			return TRUE;
	return FALSE;
}

/* hide-filename: found when the payload part carries its real extension in any declared name */
static gboolean
found_name(const struct moat_report *rep, const struct evasion_row *r, const char *unused)
{
	const char *ext = strstr(r->payload_id, ".png") ? ".png" : ".zip";

	(void)unused;
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		const char *names[] = { p->filename, p->disp_filename, p->type_name };

		if (!part_has_text(p, "named 'test.zip'"))
			continue;
		for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
			g_autofree char *lower = names[k] ? g_ascii_strdown(names[k], -1) : NULL;

			if (lower != NULL && g_str_has_suffix(lower, ext))
				return TRUE;
		}
	}
	return FALSE;
}

/* the payload of hide-content: the eicar.zip of its validity-3 control mails */
static char *
evasion_payload_sha(GPtrArray *rows, const struct moat_conf *conf)
{
	char *sha = NULL;

	for (guint i = 0; i < rows->len; i++) {
		const struct evasion_row *r = rows->pdata[i];
		g_autofree char *path = NULL;
		struct moat_report *rep;

		if (r->validity != 3)
			continue;
		path = g_strdup_printf("%s/hide-content/%s", EVASION_DIR, r->file);
		rep = t_scan_file(path, conf);
		for (guint k = 0; k < rep->parts->len; k++) {
			const struct moat_part *p = rep->parts->pdata[k];

			if (g_strcmp0(p->filename, "eicar.zip") != 0)
				continue;
			ck_assert_str_eq(p->sniffed, "zip");
			if (sha == NULL)
				sha = g_strdup(p->sha256);
			ck_assert_str_eq(sha, p->sha256);	/* every control agrees */
		}
		report_free(rep);
	}
	ck_assert_ptr_nonnull(sha);
	return sha;
}

static void
evasion_run(const char *set, gboolean (*found)(const struct moat_report *,
    const struct evasion_row *, const char *))
{
	struct moat_conf *conf = conf_new_defaults();
	GPtrArray *rows = evasion_index(set);
	g_autofree char *sha = strcmp(set, "hide-content") == 0 ? evasion_payload_sha(rows, conf) : NULL;
	g_autofree char *known = NULL;
	guint counts[4][3] = { { 0 } };	/* validity x found/flagged/missed */
	GString *unexpected = g_string_new(NULL);

	g_file_get_contents(KNOWN_MISSES, &known, NULL, NULL);
	for (guint i = 0; i < rows->len; i++) {
		const struct evasion_row *r = rows->pdata[i];
		g_autofree char *path = g_strdup_printf("%s/%s/%s", EVASION_DIR, set, r->file);
		g_autofree char *key = g_strdup_printf("%s/%s\n", set, r->file);
		struct moat_report *rep = t_scan_file(path, conf);
		int v = CLAMP(r->validity, 0, 3);

		if (found(rep, r, sha))
			counts[v][0]++;
		else if (report_has_finding(rep, "mime.ambiguous") != NULL)
			counts[v][1]++;
		else {
			counts[v][2]++;
			if (known == NULL || strstr(known, key) == NULL)
				g_string_append_printf(unexpected, " %s/%s (%s)", set, r->file, r->payload_id);
		}
		report_free(rep);
	}
	for (int v = 3; v >= 0; v--)
		printf("evasion %s validity %d: %u found, %u flagged, %u missed\n", set, v,
		    counts[v][0], counts[v][1], counts[v][2]);
	ck_assert_msg(unexpected->len == 0, "missed, not in the known list:%s", unexpected->str);
	ck_assert_uint_eq(counts[3][2] + counts[2][2], 0);	/* valid mail is never missed */
	g_string_free(unexpected, TRUE);
	evasion_rows_free(rows);
	conf_free(conf);
}

START_TEST(test_evasion_hide_content)
{
	evasion_run("hide-content", found_content);
}
END_TEST

START_TEST(test_evasion_hide_filename)
{
	evasion_run("hide-filename", found_name);
}
END_TEST

static void
ham_tree(const char *dir, const struct moat_conf *conf, guint *count, guint *with_findings,
    GString *held)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct moat_report *rep;

		if (!g_str_has_suffix(name, ".txt") || strncmp(name, "LICENSE", 7) == 0)
			continue;
		rep = t_scan_file(path, conf);
		(*count)++;
		if (rep->findings->len > 0) {
			(*with_findings)++;
			printf("ham %s %s:", report_action_name(rep->verdict.action), name);
			for (guint i = 0; i < rep->findings->len; i++)
				printf(" %s", ((struct moat_finding *)rep->findings->pdata[i])->kind->id);
			printf("\n");
		}
		if (rep->verdict.action >= MOAT_QUARANTINE)
			g_string_append_printf(held, " %s (%s)", name,
			    report_action_name(rep->verdict.action));
		report_free(rep);
	}
}

START_TEST(test_ham_no_false_positive)
{
	struct moat_conf *conf = conf_new_defaults();
	GString *held = g_string_new(NULL);
	guint count = 0, with_findings = 0;

	ham_tree(TESTDATA_DIR "/ham-spamassassin/easy_ham", conf, &count, &with_findings, held);
	ham_tree(TESTDATA_DIR "/ham-spamassassin/hard_ham", conf, &count, &with_findings, held);
	printf("ham: %u mails, %u with a finding\n", count, with_findings);
	ck_assert_uint_eq(count, 2750);
	ck_assert_msg(held->len == 0, "legitimate mail held:%s", held->str);
	g_string_free(held, TRUE);
	conf_free(conf);
}
END_TEST

START_TEST(test_real_mail_clean)
{
	struct moat_conf *conf = conf_new_defaults();
	g_autoptr(GDir) d = g_dir_open(REAL_DIR, 0, NULL);
	GString *scored = g_string_new(NULL);
	const char *name;
	guint n = 0;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(REAL_DIR, name, NULL);
		struct moat_report *rep;

		if (!g_str_has_suffix(name, ".eml"))
			continue;
		rep = t_scan_file(path, conf);
		n++;
		for (guint i = 0; i < rep->findings->len; i++) {
			const struct moat_finding *f = rep->findings->pdata[i];

			if (f->score > 0)
				g_string_append_printf(scored, " %s: %s (%s)", name, f->id, f->evidence);
		}
		ck_assert_int_eq(rep->verdict.action, MOAT_ACCEPT);
		report_free(rep);
	}
	ck_assert_uint_ge(n, 7);
	ck_assert_msg(scored->len == 0, "scored findings on real mail:%s", scored->str);
	g_string_free(scored, TRUE);
	conf_free(conf);
}
END_TEST

Suite *
corpus_suite(void)
{
	Suite *s = suite_create("corpus");
	TCase *tc = tcase_create("corpus");

	tcase_set_timeout(tc, 300);	/* thousands of mails, under ASan too */
	tcase_add_checked_fixture(tc, corpus_engine, av_unload);
	if (testdata_have("mime-evasion-noxxi", "corpus/evasion_hide_content"))
		tcase_add_test(tc, test_evasion_hide_content);
	if (testdata_have("mime-evasion-noxxi", "corpus/evasion_hide_filename"))
		tcase_add_test(tc, test_evasion_hide_filename);
	if (testdata_have("ham-spamassassin", "corpus/ham_no_false_positive"))
		tcase_add_test(tc, test_ham_no_false_positive);
	tcase_add_test(tc, test_real_mail_clean);
	suite_add_tcase(s, tc);
	return s;
}
