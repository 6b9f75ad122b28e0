/* words.c - the banner's sentences from the findings: being written */
#include "moat/banner.h"
#include "moat/moat.h"

int
banner_words(struct banner_text *out, char **err, const struct moat_report *rep,
    const struct moat_conf *conf, gboolean external)
{
	(void)out; (void)rep; (void)conf; (void)external;
	if (err != NULL)
		*err = g_strdup("banner templates: not written yet");
	return MOAT_EINVAL;
}
