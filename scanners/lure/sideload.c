/*
 * sideload.c - DLL side-loading bundles (T1574.002)
 *
 * Windows looks for a program's DLLs in the program's own folder first. A
 * lure ships a signed, legitimate program (a vendor's updater, renamed to
 * look like a document) beside a rogue DLL of a name it imports, usually
 * with an encrypted payload the DLL decrypts (wsc.dll + putty.exe +
 * wsc_proxy.dat). Per folder of every container (and the message's own
 * attachments as one folder): a program whose import table names a DLL
 * beside it, or a known host/DLL pair ([lure] sideload_pairs: delay-loaded
 * DLLs are not in the import table), or a signed program beside a DLL it
 * does not import in a hidden or oddly named folder with an opaque blob.
 *
 * A portable application (python.exe beside python311.dll) imports the DLL
 * beside it too: an import alone is not enough. A bundle is reported when
 * one more sign makes it a lure's: a signature on the host, an opaque blob
 * beside it, a hidden or oddly named folder, a shortcut that runs into the
 * folder, or a known pair. Each folder's signs are worked out once.
 */
#include <stdlib.h>
#include <string.h>

#include "moat/lure.h"
#include "moat/pe.h"

#define BLOB_MIN_BYTES	1024	/* smaller files are no payload */
#define BLOB_ENTROPY	7.2	/* bits per byte from which bytes look encrypted or packed */
#define BLOB_SAMPLE	65536	/* bytes of a blob measured */
#define BLOB_MAX_TRIED	16	/* candidate blobs measured per folder */
#define SIDELOAD_MAX_DLLS 64	/* DLLs per container compared with each program */
#define SIDELOAD_MAX_HOSTS 100	/* bundles reported per message (report.h keeps as many per id) */

/* What one folder of a container holds besides programs: worked out once. */
struct sideload_folder {
	const struct moat_part *blob;	/* an opaque blob, or NULL */
	double entropy;			/* its bits per byte */
	const char *hidden;		/* the hidden folder it sits in (borrowed from the container), or NULL */
	gboolean odd;			/* an element of its path looks like a decoy folder's */
};

/* What the detector carries through one message. */
struct sideload_ctx {
	struct moat_report *rep;
	const struct moat_conf *conf;
	guint reported;			/* bundles reported so far */
};

static int
sideload_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* sideload_known - whether HOST beside DLL is a pair of [lure] sideload_pairs (sorted) */
static gboolean
sideload_known(const struct moat_conf *conf, const char *host, const char *dll)
{
	g_autofree char *pair = g_strdup_printf("%s/%s", host, dll);
	g_autofree char *folded = g_utf8_casefold(pair, -1);

	return bsearch(folded, conf->lure.pairs, g_strv_length(conf->lure.pairs), sizeof(char *),
	    sideload_cmp) != NULL;
}

/* sideload_imports - whether program INFO imports a DLL named DLL (case-insensitive) */
static gboolean
sideload_imports(const struct pe_info *info, const char *dll)
{
	for (guint i = 0; i < info->n_imports; i++)
		if (g_ascii_strcasecmp(info->imports[i], dll) == 0)
			return TRUE;
	return FALSE;
}

/* sideload_is_dll - whether P is a DLL by its bytes, or by its name when they were not kept */
static gboolean
sideload_is_dll(const struct moat_part *p)
{
	const char *base = lure_basename(p->filename);
	gsize len, n;
	const guint8 *data = lure_data(p, &len);
	struct pe_info info = { 0 };
	gboolean dll;

	if (base == NULL || lure_kind_of(p) != LURE_PROGRAM)
		return FALSE;
	if (data == NULL || pe_read(&info, data, len) < 0) {
		n = strlen(base);
		return n > 4 && g_ascii_strcasecmp(base + n - 4, ".dll") == 0;
	}
	dll = info.is_dll;
	pe_info_clear(&info);
	return dll;
}

/*
 * sideload_blob - the first of MEMBERS (one folder's) whose bytes look
 * encrypted, or NULL; *H gets its entropy
 */
static const struct moat_part *
sideload_blob(GPtrArray *members, double *h)
{
	guint tried = 0;

	for (guint i = 0; members != NULL && i < members->len && tried < BLOB_MAX_TRIED; i++) {
		const struct moat_part *m = members->pdata[i];
		gsize len;
		const guint8 *data = lure_data(m, &len);

		if (data == NULL || len < BLOB_MIN_BYTES || lure_kind_of(m) != LURE_OTHER)
			continue;
		tried++;
		if ((*h = lure_entropy(data, MIN(len, BLOB_SAMPLE))) >= BLOB_ENTROPY)
			return m;
	}
	return NULL;
}

/*
 * sideload_folder_of - FOLDER's signs in container C (NULL: the
 * attachments), from CACHE or worked out; BY_FOLDER holds C's members by folder
 */
static const struct sideload_folder *
sideload_folder_of(GHashTable *cache, const struct moat_part *c, GHashTable *by_folder,
    const char *folder)
{
	struct sideload_folder *f = g_hash_table_lookup(cache, folder);
	g_auto(GStrv) parts = NULL;

	if (f != NULL)
		return f;
	f = g_new0(struct sideload_folder, 1);
	f->blob = sideload_blob(g_hash_table_lookup(by_folder, folder), &f->entropy);
	if (c != NULL && *folder != '\0') {
		lure_folder_hidden(c, folder, &f->hidden);
		parts = g_strsplit(folder, "/", -1);
		for (guint i = 0; parts[i] != NULL && !f->odd; i++)
			f->odd = lure_odd_folder(parts[i]);
	}
	g_hash_table_insert(cache, g_strdup(folder), f);
	return f;
}

/* sideload_shortcut_into - whether a lure.lnk_relative_target finding sits in container C */
static gboolean
sideload_shortcut_into(const struct moat_report *rep, const struct moat_part *c)
{
	for (guint i = 0; c != NULL && i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (strcmp(f->id, "lure.lnk_relative_target") == 0 &&
		    g_str_has_prefix(f->path_display, c->path_display) &&
		    g_str_has_prefix(f->path_display + strlen(c->path_display), REPORT_PATH_SEP))
			return TRUE;
	}
	return FALSE;
}

/*
 * sideload_report - lure.sideload for HOST (INFO, or NULL when unread) and
 * DLL in folder F of container C, when a sign beside the import makes it a
 * lure's; "HOST VERB DLL TAIL" and the signs are the evidence. Returns
 * whether it reported.
 */
static gboolean
sideload_report(struct sideload_ctx *x, const struct moat_part *c, const struct sideload_folder *f,
    const struct moat_part *host, const struct pe_info *info, const struct moat_part *dll,
    const char *verb, const char *tail)
{
	const char *hname = lure_basename(host->filename), *dname = lure_basename(dll->filename);
	g_autofree char *folder = lure_folder(host->filename);
	gboolean signed_ = info != NULL && info->has_security;
	gboolean into = sideload_shortcut_into(x->rep, c);
	gboolean known = sideload_known(x->conf, hname, dname);
	GString *why;

	if (!signed_ && f->blob == NULL && f->hidden == NULL && !f->odd && !into && !known)
		return FALSE;	/* an application's own DLL, as far as anything shows */
	why = g_string_new(NULL);
	g_string_printf(why, "%s%s %s %s%s", hname, signed_ ? " (signed)" : "", verb, dname, tail);
	if (*folder != '\0')
		g_string_append_printf(why, " in '%s'", folder);
	if (f->blob != NULL)
		g_string_append_printf(why, "; opaque %s (%" G_GUINT64_FORMAT " bytes, %.1f bits/byte)",
		    lure_basename(f->blob->filename), f->blob->decoded_size, f->entropy);
	if (f->hidden != NULL)
		g_string_append_printf(why, "; hidden folder '%s'", f->hidden);
	else if (f->odd)
		g_string_append(why, "; an oddly named folder");
	if (into)
		g_string_append(why, "; a shortcut beside it runs into the folder");
	if (known)
		g_string_append(why, "; a known side-loading pair");
	report_add_finding_at(x->rep, "lure.sideload", host, "%s", why->str);
	g_string_free(why, TRUE);
	return TRUE;
}

/* sideload_host - whether program HOST loads one of DLLS beside it; reported once */
static gboolean
sideload_host(struct sideload_ctx *x, const struct moat_part *c, GHashTable *by_folder,
    GPtrArray *dlls, GHashTable *cache, const struct moat_part *host)
{
	g_autofree char *folder = lure_folder(host->filename);
	const struct sideload_folder *f = NULL;
	struct pe_info info = { 0 };
	gsize len;
	const guint8 *data = lure_data(host, &len);
	gboolean read = data != NULL && pe_read(&info, data, len) == 0;
	gboolean found = FALSE;

	for (guint i = 0; !found && !(read && info.is_dll) && i < dlls->len; i++) {
		const struct moat_part *dll = dlls->pdata[i];
		g_autofree char *df = lure_folder(dll->filename);
		const char *base = lure_basename(dll->filename);

		if (strcmp(df, folder) != 0)
			continue;
		if (f == NULL)
			f = sideload_folder_of(cache, c, by_folder, folder);
		if (read && sideload_imports(&info, base))
			found = sideload_report(x, c, f, host, &info, dll, "imports", " beside it");
		else if (sideload_known(x->conf, lure_basename(host->filename), base))
			found = sideload_report(x, c, f, host, read ? &info : NULL, dll, "loads",
			    " beside it");
		else if (read && info.has_security && f->blob != NULL && (f->hidden != NULL || f->odd))
			found = sideload_report(x, c, f, host, &info, dll, "sits beside",
			    ", not in its import table (delay-loaded?)");
	}
	pe_info_clear(&info);
	return found;
}

/* sideload_members - MEMBERS (container C's, or the message's attachments when C is NULL) */
static void
sideload_members(struct sideload_ctx *x, const struct moat_part *c, GPtrArray *members)
{
	GPtrArray *dlls = g_ptr_array_new();
	GHashTable *cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTable *by_folder = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);

	for (guint i = 0; i < members->len; i++) {
		const struct moat_part *m = members->pdata[i];
		char *folder = lure_folder(m->filename);
		GPtrArray *list = g_hash_table_lookup(by_folder, folder);

		if (list == NULL) {
			list = g_ptr_array_new();
			g_hash_table_insert(by_folder, folder, list);
		} else {
			g_free(folder);
		}
		g_ptr_array_add(list, (gpointer)m);
		if (m->filename != NULL && dlls->len < SIDELOAD_MAX_DLLS && sideload_is_dll(m))
			g_ptr_array_add(dlls, (gpointer)m);
	}
	for (guint i = 0; dlls->len > 0 && i < members->len && x->reported < SIDELOAD_MAX_HOSTS; i++) {
		const struct moat_part *m = members->pdata[i];

		if (report_over_budget(x->rep))
			break;
		if (m->filename != NULL && lure_kind_of(m) == LURE_PROGRAM && !sideload_is_dll(m) &&
		    sideload_host(x, c, by_folder, dlls, cache, m))
			x->reported++;
	}
	g_hash_table_destroy(by_folder);
	g_hash_table_destroy(cache);
	g_ptr_array_unref(dlls);
}

void
lure_sideload_check(struct moat_report *rep, const struct moat_conf *conf)
{
	struct sideload_ctx x = { rep, conf, 0 };
	GPtrArray *top = g_ptr_array_new();
	guint nparts = rep->parts->len;

	for (guint i = 0; i < nparts && !report_over_budget(rep); i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (p->parent == NULL)
			g_ptr_array_add(top, (gpointer)p);
		if (p->children != NULL)
			sideload_members(&x, p, p->children);
	}
	sideload_members(&x, NULL, top);
	g_ptr_array_unref(top);
}
