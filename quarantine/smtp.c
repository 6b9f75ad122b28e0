/*
 * smtp.c - the SMTP client that re-injects a released quarantined message
 *
 * In: a struct quar_smtp_job (where, envelope, the message's fd). Out: the
 * server's reply to the end of DATA, or what went wrong, "WHERE: WHAT: WHY".
 * One connection per call, its state on quar_smtp_send()'s stack: reentrant.
 *
 * Limits on what the server sends: a reply of at most QUAR_SMTP_REPLY_MAX
 * bytes, a reply line of at most QUAR_SMTP_LINE_MAX (RFC 5321 4.5.3.1.5
 * allows 512; more than eight times that is a broken or hostile server).
 * The message is read and sent QUAR_SMTP_CHUNK bytes at a time.
 *
 * Timeouts as Postfix's smtp client has them: each address gets the timeout
 * to connect, a whole reply must arrive within it (smtp_*_timeout), and a
 * write fails when it makes no progress for it (smtp_data_xfer_timeout), so
 * a slow but moving 50 MB transfer is not cut off.
 */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moat/moat.h"
#include "moat/quarsmtp.h"

#define QUAR_SMTP_REPLY_MAX (64 * 1024)
#define QUAR_SMTP_LINE_MAX 4096		/* bytes of one reply line with its line end */
#define QUAR_SMTP_CHUNK (64 * 1024)
#define QUAR_SMTP_SHOW_MAX 512		/* bytes of server text in *reply and *err */
#define QUAR_SMTP_TIMEOUT_MAX 86400	/* seconds; keeps the milliseconds in an int */

struct quar_smtp_conn {
	int fd;
	int timeout_ms;
	char *where;			/* owned: job->host_port cleaned, starts every error */
	gboolean broken;		/* out of step with the server: no RSET or QUIT any more */
	char *err;			/* owned: the first failure */
	char in[4096];			/* received, not yet consumed */
	gsize in_len, in_pos;
};

struct quar_smtp_reply {
	int code;
	GPtrArray *lines;		/* char *, owned: each line without its line end */
};

/* Where lines start and end, across pieces of the message (RFC 5321 4.5.2). */
struct quar_smtp_lines {
	gboolean bol;			/* at the start of a line */
	gboolean cr;			/* the last byte was a CR: a LF now is its pair, not a line */
};

/* What the envelope and the message need from the server (RFC 6152, RFC 6531). */
struct quar_smtp_scan {
	gboolean msg_8bit;		/* a byte >= 0x80 anywhere: BODY=8BITMIME */
	gboolean header_8bit;		/* ... in the header section or the prepended lines */
	gboolean addr_utf8;		/* an envelope address is not ASCII: SMTPUTF8 required */
	gboolean in_header;		/* the scan has not reached the empty line yet */
	struct quar_smtp_lines lines;
};

/* quar_smtp_clean - LEN bytes at S (-1: to the NUL) as valid UTF-8 with control
 * characters as '?', at most QUAR_SMTP_SHOW_MAX bytes and "..." when cut; caller g_free()s */
static char *
quar_smtp_clean(const char *s, gssize len)
{
	g_autofree char *valid = g_utf8_make_valid(s, len);
	GString *out = g_string_sized_new(64);

	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		gsize n = (gsize)(g_utf8_next_char(p) - p);

		if (out->len + n > QUAR_SMTP_SHOW_MAX) {
			g_string_append(out, "...");
			break;
		}
		if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0))
			g_string_append_c(out, '?');
		else
			g_string_append_len(out, p, (gssize)n);
	}
	return g_string_free(out, FALSE);
}

/* quar_smtp_fail - keep the first failure of C: "WHERE: " and the formatted text */
static void G_GNUC_PRINTF(2, 3)
quar_smtp_fail(struct quar_smtp_conn *c, const char *fmt, ...)
{
	g_autofree char *what = NULL;
	va_list ap;

	if (c->err != NULL)
		return;		/* the first failure is the cause; later ones follow from it */
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	c->err = g_strdup_printf("%s: %s", c->where, what);
}

/* quar_smtp_wait - FD ready for EVENTS before DEADLINE (monotonic µs): 0, -ETIMEDOUT or -errno */
static int
quar_smtp_wait(int fd, short events, gint64 deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		/* round up: a poll of 0 ms on the last microseconds would spin */
		if ((n = poll(&p, 1, (int)((left + 999) / 1000))) > 0)
			return 0;	/* POLLERR and POLLHUP too: recv() or send() says which */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* quar_smtp_deadline - now plus C's timeout, in monotonic µs */
static gint64
quar_smtp_deadline(const struct quar_smtp_conn *c)
{
	return g_get_monotonic_time() + (gint64)c->timeout_ms * 1000;
}

/*
 * quar_smtp_split - HOST_PORT into *HOST and *PORT (caller g_free()s both);
 * *NUMERIC when the host was in brackets. MOAT_EINVAL with C->err on a bad one.
 */
static int
quar_smtp_split(struct quar_smtp_conn *c, char **host, char **port, gboolean *numeric,
    const char *host_port)
{
	const char *h = host_port, *hend, *p;
	guint64 v = 0;

	if (host_port == NULL || *host_port == '\0')
		goto bad;
	if (*h == '[') {
		/* RFC 3986 style: an IPv6 address has colons of its own */
		if ((hend = strchr(++h, ']')) == NULL || hend[1] != ':')
			goto bad;
		p = hend + 2;
	} else {
		if ((hend = strrchr(h, ':')) == NULL)
			goto bad;
		if (memchr(h, ':', (gsize)(hend - h)) != NULL) {
			quar_smtp_fail(c, "an IPv6 address needs brackets: [ADDR]:PORT");
			return MOAT_EINVAL;
		}
		p = hend + 1;
	}
	if (hend == h || *p == '\0' || strlen(p) > 5)
		goto bad;
	for (const char *q = p; *q != '\0'; q++) {
		if (!g_ascii_isdigit(*q))
			goto bad;
		v = v * 10 + (guint64)(*q - '0');
	}
	if (v == 0 || v > 65535)
		goto bad;
	*host = g_strndup(h, (gsize)(hend - h));
	*port = g_strdup(p);
	*numeric = *host_port == '[';
	return 0;
bad:
	quar_smtp_fail(c, "not host:port or [v6addr]:port with a port of 1 to 65535");
	return MOAT_EINVAL;
}

/* quar_smtp_connect_one - a connected, non-blocking socket to AI, or -errno */
static int
quar_smtp_connect_one(const struct addrinfo *ai, gint64 deadline)
{
	int fd, rc, soerr = 0;
	socklen_t len = sizeof(soerr);

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol)) < 0) {
		rc = -errno;
		goto out;
	}
	/* EINTR on a non-blocking connect: it goes on in the background, as EINPROGRESS */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		if ((rc = quar_smtp_wait(fd, POLLOUT, deadline)) < 0)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
			rc = -errno;
			goto out;
		}
		if (soerr != 0) {
			rc = -soerr;
			goto out;
		}
	}
	rc = fd;
	fd = -1;			/* the caller owns it now */
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * quar_smtp_connect - C->fd connected to the first address of HOST and PORT
 * that answers, trying each in getaddrinfo()'s order. MOAT_EINVAL when the
 * name is not there (a configuration error), MOAT_EIO when DNS or every
 * address failed.
 */
static int
quar_smtp_connect(struct quar_smtp_conn *c, const char *host, const char *port, gboolean numeric)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	GString *tried = g_string_new(NULL);
	int rc = MOAT_EIO, gai;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* no AI_ADDRCONFIG: it drops ::1 on a host whose only IPv6 address is loopback */
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		if (gai != EAI_AGAIN && gai != EAI_FAIL && gai != EAI_SYSTEM && gai != EAI_MEMORY)
			rc = MOAT_EINVAL;
		quar_smtp_fail(c, "cannot resolve the host: %s", gai_strerror(gai));
		goto out;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char addr[NI_MAXHOST];
		int fd = quar_smtp_connect_one(ai, quar_smtp_deadline(c));

		if (fd >= 0) {
			c->fd = fd;
			rc = 0;
			goto out;
		}
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			g_strlcpy(addr, "?", sizeof(addr));	/* only the message loses */
		g_string_append_printf(tried, "%sconnect to %s%s%s:%s: %s", tried->len > 0 ? "; " : "",
		    ai->ai_family == AF_INET6 ? "[" : "", addr, ai->ai_family == AF_INET6 ? "]" : "",
		    port, fd == -ETIMEDOUT ? "timed out" : g_strerror(-fd));
	}
	quar_smtp_fail(c, "%s", tried->len > 0 ? tried->str : "no address");
out:
	if (res != NULL)
		freeaddrinfo(res);
	g_string_free(tried, TRUE);
	return rc;
}

/* quar_smtp_io_fail - record that WHAT failed on the wire: -ETIMEDOUT, -errno or 0 for closed */
static int
quar_smtp_io_fail(struct quar_smtp_conn *c, const char *what, int e)
{
	c->broken = TRUE;
	if (e == 0)
		quar_smtp_fail(c, "%s: connection closed by the server", what);
	else if (e == -ETIMEDOUT)
		quar_smtp_fail(c, "%s: timed out after %d s", what, c->timeout_ms / 1000);
	else
		quar_smtp_fail(c, "%s: %s", what, g_strerror(-e));
	return MOAT_EIO;
}

/* quar_smtp_getc - the next byte from the server into *CH before DEADLINE */
static int
quar_smtp_getc(struct quar_smtp_conn *c, char *ch, gint64 deadline, const char *what)
{
	while (c->in_pos == c->in_len) {
		ssize_t n;
		int w;

		if ((w = quar_smtp_wait(c->fd, POLLIN, deadline)) < 0)
			return quar_smtp_io_fail(c, what, w);
		if ((n = recv(c->fd, c->in, sizeof(c->in), 0)) < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return quar_smtp_io_fail(c, what, -errno);
		}
		if (n == 0)
			return quar_smtp_io_fail(c, what, 0);
		c->in_len = (gsize)n;
		c->in_pos = 0;
	}
	*ch = c->in[c->in_pos++];
	return 0;
}

/* quar_smtp_line_ok - LINE is "DDD", "DDD text" or "DDD-text" (RFC 5321 4.2) */
static gboolean
quar_smtp_line_ok(const GString *line)
{
	return line->len >= 3 && g_ascii_isdigit(line->str[0]) && g_ascii_isdigit(line->str[1]) &&
	    g_ascii_isdigit(line->str[2]) && (line->len == 3 || line->str[3] == ' ' || line->str[3] == '-');
}

/*
 * quar_smtp_read_reply - one whole reply into R, all lines up to the one
 * without '-' after its code, within one timeout. Its code is the last
 * line's, as Postfix takes it. A bare LF ends a line too (lenient).
 */
static int
quar_smtp_read_reply(struct quar_smtp_conn *c, struct quar_smtp_reply *r, const char *what)
{
	gint64 deadline = quar_smtp_deadline(c);
	GString *line = g_string_sized_new(128);
	gsize total = 0;
	int rc = MOAT_EIO;
	char ch = 0;

	r->code = 0;
	g_ptr_array_set_size(r->lines, 0);
	for (;;) {
		if ((rc = quar_smtp_getc(c, &ch, deadline, what)) < 0)
			goto out;
		rc = MOAT_EIO;
		if (++total > QUAR_SMTP_REPLY_MAX) {
			quar_smtp_fail(c, "%s: a reply longer than %d bytes", what, QUAR_SMTP_REPLY_MAX);
			goto out;
		}
		if (ch != '\n') {
			if (line->len + 1 >= QUAR_SMTP_LINE_MAX) {
				quar_smtp_fail(c, "%s: a reply line longer than %d bytes", what,
				    QUAR_SMTP_LINE_MAX);
				goto out;
			}
			/* a NUL would cut the line short in the C strings kept */
			g_string_append_c(line, ch == '\0' ? '?' : ch);
			continue;
		}
		if (line->len > 0 && line->str[line->len - 1] == '\r')
			g_string_truncate(line, line->len - 1);
		if (!quar_smtp_line_ok(line)) {
			char *shown = quar_smtp_clean(line->str, (gssize)line->len);

			quar_smtp_fail(c, "%s: not an SMTP reply: '%s'", what, shown);
			g_free(shown);
			goto out;
		}
		g_ptr_array_add(r->lines, g_strndup(line->str, line->len));
		if (line->len == 3 || line->str[3] == ' ')
			break;
		g_string_truncate(line, 0);
	}
	r->code = (line->str[0] - '0') * 100 + (line->str[1] - '0') * 10 + (line->str[2] - '0');
	rc = 0;
out:
	if (rc < 0)
		c->broken = TRUE;
	g_string_free(line, TRUE);
	return rc;
}

/* quar_smtp_reply_text - R's lines joined by spaces, cleaned; caller g_free()s */
static char *
quar_smtp_reply_text(const struct quar_smtp_reply *r)
{
	g_autoptr(GString) all = g_string_new(NULL);

	for (guint i = 0; i < r->lines->len; i++)
		g_string_append_printf(all, "%s%s", i > 0 ? " " : "", (const char *)r->lines->pdata[i]);
	return quar_smtp_clean(all->str, (gssize)all->len);
}

/* quar_smtp_refused - record that the server answered WHAT with R (not what we wanted) */
static int
quar_smtp_refused(struct quar_smtp_conn *c, const struct quar_smtp_reply *r, const char *what)
{
	g_autofree char *text = quar_smtp_reply_text(r);

	quar_smtp_fail(c, "%s: %s", what, text);
	return MOAT_EIO;
}

/* quar_smtp_write - LEN bytes at DATA, all of them; a closed peer is an error, never SIGPIPE */
static int
quar_smtp_write(struct quar_smtp_conn *c, const char *data, gsize len, const char *what)
{
	gsize done = 0;

	while (done < len) {
		ssize_t n;
		int w;

		/* the deadline moves with each write that got somewhere */
		if ((w = quar_smtp_wait(c->fd, POLLOUT, quar_smtp_deadline(c))) < 0)
			return quar_smtp_io_fail(c, what, w);
		if ((n = send(c->fd, data + done, len - done, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return quar_smtp_io_fail(c, what, -errno);
		}
		done += (gsize)n;
	}
	return 0;
}

/* quar_smtp_command - send CMD (without its CRLF), read the reply into R */
static int
quar_smtp_command(struct quar_smtp_conn *c, struct quar_smtp_reply *r, const char *cmd)
{
	g_autofree char *line = g_strconcat(cmd, "\r\n", NULL);
	int rc;

	if ((rc = quar_smtp_write(c, line, strlen(line), cmd)) < 0)
		return rc;
	return quar_smtp_read_reply(c, r, cmd);
}

/*
 * quar_smtp_end - RSET when RSET (a transaction is open), then QUIT, unless
 * C is out of step. Their replies do not matter, nor does their failure:
 * C->err keeps what it had.
 */
static void
quar_smtp_end(struct quar_smtp_conn *c, gboolean rset)
{
	struct quar_smtp_reply r = { 0, g_ptr_array_new_with_free_func(g_free) };
	char *kept = c->err;

	c->err = NULL;
	if (!c->broken && rset)
		(void)quar_smtp_command(c, &r, "RSET");
	if (!c->broken)
		(void)quar_smtp_command(c, &r, "QUIT");
	g_free(c->err);
	c->err = kept;
	g_ptr_array_unref(r.lines);
}

/* quar_smtp_has_ext - the EHLO reply R offers NAME: one keyword a line after the first (RFC 5321 4.1.1.1) */
static gboolean
quar_smtp_has_ext(const struct quar_smtp_reply *r, const char *name)
{
	gsize n = strlen(name);

	for (guint i = 1; i < r->lines->len; i++) {
		const char *line = r->lines->pdata[i];

		if (strlen(line) > 4 && g_ascii_strncasecmp(line + 4, name, n) == 0 &&
		    (line[4 + n] == '\0' || line[4 + n] == ' '))
			return TRUE;
	}
	return FALSE;
}

/*
 * quar_smtp_address - ADDR for MAIL or RCPT: without the <> a caller may
 * have kept, NULL when it holds a control character (a CR or LF would end
 * our command and start one of its own). Sets S->addr_utf8 when it is not
 * ASCII. Caller g_free()s.
 */
static char *
quar_smtp_address(struct quar_smtp_scan *s, const char *addr)
{
	gsize n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>') {
		addr++;
		n -= 2;
	}
	for (gsize i = 0; i < n; i++) {
		guchar ch = (guchar)addr[i];

		if (ch < 0x20 || ch == 0x7f)
			return NULL;
		if (ch >= 0x80)
			s->addr_utf8 = TRUE;
	}
	return g_strndup(addr, n);
}

/* quar_smtp_check_job - JOB's envelope and HELO name usable: *FROM and RCPTS (char *, owned) filled */
static int
quar_smtp_check_job(struct quar_smtp_conn *c, char **from, GPtrArray *rcpts,
    struct quar_smtp_scan *s, const struct quar_smtp_job *job)
{
	if (job->helo == NULL || *job->helo == '\0' || strpbrk(job->helo, " \t\r\n") != NULL) {
		quar_smtp_fail(c, "no usable HELO name");
		return MOAT_EINVAL;
	}
	if (job->timeout_seconds == 0) {
		quar_smtp_fail(c, "a timeout of 0 seconds");
		return MOAT_EINVAL;
	}
	if (job->n_rcpts == 0) {
		quar_smtp_fail(c, "no recipient");
		return MOAT_EINVAL;
	}
	if (job->mail_from == NULL || (*from = quar_smtp_address(s, job->mail_from)) == NULL) {
		quar_smtp_fail(c, "the envelope sender is missing or holds a control character");
		return MOAT_EINVAL;
	}
	for (guint i = 0; i < job->n_rcpts; i++) {
		char *rcpt = NULL;

		if (job->rcpts[i] == NULL || (rcpt = quar_smtp_address(s, job->rcpts[i])) == NULL ||
		    *rcpt == '\0') {
			g_free(rcpt);
			quar_smtp_fail(c, "recipient %u is missing, empty or holds a control character", i + 1);
			return MOAT_EINVAL;
		}
		g_ptr_array_add(rcpts, rcpt);
	}
	return 0;
}

/* quar_smtp_scan_bytes - LEN bytes at P: 8-bit bytes, and where the header section ends */
static void
quar_smtp_scan_bytes(struct quar_smtp_scan *s, const char *p, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		guchar ch = (guchar)p[i];

		if (ch >= 0x80) {
			s->msg_8bit = TRUE;
			s->header_8bit |= s->in_header;
		}
		if (!s->in_header)
			continue;
		if (ch == '\n' && s->lines.cr) {
			s->lines.cr = FALSE;
			continue;
		}
		s->lines.cr = ch == '\r';
		if (ch == '\r' || ch == '\n') {
			if (s->lines.bol)
				s->in_header = FALSE;	/* the empty line */
			s->lines.bol = TRUE;
		} else {
			s->lines.bol = FALSE;
		}
	}
}

/* quar_smtp_scan - one pass over the prepended lines and JOB's message into S, before connecting */
static int
quar_smtp_scan(struct quar_smtp_conn *c, struct quar_smtp_scan *s, const struct quar_smtp_job *job)
{
	char *buf = g_malloc(QUAR_SMTP_CHUNK);
	off_t off = 0;
	int rc = MOAT_EIO;

	s->in_header = TRUE;
	s->lines = (struct quar_smtp_lines){ .bol = TRUE, .cr = FALSE };
	if (job->prepend != NULL)
		quar_smtp_scan_bytes(s, job->prepend, strlen(job->prepend));
	s->lines.cr = FALSE;		/* a CR closing the prepend does not pair with the message's LF */
	/* past the headers, the first 8-bit byte answers all we ask */
	while (s->in_header || !s->msg_8bit) {
		ssize_t n = pread(job->fd, buf, QUAR_SMTP_CHUNK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			quar_smtp_fail(c, "reading the message: %s", g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		quar_smtp_scan_bytes(s, buf, (gsize)n);
		off += n;
	}
	rc = 0;
out:
	g_free(buf);
	return rc;
}

/* quar_smtp_dotted - LEN bytes at P onto OUT with every line end CRLF and a leading '.' doubled */
static void
quar_smtp_dotted(struct quar_smtp_lines *l, GString *out, const char *p, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		char ch = p[i];

		if (ch == '\n' && l->cr) {
			l->cr = FALSE;		/* the CRLF went out at the CR */
			continue;
		}
		l->cr = ch == '\r';
		if (ch == '\r' || ch == '\n') {
			/* a bare CR or LF would be a bare line end on the wire: RFC 5321 2.3.8 */
			g_string_append_len(out, "\r\n", 2);
			l->bol = TRUE;
			continue;
		}
		if (ch == '.' && l->bol)
			g_string_append_c(out, '.');	/* RFC 5321 4.5.2 */
		g_string_append_c(out, ch);
		l->bol = FALSE;
	}
}

/*
 * quar_smtp_header_end - the offset just past the empty line that ends the
 * header section in the first LEN bytes of P, or 0 when it is not there
 */
static gsize
quar_smtp_header_end(const char *p, gsize len)
{
	if (len > 0 && (p[0] == '\n' || (p[0] == '\r' && len > 1 && p[1] == '\n')))
		return 0;		/* no header section at all */
	for (gsize i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/*
 * quar_smtp_filtered_header - the header section of JOB's message without
 * the fields named with JOB->drop_prefix (and their folded lines) into
 * OUT; *END where the body starts. FALSE (nothing read) when there is no
 * prefix or no end of header within QUAR_SMTP_HEADER_MAX bytes.
 */
static gboolean
quar_smtp_filtered_header(GString *out, off_t *end, const struct quar_smtp_job *job)
{
	g_autofree char *h = NULL;
	gsize plen, stop, i = 0;
	ssize_t n;
	gboolean dropping = FALSE;

	if (job->drop_prefix == NULL || *job->drop_prefix == '\0')
		return FALSE;
	h = g_malloc(QUAR_SMTP_HEADER_MAX);
	while ((n = pread(job->fd, h, QUAR_SMTP_HEADER_MAX, 0)) < 0 && errno == EINTR)
		;
	if (n <= 0 || (stop = quar_smtp_header_end(h, (gsize)n)) == 0)
		return FALSE;
	plen = strlen(job->drop_prefix);
	while (i < stop) {
		gsize e = i;

		while (e < stop && h[e] != '\n')
			e++;
		e = MIN(e + 1, stop);		/* the line with its end */
		if (h[i] != ' ' && h[i] != '\t')	/* a new field, not a folded line */
			dropping = e - i > plen && g_ascii_strncasecmp(h + i, job->drop_prefix, plen) == 0;
		if (!dropping)
			g_string_append_len(out, h + i, (gssize)(e - i));
		i = e;
	}
	*end = (off_t)stop;
	return TRUE;
}

/*
 * quar_smtp_data - after 354: the prepended lines, the message and the
 * final dot, QUAR_SMTP_CHUNK bytes of the file at a time. When the file
 * cannot be read, C is left broken without the dot: the server drops what
 * it got when we close, so a truncated message is never delivered.
 */
static int
quar_smtp_data(struct quar_smtp_conn *c, const struct quar_smtp_job *job)
{
	struct quar_smtp_lines l = { .bol = TRUE, .cr = FALSE };
	char *buf = g_malloc(QUAR_SMTP_CHUNK);
	GString *out = g_string_sized_new(2 * QUAR_SMTP_CHUNK + 8);	/* a chunk doubled at worst */
	g_autoptr(GString) header = g_string_new(NULL);
	off_t off = 0;
	int rc = MOAT_EIO;

	if (job->prepend != NULL) {
		quar_smtp_dotted(&l, out, job->prepend, strlen(job->prepend));
		/* a last prepended line without its CRLF would run into the first header */
		if (!l.bol)
			g_string_append_len(out, "\r\n", 2);
		l = (struct quar_smtp_lines){ .bol = TRUE, .cr = FALSE };
	}
	if (quar_smtp_filtered_header(header, &off, job))
		quar_smtp_dotted(&l, out, header->str, header->len);
	for (;;) {
		ssize_t n = pread(job->fd, buf, QUAR_SMTP_CHUNK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			c->broken = TRUE;
			quar_smtp_fail(c, "reading the message: %s", g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		quar_smtp_dotted(&l, out, buf, (gsize)n);
		if (out->len >= QUAR_SMTP_CHUNK) {
			if ((rc = quar_smtp_write(c, out->str, out->len, "DATA")) < 0)
				goto out;
			rc = MOAT_EIO;
			g_string_truncate(out, 0);
		}
	}
	if (!l.bol)
		g_string_append_len(out, "\r\n", 2);	/* the dot must start a line of its own */
	g_string_append_len(out, ".\r\n", 3);
	if ((rc = quar_smtp_write(c, out->str, out->len, "DATA")) < 0)
		goto out;
	rc = 0;
out:
	g_string_free(out, TRUE);
	g_free(buf);
	return rc;
}

/* quar_smtp_mail_cmd - "MAIL FROM:<FROM>" with the parameters S calls for; caller g_free()s */
static char *
quar_smtp_mail_cmd(const char *from, const struct quar_smtp_scan *s, gboolean ext_8bit,
    gboolean ext_utf8)
{
	/*
	 * An 8-bit message goes out even when 8BITMIME is not offered: Postfix
	 * and Sendmail take it anyway, and refusing would strand the release
	 * with no way for the admin to deliver it.
	 */
	return g_strdup_printf("MAIL FROM:<%s>%s%s", from, s->msg_8bit && ext_8bit ? " BODY=8BITMIME" : "",
	    (s->addr_utf8 || s->header_8bit) && ext_utf8 ? " SMTPUTF8" : "");
}

/* quar_smtp_hello - greeting, then EHLO, or HELO when EHLO is not known; the extensions offered */
static int
quar_smtp_hello(struct quar_smtp_conn *c, struct quar_smtp_reply *r, gboolean *ext_8bit,
    gboolean *ext_utf8, const char *helo)
{
	g_autofree char *ehlo = g_strdup_printf("EHLO %s", helo);
	g_autofree char *helo_cmd = g_strdup_printf("HELO %s", helo);
	int rc;

	if ((rc = quar_smtp_read_reply(c, r, "greeting")) < 0)
		return rc;
	if (r->code / 100 != 2)
		return quar_smtp_refused(c, r, "greeting");
	if ((rc = quar_smtp_command(c, r, ehlo)) < 0)
		return rc;
	if (r->code / 100 == 2) {
		*ext_8bit = quar_smtp_has_ext(r, "8BITMIME");
		*ext_utf8 = quar_smtp_has_ext(r, "SMTPUTF8");
		return 0;
	}
	if (r->code / 100 != 5)
		return quar_smtp_refused(c, r, ehlo);
	/* RFC 5321 4.1.4: a server without EHLO may still know HELO; no extensions then */
	if ((rc = quar_smtp_command(c, r, helo_cmd)) < 0)
		return rc;
	if (r->code / 100 != 2)
		return quar_smtp_refused(c, r, helo_cmd);
	return 0;
}

/*
 * quar_smtp_session - the dialogue on connected C, up to QUIT; *REPLY on
 * success. Any recipient refused ends it with RSET before DATA: a release
 * goes to all its recipients or to none.
 */
static int
quar_smtp_session(struct quar_smtp_conn *c, char **reply, const struct quar_smtp_job *job,
    const struct quar_smtp_scan *s, const char *from, const GPtrArray *rcpts)
{
	struct quar_smtp_reply r = { 0, g_ptr_array_new_with_free_func(g_free) };
	gboolean ext_8bit = FALSE, ext_utf8 = FALSE, in_txn = FALSE;
	char *cmd = NULL;
	int rc = MOAT_EIO;

	if (quar_smtp_hello(c, &r, &ext_8bit, &ext_utf8, job->helo) < 0)
		goto out;
	if (s->addr_utf8 && !ext_utf8) {
		quar_smtp_fail(c, "an envelope address is not ASCII and the server does not offer "
		    "SMTPUTF8 (RFC 6531); nothing sent");
		goto out;
	}
	cmd = quar_smtp_mail_cmd(from, s, ext_8bit, ext_utf8);
	if (quar_smtp_command(c, &r, cmd) < 0)
		goto out;
	if (r.code / 100 != 2) {
		quar_smtp_refused(c, &r, cmd);
		goto out;
	}
	in_txn = TRUE;			/* a transaction to RSET from here on */
	for (guint i = 0; i < rcpts->len; i++) {
		g_free(cmd);
		cmd = g_strdup_printf("RCPT TO:<%s>", (const char *)rcpts->pdata[i]);
		if (quar_smtp_command(c, &r, cmd) < 0)
			goto out;
		if (r.code / 100 != 2) {
			quar_smtp_refused(c, &r, cmd);
			goto out;
		}
	}
	if (quar_smtp_command(c, &r, "DATA") < 0)
		goto out;
	if (r.code != 354) {
		quar_smtp_refused(c, &r, "DATA");
		goto out;
	}
	if (quar_smtp_data(c, job) < 0 || quar_smtp_read_reply(c, &r, "end of data") < 0)
		goto out;
	in_txn = FALSE;			/* the reply to the dot ends the transaction either way */
	if (r.code / 100 != 2) {
		quar_smtp_refused(c, &r, "end of data");
		goto out;
	}
	*reply = quar_smtp_reply_text(&r);
	rc = 0;
out:
	quar_smtp_end(c, in_txn);
	g_free(cmd);
	g_ptr_array_unref(r.lines);
	return rc;
}

int
quar_smtp_send(char **reply, char **err, const struct quar_smtp_job *job)
{
	struct quar_smtp_conn c = { .fd = -1 };
	struct quar_smtp_scan s = { 0 };
	GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
	char *host = NULL, *port = NULL, *from = NULL;
	gboolean numeric = FALSE;
	int rc;

	assert(reply != NULL && err != NULL && job != NULL);
	c.where = quar_smtp_clean(job->host_port != NULL ? job->host_port : "", -1);
	c.timeout_ms = (int)MIN(job->timeout_seconds, QUAR_SMTP_TIMEOUT_MAX) * 1000;
	if ((rc = quar_smtp_split(&c, &host, &port, &numeric, job->host_port)) < 0 ||
	    (rc = quar_smtp_check_job(&c, &from, rcpts, &s, job)) < 0 ||
	    (rc = quar_smtp_scan(&c, &s, job)) < 0 ||
	    (rc = quar_smtp_connect(&c, host, port, numeric)) < 0)
		goto out;
	rc = quar_smtp_session(&c, reply, job, &s, from, rcpts);
out:
	if (rc < 0) {
		*err = c.err != NULL ? c.err : g_strdup_printf("%s: %s", c.where, moat_strerror(rc));
		c.err = NULL;		/* the caller owns it now */
	}
	if (c.fd >= 0)
		close(c.fd);
	g_free(c.err);
	g_free(c.where);
	g_free(host);
	g_free(port);
	g_free(from);
	g_ptr_array_unref(rcpts);
	return rc;
}
