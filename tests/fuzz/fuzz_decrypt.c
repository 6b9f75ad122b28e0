/*
 * fuzz_decrypt.c - libFuzzer harness: encrypted ZIP entries tried with candidate passwords
 *
 * Input: one byte N (taken modulo 17), then N candidates, each a length
 * byte and that many bytes (a NUL inside cuts it, as a C string would),
 * then the archive. decrypt_zip() runs on a heap copy of exactly the
 * archive's size, so any read outside it is caught, with the limits the
 * derive stage uses (64 entries, 1 MiB of one entry here, a deadline one
 * second away). Each reported entry is checked against what decrypt.h
 * promises: bytes only for an opened one, exactly its declared size, a
 * candidate index below N. Seeds: tests/fuzz/decrypt_seeds.py (ZipCrypto
 * written by the script itself, with the right and wrong passwords).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/decrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_seen {
	guint n;			/* candidates given */
	guint reported;
	guint64 sum;
};

static void
fuzz_entry(void *ctx, const struct decrypt_entry *e, const guint8 *buf, gsize len)
{
	struct fuzz_seen *s = ctx;

	s->reported++;
	if (e->outcome == DECRYPT_OPENED) {
		if ((buf == NULL && len > 0) || len != e->size || e->candidate >= s->n ||
		    e->tried == 0 || e->tried > s->n)
			__builtin_trap();
		for (gsize i = 0; i < len; i++)
			s->sum += buf[i];
	} else if (buf != NULL || len != 0 || e->tried > s->n) {
		__builtin_trap();
	}
	s->sum += strlen(e->name) + e->index + e->size + e->outcome;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decrypt_limits lim = { DECRYPT_MAX_ENTRIES, 1u << 20,
	    g_get_monotonic_time() + G_USEC_PER_SEC };
	g_autoptr(GPtrArray) cands = g_ptr_array_new_with_free_func(g_free);
	struct fuzz_seen seen = { 0 };
	gsize at = 1;
	guint8 *copy;
	guint n;

	if (size == 0)
		return 0;
	n = data[0] % 17;
	for (guint i = 0; i < n && at < size; i++) {
		gsize len = MIN((gsize)data[at], size - at - 1);

		g_ptr_array_add(cands, g_strndup((const char *)data + at + 1, len));
		at += 1 + len;
	}
	seen.n = cands->len;
	copy = g_malloc(MAX(size - MIN(at, size), 1));
	if (size > at)
		memcpy(copy, data + at, size - at);
	if (decrypt_zip(copy, size > at ? size - at : 0, (const char *const *)cands->pdata,
	    cands->len, &lim, fuzz_entry, &seen) != seen.reported || seen.reported > lim.max_entries)
		__builtin_trap();
	g_free(copy);
	return 0;
}
