/*
 * check_sniff.c - file types from magic bytes: executables, shortcuts,
 * archives, documents, disk images (FAT boot sectors and MBRs too), markup
 * and scripts, plain text and binary data; signatures at an offset (PE
 * header, ISO 9660 at 0x8001) found only when the buffer holds them, and
 * never read past its end.
 *
 * Every buffer is copied to a heap block of exactly its length, so an
 * over-read shows under AddressSanitizer or valgrind.
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
} magic_cases[] = {
	/* Too short for a DOS header: not an executable, whatever it starts with. */
	{ B("MZ"), "text", SNIFF_TEXT },
	{ B("MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), "data", SNIFF_UNKNOWN },
	{ B("MZone weekly: our news, our events, our people, and the next meetings in town\n"), "text", SNIFF_TEXT },
	{ B("\x7f" "ELF\x02\x01\x01"), "elf", SNIFF_EXECUTABLE },
	{ B("\xcf\xfa\xed\xfe\x07\x00"), "macho", SNIFF_EXECUTABLE },
	{ B("L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46"), "lnk", SNIFF_SHORTCUT },
	{ B("L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46\x9b\0"), "lnk", SNIFF_SHORTCUT },
	{ B("PK\x03\x04\x14\0"), "zip", SNIFF_ARCHIVE },
	{ B("PK\x05\x06\0\0\0\0"), "zip", SNIFF_ARCHIVE },	/* empty archive */
	{ B("Rar!\x1a\x07\x00\xcf"), "rar", SNIFF_ARCHIVE },
	{ B("Rar!\x1a\x07\x01\x00"), "rar", SNIFF_ARCHIVE },	/* RAR 5 */
	{ B("7z\xbc\xaf\x27\x1c\0\x04"), "7z", SNIFF_ARCHIVE },
	{ B("MSCF\0\0\0\0\x10"), "cab", SNIFF_ARCHIVE },
	{ B("\x1f\x8b\x08\0"), "gzip", SNIFF_ARCHIVE },
	{ B("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0"), "ole2", SNIFF_DOCUMENT },
	{ B("%PDF-1.7\n"), "pdf", SNIFF_DOCUMENT },
	{ B("\r\n\r\njunk before it %PDF-1.4\n"), "pdf", SNIFF_DOCUMENT },
	{ B("\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3\0"), "onenote",
	    SNIFF_DOCUMENT },
	{ B("ITSF\x03\0\0\0"), "chm", SNIFF_DOCUMENT },
	{ B("{\\rtf1\\ansi"), "rtf", SNIFF_DOCUMENT },
	{ B("\x78\x9f\x3e\x22\x01\x00"), "tnef", SNIFF_MAIL },
	{ B("vhdxfile\0\0"), "vhdx", SNIFF_DISK_IMAGE },
	{ B("conectix\0\0"), "vhd", SNIFF_DISK_IMAGE },
	{ B("\xef\xbb\xbf  \n<!DOCTYPE html><html>"), "html", SNIFF_TEXT },
	{ B("\r\n\t <html><body>"), "html", SNIFF_TEXT },
	{ B("[InternetShortcut]\r\nURL=http://example.com/\r\n"), "url", SNIFF_SHORTCUT },
	{ B("\xef\xbb\xbf[internetshortcut]\nURL=file://x/y.exe\n"), "url", SNIFF_SHORTCUT },
	{ B("<job id=\"x\"><script language=\"JScript\">"), "wsf", SNIFF_SCRIPT },
	{ B("  <JOB>"), "wsf", SNIFF_SCRIPT },
	{ B("<HTA:APPLICATION ID=\"x\">"), "hta", SNIFF_SCRIPT },
	{ B("#!/bin/sh\necho hi\n"), "shebang", SNIFF_TEXT },
	{ B("Hello, this is a letter.\n"), "text", SNIFF_TEXT },
	{ B("Gr\xc3\xbc\xc3\x9f" "e\n"), "text", SNIFF_TEXT },
	{ B("<"), "text", SNIFF_TEXT },	/* shorter than any markup signature */
	{ B("\x01\x02\0\x03" "binary"), "data", SNIFF_UNKNOWN },
	{ B("\0"), "data", SNIFF_UNKNOWN },
	{ B("\x89PNG\r\n\x1a\n\0"), "png", SNIFF_MEDIA },
};

START_TEST(test_magic)
{
	unsigned char *buf = g_memdup2(magic_cases[_i].buf, magic_cases[_i].len);
	enum sniff_class cls = SNIFF_MAIL;
	const char *t = sniff_type(buf, magic_cases[_i].len, &cls);

	ck_assert_str_eq(t, magic_cases[_i].type);
	ck_assert_int_eq(cls, magic_cases[_i].cls);
	ck_assert_int_eq(sniff_class_of(t), magic_cases[_i].cls);
	ck_assert_str_eq(sniff_type(buf, magic_cases[_i].len, NULL), t);	/* CLS may be NULL */
	g_free(buf);
}
END_TEST

/*
 * "MZ", e_lfanew (little-endian at 0x3c) and, when it fits, "PE\0\0" there.
 * A header pointing past the end is a DOS stub, not a PE.
 */
static const struct {
	size_t len;
	guint32 e_lfanew;
	size_t pe_at;		/* where "PE\0\0" is written (as much as fits); 0: nowhere */
	const char *type;
} pe_cases[] = {
	{ 0x100, 0x80, 0x80, "pe" },
	{ 0x44, 0x40, 0x40, "pe" },	/* smallest PE header that fits */
	{ 0x100, 0xfc, 0xfc, "pe" },	/* signature ends at the last byte */
	{ 0x100, 0xfd, 0xfd, "mz" },	/* one byte short */
	{ 0x100, 0xff, 0xff, "mz" },
	{ 0x100, 0x100, 0, "mz" },	/* just past the end */
	{ 0x100, 0x80, 0, "mz" },	/* no signature where it points */
	{ 0x100, 0xfffffffcu, 0, "mz" },	/* far past the end; no wrap-around */
	{ 0x100, 0xffffffffu, 0, "mz" },
	{ 0x3f, 0, 0, "data" },		/* too short to hold a DOS header */
	{ 0x3d, 0, 0, "data" },
};

START_TEST(test_pe_header)
{
	size_t len = pe_cases[_i].len;
	unsigned char *buf = g_malloc0(len);
	enum sniff_class cls = SNIFF_UNKNOWN;

	buf[0] = 'M';
	buf[1] = 'Z';
	if (len >= 0x40) {
		buf[0x3c] = pe_cases[_i].e_lfanew & 0xff;
		buf[0x3d] = (pe_cases[_i].e_lfanew >> 8) & 0xff;
		buf[0x3e] = (pe_cases[_i].e_lfanew >> 16) & 0xff;
		buf[0x3f] = (pe_cases[_i].e_lfanew >> 24) & 0xff;
	}
	if (pe_cases[_i].pe_at != 0)
		memcpy(buf + pe_cases[_i].pe_at, "PE\0\0", MIN(4, len - pe_cases[_i].pe_at));
	ck_assert_str_eq(sniff_type(buf, len, &cls), pe_cases[_i].type);
	ck_assert_int_eq(cls, sniff_class_of(pe_cases[_i].type));
	g_free(buf);
}
END_TEST

/* ISO 9660 keeps "CD001" at 0x8001: found only when the buffer reaches that far. */
static const struct { size_t len; const char *type; } iso_cases[] = {
	{ SNIFF_HEAD_BYTES, "iso" },
	{ 0x8006, "iso" },	/* ends with the signature */
	{ 0x8005, "data" },	/* one byte short: zeros, not an image */
	{ 0x8003, "data" },
};

START_TEST(test_iso)
{
	size_t len = iso_cases[_i].len;
	unsigned char *buf = g_malloc0(len);
	enum sniff_class cls = SNIFF_UNKNOWN;

	memcpy(buf + 0x8001, "CD001", MIN(5, len - 0x8001));
	ck_assert_str_eq(sniff_type(buf, len, &cls), iso_cases[_i].type);
	ck_assert_int_eq(cls, strcmp(iso_cases[_i].type, "iso") == 0 ? SNIFF_DISK_IMAGE :
	    SNIFF_UNKNOWN);
	g_free(buf);
}
END_TEST

/* A PDF header counts in the first kilobyte, as PDF readers accept it; not later. */
static const struct { size_t at; const char *type; } pdf_cases[] = {
	{ 0, "pdf" },
	{ 500, "pdf" },
	{ 1024 - 5, "pdf" },
	{ 1024 - 4, "text" },
	{ 1500, "text" },
};

START_TEST(test_pdf_offset)
{
	size_t len = 2048;
	unsigned char *buf = g_malloc(len);

	memset(buf, 'a', len);
	memcpy(buf + pdf_cases[_i].at, "%PDF-", 5);
	ck_assert_str_eq(sniff_type(buf, len, NULL), pdf_cases[_i].type);
	g_free(buf);
}
END_TEST

/*
 * A 512-byte boot sector: "fat" from its type label or a sane BPB, "mbr"
 * from a FAT partition entry; without 0x55AA at 510, or one byte short,
 * neither.
 */
static const struct {
	const char *what;
	size_t len;
	const char *type;
} disk_cases[] = {
	{ "fat12", 512, "fat" },
	{ "fat16", 512, "fat" },
	{ "fat32", 512, "fat" },
	{ "bpb", 512, "fat" },		/* no label, a jump and a sane BPB */
	{ "bpb-bad", 512, "data" },	/* no label, 3 bytes per sector */
	{ "fat12-nosig", 512, "data" },
	{ "fat12", 511, "data" },
	{ "mbr-0c", 512, "mbr" },
	{ "mbr-06", 4096, "mbr" },
	{ "mbr-83", 512, "data" },	/* a Linux partition only */
	{ "mbr-flag", 512, "data" },	/* boot flag 0x12: not a table */
	{ "mbr-empty", 512, "data" },	/* FAT type, no sectors */
};

START_TEST(test_disk)
{
	const char *what = disk_cases[_i].what;
	size_t len = disk_cases[_i].len;
	unsigned char *buf = g_malloc0(len);
	unsigned char *e = buf + 0x1BE;
	enum sniff_class cls = SNIFF_UNKNOWN;

	if (len >= 512) {
		buf[510] = 0x55;
		buf[511] = 0xAA;
	}
	if (g_str_has_prefix(what, "fat") || g_str_has_prefix(what, "bpb")) {
		memcpy(buf, "\xEB\x3C\x90MSDOS5.0\x00\x02\x01\x01\x00\x02", 17);
		buf[0x15] = 0xF8;
	}
	if (strcmp(what, "fat12") == 0 || strcmp(what, "fat12-nosig") == 0)
		memcpy(buf + 0x36, "FAT12   ", 8);
	if (strcmp(what, "fat16") == 0)
		memcpy(buf + 0x36, "FAT16   ", 8);
	if (strcmp(what, "fat32") == 0)
		memcpy(buf + 0x52, "FAT32   ", 8);
	if (strcmp(what, "bpb-bad") == 0)
		buf[0x0B] = 3;
	if (strcmp(what, "fat12-nosig") == 0)
		buf[510] = 0;
	if (g_str_has_prefix(what, "mbr")) {
		buf[0] = 0xFA;
		e[16] = 0x80;
		e[16 + 4] = strcmp(what, "mbr-06") == 0 ? 0x06 : strcmp(what, "mbr-83") == 0 ? 0x83 : 0x0C;
		e[16 + 8] = 0x3F;
		e[16 + 12] = strcmp(what, "mbr-empty") == 0 ? 0 : 0x10;
		if (strcmp(what, "mbr-flag") == 0)
			e[0] = 0x12;
	}
	ck_assert_msg(strcmp(sniff_type(buf, len, &cls), disk_cases[_i].type) == 0, "%s: %s", what,
	    sniff_type(buf, len, NULL));
	ck_assert_int_eq(cls, sniff_class_of(disk_cases[_i].type));
	g_free(buf);
}
END_TEST

static const struct { const char *type; enum sniff_class cls; } class_cases[] = {
	{ "pe", SNIFF_EXECUTABLE }, { "mz", SNIFF_EXECUTABLE }, { "elf", SNIFF_EXECUTABLE },
	{ "macho", SNIFF_EXECUTABLE }, { "lnk", SNIFF_SHORTCUT }, { "url", SNIFF_SHORTCUT },
	{ "wsf", SNIFF_SCRIPT }, { "hta", SNIFF_SCRIPT }, { "zip", SNIFF_ARCHIVE },
	{ "rar", SNIFF_ARCHIVE }, { "iso", SNIFF_DISK_IMAGE }, { "vhdx", SNIFF_DISK_IMAGE },
	{ "fat", SNIFF_DISK_IMAGE }, { "mbr", SNIFF_DISK_IMAGE },
	{ "pdf", SNIFF_DOCUMENT }, { "ole2", SNIFF_DOCUMENT }, { "onenote", SNIFF_DOCUMENT },
	{ "chm", SNIFF_DOCUMENT }, { "png", SNIFF_MEDIA }, { "html", SNIFF_TEXT },
	{ "text", SNIFF_TEXT }, { "tnef", SNIFF_MAIL }, { "data", SNIFF_UNKNOWN },
	{ "empty", SNIFF_UNKNOWN }, { "no-such-type", SNIFF_UNKNOWN }, { "", SNIFF_UNKNOWN },
};

START_TEST(test_class_of)
{
	ck_assert_int_eq(sniff_class_of(class_cases[_i].type), class_cases[_i].cls);
}
END_TEST

START_TEST(test_empty)
{
	enum sniff_class cls = SNIFF_TEXT;
	unsigned char *buf = g_malloc(1);

	ck_assert_str_eq(sniff_type(buf, 0, &cls), "empty");
	ck_assert_int_eq(cls, SNIFF_UNKNOWN);
	ck_assert_int_eq(sniff_class_of(NULL), SNIFF_UNKNOWN);
	g_free(buf);
}
END_TEST

Suite *
sniff_suite(void)
{
	Suite *s = suite_create("sniff");
	TCase *tc = tcase_create("sniff");

	tcase_add_loop_test(tc, test_magic, 0, G_N_ELEMENTS(magic_cases));
	tcase_add_loop_test(tc, test_pe_header, 0, G_N_ELEMENTS(pe_cases));
	tcase_add_loop_test(tc, test_iso, 0, G_N_ELEMENTS(iso_cases));
	tcase_add_loop_test(tc, test_pdf_offset, 0, G_N_ELEMENTS(pdf_cases));
	tcase_add_loop_test(tc, test_disk, 0, G_N_ELEMENTS(disk_cases));
	tcase_add_loop_test(tc, test_class_of, 0, G_N_ELEMENTS(class_cases));
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}
