/*
 * pfinject.c - `make bench`: an SMTP client that sends no two messages alike
 *
 *   pfinject -p PORT -n COUNT [-s SESSIONS] FILE...
 *
 * Sends COUNT messages to 127.0.0.1:PORT over SESSIONS (default 20)
 * parallel sessions, one message per connection (banner, EHLO, MAIL FROM,
 * RCPT TO, DATA, the message, QUIT), as Postfix's smtp-source does. Message
 * i is FILE number i modulo the number of FILEs, with every occurrence of
 * the 16-character marker MOATBENCHTOKEN00 replaced by a token unique to
 * this process and to i (16 hexadecimal digits): pfmsg.py puts the marker in
 * each text part and, four-aligned, inside the base64 of each attachment,
 * so every part of every message sent differs from every other's, in its
 * decoded bytes too. Files are read once, LF turned into CRLF and lines
 * starting with a dot doubled.
 *
 * Exits 0 when every message got a 250, else prints the first unexpected
 * reply and exits 1. Threads with blocking sockets: a message costs this
 * process a few microseconds of CPU, far less than the MTA's side.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MARKER "MOATBENCHTOKEN00"
#define MARKER_LEN 16

struct tmpl {
	char *data;	/* CRLF, dot-stuffed, ending in CRLF.CRLF */
	size_t len;
	size_t *marks;	/* offsets of MARKER in data */
	size_t nmarks;
};

static struct tmpl *tmpls;
static size_t ntmpls;
static unsigned long count;
static atomic_ulong next_msg;
static atomic_int failed;
static unsigned port;
static unsigned long run_id;

static void
die(const char *what)
{
	fprintf(stderr, "pfinject: %s\n", what);
	exit(1);
}

/* tmpl_load - read PATH into T: CRLF, dot-stuffed, terminated, markers found */
static void
tmpl_load(struct tmpl *t, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, len = 0, markcap = 8;
	int c, bol = 1;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	t->data = malloc(cap);
	t->marks = malloc(markcap * sizeof(*t->marks));
	t->nmarks = 0;
	if (t->data == NULL || t->marks == NULL)
		die("out of memory");
	while ((c = getc(f)) != EOF) {
		if (len + 8 > cap && (t->data = realloc(t->data, cap *= 2)) == NULL)
			die("out of memory");
		if (c == '\r')
			continue;
		if (bol && c == '.')
			t->data[len++] = '.';
		if (c == '\n') {
			t->data[len++] = '\r';
			t->data[len++] = '\n';
			bol = 1;
		} else {
			t->data[len++] = (char)c;
			bol = 0;
		}
	}
	fclose(f);
	if ((t->data = realloc(t->data, len + 8)) == NULL)
		die("out of memory");
	if (!bol) {
		t->data[len++] = '\r';
		t->data[len++] = '\n';
	}
	memcpy(t->data + len, ".\r\n", 3);
	t->len = len + 3;
	for (char *p = t->data; (p = memmem(p, t->data + t->len - p, MARKER, MARKER_LEN)) != NULL;
	    p += MARKER_LEN) {
		if (t->nmarks == markcap &&
		    (t->marks = realloc(t->marks, (markcap *= 2) * sizeof(*t->marks))) == NULL)
			die("out of memory");
		t->marks[t->nmarks++] = (size_t)(p - t->data);
	}
}

struct conn {
	int fd;
	char buf[4096];
	size_t have, off;
};

/* conn_line - the next reply line into LINE (NUL-terminated); -1 on EOF/error */
static int
conn_line(struct conn *c, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		if (c->off == c->have) {
			ssize_t r = read(c->fd, c->buf, sizeof(c->buf));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->have = (size_t)r;
			c->off = 0;
		}
		char ch = c->buf[c->off++];

		if (ch == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 < size)
			line[n++] = ch;
	}
}

/* conn_reply - read a whole (multi-line) reply; 0 when its code is WANT */
static int
conn_reply(struct conn *c, int want, const char *after)
{
	char line[512];

	do {
		if (conn_line(c, line, sizeof(line)) < 0) {
			fprintf(stderr, "pfinject: connection lost after %s\n", after);
			return -1;
		}
	} while (strlen(line) > 3 && line[3] == '-');
	if (atoi(line) != want) {
		fprintf(stderr, "pfinject: after %s: %s\n", after, line);
		return -1;
	}
	return 0;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* send_one - message I over a new connection; 0 on a 250 for it */
static int
send_one(unsigned long i, char *msg)
{
	const struct tmpl *t = &tmpls[i % ntmpls];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 120 };
	struct conn c = { .fd = -1 };
	char token[MARKER_LEN + 1];
	static const char *cmds[] = {
		"EHLO bench.moat-test\r\n",
		"MAIL FROM:<sender@supplier.example.com>\r\n",
		"RCPT TO:<bench@example.org>\r\n",
		"DATA\r\n",
	};
	static const int codes[] = { 250, 250, 250, 354 };
	int rc = -1;

	snprintf(token, sizeof(token), "%06lx%010lu", run_id & 0xffffff, i);
	memcpy(msg, t->data, t->len);
	for (size_t k = 0; k < t->nmarks; k++)
		memcpy(msg + t->marks[k], token, MARKER_LEN);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		perror("pfinject: socket");
		return -1;
	}
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("pfinject: connect");
		goto out;
	}
	if (conn_reply(&c, 220, "connect") < 0)
		goto out;
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (send_all(c.fd, cmds[k], strlen(cmds[k])) < 0 ||
		    conn_reply(&c, codes[k], cmds[k]) < 0)
			goto out;
	if (send_all(c.fd, msg, t->len) < 0 || conn_reply(&c, 250, "the message") < 0)
		goto out;
	send_all(c.fd, "QUIT\r\n", 6);
	conn_reply(&c, 221, "QUIT");	/* the message is in; a lost 221 is no failure */
	rc = 0;
out:
	close(c.fd);
	return rc;
}

static void *
session(void *arg)
{
	size_t max = 0;
	char *msg;

	(void)arg;
	for (size_t k = 0; k < ntmpls; k++)
		if (tmpls[k].len > max)
			max = tmpls[k].len;
	if ((msg = malloc(max)) == NULL)
		die("out of memory");
	for (;;) {
		unsigned long i = atomic_fetch_add(&next_msg, 1);

		if (i >= count || atomic_load(&failed))
			break;
		if (send_one(i, msg) < 0) {
			atomic_store(&failed, 1);
			break;
		}
	}
	free(msg);
	return NULL;
}

int
main(int argc, char **argv)
{
	unsigned long sessions = 20;
	pthread_t *th;
	struct timespec ts;
	int c;

	while ((c = getopt(argc, argv, "p:n:s:")) != -1) {
		switch (c) {
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 's':
			sessions = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (port == 0 || port > 65535 || count == 0 || sessions == 0 || optind == argc)
		goto usage;
	ntmpls = (size_t)(argc - optind);
	if ((tmpls = calloc(ntmpls, sizeof(*tmpls))) == NULL)
		die("out of memory");
	for (size_t k = 0; k < ntmpls; k++)
		tmpl_load(&tmpls[k], argv[optind + (int)k]);
	clock_gettime(CLOCK_REALTIME, &ts);
	run_id = (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec * 2654435761u ^
	    (unsigned long)getpid() << 8;
	if (sessions > count)
		sessions = count;
	if ((th = calloc(sessions, sizeof(*th))) == NULL)
		die("out of memory");
	for (unsigned long k = 0; k < sessions; k++)
		if (pthread_create(&th[k], NULL, session, NULL) != 0)
			die("pthread_create failed");
	for (unsigned long k = 0; k < sessions; k++)
		pthread_join(th[k], NULL);
	return atomic_load(&failed) ? 1 : 0;
usage:
	fprintf(stderr, "usage: pfinject -p PORT -n COUNT [-s SESSIONS] FILE...\n");
	return 2;
}
