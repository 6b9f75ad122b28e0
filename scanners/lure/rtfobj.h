/*
 * rtfobj.h - OLE objects embedded in an RTF document, and RTF's control
 * words (office.c's helpers)
 *
 * An RTF document carries an OLE object as {\object ... {\*\objclass NAME}
 * {\*\objdata HEX}}: the hex is an OLE1 EmbeddedObject (MS-OLEDS 2.2.4:
 * version, format, the class name, topic and item, then the native data,
 * for most classes a compound file). \objupdate makes Word load the
 * object when the document opens, with no click.
 *
 * The class that matters is Equation Editor 3.0 (Equation.3, EQNEDT32.EXE):
 * Office removed it in January 2018, and its stack overflows
 * (CVE-2017-11882, CVE-2018-0802, CVE-2018-0798) are what RTF exploit kits
 * such as Royal Road, used by China-linked groups, deliver. They hide it:
 * a class name in other case or another name altogether (Word then goes by
 * the CLSID of the native compound file), no \objclass, hex broken by
 * blanks, control words or {\*\...} groups, a header of "{\rt" alone.
 */
#ifndef MOAT_LURE_RTFOBJ_H
#define MOAT_LURE_RTFOBJ_H

#include "moat/lure.h"

#define RTFOBJ_MAX_OBJECTS	4096		/* \objdata (and \objclass) destinations read per document */
#define RTFOBJ_MAX_BYTES	(4u << 20)	/* bytes decoded from one \objdata */
#define RTFOBJ_MAX_TOTAL	(16u << 20)	/* bytes decoded per document */

/* rtfobj_hex - the value of hex digit C, or -1 */
int rtfobj_hex(guint8 c);

/*
 * rtfobj_word - AT (just past a backslash, inside END) as a control word;
 * its letters into WORD (up to WMAX - 1 of them), its number into *PARAM
 * (0 without one, at most G_MAXINT32 in size); returns where the word
 * ends, its one trailing blank taken. A control symbol (\{, \', \~) is
 * one byte.
 */
const guint8 *rtfobj_word(const guint8 *at, const guint8 *end, char *word, gsize wmax,
    gint64 *param);

/*
 * rtfobj_at_word - whether the N bytes at AT (inside DATA..END, a control
 * word found with memmem(), its backslash included) are that word: not
 * escaped by a backslash before it, not the start of a longer word
 */
gboolean rtfobj_at_word(const guint8 *data, const guint8 *at, const guint8 *end, gsize n);

/*
 * rtfobj_check - lure.equation_editor at RTF document P (its LEN bytes at
 * DATA) for an Equation Editor object in one of its \objdata: by the
 * class name in \objclass or the OLE1 header (Equation, Equation.2,
 * Equation.3, any case), by the CLSID of the native compound file
 * (vba_read()), or by an \objclass naming it beside any object. One
 * finding per document. MathType (Equation.DSMT4) is another program.
 */
void rtfobj_check(struct moat_report *rep, const struct moat_part *p, const guint8 *data,
    gsize len);

#endif
