/*
 * report.h - what moat found in one message, and what it decided
 *
 * A report holds the envelope (empty when scanning a file), header facts,
 * the inventory of parts, the findings and the verdict. Scanners add to it;
 * the policy fills in the verdict; report_to_json() serialises it
 * (schema in README.md, REPORT_SCHEMA_VERSION below).
 *
 * A report is owned by one thread at a time. Strings in it are UTF-8 and
 * owned by the report unless a comment says "static".
 */
#ifndef MOAT_REPORT_H
#define MOAT_REPORT_H

#include <glib.h>
#include <stdarg.h>

#define REPORT_SCHEMA_VERSION 1
#define REPORT_PATH_SEP " \xe2\x80\xba "	/* " › " between path names */

/*
 * What one message can make the report hold (SECURITY.md, the memory
 * bound): a path element, a member's name and a display path are cut to
 * these many bytes (head, an ellipsis, tail: NTFS names are at most 255
 * UTF-16 units anyway); past REPORT_MAX_SAME_ID findings of one id, or
 * REPORT_MAX_FINDINGS in all, further ones are counted in findings_dropped.
 */
#define REPORT_ELEMENT_MAX	255
#define REPORT_NAME_MAX		512
#define REPORT_DISPLAY_MAX	1024
#define REPORT_MAX_SAME_ID	100
#define REPORT_MAX_FINDINGS	5000	/* past this, only the first of each kind is kept */
#define REPORT_MAX_DIRS		1024	/* directories kept per container; further ones are not */

enum moat_action {
	MOAT_ACCEPT = 0,
	MOAT_TAG,
	MOAT_QUARANTINE,
	MOAT_REJECT,
	MOAT_TEMPFAIL,
};

/* Which way a message goes ([outbound] in conf.h): its thresholds depend on it. */
enum moat_direction {
	MOAT_INBOUND = 0,
	MOAT_OUTBOUND,		/* authenticated submission or an [outbound] internal_networks client */
};

enum moat_severity {
	MOAT_SEV_INFO = 0,
	MOAT_SEV_LOW,
	MOAT_SEV_MEDIUM,
	MOAT_SEV_HIGH,
	MOAT_SEV_CRITICAL,
};

/* One kind of finding: the catalogue entry behind a stable id. All static. */
struct moat_finding_kind {
	const char *id;			/* "name.double_extension" */
	gint score;			/* default score; [scores] may override */
	enum moat_severity severity;
	const char *attack;		/* ATT&CK technique id, "" when none fits */
	const char *summary;		/* one line for README and `moat scan` */
};

struct moat_envelope {
	char *client_addr;
	char *helo;
	char *mail_from;
	GPtrArray *rcpt_to;		/* char *, owned; at most [milter] max_recipients */
	guint rcpt_dropped;		/* recipients past max_recipients: counted, not kept */
	char *auth;			/* {auth_authen}: the SMTP AUTH user, or NULL */
	char *raw_mail_from;		/* MAIL FROM as given, without <> (SPF checks it), or NULL:
					 * use mail_from */
	char *raw_helo;			/* HELO as given (SPF checks it), or NULL: use helo */
};

struct moat_headers {
	char *from;			/* the From field as decoded text */
	char *from_name;		/* display name of the first From mailbox */
	char *from_addr;		/* address of the first From mailbox */
	guint from_count;		/* mailboxes in all From fields (DMARC wants exactly one) */
	guint dkim_signatures;		/* DKIM-Signature fields */
	char *reply_to;
	char *return_path;
	char *subject;
	char *message_id;
	char *date;
};

/*
 * A directory inside a container, as the container's own listing gives it
 * (walk.h): the attributes of a folder a member sits in. A member's folders
 * are the leading elements of its filename ("_/_/putty.exe").
 */
struct moat_dir {
	char *name;			/* path inside the container, '/'-separated, no trailing '/' */
	gboolean hidden;		/* DOS/Windows hidden attribute (0x02) */
	gboolean system;		/* DOS/Windows system attribute (0x04) */
};

/*
 * One leaf of the MIME tree, or one member of a container found in one
 * (walk.h). Members follow their container in report->parts, depth first;
 * each container also lists its direct members in CHILDREN, so the lure
 * detectors (lure.h) can look at a container as a whole.
 */
struct moat_part {
	char *id;			/* MIME position, "1.2.1" ("" for a single-part message);
					 * a member adds "/N" per container level: "2/1/3" */
	struct moat_part *parent;	/* the container a member came out of; NULL for a MIME part */
	unsigned container_depth;	/* 0 for a MIME part, 1 for a member of an attachment, ... */
	guint nmembers;			/* direct members recorded */
	GPtrArray *children;		/* struct moat_part * (borrowed from the report): direct
					 * members in the order found, or NULL for none */
	GHashTable *dirs;		/* name -> struct moat_dir *, owned: the directories the
					 * container lists (zip, 7z, RAR, ISO, FAT), or NULL */
	gboolean hidden;		/* DOS/Windows hidden attribute */
	gboolean system;		/* DOS/Windows system attribute */
	gboolean encrypted;		/* stored encrypted: the bytes could not be read */
	const char *av_type;		/* static: libclamav's type ("zip", "msexe"), or NULL */
	GPtrArray *path;		/* GRefString *: names from the message down to this part,
					 * each at most REPORT_ELEMENT_MAX bytes, shared with the parent */
	char *path_display;		/* the same joined with REPORT_PATH_SEP */
	unsigned depth;			/* 0 for the top-level part, +1 per multipart or message level */
	char *content_type;		/* "application/pdf" */
	char *filename;			/* best declared name (disposition, else type name), or NULL */
	char *disp_filename;		/* Content-Disposition filename, decoded, or NULL */
	char *type_name;		/* Content-Type name, decoded, or NULL */
	char *disposition;		/* "attachment", "inline" or NULL */
	char *transfer_encoding;	/* as declared, lower-case, or NULL */
	gboolean is_attachment;		/* has a name or an attachment disposition */
	gboolean salvaged;		/* found only by the lenient reading (salvage.h) */
	guint64 decoded_size;
	char sha256[65];		/* hex, "" when the part was not decoded (a limit) */
	const char *sniffed;		/* static: sniff_type() result, e.g. "pe", "zip" */
	GBytes *content;		/* decoded bytes (not serialised), or NULL past a limit */
	char *charset;			/* a text part's declared charset, lower-case ("utf-8",
					 * "iso-8859-2"), or NULL: its content is in that charset */
	guint64 raw_start, raw_end;	/* a MIME part's encoded body: its byte range in the
					 * message as read; raw_end 0: not known (a part of an
					 * encoded message) */
	gboolean raw_b64_strict;	/* that body is base64 every decoder reads alike (the
					 * alphabet and line breaks only, whole quanta, '=' at
					 * the end): salvage.c does not read it again */
	char *derived;			/* how moat made this member's bytes itself ("decoded
					 * from script in invoice.html", "decrypted with the
					 * password from the body"), or NULL: found as it is */
};

struct moat_finding {
	char *id;			/* the kind's id, or "av.<signature>" under the "av.*" kind */
	const struct moat_finding_kind *kind;	/* static catalogue entry */
	gint score;			/* effective score after the policy applied [scores] */
	gboolean off;			/* switched off in [scores]: kept, scores 0 */
	gboolean allowed;		/* switched off by an allow list ([lists]): kept, scores 0 */
	GPtrArray *path;		/* char *: where it was found; empty for the message */
	char *path_display;
	char *evidence;			/* one line, UTF-8 */
};

struct moat_verdict {
	enum moat_action action;
	gint score;
	GPtrArray *reasons;		/* char *: "name.double_extension (8): invoice.pdf.exe" */
	enum moat_direction direction;
	char *allowed;			/* the allow entry that matched the message ("sender a@b"), or NULL */
};

struct moat_auth;			/* auth.h */

struct moat_report {
	char *source;			/* file name or "-", or NULL */
	guint64 size;			/* message bytes */
	struct moat_envelope env;
	struct moat_headers hdr;
	GPtrArray *parts;		/* struct moat_part *, owned */
	GPtrArray *findings;		/* struct moat_finding *, owned */
	struct moat_verdict verdict;
	struct moat_auth *auth;		/* sender authentication (auth.h), owned; NULL when not run */
	gint64 started;			/* monotonic µs when the report was made */
	gint64 deadline;		/* monotonic µs past which scanners stop; 0: none */
	gboolean over_budget;		/* scan.budget_exceeded recorded */
	guint64 kept;			/* decoded bytes kept in parts' content ([limits] max_decoded_bytes) */
	guint findings_dropped;		/* past REPORT_MAX_SAME_ID of one id: counted, not kept */
	GHashTable *id_counts;		/* finding id -> how many kept, and the first (report.c) */
};

/*
 * Who gets each part's decoded bytes while they are at hand (the container
 * walk): FN(CTX, P, DATA, LEN), DATA borrowed for the call. Every decoded
 * part goes through it, whether or not its bytes are kept in P->content.
 */
struct moat_leaf_hook {
	void (*fn)(void *ctx, struct moat_part *p, const guint8 *data, gsize len);
	void *ctx;
};

/* report_envelope_init - ENV empty: no strings, an empty recipient list; release with _clear() */
void report_envelope_init(struct moat_envelope *env);
/* report_envelope_copy - DST (initialised, empty) gets deep copies of SRC's fields */
void report_envelope_copy(struct moat_envelope *dst, const struct moat_envelope *src);
/* report_envelope_clear - free ENV's fields and zero it (report_envelope_init() to use it again) */
void report_envelope_clear(struct moat_envelope *env);

/* report_new - an empty report; caller frees with report_free(). */
struct moat_report *report_new(void);
/* report_free - release a report and everything in it; NULL is a no-op */
void report_free(struct moat_report *rep);

/* report_part_new - a part appended to REP (REP owns it); PATH (char *) is copied, each
 * name cut to REPORT_ELEMENT_MAX bytes */
struct moat_part *report_part_new(struct moat_report *rep, GPtrArray *path);

/*
 * report_member_new - a member of container PARENT named NAME (UTF-8, may
 * be NULL), appended to REP with id, path and depths derived from PARENT.
 * The parent's path elements are shared; NAME is cut to REPORT_NAME_MAX
 * bytes for the filename and REPORT_ELEMENT_MAX in the path.
 */
struct moat_part *report_member_new(struct moat_report *rep, struct moat_part *parent,
    const char *name);

/*
 * report_part_add_dir - record that container C lists directory NAME
 * ('/'- or '\\'-separated, a trailing separator dropped, made valid UTF-8
 * as member names are) with its attributes;
 * a directory listed twice keeps the union of its attributes; past
 * REPORT_MAX_DIRS directories in C, further ones are not recorded
 */
void report_part_add_dir(struct moat_part *c, const char *name, gboolean hidden, gboolean system);

/* report_part_dir - container C's directory NAME (as report_part_add_dir() stored it), or NULL */
const struct moat_dir *report_part_dir(const struct moat_part *c, const char *name);

/* report_part_rename - give member M the name NAME, in its path and its members' paths */
void report_part_rename(struct moat_report *rep, struct moat_part *m, const char *name);

/*
 * report_add_finding - append a finding of kind ID (must be in the catalogue,
 * or start with the group of a "group.*" entry such as "av.*": asserts) found at PATH (NULL or empty: the message itself; copied), with
 * one line of evidence built from FMT. Control characters in the evidence
 * are replaced by U+FFFD so it stays one printable line.
 * Past REPORT_MAX_SAME_ID findings of one id (or REPORT_MAX_FINDINGS in
 * all, for a kind already found) the finding is only counted
 * (findings_dropped) and an earlier one of that id or kind is returned.
 * Returns the finding, owned by REP.
 */
struct moat_finding *report_add_finding(struct moat_report *rep, const char *id,
    GPtrArray *path, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/*
 * report_add_finding_at - report_add_finding() at part AT's path, shared
 * with the part rather than copied (AT belongs to REP).
 */
struct moat_finding *report_add_finding_at(struct moat_report *rep, const char *id,
    const struct moat_part *at, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/*
 * report_over_budget - whether REP's deadline has passed; the first time
 * it has, records scan.budget_exceeded. Scanners call it between parts and
 * blocks and stop when it says TRUE (a thread cannot be stopped inside a
 * library call, so the check is cooperative).
 */
gboolean report_over_budget(struct moat_report *rep);

/* report_has_finding - first finding with ID, or NULL */
const struct moat_finding *report_has_finding(const struct moat_report *rep, const char *id);

/* report_kind_lookup - the catalogue entry for ID (or its "group.*" entry), or NULL */
const struct moat_finding_kind *report_kind_lookup(const char *id);
/* report_kinds - the whole catalogue; *n gets its length */
const struct moat_finding_kind *report_kinds(gsize *n);

const char *report_action_name(enum moat_action a);	/* "accept", ... */
const char *report_severity_name(enum moat_severity s);	/* "info", ... */
const char *report_direction_name(enum moat_direction d);	/* "inbound", "outbound" */

/*
 * report_shorten - NAME cut to at most MAX bytes (>= 16): its head, an
 * ellipsis and its tail (the extension stays), on UTF-8 character
 * boundaries. NULL when NAME fits. Caller g_free()s.
 */
char *report_shorten(const char *name, gsize max);
/* report_shorten_dup - report_shorten(), or a copy of NAME when it fits (NULL stays NULL) */
char *report_shorten_dup(const char *name, gsize max);

/*
 * report_path_display - join PATH with REPORT_PATH_SEP, control and bidi
 * characters made visible, cut to REPORT_DISPLAY_MAX bytes. Caller g_free()s.
 */
char *report_path_display(GPtrArray *path);

/*
 * report_to_json - the report as a JSON document (schema_version
 * REPORT_SCHEMA_VERSION). Caller g_free()s.
 */
char *report_to_json(const struct moat_report *rep, gboolean pretty);

enum { REPORT_TRICK_NONE = 0, REPORT_TRICK_BIDI, REPORT_TRICK_INVISIBLE };

/*
 * report_unichar_trick - whether C is a bidi control (U+202A..E, U+2066..9)
 * or an invisible character (zero-width, fillers, tags), or neither.
 */
int report_unichar_trick(gunichar c);

/* report_clean_text - a copy of S (any bytes) as valid UTF-8 with control
 * characters replaced by U+FFFD and bidi/invisible ones shown as <U+202E>; at most MAX bytes kept (0: no limit). Caller g_free()s. */
char *report_clean_text(const char *s, gssize len, gsize max);

#endif
