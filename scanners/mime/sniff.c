/*
 * sniff.c - file type from magic bytes
 *
 * In: the first bytes of a file (up to SNIFF_HEAD_BYTES; ISO 9660 keeps its
 * signature at 0x8001) and, for VHD's footer, nothing more: a fixed VHD is
 * recognised only by its extension. A FAT boot sector ("fat") and an MBR
 * with a FAT partition ("mbr") are recognised from the first 512 bytes.
 * Out: a static type name and class.
 * Pure, thread-safe.
 */
#include <string.h>

#include <glib.h>

#include "moat/sniff.h"

struct sniff_magic {
	const char *type;
	enum sniff_class cls;
	size_t offset;
	const char *magic;
	size_t len;
};

#define M(s) s, sizeof(s) - 1

/* Checked in order; the first match wins. */
static const struct sniff_magic sniff_magics[] = {
	{ "lnk", SNIFF_SHORTCUT, 0, M("\x4c\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46") },
	{ "elf", SNIFF_EXECUTABLE, 0, M("\x7f" "ELF") },
	{ "macho", SNIFF_EXECUTABLE, 0, M("\xfe\xed\xfa\xce") },
	{ "macho", SNIFF_EXECUTABLE, 0, M("\xfe\xed\xfa\xcf") },
	{ "macho", SNIFF_EXECUTABLE, 0, M("\xce\xfa\xed\xfe") },
	{ "macho", SNIFF_EXECUTABLE, 0, M("\xcf\xfa\xed\xfe") },
	{ "zip", SNIFF_ARCHIVE, 0, M("PK\x03\x04") },
	{ "zip", SNIFF_ARCHIVE, 0, M("PK\x05\x06") },
	{ "zip", SNIFF_ARCHIVE, 0, M("PK\x07\x08") },
	{ "rar", SNIFF_ARCHIVE, 0, M("Rar!\x1a\x07") },
	{ "7z", SNIFF_ARCHIVE, 0, M("7z\xbc\xaf\x27\x1c") },
	{ "cab", SNIFF_ARCHIVE, 0, M("MSCF\0\0\0\0") },
	{ "gzip", SNIFF_ARCHIVE, 0, M("\x1f\x8b") },
	{ "bzip2", SNIFF_ARCHIVE, 0, M("BZh") },
	{ "xz", SNIFF_ARCHIVE, 0, M("\xfd" "7zXZ\0") },
	{ "ace", SNIFF_ARCHIVE, 7, M("**ACE**") },
	{ "tar", SNIFF_ARCHIVE, 257, M("ustar") },
	{ "vhdx", SNIFF_DISK_IMAGE, 0, M("vhdxfile") },
	{ "vhd", SNIFF_DISK_IMAGE, 0, M("conectix") },
	{ "iso", SNIFF_DISK_IMAGE, 0x8001, M("CD001") },
	{ "udf", SNIFF_DISK_IMAGE, 0x8001, M("BEA01") },
	{ "ole2", SNIFF_DOCUMENT, 0, M("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") },
	{ "onenote", SNIFF_DOCUMENT, 0, M("\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3") },
	{ "chm", SNIFF_DOCUMENT, 0, M("ITSF") },
	{ "rtf", SNIFF_DOCUMENT, 0, M("{\\rtf") },
	{ "tnef", SNIFF_MAIL, 0, M("\x78\x9f\x3e\x22") },
	{ "png", SNIFF_MEDIA, 0, M("\x89PNG\r\n\x1a\n") },
	{ "jpeg", SNIFF_MEDIA, 0, M("\xff\xd8\xff") },
	{ "gif", SNIFF_MEDIA, 0, M("GIF8") },
};

/* Markup and scripts, matched case-insensitively after a BOM and white space. */
static const struct sniff_magic sniff_texts[] = {
	{ "url", SNIFF_SHORTCUT, 0, M("[internetshortcut]") },
	{ "hta", SNIFF_SCRIPT, 0, M("<hta:application") },
	{ "wsf", SNIFF_SCRIPT, 0, M("<job") },
	{ "wsf", SNIFF_SCRIPT, 0, M("<package") },
	{ "shebang", SNIFF_TEXT, 0, M("#!") },
	{ "html", SNIFF_TEXT, 0, M("<!doctype html") },
	{ "html", SNIFF_TEXT, 0, M("<html") },
	{ "html", SNIFF_TEXT, 0, M("<head") },
	{ "html", SNIFF_TEXT, 0, M("<body") },
	{ "html", SNIFF_TEXT, 0, M("<script") },
	{ "svg", SNIFF_TEXT, 0, M("<svg") },
	{ "xml", SNIFF_TEXT, 0, M("<?xml") },
};

#undef M

/* sniff_pe - "pe" for a PE image, "mz" for a bare DOS executable; LEN >= 0x40 */
static const char *
sniff_pe(const unsigned char *buf, size_t len)
{
	guint32 pe;

	pe = (guint32)buf[0x3c] | (guint32)buf[0x3d] << 8 |
	    (guint32)buf[0x3e] << 16 | (guint32)buf[0x3f] << 24;
	if ((size_t)pe <= len - 4 && memcmp(buf + pe, "PE\0\0", 4) == 0)
		return "pe";
	return "mz";
}

/*
 * sniff_fat - a FAT boot sector: the 0x55AA signature, and "FAT12   " or
 * "FAT16   " at 0x36, "FAT32   " at 0x52, or else a jump instruction and a
 * sane BPB (mkfs tools may leave the type label blank); LEN >= 512
 */
static gboolean
sniff_fat(const unsigned char *b)
{
	unsigned bps = b[0x0B] | b[0x0C] << 8, spc = b[0x0D], rsvd = b[0x0E] | b[0x0F] << 8;

	if (b[510] != 0x55 || b[511] != 0xAA)
		return FALSE;
	if (memcmp(b + 0x36, "FAT12   ", 8) == 0 || memcmp(b + 0x36, "FAT16   ", 8) == 0 ||
	    memcmp(b + 0x52, "FAT32   ", 8) == 0)
		return TRUE;
	return ((b[0] == 0xEB && b[2] == 0x90) || b[0] == 0xE9) &&
	    (bps == 512 || bps == 1024 || bps == 2048 || bps == 4096) && spc != 0 &&
	    (spc & (spc - 1)) == 0 && rsvd != 0 && b[0x10] >= 1 && b[0x10] <= 2 &&
	    (b[0x15] == 0xF0 || b[0x15] >= 0xF8);
}

/*
 * sniff_mbr - a partition table with a FAT partition (types 0x01, 0x04,
 * 0x06, 0x0B, 0x0C, 0x0E) that starts after the MBR and is not empty;
 * every boot flag 0x00 or 0x80; LEN >= 512
 */
static gboolean
sniff_mbr(const unsigned char *b)
{
	gboolean fat = FALSE;

	if (b[510] != 0x55 || b[511] != 0xAA)
		return FALSE;
	for (int i = 0; i < 4; i++) {
		const unsigned char *e = b + 0x1BE + 16 * i;

		if (e[0] != 0x00 && e[0] != 0x80)
			return FALSE;
		if ((e[4] == 0x01 || e[4] == 0x04 || e[4] == 0x06 || e[4] == 0x0B || e[4] == 0x0C ||
		    e[4] == 0x0E) && (e[8] | e[9] | e[10] | e[11]) != 0 && (e[12] | e[13] | e[14] | e[15]) != 0)
			fat = TRUE;
	}
	return fat;
}

/* sniff_text - a markup or script type, "text" for other text, NULL for binary */
static const char *
sniff_text(const unsigned char *buf, size_t len, enum sniff_class *cls)
{
	size_t n = MIN(len, 1024), i = 0;

	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && g_ascii_isspace(buf[i]))
		i++;
	for (gsize m = 0; m < G_N_ELEMENTS(sniff_texts); m++) {
		const struct sniff_magic *t = &sniff_texts[m];

		if (n - i >= t->len && g_ascii_strncasecmp((const char *)buf + i, t->magic, t->len) == 0) {
			*cls = t->cls;
			return t->type;
		}
	}
	/* PDF readers accept the header anywhere in the first kilobyte. */
	if (n >= 5 && memmem(buf, n, "%PDF-", 5) != NULL) {
		*cls = SNIFF_DOCUMENT;
		return "pdf";
	}
	if (memchr(buf, '\0', MIN(len, 4096)) != NULL)
		return NULL;
	*cls = SNIFF_TEXT;
	return "text";
}

const char *
sniff_type(const unsigned char *buf, size_t len, enum sniff_class *cls)
{
	enum sniff_class dummy;
	const char *t;

	if (cls == NULL)
		cls = &dummy;
	*cls = SNIFF_UNKNOWN;
	if (len == 0)
		return "empty";
	/*
	 * "MZ" alone is also how "MZone weekly" starts: a DOS header is 64
	 * bytes and holds NULs; text never does.
	 */
	if (len >= 0x40 && buf[0] == 'M' && buf[1] == 'Z' && memchr(buf, '\0', 0x40) != NULL) {
		*cls = SNIFF_EXECUTABLE;
		return sniff_pe(buf, len);
	}
	for (gsize m = 0; m < G_N_ELEMENTS(sniff_magics); m++) {
		const struct sniff_magic *s = &sniff_magics[m];

		if (len >= s->offset + s->len && memcmp(buf + s->offset, s->magic, s->len) == 0) {
			*cls = s->cls;
			return s->type;
		}
	}
	if (len >= 512 && (t = sniff_fat(buf) ? "fat" : sniff_mbr(buf) ? "mbr" : NULL) != NULL) {
		*cls = SNIFF_DISK_IMAGE;
		return t;
	}
	if ((t = sniff_text(buf, len, cls)) != NULL)
		return t;
	return "data";
}

enum sniff_class
sniff_class_of(const char *type)
{
	if (type == NULL)
		return SNIFF_UNKNOWN;
	if (strcmp(type, "pe") == 0 || strcmp(type, "mz") == 0)
		return SNIFF_EXECUTABLE;
	if (strcmp(type, "pdf") == 0)
		return SNIFF_DOCUMENT;
	if (strcmp(type, "text") == 0)
		return SNIFF_TEXT;
	if (strcmp(type, "fat") == 0 || strcmp(type, "mbr") == 0)
		return SNIFF_DISK_IMAGE;
	for (gsize m = 0; m < G_N_ELEMENTS(sniff_magics); m++)
		if (strcmp(sniff_magics[m].type, type) == 0)
			return sniff_magics[m].cls;
	for (gsize m = 0; m < G_N_ELEMENTS(sniff_texts); m++)
		if (strcmp(sniff_texts[m].type, type) == 0)
			return sniff_texts[m].cls;
	return SNIFF_UNKNOWN;
}
