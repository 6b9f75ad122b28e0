/*
 * salvage.h - a second, lenient reading of the raw message
 *
 * Mail clients open attachments that a strict MIME parser does not see:
 * odd boundaries, split or duplicated parameters, broken base64. This
 * module reads the raw bytes the way a lenient client would: every header
 * block after a "--" line, every name and filename parameter (RFC 2231
 * pieces and RFC 2047 words joined and decoded), base64 decoded ignoring
 * anything outside the alphabet, quoted-printable and header lines read
 * the ways decoders disagree on. What it finds that the GMime inventory
 * does not show — other bytes, or the same bytes under another extension —
 * is added to the inventory as a salvaged part, with a mime.ambiguous
 * finding naming the difference. Files uuencoded or yEnc-encoded inline in
 * a text body are added as salvaged parts too, without a finding: clients
 * show them, and once moat does as well the message is no longer read two
 * ways. Thread-safe, no I/O.
 */
#ifndef MOAT_SALVAGE_H
#define MOAT_SALVAGE_H

#include <glib.h>
#include "moat/conf.h"
#include "moat/report.h"

/*
 * salvage_scan - read RAW (LEN bytes, the whole message, borrowed) leniently
 * and add to REP what its inventory lacks. A salvaged part's bytes go to
 * HOOK (may be NULL) and are kept while REP->kept stays under
 * max_decoded_bytes. Returns the number of salvaged parts added.
 */
guint salvage_scan(struct moat_report *rep, const guchar *raw, gsize len,
    const struct moat_conf *conf, const struct moat_leaf_hook *hook);

#endif
