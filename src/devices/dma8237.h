/* Accept-and-ignore 8237 DMA controllers, as firmware expects to find them:
 * DMA1 ports 0x00-0x0F, page registers 0x81-0x8F (0x80 is the POST port,
 * registered elsewhere), DMA2 ports 0xC0-0xDF. Writes are stored per port
 * and read back (so probes see something sane); no transfers ever happen.
 * Thread-safe (atomic byte stores). */
#ifndef MYVMM_DMA8237_H
#define MYVMM_DMA8237_H
#include "devices/bus.h"

struct dma8237;
/* NULL on ENOMEM. */
struct dma8237 *dma8237_create(void);
void dma8237_destroy(struct dma8237 *d);
/* Registers the three port ranges above on the PIO bus; 0 or -errno. */
int dma8237_register(struct dma8237 *d, struct bus *pio);
#endif
