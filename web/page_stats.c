/*
 * page_stats.c - statistics (held per day, top findings; the chart drawn
 * here as SVG) and the history of what admins did
 *
 * In: quar_list() over the last STATS_DAYS days, every status. Out: the
 * statistics page, /stats/held.svg (bars drawn server-side: no script, an
 * <img> under img-src 'self'), and the history page: the last
 * HISTORY_ITEMS items someone acted on, with their events, newest first.
 */
#include <string.h>

#include "web.h"

#define STATS_DAYS 30
#define STATS_TOP 20
#define HISTORY_ITEMS 50

/* stats_day0 - the first second of the first of DAYS days ending today (UTC) */
static gint64
stats_day0(gint64 now, guint days)
{
	return (now / 86400 - (gint64)days + 1) * 86400;
}

/* stats_items - the items stored in the DAYS days up to NOW, every status; NULL on error (*ERR) */
static GPtrArray *
stats_items(struct web_app *app, gint64 now, guint days, char **err)
{
	struct quar_filter f = { .status = -1, .since = stats_day0(now, days) };
	GPtrArray *items = NULL;

	return quar_list(app->q, &items, err, &f) < 0 ? NULL : items;
}

/* stats_count_cmp - more first, then by name; DATA the counts */
static gint
stats_count_cmp(gconstpointer a, gconstpointer b, gpointer counts)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	guint nx = GPOINTER_TO_UINT(g_hash_table_lookup(counts, x));
	guint ny = GPOINTER_TO_UINT(g_hash_table_lookup(counts, y));

	return nx != ny ? (nx > ny ? -1 : 1) : strcmp(x, y);
}

void
web_page_stats(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r)
{
	g_autoptr(GPtrArray) items = NULL, names = g_ptr_array_new();
	g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *err = NULL;
	guint status[QUAR_NSTATUS] = { 0 };
	GHashTableIter it;
	gpointer k;
	GString *out = r->body;

	if ((items = stats_items(app, req->now, STATS_DAYS, &err)) == NULL) {
		web_page_error(r, id, 500, err);
		return;
	}
	for (guint i = 0; i < items->len; i++) {
		const struct quar_item *item = items->pdata[i];
		g_auto(GStrv) ids = g_strsplit(item->findings, ",", 64);

		if ((unsigned)item->status < QUAR_NSTATUS)
			status[item->status]++;
		for (guint j = 0; ids[j] != NULL; j++)
			if (*ids[j] != '\0')
				g_hash_table_replace(counts, g_strdup(ids[j]), GUINT_TO_POINTER(
				    GPOINTER_TO_UINT(g_hash_table_lookup(counts, ids[j])) + 1));
	}
	g_hash_table_iter_init(&it, counts);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(names, k);
	g_ptr_array_sort_with_data(names, stats_count_cmp, counts);
	web_page_open(out, "Statistics", id);
	web_html(out, "<h1>The last %u days</h1><p id=\"totals\">%u stored: %u held, %u released, "
	    "%u deleted.</p>\n<img class=\"chart\" src=\"/stats/held.svg\" width=\"760\" height=\"260\" "
	    "alt=\"Messages stored per day, the last %u days\">\n<h2>Top findings</h2>"
	    "<table id=\"top\"><thead><tr><th>Finding</th><th class=\"num\">Messages</th></tr></thead>"
	    "<tbody>", STATS_DAYS, items->len, status[QUAR_HELD] + status[QUAR_RELEASING],
	    status[QUAR_RELEASED], status[QUAR_DELETED], STATS_DAYS);
	for (guint i = 0; i < names->len && i < STATS_TOP; i++)
		web_html(out, "<tr><td><a href=\"/list?status=all&amp;finding=%U\">%s</a></td>"
		    "<td class=\"num\">%u</td></tr>\n", (const char *)names->pdata[i],
		    (const char *)names->pdata[i],
		    GPOINTER_TO_UINT(g_hash_table_lookup(counts, names->pdata[i])));
	web_html(out, "</tbody></table>\n");
	web_page_close(out);
}

void
web_stats_svg(struct web_app *app, gint64 now, guint days, struct web_resp *r)
{
	g_autoptr(GPtrArray) items = NULL;
	g_autofree char *err = NULL;
	g_autofree guint *per = g_new0(guint, days);
	const guint W = 760, H = 260, left = 44, bottom = 40, top = 16;
	guint max = 1, step;
	gint64 day0 = stats_day0(now, days);
	double bw = (double)(W - left - 10) / days;
	GString *out = r->body;

	r->type = "image/svg+xml";
	if ((items = stats_items(app, now, days, &err)) == NULL) {
		r->status = 500;
		web_html(out, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
		return;
	}
	for (guint i = 0; i < items->len; i++) {
		gint64 d = (((const struct quar_item *)items->pdata[i])->time - day0) / 86400;

		if (d >= 0 && d < (gint64)days)
			per[d]++;
	}
	for (guint d = 0; d < days; d++)
		max = MAX(max, per[d]);
	step = max <= 5 ? 1 : (max + 4) / 5;
	max = step * ((max + step - 1) / step);
	web_html(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
	    "viewBox=\"0 0 %u %u\" font-family=\"sans-serif\" font-size=\"11\">"
	    "<rect width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>", W, H, W, H, W, H);
	for (guint v = 0; v <= max; v += step) {
		guint y = H - bottom - (guint)((double)v / max * (H - bottom - top));

		web_html(out, "<line x1=\"%u\" x2=\"%u\" y1=\"%u\" y2=\"%u\" stroke=\"#e3e6ec\"/>"
		    "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#5b6475\">%u</text>",
		    left, W - 10, y, y, left - 6, y + 4, v);
	}
	for (guint d = 0; d < days; d++) {
		guint h = (guint)((double)per[d] / max * (H - bottom - top));
		guint x = left + (guint)(d * bw) + 2;

		web_html(out, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"#1f5fbf\">"
		    "<title>%u</title></rect>", x, H - bottom - h, (guint)MAX(bw - 4, 1.0), h, per[d]);
		if (d % 5 == 0 || d == days - 1) {
			g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(day0 + (gint64)d * 86400);
			g_autofree char *label = g_date_time_format(dt, "%m-%d");

			web_html(out, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#5b6475\">%s"
			    "</text>", x + (guint)(bw / 2), H - bottom + 16, label);
		}
	}
	web_html(out, "<text x=\"%u\" y=\"%u\" fill=\"#1d2330\">messages stored per day (UTC)</text>"
	    "</svg>\n", left, H - 6);
}

/* history_changed_cmp - the item changed last first */
static gint
history_changed_cmp(gconstpointer a, gconstpointer b)
{
	const struct quar_item *x = *(const struct quar_item *const *)a;
	const struct quar_item *y = *(const struct quar_item *const *)b;

	return x->changed != y->changed ? (x->changed > y->changed ? -1 : 1) : strcmp(x->id, y->id);
}

void
web_page_history(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r)
{
	g_autoptr(GPtrArray) items = NULL;
	g_autofree char *err = NULL;
	GString *out = r->body;
	guint shown = 0;

	if ((items = stats_items(app, req->now, STATS_DAYS, &err)) == NULL) {
		web_page_error(r, id, 500, err);
		return;
	}
	g_ptr_array_sort(items, history_changed_cmp);
	web_page_open(out, "History", id);
	web_html(out, "<h1>What was done, the last %u days</h1><table id=\"events\"><thead><tr>"
	    "<th>When (UTC)</th><th>Who</th><th>What</th><th>Message</th><th>Detail</th></tr></thead>"
	    "<tbody>\n", STATS_DAYS);
	for (guint i = 0; i < items->len && shown < HISTORY_ITEMS; i++) {
		const struct quar_item *it = items->pdata[i];
		g_autoptr(GPtrArray) hist = NULL;

		if (it->changed <= it->time && it->status == QUAR_HELD)
			continue;	/* stored, nothing since */
		g_clear_pointer(&err, g_free);
		if (quar_history(app->q, &hist, &err, it->id) < 0)
			continue;
		shown++;
		for (guint j = hist->len; j-- > 0;) {
			const struct quar_event *ev = hist->pdata[j];
			g_autofree char *when = web_time(ev->time);

			if (strcmp(ev->what, "stored") == 0)
				continue;
			web_html(out, "<tr><td class=\"num\">%s</td><td>%s</td><td>%s</td>"
			    "<td class=\"subj\"><a href=\"/msg/%U\">%s</a></td><td>%s</td></tr>\n", when,
			    ev->who, ev->what, it->id, *it->subject != '\0' ? it->subject : it->id,
			    ev->detail);
		}
	}
	web_html(out, "</tbody></table>\n");
	if (shown == 0)
		web_html(out, "<p class=\"muted\">Nothing was done yet.</p>\n");
	web_page_close(out);
}
