/*
 * pe.h - facts from a PE file (EXE or DLL) read from memory
 *
 * Groundwork for the DLL side-loading detector (issue 14): which machine,
 * PE32 or PE32+, DLL or program, GUI or console, whether an Authenticode
 * signature is attached, which DLLs it imports and the name it exports
 * under. Bounds-checked, nothing is run or unpacked; lure/sideload.c reads
 * the imports. Reentrant: no globals, the caller owns every pe_info.
 */
#ifndef MOAT_PE_H
#define MOAT_PE_H

#include <glib.h>

#define PE_MAX_SECTIONS	96	/* sections read; the rest are ignored (the Windows XP loader's limit) */
#define PE_MAX_IMPORTS	256	/* import descriptors walked */
#define PE_MAX_NAME	255	/* bytes of a DLL name, without its NUL */

#define PE_MACHINE_I386		0x014c
#define PE_MACHINE_AMD64	0x8664
#define PE_MACHINE_ARM64	0xaa64
#define PE_SUBSYSTEM_GUI	2	/* IMAGE_SUBSYSTEM_WINDOWS_GUI */
#define PE_SUBSYSTEM_CONSOLE	3	/* IMAGE_SUBSYSTEM_WINDOWS_CUI */

struct pe_info {
	guint16 machine;		/* COFF Machine, PE_MACHINE_* */
	guint16 characteristics;	/* COFF Characteristics as stored */
	gboolean pe32plus;		/* optional header magic 0x20b (else 0x10b, PE32) */
	gboolean is_dll;		/* IMAGE_FILE_DLL (0x2000) */
	guint16 subsystem;		/* PE_SUBSYSTEM_*, or whatever the file says */
	guint n_sections;		/* section headers read (at most PE_MAX_SECTIONS, only whole ones) */
	gboolean has_security;		/* data directory 4 non-empty and inside the file */
	guint32 security_offset;	/* its file offset (this directory holds no RVA) */
	guint32 security_size;
	char **imports;			/* owned, NULL-terminated: DLL names in descriptor order, or NULL */
	guint n_imports;
	gboolean imports_truncated;	/* PE_MAX_IMPORTS descriptors walked and the table went on */
	char *export_name;		/* owned: the export directory's Name, or NULL */
};

/*
 * pe_read - fill OUT from the LEN bytes at DATA. Returns 0, MOAT_EPARSE
 * when DATA is no readable PE (no MZ, e_lfanew outside, no PE signature,
 * optional header unknown or cut short), or MOAT_EINVAL for NULL
 * arguments. On error OUT is left empty. Names are copied (bytes outside
 * printable ASCII become '?'); a name with no NUL within PE_MAX_NAME + 1
 * bytes or before the end of its section is skipped, as is a descriptor
 * or directory whose RVA maps to no bytes of the file. Caller frees OUT's
 * contents with pe_info_clear(). Time linear in LEN; DATA is borrowed.
 */
int pe_read(struct pe_info *out, const guint8 *data, gsize len);

/* pe_info_clear - free what pe_read() put in INFO and zero it; NULL is a no-op */
void pe_info_clear(struct pe_info *info);

#endif
