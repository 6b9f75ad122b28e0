/*
 * fuzz_conf.c - libFuzzer harness: the config parser (GKeyFile + moat's
 * checks) and the printer, whose output must load again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "moat/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_conf *conf = NULL, *again = NULL;
	char *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *fp;

	if (conf_load_data(&conf, &err, (const char *)data, size) != 0) {
		g_free(err);
		return 0;
	}
	/* What `moat config check` prints is a config that loads to the same values. */
	if ((fp = open_memstream(&text, &len)) == NULL)
		abort();
	conf_print(conf, fp);
	fclose(fp);
	if (conf_load_data(&again, &err, text, len) != 0)
		g_error("printed config does not load: %s\n%s", err, text);
	if (again->limits.max_parts != conf->limits.max_parts || again->policy.reject_score != conf->policy.reject_score ||
	    g_hash_table_size(again->scores) != g_hash_table_size(conf->scores))
		g_error("printed config differs");
	conf_free(again);
	conf_free(conf);
	free(text);
	return 0;
}
