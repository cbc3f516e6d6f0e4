"""The same scenarios under QEMU, as a reference for what the guest should print."""
import shutil

from framework import TestFailure, check, check_pass, make_image, sectors_sum, boot_test, MiB
from area_virtio import check_blk_read


@boot_test(120, labels=("reference",))
def test_qemu_reference(ctx):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise TestFailure("qemu-system-x86_64 not found: apt-get install qemu-system-x86")
    # arch-capabilities off: on a PVM host QEMU 7.2 aborts setting MSR 0x10a.
    base = [qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host,-arch-capabilities", "-nodefaults",
            "-no-user-config", "-nographic", "-serial", "stdio", "-m", "128M",
            "-kernel", ctx.elf, "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    r = ctx.run(raw_argv=base + ["-append", "tk=info"])
    check_pass(r, "info")
    check(r.grep(r"TK: e820 "), "QEMU: no e820 lines", r)
    check(r.grep(r"TK: madt cpus 1 "), "QEMU: no 'madt cpus 1'", r)
    r = ctx.run(raw_argv=base + ["-smp", "2", "-append", "tk=smp"])
    check_pass(r, "smp")
    check(r.has("TK: cpus online 2") and r.has("TK: ap 1 up"), "QEMU -smp 2: AP not up", r)
    r = ctx.run(raw_argv=base + ["-append", "tk=exit tk.code=42"])
    check(r.rc == 85, "QEMU tk=exit tk.code=42: exit status %s, want 85" % r.rc, r)


@boot_test(120, labels=("reference",))
def test_qemu_reference_virtio(ctx):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise TestFailure("qemu-system-x86_64 not found: apt-get install qemu-system-x86")
    img, data = make_image(ctx, "qemu.img", 4 * MiB)
    want = sectors_sum(data, 3, 16)
    r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img + ",serial=SN-1"],
                 args="tk.sector=3 tk.count=16")
    ours = check_blk_read(r, data, 3, 16, "SN-1")
    argv = [qemu, "-M", "pc", "-m", "256M", "-enable-kvm", "-cpu", "host,-arch-capabilities",
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", ctx.elf,
            "-append", "tk=blk-read tk.sector=3 tk.count=16",
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on,serial=SN-1"]
    r = ctx.run(raw_argv=argv)
    theirs = check_blk_read(r, data, 3, 16, "SN-1")
    check(ours == theirs == want, "sums differ: myvmm %08x QEMU %08x host %08x" % (ours, theirs, want))
