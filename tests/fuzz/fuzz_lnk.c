/*
 * fuzz_lnk.c - libFuzzer harness: the shortcut (.lnk) reader alone
 *
 * lnk_read() runs on the raw input, a heap copy of exactly its size, so
 * any read outside it is caught; every string it returns is walked and
 * checked to be valid UTF-8 within LNK_STRING_MAX bytes. No seeds: the
 * 76-byte header is found from the empty input (lnk.dict helps).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/lnk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check - S is NULL or valid UTF-8 within the cap; trap otherwise */
static void
fuzz_check(const char *s)
{
	if (s != NULL && (strlen(s) > LNK_STRING_MAX || !g_utf8_validate(s, -1, NULL)))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guint8 *copy = g_malloc(MAX(size, 1));
	struct lnk_info info;

	if (size > 0)
		memcpy(copy, data, size);
	if (lnk_read(&info, copy, size) == 0) {
		const char *s[] = { info.target_name, info.local_base_path,
		    info.local_base_path_unicode, info.net_name, info.name, info.relative_path,
		    info.working_dir, info.arguments, info.icon_location };

		for (size_t i = 0; i < G_N_ELEMENTS(s); i++)
			fuzz_check(s[i]);
		if (info.arguments_blanks > info.arguments_chars)
			__builtin_trap();
	}
	lnk_info_clear(&info);
	g_free(copy);
	return 0;
}
