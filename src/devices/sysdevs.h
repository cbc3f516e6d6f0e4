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
/* Registers all of its ports on the PIO bus. */
int sysdevs_register(struct sysdevs *s, struct bus *pio);
/* Last value written to the POST port (0x80), for logs. */
unsigned sysdevs_post_code(const struct sysdevs *s);
#endif
