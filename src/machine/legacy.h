/* The PC's legacy devices (legacy.c): one table row per device with its
 * ports, IRQs, bus registration and ACPI description. */
#ifndef MYVMM_LEGACY_H
#define MYVMM_LEGACY_H
struct acpi_config;

/* Pure: fills ac->isa/nisa and ac->boot_arch from the table (the DSDT
 * devices and FADT IAPC_BOOT_ARCH of exactly what legacy_create builds). */
void legacy_acpi_describe(struct acpi_config *ac);
#endif
