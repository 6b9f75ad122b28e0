/*
 * check_pe.c - the PE reader on well-formed and hostile files
 *
 * The PE files are written here byte by byte (Microsoft "PE Format"): MZ
 * header, PE signature, COFF header, a PE32 or PE32+ optional header, one
 * or two sections, an import directory, an export directory and a
 * certificate table. Every input is handed over in a heap block of
 * exactly its length, so a read past it shows under AddressSanitizer
 * (make asan) or valgrind.
 */
#include <string.h>

#include <glib.h>

#include "checks.h"
#include "moat/moat.h"
#include "moat/pe.h"

#define TESTFILES "/usr/share/clamav-testfiles"
#define PE_STUB BUILD_DIR "/samples/pe-stub.exe"	/* samples/build-binary.sh, run by make unit */

/* Where build_pe() puts things. */
#define LFANEW		0x40
#define OPT_AT		(LFANEW + 24)
#define IDATA_VA	0x2000
#define IDATA_RAW	0x400
#define NAME_WSC	0x100	/* offsets in .idata */
#define NAME_K32	0x110
#define NAME_EXP	0x120
#define EXPORT_DIR	0x80
#define SEC_OFF		0x600	/* the certificate table, at the file's end */
#define SEC_SIZE	0x20
#define PE_LEN		(SEC_OFF + SEC_SIZE)

static void
put16(guint8 *p, guint16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
put32(guint8 *p, guint32 v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* section - write section header I of a file whose optional header is OPT_SIZE bytes */
static void
section(guint8 *b, guint opt_size, guint i, const char *name, guint32 va, guint32 raw, guint32 size)
{
	guint8 *h = b + OPT_AT + opt_size + 40 * i;

	memcpy(h, name, strlen(name));
	put32(h + 8, size);
	put32(h + 12, va);
	put32(h + 16, size);
	put32(h + 20, raw);
}

/* dir - set data directory I of the optional header */
static void
dir(guint8 *b, gboolean plus, guint i, guint32 rva, guint32 size)
{
	guint8 *d = b + OPT_AT + (plus ? 112 : 96) + 8 * i;

	put32(d, rva);
	put32(d + 4, size);
}

/*
 * build_pe - a PE_LEN-byte PE32 (PLUS: PE32+) file, a DLL when DLL, with
 * NSEC (1 or 2) sections; .idata holds imports of wsc.dll and KERNEL32.dll
 * and an export directory named version.dll; a certificate table ends it.
 * Caller frees with g_free().
 */
static guint8 *
build_pe(gboolean plus, gboolean dll, guint nsec)
{
	guint8 *b = g_malloc0(PE_LEN), *id = b + IDATA_RAW;
	guint opt_size = plus ? 240 : 224;
	guint8 *opt = b + OPT_AT;

	b[0] = 'M';
	b[1] = 'Z';
	put32(b + 0x3c, LFANEW);
	memcpy(b + LFANEW, "PE\0\0", 4);
	put16(b + LFANEW + 4, plus ? 0x8664 : 0x014c);
	put16(b + LFANEW + 6, nsec);
	put16(b + LFANEW + 20, opt_size);
	put16(b + LFANEW + 22, 0x0102 | (plus ? 0x0020 : 0) | (dll ? 0x2000 : 0));
	put16(opt, plus ? 0x20b : 0x10b);
	put32(opt + 32, 0x1000);			/* SectionAlignment */
	put32(opt + 36, 0x200);				/* FileAlignment */
	put32(opt + 60, 0x200);				/* SizeOfHeaders */
	put16(opt + 68, dll ? 2 : 3);			/* GUI DLL, console program */
	put32(opt + (plus ? 108 : 92), 16);		/* NumberOfRvaAndSizes */
	dir(b, plus, 0, IDATA_VA + EXPORT_DIR, 40);
	dir(b, plus, 1, IDATA_VA, 60);
	dir(b, plus, 4, SEC_OFF, SEC_SIZE);
	if (nsec == 2)
		section(b, opt_size, 0, ".text", 0x1000, 0x200, 0x200);
	section(b, opt_size, nsec - 1, ".idata", IDATA_VA, IDATA_RAW, 0x200);
	put32(id + 12, IDATA_VA + NAME_WSC);		/* two descriptors and the null one */
	put32(id + 20 + 12, IDATA_VA + NAME_K32);
	put32(id + EXPORT_DIR + 12, IDATA_VA + NAME_EXP);
	strcpy((char *)id + NAME_WSC, "wsc.dll");
	strcpy((char *)id + NAME_K32, "KERNEL32.dll");
	strcpy((char *)id + NAME_EXP, "version.dll");
	memset(b + SEC_OFF, 0xAA, SEC_SIZE);
	return b;
}

/* pe_exact - pe_read() on a copy of exactly LEN bytes */
static int
pe_exact(struct pe_info *info, const guint8 *data, gsize len)
{
	guint8 *copy = g_malloc(MAX(len, 1));
	int rc;

	if (len > 0)
		memcpy(copy, data, len);
	rc = pe_read(info, copy, len);
	g_free(copy);
	return rc;
}

/* sane - what any accepted file must satisfy */
static void
sane(const struct pe_info *info, gsize len)
{
	ck_assert_uint_le(info->n_sections, PE_MAX_SECTIONS);
	ck_assert_uint_le(info->n_imports, PE_MAX_IMPORTS);
	ck_assert(info->n_imports == 0 ? info->imports == NULL : info->imports[info->n_imports] == NULL);
	for (guint i = 0; i < info->n_imports; i++)
		ck_assert_uint_le(strlen(info->imports[i]), PE_MAX_NAME);
	if (info->has_security)
		ck_assert_uint_le((guint64)info->security_offset + info->security_size, len);
}

/* PE32 and PE32+, DLL and program, one and two sections: every field. */
START_TEST(test_pe_plain)
{
	gboolean plus = (_i & 1) != 0, dll = (_i & 2) != 0;
	guint nsec = (_i & 4) ? 2 : 1;
	g_autofree guint8 *b = build_pe(plus, dll, nsec);
	struct pe_info info;

	ck_assert_int_eq(pe_exact(&info, b, PE_LEN), 0);
	ck_assert_uint_eq(info.machine, plus ? PE_MACHINE_AMD64 : PE_MACHINE_I386);
	ck_assert_int_eq(info.pe32plus, plus);
	ck_assert_int_eq(info.is_dll, dll);
	ck_assert_uint_eq(info.subsystem, dll ? PE_SUBSYSTEM_GUI : PE_SUBSYSTEM_CONSOLE);
	ck_assert_uint_eq(info.n_sections, nsec);
	ck_assert(info.has_security);
	ck_assert_uint_eq(info.security_offset, SEC_OFF);
	ck_assert_uint_eq(info.security_size, SEC_SIZE);
	ck_assert_uint_eq(info.n_imports, 2);
	ck_assert_str_eq(info.imports[0], "wsc.dll");
	ck_assert_str_eq(info.imports[1], "KERNEL32.dll");
	ck_assert_ptr_null(info.imports[2]);
	ck_assert(!info.imports_truncated);
	ck_assert_str_eq(info.export_name, "version.dll");
	pe_info_clear(&info);
	ck_assert_ptr_null(info.imports);
	pe_info_clear(&info);
	pe_info_clear(NULL);
}
END_TEST

/* The fixtures' pe-stub.exe (samples/build-binary.sh), written here the same way, and clam.exe. */
START_TEST(test_pe_stub)
{
	guint8 *b = g_malloc0(1024), *opt = b + 0x80 + 24;
	g_autofree char *exe = NULL;
	gsize len;
	struct pe_info info;

	b[0] = 'M';
	b[1] = 'Z';
	put32(b + 0x3c, 0x80);
	memcpy(b + 0x80, "PE\0\0", 4);
	put16(b + 0x84, 0x014c);
	put16(b + 0x84 + 16, 0xE0);
	put16(b + 0x84 + 18, 0x0102);
	put16(opt, 0x10b);
	put32(opt + 56, 0x1000);
	put32(opt + 60, 0x200);
	put16(opt + 68, 2);
	put32(opt + 92, 16);
	ck_assert_int_eq(pe_exact(&info, b, 1024), 0);
	ck_assert_uint_eq(info.machine, PE_MACHINE_I386);
	ck_assert(!info.pe32plus && !info.is_dll && !info.has_security);
	ck_assert_uint_eq(info.subsystem, PE_SUBSYSTEM_GUI);
	ck_assert_uint_eq(info.n_sections, 0);
	ck_assert_uint_eq(info.n_imports, 0);
	ck_assert_ptr_null(info.export_name);
	pe_info_clear(&info);
	if (g_file_get_contents(PE_STUB, &exe, &len, NULL)) {
		ck_assert_uint_eq(len, 1024);
		ck_assert_int_eq(pe_exact(&info, (guint8 *)exe, len), 0);
		ck_assert_uint_eq(info.machine, PE_MACHINE_I386);
		ck_assert(!info.pe32plus && !info.is_dll && !info.has_security);
		ck_assert_uint_eq(info.subsystem, PE_SUBSYSTEM_GUI);
		ck_assert_uint_eq(info.n_sections, 0);
		ck_assert_uint_eq(info.n_imports, 0);
		pe_info_clear(&info);
		g_clear_pointer(&exe, g_free);
	}
	g_free(b);
	/* a 544-byte PE whose one section starts at file offset 1 and whose import names lie outside */
	ck_assert(g_file_get_contents(TESTFILES "/clam.exe", &exe, &len, NULL));
	ck_assert_int_eq(pe_exact(&info, (guint8 *)exe, len), 0);
	ck_assert_uint_eq(info.machine, PE_MACHINE_I386);
	ck_assert_uint_eq(info.subsystem, PE_SUBSYSTEM_GUI);
	ck_assert_uint_eq(info.n_sections, 1);
	sane(&info, len);
	pe_info_clear(&info);
}
END_TEST

/* Every prefix of the file: refused, or read without a byte past it. */
START_TEST(test_pe_truncated)
{
	g_autofree guint8 *b = build_pe(_i, TRUE, 2);
	struct pe_info info;

	for (gsize len = 0; len < PE_LEN; len++) {
		int rc = pe_exact(&info, b, len);

		ck_assert(rc == 0 || rc == MOAT_EPARSE);
		if (len < OPT_AT + 96)
			ck_assert_int_eq(rc, MOAT_EPARSE);
		if (rc == 0) {
			sane(&info, len);
			ck_assert(!info.has_security);		/* it ends the file */
			for (guint i = 0; i < info.n_imports; i++)
				ck_assert(strcmp(info.imports[i], "wsc.dll") == 0 ||
				    strcmp(info.imports[i], "KERNEL32.dll") == 0);
		} else {
			ck_assert_ptr_null(info.imports);
		}
		pe_info_clear(&info);
	}
}
END_TEST

/* One field set to a hostile value each: the expected outcome. */
enum expect { REFUSED, NO_IMPORTS, NO_EXPORT, NO_SECURITY, FEW_SECTIONS };

static const struct {
	const char *what;
	guint off;			/* in the PE32 two-section file */
	guint32 value;
	guint width;			/* 2 or 4 bytes */
	enum expect expect;
} hostile_cases[] = {
	{ "e_lfanew past the end", 0x3c, PE_LEN, 4, REFUSED },
	{ "e_lfanew 24 bytes short of the end", 0x3c, PE_LEN - 23, 4, REFUSED },
	{ "e_lfanew wrapping", 0x3c, 0xFFFFFFF0u, 4, REFUSED },
	{ "no PE signature", LFANEW, 0x4551, 4, REFUSED },
	{ "unknown optional header magic", OPT_AT, 0x107, 2, REFUSED },
	{ "SizeOfOptionalHeader past the end", LFANEW + 20, 0xFFFF, 2, REFUSED },
	{ "SizeOfOptionalHeader below the directories", LFANEW + 20, 95, 2, REFUSED },
	{ "NumberOfSections 0xFFFF", LFANEW + 6, 0xFFFF, 2, FEW_SECTIONS },
	{ "import RVA outside every section", OPT_AT + 96 + 8, 0x90000000u, 4, NO_IMPORTS },
	{ "import RVA wrapping", OPT_AT + 96 + 8, 0xFFFFFFFFu, 4, NO_IMPORTS },
	{ "import RVA 19 bytes before the section end", OPT_AT + 96 + 8, IDATA_VA + 0x200 - 19, 4, NO_IMPORTS },
	{ "no directories", OPT_AT + 92, 0, 4, NO_IMPORTS },
	{ "export RVA outside every section", OPT_AT + 96, 0x7FFFFFF0u, 4, NO_EXPORT },
	{ "export Name RVA outside", IDATA_RAW + EXPORT_DIR + 12, 0xFFFFFFFFu, 4, NO_EXPORT },
	{ "export directory cut by the section end", OPT_AT + 96, IDATA_VA + 0x200 - 39, 4, NO_EXPORT },
	{ "security offset past the end", OPT_AT + 96 + 32, PE_LEN, 4, NO_SECURITY },
	{ "security size one byte too big", OPT_AT + 96 + 36, SEC_SIZE + 1, 4, NO_SECURITY },
	{ "security size wrapping", OPT_AT + 96 + 36, 0xFFFFFFFFu, 4, NO_SECURITY },
	{ "section raw offset wrapping", OPT_AT + 224 + 40 + 20, 0xFFFFFFFFu, 4, NO_IMPORTS },
	{ "section raw size huge", OPT_AT + 224 + 40 + 16, 0xFFFFFFFFu, 4, FEW_SECTIONS },
};

START_TEST(test_pe_hostile)
{
	g_autofree guint8 *b = build_pe(FALSE, TRUE, 2);
	struct pe_info info;
	int rc;

	if (hostile_cases[_i].width == 2)
		put16(b + hostile_cases[_i].off, (guint16)hostile_cases[_i].value);
	else
		put32(b + hostile_cases[_i].off, hostile_cases[_i].value);
	rc = pe_exact(&info, b, PE_LEN);
	switch (hostile_cases[_i].expect) {
	case REFUSED:
		ck_assert_msg(rc == MOAT_EPARSE, "%s: %d", hostile_cases[_i].what, rc);
		break;
	case NO_IMPORTS:
		ck_assert_msg(rc == 0 && info.n_imports == 0, "%s", hostile_cases[_i].what);
		break;
	case NO_EXPORT:
		ck_assert_msg(rc == 0 && info.export_name == NULL && info.n_imports == 2,
		    "%s", hostile_cases[_i].what);
		break;
	case NO_SECURITY:
		ck_assert_msg(rc == 0 && !info.has_security && info.n_imports == 2,
		    "%s", hostile_cases[_i].what);
		break;
	case FEW_SECTIONS:
		ck_assert_msg(rc == 0, "%s", hostile_cases[_i].what);
		break;
	}
	if (rc == 0)
		sane(&info, PE_LEN);
	pe_info_clear(&info);
}
END_TEST

/*
 * An import table without a null descriptor: the walk ends at its section's
 * end, or after PE_MAX_IMPORTS descriptors in a section big enough for more.
 */
START_TEST(test_pe_import_chain)
{
	gsize idata = 300 * 20 + 16, len = IDATA_RAW + idata;
	guint8 *b = g_malloc0(len), *small = build_pe(FALSE, TRUE, 2);
	guint8 *head = build_pe(FALSE, TRUE, 2);
	struct pe_info info;

	/* the small file: descriptors fill .idata to its end, the names are in .text */
	for (guint off = 0; off + 20 <= 0x200; off += 20)
		put32(small + IDATA_RAW + off + 12, 0x1000);
	strcpy((char *)small + 0x200, "wsc.dll");
	ck_assert_int_eq(pe_exact(&info, small, PE_LEN), 0);
	ck_assert_uint_eq(info.n_imports, 0x200 / 20);
	ck_assert(!info.imports_truncated);
	pe_info_clear(&info);
	g_free(small);

	/* the big one: 300 descriptors */
	memcpy(b, head, 0x200);			/* headers only */
	g_free(head);
	section(b, 224, 1, ".idata", IDATA_VA, IDATA_RAW, idata);
	dir(b, FALSE, 0, 0, 0);
	dir(b, FALSE, 4, 0, 0);
	for (guint i = 0; i < 300; i++)
		put32(b + IDATA_RAW + 20 * i + 12, IDATA_VA + 300 * 20);
	strcpy((char *)b + IDATA_RAW + 300 * 20, "wsc.dll");
	ck_assert_int_eq(pe_exact(&info, b, len), 0);
	ck_assert_uint_eq(info.n_imports, PE_MAX_IMPORTS);
	ck_assert(info.imports_truncated);
	ck_assert_str_eq(info.imports[PE_MAX_IMPORTS - 1], "wsc.dll");
	pe_info_clear(&info);
	g_free(b);
}
END_TEST

/* Names: 255 bytes kept, 256 skipped, none without its NUL at the file's end, odd bytes as '?'. */
START_TEST(test_pe_names)
{
	g_autofree guint8 *b = build_pe(FALSE, TRUE, 2);
	guint8 *k32 = b + IDATA_RAW + NAME_K32;
	struct pe_info info;

	/* KERNEL32.dll's name runs to the end of the file (.idata is cut there), no NUL */
	section(b, 224, 1, ".idata", IDATA_VA, IDATA_RAW, 0x300);
	memset(k32, 'A', PE_LEN - IDATA_RAW - NAME_K32);
	b[IDATA_RAW + NAME_WSC + 1] = 0x01;
	ck_assert_int_eq(pe_exact(&info, b, PE_LEN), 0);
	ck_assert_uint_eq(info.n_imports, 1);
	ck_assert_str_eq(info.imports[0], "w?c.dll");
	pe_info_clear(&info);

	k32[PE_MAX_NAME] = '\0';		/* 255 bytes */
	ck_assert_int_eq(pe_exact(&info, b, PE_LEN), 0);
	ck_assert_uint_eq(info.n_imports, 2);
	ck_assert_uint_eq(strlen(info.imports[1]), PE_MAX_NAME);
	pe_info_clear(&info);

	k32[PE_MAX_NAME] = 'A';
	k32[PE_MAX_NAME + 1] = '\0';		/* 256 bytes */
	ck_assert_int_eq(pe_exact(&info, b, PE_LEN), 0);
	ck_assert_uint_eq(info.n_imports, 1);
	pe_info_clear(&info);
}
END_TEST

/* Any one byte of either file set to 0x00, 0x7f or 0xff: never out of bounds. */
START_TEST(test_pe_mutations)
{
	static const guint8 values[] = { 0x00, 0x7f, 0xff };
	g_autofree guint8 *b = build_pe(_i, TRUE, 2);
	g_autofree guint8 *buf = g_malloc(PE_LEN);
	struct pe_info info;

	for (guint i = 0; i < IDATA_RAW + 0x140; i++) {
		for (gsize v = 0; v < G_N_ELEMENTS(values); v++) {
			int rc;

			memcpy(buf, b, PE_LEN);
			buf[i] = values[v];
			rc = pe_read(&info, buf, PE_LEN);
			ck_assert(rc == 0 || rc == MOAT_EPARSE);
			if (rc == 0)
				sane(&info, PE_LEN);
			pe_info_clear(&info);
		}
	}
}
END_TEST

Suite *
pe_suite(void)
{
	Suite *s = suite_create("pe");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_pe_plain, 0, 8);
	tcase_add_test(tc, test_pe_stub);
	tcase_add_loop_test(tc, test_pe_truncated, 0, 2);
	tcase_add_loop_test(tc, test_pe_hostile, 0, G_N_ELEMENTS(hostile_cases));
	tcase_add_test(tc, test_pe_import_chain);
	tcase_add_test(tc, test_pe_names);
	tcase_add_loop_test(tc, test_pe_mutations, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
