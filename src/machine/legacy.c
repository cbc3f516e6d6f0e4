/* The legacy PC devices, one row each: how to create it, where it sits on
 * the port bus, which ISA IRQs it drives and how ACPI describes it. The
 * machine registers, describes and tears down exactly what this table
 * lists; adding a legacy device is one create/destroy pair and one row. */
#include "machine/legacy.h"

#include <errno.h>
#include <string.h>

#include "acpi/acpi.h"
#include "devices/i8042.h"
#include "devices/pm.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/sysdevs.h"
#include "machine/machine_priv.h"

#define LEGACY_MAX_IO 5

struct legacy_io {
	uint16_t port, len;
	const struct bus_ops *ops;
	const char *name;
};

struct legacy_dev {
	const char *name;
	int (*create)(struct vm *vm);     /* 0 or -ENOMEM; stores the device in vm */
	void (*destroy)(struct vm *vm);
	void *(*opaque)(struct vm *vm);   /* what the bus ops get */
	struct legacy_io io[LEGACY_MAX_IO];
	struct acpi_isa_dev acpi[2];      /* DSDT devices (name NULL: none) */
	uint16_t boot_arch_set, boot_arch_clear; /* FADT IAPC_BOOT_ARCH */
};

static int mk_sys(struct vm *vm)
{
	vm->sys = sysdevs_create(&vm->ctl, vm->host->on_boot_marker, vm->host->marker_opaque);
	return vm->sys ? 0 : -ENOMEM;
}
static void rm_sys(struct vm *vm) { sysdevs_destroy(vm->sys); vm->sys = NULL; }
static void *op_sys(struct vm *vm) { return vm->sys; }

static int mk_serial(struct vm *vm)
{
	vm->serial = serial_create(&vm->irq[IRQ_COM1], &vm->host->console_out, NULL, NULL);
	return vm->serial ? 0 : -ENOMEM;
}
static void rm_serial(struct vm *vm) { serial_destroy(vm->serial); vm->serial = NULL; }
static void *op_serial(struct vm *vm) { return vm->serial; }

static int mk_rtc(struct vm *vm)
{
	vm->rtc = rtc_create(&vm->irq[IRQ_RTC], NULL, NULL,
			     vm->host->nvram_valid ? vm->host->nvram : NULL);
	return vm->rtc ? 0 : -ENOMEM;
}
static void rm_rtc(struct vm *vm)
{
	if (!vm->rtc)
		return;
	rtc_get_nvram(vm->rtc, vm->host->nvram); /* CMOS is battery-backed */
	vm->host->nvram_valid = true;
	rtc_destroy(vm->rtc);
	vm->rtc = NULL;
}
static void *op_rtc(struct vm *vm) { return vm->rtc; }

static int mk_i8042(struct vm *vm)
{
	vm->i8042 = i8042_create(&vm->irq[IRQ_KBD], &vm->irq[IRQ_MOUSE], &vm->ctl);
	return vm->i8042 ? 0 : -ENOMEM;
}
static void rm_i8042(struct vm *vm) { i8042_destroy(vm->i8042); vm->i8042 = NULL; }
static void *op_i8042(struct vm *vm) { return vm->i8042; }

static int mk_pm(struct vm *vm)
{
	vm->pm = pm_create(&vm->irq[IRQ_SCI], &vm->ctl, ACPI_S5_SLP_TYP);
	return vm->pm ? 0 : -ENOMEM;
}
static void rm_pm(struct vm *vm) { pm_destroy(vm->pm); vm->pm = NULL; }
static void *op_pm(struct vm *vm) { return vm->pm; }

static const struct legacy_dev legacy_devs[] = {
	{ "sysdevs", mk_sys, rm_sys, op_sys,
	  .io = { { PORT_DEBUG_EXIT, 4, &sysdevs_debug_exit_ops, "debug-exit" },
		  { PORT_BOOT_MARKER, 1, &sysdevs_marker_ops, "boot-marker" },
		  { PORT_POST, 1, &sysdevs_post_ops, "post" },
		  { PORT_IO_DELAY, 1, &sysdevs_post_ops, "io-delay" },
		  { PORT_A20_FAST, 1, &sysdevs_port92_ops, "port92" } } },
	{ "com1", mk_serial, rm_serial, op_serial,
	  .io = { { PORT_COM1, SERIAL_NR_PORTS, &serial_bus_ops, "com1" } },
	  .acpi = { { "COM1", "PNP0501", { PORT_COM1 }, { SERIAL_NR_PORTS }, 1, IRQ_COM1 } } },
	{ "rtc", mk_rtc, rm_rtc, op_rtc,
	  .io = { { PORT_RTC, 2, &rtc_bus_ops, "rtc" } },
	  .acpi = { { "RTC", "PNP0B00", { PORT_RTC }, { 2 }, 1, IRQ_RTC } },
	  .boot_arch_clear = ACPI_BOOT_NO_CMOS_RTC },
	{ "i8042", mk_i8042, rm_i8042, op_i8042,
	  .io = { { PORT_I8042_DATA, 1, &i8042_data_ops, "i8042-data" },
		  { PORT_I8042_CMD, 1, &i8042_cmd_ops, "i8042-cmd" } },
	  .acpi = { { "KBD", "PNP0303", { PORT_I8042_DATA, PORT_I8042_CMD }, { 1, 1 }, 2, IRQ_KBD },
		    { "MOU", "PNP0F13", { 0 }, { 0 }, 0, IRQ_MOUSE } },
	  .boot_arch_set = ACPI_BOOT_8042 },
	/* ACPI PM1a event/control and PM timer: the FADT points here (not a
	 * DSDT device). With firmware boot the PIIX4 PMBA moves it. */
	{ "acpi-pm", mk_pm, rm_pm, op_pm,
	  .io = { { PORT_PM_BASE, PORT_PM_LEN, &pm_bus_ops, "acpi-pm" } } },
};
#define NLEGACY (sizeof(legacy_devs) / sizeof(legacy_devs[0]))

int legacy_create(struct vm *vm, struct err *err)
{
	for (size_t i = 0; i < NLEGACY; i++) {
		const struct legacy_dev *d = &legacy_devs[i];
		int r = d->create(vm);
		if (r) {
			ERRF("%s: %s", d->name, strerror(-r));
			return r;
		}
		for (unsigned j = 0; j < LEGACY_MAX_IO && d->io[j].ops; j++) {
			const struct legacy_io *io = &d->io[j];
			if ((r = bus_add(&vm->pio, io->port, io->len, io->ops, d->opaque(vm), io->name))) {
				ERRF("%s at port 0x%x: %s", io->name, io->port, strerror(-r));
				return r;
			}
		}
	}
	return 0;
}

/* Ports go with the bus (bus_destroy); this frees the devices, last first. */
void legacy_destroy(struct vm *vm)
{
	for (size_t i = NLEGACY; i-- > 0;)
		legacy_devs[i].destroy(vm);
}

void legacy_acpi_describe(struct acpi_config *ac)
{
	uint16_t boot = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_NO_CMOS_RTC;

	ac->nisa = 0;
	for (size_t i = 0; i < NLEGACY; i++) {
		const struct legacy_dev *d = &legacy_devs[i];
		for (unsigned j = 0; j < 2 && d->acpi[j].name && ac->nisa < ACPI_ISA_MAX; j++)
			ac->isa[ac->nisa++] = d->acpi[j];
		boot = (uint16_t)((boot | d->boot_arch_set) & ~d->boot_arch_clear);
	}
	ac->boot_arch = boot;
}
