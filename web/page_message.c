/*
 * page_message.c - one held message: why it was held and what it is,
 * without ever rendering or running any of it
 *
 * In: the item (quar_get), its history, its stored report (report_json:
 * findings with path and ATT&CK id, the part and member tree) and its
 * message file, parsed with GMime for the header block and a preview. Out:
 * the page, and the release and delete buttons the role allows. The
 * preview is the first text/plain part as text and the first text/html
 * part as escaped source (never rendered: no image is fetched, no link
 * followed), at most MSG_PREVIEW_MAX bytes each. Bounded: MSG_TREE_MAX
 * tree nodes, MSG_TREE_DEPTH levels, MSG_HEADERS_MAX header fields,
 * MSG_PARTS_MAX MIME parts looked at.
 */
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "moat/moat.h"
#include "web.h"

#define MSG_PREVIEW_MAX (64 * 1024)
#define MSG_TREE_MAX 2000
#define MSG_TREE_DEPTH 24
#define MSG_HEADERS_MAX 200
#define MSG_PARTS_MAX 200

/* msg_str - member NAME of O as a string, "" when absent or not a string */
static const char *
msg_str(JsonObject *o, const char *name)
{
	JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;

	return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ?
	    json_node_get_string(n) : "";
}

/* msg_array - member NAME of O as an array, or NULL */
static JsonArray *
msg_array(JsonObject *o, const char *name)
{
	JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;

	return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* msg_envelope - the index row: envelope, verdict, where and when */
static void
msg_envelope(GString *out, const struct quar_item *it)
{
	g_autofree char *when = web_time(it->time), *changed = web_time(it->changed);

	web_html(out, "<table class=\"kv\" id=\"envelope\">"
	    "<tr><th>Status</th><td class=\"status-%s\" id=\"status\">%s</td></tr>"
	    "<tr><th>Stored</th><td>%s UTC on %s, queue id %s</td></tr>"
	    "<tr><th>Last change</th><td>%s UTC</td></tr>"
	    "<tr><th>Client</th><td>%s, HELO %s</td></tr>"
	    "<tr><th>Envelope sender</th><td>%s</td></tr><tr><th>Recipients</th><td>",
	    quar_status_name(it->status), quar_status_name(it->status), when, it->node, it->queue_id,
	    changed, it->client_addr, it->helo, *it->mail_from != '\0' ? it->mail_from : "<>");
	for (guint i = 0; i < it->rcpts->len; i++)
		web_html(out, "%s%s", i > 0 ? ", " : "", (const char *)it->rcpts->pdata[i]);
	web_html(out, "</td></tr><tr><th>From</th><td id=\"from\">%s</td></tr>"
	    "<tr><th>Subject</th><td id=\"subject\">%s</td></tr>"
	    "<tr><th>Message-ID</th><td>%s</td></tr>"
	    "<tr><th>Size</th><td>%L bytes</td></tr>"
	    "<tr><th>Verdict</th><td>%s, score %d</td></tr></table>\n",
	    it->header_from, it->subject, it->message_id, (gint64)it->size, it->action, it->score);
}

/* msg_actions - the buttons ID's role allows on IT */
static void
msg_actions(GString *out, const struct web_identity *id, const struct quar_item *it)
{
	gboolean release = id->role != WEBUSERS_AUDITOR && it->status == QUAR_HELD;
	gboolean del = id->role == WEBUSERS_ADMIN &&
	    (it->status == QUAR_HELD || it->status == QUAR_RELEASED);

	if (!release && !del)
		return;
	web_html(out, "<div class=\"actions\">");
	if (release)
		web_html(out, "<form method=\"post\" action=\"/msg/%U/release\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<button class=\"btn\" type=\"submit\" id=\"release\">Release to %u recipient%s"
		    "</button></form>", it->id, id->csrf, it->rcpts->len, it->rcpts->len == 1 ? "" : "s");
	if (del)
		web_html(out, "<form method=\"post\" action=\"/msg/%U/delete\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<button class=\"btn danger\" type=\"submit\" id=\"delete\">Delete</button></form>",
		    it->id, id->csrf);
	web_html(out, "</div>\n");
}

/* msg_findings - the report's findings: id, score, severity, ATT&CK, path, evidence */
static void
msg_findings(GString *out, JsonObject *root)
{
	JsonArray *a = msg_array(root, "findings");

	web_html(out, "<h2>Why it was held</h2>");
	if (a == NULL) {
		web_html(out, "<p class=\"muted\">No report: the message was held after internal "
		    "errors.</p>\n");
		return;
	}
	web_html(out, "<table id=\"findings\"><thead><tr><th>Finding</th><th class=\"num\">Score</th>"
	    "<th>Severity</th><th>ATT&amp;CK</th><th>Where</th><th>Evidence</th></tr></thead><tbody>");
	for (guint i = 0; i < json_array_get_length(a) && i < 500; i++) {
		JsonNode *n = json_array_get_element(a, i);
		JsonObject *f = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;

		if (f == NULL)
			continue;
		web_html(out, "<tr><td>%s</td><td class=\"num\">%L</td><td class=\"sev-%s\">%s</td>"
		    "<td>%s</td><td>%s</td><td>%s</td></tr>\n", msg_str(f, "id"),
		    json_object_get_int_member_with_default(f, "score", 0), msg_str(f, "severity"),
		    msg_str(f, "severity"), *msg_str(f, "attack") != '\0' ? msg_str(f, "attack") : "-",
		    msg_str(f, "path_display"), msg_str(f, "evidence"));
	}
	web_html(out, "</tbody></table>\n");
}

/* msg_tree_level - the parts or members in A as a nested list; *BUDGET nodes left */
static void
msg_tree_level(GString *out, JsonArray *a, guint depth, guint *budget)
{
	if (a == NULL || json_array_get_length(a) == 0)
		return;
	if (depth >= MSG_TREE_DEPTH || *budget == 0) {
		web_html(out, "<ul class=\"tree\"><li class=\"muted\">(more, not shown)</li></ul>");
		return;
	}
	web_html(out, "<ul class=\"tree\">");
	for (guint i = 0; i < json_array_get_length(a) && *budget > 0; i++) {
		JsonNode *n = json_array_get_element(a, i);
		JsonObject *p = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
		JsonArray *path = msg_array(p, "path");
		const char *name = "";
		JsonNode *last;

		if (p == NULL)
			continue;
		(*budget)--;
		if (path != NULL && json_array_get_length(path) > 0 &&
		    (last = json_array_get_element(path, json_array_get_length(path) - 1)) != NULL &&
		    JSON_NODE_HOLDS_VALUE(last) && json_node_get_value_type(last) == G_TYPE_STRING)
			name = json_node_get_string(last);
		web_html(out, "<li><span class=\"name\">%s</span> <span class=\"muted\">%s, %L bytes%s%s"
		    "</span>", name, *msg_str(p, "sniffed_type") != '\0' ? msg_str(p, "sniffed_type") :
		    "unread", json_object_get_int_member_with_default(p, "size", 0),
		    json_object_get_boolean_member_with_default(p, "encrypted", FALSE) ? ", encrypted" : "",
		    json_object_get_boolean_member_with_default(p, "hidden", FALSE) ? ", hidden" : "");
		msg_tree_level(out, msg_array(p, "members"), depth + 1, budget);
		web_html(out, "</li>");
	}
	web_html(out, "</ul>");
}

/* msg_tree - the attachment tree: MIME parts and what containers hold */
static void
msg_tree(GString *out, JsonObject *root)
{
	guint budget = MSG_TREE_MAX;

	web_html(out, "<h2>Parts and attachments</h2><div id=\"tree\">");
	if (msg_array(root, "parts") == NULL)
		web_html(out, "<p class=\"muted\">Not in the report.</p>");
	msg_tree_level(out, msg_array(root, "parts"), 0, &budget);
	web_html(out, "</div>\n");
}

/* msg_headers - the message's header fields as they came, unfolded, escaped */
static void
msg_headers(GString *out, GMimeMessage *msg)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int n = g_mime_header_list_get_count(list);

	web_html(out, "<h2>Header</h2><pre id=\"headers\">");
	for (int i = 0; i < n && i < MSG_HEADERS_MAX; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);
		g_autofree char *value = g_strdup(raw != NULL ? raw : "");

		g_strdelimit(value, "\r\n", ' ');
		web_html(out, "%s:%s\n", g_mime_header_get_name(h), value);
	}
	if (n > MSG_HEADERS_MAX)
		web_html(out, "(%d more fields)\n", n - MSG_HEADERS_MAX);
	web_html(out, "</pre>\n");
}

/* msg_preview_part - one text part, TITLE over it, as escaped text (cut at MSG_PREVIEW_MAX) */
static void
msg_preview_part(GString *out, GMimeTextPart *part, const char *title, const char *elid)
{
	g_autofree char *text = g_mime_text_part_get_text(part);
	gsize len = text != NULL ? strlen(text) : 0;

	web_html(out, "<h2>%s</h2><pre id=\"%s\">", title, elid);
	web_esc(out, text, (gssize)MIN(len, (gsize)MSG_PREVIEW_MAX));
	if (len > MSG_PREVIEW_MAX)
		web_html(out, "\n(%L more bytes not shown)", (gint64)(len - MSG_PREVIEW_MAX));
	web_html(out, "</pre>\n");
}

/* msg_preview - the first inline text/plain and text/html parts */
static void
msg_preview(GString *out, GMimeMessage *msg)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);	/* transfer none */
	GMimeTextPart *plain = NULL, *html = NULL;
	GMimePartIter *iter;
	guint n = 0;

	if (top == NULL)
		return;
	if (GMIME_IS_MULTIPART(top)) {
		iter = g_mime_part_iter_new(top);
		do {
			GMimeObject *cur = g_mime_part_iter_get_current(iter);	/* transfer none */
			GMimeContentDisposition *d;

			if (cur == NULL || !GMIME_IS_TEXT_PART(cur))
				continue;
			d = g_mime_object_get_content_disposition(cur);
			if (d != NULL && g_mime_content_disposition_is_attachment(d))
				continue;
			if (plain == NULL && g_mime_content_type_is_type(g_mime_object_get_content_type(cur),
			    "text", "plain"))
				plain = GMIME_TEXT_PART(cur);
			else if (html == NULL && g_mime_content_type_is_type(
			    g_mime_object_get_content_type(cur), "text", "html"))
				html = GMIME_TEXT_PART(cur);
		} while (++n < MSG_PARTS_MAX && (plain == NULL || html == NULL) &&
		    g_mime_part_iter_next(iter));
		g_mime_part_iter_free(iter);
	} else if (GMIME_IS_TEXT_PART(top)) {
		if (g_mime_content_type_is_type(g_mime_object_get_content_type(top), "text", "html"))
			html = GMIME_TEXT_PART(top);
		else
			plain = GMIME_TEXT_PART(top);
	}
	if (plain != NULL)
		msg_preview_part(out, plain, "Text (preview)", "text");
	if (html != NULL)
		msg_preview_part(out, html, "HTML part, as source (never rendered)", "html");
	if (plain == NULL && html == NULL)
		web_html(out, "<h2>Text</h2><p class=\"muted\">No text part.</p>\n");
}

/* msg_content - header block and preview from the message file, when there is one */
static void
msg_content(GString *out, struct web_app *app, const char *qid)
{
	g_autofree char *err = NULL;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	int fd = -1;

	if (quar_message_open(app->q, &fd, &err, qid) < 0) {
		web_html(out, "<h2>Message</h2><p class=\"muted\">%s</p>\n", err);
		return;
	}
	stream = g_mime_stream_fs_new(fd);	/* owns fd now */
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		web_html(out, "<h2>Message</h2><p class=\"muted\">Not a message GMime can read.</p>\n");
	} else {
		msg_headers(out, msg);
		msg_preview(out, msg);
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
}

/* msg_history - what happened to the item, oldest first */
static void
msg_history(GString *out, const GPtrArray *hist)
{
	web_html(out, "<h2>History</h2><table id=\"history\"><thead><tr><th>When (UTC)</th><th>Who</th>"
	    "<th>What</th><th>Detail</th></tr></thead><tbody>");
	for (guint i = 0; i < hist->len; i++) {
		const struct quar_event *ev = hist->pdata[i];
		g_autofree char *when = web_time(ev->time);

		web_html(out, "<tr><td class=\"num\">%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
		    when, ev->who, ev->what, ev->detail);
	}
	web_html(out, "</tbody></table>\n");
}

void
web_page_message(struct web_app *app, const struct web_identity *id, const char *qid,
    const char *notice, struct web_resp *r)
{
	g_autoptr(GPtrArray) hist = NULL;
	g_autoptr(JsonParser) p = json_parser_new();
	g_autofree char *err = NULL;
	struct quar_item *it = NULL;
	JsonObject *root = NULL;
	GString *out = r->body;
	int rc;

	if ((rc = quar_get(app->q, &it, &err, qid)) < 0 || quar_history(app->q, &hist, &err, qid) < 0) {
		web_page_error(r, id, rc == MOAT_ENOENT ? 404 : 500, err);
		quar_item_free(it);
		return;
	}
	if (*it->report_json != '\0' && json_parser_load_from_data(p, it->report_json, -1, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		root = json_node_get_object(json_parser_get_root(p));
	web_page_open(out, *it->subject != '\0' ? it->subject : it->id, id);
	web_html(out, "<p><a href=\"/list\">← list</a></p><h1 id=\"title\">%s</h1>\n",
	    *it->subject != '\0' ? it->subject : "(no subject)");
	if (notice != NULL)
		web_html(out, "<p class=\"notice\" id=\"notice\">%s</p>\n", notice);
	msg_actions(out, id, it);
	msg_envelope(out, it);
	msg_findings(out, root);
	msg_tree(out, root);
	msg_content(out, app, qid);
	msg_history(out, hist);
	web_page_close(out);
	quar_item_free(it);
}
