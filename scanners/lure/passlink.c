/*
 * passlink.c - lure.password_link: a password beside a download link (T1027.013)
 *
 * lure_password_check(): a cued password (not a "code:" or "PIN:", which
 * licence mails give beside their setup.exe) and an http(s) link in a MIME
 * text part whose path ends in an archive a password opens (.zip .rar .7z
 * .ace .arj), a disk image, a program or a script (pw_link_exts[]), or
 * whose query asks for a download ("download", "dl=1", or a value ending
 * in such an extension, "%2e" decoded). The links are looked for first, in
 * the raw bytes; only a message with one has its passwords read
 * (password.c), so ham with no such link costs one memchr() pass per text
 * part. .tar.gz, .tgz, .bz2 and .xz are left out: they take no password
 * and are what mailing lists link. At most PW_PART_MAX bytes of a part and
 * PW_URL_MAX of a link are read. Pure function of the report, reentrant,
 * no I/O.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/password.h"
#include "moat/text.h"
#include "password_int.h"

#define PW_URL_MAX	2048		/* bytes of one link read */
#define PW_URL_SHOWN	160		/* bytes of it the evidence shows */

/*
 * What a download link's path ends in: archives a password opens, disk
 * images, programs, scripts. Not ".com": query values end in host names.
 */
static const char *const pw_link_exts[] = {
	"zip", "rar", "7z", "ace", "arj", "r00", "001", "iso", "img", "vhd", "vhdx", "exe", "scr",
	"pif", "msi", "msix", "appx", "dll", "cpl", "js", "jse", "vbs", "vbe", "wsf", "wsh",
	"hta", "lnk", "bat", "cmd", "ps1", "jar", "chm", "one",
};

/* pw_link_ext - whether NAME (LEN bytes) ends in ".EXT" of pw_link_exts[] */
static gboolean
pw_link_ext(const char *name, gsize len)
{
	const char *dot = len > 1 ? memrchr(name, '.', len) : NULL;
	gsize n = dot != NULL ? (gsize)(name + len - dot - 1) : 0;
	char ext[8];

	if (n == 0 || n >= sizeof(ext) || dot == name)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		ext[i] = g_ascii_tolower(dot[1 + i]);
	ext[n] = '\0';
	for (gsize i = 0; i < G_N_ELEMENTS(pw_link_exts); i++)
		if (strcmp(ext, pw_link_exts[i]) == 0)
			return TRUE;
	return FALSE;
}

/* pw_unescape - S (LEN bytes) with %XX decoded and "&amp;" as '&'. Caller g_free()s. */
static char *
pw_unescape(const char *s, gsize len)
{
	GString *out = g_string_sized_new(len + 1);

	for (gsize i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) && g_ascii_isxdigit(s[i + 2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(s[i + 1]) * 16 +
			    g_ascii_xdigit_value(s[i + 2])));
			i += 2;
		} else if (s[i] == '&' && i + 4 < len && strncmp(s + i, "&amp;", 5) == 0) {
			g_string_append_c(out, '&');
			i += 4;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
	return g_string_free(out, FALSE);
}

/*
 * pw_query_downloads - the pair of query Q (decoded) that asks for a
 * download or names such a file ("export=download", "url=https://x/a.zip"),
 * or NULL. Caller g_free()s.
 */
static char *
pw_query_downloads(const char *q)
{
	g_auto(GStrv) pairs = g_strsplit_set(q, "&;", 64);

	for (guint i = 0; pairs[i] != NULL; i++) {
		const char *eq = strchr(pairs[i], '=');
		const char *v = eq != NULL ? eq + 1 : pairs[i];
		gsize klen = eq != NULL ? (gsize)(eq - pairs[i]) : strlen(pairs[i]);

		if (g_ascii_strcasecmp(v, "download") == 0 || (klen == 8 &&
		    g_ascii_strncasecmp(pairs[i], "download", 8) == 0) ||
		    g_ascii_strcasecmp(pairs[i], "dl=1") == 0 || pw_link_ext(v, strlen(v)))
			return g_strdup(pairs[i]);
	}
	return NULL;
}

/* pw_has_ci - whether [P, END) holds ASCII NEEDLE (lower-case), either case */
static gboolean
pw_has_ci(const char *p, const char *end, const char *needle)
{
	gsize n = strlen(needle);

	for (; p + n <= end; p++)
		if (g_ascii_tolower(*p) == needle[0] && g_ascii_strncasecmp(p, needle, n) == 0)
			return TRUE;
	return FALSE;
}

/*
 * pw_download_link - whether the URL at P (its scheme starts it; END ends
 * the part) is a download, as its path or its query says; *URL gets it
 * for the evidence, its query cut to the pair that said so (caller
 * g_free()s).
 */
static gboolean
pw_download_link(const char *p, const char *end, char **url)
{
	const char *q = p, *host, *path, *query, *frag;
	g_autofree char *qs = NULL, *pair = NULL;
	gsize path_len;

	while (q < end && q - p < PW_URL_MAX && (guchar)*q > ' ' && strchr("\"'<>`", *q) == NULL)
		q++;
	host = memchr(p, ':', (gsize)(q - p));
	if (host == NULL || q - host < 4 || host[1] != '/' || host[2] != '/')
		return FALSE;
	host += 3;
	path = host;
	while (path < q && strchr("/?#", *path) == NULL)
		path++;
	if (path == host)
		return FALSE;
	frag = memchr(path, '#', (gsize)(q - path));
	if (frag == NULL)
		frag = q;
	query = memchr(path, '?', (gsize)(frag - path));
	path_len = (gsize)((query != NULL ? query : frag) - path);
	while (path_len > 0 && strchr(").,;", path[path_len - 1]) != NULL && query == NULL &&
	    frag == q)
		path_len--;	/* a link at a sentence's end: "see https://x/y.zip." */
	if (pw_link_ext(path, path_len)) {
		*url = g_strndup(p, (gsize)(path + path_len - p));
		return TRUE;
	}
	/* a query that can ask for nothing: no "download", no "dl", no '.', no '%' */
	if (query == NULL || (!pw_has_ci(query, frag, "dl") && !pw_has_ci(query, frag, "download") &&
	    memchr(query, '.', (gsize)(frag - query)) == NULL &&
	    memchr(query, '%', (gsize)(frag - query)) == NULL))
		return FALSE;
	qs = pw_unescape(query + 1, (gsize)(frag - query - 1));
	if ((pair = pw_query_downloads(qs)) == NULL)
		return FALSE;
	*url = g_strdup_printf("%.*s?%s", (int)(query - p), p, pair);
	return TRUE;
}

/*
 * pw_link_in - the first download link in text part P's kept bytes (read
 * raw: URLs are ASCII in every charset mail uses but UTF-16), or NULL.
 * Caller g_free()s.
 */
static char *
pw_link_in(const struct moat_part *p)
{
	gsize len;
	const char *data = (const char *)lure_data(p, &len), *end;

	if (data == NULL || len == 0)
		return NULL;		/* an empty part: GBytes may give NULL */
	len = MIN(len, PW_PART_MAX);
	end = data + len;
	/* memchr() for each ':' is cheaper than memmem() for "://" (callgrind, ham) */
	for (const char *q = data; q < end;) {
		const char *h = memchr(q, ':', (gsize)(end - q));
		char *url = NULL;
		const char *start;

		if (h == NULL || end - h < 3)
			break;
		if (h[1] != '/' || h[2] != '/') {
			q = h + 1;
			continue;
		}
		start = h;
		while (start > data && h - start < 5 && g_ascii_isalpha(start[-1]))
			start--;
		if ((h - start == 4 && g_ascii_strncasecmp(start, "http", 4) == 0) ||
		    (h - start == 5 && g_ascii_strncasecmp(start, "https", 5) == 0)) {
			if (pw_download_link(start, end, &url))
				return url;
		}
		q = h + 3;
	}
	return NULL;
}

void
lure_password_check(struct moat_report *rep, const struct moat_conf *conf)
{
	g_autofree char *url = NULL, *shown = NULL, *place = NULL;
	g_autoptr(GPtrArray) pws = NULL;
	const struct moat_part *at = NULL;
	const struct password *pw = NULL;
	const char *host;

	(void)conf;
	for (guint i = 0; i < rep->parts->len && url == NULL; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		gboolean html;

		if (text_part_is_text(p, &html) && (url = pw_link_in(p)) != NULL)
			at = p;
	}
	if (url == NULL)
		return;
	/* a licence mail gives an "activation code:" beside its setup.exe: not a password */
	pws = pw_find(rep, PASSWORD_MAX_CANDIDATES, FALSE);
	for (guint i = 0; i < pws->len && pw == NULL; i++)
		if (((const struct password *)pws->pdata[i])->cued)
			pw = pws->pdata[i];
	if (pw == NULL)
		return;
	host = strstr(url, "://") + 3;
	shown = report_shorten_dup(url, PW_URL_SHOWN);
	if (strcmp(pw->where, at->path_display) != 0)
		place = g_strdup_printf(" in %s%s,", strcmp(pw->where, "subject") == 0 ? "the " : "",
		    pw->where);
	/* about the message: the password and the link may sit in different parts */
	report_add_finding(rep, "lure.password_link", NULL, "password \"%s\"%s and a link to "
	    "download from %.*s in %s: %s", pw->text, place != NULL ? place : "",
	    (int)strcspn(host, "/?#"), host, at->path_display, shown);
}
