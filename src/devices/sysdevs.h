/* Small chipset ports: the QEMU-compatible debug-exit port (0xf4), the boot
 * marker port (0xf0), the POST/delay ports (0x80, 0xed) and port 0x92
 * (fast A20 and fast reset). */
#ifndef MYVMM_SYSDEVS_H
#define MYVMM_SYSDEVS_H
#include "devices/bus.h"
#include "devices/vmctl.h"

struct sysdevs;
struct sysdevs *sysdevs_create(const struct vmctl *ctl,
			       void (*on_marker)(void *opaque, unsigned value), void *opaque);
void sysdevs_destroy(struct sysdevs *s);
/* Bus ops, opaque = the sysdevs; the machine registers them (pc_map.h):
 * debug-exit (4 ports, 32-bit value), boot marker (1), POST and io-delay
 * (1 each, sysdevs_post_ops), port 92 (1). */
extern const struct bus_ops sysdevs_debug_exit_ops;
extern const struct bus_ops sysdevs_marker_ops;
extern const struct bus_ops sysdevs_post_ops;
extern const struct bus_ops sysdevs_port92_ops;
/* Last value written to the POST port (0x80), for logs. */
unsigned sysdevs_post_code(const struct sysdevs *s);
#endif
