/*
 * fuzz_walk.c - libFuzzer harness: the container walk on one attachment
 *
 * The input is the decoded bytes of one attachment: libclamav opens what
 * it can, the ZIP directory reader, libarchive (7z, RAR) and the member
 * bookkeeping run on whatever comes out, then the name checks and the
 * JSON report. Limits are tight so depth, member and bomb paths are hit.
 * libclamav itself is not instrumented; moat's code around it is.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/av.h"
#include "moat/conf.h"
#include "moat/lure.h"
#include "moat/names.h"
#include "moat/report.h"
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
	    "[limits]\nmax_decoded_bytes = 1M\n"
	    "[av]\nsignature_dirs = conf/signatures\n";
	char *err = NULL, *warn = NULL;

	(void)argc;
	(void)argv;
	av_init();
	if (conf_load_data(&fuzz_conf, &err, text, strlen(text)) != 0 ||
	    av_load(fuzz_conf, &err, &warn) != 0)
		g_error("fuzz_walk: %s", err);
	g_free(warn);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_report *rep = report_new();
	GPtrArray *path = g_ptr_array_new();
	struct moat_part *p;
	struct cl_engine *engine = av_acquire();
	char *err = NULL, *json;

	g_ptr_array_add(path, (gpointer)"attachment.bin");
	p = report_part_new(rep, path);
	g_ptr_array_unref(path);
	p->id = g_strdup("2");
	p->filename = g_strdup("attachment.bin");
	p->content = g_bytes_new(data, size);
	p->decoded_size = size;
	p->sniffed = sniff_type(data, MIN(size, SNIFF_HEAD_BYTES), NULL);
	if (walk_message(rep, fuzz_conf, engine, &err) < 0)
		g_free(err);
	for (guint i = 0; i < rep->parts->len; i++)
		names_check_part(rep, rep->parts->pdata[i]);
	lure_check(rep, fuzz_conf);	/* the detectors read the tree the walk built */
	json = report_to_json(rep, FALSE);
	g_free(json);
	av_release(engine);
	report_free(rep);
	return 0;
}
