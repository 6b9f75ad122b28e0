/*
 * fuzz_mime.c - libFuzzer harness: the MIME inventory alone, under tight
 * limits (few parts, shallow depth, small decoded budget) so the limit paths
 * are reached as often as the ordinary ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/conf.h"
#include "moat/mime.h"
#include "moat/report.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct moat_conf *fuzz_conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char limits[] = "[limits]\nmax_parts = 8\nmax_depth = 4\n"
	    "max_decoded_bytes = 4K\nmax_header_bytes = 1000\nmax_message_bytes = 1M\n";
	char *err = NULL;

	(void)argc;
	(void)argv;
	mime_init();
	if (conf_load_data(&fuzz_conf, &err, limits, strlen(limits)) != 0)
		g_error("fuzz_mime: %s", err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_report *rep = report_new();
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, size);

	mime_inventory(rep, stream, fuzz_conf, NULL);
	g_object_unref(stream);
	report_free(rep);
	return 0;
}
