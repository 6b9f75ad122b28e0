/*
 * lure.h - the lure detectors: shapes of a message's containers as a whole
 *
 * After the MIME inventory, the container walk and the name checks, and
 * before the policy, lure_check() hands the whole tree of parts to each
 * detector in turn (one file each under scanners/lure/). A detector reads
 * the parts (their children, folders, attributes, sniffed types and kept
 * bytes) and adds lure.* findings with one line of evidence; it never
 * changes a part. Shapes, not signatures: the China-linked groups' mail
 * lures (a LNK beside a deep hidden folder holding a signed EXE, the DLL it
 * loads and an encrypted payload; disk images; programs named as
 * documents) are built so that no file but one is malicious.
 *
 * Bytes: a detector reads a part's kept content (moat_part.content); a part
 * whose bytes were not kept ([limits] max_decoded_bytes) is judged by its
 * name and type alone. Pure functions of the report and the config,
 * reentrant, no I/O but lure_conf_finish().
 */
#ifndef MOAT_LURE_H
#define MOAT_LURE_H

#include <glib.h>

#include "moat/conf.h"
#include "moat/report.h"

/* lure_check - run every detector over REP (after the walk, before policy_decide()) */
void lure_check(struct moat_report *rep, const struct moat_conf *conf);

/*
 * lure_conf_finish - read the [lure] sideload_pairs file named in CONF
 * into conf->lure.pairs. A missing file gives an empty list (the pairs are
 * extra evidence only). Returns NULL, or a message naming the file and
 * line of an error (caller g_free()s).
 */
char *lure_conf_finish(struct moat_conf *conf);

/*
 * lure_skipped - whether [lure] skip names detector NAME: one of
 * lure_check()'s ("shortcut", "office", ...) or "derive", the stage that
 * walks smuggled files and opens encrypted archives (derive.h)
 */
gboolean lure_skipped(const struct moat_conf *conf, const char *name);

/* The detectors, one per file; each adds its findings to REP. */
void lure_shortcut_check(struct moat_report *rep, const struct moat_conf *conf);	/* shortcut.c */
void lure_sideload_check(struct moat_report *rep, const struct moat_conf *conf);	/* sideload.c */
void lure_image_check(struct moat_report *rep, const struct moat_conf *conf);		/* image.c */
void lure_decoy_check(struct moat_report *rep, const struct moat_conf *conf);		/* decoy.c */
void lure_nesting_check(struct moat_report *rep, const struct moat_conf *conf);		/* nesting.c */
void lure_masquerade_check(struct moat_report *rep, const struct moat_conf *conf);	/* masquerade.c */
void lure_smuggle_check(struct moat_report *rep, const struct moat_conf *conf);	/* smuggle.c */
void lure_office_check(struct moat_report *rep, const struct moat_conf *conf);		/* office.c */
void lure_script_check(struct moat_report *rep, const struct moat_conf *conf);		/* script.c */
void lure_embedded_check(struct moat_report *rep, const struct moat_conf *conf);	/* embedded.c */
void lure_password_check(struct moat_report *rep, const struct moat_conf *conf);	/* passlink.c */

/*
 * lure_script_content - check the LEN bytes at DATA, a script in LANG (a
 * name lure_script_language() gives, or NULL), found at part AT (the
 * script itself, or the OneNote or CHM file carrying it), for download-
 * and-run and obfuscation; adds lure.script_downloader and
 * lure.script_obfuscated at AT, their evidence led by WHAT ("embedded
 * hta") or the language (script.c)
 */
void lure_script_content(struct moat_report *rep, const struct moat_part *at, const guint8 *data,
    gsize len, const char *lang, const char *what);

/*
 * lure_script_language - the Windows script the LEN bytes at DATA read as,
 * from their first kilobytes (a BOM and UTF-16 read): "hta", "wsf",
 * "batch", "powershell", "jscript", "vbscript", or NULL for none; static
 * string (scripttext.c)
 */
const char *lure_script_language(const guint8 *data, gsize len);

/* What a part is, from its sniffed type and its name (lure.c). */
enum lure_kind {
	LURE_OTHER = 0,
	LURE_PROGRAM,		/* PE/ELF/Mach-O bytes, or a program's extension */
	LURE_SCRIPT,		/* .js .vbs .hta .ps1 .bat ... or script bytes */
	LURE_SHORTCUT,		/* .lnk bytes or extension (not .url) */
	LURE_ARCHIVE,		/* zip, rar, 7z, cab, gzip, tar ... that is not an Office document */
	LURE_DISK_IMAGE,	/* iso, udf, img, vhd, vhdx */
	LURE_DOCUMENT,		/* pdf, Office, text, pictures: what a user expects to open */
};

/* lure_kind_of - what P is; an OOXML/ODF zip (a DOCX) is a document, not an archive */
enum lure_kind lure_kind_of(const struct moat_part *p);

/* lure_basename - the last element of NAME ('/' or '\\' separated); NULL stays NULL */
const char *lure_basename(const char *name);

/*
 * lure_folder - the folder part of member NAME inside its container
 * ("_/_/putty.exe" gives "_/_"), '\\' as '/'; "" at the top level. Caller g_free()s.
 */
char *lure_folder(const char *name);

/*
 * lure_folder_hidden - whether folder FOLDER of container C, or one above
 * it, is marked hidden or system in C's listing; *WHICH (when not NULL)
 * gets the outermost such folder (borrowed from C), or NULL.
 */
gboolean lure_folder_hidden(const struct moat_part *c, const char *folder, const char **which);

/*
 * lure_odd_folder - whether a folder element named NAME looks like a decoy
 * folder's: "_", "__", "#", "~", "-", "." runs, blanks, U+00A0, U+3000 and
 * other spaces or invisible characters only
 */
gboolean lure_odd_folder(const char *name);

/*
 * lure_runnable_below - the first program, script or shortcut among C's
 * members and theirs, depth first, or NULL; *LEVELS (when not NULL) gets
 * how many containers below C's members it sits (0: a member of C)
 */
const struct moat_part *lure_runnable_below(const struct moat_part *c, guint *levels);

/*
 * lure_system_folder - whether path NAME starts in a folder Windows keeps
 * hidden on every volume ($RECYCLE.BIN, RECYCLER, System Volume Information)
 */
gboolean lure_system_folder(const char *name);

/* lure_entropy - Shannon entropy of the LEN bytes at DATA, bits per byte (0..8) */
double lure_entropy(const guint8 *data, gsize len);

/* lure_data - P's kept bytes and *LEN, or NULL when they were not kept */
const guint8 *lure_data(const struct moat_part *p, gsize *len);

#endif
