/*
 * banner.c - [banner] rows and what the two halves share (banner.h)
 *
 * words.c writes the text from the findings, rewrite.c puts it into the
 * message; the rows that steer both and the release functions are here.
 */
#include <string.h>

#include "moat/banner.h"
#include "moat/confkeys.h"

/* [banner]: warnings recipients see (conf->banner), parsed by conf.c */
static const struct conf_key banner_conf_keys[] = {
	{ "banner", "enabled", CONF_BOOL, CONF_OFF(banner.enabled), "yes", 0, 1,
	    "moatd puts a warning at the top of the text of tagged mail (text/plain and "
	    "text/html parts; attachments untouched; signed or encrypted mail gets headers only)." },
	{ "banner", "language", CONF_STRING, CONF_OFF(banner.language), "en", 1, 32,
	    "The banner's words: the template LANGUAGE.conf in templates (en, de, fr shipped)." },
	{ "banner", "templates", CONF_STRING, CONF_OFF(banner.templates),
	    MOAT_DATADIR "/banners", 1, 4096,
	    "Directory of the banner templates, one LANGUAGE.conf each (README: \"Banners\")." },
	{ "banner", "max_reasons", CONF_UINT, CONF_OFF(banner.max_reasons), "3", 1, 20,
	    "Reasons shown under the banner's title, most serious first." },
	{ "banner", "external_notice", CONF_BOOL, CONF_OFF(banner.external_notice), "no", 0, 1,
	    "A one-line notice on all inbound mail from outside (not SMTP AUTH, not "
	    "[outbound] internal_networks, not a protected domain that passes DMARC)." },
	{ "banner", "skip_domains", CONF_LIST_DOMAIN, CONF_OFF(banner.skip_domains), "", 0,
	    CONF_LIST_MAX, "No banner when the sender's (From) or a recipient's domain is listed: "
	    "a banner breaks DKIM signatures for any verifier after moat." },
};

const struct conf_group banner_conf_group = CONF_GROUP("banner", banner_conf_keys);

void
banner_text_clear(struct banner_text *text)
{
	g_free(text->title);
	if (text->reasons != NULL)
		g_ptr_array_unref(text->reasons);
	g_free(text->advice);
	memset(text, 0, sizeof(*text));
}

void
banner_result_clear(struct banner_result *out)
{
	if (out->body != NULL)
		g_byte_array_unref(out->body);
	g_free(out->content_type);
	g_free(out->transfer_encoding);
	g_free(out->skipped);
	memset(out, 0, sizeof(*out));
}
