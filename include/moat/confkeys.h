/*
 * confkeys.h - how a module describes its [group] of moat.conf
 *
 * Each module keeps the rows of its own group beside its code: key name,
 * type, where in struct moat_conf the value goes (its sub-struct), the
 * default as written in the file, bounds and the one-line meaning that
 * `moat config reference`, moat.conf(5) and README's table print. conf.c
 * joins the groups (conf_groups[]) and does all the parsing. Only conf.c
 * and the modules that own a group include this header.
 */
#ifndef MOAT_CONFKEYS_H
#define MOAT_CONFKEYS_H

#include <stddef.h>

#include <glib.h>

#include "moat/conf.h"

/* CONF_LIST_*: ';'-separated lists whose entries entry_normalise() checks. */
enum conf_type { CONF_BYTES, CONF_UINT, CONF_INT, CONF_MODE, CONF_STRING, CONF_SOCKET, CONF_BOOL,
	CONF_LIST_ADDRESS, CONF_LIST_DOMAIN, CONF_LIST_NETWORK, CONF_LIST_SHA256 };

struct conf_key {
	const char *group;
	const char *key;
	enum conf_type type;
	size_t offset;		/* CONF_OFF(sub.field) */
	const char *def;	/* default, as it would be written in the file */
	gint64 min, max;	/* a list: how many entries */
	const char *doc;
};

/* One [group]: its rows, in the order moat config prints them. */
struct conf_group {
	const char *name;
	const struct conf_key *keys;
	gsize n;
};

#define CONF_OFF(f) offsetof(struct moat_conf, f)
#define CONF_GROUP(name, rows) { name, rows, G_N_ELEMENTS(rows) }
#define CONF_LIST_MAX 100000		/* entries in one list */

extern const struct conf_group conf_limits_group;	/* [limits], conf.c */
extern const struct conf_group walk_conf_group;		/* [containers], walk.c */
extern const struct conf_group av_conf_group;		/* [av], av.c */
extern const struct conf_group policy_conf_group;	/* [policy], policy.c */
extern const struct conf_group lists_conf_group;	/* [lists], lists.c */
extern const struct conf_group lists_outbound_group;	/* [outbound], lists.c */
extern const struct conf_group conf_milter_group;	/* [milter], conf.c */
extern const struct conf_group lure_conf_group;		/* [lure], lure.c */
extern const struct conf_group auth_conf_group;		/* [auth], scanners/auth/auth.c */
extern const struct conf_group banner_conf_group;	/* [banner], scanners/banner/banner.c */
extern const struct conf_group quar_conf_group;		/* [quarantine], quarantine/quarantine.c */
extern const struct conf_group web_conf_group;		/* [web], web/webconf.c */

#endif
