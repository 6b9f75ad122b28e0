/*
 * web.h - moat-web's modules: the quarantine in a browser
 *
 * moat-web is a program of its own (never inside moatd): libmicrohttpd
 * takes the HTTP (server.c), route.c turns a request into a response
 * through the pages (page_*.c), auth.c keeps users, sessions and the login
 * throttle, release and delete are quarantine/release.c's (release.h),
 * the very code `moat quarantine` runs, and every byte of HTML comes out
 * of html.c, whose web_esc() is the one escaping function. form.c is
 * moat's own request parsing (form bodies, cookies, query strings):
 * bounded, and fuzzed (tests/fuzz/fuzz_web.c).
 *
 * Threads: libmicrohttpd calls route.c from a small pool; struct web_auth
 * locks itself, the store locks itself, the config is read-only.
 */
#ifndef MOAT_WEB_H
#define MOAT_WEB_H

#include <glib.h>

#include "moat/conf.h"
#include "moat/quarantine.h"
#include "moat/webusers.h"

#define WEB_SID_LEN 64			/* a session id: 32 random bytes, hex */
#define WEB_FORM_MAX_BYTES 16384	/* a request body; past it 413 */
#define WEB_FORM_MAX_FIELDS 32		/* fields in a form or a query string */
#define WEB_COOKIE_SESSION "moat_session"
#define WEB_COOKIE_LOGIN "moat_login"	/* the login form's token (before a session) */
#define WEB_ABSOLUTE_TTL (12 * 3600)	/* a session ends this long after its login */

/* --- html.c: the one escaping function and the templates built on it ----------- */

/*
 * web_esc - S as HTML text, appended to OUT: & < > " ' as references,
 * invalid UTF-8 as U+FFFD, and every control, bidi, zero-width or line
 * separator character as a visible <span class="cc">U+XXXX</span>, so
 * that nothing from a mail can end an element, open one or reorder the
 * text around it. Newlines and tabs stay (harmless in text and in quoted
 * attributes). NULL is "". At most LEN bytes of S when LEN >= 0.
 */
void web_esc(GString *out, const char *s, gssize len);

/*
 * web_html - FMT appended to OUT. FMT is the page's own markup (a string
 * literal); its arguments only go in through conversions that escape:
 *   %s  a string through web_esc()        %U  a string percent-encoded for
 *   %d  int   %u  unsigned   %L gint64         a URL (query value, path)
 *   %%  '%'
 * Any other conversion is a programming error (assert).
 */
void web_html(GString *out, const char *fmt, ...);

/* web_time - T (seconds) as "2026-12-06 23:54" UTC; caller g_free()s */
char *web_time(gint64 t);

/* --- static.c: the style sheet, built into the program (web/style.css) ---------- */

const char *web_css(gsize *len);

/* --- form.c: moat's own request parsing (bounded) -------------------------------- */

/*
 * web_form_parse - an application/x-www-form-urlencoded body or query
 * string (LEN bytes) as name -> value (first of a name wins; both owned by
 * the table, valid UTF-8 without NUL). NULL when it is malformed: a bad %
 * escape, a NUL, invalid UTF-8, more than WEB_FORM_MAX_FIELDS fields or
 * WEB_FORM_MAX_BYTES bytes. Caller g_hash_table_unref()s.
 */
GHashTable *web_form_parse(const char *s, gsize len);

/*
 * web_cookie_get - the value of cookie NAME in a Cookie header, or NULL
 * (caller g_free()s). Only values of the shape moat-web sets are returned
 * (1 to 128 characters of [0-9A-Za-z_-]); anything else counts as absent.
 */
char *web_cookie_get(const char *header, const char *name);

/* web_token_valid - whether S is WEB_SID_LEN lower-case hex digits (a session id or token) */
gboolean web_token_valid(const char *s);

/*
 * web_filter_parse - the list's filter from a query string's fields Q:
 * status (held, releasing, released, deleted, all), from, rcpt, finding,
 * since, until (YYYY-MM-DD, UTC) and page (from 1). Strings in *F are
 * borrowed from Q. 0, or MOAT_EINVAL with *ERR naming the field (caller
 * g_free()s); then *F holds the defaults (held, page 1).
 */
int web_filter_parse(struct quar_filter *f, guint *page, char **err, GHashTable *q);

/* --- auth.c: users, sessions, the login throttle --------------------------------- */

/* Who a request acts as (a copy: no pointer into the session table). */
struct web_identity {
	char name[WEBUSERS_NAME_MAX + 1];
	enum webusers_role role;
	char csrf[WEB_SID_LEN + 1];	/* what every form of this identity must carry */
	char sid[WEB_SID_LEN + 1];	/* the session, "" for a proxy's user */
};

struct web_auth;

/* web_auth_new - CONF borrowed (it must outlive the result); users read from [web] users */
struct web_auth *web_auth_new(const struct moat_conf *conf);
void web_auth_free(struct web_auth *a);

/*
 * web_auth_login - check NAME's PASSWORD from client ADDR at NOW; on
 * success a new session's id in SID. 0; MOAT_EPERM for a wrong name or
 * password; MOAT_EBUSY while NAME or ADDR is locked out (too many
 * failures) or too many hashes are being checked at once. Slow on purpose
 * (Argon2id), and as slow for an unknown name.
 */
int web_auth_login(struct web_auth *a, char sid[WEB_SID_LEN + 1], const char *name,
    const char *password, const char *addr, gint64 now);

/* web_auth_session - the identity of session SID at NOW (and it is touched); FALSE when none */
gboolean web_auth_session(struct web_auth *a, struct web_identity *id, const char *sid, gint64 now);

/* web_auth_proxy - the identity of NAME, as a trusted proxy said; FALSE when NAME is no user */
gboolean web_auth_proxy(struct web_auth *a, struct web_identity *id, const char *name);

/* web_auth_logout - end session SID (no-op when there is none) */
void web_auth_logout(struct web_auth *a, const char *sid);

/* web_auth_login_token - a fresh random token for the login form (hex, WEB_SID_LEN) */
void web_auth_login_token(char out[WEB_SID_LEN + 1]);

/* web_auth_csrf_ok - whether TOKEN (may be NULL) is ID's CSRF token; constant time */
gboolean web_auth_csrf_ok(const struct web_identity *id, const char *token);

/* web_auth_trusted - whether client ADDR ("unix" for a unix socket) is a [web] trusted_proxy */
gboolean web_auth_trusted(const struct web_auth *a, const char *addr);

/* --- route.c: one request, one response ------------------------------------------ */

struct web_app {
	const struct moat_conf *conf;	/* borrowed, read-only */
	struct quar *q;			/* borrowed; thread-safe */
	struct web_auth *auth;		/* borrowed; locks itself */
};

/* A request as route.c needs it; every pointer borrowed for the call. */
struct web_req {
	const char *method;		/* "GET", "HEAD", "POST", ... */
	const char *path;		/* without the query string */
	GHashTable *query;		/* the query string's fields (web_form_parse), or NULL */
	const char *body;		/* POST body, or NULL */
	gsize body_len;
	const char *content_type;	/* of the body, or NULL */
	const char *cookie;		/* the Cookie header, or NULL */
	const char *peer;		/* client address as text, "unix" for a unix socket */
	const char *proxy_user;		/* [web] proxy_user_header's value, or NULL */
	const char *fetch_site;		/* Sec-Fetch-Site, or NULL */
	gint64 now;			/* seconds since the epoch */
};

/* A response; web_resp_clear() frees what it owns. */
struct web_resp {
	guint status;
	const char *type;		/* static: "text/html; charset=utf-8", ... */
	GString *body;			/* owned */
	const char *static_body;	/* instead of body: static bytes (the style sheet) */
	gsize static_len;
	char *location;			/* owned, for 303; NULL */
	GPtrArray *cookies;		/* owned Set-Cookie values */
};

void web_resp_init(struct web_resp *r);
void web_resp_clear(struct web_resp *r);

/* web_handle - answer REQ into RESP (initialised); never fails: errors are pages */
void web_handle(struct web_app *app, const struct web_req *req, struct web_resp *resp);

/* --- page_*.c: the pages (route.c checked who may see them) ----------------------- */

/* web_page_open - the page's head, style sheet and the bar (user, nav, logout form); ID may be NULL */
void web_page_open(GString *out, const char *title, const struct web_identity *id);
void web_page_close(GString *out);
/* web_page_error - a whole page saying MSG, status STATUS */
void web_page_error(struct web_resp *r, const struct web_identity *id, guint status, const char *msg);

void web_page_login(struct web_resp *r, const char *token, const char *msg);
void web_page_list(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r);
void web_page_message(struct web_app *app, const struct web_identity *id, const char *qid,
    const char *notice, struct web_resp *r);
void web_page_history(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r);
void web_page_stats(struct web_app *app, const struct web_identity *id, const struct web_req *req,
    struct web_resp *r);
/* web_stats_svg - the held-per-day chart of the last DAYS days up to NOW as an SVG document */
void web_stats_svg(struct web_app *app, gint64 now, guint days, struct web_resp *r);

/* --- server.c: libmicrohttpd ------------------------------------------------------ */

struct web_server;

/*
 * web_server_start - serve APP (borrowed) on the listening socket FD
 * (taken: closed by web_server_stop), UNIX when it is a unix socket.
 * Every response carries the security headers (CSP, X-Frame-Options DENY,
 * nosniff, no-referrer, no-store).
 */
int web_server_start(struct web_server **out, char **err, struct web_app *app, int fd,
    gboolean is_unix);
void web_server_stop(struct web_server *s);

/* web_listen - a listening socket for [web] listen SPEC (unix: mode MODE); MOAT_E* and *err */
int web_listen(int *fd, gboolean *is_unix, char **err, const char *spec, guint mode);

#endif
