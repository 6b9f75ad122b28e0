/*
 * diskimg.h - list the files of a disk image in memory: FAT12/16/32, raw,
 * behind an MBR or GPT, or inside a fixed or dynamic VHD
 *
 * Lures mail .img and .vhd images holding an EXE, a DLL and a shortcut;
 * neither libclamav nor libarchive opens them, so moat lists them itself
 * and hands each file's bytes to the container walk.
 *
 * Bounded: every offset and size from the image is checked against the
 * buffer (bytes.h); a cluster chain is followed at most as many steps as
 * the volume has clusters (a loop is caught early, Brent's way); the
 * directory clusters read in a walk are at most the volume's clusters that
 * fit in the image, each directory is entered once, at most
 * DISKIMG_MAX_DEPTH levels deep; all the bytes handed over in one walk are
 * at most DISKIMG_MAX_OVERLAP times the image (cross-linked files cannot
 * multiply them) plus one file's MAX_BYTES. Pure function of its input,
 * reentrant, no globals; GLib allocation (aborts when memory runs out).
 *
 * Not supported (DISKIMG_UNSUPPORTED): VHDX, differencing VHDs, NTFS,
 * exFAT, any other file system. Only the first partition of an MBR or a
 * GPT is read. Short (8.3) names are code page bytes taken as Latin-1.
 */
#ifndef MOAT_DISKIMG_H
#define MOAT_DISKIMG_H

#include <glib.h>

#define DISKIMG_MAX_DEPTH	32	/* directory levels under the root */
#define DISKIMG_MAX_OVERLAP	2	/* bytes handed over per byte of image, plus one MAX_BYTES */

/* what holds the disk */
enum diskimg_container {
	DISKIMG_CONTAINER_NONE = 0,	/* nothing recognised: no VHD, partition table or boot sector */
	DISKIMG_RAW,			/* DATA is the disk */
	DISKIMG_VHD_FIXED,		/* the disk, then the 512-byte "conectix" footer */
	DISKIMG_VHD_DYNAMIC,		/* footer copy, "cxsparse" header, block allocation table */
	DISKIMG_VHD_DIFFERENCING,	/* needs its parent: unsupported */
	DISKIMG_VHDX,			/* "vhdxfile": unsupported */
};

/* how the disk is divided; 512-byte sectors assumed */
enum diskimg_table {
	DISKIMG_TABLE_NONE = 0,		/* the volume starts at byte 0 ("superfloppy") */
	DISKIMG_TABLE_MBR,		/* an MBR; its first used entry is read */
	DISKIMG_TABLE_GPT,		/* a GPT behind its protective MBR; its first used entry */
};

/* the file system of the volume read */
enum diskimg_fs {
	DISKIMG_FS_NONE = 0,		/* no volume found */
	DISKIMG_FS_FAT12,
	DISKIMG_FS_FAT16,
	DISKIMG_FS_FAT32,
	DISKIMG_FS_NTFS,		/* "NTFS    " at 3 */
	DISKIMG_FS_EXFAT,		/* "EXFAT   " at 3 */
	DISKIMG_FS_UNKNOWN,		/* a container or partition whose volume is none of these */
};

struct diskimg_probe {
	enum diskimg_container container;
	enum diskimg_table table;
	enum diskimg_fs fs;
	guint64 disk_size;		/* bytes of the (virtual) disk */
	guint64 volume_offset;		/* where the volume starts on the disk */
};

struct diskimg_entry {
	/*
	 * Full path inside the volume, "dir/sub/file.exe", valid UTF-8: the
	 * VFAT long name when one precedes the short entry with the right
	 * checksum, else the 8.3 name (lower-cased as the NT flags say). '/',
	 * '\' and control characters in a name become '_'. Borrowed: valid
	 * during the callback only.
	 */
	const char *name;
	guint64 size;			/* as the directory entry says (0 for a directory) */
	guint8 attributes;		/* FAT attribute byte as stored */
	gboolean hidden;		/* attribute 0x02 */
	gboolean system;		/* attribute 0x04 */
	gboolean is_dir;		/* attribute 0x10 */
};

struct diskimg_hooks {
	/*
	 * Per entry, directories included, in directory order, a directory
	 * before what it holds. Return TRUE to be given a file's bytes (the
	 * return is ignored for a directory). NULL: names only.
	 */
	gboolean (*entry)(void *ctx, const struct diskimg_entry *e);
	/*
	 * The file's bytes, at most MAX_BYTES; borrowed, valid during the
	 * call (a slice of DATA when the file is contiguous, else a buffer
	 * freed after it). TRUNCATED: the file is larger than MAX_BYTES, its
	 * cluster chain ends early or loops, or the walk's byte budget is
	 * spent; BUF is what could be read, NULL when nothing. NULL: no data.
	 */
	void (*data)(void *ctx, const struct diskimg_entry *e, const guint8 *buf, gsize len,
	    gboolean truncated);
};

enum diskimg_result {
	DISKIMG_OK = 0,		/* every directory read to its end */
	DISKIMG_TOO_MANY,	/* stopped at MAX_ENTRIES files; the file past it is not reported */
	DISKIMG_UNSUPPORTED,	/* VHDX, differencing VHD, NTFS, exFAT, unknown: nothing listed */
	DISKIMG_CORRUPT,	/* not a disk image, or a structure did not hold (boot sector, BAT,
				   a chain out of range or looping, a directory entered twice or
				   too deep): what could be read was still reported */
};

/*
 * diskimg_probe - what the LEN bytes at DATA (borrowed) hold: container
 * and file system, from the head, the VHD footer (the last 512 bytes) or
 * its copy at the head, and the first partition's boot sector. Cheap: no
 * directory is read. OUT is always filled.
 */
void diskimg_probe(struct diskimg_probe *out, const guint8 *data, gsize len);

/*
 * diskimg_walk - list the FAT volume of the image in the LEN bytes at
 * DATA (borrowed): at most MAX_ENTRIES files (directories are reported but
 * not counted), handing over at most MAX_BYTES of each file the entry hook
 * asks for. HOOKS and its members may be NULL. With any result but
 * DISKIMG_OK, *ERR (when ERR is not NULL) says why, for the log (caller
 * g_free()s); else it is set to NULL.
 */
enum diskimg_result diskimg_walk(const guint8 *data, gsize len, guint max_entries,
    guint64 max_bytes, const struct diskimg_hooks *hooks, void *ctx, char **err);

/* diskimg_container_name, _table_name, _fs_name - "vhd-dynamic", "mbr", "fat16", ...; static */
const char *diskimg_container_name(enum diskimg_container c);
const char *diskimg_table_name(enum diskimg_table t);
const char *diskimg_fs_name(enum diskimg_fs fs);

#endif
