/*
 * fuzz_pe.c - libFuzzer harness: the PE reader alone
 *
 * pe_read() runs on the raw input, a heap copy of exactly its size, so any
 * read outside it is caught; every name it returns is measured so that a
 * bad pointer or a missing NUL shows too, and the caps are checked. No
 * seeds: the MZ and PE signatures are short enough to be found.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/moat.h"
#include "moat/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guint8 *copy = g_malloc(MAX(size, 1));
	struct pe_info info;
	int rc;

	if (size > 0)
		memcpy(copy, data, size);
	rc = pe_read(&info, copy, size);
	if (rc != 0 && rc != MOAT_EPARSE)
		__builtin_trap();
	if (rc == 0) {
		if (info.n_sections > PE_MAX_SECTIONS || info.n_imports > PE_MAX_IMPORTS)
			__builtin_trap();
		for (guint i = 0; i < info.n_imports; i++)
			if (strlen(info.imports[i]) > PE_MAX_NAME)
				__builtin_trap();
		if ((info.n_imports > 0 && info.imports[info.n_imports] != NULL) ||
		    (info.export_name != NULL && strlen(info.export_name) > PE_MAX_NAME))
			__builtin_trap();
		if (info.has_security &&
		    (guint64)info.security_offset + info.security_size > size)
			__builtin_trap();
	}
	pe_info_clear(&info);
	g_free(copy);
	return 0;
}
