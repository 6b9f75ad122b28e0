/*
 * webconf.c - the [web] rows of moat.conf: moat-web, the quarantine in a browser
 *
 * Only the rows live here (they are in libmoatscan, so that moatd, moat
 * config check and the tests read a [web] group as moat-web does); the
 * program is web/main.c and its modules. No code, no state.
 */
#include "moat/confkeys.h"

/* [web] (conf->web) */
static const struct conf_key web_conf_keys[] = {
	{ "web", "listen", CONF_SOCKET, CONF_OFF(web.listen), "inet:8470@127.0.0.1", 1, 200,
	    "Where moat-web listens: inet:PORT@127.0.0.1 or unix:/path (a reverse proxy in "
	    "front gives TLS). A non-loopback address is logged as a warning: moat-web speaks "
	    "plain HTTP." },
	{ "web", "listen_mode", CONF_MODE, CONF_OFF(web.listen_mode), "0660", 0, 0777,
	    "Permissions of a unix socket, octal (the proxy's user needs write access)." },
	{ "web", "users", CONF_STRING, CONF_OFF(web.users), "/etc/moat/web-users", 1, 1024,
	    "The users file moat web user writes: name, role and Argon2id hash per line, "
	    "mode 0640, group of [milter] user. moat-web reads it again when it changes." },
	{ "web", "session_ttl", CONF_UINT, CONF_OFF(web.session_ttl), "3600", 60, 86400,
	    "Seconds a session lives without a request; every session ends 12 hours after "
	    "its login at the latest." },
	{ "web", "trusted_proxy", CONF_LIST_NETWORK, CONF_OFF(web.trusted_proxy), "", 0, 100,
	    "Addresses of reverse proxies whose proxy_user_header is believed, separated by "
	    "';'. A peer on a unix socket counts as 127.0.0.1." },
	{ "web", "proxy_user_header", CONF_STRING, CONF_OFF(web.proxy_user_header), "", 0, 64,
	    "Header (e.g. X-Remote-User) in which a trusted_proxy names the user it "
	    "authenticated; the user must be in the users file, which gives the role. "
	    "Empty: every user logs in with a password." },
	{ "web", "login_max_failures", CONF_UINT, CONF_OFF(web.login_max_failures), "5", 1, 1000,
	    "Failed logins for one user name, or from one address, after which logins are "
	    "refused for login_lockout seconds." },
	{ "web", "login_lockout", CONF_UINT, CONF_OFF(web.login_lockout), "900", 1, 86400,
	    "Seconds failed logins are counted, and logins refused once there were too many." },
	{ "web", "page_size", CONF_UINT, CONF_OFF(web.page_size), "50", 10, 1000,
	    "Items on one page of the list." },
};

const struct conf_group web_conf_group = CONF_GROUP("web", web_conf_keys);
