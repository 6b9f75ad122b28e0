/*
 * mlfi.c - the libmilter callbacks: glue between the MTA and moatd_msg
 *
 * One struct moatd_conn per SMTP connection (mlfi_connect .. mlfi_close),
 * one struct moatd_msg per message (mlfi_envfrom .. mlfi_eom/mlfi_abort),
 * so several messages on one connection each start clean. Strings from the
 * MTA are copied: they live only during the callback. Anything that goes
 * wrong on a message ends in a tempfail, never in an unscanned accept.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include <libmilter/mfapi.h>

#include "moat/auth.h"
#include "moat/banner.h"
#include "moat/lists.h"
#include "mlfi.h"
#include "moatd.h"
#include "reload.h"
#include "stats.h"
#include "store.h"

/*
 * Lengths moatd keeps of what the MTA passes. They are fixed, not config:
 * each is above what the SMTP RFCs allow, so they only cut what a lax MTA
 * let through, and only in what moatd logs and reports.
 */
#define MLFI_QUEUE_ID_MAX	64	/* Postfix long queue ids are ~20 characters */
#define MLFI_ADDRESS_MAX	512	/* RFC 5321 4.5.3.1.3: a path is at most 256 octets */
#define MLFI_HELO_MAX		255	/* a domain name (RFC 1035 2.3.4) */
#define MLFI_AUTH_MAX		256	/* SASL user names */
#define MLFI_REPLY_MAX		400	/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets */

/*
 * The stages moatd does not answer when the MTA agrees (Postfix >= 2.6,
 * Sendmail >= 8.14): each answered command costs a round trip and a hand-off
 * between libmilter's threads, ~23 per message; unanswered, the MTA streams
 * them. MAIL FROM stays answered: the drain's 451 lives there. A failure in
 * an unanswered stage cannot be told to the MTA there (libmilter drops it
 * and logs "milter claimed not to reply"), so it is carried to the end of
 * the message: a message without its context is tempfailed at EOM.
 */
#define MLFI_NOREPLY	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY)

struct moatd_conn {
	char *client_addr;
	char *helo;			/* cleaned for display */
	char *raw_helo;			/* as given, at most MLFI_HELO_MAX bytes (SPF checks it) */
	char *auth;			/* {auth_authen} of the last MAIL FROM, or NULL */
	gboolean leadspc;		/* header values keep their leading blank */
	gboolean chgbody;		/* the MTA lets moatd replace the body (banners) */
	unsigned long noreply;		/* SMFIP_NR_* the MTA agreed to (MLFI_NOREPLY) */
	struct moatd_msg *msg;		/* the message in flight, or NULL */
};

static struct moatd_conn *
mlfi_conn(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* mlfi_conn_new - the connection context, counted until mlfi_close frees it */
static struct moatd_conn *
mlfi_conn_new(SMFICTX *ctx)
{
	struct moatd_conn *conn = g_new0(struct moatd_conn, 1);

	smfi_setpriv(ctx, conn);
	moatd_conn_opened();
	return conn;
}

/*
 * mlfi_msg_conf - the config of the message in flight: the one that was
 * current at its MAIL FROM, kept to its end whatever SIGHUP does meanwhile
 */
static const struct moat_conf *
mlfi_msg_conf(const struct moatd_conn *conn)
{
	return conn->msg->conf_ref->conf;
}

/*
 * mlfi_next - go on after stage STAGE (an SMFIP_NR_* flag): no reply when
 * the MTA agreed to none, SMFIS_CONTINUE otherwise
 */
static sfsistat
mlfi_next(const struct moatd_conn *conn, unsigned long stage)
{
	return conn != NULL && (conn->noreply & stage) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * mlfi_fail - stage STAGE cannot go on (no context): tempfail now when the
 * stage is answered; else say nothing, and end of message, which finds no
 * message context, tempfails it
 */
static sfsistat
mlfi_fail(const struct moatd_conn *conn, unsigned long stage)
{
	return conn != NULL && (conn->noreply & stage) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
}

/* mlfi_queue_id - take {i} once the MTA has it (Postfix: from MAIL FROM or DATA on) */
static void
mlfi_queue_id(SMFICTX *ctx, struct moatd_msg *msg)
{
	const char *qid;

	if (msg != NULL && msg->queue_id == NULL && (qid = smfi_getsymval(ctx, "{i}")) != NULL)
		msg->queue_id = report_clean_text(qid, -1, MLFI_QUEUE_ID_MAX);
}

/* mlfi_address - an envelope address without the <> the MTA passes, cleaned */
static char *
mlfi_address(const char *arg)
{
	gsize n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
		return report_clean_text(arg + 1, (gssize)(n - 2), MLFI_ADDRESS_MAX);
	return report_clean_text(arg, -1, MLFI_ADDRESS_MAX);
}

/*
 * mlfi_raw_address - an envelope address as given, without its <> and any
 * ESMTP parameters the MTA left on it: what a release must send back. At
 * most an SMTP line (RFC 5321 4.5.3.1.4), which is all it can be.
 */
static char *
mlfi_raw_address(const char *arg)
{
	gsize n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
		return g_strndup(arg + 1, MIN(n - 2, 998));
	return g_strndup(arg, 998);
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	(void)f2;
	(void)f3;
	/* Negotiation comes before connect: the connection context starts here. */
	if (conn == NULL)
		conn = mlfi_conn_new(ctx);
	/* Only the actions moatd uses: headers, the body (banners), quarantine, the macro list. */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST);
	conn->chgbody = (*pf0 & SMFIF_CHGBODY) != 0;
	/*
	 * No callback for unknown commands; header values as they are. DATA
	 * stays on (libmilter answers it, there is no callback): with
	 * SMFIP_NODATA Postfix sends the DATA macros in a packet nobody
	 * answers, and over TCP its first header then waits ~40 ms for
	 * moatd's delayed ACK, on every message.
	 */
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC | MLFI_NOREPLY);
	*pf2 = 0;
	*pf3 = 0;
	conn->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	conn->noreply = *pf1 & MLFI_NOREPLY;
	if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)) !=
	    (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE))
		moatd_log(NULL, LOG_ERR, "the MTA does not offer header changes and quarantine: "
		    "tagged and held mail will be tempfailed");
	if (f0 & SMFIF_SETSYMLIST) {
		/* smfi_setsymlist() is only allowed here. */
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_addr}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "{i} {auth_authen} {mail_addr}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "{i} {rcpt_addr}");
		smfi_setsymlist(ctx, SMFIM_EOH, "{i}");
		smfi_setsymlist(ctx, SMFIM_EOM, "{i}");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct moatd_conn *conn = mlfi_conn(ctx);
	char addr[INET6_ADDRSTRLEN] = "";

	(void)hostname;
	if (conn == NULL)	/* an MTA that does not negotiate */
		conn = mlfi_conn_new(ctx);
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, addr, sizeof(addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, addr, sizeof(addr));
	g_free(conn->client_addr);
	conn->client_addr = g_strdup(*addr ? addr : "local");
	return mlfi_next(conn, SMFIP_NR_CONN);
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn == NULL)
		return SMFIS_TEMPFAIL;	/* no negotiation, so no SMFIP_NR_HELO */
	g_free(conn->helo);
	conn->helo = report_clean_text(helo, -1, MLFI_HELO_MAX);
	g_free(conn->raw_helo);
	conn->raw_helo = g_strndup(helo, MLFI_HELO_MAX);
	return mlfi_next(conn, SMFIP_NR_HELO);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct moatd_conn *conn = mlfi_conn(ctx);
	struct moatd_conf_ref *ref;
	const char *auth;

	if (conn == NULL)
		return SMFIS_TEMPFAIL;
	moatd_msg_free(conn->msg);	/* RSET without abort: start clean */
	conn->msg = NULL;
	if ((ref = moatd_admit()) == NULL) {
		/* SIGTERM: moatd finishes the messages it has and takes no new one. */
		stats_tempfail(STATS_TEMPFAIL_SHUTDOWN);
		smfi_setreply(ctx, "451", "4.3.2", "moat: shutting down, try again later");
		return SMFIS_TEMPFAIL;
	}
	conn->msg = moatd_msg_new();
	conn->msg->conf_ref = ref;	/* released by moatd_msg_free() */
	conn->msg->env.client_addr = g_strdup(conn->client_addr);
	conn->msg->env.helo = g_strdup(conn->helo);
	conn->msg->env.mail_from = mlfi_address(argv[0]);
	conn->msg->raw_from = mlfi_raw_address(argv[0]);
	conn->msg->env.raw_helo = g_strdup(conn->raw_helo);
	conn->msg->env.raw_mail_from = g_strdup(conn->msg->raw_from);
	g_free(conn->auth);
	conn->auth = (auth = smfi_getsymval(ctx, "{auth_authen}")) ? g_strdup(auth) : NULL;
	/* Authenticated submission makes the message outbound ([outbound], lists.h). */
	conn->msg->env.auth = conn->auth ? report_clean_text(conn->auth, -1, MLFI_AUTH_MAX) : NULL;
	mlfi_queue_id(ctx, conn->msg);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn == NULL || conn->msg == NULL)
		return mlfi_fail(conn, SMFIP_NR_RCPT);
	mlfi_queue_id(ctx, conn->msg);
	/* Past [milter] max_recipients they are counted: no allow by recipients, a finding. */
	if (conn->msg->env.rcpt_to->len < mlfi_msg_conf(conn)->milter.max_recipients) {
		g_ptr_array_add(conn->msg->env.rcpt_to, mlfi_address(argv[0]));
		g_ptr_array_add(conn->msg->raw_rcpts, mlfi_raw_address(argv[0]));
	} else if (conn->msg->env.rcpt_dropped++ == 0) {
		moatd_log(conn->msg, LOG_WARNING, "more than %u recipients: the rest are counted, "
		    "not kept ([milter] max_recipients)", mlfi_msg_conf(conn)->milter.max_recipients);
	}
	return mlfi_next(conn, SMFIP_NR_RCPT);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn == NULL || conn->msg == NULL)
		return mlfi_fail(conn, SMFIP_NR_HDR);
	moatd_msg_header(conn->msg, mlfi_msg_conf(conn), name, value, conn->leadspc);
	return mlfi_next(conn, SMFIP_NR_HDR);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn == NULL || conn->msg == NULL)
		return mlfi_fail(conn, SMFIP_NR_EOH);
	mlfi_queue_id(ctx, conn->msg);
	moatd_msg_eoh(conn->msg, mlfi_msg_conf(conn));
	return mlfi_next(conn, SMFIP_NR_EOH);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn == NULL || conn->msg == NULL)
		return mlfi_fail(conn, SMFIP_NR_BODY);
	moatd_msg_body(conn->msg, mlfi_msg_conf(conn), chunk, len);
	return mlfi_next(conn, SMFIP_NR_BODY);
}

/* mlfi_value - a header value as the MTA wants it back (leading blank when LEADSPC) */
static char *
mlfi_value(const struct moatd_conn *conn, const char *value)
{
	return g_strconcat(conn->leadspc ? " " : "", value, NULL);
}

/*
 * mlfi_drop_forged - delete every X-Moat-* header the message came with, so
 * nobody downstream trusts a verdict a sender wrote. Highest index first:
 * deleting one renumbers those after it.
 */
static int
mlfi_drop_forged(SMFICTX *ctx, const struct moatd_msg *msg)
{
	int rc = MI_SUCCESS;

	for (int h = 0; h < MOATD_NHDR; h++)
		for (guint i = msg->moat_headers[h]; i > 0 && rc == MI_SUCCESS; i--)
			rc = smfi_chgheader(ctx, (char *)moatd_header_names[h], (int)i, NULL);
	return rc;
}

/* mlfi_verdict_headers - drop forged X-Moat-* headers, add ours, tag the Subject */
static int
mlfi_verdict_headers(SMFICTX *ctx, struct moatd_conn *conn, const struct moatd_decision *d)
{
	struct moatd_msg *msg = conn->msg;
	g_autofree char *ids = moatd_findings_line(d->report);
	g_autofree char *subject = moatd_tagged_subject(msg->subject,
	    mlfi_msg_conf(conn)->policy.subject_tag);
	char *v[MOATD_NVERDICT];
	int rc = mlfi_drop_forged(ctx, msg);

	v[MOATD_HDR_VERDICT] = g_strdup_printf("%s (score %d)",
	    report_action_name(d->action), d->report->verdict.score);
	v[MOATD_HDR_SCORE] = g_strdup_printf("%d", d->report->verdict.score);
	v[MOATD_HDR_FINDINGS] = g_strdup(*ids ? ids : "none");
	for (int h = 0; h < MOATD_NVERDICT; h++) {
		g_autofree char *val = mlfi_value(conn, v[h]);

		if (rc == MI_SUCCESS)
			rc = smfi_addheader(ctx, (char *)moatd_header_names[h], val);
		g_free(v[h]);
	}
	if (rc == MI_SUCCESS && subject != NULL) {
		g_autofree char *val = mlfi_value(conn, subject);

		rc = msg->subject ? smfi_chgheader(ctx, "Subject", 1, val)
		    : smfi_addheader(ctx, "Subject", val);
	}
	return rc;
}

/*
 * mlfi_auth_headers - delete the Authentication-Results headers that claim
 * our authserv-id (forged: RFC 8601 §5), highest index first, and prepend
 * ours when the checks ran and [auth] add_header is on
 */
static int
mlfi_auth_headers(SMFICTX *ctx, struct moatd_conn *conn, const struct moatd_decision *d)
{
	const struct moat_conf *conf = mlfi_msg_conf(conn);
	struct moatd_msg *msg = conn->msg;
	const struct moat_auth *a = d->report != NULL ? d->report->auth : NULL;
	int rc = MI_SUCCESS;

	for (guint i = msg->ar_ours->len; i > 0 && rc == MI_SUCCESS; i--)
		rc = smfi_chgheader(ctx, "Authentication-Results",
		    (int)g_array_index(msg->ar_ours, guint, i - 1), NULL);
	if (rc == MI_SUCCESS && a != NULL && a->skipped == NULL && conf->auth.add_header) {
		g_autofree char *v = auth_results_header(a, &msg->env, auth_authserv_id(conf));
		g_autofree char *val = mlfi_value(conn, v);

		rc = smfi_insheader(ctx, 0, "Authentication-Results", val);
	}
	return rc;
}

/*
 * mlfi_banner - the banner, when D's message gets one (moatd_banner()):
 * the new body, the top-level Content-Type and Content-Transfer-Encoding
 * a single-part message needed changed, and the marker header. Without
 * SMFIF_CHGBODY (an MTA that does not offer it) the message goes as it is.
 */
static int
mlfi_banner(SMFICTX *ctx, struct moatd_conn *conn, const struct moatd_decision *d)
{
	struct banner_result b;
	int rc = MI_SUCCESS;

	if (!conn->chgbody || !moatd_banner(&b, conn->msg, d, mlfi_msg_conf(conn)))
		return MI_SUCCESS;
	rc = smfi_replacebody(ctx, b.body->data, (int)b.body->len);
	if (rc == MI_SUCCESS && b.content_type != NULL) {
		g_autofree char *val = mlfi_value(conn, b.content_type);

		rc = smfi_chgheader(ctx, "Content-Type", 1, val);
	}
	if (rc == MI_SUCCESS && b.transfer_encoding != NULL) {
		g_autofree char *val = mlfi_value(conn, b.transfer_encoding);

		rc = smfi_chgheader(ctx, "Content-Transfer-Encoding", 1, val);
	}
	if (rc == MI_SUCCESS) {
		g_autofree char *val = mlfi_value(conn, auth_authserv_id(mlfi_msg_conf(conn)));

		rc = smfi_addheader(ctx, BANNER_MARKER_HEADER, val);
	}
	conn->msg->bannered = rc == MI_SUCCESS;
	banner_result_clear(&b);
	return rc;
}

/* mlfi_reply_text - REASON made safe for an SMTP reply (printable ASCII, no '%') */
static char *
mlfi_reply_text(const char *reason)
{
	char *t = g_strndup(reason, MLFI_REPLY_MAX);

	for (char *p = t; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '%')
			*p = '?';
	return t;
}

/* mlfi_hold_queue - held in the MTA's hold queue, with the verdict on it for the admin */
static sfsistat
mlfi_hold_queue(SMFICTX *ctx, struct moatd_conn *conn, const struct moatd_decision *d,
    const char *text)
{
	if ((d->report != NULL ? mlfi_verdict_headers(ctx, conn, d)
	    : mlfi_drop_forged(ctx, conn->msg)) != MI_SUCCESS ||
	    mlfi_auth_headers(ctx, conn, d) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return smfi_quarantine(ctx, (char *)text) == MI_SUCCESS ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

/*
 * mlfi_quarantine - a held message goes into moat's store, and only once it
 * is there is it discarded or rejected with its id ([quarantine] reply).
 * The MTA's hold queue takes it in hold mode, when its bytes were not
 * spooled (a poison message), when recipients past [milter]
 * max_recipients were not kept, and when the store is full and
 * full_action says hold. A store that fails tempfails: the MTA keeps the message.
 */
static sfsistat
mlfi_quarantine(SMFICTX *ctx, struct moatd_conn *conn, const struct moatd_decision *d,
    const char *text)
{
	const struct moat_conf *conf = mlfi_msg_conf(conn);
	struct moatd_msg *msg = conn->msg;
	g_autofree char *reply = NULL;

	if (!moatd_store_active() || msg->spool_failed)
		return mlfi_hold_queue(ctx, conn, d, text);
	/* a release could only send it to the recipients kept: the MTA, which has them all, holds it */
	if (msg->env.rcpt_dropped > 0) {
		moatd_log(msg, LOG_WARNING, "held in the MTA's hold queue, not the store: %u recipients "
		    "past [milter] max_recipients were not kept", msg->env.rcpt_dropped);
		return mlfi_hold_queue(ctx, conn, d, text);
	}
	switch (moatd_store_put(msg->quarantine_id, msg, d, conf)) {
	case MOATD_STORED:
		if (strcmp(conf->quarantine.reply, "discard") == 0)
			return SMFIS_DISCARD;
		reply = g_strdup_printf("moat: message held as %s", msg->quarantine_id);
		smfi_setreply(ctx, "550", "5.7.1", reply);
		return SMFIS_REJECT;
	case MOATD_STORE_FULL:
		if (strcmp(conf->quarantine.full_action, "hold") == 0)
			return mlfi_hold_queue(ctx, conn, d, text);
		break;
	case MOATD_STORE_FAILED:
	default:
		break;
	}
	msg->store_failed = TRUE;
	smfi_setreply(ctx, "451", "4.3.0", "moat: cannot quarantine the message now, try again later");
	return SMFIS_TEMPFAIL;
}

/* mlfi_apply - carry out the decision; returns the status for the MTA */
static sfsistat
mlfi_apply(SMFICTX *ctx, struct moatd_conn *conn, const struct moatd_decision *d)
{
	g_autofree char *text = mlfi_reply_text(d->reason);

	switch (d->action) {
	case MOAT_ACCEPT:
		/* Not one byte changed, but for X-Moat-* headers a sender forged and
		 * Authentication-Results. */
		return mlfi_drop_forged(ctx, conn->msg) == MI_SUCCESS &&
		    mlfi_auth_headers(ctx, conn, d) == MI_SUCCESS &&
		    mlfi_banner(ctx, conn, d) == MI_SUCCESS ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
	case MOAT_TAG:
		return mlfi_verdict_headers(ctx, conn, d) == MI_SUCCESS &&
		    mlfi_auth_headers(ctx, conn, d) == MI_SUCCESS &&
		    mlfi_banner(ctx, conn, d) == MI_SUCCESS ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
	case MOAT_QUARANTINE:
		return mlfi_quarantine(ctx, conn, d, text);
	case MOAT_REJECT:
		smfi_setreply(ctx, "550", "5.7.1", text);
		return SMFIS_REJECT;
	case MOAT_TEMPFAIL:
	default:
		smfi_setreply(ctx, "451", "4.3.0", text);
		return SMFIS_TEMPFAIL;
	}
}

/* mlfi_auth_summary - " spf=R dkim=R dmarc=R" for the log line (dkim: pass when one passed), or "" */
static char *
mlfi_auth_summary(const struct moat_report *rep)
{
	const struct moat_auth *a = rep != NULL ? rep->auth : NULL;
	enum auth_result dkim = AUTH_NONE;

	if (a == NULL || a->skipped != NULL)
		return g_strdup("");
	for (guint i = 0; i < a->dkim->len && dkim != AUTH_PASS; i++)
		if (i == 0 || ((const struct auth_dkim *)a->dkim->pdata[i])->result == AUTH_PASS)
			dkim = ((const struct auth_dkim *)a->dkim->pdata[i])->result;
	return g_strdup_printf(" spf=%s dkim=%s dmarc=%s", auth_result_name(
	    a->spf_mailfrom.identity ? a->spf_mailfrom.result : a->spf_helo.result),
	    auth_result_name(dkim), auth_result_name(a->dmarc.result));
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct moatd_conn *conn = mlfi_conn(ctx);
	struct moatd_decision d;
	g_autofree char *ids = NULL;
	g_autofree char *from = NULL;
	g_autofree char *auth = NULL;
	enum moat_direction dir;
	const char *allowed;
	gint64 scan_us;
	sfsistat ret;

	if (conn == NULL || conn->msg == NULL)
		return SMFIS_TEMPFAIL;	/* never accept what we did not scan */
	mlfi_queue_id(ctx, conn->msg);
	scan_us = g_get_monotonic_time();
	moatd_msg_decide(&d, conn->msg, mlfi_msg_conf(conn));
	scan_us = g_get_monotonic_time() - scan_us;
	ret = mlfi_apply(ctx, conn, &d);
	if (ret == SMFIS_TEMPFAIL && d.action != MOAT_TEMPFAIL && conn->msg->store_failed) {
		stats_tempfail(STATS_TEMPFAIL_ERROR);	/* moatd_store_put() logged why */
	} else if (ret == SMFIS_TEMPFAIL && d.action != MOAT_TEMPFAIL) {
		moatd_log(conn->msg, LOG_ERR, "the MTA refused a change; tempfail");
		stats_tempfail(STATS_TEMPFAIL_MTA);
	}
	stats_message(ret == SMFIS_TEMPFAIL ? MOAT_TEMPFAIL : d.action, d.report, conn->msg->size,
	    scan_us);
	ids = d.report ? moatd_findings_line(d.report) : g_strdup("");
	dir = d.report ? d.report->verdict.direction : lists_direction(&conn->msg->env,
	    mlfi_msg_conf(conn));
	/* "allowed=sender": the first word of "sender a@b", so the line stays key=value. */
	allowed = d.report && d.report->verdict.allowed ? d.report->verdict.allowed : NULL;
	auth = mlfi_auth_summary(d.report);
	moatd_log(conn->msg, d.action == MOAT_ACCEPT ? LOG_INFO : LOG_NOTICE,
	    "from=<%s> rcpts=%u dir=%s size=%" G_GUINT64_FORMAT " action=%s score=%d findings=%s"
	    "%s%.*s%s%s%s%s%s%s ms=%" G_GINT64_FORMAT,
	    conn->msg->env.mail_from ? conn->msg->env.mail_from : "",
	    conn->msg->env.rcpt_to->len, report_direction_name(dir), conn->msg->size,
	    ret == SMFIS_TEMPFAIL ? "tempfail" : report_action_name(d.action),
	    d.report ? d.report->verdict.score : 0, *ids ? ids : "-", allowed ? " allowed=" : "",
	    allowed ? (int)strcspn(allowed, " ") : 0, allowed ? allowed : "",
	    *conn->msg->quarantine_id ? " quarantine=" : "", conn->msg->quarantine_id,
	    *conn->msg->quarantine_id ? " node=" : "",
	    *conn->msg->quarantine_id ? moatd_store_node() : "", auth,
	    conn->msg->bannered ? " banner=yes" : "",
	    (g_get_monotonic_time() - conn->msg->started) / 1000);
	moatd_decision_clear(&d);
	moatd_msg_free(conn->msg);
	conn->msg = NULL;
	return ret;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn != NULL) {
		moatd_msg_free(conn->msg);
		conn->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct moatd_conn *conn = mlfi_conn(ctx);

	if (conn == NULL)
		return SMFIS_CONTINUE;
	moatd_msg_free(conn->msg);
	moatd_conn_closed();
	g_free(conn->client_addr);
	g_free(conn->helo);
	g_free(conn->raw_helo);
	g_free(conn->auth);
	g_free(conn);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc mlfi_desc = {
	.xxfi_name = "moatd",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST,
	.xxfi_connect = mlfi_connect,
	.xxfi_helo = mlfi_helo,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_negotiate = mlfi_negotiate,
};
