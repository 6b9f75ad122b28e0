/*
 * conf.h - the moat configuration file
 *
 * One INI-style file (GLib GKeyFile: [group] and key = value) read the same
 * way by moatd, moat and the tests. Every key has a built-in default, so a
 * missing file is not an error for callers that allow it. Unknown groups,
 * unknown keys and bad values are errors naming "[group] key" and why.
 *
 * A loaded struct moat_conf is read-only: threads may share it.
 */
#ifndef MOAT_CONF_H
#define MOAT_CONF_H

#include <glib.h>
#include <stdio.h>

#define CONF_DEFAULT_PATH "/etc/moat/moat.conf"
#ifndef MOAT_DATADIR
#define MOAT_DATADIR "/usr/local/share/moat"	/* the Makefile sets $(PREFIX)/share/moat */
#endif

/*
 * One sub-struct per module, filled from its own [group] and described by
 * the key rows the module keeps beside its code (struct conf_group in
 * confkeys.h): a new module adds a sub-struct here, its rows in its own
 * file and one line in conf.c's list of groups.
 */

/* [limits] what one message may cost (mime.c, salvage.c, scan.c; conf.c rows) */
struct conf_limits {
	guint64 max_message_bytes;	/* larger messages are not parsed */
	guint max_parts;		/* MIME parts walked per message */
	guint max_depth;		/* MIME nesting walked */
	guint64 max_decoded_bytes;	/* decoded bytes held per message */
	guint max_header_bytes;		/* one header field, longer is flagged */
	guint scan_budget_ms;		/* time one message may take */
};

/* [containers] the walk through archives and images (walk.h; rows in walk.c) */
struct conf_containers {
	guint max_depth;
	guint max_members;
	guint64 max_member_bytes;
	guint64 max_expanded_bytes;
	guint max_ratio;
};

/* [av] libclamav (av.h; rows in av.c) */
struct conf_av {
	gboolean enabled;
	char *signature_dirs;		/* "dir;dir" */
	guint check_seconds;		/* moatd: how often it looks for new signatures; 0 never */
	char *temp_dir;			/* libclamav's temp files; "" for [milter] spool_dir */
};

/* [policy] total score at or above which each action applies (policy.h; rows in policy.c) */
struct conf_policy {
	gint tag_score;
	gint quarantine_score;
	gint reject_score;
	char *subject_tag;		/* before the Subject of tagged mail; "" for none */
};

/*
 * [lists] allow and block lists (lists.h; rows in lists.c). Each is a
 * NULL-terminated vector, owned, of normalised entries sorted with
 * strcmp(); empty, never NULL.
 */
struct conf_lists {
	char **allow_senders, **block_senders;		/* envelope sender addresses */
	char **allow_domains, **block_domains;		/* sender domains, ".d" for subdomains */
	char **allow_networks, **block_networks;	/* client networks ADDR/PREFIX */
	char **allow_sha256, **block_sha256;		/* part hashes, lower-case hex */
	char **allow_recipients;			/* all recipients listed: unfiltered */
};

/* [outbound] authenticated or internal clients: their own thresholds (lists.h; rows in lists.c) */
struct conf_outbound {
	char **internal_networks;
	gint tag_score;
	gint quarantine_score;
	gint reject_score;
};

/* [milter] moatd only (milter/; rows in conf.c: `moat config check` reads them too) */
struct conf_milter {
	char *socket;			/* "unix:/path" or "inet:PORT@HOST" */
	guint socket_mode;		/* of a unix socket */
	char *socket_owner;		/* "" leaves it unchanged */
	char *socket_group;		/* "" leaves it unchanged */
	char *user;			/* drop to it after bind; "" stays */
	char *spool_dir;		/* temp files for large messages */
	guint64 spool_memory_bytes;	/* larger messages go to a temp file */
	guint poison_attempts;		/* internal failures before quarantine */
	guint max_recipients;		/* recipients kept per message; the rest are counted */
	char *status_socket;		/* counters served here (unix:/path, inet:PORT@127.0.0.1); "" off */
	guint drain_seconds;		/* SIGTERM: how long messages in flight may take */
};

/* [lure] the lure detectors (lure.h; rows in scanners/lure/lure.c) */
struct conf_lure {
	char *sideload_pairs;		/* "file;file": known side-loading host/DLL pairs */
	guint lnk_blanks;		/* blanks before a shortcut's arguments that hide them */
	char *skip;			/* "office;derive": detectors that do not run (lure_skipped()) */
	char **pairs;			/* owned, sorted: "host.exe/dll.dll", lower-case, read from
					 * sideload_pairs by lure_conf_finish(); empty, never NULL */
};

/* [auth] sender authentication (auth.h; rows in scanners/auth/auth.c) */
struct conf_auth {
	gboolean enabled;		/* run SPF, DKIM, DMARC on inbound mail */
	gboolean add_header;		/* prepend Authentication-Results */
	char *authserv_id;		/* "" the host name */
	guint dns_budget_ms;		/* all of one message's lookups */
	guint dkim_min_key_bits;	/* shorter RSA keys give dkim=policy */
	guint dkim_max_signatures;	/* signatures verified per message */
	gboolean dmarc_reject;		/* reject a DMARC fail under p=reject (550 5.7.1) */
	char *public_suffix_list;	/* organisational domains */
	char **protected_domains;	/* owned list; empty: the recipients' domains */
	char **trusted_domains;		/* owned list: look alike on purpose */
	char *protected_names;		/* "Name;Name": display names only insiders use */
};

/* [banner] warnings recipients see (banner.h; rows in scanners/banner/banner.c) */
struct conf_banner {
	gboolean enabled;		/* banner on tagged mail */
	char *language;			/* template name: "en", "de", "fr" */
	char *templates;		/* directory of LANGUAGE.conf files */
	guint max_reasons;		/* sentences under the title */
	gboolean external_notice;	/* a notice on all inbound mail from outside */
	char **skip_domains;		/* owned list: no banner when the sender's or a
					 * recipient's domain is listed */
};

/* [quarantine] moat's own store (quarantine.h; rows in quarantine/quarantine.c) */
struct conf_quarantine {
	char *mode;			/* "store": moat's store; "hold": the MTA's hold queue */
	char *backend;			/* "sqlite" or "postgresql" (quar_backends[]) */
	char *dir;			/* sqlite: the store (restart-only in moatd) */
	char *pg_conninfo;		/* postgresql: libpq connection string */
	char *node;			/* this gateway's name in rows and logs; "" the host name */
	char *reply;			/* store mode, once stored: "discard" or "reject" */
	guint retention_days;		/* items older are purged; 0 keeps them */
	guint64 max_bytes;		/* message files in the store; 0 no quota */
	char *full_action;		/* over max_bytes: "tempfail" or "hold" */
	char *admin_group;		/* besides moatd's user, who may use moat quarantine; "" none */
	char *release_host;		/* "host:port" of an MTA listener without milters */
	char *release_helo;		/* EHLO name of a release; "" the host name */
	guint release_timeout;		/* seconds per SMTP step of a release */
};

/* [web] moat-web, the quarantine in a browser (web/web.h; rows in web/webconf.c) */
struct conf_web {
	char *listen;			/* "inet:PORT@HOST" or "unix:/path" */
	guint listen_mode;		/* of a unix socket */
	char *users;			/* the users file (moat web user) */
	guint session_ttl;		/* idle seconds before a session ends */
	char **trusted_proxy;		/* owned list of networks: their proxy_user_header counts */
	char *proxy_user_header;	/* "" off */
	guint login_max_failures;	/* per user name and per address */
	guint login_lockout;		/* seconds */
	guint page_size;		/* items per list page */
};

struct moat_conf {
	struct conf_limits limits;
	struct conf_containers containers;
	struct conf_av av;
	struct conf_policy policy;
	struct conf_lists lists;
	struct conf_outbound outbound;
	struct conf_milter milter;
	struct conf_lure lure;
	struct conf_quarantine quarantine;
	struct conf_auth auth;
	struct conf_banner banner;
	struct conf_web web;

	/* [scores] finding id -> score override; "off" is CONF_SCORE_OFF */
	GHashTable *scores;		/* owned: char * -> GINT_TO_POINTER */

	char *path;			/* file read, or NULL for built-in defaults */
};

#define CONF_SCORE_OFF G_MININT	/* the finding is recorded but scores 0 */
/* Stored for "tag", "quarantine", "reject": the threshold of that action. */
#define CONF_SCORE_TAG (G_MININT + 1)
#define CONF_SCORE_QUARANTINE (G_MININT + 2)
#define CONF_SCORE_REJECT (G_MININT + 3)

/*
 * conf_new_defaults - a config holding the built-in defaults.
 * Caller frees with conf_free(). Never fails (aborts on out of memory, as GLib does).
 */
struct moat_conf *conf_new_defaults(void);

/*
 * conf_load - read PATH over the defaults.
 * On success *out is a new config (caller frees with conf_free()) and 0 is
 * returned. On failure returns MOAT_EIO (unreadable) or MOAT_EINVAL (bad
 * content) and sets *err to a message such as
 * "/etc/moat/moat.conf: [limits] max_depth: not a number: 'x'" (caller g_free()s).
 * When MISSING_OK is true and PATH does not exist, the defaults are returned.
 */
int conf_load(struct moat_conf **out, char **err, const char *path, gboolean missing_ok);

/* conf_load_data - as conf_load() but from a string (tests, fuzzers) */
int conf_load_data(struct moat_conf **out, char **err, const char *data, gsize len);

/* conf_free - release a config; NULL is a no-op */
void conf_free(struct moat_conf *conf);

/*
 * conf_finding_score - the score a finding ID carries under CONF: the
 * [scores] override for ID, else for its group ("attach.*"), else
 * DEFAULT_SCORE. "tag", "quarantine" and "reject" give that threshold.
 * Returns CONF_SCORE_OFF when the finding is switched off.
 */
gint conf_finding_score(const struct moat_conf *conf, const char *id, gint default_score);

/*
 * conf_finding_score_at - conf_finding_score() with the thresholds TAG,
 * QUARANTINE and REJECT giving the words their scores (outbound mail has its own).
 */
gint conf_finding_score_at(const struct moat_conf *conf, const char *id, gint default_score,
    gint tag, gint quarantine, gint reject);

/* conf_print - write the effective config, every key, as a valid config file */
void conf_print(const struct moat_conf *conf, FILE *fp);

/* conf_print_reference - the key reference (group, key, default, meaning) as a Markdown table */
void conf_print_reference(FILE *fp);

/*
 * conf_print_reference_man - the same keys as roff for moat.conf(5): one
 * .SS [group] per group, one .TP "key = default" and its meaning per key
 */
void conf_print_reference_man(FILE *fp);

#endif
