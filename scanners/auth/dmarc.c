/* dmarc.c - DMARC (libopendmarc): being written */
#include "moat/dmarc.h"

void
dmarc_check(struct auth_dmarc *out, struct auth_dns *dns, const char *client_ip,
    const char *from_domain, const struct auth_spf *mailfrom, const struct auth_spf *helo,
    const GPtrArray *dkim)
{
	(void)dns; (void)client_ip; (void)mailfrom; (void)helo; (void)dkim;
	auth_dmarc_clear(out);
	out->from_domain = g_strdup(from_domain);
	out->result = AUTH_TEMPERROR;
}

char *
dmarc_org_domain(const char *domain)
{
	return g_strdup(domain);
}

int
dmarc_init(const char *path, char **err)
{
	(void)path; (void)err;
	return 0;
}
