/*
 * officetext.h - what an Office package's XML says: DDE fields and Excel 4.0
 * macro sheets (office.c's helper)
 *
 * Word runs a DDE or DDEAUTO field's program when the document opens (one
 * question, worded as a link update); Excel does the same for a formula
 * "=cmd|' /c ...'!A0". Microsoft turned DDE off by default only in 2017
 * (ADV170021) and it still works where it is turned back on. An Excel 4.0
 * (XLM) macro sheet runs formulas such as EXEC() and CALL() from a name
 * Auto_Open, with no VBA project for a macro check to find.
 *
 * Read as bytes, not as a tree, so a part of any size costs one pass:
 * Word's field instructions (<w:instrText> runs and w:instr attributes,
 * joined as Word joins them, XML entities decoded, each field judged as
 * it ends with at most OFFICETEXT_FIELD_MAX bytes of it kept); a QUOTE
 * field's character codes ({ QUOTE 68 68 69 ... } spells DDE) decoded too.
 */
#ifndef MOAT_LURE_OFFICETEXT_H
#define MOAT_LURE_OFFICETEXT_H

#include "moat/lure.h"

#define OFFICETEXT_FIELD_MAX	4096		/* bytes of one field's instruction, or one formula, kept */
#define OFFICETEXT_CSV_MAX	(4u << 20)	/* bytes of a CSV read */
#define OFFICETEXT_SHOWN_MAX	200		/* bytes of a command in the evidence */

/*
 * officetext_check - the members of OOXML package PKG: lure.dde_field at
 * PKG for a DDE field in a Word part or a DDE formula to a command
 * interpreter in a worksheet; lure.office_macro at PKG for an Excel 4.0
 * macro sheet (xl/macrosheets/), and lure.macro_autoexec when the
 * workbook names an Auto_Open and the sheet runs something (EXEC, CALL,
 * REGISTER, URLDownloadToFile, ShellExecute)
 */
void officetext_check(struct moat_report *rep, const struct moat_part *pkg);

/*
 * officetext_is_dde - whether field instruction S (N bytes, decoded) is a
 * DDE field: DDE or DDEAUTO its first word, or a QUOTE whose character
 * codes spell one
 */
gboolean officetext_is_dde(const char *s, gsize n);

/* officetext_csv - lure.dde_field at part P (a .csv) with a DDE formula starting a command */
void officetext_csv(struct moat_report *rep, const struct moat_part *p);

#endif
