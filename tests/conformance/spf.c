/*
 * spf.c - the openspf.org SPF suites (RFC 7208 and RFC 4408) against spf_check()
 *
 * usage: conformance_spf TESTDATA
 *
 * Reads TESTDATA/spf-rfc7208-suite/{rfc7208,rfc4408}-tests.yml (libyaml, one
 * YAML document per scenario), loads each scenario's zonedata into a
 * libspf2 zone (SPF_dns_zone_new(), nothing falls through to real DNS) and
 * runs every test through spf_check() with the zone in auth_dns.spf_zone.
 * Prints "PASS rfc7208/<scenario>/<test>" or "FAIL ...: expected X got Y
 * (reason)" per case, then "spf: N passed, M failed" (and one line per
 * file). Exit 0 when it ran, 77 when the corpus is missing, 1 on a broken
 * corpus.
 *
 * The zone follows the suite's driver (pyspf's testspf.py):
 *   - a name's SPF records are also its TXT records unless it has a TXT
 *     entry of its own ("TXT: NONE" is such an entry, with no record);
 *   - TIMEOUT makes every type not listed before it time out (TRY_AGAIN);
 *   - a listed name answers NODATA for the types it does not have, an
 *     unlisted one NXDOMAIN;
 *   - CNAMEs are followed when the zone is built (the alias gets its
 *     target's records; a loop has none: a recursive resolver answers
 *     with the chain and no record of the type asked).
 * YAML escapes such as "\xEF" reach the zone as UTF-8, as they do in pyspf.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>
#include <yaml.h>

#include "moat/auth.h"
#include "moat/spf.h"

#define SUITE_DIR	"spf-rfc7208-suite"
#define CNAME_HOPS	8

/* one record of a name, as the YAML gives it */
struct zrec {
	ns_type type;
	char *data;			/* NULL for TIMEOUT */
};

struct counts {
	unsigned passed, failed;
};

static const char *
scalar(yaml_document_t *doc, yaml_node_t *n)
{
	(void)doc;
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* map_get - the value of KEY in mapping node N, or NULL */
static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *n, const char *key)
{
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(doc, yaml_document_get_node(doc, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* rdata_text - a record's value as libspf2's zone wants it; g_free() */
static char *
rdata_text(yaml_document_t *doc, const char *type, yaml_node_t *v)
{
	GString *s = g_string_new(NULL);

	if (v->type == YAML_SCALAR_NODE) {
		g_string_append(s, scalar(doc, v));
	} else if (v->type == YAML_SEQUENCE_NODE) {
		/* TXT: strings joined without a blank (RFC 7208 §3.3); MX: [pref, host] */
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
			const char *x = scalar(doc, yaml_document_get_node(doc, *i));

			if (strcmp(type, "MX") == 0 && i > v->data.sequence.items.start)
				g_string_append_c(s, ' ');
			g_string_append(s, x != NULL ? x : "");
		}
	}
	return g_string_free(s, FALSE);
}

static ns_type
rr_type(const char *t)
{
	static const struct { const char *name; ns_type type; } types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "MX", ns_t_mx }, { "PTR", ns_t_ptr },
		{ "TXT", ns_t_txt }, { "SPF", ns_t_spf }, { "CNAME", ns_t_cname },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
		if (strcmp(types[i].name, t) == 0)
			return types[i].type;
	return ns_t_invalid;
}

static void
zrec_free(gpointer p)
{
	struct zrec *r = p;

	g_free(r->data);
	g_free(r);
}

static void
zrec_add(GPtrArray *recs, ns_type type, const char *data)
{
	struct zrec *r = g_new0(struct zrec, 1);

	r->type = type;
	r->data = g_strdup(data);
	g_ptr_array_add(recs, r);
}

/*
 * zone_read - the scenario's zonedata as name (lower case) -> GPtrArray of
 * struct zrec, with TXT made from SPF where the driver does it and each
 * TIMEOUT turned into one record per type it hides (data NULL)
 */
static GHashTable *
zone_read(yaml_document_t *doc, yaml_node_t *zd)
{
	static const ns_type all[] = { ns_t_a, ns_t_aaaa, ns_t_mx, ns_t_ptr, ns_t_txt, ns_t_spf, ns_t_cname };
	GHashTable *zone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);

	if (zd == NULL || zd->type != YAML_MAPPING_NODE)
		return zone;
	for (yaml_node_pair_t *p = zd->data.mapping.pairs.start; p < zd->data.mapping.pairs.top; p++) {
		const char *name = scalar(doc, yaml_document_get_node(doc, p->key));
		yaml_node_t *list = yaml_document_get_node(doc, p->value);
		GPtrArray *recs = g_ptr_array_new_with_free_func(zrec_free);
		GPtrArray *spf = g_ptr_array_new_with_free_func(g_free);
		gboolean has_txt = FALSE, seen[G_N_ELEMENTS(all)] = { FALSE };

		if (name == NULL)
			continue;
		for (yaml_node_item_t *i = list != NULL && list->type == YAML_SEQUENCE_NODE ?
		    list->data.sequence.items.start : NULL;
		    i != NULL && i < list->data.sequence.items.top; i++) {
			yaml_node_t *e = yaml_document_get_node(doc, *i);
			const char *word = scalar(doc, e);

			if (word != NULL && strcmp(word, "TIMEOUT") == 0) {
				for (size_t k = 0; k < G_N_ELEMENTS(all); k++)
					if (!seen[k]) {
						zrec_add(recs, all[k], NULL);
						seen[k] = TRUE;
					}
				continue;
			}
			if (e == NULL || e->type != YAML_MAPPING_NODE || e->data.mapping.pairs.top == e->data.mapping.pairs.start)
				continue;
			yaml_node_pair_t *rp = e->data.mapping.pairs.start;
			const char *tname = scalar(doc, yaml_document_get_node(doc, rp->key));
			yaml_node_t *v = yaml_document_get_node(doc, rp->value);
			ns_type t = tname != NULL ? rr_type(tname) : ns_t_invalid;
			g_autofree char *data = NULL;
			size_t k;

			if (t == ns_t_invalid || v == NULL) {
				fprintf(stderr, "spf: %s: record type %s not handled\n", name, tname ? tname : "?");
				continue;
			}
			data = rdata_text(doc, tname, v);
			if (t == ns_t_txt)
				has_txt = TRUE;
			if (t == ns_t_txt && strcmp(data, "NONE") == 0)
				continue;		/* a TXT entry with no record */
			for (k = 0; all[k] != t; k++)
				;
			/* a type TIMEOUT hid stays hidden: the timeout comes first */
			gboolean hidden = FALSE;
			for (guint j = 0; j < recs->len; j++) {
				struct zrec *r = recs->pdata[j];

				if (r->type == t && r->data == NULL)
					hidden = TRUE;
			}
			if (!hidden) {
				zrec_add(recs, t, data);
				seen[k] = TRUE;
				if (t == ns_t_spf)
					g_ptr_array_add(spf, g_strdup(data));
			}
		}
		if (!has_txt)
			for (guint j = 0; j < spf->len; j++) {
				gboolean hidden = FALSE;

				for (guint m = 0; m < recs->len; m++) {
					struct zrec *r = recs->pdata[m];

					if (r->type == ns_t_txt && r->data == NULL)
						hidden = TRUE;
				}
				if (!hidden)
					zrec_add(recs, ns_t_txt, spf->pdata[j]);
			}
		g_ptr_array_unref(spf);
		g_hash_table_replace(zone, g_ascii_strdown(name, -1), recs);
	}
	return zone;
}

/* strip_dot - NAME in lower case without a trailing dot; g_free() */
static char *
strip_dot(const char *name)
{
	char *s = g_ascii_strdown(name, -1);
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	return s;
}

/*
 * cname_target - the records NAME's CNAME chain ends in; NULL when NAME has
 * no CNAME; *LOOP set when the chain loops or runs too long
 */
static GPtrArray *
cname_target(GHashTable *zone, GPtrArray *recs, gboolean *loop)
{
	*loop = FALSE;
	for (int hop = 0; hop <= CNAME_HOPS; hop++) {
		const char *target = NULL;

		for (guint j = 0; j < recs->len; j++) {
			struct zrec *r = recs->pdata[j];

			if (r->type == ns_t_cname && r->data != NULL)
				target = r->data;
		}
		if (target == NULL)
			return hop == 0 ? NULL : recs;
		g_autofree char *t = strip_dot(target);
		if ((recs = g_hash_table_lookup(zone, t)) == NULL)
			return g_ptr_array_new();	/* a dangling alias: nothing there */
	}
	*loop = TRUE;
	return NULL;
}

/* zone_add - one record into the libspf2 zone, complaining when it refuses */
static void
zone_add(SPF_dns_server_t *z, const char *name, ns_type type, SPF_dns_stat_t herrno, const char *data)
{
	SPF_errcode_t err = SPF_dns_zone_add_str(z, name, type, herrno, data);

	if (err != SPF_E_SUCCESS)
		fprintf(stderr, "spf: zone %s type %d \"%s\": %s\n", name, type, data ? data : "",
		    SPF_strerror(err));
}

/* name_cmp - longer names first, so a wildcard's more specific ones come before it */
static gint
name_cmp(gconstpointer a, gconstpointer b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la != lb ? (la > lb ? -1 : 1) : strcmp(a, b);
}

/* zone_build - an SPF server over a zone holding ZONE; SPF_server_free() */
static SPF_server_t *
zone_build(GHashTable *zone)
{
	SPF_server_t *srv = SPF_server_new(SPF_DNS_ZONE, 0);
	SPF_dns_server_t *z = srv->resolver;
	GList *names = g_hash_table_get_keys(zone);

	/* libspf2's zone answers from its first match: names before
	 * wildcards, each name's records before its NODATA */
	names = g_list_sort(names, name_cmp);
	for (int pass = 0; pass < 4; pass++) {
		for (GList *l = names; l != NULL; l = l->next) {
			const char *name = l->data;
			gboolean wild = strncmp(name, "*.", 2) == 0, loop;
			GPtrArray *recs = g_hash_table_lookup(zone, name), *alias;

			if (wild != (pass >= 2))
				continue;
			alias = cname_target(zone, recs, &loop);
			if (loop) {
				if (pass % 2 == 0)
					zone_add(z, name, ns_t_any, NO_DATA, NULL);
				continue;
			}
			if (pass % 2 == 1) {
				if (alias != NULL && alias->len == 0)
					g_ptr_array_unref(alias);
				zone_add(z, name, ns_t_any, NO_DATA, NULL);
				continue;
			}
			if (alias != NULL && alias->len == 0) {
				g_ptr_array_unref(alias);
				continue;
			}
			for (guint j = 0; j < (alias ? alias : recs)->len; j++) {
				struct zrec *r = (alias ? alias : recs)->pdata[j];

				if (r->type == ns_t_cname)
					continue;
				zone_add(z, name, r->type, r->data == NULL ? TRY_AGAIN : NETDB_SUCCESS, r->data);
			}
		}
	}
	g_list_free(names);
	return srv;
}

/* expected - the acceptable results, space-separated; g_free() */
static char *
expected(yaml_document_t *doc, yaml_node_t *r)
{
	GString *s = g_string_new(NULL);

	if (r != NULL && r->type == YAML_SCALAR_NODE)
		g_string_append(s, scalar(doc, r));
	else if (r != NULL && r->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *i = r->data.sequence.items.start; i < r->data.sequence.items.top; i++)
			g_string_append_printf(s, "%s%s", s->len ? " " : "",
			    scalar(doc, yaml_document_get_node(doc, *i)));
	return g_string_free(s, FALSE);
}

static gboolean
accepted(const char *list, const char *got)
{
	g_auto(GStrv) v = g_strsplit(list, " ", -1);

	return g_strv_contains((const char *const *)v, got);
}

/* run_scenario - the tests of one YAML document */
static void
run_scenario(const char *suite, yaml_document_t *doc, struct counts *c)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	const char *desc = scalar(doc, map_get(doc, root, "description"));
	yaml_node_t *tests = map_get(doc, root, "tests");
	g_autofree char *scen = NULL;
	GHashTable *zone;
	SPF_server_t *srv;

	if (tests == NULL || tests->type != YAML_MAPPING_NODE)
		return;
	scen = g_strdelimit(g_ascii_strdown(desc != NULL ? desc : "unnamed", -1), " /", '-');
	zone = zone_read(doc, map_get(doc, root, "zonedata"));
	srv = zone_build(zone);
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start; p < tests->data.mapping.pairs.top; p++) {
		const char *name = scalar(doc, yaml_document_get_node(doc, p->key));
		yaml_node_t *t = yaml_document_get_node(doc, p->value);
		g_autofree char *want = expected(doc, map_get(doc, t, "result"));
		struct auth_dns dns = { .spf_zone = srv };
		struct auth_spf out = { 0 };
		const char *got;

		spf_check(&out, &dns, scalar(doc, map_get(doc, t, "host")),
		    scalar(doc, map_get(doc, t, "helo")), scalar(doc, map_get(doc, t, "mailfrom")));
		got = auth_result_name(out.result);
		if (accepted(want, got)) {
			printf("PASS %s/%s/%s\n", suite, scen, name);
			c->passed++;
		} else {
			printf("FAIL %s/%s/%s: expected %s got %s (%s)\n", suite, scen, name, want, got,
			    out.reason != NULL ? out.reason : "");
			c->failed++;
		}
		auth_spf_clear(&out);
	}
	SPF_server_free(srv);
	g_hash_table_unref(zone);
}

/* run_file - every scenario of one suite file; -1 when it cannot be read */
static int
run_file(const char *path, const char *suite, struct counts *all)
{
	struct counts c = { 0, 0 };
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	if (f == NULL)
		return -1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		yaml_document_t doc;

		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "spf: %s: YAML error: %s\n", path, parser.problem ? parser.problem : "?");
			rc = -1;
			break;
		}
		if (yaml_document_get_root_node(&doc) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		run_scenario(suite, &doc, &c);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	printf("spf %s: %u passed, %u failed\n", suite, c.passed, c.failed);
	all->passed += c.passed;
	all->failed += c.failed;
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const suites[] = { "rfc7208", "rfc4408" };
	struct counts all = { 0, 0 };
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TESTDATA\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(suites); i++) {
		g_autofree char *path = g_strdup_printf("%s/%s/%s-tests.yml", argv[1], SUITE_DIR, suites[i]);

		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
			fprintf(stderr, "no %s in %s\n", SUITE_DIR, argv[1]);
			return 77;
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(suites); i++) {
		g_autofree char *path = g_strdup_printf("%s/%s/%s-tests.yml", argv[1], SUITE_DIR, suites[i]);

		if (run_file(path, suites[i], &all) < 0)
			rc = 1;
	}
	printf("spf: %u passed, %u failed\n", all.passed, all.failed);
	return rc;
}
