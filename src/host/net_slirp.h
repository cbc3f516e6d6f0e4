/* User-mode networking: a libslirp stack (NAT, ARP, DHCP, DNS forwarder,
 * host forwards) on 10.0.2.0/24 — gateway 10.0.2.2, DNS 10.0.2.3, guest
 * 10.0.2.15 — served by its own thread.
 *
 * Threads: one "slirp" thread polls slirp's sockets and runs its timers;
 * every libslirp call (from that thread or from net_slirp_send() on the I/O
 * thread) is made with the stack's mutex held. Frames for the guest go to
 * the rx callback with that mutex held: the callback must only queue them.
 *
 * Exposure (docs/SECURITY.md): the guest reaches whatever the host can reach
 * (NAT through host sockets), but not the host's loopback unless
 * cfg->host_loopback; host sockets are capped at NET_SLIRP_MAX_SOCKETS. */
#ifndef MYVMM_NET_SLIRP_H
#define MYVMM_NET_SLIRP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_config;
struct net_slirp;

#define NET_SLIRP_ERR_LEN 256
/* At most this many host sockets for the guest's connections and UDP flows
 * (plus the forwards): a frame that would open one more is dropped. */
#define NET_SLIRP_MAX_SOCKETS 256

/* Frames from the network to the guest (called with the stack mutex held). */
typedef void (*net_slirp_rx_fn)(void *opaque, const uint8_t *frame, size_t len);

/* True when this myvmm was built with libslirp. */
bool net_slirp_available(void);
/* libslirp's version if the library can be loaded now, else NULL. */
const char *net_slirp_version(void);
/* Builds the stack, installs cfg's host forwards and starts the thread.
 * Returns 0, -ENOTSUP (built without libslirp) or -errno with one line in
 * err (e.g. a host port already in use). */
int net_slirp_create(const struct net_config *cfg, net_slirp_rx_fn rx, void *rx_opaque,
		     struct net_slirp **out, char err[NET_SLIRP_ERR_LEN]);
/* Hands one Ethernet frame from the guest to the stack (any thread; takes
 * the stack mutex, may call rx synchronously, e.g. for ARP replies). */
void net_slirp_send(void *ns, const uint8_t *frame, size_t len);
/* Stops and joins the thread, closes every socket, frees. NULL ok. */
void net_slirp_destroy(struct net_slirp *ns);
#endif
