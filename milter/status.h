/*
 * status.h - moatd's status endpoint: the counters of stats.h as Prometheus
 * text (version 0.0.4) over HTTP on [milter] status_socket
 *
 * GET /metrics (HEAD too) answers "HTTP/1.0 200 OK" with the exposition;
 * other paths 404, other methods 405, anything unreadable 400. One thread
 * serves up to STATUS_CLIENTS_MAX clients at once, each with its own
 * deadline and a request size cap, and closes every connection after one
 * answer; past the limit a new client takes the place of the oldest one
 * once that one has had STATUS_GRACE_MS, and waits in the listen backlog
 * until then. A bad client (silent, slow, reconnecting in a loop) holds a
 * slot, not the others, and never touches the milter threads. Free of
 * libmilter.
 */
#ifndef MOAT_STATUS_H
#define MOAT_STATUS_H

#include <glib.h>

#define STATUS_REQUEST_MAX 8192		/* bytes of request read; a longer one gets 400 */
#define STATUS_CLIENT_MS 2000		/* to read the request and write the answer */
#define STATUS_CLIENTS_MAX 16		/* served at once; a new one past it drops the oldest */
#define STATUS_GRACE_MS 50		/* ... once the oldest has had this long to send its request */

/*
 * status_listen - a listening socket for SPEC (sockspec.h; loopback, as
 * conf.c checks), non-blocking and close-on-exec, in *FD. A unix socket
 * file left behind by a moatd that is gone is replaced; one that a live
 * process answers on is not. Returns 0, or MOAT_EIO / MOAT_EINVAL with *err
 * set (caller g_free()s).
 */
int status_listen(int *fd, char **err, const char *spec);

/*
 * status_start - serve FD (taken over) in a thread of its own; SPEC names a
 * unix socket's file to remove at status_stop(). Returns 0, or MOAT_EIO
 * with *err set.
 */
int status_start(int fd, const char *spec, char **err);

/* status_stop - stop the thread, close the socket, remove a unix socket's file; no-op when not started */
void status_stop(void);

/*
 * status_response - the whole HTTP answer to the request REQ (LEN bytes,
 * as read, possibly cut at STATUS_REQUEST_MAX), in *OUT_LEN bytes.
 * Caller g_free()s.
 */
char *status_response(const char *req, gsize len, gsize *out_len);

#endif
