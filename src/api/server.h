/* The control socket: a unix stream socket served on the event loop, each
 * connection's bytes parsed by http.c and answered by api.c. Bounded: at most
 * API_MAX_CLIENTS connections, one request buffer each, responses written
 * non-blocking (a client that does not read its answer is dropped). */
#ifndef MYVMM_API_SERVER_H
#define MYVMM_API_SERVER_H
#include <stddef.h>

#include "api/api.h"

#define API_MAX_CLIENTS 8

struct evloop;
struct api_server;

/* Creates PATH (mode 0600; an existing file is an error, never replaced) and
 * serves it on loop. Returns 0 or -errno with one line in err. */
int api_server_create(const char *path, struct evloop *loop, struct api *api,
		      struct api_server **out, char *err, size_t errlen);
/* Closes every connection and removes the socket file. NULL ok. */
void api_server_destroy(struct api_server *s);
#endif
