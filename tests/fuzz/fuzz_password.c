/*
 * fuzz_password.c - libFuzzer harness: a message's passwords (password.h)
 * and the text they are read from (text.h)
 *
 * The input is a message: scan_bytes() (which runs lure.password_link),
 * then password_find() on its report, once as it is and once with its
 * first part marked encrypted (so the lone-token form runs too). The same
 * bytes are also read as text in one of the charsets mail declares, as
 * HTML, and cleaned, so the converters meet bytes no MIME parser vetted.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moat/conf.h"
#include "moat/password.h"
#include "moat/report.h"
#include "moat/scan.h"
#include "moat/text.h"

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

/* fuzz_text - DATA as text in a charset the first byte picks, as HTML, cleaned */
static void
fuzz_text(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {
		NULL, "utf-8", "iso-8859-2", "koi8-r", "windows-1251", "gb2312", "big5", "shift_jis",
		"iso-2022-jp", "euc-kr", "utf-16", "utf-7", "x-unknown", "tis-620",
	};
	const char *cs = size > 0 ? charsets[data[0] % G_N_ELEMENTS(charsets)] : NULL;
	char *utf8 = text_utf8(data, MIN(size, 65536), cs);
	char *html = text_html(utf8, strlen(utf8));
	char *clean = text_clean(html);

	g_free(clean);
	g_free(html);
	g_free(utf8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_report *rep = NULL;
	GPtrArray *pws;

	fuzz_text(data, size);
	if (scan_bytes(&rep, data, size, NULL, fuzz_conf) != 0)
		return 0;
	pws = password_find(rep, PASSWORD_MAX_CANDIDATES);
	for (guint i = 0; i < pws->len; i++) {
		const struct password *pw = pws->pdata[i];

		if (strlen(pw->text) > PASSWORD_MAX_LEN || !g_utf8_validate(pw->text, -1, NULL))
			__builtin_trap();
	}
	g_ptr_array_unref(pws);
	if (rep->parts->len > 0) {
		((struct moat_part *)rep->parts->pdata[0])->encrypted = TRUE;
		pws = password_find(rep, PASSWORD_MAX_CANDIDATES);
		if (pws->len > PASSWORD_MAX_CANDIDATES)
			__builtin_trap();
		g_ptr_array_unref(pws);
	}
	report_free(rep);
	return 0;
}
