/*
 * smuggle.h - the files an HTML page carries encoded in itself (smuggle.c)
 *
 * HTML smuggling builds a file in the recipient's browser from text in the
 * page (base64, char codes, escapes, a data: URL), so the gateway never
 * sees it as an attachment. lure_smuggle_check() (lure.h) says that a page
 * does it; smuggle_files() decodes the files themselves, whole, for the
 * derive stage (derive.h) to walk them as members of the page, so every
 * detector sees what is inside. Pure function of the part, reentrant.
 */
#ifndef MOAT_SMUGGLE_H
#define MOAT_SMUGGLE_H

#include <glib.h>

#include "moat/report.h"

/* One file a page carries. */
struct smuggle_file {
	char *name;			/* the download name the page gives it (base name, UTF-8),
					 * else "smuggled.EXT" after its type; owned */
	GBytes *bytes;			/* its decoded bytes, or NULL when larger than asked */
	gsize size;			/* decoded bytes (estimated when BYTES is NULL) */
	const char *sniffed;		/* static: sniff_type() of its first bytes, or NULL */
	gboolean script;		/* found in script (not in a data: URL of the markup) */
};

/*
 * smuggle_files - the files HTML or SVG part P (its kept bytes) carries
 * that are archives, disk images, programs, scripts, shortcuts or
 * data: URLs of such types: the payloads lure.html_smuggling and
 * lure.html_script_payload are about, decoded whole, each at most
 * MAX_BYTES (a larger one is returned without bytes), at most 8 per part.
 * A page that neither decodes nor saves anything in script gives none.
 * Stops at REP's deadline. Returns a GPtrArray of struct smuggle_file *
 * that frees them (g_ptr_array_unref()), or NULL when P carries none.
 */
GPtrArray *smuggle_files(struct moat_report *rep, const struct moat_part *p, gsize max_bytes);

/* smuggle_file_free - free one file (the array's free function); NULL is a no-op */
void smuggle_file_free(struct smuggle_file *f);

#endif
