/*
 * check_zipdir.c - the ZIP central directory reader on hostile layouts
 *
 * Every input is copied to a heap block of exactly its length, so a read
 * before or past it shows under AddressSanitizer (make asan) or valgrind.
 * The hostile cases are built around one 162-byte file whose ZIP64 record
 * gives a directory offset of 0xFFFFFFFFFFFFFFF0: offset + 46 wrapped and
 * the reader looked 16 bytes before the buffer. The archives that must be
 * read are written here byte by byte (APPNOTE.TXT 4.3), so a reader that
 * refuses everything fails too.
 */
#include <string.h>

#include <glib.h>

#include "checks.h"
#include "moat/zipdir.h"

/* What zipdir_read() reported, for the assertions. */
struct seen {
	guint n;
	GString *names;		/* "name[flags]," per entry; flags h(idden) s(ystem) d(ir) e(ncrypted) */
	guint64 size;		/* of the last entry */
};

static gboolean
seen_entry(void *ctx, const struct zipdir_entry *e)
{
	struct seen *s = ctx;

	s->n++;
	s->size = e->size;
	g_string_append_printf(s->names, "%s[%s%s%s%s],", e->name, e->hidden ? "h" : "",
	    e->system ? "s" : "", e->is_dir ? "d" : "", e->encrypted ? "e" : "");
	return TRUE;
}

/* zipdir_exact - zipdir_read() on a copy of exactly LEN bytes; S collects the entries */
static gint64
zipdir_exact(const guint8 *data, gsize len, struct seen *s)
{
	guint8 *copy = g_malloc(MAX(len, 1));
	gint64 n;

	if (len > 0)
		memcpy(copy, data, len);
	if (s->names == NULL)
		s->names = g_string_new(NULL);
	n = zipdir_read(copy, len, 1000, seen_entry, s);
	g_free(copy);
	return n;
}

static void
seen_clear(struct seen *s)
{
	if (s->names != NULL)
		g_string_free(s->names, TRUE);
	memset(s, 0, sizeof(*s));
}

static void
put16(guint8 *p, guint16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
put32(guint8 *p, guint32 v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static void
put64(guint8 *p, guint64 v)
{
	put32(p, v & 0xffffffffu);
	put32(p + 4, v >> 32);
}

static void
add16(GByteArray *b, guint16 v)
{
	guint8 p[2];

	put16(p, v);
	g_byte_array_append(b, p, 2);
}

static void
add32(GByteArray *b, guint32 v)
{
	guint8 p[4];

	put32(p, v);
	g_byte_array_append(b, p, 4);
}

static void
add64(GByteArray *b, guint64 v)
{
	guint8 p[8];

	put64(p, v);
	g_byte_array_append(b, p, 8);
}

/* Hostile inputs --------------------------------------------------------- */

#define ZIP64_AT	64	/* the ZIP64 end record in the 162-byte file */
#define LOCATOR_AT	120
#define EOCD_AT		140
#define HOSTILE_LEN	162

/*
 * hostile - the 162-byte file: "PK\3\4" and 60 zero bytes; the ZIP64 end
 * record at 64 (directory size 0x100, offset 0xFFFFFFFFFFFFFFF0); its
 * locator at 120; the end record at 140 with every field all ones.
 */
static void
hostile(guint8 buf[HOSTILE_LEN])
{
	memset(buf, 0, HOSTILE_LEN);
	memcpy(buf, "PK\3\4", 4);
	put32(buf + ZIP64_AT, 0x06064b50u);
	put64(buf + ZIP64_AT + 4, 44);			/* size of the rest of the record */
	put64(buf + ZIP64_AT + 24, 0);			/* entries on this disk */
	put64(buf + ZIP64_AT + 32, 0);			/* entries */
	put64(buf + ZIP64_AT + 40, 0x100);		/* directory size: past the end */
	put64(buf + ZIP64_AT + 48, 0xFFFFFFFFFFFFFFF0u);	/* directory offset */
	put32(buf + LOCATOR_AT, 0x07064b50u);
	put64(buf + LOCATOR_AT + 8, ZIP64_AT);
	put32(buf + LOCATOR_AT + 16, 1);
	put32(buf + EOCD_AT, 0x06054b50u);
	memset(buf + EOCD_AT + 4, 0xff, 18);
}

/* One change to the 162-byte file: at OFF, a 64-bit value (or 32-bit when WIDTH is 4). */
static const struct {
	const char *what;
	gsize off;
	guint width;
	guint64 value;
	gint64 want;		/* -1 refused, else the entry count */
} hostile_cases[] = {
	{ "the file as found", ZIP64_AT + 48, 8, 0xFFFFFFFFFFFFFFF0u, -1 },
	{ "offset + 46 wraps to 0", ZIP64_AT + 48, 8, 0xFFFFFFFFFFFFFFD2u, -1 },
	{ "offset + 46 wraps to 63", ZIP64_AT + 48, 8, 0xFFFFFFFFFFFFFFD2u + 63, -1 },
	{ "offset at the ZIP64 record: an empty archive", ZIP64_AT + 48, 8, ZIP64_AT, 0 },
	{ "offset one past the ZIP64 record", ZIP64_AT + 48, 8, ZIP64_AT + 1, -1 },
	{ "offset just past the end", ZIP64_AT + 48, 8, HOSTILE_LEN, -1 },
	{ "offset at the top of the address space", ZIP64_AT + 48, 8, G_MAXUINT64, -1 },
	{ "size that wraps with the offset", ZIP64_AT + 40, 8, 0x20, -1 },
	{ "size of all ones", ZIP64_AT + 40, 8, G_MAXUINT64, -1 },
	{ "locator past the end", LOCATOR_AT + 8, 8, HOSTILE_LEN, -1 },
	{ "locator 55 bytes before the end", LOCATOR_AT + 8, 8, HOSTILE_LEN - 55, -1 },
	{ "locator at the top of the address space", LOCATOR_AT + 8, 8, G_MAXUINT64 - 3, -1 },
	{ "locator on the end record", LOCATOR_AT + 8, 8, EOCD_AT, -1 },
	{ "locator on itself", LOCATOR_AT + 8, 8, LOCATOR_AT, -1 },
};

START_TEST(test_zipdir_hostile)
{
	guint8 buf[HOSTILE_LEN];
	struct seen s = { 0 };
	gint64 n;

	hostile(buf);
	if (hostile_cases[_i].width == 8)
		put64(buf + hostile_cases[_i].off, hostile_cases[_i].value);
	else
		put32(buf + hostile_cases[_i].off, (guint32)hostile_cases[_i].value);
	n = zipdir_exact(buf, sizeof(buf), &s);
	ck_assert_msg(n == hostile_cases[_i].want, "%s: %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT,
	    hostile_cases[_i].what, n, hostile_cases[_i].want);
	ck_assert_uint_eq(s.n, n < 0 ? 0 : (guint)n);
	seen_clear(&s);
}
END_TEST

/* The 162-byte file cut short and with any one byte set to 0x00, 0x7f or 0xff: never out of bounds. */
START_TEST(test_zipdir_hostile_mutations)
{
	static const guint8 values[] = { 0x00, 0x7f, 0xff };
	guint8 buf[HOSTILE_LEN];
	struct seen s = { 0 };

	hostile(buf);
	for (gsize cut = 0; cut <= sizeof(buf); cut++)
		ck_assert_int_le(zipdir_exact(buf, cut, &s), 0);
	for (gsize i = 0; i < sizeof(buf); i++) {
		for (gsize v = 0; v < G_N_ELEMENTS(values); v++) {
			hostile(buf);
			buf[i] = values[v];
			ck_assert_int_le(zipdir_exact(buf, sizeof(buf), &s), 0);
		}
	}
	seen_clear(&s);
}
END_TEST

/* Archives written here ---------------------------------------------------- */

struct member {
	const char *name;
	guint8 host;		/* "version made by" high byte: 0 MS-DOS, 3 Unix */
	guint32 attr;		/* external attributes */
	guint16 flags;		/* general purpose bits */
};

static const struct member members[] = {
	{ "invoice.pdf", 0, 0x20, 0 },
	{ "invoice.pdf .exe", 0, 0x22, 0 },	/* hidden */
	{ "docs/", 0, 0x10, 0 },
	{ "secret.txt", 3, 0x81a40000u, 0x0001 },	/* encrypted, Unix mode 0644 */
};

#define MEMBERS_SEEN "invoice.pdf[],invoice.pdf .exe[h],docs/[d],secret.txt[e],"

enum { ZIP_PLAIN, ZIP_ZIP64, ZIP_ZIP64_SIZES };

/*
 * zip_build - the four members above, each holding one stored byte, after
 * STUB bytes of self-extractor; offsets are relative to the archive, as a
 * stub simply concatenated in front leaves them. KIND adds the ZIP64 end
 * record and locator (fields in the end record all ones), and with
 * ZIP_ZIP64_SIZES the sizes move to ZIP64 extra fields. NAME_LEN, when not
 * 0, overrides the last entry's name length. Caller frees with
 * g_byte_array_unref().
 */
static GByteArray *
zip_build(gsize stub, int kind, guint16 name_len)
{
	GByteArray *b = g_byte_array_new();
	guint32 local[G_N_ELEMENTS(members)];
	guint64 dir, dir_end, rec;

	for (gsize i = 0; i < stub; i++)
		g_byte_array_append(b, (const guint8 *)"S", 1);
	for (gsize i = 0; i < G_N_ELEMENTS(members); i++) {
		const struct member *m = &members[i];

		local[i] = b->len - stub;
		add32(b, 0x04034b50u);
		add16(b, 20);
		add16(b, m->flags);
		add16(b, 0);			/* stored */
		add32(b, 0);			/* time, date */
		add32(b, 0);			/* CRC (not checked) */
		add32(b, 1);
		add32(b, 1);
		add16(b, strlen(m->name));
		add16(b, 0);
		g_byte_array_append(b, (const guint8 *)m->name, strlen(m->name));
		g_byte_array_append(b, (const guint8 *)"x", 1);
	}
	dir = b->len - stub;
	for (gsize i = 0; i < G_N_ELEMENTS(members); i++) {
		const struct member *m = &members[i];
		gboolean big = kind == ZIP_ZIP64_SIZES;
		guint16 nlen = strlen(m->name);

		add32(b, 0x02014b50u);
		add16(b, (guint16)(m->host << 8 | 45));
		add16(b, 45);
		add16(b, m->flags);
		add16(b, 0);
		add32(b, 0);
		add32(b, 0);
		add32(b, big ? 0xFFFFFFFFu : 1);	/* compressed size */
		add32(b, big ? 0xFFFFFFFFu : 1);	/* size */
		add16(b, name_len != 0 && i + 1 == G_N_ELEMENTS(members) ? name_len : nlen);
		add16(b, big ? 4 + 4 + 4 + 16 : 0);	/* extra: two empty fields, then ZIP64 */
		add16(b, 0);				/* comment */
		add16(b, 0);				/* disk */
		add16(b, 0);				/* internal attributes */
		add32(b, m->attr);
		add32(b, local[i]);
		g_byte_array_append(b, (const guint8 *)m->name, nlen);
		if (big) {
			add16(b, 0x5455);		/* extended timestamp, 0 bytes */
			add16(b, 0);
			add16(b, 0x7075);		/* Unicode path, 0 bytes */
			add16(b, 0);
			add16(b, 0x0001);
			add16(b, 16);
			add64(b, 0x100000000u + i);	/* size */
			add64(b, 1);			/* compressed size */
		}
	}
	dir_end = b->len - stub;
	if (kind != ZIP_PLAIN) {
		rec = b->len - stub;
		add32(b, 0x06064b50u);
		add64(b, 44);
		add16(b, 45);
		add16(b, 45);
		add32(b, 0);
		add32(b, 0);
		add64(b, G_N_ELEMENTS(members));
		add64(b, G_N_ELEMENTS(members));
		add64(b, dir_end - dir);
		add64(b, dir);
		add32(b, 0x07064b50u);
		add32(b, 0);
		add64(b, rec);
		add32(b, 1);
	}
	add32(b, 0x06054b50u);
	add16(b, 0);
	add16(b, 0);
	add16(b, kind != ZIP_PLAIN ? 0xFFFF : G_N_ELEMENTS(members));
	add16(b, kind != ZIP_PLAIN ? 0xFFFF : G_N_ELEMENTS(members));
	add32(b, kind != ZIP_PLAIN ? 0xFFFFFFFFu : (guint32)(dir_end - dir));
	add32(b, kind != ZIP_PLAIN ? 0xFFFFFFFFu : (guint32)dir);
	add16(b, 0);
	return b;
}

START_TEST(test_zipdir_plain)
{
	g_autoptr(GByteArray) b = zip_build(0, ZIP_PLAIN, 0);
	struct seen s = { 0 };

	ck_assert_int_eq(zipdir_exact(b->data, b->len, &s), G_N_ELEMENTS(members));
	ck_assert_str_eq(s.names->str, MEMBERS_SEEN);
	seen_clear(&s);
	/* MAX stops the walk */
	s.names = g_string_new(NULL);
	ck_assert_int_eq(zipdir_read(b->data, b->len, 2, seen_entry, &s), 2);
	seen_clear(&s);
	/* every truncation is refused or read in part, never out of bounds */
	for (guint cut = 0; cut < b->len; cut++)
		ck_assert_int_le(zipdir_exact(b->data, cut, &s), G_N_ELEMENTS(members));
	seen_clear(&s);
}
END_TEST

/*
 * Self-extractor: 1000 bytes of stub in front, offsets not adjusted for
 * it; with ZIP64, the locator's offset is off by the stub too.
 */
START_TEST(test_zipdir_stub)
{
	g_autoptr(GByteArray) b = zip_build(1000, ZIP_PLAIN, 0);
	g_autoptr(GByteArray) z = zip_build(1000, ZIP_ZIP64_SIZES, 0);
	struct seen s = { 0 };

	ck_assert_int_eq(zipdir_exact(b->data, b->len, &s), G_N_ELEMENTS(members));
	ck_assert_str_eq(s.names->str, MEMBERS_SEEN);
	seen_clear(&s);
	ck_assert_int_eq(zipdir_exact(z->data, z->len, &s), G_N_ELEMENTS(members));
	ck_assert_str_eq(s.names->str, MEMBERS_SEEN);
	ck_assert_uint_eq(s.size, 0x100000003u);
	seen_clear(&s);
}
END_TEST

START_TEST(test_zipdir_zip64)
{
	g_autoptr(GByteArray) b = zip_build(0, ZIP_ZIP64, 0);
	g_autoptr(GByteArray) big = zip_build(0, ZIP_ZIP64_SIZES, 0);
	struct seen s = { 0 };

	ck_assert_int_eq(zipdir_exact(b->data, b->len, &s), G_N_ELEMENTS(members));
	ck_assert_str_eq(s.names->str, MEMBERS_SEEN);
	ck_assert_uint_eq(s.size, 1);
	seen_clear(&s);
	ck_assert_int_eq(zipdir_exact(big->data, big->len, &s), G_N_ELEMENTS(members));
	ck_assert_str_eq(s.names->str, MEMBERS_SEEN);
	ck_assert_uint_eq(s.size, 0x100000003u);	/* from the ZIP64 extra field */
	seen_clear(&s);
	for (guint cut = 0; cut < big->len; cut++)
		ck_assert_int_le(zipdir_exact(big->data, cut, &s), G_N_ELEMENTS(members));
	seen_clear(&s);
}
END_TEST

/* A last entry whose name runs past the directory's end ends the walk before it. */
START_TEST(test_zipdir_name_past_end)
{
	static const guint16 lens[] = { 17, 18, 40, 0xFFFF };
	struct seen s = { 0 };

	for (gsize i = 0; i < G_N_ELEMENTS(lens); i++) {
		g_autoptr(GByteArray) b = zip_build(0, ZIP_PLAIN, lens[i]);
		g_autoptr(GByteArray) z = zip_build(0, ZIP_ZIP64_SIZES, lens[i]);

		ck_assert_int_eq(zipdir_exact(b->data, b->len, &s), G_N_ELEMENTS(members) - 1);
		ck_assert_int_eq(zipdir_exact(z->data, z->len, &s), G_N_ELEMENTS(members) - 1);
	}
	seen_clear(&s);
}
END_TEST

/* The archive with any one byte set to 0x00, 0x7f or 0xff: never out of bounds. */
START_TEST(test_zipdir_mutations)
{
	static const guint8 values[] = { 0x00, 0x7f, 0xff };
	g_autoptr(GByteArray) b = zip_build(7, ZIP_ZIP64_SIZES, 0);
	g_autofree guint8 *buf = g_malloc(b->len);
	struct seen s = { 0 };

	for (guint i = 0; i < b->len; i++) {
		for (gsize v = 0; v < G_N_ELEMENTS(values); v++) {
			memcpy(buf, b->data, b->len);
			buf[i] = values[v];
			ck_assert_int_le(zipdir_exact(buf, b->len, &s), G_N_ELEMENTS(members));
		}
	}
	seen_clear(&s);
}
END_TEST

Suite *
zipdir_suite(void)
{
	Suite *s = suite_create("zipdir");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_zipdir_hostile, 0, G_N_ELEMENTS(hostile_cases));
	tcase_add_test(tc, test_zipdir_hostile_mutations);
	tcase_add_test(tc, test_zipdir_plain);
	tcase_add_test(tc, test_zipdir_stub);
	tcase_add_test(tc, test_zipdir_zip64);
	tcase_add_test(tc, test_zipdir_name_past_end);
	tcase_add_test(tc, test_zipdir_mutations);
	suite_add_tcase(s, tc);
	return s;
}
