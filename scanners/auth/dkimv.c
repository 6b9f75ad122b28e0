/* dkimv.c - DKIM verification (libopendkim): being written */
#include "moat/dkimv.h"

void
dkimv_check(GPtrArray *out, struct auth_dns *dns, GMimeStream *stream,
    const struct moat_conf *conf)
{
	(void)out; (void)dns; (void)stream; (void)conf;
}
