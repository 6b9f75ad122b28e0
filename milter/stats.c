/*
 * stats.c - moatd's counters, rendered as Prometheus text
 *
 * In: events from the connection threads (stats.h). Out: the exposition
 * text served on [milter] status_socket (status.c). One mutex guards every
 * counter; the finding table holds at most STATS_MAX_FINDING_IDS ids, later
 * ids go to "other", so a flood of distinct signature names costs bounded
 * memory. No libmilter here.
 */
#include <string.h>

#include "stats.h"

const guint stats_bucket_ms[STATS_NBUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
};
/* The same bounds as Prometheus writes them, in seconds (no locale in sight). */
static const char *const stats_bucket_le[STATS_NBUCKETS] = {
	"0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "30", "60",
};

static const char *const stats_tempfail_names[STATS_NTEMPFAIL] = { "error", "mta", "shutdown" };
static const char *const stats_quar_names[STATS_NQUAR] = { "stored", "duplicate", "full", "failed" };

static GMutex stats_lock;
static struct {
	gint64 started;			/* g_get_real_time() at stats_reset() */
	guint64 messages[MOAT_TEMPFAIL + 1];
	GHashTable *findings;		/* char *id -> guint64 *count */
	guint64 findings_other;
	guint64 internal_errors;
	guint64 tempfails[STATS_NTEMPFAIL];
	guint64 poison;
	guint64 quar[STATS_NQUAR];
	guint64 quar_purged;
	gboolean quar_down;		/* the last put failed: the store (its database) is down */
	guint64 budget;
	guint64 bytes;
	guint64 connections;
	gint64 connections_open;
	gint64 in_flight;
	guint64 buckets[STATS_NBUCKETS + 1];	/* not cumulative; the last is +Inf */
	guint64 scans;
	guint64 scan_us;
	guint64 reloads_ok, reloads_failed;
	guint64 engine_ok, engine_failed;
	guint signatures;
} st;

void
stats_reset(void)
{
	g_mutex_lock(&stats_lock);
	if (st.findings != NULL)
		g_hash_table_destroy(st.findings);
	memset(&st, 0, sizeof(st));
	st.started = g_get_real_time();
	g_mutex_unlock(&stats_lock);
}

void
stats_connection(gint delta)
{
	g_mutex_lock(&stats_lock);
	if (delta > 0)
		st.connections += (guint)delta;
	st.connections_open += delta;
	g_mutex_unlock(&stats_lock);
}

void
stats_in_flight(gint delta)
{
	g_mutex_lock(&stats_lock);
	st.in_flight += delta;
	g_mutex_unlock(&stats_lock);
}

/* stats_count_finding - one more ID; called locked */
static void
stats_count_finding(const char *id)
{
	g_autofree char *key = g_strndup(id, STATS_FINDING_ID_MAX);
	guint64 *n;

	if (st.findings == NULL)
		st.findings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if ((n = g_hash_table_lookup(st.findings, key)) != NULL) {
		(*n)++;
	} else if (g_hash_table_size(st.findings) < STATS_MAX_FINDING_IDS) {
		n = g_new(guint64, 1);
		*n = 1;
		g_hash_table_insert(st.findings, g_steal_pointer(&key), n);
	} else {
		st.findings_other++;
	}
}

void
stats_message(enum moat_action action, const struct moat_report *rep, guint64 bytes,
    gint64 scan_us)
{
	guint b = 0;

	if (scan_us < 0)
		scan_us = 0;
	while (b < STATS_NBUCKETS && (guint64)scan_us > (guint64)stats_bucket_ms[b] * 1000)
		b++;
	g_mutex_lock(&stats_lock);
	if ((guint)action <= MOAT_TEMPFAIL)
		st.messages[action]++;
	if (rep != NULL) {
		gboolean budget = FALSE;

		for (guint i = 0; i < rep->findings->len; i++) {
			const struct moat_finding *f = rep->findings->pdata[i];

			stats_count_finding(f->id);
			budget |= strcmp(f->id, "scan.budget_exceeded") == 0;
		}
		st.budget += budget;
		st.bytes += bytes;
	}
	st.buckets[b]++;
	st.scans++;
	st.scan_us += (guint64)scan_us;
	g_mutex_unlock(&stats_lock);
}

void
stats_tempfail(enum stats_tempfail why)
{
	g_assert((guint)why < STATS_NTEMPFAIL);
	g_mutex_lock(&stats_lock);
	st.tempfails[why]++;
	g_mutex_unlock(&stats_lock);
}

void
stats_internal_error(void)
{
	g_mutex_lock(&stats_lock);
	st.internal_errors++;
	g_mutex_unlock(&stats_lock);
}

void
stats_poison(void)
{
	g_mutex_lock(&stats_lock);
	st.poison++;
	g_mutex_unlock(&stats_lock);
}

void
stats_quarantine(enum stats_quar result)
{
	g_assert((guint)result < STATS_NQUAR);
	g_mutex_lock(&stats_lock);
	st.quar[result]++;
	if (result != STATS_QUAR_FULL)
		st.quar_down = result == STATS_QUAR_FAILED;
	g_mutex_unlock(&stats_lock);
}

void
stats_quarantine_purged(guint n)
{
	g_mutex_lock(&stats_lock);
	st.quar_purged += n;
	g_mutex_unlock(&stats_lock);
}

void
stats_reload(gboolean ok)
{
	g_mutex_lock(&stats_lock);
	if (ok)
		st.reloads_ok++;
	else
		st.reloads_failed++;
	g_mutex_unlock(&stats_lock);
}

void
stats_engine_reload(gboolean ok)
{
	g_mutex_lock(&stats_lock);
	if (ok)
		st.engine_ok++;
	else
		st.engine_failed++;
	g_mutex_unlock(&stats_lock);
}

void
stats_signatures(guint n)
{
	g_mutex_lock(&stats_lock);
	st.signatures = n;
	g_mutex_unlock(&stats_lock);
}

/*
 * stats_label_value - ID as a label value: printable ASCII only (a
 * signature name could hold anything), then '\' and '"' escaped as the
 * format wants. Appended to OUT.
 */
static void
stats_label_value(GString *out, const char *id)
{
	for (const char *p = id; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			g_string_append_c(out, '\\');
		g_string_append_c(out, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
	}
}

static void
stats_head(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* stats_seconds - µs as seconds with 6 decimals, independent of the locale */
static void
stats_seconds(GString *out, gint64 us)
{
	g_string_append_printf(out, "%" G_GINT64_FORMAT ".%06d", us / G_USEC_PER_SEC,
	    (int)(us % G_USEC_PER_SEC));
}

static gint
stats_cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* stats_render_findings - moat_findings_total, ids sorted; called locked */
static void
stats_render_findings(GString *out)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GHashTableIter it;
	gpointer key;

	stats_head(out, "moat_findings_total", "counter",
	    "Findings in scanned messages, by finding id (at most 1000 ids; later ones count as other).");
	if (st.findings != NULL) {
		g_hash_table_iter_init(&it, st.findings);
		while (g_hash_table_iter_next(&it, &key, NULL))
			g_ptr_array_add(ids, key);
	}
	g_ptr_array_sort(ids, stats_cmp_str);
	for (guint i = 0; i < ids->len; i++) {
		g_string_append(out, "moat_findings_total{id=\"");
		stats_label_value(out, ids->pdata[i]);
		g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n",
		    *(guint64 *)g_hash_table_lookup(st.findings, ids->pdata[i]));
	}
	if (st.findings_other > 0)
		g_string_append_printf(out, "moat_findings_total{id=\"other\"} %" G_GUINT64_FORMAT "\n",
		    st.findings_other);
}

/* stats_render_histogram - moat_scan_duration_seconds; called locked */
static void
stats_render_histogram(GString *out)
{
	guint64 cum = 0;

	stats_head(out, "moat_scan_duration_seconds", "histogram",
	    "Time moatd spent deciding on a message (scan and policy), from end of message.");
	for (guint b = 0; b < STATS_NBUCKETS; b++) {
		cum += st.buckets[b];
		g_string_append_printf(out, "moat_scan_duration_seconds_bucket{le=\"%s\"} %"
		    G_GUINT64_FORMAT "\n", stats_bucket_le[b], cum);
	}
	cum += st.buckets[STATS_NBUCKETS];
	g_string_append_printf(out, "moat_scan_duration_seconds_bucket{le=\"+Inf\"} %"
	    G_GUINT64_FORMAT "\n", cum);
	g_string_append(out, "moat_scan_duration_seconds_sum ");
	stats_seconds(out, (gint64)st.scan_us);
	g_string_append_printf(out, "\nmoat_scan_duration_seconds_count %" G_GUINT64_FORMAT "\n",
	    st.scans);
}

static void
stats_counter(GString *out, const char *name, const char *help, guint64 v)
{
	stats_head(out, name, "counter", help);
	g_string_append_printf(out, "%s %" G_GUINT64_FORMAT "\n", name, v);
}

char *
stats_render(void)
{
	GString *out = g_string_sized_new(4096);

	g_mutex_lock(&stats_lock);
	stats_head(out, "moat_messages_total", "counter",
	    "Messages answered at end of message, by the action the MTA was told.");
	for (int a = MOAT_ACCEPT; a <= MOAT_TEMPFAIL; a++)
		g_string_append_printf(out, "moat_messages_total{action=\"%s\"} %" G_GUINT64_FORMAT "\n",
		    report_action_name((enum moat_action)a), st.messages[a]);
	stats_render_findings(out);
	stats_counter(out, "moat_internal_errors_total",
	    "Messages moatd could not scan (spool, stream or library failure).", st.internal_errors);
	stats_head(out, "moat_tempfails_total", "counter",
	    "4xx answers, by reason: error (internal), mta (a change refused), shutdown (MAIL FROM while draining).");
	for (int r = 0; r < STATS_NTEMPFAIL; r++)
		g_string_append_printf(out, "moat_tempfails_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
		    stats_tempfail_names[r], st.tempfails[r]);
	stats_counter(out, "moat_poison_quarantines_total",
	    "Messages quarantined after [milter] poison_attempts internal errors.", st.poison);
	stats_head(out, "moat_quarantine_total", "counter",
	    "Messages put into the quarantine store: stored, duplicate (a retry of an item stored), "
	    "full ([quarantine] max_bytes reached), failed (the store failed: tempfail).");
	for (int r = 0; r < STATS_NQUAR; r++)
		g_string_append_printf(out, "moat_quarantine_total{result=\"%s\"} %" G_GUINT64_FORMAT
		    "\n", stats_quar_names[r], st.quar[r]);
	stats_head(out, "moat_quarantine_store_up", "gauge",
	    "0 when the last put into the quarantine store failed (its disk or database is down: "
	    "held mail is tempfailed), else 1.");
	g_string_append_printf(out, "moat_quarantine_store_up %d\n", st.quar_down ? 0 : 1);
	stats_counter(out, "moat_quarantine_purged_total",
	    "Items purged from the quarantine store after [quarantine] retention_days.",
	    st.quar_purged);
	stats_counter(out, "moat_budget_exceeded_total",
	    "Messages whose scan ran past [limits] scan_budget_ms (scan.budget_exceeded).", st.budget);
	stats_counter(out, "moat_scanned_bytes_total", "Bytes of the messages scanned.", st.bytes);
	stats_counter(out, "moat_connections_total", "Connections from the MTA.", st.connections);
	stats_head(out, "moat_connections_open", "gauge", "Connections from the MTA open now.");
	g_string_append_printf(out, "moat_connections_open %" G_GINT64_FORMAT "\n", st.connections_open);
	stats_head(out, "moat_messages_in_flight", "gauge",
	    "Messages between MAIL FROM and their end now.");
	g_string_append_printf(out, "moat_messages_in_flight %" G_GINT64_FORMAT "\n", st.in_flight);
	stats_render_histogram(out);
	stats_head(out, "moat_config_reloads_total", "counter",
	    "Config reloads on SIGHUP: ok, or failed (the running config kept).");
	g_string_append_printf(out, "moat_config_reloads_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
	    "moat_config_reloads_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n",
	    st.reloads_ok, st.reloads_failed);
	stats_head(out, "moat_engine_reloads_total", "counter",
	    "libclamav engine rebuilds after start (SIGHUP, changed signature files): ok, or failed "
	    "(the running engine kept, as when a signature directory it has would be lost).");
	g_string_append_printf(out, "moat_engine_reloads_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
	    "moat_engine_reloads_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n",
	    st.engine_ok, st.engine_failed);
	stats_head(out, "moat_signatures", "gauge", "Signatures in the running libclamav engine.");
	g_string_append_printf(out, "moat_signatures %u\n", st.signatures);
	stats_head(out, "moat_start_time_seconds", "gauge", "When moatd started, seconds since the epoch.");
	g_string_append(out, "moat_start_time_seconds ");
	stats_seconds(out, st.started);
	g_string_append_c(out, '\n');
	g_mutex_unlock(&stats_lock);
	return g_string_free(out, FALSE);
}
