/*
 * fuzz_diskimg.c - libFuzzer harness: the disk image reader alone
 *
 * diskimg_probe() and diskimg_walk() run on the raw input, a heap copy of
 * exactly its size, so any read outside it is caught. The hooks ask for
 * every file's bytes and read each one of them, check that every name is
 * valid UTF-8 and that no file is handed more than its size or the cap.
 * Seeds: tests/fuzz/diskimg_seeds.py (FAT12/16/32, MBR, GPT, fixed and
 * dynamic VHD), diskimg.dict for the magic strings.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/diskimg.h"

#define FUZZ_MAX_ENTRIES	256
#define FUZZ_MAX_BYTES		(1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean
fuzz_entry(void *ctx, const struct diskimg_entry *e)
{
	(void)ctx;
	if (e->name == NULL || !g_utf8_validate(e->name, -1, NULL) || (e->is_dir && e->size != 0))
		__builtin_trap();
	return TRUE;
}

static void
fuzz_data(void *ctx, const struct diskimg_entry *e, const guint8 *buf, gsize len,
    gboolean truncated)
{
	guint8 sum = 0;

	if (e->is_dir || len > e->size || len > FUZZ_MAX_BYTES || (buf == NULL && len > 0) ||
	    (!truncated && len != e->size))
		__builtin_trap();
	for (gsize i = 0; i < len; i++)
		sum ^= buf[i];
	*(guint8 *)ctx ^= sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct diskimg_hooks hooks = { fuzz_entry, fuzz_data };
	guint8 *copy = g_malloc(MAX(size, 1));
	struct diskimg_probe p;
	volatile guint8 sum = 0;
	guint8 acc = 0;
	char *err = NULL;
	enum diskimg_result rc;

	if (size > 0)
		memcpy(copy, data, size);
	diskimg_probe(&p, copy, size);
	rc = diskimg_walk(copy, size, FUZZ_MAX_ENTRIES, FUZZ_MAX_BYTES, &hooks, &acc, &err);
	if ((rc == DISKIMG_OK) != (err == NULL))
		__builtin_trap();
	sum = acc;
	(void)sum;
	g_free(err);
	g_free(copy);
	return 0;
}
