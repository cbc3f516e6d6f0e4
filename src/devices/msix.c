/* MSI-X capability, table and PBA (PCI 3.0 6.8.2). */
#include "devices/msix.h"

#include <errno.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/pci.h"

int msix_init(struct msix *m, struct pci_dev *d, unsigned nvec, unsigned bar, uint32_t table_off,
	      uint32_t pba_off, const struct msi_sink *sink)
{
	int cap;

	if (nvec == 0 || nvec > MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS || (table_off & 7) ||
	    (pba_off & 7))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	cap = pci_dev_add_cap(d, PCI_CAP_ID_MSIX, 12);
	if (cap < 0)
		return cap;
	pthread_mutex_init(&m->lock, NULL);
	m->dev = d;
	m->cap = (uint8_t)cap;
	m->nvec = nvec;
	m->sink = *sink;
	pci_cfg_set(d, cap + 2, 2, nvec - 1);         /* Table Size (N-1), disabled */
	pci_cfg_set(d, cap + 4, 4, table_off | bar);  /* Table Offset | BIR */
	pci_cfg_set(d, cap + 8, 4, pba_off | bar);    /* PBA Offset | BIR */
	d->wmask[cap + 3] = 0xc0;                     /* MSI-X Enable, Function Mask */
	for (unsigned i = 0; i < nvec; i++)
		m->table[i][3] = MSIX_VECTOR_MASKED;  /* masked at reset (6.8.2.9) */
	return 0;
}

void msix_destroy(struct msix *m)
{
	if (m->dev)
		pthread_mutex_destroy(&m->lock);
}

static uint16_t ctrl(const struct msix *m)
{
	return (uint16_t)pci_cfg_read(m->dev, m->cap + 2, 2);
}

static bool vec_masked(const struct msix *m, unsigned v)
{
	return (ctrl(m) & MSIX_CTRL_MASKALL) || (m->table[v][3] & MSIX_VECTOR_MASKED);
}

/* Lock held: deliver pending vectors that became deliverable, keep routes current. */
static void sync_vectors(struct msix *m)
{
	if (!(ctrl(m) & MSIX_CTRL_ENABLE))
		return;
	for (unsigned v = 0; v < m->nvec; v++) {
		if (vec_masked(m, v))
			continue;
		uint64_t addr = m->table[v][0] | ((uint64_t)m->table[v][1] << 32);
		uint32_t data = m->table[v][2];
		if (!m->routed[v] || m->routed_addr[v] != addr || m->routed_data[v] != data) {
			if (m->sink.ops->route(m->sink.opaque, v, addr, data) == 0) {
				m->routed[v] = true;
				m->routed_addr[v] = addr;
				m->routed_data[v] = data;
			}
		}
		if (m->pba & (1ull << v)) {
			m->pba &= ~(1ull << v);
			if (m->routed[v])
				m->sink.ops->fire(m->sink.opaque, v);
		}
	}
}

bool msix_cfg_touches_control(const struct msix *m, uint32_t off, uint32_t len)
{
	return off <= m->cap + 3u && off + len > m->cap + 3u;
}

void msix_cfg_written(struct msix *m, uint32_t off, uint32_t len)
{
	if (msix_cfg_touches_control(m, off, len)) {
		pthread_mutex_lock(&m->lock);
		sync_vectors(m);
		pthread_mutex_unlock(&m->lock);
	}
}

void msix_table_read(struct msix *m, uint64_t off, void *data, uint32_t len)
{
	uint64_t v = ~0ull;
	unsigned e = (unsigned)(off / MSIX_ENTRY_SIZE), w = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;

	/* Naturally aligned dword or qword accesses only (6.8.2). */
	if ((len == 4 || len == 8) && !(off & (len - 1)) && e < m->nvec) {
		pthread_mutex_lock(&m->lock);
		v = m->table[e][w];
		if (len == 8)
			v |= (uint64_t)m->table[e][w + 1] << 32;
		pthread_mutex_unlock(&m->lock);
	}
	bus_put_le(data, len, v);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data, uint32_t len)
{
	uint64_t v = bus_get_le(data, len);
	unsigned e = (unsigned)(off / MSIX_ENTRY_SIZE), w = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;

	if ((len != 4 && len != 8) || (off & (len - 1)) || e >= m->nvec)
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < len / 4; i++, w++) {
		uint32_t x = (uint32_t)(v >> (32 * i));
		if (w == 3)
			x &= MSIX_VECTOR_MASKED;  /* other control bits reserved */
		else if (w == 0)
			x &= ~3u;                 /* message address is dword aligned */
		m->table[e][w] = x;
	}
	sync_vectors(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, uint32_t len)
{
	uint64_t v = 0;
	pthread_mutex_lock(&m->lock);
	if (off < 8 && off + len <= 8)
		v = m->pba >> (8 * off);
	pthread_mutex_unlock(&m->lock);
	bus_put_le(data, len, v);
}

bool msix_enabled(struct msix *m)
{
	return ctrl(m) & MSIX_CTRL_ENABLE;
}

bool msix_vector_deliverable(struct msix *m, unsigned vec)
{
	bool ok;

	pthread_mutex_lock(&m->lock);
	ok = (ctrl(m) & MSIX_CTRL_ENABLE) && vec < m->nvec && !vec_masked(m, vec) && m->routed[vec];
	pthread_mutex_unlock(&m->lock);
	return ok;
}

bool msix_notify(struct msix *m, unsigned vec)
{
	bool ok = false;

	pthread_mutex_lock(&m->lock);
	if ((ctrl(m) & MSIX_CTRL_ENABLE) && vec < m->nvec) {
		ok = true;
		if (vec_masked(m, vec) || !m->routed[vec])
			m->pba |= 1ull << vec;
		else
			m->sink.ops->fire(m->sink.opaque, vec);
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* ---- snapshot ---- */

/* The vector table and pending bits (the enable/mask bits are config space,
 * saved with the PCI function). Call after the config space is back. */
void msix_save(struct msix *m, struct sbuf *out)
{
	pthread_mutex_lock(&m->lock);
	sb_u8(out, (uint8_t)m->nvec);
	for (unsigned v = 0; v < m->nvec; v++)
		for (unsigned w = 0; w < 4; w++)
			sb_u32(out, m->table[v][w]);
	sb_u64(out, m->pba);
	pthread_mutex_unlock(&m->lock);
}

void msix_load(struct msix *m, struct srd *in)
{
	uint32_t t[MSIX_MAX_VECTORS][4];
	unsigned n = srd_u8(in);

	if (n != m->nvec) {
		srd_reject(in);
		return;
	}
	for (unsigned v = 0; v < n; v++)
		for (unsigned w = 0; w < 4; w++)
			t[v][w] = srd_u32(in);
	uint64_t pba = srd_u64(in);
	if (in->bad)
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned v = 0; v < n; v++) {
		memcpy(m->table[v], t[v], sizeof(t[v]));
		m->table[v][0] &= ~3u;
		m->table[v][3] &= MSIX_VECTOR_MASKED;
		m->routed[v] = false;
	}
	m->pba = pba & (n < 64 ? (1ull << n) - 1 : ~0ull);
	/* Routes (KVM GSI + irqfd) for every live vector, as the guest left them. */
	sync_vectors(m);
	pthread_mutex_unlock(&m->lock);
}
