/*
 * stats.c - `moat stats`: moatd's counters, read from its status endpoint
 *
 *   moat [-c FILE] stats [--socket SPEC] [--raw]
 *
 * Connects to [milter] status_socket (or SPEC: unix:/path, inet:PORT@HOST),
 * sends GET /metrics and prints a short summary: messages by action, the
 * ten most frequent findings, scan time p50 and p99 estimated from the
 * histogram (linear within a bucket, as Prometheus' histogram_quantile()),
 * messages in flight, uptime. --raw prints the text as served. Exit 0, or
 * 2 with the reason when moatd cannot be reached or answers oddly. Waits at
 * most CMD_STATS_TIMEOUT_MS for each step, reads at most CMD_STATS_MAX bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "moat/sockspec.h"

#define CMD_STATS_TIMEOUT_MS 5000
#define CMD_STATS_MAX (64 << 20)

/* One sample line: name{labels} value. */
struct cmd_sample {
	char *name;
	char *labels;		/* inside the braces, as served; "" when none */
	double value;
};

static void
cmd_sample_free(gpointer p)
{
	struct cmd_sample *s = p;

	g_free(s->name);
	g_free(s->labels);
	g_free(s);
}

/* cmd_stats_wait - FD ready for EVENTS within the timeout; errno ETIMEDOUT when not */
static gboolean
cmd_stats_wait(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	while ((n = poll(&p, 1, CMD_STATS_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0;
}

/* cmd_stats_exchange - send REQ on connected FD, read the answer to EOF into OUT */
static gboolean
cmd_stats_exchange(int fd, const char *req, GString *out)
{
	gsize done = 0, len = strlen(req);
	char buf[65536];
	ssize_t n;

	while (done < len) {
		if (!cmd_stats_wait(fd, POLLOUT))
			return FALSE;
		if ((n = send(fd, req + done, len - done, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return FALSE;
		}
		done += (gsize)n;
	}
	for (;;) {
		if (!cmd_stats_wait(fd, POLLIN))
			return FALSE;
		if ((n = recv(fd, buf, sizeof(buf), 0)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return FALSE;
		}
		if (n == 0)
			return TRUE;
		if (out->len + (gsize)n > CMD_STATS_MAX) {
			errno = EFBIG;
			return FALSE;
		}
		g_string_append_len(out, buf, n);
	}
}

/* cmd_stats_shown - BUF's first line (of LEN bytes), up to 80 bytes, escaped; caller g_free()s */
static char *
cmd_stats_shown(const char *buf, gsize len)
{
	g_autofree char *raw = NULL;
	gsize n = 0;

	while (n < len && n < 80 && buf[n] != '\r' && buf[n] != '\n')
		n++;
	raw = g_strndup(buf, n);
	return g_strescape(raw, NULL);
}

/* cmd_stats_content_length - Content-Length in header lines HDR (LEN bytes); -1: none or no number */
static gint64
cmd_stats_content_length(const char *hdr, gsize len)
{
	static const char name[] = "Content-Length:";
	const char *end = hdr + len, *p, *eol;
	gint64 v = -1;

	for (p = hdr; p < end; p = eol < end ? eol + 1 : end) {
		if ((eol = memchr(p, '\n', (gsize)(end - p))) == NULL)
			eol = end;
		if ((gsize)(eol - p) < sizeof(name) - 1 || g_ascii_strncasecmp(p, name, sizeof(name) - 1) != 0)
			continue;
		for (p += sizeof(name) - 1; p < eol && (*p == ' ' || *p == '\t'); p++)
			;
		for (v = p < eol && g_ascii_isdigit(*p) ? 0 : -1; p < eol && g_ascii_isdigit(*p); p++) {
			if (v > (G_MAXINT64 - 9) / 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		return p == eol ? v : -1;
	}
	return -1;
}

/*
 * cmd_stats_body - the body of the HTTP answer BUF (LEN bytes as received,
 * not NUL-terminated as far as this goes), or NULL with *err set: every
 * read stays within LEN
 */
static char *
cmd_stats_body(char **err, const char *spec, const char *buf, gsize len)
{
	const char *eol = memchr(buf, '\n', len), *end, *body;
	gsize line = eol ? (gsize)(eol - buf) : len, blen;
	g_autofree char *shown = cmd_stats_shown(buf, len);
	gint64 clen;

	if (len == 0) {
		*err = g_strdup_printf("%s closed the connection without an answer", spec);
		return NULL;
	}
	/* "HTTP/1.x NNN" and a reason phrase, or nothing, after a space */
	if (line < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || !g_ascii_isdigit(buf[7]) || buf[8] != ' ' ||
	    !g_ascii_isdigit(buf[9]) || !g_ascii_isdigit(buf[10]) || !g_ascii_isdigit(buf[11]) ||
	    (line > 12 && buf[12] != ' ' && buf[12] != '\r')) {
		*err = g_strdup_printf("%s did not answer in HTTP: '%s'", spec, shown);
		return NULL;
	}
	if (memcmp(buf + 9, "200", 3) != 0) {
		*err = g_strdup_printf("%s answered, but not with the counters: '%s'", spec, shown);
		return NULL;
	}
	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
		*err = g_strdup_printf("%s: the answer ends inside its header (%zu bytes, no blank line)",
		    spec, len);
		return NULL;
	}
	body = end + 4;
	blen = len - (gsize)(body - buf);
	if ((clen = cmd_stats_content_length(buf, (gsize)(end - buf))) >= 0) {
		if ((guint64)clen > blen) {
			*err = g_strdup_printf("%s: the answer was cut short: %zu of %" G_GINT64_FORMAT
			    " body bytes", spec, blen, clen);
			return NULL;
		}
		blen = (gsize)clen;	/* anything after it is not the body */
	}
	if (memchr(body, '\0', blen) != NULL) {
		*err = g_strdup_printf("%s: a NUL byte in the body: not the counters", spec);
		return NULL;
	}
	return g_strndup(body, blen);
}

/* cmd_stats_fetch - the body of GET /metrics at SPEC, or NULL with *err set */
static char *
cmd_stats_fetch(char **err, const char *spec)
{
	g_autoptr(GString) out = g_string_new(NULL);
	struct sockspec ss;
	int fd, e = 0;
	socklen_t elen = sizeof(e);

	if (sockspec_parse(&ss, err, spec) < 0)
		return NULL;
	if ((fd = socket(ss.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (connect(fd, &ss.addr.sa, ss.addrlen) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			goto fail;
		if (!cmd_stats_wait(fd, POLLOUT))
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 || e != 0) {
			errno = e;
			goto fail;
		}
	}
	if (!cmd_stats_exchange(fd, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n"
	    "Accept: text/plain; version=0.0.4\r\n\r\n", out))
		goto fail;
	close(fd);
	return cmd_stats_body(err, spec, out->str, out->len);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	*err = g_strdup_printf("cannot reach moatd at %s: %s (is moatd running, with [milter] "
	    "status_socket set to this?)", spec, g_strerror(e));
	return NULL;
}

/* cmd_stats_parse - the sample lines of TEXT; comments and odd lines are skipped */
static GPtrArray *
cmd_stats_parse(const char *text)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(cmd_sample_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (gsize i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i], *p = l, *lab = NULL, *end;
		struct cmd_sample *s;
		gsize lablen = 0;
		char *stop;

		if (*l == '#' || *l == '\0')
			continue;
		p += strcspn(p, "{ ");
		if (*p == '{') {
			gboolean quoted = FALSE;

			lab = p + 1;
			for (end = lab; *end != '\0' && (quoted || *end != '}'); end++) {
				if (*end == '\\' && end[1] != '\0')
					end++;
				else if (*end == '"')
					quoted = !quoted;
			}
			if (*end != '}')
				continue;
			lablen = (gsize)(end - lab);
			p = end + 1;
		}
		s = g_new0(struct cmd_sample, 1);
		s->name = g_strndup(l, (gsize)(lab ? lab - 1 - l : p - l));
		s->labels = lab ? g_strndup(lab, lablen) : g_strdup("");
		while (*p == ' ')
			p++;
		s->value = g_str_has_prefix(p, "+Inf") ? INFINITY : g_ascii_strtod(p, &stop);
		g_ptr_array_add(out, s);
	}
	return out;
}

/* cmd_label - the value of label KEY in LABELS, unescaped (caller g_free()s), or NULL */
static char *
cmd_label(const char *labels, const char *key)
{
	g_autofree char *pat = g_strdup_printf("%s=\"", key);
	const char *p = labels;
	GString *v;

	while ((p = strstr(p, pat)) != NULL && p != labels && p[-1] != ',')
		p++;
	if (p == NULL)
		return NULL;
	v = g_string_new(NULL);
	for (p += strlen(pat); *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			g_string_append_c(v, *p == 'n' ? '\n' : *p);
		} else {
			g_string_append_c(v, *p);
		}
	}
	return g_string_free(v, FALSE);
}

/* cmd_sum - the sum of the samples NAME with label KEY=VAL (KEY NULL: all of them) */
static double
cmd_sum(GPtrArray *samples, const char *name, const char *key, const char *val)
{
	double sum = 0;

	for (guint i = 0; i < samples->len; i++) {
		const struct cmd_sample *s = samples->pdata[i];
		g_autofree char *v = NULL;

		if (strcmp(s->name, name) != 0)
			continue;
		if (key != NULL && ((v = cmd_label(s->labels, key)) == NULL || strcmp(v, val) != 0))
			continue;
		sum += s->value;
	}
	return sum;
}

struct cmd_bucket {
	double le;
	double count;		/* cumulative */
};

static gint
cmd_bucket_cmp(gconstpointer a, gconstpointer b)
{
	double x = ((const struct cmd_bucket *)a)->le, y = ((const struct cmd_bucket *)b)->le;

	return x < y ? -1 : x > y;
}

/*
 * cmd_quantile - the Q quantile (0..1) of histogram NAME in seconds, linear
 * within its bucket; NAN without observations; the highest finite bound
 * when it falls in the +Inf bucket (*above set)
 */
static double
cmd_quantile(GPtrArray *samples, const char *name, double q, gboolean *above)
{
	g_autofree char *bname = g_strconcat(name, "_bucket", NULL);
	g_autoptr(GArray) b = g_array_new(FALSE, FALSE, sizeof(struct cmd_bucket));
	double rank, lo = 0, prev = 0;

	*above = FALSE;
	for (guint i = 0; i < samples->len; i++) {
		const struct cmd_sample *s = samples->pdata[i];
		g_autofree char *le = NULL;
		struct cmd_bucket k;

		if (strcmp(s->name, bname) != 0 || (le = cmd_label(s->labels, "le")) == NULL)
			continue;
		k.le = strcmp(le, "+Inf") == 0 ? INFINITY : g_ascii_strtod(le, NULL);
		k.count = s->value;
		g_array_append_val(b, k);
	}
	g_array_sort(b, cmd_bucket_cmp);
	if (b->len == 0 || g_array_index(b, struct cmd_bucket, b->len - 1).count <= 0)
		return NAN;
	rank = q * g_array_index(b, struct cmd_bucket, b->len - 1).count;
	for (guint i = 0; i < b->len; i++) {
		const struct cmd_bucket *k = &g_array_index(b, struct cmd_bucket, i);

		if (k->count >= rank && k->count > prev) {
			if (isinf(k->le)) {
				*above = TRUE;
				return lo;
			}
			return lo + (k->le - lo) * (rank - prev) / (k->count - prev);
		}
		lo = k->le;
		prev = k->count;
	}
	return lo;
}

static void
cmd_print_quantile(const char *label, double secs, gboolean above)
{
	double ms = secs * 1000;

	if (isnan(secs))
		printf("%s -", label);
	else
		printf("%s %s%.*f ms", label, above ? ">" : "~", ms < 10 ? 1 : 0, ms);
}

static gint
cmd_finding_cmp(gconstpointer a, gconstpointer b)
{
	const struct cmd_sample *x = *(const struct cmd_sample *const *)a;
	const struct cmd_sample *y = *(const struct cmd_sample *const *)b;

	return x->value < y->value ? 1 : x->value > y->value ? -1 : strcmp(x->labels, y->labels);
}

/* cmd_stats_print - the human summary of SAMPLES read from SPEC */
static void
cmd_stats_print(GPtrArray *samples, const char *spec)
{
	static const char *const actions[] = { "accept", "tag", "quarantine", "reject", "tempfail" };
	g_autoptr(GPtrArray) top = g_ptr_array_new();
	double started = cmd_sum(samples, "moat_start_time_seconds", NULL, NULL);
	gint64 up = started > 0 ? g_get_real_time() / G_USEC_PER_SEC - (gint64)started : 0;
	gboolean above50, above99;
	double p50 = cmd_quantile(samples, "moat_scan_duration_seconds", 0.5, &above50);
	double p99 = cmd_quantile(samples, "moat_scan_duration_seconds", 0.99, &above99);

	printf("moatd at %s, up %" G_GINT64_FORMAT "d %02d:%02d:%02d\n", spec, up / 86400,
	    (int)(up / 3600 % 24), (int)(up / 60 % 60), (int)(up % 60));
	printf("messages     %.0f:", cmd_sum(samples, "moat_messages_total", NULL, NULL));
	for (gsize i = 0; i < G_N_ELEMENTS(actions); i++)
		printf(" %s %.0f%s", actions[i], cmd_sum(samples, "moat_messages_total", "action",
		    actions[i]), i + 1 < G_N_ELEMENTS(actions) ? "," : "\n");
	printf("in flight    %.0f (connections: %.0f open, %.0f since start)\n",
	    cmd_sum(samples, "moat_messages_in_flight", NULL, NULL),
	    cmd_sum(samples, "moat_connections_open", NULL, NULL),
	    cmd_sum(samples, "moat_connections_total", NULL, NULL));
	cmd_print_quantile("scan time    p50", p50, above50);
	cmd_print_quantile(", p99", p99, above99);
	printf(" (%.0f scans, %.1f MiB)\n", cmd_sum(samples, "moat_scan_duration_seconds_count",
	    NULL, NULL), cmd_sum(samples, "moat_scanned_bytes_total", NULL, NULL) / 1048576.0);
	printf("trouble      %.0f internal errors, %.0f tempfails (error %.0f, mta %.0f, shutdown "
	    "%.0f), %.0f poison quarantines, %.0f over budget\n",
	    cmd_sum(samples, "moat_internal_errors_total", NULL, NULL),
	    cmd_sum(samples, "moat_tempfails_total", NULL, NULL),
	    cmd_sum(samples, "moat_tempfails_total", "reason", "error"),
	    cmd_sum(samples, "moat_tempfails_total", "reason", "mta"),
	    cmd_sum(samples, "moat_tempfails_total", "reason", "shutdown"),
	    cmd_sum(samples, "moat_poison_quarantines_total", NULL, NULL),
	    cmd_sum(samples, "moat_budget_exceeded_total", NULL, NULL));
	if (cmd_sum(samples, "moat_quarantine_total", NULL, NULL) > 0 ||
	    cmd_sum(samples, "moat_quarantine_store_up", NULL, NULL) == 0)
		printf("quarantine   %s: %.0f stored, %.0f retries, %.0f full, %.0f failed, "
		    "%.0f purged\n", cmd_sum(samples, "moat_quarantine_store_up", NULL, NULL) == 0 ?
		    "DOWN (the last put failed: held mail is tempfailed)" : "up",
		    cmd_sum(samples, "moat_quarantine_total", "result", "stored"),
		    cmd_sum(samples, "moat_quarantine_total", "result", "duplicate"),
		    cmd_sum(samples, "moat_quarantine_total", "result", "full"),
		    cmd_sum(samples, "moat_quarantine_total", "result", "failed"),
		    cmd_sum(samples, "moat_quarantine_purged_total", NULL, NULL));
	printf("reloads      %.0f ok, %.0f failed\n",
	    cmd_sum(samples, "moat_config_reloads_total", "result", "ok"),
	    cmd_sum(samples, "moat_config_reloads_total", "result", "failed"));
	for (guint i = 0; i < samples->len; i++) {
		struct cmd_sample *s = samples->pdata[i];

		if (strcmp(s->name, "moat_findings_total") == 0 && s->value > 0)
			g_ptr_array_add(top, s);
	}
	g_ptr_array_sort(top, cmd_finding_cmp);
	printf("findings     %s\n", top->len == 0 ? "none" : "(the ten most frequent)");
	for (guint i = 0; i < top->len && i < 10; i++) {
		const struct cmd_sample *s = top->pdata[i];
		g_autofree char *id = cmd_label(s->labels, "id");

		printf("  %10.0f  %s\n", s->value, id ? id : "?");
	}
}

int
cmd_stats(const struct moat_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = conf->milter.status_socket;
	g_autofree char *body = NULL, *err = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	gboolean raw = FALSE;
	int ch;

	optind = 0;	/* as in cmd_scan: forget main()'s "+" */
	while ((ch = getopt_long(argc, argv, "s:rh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': spec = optarg; break;
		case 'r': raw = TRUE; break;
		case 'h':
			printf("usage: moat [-c FILE] stats [--socket SPEC] [--raw]\n");
			return 0;
		default:
			fprintf(stderr, "usage: moat [-c FILE] stats [--socket SPEC] [--raw]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: moat [-c FILE] stats [--socket SPEC] [--raw]\n");
		return 2;
	}
	if (*spec == '\0') {
		fprintf(stderr, "moat stats: [milter] status_socket is empty: moatd serves no counters "
		    "(give --socket SPEC)\n");
		return 2;
	}
	if ((body = cmd_stats_fetch(&err, spec)) == NULL) {
		fprintf(stderr, "moat stats: %s\n", err);
		return 2;
	}
	if (raw) {
		fputs(body, stdout);
		return 0;
	}
	samples = cmd_stats_parse(body);
	if (cmd_sum(samples, "moat_start_time_seconds", NULL, NULL) <= 0) {
		fprintf(stderr, "moat stats: %s: no moat_start_time_seconds: not moatd's counters\n",
		    spec);
		return 2;
	}
	cmd_stats_print(samples, spec);
	return 0;
}
