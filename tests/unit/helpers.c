/*
 * helpers.c - what the unit suites share (helpers.h): configs from text,
 * scans that must succeed, findings, parts and lines looked up
 *
 * In: text, buffers and paths from the tests. Out: configs and reports the
 * caller frees, or pointers borrowed from a report. On failure each fails
 * the running test with ck_abort_msg(), which ends the test (a forked
 * child exits; under CK_FORK=no it longjmps), so what it allocated is not
 * freed then: a failing test may leak, as Check's own asserts do.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "moat/av.h"
#include "moat/scan.h"

struct moat_conf *
t_conf_load(const char *text)
{
	struct moat_conf *conf = NULL;
	char *err = NULL;

	if (conf_load_data(&conf, &err, text, strlen(text)) != 0)
		ck_abort_msg("config refused: %s\n--- config:\n%s", err, text);
	ck_assert_ptr_nonnull(conf);
	return conf;
}

struct moat_conf *
t_conf_loadf(const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return t_conf_load(text);
}

struct moat_report *
t_scan_bytes(const void *data, gsize len, const struct moat_conf *conf)
{
	struct moat_conf *def = conf != NULL ? NULL : conf_new_defaults();
	struct moat_report *rep = NULL;
	int rc = scan_bytes(&rep, data, len, NULL, conf != NULL ? conf : def);

	conf_free(def);
	ck_assert_msg(rc == 0, "scan_bytes of %zu bytes returned %d", (size_t)len, rc);
	ck_assert_ptr_nonnull(rep);
	return rep;
}

struct moat_report *
t_scan_text(const char *msg, const struct moat_conf *conf)
{
	return t_scan_bytes(msg, strlen(msg), conf);
}

struct moat_report *
t_scan_file(const char *path, const struct moat_conf *conf)
{
	struct moat_conf *def = conf != NULL ? NULL : conf_new_defaults();
	struct moat_report *rep = NULL;
	char *err = NULL;
	int rc = scan_file(&rep, &err, path, conf != NULL ? conf : def);

	conf_free(def);
	if (rc != 0)
		ck_abort_msg("scan_file %s: %d: %s", path, rc, err);
	ck_assert_ptr_nonnull(rep);
	return rep;
}

struct moat_report *
t_scan_sample(const char *name, const struct moat_conf *conf)
{
	g_autofree char *path = g_build_filename(SAMPLES_DIR, name, NULL);

	return t_scan_file(path, conf);
}

const struct moat_finding *
t_finding(const struct moat_report *rep, const char *id)
{
	const struct moat_finding *f = report_has_finding(rep, id);
	g_autoptr(GString) have = NULL;

	if (f != NULL)
		return f;
	have = g_string_new(NULL);
	for (guint i = 0; i < rep->findings->len; i++)
		g_string_append_printf(have, " %s", ((struct moat_finding *)rep->findings->pdata[i])->id);
	ck_abort_msg("no finding %s; the report has:%s", id, have->len ? have->str : " none");
	return NULL;
}

const struct moat_part *
t_part_named(const struct moat_report *rep, const char *filename)
{
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (p->filename != NULL && strcmp(p->filename, filename) == 0)
			return p;
	}
	ck_abort_msg("no part named %s", filename);
	return NULL;
}

const struct moat_part *
t_member(const struct moat_report *rep, const char *path)
{
	g_autoptr(GString) have = NULL;

	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (strcmp(p->path_display, path) == 0)
			return p;
	}
	have = g_string_new(NULL);
	for (guint i = 0; i < rep->parts->len; i++)
		g_string_append_printf(have, "\n  %s", ((struct moat_part *)rep->parts->pdata[i])->path_display);
	ck_abort_msg("no member %s; the report has:%s", path, have->len ? have->str : " none");
	return NULL;
}

gboolean
t_has_line(const char *text, const char *line)
{
	/* a newline before TEXT lets the first line match, one after it the last */
	gboolean nl = text[0] != '\0' && text[strlen(text) - 1] == '\n';
	g_autofree char *hay = g_strdup_printf("\n%s%s", text, nl ? "" : "\n");
	g_autofree char *needle = g_strdup_printf("\n%s\n", line);

	return strstr(hay, needle) != NULL;
}

struct moat_conf *
t_av_conf(void)
{
	g_autofree char *err = NULL, *warn = NULL;
	struct moat_conf *conf = t_conf_loadf("[av]\nsignature_dirs = %s/../conf/signatures\n"
	    "[milter]\nspool_dir = %s\n", SAMPLES_DIR, g_get_tmp_dir());

	ck_assert_msg(av_load(conf, &err, &warn) == 0, "av_load: %s", err);
	return conf;
}

void
t_av_release(struct moat_conf **conf)
{
	av_unload();
	g_clear_pointer(conf, conf_free);
}

char *
t_ids_of(const struct moat_report *rep)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < rep->findings->len; i++)
		g_string_append_printf(s, " %s", ((struct moat_finding *)rep->findings->pdata[i])->id);
	return g_string_free(s, FALSE);
}

const struct moat_finding *
t_finding_at(const struct moat_report *rep, const char *id, const char *text)
{
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (strcmp(f->id, id) != 0)
			continue;
		if (text == NULL)
			return f;
		for (guint k = 0; f->path != NULL && k < f->path->len; k++)
			if (strstr(f->path->pdata[k], text) != NULL)
				return f;
	}
	return NULL;
}

gboolean
t_held(const struct moat_report *rep)
{
	return rep->verdict.action == MOAT_QUARANTINE || rep->verdict.action == MOAT_REJECT;
}

gint64
t_thread_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}
