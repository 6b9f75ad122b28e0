/*
 * moat.c - error texts for the MOAT_E* codes
 */
#include "moat/moat.h"

const char *
moat_strerror(int rc)
{
	switch (rc) {
	case MOAT_OK:		return "success";
	case MOAT_ENOMEM:	return "out of memory";
	case MOAT_EIO:		return "input/output error";
	case MOAT_EINVAL:	return "invalid argument or configuration";
	case MOAT_EPARSE:	return "input could not be parsed";
	case MOAT_EINTERNAL:	return "internal library error";
	case MOAT_ENOENT:	return "no such item";
	case MOAT_EBUSY:	return "not in the state asked for";
	case MOAT_EFULL:	return "quota reached";
	case MOAT_EPERM:	return "not allowed";
	}
	return "unknown error";
}
