/*
 * check_web.c - moat-web: the one escaping function, moat's own request
 * parsing, and the HTTP layer (login, sessions, CSRF, roles, pages) on a
 * real SQLite store, through route.c and through libmicrohttpd on a unix
 * socket
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "checks.h"
#include "moat/moat.h"
#include "web/web.h"

/* --- web_esc and web_html ------------------------------------------------------- */

static char *
esc(const char *s, gssize len)
{
	GString *out = g_string_new(NULL);

	web_esc(out, s, len);
	return g_string_free(out, FALSE);
}

START_TEST(test_esc_markup)
{
	g_autofree char *a = esc("<script>alert('x')</script> & \"q\"", -1);

	ck_assert_str_eq(a, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
}
END_TEST

START_TEST(test_esc_controls)
{
	/* RLO turns "invoice\u202Efdp.exe" into "invoiceexe.pdf" on screen */
	g_autofree char *a = esc("invoice\xe2\x80\xae" "fdp.exe", -1);
	g_autofree char *b = esc("a\x07" "b\nc\td\xe2\x81\xa6" "e\xef\xbb\xbf", -1);
	g_autofree char *c = esc("bad \xff\xfe utf-8", -1);
	g_autofree char *d = esc("abc<def", 4);

	ck_assert_str_eq(a, "invoice<span class=\"cc\">U+202E</span>fdp.exe");
	ck_assert_str_eq(b, "a<span class=\"cc\">U+0007</span>b\nc\td<span class=\"cc\">U+2066</span>"
	    "e<span class=\"cc\">U+FEFF</span>");
	ck_assert_ptr_null(strstr(c, "\xff"));
	ck_assert_ptr_nonnull(strstr(c, "\xef\xbf\xbd"));	/* U+FFFD */
	ck_assert_str_eq(d, "abc&lt;");
}
END_TEST

START_TEST(test_html_template)
{
	g_autoptr(GString) out = g_string_new(NULL);

	web_html(out, "<a href=\"/list?from=%U\" title=\"%s\">%d %u %L%%</a>", "a b&c<\"@x", "\"><img",
	    -3, 7u, (gint64)1 << 40);
	ck_assert_str_eq(out->str, "<a href=\"/list?from=a%20b%26c%3C%22%40x\" title=\"&quot;&gt;&lt;img\">"
	    "-3 7 1099511627776%</a>");
}
END_TEST

/* --- form.c ------------------------------------------------------------------------ */

START_TEST(test_form_parse)
{
	const char *body = "user=al%C3%A9x&password=a+b%2Bc&empty=&flag&user=second";
	g_autoptr(GHashTable) f = web_form_parse(body, strlen(body));

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(g_hash_table_lookup(f, "user"), "al\xc3\xa9x");	/* the first wins */
	ck_assert_str_eq(g_hash_table_lookup(f, "password"), "a b+c");
	ck_assert_str_eq(g_hash_table_lookup(f, "empty"), "");
	ck_assert_str_eq(g_hash_table_lookup(f, "flag"), "");
	ck_assert_uint_eq(g_hash_table_size(f), 4);
}
END_TEST

static const char *const bad_forms[] = {
	"a=%zz", "a=%4", "a=%", "a=%00b", "a=%ff", "%e2%82=1", "a=b%c",
};

START_TEST(test_form_malformed)
{
	GHashTable *f = web_form_parse(bad_forms[_i], strlen(bad_forms[_i]));

	ck_assert_msg(f == NULL, "'%s' was taken", bad_forms[_i]);
}
END_TEST

START_TEST(test_form_bounds)
{
	g_autoptr(GString) many = g_string_new(NULL);
	g_autofree char *big = g_strnfill(WEB_FORM_MAX_BYTES + 1, 'a');
	GHashTable *f;

	for (int i = 0; i <= WEB_FORM_MAX_FIELDS; i++)
		g_string_append_printf(many, "k%d=v&", i);
	ck_assert_ptr_null(web_form_parse(many->str, many->len));
	ck_assert_ptr_null(web_form_parse(big, strlen(big)));
	f = web_form_parse("", 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(g_hash_table_size(f), 0);
	g_hash_table_unref(f);
}
END_TEST

START_TEST(test_cookie_get)
{
	g_autofree char *a = web_cookie_get("x=1; moat_session=abc_DEF-9 ;y=2", "moat_session");
	g_autofree char *b = web_cookie_get("moat_session2=abc; moat_session=", "moat_session");
	g_autofree char *c = web_cookie_get("moat_session=a\"b", "moat_session");
	g_autofree char *d = web_cookie_get(NULL, "moat_session");

	ck_assert_str_eq(a, "abc_DEF-9");
	ck_assert_ptr_null(b);
	ck_assert_ptr_null(c);
	ck_assert_ptr_null(d);
	ck_assert(web_token_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	ck_assert(!web_token_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	ck_assert(!web_token_valid("0123"));
}
END_TEST

START_TEST(test_filter_parse)
{
	const char *qs = "status=all&from=a%40b.example&finding=attach.shortcut&since=2026-12-01"
	    "&until=2026-12-02&page=3";
	g_autoptr(GHashTable) q = web_form_parse(qs, strlen(qs));
	g_autoptr(GHashTable) bad = web_form_parse("since=yesterday", 15);
	g_autofree char *err = NULL;
	struct quar_filter f;
	guint page;

	ck_assert_int_eq(web_filter_parse(&f, &page, &err, q), 0);
	ck_assert_int_eq(f.status, -1);
	ck_assert_str_eq(f.sender, "a@b.example");
	ck_assert_str_eq(f.finding, "attach.shortcut");
	ck_assert_int_eq(f.since, 1796083200);		/* 2026-12-01T00:00:00Z */
	ck_assert_int_eq(f.until, 1796083200 + 2 * 86400);	/* the whole of 12-02 */
	ck_assert_uint_eq(page, 3);
	ck_assert_int_eq(web_filter_parse(&f, &page, &err, bad), MOAT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "since"));
	ck_assert_int_eq(f.status, QUAR_HELD);
}
END_TEST

/* --- the HTTP layer on a real store --------------------------------------------------- */

#define HOSTILE_SUBJECT "Invoice <script>alert(1)</script> \xe2\x80\xae" "fdp.exe"
#define HOSTILE_FILE "<img src=x onerror=alert(2)>\xe2\x80\xae" "gpj.exe"

static char *dir;
static struct moat_conf *conf;
static struct quar *store;
static struct web_auth *auth;
static struct web_app app;
static char item_id[QUAR_ID_LEN + 1];

static const char message[] =
	"From: \"Boss <script>x</script>\" <boss@example.net>\r\n"
	"To: alice@example.org\r\n"
	"Subject: Invoice\r\n"
	"Message-ID: <web-1@example.net>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease pay <b>now</b>.\r\n"
	"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	"<p onclick=\"steal()\">Pay <img src=\"http://tracker.example/x.gif\"></p>\r\n--b--\r\n";

/* put_item - the hostile held message, its id in item_id */
static void
put_item(void)
{
	struct quar_item it = { 0 };
	struct quar_source src = { .data = (const guint8 *)message, .len = sizeof(message) - 1 };
	g_autofree char *err = NULL;
	gboolean dup = FALSE;

	it.queue_id = g_strdup("4XyZ");
	it.client_addr = g_strdup("192.0.2.7");
	it.helo = g_strdup("mx.example.net");
	it.mail_from = g_strdup("boss@example.net");
	it.rcpts = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(it.rcpts, g_strdup("alice@example.org"));
	it.header_from = g_strdup("\"Boss <script>x</script>\" <boss@example.net>");
	it.subject = g_strdup(HOSTILE_SUBJECT);
	it.message_id = g_strdup("web-1@example.net");
	it.score = 12;
	it.action = g_strdup("quarantine");
	it.findings = g_strdup("attach.shortcut");
	it.report_json = g_strdup_printf("{\"findings\": [{\"id\": \"attach.shortcut\", \"score\": 10, "
	    "\"severity\": \"high\", \"attack\": \"T1204.002\", \"path_display\": \"%s\", "
	    "\"evidence\": \"extension .lnk\"}], \"parts\": [{\"path\": [\"a.zip\"], \"sniffed_type\": "
	    "\"zip\", \"size\": 10, \"members\": [{\"path\": [\"a.zip\", \"%s\"], \"sniffed_type\": "
	    "\"pe\", \"size\": 5, \"members\": []}]}]}", HOSTILE_FILE, HOSTILE_FILE);
	it.key = quar_key(it.message_id, "00", it.mail_from, it.rcpts);
	ck_assert_msg(quar_put(store, item_id, &dup, &err, &it, &src) == 0, "put: %s", err);
	g_free(it.queue_id);
	g_free(it.client_addr);
	g_free(it.helo);
	g_free(it.mail_from);
	g_ptr_array_unref(it.rcpts);
	g_free(it.header_from);
	g_free(it.subject);
	g_free(it.message_id);
	g_free(it.action);
	g_free(it.findings);
	g_free(it.report_json);
	g_free(it.key);
}

/* add_user - NAME with ROLE and password NAME-password into USERS */
static void
add_user(GPtrArray *users, const char *name, enum webusers_role role)
{
	struct webusers_user *u = g_new0(struct webusers_user, 1);
	g_autofree char *pw = g_strconcat(name, "-password", NULL);

	u->name = g_strdup(name);
	u->role = role;
	u->hash = webusers_hash(pw);
	ck_assert_ptr_nonnull(u->hash);
	g_ptr_array_add(users, u);
}

/*
 * web_files - once for the test case (a store makes 4096 folders, a hash
 * costs 64 MiB): the config, an empty store, the users admin, rev
 * (reviewer) and aud (auditor), each with password NAME-password
 */
static void
web_files(void)
{
	g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func((GDestroyNotify)webusers_user_free);
	g_autofree char *text = NULL, *err = NULL, *upath = NULL;

	ck_assert_int_eq(webusers_init(), 0);
	dir = g_dir_make_tmp("moat-web-XXXXXX", NULL);
	upath = g_build_filename(dir, "users", NULL);
	text = g_strdup_printf("[quarantine]\ndir = %s/q\nrelease_host = 127.0.0.1:9\nrelease_timeout = 2\n"
	    "[web]\nusers = %s\nlogin_max_failures = 3\ntrusted_proxy = 127.0.0.1\n"
	    "proxy_user_header = X-Remote-User\npage_size = 10\n", dir, upath);
	ck_assert_int_eq(conf_load_data(&conf, &err, text, strlen(text)), 0);
	ck_assert_msg(quar_open(&store, &err, conf, QUAR_CREATE) == 0, "open: %s", err);
	quar_close(store);
	store = NULL;
	add_user(users, "admin", WEBUSERS_ADMIN);
	add_user(users, "rev", WEBUSERS_REVIEWER);
	add_user(users, "aud", WEBUSERS_AUDITOR);
	ck_assert_int_eq(webusers_save(&err, upath, users, (gid_t)-1), 0);
}

static void
web_files_remove(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	conf_free(conf);
	ck_assert_int_eq(system(cmd), 0);
	g_free(dir);
}

/* web_setup - each test: the store opened and emptied, the hostile item put, a fresh web_auth */
static void
web_setup(void)
{
	g_autofree char *err = NULL;
	guint n = 0;

	ck_assert_msg(quar_open(&store, &err, conf, 0) == 0, "open: %s", err);
	ck_assert_int_eq(quar_purge(store, &n, &err, G_MAXINT64), 0);
	auth = web_auth_new(conf);
	app = (struct web_app){ .conf = conf, .q = store, .auth = auth };
	put_item();
}

static void
web_teardown(void)
{
	web_auth_free(auth);
	quar_close(store);
}

/* A response as a test reads it. */
struct got {
	guint status;
	char *body, *location, *cookies;	/* cookies: the Set-Cookie values joined by "\n" */
};

static void
got_clear(struct got *g)
{
	g_free(g->body);
	g_free(g->location);
	g_free(g->cookies);
}

/* call - METHOD PATH?QUERY with COOKIE and a form BODY (or NULL), from PEER */
static struct got
call_from(const char *peer, const char *proxy_user, const char *method, const char *path,
    const char *cookie, const char *body)
{
	g_autofree char *p = g_strdup(path);
	char *qs = strchr(p, '?');
	g_autoptr(GHashTable) query = NULL;
	struct web_resp r;
	struct web_req req;
	struct got g = { 0 };
	g_autoptr(GString) cookies = g_string_new(NULL);

	if (qs != NULL) {
		*qs++ = '\0';
		query = web_form_parse(qs, strlen(qs));
	}
	req = (struct web_req){ .method = method, .path = p, .query = query, .body = body,
		.body_len = body != NULL ? strlen(body) : 0,
		.content_type = body != NULL ? "application/x-www-form-urlencoded" : NULL,
		.cookie = cookie, .peer = peer, .proxy_user = proxy_user,
		.now = g_get_real_time() / G_USEC_PER_SEC };
	web_resp_init(&r);
	web_handle(&app, &req, &r);
	g.status = r.status;
	g.body = r.static_body != NULL ? g_strndup(r.static_body, r.static_len) : g_strdup(r.body->str);
	g.location = g_strdup(r.location);
	for (guint i = 0; i < r.cookies->len; i++)
		g_string_append_printf(cookies, "%s\n", (const char *)r.cookies->pdata[i]);
	g.cookies = g_strdup(cookies->str);
	web_resp_clear(&r);
	return g;
}

static struct got
call(const char *method, const char *path, const char *cookie, const char *body)
{
	return call_from("192.0.2.50", NULL, method, path, cookie, body);
}

/* cookie_value - NAME's value in G's Set-Cookie lines (caller g_free()s) */
static char *
cookie_value(const struct got *g, const char *name)
{
	g_autofree char *pfx = g_strconcat(name, "=", NULL);
	const char *p = strstr(g->cookies, pfx);

	return p != NULL ? g_strndup(p + strlen(pfx), strcspn(p + strlen(pfx), ";")) : NULL;
}

/* login - NAME logs in with PASSWORD from PEER: the session cookie header ("moat_session=..."), or NULL */
static char *
login_from(const char *peer, const char *name, const char *password, guint *status)
{
	struct got page = call_from(peer, NULL, "GET", "/login", NULL, NULL);
	g_autofree char *token = cookie_value(&page, WEB_COOKIE_LOGIN);
	g_autofree char *cookie = g_strdup_printf("%s=%s", WEB_COOKIE_LOGIN, token);
	g_autofree char *body = g_strdup_printf("token=%s&user=%s&password=%s", token, name, password);
	struct got g;
	char *sid;

	ck_assert_ptr_nonnull(strstr(page.body, token));	/* the form carries it */
	got_clear(&page);
	g = call_from(peer, NULL, "POST", "/login", cookie, body);
	*status = g.status;
	sid = cookie_value(&g, WEB_COOKIE_SESSION);
	if (g.status == 303) {
		ck_assert_str_eq(g.location, "/list");
		ck_assert_ptr_nonnull(strstr(g.cookies, "HttpOnly; Secure; SameSite=Strict"));
	}
	got_clear(&g);
	if (sid == NULL || *sid == '\0') {
		g_free(sid);
		return NULL;
	}
	g_autofree char *v = sid;
	return g_strdup_printf("%s=%s", WEB_COOKIE_SESSION, v);
}

static char *
login(const char *name, guint *status)
{
	g_autofree char *pw = g_strconcat(name, "-password", NULL);

	return login_from("192.0.2.50", name, pw, status);
}

/* csrf_of - the CSRF token in a page */
static char *
csrf_of(const char *body)
{
	const char *p = strstr(body, "name=\"csrf\" value=\"");

	ck_assert_ptr_nonnull(p);
	return g_strndup(p + 19, WEB_SID_LEN);
}

/* status_of - the item's status now */
static enum quar_status
status_of(void)
{
	struct quar_item *it = NULL;
	g_autofree char *err = NULL;
	enum quar_status s;

	ck_assert_int_eq(quar_get(store, &it, &err, item_id), 0);
	s = it->status;
	quar_item_free(it);
	return s;
}

START_TEST(test_login_required)
{
	struct got g = call("GET", "/list", NULL, NULL);
	struct got p = call("POST", "/logout", NULL, "csrf=x");
	struct got c = call("GET", "/static/moat-web.css", NULL, NULL);

	ck_assert_uint_eq(g.status, 303);
	ck_assert_str_eq(g.location, "/login");
	ck_assert_uint_eq(p.status, 403);
	ck_assert_uint_eq(c.status, 200);
	ck_assert_ptr_nonnull(strstr(c.body, ".cc {"));
	got_clear(&g);
	got_clear(&p);
	got_clear(&c);
}
END_TEST

START_TEST(test_login_and_pages)
{
	guint st = 0;
	g_autofree char *cookie = login("admin", &st);
	g_autofree char *path = g_strdup_printf("/msg/%s", item_id);
	struct got list, msg, stats, svg, hist;

	ck_assert_uint_eq(st, 303);
	ck_assert_ptr_nonnull(cookie);
	list = call("GET", "/list?finding=attach.shortcut", cookie, NULL);
	ck_assert_uint_eq(list.status, 200);
	ck_assert_ptr_nonnull(strstr(list.body, "1 item"));
	ck_assert_ptr_nonnull(strstr(list.body, "Invoice &lt;script&gt;alert(1)&lt;/script&gt; "
	    "<span class=\"cc\">U+202E</span>fdp.exe"));
	ck_assert_ptr_null(strstr(list.body, "<script"));
	ck_assert_ptr_nonnull(strstr(list.body, "attach.shortcut <b>1</b>"));
	msg = call("GET", path, cookie, NULL);
	ck_assert_uint_eq(msg.status, 200);
	ck_assert_ptr_null(strstr(msg.body, "<script"));
	ck_assert_ptr_null(strstr(msg.body, "<img"));
	ck_assert_ptr_null(strstr(msg.body, "<p onclick"));
	ck_assert_ptr_nonnull(strstr(msg.body, "T1204.002"));
	ck_assert_ptr_nonnull(strstr(msg.body, "&lt;img src=x onerror=alert(2)&gt;"
	    "<span class=\"cc\">U+202E</span>gpj.exe"));
	ck_assert_ptr_nonnull(strstr(msg.body, "Please pay &lt;b&gt;now&lt;/b&gt;."));
	ck_assert_ptr_nonnull(strstr(msg.body, "&lt;p onclick=&quot;steal()&quot;&gt;"));
	ck_assert_ptr_nonnull(strstr(msg.body, "id=\"release\""));
	ck_assert_ptr_nonnull(strstr(msg.body, "id=\"delete\""));
	stats = call("GET", "/stats", cookie, NULL);
	ck_assert_uint_eq(stats.status, 200);
	ck_assert_ptr_nonnull(strstr(stats.body, "1 stored: 1 held"));
	svg = call("GET", "/stats/held.svg", cookie, NULL);
	ck_assert_uint_eq(svg.status, 200);
	ck_assert_ptr_nonnull(strstr(svg.body, "<title>1</title>"));
	hist = call("GET", "/history", cookie, NULL);
	ck_assert_uint_eq(hist.status, 200);
	got_clear(&list);
	got_clear(&msg);
	got_clear(&stats);
	got_clear(&svg);
	got_clear(&hist);
}
END_TEST

/* put_more - N more held items, stored after the hostile one; every other one also lure.sideload */
static void
put_more(guint n, GPtrArray *ids)
{
	for (guint i = 0; i < n; i++) {
		struct quar_item it = { 0 };
		struct quar_source src = { .data = (const guint8 *)message, .len = sizeof(message) - 1 };
		g_autoptr(GPtrArray) rcpts = g_ptr_array_new();
		g_autofree char *err = NULL, *mid = g_strdup_printf("more-%u@example.net", i);
		g_autofree char *subject = g_strdup_printf("Parcel %u", i), *key = NULL;
		char id[QUAR_ID_LEN + 1];
		gboolean dup = FALSE;

		g_ptr_array_add(rcpts, "bob@example.org");
		it = (struct quar_item){ .queue_id = "4More", .client_addr = "192.0.2.8", .helo = "mx",
			.mail_from = "parcel@example.net", .rcpts = rcpts, .header_from = "parcel@example.net",
			.subject = subject, .message_id = mid, .score = 10, .action = "quarantine",
			.findings = i % 2 ? "lure.sideload,attach.shortcut" : "attach.shortcut",
			.report_json = "{}" };
		it.key = key = quar_key(mid, "00", it.mail_from, rcpts);
		ck_assert_msg(quar_put(store, id, &dup, &err, &it, &src) == 0, "put: %s", err);
		g_ptr_array_add(ids, g_strdup(id));
	}
}

/* count_of - how often NEEDLE is in HAY */
static guint
count_of(const char *hay, const char *needle)
{
	guint n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/*
 * 25 held items, 10 a page: the total, the counts by finding and the pager
 * cover every match while each page shows its own rows (the store pages);
 * a page past the end shows the last; statistics and history count in the
 * store too.
 */
START_TEST(test_list_paging)
{
	guint st = 0;
	g_autofree char *cookie = login("admin", &st);
	g_autofree char *link = g_strdup_printf("href=\"/msg/%s\"", item_id), *err = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	struct got p1, p3, p9, side, stats, svg, hist;
	const char *row = "<tr><td class=\"num\">";

	put_more(24, ids);
	p1 = call("GET", "/list", cookie, NULL);
	ck_assert_uint_eq(p1.status, 200);
	ck_assert_ptr_nonnull(strstr(p1.body, "25 items"));
	ck_assert_ptr_nonnull(strstr(p1.body, "page 1 of 3"));
	ck_assert_uint_eq(count_of(p1.body, row), 10);
	ck_assert_ptr_null(strstr(p1.body, link));		/* the oldest: on the last page */
	ck_assert_ptr_nonnull(strstr(p1.body, "Parcel 23"));	/* the newest first */
	ck_assert_ptr_nonnull(strstr(p1.body, "attach.shortcut <b>25</b></a><a href=\"/list?finding="
	    "lure.sideload\">lure.sideload <b>12</b>"));
	p3 = call("GET", "/list?page=3", cookie, NULL);
	ck_assert_ptr_nonnull(strstr(p3.body, "page 3 of 3"));
	ck_assert_uint_eq(count_of(p3.body, row), 5);
	ck_assert_ptr_nonnull(strstr(p3.body, link));
	ck_assert_ptr_nonnull(strstr(p3.body, "rel=\"prev\" href=\"/list?page=2\""));
	ck_assert_ptr_null(strstr(p3.body, "rel=\"next\""));
	p9 = call("GET", "/list?page=9", cookie, NULL);
	ck_assert_ptr_nonnull(strstr(p9.body, "page 3 of 3"));
	ck_assert_uint_eq(count_of(p9.body, row), 5);
	side = call("GET", "/list?finding=lure.sideload&page=2", cookie, NULL);
	ck_assert_ptr_nonnull(strstr(side.body, "12 items"));
	ck_assert_ptr_nonnull(strstr(side.body, "page 2 of 2"));
	ck_assert_uint_eq(count_of(side.body, row), 2);
	ck_assert_ptr_nonnull(strstr(side.body, "href=\"/list?finding=lure.sideload\">← newer"));

	ck_assert_int_eq(quar_transition(store, &err, ids->pdata[3], QUAR_HELD, QUAR_RELEASED,
	    "web:admin", "released", "to bob@example.org"), 0);
	ck_assert_int_eq(quar_transition(store, &err, ids->pdata[4], QUAR_HELD, QUAR_DELETED,
	    "web:admin", "deleted", NULL), 0);
	stats = call("GET", "/stats", cookie, NULL);
	ck_assert_ptr_nonnull(strstr(stats.body, "25 stored: 23 held, 1 released, 1 deleted."));
	ck_assert_ptr_nonnull(strstr(stats.body, "finding=attach.shortcut\">attach.shortcut</a></td>"
	    "<td class=\"num\">25</td>"));
	ck_assert_ptr_nonnull(strstr(stats.body, "finding=lure.sideload\">lure.sideload</a></td>"
	    "<td class=\"num\">12</td>"));
	svg = call("GET", "/stats/held.svg", cookie, NULL);
	ck_assert_ptr_nonnull(strstr(svg.body, "<title>25</title>"));
	ck_assert_uint_eq(count_of(svg.body, "<title>0</title>"), 29);
	hist = call("GET", "/history", cookie, NULL);
	ck_assert_ptr_nonnull(strstr(hist.body, ">Parcel 3</a></td><td>to bob@example.org</td>"));
	ck_assert_ptr_nonnull(strstr(hist.body, "<td>deleted</td>"));
	ck_assert_uint_eq(count_of(hist.body, "<td>web:admin</td>"), 2);
	got_clear(&p1);
	got_clear(&p3);
	got_clear(&p9);
	got_clear(&side);
	got_clear(&stats);
	got_clear(&svg);
	got_clear(&hist);
}
END_TEST

START_TEST(test_csrf_and_roles)
{
	guint st = 0;
	g_autofree char *admin = login("admin", &st), *rev = login("rev", &st), *aud = login("aud", &st);
	g_autofree char *path = g_strdup_printf("/msg/%s", item_id);
	g_autofree char *del = g_strdup_printf("/msg/%s/delete", item_id);
	g_autofree char *rel = g_strdup_printf("/msg/%s/release", item_id);
	struct got page = call("GET", path, admin, NULL);
	g_autofree char *admin_csrf = csrf_of(page.body), *body = NULL, *rev_body = NULL;
	struct got rpage = call("GET", path, rev, NULL), apage = call("GET", path, aud, NULL);
	g_autofree char *rev_csrf = csrf_of(rpage.body);
	struct got g;

	/* a reviewer sees release, not delete; an auditor neither */
	ck_assert_ptr_nonnull(strstr(rpage.body, "id=\"release\""));
	ck_assert_ptr_null(strstr(rpage.body, "id=\"delete\""));
	ck_assert_ptr_null(strstr(apage.body, "id=\"release\""));
	body = g_strdup_printf("csrf=%s", admin_csrf);
	rev_body = g_strdup_printf("csrf=%s", rev_csrf);
	/* no token, a wrong one, another user's, from another site: refused, still held */
	g = call("POST", del, admin, "x=1");
	ck_assert_uint_eq(g.status, 403);
	got_clear(&g);
	g = call("POST", del, admin, rev_body);
	ck_assert_uint_eq(g.status, 403);
	got_clear(&g);
	g = call("POST", del, rev, body);		/* the admin's token with the reviewer's cookie */
	ck_assert_uint_eq(g.status, 403);
	got_clear(&g);
	{
		struct web_req req = { .method = "POST", .path = del, .body = body,
			.body_len = strlen(body), .content_type = "application/x-www-form-urlencoded",
			.cookie = admin, .peer = "192.0.2.50", .fetch_site = "cross-site",
			.now = g_get_real_time() / G_USEC_PER_SEC };
		struct web_resp r;

		web_resp_init(&r);
		web_handle(&app, &req, &r);
		ck_assert_uint_eq(r.status, 403);
		web_resp_clear(&r);
	}
	ck_assert_int_eq(status_of(), QUAR_HELD);
	/* a reviewer may not delete, an auditor may not release */
	g = call("POST", del, rev, rev_body);
	ck_assert_uint_eq(g.status, 403);
	got_clear(&g);
	g = call("GET", path, aud, NULL);
	{
		g_autofree char *aud_csrf = csrf_of(g.body);
		g_autofree char *aud_body = g_strdup_printf("csrf=%s", aud_csrf);

		got_clear(&g);
		g = call("POST", rel, aud, aud_body);
		ck_assert_uint_eq(g.status, 403);
		got_clear(&g);
	}
	ck_assert_int_eq(status_of(), QUAR_HELD);
	/* the reviewer's release: the MTA is not there (port 9), so it stays held, said in history */
	g = call("POST", rel, rev, rev_body);
	ck_assert_uint_eq(g.status, 409);
	ck_assert_int_eq(status_of(), QUAR_HELD);
	got_clear(&g);
	/* the admin deletes: 303 back to the page, deleted, by web:admin */
	g = call("POST", del, admin, body);
	ck_assert_uint_eq(g.status, 303);
	ck_assert_int_eq(status_of(), QUAR_DELETED);
	got_clear(&g);
	g = call("GET", path, admin, NULL);
	ck_assert_ptr_nonnull(strstr(g.body, "<td>web:rev</td><td>release failed</td>"));
	ck_assert_ptr_nonnull(strstr(g.body, "<td>web:admin</td><td>deleted</td>"));
	got_clear(&g);
	got_clear(&page);
	got_clear(&rpage);
	got_clear(&apage);
}
END_TEST

START_TEST(test_logout_ends_session)
{
	guint st = 0;
	g_autofree char *admin = login("admin", &st);
	g_autofree char *path = g_strdup_printf("/msg/%s", item_id);
	g_autofree char *del = g_strdup_printf("/msg/%s/delete", item_id);
	struct got page = call("GET", path, admin, NULL);
	g_autofree char *csrf = csrf_of(page.body);
	g_autofree char *body = g_strdup_printf("csrf=%s", csrf);
	struct got g = call("POST", "/logout", admin, body);

	ck_assert_uint_eq(g.status, 303);
	ck_assert_ptr_nonnull(strstr(g.cookies, "moat_session=; Path=/; Max-Age=0"));
	got_clear(&g);
	/* the old cookie, token and all, acts no more */
	g = call("POST", del, admin, body);
	ck_assert_uint_eq(g.status, 403);
	got_clear(&g);
	g = call("GET", "/list", admin, NULL);
	ck_assert_uint_eq(g.status, 303);
	got_clear(&g);
	ck_assert_int_eq(status_of(), QUAR_HELD);
	got_clear(&page);
}
END_TEST

START_TEST(test_login_throttle)
{
	guint st = 0;
	g_autofree char *c1 = login_from("198.51.100.1", "admin", "wrong", &st);

	ck_assert_uint_eq(st, 403);
	ck_assert_ptr_null(c1);
	for (int i = 0; i < 2; i++)
		g_free(login_from("198.51.100.1", "admin", "wrong", &st));
	/* three failures for admin: the right password is refused too, from anywhere */
	g_free(login_from("198.51.100.2", "admin", "admin-password", &st));
	ck_assert_uint_eq(st, 429);
	/* and from the address, for another user */
	g_free(login_from("198.51.100.1", "rev", "rev-password", &st));
	ck_assert_uint_eq(st, 429);
	/* another user from another address is not affected */
	g_autofree char *c2 = login_from("198.51.100.3", "aud", "aud-password", &st);
	ck_assert_uint_eq(st, 303);
	ck_assert_ptr_nonnull(c2);
}
END_TEST

START_TEST(test_login_form_token)
{
	struct got g = call("POST", "/login", NULL, "token=0123456789abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef&user=admin&password=admin-password");

	struct got first = call("GET", "/login", NULL, NULL), fav, again;
	g_autofree char *token = cookie_value(&first, WEB_COOKIE_LOGIN), *cookie = NULL, *t2 = NULL;

	ck_assert_uint_eq(g.status, 403);		/* no login cookie to match */
	ck_assert_ptr_null(strstr(g.cookies, WEB_COOKIE_SESSION "="));
	/* the browser's favicon fetch or a second tab must not make the form stale */
	cookie = g_strdup_printf("%s=%s", WEB_COOKIE_LOGIN, token);
	fav = call("GET", "/favicon.ico", cookie, NULL);
	ck_assert_uint_eq(fav.status, 403);
	ck_assert_str_eq(fav.cookies, "");
	again = call("GET", "/login", cookie, NULL);
	t2 = cookie_value(&again, WEB_COOKIE_LOGIN);
	ck_assert_str_eq(t2, token);
	got_clear(&g);
	got_clear(&first);
	got_clear(&fav);
	got_clear(&again);
}
END_TEST

START_TEST(test_proxy_user)
{
	struct got a = call_from("127.0.0.1", "aud", "GET", "/list", NULL, NULL);
	struct got b = call_from("192.0.2.9", "admin", "GET", "/list", NULL, NULL);
	struct got c = call_from("127.0.0.1", "nobody-here", "GET", "/list", NULL, NULL);

	ck_assert_uint_eq(a.status, 200);
	ck_assert_ptr_nonnull(strstr(a.body, "aud · auditor"));
	ck_assert_uint_eq(b.status, 303);		/* not from the proxy: not believed */
	ck_assert_uint_eq(c.status, 303);		/* no such user */
	got_clear(&a);
	got_clear(&b);
	got_clear(&c);
}
END_TEST

START_TEST(test_release_claimed)
{
	guint st = 0;
	g_autofree char *cookie = login("admin", &st), *err = NULL;
	g_autofree char *path = g_strdup_printf("/msg/%s", item_id);
	g_autofree char *rel = g_strdup_printf("/msg/%s/release", item_id);
	struct got page = call("GET", path, cookie, NULL), g;
	g_autofree char *csrf = csrf_of(page.body);
	g_autofree char *body = g_strdup_printf("csrf=%s", csrf);

	/* `moat quarantine release` holds the claim: the web's release is told so, sends nothing */
	ck_assert_int_eq(quar_transition(store, &err, item_id, QUAR_HELD, QUAR_RELEASING, "cli",
	    "release started", NULL), 0);
	g = call("POST", rel, cookie, body);
	ck_assert_uint_eq(g.status, 409);
	ck_assert_ptr_nonnull(strstr(g.body, "is releasing, not held"));
	ck_assert_int_eq(status_of(), QUAR_RELEASING);
	got_clear(&g);
	got_clear(&page);
}
END_TEST

START_TEST(test_users_file)
{
	g_autofree char *path = g_build_filename(dir, "bad", NULL), *err = NULL;
	GPtrArray *users = NULL;

	ck_assert(g_file_set_contents(path, "admin:root:$argon2id$x\n", -1, NULL));
	ck_assert_int_eq(webusers_load(&users, &err, path), MOAT_EPARSE);
	ck_assert_ptr_nonnull(strstr(err, ":1:"));
	g_clear_pointer(&err, g_free);
	ck_assert(g_file_set_contents(path, "# c\n\nx:admin:$argon2id$y\nx:auditor:$argon2id$z\n", -1,
	    NULL));
	ck_assert_int_eq(webusers_load(&users, &err, path), MOAT_EPARSE);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
	ck_assert(!webusers_name_valid("a:b"));
	ck_assert(!webusers_name_valid(""));
	ck_assert(webusers_name_valid("alice.b@example.org"));
}
END_TEST

/* --- through libmicrohttpd, on a unix socket ----------------------------------------- */

/* http - send REQUEST to the unix socket PATH, the whole answer (caller g_free()s) */
static char *
http(const char *path, const char *request)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	GString *out = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	close(fd);
	return g_string_free(out, FALSE);
}

START_TEST(test_server_headers)
{
	g_autofree char *sock = g_build_filename(dir, "web.sock", NULL);
	g_autofree char *spec = g_strconcat("unix:", sock, NULL), *err = NULL;
	g_autofree char *big = NULL, *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	g_autofree char *fill = g_strnfill(WEB_FORM_MAX_BYTES + 10, 'a');
	struct web_server *srv = NULL;
	gboolean is_unix = FALSE;
	int fd = -1;

	ck_assert_msg(web_listen(&fd, &is_unix, &err, spec, 0600) == 0, "listen: %s", err);
	ck_assert(is_unix);
	ck_assert_int_eq(web_server_start(&srv, &err, &app, fd, is_unix), 0);
	a = http(sock, "GET /login HTTP/1.0\r\n\r\n");
	ck_assert_msg(g_str_has_prefix(a, "HTTP/1.0 200") || g_str_has_prefix(a, "HTTP/1.1 200"), "%s", a);
	ck_assert_ptr_nonnull(strstr(a, "Content-Security-Policy: default-src 'none'; style-src 'self'; "
	    "img-src 'self'; form-action 'self'; frame-ancestors 'none'"));
	ck_assert_ptr_nonnull(strstr(a, "X-Frame-Options: DENY"));
	ck_assert_ptr_nonnull(strstr(a, "X-Content-Type-Options: nosniff"));
	ck_assert_ptr_nonnull(strstr(a, "Set-Cookie: moat_login="));
	ck_assert_ptr_null(strstr(a, "<script"));
	b = http(sock, "GET /static/moat-web.css HTTP/1.0\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(b, "Content-Type: text/css"));
	c = http(sock, "GET /list?status=%zz HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(c, " 400 ") != NULL, "%s", c);
	big = g_strdup_printf("POST /login HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %d\r\n\r\n%s", WEB_FORM_MAX_BYTES + 10, fill);
	d = http(sock, big);
	ck_assert_msg(strstr(d, " 413 ") != NULL, "%.200s", d);
	web_server_stop(srv);
}
END_TEST

Suite *
web_suite(void)
{
	Suite *s = suite_create("web");
	TCase *t = tcase_create("escape and parse");
	TCase *h = tcase_create("http");

	tcase_add_test(t, test_esc_markup);
	tcase_add_test(t, test_esc_controls);
	tcase_add_test(t, test_html_template);
	tcase_add_test(t, test_form_parse);
	tcase_add_loop_test(t, test_form_malformed, 0, G_N_ELEMENTS(bad_forms));
	tcase_add_test(t, test_form_bounds);
	tcase_add_test(t, test_cookie_get);
	tcase_add_test(t, test_filter_parse);
	suite_add_tcase(s, t);
	tcase_add_unchecked_fixture(h, web_files, web_files_remove);
	tcase_add_checked_fixture(h, web_setup, web_teardown);
	tcase_set_timeout(h, 60);
	tcase_add_test(h, test_login_required);
	tcase_add_test(h, test_login_and_pages);
	tcase_add_test(h, test_list_paging);
	tcase_add_test(h, test_csrf_and_roles);
	tcase_add_test(h, test_logout_ends_session);
	tcase_add_test(h, test_login_throttle);
	tcase_add_test(h, test_login_form_token);
	tcase_add_test(h, test_proxy_user);
	tcase_add_test(h, test_release_claimed);
	tcase_add_test(h, test_users_file);
	tcase_add_test(h, test_server_headers);
	suite_add_tcase(s, h);
	return s;
}
