/*
 * mlfi.h - moatd's libmilter callbacks (milter/mlfi.c)
 */
#ifndef MOAT_MLFI_H
#define MOAT_MLFI_H

#include <libmilter/mfapi.h>

#include "moat/conf.h"

/* The filter description handed to smfi_register(). */
extern struct smfiDesc mlfi_desc;

/* mlfi_set_conf - the config the callbacks use; borrowed, read-only, set before smfi_main() */
void mlfi_set_conf(const struct moat_conf *conf);

#endif
