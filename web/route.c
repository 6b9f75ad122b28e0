/*
 * route.c - one request to one response: who is asking, may they, which page
 *
 * In: a struct web_req that server.c filled from libmicrohttpd. Out: a
 * struct web_resp (status, body, cookies, redirect). The rules every
 * request passes, in order: a method moat-web knows (GET, HEAD, POST);
 * the style sheet and the login page need no identity; every other page
 * needs one, from a trusted proxy's header ([web] trusted_proxy and
 * proxy_user_header) or a session cookie; every POST carries the
 * identity's CSRF token and does not come from another site
 * (Sec-Fetch-Site); a role allows the action (reviewer: release; admin:
 * delete too; auditor: neither), which quar_release() and quar_delete()
 * then do as `moat quarantine` does (release.h), as web:NAME. Release and
 * delete answer with a 303 to the message's page (post/redirect/get), so a
 * reload does not repeat them.
 */
#include <string.h>
#include <syslog.h>

#include "moat/moat.h"
#include "moat/release.h"
#include "web.h"

void
web_resp_init(struct web_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->type = "text/html; charset=utf-8";
	r->body = g_string_new(NULL);
	r->cookies = g_ptr_array_new_with_free_func(g_free);
}

void
web_resp_clear(struct web_resp *r)
{
	if (r->body != NULL)
		g_string_free(r->body, TRUE);
	g_free(r->location);
	if (r->cookies != NULL)
		g_ptr_array_unref(r->cookies);
	memset(r, 0, sizeof(*r));
}

/* route_redirect - 303 See Other to LOCATION (our own path) */
static void
route_redirect(struct web_resp *r, const char *location)
{
	r->status = 303;
	g_free(r->location);
	r->location = g_strdup(location);
	g_string_truncate(r->body, 0);
}

/* route_cookie - Set-Cookie NAME=VALUE for the whole site; MAX_AGE 0 removes it */
static void
route_cookie(struct web_resp *r, const char *name, const char *value, guint max_age)
{
	g_ptr_array_add(r->cookies, g_strdup_printf("%s=%s; Path=/; Max-Age=%u; HttpOnly; Secure; "
	    "SameSite=Strict", name, value, max_age));
}

/* route_form - the POST body as a form, or NULL when it is not one */
static GHashTable *
route_form(const struct web_req *req)
{
	if (req->content_type == NULL ||
	    g_ascii_strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0)
		return NULL;
	return web_form_parse(req->body != NULL ? req->body : "", req->body_len);
}

/* route_cross_site - whether the browser says the request comes from another site */
static gboolean
route_cross_site(const struct web_req *req)
{
	return req->fetch_site != NULL && strcmp(req->fetch_site, "cross-site") == 0;
}

/*
 * route_login_token - the login form's token: the one the browser has
 * (so that a second tab, or a favicon fetch redirected to /login, does not
 * make the first form stale), else a new one; set as the login cookie
 */
static void
route_login_token(const struct web_req *req, struct web_resp *r, char token[WEB_SID_LEN + 1])
{
	g_autofree char *have = web_cookie_get(req->cookie, WEB_COOKIE_LOGIN);

	if (web_token_valid(have))
		g_strlcpy(token, have, WEB_SID_LEN + 1);
	else
		web_auth_login_token(token);
	route_cookie(r, WEB_COOKIE_LOGIN, token, 3600);
}

/* route_login - POST /login: the login form's token, the throttle, the password */
static void
route_login(struct web_app *app, const struct web_req *req, struct web_resp *r)
{
	g_autoptr(GHashTable) form = route_form(req);
	g_autofree char *want = web_cookie_get(req->cookie, WEB_COOKIE_LOGIN);
	const char *token = form != NULL ? g_hash_table_lookup(form, "token") : NULL;
	const char *name = form != NULL ? g_hash_table_lookup(form, "user") : NULL;
	const char *pw = form != NULL ? g_hash_table_lookup(form, "password") : NULL;
	char sid[WEB_SID_LEN + 1], login_token[WEB_SID_LEN + 1];
	int rc;

	route_login_token(req, r, login_token);
	if (route_cross_site(req) || !web_token_valid(token) || !web_token_valid(want) ||
	    strcmp(token, want) != 0) {
		r->status = 403;
		web_page_login(r, login_token, "The login form expired: try again.");
		return;
	}
	if (name == NULL || pw == NULL || strlen(pw) > WEBUSERS_PASSWORD_MAX) {
		r->status = 400;
		web_page_login(r, login_token, "Give a user name and a password.");
		return;
	}
	rc = web_auth_login(app->auth, sid, name, pw, req->peer, req->now);
	if (rc == MOAT_EBUSY) {
		r->status = 429;
		web_page_login(r, login_token, "Too many failed logins: wait a while, then try again.");
		return;
	}
	if (rc < 0) {
		r->status = 403;
		web_page_login(r, login_token, "Wrong user name or password.");
		return;
	}
	g_ptr_array_set_size(r->cookies, 0);
	route_cookie(r, WEB_COOKIE_LOGIN, "", 0);
	route_cookie(r, WEB_COOKIE_SESSION, sid, app->conf->web.session_ttl);
	route_redirect(r, "/list");
}

/* route_identity - who REQ acts as: a trusted proxy's user, else the session's */
static gboolean
route_identity(struct web_app *app, const struct web_req *req, struct web_identity *id)
{
	g_autofree char *sid = NULL;

	if (*app->conf->web.proxy_user_header != '\0' && req->proxy_user != NULL &&
	    web_auth_trusted(app->auth, req->peer))
		return web_auth_proxy(app->auth, id, req->proxy_user);
	sid = web_cookie_get(req->cookie, WEB_COOKIE_SESSION);
	return sid != NULL && web_auth_session(app->auth, id, sid, req->now);
}

/* route_action - POST /msg/ID/release or /msg/ID/delete by ID's identity */
static void
route_action(struct web_app *app, const struct web_identity *id, const char *qid,
    const char *what, struct web_resp *r)
{
	g_autofree char *who = g_strdup_printf("web:%s", id->name), *msg = NULL, *to = NULL;
	g_autofree char *reply = NULL, *rcpts = NULL;
	gboolean release = strcmp(what, "release") == 0;
	int rc;

	if (id->role == WEBUSERS_AUDITOR || (!release && id->role != WEBUSERS_ADMIN)) {
		syslog(LOG_WARNING, "%s may not %s %s (role %s)", id->name, what, qid,
		    webusers_role_name(id->role));
		web_page_error(r, id, 403, release ? "Your role may not release mail." :
		    "Your role may not delete mail.");
		return;
	}
	/* as `moat quarantine` does it (release.c); a reviewer releases to the original recipients only */
	rc = release ? quar_release(app->q, &reply, &rcpts, &msg, &app->conf->quarantine, qid, NULL,
	    who) : quar_delete(app->q, &msg, qid, who);
	if (rc < 0) {
		g_autofree char *text = g_strdup_printf("Could not %s %s: %s", what, qid,
		    msg != NULL ? msg : moat_strerror(rc));

		web_page_error(r, id, rc == MOAT_ENOENT ? 404 : 409, text);
		return;
	}
	to = g_strdup_printf("/msg/%s?done=%s", qid, release ? "released" : "deleted");
	route_redirect(r, to);
}

/* route_msg - /msg/ID (GET) and /msg/ID/ACTION (POST); REST is after "/msg/" */
static void
route_msg(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    const char *rest, gboolean post, struct web_resp *r)
{
	g_auto(GStrv) parts = g_strsplit(rest, "/", 3);
	const char *done = req->query != NULL ? g_hash_table_lookup(req->query, "done") : NULL;
	guint n = g_strv_length(parts);

	if (n == 0 || !quar_id_valid(parts[0]) || n > 2) {
		web_page_error(r, id, 404, "No such page.");
		return;
	}
	if (n == 1 && !post) {
		web_page_message(app, id, parts[0], done != NULL && strcmp(done, "released") == 0 ?
		    "Released to its recipients." : done != NULL && strcmp(done, "deleted") == 0 ?
		    "Deleted." : NULL, r);
		return;
	}
	if (n == 2 && post && (strcmp(parts[1], "release") == 0 || strcmp(parts[1], "delete") == 0)) {
		route_action(app, id, parts[0], parts[1], r);
		return;
	}
	web_page_error(r, id, n == 2 && !post ? 405 : 404, n == 2 ? "Use the page's buttons." :
	    "No such page.");
}

/* route_post_ok - whether a POST carries ID's CSRF token and comes from our own pages */
static gboolean
route_post_ok(const struct web_req *req, const struct web_identity *id)
{
	g_autoptr(GHashTable) form = route_form(req);

	return form != NULL && !route_cross_site(req) &&
	    web_auth_csrf_ok(id, g_hash_table_lookup(form, "csrf"));
}

void
web_handle(struct web_app *app, const struct web_req *req, struct web_resp *r)
{
	gboolean post = strcmp(req->method, "POST") == 0;
	struct web_identity id;

	if (!post && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		web_page_error(r, NULL, 405, "Method not allowed.");
		return;
	}
	if (!post && strcmp(req->path, "/static/moat-web.css") == 0) {
		r->type = "text/css; charset=utf-8";
		r->static_body = web_css(&r->static_len);
		return;
	}
	if (strcmp(req->path, "/login") == 0) {
		char token[WEB_SID_LEN + 1];

		if (post) {
			route_login(app, req, r);
			return;
		}
		route_login_token(req, r, token);
		web_page_login(r, token, NULL);
		return;
	}
	if (!route_identity(app, req, &id)) {
		if (post || strcmp(req->path, "/favicon.ico") == 0)
			web_page_error(r, NULL, 403, "Not logged in (or the session ended).");
		else
			route_redirect(r, "/login");
		return;
	}
	if (post && !route_post_ok(req, &id)) {
		syslog(LOG_WARNING, "%s: POST %s refused: no or wrong CSRF token, or from another site",
		    id.name, req->path);
		web_page_error(r, &id, 403, "The form's token is missing or stale: reload the page.");
		return;
	}
	if (post && strcmp(req->path, "/logout") == 0) {
		web_auth_logout(app->auth, id.sid);
		route_cookie(r, WEB_COOKIE_SESSION, "", 0);
		route_redirect(r, "/login");
		return;
	}
	if (g_str_has_prefix(req->path, "/msg/")) {
		route_msg(app, &id, req, req->path + 5, post, r);
		return;
	}
	if (post) {
		web_page_error(r, &id, 404, "No such action.");
	} else if (strcmp(req->path, "/") == 0) {
		route_redirect(r, "/list");
	} else if (strcmp(req->path, "/list") == 0) {
		web_page_list(app, &id, req, r);
	} else if (strcmp(req->path, "/history") == 0) {
		web_page_history(app, &id, req, r);
	} else if (strcmp(req->path, "/stats") == 0) {
		web_page_stats(app, &id, req, r);
	} else if (strcmp(req->path, "/stats/held.svg") == 0) {
		web_stats_svg(app, req->now, 30, r);
	} else {
		web_page_error(r, &id, 404, "No such page.");
	}
}
