/* spf.c - SPF for MAIL FROM and HELO (libspf2): being written */
#include "moat/spf.h"

void
spf_check(struct auth_spf *out, struct auth_dns *dns, const char *client_ip,
    const char *helo, const char *sender)
{
	(void)dns; (void)client_ip; (void)helo;
	auth_spf_clear(out);
	out->identity = g_strdup(sender != NULL && *sender != '\0' ? "mailfrom" : "helo");
	out->result = AUTH_TEMPERROR;
	out->reason = g_strdup("not implemented yet");
}
