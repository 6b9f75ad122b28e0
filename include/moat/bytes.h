/*
 * bytes.h - reading numbers out of attacker files, the one way
 *
 * The hand-written readers (zipdir.c, lnk.c, pe.c) take little-endian
 * fields from buffers at any alignment, and compare every offset and size
 * from the file with what remains before any addition: a sum of two
 * 64-bit values from a file can wrap (the ZIP64 bug of issue 11). Inline,
 * pure, thread-safe.
 */
#ifndef MOAT_BYTES_H
#define MOAT_BYTES_H

#include <glib.h>

/* bytes_le16 - the little-endian 16-bit value at P (any alignment) */
static inline guint16
bytes_le16(const guint8 *p)
{
	return (guint16)(p[0] | p[1] << 8);
}

/* bytes_le32 - the little-endian 32-bit value at P */
static inline guint32
bytes_le32(const guint8 *p)
{
	return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

/* bytes_le64 - the little-endian 64-bit value at P */
static inline guint64
bytes_le64(const guint8 *p)
{
	return (guint64)bytes_le32(p) | (guint64)bytes_le32(p + 4) << 32;
}

/*
 * bytes_fit - whether N bytes at OFF lie within the first END bytes. OFF
 * and N come from the file: compared with what remains, never added first.
 */
static inline gboolean
bytes_fit(guint64 off, guint64 n, guint64 end)
{
	return off <= end && n <= end - off;
}

#endif
