/*
 * lnk.h - read a Windows shortcut (.lnk, MS-SHLLINK) from memory
 *
 * Groundwork for the shortcut lure detectors (issue 14): a .lnk in a mail
 * or an archive is a classic lure, its icon a PDF's, its target cmd.exe or
 * powershell.exe, the command hidden behind hundreds of blanks in the
 * arguments. This module only reads the file; lure/shortcut.c judges it.
 *
 * Bounded: every offset and size is checked against the buffer, each
 * string is capped at LNK_STRING_MAX bytes of UTF-8, the time is linear in
 * the length. Pure function of its input, reentrant.
 */
#ifndef MOAT_LNK_H
#define MOAT_LNK_H

#include <glib.h>

/* the most bytes of UTF-8 kept per string (the counts stay exact) */
#define LNK_STRING_MAX	4096

/* LinkFlags (MS-SHLLINK 2.1.1) */
#define LNK_HAS_ID_LIST		0x00000001u
#define LNK_HAS_LINK_INFO	0x00000002u
#define LNK_HAS_NAME		0x00000004u
#define LNK_HAS_RELATIVE_PATH	0x00000008u
#define LNK_HAS_WORKING_DIR	0x00000010u
#define LNK_HAS_ARGUMENTS	0x00000020u
#define LNK_HAS_ICON_LOCATION	0x00000040u
#define LNK_IS_UNICODE		0x00000080u
#define LNK_FORCE_NO_LINK_INFO	0x00000100u

/*
 * What lnk_read() found. Every string is owned by the struct, valid UTF-8
 * (bad input replaced by U+FFFD), NUL-terminated, at most LNK_STRING_MAX
 * bytes, and NULL when the file does not have it. Free with lnk_info_clear().
 */
struct lnk_info {
	guint32 link_flags;		/* LNK_HAS_* and the rest, as stored */
	guint32 file_attributes;	/* the target's FILE_ATTRIBUTE_* */
	guint32 show_command;		/* as stored: 1 normal, 3 maximised, 7 minimised */
	char *target_name;		/* last file entry (type 0x32) short name of the ID list */
	char *local_base_path;		/* LinkInfo LocalBasePath (code page bytes as Latin-1) */
	char *local_base_path_unicode;	/* LinkInfo LocalBasePathUnicode */
	char *net_name;			/* CommonNetworkRelativeLink NetName ("\\server\share") */
	char *name;			/* StringData NAME_STRING (the description) */
	char *relative_path;		/* RELATIVE_PATH */
	char *working_dir;		/* WORKING_DIR */
	char *arguments;		/* COMMAND_LINE_ARGUMENTS, its leading blanks left out */
	char *icon_location;		/* ICON_LOCATION */
	char *env_target;		/* EnvironmentVariableDataBlock target ("%windir%\\...\\cmd.exe") */
	char *env_icon;			/* IconEnvironmentDataBlock target */
	guint32 arguments_chars;	/* the arguments' CountCharacters, blanks included */
	guint32 arguments_blanks;	/* how many leading blanks (space, tab, CR, LF) they had */
	gboolean truncated;		/* some string was longer than LNK_STRING_MAX */
};

/*
 * lnk_read - read the LEN bytes at DATA (borrowed) as a shortcut into OUT.
 * Returns 0, MOAT_EPARSE when the header is not a shortcut's (size 0x4C,
 * LinkCLSID 00021401-0000-0000-C000-000000000046) or a structure the
 * flags announce runs past its end (GLib aborts when memory runs out).
 * On error OUT is left cleared; either way lnk_info_clear(OUT) is safe.
 * Of the ExtraData blocks after StringData only the environment-variable
 * target and icon blocks are read (at most 64 blocks are looked at; a
 * damaged tail there ends the reading, not the shortcut).
 */
int lnk_read(struct lnk_info *out, const guint8 *data, gsize len);

/* lnk_info_clear - free INFO's strings and zero it; a zeroed INFO is a no-op */
void lnk_info_clear(struct lnk_info *info);

#endif
