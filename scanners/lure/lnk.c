/*
 * lnk.c - a Windows shortcut (MS-SHLLINK), read from memory (lnk.h)
 *
 * In: the bytes of a whole .lnk file, borrowed. Out: struct lnk_info, the
 * caller frees it with lnk_info_clear(). Read: the ShellLinkHeader (2.1),
 * the last file entry name of the LinkTargetIDList (2.2), LinkInfo's
 * LocalBasePath, LocalBasePathUnicode and NetName (2.3), the five
 * StringData fields (2.4), and of the ExtraData blocks (2.5) the
 * environment-variable target and icon (2.5.4, 2.5.5). Not read: the other
 * ExtraData blocks, the volume and path suffix parts of LinkInfo, the
 * Unicode NetName.
 * Limits: every offset and size from the file is compared with what
 * remains before any sum is made (bytes_fit); each string keeps at most
 * LNK_STRING_MAX bytes; every byte is looked at a bounded number of
 * times, so the time is linear in the length. Reentrant: no state.
 * lure/shortcut.c judges what it reads.
 */
#include <string.h>

#include "moat/bytes.h"
#include "moat/lnk.h"
#include "moat/moat.h"

#define HEADER_SIZE		0x4C
#define LINKINFO_MIN		0x1C	/* LinkInfoHeaderSize without the Unicode offsets */
#define LINKINFO_UNICODE	0x24	/* ... with LocalBasePathOffsetUnicode */
#define CNRL_MIN		0x14	/* CommonNetworkRelativeLink without Unicode offsets */
#define LI_VOLUME_AND_PATH	0x1u	/* LinkInfoFlags */
#define LI_NETWORK		0x2u
#define ITEM_FILE		0x32	/* shell item type: file entry, file */
#define ITEM_NAME_AT		14	/* its short (primary) name, NUL-terminated code page bytes */
#define EXTRA_MAX_BLOCKS	64	/* ExtraData blocks looked at (a real shortcut has a handful) */
#define ENV_BLOCK_SIZE		0x314	/* Environment/IconEnvironment DataBlock: 8 + 260 + 520 */
#define ENV_BLOCK_SIG		0xA0000001u
#define ICON_ENV_BLOCK_SIG	0xA0000007u

/* LinkCLSID 00021401-0000-0000-C000-000000000046 as stored (GUID, little-endian fields) */
static const guint8 lnk_clsid[16] = {
	0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
};

static gboolean
lnk_is_blank(gunichar c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * lnk_text - N units at P (bytes, or UTF-16LE pairs when WIDE) as UTF-8 of
 * at most LNK_STRING_MAX bytes; code page bytes are taken as Latin-1, lone
 * surrogates and NULs become U+FFFD. With BLANKS, leading blanks are left
 * out and counted there. *TRUNCATED is set when the cap cut the text.
 */
static char *
lnk_text(const guint8 *p, gsize n, gboolean wide, guint32 *blanks, gboolean *truncated)
{
	GString *s = g_string_sized_new(MIN(n, 64));
	gboolean leading = blanks != NULL;

	for (gsize i = 0; i < n; i++) {
		gunichar c = wide ? bytes_le16(p + 2 * i) : p[i];
		char buf[8];
		gint w;

		if (wide && c >= 0xD800 && c <= 0xDBFF && i + 1 < n) {
			gunichar lo = bytes_le16(p + 2 * (i + 1));

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			}
		}
		if (c == 0 || (c >= 0xD800 && c <= 0xDFFF))
			c = 0xFFFD;
		if (leading && lnk_is_blank(c)) {
			(*blanks)++;
			continue;
		}
		leading = FALSE;
		w = g_unichar_to_utf8(c, buf);
		if (s->len + (gsize)w > LNK_STRING_MAX) {
			*truncated = TRUE;
			break;
		}
		g_string_append_len(s, buf, w);
	}
	return g_string_free(s, FALSE);
}

/*
 * lnk_cstr - the NUL-terminated string at OFF of the END bytes at BASE
 * into *DST (UTF-16LE when WIDE); MOAT_EPARSE when it starts before START
 * (inside the structure's own header) or runs past END
 */
static int
lnk_cstr(char **dst, const guint8 *base, guint32 off, guint32 start, guint32 end, gboolean wide,
    gboolean *truncated)
{
	gsize n = 0;

	if (off < start || off >= end)
		return MOAT_EPARSE;
	if (!wide) {
		const guint8 *nul = memchr(base + off, 0, end - off);

		if (nul == NULL)
			return MOAT_EPARSE;
		n = (gsize)(nul - (base + off));
	} else {
		gsize units = (end - off) / 2;

		while (n < units && bytes_le16(base + off + 2 * n) != 0)
			n++;
		if (n == units)
			return MOAT_EPARSE;
	}
	g_free(*dst);
	*dst = lnk_text(base + off, n, wide, NULL, truncated);
	return 0;
}

/*
 * lnk_id_list - the LinkTargetIDList at *POS: remember the short name of
 * its last file entry, move *POS past the list. Items that do not fit end
 * the walk (IDListSize alone says where StringData begins); only a list
 * running past the file is an error.
 */
static int
lnk_id_list(struct lnk_info *out, const guint8 *data, gsize len, gsize *pos)
{
	gsize at, end;
	guint16 size;

	if (!bytes_fit(*pos, 2, len))
		return MOAT_EPARSE;
	size = bytes_le16(data + *pos);
	if (!bytes_fit(*pos + 2, size, len))
		return MOAT_EPARSE;
	at = *pos + 2;
	end = at + size;
	while (bytes_fit(at, 2, end)) {
		guint16 isz = bytes_le16(data + at);

		if (isz < 2 || !bytes_fit(at, isz, end))
			break;		/* 0 is the terminal ID; less than 2 cannot advance */
		if (isz > ITEM_NAME_AT && data[at + 2] == ITEM_FILE) {
			const guint8 *name = data + at + ITEM_NAME_AT;
			const guint8 *nul = memchr(name, 0, isz - ITEM_NAME_AT);

			if (nul != NULL) {
				g_free(out->target_name);
				out->target_name = lnk_text(name, (gsize)(nul - name), FALSE, NULL,
				    &out->truncated);
			}
		}
		at += isz;
	}
	*pos = end;
	return 0;
}

/* lnk_network - the NetName of the CommonNetworkRelativeLink at OFF of the LinkInfo LI of SIZE bytes */
static int
lnk_network(struct lnk_info *out, const guint8 *li, guint32 hsize, guint32 size, guint32 off)
{
	guint32 csize, net;

	if (off < hsize || !bytes_fit(off, CNRL_MIN, size))
		return MOAT_EPARSE;
	csize = bytes_le32(li + off);
	if (csize < CNRL_MIN || !bytes_fit(off, csize, size))
		return MOAT_EPARSE;
	net = bytes_le32(li + off + 8);
	return lnk_cstr(&out->net_name, li + off, net, CNRL_MIN, csize, FALSE, &out->truncated);
}

/* lnk_link_info - the LinkInfo at *POS; *POS moves past it */
static int
lnk_link_info(struct lnk_info *out, const guint8 *data, gsize len, gsize *pos)
{
	const guint8 *li;
	guint32 size, hsize, flags;
	int rc;

	if (!bytes_fit(*pos, LINKINFO_MIN, len))
		return MOAT_EPARSE;
	li = data + *pos;
	size = bytes_le32(li);
	hsize = bytes_le32(li + 4);
	if (size < LINKINFO_MIN || !bytes_fit(*pos, size, len) || hsize < LINKINFO_MIN || hsize > size)
		return MOAT_EPARSE;
	flags = bytes_le32(li + 8);
	if (flags & LI_VOLUME_AND_PATH) {
		if ((rc = lnk_cstr(&out->local_base_path, li, bytes_le32(li + 16), hsize, size, FALSE,
		    &out->truncated)) < 0)
			return rc;
		if (hsize >= LINKINFO_UNICODE &&
		    (rc = lnk_cstr(&out->local_base_path_unicode, li, bytes_le32(li + 28), hsize, size, TRUE,
		    &out->truncated)) < 0)
			return rc;
	}
	if ((flags & LI_NETWORK) && (rc = lnk_network(out, li, hsize, size, bytes_le32(li + 20))) < 0)
		return rc;
	*pos += size;
	return 0;
}

/*
 * lnk_string_data - the StringData fields the flags announce, from *AT, in
 * the order of 2.4; *AT moves past them
 */
static int
lnk_string_data(struct lnk_info *out, const guint8 *data, gsize len, gsize *at)
{
	gsize pos = *at;
	const guint32 flag[] = { LNK_HAS_NAME, LNK_HAS_RELATIVE_PATH, LNK_HAS_WORKING_DIR,
	    LNK_HAS_ARGUMENTS, LNK_HAS_ICON_LOCATION };
	char **dst[] = { &out->name, &out->relative_path, &out->working_dir, &out->arguments,
	    &out->icon_location };
	gboolean wide = (out->link_flags & LNK_IS_UNICODE) != 0;

	for (gsize i = 0; i < G_N_ELEMENTS(flag); i++) {
		gsize count, bytes;
		gboolean args = flag[i] == LNK_HAS_ARGUMENTS;

		if (!(out->link_flags & flag[i]))
			continue;
		if (!bytes_fit(pos, 2, len))
			return MOAT_EPARSE;
		count = bytes_le16(data + pos);
		bytes = wide ? 2 * count : count;
		if (!bytes_fit(pos + 2, bytes, len))
			return MOAT_EPARSE;
		if (args)
			out->arguments_chars = (guint32)count;
		*dst[i] = lnk_text(data + pos + 2, count, wide, args ? &out->arguments_blanks : NULL,
		    &out->truncated);
		pos += 2 + bytes;
	}
	*at = pos;
	return 0;
}

/*
 * lnk_fixed - the NUL-terminated string in a fixed field of N units at P
 * (UTF-16LE when WIDE), or NULL when it is empty
 */
static char *
lnk_fixed(const guint8 *p, gsize n, gboolean wide, gboolean *truncated)
{
	gsize k = 0;

	while (k < n && (wide ? bytes_le16(p + 2 * k) : p[k]) != 0)
		k++;
	return k > 0 ? lnk_text(p, k, wide, NULL, truncated) : NULL;
}

/*
 * lnk_extra_data - the ExtraData blocks from POS: the environment-variable
 * target and icon ("%windir%\system32\cmd.exe"), which a lure may give
 * instead of a LinkInfo path. A damaged tail ends the reading, not the
 * shortcut: Windows ignores what it cannot parse there too.
 */
static void
lnk_extra_data(struct lnk_info *out, const guint8 *data, gsize len, gsize pos)
{
	for (guint n = 0; n < EXTRA_MAX_BLOCKS && bytes_fit(pos, 8, len); n++) {
		guint32 size = bytes_le32(data + pos), sig = bytes_le32(data + pos + 4);
		char **dst = sig == ENV_BLOCK_SIG ? &out->env_target :
		    sig == ICON_ENV_BLOCK_SIG ? &out->env_icon : NULL;

		if (size < 8 || !bytes_fit(pos, size, len))
			return;		/* the terminal block, or a block past the end */
		if (dst != NULL && *dst == NULL && size == ENV_BLOCK_SIZE) {
			*dst = lnk_fixed(data + pos + 8 + 260, 260, TRUE, &out->truncated);
			if (*dst == NULL)
				*dst = lnk_fixed(data + pos + 8, 260, FALSE, &out->truncated);
		}
		pos += size;
	}
}

int
lnk_read(struct lnk_info *out, const guint8 *data, gsize len)
{
	gsize pos = HEADER_SIZE;
	int rc = MOAT_EPARSE;

	memset(out, 0, sizeof(*out));
	if (len < HEADER_SIZE || bytes_le32(data) != HEADER_SIZE || memcmp(data + 4, lnk_clsid, 16) != 0)
		goto out;
	out->link_flags = bytes_le32(data + 20);
	out->file_attributes = bytes_le32(data + 24);
	out->show_command = bytes_le32(data + 60);
	if ((out->link_flags & LNK_HAS_ID_LIST) && (rc = lnk_id_list(out, data, len, &pos)) < 0)
		goto out;
	if ((out->link_flags & LNK_HAS_LINK_INFO) && (rc = lnk_link_info(out, data, len, &pos)) < 0)
		goto out;
	if ((rc = lnk_string_data(out, data, len, &pos)) == 0)
		lnk_extra_data(out, data, len, pos);
out:
	if (rc < 0)
		lnk_info_clear(out);
	return rc;
}

void
lnk_info_clear(struct lnk_info *info)
{
	if (info == NULL)
		return;
	g_free(info->target_name);
	g_free(info->local_base_path);
	g_free(info->local_base_path_unicode);
	g_free(info->net_name);
	g_free(info->name);
	g_free(info->relative_path);
	g_free(info->working_dir);
	g_free(info->arguments);
	g_free(info->icon_location);
	g_free(info->env_target);
	g_free(info->env_icon);
	memset(info, 0, sizeof(*info));
}
