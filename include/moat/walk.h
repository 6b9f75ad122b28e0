/*
 * walk.h - the container walk: every file inside every attachment
 *
 * Each MIME leaf is scanned once by libclamav (av.h), which opens zip, 7z,
 * cab, tar, gzip, bzip2, ISO 9660, UDF, OLE2, OneNote, CHM, PDF and more
 * with its own recursion; its file-inspection callback reports each member
 * it opens and the walk records it as a part of the report (name, path
 * "a.zip › b.iso › c.lnk", sniffed type, size, SHA-256, container depth).
 * What libclamav does not do, the walk adds:
 *  - RAR and RAR5 members come from libarchive (archive.h) and each goes
 *    through libclamav in turn;
 *  - ZIP entries get their encrypted flag and DOS hidden/system attributes
 *    from the central directory (zipdir.h), 7z and RAR entries from
 *    libarchive; an encrypted entry libclamav could not open is listed
 *    anyway, flagged encrypted (an archive whose names are encrypted is
 *    flagged itself), for the derive stage (derive.h) to try the message's
 *    passwords on and to judge; the walk keeps the bytes of a ZIP with
 *    encrypted entries for it (walk_container_bytes());
 *  - limits ([containers]): depth, members, bytes out of one attachment and
 *    the expansion ratio, each a finding past it, never a stall.
 *  - ISO 9660 images are listed with libarchive for their full paths;
 *  - FAT disk images (raw .img, behind an MBR or GPT, in a fixed or
 *    dynamic VHD), which neither library opens, are listed by diskimg.h
 *    and each file goes through libclamav like a RAR member; an image no
 *    reader here lists (VHDX, NTFS, exFAT, UDF-only) is
 *    container.opaque_image.
 * Each container keeps its direct members and the folders it lists with
 * their attributes (report.h) for the lure detectors. Signature matches
 * become av.<signature> findings on the member they were found in.
 * Bytes moat makes itself (a file a page's script decodes, an encrypted
 * member decrypted) are walked as members too, with their provenance in
 * moat_part.derived, inside the same limits (walk_derived()).
 */
#ifndef MOAT_WALK_H
#define MOAT_WALK_H

#include "moat/conf.h"
#include "moat/report.h"

struct cl_engine;
struct walk;

/*
 * walk_new - a walk of the message REP (borrowed, as are CONF and ENGINE,
 * until walk_finish()). The MIME inventory hands it each decoded leaf
 * through walk_leaf() while the leaf's bytes are at hand, so a part is
 * scanned whether or not its bytes are kept ([limits] max_decoded_bytes).
 */
struct walk *walk_new(struct moat_report *rep, const struct moat_conf *conf,
    struct cl_engine *engine);

/*
 * walk_leaf - scan part P's LEN decoded bytes at DATA (borrowed for the
 * call) with libclamav and add its members and findings to the report.
 * CTX is the struct walk (the signature of a struct moat_leaf_hook).
 * After an internal error nothing more is scanned; walk_finish() says it.
 */
void walk_leaf(void *ctx, struct moat_part *p, const guint8 *data, gsize len);

/*
 * walk_derived - LEN bytes at DATA (borrowed for the call) that moat made
 * itself out of part PARENT, as a new member NAME of PARENT whose derived
 * field says PROVENANCE ("decoded from script in invoice.html"); scanned
 * like any member (libclamav, deeper containers) inside the same limits:
 * depth, members per message, the bytes and ratio of the MIME part it came
 * out of, [containers] max_member_bytes in memory (walk_room()) and the
 * time budget. Returns the member (owned by the report), or NULL when a
 * limit or an earlier error left it out (the limit's finding is recorded).
 */
struct moat_part *walk_derived(struct walk *w, struct moat_part *parent, const char *name,
    const char *provenance, const guint8 *data, gsize len);

/*
 * walk_derived_fill - the same for member M, listed without its bytes (an
 * encrypted entry), now that moat made them (decrypted them): M keeps its
 * place and name and gets PROVENANCE. FALSE when the budget or an earlier
 * error left it as it was.
 */
gboolean walk_derived_fill(struct walk *w, struct moat_part *m, const char *provenance,
    const guint8 *data, gsize len);

/* walk_room - bytes one derived member may take in memory now ([containers] max_member_bytes
 * less the walk's own buffers) */
guint64 walk_room(const struct walk *w);

/* walk_names_hidden - whether archive C's own headers are encrypted (7z, RAR): it lists no member */
gboolean walk_names_hidden(const struct walk *w, const struct moat_part *c);

/*
 * walk_container_bytes - the bytes of ZIP C, which has encrypted entries:
 * its kept content, or the copy the walk made while they were at hand; a
 * new reference (g_bytes_unref()), or NULL when neither is there.
 */
GBytes *walk_container_bytes(const struct walk *w, const struct moat_part *c);

/*
 * walk_finish - free W (NULL is a no-op). Returns 0, or MOAT_EIO with *err
 * set (caller g_free()s) when libclamav failed for a reason of its own
 * (memory, temp files): the message cannot be judged and should be tempfailed.
 */
int walk_finish(struct walk *w, char **err);

/*
 * walk_message - walk_leaf() for every MIME leaf of REP whose bytes were
 * kept (a report built without a walk: the fuzzer's). Returns as walk_finish().
 */
int walk_message(struct moat_report *rep, const struct moat_conf *conf,
    struct cl_engine *engine, char **err);

#endif
