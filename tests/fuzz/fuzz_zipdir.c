/*
 * fuzz_zipdir.c - libFuzzer harness: the ZIP central directory reader alone
 *
 * zipdir_read() runs on the raw input, a heap copy of exactly its size, so
 * any read outside it is caught; each entry's name and flags are touched
 * so that a bad name pointer or length shows too. Seeds come from
 * tests/fuzz/zipdir_seeds.py (ZIP64, stubs, decoy end records).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/zipdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_entry - read every field; the sum keeps the reads from being optimised away */
static gboolean
fuzz_entry(void *ctx, const struct zipdir_entry *e)
{
	guint64 *sum = ctx;

	*sum += strlen(e->name) + e->size + e->csize + e->method + e->utf8 + e->encrypted +
	    e->hidden + e->system + e->is_dir;
	return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guint8 *copy = g_malloc(MAX(size, 1));
	guint64 sum = 0;
	gint64 n;

	if (size > 0)
		memcpy(copy, data, size);
	n = zipdir_read(copy, size, 1000, fuzz_entry, &sum);
	/* at most MAX entries, each at least a 46-byte header */
	if (n > 1000 || (n > 0 && (guint64)n * 46 > size))
		__builtin_trap();
	g_free(copy);
	return 0;
}
