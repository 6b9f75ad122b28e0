/*
 * conf.c - read moat.conf (GKeyFile) into a struct moat_conf
 *
 * In: a file name or a string. Out: a read-only struct moat_conf, caller
 * frees with conf_free(). Every key is described once, in its module's rows (confkeys.h): its
 * default, its bounds and its meaning, so parsing, `moat config check`,
 * the README reference and moat.conf(5) cannot drift apart. Byte sizes
 * accept K, M and G suffixes (powers of 1024). Reentrant.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "moat/conf.h"
#include "moat/confkeys.h"
#include "moat/entry.h"
#include "moat/lure.h"
#include "moat/moat.h"
#include "moat/quarantine.h"
#include "moat/report.h"
#include "moat/sockspec.h"

/* [limits]: what one message may cost (conf->limits) */
static const struct conf_key conf_limits_keys[] = {
	{ "limits", "max_message_bytes", CONF_BYTES, CONF_OFF(limits.max_message_bytes), "12M",
	    1024, G_GINT64_CONSTANT(4) << 30,
	    "Larger messages are not parsed; they get mime.message_too_large (quarantine). "
	    "The default sits above Postfix's message_size_limit (10240000) with room for the "
	    "CR that moatd restores on every line." },
	{ "limits", "max_parts", CONF_UINT, CONF_OFF(limits.max_parts), "1000", 1, 1000000,
	    "MIME parts inventoried per message; the rest are counted in mime.too_many_parts." },
	{ "limits", "max_depth", CONF_UINT, CONF_OFF(limits.max_depth), "30", 1, 1000,
	    "MIME nesting (multipart and message/rfc822 levels) walked; deeper parts give mime.too_deep." },
	{ "limits", "max_decoded_bytes", CONF_BYTES, CONF_OFF(limits.max_decoded_bytes), "32M",
	    1024, G_GINT64_CONSTANT(16) << 30,
	    "Decoded bytes held per message: parts' bytes kept for later scanners and the "
	    "encoded message/rfc822 layers open at once. Every part is scanned as it is decoded "
	    "either way; past it parts are not kept (mime.too_large) and a deeper encoded "
	    "message is scanned whole, not opened (mime.unopened). Part of the memory bound "
	    "(SECURITY.md)." },
	{ "limits", "max_header_bytes", CONF_UINT, CONF_OFF(limits.max_header_bytes), "65536", 998, 16 << 20,
	    "One header field longer than this gives mime.long_header." },
	{ "limits", "scan_budget_ms", CONF_UINT, CONF_OFF(limits.scan_budget_ms), "60000", 1, 3600000,
	    "Time one message may take; past it the rest is not examined and scan.budget_exceeded "
	    "(quarantine by default) is recorded. Keep it well below Postfix's milter_content_timeout." },
};

const struct conf_group conf_limits_group = CONF_GROUP("limits", conf_limits_keys);

/* [milter]: moatd (conf->milter); here, since moat config check reads them too */
static const struct conf_key conf_milter_keys[] = {
	{ "milter", "socket", CONF_SOCKET, CONF_OFF(milter.socket), "unix:/run/moat/moatd.sock", 1, 200,
	    "Where moatd listens: unix:/path or inet:PORT@127.0.0.1 (moatd -p overrides)." },
	{ "milter", "socket_mode", CONF_MODE, CONF_OFF(milter.socket_mode), "0660", 0, 0777,
	    "Permissions of a unix socket, octal." },
	{ "milter", "socket_owner", CONF_STRING, CONF_OFF(milter.socket_owner), "", 0, 64,
	    "Owner of a unix socket; empty: the user moatd starts as." },
	{ "milter", "socket_group", CONF_STRING, CONF_OFF(milter.socket_group), "", 0, 64,
	    "Group of a unix socket, so the MTA's user can connect (postfix); empty: unchanged." },
	{ "milter", "user", CONF_STRING, CONF_OFF(milter.user), "", 0, 64,
	    "Run as this user (and its group) once the socket is open; empty: stay as started." },
	{ "milter", "spool_dir", CONF_STRING, CONF_OFF(milter.spool_dir), "/var/tmp", 1, 1024,
	    "Directory for messages larger than spool_memory_bytes (files 0600, unlinked at once)." },
	{ "milter", "spool_memory_bytes", CONF_BYTES, CONF_OFF(milter.spool_memory_bytes), "1M", 0,
	    G_GINT64_CONSTANT(1) << 30,
	    "Messages up to this size are kept in memory while they arrive." },
	{ "milter", "max_recipients", CONF_UINT, CONF_OFF(milter.max_recipients), "1000", 1, 1000000,
	    "Recipients kept per message (Postfix's smtpd_recipient_limit is 1000 too). Past "
	    "it the rest are counted, not kept: the message gets policy.recipients_dropped and "
	    "[lists] allow_recipients cannot allow it." },
	{ "milter", "poison_attempts", CONF_UINT, CONF_OFF(milter.poison_attempts), "3", 1, 100,
	    "A message that fails internally this many times is quarantined, not tempfailed again." },
	{ "milter", "status_socket", CONF_STRING, CONF_OFF(milter.status_socket), "unix:/run/moat/status.sock",
	    0, 200,
	    "Where moatd serves its counters to Prometheus or moat stats (GET /metrics): "
	    "unix:/path or inet:PORT@127.0.0.1, loopback only; empty: off. Owner, group and "
	    "mode as for socket. Changes need a restart." },
	{ "milter", "drain_seconds", CONF_UINT, CONF_OFF(milter.drain_seconds), "30", 0, 3600,
	    "On SIGTERM, how long moatd lets messages in flight finish before it exits; "
	    "meanwhile new messages get 451 4.3.2 and the MTA retries them." },
};

const struct conf_group conf_milter_group = CONF_GROUP("milter", conf_milter_keys);

/* Every group, in the order moat config prints them. */
static const struct conf_group *const conf_groups[] = {
	&conf_limits_group, &walk_conf_group, &av_conf_group, &policy_conf_group,
	&lists_conf_group, &lists_outbound_group, &lure_conf_group, &conf_milter_group,
	&auth_conf_group, &banner_conf_group, &quar_conf_group, &web_conf_group,
};

/* conf_nkeys - how many keys all groups have */
static gsize
conf_nkeys(void)
{
	gsize n = 0;

	for (gsize g = 0; g < G_N_ELEMENTS(conf_groups); g++)
		n += conf_groups[g]->n;
	return n;
}

/* conf_key_nth - key I of all groups, in print order */
static const struct conf_key *
conf_key_nth(gsize i)
{
	for (gsize g = 0; g < G_N_ELEMENTS(conf_groups); g++) {
		if (i < conf_groups[g]->n)
			return &conf_groups[g]->keys[i];
		i -= conf_groups[g]->n;
	}
	g_assert_not_reached();
}


#define SCORE_MIN (-1000)
#define SCORE_MAX 1000

/* conf_parse_number - VALUE as an integer with an optional K/M/G suffix */
static gboolean
conf_parse_number(gint64 *out, const char *value, gboolean sized)
{
	char *end = NULL;
	gint64 v, mul = 1;

	errno = 0;
	v = g_ascii_strtoll(value, &end, 10);
	if (end == value || errno != 0)
		return FALSE;
	if (sized && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mul = 1024; end++; break;
		case 'm': case 'M': mul = 1024 * 1024; end++; break;
		case 'g': case 'G': mul = 1024 * 1024 * 1024; end++; break;
		}
	}
	if (*end != '\0' || v > G_MAXINT64 / mul || v < G_MININT64 / mul)
		return FALSE;
	*out = v * mul;
	return TRUE;
}

/* conf_set_string - a string, a mode or a socket spec for K, or a reason it is bad */
static char *
conf_set_string(struct moat_conf *conf, const struct conf_key *k, const char *value)
{
	char **field = (char **)(void *)((char *)conf + k->offset);
	gsize len = strlen(value);

	if ((gint64)len < k->min || (gint64)len > k->max)
		return g_strdup_printf("length %zu is out of range %" G_GINT64_FORMAT "..%"
		    G_GINT64_FORMAT, len, k->min, k->max);
	if (k->type == CONF_SOCKET && !g_str_has_prefix(value, "unix:/") &&
	    !g_str_has_prefix(value, "local:/") && !g_str_has_prefix(value, "inet:") &&
	    !g_str_has_prefix(value, "inet6:"))
		return g_strdup_printf("not unix:/path or inet:PORT@HOST: '%s'", value);
	g_free(*field);
	*field = g_strdup(value);
	return NULL;
}

static gboolean
conf_is_list(enum conf_type t)
{
	return t == CONF_LIST_ADDRESS || t == CONF_LIST_DOMAIN || t == CONF_LIST_NETWORK ||
	    t == CONF_LIST_SHA256;
}

static enum entry_kind
conf_list_kind(enum conf_type t)
{
	switch (t) {
	case CONF_LIST_ADDRESS:	return ENTRY_ADDRESS;
	case CONF_LIST_DOMAIN:	return ENTRY_DOMAIN;
	case CONF_LIST_NETWORK:	return ENTRY_NETWORK;
	default:		return ENTRY_SHA256;
	}
}

static int
conf_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * conf_set_list - "a; b; c" (GKeyFile's list separator; blanks and empty
 * entries ignored) for K: each entry normalised (lists.h), sorted, once.
 */
static char *
conf_set_list(struct moat_conf *conf, const struct conf_key *k, const char *value)
{
	char ***field = (char ***)(void *)((char *)conf + k->offset);
	g_auto(GStrv) raw = g_strsplit(value, ";", -1);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	guint n = 0;

	for (gsize i = 0; raw[i] != NULL; i++) {
		char *why = NULL, *entry = g_strstrip(raw[i]), *norm;

		if (*entry == '\0')
			continue;
		if ((norm = entry_normalise(&why, conf_list_kind(k->type), entry)) == NULL)
			return why;
		g_ptr_array_add(out, norm);
	}
	if ((gint64)out->len > k->max)
		return g_strdup_printf("%u entries, at most %" G_GINT64_FORMAT, out->len, k->max);
	g_ptr_array_sort(out, conf_strcmp);
	for (guint i = 0; i < out->len; i++)	/* once each: the lookups are binary searches */
		if (n == 0 || strcmp(out->pdata[i], out->pdata[n - 1]) != 0)
			out->pdata[n++] = g_steal_pointer(&out->pdata[i]);
		else
			g_clear_pointer(&out->pdata[i], g_free);
	g_ptr_array_set_size(out, n);
	g_ptr_array_add(out, NULL);
	g_strfreev(*field);
	g_ptr_array_set_free_func(out, NULL);
	*field = (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
	return NULL;
}

/* conf_set - store VALUE for K in CONF, or return a reason it is bad */
static char *
conf_set(struct moat_conf *conf, const struct conf_key *k, const char *value)
{
	char *field = (char *)conf + k->offset;
	char *end = NULL;
	gint64 v;

	if (k->type == CONF_STRING || k->type == CONF_SOCKET)
		return conf_set_string(conf, k, value);
	if (conf_is_list(k->type))
		return conf_set_list(conf, k, value);
	if (k->type == CONF_BOOL) {
		static const char *const yes[] = { "yes", "true", "on", "1" };
		static const char *const no[] = { "no", "false", "off", "0" };

		for (gsize i = 0; i < G_N_ELEMENTS(yes); i++) {
			if (g_ascii_strcasecmp(value, yes[i]) == 0 || g_ascii_strcasecmp(value, no[i]) == 0) {
				*(gboolean *)(void *)field = g_ascii_strcasecmp(value, yes[i]) == 0;
				return NULL;
			}
		}
		return g_strdup_printf("not yes or no: '%s'", value);
	}
	if (k->type == CONF_MODE) {
		v = g_ascii_strtoll(value, &end, 8);
		if (*value == '\0' || *end != '\0' || v < k->min || v > k->max)
			return g_strdup_printf("not an octal mode 0..0777: '%s'", value);
		*(guint *)(void *)field = (guint)v;
		return NULL;
	}

	if (!conf_parse_number(&v, value, k->type == CONF_BYTES))
		return g_strdup_printf("not a %s: '%s'",
		    k->type == CONF_BYTES ? "size" : "number", value);
	if (v < k->min || v > k->max)
		return g_strdup_printf("%s is out of range %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
		    value, k->min, k->max);
	switch (k->type) {
	case CONF_BYTES:	*(guint64 *)(void *)field = (guint64)v; break;
	case CONF_UINT:		*(guint *)(void *)field = (guint)v; break;
	case CONF_INT:		*(gint *)(void *)field = (gint)v; break;
	default:		g_assert_not_reached();
	}
	return NULL;
}

struct moat_conf *
conf_new_defaults(void)
{
	struct moat_conf *conf = g_new0(struct moat_conf, 1);

	conf->scores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (gsize i = 0; i < conf_nkeys(); i++) {
		char *why = conf_set(conf, conf_key_nth(i), conf_key_nth(i)->def);

		g_assert(why == NULL);	/* a bad built-in default is a programming error */
	}
	conf->lure.pairs = g_new0(char *, 1);	/* files are read by conf_load() */
	return conf;
}

void
conf_free(struct moat_conf *conf)
{
	if (conf == NULL)
		return;
	for (gsize i = 0; i < conf_nkeys(); i++)
		if (conf_key_nth(i)->type == CONF_STRING || conf_key_nth(i)->type == CONF_SOCKET)
			g_free(*(char **)(void *)((char *)conf + conf_key_nth(i)->offset));
		else if (conf_is_list(conf_key_nth(i)->type))
			g_strfreev(*(char ***)(void *)((char *)conf + conf_key_nth(i)->offset));
	g_strfreev(conf->lure.pairs);
	g_hash_table_destroy(conf->scores);
	g_free(conf->path);
	g_free(conf);
}

static const struct conf_key *
conf_key_lookup(const char *group, const char *key)
{
	for (gsize i = 0; i < conf_nkeys(); i++)
		if (strcmp(conf_key_nth(i)->group, group) == 0 && strcmp(conf_key_nth(i)->key, key) == 0)
			return conf_key_nth(i);
	return NULL;
}

static gboolean
conf_group_known(const char *group)
{
	if (strcmp(group, "scores") == 0)
		return TRUE;
	for (gsize i = 0; i < conf_nkeys(); i++)
		if (strcmp(conf_key_nth(i)->group, group) == 0)
			return TRUE;
	return FALSE;
}

/* Words a [scores] line may use instead of a number. */
static const struct { const char *word; gint mark; } conf_score_words[] = {
	{ "off", CONF_SCORE_OFF }, { "tag", CONF_SCORE_TAG },
	{ "quarantine", CONF_SCORE_QUARANTINE }, { "reject", CONF_SCORE_REJECT },
};

/* conf_known_pattern - a catalogue id, or "group.*" matching at least one */
static gboolean
conf_known_pattern(const char *id)
{
	gsize n, len = strlen(id);
	const struct moat_finding_kind *k = report_kinds(&n);

	if (len < 3 || !g_str_has_suffix(id, ".*"))
		return report_kind_lookup(id) != NULL;
	for (gsize i = 0; i < n; i++)
		if (strncmp(k[i].id, id, len - 1) == 0)
			return TRUE;
	/* av.* names libclamav's signatures: they are not in the catalogue. */
	return strcmp(id, "av.*") == 0;
}

/*
 * conf_read_score - one [scores] line: a finding id or "group.*" = a
 * number, "off", or the action it should bring on its own.
 */
static char *
conf_read_score(struct moat_conf *conf, const char *id, const char *value)
{
	gint64 v;

	if (!conf_known_pattern(id))
		return g_strdup("unknown finding id (see docs/findings.md or `moat config findings`)");
	for (gsize i = 0; i < G_N_ELEMENTS(conf_score_words); i++) {
		if (g_ascii_strcasecmp(value, conf_score_words[i].word) == 0) {
			g_hash_table_replace(conf->scores, g_strdup(id),
			    GINT_TO_POINTER(conf_score_words[i].mark));
			return NULL;
		}
	}
	if (!conf_parse_number(&v, value, FALSE))
		return g_strdup_printf("not a number, 'off', 'tag', 'quarantine' or 'reject': '%s'", value);
	if (v < SCORE_MIN || v > SCORE_MAX)
		return g_strdup_printf("%s is out of range %d..%d", value, SCORE_MIN, SCORE_MAX);
	g_hash_table_replace(conf->scores, g_strdup(id), GINT_TO_POINTER((gint)v));
	return NULL;
}

/*
 * conf_check_status_socket - a reason SPEC is no good for [milter]
 * status_socket, or NULL. The endpoint has no authentication: loopback only.
 */
static char *
conf_check_status_socket(const char *spec)
{
	struct sockspec ss;
	char *why = NULL, *msg;

	if (*spec == '\0')
		return NULL;
	if (sockspec_parse(&ss, &why, spec) == 0 && ss.loopback)
		return NULL;
	msg = g_strdup_printf("[milter] status_socket: %s", why ? why :
	    "not a loopback address (the endpoint has no authentication): use 127.0.0.1 or ::1");
	g_free(why);
	return msg;
}

/* conf_apply - every key of KF into CONF; a message naming the first bad one, or NULL */
static char *
conf_apply(struct moat_conf *conf, GKeyFile *kf)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	char *why = NULL;

	for (gsize g = 0; groups[g] != NULL; g++) {
		g_auto(GStrv) keys = NULL;

		if (!conf_group_known(groups[g]))
			return g_strdup_printf("[%s]: unknown group", groups[g]);
		keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
		for (gsize k = 0; keys != NULL && keys[k] != NULL; k++) {
			const struct conf_key *ck = conf_key_lookup(groups[g], keys[k]);
			gboolean text = ck && (ck->type == CONF_STRING || ck->type == CONF_SOCKET);
			/* Strings are unescaped (\s for a leading blank); numbers taken as written. */
			g_autofree char *value = text ? g_key_file_get_string(kf, groups[g], keys[k], NULL)
			    : g_key_file_get_value(kf, groups[g], keys[k], NULL);

			if (value == NULL)
				value = g_strdup("");
			g_strstrip(value);
			if (strcmp(groups[g], "scores") == 0)
				why = conf_read_score(conf, keys[k], value);
			else if (ck == NULL)
				why = g_strdup("unknown key");
			else
				why = conf_set(conf, ck, value);
			if (why != NULL) {
				char *msg = g_strdup_printf("[%s] %s: %s", groups[g], keys[k], why);

				g_free(why);
				return msg;
			}
		}
	}
	if (conf->policy.tag_score > conf->policy.quarantine_score)
		return g_strdup("[policy] tag_score: must not exceed quarantine_score");
	if (conf->policy.quarantine_score > conf->policy.reject_score)
		return g_strdup("[policy] quarantine_score: must not exceed reject_score");
	if ((why = conf_check_status_socket(conf->milter.status_socket)) != NULL)
		return why;
	if (conf->outbound.tag_score > conf->outbound.quarantine_score)
		return g_strdup("[outbound] tag_score: must not exceed quarantine_score");
	if (conf->outbound.quarantine_score > conf->outbound.reject_score)
		return g_strdup("[outbound] quarantine_score: must not exceed reject_score");
	return NULL;
}

/* conf_from_keyfile - defaults, then KF over them; NAME prefixes any error */
static int
conf_from_keyfile(struct moat_conf **out, char **err, GKeyFile *kf, const char *name)
{
	struct moat_conf *conf = conf_new_defaults();
	char *why;

	if ((why = conf_apply(conf, kf)) != NULL || (why = quar_conf_check(conf)) != NULL ||
	    (why = lure_conf_finish(conf)) != NULL) {
		*err = g_strdup_printf("%s: %s", name, why);
		g_free(why);
		conf_free(conf);
		return MOAT_EINVAL;
	}
	*out = conf;
	return 0;
}

int
conf_load_data(struct moat_conf **out, char **err, const char *data, gsize len)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;

	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		*err = g_strdup_printf("config: %s", gerr->message);
		return MOAT_EINVAL;
	}
	return conf_from_keyfile(out, err, kf, "config");
}

int
conf_load(struct moat_conf **out, char **err, const char *path, gboolean missing_ok)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;
	int rc;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
		if (missing_ok && g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			struct moat_conf *conf = conf_new_defaults();
			char *why = lure_conf_finish(conf);

			if (why != NULL) {
				*err = why;
				conf_free(conf);
				return MOAT_EINVAL;
			}
			*out = conf;
			return 0;
		}
		*err = g_strdup_printf("%s: %s", path, gerr->message);
		return gerr->domain == G_KEY_FILE_ERROR ? MOAT_EINVAL : MOAT_EIO;
	}
	if ((rc = conf_from_keyfile(out, err, kf, path)) == 0)
		(*out)->path = g_strdup(path);
	return rc;
}

gint
conf_finding_score(const struct moat_conf *conf, const char *id, gint default_score)
{
	if (conf == NULL)
		return default_score;
	return conf_finding_score_at(conf, id, default_score, conf->policy.tag_score,
	    conf->policy.quarantine_score, conf->policy.reject_score);
}

gint
conf_finding_score_at(const struct moat_conf *conf, const char *id, gint default_score,
    gint tag, gint quarantine, gint reject)
{
	gpointer v = NULL;
	gboolean found = FALSE;
	const char *dot;

	if (conf == NULL)
		return default_score;
	/* The exact id wins over its group's "group.*". */
	found = g_hash_table_lookup_extended(conf->scores, id, NULL, &v);
	if (!found && (dot = strchr(id, '.')) != NULL) {
		g_autofree char *group = g_strdup_printf("%.*s.*", (int)(dot - id), id);

		found = g_hash_table_lookup_extended(conf->scores, group, NULL, &v);
	}
	if (!found)
		return default_score;
	switch (GPOINTER_TO_INT(v)) {
	case CONF_SCORE_TAG:		return tag;
	case CONF_SCORE_QUARANTINE:	return quarantine;
	case CONF_SCORE_REJECT:		return reject;
	default:			return GPOINTER_TO_INT(v);
	}
}

/*
 * conf_print_string - S as GKeyFile reads it back: a backslash, line
 * break, tab or carriage return escaped, a leading blank as \s (strings
 * are read with g_key_file_get_string(), which undoes these)
 */
static void
conf_print_string(const char *s, FILE *fp)
{
	for (const char *c = s; *c != '\0'; c++) {
		switch (*c) {
		case '\\': fputs("\\\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\t': fputs("\\t", fp); break;
		case '\r': fputs("\\r", fp); break;
		case ' ':
			fputs(c == s ? "\\s" : " ", fp);
			break;
		default: fputc(*c, fp); break;
		}
	}
}

static void
conf_print_value(const struct moat_conf *conf, const struct conf_key *k, FILE *fp)
{
	const char *field = (const char *)conf + k->offset;

	switch (k->type) {
	case CONF_BYTES:
		fprintf(fp, "%" G_GUINT64_FORMAT, *(const guint64 *)(const void *)field);
		break;
	case CONF_UINT:
		fprintf(fp, "%u", *(const guint *)(const void *)field);
		break;
	case CONF_INT:
		fprintf(fp, "%d", *(const gint *)(const void *)field);
		break;
	case CONF_MODE:
		fprintf(fp, "%04o", *(const guint *)(const void *)field);
		break;
	case CONF_BOOL:
		fputs(*(const gboolean *)(const void *)field ? "yes" : "no", fp);
		break;
	case CONF_STRING:
	case CONF_SOCKET:
		conf_print_string(*(char *const *)(const void *)field, fp);
		break;
	case CONF_LIST_ADDRESS:
	case CONF_LIST_DOMAIN:
	case CONF_LIST_NETWORK:
	case CONF_LIST_SHA256:
		for (char *const *e = *(char **const *)(const void *)field; *e != NULL; e++)
			fprintf(fp, "%s%s", e == *(char **const *)(const void *)field ? "" : ";", *e);
		break;
	}
}

void
conf_print(const struct moat_conf *conf, FILE *fp)
{
	const char *group = NULL;
	g_autoptr(GList) ids = NULL;

	fprintf(fp, "# effective configuration (%s)\n", conf->path ? conf->path : "built-in defaults");
	for (gsize i = 0; i < conf_nkeys(); i++) {
		const struct conf_key *k = conf_key_nth(i);

		if (group == NULL || strcmp(group, k->group) != 0) {
			fprintf(fp, "%s[%s]\n", group ? "\n" : "", k->group);
			group = k->group;
		}
		fprintf(fp, "%s = ", k->key);
		conf_print_value(conf, k, fp);
		fputc('\n', fp);
	}
	fprintf(fp, "\n[scores]\n");
	ids = g_list_sort(g_hash_table_get_keys(conf->scores), (GCompareFunc)strcmp);
	for (GList *l = ids; l != NULL; l = l->next) {
		gint v = GPOINTER_TO_INT(g_hash_table_lookup(conf->scores, l->data));
		const char *word = NULL;

		for (gsize i = 0; i < G_N_ELEMENTS(conf_score_words); i++)
			if (conf_score_words[i].mark == v)
				word = conf_score_words[i].word;
		if (word != NULL)
			fprintf(fp, "%s = %s\n", (const char *)l->data, word);
		else
			fprintf(fp, "%s = %d\n", (const char *)l->data, v);
	}
}

void
conf_print_reference(FILE *fp)
{
	fprintf(fp, "| group | key | default | meaning |\n| --- | --- | --- | --- |\n");
	for (gsize i = 0; i < conf_nkeys(); i++)
		fprintf(fp, "| `[%s]` | `%s` | `%s` | %s |\n", conf_key_nth(i)->group,
		    conf_key_nth(i)->key, conf_key_nth(i)->def, conf_key_nth(i)->doc);
}

/*
 * conf_man_word_is_code - the word at S (up to a blank) names something:
 * it holds '_', '/' or '@', or a '.' or ':' inside it (mime.too_deep,
 * unix:/path), so roff must not hyphenate it
 */
static gboolean
conf_man_word_is_code(const char *s)
{
	for (const char *c = s; *c != '\0' && *c != ' ' && *c != '\n'; c++)
		if (*c == '_' || *c == '/' || *c == '@' ||
		    ((*c == '.' || *c == ':') && g_ascii_isalnum(c[1])))
			return TRUE;
	return FALSE;
}

/*
 * conf_man_escape - S as roff text for moat.conf(5): a backslash as \e, a
 * '.' or '\'' that would start a line (a request) behind \&, a '-' that
 * does not join two parts of a word (an option, a minus) as \-, anything
 * past ASCII as \[uXXXX] so the page needs no input encoding, and \% before
 * a word that names something (conf_man_word_is_code) so that it is never
 * hyphenated; each sentence after the first starts a line. LINE_START: S
 * begins a line of output. Everything the key table puts in the page goes
 * through here.
 */
static void
conf_man_escape(const char *s, gboolean line_start, FILE *fp)
{
	for (const char *c = s; *c != '\0'; ) {
		gunichar u;

		if ((c == s || c[-1] == ' ' || c[-1] == '\n') && conf_man_word_is_code(c)) {
			fputs("\\%", fp);
			line_start = FALSE;
		}
		if ((guchar)*c >= 0x80) {
			u = g_utf8_get_char_validated(c, -1);
			if (u == (gunichar)-1 || u == (gunichar)-2) {
				fputc('?', fp);
				c++;
			} else {
				fprintf(fp, "\\[u%04X]", (guint)u);
				c = g_utf8_next_char(c);
			}
			line_start = FALSE;
			continue;
		}
		switch (*c) {
		case '\\': fputs("\\e", fp); break;
		case '.':
		case '\'':
			fputs(line_start ? "\\&" : "", fp);
			fputc(*c, fp);
			break;
		case '-':
			fputs(c > s && g_ascii_isalnum(c[-1]) ? "-" : "\\-", fp);
			break;
		case ' ':
			/* A sentence starts a line (man-pages(7)): roff then spaces sentences alike. */
			if (c > s && c[-1] == '.' && g_ascii_isupper(c[1])) {
				fputc('\n', fp);
				c++;
				line_start = TRUE;
				continue;
			}
			fputc(' ', fp);
			break;
		case '\n':
			fputc(' ', fp);	/* one row, one text line at least */
			break;
		default: fputc(*c, fp); break;
		}
		line_start = FALSE;
		c++;
	}
}

void
conf_print_reference_man(FILE *fp)
{
	const char *group = NULL;

	for (gsize i = 0; i < conf_nkeys(); i++) {
		const struct conf_key *k = conf_key_nth(i);

		if (group == NULL || strcmp(group, k->group) != 0) {
			fputs(".SS [", fp);
			conf_man_escape(k->group, FALSE, fp);
			fputs("]\n", fp);
			group = k->group;
		}
		fputs(".TP\n\\fB", fp);
		conf_man_escape(k->key, FALSE, fp);
		fputs("\\fR =", fp);
		if (k->def[0] != '\0') {
			fputs(" \\fB", fp);
			conf_man_escape(k->def, FALSE, fp);
			fputs("\\fR", fp);
		}
		/* .br: the meaning on a line of its own, even under a tag as short as "user =" */
		fputs("\n.br\n", fp);
		conf_man_escape(k->doc, TRUE, fp);
		fputc('\n', fp);
	}
}
