/* lookalike.c - look-alike and display-name senders: being written */
#include "moat/lookalike.h"

void
lookalike_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)rep; (void)conf;
}
