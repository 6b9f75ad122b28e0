/*
 * charset.c - GMime's table of charset names, bounded (charset.h)
 *
 * This file defines g_mime_charset_iconv_name() itself. Linked into a
 * program, the definition takes the place of GMime's for GMime's own calls
 * too (libgmime calls it through its PLT), and passes each name that is
 * let through on to GMime's definition, found with dlsym(RTLD_NEXT). The
 * names let through are remembered here, in a set that cannot outgrow
 * glibc's alias list plus the two fixed bounds, so the set is the bound on
 * GMime's table as well.
 *
 * mime_init() calls mime_charset_init(), which also pulls this file into
 * every program that parses mail; check_charset tests that GMime's own
 * parser ends up here.
 */
#include <dlfcn.h>
#include <iconv.h>
#include <string.h>
#include <syslog.h>

#include <gmime/gmime.h>

#include "moat/charset.h"

/* What GMime is given for a name outside the bound: no iconv knows it. */
#define CS_UNKNOWN	"x-moat-unknown-charset"

typedef const char *(*cs_lookup_fn)(const char *);

static cs_lookup_fn cs_gmime;		/* GMime's g_mime_charset_iconv_name() */
static GMutex cs_lock;
static GHashTable *cs_names;		/* lower-case name -> itself; under cs_lock */
static struct mime_charset_stats cs_stats;	/* under cs_lock */
static gboolean cs_full_said;		/* the novel names ran out, and syslog heard; under cs_lock */

/*
 * Mail aliases GMime reads that glibc's iconv does not open as they are:
 * the names GMime's charset map knows from its start (Korean, Chinese and
 * Japanese X11 and Outlook names, ISO 10646), so they never use up the
 * novel names. The families (windows-cpNNNN, iso-8859-N-i) are matched in
 * cs_family().
 */
static const char *const cs_aliases[] = {
	"ks_c_5601-1987", "ks_c_5861-1992", "5601", "ksc-5601", "ksc-5601-1987",
	"ksc-5601_1987", "euckr-0", "big5-0", "big5.eten-0", "big5hkscs-0", "gb-2312",
	"gb2312-0", "gb2312-80", "gb2312.1980-0", "gb18030-0", "gbk-0", "eucjp-0", "ujis-0",
	"iso-10646", "iso_10646", "iso10646", "iso-10646-1", "iso_10646-1", "iso10646-1",
	"shift-jis", "shift_jis-2004", "shift_jisx0213", "jisx0208.1983-0",
	"jisx0212.1990-0", "pck", "x-unknown",
};

/* cs_setup - find GMime's lookup and seed the set, once; FALSE when GMime's is not there */
static gboolean
cs_setup(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		cs_gmime = (cs_lookup_fn)dlsym(RTLD_NEXT, "g_mime_charset_iconv_name");
		cs_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		for (gsize i = 0; i < G_N_ELEMENTS(cs_aliases); i++)
			g_hash_table_add(cs_names, g_strdup(cs_aliases[i]));
		/* GMime asks again about what it was given, when it opens iconv */
		g_hash_table_add(cs_names, g_strdup(CS_UNKNOWN));
		g_once_init_leave(&once, 1);
	}
	return cs_gmime != NULL;
}

/* cs_iconv_knows - glibc's iconv opens NAME as it is */
static gboolean
cs_iconv_knows(const char *name)
{
	iconv_t cd = iconv_open("UTF-8", name);

	if (cd == (iconv_t)-1)
		return FALSE;
	iconv_close(cd);
	return TRUE;
}

/*
 * cs_family - NAME is one of the families GMime maps onto a name iconv
 * knows: "windows-cp1252" and "microsoft-cp1252" (CP1252, what
 * g_mime_charset_canon_name() itself returns for it), and RFC 1556's
 * "iso-8859-8-i" and "-e" (read as ISO-8859-8). The name iconv gets must
 * exist, so each family is as finite as iconv's list.
 */
static gboolean
cs_family(const char *name)
{
	static const char *const cp[] = { "windows-cp", "microsoft-cp" };
	char buf[MIME_CHARSET_NAME_MAX + 1];
	gsize n = strlen(name);

	for (gsize i = 0; i < G_N_ELEMENTS(cp); i++) {
		gsize plen = strlen(cp[i]);
		const char *num = name + plen;

		if (strncmp(name, cp[i], plen) == 0 && num[0] >= '1' && num[0] <= '9' &&
		    strspn(num, "0123456789") == strlen(num) && strlen(num) <= 5) {
			g_snprintf(buf, sizeof buf, "cp%s", num);
			return cs_iconv_knows(buf);
		}
	}
	if (n > 11 && strncmp(name, "iso-8859-", 9) == 0 && name[n - 2] == '-' &&
	    (name[n - 1] == 'i' || name[n - 1] == 'e') &&
	    strspn(name + 9, "0123456789") == n - 11) {
		memcpy(buf, name, n - 2);
		buf[n - 2] = '\0';
		return cs_iconv_knows(buf);
	}
	return FALSE;
}

/* cs_lower - NAME in lower case into BUF; FALSE when it is too long or has other bytes */
static gboolean
cs_lower(char buf[MIME_CHARSET_NAME_MAX + 1], const char *name)
{
	gsize i;

	for (i = 0; name[i] != '\0'; i++) {
		char c = g_ascii_tolower(name[i]);

		if (i == MIME_CHARSET_NAME_MAX ||
		    !(g_ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-'))
			return FALSE;
		buf[i] = c;
	}
	buf[i] = '\0';
	return i > 0;
}

/*
 * cs_admit - KEY (lower case) is in the bounded set, or joins it now; FALSE:
 * GMime is to look up CS_UNKNOWN instead. Under cs_lock.
 */
static gboolean
cs_admit(const char *key)
{
	if (g_hash_table_contains(cs_names, key))
		return TRUE;
	if (!cs_iconv_knows(key) && !cs_family(key)) {
		if (cs_stats.novel == MIME_CHARSET_NOVEL_MAX) {
			if (!cs_full_said)
				syslog(LOG_WARNING, "charset names: %u names no iconv knows were "
				    "seen; later ones are read as an unknown charset", cs_stats.novel);
			cs_full_said = TRUE;
			return FALSE;
		}
		cs_stats.novel++;
	}
	cs_stats.names++;
	g_hash_table_add(cs_names, g_strdup(key));
	return TRUE;
}

/*
 * g_mime_charset_iconv_name - GMime's lookup, for names inside the bound
 * (charset.h); every other name is looked up as CS_UNKNOWN. What GMime
 * returns lives in its table for the process's life, as before.
 */
const char *
g_mime_charset_iconv_name(const char *charset)
{
	char key[MIME_CHARSET_NAME_MAX + 1];
	gboolean admitted;

	if (charset == NULL)
		return NULL;
	if (!cs_setup())
		return CS_UNKNOWN;	/* mime_init() has said why, at start */
	g_mutex_lock(&cs_lock);
	admitted = cs_lower(key, charset) && cs_admit(key);
	if (!admitted)
		cs_stats.refused++;
	g_mutex_unlock(&cs_lock);
	return cs_gmime(admitted ? charset : CS_UNKNOWN);
}

gboolean
mime_charset_init(char **err)
{
	if (!cs_setup()) {
		*err = g_strdup("GMime's g_mime_charset_iconv_name() was not found after moat's "
		    "(GMime linked statically?): charset names cannot be bounded");
		return FALSE;
	}
	return TRUE;
}

void
mime_charset_stats(struct mime_charset_stats *st)
{
	g_mutex_lock(&cs_lock);
	*st = cs_stats;
	g_mutex_unlock(&cs_lock);
}
