/*
 * moat.h - error codes shared by every moat module
 *
 * A function that can fail returns int: 0 on success or one of the negative
 * MOAT_E* codes below. A verdict (a virus found, a lure recognised) is never
 * an error: an error means moat could not decide.
 */
#ifndef MOAT_MOAT_H
#define MOAT_MOAT_H

enum {
	MOAT_OK = 0,
	MOAT_ENOMEM = -1,	/* out of memory */
	MOAT_EIO = -2,		/* a read or write failed */
	MOAT_EINVAL = -3,	/* bad argument or bad configuration */
	MOAT_EPARSE = -4,	/* input could not be parsed at all */
	MOAT_EINTERNAL = -5,	/* a library failed in a way we cannot explain */
	MOAT_ENOENT = -6,	/* no such item (quarantine id) */
	MOAT_EBUSY = -7,	/* the item is not in the state asked for (another admin acted) */
	MOAT_EFULL = -8,	/* a configured quota would be passed */
	MOAT_EPERM = -9,	/* not allowed (quarantine: not moatd's user or the admin group) */
};

/* moat_strerror - a static, human-readable text for a MOAT_E* code */
const char *moat_strerror(int rc);

#endif
