/*
 * fuzz_milter.c - libFuzzer harness: moatd's message reassembly and decision
 *
 * The input plays the MTA: its first byte picks the body chunk size and
 * whether header values keep their leading blank (SMFIP_HDR_LEADSPC); then
 * "Name:value" lines (LF-separated, a value may carry bare LFs as folding
 * via "\\n" pairs) up to an empty line are sent as headers, the rest as body
 * chunks. A small in-memory spool limit sends large inputs through the
 * temp-file path too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moat/conf.h"
#include "milter/moatd.h"
#include "moat/scan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct moat_conf *fuzz_conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "[milter]\nspool_dir = /tmp\nspool_memory_bytes = 4096\n";
	char *err = NULL;

	(void)argc;
	(void)argv;
	scan_init();
	moatd_log_init(TRUE);
	if (conf_load_data(&fuzz_conf, &err, text, strlen(text)) != 0)
		g_error("fuzz_milter: %s", err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moatd_msg *msg;
	struct moatd_decision d;
	gboolean leadspc;
	size_t chunk, pos = 1;

	if (size < 1)
		return 0;
	leadspc = data[0] & 1;
	chunk = (size_t)(data[0] >> 1) * 64 + 1;
	msg = moatd_msg_new();
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - data) : size;
		const uint8_t *colon = memchr(data + pos, ':', end - pos);
		g_autofree char *name = NULL;
		g_autofree char *value = NULL;

		if (end == pos || colon == NULL) {
			pos = end + (nl != NULL);
			break;
		}
		name = g_strndup((const char *)data + pos, (gsize)(colon - (data + pos)));
		value = g_strndup((const char *)colon + 1, (gsize)(data + end - colon - 1));
		g_strdelimit(value, "\\", '\n');	/* "\" stands for a bare-LF fold */
		moatd_msg_header(msg, fuzz_conf, name, value, leadspc);
		pos = end + 1;
	}
	moatd_msg_eoh(msg, fuzz_conf);
	for (; pos < size; pos += chunk)
		moatd_msg_body(msg, fuzz_conf, data + pos, MIN(chunk, size - pos));
	moatd_msg_decide(&d, msg, fuzz_conf);
	if (d.action != MOAT_TEMPFAIL && d.report == NULL)
		abort();	/* a verdict always comes with its report */
	moatd_decision_clear(&d);
	moatd_msg_free(msg);
	return 0;
}
