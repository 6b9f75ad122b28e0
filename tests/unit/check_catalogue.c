/*
 * check_catalogue.c - the finding catalogue in docs/findings.md against the code's table
 *
 * docs/findings.md (found as the parent of SAMPLES_DIR) has one table per
 * group ("## lure") with the columns id | score | severity | ATT&CK | what it
 * catches | looks similar | how to tune. report_kinds() is the code's table,
 * the one `moat config findings` prints. Every kind must have exactly one
 * row, in its group's table, with the same score, severity and ATT&CK id
 * ("-" where the code has none), and every row a kind; "what it catches" and
 * "how to tune" must say something, "looks similar" may be "—" (nothing
 * benign resembles it) but not empty. cat_diff() lists every difference, one
 * line each naming the id, so one run shows all that is out of step. The
 * other tests write the code's table out as a catalogue (cat_synth()), find
 * no difference in it, then damage it and check that each kind of
 * difference is reported, and nothing else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "moat/report.h"

#define CATALOGUE_PATH SAMPLES_DIR "/../docs/findings.md"
#define CAT_COLUMNS 7

/* One table row of docs/findings.md, its cells trimmed (owned by the row). */
struct cat_row {
	guint line;			/* 1-based line in the file */
	char *group;			/* the "## group" heading above it, or NULL */
	char *cells[CAT_COLUMNS];
	guint ncells;
};

/* cat_row_free - a row and its cells */
static void
cat_row_free(gpointer p)
{
	struct cat_row *r = p;

	g_free(r->group);
	for (guint i = 0; i < r->ncells && i < CAT_COLUMNS; i++)
		g_free(r->cells[i]);
	g_free(r);
}

/*
 * cat_split - the cells of a table LINE ("| a | b |"), trimmed, into ROW; a
 * "\|" inside a cell is a pipe, not a separator. Cells past CAT_COLUMNS are
 * counted, not kept.
 */
static void
cat_split(struct cat_row *row, const char *line)
{
	const char *p = line + 1;	/* past the leading '|' */
	GString *cell = g_string_new(NULL);

	for (; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == '|') {
			g_string_append_c(cell, '|');
			p++;
		} else if (*p == '|') {
			if (row->ncells < CAT_COLUMNS)
				row->cells[row->ncells] = g_strstrip(g_strdup(cell->str));
			row->ncells++;
			g_string_truncate(cell, 0);
		} else {
			g_string_append_c(cell, *p);
		}
	}
	g_string_free(cell, TRUE);
}

/*
 * cat_parse - the id rows of TEXT: table lines whose first cell is a
 * `code` id (the header and separator lines are not). Caller frees the
 * array.
 */
static GPtrArray *
cat_parse(const char *text)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(cat_row_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *group = NULL;

	for (guint i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];
		struct cat_row *row;

		if (g_str_has_prefix(l, "## ")) {
			g_free(group);
			group = g_strstrip(g_strdup(l + 3));
			continue;
		}
		if (!g_str_has_prefix(l, "| `"))
			continue;
		row = g_new0(struct cat_row, 1);
		row->line = i + 1;
		row->group = g_strdup(group);
		cat_split(row, l);
		g_ptr_array_add(rows, row);
	}
	return rows;
}

/* cat_id - the id of ROW without its backticks; caller frees */
static char *
cat_id(const struct cat_row *row)
{
	const char *c = row->ncells > 0 ? row->cells[0] : "";
	gsize n = strlen(c);

	if (n >= 2 && c[0] == '`' && c[n - 1] == '`')
		return g_strndup(c + 1, n - 2);
	return g_strdup(c);
}

/* cat_blank - whether CELL says nothing, or (unless DASH_OK) only a dash */
static gboolean
cat_blank(const char *cell, gboolean dash_ok)
{
	if (cell == NULL || cell[0] == '\0')
		return TRUE;
	if (dash_ok)
		return FALSE;
	return strcmp(cell, "-") == 0 || g_str_has_prefix(cell, "—");
}

/* cat_check_row - ROW against its kind K (NULL: no such kind); lines into OUT */
static void
cat_check_row(GString *out, const char *name, const struct cat_row *row,
    const struct moat_finding_kind *k)
{
	g_autofree char *id = cat_id(row);
	g_autofree char *group = g_strndup(id, strcspn(id, "."));
	const char *attack;
	char score[16];

	if (k == NULL) {
		g_string_append_printf(out, "%s:%u: %s has a row but no kind in scanners/report.c\n",
		    name, row->line, id);
		return;
	}
	if (row->ncells != CAT_COLUMNS) {
		g_string_append_printf(out, "%s:%u: %s: %u cells, not %d\n", name, row->line, id,
		    row->ncells, CAT_COLUMNS);
		return;
	}
	g_snprintf(score, sizeof score, "%d", k->score);
	if (strcmp(row->cells[1], score) != 0)
		g_string_append_printf(out, "%s:%u: %s: score %s here, %s in scanners/report.c\n",
		    name, row->line, id, row->cells[1], score);
	if (strcmp(row->cells[2], report_severity_name(k->severity)) != 0)
		g_string_append_printf(out, "%s:%u: %s: severity %s here, %s in scanners/report.c\n",
		    name, row->line, id, row->cells[2], report_severity_name(k->severity));
	attack = k->attack[0] != '\0' ? k->attack : "-";
	if (strcmp(row->cells[3], attack) != 0)
		g_string_append_printf(out, "%s:%u: %s: ATT&CK %s here, %s in scanners/report.c\n",
		    name, row->line, id, row->cells[3], attack);
	if (cat_blank(row->cells[4], FALSE))
		g_string_append_printf(out, "%s:%u: %s: \"what it catches\" is empty\n",
		    name, row->line, id);
	if (cat_blank(row->cells[5], TRUE))
		g_string_append_printf(out, "%s:%u: %s: \"looks similar\" is empty (\"—\" if nothing "
		    "benign resembles it)\n", name, row->line, id);
	if (cat_blank(row->cells[6], FALSE))
		g_string_append_printf(out, "%s:%u: %s: \"how to tune\" is empty\n",
		    name, row->line, id);
	if (g_strcmp0(row->group, group) != 0)
		g_string_append_printf(out, "%s:%u: %s is under \"## %s\", not \"## %s\"\n",
		    name, row->line, id, row->group != NULL ? row->group : "(no heading)", group);
}

/*
 * cat_diff - every difference between the catalogue TEXT (called NAME in
 * the messages) and report_kinds(), one line each; "" when they agree.
 * Caller frees.
 */
static char *
cat_diff(const char *text, const char *name)
{
	g_autoptr(GPtrArray) rows = cat_parse(text);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GString *out = g_string_new(NULL);
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);

	for (guint i = 0; i < rows->len; i++) {
		const struct cat_row *row = rows->pdata[i];
		char *id = cat_id(row);
		const struct moat_finding_kind *kind = NULL;

		for (gsize j = 0; j < n && kind == NULL; j++)
			if (strcmp(k[j].id, id) == 0)
				kind = &k[j];
		if (g_hash_table_contains(seen, id)) {
			g_string_append_printf(out, "%s:%u: %s has a second row (line %u)\n", name,
			    row->line, id, GPOINTER_TO_UINT(g_hash_table_lookup(seen, id)));
			g_free(id);
			continue;
		}
		cat_check_row(out, name, row, kind);
		g_hash_table_insert(seen, id, GUINT_TO_POINTER(row->line));
	}
	for (gsize j = 0; j < n; j++)
		if (!g_hash_table_contains(seen, k[j].id))
			g_string_append_printf(out, "%s: %s (scanners/report.c) has no row\n",
			    name, k[j].id);
	return g_string_free(out, FALSE);
}

/* cat_read - docs/findings.md; caller frees */
static char *
cat_read(void)
{
	char *text = NULL;
	g_autoptr(GError) err = NULL;

	ck_assert_msg(g_file_get_contents(CATALOGUE_PATH, &text, NULL, &err), "%s: %s",
	    CATALOGUE_PATH, err != NULL ? err->message : "");
	return text;
}

/* The shipped catalogue and the code's table agree, row for kind. */
START_TEST(test_docs_match_code)
{
	g_autofree char *text = cat_read();
	g_autofree char *diff = cat_diff(text, "docs/findings.md");
	g_autoptr(GPtrArray) rows = cat_parse(text);
	gsize n = 0;

	report_kinds(&n);
	ck_assert_msg(diff[0] == '\0', "docs/findings.md and scanners/report.c differ:\n%s", diff);
	ck_assert_uint_eq(rows->len, n);
}
END_TEST

/*
 * cat_line - the table line of kind K with SCORE, severity SEV, ATT&CK
 * ATTACK and the three text cells; caller frees
 */
static char *
cat_line(const struct moat_finding_kind *k, int score, const char *sev, const char *attack,
    const char *catches, const char *similar, const char *tune)
{
	return g_strdup_printf("| `%s` | %d | %s | %s | %s | %s | %s |", k->id, score, sev,
	    attack, catches, similar, tune);
}

/* cat_good_line - the line of kind K as the catalogue should have it; caller frees */
static char *
cat_good_line(const struct moat_finding_kind *k)
{
	g_autofree char *tune = g_strdup_printf("`[scores] %s = off`", k->id);

	return cat_line(k, k->score, report_severity_name(k->severity),
	    k->attack[0] != '\0' ? k->attack : "-", "what it catches", "—", tune);
}

/*
 * cat_synth - a catalogue made from report_kinds(), every row right, with
 * "## group" headings and the table header; caller frees
 */
static char *
cat_synth(void)
{
	GString *out = g_string_new("# findings\n");
	g_autofree char *group = NULL;
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);

	for (gsize i = 0; i < n; i++) {
		g_autofree char *g = g_strndup(k[i].id, strcspn(k[i].id, "."));
		g_autofree char *line = cat_good_line(&k[i]);

		if (g_strcmp0(g, group) != 0) {
			g_string_append_printf(out, "\n## %s\n\n| id | score | severity | ATT&CK | "
			    "what it catches | looks similar | how to tune |\n| --- | --- | --- | "
			    "--- | --- | --- | --- |\n", g);
			g_free(group);
			group = g_steal_pointer(&g);
		}
		g_string_append_printf(out, "%s\n", line);
	}
	return g_string_free(out, FALSE);
}

/* text_replace - TEXT with the first FROM replaced by TO; the test fails if FROM is absent */
static char *
text_replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	ck_assert_msg(at != NULL, "'%s' not in the catalogue", from);
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* diff_has - whether DIFF holds the line part printf(FMT, ...) */
static gboolean G_GNUC_PRINTF(2, 3)
diff_has(const char *diff, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *want = NULL;

	va_start(ap, fmt);
	want = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (strstr(diff, want) != NULL)
		return TRUE;
	fprintf(stderr, "expected '%s' in:\n%s", want, diff);
	return FALSE;
}

/* The code's own table, written out as a catalogue, gives no difference. */
START_TEST(test_synth_matches)
{
	g_autofree char *text = cat_synth();
	g_autofree char *diff = cat_diff(text, "synth.md");

	ck_assert_msg(diff[0] == '\0', "%s", diff);
}
END_TEST

/* A damaged copy: each kind of difference is reported, naming the id, and nothing else. */
START_TEST(test_diff_names_each_difference)
{
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);
	g_autofree char *text = cat_synth();
	g_autofree char *l0 = NULL, *l1 = NULL, *l2 = NULL, *l3 = NULL, *last = NULL;
	g_autofree char *bad0 = NULL, *bad2 = NULL, *dup3 = NULL, *moved = NULL;
	g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL, *t5 = NULL, *diff = NULL;
	g_autofree char *group = NULL;
	const char *sev0;
	g_auto(GStrv) lines = NULL;

	ck_assert_uint_ge(n, 6);
	l0 = cat_good_line(&k[0]);
	l1 = cat_good_line(&k[1]);
	l2 = cat_good_line(&k[2]);
	l3 = cat_good_line(&k[3]);
	last = cat_good_line(&k[n - 1]);
	group = g_strndup(k[n - 1].id, strcspn(k[n - 1].id, "."));
	/* another score, severity and ATT&CK id for the first kind */
	sev0 = report_severity_name((k[0].severity + 1) % (MOAT_SEV_CRITICAL + 1));
	bad0 = cat_line(&k[0], k[0].score + 1, sev0, "T0000", "x", "y", "z");
	/* the third kind's tune cell left empty; the fourth kind twice; the last under another heading */
	bad2 = cat_line(&k[2], k[2].score, report_severity_name(k[2].severity),
	    k[2].attack[0] != '\0' ? k[2].attack : "-", "x", "y", "");
	dup3 = g_strdup_printf("%s\n%s", l3, l3);
	moved = g_strdup_printf("## elsewhere\n\n%s", last);
	t1 = text_replace(text, l0, bad0);
	t2 = text_replace(t1, l1, "| `zz.bogus` | 1 | low | - | x | — | y |");	/* dropped, and a bogus id */
	t3 = text_replace(t2, l2, bad2);
	t4 = text_replace(t3, l3, dup3);
	t5 = text_replace(t4, last, moved);
	diff = cat_diff(t5, "findings.md");

	ck_assert(diff_has(diff, "%s: score %d here, %d in scanners/report.c", k[0].id,
	    k[0].score + 1, k[0].score));
	ck_assert(diff_has(diff, "%s: severity %s here, %s in scanners/report.c", k[0].id, sev0,
	    report_severity_name(k[0].severity)));
	ck_assert(diff_has(diff, "%s: ATT&CK T0000 here, %s in scanners/report.c", k[0].id,
	    k[0].attack[0] != '\0' ? k[0].attack : "-"));
	ck_assert(diff_has(diff, "findings.md: %s (scanners/report.c) has no row", k[1].id));
	ck_assert(diff_has(diff, "zz.bogus has a row but no kind in scanners/report.c"));
	ck_assert(diff_has(diff, "%s: \"how to tune\" is empty", k[2].id));
	ck_assert(diff_has(diff, "%s has a second row", k[3].id));
	ck_assert(diff_has(diff, "%s is under \"## elsewhere\", not \"## %s\"", k[n - 1].id, group));
	lines = g_strsplit(diff, "\n", -1);
	ck_assert_msg(g_strv_length(lines) == 9, "%s", diff);	/* 8 lines and the "" after them */
}
END_TEST

/* "looks similar" may be a dash, not empty; "what it catches" and "how to tune" may be neither. */
START_TEST(test_dash_only_for_looks_similar)
{
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);
	g_autofree char *text = cat_synth();
	g_autofree char *l0 = cat_good_line(&k[0]);
	g_autofree char *l1 = cat_good_line(&k[1]);
	g_autofree char *l2 = cat_good_line(&k[2]);
	g_autofree char *attack0 = g_strdup(k[0].attack[0] != '\0' ? k[0].attack : "-");
	g_autofree char *attack1 = g_strdup(k[1].attack[0] != '\0' ? k[1].attack : "-");
	g_autofree char *dashes = cat_line(&k[0], k[0].score, report_severity_name(k[0].severity),
	    attack0, "—", "—", "-");
	g_autofree char *empty = cat_line(&k[1], k[1].score, report_severity_name(k[1].severity),
	    attack1, "x", "", "y");
	g_autofree char *short_row = g_strdup_printf("| `%s` | %d | x |", k[2].id, k[2].score);
	g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *diff = NULL, *not_this = NULL;

	ck_assert_uint_ge(n, 3);
	t1 = text_replace(text, l0, dashes);
	t2 = text_replace(t1, l1, empty);
	t3 = text_replace(t2, l2, short_row);
	diff = cat_diff(t3, "findings.md");
	ck_assert(diff_has(diff, "%s: \"what it catches\" is empty", k[0].id));
	ck_assert(diff_has(diff, "%s: \"how to tune\" is empty", k[0].id));
	ck_assert(diff_has(diff, "%s: \"looks similar\" is empty", k[1].id));
	ck_assert(diff_has(diff, "%s: 3 cells, not 7", k[2].id));
	/* the dash in "looks similar" of the first kind is fine */
	not_this = g_strdup_printf("%s: \"looks similar\"", k[0].id);
	ck_assert_msg(strstr(diff, not_this) == NULL, "%s", diff);
}
END_TEST

Suite *
catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc = tcase_create("catalogue");

	tcase_add_test(tc, test_docs_match_code);
	tcase_add_test(tc, test_synth_matches);
	tcase_add_test(tc, test_diff_names_each_difference);
	tcase_add_test(tc, test_dash_only_for_looks_similar);
	suite_add_tcase(s, tc);
	return s;
}
