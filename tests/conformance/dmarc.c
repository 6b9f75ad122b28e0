/*
 * dmarc.c - libopendmarc's own test vectors against moat's DMARC
 * (TESTDATA/dmarc-opendmarc, see its PROVENANCE.md)
 *
 * usage: conformance_dmarc TESTDATA
 *
 * Every table goes through moat's code, with the corpus's 2014 public
 * suffix list (dmarc_init()):
 *   org-domain.tsv    dmarc_org_domain()
 *   alignment.tsv     dmarc_check() with a DMARC record (p=reject, aspf= and
 *                     adkim= from the mode) in a test zone, the authenticated
 *                     domain passing SPF (MAIL FROM) and DKIM: both
 *                     spf_aligned and dkim_aligned must match the expectation
 *   record-parse.tsv  dmarc_check() with the record at _dmarc.abuse.net and
 *                     nothing passing. moat has no parser of its own (libopendmarc's
 *                     opendmarc_policy_parse_dmarc() runs inside dmarc_check()),
 *                     so libopendmarc's status maps to moat's result:
 *                     OKAY -> fail with a policy; BAD_VALUE -> permerror;
 *                     EMPTY, BAD_VERSION -> none (RFC 7489 §6.6.3: a TXT
 *                     record not starting with v=DMARC1 is not a DMARC record);
 *                     NO_REQUIRED_P -> none (§6.6.3: no valid p=, no DMARC)
 *   from-domain.tsv   moat's From domain: mime_inventory() of a message with
 *                     that From field, then the domain of its one mailbox
 *                     (auth.c applies DMARC only with exactly one, RFC 7489
 *                     §6.6.1; several mailboxes count as no domain)
 * Case ids are "table/lineN" (N: the line in the file). Prints "PASS id" or
 * "FAIL id: expected X got Y", then "dmarc: N passed, M failed". Exit 0 when
 * it ran, 77 when the corpus is missing.
 */
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "moat/conf.h"
#include "moat/dmarc.h"
#include "moat/mime.h"
#include "moat/report.h"

#define CORPUS	"dmarc-opendmarc"

static guint passed, failed;

static void
verdict(const char *table, guint line, gboolean ok, const char *expected, const char *got)
{
	if (ok) {
		printf("PASS %s/line%u\n", table, line);
		passed++;
	} else {
		printf("FAIL %s/line%u: expected %s got %s\n", table, line, expected, got);
		failed++;
	}
}

/* read_table - the rows of DIR/NAME split on tabs, comments left out; NULL when unreadable */
static GPtrArray *
read_table(const char *dir, const char *name, GArray **lines)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) rows = NULL;
	GPtrArray *out;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	rows = g_strsplit(text, "\n", -1);
	out = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	*lines = g_array_new(FALSE, FALSE, sizeof(guint));
	for (guint i = 0; rows[i] != NULL; i++) {
		char *cr = strchr(rows[i], '\r');
		guint n = i + 1;

		if (cr != NULL)
			*cr = '\0';
		if (rows[i][0] == '\0' || rows[i][0] == '#')
			continue;
		g_ptr_array_add(out, g_strsplit(rows[i], "\t", -1));
		g_array_append_val(*lines, n);
	}
	return out;
}

/* zone_new - a test zone holding RECORD at NAME */
static GHashTable *
zone_new(const char *name, const char *record)
{
	GHashTable *zone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);
	GPtrArray *txt = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(txt, g_strdup(record));
	g_hash_table_insert(zone, g_ascii_strdown(name, -1), txt);
	return zone;
}

/* bare - DOMAIN without dots at its ends, lower-case (the name moat will ask for) */
static char *
bare(const char *domain)
{
	const char *s = domain, *e;

	while (*s == '.')
		s++;
	e = s + strlen(s);
	while (e > s && e[-1] == '.')
		e--;
	return g_ascii_strdown(s, e - s);
}

static void
run_org_domain(const char *dir)
{
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GPtrArray) rows = read_table(dir, "org-domain.tsv", &lines);

	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		char **f = rows->pdata[i];
		g_autofree char *got = NULL;

		if (g_strv_length(f) < 3)
			continue;
		got = dmarc_org_domain(f[1]);
		verdict("org-domain", g_array_index(lines, guint, i), strcmp(got, f[2]) == 0,
		    f[2], got);
	}
}

static void
run_alignment(const char *dir)
{
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GPtrArray) rows = read_table(dir, "alignment.tsv", &lines);

	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		char **f = rows->pdata[i];
		struct auth_spf spf = { 0 };
		struct auth_dkim dkim = { 0 };
		struct auth_dmarc out = { 0 };
		struct auth_dns dns = { 0 };
		g_autoptr(GPtrArray) sigs = g_ptr_array_new();
		g_autofree char *name = NULL, *record = NULL, *got = NULL;
		gboolean want;
		char m;

		if (g_strv_length(f) < 5)
			continue;
		m = strcmp(f[3], "strict") == 0 ? 's' : 'r';
		want = strcmp(f[4], "0") == 0;
		{
			g_autofree char *b = bare(f[1]);

			name = g_strconcat("_dmarc.", b, NULL);
		}
		record = g_strdup_printf("v=DMARC1; p=reject; aspf=%c; adkim=%c", m, m);
		dns.zone = zone_new(name, record);
		spf.result = AUTH_PASS;
		spf.identity = (char *)"mailfrom";
		spf.domain = f[2];
		dkim.result = AUTH_PASS;
		dkim.domain = f[2];
		dkim.selector = (char *)"sel";
		g_ptr_array_add(sigs, &dkim);
		dmarc_check(&out, &dns, "192.0.2.1", f[1], &spf, NULL, sigs);
		got = g_strdup_printf("spf_aligned=%d dkim_aligned=%d result=%s (%s)",
		    out.spf_aligned, out.dkim_aligned, auth_result_name(out.result),
		    out.reason != NULL ? out.reason : "");
		verdict("alignment", g_array_index(lines, guint, i),
		    out.spf_aligned == want && out.dkim_aligned == want
		    && out.result == (want ? AUTH_PASS : AUTH_FAIL),
		    want ? "aligned (0)" : "not aligned (-1)", got);
		auth_dmarc_clear(&out);
		g_hash_table_unref(dns.zone);
	}
}

/* parse_expect - moat's result for libopendmarc's parse status NAME (see the top) */
static enum auth_result
parse_expect(const char *name)
{
	if (strcmp(name, "DMARC_PARSE_OKAY") == 0)
		return AUTH_FAIL;
	if (strcmp(name, "DMARC_PARSE_ERROR_BAD_VALUE") == 0)
		return AUTH_PERMERROR;
	return AUTH_NONE;
}

static void
run_record_parse(const char *dir)
{
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GPtrArray) rows = read_table(dir, "record-parse.tsv", &lines);

	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		char **f = rows->pdata[i];
		struct auth_dmarc out = { 0 };
		struct auth_dns dns = { 0 };
		g_autofree char *want = NULL, *got = NULL;
		enum auth_result r;

		if (g_strv_length(f) < 3)
			continue;
		r = parse_expect(f[2]);
		dns.zone = zone_new("_dmarc.abuse.net", f[1]);
		dmarc_check(&out, &dns, "192.0.2.1", "abuse.net", NULL, NULL, NULL);
		want = g_strdup_printf("%s (%s)", auth_result_name(r), f[2]);
		got = g_strdup_printf("%s policy=%s (%s)", auth_result_name(out.result),
		    out.policy != NULL ? out.policy : "-", out.reason != NULL ? out.reason : "");
		verdict("record-parse", g_array_index(lines, guint, i),
		    out.result == r && (r != AUTH_FAIL || out.policy != NULL), want, got);
		auth_dmarc_clear(&out);
		g_hash_table_unref(dns.zone);
	}
}

/* from_domain - the From domain moat's inventory and auth.c see in a message with From: VALUE */
static char *
from_domain(const struct moat_conf *conf, const char *value, guint *count)
{
	g_autofree char *msg = g_strdup_printf("From: %s\r\nTo: t@example.org\r\n"
	    "Subject: t\r\n\r\nbody\r\n", value);
	struct moat_report *rep = report_new();
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	const char *at;
	char *d = NULL;

	*count = 0;
	if (mime_inventory(rep, st, conf, NULL) == 0) {
		*count = rep->hdr.from_count;
		/* as auth.c's auth_domain_of(): after the last @, lower-case, no trailing dot */
		at = rep->hdr.from_addr != NULL ? strrchr(rep->hdr.from_addr, '@') : NULL;
		if (*count == 1 && at != NULL && at[1] != '\0') {
			gsize n;

			d = g_ascii_strdown(at + 1, -1);
			if ((n = strlen(d)) > 0 && d[n - 1] == '.')
				d[n - 1] = '\0';
		}
	}
	g_object_unref(st);
	report_free(rep);
	return d;
}

static void
run_from_domain(const char *dir)
{
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GPtrArray) rows = read_table(dir, "from-domain.tsv", &lines);
	struct moat_conf *conf = conf_new_defaults();

	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		char **f = rows->pdata[i];
		g_autofree char *d = NULL, *got = NULL;
		guint count;

		if (g_strv_length(f) < 3)
			continue;
		d = from_domain(conf, f[1], &count);
		got = g_strdup_printf("%s (%u From mailboxes)", d != NULL ? d : "no domain", count);
		verdict("from-domain", g_array_index(lines, guint, i),
		    d != NULL && strcmp(d, f[2]) == 0, f[2], got);
	}
	conf_free(conf);
}

int
main(int argc, char **argv)
{
	g_autofree char *dir = NULL;
	g_autofree char *psl = NULL;
	g_autofree char *err = NULL;

	if (argc < 2 || *argv[1] == '\0') {
		fprintf(stderr, "usage: conformance_dmarc TESTDATA\n");
		return 77;
	}
	dir = g_build_filename(argv[1], CORPUS, NULL);
	psl = g_build_filename(dir, "effective_tld_names.dat", NULL);
	if (!g_file_test(psl, G_FILE_TEST_IS_REGULAR)) {
		fprintf(stderr, "no %s corpus in %s\n", CORPUS, argv[1]);
		return 77;
	}
	if (dmarc_init(psl, &err) != 0) {
		fprintf(stderr, "dmarc_init: %s\n", err);
		return 1;
	}
	mime_init();
	run_record_parse(dir);
	run_alignment(dir);
	run_org_domain(dir);
	run_from_domain(dir);
	printf("dmarc: %u passed, %u failed\n", passed, failed);
	return 0;
}
