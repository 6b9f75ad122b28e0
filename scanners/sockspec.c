/*
 * sockspec.c - parse unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST
 *
 * In: a spec string. Out: a struct sockspec, or a reason it is bad. HOST is
 * numeric or "localhost", never looked up, so a config check cannot hang on
 * DNS and "loopback only" means what it says. Reentrant.
 */
#include <arpa/inet.h>
#include <string.h>

#include "moat/moat.h"
#include "moat/sockspec.h"

/* sockspec_unix - PATH (absolute, fits sun_path) as a unix socket address */
static int
sockspec_unix(struct sockspec *out, char **err, const char *spec, const char *path)
{
	if (*path != '/') {
		*err = g_strdup_printf("not an absolute path: '%s'", spec);
		return MOAT_EINVAL;
	}
	if (strlen(path) >= sizeof(out->addr.un.sun_path)) {
		*err = g_strdup_printf("path longer than %zu bytes: '%s'",
		    sizeof(out->addr.un.sun_path) - 1, spec);
		return MOAT_EINVAL;
	}
	out->family = AF_UNIX;
	out->addr.un.sun_family = AF_UNIX;
	memcpy(out->addr.un.sun_path, path, strlen(path) + 1);
	out->addrlen = sizeof(out->addr.un);
	out->loopback = TRUE;
	return 0;
}

/* sockspec_port - "PORT" (1..65535) of an inet spec */
static gboolean
sockspec_port(guint16 *port, const char *s, gsize len)
{
	guint64 v = 0;

	if (len == 0 || len > 5)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (guint64)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return FALSE;
	*port = (guint16)v;
	return TRUE;
}

/* sockspec_inet - PORT@HOST of family FAMILY */
static int
sockspec_inet(struct sockspec *out, char **err, const char *spec, const char *rest, int family)
{
	const char *at = strchr(rest, '@');
	const char *host = at ? at + 1 : NULL;
	guint16 port;

	if (!sockspec_port(&port, rest, at ? (gsize)(at - rest) : strlen(rest))) {
		*err = g_strdup_printf("not PORT@HOST with a port 1..65535: '%s'", spec);
		return MOAT_EINVAL;
	}
	out->family = family;
	if (family == AF_INET) {
		out->addr.in.sin_family = AF_INET;
		out->addr.in.sin_port = htons(port);
		out->addrlen = sizeof(out->addr.in);
		if (host == NULL || *host == '\0')
			out->addr.in.sin_addr.s_addr = htonl(INADDR_ANY);
		else if (g_ascii_strcasecmp(host, "localhost") == 0)
			out->addr.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &out->addr.in.sin_addr) != 1)
			goto bad_host;
		out->loopback = (ntohl(out->addr.in.sin_addr.s_addr) >> 24) == 127;
	} else {
		out->addr.in6.sin6_family = AF_INET6;
		out->addr.in6.sin6_port = htons(port);
		out->addrlen = sizeof(out->addr.in6);
		if (host == NULL || *host == '\0')
			out->addr.in6.sin6_addr = in6addr_any;
		else if (g_ascii_strcasecmp(host, "localhost") == 0)
			out->addr.in6.sin6_addr = in6addr_loopback;
		else if (inet_pton(AF_INET6, host, &out->addr.in6.sin6_addr) != 1)
			goto bad_host;
		out->loopback = IN6_IS_ADDR_LOOPBACK(&out->addr.in6.sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&out->addr.in6.sin6_addr) &&
		    out->addr.in6.sin6_addr.s6_addr[12] == 127);
	}
	return 0;
bad_host:
	*err = g_strdup_printf("not a numeric %s address or localhost: '%s'",
	    family == AF_INET ? "IPv4" : "IPv6", host);
	return MOAT_EINVAL;
}

int
sockspec_parse(struct sockspec *out, char **err, const char *spec)
{
	memset(out, 0, sizeof(*out));
	if (g_str_has_prefix(spec, "unix:"))
		return sockspec_unix(out, err, spec, spec + 5);
	if (g_str_has_prefix(spec, "local:"))
		return sockspec_unix(out, err, spec, spec + 6);
	if (g_str_has_prefix(spec, "inet:"))
		return sockspec_inet(out, err, spec, spec + 5, AF_INET);
	if (g_str_has_prefix(spec, "inet6:"))
		return sockspec_inet(out, err, spec, spec + 6, AF_INET6);
	*err = g_strdup_printf("not unix:/path or inet:PORT@HOST: '%s'", spec);
	return MOAT_EINVAL;
}

const char *
sockspec_path(const struct sockspec *s)
{
	return s->family == AF_UNIX ? s->addr.un.sun_path : NULL;
}
