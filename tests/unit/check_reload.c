/*
 * check_reload.c - the running config held by reference: a reload swaps in
 * the new file for new messages while messages in flight keep the old one
 * alive; a bad file keeps the running config; keys that need a restart keep
 * their running values; the drain admits no message and waits for those in
 * flight; moatd_msg_free gives the reference back; reloads under load from
 * many threads (run under ASan or valgrind for the use-after-free side).
 */
#include <string.h>

#include <glib/gstdio.h>

#include "checks.h"
#include "helpers.h"
#include "moat/moat.h"
#include "milter/moatd.h"
#include "milter/reload.h"
#include "milter/stats.h"

static char *dir;
static char *path;

static void
write_conf(const char *text)
{
	ck_assert(g_file_set_contents(path, text, -1, NULL));
}

/* start - moatd's config from PATH as written with TEXT */
static void
start(const char *text)
{
	struct moat_conf *conf = NULL;
	char *err = NULL;

	write_conf(text);
	if (conf_load(&conf, &err, path, FALSE) < 0)
		ck_abort_msg("%s", err);
	moatd_conf_init(conf, path, FALSE);
}

static void
setup(void)
{
	stats_reset();
	dir = g_dir_make_tmp("moat-reload-XXXXXX", NULL);
	path = g_build_filename(dir, "moat.conf", NULL);
}

static void
teardown(void)
{
	moatd_conf_shutdown();
	g_unlink(path);
	g_rmdir(dir);
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&dir, g_free);
}

/* stats_assert_line - moatd's counters, as the status endpoint shows them, hold LINE */
#define stats_assert_line(line) do {						\
	g_autofree char *stats_ = stats_render();				\
	t_assert_line(stats_, "%s", (line));					\
} while (0)

START_TEST(test_in_flight_keeps_old)
{
	struct moatd_conf_ref *a, *b, *cur;

	start("[policy]\nsubject_tag = [A]\n");
	a = moatd_admit();
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->generation, 1);
	write_conf("[policy]\nsubject_tag = [B]\n");
	ck_assert_int_eq(moatd_reload(), 0);
	b = moatd_admit();
	ck_assert_str_eq(b->conf->policy.subject_tag, "[B]");
	ck_assert_uint_eq(b->generation, 2);
	/* the message admitted before the reload still reads its own config */
	ck_assert_str_eq(a->conf->policy.subject_tag, "[A]");
	ck_assert_uint_eq(g_atomic_int_get(&a->refs), 1);	/* only the message holds it now */
	moatd_release(a);			/* the last user: freed here (ASan/valgrind watch) */
	cur = moatd_conf_get();
	ck_assert_ptr_eq(cur, b);
	ck_assert_uint_eq(g_atomic_int_get(&b->refs), 3);	/* current + message + cur */
	moatd_conf_unref(cur);
	moatd_release(b);
	stats_assert_line("moat_config_reloads_total{result=\"ok\"} 1");
	stats_assert_line("moat_messages_in_flight 0");
}
END_TEST

START_TEST(test_bad_file_keeps_running)
{
	struct moatd_conf_ref *cur;

	start("[policy]\nsubject_tag = [A]\n");
	write_conf("[policy]\ntag_score = many\n");
	ck_assert_int_eq(moatd_reload(), MOAT_EINVAL);
	g_unlink(path);
	ck_assert_int_eq(moatd_reload(), MOAT_EIO);	/* gone: a named file must exist */
	cur = moatd_conf_get();
	ck_assert_str_eq(cur->conf->policy.subject_tag, "[A]");
	ck_assert_uint_eq(cur->generation, 1);
	moatd_conf_unref(cur);
	stats_assert_line("moat_config_reloads_total{result=\"failed\"} 2");
	stats_assert_line("moat_config_reloads_total{result=\"ok\"} 0");
}
END_TEST

/* Sockets are bound and privileges dropped: those keys keep their running values. */
START_TEST(test_restart_keys)
{
	struct moatd_conf_ref *cur;

	start("[milter]\nsocket = unix:/run/a.sock\nuser = nobody\nsocket_mode = 0660\n"
	    "status_socket = unix:/run/a-status.sock\nspool_dir = /tmp\n");
	write_conf("[milter]\nsocket = unix:/run/b.sock\nuser = root\nsocket_mode = 0666\n"
	    "socket_group = mail\nstatus_socket = inet:9100@127.0.0.1\nspool_dir = /var/tmp\n"
	    "[policy]\nsubject_tag = [NEW]\n");
	ck_assert_int_eq(moatd_reload(), 0);
	cur = moatd_conf_get();
	ck_assert_str_eq(cur->conf->milter.socket, "unix:/run/a.sock");
	ck_assert_str_eq(cur->conf->milter.user, "nobody");
	ck_assert_str_eq(cur->conf->milter.socket_group, "");
	ck_assert_str_eq(cur->conf->milter.status_socket, "unix:/run/a-status.sock");
	ck_assert_uint_eq(cur->conf->milter.socket_mode, 0660);
	/* the rest is taken */
	ck_assert_str_eq(cur->conf->milter.spool_dir, "/var/tmp");
	ck_assert_str_eq(cur->conf->policy.subject_tag, "[NEW]");
	moatd_conf_unref(cur);
}
END_TEST

/* moatd_msg_free gives the admission back, whatever path the message ended on. */
START_TEST(test_msg_free_releases)
{
	struct moatd_msg *msg = moatd_msg_new();

	start("");
	msg->conf_ref = moatd_admit();
	stats_assert_line("moat_messages_in_flight 1");
	ck_assert_uint_eq(moatd_drain_wait(0), 1);
	moatd_msg_free(msg);
	ck_assert_uint_eq(moatd_drain_wait(0), 0);
	stats_assert_line("moat_messages_in_flight 0");
}
END_TEST

static gpointer
release_later(gpointer ref)
{
	g_usleep(150 * 1000);
	moatd_release(ref);
	return NULL;
}

START_TEST(test_drain)
{
	struct moatd_conf_ref *a, *b;
	GThread *t;
	gint64 t0;

	start("");
	a = moatd_admit();
	b = moatd_admit();
	moatd_drain_begin();
	ck_assert_ptr_null(moatd_admit());	/* new messages are tempfailed */
	ck_assert_uint_eq(moatd_drain_wait(g_get_monotonic_time() + 20 * 1000), 2);
	moatd_release(a);
	t0 = g_get_monotonic_time();
	t = g_thread_new("release", release_later, b);
	ck_assert_uint_eq(moatd_drain_wait(t0 + 5 * G_USEC_PER_SEC), 0);
	ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);	/* woken, not timed out */
	g_thread_join(t);
	moatd_conn_opened();
	ck_assert_uint_eq(moatd_conns_wait(g_get_monotonic_time() + 10 * 1000), 1);
	moatd_conn_closed();
	ck_assert_uint_eq(moatd_conns_wait(g_get_monotonic_time() + 10 * 1000), 0);
}
END_TEST

/* Readers hold a config across reloads and must see it unchanged while they hold it. */
static gint load_stop;

static gpointer
reader(gpointer data)
{
	guint *seen = data;

	while (!g_atomic_int_get(&load_stop)) {
		struct moatd_conf_ref *ref = moatd_admit();
		g_autofree char *tag = g_strdup(ref->conf->policy.subject_tag);

		for (int i = 0; i < 50; i++)
			ck_assert_str_eq(ref->conf->policy.subject_tag, tag);
		*seen = MAX(*seen, ref->generation);
		moatd_release(ref);
	}
	return NULL;
}

START_TEST(test_reload_under_load)
{
	GThread *t[4];
	guint seen[4] = { 0 };

	start("[policy]\nsubject_tag = [T0]\n");
	for (int i = 0; i < 4; i++)
		t[i] = g_thread_new("reader", reader, &seen[i]);
	for (int r = 1; r <= 40; r++) {
		g_autofree char *text = g_strdup_printf("[policy]\nsubject_tag = [T%d]\n", r);

		write_conf(r % 10 == 5 ? "[policy]\nreject_score = x\n" : text);
		moatd_reload();
		g_usleep(1000);
	}
	g_atomic_int_set(&load_stop, 1);
	for (int i = 0; i < 4; i++) {
		g_thread_join(t[i]);
		ck_assert_uint_gt(seen[i], 1);
	}
	ck_assert_uint_eq(moatd_drain_wait(0), 0);
	stats_assert_line("moat_config_reloads_total{result=\"ok\"} 36");
	stats_assert_line("moat_config_reloads_total{result=\"failed\"} 4");
}
END_TEST

/* The counters' first line is found like any other: this suite's stats_has()
 * looked for "\nLINE\n" in the text as rendered, which has no newline before
 * its first line, so it could never find that one (t_has_line does). */
START_TEST(test_stats_first_line)
{
	g_autofree char *text = stats_render();
	g_autofree char *first = g_strndup(text, strcspn(text, "\n"));

	ck_assert(g_str_has_prefix(first, "# HELP "));
	stats_assert_line(first);
}
END_TEST

Suite *
reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("reload");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_in_flight_keeps_old);
	tcase_add_test(tc, test_bad_file_keeps_running);
	tcase_add_test(tc, test_restart_keys);
	tcase_add_test(tc, test_msg_free_releases);
	tcase_add_test(tc, test_drain);
	tcase_add_test(tc, test_reload_under_load);
	tcase_add_test(tc, test_stats_first_line);
	suite_add_tcase(s, tc);
	return s;
}
