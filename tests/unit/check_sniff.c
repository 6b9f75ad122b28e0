/*
 * check_sniff.c - file types from magic bytes
 */
#include <string.h>

#include <glib.h>

#include "checks.h"
#include "moat/sniff.h"

#define B(s) (const unsigned char *)(s), sizeof(s) - 1

static const struct {
	const unsigned char *buf;
	size_t len;
	const char *type;
	enum sniff_class cls;
} cases[] = {
	{ B("\x7f" "ELF\x02\x01\x01"), "elf", SNIFF_EXECUTABLE },
	{ B("\xcf\xfa\xed\xfe\x07\x00"), "macho", SNIFF_EXECUTABLE },
	{ B("L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46\x9b\0"), "lnk", SNIFF_SHORTCUT },
	{ B("PK\x03\x04\x14\0"), "zip", SNIFF_ARCHIVE },
	{ B("Rar!\x1a\x07\x00\xcf"), "rar", SNIFF_ARCHIVE },
	{ B("Rar!\x1a\x07\x01\x00"), "rar", SNIFF_ARCHIVE },
	{ B("7z\xbc\xaf\x27\x1c\0\x04"), "7z", SNIFF_ARCHIVE },
	{ B("MSCF\0\0\0\0\x10"), "cab", SNIFF_ARCHIVE },
	{ B("\x1f\x8b\x08\0"), "gzip", SNIFF_ARCHIVE },
	{ B("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0"), "ole2", SNIFF_DOCUMENT },
	{ B("%PDF-1.7\n"), "pdf", SNIFF_DOCUMENT },
	{ B("\r\n\r\njunk before it %PDF-1.4\n"), "pdf", SNIFF_DOCUMENT },
	{ B("\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3\0"), "onenote", SNIFF_DOCUMENT },
	{ B("ITSF\x03\0\0\0"), "chm", SNIFF_DOCUMENT },
	{ B("{\\rtf1\\ansi"), "rtf", SNIFF_DOCUMENT },
	{ B("\x78\x9f\x3e\x22\x01\x00"), "tnef", SNIFF_MAIL },
	{ B("vhdxfile\0\0"), "vhdx", SNIFF_DISK_IMAGE },
	{ B("conectix\0\0"), "vhd", SNIFF_DISK_IMAGE },
	{ B("\xef\xbb\xbf  \n<!DOCTYPE html><html>"), "html", SNIFF_TEXT },
	{ B("[InternetShortcut]\r\nURL=http://example.com/\r\n"), "url", SNIFF_SHORTCUT },
	{ B("<job id=\"x\"><script language=\"JScript\">"), "wsf", SNIFF_SCRIPT },
	{ B("#!/bin/sh\necho hi\n"), "shebang", SNIFF_TEXT },
	{ B("Hello, this is a letter.\n"), "text", SNIFF_TEXT },
	{ B("\x01\x02\0\x03" "binary"), "data", SNIFF_UNKNOWN },
	{ B("\x89PNG\r\n\x1a\n\0"), "png", SNIFF_MEDIA },
	{ B("MZ"), "mz", SNIFF_EXECUTABLE },
};

START_TEST(test_magic)
{
	enum sniff_class cls = SNIFF_UNKNOWN;
	const char *t = sniff_type(cases[_i].buf, cases[_i].len, &cls);

	ck_assert_str_eq(t, cases[_i].type);
	ck_assert_int_eq(cls, cases[_i].cls);
	ck_assert_int_eq(sniff_class_of(t), cases[_i].cls);
}
END_TEST

START_TEST(test_pe_header)
{
	unsigned char buf[0x100] = { 'M', 'Z' };
	unsigned char *heap;

	buf[0x3c] = 0x80;
	memcpy(buf + 0x80, "PE\0\0", 4);
	ck_assert_str_eq(sniff_type(buf, sizeof(buf), NULL), "pe");
	/* e_lfanew past the end: a DOS stub, and no read beyond the buffer (ASan checks) */
	buf[0x3c] = 0xfe;
	heap = g_memdup2(buf, 0x100);
	ck_assert_str_eq(sniff_type(heap, 0x100, NULL), "mz");
	heap[0x3c] = 0xff;
	heap[0x3d] = 0xff;
	heap[0x3e] = 0xff;
	heap[0x3f] = 0xff;
	ck_assert_str_eq(sniff_type(heap, 0x100, NULL), "mz");
	g_free(heap);
}
END_TEST

START_TEST(test_iso_needs_its_offset)
{
	unsigned char *buf = g_malloc0(SNIFF_HEAD_BYTES);
	enum sniff_class cls;

	memcpy(buf + 0x8001, "CD001", 5);
	ck_assert_str_eq(sniff_type(buf, SNIFF_HEAD_BYTES, &cls), "iso");
	ck_assert_int_eq(cls, SNIFF_DISK_IMAGE);
	ck_assert_str_ne(sniff_type(buf, 0x8003, NULL), "iso");	/* too short to hold it */
	g_free(buf);
}
END_TEST

START_TEST(test_empty)
{
	enum sniff_class cls = SNIFF_TEXT;

	ck_assert_str_eq(sniff_type((const unsigned char *)"", 0, &cls), "empty");
	ck_assert_int_eq(cls, SNIFF_UNKNOWN);
	ck_assert_int_eq(sniff_class_of(NULL), SNIFF_UNKNOWN);
	ck_assert_int_eq(sniff_class_of("no-such-type"), SNIFF_UNKNOWN);
}
END_TEST

Suite *
sniff_suite(void)
{
	Suite *s = suite_create("sniff");
	TCase *tc = tcase_create("sniff");

	tcase_add_loop_test(tc, test_magic, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_pe_header);
	tcase_add_test(tc, test_iso_needs_its_offset);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}
