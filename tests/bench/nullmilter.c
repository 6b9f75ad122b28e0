/*
 * nullmilter.c - `make bench`: the floor a milter cannot go below
 *
 *   nullmilter -r|-n -p SOCKET [-t SECONDS]
 *
 * A libmilter milter that asks for every stage moatd asks for (connect,
 * HELO, MAIL FROM, RCPT TO, each header, end of headers, body chunks, end
 * of message, abort, close), the same actions and the same macro lists,
 * does nothing with any of it and accepts every message at its end. What
 * Postfix loses with it is the milter protocol's cost, not a filter's.
 *
 *   -r   answers every command (SMFIS_CONTINUE from each callback)
 *   -n   negotiates the no-reply flags (SMFIP_NR_CONN, NR_HELO, NR_RCPT,
 *        NR_HDR, NR_EOH, NR_BODY) and returns SMFIS_NOREPLY from those
 *        callbacks; MAIL FROM and end of message stay answered
 *   -p   the socket: unix:/path or inet:PORT@127.0.0.1
 *   -t   lifetime: after SECONDS (default 600) SIGALRM ends the process
 *
 * SIGTERM, SIGHUP and SIGINT stop it (libmilter's own signal thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* the no-reply steps of -n */
#define NULL_NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
	SMFIP_NR_EOH | SMFIP_NR_BODY)

static int noreply;	/* -n given and the MTA offered every NULL_NR flag */
static int want_nr;	/* -n given */
static int warned;	/* said that the MTA offers no no-reply flags */

/* null_step - the answer of a stage that -n makes no-reply */
static sfsistat
null_step(void)
{
	return noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	/* What moatd asks for (milter/mlfi.c), so the MTA does the same work. */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC);
	if (want_nr && (f1 & NULL_NR) == NULL_NR) {
		*pf1 |= NULL_NR;
		noreply = 1;	/* one MTA per run: the same answer on every connection */
	} else if (want_nr && !warned) {
		warned = 1;
		fprintf(stderr, "nullmilter: the MTA does not offer the no-reply flags "
		    "(offered 0x%lx): answering every command\n", f1);
	}
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_addr}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "{i} {auth_authen} {mail_addr}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "{i} {rcpt_addr}");
		smfi_setsymlist(ctx, SMFIM_EOH, "{i}");
		smfi_setsymlist(ctx, SMFIM_EOM, "{i}");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return null_step();
}

static sfsistat
null_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return null_step();
}

static sfsistat
null_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;	/* answered in both forms, as moatd's */
}

static sfsistat
null_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return null_step();
}

static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return null_step();
}

static sfsistat
null_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return null_step();
}

static sfsistat
null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return null_step();
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat
null_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
null_close(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = null_connect,
	.xxfi_helo = null_helo,
	.xxfi_envfrom = null_envfrom,
	.xxfi_envrcpt = null_envrcpt,
	.xxfi_header = null_header,
	.xxfi_eoh = null_eoh,
	.xxfi_body = null_body,
	.xxfi_eom = null_eom,
	.xxfi_abort = null_abort,
	.xxfi_close = null_close,
	.xxfi_negotiate = null_negotiate,
};

static void
usage(void)
{
	fprintf(stderr, "usage: nullmilter -r|-n -p SOCKET [-t SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	unsigned lifetime = 600;
	int mode = 0;
	int c;

	while ((c = getopt(argc, argv, "rnp:t:")) != -1) {
		switch (c) {
		case 'r':
		case 'n':
			mode = c;
			break;
		case 'p':
			sock = optarg;
			break;
		case 't':
			lifetime = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (mode == 0 || sock == NULL || optind != argc)
		usage();
	want_nr = mode == 'n';
	if (strncmp(sock, "unix:", 5) == 0)
		unlink(sock + 5);
	if (smfi_register(null_desc) == MI_FAILURE || smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_opensocket(true) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", sock);
		return 1;
	}
	/* Postfix's smtpd (user postfix) must be able to connect. */
	if (strncmp(sock, "unix:", 5) == 0 && chmod(sock + 5, 0666) != 0) {
		perror("nullmilter: chmod");
		return 1;
	}
	/* SIGALRM is not among the signals libmilter's thread takes: it ends us. */
	alarm(lifetime);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
