/*
 * pe.c - PE (EXE, DLL) headers, import and export names, from memory (pe.h)
 *
 * In: the bytes of a whole PE file. Out: struct pe_info, caller frees with
 * pe_info_clear(). Layout: Microsoft "PE Format" (COFF file header,
 * optional header, data directories 0 export, 1 import, 4 certificate
 * table; section table; import directory table; export directory table).
 * Every offset, RVA and size from the file is compared with what remains
 * before it is added to anything (bytes_fit() in bytes.h). At most
 * PE_MAX_SECTIONS sections and PE_MAX_IMPORTS descriptors, names of at
 * most PE_MAX_NAME bytes: the work is bounded whatever the file says.
 * Not called by the pipeline yet: the side-loading detector (issue 14)
 * will. Reentrant.
 */
#include <string.h>

#include "moat/bytes.h"
#include "moat/moat.h"
#include "moat/pe.h"

#define DOS_SIZE	64
#define DOS_LFANEW	0x3c
#define COFF_SIZE	20
#define SECTION_SIZE	40
#define IMPORT_DESC_SIZE 20
#define EXPORT_DIR_SIZE	40
#define MAGIC_PE32	0x10b
#define MAGIC_PE32PLUS	0x20b
#define FILE_DLL	0x2000

#define DIR_EXPORT	0
#define DIR_IMPORT	1
#define DIR_SECURITY	4

/* One section header, as far as RVA mapping needs it. */
struct pe_section {
	guint32 va;		/* VirtualAddress */
	guint32 raw;		/* PointerToRawData */
	guint32 raw_size;	/* SizeOfRawData, cut to what the file holds */
};

/* What the header walk found, for the directory readers. */
struct pe_map {
	const guint8 *data;
	gsize len;
	struct pe_section sec[PE_MAX_SECTIONS];
	guint n_sec;
	guint32 headers;	/* SizeOfHeaders, cut to the file: RVAs below it are file offsets */
};

/*
 * pe_rva - the file offset of RVA (*OFF) and how many bytes of the file
 * follow it in the same section (*AVAIL, at least 1); FALSE when RVA is in
 * no section's bytes on disk (nor in the headers).
 */
static gboolean
pe_rva(const struct pe_map *m, guint32 rva, guint64 *off, guint64 *avail)
{
	for (guint i = 0; i < m->n_sec; i++) {
		const struct pe_section *s = &m->sec[i];

		/* raw_size <= len - raw was made sure of in pe_sections() */
		if (rva >= s->va && rva - s->va < s->raw_size) {
			*off = (guint64)s->raw + (rva - s->va);
			*avail = s->raw_size - (rva - s->va);
			return TRUE;
		}
	}
	if (rva < m->headers) {
		*off = rva;
		*avail = m->headers - rva;
		return TRUE;
	}
	return FALSE;
}

/*
 * pe_name - a copy of the NUL-terminated name at RVA, or NULL when it maps
 * to no bytes, is empty, or has no NUL within PE_MAX_NAME + 1 bytes of its
 * section. Bytes outside printable ASCII become '?'.
 */
static char *
pe_name(const struct pe_map *m, guint32 rva)
{
	guint64 off, avail;
	const guint8 *p, *nul;
	char *name;
	gsize n;

	if (!pe_rva(m, rva, &off, &avail))
		return NULL;
	p = m->data + off;
	nul = memchr(p, '\0', MIN(avail, PE_MAX_NAME + 1));
	if (nul == NULL || nul == p)
		return NULL;
	n = (gsize)(nul - p);
	name = g_strndup((const char *)p, n);
	for (gsize i = 0; i < n; i++)
		if ((guint8)name[i] < 0x20 || (guint8)name[i] > 0x7e)
			name[i] = '?';
	return name;
}

/*
 * pe_sections - read the section table at OFF, at most COUNT headers, only
 * whole ones inside the file; each raw extent is cut to the file's end.
 */
static void
pe_sections(struct pe_map *m, guint64 off, guint count)
{
	count = MIN(count, PE_MAX_SECTIONS);
	for (guint i = 0; i < count && bytes_fit(off, SECTION_SIZE, m->len); i++, off += SECTION_SIZE) {
		const guint8 *h = m->data + off;
		struct pe_section *s = &m->sec[m->n_sec++];

		s->va = bytes_le32(h + 12);
		s->raw_size = bytes_le32(h + 16);
		s->raw = bytes_le32(h + 20);
		if (s->raw >= m->len)
			s->raw_size = 0;		/* nothing of it on disk */
		else if (s->raw_size > m->len - s->raw)
			s->raw_size = (guint32)(m->len - s->raw);
	}
}

/* pe_imports - the DLL names of the import directory at RVA */
static void
pe_imports(struct pe_info *out, const struct pe_map *m, guint32 rva)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	guint64 off, avail;
	guint i;

	if (!pe_rva(m, rva, &off, &avail))
		return;
	for (i = 0; i < PE_MAX_IMPORTS && avail >= IMPORT_DESC_SIZE; i++) {
		static const guint8 zero[IMPORT_DESC_SIZE];
		const guint8 *d = m->data + off;
		char *name;

		if (memcmp(d, zero, IMPORT_DESC_SIZE) == 0)
			break;			/* the null descriptor ends the table */
		if ((name = pe_name(m, bytes_le32(d + 12))) != NULL)
			g_ptr_array_add(names, name);
		off += IMPORT_DESC_SIZE;
		avail -= IMPORT_DESC_SIZE;
	}
	out->imports_truncated = i == PE_MAX_IMPORTS && avail >= IMPORT_DESC_SIZE;
	if (names->len == 0)
		return;
	out->n_imports = names->len;
	g_ptr_array_add(names, NULL);
	g_ptr_array_set_free_func(names, NULL);
	out->imports = (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

/* pe_export - the Name of the export directory at RVA */
static void
pe_export(struct pe_info *out, const struct pe_map *m, guint32 rva)
{
	guint64 off, avail;

	if (!pe_rva(m, rva, &off, &avail) || avail < EXPORT_DIR_SIZE)
		return;
	out->export_name = pe_name(m, bytes_le32(m->data + off + 12));
}

/*
 * pe_dir - data directory I of the optional header OPT (OPT_SIZE bytes,
 * all in the file): FALSE when the header has no such entry or it is empty
 */
static gboolean
pe_dir(const guint8 *opt, guint64 opt_size, guint64 dirs_at, guint32 n_dirs, guint i,
    guint32 *rva, guint32 *size)
{
	if (i >= n_dirs || !bytes_fit(dirs_at + 8 * (guint64)i, 8, opt_size))
		return FALSE;
	*rva = bytes_le32(opt + dirs_at + 8 * i);
	*size = bytes_le32(opt + dirs_at + 8 * i + 4);
	return *rva != 0 && *size != 0;
}

int
pe_read(struct pe_info *out, const guint8 *data, gsize len)
{
	struct pe_map *m = NULL;
	const guint8 *coff, *opt;
	guint64 lfanew, opt_at, opt_size, dirs_at;
	guint32 n_dirs, rva, size;
	int rc = MOAT_EPARSE;

	if (out == NULL || (data == NULL && len > 0))
		return MOAT_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < DOS_SIZE || data[0] != 'M' || data[1] != 'Z')
		goto out;
	lfanew = bytes_le32(data + DOS_LFANEW);
	if (!bytes_fit(lfanew, 4 + COFF_SIZE, len) || memcmp(data + lfanew, "PE\0\0", 4) != 0)
		goto out;
	coff = data + lfanew + 4;
	opt_at = lfanew + 4 + COFF_SIZE;
	opt_size = bytes_le16(coff + 16);
	if (!bytes_fit(opt_at, opt_size, len) || opt_size < 2)
		goto out;
	opt = data + opt_at;
	switch (bytes_le16(opt)) {
	case MAGIC_PE32:
		dirs_at = 96;
		break;
	case MAGIC_PE32PLUS:
		dirs_at = 112;
		out->pe32plus = TRUE;
		break;
	default:
		goto out;
	}
	/* NumberOfRvaAndSizes is the last field before the directories */
	if (opt_size < dirs_at)
		goto out;
	out->machine = bytes_le16(coff);
	out->characteristics = bytes_le16(coff + 18);
	out->is_dll = (out->characteristics & FILE_DLL) != 0;
	out->subsystem = bytes_le16(opt + 68);
	n_dirs = bytes_le32(opt + dirs_at - 4);

	m = g_new0(struct pe_map, 1);		/* about 1 KB: kept off the stack */
	m->data = data;
	m->len = len;
	m->headers = (guint32)MIN((guint64)bytes_le32(opt + 60), (guint64)len);
	pe_sections(m, opt_at + opt_size, bytes_le16(coff + 2));
	out->n_sections = m->n_sec;

	/* the certificate table's "RVA" is a file offset: it is never mapped */
	if (pe_dir(opt, opt_size, dirs_at, n_dirs, DIR_SECURITY, &rva, &size) &&
	    bytes_fit(rva, size, len)) {
		out->has_security = TRUE;
		out->security_offset = rva;
		out->security_size = size;
	}
	if (pe_dir(opt, opt_size, dirs_at, n_dirs, DIR_IMPORT, &rva, &size))
		pe_imports(out, m, rva);
	if (pe_dir(opt, opt_size, dirs_at, n_dirs, DIR_EXPORT, &rva, &size))
		pe_export(out, m, rva);
	rc = 0;
out:
	g_free(m);
	if (rc < 0)
		pe_info_clear(out);
	return rc;
}

void
pe_info_clear(struct pe_info *info)
{
	if (info == NULL)
		return;
	g_strfreev(info->imports);
	g_free(info->export_name);
	memset(info, 0, sizeof(*info));
}
