/*
 * page_list.c - the list of held mail: filters as `moat quarantine list`,
 * counts by finding, paging
 *
 * In: the query string (web_filter_parse()). Out: one page of [web]
 * page_size items, newest first, with the number of matches and how many
 * of them carry each finding (a link that filters by it). The store
 * counts and pages (quar_count(), quar_list() with limit and offset, no
 * reports): a page reads its own rows only, whatever the store holds
 * (measured in README, "Quarantine in a browser": 10,000 held items).
 */
#include <string.h>

#include "web.h"

#define LIST_COUNTS 24		/* findings shown with their counts */

static const char *const list_keys[] = { "status", "from", "rcpt", "finding", "since", "until" };

/* list_href - "/list?..." keeping Q's filter, with KEY set to VALUE (NULL: dropped) and page PAGE */
static void
list_href(GString *out, GHashTable *q, const char *key, const char *value, guint page)
{
	char sep = '?';

	web_html(out, "/list");
	for (gsize i = 0; i < G_N_ELEMENTS(list_keys); i++) {
		const char *v = strcmp(list_keys[i], key) == 0 ? value :
		    q != NULL ? g_hash_table_lookup(q, list_keys[i]) : NULL;

		if (v == NULL || *v == '\0')
			continue;
		g_string_append_c(out, sep);
		web_html(out, "%s=%U", list_keys[i], v);
		sep = '&';
	}
	if (page > 1) {
		g_string_append_c(out, sep);
		web_html(out, "page=%u", page);
	}
}

/* list_value - Q's field NAME or "" */
static const char *
list_value(GHashTable *q, const char *name)
{
	const char *v = q != NULL ? g_hash_table_lookup(q, name) : NULL;

	return v != NULL ? v : "";
}

/* list_filters - the filter form, filled with Q */
static void
list_filters(GString *out, GHashTable *q)
{
	static const char *const statuses[] = { "held", "releasing", "released", "deleted", "all" };
	const char *cur = *list_value(q, "status") != '\0' ? list_value(q, "status") : "held";

	web_html(out, "<form class=\"filters\" method=\"get\" action=\"/list\" id=\"filters\">"
	    "<label>Status <select name=\"status\">");
	for (gsize i = 0; i < G_N_ELEMENTS(statuses); i++)
		web_html(out, strcmp(cur, statuses[i]) == 0 ? "<option selected>%s</option>" :
		    "<option>%s</option>", statuses[i]);
	web_html(out, "</select></label>"
	    "<label>Envelope sender <input name=\"from\" value=\"%s\" size=\"24\"></label>"
	    "<label>Recipient <input name=\"rcpt\" value=\"%s\" size=\"24\"></label>"
	    "<label>Finding <input name=\"finding\" value=\"%s\" size=\"20\"></label>"
	    "<label>Since <input name=\"since\" value=\"%s\" placeholder=\"YYYY-MM-DD\" size=\"10\"></label>"
	    "<label>Until <input name=\"until\" value=\"%s\" placeholder=\"YYYY-MM-DD\" size=\"10\"></label>"
	    "<button class=\"btn\" type=\"submit\" id=\"filter\">Filter</button>"
	    "<a href=\"/list\">Clear</a></form>\n",
	    list_value(q, "from"), list_value(q, "rcpt"), list_value(q, "finding"),
	    list_value(q, "since"), list_value(q, "until"));
}

/* list_counts - how many of the matches carry each finding (COUNTS, most first), as filter links */
static void
list_counts(GString *out, const GPtrArray *counts, GHashTable *q)
{
	web_html(out, "<div class=\"counts\" id=\"counts\">");
	for (guint i = 0; i < counts->len && i < LIST_COUNTS; i++) {
		const struct quar_count *c = counts->pdata[i];

		web_html(out, "<a href=\"");
		list_href(out, q, "finding", c->key, 1);
		web_html(out, "\">%s <b>%u</b></a>", c->key, c->n);
	}
	web_html(out, "</div>\n");
}

/* list_row - one item as a table row */
static void
list_row(GString *out, const struct quar_item *it)
{
	g_autofree char *when = web_time(it->time);
	const char *status = quar_status_name(it->status);

	web_html(out, "<tr><td class=\"num\">%s</td><td class=\"status-%s\">%s</td>"
	    "<td class=\"num\">%d</td><td>%s</td><td>", when, status, status, it->score,
	    *it->mail_from != '\0' ? it->mail_from : "<>");
	for (guint i = 0; i < it->rcpts->len && i < 3; i++)
		web_html(out, "%s%s", i > 0 ? ", " : "", (const char *)it->rcpts->pdata[i]);
	if (it->rcpts->len > 3)
		web_html(out, " <span class=\"muted\">+%u</span>", it->rcpts->len - 3);
	web_html(out, "</td><td class=\"subj\"><a href=\"/msg/%U\">%s</a></td><td>", it->id,
	    *it->subject != '\0' ? it->subject : "(no subject)");
	{
		g_auto(GStrv) ids = g_strsplit(it->findings, ",", 64);

		for (guint i = 0; ids[i] != NULL; i++)
			web_html(out, "%s%s", i > 0 ? ", " : "", ids[i]);
	}
	web_html(out, "</td></tr>\n");
}

/* list_total - how many items F selects; FALSE with *ERR on a store error */
static gboolean
list_total(struct web_app *app, guint *n, char **err, const struct quar_filter *f)
{
	g_autoptr(GPtrArray) all = NULL;

	if (quar_count(app->q, &all, err, f, QUAR_COUNT_ALL) < 0)
		return FALSE;
	*n = all->len > 0 ? ((const struct quar_count *)all->pdata[0])->n : 0;
	return TRUE;
}

void
web_page_list(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r)
{
	g_autoptr(GPtrArray) items = NULL, counts = NULL;
	g_autofree char *err = NULL;
	struct quar_filter f;
	guint page, size = app->conf->web.page_size, pages, total = 0;
	GString *out = r->body;

	if (web_filter_parse(&f, &page, &err, req->query) < 0) {
		web_page_error(r, id, 400, err);
		return;
	}
	if (!list_total(app, &total, &err, &f) ||
	    quar_count(app->q, &counts, &err, &f, QUAR_COUNT_FINDING) < 0) {
		web_page_error(r, id, 500, err);
		return;
	}
	pages = MAX(1u, (total + size - 1) / size);
	page = MIN(page, pages);
	f.limit = size;
	f.offset = (page - 1) * size;
	f.without_report = TRUE;
	if (quar_list(app->q, &items, &err, &f) < 0) {
		web_page_error(r, id, 500, err);
		return;
	}
	web_page_open(out, "Held mail", id);
	web_html(out, "<h1>Mail %s <span class=\"muted\" id=\"total\">%u item%s</span></h1>\n",
	    f.status < 0 ? "in the store" : quar_status_name(f.status), total, total == 1 ? "" : "s");
	list_filters(out, req->query);
	list_counts(out, counts, req->query);
	web_html(out, "<table id=\"items\"><thead><tr><th class=\"num\">Stored (UTC)</th><th>Status"
	    "</th><th class=\"num\">Score</th><th>Envelope sender</th><th>Recipients</th>"
	    "<th>Subject</th><th>Findings</th></tr></thead><tbody>\n");
	for (guint i = 0; i < items->len; i++)
		list_row(out, items->pdata[i]);
	web_html(out, "</tbody></table>\n<div class=\"pager\">");
	if (page > 1) {
		web_html(out, "<a rel=\"prev\" href=\"");
		list_href(out, req->query, "", NULL, page - 1);
		web_html(out, "\">← newer</a>");
	}
	web_html(out, "<span>page %u of %u</span>", page, pages);
	if (page < pages) {
		web_html(out, "<a rel=\"next\" href=\"");
		list_href(out, req->query, "", NULL, page + 1);
		web_html(out, "\">older →</a>");
	}
	web_html(out, "</div>\n");
	web_page_close(out);
}
