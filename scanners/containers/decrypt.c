/*
 * decrypt.c - encrypted ZIP entries opened with candidate passwords (decrypt.h)
 *
 * In: the bytes of one ZIP, the candidate passwords, limits. Out: each
 * encrypted entry's outcome, and the bytes of those that opened, through
 * the caller's function. The central directory (zipdir.h) says which
 * entries are encrypted, how, how large and with what CRC-32; libarchive's
 * seekable ZIP reader decrypts, one reader per candidate, reading from the
 * buffer. Memory: one entry at a time, at most max_bytes. Reentrant.
 */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "moat/decrypt.h"
#include "moat/zipdir.h"

#define DECRYPT_CHUNK		65536
#define ZIP_FLAG_STRONG		0x0040	/* general purpose bit 6: PKWARE strong encryption */
#define ZIP_METHOD_AES		99

/* One encrypted entry being tried. */
struct decrypt_item {
	struct decrypt_entry e;		/* e.name is NAME */
	char *name;
	guint nth;			/* entries of the same name before it in the directory */
	guint32 crc;
	gboolean check_crc;		/* FALSE under WinZip AE-2, which stores no CRC */
	gboolean done;			/* its outcome is final (and reported when opened) */
	gboolean seen;			/* a reader listed it */
	guint last;			/* 1 + the last candidate tried on it; 0: none */
};

struct decrypt_run {
	const guint8 *data;
	gsize len;
	const struct decrypt_limits *lim;
	GPtrArray *items;		/* struct decrypt_item *, directory order */
	GHashTable *by_name;		/* name -> GPtrArray of its items, directory order */
	guint index;			/* directory entries read so far */
	guint open;			/* items not done */
	gboolean stopped;		/* the deadline passed */
	decrypt_fn fn;
	void *ctx;
};

static void
decrypt_item_free(struct decrypt_item *it)
{
	g_free(it->name);
	g_free(it);
}

const char *
decrypt_outcome_name(enum decrypt_outcome o)
{
	switch (o) {
	case DECRYPT_OPENED:		return "opened";
	case DECRYPT_WRONG:		return "wrong";
	case DECRYPT_UNSUPPORTED:	return "unsupported";
	case DECRYPT_TOO_LARGE:		return "too large";
	default:			return "not tried";
	}
}

/* decrypt_collect - one central directory entry: keep it when it is an encrypted file */
static gboolean
decrypt_collect(void *ctx, const struct zipdir_entry *ze)
{
	struct decrypt_run *r = ctx;
	struct decrypt_item *it;
	GPtrArray *same;

	r->index++;
	if (!ze->encrypted || ze->is_dir)
		return TRUE;
	if (r->items->len >= r->lim->max_entries)
		return FALSE;
	it = g_new0(struct decrypt_item, 1);
	it->name = g_strdup(ze->name);
	it->e.name = it->name;
	it->e.index = r->index - 1;
	it->e.size = ze->size;
	it->e.outcome = DECRYPT_NOT_TRIED;	/* until a reader says otherwise */
	it->crc = ze->crc32;
	it->check_crc = !(ze->method == ZIP_METHOD_AES && ze->crc32 == 0);
	if ((ze->flags & ZIP_FLAG_STRONG) != 0) {
		it->e.outcome = DECRYPT_UNSUPPORTED;
		it->done = TRUE;
	} else if (ze->size > r->lim->max_bytes) {
		it->e.outcome = DECRYPT_TOO_LARGE;
		it->done = TRUE;
	} else {
		r->open++;
	}
	if ((same = g_hash_table_lookup(r->by_name, it->name)) == NULL) {
		same = g_ptr_array_new();
		g_hash_table_insert(r->by_name, it->name, same);
	}
	it->nth = same->len;
	g_ptr_array_add(same, it);
	g_ptr_array_add(r->items, it);
	return TRUE;
}

/*
 * decrypt_match - the item libarchive's current entry AE is: the same name
 * and, among entries of that name, the same place (COUNT: name -> how many
 * of them this reader listed so far); NULL for an entry not tried
 */
static struct decrypt_item *
decrypt_match(struct decrypt_run *r, struct archive_entry *ae, GHashTable *count)
{
	const char *name = archive_entry_pathname(ae);
	GPtrArray *same;
	guint nth;

	if (name == NULL)
		name = archive_entry_pathname_utf8(ae);
	if (name == NULL || (same = g_hash_table_lookup(r->by_name, name)) == NULL)
		return NULL;
	nth = GPOINTER_TO_UINT(g_hash_table_lookup(count, same));
	g_hash_table_insert(count, same, GUINT_TO_POINTER(nth + 1));
	return nth < same->len ? same->pdata[nth] : NULL;
}

enum decrypt_read { READ_OK, READ_FAILED, READ_FATAL };

/*
 * decrypt_read - the current entry's data into BUF, at most its declared
 * size (a candidate that yields more is wrong); READ_FATAL when the reader
 * cannot go on to the next entry
 */
static enum decrypt_read
decrypt_read(struct archive *a, const struct decrypt_item *it, GByteArray *buf)
{
	guint8 chunk[DECRYPT_CHUNK];
	la_ssize_t n;

	g_byte_array_set_size(buf, 0);
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if ((guint64)buf->len + (guint64)n > it->e.size)
			return READ_FAILED;
		g_byte_array_append(buf, chunk, (guint)n);
	}
	if (n == ARCHIVE_FATAL)
		return READ_FATAL;
	if (n < 0 || buf->len != it->e.size)
		return READ_FAILED;
	if (it->check_crc && crc32(crc32(0L, Z_NULL, 0), buf->data, buf->len) != it->crc)
		return READ_FAILED;
	return READ_OK;
}

/* decrypt_past - whether the deadline has passed (then nothing more is tried) */
static gboolean
decrypt_past(struct decrypt_run *r)
{
	if (!r->stopped && r->lim->deadline != 0 && g_get_monotonic_time() > r->lim->deadline)
		r->stopped = TRUE;
	return r->stopped;
}

/*
 * decrypt_reader - one reader with candidate K (PW) over the archive: try
 * it on every entry still closed that it has not been tried on. Returns
 * TRUE when the reader must be opened again (it broke after trying an
 * entry; the entries tried are not tried again).
 */
static gboolean
decrypt_reader(struct decrypt_run *r, guint k, const char *pw, GByteArray *buf)
{
	struct archive *a = archive_read_new();
	g_autoptr(GHashTable) count = g_hash_table_new(NULL, NULL);
	struct archive_entry *ae;
	gboolean again = FALSE, progress = FALSE;
	int rc = ARCHIVE_FATAL;

	archive_read_support_format_zip_seekable(a);
	archive_read_add_passphrase(a, pw);
	if (archive_read_open_memory(a, r->data, r->len) == ARCHIVE_OK) {
		while (r->open > 0 && ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK ||
		    rc == ARCHIVE_WARN)) {
			struct decrypt_item *it = decrypt_match(r, ae, count);
			enum decrypt_read got;

			if (it == NULL)
				continue;
			it->seen = TRUE;
			if (it->done || it->last > k)
				continue;
			if (decrypt_past(r))
				break;
			it->last = k + 1;
			it->e.tried++;
			progress = TRUE;
			if ((got = decrypt_read(a, it, buf)) == READ_OK) {
				it->done = TRUE;
				it->e.outcome = DECRYPT_OPENED;
				it->e.candidate = k;
				r->open--;
				r->fn(r->ctx, &it->e, buf->data, buf->len);
			} else if (got == READ_FATAL) {
				again = TRUE;
				break;
			}
		}
		/* a header it could not read after a failed entry: go on in a new reader */
		again |= rc == ARCHIVE_FATAL && progress && r->open > 0 && !r->stopped;
	}
	archive_read_free(a);
	return again;
}

guint
decrypt_zip(const guint8 *data, gsize len, const char *const *cands, guint n,
    const struct decrypt_limits *lim, decrypt_fn fn, void *ctx)
{
	struct decrypt_run r = {
		.data = data, .len = len, .lim = lim, .fn = fn, .ctx = ctx,
		.items = g_ptr_array_new_with_free_func((GDestroyNotify)decrypt_item_free),
		.by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
		    (GDestroyNotify)g_ptr_array_unref),
	};
	GByteArray *buf = g_byte_array_new();
	guint reported;

	if (zipdir_read(data, len, G_MAXUINT, decrypt_collect, &r) < 0)
		g_ptr_array_set_size(r.items, 0);
	for (guint k = 0; k < n && r.open > 0 && !decrypt_past(&r); k++)
		while (decrypt_reader(&r, k, cands[k], buf))
			;	/* each round tries at least one entry more: at most one per entry */
	for (guint i = 0; i < r.items->len; i++) {
		struct decrypt_item *it = r.items->pdata[i];

		if (it->e.outcome == DECRYPT_OPENED)
			continue;	/* reported as it opened */
		/* no reader could list it (or reach it) with every candidate: unsupported */
		if (!it->done)
			it->e.outcome = n == 0 || (r.stopped && it->e.tried < n) ? DECRYPT_NOT_TRIED :
			    it->e.tried == n ? DECRYPT_WRONG : DECRYPT_UNSUPPORTED;
		fn(ctx, &it->e, NULL, 0);
	}
	reported = r.items->len;
	g_byte_array_unref(buf);
	g_hash_table_destroy(r.by_name);
	g_ptr_array_unref(r.items);
	return reported;
}
