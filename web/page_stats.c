/*
 * page_stats.c - statistics (held per day, top findings; the chart drawn
 * here as SVG) and the history of what admins did
 *
 * In: the store's counts (quar_count(): by status, day and finding) over
 * the last STATS_DAYS days, every status; for the history, the
 * HISTORY_ITEMS items changed last (quar_list(), without reports). Out:
 * the statistics page, /stats/held.svg (bars drawn server-side: no
 * script, an <img> under img-src 'self'), and the history page: those
 * items with their events, newest first. No page reads every item.
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

/* stats_count - the items stored in the DAYS days up to NOW, every status, grouped BY; NULL on error (*ERR) */
static GPtrArray *
stats_count(struct web_app *app, gint64 now, guint days, enum quar_count_by by, char **err)
{
	struct quar_filter f = { .status = -1, .since = stats_day0(now, days) };
	GPtrArray *groups = NULL;

	return quar_count(app->q, &groups, err, &f, by) < 0 ? NULL : groups;
}

void
web_page_stats(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r)
{
	g_autoptr(GPtrArray) by_status = NULL, top = NULL;
	g_autofree char *err = NULL;
	guint status[QUAR_NSTATUS] = { 0 }, total = 0;
	GString *out = r->body;

	if ((by_status = stats_count(app, req->now, STATS_DAYS, QUAR_COUNT_STATUS, &err)) == NULL ||
	    (top = stats_count(app, req->now, STATS_DAYS, QUAR_COUNT_FINDING, &err)) == NULL) {
		web_page_error(r, id, 500, err);
		return;
	}
	for (guint i = 0; i < by_status->len; i++) {
		const struct quar_count *c = by_status->pdata[i];
		int s = quar_status_parse(c->key);

		total += c->n;
		if (s >= 0)
			status[s] += c->n;
	}
	web_page_open(out, "Statistics", id);
	web_html(out, "<h1>The last %u days</h1><p id=\"totals\">%u stored: %u held, %u released, "
	    "%u deleted.</p>\n<img class=\"chart\" src=\"/stats/held.svg\" width=\"760\" height=\"260\" "
	    "alt=\"Messages stored per day, the last %u days\">\n<h2>Top findings</h2>"
	    "<table id=\"top\"><thead><tr><th>Finding</th><th class=\"num\">Messages</th></tr></thead>"
	    "<tbody>", STATS_DAYS, total, status[QUAR_HELD] + status[QUAR_RELEASING],
	    status[QUAR_RELEASED], status[QUAR_DELETED], STATS_DAYS);
	for (guint i = 0; i < top->len && i < STATS_TOP; i++) {
		const struct quar_count *c = top->pdata[i];

		web_html(out, "<tr><td><a href=\"/list?status=all&amp;finding=%U\">%s</a></td>"
		    "<td class=\"num\">%u</td></tr>\n", c->key, c->key, c->n);
	}
	web_html(out, "</tbody></table>\n");
	web_page_close(out);
}

void
web_stats_svg(struct web_app *app, gint64 now, guint days, struct web_resp *r)
{
	g_autoptr(GPtrArray) by_day = NULL;
	g_autoptr(GHashTable) day_n = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *err = NULL;
	g_autofree guint *per = g_new0(guint, days);
	const guint W = 760, H = 260, left = 44, bottom = 40, top = 16;
	guint max = 1, step;
	gint64 day0 = stats_day0(now, days);
	double bw = (double)(W - left - 10) / days;
	GString *out = r->body;

	r->type = "image/svg+xml";
	if ((by_day = stats_count(app, now, days, QUAR_COUNT_DAY, &err)) == NULL) {
		r->status = 500;
		web_html(out, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
		return;
	}
	for (guint i = 0; i < by_day->len; i++) {
		const struct quar_count *c = by_day->pdata[i];

		g_hash_table_insert(day_n, c->key, GUINT_TO_POINTER(c->n));
	}
	for (guint d = 0; d < days; d++) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(day0 + (gint64)d * 86400);
		g_autofree char *key = g_date_time_format(dt, "%Y-%m-%d");

		per[d] = GPOINTER_TO_UINT(g_hash_table_lookup(day_n, key));
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

void
web_page_history(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r)
{
	/* the items someone acted on, changed last first: the store selects and orders them */
	struct quar_filter f = { .status = -1, .since = stats_day0(req->now, STATS_DAYS),
		.acted = TRUE, .order = QUAR_BY_CHANGED, .limit = HISTORY_ITEMS,
		.without_report = TRUE };
	g_autoptr(GPtrArray) items = NULL;
	g_autofree char *err = NULL;
	GString *out = r->body;
	guint shown = 0;

	if (quar_list(app->q, &items, &err, &f) < 0) {
		web_page_error(r, id, 500, err);
		return;
	}
	web_page_open(out, "History", id);
	web_html(out, "<h1>What was done, the last %u days</h1><table id=\"events\"><thead><tr>"
	    "<th>When (UTC)</th><th>Who</th><th>What</th><th>Message</th><th>Detail</th></tr></thead>"
	    "<tbody>\n", STATS_DAYS);
	for (guint i = 0; i < items->len && shown < HISTORY_ITEMS; i++) {
		const struct quar_item *it = items->pdata[i];
		g_autoptr(GPtrArray) hist = NULL;

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
