/* Split virtqueue, device side (virtio 1.x section 2.7). Every descriptor is
 * copied out of guest memory once (no double fetch) and checked before use;
 * every guest access goes through gmem_ptr() with its exact length and no
 * pointer into the rings is kept between calls.
 *
 * Zero-length descriptors are accepted and skipped: they count towards the
 * chain-length (loop) limit but produce no segment. */
#include "devices/virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "host/log.h"

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VQ_DESC_SIZE 16u
/* Indirect tables longer than this are refused (spec 2.7.5.3 lets the driver
 * size them freely; we bound them so a walk is bounded). */
#define VQ_MAX_INDIRECT VQ_MAX_SIZE

/* Ring sizes per spec 2.7: the event fields are always part of the ring. */
static uint64_t avail_bytes(uint16_t size) { return 6 + 2ull * size; }
static uint64_t used_bytes(uint16_t size) { return 6 + 8ull * size; }

static void *ring_ptr(const struct virtqueue *q, uint64_t gpa, uint64_t off, uint64_t len)
{
	return gmem_ptr(q->mem, gpa + off, len);
}

/* Acquire-load of a little-endian u16 in guest memory. */
static int load_u16_acquire(const struct virtqueue *q, uint64_t gpa, uint16_t *v)
{
	uint16_t *p = ring_ptr(q, gpa, 0, 2);
	if (!p)
		return -EFAULT;
	*v = le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	return 0;
}

static int load_u16(const struct virtqueue *q, uint64_t gpa, uint16_t *v)
{
	uint16_t *p = ring_ptr(q, gpa, 0, 2);
	if (!p)
		return -EFAULT;
	*v = le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
	return 0;
}

/* Every store is into the used ring: marked for diff snapshots. */
static int store_u16(const struct virtqueue *q, uint64_t gpa, uint16_t v, int order)
{
	uint16_t *p = ring_ptr(q, gpa, 0, 2);
	if (!p)
		return -EFAULT;
	__atomic_store_n(p, htole16(v), order);
	gmem_mark_dirty(q->mem, gpa, 2);
	return 0;
}

int vq_init(struct virtqueue *q, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
	    uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, bool indirect)
{
	vq_reset(q);
	/* 2.7: queue size is a power of two, at most QueueSizeMax. */
	if (size == 0 || (size & (size - 1)) || size > VQ_MAX_SIZE)
		return -EINVAL;
	/* 2.7 table "Virtqueue Part Alignment": desc 16, avail 2, used 4. */
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;
	if (!gmem_ptr(mem, desc_gpa, (uint64_t)VQ_DESC_SIZE * size) ||
	    !gmem_ptr(mem, avail_gpa, avail_bytes(size)) || !gmem_ptr(mem, used_gpa, used_bytes(size)))
		return -EINVAL;
	q->mem = mem;
	q->size = size;
	q->desc_gpa = desc_gpa;
	q->avail_gpa = avail_gpa;
	q->used_gpa = used_gpa;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->ready = true;
	return 0;
}

void vq_reset(struct virtqueue *q)
{
	memset(q, 0, sizeof(*q));
}

/* Copies descriptor i of the table at gpa (n entries) out of guest memory. */
static int read_desc(const struct virtqueue *q, uint64_t table, unsigned n, unsigned i,
		     struct vring_desc *d)
{
	const uint8_t *p;

	if (i >= n)
		return -EINVAL;
	p = gmem_ptr(q->mem, table + (uint64_t)i * VQ_DESC_SIZE, VQ_DESC_SIZE);
	if (!p)
		return -EFAULT;
	memcpy(d, p, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return 0;
}

/* Appends one buffer descriptor to the chain after its checks. */
static int add_seg(const struct virtqueue *q, struct vq_chain *c, const struct vring_desc *d)
{
	bool wr = d->flags & VRING_DESC_F_WRITE;
	uint8_t *hva;

	/* addr + len must not wrap and must sit in one RAM region. */
	if (d->len && d->addr > UINT64_MAX - d->len + 1)
		return -EFAULT;
	if (d->len == 0)
		return 0; /* skipped, see the file comment */
	hva = gmem_ptr(q->mem, d->addr, d->len);
	if (!hva)
		return -EFAULT;
	/* 2.7.4.2: device-writable descriptors come after readable ones. */
	if (!wr && c->in_bytes)
		return -EINVAL;
	if (c->nseg >= VQ_MAX_SEGS)
		return -E2BIG;
	if (wr ? d->len > UINT32_MAX - c->in_bytes : d->len > UINT32_MAX - c->out_bytes)
		return -E2BIG;
	c->seg[c->nseg++] = (struct vq_seg){ .hva = hva, .len = d->len, .device_writes = wr };
	/* The device may write it from now until it pushes the chain (diff
	 * snapshots: a snapshot quiesces every device, so no chain popped
	 * before one is completed after it). */
	if (wr)
		gmem_mark_dirty(q->mem, d->addr, d->len);
	if (wr)
		c->in_bytes += d->len;
	else
		c->out_bytes += d->len;
	return 0;
}

/* Walks an indirect table (spec 2.7.5.3): entries chained from index 0. */
static int walk_indirect(const struct virtqueue *q, struct vq_chain *c, const struct vring_desc *ind)
{
	unsigned n, i = 0, count = 0;
	struct vring_desc d;
	int r;

	/* 2.7.5.3.1: the driver must not set INDIRECT together with NEXT. */
	if (!q->indirect || (ind->flags & VRING_DESC_F_NEXT))
		return -EINVAL;
	if (ind->len == 0 || ind->len % VQ_DESC_SIZE || ind->len / VQ_DESC_SIZE > VQ_MAX_INDIRECT)
		return -EINVAL;
	n = ind->len / VQ_DESC_SIZE;
	if (ind->addr > UINT64_MAX - ind->len + 1 || !gmem_ptr(q->mem, ind->addr, ind->len))
		return -EFAULT;
	for (;;) {
		if (++count > n)
			return -ELOOP;
		r = read_desc(q, ind->addr, n, i, &d);
		if (r)
			return r;
		/* 2.7.5.3.1: no INDIRECT inside an indirect table. */
		if (d.flags & VRING_DESC_F_INDIRECT)
			return -ELOOP;
		r = add_seg(q, c, &d);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -EINVAL;
		i = d.next;
	}
}

/* Available buffer notification suppression (virtio 1.2 spec 2.7.10).
 *
 * The queue owns it, so no device can forget it: vq_pop() on an empty ring
 * re-enables kicks (avail_event = last_avail with VIRTIO_F_EVENT_IDX,
 * 2.7.10.2; else clears VRING_USED_F_NO_NOTIFY, 2.7.10.1), issues a full
 * barrier and re-reads avail->idx. While the ring is non-empty, kicks are
 * suppressed: without EVENT_IDX by setting VRING_USED_F_NO_NOTIFY; with it
 * by leaving avail_event behind last_avail (the driver kicks only when its
 * avail idx crosses avail_event, 2.7.10.2, which it then cannot do until
 * the 16-bit index wraps). A device that stops popping while buffers remain
 * (a work budget, a full backend) must therefore resume by itself. */
static int arm_notify(struct virtqueue *q, uint16_t *avail_idx)
{
	int r;

	if (q->event_idx)
		r = store_u16(q, q->used_gpa + 4 + 8ull * q->size, q->last_avail, __ATOMIC_RELAXED);
	else
		r = store_u16(q, q->used_gpa, 0, __ATOMIC_RELAXED);
	if (r)
		return r;
	q->kicks_off = false;
	/* Full barrier: avail_event / flags are visible before we re-read
	 * avail->idx. Pairs with the driver's mb() between publishing
	 * avail->idx and reading avail_event / used->flags (Linux:
	 * virtqueue_kick_prepare), so either we see its buffer or it sees our
	 * request and kicks. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load_u16_acquire(q, q->avail_gpa + 2, avail_idx);
}

static void quiet_notify(struct virtqueue *q)
{
	if (q->event_idx || q->kicks_off)
		return;
	/* 2.7.10.1: a hint only; the driver may still kick. */
	if (store_u16(q, q->used_gpa, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED) == 0)
		q->kicks_off = true;
}

int vq_pop(struct virtqueue *q, struct vq_chain *c)
{
	uint16_t avail_idx, head, i;
	unsigned count = 0;
	struct vring_desc d;
	int r;

	if (!q->ready)
		return 0;
	/* Acquire pairs with the driver's write barrier between filling the ring
	 * entry / descriptors and publishing avail->idx (virtio_wmb). */
	r = load_u16_acquire(q, q->avail_gpa + 2, &avail_idx);
	if (r)
		return r;
	if (avail_idx == q->last_avail) {
		/* Empty: ask for kicks again, then look once more so a buffer
		 * the driver published before it saw our request is not missed. */
		r = arm_notify(q, &avail_idx);
		if (r || avail_idx == q->last_avail)
			return r;
	} else {
		quiet_notify(q);
	}
	/* 2.7.13: the driver can never have more than size buffers pending. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
		pr_guest("virtqueue: avail idx %u jumped ahead of %u (size %u)", avail_idx,
			 q->last_avail, q->size);
		return -EINVAL;
	}
	r = load_u16(q, q->avail_gpa + 4 + 2ull * (q->last_avail & (q->size - 1)), &head);
	if (r)
		return r;
	if (head >= q->size)
		return -EINVAL;

	memset(c, 0, offsetof(struct vq_chain, seg));
	c->head = head;
	i = head;
	for (;;) {
		/* A chain longer than the table must revisit an entry: a loop. */
		if (++count > q->size)
			return -ELOOP;
		r = read_desc(q, q->desc_gpa, q->size, i, &d);
		if (r)
			return r;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			r = walk_indirect(q, c, &d);
			if (r)
				return r;
			break;
		}
		r = add_seg(q, c, &d);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return -EINVAL;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

int vq_push(struct virtqueue *q, uint16_t head, uint32_t written)
{
	uint64_t slot = q->used_gpa + 4 + 8ull * (q->used_idx & (q->size - 1));
	uint32_t elem[2] = { htole32(head), htole32(written) };
	uint8_t *p;

	if (!q->ready || head >= q->size)
		return -EINVAL;
	p = gmem_ptr(q->mem, slot, sizeof(elem));
	if (!p)
		return -EFAULT;
	memcpy(p, elem, sizeof(elem));
	gmem_mark_dirty(q->mem, slot, sizeof(elem));
	q->used_idx++;
	/* Release: the used element (and the data written into the buffers)
	 * become visible before the new used->idx; pairs with the driver's read
	 * barrier after it reads used->idx (virtio_rmb in virtqueue_get_buf). */
	return store_u16(q, q->used_gpa + 2, q->used_idx, __ATOMIC_RELEASE);
}

/* Used buffer notification suppression (virtio 1.2 spec 2.7.7): the one
 * place that reads used_event / VRING_AVAIL_F_NO_INTERRUPT. */
bool vq_need_interrupt(struct virtqueue *q)
{
	uint16_t flags, event, old = q->signalled_used, new = q->used_idx;
	bool valid = q->signalled_valid;

	if (!q->ready)
		return false;
	/* Full barrier: used->idx is published before we read used_event/flags.
	 * Pairs with the driver's mb() between writing used_event (or clearing
	 * NO_INTERRUPT) and re-reading used->idx, so one side always sees the
	 * other and no interrupt is lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx) {
		/* 2.7.7.1: without EVENT_IDX only the NO_INTERRUPT hint. */
		if (load_u16(q, q->avail_gpa, &flags))
			return true;
		return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	q->signalled_used = new;
	q->signalled_valid = true;
	if (load_u16(q, q->avail_gpa + 4 + 2ull * q->size, &event))
		return true;
	if (!valid)
		return true;
	/* vring_need_event (2.7.7.2): event in [old, new) means the driver asked
	 * for an interrupt once used idx passed it. */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

bool vq_has_avail(struct virtqueue *q)
{
	uint16_t idx;

	if (!q->ready || load_u16_acquire(q, q->avail_gpa + 2, &idx))
		return false;
	return idx != q->last_avail;
}

unsigned vq_chain_iov(const struct vq_chain *c, bool device_writes, uint32_t off, uint32_t len,
		      struct iovec *iov, unsigned max, uint32_t *total)
{
	unsigned n = 0;
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nseg && done < len && n < max; i++) {
		const struct vq_seg *s = &c->seg[i];
		uint32_t k;

		if (s->device_writes != device_writes)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		k = s->len - off;
		if (k > len - done)
			k = len - done;
		iov[n++] = (struct iovec){ s->hva + off, k };
		done += k;
		off = 0;
	}
	*total = done;
	return n;
}

static uint32_t chain_copy(const struct vq_chain *c, bool writes, uint32_t off, uint8_t *buf,
			   uint32_t len)
{
	struct iovec iov[VQ_MAX_SEGS];
	uint32_t total, done = 0;
	unsigned n = vq_chain_iov(c, writes, off, len, iov, VQ_MAX_SEGS, &total);

	for (unsigned i = 0; i < n; i++) {
		if (writes)
			memcpy(iov[i].iov_base, buf + done, iov[i].iov_len);
		else
			memcpy(buf + done, iov[i].iov_base, iov[i].iov_len);
		done += (uint32_t)iov[i].iov_len;
	}
	return done;
}

uint32_t vq_chain_read(const struct vq_chain *c, uint32_t off, void *dst, uint32_t len)
{
	return chain_copy(c, false, off, dst, len);
}

uint32_t vq_chain_write(const struct vq_chain *c, uint32_t off, const void *src, uint32_t len)
{
	return chain_copy(c, true, off, (uint8_t *)src, len);
}
