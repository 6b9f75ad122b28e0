/*
 * quarantine.c - `moat quarantine`: the admin's view of moat's quarantine store
 *
 *   list [--since T] [--until T] [--from ADDR] [--rcpt ADDR] [--finding ID]
 *        [--status held|releasing|released|deleted|all] [--limit N] [--json]
 *   show ID [--json]          envelope, headers, findings, attachment tree, history
 *   release ID [--to RCPT]... re-inject over SMTP to [quarantine] release_host
 *   delete ID                 remove the message, keep its row and history
 *   purge [--older-than DAYS] remove items for good (default: retention_days)
 *   export ID                 the message as stored, byte for byte, on stdout
 *   migrate                   bring the store's schema to this moat's (makes a new store)
 *
 * Only root, moatd's user ([milter] user) and members of [quarantine]
 * admin_group may use it; root becomes moatd's user before it opens the
 * store, so that no file in it is ever created by another owner. Every
 * change is in the item's history and in syslog (mail facility) with the
 * admin's login; release and delete are quarantine/release.c's, the same
 * steps as moat-web's. Nothing here executes or renders a message: show
 * prints what the scan recorded, export hands the bytes over as they are.
 *
 * Exit status: 0 done; 1 the item is not there or not in a state for it
 * (unknown id, already released, delivery refused); 2 usage, config,
 * permission or store error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "cmd.h"
#include "moat/moat.h"
#include "moat/quarantine.h"
#include "moat/release.h"

enum { QEXIT_OK = 0, QEXIT_STATE = 1, QEXIT_ERROR = 2 };

/* qcmd_exit - the exit status for a MOAT_E* code */
static int
qcmd_exit(int rc)
{
	if (rc == 0)
		return QEXIT_OK;
	return rc == MOAT_ENOENT || rc == MOAT_EBUSY ? QEXIT_STATE : QEXIT_ERROR;
}

/*
 * qcmd_who - the admin's login: the sudo user behind root, else the real
 * user. It goes into history, syslog and the X-Moat-Released line: a
 * SUDO_USER that is not a plain login name is not believed.
 */
static char *
qcmd_who(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd pw, *res = NULL;
	char buf[4096];
	gboolean plain = sudo != NULL && *sudo != '\0' && strlen(sudo) <= 64;

	for (const char *p = sudo; plain && *p != '\0'; p++)
		plain = g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-' || *p == '@';
	if (getuid() == 0 && plain)
		return g_strdup(sudo);
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		return g_strdup(pw.pw_name);
	return g_strdup_printf("uid %u", (unsigned)getuid());
}

/* qcmd_in_group - whether this process has group GID */
static gboolean
qcmd_in_group(gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(G_N_ELEMENTS(groups), groups);

	if (getegid() == gid)
		return TRUE;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return TRUE;
	return FALSE;
}

/*
 * qcmd_become - root becomes moatd's user; anyone else must be that user or
 * in admin_group. 0, or MOAT_EPERM with the reason printed.
 */
static int
qcmd_become(const struct moat_conf *conf)
{
	const char *user = conf->milter.user, *group = conf->quarantine.admin_group;
	struct passwd pw, *pres = NULL;
	struct group gr, *gres = NULL;
	char pbuf[4096], gbuf[4096];

	if (*user != '\0' && (getpwnam_r(user, &pw, pbuf, sizeof(pbuf), &pres) != 0 || pres == NULL)) {
		fprintf(stderr, "moat quarantine: [milter] user: no user '%s'\n", user);
		return MOAT_EPERM;
	}
	if (geteuid() == 0) {
		if (pres == NULL)
			return 0;	/* moatd stays root too ([milter] user empty) */
		if (initgroups(pw.pw_name, pw.pw_gid) < 0 || setgid(pw.pw_gid) < 0 ||
		    setuid(pw.pw_uid) < 0) {
			int e = errno;

			fprintf(stderr, "moat quarantine: cannot become %s: %s\n", user, g_strerror(e));
			return MOAT_EPERM;
		}
		/* libpq reads ~/.pgpass: moatd's, not root's */
		g_setenv("HOME", pw.pw_dir, TRUE);
		return 0;
	}
	if (pres != NULL && geteuid() == pw.pw_uid)
		return 0;
	if (*group != '\0' && getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &gres) == 0 && gres != NULL &&
	    qcmd_in_group(gr.gr_gid))
		return 0;
	fprintf(stderr, "moat quarantine: only root, %s%s%s%s may use the quarantine\n",
	    *user != '\0' ? user : "moatd's user", *group != '\0' ? " and members of group " : "",
	    group, *group != '\0' ? "" : " ([quarantine] admin_group names no group)");
	return MOAT_EPERM;
}

/* qcmd_clean - S for a terminal: control characters as '?', valid UTF-8, at most MAX characters */
static char *
qcmd_clean(const char *s, glong max)
{
	g_autofree char *v = g_utf8_make_valid(s != NULL ? s : "", -1);
	GString *out = g_string_new(NULL);
	glong n = 0;

	for (const char *p = v; *p != '\0' && (max <= 0 || n < max); p = g_utf8_next_char(p), n++) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x202e || c == 0x202d)
			g_string_append_c(out, '?');
		else
			g_string_append_unichar(out, c);
	}
	if (max > 0 && g_utf8_strlen(v, -1) > max)
		g_string_append(out, "…");
	return g_string_free(out, FALSE);
}

/* qcmd_time - T (seconds) as "2026-12-06 23:54:28" UTC; caller g_free()s */
static char *
qcmd_time(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);

	return dt != NULL ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
}

/*
 * qcmd_parse_time - "2026-12-01", "2026-12-01 08:00[:00]" (UTC), "36h" or
 * "7d" (ago), or seconds since the epoch; -1 when it is none of them
 */
static gint64
qcmd_parse_time(const char *s)
{
	g_autoptr(GDateTime) dt = NULL;
	g_autofree char *iso = NULL;
	char *end = NULL;
	gint64 v;

	if (g_ascii_isdigit(*s)) {
		v = g_ascii_strtoll(s, &end, 10);
		if (*end == '\0')
			return v;
		if ((*end == 'h' || *end == 'd') && end[1] == '\0')
			return g_get_real_time() / G_USEC_PER_SEC - v * (*end == 'h' ? 3600 : 86400);
	}
	if (strlen(s) == 10)
		iso = g_strconcat(s, "T00:00:00Z", NULL);
	else if (strlen(s) == 16 || strlen(s) == 19)
		iso = g_strdup_printf("%.10sT%s%sZ", s, s + 11, strlen(s) == 16 ? ":00" : "");
	else
		return -1;
	if ((dt = g_date_time_new_from_iso8601(iso, NULL)) == NULL)
		return -1;
	return g_date_time_to_unix(dt);
}

/* qcmd_item_json - ITEM as a JSON object in B (strings made valid UTF-8) */
static void
qcmd_item_json(JsonBuilder *b, const struct quar_item *it)
{
	const char *keys[] = { "queue_id", "client_addr", "helo", "mail_from", "header_from", "subject",
		"message_id", "action", "findings" };
	const char *vals[] = { it->queue_id, it->client_addr, it->helo, it->mail_from,
		it->header_from, it->subject, it->message_id, it->action, it->findings };
	g_autofree char *when = qcmd_time(it->time);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_string_value(b, it->id);
	json_builder_set_member_name(b, "time");
	json_builder_add_int_value(b, it->time);
	json_builder_set_member_name(b, "time_utc");
	json_builder_add_string_value(b, when);
	json_builder_set_member_name(b, "status");
	json_builder_add_string_value(b, quar_status_name(it->status));
	json_builder_set_member_name(b, "node");
	json_builder_add_string_value(b, it->node != NULL ? it->node : "");
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_autofree char *v = g_utf8_make_valid(vals[i], -1);

		json_builder_set_member_name(b, keys[i]);
		json_builder_add_string_value(b, v);
	}
	json_builder_set_member_name(b, "rcpts");
	json_builder_begin_array(b);
	for (guint i = 0; i < it->rcpts->len; i++) {
		g_autofree char *v = g_utf8_make_valid(it->rcpts->pdata[i], -1);

		json_builder_add_string_value(b, v);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "size");
	json_builder_add_int_value(b, (gint64)it->size);
	json_builder_set_member_name(b, "score");
	json_builder_add_int_value(b, it->score);
	json_builder_end_object(b);
}

/* qcmd_print_json - B's root, pretty, on stdout */
static void
qcmd_print_json(JsonBuilder *b)
{
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
}

/* qcmd_rcpts - the recipients joined by ", " */
static char *
qcmd_rcpts(const GPtrArray *rcpts)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < rcpts->len; i++)
		g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", (const char *)rcpts->pdata[i]);
	return g_string_free(s, FALSE);
}

static int
qcmd_list(struct quar *q, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' }, { "rcpt", required_argument, NULL, 'r' },
		{ "finding", required_argument, NULL, 'i' }, { "status", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'l' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	/* the index alone: neither the table nor --json prints the report */
	struct quar_filter f = { .status = QUAR_HELD, .without_report = TRUE };
	g_autoptr(GPtrArray) items = NULL;
	g_autofree char *err = NULL;
	gboolean json = FALSE;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
		case 'u':
			if (qcmd_parse_time(optarg) < 0) {
				fprintf(stderr, "moat quarantine list: --%s %s: a date (2026-12-01, "
				    "'2026-12-01 08:00', UTC), 36h, 7d or epoch seconds\n",
				    ch == 's' ? "since" : "until", optarg);
				return QEXIT_ERROR;
			}
			*(ch == 's' ? &f.since : &f.until) = qcmd_parse_time(optarg);
			break;
		case 'f': f.sender = optarg; break;
		case 'r': f.recipient = optarg; break;
		case 'i': f.finding = optarg; break;
		case 'S':
			f.status = strcmp(optarg, "all") == 0 ? -1 : quar_status_parse(optarg);
			if (f.status < 0 && strcmp(optarg, "all") != 0) {
				fprintf(stderr, "moat quarantine list: --status %s: held, releasing, "
				    "released, deleted or all\n", optarg);
				return QEXIT_ERROR;
			}
			break;
		case 'l': f.limit = (guint)g_ascii_strtoull(optarg, NULL, 10); break;
		case 'j': json = TRUE; break;
		default: return QEXIT_ERROR;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "moat quarantine list: unexpected '%s'\n", argv[optind]);
		return QEXIT_ERROR;
	}
	if ((rc = quar_list(q, &items, &err, &f)) < 0) {
		fprintf(stderr, "moat quarantine list: %s\n", err);
		return QEXIT_ERROR;
	}
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();

		json_builder_begin_array(b);
		for (guint i = 0; i < items->len; i++)
			qcmd_item_json(b, items->pdata[i]);
		json_builder_end_array(b);
		qcmd_print_json(b);
		return QEXIT_OK;
	}
	printf("%-22s  %-19s  %-9s  %5s  %-28s  %-28s  %s\n", "ID", "STORED (UTC)", "STATUS",
	    "SCORE", "FROM", "TO", "SUBJECT");
	for (guint i = 0; i < items->len; i++) {
		const struct quar_item *it = items->pdata[i];
		g_autofree char *when = qcmd_time(it->time), *to = qcmd_rcpts(it->rcpts);
		g_autofree char *from = qcmd_clean(*it->mail_from ? it->mail_from : "<>", 28);
		g_autofree char *rc_ = qcmd_clean(to, 28), *subj = qcmd_clean(it->subject, 50);

		printf("%-22s  %-19s  %-9s  %5d  %-28s  %-28s  %s\n", it->id, when,
		    quar_status_name(it->status), it->score, from, rc_, subj);
	}
	fflush(stdout);		/* the count after the table, on a terminal too */
	fprintf(stderr, "%u item%s\n", items->len, items->len == 1 ? "" : "s");
	return QEXIT_OK;
}

/* qcmd_member_str - member NAME of object O as a string, "" when absent or not a string */
static const char *
qcmd_member_str(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ?
	    json_node_get_string(n) : "";
}

/* qcmd_show_report - findings and the attachment tree from the stored report JSON */
static void
qcmd_show_report(const char *report_json)
{
	g_autoptr(JsonParser) p = json_parser_new();
	JsonObject *root;
	JsonArray *a;

	if (*report_json == '\0' || !json_parser_load_from_data(p, report_json, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		printf("findings: (no report: the message was held after internal errors)\n");
		return;
	}
	root = json_node_get_object(json_parser_get_root(p));
	if (json_object_has_member(root, "findings") &&
	    JSON_NODE_HOLDS_ARRAY(json_object_get_member(root, "findings")) &&
	    (a = json_object_get_array_member(root, "findings")) != NULL) {
		printf("findings:\n");
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonObject *f = json_array_get_object_element(a, i);
			g_autofree char *path = NULL, *ev = NULL, *fid = NULL, *attack = NULL;

			if (f == NULL)
				continue;
			path = qcmd_clean(qcmd_member_str(f, "path_display"), 120);
			ev = qcmd_clean(qcmd_member_str(f, "evidence"), 160);
			fid = qcmd_clean(qcmd_member_str(f, "id"), 64);
			attack = qcmd_clean(qcmd_member_str(f, "attack"), 16);
			printf("  %-28s %3" G_GINT64_FORMAT "  %-10s %s%s%s\n", fid,
			    json_object_get_int_member_with_default(f, "score", 0), *attack ? attack : "-",
			    path, *ev ? ": " : "", ev);
		}
	}
	if (json_object_has_member(root, "parts") &&
	    JSON_NODE_HOLDS_ARRAY(json_object_get_member(root, "parts")) &&
	    (a = json_object_get_array_member(root, "parts")) != NULL) {
		printf("parts:\n");
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonObject *o = json_array_get_object_element(a, i);
			gint64 depth;
			g_autofree char *name = NULL, *type = NULL;

			if (o == NULL)
				continue;
			type = qcmd_clean(qcmd_member_str(o, "sniffed_type"), 32);
			depth = json_object_get_int_member_with_default(o, "depth", 1) +
			    json_object_get_int_member_with_default(o, "container_depth", 0);
			name = qcmd_clean(qcmd_member_str(o, "path_display"), 120);
			printf("  %*s%s  (%s, %" G_GINT64_FORMAT " bytes%s)\n", (int)CLAMP(depth - 1, 0, 20) * 2,
			    "", name, type,
			    json_object_get_int_member_with_default(o, "size", 0),
			    json_object_get_boolean_member_with_default(o, "encrypted", FALSE) ?
			    ", encrypted" : "");
		}
	}
}

static int
qcmd_show(struct quar *q, int argc, char **argv)
{
	struct quar_item *it = NULL;
	g_autoptr(GPtrArray) hist = NULL;
	g_autofree char *err = NULL, *when = NULL, *to = NULL;
	gboolean json = argc == 3 && strcmp(argv[2], "--json") == 0;
	int rc;

	if (argc != 2 && !json) {
		fprintf(stderr, "usage: moat quarantine show ID [--json]\n");
		return QEXIT_ERROR;
	}
	if ((rc = quar_get(q, &it, &err, argv[1])) < 0 ||
	    (rc = quar_history(q, &hist, &err, argv[1])) < 0) {
		fprintf(stderr, "moat quarantine show: %s\n", err);
		quar_item_free(it);
		return qcmd_exit(rc);
	}
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonParser) p = json_parser_new();

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "item");
		qcmd_item_json(b, it);
		json_builder_set_member_name(b, "report");
		if (*it->report_json != '\0' && json_parser_load_from_data(p, it->report_json, -1, NULL))
			json_builder_add_value(b, json_node_copy(json_parser_get_root(p)));
		else
			json_builder_add_null_value(b);
		json_builder_set_member_name(b, "history");
		json_builder_begin_array(b);
		for (guint i = 0; i < hist->len; i++) {
			const struct quar_event *ev = hist->pdata[i];

			json_builder_begin_object(b);
			json_builder_set_member_name(b, "time");
			json_builder_add_int_value(b, ev->time);
			json_builder_set_member_name(b, "who");
			json_builder_add_string_value(b, ev->who);
			json_builder_set_member_name(b, "what");
			json_builder_add_string_value(b, ev->what);
			json_builder_set_member_name(b, "detail");
			json_builder_add_string_value(b, ev->detail);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		qcmd_print_json(b);
		quar_item_free(it);
		return QEXIT_OK;
	}
	when = qcmd_time(it->time);
	to = qcmd_rcpts(it->rcpts);
	{
		g_autofree char *from = qcmd_clean(*it->mail_from ? it->mail_from : "<>", 0);
		g_autofree char *rcpts = qcmd_clean(to, 0), *hfrom = qcmd_clean(it->header_from, 0);
		g_autofree char *subj = qcmd_clean(it->subject, 0), *mid = qcmd_clean(it->message_id, 0);
		g_autofree char *helo = qcmd_clean(it->helo, 0), *qid = qcmd_clean(it->queue_id, 0);
		g_autofree char *action = qcmd_clean(it->action, 0), *findings = qcmd_clean(it->findings, 0);
		g_autofree char *node = qcmd_clean(it->node, 0), *client = qcmd_clean(it->client_addr, 0);

		printf("id:          %s\nstatus:      %s\nstored:      %s UTC on %s (queue id %s)\n"
		    "client:      %s, HELO %s\nenvelope:    from %s\n             to %s\n"
		    "From:        %s\nSubject:     %s\nMessage-ID:  %s\nsize:        %" G_GUINT64_FORMAT
		    " bytes\nverdict:     %s, score %d (%s)\n", it->id, quar_status_name(it->status), when,
		    *node ? node : "-", *qid ? qid : "-", client, helo, from, rcpts, hfrom, subj, mid, it->size,
		    action, it->score, *findings ? findings : "-");
	}
	qcmd_show_report(it->report_json);
	printf("history:\n");
	for (guint i = 0; i < hist->len; i++) {
		const struct quar_event *ev = hist->pdata[i];
		g_autofree char *t = qcmd_time(ev->time), *d = qcmd_clean(ev->detail, 200);
		g_autofree char *who = qcmd_clean(ev->who, 64), *what = qcmd_clean(ev->what, 64);

		printf("  %s  %-10s %s%s%s\n", t, who, what, *d ? ": " : "", d);
	}
	quar_item_free(it);
	return QEXIT_OK;
}

static int
qcmd_release(struct quar *q, const struct moat_conf *conf, const char *who, int argc,
    char **argv)
{
	g_autoptr(GPtrArray) to = g_ptr_array_new();
	g_autofree char *err = NULL, *reply = NULL, *list = NULL;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: moat quarantine release ID [--to RCPT]...\n");
		return QEXIT_ERROR;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--to") != 0 || i + 1 >= argc) {
			fprintf(stderr, "usage: moat quarantine release ID [--to RCPT]...\n");
			return QEXIT_ERROR;
		}
		g_ptr_array_add(to, argv[++i]);
	}
	/* a failed delivery is EBUSY: exit 1, still held, and why */
	if ((rc = quar_release(q, &reply, &list, &err, &conf->quarantine, argv[1], to, who)) < 0) {
		fprintf(stderr, "moat quarantine release: %s%s\n", err,
		    rc == MOAT_EINVAL ? " (give --to)" : "");
		return qcmd_exit(rc);
	}
	printf("%s released to %s: %s\n", argv[1], list, reply);
	return QEXIT_OK;
}

static int
qcmd_delete(struct quar *q, const char *who, int argc, char **argv)
{
	g_autofree char *err = NULL;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: moat quarantine delete ID\n");
		return QEXIT_ERROR;
	}
	if ((rc = quar_delete(q, &err, argv[1], who)) < 0) {
		fprintf(stderr, "moat quarantine delete: %s\n", err);
		return qcmd_exit(rc);
	}
	printf("%s deleted\n", argv[1]);
	return QEXIT_OK;
}

/* qcmd_purge - purge --older-than DAYS, or without it [quarantine] retention_days */
static int
qcmd_purge(struct quar *q, const struct moat_conf *conf, const char *who, int argc, char **argv)
{
	g_autofree char *err = NULL;
	char *end = NULL;
	guint64 days = conf->quarantine.retention_days;
	guint n = 0;

	if (argc == 1 && days == 0) {
		fprintf(stderr, "moat quarantine purge: [quarantine] retention_days is 0 (keep): "
		    "give --older-than DAYS\n");
		return QEXIT_ERROR;
	}
	if (argc != 1 && (argc != 3 || strcmp(argv[1], "--older-than") != 0 ||
	    !g_ascii_isdigit(*argv[2]) || (days = g_ascii_strtoull(argv[2], &end, 10)) > 36500 ||
	    *end != '\0')) {
		fprintf(stderr, "usage: moat quarantine purge [--older-than DAYS] (0 to 36500; "
		    "default [quarantine] retention_days)\n");
		return QEXIT_ERROR;
	}
	if (quar_purge(q, &n, &err, g_get_real_time() / G_USEC_PER_SEC - (gint64)days * 86400) < 0) {
		fprintf(stderr, "moat quarantine purge: %s (%u purged)\n", err, n);
		return QEXIT_ERROR;
	}
	syslog(LOG_NOTICE, "quarantine: %s purged %u items older than %" G_GUINT64_FORMAT " days",
	    who, n, days);
	printf("%u item%s purged\n", n, n == 1 ? "" : "s");
	return QEXIT_OK;
}

static int
qcmd_export(struct quar *q, const char *who, int argc, char **argv)
{
	g_autofree char *err = NULL;
	char buf[65536];
	ssize_t n;
	int fd = -1, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: moat quarantine export ID >FILE.eml\n");
		return QEXIT_ERROR;
	}
	if ((rc = quar_message_open(q, &fd, &err, argv[1])) < 0) {
		fprintf(stderr, "moat quarantine export: %s\n", err);
		return qcmd_exit(rc);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	close(fd);
	if (n != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "moat quarantine export: %s: incomplete\n", argv[1]);
		return QEXIT_ERROR;
	}
	quar_note(q, &err, argv[1], who, "exported", NULL);
	syslog(LOG_INFO, "quarantine: %s exported %s", who, argv[1]);
	return QEXIT_OK;
}

/* qcmd_migrate - the schema to this moat's version; said and logged */
static int
qcmd_migrate(struct quar *q, const char *who, int argc)
{
	g_autofree char *err = NULL;
	int from = 0, to = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: moat quarantine migrate\n");
		return QEXIT_ERROR;
	}
	if (quar_migrate(q, &from, &to, &err) < 0) {
		fprintf(stderr, "moat quarantine migrate: %s\n", err);
		return QEXIT_ERROR;
	}
	if (from == to) {
		printf("schema version %d: nothing to do\n", to);
		return QEXIT_OK;
	}
	syslog(LOG_NOTICE, "quarantine: %s migrated the schema from version %d to %d", who, from, to);
	printf("schema version %d -> %d\n", from, to);
	return QEXIT_OK;
}

int
cmd_quarantine(const struct moat_conf *conf, int argc, char **argv)
{
	g_autofree char *who = qcmd_who(), *err = NULL;
	struct quar *q = NULL;
	const char *sub = argc >= 2 ? argv[1] : "";
	int status;

	argc--;
	argv++;
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "release") != 0 &&
	    strcmp(sub, "delete") != 0 && strcmp(sub, "purge") != 0 && strcmp(sub, "export") != 0 &&
	    strcmp(sub, "migrate") != 0) {
		fprintf(stderr, "usage: moat quarantine list|show|release|delete|purge|export|"
		    "migrate ...\n");
		return QEXIT_ERROR;
	}
	if (qcmd_become(conf) < 0)
		return QEXIT_ERROR;
	/* moatd makes the store; a command only opens one that is there, but migrate */
	if (quar_open(&q, &err, conf, strcmp(sub, "migrate") == 0 ? QUAR_CREATE | QUAR_MIGRATE : 0)
	    < 0) {
		fprintf(stderr, "moat quarantine: %s\n", err);
		return QEXIT_ERROR;
	}
	openlog("moat", LOG_PID, LOG_MAIL);
	optind = 1;
	if (strcmp(sub, "list") == 0)
		status = qcmd_list(q, argc, argv);
	else if (strcmp(sub, "show") == 0)
		status = qcmd_show(q, argc, argv);
	else if (strcmp(sub, "release") == 0)
		status = qcmd_release(q, conf, who, argc, argv);
	else if (strcmp(sub, "delete") == 0)
		status = qcmd_delete(q, who, argc, argv);
	else if (strcmp(sub, "purge") == 0)
		status = qcmd_purge(q, conf, who, argc, argv);
	else if (strcmp(sub, "migrate") == 0)
		status = qcmd_migrate(q, who, argc);
	else
		status = qcmd_export(q, who, argc, argv);
	closelog();
	quar_close(q);
	return status;
}
