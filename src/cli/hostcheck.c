#include "cli/hostcheck.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>


#include "machine/pc_map.h"
#include "host/sandbox.h"
#include "host/net_slirp.h"
#include "kvm/kvm_host.h"
#include "gdb/stub.h"

static const struct {
	long cap;
	const char *name;
} caps[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP" }, { KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" }, { KVM_CAP_IRQFD, "IRQFD" },
	{ KVM_CAP_IOEVENTFD, "IOEVENTFD" }, { KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" }, { KVM_CAP_READONLY_MEM, "READONLY_MEM" },
	{ KVM_CAP_COALESCED_MMIO, "COALESCED_MMIO" }, { KVM_CAP_X2APIC_API, "X2APIC_API" },
};

int host_check_report(FILE *out)
{
	struct kvm_host h;
	struct err err = { "" };
	struct sysinfo si;

	fprintf(out, "myvmm %s host check\n", MYVMM_VERSION);
	if (kvm_host_open(&h, &err)) {
		fprintf(out, "  kvm:          NOT USABLE: %s\n", err.msg);
		fprintf(out, "result: this host cannot run VMs\n");
		return 1;
	}
	fprintf(out, "  kvm:          /dev/kvm usable, API version %d\n", h.api_version);
	fprintf(out, "  backend:      %s\n", kvm_backend_name(h.backend));
	if (h.backend == KVM_BACKEND_PVM)
		fprintf(out, "                PVM runs guests without hardware virtualization. Guest code\n"
			     "                that is not PVM-aware goes through KVM's instruction emulator\n"
			     "                (a few million instructions/s): small kernels and firmware\n"
			     "                work; stock Linux kernels stop early with an emulation failure\n"
			     "                (myvmm exits 3). Use a PVM-enabled guest kernel for real work.\n");
	fprintf(out, "  capabilities:");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		fprintf(out, " %s=%s", caps[i].name, kvm_host_cap(&h, caps[i].cap) > 0 ? "yes" : "no");
	fprintf(out, "\n");
	fprintf(out, "  gdb stub:     %s\n", gdb_host_support(&h));
	fprintf(out, "  max vCPUs:    %d (myvmm supports up to %d)\n", h.max_vcpus, VMM_MAX_CPUS);
	if (sysinfo(&si) == 0)
		fprintf(out, "  memory:       host has %llu MiB RAM; guests may use up to that (--mem)\n",
			(unsigned long long)si.totalram * si.mem_unit >> 20);
#ifdef HAVE_SDL2
	fprintf(out, "  SDL display:  built in%s\n", getenv("DISPLAY") || getenv("WAYLAND_DISPLAY")
							  ? " (a display is available)"
							  : " (no $DISPLAY now: --display none)");
#else
	fprintf(out, "  SDL display:  not built (install libsdl2-dev and rebuild)\n");
#endif
	if (!net_slirp_available())
		fprintf(out, "  user network: not available in this build (install libslirp-dev and rebuild)\n");
	else if (net_slirp_version())
		fprintf(out, "  user network: available (--net user: libslirp %s, virtio-net)\n",
			net_slirp_version());
	else
		fprintf(out, "  user network: not available: libslirp.so.0 cannot be loaded (install libslirp0)\n");
	const char *why;
	if (sandbox_available(&why))
		fprintf(out, "  seccomp sandbox: available (--sandbox on, the default)\n");
	else
		fprintf(out, "  seccomp sandbox: not available: %s (run with --sandbox off)\n", why);
	fprintf(out, "result: this host can run VMs\n");
	kvm_host_close(&h);
	return 0;
}
