/*
 * status.c - the status endpoint: stats_render() over HTTP, one thread
 *
 * In: [milter] status_socket (opened before the privilege drop, main.c).
 * Out: Prometheus text for GET /metrics. The thread poll()s the listening
 * socket and a wake-up pipe; each client is served in turn on a
 * non-blocking socket, within STATUS_CLIENT_MS for reading a request of at
 * most STATUS_REQUEST_MAX bytes and writing the answer, then closed. Slow,
 * silent or garbage-sending clients only make other status clients wait;
 * connection threads never wait for this one (stats_render() holds the
 * counters' lock only while it copies them). No libmilter here.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "moat/moat.h"
#include "moatd.h"
#include "moat/sockspec.h"
#include "stats.h"
#include "status.h"

static GThread *status_thread;
static int status_fd = -1;
static int status_wake[2] = { -1, -1 };	/* status_stop() writes, the thread wakes */
static char *status_path;		/* a unix socket's file, removed at stop */

/*
 * status_clear_stale - make room for a unix socket at PATH: a socket file
 * nobody answers on (a moatd that died) is removed; a live one, or a file
 * that is not a socket, is an error.
 */
static int
status_clear_stale(char **err, const struct sockspec *ss, const char *path)
{
	struct stat sb;
	int fd, e;

	if (lstat(path, &sb) < 0)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		*err = g_strdup_printf("%s exists and is not a socket", path);
		return MOAT_EINVAL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		e = errno;
		*err = g_strdup_printf("socket: %s", g_strerror(e));
		return MOAT_EIO;
	}
	if (connect(fd, &ss->addr.sa, ss->addrlen) == 0) {
		close(fd);
		*err = g_strdup_printf("%s: another process listens on it", path);
		return MOAT_EIO;
	}
	e = errno;
	close(fd);
	if (e != ECONNREFUSED || (unlink(path) < 0 && errno != ENOENT)) {
		e = e != ECONNREFUSED ? e : errno;
		*err = g_strdup_printf("%s: cannot replace it: %s", path, g_strerror(e));
		return MOAT_EIO;
	}
	return 0;
}

int
status_listen(int *out, char **err, const char *spec)
{
	struct sockspec ss;
	const char *path;
	int fd, e, one = 1, rc;

	if ((rc = sockspec_parse(&ss, err, spec)) < 0)
		return rc;
	if ((path = sockspec_path(&ss)) != NULL && (rc = status_clear_stale(err, &ss, path)) < 0)
		return rc;
	if ((fd = socket(ss.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (ss.family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &ss.addr.sa, ss.addrlen) < 0 || listen(fd, 16) < 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	e = errno;
	*err = g_strdup_printf("%s: %s", spec, g_strerror(e));
	if (fd >= 0)
		close(fd);
	return MOAT_EIO;
}

/* status_reply - an answer with BODY (LEN bytes), without it for HEAD */
static char *
status_reply(gsize *out_len, const char *status, const char *type, const char *extra,
    const char *body, gsize len, gboolean head)
{
	GString *out = g_string_sized_new(len + 200);

	g_string_append_printf(out, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "%sConnection: close\r\n\r\n", status, type, len, extra);
	if (!head)
		g_string_append_len(out, body, (gssize)len);
	*out_len = out->len;
	return g_string_free(out, FALSE);
}

static char *
status_error(gsize *out_len, const char *status, const char *extra, const char *text, gboolean head)
{
	return status_reply(out_len, status, "text/plain; charset=utf-8", extra, text, strlen(text),
	    head);
}

char *
status_response(const char *req, gsize len, gsize *out_len)
{
	const char *eol = memchr(req, '\n', len);
	g_autofree char *line = NULL, *body = NULL;
	g_auto(GStrv) w = NULL;
	gboolean head;
	gsize plen;

	/* The request line, then headers up to a blank line: all must fit. */
	if (eol == NULL || (len >= STATUS_REQUEST_MAX && g_strstr_len(req, (gssize)len, "\n\r\n") == NULL &&
	    g_strstr_len(req, (gssize)len, "\n\n") == NULL))
		return status_error(out_len, "400 Bad Request", "", "bad request\n", FALSE);
	line = g_strndup(req, (gsize)(eol - req));
	g_strchomp(line);
	w = g_strsplit(line, " ", 0);
	if (g_strv_length(w) != 3 || !g_str_has_prefix(w[2], "HTTP/1.") || w[1][0] != '/')
		return status_error(out_len, "400 Bad Request", "", "bad request\n", FALSE);
	head = strcmp(w[0], "HEAD") == 0;
	if (!head && strcmp(w[0], "GET") != 0)
		return status_error(out_len, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
		    "only GET\n", FALSE);
	plen = strcspn(w[1], "?");
	if (plen != strlen("/metrics") || strncmp(w[1], "/metrics", plen) != 0)
		return status_error(out_len, "404 Not Found", "", "not found: the counters are at /metrics\n",
		    head);
	body = stats_render();
	return status_reply(out_len, "200 OK", "text/plain; version=0.0.4; charset=utf-8", "", body,
	    strlen(body), head);
}

/* status_ms_left - milliseconds to DEADLINE (monotonic µs), at least 0 */
static int
status_ms_left(gint64 deadline)
{
	gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;

	return left < 0 ? 0 : (int)MIN(left, G_MAXINT);
}

/* status_wait - FD ready for EVENTS before DEADLINE */
static gboolean
status_wait(int fd, short events, gint64 deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, status_ms_left(deadline));
	} while (n < 0 && errno == EINTR);
	return n > 0;
}

/* status_serve - read one request from FD (non-blocking), answer it */
static void
status_serve(int fd)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)STATUS_CLIENT_MS * 1000;
	char req[STATUS_REQUEST_MAX];
	g_autofree char *out = NULL;
	gsize len = 0, out_len, done = 0;
	ssize_t n;

	/* Up to the blank line that ends the request header, the cap, or EOF. */
	while (len < sizeof(req) && g_strstr_len(req, (gssize)len, "\n\r\n") == NULL &&
	    g_strstr_len(req, (gssize)len, "\n\n") == NULL) {
		if (!status_wait(fd, POLLIN, deadline))
			return;		/* silent client: no answer */
		if ((n = recv(fd, req + len, sizeof(req) - len, 0)) < 0 &&
		    (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (gsize)n;
	}
	if (len == 0)
		return;
	out = status_response(req, len, &out_len);
	while (done < out_len) {
		if (!status_wait(fd, POLLOUT, deadline))
			return;
		/* MSG_NOSIGNAL: a client gone away must not raise SIGPIPE */
		if ((n = send(fd, out + done, out_len - done, MSG_NOSIGNAL)) < 0 &&
		    (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		done += (gsize)n;
	}
}

static gpointer
status_run(gpointer data)
{
	struct pollfd p[2] = {
		{ .fd = status_fd, .events = POLLIN },
		{ .fd = status_wake[0], .events = POLLIN },
	};

	(void)data;
	for (;;) {
		int c, e;

		if (poll(p, 2, -1) < 0) {
			if (errno != EINTR)
				g_usleep(100 * 1000);
			continue;
		}
		if (p[1].revents != 0)
			break;
		if (p[0].revents == 0)
			continue;
		if ((c = accept4(status_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			e = errno;
			/* Out of descriptors and the like: do not spin on a socket poll() keeps reporting. */
			if (e != EAGAIN && e != EINTR && e != ECONNABORTED)
				g_usleep(100 * 1000);
			continue;
		}
		status_serve(c);
		close(c);
	}
	return NULL;
}

int
status_start(int fd, const char *spec, char **err)
{
	struct sockspec ss;
	g_autoptr(GError) gerr = NULL;
	g_autofree char *why = NULL;
	int e;

	g_assert(status_thread == NULL);
	if (pipe2(status_wake, O_CLOEXEC) < 0) {
		e = errno;
		*err = g_strdup_printf("pipe: %s", g_strerror(e));
		close(fd);
		return MOAT_EIO;
	}
	status_fd = fd;
	if (sockspec_parse(&ss, &why, spec) == 0 && sockspec_path(&ss) != NULL)
		status_path = g_strdup(sockspec_path(&ss));
	if ((status_thread = g_thread_try_new("moatd-status", status_run, NULL, &gerr)) == NULL) {
		*err = g_strdup_printf("status thread: %s", gerr->message);
		status_stop();
		return MOAT_EIO;
	}
	return 0;
}

void
status_stop(void)
{
	if (status_thread != NULL) {
		while (write(status_wake[1], "x", 1) < 0 && errno == EINTR)
			;
		g_thread_join(status_thread);
		status_thread = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (status_wake[i] >= 0) {
			close(status_wake[i]);
			status_wake[i] = -1;
		}
	if (status_fd >= 0) {
		close(status_fd);
		status_fd = -1;
	}
	if (status_path != NULL && unlink(status_path) < 0 && errno != ENOENT) {
		int e = errno;

		moatd_log(NULL, LOG_WARNING, "cannot remove the status socket %s: %s", status_path,
		    g_strerror(e));
	}
	g_clear_pointer(&status_path, g_free);
}
