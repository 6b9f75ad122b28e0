/*
 * archive.c - 7z, RAR and ISO 9660 through libarchive (archive.h)
 *
 * In: the bytes of one archive. Out: each entry's name, flags and (when
 * asked) bytes, through the caller's hooks. Memory is bounded by the
 * caller's per-entry limit; libarchive reads from the buffer, never from
 * disk. Reentrant: one struct archive per call.
 */
#include <string.h>
#include <wchar.h>

#include <archive.h>
#include <archive_entry.h>

#include "moat/archive.h"
#include "moat/moat.h"

#define ARCH_CHUNK 65536

/* arch_flag - whether libarchive's file flags text names attribute WHAT ("hidden", "system") */
static gboolean
arch_flag(struct archive_entry *ae, const char *what)
{
	const char *flags = archive_entry_fflags_text(ae);

	return flags != NULL && strstr(flags, what) != NULL;
}

/*
 * arch_name - the entry's path as UTF-8. In the C locale libarchive cannot
 * convert a 7z or RAR name it holds as UTF-16 (both its getters give NULL):
 * then the wide-character name is converted here (*OWNED keeps it), and a
 * name that still cannot be had is "?".
 */
static const char *
arch_name(struct archive_entry *ae, char **owned)
{
	const char *name = archive_entry_pathname_utf8(ae);
	const wchar_t *w;

	if (name != NULL || (name = archive_entry_pathname(ae)) != NULL)
		return name;
	if ((w = archive_entry_pathname_w(ae)) != NULL &&
	    (*owned = g_ucs4_to_utf8((const gunichar *)w, -1, NULL, NULL, NULL)) != NULL)
		return *owned;
	return "?";
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

/*
 * arch_failed - why libarchive stopped: encrypted headers or a damaged
 * archive; *ERR its words. Only once a format has been chosen may it be
 * asked about encryption: archive_read_has_encrypted_entries() dereferences
 * the format, and an open that failed has none (fuzz_walk found that).
 */
static enum arch_result
arch_failed(struct archive *a, char **err, const char *fallback, gboolean opened)
{
	const char *why = archive_error_string(a);

	*err = g_strdup(why != NULL ? why : fallback);
	/* 1: libarchive met encryption it cannot read where the entries are listed */
	return opened && archive_read_has_encrypted_entries(a) > 0 ? ARCH_ENCRYPTED : ARCH_CORRUPT;
}

enum arch_result
arch_walk(const guint8 *data, gsize len, guint max_entries, guint64 max_bytes,
    const struct arch_hooks *hooks, void *ctx, char **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	enum arch_result rc = ARCH_OK;
	int r;
	guint n = 0;

	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_iso9660(a);	/* for full paths: libclamav gives base names */
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		rc = arch_failed(a, err, "not a 7z, RAR or ISO 9660 archive", FALSE);
		archive_read_free(a);
		return rc;
	}
	while ((r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		struct arch_entry e = { 0 };
		g_autofree char *wname = NULL;
		const char *name;

		if (r < ARCHIVE_WARN) {
			rc = arch_failed(a, err, "unreadable archive header", TRUE);
			break;
		}
		e.is_dir = archive_entry_filetype(ae) == AE_IFDIR;
		if (!e.is_dir && ++n > max_entries) {
			rc = ARCH_TOO_MANY;	/* directories do not count: they are not members */
			break;
		}
		name = arch_name(ae, &wname);
		e.name = name;
		e.size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
		e.encrypted = archive_entry_is_encrypted(ae) != 0;
		e.hidden = arch_flag(ae, "hidden");
		e.system = arch_flag(ae, "system");
		if (hooks->entry(ctx, &e) && hooks->data != NULL && !e.is_dir && !e.encrypted) {
			GByteArray *buf = g_byte_array_new();
			gboolean whole = arch_read_data(a, buf, max_bytes);

			hooks->data(ctx, &e, buf->data, buf->len, !whole);
			g_byte_array_unref(buf);
		}
	}
	archive_read_free(a);
	return rc;
}
