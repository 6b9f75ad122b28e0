/*
 * mlfi.h - moatd's libmilter callbacks (milter/mlfi.c)
 */
#ifndef MOAT_MLFI_H
#define MOAT_MLFI_H

#include <libmilter/mfapi.h>

/*
 * The filter description handed to smfi_register(). The callbacks take
 * their config from reload.h: each message the one current at its MAIL FROM.
 */
extern struct smfiDesc mlfi_desc;

#endif
