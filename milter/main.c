/*
 * main.c - moatd: the moat milter daemon
 *
 *   moatd [-c FILE] [-p SOCKET] [-f]
 *
 * -c the config (default /etc/moat/moat.conf; built-in defaults when that
 * file is absent), -p the socket ("unix:/path" or "inet:PORT@127.0.0.1",
 * overrides [milter] socket), -f stay in the foreground and log to stderr.
 * Opens the socket (as root when it must), sets its mode and group, opens
 * the status endpoint ([milter] status_socket) the same way, drops to
 * [milter] user, then hands over to libmilter, which runs one thread per
 * connection. On TCP, the listening socket gets TCP_NODELAY, which Linux
 * passes on to every accepted connection.
 *
 * Signals: SIGHUP reloads the config (reload.c), SIGTERM drains (new
 * messages tempfailed, those in flight finish, then exit 0), SIGINT stops
 * at once. See sigwait() below for how SIGHUP is kept from libmilter.
 */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "moat/auth.h"
#include "moat/banner.h"
#include "moat/conf.h"
#include "mlfi.h"
#include "moatd.h"
#include "reload.h"
#include "moat/scan.h"
#include "stats.h"
#include "store.h"
#include "status.h"

static void
moatd_usage(FILE *fp)
{
	fprintf(fp, "usage: moatd [-c FILE] [-p SOCKET] [-f]\n"
	    "  -c FILE    config (default " CONF_DEFAULT_PATH ")\n"
	    "  -p SOCKET  unix:/path or inet:PORT@127.0.0.1 (default: [milter] socket)\n"
	    "  -f         foreground, log to stderr\n");
}

/* moatd_socket_path - the file of a unix: or local: socket spec, or NULL */
static const char *
moatd_socket_path(const char *spec)
{
	if (g_str_has_prefix(spec, "unix:"))
		return spec + 5;
	if (g_str_has_prefix(spec, "local:"))
		return spec + 6;
	return NULL;
}

/* moatd_socket_perms - owner, group and mode of a unix socket, so the MTA can connect */
static int
moatd_socket_perms(const struct moat_conf *conf, const char *spec)
{
	const char *path = moatd_socket_path(spec);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct passwd *pw;
	struct group *gr;
	int e;

	if (path == NULL)
		return 0;
	if (*conf->milter.socket_owner != '\0') {
		if ((pw = getpwnam(conf->milter.socket_owner)) == NULL) {
			moatd_log(NULL, LOG_ERR, "[milter] socket_owner: no user '%s'", conf->milter.socket_owner);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (*conf->milter.socket_group != '\0') {
		if ((gr = getgrnam(conf->milter.socket_group)) == NULL) {
			moatd_log(NULL, LOG_ERR, "[milter] socket_group: no group '%s'", conf->milter.socket_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1)) {
		if (chown(path, uid, gid) < 0) {
			e = errno;
			moatd_log(NULL, LOG_ERR, "chown %s: %s", path, g_strerror(e));
			return -1;
		}
	}
	if (chmod(path, conf->milter.socket_mode) < 0) {
		e = errno;
		moatd_log(NULL, LOG_ERR, "chmod %s: %s", path, g_strerror(e));
		return -1;
	}
	return 0;
}

/*
 * moatd_tcp_nodelay - TCP_NODELAY on libmilter's listening TCP socket
 *
 * A verdict that takes several packets (header changes, then the accept)
 * must not be held back by Nagle until the MTA's delayed ACK: 40 ms more
 * per tagged message, measured on Linux loopback. libmilter sets no TCP
 * option but SO_KEEPALIVE and does not give out its socket, so set it on
 * the listening TCP sockets this process has right after smfi_opensocket()
 * (libmilter's); Linux copies TCP_NODELAY to each accepted socket.
 * Returns how many got it; a failure is only logged.
 */
static int
moatd_tcp_nodelay(void)
{
	int fd, n = 0, one = 1;

	for (fd = 0; fd < 1024; fd++) {
		int listening = 0, domain = 0;
		socklen_t len = sizeof(listening);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			continue;
		len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    (domain != AF_INET && domain != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
			int e = errno;

			moatd_log(NULL, LOG_WARNING, "TCP_NODELAY on the milter socket: %s",
			    g_strerror(e));
			continue;
		}
		n++;
	}
	return n;
}

/*
 * moatd_status_open - the status endpoint's socket, before the privilege
 * drop, with the milter socket's owner, group and mode; -1 when it is off
 * or cannot be had: that is logged, and mail still flows.
 */
static int
moatd_status_open(const struct moat_conf *conf)
{
	g_autofree char *err = NULL;
	int fd;

	if (*conf->milter.status_socket == '\0')
		return -1;
	if (status_listen(&fd, &err, conf->milter.status_socket) < 0) {
		moatd_log(NULL, LOG_ERR, "[milter] status_socket: %s; the counters are not served", err);
		return -1;
	}
	if (moatd_socket_perms(conf, conf->milter.status_socket) < 0) {
		const char *file = moatd_socket_path(conf->milter.status_socket);

		if (file != NULL)
			(void)unlink(file);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * sigwait - libmilter's signal thread, without SIGHUP and SIGTERM
 *
 * smfi_main() starts a thread that blocks SIGHUP, SIGTERM and SIGINT and
 * sigwait()s for them (mi_signal_thread in libmilter/signal.c, sendmail
 * 8.14 to 8.17): SIGINT aborts every connection, SIGHUP and SIGTERM both
 * stop the milter (MILTER_STOP) - measured: SIGHUP made moatd exit. And
 * Debian builds libmilter with its pool of workers (_FFR_WORKERS_POOL,
 * worker.c), whose controller and workers quit dispatching at
 * MILTER_STOP: a message in flight then never gets its end-of-message
 * answer (measured: none within 30 s). So libmilter must see neither
 * signal: moatd reloads on SIGHUP, and on SIGTERM drains before it calls
 * smfi_stop() itself. Two threads waiting for one process-directed
 * signal race for it (the kernel wakes either), so moatd defines
 * sigwait(): the dynamic linker binds libmilter's call to this definition
 * (the executable comes first in symbol lookup), which takes SIGHUP and
 * SIGTERM out of libmilter's set; SIGINT stays libmilter's (stop at once).
 * moatd's signal thread waits with sigwaitinfo(), which does not come
 * here. main() blocks the three before any thread exists, so every thread
 * inherits the mask and none is ever delivered but through these waits.
 */
static gint moatd_sigwait_seen;	/* libmilter's thread came through here (atomic) */

int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t mine = *set;
	int n;

	if (sigismember(set, SIGHUP) && sigismember(set, SIGTERM) && sigismember(set, SIGINT)) {
		sigdelset(&mine, SIGHUP);
		sigdelset(&mine, SIGTERM);
		g_atomic_int_set(&moatd_sigwait_seen, 1);
	}
	while ((n = sigwaitinfo(&mine, NULL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return errno;
	*sig = n;
	return 0;
}

/* How moatd came to stop: main() tells a drained stop from an abrupt one. */
enum { MOATD_RUNNING, MOATD_DRAINED, MOATD_CUT_OFF };
static gint moatd_stopped = MOATD_RUNNING;	/* atomic */

/*
 * moatd_drain - SIGTERM: tempfail new messages (451 4.3.2 at MAIL FROM, the
 * MTA retries), let those in flight finish for up to [milter] drain_seconds,
 * then give connections up to a second to take their last answers, which
 * libmilter writes after our callback returns. A second SIGTERM ends the
 * wait. Returns the messages left in flight.
 */
static guint
moatd_drain(void)
{
	struct moatd_conf_ref *ref = moatd_conf_get();
	guint secs = ref != NULL ? ref->conf->milter.drain_seconds : 0;
	gint64 end = g_get_monotonic_time() + (gint64)secs * G_USEC_PER_SEC;
	struct timespec now = { 0, 0 };
	sigset_t term;
	guint left;

	moatd_conf_unref(ref);
	moatd_drain_begin();
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	left = moatd_drain_wait(0);
	moatd_log(NULL, LOG_INFO, "SIGTERM: no new messages; %u in flight, waiting up to %u s",
	    left, secs);
	while (left > 0 && g_get_monotonic_time() < end) {
		if (sigtimedwait(&term, NULL, &now) > 0) {
			moatd_log(NULL, LOG_WARNING, "second SIGTERM: not waiting any longer");
			break;
		}
		left = moatd_drain_wait(MIN(end, g_get_monotonic_time() + 200 * 1000));
	}
	if (left == 0)
		moatd_conns_wait(MIN(end, g_get_monotonic_time() + G_USEC_PER_SEC));
	return left;
}

/* moatd_signals - the thread for SIGHUP (moatd_reload()) and SIGTERM (drain, then smfi_stop()) */
static gpointer
moatd_signals(gpointer data)
{
	sigset_t set;
	guint left;
	int sig;

	(void)data;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	for (;;) {
		if ((sig = sigwaitinfo(&set, NULL)) < 0)
			continue;	/* EINTR */
		if (!g_atomic_int_get(&moatd_sigwait_seen))
			moatd_log(NULL, LOG_WARNING, "libmilter did not wait for signals through "
			    "moatd's sigwait(): it may stop moatd at once on SIGHUP or SIGTERM");
		if (sig == SIGTERM)
			break;
		moatd_log(NULL, LOG_INFO, "SIGHUP: reloading the config");
		(void)moatd_reload();	/* logs and counts either way */
	}
	left = moatd_drain();
	if (left > 0)
		moatd_log(NULL, LOG_WARNING, "%u message%s still in flight: the MTA tempfails %s",
		    left, left == 1 ? "" : "s", left == 1 ? "it" : "them");
	g_atomic_int_set(&moatd_stopped, left == 0 ? MOATD_DRAINED : MOATD_CUT_OFF);
	/* libmilter's listener notices within its poll interval (5 s) and smfi_main() returns. */
	smfi_stop();
	return NULL;
}

/* moatd_drop_privileges - become [milter] user (and its groups) when started as root */
static int
moatd_drop_privileges(const struct moat_conf *conf)
{
	struct passwd *pw;

	if (*conf->milter.user == '\0') {
		if (geteuid() == 0)
			moatd_log(NULL, LOG_WARNING, "running as root: set [milter] user");
		return 0;
	}
	if ((pw = getpwnam(conf->milter.user)) == NULL) {
		moatd_log(NULL, LOG_ERR, "[milter] user: no user '%s'", conf->milter.user);
		return -1;
	}
	if (geteuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		int e = errno;

		moatd_log(NULL, LOG_ERR, "cannot become %s: %s", conf->milter.user, g_strerror(e));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH, *sock = NULL;
	gboolean explicit = FALSE, foreground = FALSE;
	struct moat_conf *conf = NULL;
	g_autofree char *status_spec = NULL, *conf_name = NULL;
	g_autoptr(GThread) signals = NULL;
	char *err = NULL;
	int ch, rc, status_fd;
	sigset_t sigs;

	/*
	 * One malloc arena per core rather than glibc's eight: libmilter's
	 * connection threads would each get one, and what is freed in an
	 * arena stays with the process (the Postfix bench, 20 sessions of
	 * 150 KB mail: peak RSS 40.3 -> 38.2 MB, no CPU cost measured).
	 * MALLOC_ARENA_MAX in the environment still decides.
	 */
	if (g_getenv("MALLOC_ARENA_MAX") == NULL)
		mallopt(M_ARENA_MAX, MAX(2, (int)g_get_num_processors()));

	/* Before any thread exists, so that all inherit it (see sigwait() above). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	while ((ch = getopt(argc, argv, "c:p:fh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; explicit = TRUE; break;
		case 'p': sock = optarg; break;
		case 'f': foreground = TRUE; break;
		case 'h': moatd_usage(stdout); return 0;
		default: moatd_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		moatd_usage(stderr);
		return 2;
	}
	if (conf_load(&conf, &err, path, !explicit) < 0) {
		fprintf(stderr, "moatd: %s\n", err);
		return 2;
	}
	if (sock == NULL)
		sock = conf->milter.socket;
	moatd_log_init(foreground);
	stats_reset();
	scan_init();
	/* The public suffix list now: a bad path is said at start, not per message. */
	if (conf->auth.enabled && auth_init(conf, &err) < 0) {
		moatd_log(NULL, LOG_WARNING, "sender authentication: %s (DMARC gives temperror)", err);
		g_clear_pointer(&err, g_free);
	}
	if (conf->banner.enabled && (err = banner_conf_check(conf)) != NULL) {
		moatd_log(NULL, LOG_WARNING, "banners: %s (tagged mail goes without one)", err);
		g_clear_pointer(&err, g_free);
	}
	/* The engine before the first message: without it mail would pass unscanned. */
	if (moatd_load_engine(conf, &err) < 0) {
		moatd_log(NULL, LOG_ERR, "%s", err);
		fprintf(stderr, "moatd: %s\n", err);
		return 1;
	}

	if (smfi_register(mlfi_desc) == MI_FAILURE || smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_opensocket(true) == MI_FAILURE) {
		moatd_log(NULL, LOG_ERR, "cannot open the milter socket %s", sock);
		fprintf(stderr, "moatd: cannot open the milter socket %s\n", sock);
		return 1;
	}
	if ((g_str_has_prefix(sock, "inet:") || g_str_has_prefix(sock, "inet6:")) &&
	    moatd_tcp_nodelay() == 0)
		moatd_log(NULL, LOG_WARNING, "no TCP socket found to set TCP_NODELAY on: "
		    "replies may wait 40 ms for the MTA's delayed ACK");
	if (moatd_socket_perms(conf, sock) < 0)
		return 1;
	status_fd = moatd_status_open(conf);
	if (moatd_drop_privileges(conf) < 0)
		return 1;
	if (!foreground && daemon(0, 0) < 0) {
		int e = errno;

		moatd_log(NULL, LOG_ERR, "daemon: %s", g_strerror(e));
		return 1;
	}
	/*
	 * The store after the fork (an SQLite connection must not cross one)
	 * and as moatd's user, so every file in it is moatd's.
	 */
	if (moatd_store_open(conf, &err) < 0) {
		moatd_log(NULL, LOG_ERR, "quarantine store: %s", err);
		if (foreground)
			fprintf(stderr, "moatd: quarantine store: %s\n", err);
		return 1;
	}
	/* Threads only now: daemon() forks, and a fork keeps only the calling thread. */
	status_spec = g_strdup(conf->milter.status_socket);
	conf_name = g_strdup(conf->path ? conf->path : "built-in defaults");
	moatd_conf_init(g_steal_pointer(&conf), path, !explicit);	/* a reload may free it */
	if ((signals = g_thread_try_new("moatd-signals", moatd_signals, NULL, NULL)) == NULL) {
		/* Without it SIGHUP and SIGTERM would stay blocked for good. */
		moatd_log(NULL, LOG_ERR, "cannot start the signal thread");
		return 1;
	}
	moatd_av_watch_start();
	moatd_store_purge_start();
	if (status_fd >= 0 && status_start(status_fd, status_spec, &err) < 0) {
		moatd_log(NULL, LOG_ERR, "%s; the counters are not served", err);
		g_clear_pointer(&err, g_free);
	}
	moatd_log(NULL, LOG_INFO, "listening on %s (config %s)%s%s", sock, conf_name,
	    status_fd >= 0 ? ", counters on " : "", status_fd >= 0 ? status_spec : "");
	rc = smfi_main();
	if (g_atomic_int_get(&moatd_stopped) != MOATD_DRAINED) {
		/*
		 * SIGINT, a listener failure or a drain cut short: libmilter has
		 * dropped its connections, and threads may still be inside a
		 * callback using their config and the scanners. Leave at once.
		 */
		moatd_drain_begin();
		if (moatd_drain_wait(0) > 0 || g_atomic_int_get(&moatd_stopped) == MOATD_CUT_OFF) {
			status_stop();
			moatd_log(NULL, LOG_INFO, "stopped, messages cut off (the MTA tempfails them)");
			_exit(rc == MI_SUCCESS ? 0 : 1);
		}
	}
	status_stop();
	moatd_av_watch_stop();
	moatd_store_close();
	moatd_conf_shutdown();
	moatd_log(NULL, LOG_INFO, "stopped");
	return rc == MI_SUCCESS ? 0 : 1;
}
