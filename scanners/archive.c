/*
 * archive.c - 7z and RAR through libarchive (archive.h)
 *
 * In: the bytes of one archive. Out: each entry's name, flags and (when
 * asked) bytes, through the caller's hooks. Memory is bounded by the
 * caller's per-entry limit; libarchive reads from the buffer, never from
 * disk. Reentrant: one struct archive per call.
 */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "moat/archive.h"
#include "moat/moat.h"

#define ARCH_CHUNK 65536

/* arch_hidden - whether libarchive's file flags text names a hidden or system attribute */
static gboolean
arch_hidden(struct archive_entry *ae)
{
	const char *flags = archive_entry_fflags_text(ae);

	return flags != NULL && (strstr(flags, "hidden") != NULL || strstr(flags, "system") != NULL);
}

/* arch_read_data - up to MAX bytes of the current entry into BUF; FALSE when cut short */
static gboolean
arch_read_data(struct archive *a, GByteArray *buf, guint64 max)
{
	guint8 chunk[ARCH_CHUNK];
	la_ssize_t n;

	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if ((guint64)buf->len + (guint64)n > max) {
			g_byte_array_append(buf, chunk, (guint)(max - buf->len));
			return FALSE;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	return n == 0;
}

int
arch_walk(const guint8 *data, gsize len, guint max_entries, guint64 max_bytes,
    const struct arch_hooks *hooks, void *ctx, char **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int rc = 0, r;
	guint n = 0;

	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		*err = g_strdup(archive_error_string(a) ? archive_error_string(a) : "not a 7z or RAR archive");
		archive_read_free(a);
		return MOAT_EPARSE;
	}
	while (n < max_entries && (r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		struct arch_entry e = { 0 };
		const char *name;

		if (r < ARCHIVE_WARN) {
			const char *why = archive_error_string(a);

			*err = g_strdup(why != NULL ? why : "unreadable archive header");
			rc = MOAT_EPARSE;
			break;
		}
		n++;
		name = archive_entry_pathname_utf8(ae);
		e.name = name != NULL ? name : archive_entry_pathname(ae);
		e.size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
		e.encrypted = archive_entry_is_encrypted(ae) != 0;
		e.hidden = arch_hidden(ae);
		e.is_dir = archive_entry_filetype(ae) == AE_IFDIR;
		if (hooks->entry(ctx, &e) && !e.is_dir && !e.encrypted) {
			GByteArray *buf = g_byte_array_new();
			gboolean whole = arch_read_data(a, buf, max_bytes);

			hooks->data(ctx, &e, buf->data, buf->len, !whole);
			g_byte_array_unref(buf);
		}
	}
	archive_read_free(a);
	return rc;
}
