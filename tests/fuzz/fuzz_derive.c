/*
 * fuzz_derive.c - libFuzzer harness: the derive stage (derive.h) on one attachment
 *
 * The input is the decoded bytes of one attachment beside a text body that
 * gives the passwords of the lure fixtures' encrypted archives: a page
 * (text/html, page.html) when it starts with '<', else a ZIP
 * (attachment.zip). The walk opens it (walk_leaf()), then derive_message()
 * decodes what the page smuggles and tries the body's passwords on the
 * encrypted entries, walking what comes out (walk_derived(),
 * walk_derived_fill()), and judges what stays closed; the lure detectors
 * then read the tree. Limits are tight, as in fuzz_walk.c, so the depth,
 * member, bomb and budget paths are hit. Seeds: the fixtures' archives and
 * pages (tests/fixtures/lures_decrypt.py writes the encrypted ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/av.h"
#include "moat/conf.h"
#include "moat/derive.h"
#include "moat/lure.h"
#include "moat/report.h"
#include "moat/scan.h"
#include "moat/sniff.h"
#include "moat/walk.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct moat_conf *fuzz_conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "[containers]\nmax_depth = 6\nmax_members = 64\n"
	    "max_member_bytes = 1M\nmax_expanded_bytes = 4M\nmax_ratio = 50\n"
	    "[limits]\nmax_decoded_bytes = 1M\nscan_budget_ms = 5000\n"
	    "[av]\nsignature_dirs = conf/signatures\n";
	char *err = NULL, *warn = NULL;

	(void)argc;
	(void)argv;
	scan_init();
	av_init();
	if (conf_load_data(&fuzz_conf, &err, text, strlen(text)) != 0 ||
	    av_load(fuzz_conf, &err, &warn) != 0)
		g_error("fuzz_derive: %s", err);
	g_free(warn);
	return 0;
}

/* fuzz_part - a MIME part of REP named NAME (NULL: the body) of TYPE holding a copy of D */
static struct moat_part *
fuzz_part(struct moat_report *rep, const char *name, const char *type, const guint8 *d, gsize n)
{
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;

	g_ptr_array_add(path, (gpointer)(name != NULL ? name : "(part 1, text/plain)"));
	p = report_part_new(rep, path);
	g_ptr_array_unref(path);
	p->id = g_strdup(name != NULL ? "2" : "1");
	p->filename = g_strdup(name);
	p->content_type = g_strdup(type);
	p->content = g_bytes_new(d, n);
	p->decoded_size = n;
	p->sniffed = sniff_type(d, MIN(n, SNIFF_HEAD_BYTES), NULL);
	return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char body[] = "Hello,\n\npassword: R4526-x\nPasswort: Inv#0412\n"
	    "mot de passe : fac8841\nпароль: dog2026\n密码：fp2026\npassword: 7731\n"
	    "password: Rep-2026\npassword: VM0931\npassword: Doc2026!\n";
	gboolean page = size > 0 && data[0] == '<';
	struct moat_report *rep = report_new();
	struct cl_engine *engine = av_acquire();
	struct walk *w = walk_new(rep, fuzz_conf, engine);
	struct moat_part *a;
	char *err = NULL;
	gsize len;
	const guint8 *d;

	rep->deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	fuzz_part(rep, NULL, "text/plain", (const guint8 *)body, sizeof(body) - 1);
	a = fuzz_part(rep, page ? "page.html" : "attachment.zip", page ? "text/html" :
	    "application/zip", data, size);
	d = g_bytes_get_data(a->content, &len);
	walk_leaf(w, a, d, len);
	derive_message(rep, fuzz_conf, w);
	if (walk_finish(w, &err) < 0)
		g_free(err);
	lure_check(rep, fuzz_conf);
	av_release(engine);
	report_free(rep);
	return 0;
}
