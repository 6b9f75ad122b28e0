/*
 * status.c - the status endpoint: stats_render() over HTTP, one thread
 *
 * In: [milter] status_socket (opened before the privilege drop, main.c).
 * Out: Prometheus text for GET /metrics. The thread poll()s a wake-up pipe,
 * the listening socket and up to STATUS_CLIENTS_MAX clients at once, all
 * non-blocking; each client has STATUS_CLIENT_MS of its own for sending a
 * request of at most STATUS_REQUEST_MAX bytes and taking the answer, then
 * is closed. A new client past STATUS_CLIENTS_MAX takes the oldest one's
 * slot once that one has had STATUS_GRACE_MS. So a slow, silent or
 * garbage-sending client holds one slot for a while and delays others by
 * at most about two STATUS_GRACE_MS; connection threads never wait for
 * this one (stats_render() holds the counters' lock only while it copies
 * them). No libmilter here.
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

/*
 * One connection being served; fd -1 when the slot is free. The request is
 * read into req; once it is complete (or cut at the cap, or ended by EOF)
 * the answer is built in out and written from done on.
 */
struct status_client {
	int fd;
	gint64 since;			/* accepted, monotonic µs: the oldest is dropped first */
	gint64 deadline;		/* since + STATUS_CLIENT_MS, for reading and writing */
	gsize len;			/* bytes in req */
	char *out;			/* the answer; NULL while reading */
	gsize out_len, done;
	char req[STATUS_REQUEST_MAX];
};

/* status_ms_left - milliseconds to DEADLINE (monotonic µs), at least 0 */
static int
status_ms_left(gint64 deadline)
{
	gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;

	return left < 0 ? 0 : (int)MIN(left, G_MAXINT);
}

static void
status_client_close(struct status_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	g_clear_pointer(&c->out, g_free);
	c->fd = -1;
	c->len = c->out_len = c->done = 0;
}

/* status_client_write - send what the socket takes; FALSE when C is done with (all sent, or gone) */
static gboolean
status_client_write(struct status_client *c)
{
	ssize_t n;

	while (c->done < c->out_len) {
		/* MSG_NOSIGNAL: a client gone away must not raise SIGPIPE */
		if ((n = send(c->fd, c->out + c->done, c->out_len - c->done, MSG_NOSIGNAL)) < 0 &&
		    errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TRUE;
		if (n <= 0)
			return FALSE;
		c->done += (gsize)n;
	}
	return FALSE;
}

/*
 * status_client_read - read what C has sent, up to the blank line that ends
 * the request header, the cap, or EOF; then answer. FALSE when C is done
 * with: answered, gone, or closed without a word.
 */
static gboolean
status_client_read(struct status_client *c)
{
	ssize_t n;

	while (c->len < sizeof(c->req) && g_strstr_len(c->req, (gssize)c->len, "\n\r\n") == NULL &&
	    g_strstr_len(c->req, (gssize)c->len, "\n\n") == NULL) {
		if ((n = recv(c->fd, c->req + c->len, sizeof(c->req) - c->len, 0)) < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TRUE;	/* the rest later, or never: the deadline decides */
		if (n <= 0)
			break;
		c->len += (gsize)n;
	}
	if (c->len == 0)
		return FALSE;
	c->out = status_response(c->req, c->len, &c->out_len);
	return status_client_write(c);
}

/* status_client_io - C's socket is ready: go on reading or writing; FALSE when C is done with */
static gboolean
status_client_io(struct status_client *c)
{
	return c->out == NULL ? status_client_read(c) : status_client_write(c);
}

/* status_room_at - when CL can take a new client (monotonic µs): now if a slot is free */
static gint64
status_room_at(const struct status_client *cl)
{
	gint64 oldest = G_MAXINT64;

	for (int i = 0; i < STATUS_CLIENTS_MAX; i++) {
		if (cl[i].fd < 0)
			return 0;
		oldest = MIN(oldest, cl[i].since);
	}
	return oldest + (gint64)STATUS_GRACE_MS * 1000;
}

/* status_slot - a free slot of CL, else the oldest client's (closed) if it has had STATUS_GRACE_MS */
static struct status_client *
status_slot(struct status_client *cl)
{
	struct status_client *oldest = &cl[0];

	for (int i = 0; i < STATUS_CLIENTS_MAX; i++) {
		if (cl[i].fd < 0)
			return &cl[i];
		if (cl[i].since < oldest->since)
			oldest = &cl[i];
	}
	if (g_get_monotonic_time() < oldest->since + (gint64)STATUS_GRACE_MS * 1000)
		return NULL;
	status_client_close(oldest);
	return oldest;
}

/*
 * status_accept - take the connections waiting, at most STATUS_CLIENTS_MAX
 * at a time. A new client gets a free slot, or the oldest client's once
 * that one has had STATUS_GRACE_MS to send its request: a local client
 * sends it right after connecting, so the oldest is the likeliest to be
 * silent, while one that was slow to be scheduled is not dropped by a
 * burst of connections behind it; until then newcomers wait in the listen
 * backlog, in the order they came. Each is read at once (its request is
 * often there already). After an error such as EMFILE the listening socket
 * is left alone until *PAUSE (monotonic µs), so that poll() does not spin
 * on it while the clients in hand are still served.
 */
static void
status_accept(struct status_client *cl, gint64 *pause)
{
	for (int i = 0; i < STATUS_CLIENTS_MAX; i++) {
		struct status_client *c;
		int fd, e;

		if ((c = status_slot(cl)) == NULL)
			return;
		if ((fd = accept4(status_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			e = errno;
			if (e == EINTR || e == ECONNABORTED)
				continue;
			if (e != EAGAIN && e != EWOULDBLOCK)
				*pause = g_get_monotonic_time() + 100 * 1000;
			return;
		}
		c->fd = fd;
		c->since = g_get_monotonic_time();
		c->deadline = c->since + (gint64)STATUS_CLIENT_MS * 1000;
		if (!status_client_io(c))
			status_client_close(c);
	}
}

/*
 * status_run - the thread: one poll() over the wake-up pipe, the listening
 * socket (while there is room for a client) and the clients in hand; each
 * client is read or written as its socket allows and closed at its own
 * deadline, so a slow one holds only its slot.
 */
static gpointer
status_run(gpointer data)
{
	struct status_client *cl = g_new0(struct status_client, STATUS_CLIENTS_MAX);
	struct pollfd p[2 + STATUS_CLIENTS_MAX];
	int who[STATUS_CLIENTS_MAX];		/* p[2 + k] is client cl[who[k]] */
	gint64 pause = 0;			/* no accept() before: after an error */

	(void)data;
	for (int i = 0; i < STATUS_CLIENTS_MAX; i++)
		cl[i].fd = -1;
	for (;;) {
		gint64 now = g_get_monotonic_time(), listen_at = MAX(pause, status_room_at(cl));
		gint64 wake_at = listen_at > now ? listen_at : G_MAXINT64;
		nfds_t n = 2;

		p[0] = (struct pollfd){ .fd = status_wake[0], .events = POLLIN };
		/* poll() skips a negative fd */
		p[1] = (struct pollfd){ .fd = listen_at > now ? -1 : status_fd, .events = POLLIN };
		for (int i = 0; i < STATUS_CLIENTS_MAX; i++) {
			if (cl[i].fd < 0)
				continue;
			who[n - 2] = i;
			p[n++] = (struct pollfd){ .fd = cl[i].fd, .events = cl[i].out ? POLLOUT : POLLIN };
			wake_at = MIN(wake_at, cl[i].deadline);
		}
		if (poll(p, n, wake_at == G_MAXINT64 ? -1 : status_ms_left(wake_at)) < 0) {
			if (errno != EINTR)
				g_usleep(100 * 1000);
			continue;
		}
		if (p[0].revents != 0)
			break;
		for (nfds_t k = 2; k < n; k++)
			if (p[k].revents != 0 && !status_client_io(&cl[who[k - 2]]))
				status_client_close(&cl[who[k - 2]]);
		now = g_get_monotonic_time();
		for (int i = 0; i < STATUS_CLIENTS_MAX; i++)
			if (cl[i].fd >= 0 && now >= cl[i].deadline)
				status_client_close(&cl[i]);	/* silent or slow: no answer */
		if (p[1].revents != 0)
			status_accept(cl, &pause);
	}
	for (int i = 0; i < STATUS_CLIENTS_MAX; i++)
		status_client_close(&cl[i]);
	g_free(cl);
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
