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
	}
	return "unknown error";
}
