/* i440FX PAM/SMRAM, PIIX3 ISA bridge (PIRQ routing, ELCR) and PIIX4 PM
 * function config space. Register facts: Intel 82441FX datasheet 3.2 (PAM,
 * SMRAM), 82371SB (PIIX3) 2.2 (PIRQRC) / 4.1 (ELCR), 82371AB (PIIX4) 3.x
 * function 3 (PMBA, DEVACTB, PMREGMISC, SMBBA). */
#include "devices/piix.h"

#include <errno.h>
#include <string.h>

bool piix_pam_region(unsigned n, uint32_t *base, uint32_t *size)
{
	if (n >= PIIX_PAM_REGIONS)
		return false;
	*base = n == 0 ? 0xf0000u : 0xc0000u + 0x4000u * (n - 1);
	*size = n == 0 ? 0x10000u : 0x4000u;
	return true;
}

/* PAM0 bits 5:4 = region 0 (bits 1:0 reserved); PAMn (n >= 1): low nibble
 * region 2n-1, high nibble region 2n. */
static unsigned pam_mode(const uint8_t pam[I440FX_PAM_REGS], unsigned n)
{
	if (n == 0)
		return (pam[0] >> 4) & 3;
	uint8_t v = pam[(n + 1) / 2];
	return ((n & 1) ? v : v >> 4) & 3;
}

unsigned piix_pam_mode(const struct piix *p, unsigned n)
{
	if (!p || !p->host || n >= PIIX_PAM_REGIONS)
		return 0;
	return pam_mode(&p->host->cfg[I440FX_PAM0], n);
}

static void host_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct piix *p = d->opaque;
	uint8_t old[I440FX_PAM_REGS];

	if (off >= I440FX_PAM0 + I440FX_PAM_REGS || off + len <= I440FX_PAM0)
		return;
	memcpy(old, p->pam, sizeof(old));
	memcpy(p->pam, &d->cfg[I440FX_PAM0], sizeof(p->pam));
	for (unsigned n = 0; n < PIIX_PAM_REGIONS; n++) {
		unsigned now = pam_mode(p->pam, n);
		if (pam_mode(old, n) != now && p->cb.pam_changed)
			p->cb.pam_changed(p->cb.opaque, n, now);
	}
}

static const struct pci_dev_ops host_ops = { .cfg_written = host_written };

static void isa_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct piix *p = d->opaque;

	for (unsigned i = 0; i < 4; i++) {
		uint8_t v = d->cfg[PIIX3_PIRQRC + i];
		if (v == p->pirq[i])
			continue;
		p->pirq[i] = v;
		if (p->cb.pirq_changed)
			p->cb.pirq_changed(p->cb.opaque, i, v & 0x0f, !(v & 0x80));
	}
}

static const struct pci_dev_ops isa_ops = { .cfg_written = isa_written };

static void pm_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct piix *p = d->opaque;
	uint16_t base = (uint16_t)(pci_cfg_read(d, PIIX4_PMBA, 2) & 0xffc0);
	bool en = d->cfg[PIIX4_PMREGMISC] & 1;

	if (base == p->pm_base && en == p->pm_enabled)
		return;
	p->pm_base = base;
	p->pm_enabled = en;
	if (p->cb.pm_base_changed)
		p->cb.pm_base_changed(p->cb.opaque, base, en);
}

static const struct pci_dev_ops pm_ops = { .cfg_written = pm_written };

int piix_init(struct piix *p, struct pci_dev *host, const struct piix_callbacks *cb)
{
	if (!p || !host)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (pthread_mutex_init(&p->elcr_lock, NULL))
		return -ENOMEM;
	if (cb)
		p->cb = *cb;

	/* Host bridge: PAM all "ROM" (0) at reset, SMRAM 0x02 with
	 * D_OPEN/D_CLS/D_LCK/G_SMRAME writable (accepted, no SMM). */
	p->host = host;
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++) {
		host->cfg[I440FX_PAM0 + i] = 0;
		host->wmask[I440FX_PAM0 + i] = 0x33;
	}
	host->wmask[I440FX_PAM0] = 0x30;
	host->cfg[I440FX_SMRAM] = 0x02;
	host->wmask[I440FX_SMRAM] = 0x78;
	host->ops = &host_ops;
	host->opaque = p;

	/* PIIX3 ISA bridge: function 0 of a multi-function device. Other
	 * device-specific registers are scratch (stored, no effect). */
	pci_dev_init(&p->isa, 0x8086, 0x7000, 0x060100, 0x00);
	p->isa.cfg[PCI_HEADER_TYPE] = 0x80;
	for (unsigned i = 0x40; i < PCI_CFG_SIZE; i++)
		p->isa.wmask[i] = 0xff;
	for (unsigned i = 0; i < 4; i++) {
		p->isa.cfg[PIIX3_PIRQRC + i] = 0x80;
		p->isa.wmask[PIIX3_PIRQRC + i] = 0x8f;
		p->pirq[i] = 0x80;
	}
	p->isa.ops = &isa_ops;
	p->isa.opaque = p;

	/* PIIX4 PM: PMBA/SMBBA bit 0 reads 1 (I/O space). */
	pci_dev_init(&p->pm, 0x8086, 0x7113, 0x068000, 0x03);
	pci_cfg_set(&p->pm, PIIX4_PMBA, 4, 1);
	p->pm.wmask[PIIX4_PMBA] = 0xc0;
	p->pm.wmask[PIIX4_PMBA + 1] = 0xff;
	p->pm.wmask[PIIX4_PMREGMISC] = 0x01;
	pci_cfg_set(&p->pm, PIIX4_SMBBA, 4, 1);
	p->pm.wmask[PIIX4_SMBBA] = 0xf0;
	p->pm.wmask[PIIX4_SMBBA + 1] = 0xff;
	p->pm.wmask[0xd2] = 0x0f;                  /* SMBHSTCFG */
	pci_cfg_set(&p->pm, PIIX4_DEVACTB, 4, PIIX4_DEVACTB_APMC_EN);
	p->pm.ops = &pm_ops;
	p->pm.opaque = p;
	return 0;
}

void piix_destroy(struct piix *p)
{
	if (p)
		pthread_mutex_destroy(&p->elcr_lock);
}

uint16_t piix_elcr(struct piix *p)
{
	uint16_t v;

	pthread_mutex_lock(&p->elcr_lock);
	v = (uint16_t)(p->elcr[0] | p->elcr[1] << 8);
	pthread_mutex_unlock(&p->elcr_lock);
	return v;
}

/* IRQ 0, 1, 2, 8 and 13 are always edge-triggered (PIIX3 4.1.3). */
static const uint8_t elcr_mask[2] = { 0xf8, 0xde };

static void elcr_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct piix *p = opaque;
	uint8_t *d = data;

	pthread_mutex_lock(&p->elcr_lock);
	for (uint32_t i = 0; i < len; i++)
		d[i] = off + i < 2 ? p->elcr[off + i] : 0xff;
	pthread_mutex_unlock(&p->elcr_lock);
}

static void elcr_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct piix *p = opaque;
	const uint8_t *d = data;

	pthread_mutex_lock(&p->elcr_lock);
	for (uint32_t i = 0; i < len; i++)
		if (off + i < 2)
			p->elcr[off + i] = d[i] & elcr_mask[off + i];
	pthread_mutex_unlock(&p->elcr_lock);
}

const struct bus_ops piix_elcr_ops = { .read = elcr_read, .write = elcr_write };
