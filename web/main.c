/*
 * main.c - moat-web, the quarantine in a browser
 *
 *   moat-web [-c FILE] [-l LISTEN] [-f]
 *
 * Reads moat.conf ([web], [quarantine], [milter] user), opens [web]
 * listen (or LISTEN: inet:PORT@127.0.0.1, unix:/path), then, when started
 * as root, becomes [milter] user (moatd's: the store's owner) before it
 * opens the store, so that nothing in the store is ever made by another
 * owner; then serves until SIGTERM or SIGINT. A separate program from
 * moatd on purpose: it parses requests from browsers and needs the store,
 * not the milter. -f logs to stderr as well as syslog (mail facility).
 *
 * Exit status: 0 after a signal; 2 on a usage, config, socket, user or
 * store error (said on stderr and in syslog).
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "moat/mime.h"
#include "moat/moat.h"
#include "web.h"

/* main_become - root becomes [milter] user (and HOME its home, for libpq's ~/.pgpass) */
static int
main_become(const struct moat_conf *conf, char **err)
{
	const char *user = conf->milter.user;
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (geteuid() != 0 || *user == '\0')
		return 0;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		*err = g_strdup_printf("[milter] user: no user '%s'", user);
		return MOAT_EPERM;
	}
	if (initgroups(pw.pw_name, pw.pw_gid) < 0 || setgid(pw.pw_gid) < 0 || setuid(pw.pw_uid) < 0) {
		int e = errno;

		*err = g_strdup_printf("cannot become %s: %s", user, g_strerror(e));
		return MOAT_EPERM;
	}
	g_setenv("HOME", pw.pw_dir, TRUE);
	return 0;
}

/* main_own_socket - a unix socket made as root goes to [milter] user, so a restart as them can replace it */
static void
main_own_socket(const struct moat_conf *conf, const char *spec)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (geteuid() != 0 || *conf->milter.user == '\0' || !g_str_has_prefix(spec, "unix:") ||
	    getpwnam_r(conf->milter.user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return;
	if (chown(spec + 5, pw.pw_uid, pw.pw_gid) < 0)
		syslog(LOG_WARNING, "%s: cannot give it to %s", spec, conf->milter.user);
}

/* main_wait - block until SIGTERM or SIGINT (blocked in every thread before they start) */
static int
main_wait(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH, *listen_spec = NULL;
	struct moat_conf *conf = NULL;
	struct web_server *srv = NULL;
	struct web_app app = { 0 };
	char *err = NULL;
	gboolean foreground = FALSE, is_unix = FALSE;
	sigset_t set;
	int ch, fd = -1, status = 2;

	while ((ch = getopt(argc, argv, "c:l:f")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'l': listen_spec = optarg; break;
		case 'f': foreground = TRUE; break;
		default:
			fprintf(stderr, "usage: moat-web [-c FILE] [-l inet:PORT@HOST|unix:/path] [-f]\n");
			return 2;
		}
	}
	openlog("moat-web", LOG_PID | (foreground ? LOG_PERROR : 0), LOG_MAIL);
	if (conf_load(&conf, &err, path, TRUE) < 0 || webusers_init() < 0)
		goto out;
	if (listen_spec == NULL)
		listen_spec = conf->web.listen;
	mime_init();
	if (web_listen(&fd, &is_unix, &err, listen_spec, conf->web.listen_mode) < 0)
		goto out;
	main_own_socket(conf, listen_spec);
	if (main_become(conf, &err) < 0 || quar_open(&app.q, &err, conf, 0) < 0)
		goto out;
	app.conf = conf;
	app.auth = web_auth_new(conf);
	/* signals to main_wait() only: block them before libmicrohttpd's threads start */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (web_server_start(&srv, &err, &app, fd, is_unix) < 0)
		goto out;
	fd = -1;	/* the server's now */
	syslog(LOG_INFO, "listening on %s (store %s, users %s)", listen_spec,
	    strcmp(conf->quarantine.backend, "sqlite") == 0 ? conf->quarantine.dir : "postgresql",
	    conf->web.users);
	if (!is_unix && !g_str_has_suffix(listen_spec, "@127.0.0.1") &&
	    !g_str_has_suffix(listen_spec, "@::1") && !g_str_has_suffix(listen_spec, "@localhost"))
		syslog(LOG_WARNING, "%s is not loopback: moat-web speaks plain HTTP, put a TLS proxy "
		    "in front", listen_spec);
	syslog(LOG_INFO, "stopping on signal %d", main_wait(&set));
	status = 0;
out:
	if (err != NULL) {
		syslog(LOG_ERR, "%s", err);
		if (!foreground)
			fprintf(stderr, "moat-web: %s\n", err);
	}
	web_server_stop(srv);
	if (fd >= 0)
		close(fd);
	web_auth_free(app.auth);
	quar_close(app.q);
	conf_free(conf);
	g_free(err);
	closelog();
	return status;
}
