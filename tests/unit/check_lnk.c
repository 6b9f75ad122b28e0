/*
 * check_lnk.c - the shortcut (.lnk) reader on lures and hostile layouts
 *
 * The shortcuts are assembled here byte by byte (MS-SHLLINK 2.1-2.4) by
 * lnk_build(): header, optional ID list, optional LinkInfo, StringData.
 * Every input is copied to a heap block of exactly its length, so a read
 * past it shows under AddressSanitizer (make asan) or valgrind.
 */
#include <string.h>

#include <glib.h>

#include "checks.h"
#include "moat/lnk.h"
#include "moat/moat.h"

#define CMD_ARGS	"/c _\\_\\putty.exe"
#define EDGE_ICON	"%ProgramFiles%\\Microsoft\\Edge\\Application\\msedge.exe"

/* What goes into a test shortcut; NULL fields are left out (their flag unset). */
struct spec {
	gboolean unicode;
	const char *item_name;		/* a 0x32 file entry in the ID list */
	const char *base;		/* LinkInfo LocalBasePath (and its Unicode twin) */
	const char *net;		/* LinkInfo CommonNetworkRelativeLink NetName */
	const char *str[5];		/* name, relative path, working dir, arguments, icon */
	guint blanks;			/* blanks put before str[3] */
};

static void
put16(GByteArray *b, guint16 v)
{
	guint8 p[2] = { v & 0xFF, v >> 8 };

	g_byte_array_append(b, p, 2);
}

static void
put32(GByteArray *b, guint32 v)
{
	guint8 p[4] = { v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24 };

	g_byte_array_append(b, p, 4);
}

static void
set32(GByteArray *b, gsize at, guint32 v)
{
	for (int i = 0; i < 4; i++)
		b->data[at + i] = (v >> (8 * i)) & 0xFF;
}

static void
put_cstr(GByteArray *b, const char *s)
{
	g_byte_array_append(b, (const guint8 *)s, strlen(s) + 1);
}

/* put_wstr - S (UTF-8) as UTF-16LE, NUL-terminated when NUL; returns the units */
static glong
put_wstr(GByteArray *b, const char *s, gboolean nul)
{
	glong n = 0;
	gunichar2 *w = g_utf8_to_utf16(s, -1, NULL, &n, NULL);

	for (glong i = 0; i < n; i++)
		put16(b, w[i]);
	if (nul)
		put16(b, 0);
	g_free(w);
	return n;
}

static void
put_header(GByteArray *b, guint32 flags)
{
	static const guint8 clsid[16] = { 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46 };
	guint8 zero[40] = { 0 };

	put32(b, 0x4C);
	g_byte_array_append(b, clsid, 16);
	put32(b, flags);
	put32(b, 0x20);				/* FILE_ATTRIBUTE_ARCHIVE */
	g_byte_array_append(b, zero, 24);	/* three FILETIMEs */
	put32(b, 289792);			/* FileSize */
	put32(b, 11);				/* IconIndex */
	put32(b, 7);				/* SW_SHOWMINNOACTIVE */
	g_byte_array_append(b, zero, 12);	/* HotKey, reserved */
}

/* put_id_list - a root folder item, then a 0x32 file entry named NAME */
static void
put_id_list(GByteArray *b, const char *name)
{
	static const guint8 root[18] = { 0x1F, 0x50, 0xE0, 0x4F, 0xD0, 0x20, 0xEA, 0x3A, 0x69, 0x10,
	    0xA2, 0xD8, 0x08, 0x00, 0x2B, 0x30, 0x30, 0x9D };
	guint8 zero[12] = { 0 };
	guint16 file = (guint16)(14 + strlen(name) + 1);	/* 14: up to the short name */

	put16(b, 20 + file + 2);			/* IDListSize: the items and the TerminalID */
	put16(b, 2 + 18);
	g_byte_array_append(b, root, 18);
	put16(b, file);
	g_byte_array_append(b, (const guint8 *)"\x32\x00", 2);
	g_byte_array_append(b, zero, 10);	/* size, date, attributes */
	put_cstr(b, name);
	put16(b, 0);				/* TerminalID */
}

/* put_link_info - header 0x24, VolumeID, LocalBasePath, CNRL, suffix, LocalBasePathUnicode */
static void
put_link_info(GByteArray *b, const char *base, const char *net)
{
	gsize at = b->len;
	static const guint8 volume[17] = { 0x11, 0, 0, 0, 3, 0, 0, 0, 0x2A, 0x2A, 0, 0, 0x10, 0, 0, 0, 0 };

	put32(b, 0);				/* LinkInfoSize, set below */
	put32(b, 0x24);
	put32(b, (base ? 1 : 0) | (net ? 2 : 0));
	for (int i = 0; i < 6; i++)
		put32(b, 0);			/* the offsets, set below */
	if (base != NULL) {
		set32(b, at + 12, (guint32)(b->len - at));
		g_byte_array_append(b, volume, sizeof(volume));
		set32(b, at + 16, (guint32)(b->len - at));
		put_cstr(b, base);
	}
	if (net != NULL) {
		gsize cnrl = b->len;

		set32(b, at + 20, (guint32)(b->len - at));
		put32(b, 0);			/* CommonNetworkRelativeLinkSize */
		put32(b, 0);
		put32(b, 0x14);			/* NetNameOffset */
		put32(b, 0);
		put32(b, 0);
		put_cstr(b, net);
		set32(b, cnrl, (guint32)(b->len - cnrl));
	}
	set32(b, at + 24, (guint32)(b->len - at));
	put_cstr(b, "");			/* CommonPathSuffix */
	if (base != NULL) {
		set32(b, at + 28, (guint32)(b->len - at));
		put_wstr(b, base, TRUE);
	}
	set32(b, at, (guint32)(b->len - at));
}

/* put_string - a StringData field: count, then code page bytes or UTF-16LE */
static void
put_string(GByteArray *b, const char *s, gboolean unicode, guint blanks)
{
	if (!unicode) {
		put16(b, (guint16)(blanks + strlen(s)));
		for (guint i = 0; i < blanks; i++)
			g_byte_array_append(b, (const guint8 *)" ", 1);
		g_byte_array_append(b, (const guint8 *)s, strlen(s));
	} else {
		gsize at = b->len;
		glong n;

		put16(b, 0);
		for (guint i = 0; i < blanks; i++)
			put16(b, ' ');
		n = put_wstr(b, s, FALSE);
		b->data[at] = (blanks + n) & 0xFF;
		b->data[at + 1] = (blanks + n) >> 8;
	}
}

/* lnk_build - the shortcut SP describes; caller frees with g_byte_array_unref() */
static GByteArray *
lnk_build(const struct spec *sp)
{
	GByteArray *b = g_byte_array_new();
	guint32 flags = sp->unicode ? LNK_IS_UNICODE : 0;

	if (sp->item_name != NULL)
		flags |= LNK_HAS_ID_LIST;
	if (sp->base != NULL || sp->net != NULL)
		flags |= LNK_HAS_LINK_INFO;
	for (int i = 0; i < 5; i++)
		if (sp->str[i] != NULL)
			flags |= LNK_HAS_NAME << i;
	put_header(b, flags);
	if (sp->item_name != NULL)
		put_id_list(b, sp->item_name);
	if (sp->base != NULL || sp->net != NULL)
		put_link_info(b, sp->base, sp->net);
	for (int i = 0; i < 5; i++)
		if (sp->str[i] != NULL)
			put_string(b, sp->str[i], sp->unicode, i == 3 ? sp->blanks : 0);
	return b;
}

/* lnk_exact - lnk_read() on a heap copy of exactly LEN bytes */
static int
lnk_exact(struct lnk_info *info, const guint8 *data, gsize len)
{
	guint8 *copy = g_malloc(MAX(len, 1));
	int rc;

	if (len > 0)
		memcpy(copy, data, len);
	rc = lnk_read(info, copy, len);
	g_free(copy);
	return rc;
}

/* check_sane - every string NULL or valid UTF-8 within the cap */
static void
check_sane(const struct lnk_info *info)
{
	const char *s[] = { info->target_name, info->local_base_path, info->local_base_path_unicode,
	    info->net_name, info->name, info->relative_path, info->working_dir, info->arguments,
	    info->icon_location };

	for (gsize i = 0; i < G_N_ELEMENTS(s); i++)
		if (s[i] != NULL) {
			ck_assert_uint_le(strlen(s[i]), LNK_STRING_MAX);
			ck_assert(g_utf8_validate(s[i], -1, NULL));
		}
	ck_assert_uint_le(info->arguments_blanks, info->arguments_chars);
}

static const struct spec lure = {
	.unicode = TRUE, .item_name = "cmd.exe", .base = "C:\\Windows\\System32\\cmd.exe",
	.str = { "Invoice", "..\\..\\Windows\\System32\\cmd.exe", NULL, CMD_ARGS, EDGE_ICON },
	.blanks = 300,
};

START_TEST(test_lnk_lure)
{
	g_autoptr(GByteArray) b = lnk_build(&lure);
	struct lnk_info info;

	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_uint_eq(info.link_flags & LNK_IS_UNICODE, LNK_IS_UNICODE);
	ck_assert_uint_eq(info.file_attributes, 0x20);
	ck_assert_uint_eq(info.show_command, 7);
	ck_assert_str_eq(info.target_name, "cmd.exe");
	ck_assert_str_eq(info.local_base_path, "C:\\Windows\\System32\\cmd.exe");
	ck_assert_str_eq(info.local_base_path_unicode, "C:\\Windows\\System32\\cmd.exe");
	ck_assert_ptr_null(info.net_name);
	ck_assert_str_eq(info.name, "Invoice");
	ck_assert_str_eq(info.relative_path, "..\\..\\Windows\\System32\\cmd.exe");
	ck_assert_ptr_null(info.working_dir);
	ck_assert_str_eq(info.arguments, CMD_ARGS);
	ck_assert_uint_eq(info.arguments_blanks, 300);
	ck_assert_uint_eq(info.arguments_chars, 300 + strlen(CMD_ARGS));
	ck_assert_str_eq(info.icon_location, EDGE_ICON);
	ck_assert(!info.truncated);
	lnk_info_clear(&info);
	lnk_info_clear(&info);		/* cleared twice: a no-op */
}
END_TEST

/* ANSI strings: code page bytes read as Latin-1; a network LinkInfo */
START_TEST(test_lnk_ansi_network)
{
	const struct spec sp = {
		.net = "\\\\fileserver\\share",
		.str = { "Facture r\xe9sum\xe9", NULL, "C:\\Users\\Public", "\t /c calc", "C:\\doc.pdf" },
	};
	g_autoptr(GByteArray) b = lnk_build(&sp);
	struct lnk_info info;

	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_str_eq(info.name, "Facture r\xc3\xa9sum\xc3\xa9");
	ck_assert_str_eq(info.net_name, "\\\\fileserver\\share");
	ck_assert_ptr_null(info.local_base_path);
	ck_assert_ptr_null(info.target_name);
	ck_assert_str_eq(info.working_dir, "C:\\Users\\Public");
	ck_assert_str_eq(info.arguments, "/c calc");
	ck_assert_uint_eq(info.arguments_blanks, 2);
	ck_assert_uint_eq(info.arguments_chars, 9);
	ck_assert_str_eq(info.icon_location, "C:\\doc.pdf");
	lnk_info_clear(&info);
}
END_TEST

/* lnk_env_block - append an ExtraData block of SIG holding TARGET (ANSI and UTF-16); LAST: then the terminal block */
static void
lnk_env_block(GByteArray *b, guint32 sig, const char *target, guint32 size, gboolean last)
{
	guint8 block[0x314] = { 0 };

	block[0] = size & 0xff;
	block[1] = (size >> 8) & 0xff;
	memcpy(block + 4, &sig, 4);	/* little-endian host, as the rest of this suite assumes */
	for (gsize i = 0; target[i] != '\0' && i < 259; i++) {
		block[8 + i] = (guint8)target[i];
		block[8 + 260 + 2 * i] = (guint8)target[i];
	}
	g_byte_array_append(b, block, sizeof(block));
	if (last)
		g_byte_array_append(b, (const guint8 *)"\0\0\0\0", 4);
}

/* the environment-variable target and icon blocks are read; a bad block size ends the reading, not the shortcut */
START_TEST(test_lnk_env_blocks)
{
	const struct spec sp = { .unicode = TRUE, .str = { NULL, NULL, NULL, "/c _\\_\\x.exe", NULL } };
	g_autoptr(GByteArray) b = lnk_build(&sp);
	g_autoptr(GByteArray) bad = lnk_build(&sp);
	struct lnk_info info;

	lnk_env_block(b, 0xA0000001u, "%windir%\\system32\\cmd.exe", 0x314, FALSE);
	lnk_env_block(b, 0xA0000007u, "%ProgramFiles%\\Adobe\\Acrobat.exe", 0x314, TRUE);
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_str_eq(info.env_target, "%windir%\\system32\\cmd.exe");
	ck_assert_str_eq(info.env_icon, "%ProgramFiles%\\Adobe\\Acrobat.exe");
	lnk_info_clear(&info);

	lnk_env_block(bad, 0xA0000001u, "%windir%\\system32\\cmd.exe", 0x7fff, TRUE);	/* past the end */
	ck_assert_int_eq(lnk_exact(&info, bad->data, bad->len), 0);
	ck_assert_ptr_null(info.env_target);
	ck_assert_str_eq(info.arguments, "/c _\\_\\x.exe");
	lnk_info_clear(&info);
}
END_TEST

/* a header alone, no flags: a shortcut to nothing, still read */
START_TEST(test_lnk_header_only)
{
	const struct spec sp = { 0 };
	g_autoptr(GByteArray) b = lnk_build(&sp);
	struct lnk_info info;

	ck_assert_uint_eq(b->len, 0x4C);
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_uint_eq(info.link_flags, 0);
	ck_assert_ptr_null(info.name);
	lnk_info_clear(&info);
}
END_TEST

/* the cap: a long name is cut on a character boundary; 0xFFFF blanks are all counted */
START_TEST(test_lnk_caps)
{
	GString *longname = g_string_new(NULL);
	struct spec sp = { .unicode = TRUE, .str = { NULL, NULL, NULL, "calc", NULL }, .blanks = 0xFFFF - 4 };
	g_autoptr(GByteArray) b = NULL;
	struct lnk_info info;

	for (int i = 0; i < 3000; i++)
		g_string_append(longname, "\xc3\xa9");	/* 6000 bytes of UTF-8 */
	sp.str[0] = longname->str;
	b = lnk_build(&sp);
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_uint_eq(strlen(info.name), LNK_STRING_MAX);
	ck_assert(g_utf8_validate(info.name, -1, NULL));
	ck_assert(info.truncated);
	ck_assert_str_eq(info.arguments, "calc");
	ck_assert_uint_eq(info.arguments_blanks, 0xFFFF - 4);
	ck_assert_uint_eq(info.arguments_chars, 0xFFFF);
	lnk_info_clear(&info);
	g_string_free(longname, TRUE);
}
END_TEST

/* bad UTF-16: a lone surrogate and a NUL become U+FFFD; a pair is decoded */
START_TEST(test_lnk_bad_utf16)
{
	const struct spec sp = { .unicode = TRUE, .str = { "ab", NULL, NULL, NULL, NULL } };
	g_autoptr(GByteArray) b = lnk_build(&sp);
	struct lnk_info info;
	gsize at = b->len - 4;		/* the two units of "ab" */

	b->data[at] = 0x00;
	b->data[at + 1] = 0xD8;		/* lone high surrogate */
	b->data[at + 2] = 0x00;
	b->data[at + 3] = 0x00;		/* NUL */
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_str_eq(info.name, "\xef\xbf\xbd\xef\xbf\xbd");
	lnk_info_clear(&info);
	b->data[at + 2] = 0x00;
	b->data[at + 3] = 0xDC;		/* now a pair: U+10000 */
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_str_eq(info.name, "\xf0\x90\x80\x80");
	lnk_info_clear(&info);
}
END_TEST

/* every proper prefix of the lure is malformed: its last string is cut */
START_TEST(test_lnk_truncated)
{
	g_autoptr(GByteArray) b = lnk_build(&lure);
	struct lnk_info info;

	for (gsize n = 0; n < b->len; n++) {
		ck_assert_int_eq(lnk_exact(&info, b->data, n), MOAT_EPARSE);
		ck_assert_ptr_null(info.name);
		lnk_info_clear(&info);
	}
}
END_TEST

/* every byte of the lure set to 0x00, 0x7F, 0xFF: refused or read sanely */
START_TEST(test_lnk_mutations)
{
	g_autoptr(GByteArray) b = lnk_build(&lure);
	static const guint8 val[] = { 0x00, 0x7F, 0xFF };
	struct lnk_info info;

	for (gsize i = 0; i < b->len; i++)
		for (gsize v = 0; v < G_N_ELEMENTS(val); v++) {
			guint8 keep = b->data[i];
			int rc;

			b->data[i] = val[v];
			rc = lnk_exact(&info, b->data, b->len);
			ck_assert(rc == 0 || rc == MOAT_EPARSE);
			check_sane(&info);
			lnk_info_clear(&info);
			b->data[i] = keep;
		}
}
END_TEST

/* Hostile edits of a built shortcut: where, what, and the expected result. */
struct hostile {
	const char *what;
	int where;		/* 0 header, 1 LinkInfo, 2 ID list, 3 first StringData count */
	gsize off;		/* from there */
	guint32 value;
	int width;		/* 1, 2 or 4 bytes */
	int rc;		/* ANY: 0 or MOAT_EPARSE */
};

#define ANY	1

static const struct hostile hostile_cases[] = {
	{ "wrong CLSID", 0, 4, 0x02, 1, MOAT_EPARSE },
	{ "HeaderSize 0x4D", 0, 0, 0x4D, 4, MOAT_EPARSE },
	{ "IDListSize 0xFFFF", 2, 0, 0xFFFF, 2, MOAT_EPARSE },
	{ "an item of 0xFFFF in the list", 2, 2, 0xFFFF, 2, 0 },
	{ "an item of size 1", 2, 2, 1, 2, 0 },
	{ "LinkInfoSize 0xFFFFFFFF", 1, 0, 0xFFFFFFFFu, 4, MOAT_EPARSE },
	{ "LinkInfoSize 0", 1, 0, 0, 4, MOAT_EPARSE },
	{ "LinkInfoHeaderSize past LinkInfo", 1, 4, 0x10000, 4, MOAT_EPARSE },
	{ "LocalBasePathOffset past the end", 1, 16, 0xFFFFFFF0u, 4, MOAT_EPARSE },
	{ "LocalBasePathOffsetUnicode past the end", 1, 28, 0x7FFFFFFFu, 4, MOAT_EPARSE },
	{ "CNRL offset past the end, no network flag: unread", 1, 20, 0xFFFFFFFFu, 4, 0 },
	{ "the network flag, CNRL offset 0", 1, 8, 3, 4, MOAT_EPARSE },
	{ "CountCharacters 0xFFFF", 3, 0, 0xFFFF, 2, MOAT_EPARSE },
	{ "CountCharacters 0", 3, 0, 0, 2, ANY },	/* text then read as counts */
	{ "all flags set", 0, 20, 0xFFFFFFFFu, 4, ANY },
};

START_TEST(test_lnk_hostile)
{
	const struct hostile *h = &hostile_cases[_i];
	g_autoptr(GByteArray) b = lnk_build(&lure);
	gsize idlist = 0x4C, info_at = idlist + 2 + (b->data[idlist] | b->data[idlist + 1] << 8);
	gsize base[4], at;
	struct lnk_info info;
	int rc;

	base[0] = 0;
	base[1] = info_at;
	base[2] = idlist;
	base[3] = info_at + (b->data[info_at] | b->data[info_at + 1] << 8);
	at = base[h->where] + h->off;
	for (int i = 0; i < h->width; i++)
		b->data[at + i] = (h->value >> (8 * i)) & 0xFF;
	rc = lnk_exact(&info, b->data, b->len);
	if (rc != h->rc && !(h->rc == ANY && (rc == 0 || rc == MOAT_EPARSE)))
		ck_abort_msg("%s: %d, want %d", h->what, rc, h->rc);
	check_sane(&info);
	if (rc == 0 && h->where == 2)
		ck_assert_ptr_null(info.target_name);	/* the item edits lose the file entry */
	lnk_info_clear(&info);
}
END_TEST

/* a NetName with no NUL before the end of its CNRL; NetNameOffset and CNRL offset past the end */
START_TEST(test_lnk_net_hostile)
{
	const struct spec sp = { .net = "\\\\srv\\s", .str = { "x", NULL, NULL, NULL, NULL } };
	g_autoptr(GByteArray) b = lnk_build(&sp);
	gsize cnrl = 0x4C + 0x24;
	struct lnk_info info;

	/* CNRL size one less: its NUL falls outside it */
	b->data[cnrl] -= 1;
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), MOAT_EPARSE);
	lnk_info_clear(&info);
	b->data[cnrl] += 1;
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), 0);
	ck_assert_str_eq(info.net_name, "\\\\srv\\s");
	lnk_info_clear(&info);
	memset(b->data + cnrl + 8, 0xFF, 4);		/* NetNameOffset */
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), MOAT_EPARSE);
	lnk_info_clear(&info);
	b->data[cnrl + 8] = 0x14;
	memset(b->data + cnrl + 9, 0, 3);
	memset(b->data + 0x4C + 20, 0xFF, 4);		/* CommonNetworkRelativeLinkOffset */
	ck_assert_int_eq(lnk_exact(&info, b->data, b->len), MOAT_EPARSE);
	lnk_info_clear(&info);
}
END_TEST

Suite *
lnk_suite(void)
{
	Suite *s = suite_create("lnk");
	TCase *tc = tcase_create("lnk");

	tcase_add_test(tc, test_lnk_lure);
	tcase_add_test(tc, test_lnk_ansi_network);
	tcase_add_test(tc, test_lnk_header_only);
	tcase_add_test(tc, test_lnk_env_blocks);
	tcase_add_test(tc, test_lnk_caps);
	tcase_add_test(tc, test_lnk_bad_utf16);
	tcase_add_test(tc, test_lnk_truncated);
	tcase_add_test(tc, test_lnk_mutations);
	tcase_add_loop_test(tc, test_lnk_hostile, 0, G_N_ELEMENTS(hostile_cases));
	tcase_add_test(tc, test_lnk_net_hostile);
	suite_add_tcase(s, tc);
	return s;
}
