/* virtio-console (virtio 1.2 spec 5.3), a single port (no MULTIPORT):
 * receiveq0 carries host input to the guest (hvc0), transmitq0 carries
 * guest output to a char_sink. VIRTIO_CONSOLE_F_EMERG_WRITE is offered.
 * The device lock (vd->lock) guards it; callable from any thread. */
#ifndef MYVMM_VIRTIO_CONSOLE_H
#define MYVMM_VIRTIO_CONSOLE_H
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "devices/vmctl.h"

#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define VCON_QUEUE_SIZE 256
#define VCON_CONFIG_SIZE 12   /* cols, rows, max_nr_ports, emerg_wr */
#define VCON_TX_BUDGET 64     /* transmit chains per callback */
#define VCON_TX_BYTES (256u * 1024) /* transmit bytes per callback */

/* out receives the guest's output (copied; its target must outlive vd).
 * Free with virtio_dev_destroy. */
int virtio_console_create(const struct char_sink *out, struct virtio_dev **vd);
/* Host input for the guest: copies into posted receive buffers and returns
 * the bytes taken (0 when the driver has none posted: retry later). */
size_t virtio_console_input(struct virtio_dev *vd, const uint8_t *buf, size_t len);
#endif
