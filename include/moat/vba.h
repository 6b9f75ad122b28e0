/*
 * vba.h - VBA projects in a compound file (OLE2): where they are, and their source
 *
 * A Word or Excel 97 document (.doc, .xls), and vbaProject.bin inside a
 * docm/xlsm/pptm, are compound files (MS-CFB). A VBA project is a storage
 * holding a `dir` stream beside `_VBA_PROJECT` (Word: Macros/VBA, Excel:
 * _VBA_PROJECT_CUR/VBA, OOXML: VBA); `dir` (compressed, MS-OVBA 2.3.4.2)
 * names each module's stream and where in it the compressed source starts.
 * vba_read() lists the projects and decompresses each module's source
 * (MS-OVBA 2.4.1), for the office lure detector (lure/office.c); it also
 * says where an Equation Editor 3.0 object is (the CVE-2017-11882 and
 * CVE-2018-0802 exploits' carrier): a storage with that program's CLSID
 * {0002CE02-0000-0000-C000-000000000046}.
 *
 * libclamav reads the same (and decompresses the source for its own
 * signatures) but hands moat's callback only the raw streams, under made-up
 * names; this reader is moat's own, bounded in every dimension: directory
 * entries (VBA_MAX_ENTRIES), sector chains (never longer than the file has
 * sectors: a loop ends there), projects, modules and decompressed bytes
 * (VBA_MAX_SOURCE per module, VBA_MAX_TOTAL per file). No I/O; reentrant.
 */
#ifndef MOAT_VBA_H
#define MOAT_VBA_H

#include <glib.h>

#define VBA_MAX_ENTRIES		16384		/* directory entries read */
#define VBA_MAX_PROJECTS	16		/* projects read per file; more are counted */
#define VBA_MAX_MODULES		512		/* modules read per file */
#define VBA_MAX_SOURCE		(1u << 20)	/* source bytes kept per module */
#define VBA_MAX_TOTAL		(4u << 20)	/* source bytes kept per file */

struct vba_module {
	char *name;			/* its stream's name, UTF-8 */
	char *project;			/* the storage it is in, "Macros/VBA" */
	char *source;			/* decompressed, NUL-terminated (the code page's bytes), or
					 * NULL when it could not be read */
	gsize len;			/* bytes in SOURCE */
	gboolean truncated;		/* SOURCE was cut at a limit or at corrupt data */
};

struct vba_file {
	guint projects;			/* VBA storages found (all of them, past VBA_MAX_PROJECTS too) */
	char *first;			/* the first one's path ("Macros/VBA", "VBA"), or NULL */
	GPtrArray *modules;		/* struct vba_module *, owned; those `dir` named */
	guint unread;			/* projects whose `dir` could not be read or named no module */
	gboolean truncated;		/* a limit or corrupt data cut the reading short */
	char *equation;			/* the first storage of Equation Editor 3.0's CLSID
					 * ("ObjectPool/_1234", "the root storage"), or NULL */
};

/*
 * vba_read - the VBA projects of the compound file in the LEN bytes at
 * DATA (borrowed for the call). NULL when the bytes are no readable
 * compound file (no signature, a header or directory out of range); a
 * compound file without VBA gives projects == 0. Caller frees with
 * vba_file_free().
 */
struct vba_file *vba_read(const guint8 *data, gsize len);

/* vba_file_free - release F and its modules; NULL is a no-op */
void vba_file_free(struct vba_file *f);

/*
 * vba_decompress - the MS-OVBA CompressedContainer in the LEN bytes at IN
 * (its 0x01 signature first), decompressed into a new array of at most MAX
 * bytes. *CLEAN (when not NULL) is FALSE when corrupt data or MAX stopped
 * it. NULL when IN does not start a container. Caller g_byte_array_unref()s.
 */
GByteArray *vba_decompress(const guint8 *in, gsize len, gsize max, gboolean *clean);

#endif
