/*
 * words.c - what the banner says: sentences from the findings (banner.h)
 *
 * In: a scored report, [banner] language, templates and max_reasons. Out: a
 * struct banner_text. Templates are GLib key files, TEMPLATES/LANGUAGE.conf
 * (conf/banners/en.conf documents the groups, keys and placeholders).
 *
 * A template file is read, checked (every placeholder known, every brace
 * closed, the keys present) and kept in a table keyed by its path and
 * checked against the file's inode, size and mtime on each use, so moatd
 * costs a stat() per bannered message and reads a file only when it
 * changed. The table is guarded by words_lock; a loaded template is
 * immutable and reference-counted (g_atomic_rc_box), so a message keeps
 * the one it started with while another thread replaces it.
 *
 * Every value put into a sentence is plain text, control characters shown
 * as U+FFFD and bidi or invisible ones as <U+202E> (report_clean_text()),
 * cut to WORDS_VALUE_MAX bytes (head, ellipsis, tail). Escaping for HTML is
 * rewrite.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat/banner.h"
#include "moat/auth.h"
#include "moat/moat.h"

#define WORDS_VALUE_MAX		96	/* bytes of one placeholder's value */
#define WORDS_EVIDENCE_MAX	160	/* bytes of {evidence} */
#define WORDS_FILE_MAX		(256 * 1024)	/* a template file larger is refused */
#define WORDS_CACHE_MAX		16	/* template files kept; past it the table starts over */

/* The placeholders, in the order of words_names[]. */
enum words_ph {
	PH_FILE, PH_PATH, PH_FROM, PH_FROM_NAME, PH_FROM_DOMAIN, PH_SPF_DOMAIN,
	PH_PROTECTED, PH_SIGNATURE, PH_EVIDENCE, PH_COUNT
};

static const char *const words_names[PH_COUNT] = {
	"file", "path", "from", "from_name", "from_domain", "spf_domain",
	"protected", "signature", "evidence",
};

/* [banner] keys a template must have; the last three are words, not sentences */
static const char *const words_banner_keys[] = {
	"title", "advice", "external", "message", "unnamed", "unknown",
};
#define WORDS_SENTENCES 3	/* title, advice, external take placeholders */

/* One template file as loaded: immutable, shared by reference (g_atomic_rc_box). */
struct words_tmpl {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	GHashTable *banner;		/* key -> sentence, owned */
	GHashTable *reasons;		/* finding id, "group.*" or "default" -> sentence */
	GHashTable *message;		/* the same for findings about the message itself */
};

static GMutex words_lock;		/* guards words_cache */
static GHashTable *words_cache;		/* path -> struct words_tmpl * (one reference each) */

static void
words_tmpl_clear(gpointer data)
{
	struct words_tmpl *t = data;

	g_clear_pointer(&t->banner, g_hash_table_unref);
	g_clear_pointer(&t->reasons, g_hash_table_unref);
	g_clear_pointer(&t->message, g_hash_table_unref);
}

static void
words_tmpl_unref(gpointer t)
{
	g_atomic_rc_box_release_full(t, words_tmpl_clear);
}

/*
 * words_expand - TMPL with its placeholders replaced by VALS[] (OUT NULL:
 * only checked). FALSE when a brace is not closed or a name is unknown:
 * *BAD gets what was wrong (caller g_free()s). "{{" and "}}" are braces.
 */
static gboolean
words_expand(GString *out, const char *tmpl, char *const *vals, char **bad)
{
	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *end;
		guint i;

		if ((*p == '{' || *p == '}') && p[1] == *p) {
			if (out != NULL)
				g_string_append_c(out, *p);
			p++;
			continue;
		}
		if (*p == '}') {
			*bad = g_strdup("a '}' without '{' (write '}}' for a brace)");
			return FALSE;
		}
		if (*p != '{') {
			if (out != NULL)
				g_string_append_c(out, *p);
			continue;
		}
		if ((end = strchr(p + 1, '}')) == NULL) {
			*bad = g_strdup("a '{' without '}' (write '{{' for a brace)");
			return FALSE;
		}
		for (i = 0; i < PH_COUNT; i++)
			if (strlen(words_names[i]) == (gsize)(end - p - 1) &&
			    strncmp(words_names[i], p + 1, (gsize)(end - p - 1)) == 0)
				break;
		if (i == PH_COUNT) {
			*bad = g_strdup_printf("unknown placeholder {%.*s}", (int)MIN(end - p - 1, 64),
			    p + 1);
			return FALSE;
		}
		if (out != NULL)
			g_string_append(out, vals[i]);
		p = end;
	}
	return TRUE;
}

/* words_read_group - GROUP of KF into a new table, each value checked; NULL and *err on error */
static GHashTable *
words_read_group(GKeyFile *kf, const char *path, const char *group, gboolean optional,
    char **err)
{
	g_autoptr(GHashTable) tab = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) keys = NULL;
	g_autoptr(GError) gerr = NULL;

	if (!g_key_file_has_group(kf, group)) {
		if (optional)
			return g_steal_pointer(&tab);
		*err = g_strdup_printf("%s: no [%s] group", path, group);
		return NULL;
	}
	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree char *v = g_key_file_get_string(kf, group, keys[i], &gerr);
		g_autofree char *bad = NULL;

		if (v == NULL) {
			*err = g_strdup_printf("%s: [%s] %s: %s", path, group, keys[i], gerr->message);
			return NULL;
		}
		if (!words_expand(NULL, v, NULL, &bad)) {
			*err = g_strdup_printf("%s: [%s] %s: %s", path, group, keys[i], bad);
			return NULL;
		}
		g_hash_table_insert(tab, g_strdup(keys[i]), g_steal_pointer(&v));
	}
	return g_steal_pointer(&tab);
}

/* words_check - the keys every template needs, and no placeholders where a word goes */
static gboolean
words_check(const struct words_tmpl *t, const char *path, char **err)
{
	for (guint i = 0; i < G_N_ELEMENTS(words_banner_keys); i++) {
		const char *v = g_hash_table_lookup(t->banner, words_banner_keys[i]);

		if (v == NULL || *v == '\0') {
			*err = g_strdup_printf("%s: [banner] %s: missing", path, words_banner_keys[i]);
			return FALSE;
		}
		if (i >= WORDS_SENTENCES && strpbrk(v, "{}") != NULL) {
			*err = g_strdup_printf("%s: [banner] %s: a word, no placeholders", path,
			    words_banner_keys[i]);
			return FALSE;
		}
	}
	if (g_hash_table_lookup(t->reasons, "default") == NULL) {
		*err = g_strdup_printf("%s: [reasons] default: missing", path);
		return FALSE;
	}
	return TRUE;
}

/* words_parse - a template from DATA (read from PATH); NULL and *err when it is broken */
static struct words_tmpl *
words_parse(const char *path, const char *data, gsize len, char **err)
{
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	struct words_tmpl *t = g_atomic_rc_box_new0(struct words_tmpl);

	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		*err = g_strdup_printf("%s: %s", path, gerr->message);
		goto fail;
	}
	if ((t->banner = words_read_group(kf, path, "banner", FALSE, err)) == NULL ||
	    (t->reasons = words_read_group(kf, path, "reasons", FALSE, err)) == NULL ||
	    (t->message = words_read_group(kf, path, "message", TRUE, err)) == NULL ||
	    !words_check(t, path, err))
		goto fail;
	g_key_file_free(kf);
	return t;
fail:
	g_clear_error(&gerr);
	g_key_file_free(kf);
	words_tmpl_unref(t);
	return NULL;
}

/* words_same - whether T was loaded from the file ST describes */
static gboolean
words_same(const struct words_tmpl *t, const struct stat *st)
{
	return t->dev == st->st_dev && t->ino == st->st_ino && t->size == st->st_size &&
	    t->mtime.tv_sec == st->st_mtim.tv_sec && t->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* words_read - PATH read and parsed, stamped with what fstat() said of the bytes read */
static struct words_tmpl *
words_read(const char *path, char **err)
{
	struct words_tmpl *t = NULL;
	char *data = NULL;
	struct stat st;
	gsize got = 0;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		e = errno;
		*err = g_strdup_printf("%s: cannot open: %s", path, g_strerror(e));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > WORDS_FILE_MAX) {
		*err = g_strdup_printf("%s: not a regular file of at most %d bytes", path,
		    WORDS_FILE_MAX);
		goto out;
	}
	data = g_malloc((gsize)st.st_size + 1);
	while (got < (gsize)st.st_size) {
		ssize_t n = read(fd, data + got, (gsize)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			*err = g_strdup_printf("%s: cannot read: %s", path, g_strerror(e));
			goto out;
		}
		got += (gsize)n;
	}
	data[got] = '\0';
	if ((t = words_parse(path, data, got, err)) != NULL) {
		t->dev = st.st_dev;
		t->ino = st.st_ino;
		t->size = st.st_size;
		t->mtime = st.st_mtim;
	}
out:
	g_free(data);
	close(fd);
	return t;
}

/*
 * words_load - CONF's template, from the table or read again when the file
 * changed; a reference the caller releases with words_tmpl_unref(). NULL
 * and *err (naming the file and key) when the language is not a plain name
 * or the file is missing or broken.
 */
static struct words_tmpl *
words_load(const struct moat_conf *conf, char **err)
{
	const char *lang = conf->banner.language;
	g_autofree char *path = NULL;
	struct words_tmpl *t;
	struct stat st;
	int e;

	if (lang == NULL || *lang == '\0' || strchr(lang, '/') != NULL ||
	    strstr(lang, "..") != NULL) {
		*err = g_strdup_printf("[banner] language '%s': not a template name",
		    lang != NULL ? lang : "");
		return NULL;
	}
	if (conf->banner.templates == NULL || *conf->banner.templates == '\0') {
		*err = g_strdup("[banner] templates: no directory");
		return NULL;
	}
	path = g_strdup_printf("%s/%s.conf", conf->banner.templates, lang);
	if (stat(path, &st) != 0) {
		e = errno;
		*err = g_strdup_printf("%s: %s", path, g_strerror(e));
		return NULL;
	}
	g_mutex_lock(&words_lock);
	if (words_cache == NULL)
		words_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    words_tmpl_unref);
	t = g_hash_table_lookup(words_cache, path);
	if (t != NULL && words_same(t, &st)) {
		t = g_atomic_rc_box_acquire(t);
	} else if ((t = words_read(path, err)) != NULL) {
		if (g_hash_table_size(words_cache) >= WORDS_CACHE_MAX)
			g_hash_table_remove_all(words_cache);
		g_hash_table_replace(words_cache, g_strdup(path), g_atomic_rc_box_acquire(t));
	}
	g_mutex_unlock(&words_lock);
	return t;
}

/* words_value - S as a placeholder's value: cleaned, cut to MAX; EMPTY when S is NULL or "" */
static char *
words_value(const char *s, gsize max, const char *empty)
{
	g_autofree char *clean = NULL;

	if (s == NULL || *s == '\0')
		return g_strdup(empty);
	clean = report_clean_text(s, -1, 0);
	return report_shorten_dup(clean, max);
}

/* words_domain - the part of ADDR after its last '@', or NULL */
static const char *
words_domain(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* words_sender - the values every sentence of REP shares: {from} ... {spf_domain} */
static void
words_sender(char **vals, const struct moat_report *rep, const char *unknown)
{
	const struct moat_auth *a = rep->auth;
	const char *fdom = a != NULL && a->dmarc.from_domain != NULL ? a->dmarc.from_domain :
	    words_domain(rep->hdr.from_addr);
	const char *sdom = NULL;

	if (a != NULL)
		sdom = a->spf_mailfrom.identity != NULL ? a->spf_mailfrom.domain :
		    a->spf_helo.domain;
	if (sdom == NULL)
		sdom = words_domain(rep->env.mail_from);
	if (sdom == NULL)
		sdom = rep->env.helo;
	vals[PH_FROM] = words_value(rep->hdr.from_addr, WORDS_VALUE_MAX, unknown);
	vals[PH_FROM_NAME] = words_value(rep->hdr.from_name != NULL && *rep->hdr.from_name ?
	    rep->hdr.from_name : rep->hdr.from_addr, WORDS_VALUE_MAX, unknown);
	vals[PH_FROM_DOMAIN] = words_value(fdom, WORDS_VALUE_MAX, unknown);
	vals[PH_SPF_DOMAIN] = words_value(sdom, WORDS_VALUE_MAX, unknown);
}

/* words_file - {file} for PATH: its last element's base name; T's "unnamed" for a part with none */
static char *
words_file(const GPtrArray *path, const struct words_tmpl *t)
{
	const char *last, *base;

	if (path == NULL || path->len == 0)
		return g_strdup(g_hash_table_lookup(t->banner, "message"));
	last = path->pdata[path->len - 1];
	/* mime.c and salvage.c name a part that has no name "(part 1.2, text/html)" */
	if (last == NULL || *last == '\0' ||
	    ((g_str_has_prefix(last, "(part ") || g_str_has_prefix(last, "(lenient part ")) &&
	    g_str_has_suffix(last, ")")))
		return g_strdup(g_hash_table_lookup(t->banner, "unnamed"));
	/* a member's folders lead its name ("_/_/putty.exe") */
	base = last + strlen(last);
	while (base > last && base[-1] != '/' && base[-1] != '\\')
		base--;
	if (*base == '\0')
		base = last;
	return words_value(base, WORDS_VALUE_MAX, "");
}

/* words_protected - the domain an auth.lookalike_domain finding says is imitated, or NULL */
static char *
words_protected(const struct moat_finding *f)
{
	/* lookalike.c: "From domain %s imitates %s (%s)" */
	const char *p = f->evidence != NULL ? strstr(f->evidence, " imitates ") : NULL;
	const char *end;

	if (strcmp(f->id, "auth.lookalike_domain") != 0 || p == NULL)
		return NULL;
	p += strlen(" imitates ");
	end = strchr(p, ' ');
	return g_strndup(p, end != NULL ? (gsize)(end - p) : strlen(p));
}

/* words_finding - the values about F (NULL: none, as for the title): {file} {path} ... */
static void
words_finding(char **vals, const struct moat_finding *f, const struct words_tmpl *t)
{
	const char *unknown = g_hash_table_lookup(t->banner, "unknown");
	const char *message = g_hash_table_lookup(t->banner, "message");
	g_autofree char *prot = f != NULL ? words_protected(f) : NULL;
	gboolean av = f != NULL && g_str_has_prefix(f->id, "av.") && strcmp(f->id, "av.*") != 0;

	vals[PH_FILE] = f != NULL ? words_file(f->path, t) : g_strdup(message);
	vals[PH_PATH] = words_value(f != NULL && f->path != NULL && f->path->len > 0 ?
	    f->path_display : NULL, WORDS_VALUE_MAX * 2, message);
	vals[PH_PROTECTED] = words_value(prot, WORDS_VALUE_MAX, unknown);
	vals[PH_SIGNATURE] = words_value(av ? f->id + 3 : NULL, WORDS_VALUE_MAX, unknown);
	vals[PH_EVIDENCE] = words_value(f != NULL ? f->evidence : NULL, WORDS_EVIDENCE_MAX,
	    unknown);
}

static void
words_finding_clear(char **vals)
{
	static const enum words_ph mine[] = { PH_FILE, PH_PATH, PH_PROTECTED, PH_SIGNATURE,
	    PH_EVIDENCE };

	for (guint i = 0; i < G_N_ELEMENTS(mine); i++)
		g_clear_pointer(&vals[mine[i]], g_free);
}

/* words_lookup - TAB's sentence for ID: ID itself, else its "group.*" */
static const char *
words_lookup(GHashTable *tab, const char *id)
{
	const char *s = g_hash_table_lookup(tab, id);
	const char *dot = strchr(id, '.');
	g_autofree char *group = NULL;

	if (s != NULL || dot == NULL)
		return s;
	group = g_strdup_printf("%.*s.*", (int)(dot - id), id);
	return g_hash_table_lookup(tab, group);
}

/* words_sentence - the template for F: [message] when it is about the message, then [reasons] */
static const char *
words_sentence(const struct words_tmpl *t, const struct moat_finding *f)
{
	const char *s = NULL;

	if (f->path == NULL || f->path->len == 0)
		s = words_lookup(t->message, f->id);
	if (s == NULL)
		s = words_lookup(t->reasons, f->id);
	return s != NULL ? s : g_hash_table_lookup(t->reasons, "default");
}

/* words_format - TMPL expanded with VALS (checked when loaded, so it cannot fail) */
static char *
words_format(const char *tmpl, char *const *vals)
{
	GString *out = g_string_new(NULL);
	g_autofree char *bad = NULL;

	if (!words_expand(out, tmpl, vals, &bad))
		g_assert_not_reached();
	return g_string_free(out, FALSE);
}

struct words_ranked {
	const struct moat_finding *f;
	guint index;			/* place in the report: the tie-break */
};

/* words_rank_cmp - higher score first, then higher severity, then report order */
static gint
words_rank_cmp(gconstpointer a, gconstpointer b)
{
	const struct words_ranked *x = a, *y = b;
	int sx = x->f->kind != NULL ? (int)x->f->kind->severity : 0;
	int sy = y->f->kind != NULL ? (int)y->f->kind->severity : 0;

	if (x->f->score != y->f->score)
		return x->f->score > y->f->score ? -1 : 1;
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* words_ranked - REP's scoring findings, most serious first (a GArray of struct words_ranked) */
static GArray *
words_ranked(const struct moat_report *rep)
{
	GArray *r = g_array_new(FALSE, FALSE, sizeof(struct words_ranked));

	for (guint i = 0; rep->findings != NULL && i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];
		struct words_ranked w = { f, i };

		if (f->score > 0 && !f->off && !f->allowed)
			g_array_append_val(r, w);
	}
	g_array_sort(r, words_rank_cmp);
	return r;
}

/* words_reasons - one sentence per finding id in RANKED, at most MAX */
static GPtrArray *
words_reasons(const GArray *ranked, const struct words_tmpl *t, char **vals, guint max)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < ranked->len && out->len < max; i++) {
		const struct moat_finding *f = g_array_index(ranked, struct words_ranked, i).f;

		if (!g_hash_table_add(seen, f->id))
			continue;	/* the same id again: its most serious path is shown */
		words_finding(vals, f, t);
		g_ptr_array_add(out, words_format(words_sentence(t, f), vals));
		words_finding_clear(vals);
	}
	return out;
}

int
banner_words(struct banner_text *out, char **err, const struct moat_report *rep,
    const struct moat_conf *conf, gboolean external)
{
	char *why = NULL;
	struct words_tmpl *t = NULL;
	char *vals[PH_COUNT] = { NULL };
	GArray *ranked = NULL;
	int rc = MOAT_EINVAL;

	memset(out, 0, sizeof(*out));
	if ((t = words_load(conf, &why)) == NULL)
		goto out;
	ranked = words_ranked(rep);
	words_sender(vals, rep, g_hash_table_lookup(t->banner, "unknown"));
	words_finding(vals, NULL, t);
	if (external) {	/* accepted mail: the notice, whatever scored below the tag threshold */
		/* nothing wrong but where it came from: the notice alone */
		out->external = TRUE;
		out->title = words_format(g_hash_table_lookup(t->banner, "external"), vals);
		out->reasons = g_ptr_array_new_with_free_func(g_free);
	} else {
		/* nothing scored and not external: the title and advice with no reasons */
		out->title = words_format(g_hash_table_lookup(t->banner, "title"), vals);
		out->advice = words_format(g_hash_table_lookup(t->banner, "advice"), vals);
		words_finding_clear(vals);
		out->reasons = words_reasons(ranked, t, vals, MAX(conf->banner.max_reasons, 1));
	}
	rc = 0;
out:
	words_finding_clear(vals);
	for (guint i = 0; i < PH_COUNT; i++)
		g_free(vals[i]);
	if (ranked != NULL)
		g_array_unref(ranked);
	if (t != NULL)
		words_tmpl_unref(t);
	if (err != NULL)
		*err = why;	/* the caller's now */
	else
		g_free(why);
	return rc;
}

char *
banner_conf_check(const struct moat_conf *conf)
{
	char *err = NULL;
	struct words_tmpl *t = words_load(conf, &err);

	if (t != NULL)
		words_tmpl_unref(t);
	return err;
}
