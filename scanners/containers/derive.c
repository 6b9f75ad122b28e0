/*
 * derive.c - the derive stage: smuggled files and decrypted members walked (derive.h)
 *
 * In: a report after the MIME inventory, its walk (libclamav still held).
 * Out: the same report with derived members (moat_part.derived set) and the
 * findings on its encrypted archives. One pass over the parts in order:
 * members appended by a derived walk come later in the array and are
 * visited too (a ZIP inside a decrypted ZIP, a page inside a smuggled one),
 * within the walk's limits. The candidate passwords are read once, when the
 * first encrypted member is met: mail without one pays nothing but a look
 * at each part's type. Then one pass judges each container that holds
 * encrypted members. Not thread-safe per report; reentrant.
 */
#include <string.h>

#include "moat/decrypt.h"
#include "moat/derive.h"
#include "moat/lure.h"
#include "moat/password.h"
#include "moat/smuggle.h"
#include "moat/walk.h"

#define DERIVE_NAMES_SHOWN	4	/* member names an encrypted archive's evidence lists */

/* What was tried on the encrypted members of one container. */
struct derive_box {
	guint opened;			/* members opened and walked */
	guint wrong;			/* members every candidate was tried on, in vain */
	gboolean unkept;		/* its bytes were not at hand: nothing was tried */
	const char *where;		/* where the password that opened the first came from
					 * (borrowed from the candidates) */
};

struct derive {
	struct moat_report *rep;
	const struct moat_conf *conf;
	struct walk *w;
	GPtrArray *pws;			/* struct password *: the candidates; NULL until needed */
	const char **texts;		/* their texts, for decrypt_zip() */
	guint entries;			/* encrypted entries handed to decrypt_zip() so far */
	GHashTable *boxes;		/* container -> struct derive_box *, owned; NULL until a
					 * ZIP is tried (mail without one allocates nothing) */
	GHashTable *outcomes;		/* member -> 1 + enum decrypt_outcome; likewise */
};

/* One decrypt_zip() call: the container and what is known of its members. */
struct derive_zip {
	struct derive *d;
	struct moat_part *zip;
	struct derive_box *box;
};

/* derive_candidates - the message's candidate passwords, read on first use */
static void
derive_candidates(struct derive *d)
{
	if (d->pws != NULL)
		return;
	d->pws = password_find(d->rep, PASSWORD_MAX_CANDIDATES);
	d->texts = g_new0(const char *, d->pws->len + 1);
	for (guint i = 0; i < d->pws->len; i++)
		d->texts[i] = ((const struct password *)d->pws->pdata[i])->text;
}

/*
 * derive_plausible - whether T looks like a password rather than the word
 * that follows a password word in prose ("Kennwort: wie besprochen",
 * "mot de passe : envoyé séparément", "Password - ask me"): a digit, a
 * symbol, a capital after the first letter, or at least 8 characters
 */
static gboolean
derive_plausible(const char *t)
{
	glong n = g_utf8_strlen(t, -1), i = 0;

	if (n >= 8)
		return TRUE;
	for (const char *c = t; *c != '\0'; c = g_utf8_next_char(c), i++) {
		gunichar u = g_utf8_get_char(c);

		if (g_unichar_isdigit(u) || (!g_unichar_isalpha(u) && !g_unichar_isspace(u)) ||
		    (i > 0 && g_unichar_isupper(u)) || g_unichar_type(u) == G_UNICODE_OTHER_LETTER)
			return TRUE;	/* CJK passwords are letters without case */
	}
	return FALSE;
}

/*
 * derive_cued - the first password the message gives after a password
 * word that looks like one (derive_plausible()), or NULL: what a password
 * that opens nothing is judged by
 */
static const struct password *
derive_cued(struct derive *d)
{
	derive_candidates(d);
	for (guint i = 0; i < d->pws->len; i++) {
		const struct password *pw = d->pws->pdata[i];

		if (pw->cued && derive_plausible(pw->text))
			return pw;
	}
	return NULL;
}

static struct derive_box *
derive_box(struct derive *d, struct moat_part *c)
{
	struct derive_box *b;

	if (d->boxes == NULL) {
		d->boxes = g_hash_table_new_full(NULL, NULL, NULL, g_free);
		d->outcomes = g_hash_table_new(NULL, NULL);
	}
	b = g_hash_table_lookup(d->boxes, c);

	if (b == NULL) {
		b = g_new0(struct derive_box, 1);
		g_hash_table_insert(d->boxes, c, b);
	}
	return b;
}

/* derive_closed - whether M is an encrypted member moat has not opened */
static gboolean
derive_closed(const struct moat_part *m)
{
	return m->encrypted && m->derived == NULL;
}

/* derive_has_closed - whether container C lists a member derive_closed() */
static gboolean
derive_has_closed(const struct moat_part *c)
{
	for (guint i = 0; c->children != NULL && i < c->children->len; i++)
		if (derive_closed(c->children->pdata[i]))
			return TRUE;
	return FALSE;
}

/* derive_where - the place a candidate came from, as a provenance shows it. Caller g_free()s. */
static char *
derive_where(const char *where)
{
	gsize n = strlen(where);

	if (strcmp(where, "subject") == 0)
		return g_strdup("the subject");
	/* "(part 1, text/plain)": the body's unnamed part, without its parentheses */
	if (n > 2 && where[0] == '(' && where[n - 1] == ')')
		return g_strdup_printf("the body (%.*s)", (int)(n - 2), where + 1);
	return g_strdup_printf("the body (%s)", where);
}

/* Smuggled files ------------------------------------------------------------- */

/* derive_smuggled - the files HTML part P builds in script, walked as its members */
static void
derive_smuggled(struct derive *d, struct moat_part *p)
{
	g_autoptr(GPtrArray) files = NULL;
	g_autofree char *page = p->filename != NULL ? g_strdup(lure_basename(p->filename)) :
	    derive_where(p->path_display);

	if (p->content == NULL)
		return;		/* smuggle_files() reads kept bytes only */
	files = smuggle_files(d->rep, p, walk_room(d->w));
	for (guint i = 0; files != NULL && i < files->len && !report_over_budget(d->rep); i++) {
		const struct smuggle_file *f = files->pdata[i];
		g_autofree char *prov = g_strdup_printf("decoded from %s in %s",
		    f->script ? "script" : "a data: URL", page);
		gsize len;
		const guint8 *data;

		if (f->bytes == NULL) {
			report_add_finding_at(d->rep, "container.bomb", p,
			    "a %s of %" G_GSIZE_FORMAT " bytes the page decodes is larger than "
			    "[containers] max_member_bytes leaves in memory: not scanned",
			    f->sniffed != NULL ? f->sniffed : "file", f->size);
			continue;
		}
		data = g_bytes_get_data(f->bytes, &len);
		walk_derived(d->w, p, f->name, prov, data, len);
	}
}

/* Encrypted ZIPs ------------------------------------------------------------- */

/*
 * derive_member - the encrypted member of Z listed for directory entry
 * NAME (raw) and not yet given an outcome: the walk names it as the
 * directory does, made valid UTF-8 and cut to REPORT_NAME_MAX bytes
 */
static struct moat_part *
derive_member(struct derive *d, struct moat_part *z, const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name, -1);
	g_autofree char *cut = report_shorten_dup(valid, REPORT_NAME_MAX);

	for (guint i = 0; z->children != NULL && i < z->children->len; i++) {
		struct moat_part *m = z->children->pdata[i];

		if (derive_closed(m) && m->filename != NULL && strcmp(m->filename, cut) == 0 &&
		    !g_hash_table_contains(d->outcomes, m))
			return m;
	}
	return NULL;
}

/* derive_entry - one encrypted entry's outcome (decrypt_fn): walk it when it opened */
static void
derive_entry(void *ctx, const struct decrypt_entry *e, const guint8 *data, gsize len)
{
	struct derive_zip *z = ctx;
	struct derive *d = z->d;
	struct moat_part *m = derive_member(d, z->zip, e->name);
	enum decrypt_outcome o = e->outcome;

	if (m == NULL)
		return;		/* not listed: the walk stopped at a limit, which says so */
	if (o == DECRYPT_OPENED) {
		const struct password *pw = d->pws->pdata[e->candidate];
		g_autofree char *where = derive_where(pw->where);
		g_autofree char *prov = g_strdup_printf("decrypted with the password from %s", where);

		if (walk_derived_fill(d->w, m, prov, data, len)) {
			if (z->box->opened++ == 0)
				z->box->where = pw->where;
		} else {
			o = DECRYPT_NOT_TRIED;	/* the budget ran out: it stays closed */
		}
	} else if (o == DECRYPT_WRONG) {
		z->box->wrong++;
	}
	g_hash_table_insert(d->outcomes, m, GINT_TO_POINTER(o + 1));
}

/* derive_decrypt - try the message's passwords on the closed members of ZIP P */
static void
derive_decrypt(struct derive *d, struct moat_part *p)
{
	struct derive_zip z = { d, p, NULL };
	struct decrypt_limits lim = { 0 };
	GBytes *bytes;
	gsize len;
	const guint8 *data;

	if (p->sniffed == NULL || strcmp(p->sniffed, "zip") != 0 || !derive_has_closed(p))
		return;
	z.box = derive_box(d, p);
	if ((bytes = walk_container_bytes(d->w, p)) == NULL) {
		z.box->unkept = TRUE;
		return;
	}
	derive_candidates(d);
	lim.max_entries = DECRYPT_MAX_ENTRIES - MIN(d->entries, DECRYPT_MAX_ENTRIES);
	lim.max_bytes = walk_room(d->w);
	lim.deadline = d->rep->deadline;
	if (lim.max_entries > 0) {
		data = g_bytes_get_data(bytes, &len);
		d->entries += decrypt_zip(data, len, d->texts, d->pws->len, &lim, derive_entry, &z);
	}
	g_bytes_unref(bytes);
}

/* The judgement ------------------------------------------------------------- */

/* derive_runnable - whether closed member M's name shows what runs or hides more */
static gboolean
derive_runnable(const struct moat_part *m)
{
	switch (lure_kind_of(m)) {
	case LURE_PROGRAM: case LURE_SCRIPT: case LURE_SHORTCUT: case LURE_ARCHIVE:
	case LURE_DISK_IMAGE:
		return TRUE;
	default:
		return FALSE;
	}
}

/* derive_format - what kind of encrypted archive C is, for evidence */
static const char *
derive_format(const struct moat_part *c)
{
	if (c->sniffed != NULL && strcmp(c->sniffed, "7z") == 0)
		return "7z";
	if (c->sniffed != NULL && strcmp(c->sniffed, "rar") == 0)
		return "RAR";
	return c->sniffed != NULL && strcmp(c->sniffed, "zip") == 0 ? "ZIP" : "archive";
}

/* derive_why - why closed member M of C was not opened, for its container.encrypted */
static char *
derive_why(struct derive *d, const struct moat_part *c, const struct moat_part *m,
    const struct derive_box *box)
{
	gpointer o = d->outcomes != NULL ? g_hash_table_lookup(d->outcomes, m) : NULL;
	const char *fmt = derive_format(c);

	if (strcmp(fmt, "ZIP") != 0)
		return g_strdup_printf("moat cannot decrypt %s (libarchive 3.6 has no %s decryption)",
		    fmt, fmt);
	if (box != NULL && box->unkept)
		return g_strdup("the archive's bytes were not kept ([limits] max_decoded_bytes)");
	if (d->pws != NULL && d->pws->len == 0)
		return g_strdup("the message gives no password");
	switch (o != NULL ? GPOINTER_TO_INT(o) - 1 : DECRYPT_NOT_TRIED) {
	case DECRYPT_WRONG:
		return d->pws->len == 1 ? g_strdup("the password the message gives does not open it") :
		    g_strdup_printf("none of the %u passwords the message gives opens it",
		    d->pws->len);
	case DECRYPT_UNSUPPORTED:
		return g_strdup("an encryption libarchive does not read (PKWARE strong "
		    "encryption), or an entry it does not list");
	case DECRYPT_TOO_LARGE:
		return g_strdup("larger than [containers] max_member_bytes leaves in memory");
	default:
		return g_strdup_printf("not tried (past %u encrypted members per message, or the "
		    "time budget)", DECRYPT_MAX_ENTRIES);
	}
}

/* derive_judge_box - the findings of container C, which holds encrypted members or is encrypted */
static void
derive_judge_box(struct derive *d, struct moat_part *c)
{
	const struct derive_box *box = d->boxes != NULL ? g_hash_table_lookup(d->boxes, c) : NULL;
	g_autoptr(GString) names = g_string_new(NULL);
	const struct password *cued;
	guint closed = 0, runnable = 0, listed = c->children != NULL ? c->children->len : 0;

	if (d->w != NULL && walk_names_hidden(d->w, c))
		report_add_finding_at(d->rep, "lure.encrypted_hidden_names", c,
		    "%s whose file names are encrypted: nothing in it can be seen or scanned%s",
		    derive_format(c), derive_cued(d) != NULL ? "; the message gives a password, but "
		    "moat cannot decrypt it" : "");
	for (guint i = 0; i < listed; i++) {
		const struct moat_part *m = c->children->pdata[i];
		g_autofree char *why = NULL;

		if (!derive_closed(m))
			continue;
		closed++;
		derive_candidates(d);
		why = derive_why(d, c, m, box);
		report_add_finding_at(d->rep, "container.encrypted", m,
		    "encrypted member, not scanned: %s", why);
		if (derive_runnable(m) && runnable++ < DERIVE_NAMES_SHOWN)
			g_string_append_printf(names, "%s%s", runnable > 1 ? ", " : "",
			    lure_basename(m->filename));
	}
	if (runnable > 0)
		report_add_finding_at(d->rep, "lure.encrypted_runnable", c,
		    "%s not opened, its names show what runs or hides more: %s%s (%u of %u "
		    "encrypted member%s: programs, scripts, shortcuts, archives or disk images)",
		    derive_format(c), names->str, runnable > DERIVE_NAMES_SHOWN ? ", ..." : "",
		    runnable, closed, closed == 1 ? "" : "s");
	if (box != NULL && box->wrong > 0 && box->opened == 0 && (cued = derive_cued(d)) != NULL) {
		g_autofree char *where = derive_where(cued->where);

		report_add_finding_at(d->rep, "lure.password_mismatch", c,
		    "the password given in %s opens none of its %u encrypted member%s (%u "
		    "candidate%s tried)", where, box->wrong, box->wrong == 1 ? "" : "s",
		    d->pws->len, d->pws->len == 1 ? "" : "s");
	}
	if (box != NULL && box->opened > 0) {
		g_autofree char *where = derive_where(box->where);

		report_add_finding_at(d->rep, "container.decrypted", c,
		    "%u of %u encrypted member%s opened with the password from %s and scanned",
		    box->opened, box->opened + closed, box->opened + closed == 1 ? "" : "s", where);
	}
}

/* derive_judge - the findings of every container holding encrypted members, or encrypted itself */
static void
derive_judge(struct derive *d)
{
	for (guint i = 0; i < d->rep->parts->len; i++) {
		struct moat_part *c = d->rep->parts->pdata[i];
		gboolean any = d->w != NULL && walk_names_hidden(d->w, c);

		for (guint k = 0; !any && c->children != NULL && k < c->children->len; k++)
			any = ((const struct moat_part *)c->children->pdata[k])->encrypted;
		if (any)
			derive_judge_box(d, c);
	}
}

void
derive_message(struct moat_report *rep, const struct moat_conf *conf, struct walk *w)
{
	struct derive d = { .rep = rep, .conf = conf, .w = w };
	gboolean skip = lure_skipped(conf, "derive");	/* what stays encrypted is judged anyway */

	for (guint i = 0; w != NULL && !skip && i < rep->parts->len && !report_over_budget(rep); i++) {
		struct moat_part *p = rep->parts->pdata[i];

		derive_smuggled(&d, p);
		derive_decrypt(&d, p);
	}
	if (w != NULL)
		report_over_budget(rep);	/* a limit the last part met is recorded too */
	derive_judge(&d);
	if (d.pws != NULL)
		g_ptr_array_unref(d.pws);
	g_free(d.texts);
	if (d.boxes != NULL) {
		g_hash_table_destroy(d.boxes);
		g_hash_table_destroy(d.outcomes);
	}
}
