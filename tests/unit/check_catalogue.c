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
 * line each naming the id, so one run shows all that is out of step; the
 * second test feeds it a damaged copy to show each kind of difference is
 * caught.
 */
#include <stdlib.h>
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

/* text_replace - TEXT with the first FROM replaced by TO; the test fails if FROM is absent */
static char *
text_replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	ck_assert_msg(at != NULL, "'%s' not in the catalogue", from);
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* text_drop_line - TEXT without the line that starts with PREFIX */
static char *
text_drop_line(const char *text, const char *prefix)
{
	const char *at = strstr(text, prefix);
	const char *end;

	ck_assert_msg(at != NULL, "'%s' not in the catalogue", prefix);
	end = strchr(at, '\n');
	return g_strdup_printf("%.*s%s", (int)(at - text), text, end != NULL ? end + 1 : "");
}

/* A damaged copy: each kind of difference is reported, naming the id. */
START_TEST(test_diff_names_each_difference)
{
	g_autofree char *text = cat_read();
	g_autofree char *t1 = text_replace(text, "| `attach.onenote` | 6 | medium | T1566.001 |",
	    "| `attach.onenote` | 7 | high | T1566 |");
	g_autofree char *t2 = text_drop_line(t1, "| `name.conflict` |");
	g_autofree char *t3 = text_replace(t2, "| `type.mismatch` |",
	    "| `type.bogus` | 1 | low | - | x | — | `[scores] type.bogus = off` |\n| `type.mismatch` |");
	g_autofree char *t4 = text_replace(t3, "`[scores] lure.lnk_document_icon = off` |", " |");
	g_autofree char *t5 = text_replace(t4, "| `lure.lnk_relative_target` |",
	    "| `lure.lnk_padding` | 10 | high | T1027 | x | y | z |\n| `lure.lnk_relative_target` |");
	g_autofree char *t6 = text_replace(t5, "## scan\n", "## scanner\n");
	g_autofree char *diff = cat_diff(t6, "findings.md");

	ck_assert_ptr_nonnull(strstr(diff, "attach.onenote: score 7 here, 6 in scanners/report.c"));
	ck_assert_ptr_nonnull(strstr(diff, "attach.onenote: severity high here, medium in"));
	ck_assert_ptr_nonnull(strstr(diff, "attach.onenote: ATT&CK T1566 here, T1566.001 in"));
	ck_assert_ptr_nonnull(strstr(diff, "findings.md: name.conflict (scanners/report.c) has no row"));
	ck_assert_ptr_nonnull(strstr(diff, "type.bogus has a row but no kind"));
	ck_assert_ptr_nonnull(strstr(diff, "lure.lnk_document_icon: \"how to tune\" is empty"));
	ck_assert_ptr_nonnull(strstr(diff, "lure.lnk_padding has a second row"));
	ck_assert_ptr_nonnull(strstr(diff, "scan.budget_exceeded is under \"## scanner\", not \"## scan\""));
	/* and nothing else: six damages, eight lines */
	{
		g_auto(GStrv) lines = g_strsplit(diff, "\n", -1);

		ck_assert_msg(g_strv_length(lines) == 9, "%s", diff);	/* 8 lines and the "" after */
	}
}
END_TEST

/* "looks similar" may be a dash; "what it catches" and "how to tune" may not. */
START_TEST(test_dash_only_for_looks_similar)
{
	g_autofree char *text = cat_read();
	g_autofree char *t1 = text_replace(text, "| `mime.unopened` | 10 | medium | T1027 | an encoded",
	    "| `mime.unopened` | 10 | medium | T1027 | — | — | - |\n| `x.x` | 0 | info | - | an encoded");
	g_autofree char *diff = cat_diff(t1, "findings.md");

	ck_assert_ptr_nonnull(strstr(diff, "mime.unopened: \"what it catches\" is empty"));
	ck_assert_ptr_nonnull(strstr(diff, "mime.unopened: \"how to tune\" is empty"));
	ck_assert_ptr_null(strstr(diff, "mime.unopened: \"looks similar\""));
}
END_TEST

Suite *
catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc = tcase_create("catalogue");

	tcase_add_test(tc, test_docs_match_code);
	tcase_add_test(tc, test_diff_names_each_difference);
	tcase_add_test(tc, test_dash_only_for_looks_similar);
	suite_add_tcase(s, tc);
	return s;
}
