/*
 * server.c - moat-web's HTTP: libmicrohttpd in, route.c, headers out
 *
 * In: connections on the socket web_listen() made ([web] listen: loopback
 * or a unix socket; a reverse proxy gives TLS). Out: route.c's responses,
 * each with the security headers below. libmicrohttpd parses HTTP; the
 * raw request URI (for form.c's query parsing) comes from its URI log
 * callback. A request body is kept up to WEB_FORM_MAX_BYTES (413 past
 * it); a connection gets SERVER_MEMORY bytes for its headers (431/413 from
 * libmicrohttpd past it). SERVER_THREADS threads serve: a release blocks
 * one for as long as the MTA takes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "moat/moat.h"
#include "moat/sockspec.h"
#include "web.h"

#define SERVER_THREADS 4
#define SERVER_MEMORY (64 * 1024)
#define SERVER_CONNECTIONS 256
#define SERVER_IDLE_SECONDS 120

/* what every response carries: no script, no framing, no sniffing, no referrer */
#define SERVER_CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"

struct web_server {
	struct MHD_Daemon *d;
	struct web_app *app;
	gboolean is_unix;
	int fd;
};

/* One request's state: its raw URI and body so far. */
struct server_req {
	char *uri;
	GString *body;
	gboolean started;		/* the handler saw the headers */
	gboolean too_big;
};

/* server_uri - libmicrohttpd's URI log callback: the raw URI becomes the request's state */
static void *
server_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct server_req *sr = g_new0(struct server_req, 1);

	(void)cls;
	(void)c;
	sr->uri = g_strdup(uri != NULL ? uri : "/");
	sr->body = g_string_new(NULL);
	return sr;
}

/* server_done - a request is over (answered or not): free its state */
static void
server_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct server_req *sr = *con_cls;

	(void)cls;
	(void)c;
	(void)t;
	if (sr == NULL)
		return;
	g_free(sr->uri);
	g_string_free(sr->body, TRUE);
	g_free(sr);
	*con_cls = NULL;
}

/* server_peer - the client's address as text; "unix" on a unix socket */
static void
server_peer(char *buf, gsize len, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	g_strlcpy(buf, "unix", len);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		    (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
		    (socklen_t)len);
}

/* server_send - RESP onto C with the security headers */
static enum MHD_Result
server_send(struct MHD_Connection *c, const struct web_resp *r)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;

	if (r->static_body != NULL)
		mr = MHD_create_response_from_buffer(r->static_len, (void *)(guintptr)r->static_body,
		    MHD_RESPMEM_PERSISTENT);
	else
		mr = MHD_create_response_from_buffer(r->body->len, r->body->str, MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		return MHD_NO;
	MHD_add_response_header(mr, "Content-Type", r->type);
	MHD_add_response_header(mr, "Content-Security-Policy", SERVER_CSP);
	MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(mr, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(mr, "Cache-Control", r->static_body != NULL ? "max-age=3600" :
	    "no-store");
	if (r->location != NULL)
		MHD_add_response_header(mr, "Location", r->location);
	for (guint i = 0; i < r->cookies->len; i++)
		MHD_add_response_header(mr, "Set-Cookie", r->cookies->pdata[i]);
	ret = MHD_queue_response(c, r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

/* server_request - libmicrohttpd's access handler: gather the body, then route */
static enum MHD_Result
server_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct web_server *s = cls;
	struct server_req *sr = *con_cls;
	g_autoptr(GHashTable) query = NULL;
	struct web_resp resp;
	struct web_req req;
	char peer[INET6_ADDRSTRLEN + 1];
	const char *q;
	enum MHD_Result ret;

	(void)version;
	if (sr == NULL)
		return MHD_NO;	/* the URI callback always runs first */
	if (!sr->started) {
		sr->started = TRUE;	/* headers only: the body, if any, comes next */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (sr->body->len + *upload_size > WEB_FORM_MAX_BYTES)
			sr->too_big = TRUE;
		else
			g_string_append_len(sr->body, upload, (gssize)*upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	server_peer(peer, sizeof(peer), c);
	web_resp_init(&resp);
	q = strchr(sr->uri, '?');
	if (q != NULL && (query = web_form_parse(q + 1, strlen(q + 1))) == NULL) {
		web_page_error(&resp, NULL, 400, "The query string cannot be read.");
	} else if (sr->too_big) {
		web_page_error(&resp, NULL, 413, "The form is too large.");
	} else {
		req = (struct web_req){ .method = method, .path = url, .query = query,
			.body = sr->body->str, .body_len = sr->body->len,
			.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
			.cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"),
			.fetch_site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
			.proxy_user = *s->app->conf->web.proxy_user_header != '\0' ?
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    s->app->conf->web.proxy_user_header) : NULL,
			.peer = peer, .now = g_get_real_time() / G_USEC_PER_SEC };
		web_handle(s->app, &req, &resp);
	}
	ret = server_send(c, &resp);
	web_resp_clear(&resp);
	return ret;
}

int
web_server_start(struct web_server **out, char **err, struct web_app *app, int fd, gboolean is_unix)
{
	struct web_server *s = g_new0(struct web_server, 1);

	s->app = app;
	s->fd = fd;
	s->is_unix = is_unix;
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    server_request, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SERVER_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_IDLE_SECONDS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, server_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, server_done, NULL,
	    MHD_OPTION_END);
	if (s->d == NULL) {
		*err = g_strdup("libmicrohttpd did not start");
		g_free(s);
		return MOAT_EINTERNAL;
	}
	*out = s;
	return 0;
}

void
web_server_stop(struct web_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d);
	close(s->fd);
	g_free(s);
}

int
web_listen(int *fd, gboolean *is_unix, char **err, const char *spec, guint mode)
{
	struct sockspec ss;
	const char *path;
	struct stat st;
	int s, one = 1, e;

	if (sockspec_parse(&ss, err, spec) < 0)
		return MOAT_EINVAL;
	path = sockspec_path(&ss);
	if ((s = socket(ss.family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: socket: %s", spec, g_strerror(e));
		return MOAT_EIO;
	}
	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);	/* a socket left by a moat-web that died */
	if (path == NULL)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, &ss.addr.sa, ss.addrlen) < 0 || listen(s, 64) < 0 ||
	    (path != NULL && chmod(path, mode) < 0)) {
		e = errno;
		*err = g_strdup_printf("%s: %s", spec, g_strerror(e));
		close(s);
		return MOAT_EIO;
	}
	*fd = s;
	*is_unix = path != NULL;
	return 0;
}
