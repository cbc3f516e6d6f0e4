/* libFuzzer: two pure decoders of untrusted bytes.
 * Byte 0 even: exit_decode() on a kvm_run page filled from the input (the
 * page is exactly run_size bytes of heap, so ASan sees any overread); every
 * PIO data range it returns must lie inside the page, MMIO data inside the
 * kvm_run struct, errors must say what went wrong.
 * Byte 0 odd: acpi_find_table() on a random "ACPI region" (exactly sized
 * heap copy) at a fuzzed base GPA; a table it returns must lie inside the
 * region with its header length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "vcpu/exit.h"

#define RUN_SIZE 4096u

static volatile uint8_t sink;

static void fuzz_exit(const uint8_t *data, size_t size, uint8_t sel)
{
	/* run_size: the real mmap size, or something smaller (but >= the struct) */
	uint32_t run_size = (sel & 2) ? RUN_SIZE : sizeof(struct kvm_run) + (sel >> 2) * 8;
	uint8_t *page = calloc(1, run_size);
	struct exit_info ei;
	if (!page)
		return;
	memcpy(page, data, size < run_size ? size : run_size);
	struct kvm_run *run = (struct kvm_run *)page;
	if (sel & 0x80) /* steer towards the interesting exits */
		run->exit_reason = (sel & 0x40) ? KVM_EXIT_IO : KVM_EXIT_MMIO;
	exit_decode(run, run_size, &ei);
	switch (ei.action) {
	case EXIT_PIO: {
		uint64_t bytes = (uint64_t)ei.size * ei.count;
		if (ei.size != 1 && ei.size != 2 && ei.size != 4)
			abort();
		if (ei.data < page || ei.data > page + run_size || bytes > (uint64_t)(page + run_size - ei.data))
			abort();
		for (uint64_t i = 0; i < bytes; i++)
			sink += ei.data[i];
		break;
	}
	case EXIT_MMIO:
		if (ei.size < 1 || ei.size > 8 || ei.data != run->mmio.data)
			abort();
		break;
	case EXIT_ERROR:
		if (!ei.what || !ei.what[0])
			abort();
		break;
	case EXIT_STOP:
		if (ei.reason == STOP_NONE)
			abort();
		break;
	case EXIT_CONTINUE:
	case EXIT_DEBUG:   /* the gdb stub reads run->debug.arch: nothing to check here */
		break;
	default:
		abort();
	}
	free(page);
}

static void fuzz_acpi(const uint8_t *data, size_t size, uint8_t sel)
{
	static const char *const sigs[] = { "RSD PTR", "XSDT", "RSDT", "DSDT", "FACS", "FACP",
					    "APIC", "MCFG", "HPET", "SSDT" };
	uint64_t base;
	if (size < 8)
		return;
	memcpy(&base, data, 8);
	if (sel & 2) /* mostly plausible bases: small offsets from LAYOUT_ACPI_BASE */
		base = 0xe0000 + (base & 0xffff);
	data += 8;
	size -= 8;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return;
	memcpy(buf, data, size);
	const char *sig = sigs[(sel >> 2) % (sizeof(sigs) / sizeof(sigs[0]))];
	const uint8_t *t = acpi_find_table(buf, size, base, sig);
	if (t) {
		if (t < buf || t >= buf + size)
			abort();
		if (strcmp(sig, "RSD PTR")) {
			uint32_t len;
			if ((size_t)(buf + size - t) < 8)
				abort();
			memcpy(&len, t + 4, 4);
			/* (RSDT/DSDT/FACS are returned by pointer, unchecked signature) */
			if (len > (size_t)(buf + size - t))
				abort();
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_acpi(data + 1, size - 1, data[0]);
	else
		fuzz_exit(data + 1, size - 1, data[0]);
	return 0;
}
