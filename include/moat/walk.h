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
 *    anyway, with container.encrypted;
 *  - limits ([containers]): depth, members, bytes out of one attachment and
 *    the expansion ratio, each a finding past it, never a stall.
 * Raw disk images (.img), VHD and VHDX are opened by neither library: they
 * keep the type-level attach.disk_image finding. Signature matches become
 * av.<signature> findings on the member they were found in.
 */
#ifndef MOAT_WALK_H
#define MOAT_WALK_H

#include "moat/conf.h"
#include "moat/report.h"

struct cl_engine;

/*
 * walk_message - scan every decoded MIME leaf of REP with ENGINE and add
 * the members and findings. Returns 0, or MOAT_EIO with *err set (caller
 * g_free()s) when libclamav failed for a reason of its own (memory, temp
 * files): the message cannot be judged and should be tempfailed.
 */
int walk_message(struct moat_report *rep, const struct moat_conf *conf,
    struct cl_engine *engine, char **err);

#endif
