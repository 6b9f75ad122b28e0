/*
 * check_quarsmtp.c - the release client against a scripted SMTP server in a
 * thread of the test: commands in order and all recipients, the prepended
 * lines first, the bytes after DATA exactly as they must be on the wire
 * (CRLF everywhere, leading dots doubled, a final CRLF), BODY=8BITMIME and
 * SMTPUTF8 when they are due and offered, no MAIL at all when an address
 * needs SMTPUTF8 and it is not offered, all or nothing on a refused
 * recipient (RSET, no DATA), a refusal's text in the error, a silent server
 * timed out, a closed one survived, EHLO refused falling back to HELO,
 * limits on replies, bad host:port refused before connecting, names and
 * IPv6, and 5 MB delivered byte for byte across the client's chunk borders.
 *
 * The server records the raw bytes after DATA, dots still doubled, up to
 * and without the final ".\r\n". It serves one connection and ends when the
 * client quits or closes; the test joins it before looking at the record.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib.h>

#include "checks.h"
#include "moat/moat.h"
#include "moat/quarsmtp.h"
#include "moat/sha256.h"

#define T_HELO "moat.test"
#define T_QUEUED "250 2.0.0 Ok: queued as 4Xyz"
#define T_WAIT_MS 10000			/* the server gives up on a client after this */

enum t_mode {
	T_TALK,				/* follow the script */
	T_SILENT,			/* accept, then never say a word */
	T_CLOSE,			/* greet, then close */
};

/* What the server answers; NULL takes the default. Each is a whole reply with its CRLFs. */
struct t_script {
	enum t_mode mode;
	const char *greeting;
	const char *ehlo;
	const char *mail;
	const char *rcpt[4];		/* to the first, second, ... RCPT */
	const char *eod;		/* to the dot that ends DATA */
};

struct t_server {
	int lfd;
	char host_port[64];		/* where it listens, as quar_smtp_job wants it */
	guint port;
	const struct t_script *script;
	GThread *thread;
	GPtrArray *commands;		/* char *, owned: each command line without its CRLF */
	GByteArray *data;		/* after DATA, raw, without the final ".\r\n" */
};

/* One accepted connection: bytes read but not used yet. */
struct t_conn {
	int fd;
	GByteArray *in;
};

static gboolean
t_fill(struct t_conn *tc)
{
	guint8 buf[65536];
	ssize_t n;

	while ((n = recv(tc->fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return FALSE;
	g_byte_array_append(tc->in, buf, (guint)n);
	return TRUE;
}

static void
t_say(struct t_conn *tc, const char *text)
{
	gsize done = 0, len = strlen(text);
	ssize_t n;

	while (done < len) {
		if ((n = send(tc->fd, text + done, len - done, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (gsize)n;
	}
}

/* t_line - the next command line without its CRLF, NULL when the client is gone; caller g_free()s */
static char *
t_line(struct t_conn *tc)
{
	for (;;) {
		/* an empty GByteArray may have no data at all: no memchr(NULL) */
		const guint8 *nl = tc->in->len > 0 ? memchr(tc->in->data, '\n', tc->in->len) : NULL;

		if (nl != NULL) {
			gsize n = (gsize)(nl - tc->in->data);
			char *line = g_strndup((const char *)tc->in->data,
			    n > 0 && tc->in->data[n - 1] == '\r' ? n - 1 : n);

			g_byte_array_remove_range(tc->in, 0, (guint)n + 1);
			return line;
		}
		if (!t_fill(tc))
			return NULL;
	}
}

/* t_data - the bytes up to CRLF.CRLF (or a lone .CRLF first) into OUT; FALSE when the client left */
static gboolean
t_data(struct t_conn *tc, GByteArray *out)
{
	gboolean moved = FALSE;

	for (;;) {
		const guint8 *d = tc->in->data;
		guint len = tc->in->len;
		const guint8 *hit;

		if (!moved && len >= 3 && memcmp(d, ".\r\n", 3) == 0) {
			g_byte_array_remove_range(tc->in, 0, 3);
			return TRUE;
		}
		if (len >= 5 && (hit = memmem(d, len, "\r\n.\r\n", 5)) != NULL) {
			guint at = (guint)(hit - d);

			g_byte_array_append(out, d, at + 2);
			g_byte_array_remove_range(tc->in, 0, at + 5);
			return TRUE;
		}
		/* keep only what could start the terminator, so the search stays linear */
		if (len > 4) {
			g_byte_array_append(out, d, len - 4);
			g_byte_array_remove_range(tc->in, 0, len - 4);
			moved = TRUE;
		}
		if (!t_fill(tc))
			return FALSE;
	}
}

static const char *
t_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* t_talk - the scripted dialogue until QUIT or the client closes */
static void
t_talk(struct t_server *srv, struct t_conn *tc)
{
	const struct t_script *sc = srv->script;
	guint nrcpt = 0;
	char *line;

	t_say(tc, t_or(sc->greeting, "220 t.example ESMTP\r\n"));
	while ((line = t_line(tc)) != NULL) {
		g_ptr_array_add(srv->commands, line);
		if (g_ascii_strncasecmp(line, "EHLO", 4) == 0)
			t_say(tc, t_or(sc->ehlo, "250-t.example\r\n250 PIPELINING\r\n"));
		else if (g_ascii_strncasecmp(line, "HELO", 4) == 0)
			t_say(tc, "250 t.example\r\n");
		else if (g_ascii_strncasecmp(line, "MAIL", 4) == 0)
			t_say(tc, t_or(sc->mail, "250 2.1.0 Ok\r\n"));
		else if (g_ascii_strncasecmp(line, "RCPT", 4) == 0)
			t_say(tc, t_or(nrcpt < G_N_ELEMENTS(sc->rcpt) ? sc->rcpt[nrcpt++] : NULL,
			    "250 2.1.5 Ok\r\n"));
		else if (g_ascii_strcasecmp(line, "DATA") == 0) {
			t_say(tc, "354 End data with <CR><LF>.<CR><LF>\r\n");
			if (!t_data(tc, srv->data))
				return;
			t_say(tc, t_or(sc->eod, T_QUEUED "\r\n"));
		} else if (g_ascii_strcasecmp(line, "RSET") == 0)
			t_say(tc, "250 2.0.0 Ok\r\n");
		else if (g_ascii_strcasecmp(line, "QUIT") == 0) {
			t_say(tc, "221 2.0.0 Bye\r\n");
			return;
		} else
			t_say(tc, "502 5.5.2 Error: command not recognized\r\n");
	}
}

static gpointer
t_server_run(gpointer p)
{
	struct t_server *srv = p;
	struct pollfd pfd = { .fd = srv->lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = T_WAIT_MS / 1000 };
	struct t_conn tc = { .fd = -1, .in = g_byte_array_new() };

	if (poll(&pfd, 1, T_WAIT_MS) <= 0 || (tc.fd = accept(srv->lfd, NULL, NULL)) < 0)
		goto out;
	/* never hang the suite: a client that stops talking ends the server too */
	setsockopt(tc.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	switch (srv->script->mode) {
	case T_SILENT:
		while (t_fill(&tc))
			;
		break;
	case T_CLOSE:
		t_say(&tc, t_or(srv->script->greeting, "220 t.example ESMTP\r\n"));
		break;
	case T_TALK:
		t_talk(srv, &tc);
		break;
	}
out:
	if (tc.fd >= 0)
		close(tc.fd);
	g_byte_array_unref(tc.in);
	return NULL;
}

/* t_listen - a listening socket on loopback (::1 when V6), port 0; -1 when it cannot be had */
static int
t_listen(gboolean v6, guint *port)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	if ((fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if ((v6 ? bind(fd, (struct sockaddr *)&in6, sizeof(in6)) : bind(fd, (struct sockaddr *)&in4,
	    sizeof(in4))) < 0 || listen(fd, 4) < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* t_server_start - SRV serving SCRIPT (borrowed) on loopback; FALSE when V6 and ::1 cannot be bound */
static gboolean
t_server_start(struct t_server *srv, const struct t_script *script, gboolean v6)
{
	memset(srv, 0, sizeof(*srv));
	if ((srv->lfd = t_listen(v6, &srv->port)) < 0) {
		ck_assert_msg(v6, "cannot listen on 127.0.0.1: %s", g_strerror(errno));
		return FALSE;
	}
	g_snprintf(srv->host_port, sizeof(srv->host_port), v6 ? "[::1]:%u" : "127.0.0.1:%u", srv->port);
	srv->script = script;
	srv->commands = g_ptr_array_new_with_free_func(g_free);
	srv->data = g_byte_array_new();
	srv->thread = g_thread_new("smtp-server", t_server_run, srv);
	return TRUE;
}

/* t_server_stop - wait for the server's end, so its record is complete; the record stays */
static void
t_server_stop(struct t_server *srv)
{
	g_thread_join(srv->thread);
	close(srv->lfd);
}

static void
t_server_free(struct t_server *srv)
{
	g_ptr_array_unref(srv->commands);
	g_byte_array_unref(srv->data);
}

/* t_commands - the commands the server saw, one per line, for comparing and for failures */
static char *
t_commands(const struct t_server *srv)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < srv->commands->len; i++)
		g_string_append_printf(s, "%s\n", (const char *)srv->commands->pdata[i]);
	return g_string_free(s, FALSE);
}

/* t_saw - the server saw a command starting with PREFIX */
static gboolean
t_saw(const struct t_server *srv, const char *prefix)
{
	for (guint i = 0; i < srv->commands->len; i++)
		if (g_str_has_prefix(srv->commands->pdata[i], prefix))
			return TRUE;
	return FALSE;
}

/* t_tmpfd - an unlinked temporary file holding LEN bytes at DATA, for the job's fd */
static int
t_tmpfd(const void *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	gsize done = 0;
	int fd = g_file_open_tmp("moat-quarsmtp-XXXXXX", &path, &error);

	ck_assert_msg(fd >= 0, "temp file: %s", error != NULL ? error->message : "?");
	unlink(path);
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		ck_assert_msg(n > 0, "temp file: %s", g_strerror(errno));
		done += (gsize)n;
	}
	return fd;
}

/* t_send - quar_smtp_send() of MSG (LEN bytes) from FROM to RCPTS (NULL-terminated) at HOST_PORT */
static int
t_send(char **reply, char **err, const char *host_port, const char *from, const char *const *rcpts,
    const char *prepend, const char *msg, gsize len, guint timeout)
{
	struct quar_smtp_job job = {
		.host_port = host_port,
		.helo = T_HELO,
		.timeout_seconds = timeout,
		.mail_from = from,
		.rcpts = rcpts,
		.prepend = prepend,
		.fd = t_tmpfd(msg, len),
	};
	int rc;

	while (rcpts[job.n_rcpts] != NULL)
		job.n_rcpts++;

	*reply = NULL;
	*err = NULL;
	rc = quar_smtp_send(reply, err, &job);
	close(job.fd);
	/* exactly one of them, whatever happened */
	ck_assert_msg((rc == 0) == (*reply != NULL) && (rc == 0) == (*err == NULL),
	    "rc %d, reply '%s', err '%s'", rc, *reply ? *reply : "(null)", *err ? *err : "(null)");
	return rc;
}

/* t_assert_data - the server got exactly WANT after DATA */
static void
t_assert_data(const struct t_server *srv, const char *want)
{
	g_autofree char *got = g_strndup((const char *)srv->data->data, srv->data->len);

	ck_assert_msg(srv->data->len == strlen(want) && memcmp(srv->data->data, want, strlen(want)) == 0,
	    "DATA bytes:\n%s\nwanted:\n%s", g_strescape(got, NULL), g_strescape(want, NULL));
}

static const char *const two_rcpts[] = { "b@example.net", "<c@example.net>", NULL };
static const char *const one_rcpt[] = { "b@example.net", NULL };

/* 1. A plain release: the whole dialogue, in order; the prepend first; the queue id back. */
START_TEST(test_plain)
{
	static const char msg[] = "From: a@example.org\nTo: b@example.net\nSubject: hi\n\nHello\n";
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL, *cmds = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", two_rcpts,
	    "X-Moat-Released: by admin\r\n", msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(reply, T_QUEUED);
	cmds = t_commands(&srv);
	/* the <> a caller kept is not doubled */
	ck_assert_str_eq(cmds, "EHLO " T_HELO "\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\n"
	    "RCPT TO:<c@example.net>\nDATA\nQUIT\n");
	t_assert_data(&srv, "X-Moat-Released: by admin\r\nFrom: a@example.org\r\nTo: b@example.net\r\n"
	    "Subject: hi\r\n\r\nHello\r\n");
	t_server_free(&srv);
}
END_TEST

/* The null sender is MAIL FROM:<>; a name is resolved and each of its addresses tried. */
START_TEST(test_null_sender_by_name)
{
	static const char msg[] = "Subject: bounce\r\n\r\nx\r\n";
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL, *host_port = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	/* localhost may give ::1 first, where nothing listens on this port: the next address is tried */
	host_port = g_strdup_printf("localhost:%u", srv.port);
	rc = t_send(&reply, &err, host_port, "", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(srv.commands->pdata[1], "MAIL FROM:<>");
	t_assert_data(&srv, msg);
	t_server_free(&srv);
}
END_TEST

/* 2. Dot-stuffing and line ends, as RFC 5321 4.5.2 and 2.3.8 want them on the wire. */
START_TEST(test_dots_and_line_ends)
{
	static const char msg[] = ".hidden\n.\nbare lf\nbare cr\rcrlf\r\ntwo\r\r\n..two dots\nno final newline";
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	t_assert_data(&srv, "..hidden\r\n..\r\nbare lf\r\nbare cr\r\ncrlf\r\ntwo\r\n\r\n...two dots\r\n"
	    "no final newline\r\n");
	t_server_free(&srv);
}
END_TEST

/*
 * A release drops the X-Moat-* fields a sender forged (any case, folded
 * lines too) from the header section only; the rest goes as it was.
 */
START_TEST(test_drop_prefix)
{
	static const char msg[] = "X-Moat-Verdict: accept\r\n\t(folded)\r\nSubject: hi\r\n"
	    "x-moat-score: 0\r\nX-Moatless: kept\r\n\r\nX-Moat-Verdict: in the body\r\n";
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	struct quar_smtp_job job = { .helo = T_HELO, .timeout_seconds = 5, .mail_from = "a@x",
		.rcpts = one_rcpt, .n_rcpts = 1, .prepend = "X-Moat-Released: by admin\r\n",
		.drop_prefix = "X-Moat-" };
	int rc;

	t_server_start(&srv, &script, FALSE);
	job.host_port = srv.host_port;
	job.fd = t_tmpfd(msg, strlen(msg));
	rc = quar_smtp_send(&reply, &err, &job);
	close(job.fd);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	t_assert_data(&srv, "X-Moat-Released: by admin\r\nSubject: hi\r\nX-Moatless: kept\r\n\r\n"
	    "X-Moat-Verdict: in the body\r\n");
	t_server_free(&srv);
}
END_TEST

/* An empty message is still a message: nothing but the dot. */
START_TEST(test_empty_message)
{
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, "", 0, 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(srv.data->len, 0);
	t_server_free(&srv);
}
END_TEST

/* 3. and 9. MAIL's parameters: what the message needs and the server offers, nothing else. */
static const struct {
	const char *msg;
	const char *ehlo;
	const char *mail;
} param_cases[] = {
	/* 8-bit body, 8BITMIME on a middle line of a multi-line EHLO reply */
	{ "Subject: x\n\nCaf\xc3\xa9\n", "250-t.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
	    "250-SIZE 10240000\r\n250 DSN\r\n", "MAIL FROM:<a@example.org> BODY=8BITMIME" },
	/* not offered: sent all the same, with no parameter */
	{ "Subject: x\n\nCaf\xc3\xa9\n", "250-t.example\r\n250 PIPELINING\r\n", "MAIL FROM:<a@example.org>" },
	/* 8-bit header and SMTPUTF8 offered (on the last line, in lower case) */
	{ "Subject: Caf\xc3\xa9\n\nx\n", "250-t.example\r\n250-8BITMIME\r\n250 smtputf8\r\n",
	    "MAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8" },
	/* 8-bit body only: SMTPUTF8 offered but not needed */
	{ "Subject: x\n\nCaf\xc3\xa9\n", "250-t.example\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
	    "MAIL FROM:<a@example.org> BODY=8BITMIME" },
	/* ASCII: no parameter at all; 8BITMIMEX is not 8BITMIME */
	{ "Subject: x\n\nplain\n", "250-t.example\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
	    "MAIL FROM:<a@example.org>" },
	{ "Subject: x\n\nCaf\xc3\xa9\n", "250-t.example\r\n250-8BITMIMEX\r\n250 SMTPUTF8\r\n",
	    "MAIL FROM:<a@example.org>" },
	/* the header section is told by the empty line, even with bare CRs */
	{ "Subject: x\r\rCaf\xc3\xa9\n", "250-t.example\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
	    "MAIL FROM:<a@example.org> BODY=8BITMIME" },
};

START_TEST(test_mail_params)
{
	struct t_script script = { .ehlo = param_cases[_i].ehlo };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	const char *msg = param_cases[_i].msg;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(srv.commands->pdata[1], param_cases[_i].mail);
	ck_assert_uint_eq(srv.data->len, strlen(msg) + 3);	/* three line ends made CRLF, the rest unchanged */
	t_server_free(&srv);
}
END_TEST

/* 4. A UTF-8 envelope address goes only where SMTPUTF8 is offered. */
START_TEST(test_utf8_address)
{
	static const char msg[] = "Subject: x\n\nx\n";
	static const char *const rcpts[] = { "j\xc3\xb6rg@example.de", NULL };
	struct t_script script = { .ehlo = "250-t.example\r\n250 SMTPUTF8\r\n" };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", rcpts, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(srv.commands->pdata[1], "MAIL FROM:<a@example.org> SMTPUTF8");
	ck_assert_str_eq(srv.commands->pdata[2], "RCPT TO:<j\xc3\xb6rg@example.de>");
	t_server_free(&srv);
}
END_TEST

START_TEST(test_utf8_address_refused)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = { .ehlo = "250-t.example\r\n250 8BITMIME\r\n" };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL, *cmds = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "j\xc3\xb6rg@example.de", one_rcpt, NULL, msg,
	    strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	ck_assert_msg(strstr(err, "SMTPUTF8") != NULL, "%s", err);
	cmds = t_commands(&srv);
	ck_assert_msg(!t_saw(&srv, "MAIL") && !t_saw(&srv, "DATA"), "%s", cmds);
	ck_assert_uint_eq(srv.data->len, 0);
	t_server_free(&srv);
}
END_TEST

/* 5. One recipient refused: nobody gets it, and the error says who and why. */
START_TEST(test_rcpt_refused)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = {
		.rcpt = { NULL, "550 5.1.1 <c@example.net>: Recipient address rejected: User unknown\r\n" },
	};
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL, *want = NULL, *cmds = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", two_rcpts, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	want = g_strdup_printf("%s: RCPT TO:<c@example.net>: 550 5.1.1 <c@example.net>: Recipient "
	    "address rejected: User unknown", srv.host_port);
	ck_assert_str_eq(err, want);
	cmds = t_commands(&srv);
	ck_assert_str_eq(cmds, "EHLO " T_HELO "\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\n"
	    "RCPT TO:<c@example.net>\nRSET\nQUIT\n");
	ck_assert_uint_eq(srv.data->len, 0);
	t_server_free(&srv);
}
END_TEST

/* 6. A temporary failure at the end of data: the error carries the server's text. */
START_TEST(test_eod_451)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = { .eod = "451 4.3.0 Error: queue file write error\r\n" };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	ck_assert_msg(g_str_has_suffix(err, ": end of data: 451 4.3.0 Error: queue file write error"),
	    "%s", err);
	ck_assert(!t_saw(&srv, "RSET"));
	ck_assert_str_eq(srv.commands->pdata[srv.commands->len - 1], "QUIT");
	t_server_free(&srv);
}
END_TEST

/* A refusal on several lines shows them all; MAIL refused needs no RSET. */
START_TEST(test_multiline_refusal)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = { .mail = "553-5.7.1 Sender refused\r\n553 5.7.1 see policy\r\n" };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL, *cmds = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	ck_assert_msg(g_str_has_suffix(err, "MAIL FROM:<a@example.org>: 553-5.7.1 Sender refused "
	    "553 5.7.1 see policy"), "%s", err);
	cmds = t_commands(&srv);
	ck_assert_str_eq(cmds, "EHLO " T_HELO "\nMAIL FROM:<a@example.org>\nQUIT\n");
	t_server_free(&srv);
}
END_TEST

/* 7. A server that accepts and says nothing: an error after the timeout, not a hang. */
START_TEST(test_silent_server)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = { .mode = T_SILENT };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	gint64 t0;
	int rc;

	t_server_start(&srv, &script, FALSE);
	t0 = g_get_monotonic_time();
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 1);
	t0 = g_get_monotonic_time() - t0;
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	ck_assert_msg(strstr(err, "greeting: timed out") != NULL, "%s", err);
	ck_assert_msg(t0 >= 900000 && t0 < 3000000, "gave up after %" G_GINT64_FORMAT " µs", t0);
	t_server_free(&srv);
}
END_TEST

/* 8. A server that closes after its greeting: an error, no crash, no SIGPIPE. */
START_TEST(test_closed_after_greeting)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = { .mode = T_CLOSE };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	ck_assert_msg(strstr(err, "EHLO " T_HELO ": ") != NULL, "%s", err);
	t_server_free(&srv);
}
END_TEST

/* A server that does not know EHLO: HELO, and no extensions assumed. */
START_TEST(test_helo_fallback)
{
	static const char msg[] = "Subject: x\n\nCaf\xc3\xa9\n";
	struct t_script script = {
		.greeting = "220-t.example ESMTP\r\n220 more greeting\r\n",
		.ehlo = "502 5.5.2 Error: command not recognized\r\n",
	};
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL, *cmds = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	cmds = t_commands(&srv);
	ck_assert_str_eq(cmds, "EHLO " T_HELO "\nHELO " T_HELO "\nMAIL FROM:<a@example.org>\n"
	    "RCPT TO:<b@example.net>\nDATA\nQUIT\n");
	t_server_free(&srv);
}
END_TEST

/* The server's text is shown cleaned and cut: it ends up in logs and the admin's terminal. */
START_TEST(test_reply_cleaned)
{
	static const char msg[] = "Subject: x\n\nx\n";
	g_autofree char *eod = g_strdup_printf("250 2.0.0 Ok: queued as \x1b[1mX\x07%s\r\n",
	    "-----------------------------------------------------------------------------------"
	    "-----------------------------------------------------------------------------------"
	    "-----------------------------------------------------------------------------------"
	    "-----------------------------------------------------------------------------------"
	    "-----------------------------------------------------------------------------------"
	    "-----------------------------------------------------------------------------------"
	    "-----------------------------------------------------------------------------------");
	struct t_script script = { .eod = eod };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_msg(g_str_has_prefix(reply, "250 2.0.0 Ok: queued as ?[1mX?---"), "%s", reply);
	ck_assert_msg(strlen(reply) <= 520 && g_str_has_suffix(reply, "..."), "%zu bytes", strlen(reply));
	t_server_free(&srv);
}
END_TEST

/* Past the caps on a reply: an error, not unbounded memory. */
START_TEST(test_reply_limits)
{
	static const char msg[] = "Subject: x\n\nx\n";
	g_autoptr(GString) ehlo = g_string_new("250-t.example\r\n");
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	if (_i == 0) {
		/* one line of 5000 bytes */
		g_string_append(ehlo, "250-X");
		for (int i = 0; i < 5000; i++)
			g_string_append_c(ehlo, 'x');
		g_string_append(ehlo, "\r\n");
	} else {
		/* 100 lines of 1000 bytes: each line fits, the reply does not */
		for (int i = 0; i < 100; i++) {
			g_string_append(ehlo, "250-X");
			for (int j = 0; j < 995; j++)
				g_string_append_c(ehlo, 'x');
			g_string_append(ehlo, "\r\n");
		}
	}
	g_string_append(ehlo, "250 8BITMIME\r\n");
	script.ehlo = ehlo->str;
	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_int_eq(rc, MOAT_EIO);
	ck_assert_msg(strstr(err, _i == 0 ? "reply line longer than 4096" : "reply longer than 65536"),
	    "%s", err);
	ck_assert(!t_saw(&srv, "MAIL"));
	t_server_free(&srv);
}
END_TEST

/* 10. host:port that cannot be right, and envelopes that must not be sent: refused before connecting. */
static const struct {
	const char *host_port;
	const char *from;
	const char *rcpt;
} bad_cases[] = {
	{ "nohostport", "a@example.org", "b@example.net" },
	{ "[::1", "a@example.org", "b@example.net" },
	{ "host:99999", "a@example.org", "b@example.net" },
	{ "", "a@example.org", "b@example.net" },
	{ ":25", "a@example.org", "b@example.net" },
	{ "[::1]", "a@example.org", "b@example.net" },
	{ "[]:25", "a@example.org", "b@example.net" },
	{ "::1:25", "a@example.org", "b@example.net" },
	{ "host:0", "a@example.org", "b@example.net" },
	{ "host:25x", "a@example.org", "b@example.net" },
	{ "host:", "a@example.org", "b@example.net" },
	/* a CR LF in an address would be a command of its own: port 9 is never reached */
	{ "127.0.0.1:9", "a@example.org", "b@example.net>\r\nRCPT TO:<evil@example.com" },
	{ "127.0.0.1:9", "a@example.org\r\nRSET", "b@example.net" },
	{ "127.0.0.1:9", "a@example.org", "" },
};

START_TEST(test_bad_job)
{
	const char *rcpts[] = { bad_cases[_i].rcpt, NULL };
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	rc = t_send(&reply, &err, bad_cases[_i].host_port, bad_cases[_i].from, rcpts, NULL, "x\n", 2, 5);
	ck_assert_msg(rc == MOAT_EINVAL, "'%s': rc %d, %s", bad_cases[_i].host_port, rc, err);
	ck_assert_msg(g_str_has_prefix(err, bad_cases[_i].host_port), "%s", err);
}
END_TEST

/* Nothing listening: every address tried, the reason given, MOAT_EIO. */
START_TEST(test_refused_connection)
{
	g_autofree char *reply = NULL, *err = NULL, *host_port = NULL, *want = NULL;
	guint port;
	int fd = t_listen(FALSE, &port), rc;

	ck_assert_int_ge(fd, 0);
	close(fd);			/* a port that was free a moment ago */
	host_port = g_strdup_printf("127.0.0.1:%u", port);
	rc = t_send(&reply, &err, host_port, "a@example.org", one_rcpt, NULL, "x\n", 2, 5);
	ck_assert_int_eq(rc, MOAT_EIO);
	want = g_strdup_printf("%s: connect to 127.0.0.1:%u: %s", host_port, port, g_strerror(ECONNREFUSED));
	ck_assert_str_eq(err, want);
}
END_TEST

/* IPv6 literal in brackets. */
START_TEST(test_ipv6)
{
	static const char msg[] = "Subject: x\n\nx\n";
	struct t_script script = { 0 };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	int rc;

	if (!t_server_start(&srv, &script, TRUE)) {
		printf("skipped: quarsmtp test_ipv6 (cannot bind ::1: %s)\n", g_strerror(errno));
		return;
	}
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, NULL, msg, strlen(msg), 5);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(reply, T_QUEUED);
	t_assert_data(&srv, "Subject: x\r\n\r\nx\r\n");
	t_server_free(&srv);
}
END_TEST

/* t_wire - what MSG must look like after DATA, written the plain way: the reference */
static GByteArray *
t_wire(const guint8 *msg, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint)(len + len / 8));
	gsize i = 0;
	gboolean bol = TRUE;

	while (i < len) {
		gsize end = i;

		while (end < len && msg[end] != '\r' && msg[end] != '\n')
			end++;
		if (end > i && msg[i] == '.')
			g_byte_array_append(out, (const guint8 *)".", 1);
		g_byte_array_append(out, msg + i, (guint)(end - i));
		bol = end < len;
		if (end < len) {
			g_byte_array_append(out, (const guint8 *)"\r\n", 2);
			end += msg[end] == '\r' && end + 1 < len && msg[end + 1] == '\n' ? 2 : 1;
		}
		i = end;
	}
	if (!bol)
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	return out;
}

/* 11. 5 MB of mixed lines, with a CRLF and a leading dot across the client's 64 KiB reads. */
START_TEST(test_large)
{
	const gsize len = 5 * 1024 * 1024 + 17;
	g_autofree guint8 *msg = g_malloc(len);
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	g_autoptr(GByteArray) want = NULL;
	struct t_script script = { .ehlo = "250-t.example\r\n250 8BITMIME\r\n" };
	struct t_server srv;
	g_autofree char *reply = NULL, *err = NULL;
	char got_hex[SHA256_HEX_LEN + 1], want_hex[SHA256_HEX_LEN + 1];
	static const char alphabet[] = "abcdefghij KLMNOP.:;-\xc3\xa9\xe2\x82\xac";
	int rc;

	for (gsize i = 0; i < len; i++) {
		guint32 r = g_rand_int_range(rand, 0, 100);

		if (r < 2)
			msg[i] = '\n';
		else if (r == 2)
			msg[i] = '\r';
		else
			msg[i] = (guint8)alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
	}
	memcpy(msg + 65536 - 1, "\r\n", 2);		/* a CRLF split by the first read */
	memcpy(msg + 2 * 65536 - 1, "\n.", 2);		/* a dot opening the third read's first line */
	memcpy(msg + 3 * 65536 - 1, "\r.", 2);
	memcpy(msg + 4 * 65536 - 2, "\n.", 2);		/* a line of one dot, its end in the next read */
	memcpy(msg + 4 * 65536, "\r\n", 2);
	msg[len - 1] = 'z';				/* no final newline */
	want = t_wire(msg, len);
	t_server_start(&srv, &script, FALSE);
	rc = t_send(&reply, &err, srv.host_port, "a@example.org", one_rcpt, "X-Released: yes\r\n",
	    (const char *)msg, len, 10);
	t_server_stop(&srv);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(srv.commands->pdata[1], "MAIL FROM:<a@example.org> BODY=8BITMIME");
	ck_assert_uint_eq(srv.data->len, want->len + strlen("X-Released: yes\r\n"));
	ck_assert(memcmp(srv.data->data, "X-Released: yes\r\n", 17) == 0);
	sha256_hex(srv.data->data + 17, srv.data->len - 17, got_hex);
	sha256_hex(want->data, want->len, want_hex);
	ck_assert_str_eq(got_hex, want_hex);
	t_server_free(&srv);
}
END_TEST

Suite *
quarsmtp_suite(void)
{
	Suite *s = suite_create("quarsmtp");
	TCase *tc = tcase_create("core");

	/* the silent server takes its 1 s; 5 MB through ASan takes a few */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_null_sender_by_name);
	tcase_add_test(tc, test_dots_and_line_ends);
	tcase_add_test(tc, test_drop_prefix);
	tcase_add_test(tc, test_empty_message);
	tcase_add_loop_test(tc, test_mail_params, 0, G_N_ELEMENTS(param_cases));
	tcase_add_test(tc, test_utf8_address);
	tcase_add_test(tc, test_utf8_address_refused);
	tcase_add_test(tc, test_rcpt_refused);
	tcase_add_test(tc, test_eod_451);
	tcase_add_test(tc, test_multiline_refusal);
	tcase_add_test(tc, test_silent_server);
	tcase_add_test(tc, test_closed_after_greeting);
	tcase_add_test(tc, test_helo_fallback);
	tcase_add_test(tc, test_reply_cleaned);
	tcase_add_loop_test(tc, test_reply_limits, 0, 2);
	tcase_add_loop_test(tc, test_bad_job, 0, G_N_ELEMENTS(bad_cases));
	tcase_add_test(tc, test_refused_connection);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_large);
	suite_add_tcase(s, tc);
	return s;
}
