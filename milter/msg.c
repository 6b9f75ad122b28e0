/*
 * msg.c - moatd's message context: spool, header rebuild, decision, poison table
 *
 * In: what the MTA sends (headers, body chunks), the config. Out: the
 * message rebuilt as it will be delivered (CRLF, header spacing restored),
 * kept in memory up to [milter] spool_memory_bytes, beyond that in a temp
 * file (0600, unlinked as soon as it is created, so no path leaks it), and a
 * decision. No libmilter here. A message belongs to one thread; the poison
 * table is shared and locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "moat/auth.h"
#include "moat/banner.h"
#include "moat/lists.h"
#include "moat/moat.h"
#include "moatd.h"
#include "reload.h"
#include "moat/quarantine.h"
#include "moat/scan.h"
#include "moat/sha256.h"
#include "stats.h"

#define POISON_TABLE_MAX 10000	/* digests remembered; the table is cleared past it */

const char *const moatd_header_names[MOATD_NHDR] = {
	"X-Moat-Verdict", "X-Moat-Score", "X-Moat-Findings", BANNER_MARKER_HEADER,
};

static GMutex poison_lock;
static GHashTable *poison_table;	/* sha256 hex -> attempts (GUINT_TO_POINTER) */

struct moatd_msg *
moatd_msg_new(void)
{
	struct moatd_msg *msg = g_new0(struct moatd_msg, 1);

	report_envelope_init(&msg->env);
	msg->raw_rcpts = g_ptr_array_new_with_free_func(g_free);
	msg->ar_ours = g_array_new(FALSE, FALSE, sizeof(guint));
	msg->mem = g_byte_array_new();
	msg->fd = -1;
	msg->body_sum = sha256_new();
	msg->started = g_get_monotonic_time();
	return msg;
}

void
moatd_msg_free(struct moatd_msg *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->queue_id);
	report_envelope_clear(&msg->env);
	g_free(msg->raw_from);
	g_ptr_array_unref(msg->raw_rcpts);
	g_array_unref(msg->ar_ours);
	if (msg->mem != NULL)
		g_byte_array_unref(msg->mem);
	if (msg->fd >= 0)
		close(msg->fd);
	g_free(msg->subject);
	g_free(msg->message_id);
	sha256_free(msg->body_sum);
	moatd_release(msg->conf_ref);	/* a reload may have been waiting for this one */
	g_free(msg);
}

/* moatd_write_all - write LEN bytes to FD; FALSE on failure (errno kept) */
static gboolean
moatd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		p += n;
		len -= (size_t)n;
	}
	return TRUE;
}

/* moatd_spool_to_file - move the message from memory to an unlinked temp file */
static gboolean
moatd_spool_to_file(struct moatd_msg *msg, const struct moat_conf *conf)
{
	g_autofree char *path = g_build_filename(conf->milter.spool_dir, "moatd-XXXXXX", NULL);
	int fd, e;

	if ((fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600)) < 0) {
		e = errno;
		moatd_log(msg, LOG_ERR, "cannot create a spool file in %s: %s", conf->milter.spool_dir,
		    g_strerror(e));
		return FALSE;
	}
	/* Unlinked at once: whatever happens next, nothing is left behind. */
	if (unlink(path) < 0 || !moatd_write_all(fd, msg->mem->data, msg->mem->len)) {
		e = errno;
		moatd_log(msg, LOG_ERR, "spool file in %s: %s", conf->milter.spool_dir, g_strerror(e));
		close(fd);
		return FALSE;
	}
	msg->fd = fd;
	g_byte_array_unref(msg->mem);
	msg->mem = NULL;
	return TRUE;
}

/* moatd_spool - append bytes to the message, in memory while it fits */
static void
moatd_spool(struct moatd_msg *msg, const struct moat_conf *conf, const void *data, size_t len)
{
	if (msg->spool_failed || len == 0)
		return;
	msg->size += len;
	if (msg->mem != NULL && msg->size > conf->milter.spool_memory_bytes &&
	    !moatd_spool_to_file(msg, conf)) {
		msg->spool_failed = TRUE;
		return;
	}
	if (msg->mem != NULL) {
		g_byte_array_append(msg->mem, data, (guint)len);
	} else if (!moatd_write_all(msg->fd, data, len)) {
		int e = errno;

		moatd_log(msg, LOG_ERR, "spool write: %s", g_strerror(e));
		msg->spool_failed = TRUE;
	}
}

void
moatd_msg_header(struct moatd_msg *msg, const struct moat_conf *conf, const char *name,
    const char *value, gboolean leadspc)
{
	GString *line = g_string_sized_new(strlen(name) + strlen(value) + 8);

	for (int i = 0; i < MOATD_NHDR; i++)
		if (g_ascii_strcasecmp(name, moatd_header_names[i]) == 0)
			msg->moat_headers[i]++;
	if (g_ascii_strcasecmp(name, "Authentication-Results") == 0) {
		guint idx = ++msg->ar_seen;

		if (auth_results_ours(value, auth_authserv_id(conf)))
			g_array_append_val(msg->ar_ours, idx);
	}
	if (msg->subject == NULL && g_ascii_strcasecmp(name, "Subject") == 0)
		msg->subject = g_strdup(leadspc && *value == ' ' ? value + 1 : value);
	if (msg->message_id == NULL && g_ascii_strcasecmp(name, "Message-ID") == 0)
		msg->message_id = g_strdup(value);

	g_string_append(line, name);
	g_string_append_c(line, ':');
	if (!leadspc)
		g_string_append_c(line, ' ');	/* the MTA took it; give it back */
	/* Folded lines come with bare LF: the message on the wire has CRLF. */
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			g_string_append_c(line, '\r');
		g_string_append_c(line, *p);
	}
	g_string_append(line, "\r\n");
	moatd_spool(msg, conf, line->str, line->len);
	g_string_free(line, TRUE);
}

void
moatd_msg_eoh(struct moatd_msg *msg, const struct moat_conf *conf)
{
	moatd_spool(msg, conf, "\r\n", 2);
	msg->header_bytes = msg->size;
}

void
moatd_msg_body(struct moatd_msg *msg, const struct moat_conf *conf, const unsigned char *data,
    size_t len)
{
	/* Hashed as it arrives, spooled or not: a failing spool must still count as this message. */
	sha256_update(msg->body_sum, data, len);
	moatd_spool(msg, conf, data, len);
}

/* moatd_msg_stream - the spooled message as a GMime stream (caller unrefs), or NULL */
static GMimeStream *
moatd_msg_stream(struct moatd_msg *msg)
{
	GMimeStream *s;
	int fd;

	if (msg->mem != NULL) {
		s = g_mime_stream_mem_new_with_byte_array(msg->mem);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);	/* MSG keeps it */
		return s;
	}
	/* GMime streams start at the descriptor's offset: rewind the shared one. */
	if (lseek(msg->fd, 0, SEEK_SET) < 0 || (fd = dup(msg->fd)) < 0)
		return NULL;
	if ((s = g_mime_stream_mmap_new(fd, PROT_READ, MAP_PRIVATE)) != NULL) {
		g_mime_stream_mmap_set_owner(GMIME_STREAM_MMAP(s), TRUE);	/* closes FD */
		return s;
	}
	return g_mime_stream_fs_new(fd);
}

/*
 * moatd_msg_digest - what identifies a message across retries, for the
 * poison table: its Message-ID and its body. Not the whole header: Sendmail
 * hands over a Received: line of its own, new on every attempt (Postfix
 * does not show its own to the milter; measured with 3.7). Built from
 * the bytes as they arrived, so it does not need the spool (which may be
 * what failed).
 */
static char *
moatd_msg_digest(struct moatd_msg *msg)
{
	char body[SHA256_HEX_LEN + 1], sum[SHA256_HEX_LEN + 1];
	g_autofree char *key = NULL;

	sha256_peek_hex(msg->body_sum, body);	/* the body may still be growing */
	key = g_strconcat(msg->message_id != NULL ? msg->message_id : "", "\n", body, NULL);
	sha256_hex(key, strlen(key), sum);
	return g_strdup(sum);
}

char *
moatd_msg_key(struct moatd_msg *msg)
{
	char body[SHA256_HEX_LEN + 1];

	sha256_peek_hex(msg->body_sum, body);
	return quar_key(msg->message_id, body, msg->raw_from, msg->raw_rcpts);
}

guint
moatd_poison_count(const char *digest, gboolean reset)
{
	guint n;

	g_mutex_lock(&poison_lock);
	if (poison_table == NULL || g_hash_table_size(poison_table) >= POISON_TABLE_MAX) {
		if (poison_table != NULL)
			g_hash_table_destroy(poison_table);
		poison_table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	}
	n = GPOINTER_TO_UINT(g_hash_table_lookup(poison_table, digest)) + 1;
	if (reset)
		g_hash_table_remove(poison_table, digest);
	else
		g_hash_table_replace(poison_table, g_strdup(digest), GUINT_TO_POINTER(n));
	g_mutex_unlock(&poison_lock);
	return n;
}

char *
moatd_findings_line(const struct moat_report *rep)
{
	GString *out = g_string_new(NULL);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (f->score == 0 || !g_hash_table_add(seen, (gpointer)f->id))
			continue;
		if (out->len > 0)
			g_string_append_c(out, ',');
		g_string_append(out, f->id);
	}
	return g_string_free(out, FALSE);
}

char *
moatd_tagged_subject(const char *subject, const char *tag)
{
	const char *s = subject ? subject : "";

	while (g_ascii_isspace(*s))
		s++;
	if (tag == NULL || *tag == '\0' || g_str_has_prefix(s, tag))
		return NULL;
	return *s ? g_strconcat(tag, " ", s, NULL) : g_strdup(tag);
}

/*
 * moatd_fail - the decision after an internal error: tempfail, or quarantine
 * a poison message. WHY goes into the SMTP reply; DETAIL (may be NULL), the
 * cause a library gave, only into the log.
 */
static void
moatd_fail(struct moatd_decision *d, struct moatd_msg *msg, const struct moat_conf *conf,
    const char *why, const char *detail)
{
	g_autofree char *digest = moatd_msg_digest(msg);
	guint n = moatd_poison_count(digest, FALSE);

	stats_internal_error();
	if (n >= conf->milter.poison_attempts) {
		stats_poison();
		moatd_poison_count(digest, TRUE);
		d->action = MOAT_QUARANTINE;
		d->reason = g_strdup_printf("moat: failed %u times on this message (%s), held", n, why);
	} else {
		stats_tempfail(STATS_TEMPFAIL_ERROR);
		d->action = MOAT_TEMPFAIL;
		d->reason = g_strdup_printf("moat: temporary failure (%s), try again later", why);
	}
	moatd_log(msg, LOG_ERR, "scan failed (%s%s%s), attempt %u of %u", why,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "", n, conf->milter.poison_attempts);
}

void
moatd_msg_decide(struct moatd_decision *d, struct moatd_msg *msg, const struct moat_conf *conf)
{
	GMimeStream *stream;
	g_autofree char *ids = NULL, *err = NULL;
	struct scan_opts opts = { 0 };
	int rc;

	memset(d, 0, sizeof(*d));
	if (msg->spool_failed) {
		moatd_fail(d, msg, conf, "spool", NULL);
		return;
	}
	if ((stream = moatd_msg_stream(msg)) == NULL) {
		moatd_fail(d, msg, conf, "cannot read the spool", NULL);
		return;
	}
	opts.auth = conf->auth.enabled;
	rc = scan_message_opts(&d->report, &err, stream, &msg->env, conf, &opts);
	g_object_unref(stream);
	if (rc < 0) {
		d->report = NULL;
		moatd_fail(d, msg, conf, moat_strerror(rc), err);
		return;
	}
	d->action = d->report->verdict.action;
	ids = moatd_findings_line(d->report);
	switch (d->action) {
	case MOAT_REJECT:
		d->reason = g_strdup_printf("moat: message rejected (%s)", ids);
		break;
	case MOAT_QUARANTINE:
		d->reason = g_strdup_printf("moat: held, score %d (%s)", d->report->verdict.score, ids);
		break;
	default:
		d->reason = g_strdup_printf("moat: score %d (%s)", d->report->verdict.score, ids);
		break;
	}
}

void
moatd_decision_clear(struct moatd_decision *d)
{
	report_free(d->report);
	d->report = NULL;
	g_clear_pointer(&d->reason, g_free);
}

/* moatd_domain_of - the domain of ADDR, or NULL (static: points into ADDR) */
static const char *
moatd_domain_of(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* moatd_protected - whether DOMAIN is one of [auth] protected_domains, or of REP's recipients' when none */
static gboolean
moatd_protected(const struct moat_report *rep, const struct moat_conf *conf, const char *domain)
{
	if (domain == NULL)
		return FALSE;
	if (conf->auth.protected_domains != NULL && conf->auth.protected_domains[0] != NULL)
		return lists_domain_match(conf->auth.protected_domains, domain) != NULL;
	for (guint i = 0; i < rep->env.rcpt_to->len; i++) {
		const char *r = moatd_domain_of(rep->env.rcpt_to->pdata[i]);

		if (r != NULL && g_ascii_strcasecmp(r, domain) == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * moatd_outside - whether REP's message comes from outside the organisation:
 * inbound (not SMTP AUTH, not [outbound] internal_networks), and not from a
 * protected domain that passed DMARC (a forged From in our own domain is outside)
 */
static gboolean
moatd_outside(const struct moat_report *rep, const struct moat_conf *conf)
{
	if (rep->verdict.direction != MOAT_INBOUND)
		return FALSE;
	return !(rep->auth != NULL && rep->auth->dmarc.result == AUTH_PASS &&
	    moatd_protected(rep, conf, rep->auth->dmarc.from_domain));
}

/* moatd_banner_skip - the [banner] skip_domains entry REP's sender or a recipient matches, or NULL */
static const char *
moatd_banner_skip(const struct moat_report *rep, const struct moat_conf *conf)
{
	const char *hit = lists_domain_match(conf->banner.skip_domains,
	    moatd_domain_of(rep->hdr.from_addr));

	for (guint i = 0; hit == NULL && i < rep->env.rcpt_to->len; i++)
		hit = lists_domain_match(conf->banner.skip_domains,
		    moatd_domain_of(rep->env.rcpt_to->pdata[i]));
	return hit;
}

gboolean
moatd_banner(struct banner_result *out, struct moatd_msg *msg, const struct moatd_decision *d,
    const struct moat_conf *conf)
{
	const struct moat_report *rep = d->report;
	struct banner_text text = { 0 };
	g_autofree char *err = NULL;
	GMimeStream *stream;
	gboolean external;
	const char *skip;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!conf->banner.enabled || rep == NULL)
		return FALSE;
	external = d->action == MOAT_ACCEPT && conf->banner.external_notice &&
	    moatd_outside(rep, conf);
	if (d->action != MOAT_TAG && !external)
		return FALSE;
	if ((skip = moatd_banner_skip(rep, conf)) != NULL) {
		moatd_log(msg, LOG_INFO, "no banner: [banner] skip_domains %s", skip);
		return FALSE;
	}
	if (banner_words(&text, &err, rep, conf, external) < 0) {
		moatd_log(msg, LOG_ERR, "no banner: %s", err);
		return FALSE;
	}
	if ((stream = moatd_msg_stream(msg)) == NULL) {
		rc = MOAT_EIO;
	} else {
		rc = banner_rewrite(out, stream, &text);
		g_object_unref(stream);
	}
	banner_text_clear(&text);
	if (rc < 0)
		moatd_log(msg, LOG_ERR, "no banner: %s", moat_strerror(rc));
	else if (out->body == NULL)
		moatd_log(msg, LOG_INFO, "no banner: %s", out->skipped ? out->skipped : "?");
	if (rc == 0 && out->body != NULL)
		return TRUE;
	banner_result_clear(out);	/* the reason, logged */
	return FALSE;
}
