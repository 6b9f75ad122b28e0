/*
 * web.c - `moat web user`: who may use moat-web, the quarantine in a browser
 *
 *   web user add NAME admin|reviewer|auditor   asks for the password
 *   web user passwd NAME                       asks for a new password
 *   web user role NAME admin|reviewer|auditor
 *   web user del NAME
 *   web user list
 *
 * The users file is [web] users (webusers.h): written as a whole, a temp
 * file renamed over the old one, mode 0640; a new file gets the group of
 * [milter] user, so moat-web (running as that user) can read it and no one
 * else can. The password comes from the terminal (asked twice, not
 * echoed), or as the first line of standard input when that is no
 * terminal (scripts). At least 8 characters. moat-web notices a changed
 * file at the next request: a deleted user is logged out then.
 *
 * Exit status: 0 done; 1 no such user, or already there; 2 usage, file or
 * password error.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "moat/moat.h"
#include "moat/webusers.h"

#define WCMD_PASSWORD_MIN 8

/* wcmd_usage - how to call it, on stderr; 2 */
static int
wcmd_usage(void)
{
	fprintf(stderr, "usage: moat web user add NAME admin|reviewer|auditor | passwd NAME |\n"
	    "           role NAME admin|reviewer|auditor | del NAME | list\n");
	return 2;
}

/* wcmd_read_line - one line from FP into BUF (no newline); FALSE at EOF or when too long */
static gboolean
wcmd_read_line(char *buf, gsize size, FILE *fp)
{
	gsize n;

	if (fgets(buf, (int)size, fp) == NULL)
		return FALSE;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(fp))
		return FALSE;	/* longer than the buffer */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return TRUE;
}

/* wcmd_ask - PROMPT on the terminal, the answer without echo */
static gboolean
wcmd_ask(char *buf, gsize size, const char *prompt)
{
	struct termios old, quiet;
	gboolean ok;

	fprintf(stderr, "%s", prompt);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return FALSE;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	ok = wcmd_read_line(buf, size, stdin);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	return ok;
}

/* wcmd_password - NAME's new password's hash (caller g_free()s), or NULL with the reason said */
static char *
wcmd_password(const char *name)
{
	char pw[WEBUSERS_PASSWORD_MAX + 2], again[WEBUSERS_PASSWORD_MAX + 2];
	g_autofree char *prompt = g_strdup_printf("password for %s: ", name);
	char *hash = NULL;
	gboolean ok;

	if (isatty(STDIN_FILENO))
		ok = wcmd_ask(pw, sizeof(pw), prompt) && wcmd_ask(again, sizeof(again), "again: ") &&
		    (strcmp(pw, again) == 0 || (fprintf(stderr, "moat web user: the two differ\n"), FALSE));
	else
		ok = wcmd_read_line(pw, sizeof(pw), stdin);
	if (ok && (strlen(pw) < WCMD_PASSWORD_MIN || strlen(pw) > WEBUSERS_PASSWORD_MAX)) {
		fprintf(stderr, "moat web user: a password has %d to %d characters\n", WCMD_PASSWORD_MIN,
		    WEBUSERS_PASSWORD_MAX);
		ok = FALSE;
	} else if (!ok) {
		fprintf(stderr, "moat web user: no password read\n");
	}
	if (ok && (hash = webusers_hash(pw)) == NULL)
		fprintf(stderr, "moat web user: hashing failed (out of memory?)\n");
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	return hash;
}

/* wcmd_gid - the group a new users file gets: [milter] user's, or -1 (the caller's) */
static gid_t
wcmd_gid(const struct moat_conf *conf)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (*conf->milter.user == '\0' ||
	    getpwnam_r(conf->milter.user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return (gid_t)-1;
	return pw.pw_gid;
}

/* wcmd_change - add, passwd, role or del on USERS; 0, 1 (state) or 2 */
static int
wcmd_change(GPtrArray *users, const char *sub, int argc, char **argv)
{
	const char *name = argc >= 2 ? argv[1] : NULL;
	struct webusers_user *u;
	int role = -1;

	if (!webusers_name_valid(name)) {
		fprintf(stderr, "moat web user %s: a name has 1 to %d of A-Z a-z 0-9 . _ - @\n", sub,
		    WEBUSERS_NAME_MAX);
		return 2;
	}
	if ((strcmp(sub, "add") == 0 || strcmp(sub, "role") == 0) &&
	    (argc != 3 || (role = webusers_role_parse(argv[2])) < 0))
		return wcmd_usage();
	if ((strcmp(sub, "del") == 0 || strcmp(sub, "passwd") == 0) && argc != 2)
		return wcmd_usage();
	u = webusers_find(users, name);
	if (strcmp(sub, "add") == 0) {
		if (u != NULL) {
			fprintf(stderr, "moat web user add: %s is there already\n", name);
			return 1;
		}
		u = g_new0(struct webusers_user, 1);
		u->name = g_strdup(name);
		u->role = (enum webusers_role)role;
		if ((u->hash = wcmd_password(name)) == NULL) {
			webusers_user_free(u);
			return 2;
		}
		g_ptr_array_add(users, u);
		return 0;
	}
	if (u == NULL) {
		fprintf(stderr, "moat web user %s: no user %s\n", sub, name);
		return 1;
	}
	if (strcmp(sub, "del") == 0) {
		g_ptr_array_remove(users, u);
	} else if (strcmp(sub, "role") == 0) {
		u->role = (enum webusers_role)role;
	} else {
		char *hash = wcmd_password(name);

		if (hash == NULL)
			return 2;
		g_free(u->hash);
		u->hash = hash;
	}
	return 0;
}

int
cmd_web(const struct moat_conf *conf, int argc, char **argv)
{
	const char *path = conf->web.users;
	g_autoptr(GPtrArray) users = NULL;
	g_autofree char *err = NULL;
	const char *sub;
	int status;

	if (argc < 3 || strcmp(argv[1], "user") != 0)
		return wcmd_usage();
	sub = argv[2];
	if (webusers_init() < 0) {
		fprintf(stderr, "moat web user: libsodium did not start\n");
		return 2;
	}
	if (webusers_load(&users, &err, path) < 0) {
		fprintf(stderr, "moat web user: %s\n", err);
		return 2;
	}
	if (strcmp(sub, "list") == 0 && argc == 3) {
		for (guint i = 0; i < users->len; i++) {
			const struct webusers_user *u = users->pdata[i];

			printf("%-24s %s\n", u->name, webusers_role_name(u->role));
		}
		return 0;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "passwd") != 0 && strcmp(sub, "del") != 0 &&
	    strcmp(sub, "role") != 0)
		return wcmd_usage();
	if ((status = wcmd_change(users, sub, argc - 2, argv + 2)) != 0)
		return status;
	if (webusers_save(&err, path, users, wcmd_gid(conf)) < 0) {
		fprintf(stderr, "moat web user %s: %s\n", sub, err);
		return 2;
	}
	printf("%s: %s %s\n", path, argv[3], strcmp(sub, "add") == 0 ? "added" :
	    strcmp(sub, "del") == 0 ? "deleted" : strcmp(sub, "role") == 0 ? "has a new role" :
	    "has a new password");
	return 0;
}
