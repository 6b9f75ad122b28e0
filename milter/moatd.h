/*
 * moatd.h - the milter daemon's core: message context, spool, decision
 *
 * Everything here is free of libmilter, so tests and fuzzers can drive a
 * message through it: milter/mlfi.c only copies what the MTA says into a
 * struct moatd_msg, asks moatd_msg_decide() and applies the answer.
 *
 * A struct moatd_msg belongs to one connection thread. The config and the
 * poison table are shared: the config is read-only, the table is locked.
 */
#ifndef MOAT_MOATD_H
#define MOAT_MOATD_H

#include <stdarg.h>
#include <glib.h>

#include "moat/conf.h"
#include "moat/quarantine.h"
#include "moat/report.h"

struct moatd_conf_ref;
struct sha256;			/* moat/sha256.h */

/* One message as the MTA hands it over, rebuilt as it will be delivered. */
struct moatd_msg {
	char *queue_id;			/* {i}, NULL until the MTA sends it */
	struct moat_envelope env;	/* MAIL FROM, RCPT TO, client, HELO (cleaned for display) */
	char *raw_from;			/* MAIL FROM as the MTA gave it, without <> (a release uses it) */
	GPtrArray *raw_rcpts;		/* RCPT TO as given, without <>, char * owned */
	GByteArray *mem;		/* the message while it fits in memory */
	int fd;				/* else an unlinked temp file, or -1 */
	guint64 size;			/* bytes spooled */
	gboolean spool_failed;		/* a write failed: tempfail at the end */
	char *subject;			/* first Subject value as received, or NULL */
	char *message_id;		/* first Message-ID value, or NULL */
	guint64 header_bytes;		/* where the body starts in the spool */
	guint moat_headers[4];		/* X-Moat-Verdict, -Score, -Findings, -Banner seen */
	guint ar_seen;			/* Authentication-Results headers seen */
	GArray *ar_ours;		/* guint: their indexes (1-based) that claim our
					 * authserv-id: forged, deleted at the end (RFC 8601 §5) */
	struct sha256 *body_sum;	/* SHA-256 of the body as received (poison key), owned */
	gint64 started;			/* monotonic µs at MAIL FROM */
	struct moatd_conf_ref *conf_ref;	/* the config it was admitted with (reload.h), or NULL */
	char quarantine_id[QUAR_ID_LEN + 1];	/* the store's item, "" when not stored */
	gboolean store_failed;		/* the store could not take it: tempfailed for that */
	gboolean bannered;		/* the body got a banner (moatd_banner()) */
};

/*
 * Indexes into moat_headers[], and the names moatd writes: the verdict's
 * three on tagged mail, the banner's marker on bannered mail. A sender's
 * copies of any of them are deleted.
 */
enum { MOATD_HDR_VERDICT, MOATD_HDR_SCORE, MOATD_HDR_FINDINGS, MOATD_NVERDICT,
	MOATD_HDR_BANNER = MOATD_NVERDICT, MOATD_NHDR };
extern const char *const moatd_header_names[MOATD_NHDR];

/* What moatd_msg_decide() concluded. */
struct moatd_decision {
	enum moat_action action;
	struct moat_report *report;	/* owned; NULL when the scan failed */
	char *reason;			/* one line for the SMTP reply / quarantine, owned */
};

/* moatd_msg_new - an empty message context; free with moatd_msg_free() */
struct moatd_msg *moatd_msg_new(void);
/* moatd_msg_free - release MSG, its spool and its config (moatd_release()); NULL is a no-op */
void moatd_msg_free(struct moatd_msg *msg);

/*
 * moatd_msg_header - append one header as received. VALUE has its leading
 * blank when LEADSPC is true (SMFIP_HDR_LEADSPC), and folds with bare LF;
 * the spool gets "Name:value" with CRLF restored. Counts X-Moat-* headers.
 */
void moatd_msg_header(struct moatd_msg *msg, const struct moat_conf *conf,
    const char *name, const char *value, gboolean leadspc);
/* moatd_msg_eoh - the blank line between header and body */
void moatd_msg_eoh(struct moatd_msg *msg, const struct moat_conf *conf);
/* moatd_msg_body - append body bytes as received (CRLF line ends) */
void moatd_msg_body(struct moatd_msg *msg, const struct moat_conf *conf,
    const unsigned char *data, size_t len);

/*
 * moatd_msg_decide - scan the spooled message and fill *D (release with
 * moatd_decision_clear()). Never fails: an internal error gives
 * MOAT_TEMPFAIL, or MOAT_QUARANTINE once the same message has failed
 * conf->milter.poison_attempts times (both counted in stats.h).
 */
void moatd_msg_decide(struct moatd_decision *d, struct moatd_msg *msg,
    const struct moat_conf *conf);
void moatd_decision_clear(struct moatd_decision *d);

/*
 * moatd_poison_count - count one more internal failure of the message whose
 * SHA-256 is DIGEST and return the count; RESET forgets the message. Locked.
 */
guint moatd_poison_count(const char *digest, gboolean reset);

/*
 * moatd_msg_key - what makes a retry of MSG the same quarantine item
 * (quar_key(): Message-ID, body digest, raw envelope); caller g_free()s
 */
char *moatd_msg_key(struct moatd_msg *msg);

struct banner_result;

/*
 * moatd_banner - whether D's message gets a banner ([banner]: tagged mail,
 * or the external-sender notice on accepted inbound mail from outside)
 * and, when it does, the rewritten body and header changes in *OUT
 * (release with banner_result_clear()). Returns TRUE when OUT->body is
 * set; FALSE when the message stays as it is (OUT then holds nothing),
 * with the reason logged when it was meant to get one (signed, a skip
 * domain, already bannered).
 */
gboolean moatd_banner(struct banner_result *out, struct moatd_msg *msg,
    const struct moatd_decision *d, const struct moat_conf *conf);

/* moatd_findings_line - "id1,id2" of the scoring findings; caller g_free()s */
char *moatd_findings_line(const struct moat_report *rep);

/* moatd_tagged_subject - SUBJECT with TAG put before it, or NULL when it already has it */
char *moatd_tagged_subject(const char *subject, const char *tag);

/*
 * moatd_log - one log line about MSG, starting with its queue id (NOQUEUE
 * before the MTA gave one): syslog, or stderr in the foreground.
 */
void moatd_log_init(gboolean foreground);
void moatd_log(const struct moatd_msg *msg, int level, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

#endif
