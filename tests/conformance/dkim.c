/*
 * dkim.c - DKIM verification (dkimv_check()) against the public corpora
 *
 * usage: conformance_dkim TESTDATA
 *
 * Suites (PROVENANCE.md in each folder):
 *   dkim-mail-dkim-corpus  Mail::DKIM's 79 messages, keys in FAKE_DNS.dat,
 *                          verdicts in expected.tsv (rows of mode "default")
 *   dkim-dkimpy            RFC 6376/8463 examples, Exim Ed25519, Gmail; the
 *                          RSA signature again under dkimpy's bad key records
 *   dkim-mimekit           real Gmail signatures, RFC 8463 A.3; each passing
 *                          signature again after one body byte changed (fail)
 * Keys go into a struct auth_dns zone (no resolver, no deadline); messages
 * are fed as CRLF; [auth] dkim_min_key_bits is lowered to 512 because the
 * corpora's keys are that short (tests only).
 *
 * Prints "PASS <id>" or "FAIL <id>: expected X got Y (reason)" per case,
 * id "<suite>/<file>[#<signature, from 1>][+variant]", then
 * "dkim: N passed, M failed". Exit 0 when run, 77 when no corpus is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "moat/auth.h"
#include "moat/conf.h"
#include "moat/dkimv.h"

static guint n_pass, n_fail;
static struct moat_conf *conf;

/* zone_new - an empty test zone: lower-case name -> GPtrArray of char * */
static GHashTable *
zone_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);
}

/* zone_set - NAME's records become the one record REC (NULL: the name is removed) */
static void
zone_set(GHashTable *zone, const char *name, const char *rec)
{
	GPtrArray *recs;

	if (rec == NULL) {
		g_hash_table_remove(zone, name);
		return;
	}
	recs = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(recs, g_strdup(rec));
	g_hash_table_replace(zone, g_ascii_strdown(name, -1), recs);
}

/*
 * zone_load - add PATH's "<name> <TXT record>" lines to ZONE. Mail::DKIM's
 * markers: NXDOMAIN (left out, so the name does not exist), "~~Query timed
 * out~~" and "~~SERVFAIL~~" (TIMEOUT, which the zone answers as tempfail),
 * "" (one empty record). Returns FALSE when PATH cannot be read.
 */
static gboolean
zone_load(GHashTable *zone, const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		char *line = g_strstrip(*l), *sp, *rec;
		g_autofree char *name = NULL;
		GPtrArray *recs;

		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if ((sp = strpbrk(line, " \t")) == NULL)
			continue;
		name = g_ascii_strdown(line, sp - line);
		rec = g_strstrip(sp);
		if (strcmp(rec, "NXDOMAIN") == 0)
			continue;
		if (strcmp(rec, "~~Query timed out~~") == 0 || strcmp(rec, "~~SERVFAIL~~") == 0)
			rec = "TIMEOUT";
		else if (strcmp(rec, "\"\"") == 0)
			rec = "";
		if ((recs = g_hash_table_lookup(zone, name)) == NULL) {
			recs = g_ptr_array_new_with_free_func(g_free);
			g_hash_table_insert(zone, g_strdup(name), recs);
		}
		g_ptr_array_add(recs, g_strdup(rec));
	}
	return TRUE;
}

/* read_crlf - PATH's bytes with bare LF made CRLF, as an MTA hands them on; NULL when unreadable */
static GByteArray *
read_crlf(const char *path)
{
	g_autofree char *raw = NULL;
	gsize len;
	GByteArray *out;

	if (!g_file_get_contents(path, &raw, &len, NULL))
		return NULL;
	out = g_byte_array_sized_new(len + len / 16);
	for (gsize i = 0; i < len; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			g_byte_array_append(out, (const guint8 *)"\r", 1);
		g_byte_array_append(out, (const guint8 *)raw + i, 1);
	}
	return out;
}

/* verify - dkimv_check() on MSG with ZONE; a new array of struct auth_dkim * */
static GPtrArray *
verify(const GByteArray *msg, GHashTable *zone)
{
	struct auth_dns dns = { .deadline = 0, .zone = zone };
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)auth_dkim_free);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)msg->data, msg->len);

	dkimv_check(out, &dns, stream, conf);
	g_object_unref(stream);
	return out;
}

/* result_of - signature IDX's result name in RES ("none" when there is no such signature) */
static const char *
result_of(GPtrArray *res, guint idx, const char **reason)
{
	struct auth_dkim *d;

	*reason = NULL;
	if (idx >= res->len)
		return "none";
	d = g_ptr_array_index(res, idx);
	*reason = d->reason;
	return auth_result_name(d->result);
}

/* verdict_of - the message's verdict: pass when one signature passes, else the first's */
static const char *
verdict_of(GPtrArray *res, const char **reason)
{
	for (guint i = 0; i < res->len; i++) {
		struct auth_dkim *d = g_ptr_array_index(res, i);

		if (d->result == AUTH_PASS) {
			*reason = NULL;
			return "pass";
		}
	}
	return result_of(res, 0, reason);
}

/* report - one case: GOT is one of the '|'-separated results in WANT */
static void
report(const char *id, const char *want, const char *got, const char *reason)
{
	g_auto(GStrv) ok = g_strsplit(want, "|", -1);

	if (g_strv_contains((const char *const *)ok, got)) {
		printf("PASS %s\n", id);
		n_pass++;
	} else {
		printf("FAIL %s: expected %s got %s (%s)\n", id, want, got,
		    reason != NULL ? reason : "no reason");
		n_fail++;
	}
}

/* change_body_byte - MSG with one byte of its body changed (a letter's case flipped) */
static GByteArray *
change_body_byte(const GByteArray *msg)
{
	GByteArray *c = g_byte_array_sized_new(msg->len);

	g_byte_array_append(c, msg->data, msg->len);
	for (guint i = 3; i < c->len; i++) {
		if (memcmp(c->data + i - 3, "\r\n\r\n", 4) != 0)
			continue;
		for (guint j = i + 1; j < c->len; j++) {
			if (g_ascii_isalpha(c->data[j])) {
				c->data[j] ^= 0x20;
				return c;
			}
		}
		break;
	}
	return c;
}

/* ---- dkim-mail-dkim-corpus ---- */

/*
 * corpus_want - what we expect for one expected.tsv row. Mail::DKIM's
 * "invalid" is permerror or neutral in RFC 8601 words (temperror for the
 * DNS-timeout and SERVFAIL keys); draft signatures must never pass;
 * DomainKeys signatures are not DKIM: none. Where RFC 6376 and Mail::DKIM
 * part, RFC 6376 wins: it dropped the key's g= tag and says unknown key
 * tags are ignored (§3.6.1), so badkey_8/9/12/13 pass.
 */
static const char *
corpus_want(const char *file, const char *expected, const char *kind)
{
	static const char *const g_tag[] = { "badkey_8.txt", "badkey_9.txt", "badkey_12.txt",
	    "badkey_13.txt", NULL };

	if (strcmp(kind, "DomainKeys") == 0)
		return "none";
	if (strcmp(kind, "DKIM") != 0)
		return "neutral|permerror";
	if (g_strv_contains(g_tag, file))
		return "pass";
	if (strcmp(file, "badkey_14.txt") == 0 || strcmp(file, "badkey_15.txt") == 0)
		return "temperror";
	if (strcmp(expected, "invalid") == 0)
		return "neutral|permerror";
	return expected;
}

/* per-signature expectations where a message has several (dkimpy's column, RFC words) */
static const struct {
	const char *file;
	const char *want[4];
} corpus_sigs[] = {
	/* c=foobar (neutral), good, body changed, "synerr" (neutral) */
	{ "multiple_2.txt", { "neutral|permerror", "pass", "fail", "neutral|permerror" } },
};

static int
suite_mail_dkim(const char *data)
{
	g_autofree char *dir = g_build_filename(data, "dkim-mail-dkim-corpus", NULL);
	g_autofree char *tsv_path = g_build_filename(dir, "expected.tsv", NULL);
	g_autofree char *dns_path = g_build_filename(dir, "FAKE_DNS.dat", NULL);
	g_autofree char *tsv = NULL;
	g_auto(GStrv) rows = NULL;
	g_autoptr(GHashTable) zone = zone_new();

	if (!g_file_get_contents(tsv_path, &tsv, NULL, NULL) || !zone_load(zone, dns_path)) {
		fprintf(stderr, "dkim-mail-dkim-corpus: no expected.tsv or FAKE_DNS.dat in %s\n", dir);
		return -1;
	}
	rows = g_strsplit(tsv, "\n", -1);
	for (char **r = rows; *r != NULL; r++) {
		g_auto(GStrv) col = g_strsplit(*r, "\t", -1);
		g_autofree char *path = NULL, *id = NULL;
		g_autoptr(GByteArray) msg = NULL;
		g_autoptr(GPtrArray) res = NULL;
		const char *reason, *got;

		if (**r == '#' || g_strv_length(col) < 4 || strcmp(col[1], "default") != 0)
			continue;
		path = g_build_filename(dir, "corpus", col[0], NULL);
		id = g_strdup_printf("dkim-mail-dkim-corpus/%s", col[0]);
		if ((msg = read_crlf(path)) == NULL) {
			report(id, "readable", "unreadable", path);
			continue;
		}
		res = verify(msg, zone);
		got = verdict_of(res, &reason);
		report(id, corpus_want(col[0], col[2], col[3]), got, reason);
		for (size_t i = 0; i < G_N_ELEMENTS(corpus_sigs); i++) {
			if (strcmp(corpus_sigs[i].file, col[0]) != 0)
				continue;
			for (guint s = 0; s < G_N_ELEMENTS(corpus_sigs[i].want); s++) {
				g_autofree char *sid = g_strdup_printf("%s#%u", id, s + 1);

				got = result_of(res, s, &reason);
				report(sid, corpus_sigs[i].want[s], got, reason);
			}
		}
	}
	return 0;
}

/* ---- dkim-dkimpy and dkim-mimekit: every signature expected to pass ---- */

/*
 * check_signatures - verify FILE in DIR; signature s (from 1) must give
 * WANT[s-1]; with CHANGE_BODY, each passing one must fail once one body
 * byte is changed (what a banner added after verifying would do).
 */
static void
check_signatures(const char *suite, const char *dir, const char *file, GHashTable *zone,
    const char *const *want, gboolean change_body)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autoptr(GByteArray) msg = read_crlf(path);
	g_autoptr(GPtrArray) res = NULL;
	g_autoptr(GPtrArray) res2 = NULL;
	guint n = g_strv_length((char **)want);

	if (msg == NULL) {
		g_autofree char *id = g_strdup_printf("%s/%s", suite, file);

		report(id, "readable", "unreadable", path);
		return;
	}
	res = verify(msg, zone);
	if (change_body) {
		g_autoptr(GByteArray) changed = change_body_byte(msg);

		res2 = verify(changed, zone);
	}
	for (guint s = 0; s < n; s++) {
		g_autofree char *id = n > 1 ? g_strdup_printf("%s/%s#%u", suite, file, s + 1) :
		    g_strdup_printf("%s/%s", suite, file);
		g_autofree char *id2 = g_strconcat(id, "+body-changed", NULL);
		const char *reason, *got = result_of(res, s, &reason);

		report(id, want[s], got, reason);
		if (res2 != NULL && strcmp(got, "pass") == 0) {
			got = result_of(res2, s, &reason);
			report(id2, "fail", got, reason);
		}
	}
	if (res->len > n) {
		g_autofree char *id = g_strdup_printf("%s/%s#%u", suite, file, n + 1);

		report(id, "none", result_of(res, n, &(const char *){ NULL }), "an extra signature");
	}
}

static int
suite_dkimpy(const char *data)
{
	static const char *const pass1[] = { "pass", NULL };
	static const char *const pass2[] = { "pass", "pass", NULL };
	/* dkimpy's key-record tests: the RSA signature of rfc6376.signed.msg under bad records */
	static const struct {
		const char *keyfile;
		const char *want[3];	/* ed25519 signature, rsa signature */
	} bad_keys[] = {
		{ "badk.txt", { "pass", "permerror", NULL } },		/* k=ed25519-sha256: unknown */
		{ "badversion.txt", { "pass", "permerror", NULL } },	/* v=DKIM1: g=... */
		{ "test_bad.txt", { "pass", "fail|permerror", NULL } },	/* corrupted key */
		{ "test_tlsrpt.txt", { "pass", "permerror", NULL } },	/* s=tlsrpt only */
		{ "test2.txt", { "pass", "pass", NULL } },		/* same key, no k= */
	};
	g_autofree char *dir = g_build_filename(data, "dkim-dkimpy", NULL);
	g_autofree char *keys = g_build_filename(dir, "dkim-keys.txt", NULL);
	g_autoptr(GHashTable) zone = zone_new();

	if (!zone_load(zone, keys)) {
		fprintf(stderr, "dkim-dkimpy: no dkim-keys.txt in %s\n", dir);
		return -1;
	}
	check_signatures("dkim-dkimpy", dir, "rfc6376.signed.msg", zone, pass2, FALSE);
	check_signatures("dkim-dkimpy", dir, "ed25519test2.msg", zone, pass1, FALSE);
	check_signatures("dkim-dkimpy", dir, "test2.message", zone, pass1, FALSE);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_keys); i++) {
		g_autofree char *kpath = g_build_filename(dir, bad_keys[i].keyfile, NULL);
		g_autofree char *rec = NULL;
		g_autofree char *suite = g_strdup_printf("dkim-dkimpy[key=%s]", bad_keys[i].keyfile);
		g_autoptr(GHashTable) z = zone_new();

		if (!g_file_get_contents(kpath, &rec, NULL, NULL) || !zone_load(z, keys))
			continue;
		zone_set(z, "test._domainkey.football.example.com", g_strstrip(rec));
		check_signatures(suite, dir, "rfc6376.signed.msg", z, bad_keys[i].want, FALSE);
	}
	return 0;
}

static int
suite_mimekit(const char *data)
{
	static const char *const pass1[] = { "pass", NULL };
	static const char *const pass2[] = { "pass", "pass", NULL };
	g_autofree char *dir = g_build_filename(data, "dkim-mimekit", NULL);
	g_autofree char *keys = g_build_filename(dir, "dkim-keys.txt", NULL);
	g_autoptr(GHashTable) zone = zone_new();

	if (!zone_load(zone, keys)) {
		fprintf(stderr, "dkim-mimekit: no dkim-keys.txt in %s\n", dir);
		return -1;
	}
	check_signatures("dkim-mimekit", dir, "gmail.msg", zone, pass1, TRUE);
	check_signatures("dkim-mimekit", dir, "related.msg", zone, pass1, TRUE);
	check_signatures("dkim-mimekit", dir, "multipart-no-end-boundary.msg", zone, pass1, TRUE);
	check_signatures("dkim-mimekit", dir, "rfc8463-example.msg", zone, pass2, TRUE);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *dir;
		int (*run)(const char *data);
	} suites[] = {
		{ "dkim-mail-dkim-corpus", suite_mail_dkim },
		{ "dkim-dkimpy", suite_dkimpy },
		{ "dkim-mimekit", suite_mimekit },
	};
	guint ran = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TESTDATA\n", argv[0]);
		return 2;
	}
	g_mime_init();
	conf = conf_new_defaults();
	conf->auth.dkim_min_key_bits = 512;	/* the corpora's keys; never in production */
	for (size_t i = 0; i < G_N_ELEMENTS(suites); i++) {
		g_autofree char *d = g_build_filename(argv[1], suites[i].dir, NULL);

		if (!g_file_test(d, G_FILE_TEST_IS_DIR)) {
			fprintf(stderr, "%s: not in the test data, skipped\n", suites[i].dir);
			continue;
		}
		if (suites[i].run(argv[1]) == 0)
			ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no DKIM corpus (dkim-mail-dkim-corpus, dkim-dkimpy, dkim-mimekit) in %s\n",
		    argv[1]);
		conf_free(conf);
		return 77;
	}
	printf("dkim: %u passed, %u failed\n", n_pass, n_fail);
	conf_free(conf);
	g_mime_shutdown();
	return 0;
}
