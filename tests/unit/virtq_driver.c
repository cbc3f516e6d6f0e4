/* Driver-side split virtqueue for the unit tests (see virtq_driver.h). */
#include "virtq_driver.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

uint8_t *vqd_ram_init(struct guest_mem *mem, uint64_t size)
{
	uint8_t *ram = calloc(1, size);

	memset(mem, 0, sizeof(*mem));
	if (!ram)
		abort();
	mem->nr = 1;
	mem->ram_size = size;
	mem->r[0] = (struct gmem_region){ .gpa = 0, .size = size, .hva = ram };
	return ram;
}

void vqd_ram_free(struct guest_mem *mem)
{
	free(mem->r[0].hva);
	memset(mem, 0, sizeof(*mem));
}

static void put16(struct vqd *d, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	__atomic_store_n((uint16_t *)(d->ram + gpa), v, __ATOMIC_RELEASE);
}

static uint16_t get16(const struct vqd *d, uint64_t gpa)
{
	return le16toh(__atomic_load_n((const uint16_t *)(d->ram + gpa), __ATOMIC_ACQUIRE));
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

uint64_t vqd_init(struct vqd *d, uint8_t *ram, uint16_t size, uint64_t base, bool event_idx)
{
	memset(d, 0, sizeof(*d));
	d->ram = ram;
	d->size = size;
	d->event_idx = event_idx;
	d->desc = align_up(base, 16);
	d->avail = d->desc + 16ull * size;
	d->used = align_up(d->avail + 6 + 2ull * size, 4);
	memset(ram + d->desc, 0, d->used + 6 + 8ull * size - d->desc);
	return d->used + 6 + 8ull * size;
}

void vqd_init_at(struct vqd *d, uint8_t *ram, uint16_t size, uint64_t desc, uint64_t avail,
		 uint64_t used, bool event_idx)
{
	memset(d, 0, sizeof(*d));
	d->ram = ram;
	d->size = size;
	d->event_idx = event_idx;
	d->desc = desc;
	d->avail = avail;
	d->used = used;
	memset(ram + desc, 0, 16ull * size);
	memset(ram + avail, 0, 6 + 2ull * size);
	memset(ram + used, 0, 6 + 8ull * size);
}

int vqd_attach(const struct vqd *d, struct virtqueue *q, const struct guest_mem *mem,
	       bool indirect)
{
	return vq_init(q, mem, d->size, d->desc, d->avail, d->used, d->event_idx, indirect);
}

static void write_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	addr = htole64(addr);
	len = htole32(len);
	flags = htole16(flags);
	next = htole16(next);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

void vqd_publish(struct vqd *d, uint16_t head)
{
	put16(d, d->avail + 4 + 2ull * (d->avail_idx % d->size), head);
	d->avail_idx++;
	/* Release: ring entry and descriptors before the index (virtio_wmb). */
	put16(d, d->avail + 2, d->avail_idx);
}

void vqd_set_desc(const struct vqd *d, uint64_t table_gpa, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	write_desc(d->ram + table_gpa + 16ull * i, addr, len, flags, next);
}

uint16_t vqd_add(struct vqd *d, const struct vqd_buf *b, unsigned n)
{
	uint16_t head = d->next_desc % d->size;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % d->size);
		uint16_t next = (uint16_t)((idx + 1) % d->size);
		uint16_t flags = (b[i].device_writes ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		write_desc(d->ram + d->desc + 16ull * idx, b[i].gpa, b[i].len, flags, next);
	}
	d->next_desc = (uint16_t)((head + n) % d->size);
	vqd_publish(d, head);
	return head;
}

uint16_t vqd_add1(struct vqd *d, uint64_t gpa, uint32_t len, bool device_writes)
{
	struct vqd_buf b = { gpa, len, device_writes };
	return vqd_add(d, &b, 1);
}

uint16_t vqd_add_indirect(struct vqd *d, uint64_t table_gpa, const struct vqd_buf *b, unsigned n)
{
	uint16_t head = d->next_desc % d->size;

	for (unsigned i = 0; i < n; i++)
		write_desc(d->ram + table_gpa + 16ull * i, b[i].gpa, b[i].len,
			   (uint16_t)((b[i].device_writes ? VRING_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			   (uint16_t)(i + 1));
	write_desc(d->ram + d->desc + 16ull * head, table_gpa, 16u * n, VRING_DESC_F_INDIRECT, 0);
	d->next_desc = (uint16_t)((head + 1) % d->size);
	vqd_publish(d, head);
	return head;
}

bool vqd_kick_needed(struct vqd *d)
{
	uint16_t old = d->kick_old, new = d->avail_idx;

	/* Full barrier between publishing avail->idx and reading the device's
	 * suppression state (Linux: virtio_mb in virtqueue_kick_prepare). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->kick_old = new;
	if (d->event_idx) {
		uint16_t ev = vqd_avail_event(d);
		return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	}
	return !(vqd_used_flags(d) & VRING_USED_F_NO_NOTIFY);
}

bool vqd_get_used(struct vqd *d, uint32_t *id, uint32_t *len)
{
	uint64_t e;
	uint32_t v[2];

	if (vqd_used_idx(d) == d->last_used)
		return false;
	e = d->used + 4 + 8ull * (d->last_used % d->size);
	memcpy(v, d->ram + e, 8);
	if (id)
		*id = le32toh(v[0]);
	if (len)
		*len = le32toh(v[1]);
	d->last_used++;
	/* Like Linux's virtqueue_get_buf: ask for an interrupt at the next one. */
	if (d->event_idx)
		vqd_set_used_event(d, d->last_used);
	return true;
}

uint16_t vqd_used_idx(const struct vqd *d) { return get16(d, d->used + 2); }

uint32_t vqd_used_len_at(const struct vqd *d, uint16_t i)
{
	uint32_t v;

	memcpy(&v, d->ram + d->used + 4 + 8ull * (i % d->size) + 4, 4);
	return le32toh(v);
}
uint16_t vqd_used_flags(const struct vqd *d) { return get16(d, d->used); }
uint16_t vqd_avail_event(const struct vqd *d) { return get16(d, d->used + 4 + 8ull * d->size); }
void vqd_set_used_event(struct vqd *d, uint16_t v) { put16(d, d->avail + 4 + 2ull * d->size, v); }
void vqd_set_avail_flags(struct vqd *d, uint16_t v) { put16(d, d->avail, v); }

static void t_notify_used(struct virtio_dev *vd, unsigned q)
{
	struct vqd_transport *t = vd->transport;

	if (q >= VIRTIO_MAX_QUEUES)
		return;
	t->notified[q]++;
	if (vq_need_interrupt(&vd->vq[q]))
		t->irqs[q]++;
}

static void t_config_changed(struct virtio_dev *vd)
{
	((struct vqd_transport *)vd->transport)->config_changed++;
}

static void t_needs_reset(struct virtio_dev *vd)
{
	((struct vqd_transport *)vd->transport)->needs_reset++;
}

static bool t_rekick(struct virtio_dev *vd, unsigned q)
{
	struct vqd_transport *t = vd->transport;

	if (q < VIRTIO_MAX_QUEUES)
		t->rekicks[q]++;
	return t->can_rekick;
}

static const struct virtio_transport_ops t_ops = {
	.notify_used = t_notify_used,
	.config_changed = t_config_changed,
	.needs_reset = t_needs_reset,
	.rekick = t_rekick,
};

void vqd_transport_attach(struct vqd_transport *t, struct virtio_dev *vd,
			  const struct guest_mem *mem)
{
	memset(t, 0, sizeof(*t));
	vd->tops = &t_ops;
	vd->transport = t;
	vd->mem = mem;
}

int vqd_dev_activate(struct virtio_dev *vd)
{
	int r = vd->ops->activate ? vd->ops->activate(vd) : 0;

	virtio_dev_lock(vd);
	if (r == 0 && !vd->needs_reset)
		vd->active = true;
	else
		virtio_fail(vd);
	virtio_dev_unlock(vd);
	return r;
}

int vqd_dev_kick(struct virtio_dev *vd, unsigned q)
{
	int r = 0;

	virtio_dev_lock(vd);
	if (vd->active && vd->vq[q].ready && (r = vd->ops->queue_notify(vd, q)) < 0)
		virtio_fail(vd);
	virtio_dev_unlock(vd);
	return r;
}

void vqd_dev_reset(struct virtio_dev *vd)
{
	virtio_dev_lock(vd);
	vd->active = false;
	virtio_dev_unlock(vd);
	if (vd->ops->reset)
		vd->ops->reset(vd);
	virtio_dev_lock(vd);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&vd->vq[i]);
	vd->driver_features = 0;
	vd->needs_reset = false;
	vd->report_reset = false;
	virtio_dev_unlock(vd);
}
