/*
 * sockspec.h - socket specs as libmilter writes them: unix:/path,
 * local:/path, inet:PORT@HOST, inet6:PORT@HOST
 *
 * Parsed into an address moatd can bind and moat can connect to, so both
 * read [milter] status_socket the same way. HOST is a numeric address or
 * "localhost"; names are never looked up (no DNS). Reentrant.
 */
#ifndef MOAT_SOCKSPEC_H
#define MOAT_SOCKSPEC_H

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

struct sockspec {
	int family;			/* AF_UNIX, AF_INET or AF_INET6 */
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t addrlen;
	gboolean loopback;		/* reachable from this host only (a unix socket is) */
};

/*
 * sockspec_parse - SPEC into *OUT. Returns 0, or MOAT_EINVAL with *err set
 * to the reason (caller g_free()s), e.g. "inet:PORT@HOST: no port: 'inet:@1.2.3.4'".
 * "inet:PORT" without a host means every address (not loopback).
 */
int sockspec_parse(struct sockspec *out, char **err, const char *spec);

/* sockspec_path - the file of a unix socket (borrowed from S), or NULL */
const char *sockspec_path(const struct sockspec *s);

#endif
