/*
 * sniff.h - recognise a file type from its first bytes
 *
 * A small table of the types moat cares about (executables, shortcuts,
 * archives, disk images, documents, scripts). Pure function, thread-safe.
 */
#ifndef MOAT_SNIFF_H
#define MOAT_SNIFF_H

#include <stddef.h>

/* Bytes sniff_type() may look at: ISO 9660 puts its signature at 0x8001. */
#define SNIFF_HEAD_BYTES 0x8010

enum sniff_class {
	SNIFF_UNKNOWN = 0,
	SNIFF_EXECUTABLE,	/* PE, ELF, Mach-O */
	SNIFF_SHORTCUT,		/* .lnk, .url */
	SNIFF_SCRIPT,		/* shebang, HTA, WSF */
	SNIFF_ARCHIVE,		/* zip, rar, 7z, cab, gzip, tar ... */
	SNIFF_DISK_IMAGE,	/* iso, udf, vhd, vhdx, fat (boot sector), mbr (with a FAT partition) */
	SNIFF_DOCUMENT,		/* pdf, ole2, rtf, onenote, chm */
	SNIFF_MEDIA,		/* images */
	SNIFF_TEXT,		/* html, xml, plain text */
	SNIFF_MAIL,		/* tnef */
};

/*
 * sniff_type - the type name of BUF ("pe", "lnk", "zip", "iso", "fat", "pdf",
 * "html", "text", ...; "data" when nothing matched, "empty" for LEN 0).
 * Static string. *CLS, when not NULL, gets its class.
 */
const char *sniff_type(const unsigned char *buf, size_t len, enum sniff_class *cls);

/* sniff_class_of - the class of a type name sniff_type() returns */
enum sniff_class sniff_class_of(const char *type);

#endif
