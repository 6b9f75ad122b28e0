/*
 * main.c - moatd: the moat milter daemon
 *
 *   moatd [-c FILE] [-p SOCKET] [-f]
 *
 * -c the config (default /etc/moat/moat.conf; built-in defaults when that
 * file is absent), -p the socket ("unix:/path" or "inet:PORT@127.0.0.1",
 * overrides [milter] socket), -f stay in the foreground and log to stderr.
 * Opens the socket (as root when it must), sets its mode and group, drops
 * to [milter] user, then hands over to libmilter, which runs one thread per
 * connection and stops on SIGTERM or SIGINT. On TCP, the listening socket
 * gets TCP_NODELAY, which Linux passes on to every accepted connection.
 */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "moat/conf.h"
#include "moat/mlfi.h"
#include "moat/moatd.h"
#include "moat/scan.h"

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
	if (*conf->socket_owner != '\0') {
		if ((pw = getpwnam(conf->socket_owner)) == NULL) {
			moatd_log(NULL, LOG_ERR, "[milter] socket_owner: no user '%s'", conf->socket_owner);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (*conf->socket_group != '\0') {
		if ((gr = getgrnam(conf->socket_group)) == NULL) {
			moatd_log(NULL, LOG_ERR, "[milter] socket_group: no group '%s'", conf->socket_group);
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
	if (chmod(path, conf->socket_mode) < 0) {
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

/* moatd_drop_privileges - become [milter] user (and its groups) when started as root */
static int
moatd_drop_privileges(const struct moat_conf *conf)
{
	struct passwd *pw;

	if (*conf->user == '\0') {
		if (geteuid() == 0)
			moatd_log(NULL, LOG_WARNING, "running as root: set [milter] user");
		return 0;
	}
	if ((pw = getpwnam(conf->user)) == NULL) {
		moatd_log(NULL, LOG_ERR, "[milter] user: no user '%s'", conf->user);
		return -1;
	}
	if (geteuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		int e = errno;

		moatd_log(NULL, LOG_ERR, "cannot become %s: %s", conf->user, g_strerror(e));
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
	char *err = NULL;
	int ch, rc;

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
		sock = conf->socket;
	moatd_log_init(foreground);
	scan_init();
	mlfi_set_conf(conf);

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
	if (moatd_socket_perms(conf, sock) < 0 || moatd_drop_privileges(conf) < 0)
		return 1;
	if (!foreground && daemon(0, 0) < 0) {
		int e = errno;

		moatd_log(NULL, LOG_ERR, "daemon: %s", g_strerror(e));
		return 1;
	}
	moatd_log(NULL, LOG_INFO, "listening on %s (config %s)", sock,
	    conf->path ? conf->path : "built-in defaults");
	rc = smfi_main();
	moatd_log(NULL, LOG_INFO, "stopped");
	conf_free(conf);
	return rc == MI_SUCCESS ? 0 : 1;
}
