/*
 * fuzz_scan.c - libFuzzer harness: scan_message() on raw bytes, the whole
 * pipeline (MIME inventory, names, policy) plus the JSON writer.
 */
#include <stddef.h>
#include <stdint.h>

#include "moat/conf.h"
#include "moat/report.h"
#include "moat/scan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct moat_conf *fuzz_conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	scan_init();
	fuzz_conf = conf_new_defaults();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_report *rep = NULL;

	if (scan_bytes(&rep, data, size, NULL, fuzz_conf) == 0) {
		char *json = report_to_json(rep, FALSE);

		g_free(json);
		report_free(rep);
	}
	return 0;
}
