"""Boot protocols (PVH, bzImage, multiboot), memory maps, CPUs and the initrd."""
import datetime
import os

from framework import check, check_e820, check_pass, sum32, boot_test, MiB, GiB


def info_test(ctx, kind):
    mem = 128 * MiB
    r = ctx.boot(kind, "info", ["--mem", "128M", "--cpus", "2"])
    host_now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    check_pass(r, "info")
    check(r.has("TK: myvmm test kernel (%s)" % ("pvh" if kind == "pvh" else "linux64")),
          "banner names the wrong boot mode", r)
    # console=ttyS0 is added to a command line that names no console
    check(r.has("TK: cmdline tk=info console=ttyS0"), "command line not passed", r)
    check_e820(r, mem)
    check(r.grep(r"TK: madt cpus 2 "), "expected 'madt cpus 2'", r)
    check(r.has("TK: s5 slp_typ 5"), "expected 's5 slp_typ 5'", r)
    check(r.has("TK: pci0 yes"), "expected 'pci0 yes'", r)
    check(r.grep(r"TK: rsdp 0x[0-9a-f]+ rev \d+ ok$"), "RSDP missing or bad", r)
    acpi = r.grep(r"TK: acpi (\S+) 0x[0-9a-f]+ \d+ (\S+)$")
    tables = {m.group(1) for m in acpi}
    check({"FACP", "APIC", "DSDT"} <= tables, "missing ACPI tables, got %s" % tables, r)
    bad = [m.group(0) for m in acpi if m.group(2) != "ok"]
    check(not bad, "ACPI tables with bad checksums: %s" % bad, r)
    m = r.grep(r"TK: rtc (\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)$")
    check(m, "no rtc line", r)
    t = datetime.datetime(*(int(x) for x in m[0].groups()))
    check(abs((t - host_now).total_seconds()) <= 60,
          "RTC %s is more than a minute from host UTC %s" % (t, host_now), r)


@boot_test(60)
def test_info_pvh(ctx):
    info_test(ctx, "pvh")


@boot_test(60)
def test_info_bzimage(ctx):
    info_test(ctx, "bz")


@boot_test(90)
def test_e820_layouts(ctx):
    for mem_s, mem in (("3G", 3 * GiB), ("5G", 5 * GiB), ("8G", 8 * GiB)):
        r = ctx.boot("pvh", "info", ["--mem", mem_s])
        check_pass(r, "info")
        check_e820(r, mem)


@boot_test(90)
def test_cpus(ctx):
    for kind, n in (("pvh", 1), ("pvh", 2), ("bz", 2), ("pvh", 8)):
        r = ctx.boot(kind, "smp", ["--cpus", str(n), "--mem", "64M"])
        check_pass(r, "smp")
        check(r.has("TK: cpus online %d" % n), "%s: expected 'cpus online %d'" % (kind, n), r)
        for i in range(1, n):
            check(r.has("TK: ap %d up" % i), "%s --cpus %d: AP %d did not come up" % (kind, n, i), r)
        check(len(r.grep(r"TK: ap \d+ up")) == n - 1, "wrong number of 'ap up' lines", r)
    # The test kernel counts at most TK_MAX_CPUS (32) MADT entries, so with 64
    # it may print 32: then the APIC table length proves the 64 LAPIC entries.
    r = ctx.boot("pvh", "info", ["--cpus", "64", "--mem", "64M"])
    check_pass(r, "info")
    m = r.grep(r"TK: madt cpus (\d+) ")
    apic = r.grep(r"TK: acpi APIC 0x[0-9a-f]+ (\d+) ok$")
    check(m and apic, "no madt/APIC lines", r)
    n, apic_len = int(m[0].group(1)), int(apic[0].group(1))
    check(n == 64 or (n == 32 and apic_len >= 44 + 64 * 8),
          "--cpus 64: madt cpus %d, APIC table %d bytes (< 44 + 64 LAPIC entries)" % (n, apic_len), r)


def initrd_test(ctx, kind):
    data = os.urandom(100000)
    p = ctx.path("initrd-%s.bin" % kind)
    open(p, "wb").write(data)
    r = ctx.boot(kind, "info", ["--mem", "64M", "--initrd", p])
    check_pass(r, "info")
    m = r.grep(r"TK: initrd 0x([0-9a-f]+) (\d+) sum ([0-9a-f]{8})$")
    check(m, "%s: no initrd line" % kind, r)
    addr, size, s = int(m[0].group(1), 16), int(m[0].group(2)), int(m[0].group(3), 16)
    check(size == 100000, "initrd size %d, want 100000" % size, r)
    check(s == sum32(data), "initrd sum %08x, want %08x" % (s, sum32(data)), r)
    check(addr >= 0x100000 and addr % 4096 == 0 and addr + size <= 64 * MiB,
          "initrd address 0x%x not page-aligned inside RAM" % addr, r)


@boot_test(60)
def test_initrd(ctx):
    initrd_test(ctx, "pvh")
    initrd_test(ctx, "bz")


@boot_test(60)
def test_multiboot(ctx):
    mem = 128 * MiB
    data = os.urandom(50000)
    p = ctx.path("mb-initrd.bin")
    open(p, "wb").write(data)
    r = ctx.run(ctx.mb, "tk=info", ["--mem", "128M", "--initrd", p])
    check_pass(r, "info")
    check(r.tk and r.tk[0] == "TK: myvmm test kernel (multiboot)",
          "first line is not the multiboot banner", r)
    # console=ttyS0 is added to a command line that names no console
    check(r.has("TK: cmdline tk=info console=ttyS0"), "command line not passed", r)
    check_e820(r, mem)
    m = r.grep(r"TK: initrd 0x([0-9a-f]+) (\d+) sum ([0-9a-f]{8})$")
    check(m and int(m[0].group(2)) == len(data) and int(m[0].group(3), 16) == sum32(data),
          "initrd line wrong: want size %d sum %08x" % (len(data), sum32(data)), r)
    check(r.grep(r"TK: rsdp 0x[0-9a-f]+ rev \d+ ok$"), "RSDP not found by scanning", r)


@boot_test(90)
def test_pci_scan(ctx):
    """Linux's AGP-probe pattern: every function of 256 buses through
    CONFIG_ADDRESS (a write KVM queues in the coalesced ring) and CONFIG_DATA.
    Each queued address must take effect before its data access: a lost or
    reordered write reads the wrong function, and the count of functions
    found is then off."""
    r = ctx.boot("pvh", "pci-scan", ["--mem", "64M"])
    check_pass(r, "pci-scan")
    base = [l for l in r.tk if l.startswith("TK: pciscan reads 65536 found ")]
    check(len(base) == 1, "no pciscan line for 256 buses", r)
    n = int(base[0].split()[5])
    imgs = [ctx.path("pciscan-%d.img" % i) for i in (0, 1)]
    for img in imgs:
        with open(img, "wb") as f:
            f.truncate(1 * MiB)
    r = ctx.boot("pvh", "pci-scan", ["--mem", "64M", "--cpus", "2", "--disk", imgs[0],
                                     "--disk", imgs[1] + ",ro"])
    check_pass(r, "pci-scan")
    check(r.grep(r"TK: pciscan reads 65536 found %d " % (n + 2)),
          "two disks: want %d functions found" % (n + 2), r)
