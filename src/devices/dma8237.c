/* 8237 DMA controller stub (port map: IBM PC/AT technical reference). */
#include "devices/dma8237.h"

#include <stdlib.h>

#define DMA_PORTS 0x100

struct dma8237 {
	uint8_t reg[DMA_PORTS]; /* last byte written, by port number */
};


static void dma_access(struct dma8237 *d, uint16_t base, uint64_t off, void *rd,
		       const void *wr, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint64_t port = base + off + i;
		if (port >= DMA_PORTS)
			break;
		if (wr)
			__atomic_store_n(&d->reg[port], ((const uint8_t *)wr)[i], __ATOMIC_RELAXED);
		else
			((uint8_t *)rd)[i] = __atomic_load_n(&d->reg[port], __ATOMIC_RELAXED);
	}
}

#define DMA_OPS(name, base)                                                               \
	static void name##_read(void *o, uint64_t off, void *data, uint32_t len)           \
	{ dma_access(o, base, off, data, NULL, len); }                                    \
	static void name##_write(void *o, uint64_t off, const void *data, uint32_t len)    \
	{ dma_access(o, base, off, NULL, data, len); }                                    \
	static const struct bus_ops name##_ops = { .read = name##_read, .write = name##_write };

DMA_OPS(dma1, 0x00)
DMA_OPS(dma_page, 0x81)
DMA_OPS(dma2, 0xc0)

struct dma8237 *dma8237_create(void)
{
	return calloc(1, sizeof(struct dma8237));
}

void dma8237_destroy(struct dma8237 *d)
{
	free(d);
}

int dma8237_register(struct dma8237 *d, struct bus *pio)
{
	int r;
	if ((r = bus_add(pio, 0x00, 0x10, &dma1_ops, d, "dma1")) ||
	    (r = bus_add(pio, 0x81, 0x0f, &dma_page_ops, d, "dma-page")) ||
	    (r = bus_add(pio, 0xc0, 0x20, &dma2_ops, d, "dma2")))
		return r;
	return 0;
}
