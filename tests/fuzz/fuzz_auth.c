/*
 * fuzz_auth.c - libFuzzer harness: sender authentication on hostile input.
 *
 * The input's first line is the SPF record of example.com, its second the
 * DMARC record of example.com, the rest a message checked as if sent from
 * 192.0.2.1 with MAIL FROM a@example.com: SPF's record parser and macros,
 * DMARC's record parser, every DKIM-Signature the message carries (keys
 * from the test data's key files, when they are there), the header writer.
 * DNS is a zone in memory; nothing leaves the process.
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "moat/auth.h"
#include "moat/conf.h"
#include "moat/dmarc.h"
#include "moat/report.h"
#include "moat/scan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct moat_conf *fuzz_conf;
static GHashTable *fuzz_keys;		/* name -> GPtrArray of TXT: the DKIM keys */

/* fuzz_zone_add - TXT record TXT at NAME in ZONE */
static void
fuzz_zone_add(GHashTable *zone, const char *name, const char *txt)
{
	GPtrArray *recs = g_hash_table_lookup(zone, name);

	if (recs == NULL) {
		recs = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(zone, g_ascii_strdown(name, -1), recs);
	}
	g_ptr_array_add(recs, g_strdup(txt));
}

/* fuzz_load_keys - "selector._domainkey.domain TXT" lines of PATH, when it exists */
static void
fuzz_load_keys(const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		char *sp = strchr(lines[i], ' ');

		if (lines[i][0] == '#' || sp == NULL)
			continue;
		*sp = '\0';
		fuzz_zone_add(fuzz_keys, lines[i], g_strstrip(sp + 1));
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *data = g_getenv("MOAT_TESTDATA");
	g_autofree char *dir = g_strdup(data != NULL ? data : "../shared/testdata");
	g_autofree char *k1 = g_build_filename(dir, "dkim-dkimpy", "dkim-keys.txt", NULL);
	g_autofree char *k2 = g_build_filename(dir, "dkim-mimekit", "dkim-keys.txt", NULL);
	char *err = NULL;

	(void)argc;
	(void)argv;
	scan_init();
	fuzz_conf = conf_new_defaults();
	fuzz_conf->av.enabled = FALSE;		/* the checks, not libclamav */
	fuzz_conf->auth.dkim_min_key_bits = 512;
	(void)dmarc_init(fuzz_conf->auth.public_suffix_list, &err);
	g_free(err);
	fuzz_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);
	fuzz_load_keys(k1);
	fuzz_load_keys(k2);
	return 0;
}

/* fuzz_line - the next line of *P (up to END) as a string; *P moves past it */
static char *
fuzz_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl != NULL ? nl : end;
	char *line = g_strndup((const char *)*p, (gsize)(stop - *p));

	*p = nl != NULL ? nl + 1 : end;
	return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	g_autofree char *spf = fuzz_line(&p, end);
	g_autofree char *dmarc = fuzz_line(&p, end);
	GHashTable *zone = g_hash_table_ref(fuzz_keys);
	SPF_server_t *spf_zone = SPF_server_new(SPF_DNS_ZONE, 0);
	struct auth_dns dns = { .spf_zone = spf_zone };
	struct scan_opts opts = { .auth = TRUE, .dns = &dns };
	struct moat_envelope env;
	struct moat_report *rep = NULL;
	GHashTable *txt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);
	GHashTableIter it;
	gpointer k, v;

	/* the keys, plus this input's DMARC record */
	g_hash_table_iter_init(&it, zone);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(txt, g_strdup(k), g_ptr_array_ref(v));
	g_hash_table_unref(zone);
	fuzz_zone_add(txt, "_dmarc.example.com", dmarc);
	dns.zone = txt;
	if (g_utf8_validate(spf, -1, NULL))
		SPF_dns_zone_add_str(spf_zone->resolver, "example.com", ns_t_txt, NETDB_SUCCESS, spf);
	report_envelope_init(&env);
	env.client_addr = g_strdup("192.0.2.1");
	env.helo = g_strdup("mx.example.com");
	env.mail_from = g_strdup("a@example.com");
	g_ptr_array_add(env.rcpt_to, g_strdup("b@example.org"));
	{
		GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)p, (gsize)(end - p));

		if (scan_message_opts(&rep, NULL, s, &env, fuzz_conf, &opts) == 0) {
			char *json = report_to_json(rep, FALSE);
			char *ar = auth_results_header(rep->auth, &rep->env, "mx.example.org");

			(void)auth_results_ours(ar, "mx.example.org");
			g_free(ar);
			g_free(json);
			report_free(rep);
		}
		g_object_unref(s);
	}
	report_envelope_clear(&env);
	g_hash_table_unref(txt);
	SPF_server_free(spf_zone);
	return 0;
}
