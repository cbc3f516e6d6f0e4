/* Port-I/O and MMIO dispatch: a sorted array of ranges, binary search. */
#include "devices/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	return -pthread_rwlock_init(&b->lock, NULL);
}

void bus_destroy(struct bus *b)
{
	free(b->r);
	b->r = NULL;
	b->n = b->cap = 0;
	pthread_rwlock_destroy(&b->lock);
}

/* Index of the first range whose base is > addr. */
static size_t upper_bound(const struct bus *b, uint64_t addr)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
	    void *opaque, const char *name)
{
	int ret = 0;

	if (len == 0 || base + len < base || !ops)
		return -EINVAL;
	pthread_rwlock_wrlock(&b->lock);
	size_t i = upper_bound(b, base);
	/* Overlap with the predecessor (ends after base) or the successor. */
	if (i > 0 && b->r[i - 1].base + b->r[i - 1].len > base) {
		ret = -EEXIST;
		goto out;
	}
	if (i < b->n && base + len > b->r[i].base) {
		ret = -EEXIST;
		goto out;
	}
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;
		struct bus_range *nr = realloc(b->r, ncap * sizeof(*nr));
		if (!nr) {
			ret = -ENOMEM;
			goto out;
		}
		b->r = nr;
		b->cap = ncap;
	}
	memmove(&b->r[i + 1], &b->r[i], (b->n - i) * sizeof(b->r[0]));
	b->r[i] = (struct bus_range){ base, len, ops, opaque, name };
	b->n++;
out:
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

int bus_remove(struct bus *b, uint64_t base)
{
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&b->lock);
	size_t i = upper_bound(b, base);
	if (i > 0 && b->r[i - 1].base == base) {
		memmove(&b->r[i - 1], &b->r[i], (b->n - i) * sizeof(b->r[0]));
		b->n--;
		ret = 0;
	}
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

int bus_access(struct bus *b, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	struct bus_range hit;
	bool found = false;

	if (len == 0 || len > 8)
		return -EINVAL;
	pthread_rwlock_rdlock(&b->lock);
	size_t i = upper_bound(b, addr);
	if (i > 0) {
		const struct bus_range *r = &b->r[i - 1];
		/* Whole access inside the range; written to avoid overflow. */
		if (addr - r->base < r->len && len <= r->len - (addr - r->base)) {
			hit = *r;
			found = true;
		}
	}
	/* Devices are only removed on BAR moves by the guest's own vCPU or at
	 * teardown after all vCPUs stopped, so the copied ops/opaque stay valid
	 * while the callback runs without the lock. */
	pthread_rwlock_unlock(&b->lock);

	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		return -ENOENT;
	}
	if (is_write) {
		if (hit.ops->write)
			hit.ops->write(hit.opaque, addr - hit.base, data, len);
	} else if (hit.ops->read) {
		hit.ops->read(hit.opaque, addr - hit.base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return 0;
}
