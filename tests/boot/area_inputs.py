"""Bad command lines and files (one clear line, exit 2), the example config files
and --check."""
import json
import os
import re
import shutil
import subprocess
import time

from framework import (check, Result, Live, check_e820, check_pass, bad, boot_test, MiB,
                       SAFETY_TIMEOUT, PROC_TIMEOUT)


@boot_test(90)
def test_bad_inputs(ctx):
    m, elf, bz = ctx.myvmm, ctx.elf, ctx.bzimage
    T = ["--timeout", "10"]
    data = open(bz, "rb").read()
    rnd = ctx.path("random.bin")
    with open(rnd, "wb") as f:
        f.write(os.urandom(8192))
    old = bytearray(data)
    old[0x206:0x208] = (0x0205).to_bytes(2, "little")
    oldp = ctx.path("old-protocol.bzImage")
    open(oldp, "wb").write(old)
    no64 = bytearray(data)
    no64[0x236] &= ~1
    no64p = ctx.path("no64.bzImage")
    open(no64p, "wb").write(no64)
    trunc = ctx.path("truncated.bzImage")
    open(trunc, "wb").write(data[:600])
    big = ctx.path("big.initrd")
    with open(big, "wb") as f:
        f.truncate(40 * MiB)
    cases = [
        ("no --kernel", [m] + T, "kernel"),
        ("missing kernel", [m, "--kernel", ctx.path("nonexistent")] + T, "no such file"),
        ("directory kernel", [m, "--kernel", ctx.tmp] + T, "directory"),
        ("random bytes", [m, "--kernel", rnd] + T, "not a bzImage"),
        ("protocol 2.05", [m, "--kernel", oldp] + T, "2.05"),
        ("no XLF_KERNEL_64", [m, "--kernel", no64p] + T, "64-bit"),
        ("truncated bzImage", [m, "--kernel", trunc] + T, "short"),
        ("missing initrd", [m, "--kernel", elf, "--initrd", ctx.path("nonexistent")] + T, "initrd"),
        ("initrd > RAM", [m, "--kernel", elf, "--mem", "32M", "--initrd", big] + T, "initrd"),
        ("--mem 0", [m, "--kernel", elf, "--mem", "0"] + T, "--mem"),
        ("--mem abc", [m, "--kernel", elf, "--mem", "abc"] + T, "--mem"),
        ("--mem 1K", [m, "--kernel", elf, "--mem", "1K"] + T, "small"),
        ("--mem 64T", [m, "--kernel", elf, "--mem", "64T"] + T, "--mem"),
        ("--cpus 0", [m, "--kernel", elf, "--cpus", "0"] + T, "--cpus"),
        ("--cpus 300", [m, "--kernel", elf, "--cpus", "300"] + T, "--cpus"),
        ("--cpus x", [m, "--kernel", elf, "--cpus", "x"] + T, "--cpus"),
        ("unknown option", [m, "--kernel", elf, "--frobnicate"] + T, "--frobnicate"),
        ("--console bogus", [m, "--kernel", elf, "--console", "bogus"] + T, "console"),
    ]
    for what, argv, kw in cases:
        bad(ctx, what, argv, kw)
    bad(ctx, "no KVM device", [m, "--kernel", elf] + T, "module",
        env={"MYVMM_KVM_DEV": "/nonexistent"})


@boot_test(90)
def test_config_examples(ctx):
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs")
    cfg = ctx.path("configs")
    run = ctx.path("cwd")
    os.makedirs(cfg, exist_ok=True)
    os.makedirs(run, exist_ok=True)
    for n in ("test-kernel.conf", "ci-boot.conf", "desktop.conf"):
        shutil.copy(os.path.join(src, n), cfg)
    m = ctx.myvmm
    # The example's kernel path (../build/...) is relative to the file: give the built one.
    r = ctx.run(raw_argv=[m, "--config", os.path.join(cfg, "test-kernel.conf"), "--kernel", ctx.elf])
    check_pass(r, "info")
    check_e820(r, 128 * MiB)
    check(r.grep(r"TK: madt cpus 2 "), "cpus = 2 from the file not applied", r)

    # ci-boot.conf: relative console file and status file, expect on PASS.
    argv = [m, "--config", os.path.join(cfg, "ci-boot.conf"), "--kernel", ctx.bzimage]
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=run, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=PROC_TIMEOUT)
    r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    check(r.rc == 0, "ci-boot.conf: exit status %s, want 0 (expect matched)" % r.rc, r)
    check(not r.tk, "ci-boot.conf: TK lines on stdout despite console = file:", r)
    status = os.path.join(cfg, "ci-status.json")   # status-file: relative to the config file
    check(os.path.exists(status), "ci-boot.conf: no %s (status-file resolves against the "
          "config's directory)" % status, r)
    st = json.load(open(status))
    check(st.get("reason") == "expect-match" and st.get("exit_code") == 0 and st.get("name") == "ci-boot",
          "ci-boot.conf: status %r" % st, r)
    # console = file:ci-console.log is not a path key: it is relative to the cwd.
    logs = [q for q in (os.path.join(run, "ci-console.log"), os.path.join(cfg, "ci-console.log"))
            if os.path.exists(q)]
    check(logs, "ci-boot.conf: ci-console.log neither in the cwd nor beside the config", r)
    tk = [l.rstrip("\r") for l in open(logs[0], errors="replace").read().splitlines()
          if l.startswith("TK: ")]
    # myvmm stops as soon as the partial line "TK: PASS" matches the expect
    # regex, so the log may end there without " info\n".
    check("TK: myvmm test kernel (linux64)" in tk and "TK: pci0 yes" in tk
          and any(l.startswith("TK: PASS") for l in tk),
          "ci-boot.conf: console log %s lacks the TK lines" % logs[0], r)

    r = ctx.run(raw_argv=[m, "--config", os.path.join(cfg, "desktop.conf"), "--kernel", ctx.elf,
                          "--display", "none", "--timeout", str(SAFETY_TIMEOUT)])
    check_pass(r, "smp")
    check(r.has("TK: cpus online 2"), "desktop.conf: want 2 CPUs online", r)

    badf = os.path.join(cfg, "bad.conf")
    with open(badf, "w") as f:
        f.write("[machine]\nmem = 64M\nfrobnicate = 1\n")
    bad(ctx, "unknown key in a config file", [m, "--config", badf, "--kernel", ctx.elf], "bad.conf:3:")


@boot_test(60)
def test_check_host(ctx):
    r = ctx.run(raw_argv=[ctx.myvmm, "--check"])
    text = r.out + r.err
    check(r.rc == 0, "--check: exit status %s, want 0 on this host" % r.rc, r)
    m = re.search(r"backend:\s+(.*)", text)
    check(m, "--check does not name the backend", r)
    want = "PVM" if os.path.exists("/sys/module/kvm_pvm") else ("VMX", "SVM")
    check(any(w in m.group(1) for w in ((want,) if isinstance(want, str) else want)),
          "--check backend %r, want %s" % (m.group(1), want), r)
    check(re.search(r"capabilities:.*IRQCHIP=yes", text), "--check lists no capabilities", r)
    check("can run VMs" in text, "--check gives no verdict", r)
    r = ctx.run(raw_argv=[ctx.myvmm, "--check"], env={"MYVMM_KVM_DEV": "/nonexistent"})
    text = r.out + r.err
    check(r.rc not in (0, None), "--check without KVM: exit status %s, want non-zero" % r.rc, r)
    check("/nonexistent" in text and "cannot run" in text, "--check without KVM gives no reason", r)


@boot_test(90)
def test_host_files(ctx):
    """Every file option is type-checked before it is opened for reading and
    sized before it is read; IDE disks are checked and locked like virtio
    ones (issue 10 findings 8 and 11)."""
    m, elf = ctx.myvmm, ctx.elf
    T = ["--timeout", "10"]
    fifo = ctx.path("fifo")
    os.mkfifo(fifo)
    huge = ctx.path("huge.initrd")
    with open(huge, "wb") as f:
        f.truncate(1 << 40)           # 1 TiB, sparse: reading it could not finish
    d = ctx.path("adir")
    os.makedirs(d, exist_ok=True)
    cases = [
        ("FIFO --kernel", [m, "--kernel", fifo] + T, "FIFO"),
        ("FIFO --initrd", [m, "--kernel", elf, "--initrd", fifo] + T, "FIFO"),
        ("FIFO --bios", [m, "--bios", fifo, "--disk", huge + ",ro,format=raw"] + T, "FIFO"),
        ("FIFO --config", [m, "--config", fifo] + T, "FIFO"),
        ("1 TiB --initrd", [m, "--kernel", elf, "--mem", "64M", "--initrd", huge] + T,
         "does not fit"),
        ("directory IDE disk", [m, "--disk", d + ",if=ide"] + T, "directory"),
        ("FIFO IDE disk", [m, "--disk", fifo + ",if=ide"] + T, "FIFO"),
    ]
    for what, argv, kw in cases:
        t0 = time.monotonic()
        bad(ctx, what, argv, kw)
        check(time.monotonic() - t0 < 5, "%s: took %.1f s (blocked on the file?)"
              % (what, time.monotonic() - t0), Result(argv, 2, "", "", 0))

    # Two VMs on one IDE image: the second is refused while the first runs.
    img = ctx.path("ide.img")
    with open(img, "wb") as f:
        f.truncate(1 * MiB)
    holder = Live([m, "--disk", img + ",if=ide,format=raw", "--timeout", "60"],
                  stdin=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 30   # SeaBIOS's banner: the machine (and its disk) exist
        while time.monotonic() < end and not any("SeaBIOS" in l for l in holder.lines):
            try:
                l = holder.q.get(timeout=1)
            except Exception:
                continue
            if l is None:
                break
            holder.lines.append(l)
        check(any("SeaBIOS" in l for l in holder.lines), "first IDE VM never started: %r %r"
              % (holder.lines, holder.err), Result([], 0, "", "", 0))
        bad(ctx, "IDE image held by another VM", [m, "--disk", img + ",if=ide,format=raw"] + T,
            "locked")
        bad(ctx, "IDE image held rw, second ro",
            [m, "--disk", img + ",if=ide,ro,format=raw"] + T, "locked")
    finally:
        holder.kill()
