/* ACPI: find the RSDP, walk the XSDT/RSDT, check every checksum, and pull
 * out what the scenarios need from the MADT, FADT and DSDT. */
#include "tk.h"

#define MAX_TABLE_LEN (4u << 20) /* sanity bound for a table length */
#define MAX_ISO 16

static uint8_t sum8(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	while (len--)
		s += *b++;
	return s;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static bool rsdp_valid(const uint8_t *p)
{
	if (memcmp(p, "RSD PTR ", 8) || sum8(p, 20))
		return false;
	if (p[15] >= 2) {
		uint32_t len = rd32(p + 20);
		if (len < 36 || len > 4096 || sum8(p, len))
			return false;
	}
	return true;
}

static uint64_t rsdp_find(const struct bootinfo *bi)
{
	if (bi->rsdp)
		return bi->rsdp;
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(phys(a), "RSD PTR ", 8) && rsdp_valid(phys(a)))
			return a;
	return 0;
}

/* Checks one table header + checksum; prints the "acpi" line if verbose. */
static const uint8_t *table_check(struct acpi_info *ai, uint64_t pa, bool verbose)
{
	if (!pa || pa >= 0x100000000ULL) {
		if (verbose)
			kprintf("TK: acpi ???? 0x%llx 0 bad\n", (unsigned long long)pa);
		ai->all_ok = false;
		return NULL;
	}
	const uint8_t *t = phys(pa);
	uint32_t len = rd32(t + 4);
	bool ok = len >= 36 && len <= MAX_TABLE_LEN && pa + len <= 0x100000000ULL && !sum8(t, len);
	if (verbose)
		kprintf("TK: acpi %c%c%c%c 0x%llx %u %s\n", t[0], t[1], t[2], t[3],
			(unsigned long long)pa, len, ok ? "ok" : "bad");
	if (!ok)
		ai->all_ok = false;
	return ok ? t : NULL;
}

static void parse_madt(struct acpi_info *ai, const uint8_t *t, bool verbose)
{
	uint32_t len = rd32(t + 4);
	uint8_t iso_src[MAX_ISO];
	uint32_t iso_gsi[MAX_ISO];
	uint16_t iso_flags[MAX_ISO];
	int niso = 0;

	ai->lapic = rd32(t + 36);
	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = t + off;
		uint8_t type = e[0], elen = e[1];
		if (elen < 2 || off + elen > len)
			break;
		if (type == 0 && elen >= 8 && (rd32(e + 4) & 1)) {
			if (ai->ncpus < TK_MAX_CPUS)
				ai->apic_ids[ai->ncpus] = e[3];
			ai->ncpus++;
		} else if (type == 1 && elen >= 12 && !ai->ioapic) {
			ai->ioapic = rd32(e + 4);
		} else if (type == 2 && elen >= 10 && niso < MAX_ISO) {
			iso_src[niso] = e[3];
			iso_gsi[niso] = rd32(e + 4);
			iso_flags[niso] = rd16(e + 8);
			niso++;
		} else if (type == 5 && elen >= 12) {
			ai->lapic = (uint32_t)rd64(e + 4);
		}
		off += elen;
	}
	if (ai->ncpus > TK_MAX_CPUS)
		ai->ncpus = TK_MAX_CPUS;
	if (!verbose)
		return;
	kprintf("TK: madt cpus %d ioapic 0x%x lapic 0x%x\n", ai->ncpus, ai->ioapic, ai->lapic);
	for (int i = 0; i < niso; i++)
		kprintf("TK: madt iso irq %u gsi %u flags 0x%x\n", iso_src[i], iso_gsi[i], iso_flags[i]);
}

/* Returns an I/O port from a 32-bit block field or the X_ GAS (space 1). */
static uint16_t fadt_port(const uint8_t *t, uint32_t len, uint32_t off32, uint32_t offgas)
{
	uint32_t v = off32 + 4 <= len ? rd32(t + off32) : 0;
	if (!v && offgas + 12 <= len && t[offgas] == 1)
		v = (uint32_t)rd64(t + offgas + 4);
	return v <= 0xffff ? (uint16_t)v : 0;
}

/* Parses the FADT; returns the DSDT and FACS addresses through the pointers. */
static void parse_fadt(struct acpi_info *ai, const uint8_t *t, uint64_t *dsdt, uint64_t *facs,
		       bool verbose)
{
	uint32_t len = rd32(t + 4);
	ai->pm1a_evt = fadt_port(t, len, 56, 148);
	ai->pm1a_cnt = fadt_port(t, len, 64, 172);
	ai->pm_tmr = fadt_port(t, len, 76, 208);
	ai->sci = len >= 48 ? rd16(t + 46) : 0;
	ai->fadt_flags = len >= 116 ? rd32(t + 112) : 0;
	if (len >= 129) {
		ai->reset_space = t[116];
		ai->reset_addr = rd64(t + 120);
		ai->reset_val = t[128];
		ai->has_reset = (ai->fadt_flags & (1u << 10)) && ai->reset_addr;
	}
	*dsdt = len >= 148 && rd64(t + 140) ? rd64(t + 140) : rd32(t + 40);
	*facs = len >= 140 && rd64(t + 132) ? rd64(t + 132) : rd32(t + 36);
	if (verbose)
		kprintf("TK: fadt pm1a_evt 0x%x pm1a_cnt 0x%x sci %u reset %u:0x%llx=0x%x flags 0x%x\n",
			ai->pm1a_evt, ai->pm1a_cnt, ai->sci, ai->reset_space,
			(unsigned long long)ai->reset_addr, ai->reset_val, ai->fadt_flags);
}

/* Finds \_S5_ and decodes SLP_TYPa; looks for PNP0A03 (EISA id or string). */
static void parse_dsdt(struct acpi_info *ai, const uint8_t *t, bool verbose)
{
	static const uint8_t eisa_pnp0a03[4] = { 0x41, 0xd0, 0x0a, 0x03 };
	uint32_t len = rd32(t + 4);
	for (uint32_t i = 36; i + 4 <= len; i++) {
		const uint8_t *p = t + i;
		if (!ai->pci0 && (!memcmp(p, eisa_pnp0a03, 4) ||
				  (i + 7 <= len && !memcmp(p, "PNP0A03", 7))))
			ai->pci0 = true;
		if (ai->has_s5 || memcmp(p, "_S5_", 4) || i + 8 > len || p[4] != 0x12)
			continue;
		uint32_t j = i + 5;               /* PkgLength */
		uint32_t nbytes = t[j] >> 6;
		j += 1 + nbytes + 1;              /* skip PkgLength and NumElements */
		if (j >= len)
			continue;
		uint8_t op = t[j];
		if (op == 0x0a || op == 0x0b || op == 0x0c)
			ai->s5_typ = j + 1 < len ? t[j + 1] : 0;
		else if (op == 0x00 || op == 0x01)
			ai->s5_typ = op;
		else if (op == 0xff)
			ai->s5_typ = 0xff;
		else
			ai->s5_typ = op;          /* bare ByteConst */
		ai->has_s5 = true;
	}
	if (!verbose)
		return;
	if (ai->has_s5)
		kprintf("TK: s5 slp_typ %u\n", ai->s5_typ);
	else
		kprintf("TK: s5 none\n");
	kprintf("TK: pci0 %s\n", ai->pci0 ? "yes" : "no");
}

void acpi_scan(const struct bootinfo *bi, struct acpi_info *ai, bool verbose)
{
	memset(ai, 0, sizeof(*ai));
	ai->all_ok = true;
	ai->rsdp = rsdp_find(bi);
	if (!ai->rsdp) {
		if (verbose)
			kprintf("TK: rsdp none\n");
		ai->all_ok = false;
		return;
	}
	const uint8_t *r = phys(ai->rsdp);
	bool rok = rsdp_valid(r);
	if (verbose)
		kprintf("TK: rsdp 0x%llx rev %u %s\n", (unsigned long long)ai->rsdp, r[15],
			rok ? "ok" : "bad");
	if (!rok) {
		ai->all_ok = false;
		return;
	}
	bool x = r[15] >= 2 && rd64(r + 24);
	uint64_t root_pa = x ? rd64(r + 24) : rd32(r + 16);
	const uint8_t *root = table_check(ai, root_pa, verbose);
	if (!root)
		return;
	uint32_t esz = x ? 8 : 4, n = (rd32(root + 4) - 36) / esz;
	uint64_t dsdt = 0, facs = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = x ? rd64(root + 36 + i * 8) : rd32(root + 36 + i * 4);
		const uint8_t *t = table_check(ai, pa, verbose);
		if (!t)
			continue;
		if (!memcmp(t, "APIC", 4))
			parse_madt(ai, t, verbose);
		else if (!memcmp(t, "FACP", 4))
			parse_fadt(ai, t, &dsdt, &facs, verbose);
	}
	if (dsdt) {
		const uint8_t *t = table_check(ai, dsdt, verbose);
		if (t)
			parse_dsdt(ai, t, verbose);
	} else if (verbose) {
		kprintf("TK: dsdt none\n");
	}
	if (facs && facs < 0x100000000ULL) {
		const uint8_t *f = phys(facs);
		bool ok = !memcmp(f, "FACS", 4) && rd32(f + 4) >= 64;
		if (!ok)
			ai->all_ok = false;
		if (verbose)
			kprintf("TK: acpi FACS 0x%llx %u %s\n", (unsigned long long)facs, rd32(f + 4),
				ok ? "ok" : "bad");
	} else if (verbose) {
		kprintf("TK: facs none\n");
	}
}
