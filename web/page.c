/*
 * page.c - what every page shares: the frame (head, bar, navigation), the
 * error page and the login page
 *
 * Out: HTML through web_html() only. The frame links the one style sheet
 * and carries no script; the logout button is a form with the CSRF token.
 */
#include "web.h"

void
web_page_open(GString *out, const char *title, const struct web_identity *id)
{
	web_html(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<title>%s · moat quarantine</title>"
	    "<link rel=\"stylesheet\" href=\"/static/moat-web.css\"></head>\n<body><header>"
	    "<span class=\"brand\">moat quarantine</span>", title);
	if (id != NULL) {
		web_html(out, "<nav><a href=\"/list\">Held mail</a><a href=\"/list?status=all\">All</a>"
		    "<a href=\"/history\">History</a><a href=\"/stats\">Statistics</a></nav>"
		    "<span class=\"who\">%s · %s</span>", id->name, webusers_role_name(id->role));
		if (id->sid[0] != '\0')
			web_html(out, "<form method=\"post\" action=\"/logout\">"
			    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
			    "<button type=\"submit\" id=\"logout\">Log out</button></form>", id->csrf);
	}
	web_html(out, "</header>\n<main>\n");
}

void
web_page_close(GString *out)
{
	web_html(out, "</main></body></html>\n");
}

void
web_page_error(struct web_resp *r, const struct web_identity *id, guint status, const char *msg)
{
	r->status = status;
	g_string_truncate(r->body, 0);
	web_page_open(r->body, "Error", id);
	web_html(r->body, "<h1>%s</h1><p class=\"error\" id=\"error\">%s</p>",
	    status == 403 ? "Not allowed" : status == 404 ? "Not found" : "Not done", msg);
	if (id == NULL)
		web_html(r->body, "<p><a href=\"/login\">Log in</a></p>");
	web_page_close(r->body);
}

void
web_page_login(struct web_resp *r, const char *token, const char *msg)
{
	g_string_truncate(r->body, 0);
	web_page_open(r->body, "Log in", NULL);
	web_html(r->body, "<form class=\"login\" method=\"post\" action=\"/login\"><h1>Log in</h1>");
	if (msg != NULL)
		web_html(r->body, "<p class=\"error\" id=\"error\">%s</p>", msg);
	web_html(r->body, "<input type=\"hidden\" name=\"token\" value=\"%s\">"
	    "<label>User <input name=\"user\" id=\"user\" autocomplete=\"username\" required "
	    "maxlength=\"64\"></label>"
	    "<label>Password <input name=\"password\" id=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required></label>"
	    "<button class=\"btn\" type=\"submit\" id=\"login\">Log in</button></form>", token);
	web_page_close(r->body);
}
