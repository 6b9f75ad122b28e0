/*
 * fuzz_quarantine.c - libFuzzer harness: what mail puts into the quarantine index
 *
 * The input's first lines are the fields moatd takes from the MTA and the
 * message (envelope sender, recipients separated by ',', From, Subject,
 * Message-ID, HELO, queue id, findings); the rest is the message. Each is
 * put into a real store (SQLite and files, in a temp folder removed at
 * exit), read back, and must come back byte for byte; the item must be
 * found by its sender, each recipient and each finding, and its file must
 * hold the message. Every 256 inputs the store is purged, so it stays small.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "moat/conf.h"
#include "moat/quarantine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_FROM, F_RCPTS, F_HFROM, F_SUBJECT, F_MID, F_HELO, F_QID, F_FINDINGS, F_N };

static struct quar *store;
static struct moat_conf *conf;
static char *tmpdir;
static guint runs;

static void
fuzz_rm(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR))
			fuzz_rm(p);
		else
			g_unlink(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(path);
}

static void
fuzz_cleanup(void)
{
	quar_close(store);
	conf_free(conf);
	if (tmpdir != NULL)
		fuzz_rm(tmpdir);
	g_free(tmpdir);
}

static void
fuzz_open(void)
{
	g_autofree char *text = NULL;
	char *err = NULL;

	tmpdir = g_dir_make_tmp("moat-fuzz-quar-XXXXXX", NULL);
	if (tmpdir == NULL)
		abort();
	text = g_strdup_printf("[quarantine]\ndir = %s/q\n", tmpdir);
	if (conf_load_data(&conf, &err, text, strlen(text)) != 0 ||
	    quar_open(&store, &err, conf, QUAR_CREATE) != 0)
		g_error("store: %s", err);
	atexit(fuzz_cleanup);
}

/* fuzz_found - whether F's list holds ID */
static gboolean
fuzz_found(const struct quar_filter *f, const char *id)
{
	g_autoptr(GPtrArray) items = NULL;
	char *err = NULL;

	if (quar_list(store, &items, &err, f) != 0)
		g_error("list: %s", err);
	for (guint i = 0; i < items->len; i++)
		if (strcmp(((struct quar_item *)items->pdata[i])->id, id) == 0)
			return TRUE;
	return FALSE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *field[F_N] = { NULL };
	const char *p = (const char *)data, *end = p + size, *nl;
	struct quar_item it = { 0 }, *got = NULL;
	struct quar_source src;
	char id[QUAR_ID_LEN + 1], *err = NULL, *bytes = NULL;
	gsize len = 0;
	gboolean dup;
	int fd = -1;

	if (store == NULL)
		fuzz_open();
	/* fields as the milter gets them: no NUL (C strings), no line end */
	for (int i = 0; i < F_N; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		field[i] = g_strndup(p, (gsize)((nl != NULL ? nl : end) - p));
		p = nl != NULL ? nl + 1 : end;
	}
	it.mail_from = field[F_FROM];
	it.header_from = field[F_HFROM];
	it.subject = field[F_SUBJECT];
	it.message_id = field[F_MID];
	it.helo = field[F_HELO];
	it.queue_id = field[F_QID];
	it.client_addr = "192.0.2.1";
	it.findings = field[F_FINDINGS];
	it.action = "quarantine";
	it.report_json = "";
	it.rcpts = g_ptr_array_new_with_free_func(g_free);
	{
		g_auto(GStrv) r = g_strsplit(field[F_RCPTS], ",", 100);

		for (guint i = 0; r[i] != NULL; i++)
			if (*r[i] != '\0')	/* RCPT TO:<> is not SMTP */
				g_ptr_array_add(it.rcpts, g_strdup(r[i]));
	}
	it.key = quar_key(it.message_id, "", it.mail_from, it.rcpts);
	src = (struct quar_source){ (const guint8 *)p, (gsize)(end - p), -1 };
	if (quar_put(store, id, &dup, &err, &it, &src) != 0)
		g_error("put: %s", err);
	if (quar_get(store, &got, &err, id) != 0)
		g_error("get: %s", err);
	if (!dup) {
		if (strcmp(got->mail_from, it.mail_from) != 0 || strcmp(got->subject, it.subject) != 0 ||
		    strcmp(got->header_from, it.header_from) != 0 ||
		    strcmp(got->message_id, it.message_id) != 0 || strcmp(got->helo, it.helo) != 0 ||
		    strcmp(got->queue_id, it.queue_id) != 0 || strcmp(got->findings, it.findings) != 0 ||
		    got->rcpts->len != it.rcpts->len || got->size != (guint64)(end - p))
			g_error("item %s does not come back as it went in", id);
		for (guint i = 0; i < it.rcpts->len; i++)
			if (strcmp(got->rcpts->pdata[i], it.rcpts->pdata[i]) != 0)
				g_error("recipient %u changed", i);
		if (quar_message_open(store, &fd, &err, id) != 0)
			g_error("message of %s: %s", id, err);
		bytes = g_malloc((gsize)(end - p) + 1);
		len = (gsize)read(fd, bytes, (gsize)(end - p) + 1);
		close(fd);
		if (len != (gsize)(end - p) || memcmp(bytes, p, len) != 0)
			g_error("message of %s differs", id);
		if (!fuzz_found(&(struct quar_filter){ .status = -1, .sender = it.mail_from }, id))
			g_error("%s not found by its sender", id);
		for (guint i = 0; i < it.rcpts->len; i++)
			if (!fuzz_found(&(struct quar_filter){ .status = -1,
			    .recipient = it.rcpts->pdata[i] }, id))
				g_error("%s not found by recipient %u", id, i);
	}
	quar_item_free(got);
	g_free(bytes);
	g_free(it.key);
	g_ptr_array_unref(it.rcpts);
	for (int i = 0; i < F_N; i++)
		g_free(field[i]);
	if (++runs % 256 == 0) {
		guint n;

		if (quar_purge(store, &n, &err, G_MAXINT64) != 0)
			g_error("purge: %s", err);
	}
	return 0;
}
