/* rewrite.c - the banner put into the message: being written */
#include "moat/banner.h"

int
banner_rewrite(struct banner_result *out, GMimeStream *stream, const struct banner_text *text)
{
	(void)stream; (void)text;
	out->skipped = g_strdup("not written yet");
	return 0;
}

char *
banner_plain(const struct banner_text *text)
{
	(void)text;
	return g_strdup("");
}

char *
banner_html(const struct banner_text *text)
{
	(void)text;
	return g_strdup("");
}
