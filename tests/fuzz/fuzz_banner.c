/*
 * fuzz_banner.c - libFuzzer harness: banner_rewrite() on raw bytes, with a
 * banner in English (ASCII) or in German and Russian (fits few charsets),
 * chosen by the input's length, so both the in-charset and the UTF-8
 * switch paths run. Checks what the header promises: a body comes with
 * parts > 0 and no reason, CRLF line ends throughout; no body, a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "moat/banner.h"
#include "moat/mime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct banner_text fuzz_text[2];

static void
fuzz_words(struct banner_text *t, const char *title, const char *reason, const char *advice)
{
	t->title = g_strdup(title);
	t->reasons = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(t->reasons, g_strdup(reason));
	t->advice = g_strdup(advice);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mime_init();
	fuzz_words(&fuzz_text[0], "Caution: this message may be a phishing attempt.",
	    "The attachment <invoice.zip> contains a shortcut that runs a command & more.",
	    "Do not open attachments or links unless you expected them.");
	fuzz_words(&fuzz_text[1], "Vorsicht: diese Nachricht könnte Phishing sein (Größe).",
	    "Вложение содержит ярлык Windows, который запускает команду.",
	    "N'ouvrez pas les pièces jointes.");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	struct banner_result res;

	if (banner_rewrite(&res, stream, &fuzz_text[size % 2]) == 0) {
		if (res.body != NULL) {
			if (res.parts == 0 || res.skipped != NULL)
				abort();
			for (guint i = 0; i < res.body->len; i++)
				if (res.body->data[i] == '\n' && (i == 0 || res.body->data[i - 1] != '\r'))
					abort();
		} else if (res.skipped == NULL) {
			abort();
		}
		banner_result_clear(&res);
	}
	g_object_unref(stream);
	return 0;
}
