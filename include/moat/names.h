/*
 * names.h - findings from attachment names and types alone
 *
 * Executable, script, shortcut and disk-image types by extension or by
 * magic; double extensions; bidi controls and invisible characters in
 * names; declared vs. sniffed type. In: one inventoried part. Out: findings
 * added to the report. Thread-safe, no I/O.
 */
#ifndef MOAT_NAMES_H
#define MOAT_NAMES_H

#include <glib.h>
#include "moat/report.h"

/* names_check_part - add the name and type findings for PART to REP */
void names_check_part(struct moat_report *rep, const struct moat_part *part);

/*
 * names_extension - the last extension of NAME, lower-case ASCII, without
 * the dot ("exe" for "a.PDF.Exe"), or NULL when there is none. Trailing
 * spaces and dots (ignored by Windows) are skipped. Caller g_free()s.
 */
char *names_extension(const char *name);

/*
 * names_risk - the attach.* finding a file named NAME gets for its last
 * extension ("attach.executable" for "a.pdf.exe"), or NULL for a harmless
 * or unknown one. Static string.
 */
const char *names_risk(const char *name);

/* names_document_ext - whether EXT (lower-case, no dot) is a document's or picture's: "pdf", "docx", "jpg" ... */
gboolean names_document_ext(const char *ext);

/*
 * names_find_trick - the first bidi control or invisible code point in the
 * UTF-8 NAME, or 0. *is_bidi tells which of the two it is.
 */
gunichar names_find_trick(const char *name, gboolean *is_bidi);

#endif
