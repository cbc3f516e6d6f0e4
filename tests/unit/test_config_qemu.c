/* The QEMU command-line translator (src/cli/qemu_args.c): what LAVA and
 * kernel CI scripts pass becomes the native config; anything else is one
 * error naming the option. */
#include <arpa/inet.h>
#include <string.h>

#include "check_util.h"
#include "cli/config.h"
#include "devices/virtio/blk.h"
#include "cli/qemu_args.h"

static int qparse(struct vm_config *c, char *err, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	config_init(c);
	err[0] = 0;
	return qemu_args_parse(c, argc, argv, err);
}

START_TEST(detect)
{
	int skip;
	char *a[] = { "/usr/libexec/myvmm/qemu-system-x86_64", "-kernel", "k", NULL };
	ck_assert(qemu_args_detect(3, a, &skip));
	ck_assert_int_eq(skip, 1);
	char *b[] = { "myvmm", "qemu", "-kernel", "k", NULL };
	ck_assert(qemu_args_detect(4, b, &skip));
	ck_assert_int_eq(skip, 2);
	char *c[] = { "/usr/bin/myvmm", "-cpu", "host", NULL }; /* LAVA after realpath */
	ck_assert(qemu_args_detect(3, c, &skip));
	ck_assert_int_eq(skip, 1);
	char *d[] = { "myvmm", "--kernel", "k", NULL };
	ck_assert(!qemu_args_detect(3, d, &skip));
	char *e[] = { "myvmm", "-h", NULL };
	ck_assert(!qemu_args_detect(2, e, &skip));
	char *f[] = { "myvmm", "-frob", NULL };
	ck_assert(!qemu_args_detect(2, f, &skip));
	char *g[] = { "myvmm", "bzImage", NULL };
	ck_assert(!qemu_args_detect(2, g, &skip));
}
END_TEST

/* LAVA's qemu device type (2023.01), as myvmm receives it. */
START_TEST(lava_command_line)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a[] = { "-cpu", "host", "-enable-kvm", "-nographic", "-net",
		      "nic,model=virtio,macaddr=52:54:00:12:34:58", "-net", "user", "-m", "512",
		      "-monitor", "none", "-kernel", "/var/lib/lava/k.elf", "-append",
		      "console=ttyS0,115200 tk=info", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
		      "-no-reboot", NULL };
	ck_assert_msg(qparse(&c, err, a) == 0, "%s", err);
	ck_assert(c.qemu_mode);
	ck_assert_str_eq(c.kernel, "/var/lib/lava/k.elf");
	ck_assert_str_eq(c.cmdline, "console=ttyS0,115200 tk=info");
	ck_assert_uint_eq(c.mem, 512ull << 20);
	ck_assert_int_eq(c.display, DISPLAY_NONE);
	ck_assert_int_eq(c.console, CONSOLE_STDIO);
	ck_assert(c.no_reboot);
#ifdef HAVE_SLIRP
	ck_assert_int_eq(c.net.kind, NET_USER);
	ck_assert_uint_eq(c.net.mac[5], 0x58);
#endif
	ck_assert_int_eq(config_validate(&c, err), 0);
	ck_assert_int_eq(config_finish(&c), 0);
	ck_assert_str_eq(c.cmdline, "console=ttyS0,115200 tk=info"); /* as given */
	config_free(&c);
}
END_TEST

START_TEST(drives_devices_and_smp)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a[] = { "--kernel", "k", "-smp", "cpus=2,sockets=1,cores=2,threads=1", "-m", "size=1G",
		      "-mem-path", "/dev/hugepages", "-device", "virtio-blk-pci,drive=d1,serial=SER1", "-drive",
		      "file=/a,,b.img,format=raw,if=virtio", "-drive",
		      "file=c.img,if=none,id=d1,format=raw,readonly=on,cache=none,aio=native", "-drive",
		      "file=unused.img,if=none,id=d2", "-device", "virtio-rng-pci", "-M",
		      "q35,accel=kvm", "-accel", "kvm", "-name", "guest=ci,debug-threads=on",
		      "-pidfile", "/tmp/p", "-serial", "file:/tmp/con", "-display", "none",
		      "-nodefaults", "-no-user-config", NULL };
	ck_assert_msg(qparse(&c, err, a) == 0, "%s", err);
	ck_assert_uint_eq(c.cpus, 2);
	ck_assert_uint_eq(c.mem, 1ull << 30);
	ck_assert_str_eq(c.mem_path, "/dev/hugepages");
	ck_assert_uint_eq(c.ndisks, 2);
	/* device order: the -device (argv 8) before the if=virtio -drive (argv 11) */
	ck_assert_str_eq(c.disks[0].path, "c.img");
	ck_assert(c.disks[0].ro);
	ck_assert_int_eq(c.disks[0].cache, DISK_CACHE_NONE);
	ck_assert_int_eq(c.disks[0].aio, BLK_AIO_NATIVE);
	ck_assert_str_eq(c.disks[0].serial, "SER1");
	ck_assert_int_eq(c.disks[0].iface, DISK_IF_VIRTIO);
	ck_assert_str_eq(c.disks[1].path, "/a,b.img");
	ck_assert_str_eq(c.name, "ci");
	ck_assert_str_eq(c.pidfile, "/tmp/p");
	ck_assert_int_eq(c.console, CONSOLE_FILE);
	ck_assert_str_eq(c.console_path, "/tmp/con");
	config_free(&c);

	char *b[] = { "-kernel", "k", "-nodefaults", NULL }; /* no serial at all, as QEMU */
	ck_assert_int_eq(qparse(&c, err, b), 0);
	ck_assert_int_eq(c.console, CONSOLE_NONE);
	config_free(&c);
	char *d[] = { "-kernel", "k", "-serial", "unix:/tmp/s,server,nowait", "-smp", "2", NULL };
	ck_assert_int_eq(qparse(&c, err, d), 0);
	ck_assert_int_eq(c.console, CONSOLE_UNIX);
	ck_assert_str_eq(c.console_path, "/tmp/s");
	ck_assert_uint_eq(c.cpus, 2);
	config_free(&c);
}
END_TEST

#ifdef HAVE_SLIRP
START_TEST(networks)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a[] = { "-kernel", "k", "-netdev", "user,id=n0,hostfwd=tcp::2222-:22,hostfwd=udp::5353-:53",
		      "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc", NULL };
	ck_assert_msg(qparse(&c, err, a) == 0, "%s", err);
	ck_assert_int_eq(c.net.kind, NET_USER);
	ck_assert_uint_eq(c.net.nfwd, 2);
	ck_assert_uint_eq(c.net.fwd[0].host_port, 2222);
	ck_assert(c.net.fwd[1].udp);
	ck_assert_uint_eq(c.net.mac[3], 0xaa);
	config_free(&c);
	char *b[] = { "-kernel", "k", "-nic", "user,model=virtio-net-pci,hostfwd=tcp::8080-:80", NULL };
	ck_assert_msg(qparse(&c, err, b) == 0, "%s", err);
	ck_assert_uint_eq(c.net.fwd[0].guest_port, 80);
	config_free(&c);
}
END_TEST
#endif

struct bad { const char *a, *b, *needle; };

START_TEST(errors_name_the_option)
{
	static const struct bad cases[] = {
		{ "-hda", "x.img", "'-hda' is not supported" },
		{ "-device", "e1000", "device 'e1000'" },
		{ "-device", "isa-debug-exit", "iobase=0xf4" },
		{ "-device", "virtio-blk-pci,drive=nope", "drive=nope" },
		{ "-device", "virtio-net-pci,netdev=nope", "netdev=nope" },
		{ "-device", "virtio-rng-pci,max-bytes=4", "'max-bytes'" },
		{ "-drive", "file=x.qcow2,format=qcow2", "qemu-img convert" },
		{ "-drive", "file=x,if=scsi", "if=scsi" },
		{ "-drive", "format=raw", "no file=" },
		{ "-drive", "file=x,snapshot=on", "'snapshot'" },
		{ "-netdev", "tap,id=t0", "'tap'" }, { "-netdev", "user", "no id=" },
		{ "-net", "nic", "model=virtio" }, { "-net", "nic,model=e1000", "'e1000'" },
		{ "-nic", "user,model=e1000", "'e1000'" },
		{ "-serial", "tcp::4444", "-serial tcp::4444" },
		{ "-monitor", "stdio", "no QEMU monitor" },
		{ "-accel", "tcg", "only on KVM" }, { "-M", "virt", "machine 'virt'" },
		{ "-M", "pc,kernel-irqchip=split", "'kernel-irqchip'" },
		{ "-cpu", "qemu64", "-cpu host" }, { "-smp", "2,maxcpus=4", "hotplug" },
		{ "-smp", "x", "not a number" }, { "-m", "512,maxmem=2G", "'maxmem'" },
		{ "-display", "gtk", "-display none" }, { "-S", NULL, "-S without -s" },
		{ "-vga", "std", "-vga none" }, { "-kernel", NULL, "needs a value" },
		{ "stray", NULL, "unexpected argument 'stray'" },
		{ "-net", "user", "give both" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config c;
		char err[CONFIG_ERR_LEN];
		char *a[] = { (char *)cases[i].a, (char *)cases[i].b, NULL };
		ck_assert_msg(qparse(&c, err, a) != 0, "accepted %s %s", cases[i].a,
			      cases[i].b ? cases[i].b : "");
		ck_assert_msg(strstr(err, cases[i].needle), "%s: '%s' lacks '%s'", cases[i].a, err,
			      cases[i].needle);
		ck_assert(!strchr(err, '\n'));
		config_free(&c);
	}
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *two[] = { "-serial", "stdio", "-serial", "file:x", NULL };
	ck_assert_int_ne(qparse(&c, err, two), 0);
	ck_assert_ptr_nonnull(strstr(err, "ttyS1"));
	config_free(&c);
}
END_TEST

START_TEST(gdb_options)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a[] = { "-kernel", "k", "-s", "-S", NULL };
	/* -s -S are --gdb tcp::1234 --gdb-wait */
	ck_assert_msg(qparse(&c, err, a) == 0, "%s", err);
	ck_assert_str_eq(c.gdb, "tcp::1234");
	ck_assert(c.gdb_wait);
	config_free(&c);
	char *u[] = { "-kernel", "k", "-gdb", "unix:/tmp/g.sock,server,nowait", NULL };
	ck_assert_msg(qparse(&c, err, u) == 0, "%s", err);
	ck_assert_str_eq(c.gdb, "unix:/tmp/g.sock");
	ck_assert(!c.gdb_wait);
	config_free(&c);
	char *b[] = { "-kernel", "k", "-gdb", "udp::1", NULL };
	ck_assert_int_ne(qparse(&c, err, b), 0);
	ck_assert_ptr_nonnull(strstr(err, "-gdb udp::1"));
	config_free(&c);
}
END_TEST

START_TEST(exit_codes_and_hints)
{
	ck_assert_int_eq(qemu_exit_code(STOP_SIGNAL, 143), 0);
	ck_assert_int_eq(qemu_exit_code(STOP_DEBUG_EXIT, 7), 7);
	ck_assert_int_eq(qemu_exit_code(STOP_POWEROFF, 0), 0);
	ck_assert_str_eq(qemu_native_equivalent("-m"), "--mem");
	ck_assert_str_eq(qemu_native_equivalent("--smp"), "--cpus");
	ck_assert_ptr_null(qemu_native_equivalent("-frob"));
}
END_TEST

CHECK_MAIN("config_qemu", detect, lava_command_line, drives_devices_and_smp, networks,
	errors_name_the_option, gdb_options, exit_codes_and_hints)
