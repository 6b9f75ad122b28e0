/*
 * walk.c - the container walk (walk.h)
 *
 * In: a report whose MIME leaves carry their decoded bytes. Out: the same
 * report with one part per member found inside them and the av.* and
 * container.* findings. One struct walk per message; one struct walk_scan
 * per buffer handed to libclamav (a MIME leaf, or a member libarchive took
 * out of a RAR). libclamav reports members depth first with their level and
 * the names of their ancestors; the walk keeps the latest file seen at each
 * level and hangs a member under the nearest one its ancestors name.
 * Layers without a name of their own (the tar inside a .tar.gz, streams of
 * a PDF) are passed through: their members hang under the nearest named
 * file, unless the layer is itself something a user should see (a program,
 * a shortcut, a script, a disk image).
 */
#include <stdarg.h>
#include <string.h>

#include "moat/archive.h"
#include "moat/av.h"
#include "moat/confkeys.h"
#include "moat/diskimg.h"
#include "moat/moat.h"
#include "moat/names.h"
#include "moat/sha256.h"
#include "moat/sniff.h"
#include "moat/walk.h"
#include "moat/zipdir.h"

/* [containers]: the walk's limits (conf->containers), parsed by conf.c */
static const struct conf_key walk_conf_keys[] = {
	{ "containers", "max_depth", CONF_UINT, CONF_OFF(containers.max_depth), "16", 1, 64,
	    "Containers opened inside one attachment, level under level (libclamav's "
	    "MaxRecursion); deeper ones give container.too_deep." },
	{ "containers", "max_members", CONF_UINT, CONF_OFF(containers.max_members), "10000", 1, 1000000,
	    "Members inventoried per message, and files libclamav opens per attachment "
	    "(MaxFiles); past it container.too_many_members." },
	{ "containers", "max_member_bytes", CONF_BYTES, CONF_OFF(containers.max_member_bytes), "64M",
	    1024, G_GINT64_CONSTANT(2047) << 20,
	    "A member larger than this is listed but not extracted or scanned (MaxFileSize); "
	    "it gives container.bomb. libclamav applies it to attachments too: it is raised to "
	    "[limits] max_message_bytes (at most 2047M) when that is larger. RAR members are "
	    "extracted into memory: those of one attachment held at once (one per nesting level) "
	    "share this much, part of the memory bound (SECURITY.md)." },
	{ "containers", "max_expanded_bytes", CONF_BYTES, CONF_OFF(containers.max_expanded_bytes), "400M",
	    1024, G_GINT64_CONSTANT(16) << 30,
	    "Bytes libclamav may extract from one attachment (MaxScanSize); past it container.bomb." },
	{ "containers", "max_ratio", CONF_UINT, CONF_OFF(containers.max_ratio), "100", 2, 1000000,
	    "Extracted bytes per byte of attachment; above it, once more than 16 MiB came out, "
	    "container.bomb." },
};

const struct conf_group walk_conf_group = CONF_GROUP("containers", walk_conf_keys);

#define BOMB_MIN_BYTES (16u << 20)	/* below this no ratio is a bomb */
#define WALK_TINY_BYTES 5		/* libclamav skips files this small without a callback */

struct walk {
	struct moat_report *rep;
	const struct moat_conf *conf;
	struct cl_engine *engine;
	guint64 extracting;		/* bytes of RAR members being walked now (one buffer per level),
					 * of derived members and of the copies in LOCKED */
	guint members;			/* members recorded in this message */
	gboolean too_many;		/* container.too_many_members recorded */
	gboolean derived_deep;		/* container.too_deep recorded for a derived member */
	GHashTable *spent;		/* MIME part -> guint64 *: bytes taken out of it so far, for
					 * the limits of what is derived from it later; or NULL */
	GHashTable *locked;		/* ZIP part with encrypted entries -> GBytes copy of its
					 * bytes (NULL: none made), for walk_container_bytes(); or NULL */
	GHashTable *hidden;		/* archives whose own headers are encrypted, or NULL */
	int rc;				/* first internal error */
	char *err;
};

/* One level of the chain libclamav is in: the file it last reported there. */
struct walk_level {
	char *raw;			/* the name as libclamav gave it, or NULL */
	struct moat_part *part;		/* recorded member, or NULL for a pass-through layer */
};

/* What a container's own directory says about one entry. */
struct walk_entry {
	char *name;
	guint64 size;
	gboolean size_known, encrypted, hidden, system, is_dir, seen;
};

struct walk_scan {
	struct walk *w;
	struct moat_part *root;		/* the part whose bytes are being scanned */
	GPtrArray *levels;		/* struct walk_level *, index = libclamav level */
	GHashTable *seen;		/* "sha256/name", "sha256", "sha256@parent" -> member (walk_again) */
	GHashTable *dirs;		/* struct moat_part * -> GPtrArray of struct walk_entry * */
	GPtrArray *rars;		/* struct walk_rar *: RARs and disk images opened after the scan */
	GHashTable *matched;		/* "signature/part id" already recorded */
	struct walk_scan *outer;	/* the scan of the RAR this member came out of, or NULL */
	guint64 expanded;		/* outermost scan: bytes taken out of the attachment so far */
	guint64 root_size;		/* outermost scan: the attachment's size, for the ratio */
	gboolean deep, bomb;		/* container.too_deep / .bomb recorded for ROOT */
};

/*
 * A container libclamav cannot open, opened after its scan: a RAR
 * (libarchive) or a disk image (diskimg.h).
 */
struct walk_rar {
	struct walk *w;
	struct moat_part *part;
	gboolean image;			/* a FAT image, raw, behind an MBR or GPT, or in a VHD */
	GBytes *bytes;
	gsize copied;			/* bytes copied for it, counted in w->extracting */
};

static void walk_buffer(struct walk *w, struct moat_part *root, const guint8 *data, gsize len,
    struct walk_scan *outer);
static guint64 walk_extract_room(const struct walk *w);

static void
walk_level_free(struct walk_level *l)
{
	if (l == NULL)
		return;		/* a level libclamav skipped */
	g_free(l->raw);
	g_free(l);
}

static void
walk_entry_free(struct walk_entry *e)
{
	g_free(e->name);
	g_free(e);
}

static void
walk_rar_free(struct walk_rar *r)
{
	r->w->extracting -= r->copied;
	g_bytes_unref(r->bytes);
	g_free(r);
}

/* walk_synthetic - whether libclamav made NAME up (OLE2 stream hashes, temp files) */
static gboolean
walk_synthetic(const char *name)
{
	gsize n, i;

	if (name == NULL || *name == '\0')
		return TRUE;
	if (g_str_has_prefix(name, "clamav-") && g_str_has_suffix(name, ".tmp"))
		return TRUE;
	/* "c94e3926fdf7b9e624cba640b87b17a8_1": an OLE2 stream libclamav renamed */
	n = strlen(name);
	if (n < 34 || name[32] != '_')
		return FALSE;
	for (i = 0; i < 32; i++)
		if (!g_ascii_isxdigit(name[i]))
			return FALSE;
	for (i = 33; i < n; i++)
		if (!g_ascii_isdigit(name[i]))
			return FALSE;
	return TRUE;
}

/*
 * walk_mail_label - whether NAME is a label libclamav's mail parser gives
 * the unnamed parts it finds in text ("attachment", "mixedtextportion"):
 * inside an archive or a disk image the same name is a real file name.
 */
static gboolean
walk_mail_label(const struct moat_part *parent, const char *name)
{
	enum sniff_class c = sniff_class_of(parent->sniffed);

	if (strcmp(name, "attachment") != 0 && strcmp(name, "mixedtextportion") != 0)
		return FALSE;
	return c != SNIFF_ARCHIVE && c != SNIFF_DISK_IMAGE;
}

static gboolean
walk_same_name(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* walk_parent - the recorded part the file at level F->level hangs under */
static struct moat_part *
walk_parent(struct walk_scan *s, const struct av_file *f)
{
	for (guint k = MIN(f->level, s->levels->len); k-- > 0;) {
		struct walk_level *l = s->levels->pdata[k];

		if (l == NULL || !walk_same_name(l->raw, f->ancestors[k]))
			continue;	/* a layer libclamav did not report, or a stale one */
		if (l->part != NULL)
			return l->part;
	}
	return s->root;
}

/* walk_set_level - remember F as the latest file at its level; deeper ones are gone */
static void
walk_set_level(struct walk_scan *s, const struct av_file *f, struct moat_part *part)
{
	struct walk_level *l = g_new0(struct walk_level, 1);

	l->raw = g_strdup(f->name);
	l->part = part;
	if (s->levels->len > f->level)
		g_ptr_array_set_size(s->levels, f->level);
	while (s->levels->len < f->level)
		g_ptr_array_add(s->levels, NULL);
	g_ptr_array_add(s->levels, l);
}

/* walk_interesting - whether an unnamed layer of type TYPE is worth listing */
static gboolean
walk_interesting(const char *sniffed)
{
	switch (sniff_class_of(sniffed)) {
	case SNIFF_EXECUTABLE: case SNIFF_SHORTCUT: case SNIFF_SCRIPT: case SNIFF_DISK_IMAGE:
		return TRUE;
	default:
		return FALSE;
	}
}

/* walk_fill - size, hash, type and (within [limits] max_decoded_bytes) bytes of member M */
static void
walk_fill(struct walk *w, struct moat_part *m, const guint8 *data, gsize len, const char *sha256)
{
	m->decoded_size = len;
	g_strlcpy(m->sha256, sha256, sizeof(m->sha256));
	m->sniffed = sniff_type(data, MIN(len, SNIFF_HEAD_BYTES), NULL);
	if (w->rep->kept + len <= w->conf->limits.max_decoded_bytes) {
		m->content = g_bytes_new(data, len);
		w->rep->kept += len;
	}
}

/* walk_once - finding ID at part AT unless *DONE says it is recorded already: a limit is said once */
static void G_GNUC_PRINTF(5, 6)
walk_once(struct moat_report *rep, gboolean *done, const char *id, const struct moat_part *at,
    const char *fmt, ...)
{
	g_autofree char *why = NULL;
	va_list ap;

	if (*done)
		return;
	*done = TRUE;
	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	report_add_finding_at(rep, id, at, "%s", why);
}

/* walk_member - a new member of PARENT named NAME, or NULL past a limit (finding recorded) */
static struct moat_part *
walk_member(struct walk *w, struct moat_part *parent, const char *name, gboolean *deep)
{
	g_autofree char *valid = name != NULL ? g_utf8_make_valid(name, -1) : NULL;
	struct moat_part *m;

	if (parent->container_depth + 1 > w->conf->containers.max_depth) {
		walk_once(w->rep, deep, "container.too_deep", parent,
		    "members below %u levels of containers were not opened",
		    w->conf->containers.max_depth);
		return NULL;
	}
	if (w->members >= w->conf->containers.max_members) {
		walk_once(w->rep, &w->too_many, "container.too_many_members", parent,
		    "more than %u members; the rest were not inventoried",
		    w->conf->containers.max_members);
		return NULL;
	}
	w->members++;
	m = report_member_new(w->rep, parent, valid);
	return m;
}

/* Container directories ----------------------------------------------------- */

static gboolean
walk_zip_entry(void *ctx, const struct zipdir_entry *ze)
{
	GPtrArray *list = ctx;
	struct walk_entry *e = g_new0(struct walk_entry, 1);

	e->name = g_strdup(ze->name);
	e->size = ze->size;
	e->size_known = TRUE;
	e->encrypted = ze->encrypted;
	e->hidden = ze->hidden;
	e->system = ze->system;
	e->is_dir = ze->is_dir;
	g_ptr_array_add(list, e);
	return TRUE;
}

static gboolean
walk_arch_list(void *ctx, const struct arch_entry *ae)
{
	GPtrArray *list = ctx;
	struct walk_entry *e = g_new0(struct walk_entry, 1);

	e->name = g_strdup(ae->name);
	e->size = ae->size >= 0 ? (guint64)ae->size : 0;
	e->size_known = ae->size >= 0;
	e->encrypted = ae->encrypted;
	e->hidden = ae->hidden;
	e->system = ae->system;
	e->is_dir = ae->is_dir;
	g_ptr_array_add(list, e);
	return FALSE;		/* names and flags only: libclamav reads the bytes */
}

/* walk_listable - whether the walk reads PART's own directory (walk_directory()) */
static gboolean
walk_listable(const struct moat_part *part)
{
	static const char *const types[] = { "zip", "7z", "iso" };

	for (gsize i = 0; part->sniffed != NULL && i < G_N_ELEMENTS(types); i++)
		if (strcmp(part->sniffed, types[i]) == 0)
			return TRUE;
	return FALSE;
}

/*
 * walk_lock - remember ZIP PART, which has encrypted entries, for the
 * derive stage (walk_container_bytes()): its kept bytes will do; the bytes
 * of a member that were not kept are copied now, while at hand, within
 * walk_extract_room() (held until walk_finish()); a MIME leaf's are copied
 * by walk_leaf() when the inventory is not going to keep them.
 */
static void
walk_lock(struct walk *w, struct moat_part *part, const guint8 *data, gsize len)
{
	GBytes *copy = NULL;

	if (w->locked == NULL)
		w->locked = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_bytes_unref);
	if (g_hash_table_contains(w->locked, part))
		return;
	if (part->content == NULL && part->parent != NULL && len <= walk_extract_room(w)) {
		copy = g_bytes_new(data, len);
		w->extracting += len;
	}
	g_hash_table_insert(w->locked, part, copy);
}

/* walk_hide - archive PART's own headers are encrypted: it is flagged, and listed for walk_names_hidden() */
static void
walk_hide(struct walk *w, struct moat_part *part)
{
	part->encrypted = TRUE;
	if (w->hidden == NULL)
		w->hidden = g_hash_table_new(NULL, NULL);
	g_hash_table_add(w->hidden, part);
}

/*
 * walk_directory - read the directory of container PART (zip, 7z, ISO
 * 9660) for the member flags, full paths and folders. FALSE when it lists
 * more members than the message may still have: then PART is not opened
 * at all (libclamav takes minutes over a zip of 20,000 files) and
 * container.too_many_members says why.
 */
static gboolean
walk_directory(struct walk_scan *s, struct moat_part *part, const guint8 *data, gsize len)
{
	static const struct arch_hooks list_only = { walk_arch_list, NULL };
	struct walk *w = s->w;
	guint room = w->conf->containers.max_members - MIN(w->members, w->conf->containers.max_members);
	GPtrArray *list;
	g_autofree char *why = NULL;
	gboolean many = FALSE;
	enum arch_result rc;

	if (!walk_listable(part) || g_hash_table_contains(s->dirs, part))
		return TRUE;
	list = g_ptr_array_new_with_free_func((GDestroyNotify)walk_entry_free);
	g_hash_table_insert(s->dirs, part, list);
	if (strcmp(part->sniffed, "zip") == 0) {
		gint64 n = zipdir_read(data, len, room + 1, walk_zip_entry, list);

		if (n < 0)
			report_add_finding_at(w->rep, "container.unreadable", part,
			    "no readable ZIP central directory");
		many = n > (gint64)room;
	} else if ((rc = arch_walk(data, len, room, 0, &list_only, list, &why)) == ARCH_TOO_MANY) {
		many = TRUE;
	} else if (rc == ARCH_ENCRYPTED) {
		walk_hide(w, part);	/* its names are hidden: derive.h judges it */
	} else if (rc == ARCH_CORRUPT) {
		report_add_finding_at(s->w->rep, "container.unreadable", part, "%s", why);
	}
	for (guint i = 0; !many && i < list->len; i++) {
		const struct walk_entry *e = list->pdata[i];

		if (e->is_dir)
			report_part_add_dir(part, e->name, e->hidden, e->system);
		else if (e->encrypted && strcmp(part->sniffed, "zip") == 0)
			walk_lock(w, part, data, len);
	}
	if (!many)
		return TRUE;
	walk_once(w->rep, &w->too_many, "container.too_many_members", part,
	    "more than %u members: not opened", room);
	g_ptr_array_set_size(list, 0);	/* nothing of it will be listed */
	return FALSE;
}

/*
 * walk_entry_matches - whether directory entry E is the file libclamav
 * calls RAW, of SIZE bytes: PASS 0 the same name and size, 1 a path ending
 * in the name (libclamav gives a ZIP member's base name only) and the same
 * size, 2 the same name or path whatever the size, 3 the only unseen entry
 * of that size (libclamav mangles non-ASCII 7z names).
 */
static gboolean
walk_entry_matches(const struct walk_entry *e, const char *raw, gsize size, int pass)
{
	gsize n = raw != NULL ? strlen(raw) : 0, len = e->name != NULL ? strlen(e->name) : 0;
	gboolean same = n > 0 && len == n && strcmp(e->name, raw) == 0;
	gboolean tail = n > 0 && len > n && e->name[len - n - 1] == '/' &&
	    strcmp(e->name + len - n, raw) == 0;
	gboolean sized = e->size_known && e->size == size;

	switch (pass) {
	case 0:	return same && sized;
	case 1:	return tail && sized;
	case 2:	return same || tail;
	default: return sized;
	}
}

/*
 * walk_entry_for - PARENT's directory entry for the file libclamav calls
 * RAW, of SIZE bytes; marked seen. NULL when PARENT has no directory or no
 * entry fits. An encrypted entry is never matched to bytes libclamav read:
 * a decoy of the same name must not take its place (walk_unseen() lists it).
 */
static struct walk_entry *
walk_entry_for(struct walk_scan *s, struct moat_part *parent, const char *raw, gsize size)
{
	GPtrArray *list = g_hash_table_lookup(s->dirs, parent);

	for (int pass = 0; list != NULL && pass < 4; pass++) {
		struct walk_entry *found = NULL;
		guint hits = 0;

		for (guint i = 0; i < list->len; i++) {
			struct walk_entry *e = list->pdata[i];

			if (e->seen || e->encrypted || e->is_dir || !walk_entry_matches(e, raw, size, pass))
				continue;
			if (found == NULL)
				found = e;
			hits++;
		}
		if (found != NULL && (pass < 3 || hits == 1)) {
			found->seen = TRUE;
			return found;
		}
	}
	return NULL;
}

/* walk_upper - whether NAME has no lower-case letter (an ISO 9660 level-1 name, "README.TXT") */
static gboolean
walk_upper(const char *name)
{
	for (const char *c = name; *c != '\0'; c++)
		if (g_ascii_islower(*c))
			return FALSE;
	return TRUE;
}

/* walk_extension - the part of NAME after its last dot, or "" */
static const char *
walk_extension(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL ? dot + 1 : "";
}

/*
 * walk_alias_pair - whether A and B name one file of a disk image twice:
 * its ISO 9660 name (upper case, "DOCUMENT.EXE") and its Joliet or Rock
 * Ridge name ("Document.pdf.exe"), with the same extension.
 */
static gboolean
walk_alias_pair(const char *a, const char *b)
{
	if (a == NULL || b == NULL || walk_upper(a) == walk_upper(b))
		return FALSE;
	return g_ascii_strcasecmp(walk_extension(a), walk_extension(b)) == 0;
}

/* walk_key_name - NAME folded for walk_again()'s keys, at most REPORT_NAME_MAX bytes of it */
static char *
walk_key_name(const char *name)
{
	g_autofree char *cut = name != NULL ? report_shorten_dup(name, REPORT_NAME_MAX) : NULL;

	return cut != NULL ? g_utf8_casefold(cut, -1) : g_strdup("");
}

/* walk_base_of - whether PATH is a path inside a container ending in the base name NAME */
static gboolean
walk_base_of(const char *path, const char *name)
{
	gsize n = name != NULL ? strlen(name) : 0, len = path != NULL ? strlen(path) : 0;

	return n > 0 && len > n && (path[len - n - 1] == '/' || path[len - n - 1] == '\\') &&
	    g_ascii_strcasecmp(path + len - n, name) == 0;
}

/*
 * walk_again - whether the file with SHA under PARENT named NAME was listed
 * already: the same bytes under the same name (OLE2 passes, an ISO's 8.3
 * and Joliet names differing in case only), under its full path when NAME
 * is only its base name (libclamav reads an OOXML document's zip twice,
 * the second time naming "word/document.xml" "document.xml"), or, inside a
 * disk image, under another name (8.3 alias). The listed one takes the
 * better name.
 */
static gboolean
walk_again(struct walk_scan *s, struct moat_part *parent, const char *sha, const char *name)
{
	g_autofree char *folded = walk_key_name(name);
	g_autofree char *by_name = g_strdup_printf("%s/%s", sha, folded);
	g_autofree char *by_parent = g_strdup_printf("%s@%p", sha, (void *)parent);
	struct moat_part *m = g_hash_table_lookup(s->seen, by_name);
	gboolean image = sniff_class_of(parent->sniffed) == SNIFF_DISK_IMAGE;

	if (m == NULL && name == NULL)
		m = g_hash_table_lookup(s->seen, sha);	/* unnamed: any name will do */
	if (m == NULL && (m = g_hash_table_lookup(s->seen, by_parent)) != NULL &&
	    !walk_base_of(m->filename, name))
		m = NULL;
	if (m == NULL && image && (m = g_hash_table_lookup(s->seen, by_parent)) != NULL &&
	    !walk_alias_pair(m->filename, name))
		m = NULL;	/* the same bytes under two real names: both are listed */
	if (m != NULL) {
		if (name != NULL && m->filename != NULL && walk_upper(m->filename) && !walk_upper(name))
			report_part_rename(s->w->rep, m, name);
		return TRUE;
	}
	return FALSE;
}

/* walk_remember - M, with SHA and NAME, for walk_again() */
static void
walk_remember(struct walk_scan *s, struct moat_part *parent, const char *sha, const char *name,
    struct moat_part *m)
{
	g_autofree char *folded = walk_key_name(name);

	g_hash_table_insert(s->seen, g_strdup_printf("%s/%s", sha, folded), m);
	g_hash_table_insert(s->seen, g_strdup(sha), m);
	g_hash_table_insert(s->seen, g_strdup_printf("%s@%p", sha, (void *)parent), m);
}

/*
 * walk_unseen - list the directory entries libclamav did not open. An
 * encrypted one is flagged (the derive stage, derive.h, tries the
 * message's passwords on it and judges it); any other with data (more than
 * WALK_TINY_BYTES declared, or an unknown size) was not scanned although
 * no limit stopped the walk: its local header points nowhere, or its
 * method is one libclamav cannot read, while another unzip may well open
 * it. One container.unscanned per container says so (a limit already
 * recorded for this attachment says it instead).
 */
static void
walk_unseen(struct walk_scan *s)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, s->dirs);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct moat_part *parent = key, *first = NULL;
		GPtrArray *list = value;
		guint unread = 0;

		for (guint i = 0; i < list->len; i++) {
			struct walk_entry *e = list->pdata[i];
			struct moat_part *m;

			if (e->seen || e->is_dir)
				continue;
			if (report_over_budget(s->w->rep) ||
			    (m = walk_member(s->w, parent, e->name, &s->deep)) == NULL)
				return;
			m->decoded_size = e->size;
			m->hidden = e->hidden;
			m->system = e->system;
			m->encrypted = e->encrypted;
			if (!e->encrypted && (!e->size_known || e->size > WALK_TINY_BYTES) &&
			    unread++ == 0)
				first = m;
		}
		if (unread > 0 && !s->bomb && !s->deep && !s->w->too_many)
			report_add_finding_at(s->w->rep, "container.unscanned", first,
			    "%u member%s listed in the directory %s not read by libclamav "
			    "(data not found or not readable): not scanned", unread,
			    unread == 1 ? "" : "s", unread == 1 ? "was" : "were");
	}
}

/*
 * walk_extract_room - bytes a RAR member may still be taken out into
 * memory: the buffers of the RARs and members being walked (one per
 * nesting level, and the queued RARs' copies) share [containers]
 * max_member_bytes, so nesting does not multiply it.
 */
static guint64
walk_extract_room(const struct walk *w)
{
	guint64 max = w->conf->containers.max_member_bytes;

	return w->extracting < max ? max - w->extracting : 0;
}

/*
 * walk_image - whether PART (LEN bytes at DATA) is a disk image the walk
 * opens itself (TRUE), or one no reader here can list (container.opaque_image
 * recorded, FALSE). Asked only of parts that look like images by their
 * bytes or their name: diskimg_probe() reads the head and the VHD footer.
 */
static gboolean
walk_image(struct walk_scan *s, struct moat_part *part, const guint8 *data, gsize len)
{
	const char *risk = names_risk(part->filename);
	struct diskimg_probe probe;

	if (part->sniffed != NULL && strcmp(part->sniffed, "udf") == 0) {
		report_add_finding_at(s->w->rep, "container.opaque_image", part,
		    "UDF-only image: no reader lists its folders (libclamav scanned its files "
		    "by name only)");
		return FALSE;
	}
	if (sniff_class_of(part->sniffed) != SNIFF_DISK_IMAGE &&
	    (risk == NULL || strcmp(risk, "attach.disk_image") != 0))
		return FALSE;
	if (part->sniffed != NULL && strcmp(part->sniffed, "iso") == 0)
		return FALSE;	/* libclamav opens ISO 9660, libarchive lists it */
	diskimg_probe(&probe, data, len);
	switch (probe.fs) {
	case DISKIMG_FS_FAT12: case DISKIMG_FS_FAT16: case DISKIMG_FS_FAT32:
		if (probe.container != DISKIMG_VHD_DIFFERENCING && probe.container != DISKIMG_VHDX)
			return TRUE;
		break;
	default:
		break;
	}
	if (probe.container == DISKIMG_CONTAINER_NONE && probe.fs == DISKIMG_FS_NONE)
		return FALSE;	/* not an image at all: type.mismatch says so */
	report_add_finding_at(s->w->rep, "container.opaque_image", part,
	    "%s%s%s image: moat cannot list its files", diskimg_container_name(probe.container),
	    probe.fs != DISKIMG_FS_NONE ? " with " : "",
	    probe.fs != DISKIMG_FS_NONE ? diskimg_fs_name(probe.fs) : "");
	return FALSE;
}

/*
 * walk_queue - containers libclamav cannot open, opened after this scan:
 * RAR (Debian's libclamav has none) with libarchive, FAT disk images (raw,
 * MBR, GPT, VHD) with diskimg.h
 */
static void
walk_queue(struct walk_scan *s, struct moat_part *part, const guint8 *data, gsize len)
{
	struct walk *w = s->w;
	struct walk_rar *r;
	gboolean image = FALSE;

	if (part->sniffed == NULL)
		return;
	if (strcmp(part->sniffed, "rar") != 0 && !(image = walk_image(s, part, data, len)))
		return;
	if (part->content == NULL && part != s->root && len > walk_extract_room(w)) {
		report_add_finding_at(w->rep, "container.bomb", part,
		    "%s of %" G_GSIZE_FORMAT " bytes not opened: the containers and members in memory "
		    "already take [containers] max_member_bytes", image ? "disk image" : "RAR", len);
		return;
	}
	r = g_new0(struct walk_rar, 1);
	r->w = w;
	r->part = part;
	r->image = image;
	/*
	 * The member's kept bytes when it has them; the scanned buffer itself
	 * for the root (its owner keeps it until walk_buffer() returns, and the
	 * queue is opened before that); a copy otherwise (a member's DATA lives
	 * only during libclamav's callback).
	 */
	if (part->content != NULL) {
		r->bytes = g_bytes_ref(part->content);
	} else if (part == s->root) {
		r->bytes = g_bytes_new_static(data, len);
	} else {
		r->bytes = g_bytes_new(data, len);
		r->copied = len;
		w->extracting += len;
	}
	g_ptr_array_add(s->rars, r);
}

/*
 * walk_queued - whether PART waits in the queue: what libclamav finds in
 * its raw bytes are not its members
 */
static gboolean
walk_queued(const struct walk_scan *s, const struct moat_part *part)
{
	for (guint i = 0; i < s->rars->len; i++)
		if (((const struct walk_rar *)s->rars->pdata[i])->part == part)
			return TRUE;
	return FALSE;
}

/*
 * walk_expand - count LEN more bytes out of the attachment; TRUE (and
 * container.bomb, once) when that makes it a bomb: past 16 MiB out and
 * more than [containers] max_ratio bytes out per byte in
 */
static gboolean
walk_expand(struct walk_scan *s, guint64 len)
{
	struct walk_scan *top = s;

	while (top->outer != NULL)
		top = top->outer;	/* a RAR member counts against its attachment */
	top->expanded += len;
	/* libclamav's MaxScanSize counts one scan: bytes derived later share the attachment's */
	if (!top->bomb && ((top->expanded > BOMB_MIN_BYTES &&
	    top->expanded / MAX(top->root_size, 1) > s->w->conf->containers.max_ratio) ||
	    (top->root->derived != NULL &&
	    top->expanded > s->w->conf->containers.max_expanded_bytes))) {
		report_add_finding_at(s->w->rep, "container.bomb", top->root,
		    "%" G_GUINT64_FORMAT " bytes came out of %" G_GUINT64_FORMAT,
		    top->expanded, top->root_size);
		top->bomb = TRUE;
	}
	s->bomb |= top->bomb;
	return s->bomb;
}

/* libclamav hooks ------------------------------------------------------------ */

/* walk_limits - a libclamav limit alert as moat's own finding; FALSE for a real signature */
static gboolean
walk_limit_alert(struct walk_scan *s, struct moat_part *at, const char *sig)
{
	const char *limit;

	if (!g_str_has_prefix(sig, "Heuristics.Limits.Exceeded."))
		return FALSE;
	limit = sig + strlen("Heuristics.Limits.Exceeded.");
	if (g_str_has_prefix(limit, "MaxRecursion")) {
		walk_once(s->w->rep, &s->deep, "container.too_deep", at,
		    "libclamav stopped at its recursion limit");
	} else if (g_str_has_prefix(limit, "MaxFiles")) {
		walk_once(s->w->rep, &s->w->too_many, "container.too_many_members", at,
		    "libclamav stopped at %u files", s->w->conf->containers.max_members);
	} else if (g_str_has_prefix(limit, "MaxScanTime")) {
		if (!report_over_budget(s->w->rep))
			report_add_finding_at(s->w->rep, "container.bomb", at,
			    "libclamav ran out of its scan time here");
	} else {
		if (!s->bomb)
			report_add_finding_at(s->w->rep, "container.bomb", at,
			    "libclamav stopped at a size limit (%s)", limit);
		s->bomb = TRUE;
	}
	return TRUE;
}

static void
walk_on_match(void *ctx, void *token, const char *sig)
{
	struct walk_scan *s = ctx;
	struct moat_part *at = token;	/* the innermost listed file libclamav was in */
	g_autofree char *id = NULL, *once = NULL;

	if (at == NULL)
		at = s->root;
	if (walk_limit_alert(s, at, sig))
		return;
	/* Signatures from a third-party database end in ".UNOFFICIAL": the name is enough. */
	id = g_strdup_printf("av.%.*s", (int)(g_str_has_suffix(sig, ".UNOFFICIAL") ?
	    strlen(sig) - strlen(".UNOFFICIAL") : strlen(sig)), sig);
	once = g_strdup_printf("%s/%s", id, at->id);
	if (!g_hash_table_add(s->matched, g_steal_pointer(&once)))
		return;
	report_add_finding_at(s->w->rep, id, at, "ClamAV signature %s", sig);
}

/*
 * walk_on_file - one file libclamav opened: list it, pass it through, or
 * skip it. *TOKEN gets the member a signature found in it belongs to (left
 * NULL for a layer passed through: its matches go to the file it is in).
 */
static enum av_verdict
walk_on_file(void *ctx, const struct av_file *f, void **token)
{
	struct walk_scan *s = ctx;
	struct walk *w = s->w;
	struct moat_part *parent, *m;
	const char *sniffed, *name;
	struct walk_entry *e;
	g_autofree char *label = NULL;
	char sha[SHA256_HEX_LEN + 1];

	if (report_over_budget(w->rep))
		return AV_SKIP;
	if (f->level == 0) {
		if (s->root->av_type == NULL)
			s->root->av_type = f->type;
		walk_set_level(s, f, s->root);
		*token = s->root;
		if (!walk_directory(s, s->root, f->data, f->size))
			return AV_SKIP;
		walk_queue(s, s->root, f->data, f->size);
		return AV_SCAN;
	}
	if (f->normalized) {
		walk_set_level(s, f, NULL);
		return AV_SCAN;
	}
	if (s->bomb)
		return AV_SKIP;

	parent = walk_parent(s, f);
	if (walk_queued(s, parent)) {
		/*
		 * libclamav cannot open RAR or FAT images but finds files embedded
		 * in their raw bytes; libarchive or diskimg.h list the real
		 * members after this scan.
		 */
		walk_set_level(s, f, NULL);
		return AV_SCAN;
	}
	name = walk_synthetic(f->name) || walk_mail_label(parent, f->name) ? NULL : f->name;
	sniffed = sniff_type(f->data, MIN(f->size, SNIFF_HEAD_BYTES), NULL);
	if (name == NULL && !walk_interesting(sniffed)) {
		walk_set_level(s, f, NULL);	/* pass through: its members hang under PARENT */
		return AV_SCAN;
	}
	sha256_hex(f->data, f->size, sha);
	e = walk_entry_for(s, parent, f->name, f->size);	/* seen, even when skipped below */
	if (e != NULL)
		name = e->name;		/* the directory's full path: a/r.txt and b/r.txt are two files */
	if (walk_again(s, parent, sha, name))
		return AV_SKIP;
	/* Bytes out of the attachment: files listed, not the layers they came through. */
	if (walk_expand(s, f->size))
		return AV_SKIP;
	label = name != NULL ? NULL : g_strdup_printf("(embedded %s)", sniffed);
	if ((m = walk_member(w, parent, name != NULL ? name : label,
	    &s->deep)) == NULL)
		return AV_SKIP;
	walk_remember(s, parent, sha, name, m);
	walk_fill(w, m, f->data, f->size, sha);
	m->av_type = f->type;
	if (e != NULL) {
		m->hidden = e->hidden;
		m->system = e->system;
		m->encrypted = e->encrypted;
	}
	walk_set_level(s, f, m);
	*token = m;
	if (!walk_directory(s, m, f->data, f->size))
		return AV_SKIP;
	walk_queue(s, m, f->data, f->size);
	return AV_SCAN;
}

static const struct av_hooks walk_hooks = { walk_on_file, walk_on_match };

/* RAR through libarchive, disk images through diskimg.h --------------------- */

struct walk_rar_ctx {
	struct walk_scan *s;
	struct moat_part *rar;		/* the RAR or disk image being opened */
	struct moat_part *current;	/* member the data hook fills */
	guint64 max;			/* bytes one member may take out (walk_extract_room()) */
};

/*
 * walk_later_entry - one entry of a RAR or an image: a folder is noted, a
 * file listed; TRUE: give me its bytes
 */
static gboolean
walk_later_entry(struct walk_rar_ctx *r, const char *name, gint64 size, gboolean hidden,
    gboolean system, gboolean encrypted, gboolean is_dir)
{
	struct moat_part *m;

	r->current = NULL;
	if (is_dir)
		report_part_add_dir(r->rar, name, hidden, system);
	if (is_dir || report_over_budget(r->s->w->rep))
		return FALSE;
	if ((m = walk_member(r->s->w, r->rar, name, &r->s->deep)) == NULL)
		return FALSE;
	m->hidden = hidden;
	m->system = system;
	m->encrypted = encrypted;
	m->decoded_size = size >= 0 ? (guint64)size : 0;	/* encrypted: derive.h judges it */
	/* After a bomb the rest are listed (their names still count), never taken out. */
	if (r->s->bomb)
		return FALSE;
	r->current = m;
	return TRUE;
}

/*
 * walk_later_data - the bytes of the entry walk_later_entry() asked for,
 * through libclamav and deeper
 */
static void
walk_later_data(struct walk_rar_ctx *r, const guint8 *buf, gsize len, gboolean truncated)
{
	struct moat_part *m = r->current;
	char sha[SHA256_HEX_LEN + 1];

	if (m == NULL)
		return;
	if (truncated && len < r->max) {
		report_add_finding_at(r->s->w->rep, "container.unreadable", m,
		    "the member's data could not be read (corrupt or unsupported)");
		return;
	}
	if (truncated) {
		if (!r->s->bomb)
			report_add_finding_at(r->s->w->rep, "container.bomb", m,
			    "member larger than %" G_GUINT64_FORMAT " bytes (what is left of "
			    "[containers] max_member_bytes at this depth): not scanned", r->max);
		r->s->bomb = TRUE;
		return;
	}
	if (walk_expand(r->s, len))
		return;
	sha256_hex(buf, len, sha);
	walk_fill(r->s->w, m, buf, len, sha);
	r->s->w->extracting += len;	/* BUF lives while its members are walked */
	walk_buffer(r->s->w, m, buf, len, r->s);	/* through libclamav, and deeper */
	r->s->w->extracting -= len;
}

static gboolean
walk_rar_entry(void *ctx, const struct arch_entry *e)
{
	return walk_later_entry(ctx, e->name, e->size, e->hidden, e->system, e->encrypted, e->is_dir);
}

static void
walk_rar_data(void *ctx, const struct arch_entry *e, const guint8 *buf, gsize len,
    gboolean truncated)
{
	(void)e;
	walk_later_data(ctx, buf, len, truncated);
}

static gboolean
walk_image_entry(void *ctx, const struct diskimg_entry *e)
{
	return walk_later_entry(ctx, e->name, (gint64)e->size, e->hidden, e->system, FALSE, e->is_dir);
}

static void
walk_image_data(void *ctx, const struct diskimg_entry *e, const guint8 *buf, gsize len,
    gboolean truncated)
{
	(void)e;
	walk_later_data(ctx, buf, len, truncated);
}

/* walk_open_image - list the FAT image RAR->part and walk its files */
static void
walk_open_image(struct walk_scan *s, struct walk_rar *rar, struct walk_rar_ctx *ctx,
    const guint8 *data, gsize len)
{
	static const struct diskimg_hooks hooks = { walk_image_entry, walk_image_data };
	g_autofree char *why = NULL;
	enum diskimg_result rc = diskimg_walk(data, len, s->w->conf->containers.max_members, ctx->max,
	    &hooks, ctx, &why);

	if (rc == DISKIMG_TOO_MANY)
		walk_once(s->w->rep, &s->w->too_many, "container.too_many_members", rar->part,
		    "more than %u files: the rest were not opened", s->w->conf->containers.max_members);
	else if (rc == DISKIMG_UNSUPPORTED)
		report_add_finding_at(s->w->rep, "container.opaque_image", rar->part, "%s", why);
	else if (rc == DISKIMG_CORRUPT)
		report_add_finding_at(s->w->rep, "container.unreadable", rar->part, "%s", why);
}

/* walk_rars - open the queued RARs and disk images, in the order found */
static void
walk_rars(struct walk_scan *s)
{
	static const struct arch_hooks hooks = { walk_rar_entry, walk_rar_data };

	for (guint i = 0; i < s->rars->len; i++) {
		struct walk_rar *rar = s->rars->pdata[i];
		struct walk_rar_ctx ctx = { s, rar->part, NULL, walk_extract_room(s->w) };
		g_autofree char *why = NULL;
		gsize len;
		const guint8 *data = g_bytes_get_data(rar->bytes, &len);
		enum arch_result rc;

		if (s->bomb || report_over_budget(s->w->rep))
			break;
		if (rar->image) {
			walk_open_image(s, rar, &ctx, data, len);
			continue;
		}
		rc = arch_walk(data, len, s->w->conf->containers.max_members, ctx.max, &hooks,
		    &ctx, &why);

		if (rc == ARCH_TOO_MANY) {
			walk_once(s->w->rep, &s->w->too_many, "container.too_many_members",
			    rar->part, "more than %u files: the rest were not opened",
			    s->w->conf->containers.max_members);
		} else if (rc == ARCH_ENCRYPTED) {
			walk_hide(s->w, rar->part);	/* its names are hidden: derive.h judges it */
		} else if (rc == ARCH_CORRUPT) {
			report_add_finding_at(s->w->rep, "container.unreadable", rar->part, "%s", why);
		}
	}
}

/* walk_top - the MIME part P came out of (P itself for a MIME part) */
static struct moat_part *
walk_top(struct moat_part *p)
{
	while (p->parent != NULL)
		p = p->parent;
	return p;
}

/* walk_spent - bytes taken out of MIME part TOP so far (walk_expand(), derived members) */
static guint64
walk_spent(const struct walk *w, struct moat_part *top)
{
	const guint64 *n = w->spent != NULL ? g_hash_table_lookup(w->spent, top) : NULL;

	return n != NULL ? *n : 0;
}

static void
walk_set_spent(struct walk *w, struct moat_part *top, guint64 n)
{
	if (w->spent == NULL)
		w->spent = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_hash_table_insert(w->spent, top, g_memdup2(&n, sizeof(n)));
}

/*
 * walk_buffer - LEN bytes of ROOT through libclamav, then what it could
 * not open. A derived member (ROOT->derived) counts what comes out of it
 * against the MIME part it was made from: its size for the ratio, and the
 * bytes taken out of that part before.
 */
static void
walk_buffer(struct walk *w, struct moat_part *root, const guint8 *data, gsize len,
    struct walk_scan *outer)
{
	struct moat_part *top = outer == NULL ? walk_top(root) : NULL;
	struct walk_scan s = {
		.w = w,
		.root = root,
		.outer = outer,
		.root_size = top != NULL && top != root ? top->decoded_size : len,
		.expanded = top != NULL ? walk_spent(w, top) : 0,
		.levels = g_ptr_array_new_with_free_func((GDestroyNotify)walk_level_free),
		.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.dirs = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref),
		.rars = g_ptr_array_new_with_free_func((GDestroyNotify)walk_rar_free),
		.matched = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
	};
	const char *name = root->filename != NULL ? root->filename : "part";
	char *why = NULL;
	int rc;

	if (w->rc == 0 && (rc = av_scan(w->engine, data, len, name, &walk_hooks, &s, &why)) < 0) {
		if (rc == MOAT_EIO) {
			w->rc = rc;
			w->err = why;
			why = NULL;
		} else {
			report_add_finding_at(w->rep, "container.unreadable", root, "%s", why);
		}
	}
	g_free(why);
	if (w->rc == 0) {
		walk_unseen(&s);
		walk_rars(&s);
	}
	if (top != NULL && s.expanded > 0)
		walk_set_spent(w, top, s.expanded);
	g_ptr_array_unref(s.levels);
	g_hash_table_destroy(s.seen);
	g_hash_table_destroy(s.dirs);
	g_ptr_array_unref(s.rars);
	g_hash_table_destroy(s.matched);
}

struct walk *
walk_new(struct moat_report *rep, const struct moat_conf *conf, struct cl_engine *engine)
{
	struct walk *w = g_new0(struct walk, 1);

	w->rep = rep;
	w->conf = conf;
	w->engine = engine;
	return w;
}

void
walk_leaf(void *ctx, struct moat_part *p, const guint8 *data, gsize len)
{
	struct walk *w = ctx;

	if (w->rc != 0 || report_over_budget(w->rep))
		return;
	walk_buffer(w, p, data, len, NULL);
	/*
	 * A ZIP with encrypted entries is opened later (derive.h), from its
	 * kept bytes; the inventory keeps P's bytes only within [limits]
	 * max_decoded_bytes (mime.c), so a ZIP it will not keep is copied now.
	 */
	if (w->locked != NULL && g_hash_table_contains(w->locked, p) &&
	    g_hash_table_lookup(w->locked, p) == NULL &&
	    w->rep->kept + len > w->conf->limits.max_decoded_bytes && len <= walk_extract_room(w)) {
		g_hash_table_insert(w->locked, p, g_bytes_new(data, len));
		w->extracting += len;
	}
}

/*
 * walk_derived_scan - the LEN bytes at DATA, which moat made itself
 * (PROVENANCE), as the bytes of member M: hashed, typed, kept within the
 * budget and walked like any member's, within the limits of the MIME part
 * M came out of. FALSE when nothing was done (an earlier error, the
 * budget); past a [containers] limit M is listed, container.bomb says why.
 */
static gboolean
walk_derived_scan(struct walk *w, struct moat_part *m, const char *provenance,
    const guint8 *data, gsize len)
{
	const struct conf_containers *lim = &w->conf->containers;
	struct moat_part *top = walk_top(m);
	guint64 spent = walk_spent(w, top) + len;
	char sha[SHA256_HEX_LEN + 1];

	g_free(m->derived);
	m->derived = g_strdup(provenance);
	m->decoded_size = len;
	if (len > walk_extract_room(w) || spent > lim->max_expanded_bytes ||
	    (spent > BOMB_MIN_BYTES && spent / MAX(top->decoded_size, 1) > lim->max_ratio)) {
		report_add_finding_at(w->rep, "container.bomb", m,
		    "%" G_GSIZE_FORMAT " bytes %s: past the [containers] limits of %s, not scanned",
		    len, provenance, top->path_display);
		return TRUE;
	}
	sha256_hex(data, len, sha);
	walk_fill(w, m, data, len, sha);
	walk_set_spent(w, top, spent);
	w->extracting += len;		/* the caller's buffer, while its members are walked */
	walk_buffer(w, m, data, len, NULL);
	w->extracting -= len;
	return TRUE;
}

struct moat_part *
walk_derived(struct walk *w, struct moat_part *parent, const char *name, const char *provenance,
    const guint8 *data, gsize len)
{
	struct moat_part *m;

	if (w->rc != 0 || report_over_budget(w->rep) ||
	    (m = walk_member(w, parent, name, &w->derived_deep)) == NULL)
		return NULL;
	walk_derived_scan(w, m, provenance, data, len);
	return m;
}

gboolean
walk_derived_fill(struct walk *w, struct moat_part *m, const char *provenance,
    const guint8 *data, gsize len)
{
	if (w->rc != 0 || report_over_budget(w->rep))
		return FALSE;
	return walk_derived_scan(w, m, provenance, data, len);
}

guint64
walk_room(const struct walk *w)
{
	return walk_extract_room(w);
}

gboolean
walk_names_hidden(const struct walk *w, const struct moat_part *c)
{
	return w->hidden != NULL && g_hash_table_contains(w->hidden, c);
}

GBytes *
walk_container_bytes(const struct walk *w, const struct moat_part *c)
{
	GBytes *copy;

	if (c->content != NULL)
		return g_bytes_ref(c->content);
	if (w->locked != NULL && (copy = g_hash_table_lookup(w->locked, c)) != NULL)
		return g_bytes_ref(copy);
	return NULL;
}

int
walk_finish(struct walk *w, char **err)
{
	int rc;

	if (w == NULL)
		return 0;
	rc = w->rc;
	if (rc < 0)
		*err = g_steal_pointer(&w->err);
	g_free(w->err);
	if (w->spent != NULL)
		g_hash_table_destroy(w->spent);
	if (w->locked != NULL)
		g_hash_table_destroy(w->locked);
	if (w->hidden != NULL)
		g_hash_table_destroy(w->hidden);
	g_free(w);
	return rc;
}

int
walk_message(struct moat_report *rep, const struct moat_conf *conf, struct cl_engine *engine,
    char **err)
{
	struct walk *w = walk_new(rep, conf, engine);
	guint nparts = rep->parts->len;

	/* Members are appended to rep->parts as they are found: walk the MIME leaves only. */
	for (guint i = 0; i < nparts; i++) {
		struct moat_part *p = rep->parts->pdata[i];
		gsize len;
		const guint8 *data;

		if (p->content == NULL)
			continue;
		data = g_bytes_get_data(p->content, &len);
		walk_leaf(w, p, data, len);
	}
	return walk_finish(w, err);
}
