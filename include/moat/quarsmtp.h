/*
 * quarsmtp.h - hand a released quarantined message back to the MTA over SMTP
 *
 * One plain-TCP SMTP session per release, to a local listener that runs no
 * milters (Postfix: a second smtpd in master.cf with smtpd_milters empty),
 * so the message is not held again. No TLS, no AUTH, no PIPELINING: one
 * command, one reply. A release is all or nothing: when the server refuses
 * any recipient the transaction is reset and nothing is delivered.
 *
 * The message goes out as it was stored, with line ends made CRLF and lines
 * dot-stuffed on the way (RFC 5321 4.5.2); it is read in pieces, never
 * whole, so a message of tens of MB costs about 200 KiB of memory.
 *
 * Blocking: each connect, each reply and each write that makes no progress
 * waits at most timeout_seconds. Reentrant; no signals are raised (a closed
 * peer gives an error, not SIGPIPE). Texts from the server put into *reply
 * and *err have control characters replaced by '?' and are cut at about
 * 512 bytes.
 */
#ifndef MOAT_QUARSMTP_H
#define MOAT_QUARSMTP_H

#include <glib.h>

/* One delivery. Every pointer is borrowed for the call only. */
struct quar_smtp_job {
	const char *host_port;		/* "host:port", "[v6addr]:port", "name:port" */
	const char *helo;		/* EHLO name */
	guint timeout_seconds;		/* per read/write/connect */
	const char *mail_from;		/* raw envelope sender; "" is the null sender <> */
	const char *const *rcpts;	/* raw envelope recipients */
	guint n_rcpts;
	const char *prepend;		/* header lines put before the message, each ending CRLF, or NULL */
	int fd;				/* the message: read with pread from offset 0 to EOF */
	/*
	 * header fields whose name starts with this (any case) are left out,
	 * with their folded lines, or NULL: a release drops the X-Moat-*
	 * verdict headers a sender forged, as moatd does on delivery. Only in
	 * the first QUAR_SMTP_HEADER_MAX bytes; a header section longer than
	 * that goes as it is (moatd flags such a message mime.long_header).
	 */
	const char *drop_prefix;
};

#define QUAR_SMTP_HEADER_MAX (8 << 20)

/*
 * quar_smtp_send - deliver JOB; on success *REPLY = the server's final reply to the
 * end of DATA ("250 2.0.0 Ok: queued as 4Xyz"), caller g_free()s. Returns 0, or a
 * negative MOAT_E* code (include/moat/moat.h: MOAT_EIO for network/protocol/refusal,
 * MOAT_EINVAL for a bad host_port) with *ERR saying what happened, e.g.
 * "127.0.0.1:10026: RCPT TO:<x@y>: 550 5.1.1 <x@y>: Recipient address rejected"
 *
 * Addresses may come with or without their <>. MOAT_EINVAL also when JOB
 * itself is unusable: no recipient, a timeout of 0, an address holding a
 * control character (it would smuggle in a command), a name that does not
 * exist (a DNS failure that may pass is MOAT_EIO). MOAT_EIO when the
 * message file cannot be read. *REPLY is set only
 * on success and *ERR only on failure; the fd is never closed or moved.
 */
int quar_smtp_send(char **reply, char **err, const struct quar_smtp_job *job);

#endif
