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
 * DLLs are not in the import table). The evidence says what makes it
 * stronger: a signature on the host, an opaque blob beside it, a hidden
 * folder, a shortcut that runs into it.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/pe.h"

#define BLOB_MIN_BYTES	1024	/* smaller files are no payload */
#define BLOB_ENTROPY	7.2	/* bits per byte from which bytes look encrypted or packed */
#define BLOB_SAMPLE	65536	/* bytes of a blob measured */
#define SIDELOAD_MAX_DLLS 64	/* DLLs per container compared with each program */
#define SIDELOAD_MAX_HOSTS 100	/* bundles reported per message (report.h keeps as many per id) */

static gboolean
sideload_has(char *const *sorted, const char *s)
{
	for (gsize i = 0; sorted != NULL && sorted[i] != NULL; i++)
		if (strcmp(sorted[i], s) == 0)
			return TRUE;
	return FALSE;
}

/* sideload_known - whether HOST beside DLL is a pair of [lure] sideload_pairs */
static gboolean
sideload_known(const struct moat_conf *conf, const char *host, const char *dll)
{
	g_autofree char *pair = g_strdup_printf("%s/%s", host, dll);
	g_autofree char *folded = g_utf8_casefold(pair, -1);

	return sideload_has(conf->lure.pairs, folded);
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
	gsize len;
	const guint8 *data = lure_data(p, &len);
	struct pe_info info = { 0 };
	gboolean dll;

	if (base == NULL || lure_kind_of(p) != LURE_PROGRAM)
		return FALSE;
	if (data == NULL || pe_read(&info, data, len) < 0)
		return g_str_has_suffix(base, ".dll") || g_str_has_suffix(base, ".DLL");
	dll = info.is_dll;
	pe_info_clear(&info);
	return dll;
}

/* sideload_blob - a member of FOLDER among MEMBERS whose bytes look encrypted, or NULL; *H its entropy */
static const struct moat_part *
sideload_blob(GPtrArray *members, const char *folder, double *h)
{
	for (guint i = 0; i < members->len; i++) {
		const struct moat_part *m = members->pdata[i];
		g_autofree char *f = lure_folder(m->filename);
		gsize len;
		const guint8 *data = lure_data(m, &len);

		if (data == NULL || len < BLOB_MIN_BYTES || strcmp(f, folder) != 0 ||
		    lure_kind_of(m) != LURE_OTHER)
			continue;
		if ((*h = lure_entropy(data, MIN(len, BLOB_SAMPLE))) >= BLOB_ENTROPY)
			return m;
	}
	return NULL;
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
 * sideload_triad - whether FOLDER of container C is set out like a lure's
 * even without an import to show for it: hidden or oddly named, with an
 * opaque blob in it. A signed host's DLL is often delay-loaded, and so
 * missing from the import table.
 */
static gboolean
sideload_triad(const struct moat_part *c, GPtrArray *members, const char *folder)
{
	g_auto(GStrv) parts = NULL;
	gboolean odd = FALSE;
	double h;

	if (c == NULL || *folder == '\0' || sideload_blob(members, folder, &h) == NULL)
		return FALSE;
	if (lure_folder_hidden(c, folder, NULL))
		return TRUE;
	parts = g_strsplit(folder, "/", -1);
	for (guint i = 0; parts[i] != NULL && !odd; i++)
		odd = lure_odd_folder(parts[i]);
	return odd;
}

/* sideload_report - the finding for HOST loading DLL in FOLDER of container C */
static void
sideload_report(struct moat_report *rep, const struct moat_conf *conf, const struct moat_part *c,
    GPtrArray *members, const struct moat_part *host, const struct pe_info *info,
    const struct moat_part *dll, const char *verb, const char *tail)
{
	g_autofree char *folder = lure_folder(host->filename);
	GString *why = g_string_new(NULL);
	const struct moat_part *blob;
	const char *hidden = NULL;
	double h = 0;

	g_string_printf(why, "%s%s %s %s%s", lure_basename(host->filename),
	    info != NULL && info->has_security ? " (signed)" : "", verb, lure_basename(dll->filename),
	    tail);
	if (*folder != '\0')
		g_string_append_printf(why, " in '%s'", folder);
	if ((blob = sideload_blob(members, folder, &h)) != NULL)
		g_string_append_printf(why, "; opaque %s (%" G_GUINT64_FORMAT " bytes, %.1f bits/byte)",
		    lure_basename(blob->filename), blob->decoded_size, h);
	if (c != NULL && *folder != '\0' && lure_folder_hidden(c, folder, &hidden))
		g_string_append_printf(why, "; hidden folder '%s'", hidden);
	if (c != NULL && sideload_shortcut_into(rep, c))
		g_string_append(why, "; a shortcut beside it runs into the folder");
	if (sideload_known(conf, lure_basename(host->filename), lure_basename(dll->filename)))
		g_string_append(why, "; a known side-loading pair");
	report_add_finding_at(rep, "lure.sideload", host, "%s", why->str);
	g_string_free(why, TRUE);
}

/* sideload_host - whether program HOST of MEMBERS loads a DLL beside it; reported once */
static gboolean
sideload_host(struct moat_report *rep, const struct moat_conf *conf, const struct moat_part *c,
    GPtrArray *members, GPtrArray *dlls, const struct moat_part *host)
{
	g_autofree char *folder = lure_folder(host->filename);
	struct pe_info info = { 0 };
	gsize len;
	const guint8 *data = lure_data(host, &len);
	gboolean read = data != NULL && pe_read(&info, data, len) == 0;

	gboolean found = FALSE;

	if (read && info.is_dll)
		goto out;
	for (guint i = 0; !found && i < dlls->len; i++) {
		const struct moat_part *dll = dlls->pdata[i];
		g_autofree char *f = lure_folder(dll->filename);
		const char *base = lure_basename(dll->filename);

		if (strcmp(f, folder) != 0)
			continue;
		if (read && sideload_imports(&info, base)) {
			sideload_report(rep, conf, c, members, host, &info, dll, "imports", " beside it");
			found = TRUE;
		} else if (sideload_known(conf, lure_basename(host->filename), base)) {
			sideload_report(rep, conf, c, members, host, read ? &info : NULL, dll, "loads",
			    " beside it");
			found = TRUE;
		} else if (read && info.has_security && sideload_triad(c, members, folder)) {
			sideload_report(rep, conf, c, members, host, &info, dll, "sits beside",
			    ", not in its import table (delay-loaded?)");
			found = TRUE;
		}
	}
out:
	pe_info_clear(&info);
	return found;
}

/* sideload_members - MEMBERS (one container's, or the message's attachments) checked */
static void
sideload_members(struct moat_report *rep, const struct moat_conf *conf, const struct moat_part *c,
    GPtrArray *members, guint *reported)
{
	GPtrArray *dlls = g_ptr_array_new();

	for (guint i = 0; i < members->len && dlls->len < SIDELOAD_MAX_DLLS; i++)
		if (sideload_is_dll(members->pdata[i]))
			g_ptr_array_add(dlls, members->pdata[i]);
	for (guint i = 0; dlls->len > 0 && i < members->len && *reported < SIDELOAD_MAX_HOSTS; i++) {
		const struct moat_part *m = members->pdata[i];

		if (lure_kind_of(m) == LURE_PROGRAM && !sideload_is_dll(m) &&
		    sideload_host(rep, conf, c, members, dlls, m))
			(*reported)++;
	}
	g_ptr_array_unref(dlls);
}

void
lure_sideload_check(struct moat_report *rep, const struct moat_conf *conf)
{
	GPtrArray *top = g_ptr_array_new();
	guint nparts = rep->parts->len, reported = 0;

	for (guint i = 0; i < nparts; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (p->parent == NULL)
			g_ptr_array_add(top, (gpointer)p);
		if (p->children != NULL)
			sideload_members(rep, conf, p, p->children, &reported);
	}
	sideload_members(rep, conf, NULL, top, &reported);
	g_ptr_array_unref(top);
}
