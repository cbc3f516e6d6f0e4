"""Guest RAM in a file (issue 12): --mem-path on a hugetlbfs mount and on a plain
file, --hugepages (a hugetlb memfd), with the test kernel booted on it, a disk
read into it (in process and through a vhost-user back-end, which maps the same
fd), and the one-line errors: too few huge pages, a directory that is not
hugetlbfs, a missing path, a --mem that is not a multiple of the huge page size,
--restore and snapshots. The tests run as root: they raise vm.nr_hugepages and
put the old value back afterwards, even when they fail; they are serial, as
they share that pool."""
import json
import os
import shutil
import subprocess
import sys
import time

from framework import (check, Live, check_pass, check_e820, bad, sectors_sum, make_image,
                       boot_test, MiB, TestFailure)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmmtest  # noqa: E402  (the API client)

L = ("mem_path",)
NR = "/proc/sys/vm/nr_hugepages"
HUGE = 2 * MiB   # the default huge page size on x86


def meminfo(key):
    with open("/proc/meminfo") as f:
        for l in f:
            if l.startswith(key + ":"):
                return int(l.split()[1])
    raise TestFailure("no %s in /proc/meminfo" % key)


class HugePool:
    """vm.nr_hugepages raised to `pages` for a with-block, restored at its end."""

    def __init__(self, pages):
        self.pages = pages

    def __enter__(self):
        if os.geteuid() != 0:
            raise TestFailure("these tests reserve huge pages: run them as root")
        with open(NR) as f:
            self.old = f.read().strip()
        self.set(self.pages)
        return self

    def set(self, pages):
        with open(NR, "w") as f:
            f.write("%d\n" % pages)
        got = meminfo("HugePages_Total")
        if got != pages:
            raise TestFailure("vm.nr_hugepages=%d gave %d pages (host memory fragmented?)"
                              % (pages, got))

    def __exit__(self, *exc):
        with open(NR, "w") as f:
            f.write(self.old + "\n")
        return False


class HugeMount:
    """A hugetlbfs mount of 2 MiB pages in the test's temp dir."""

    def __init__(self, ctx):
        self.path = ctx.path("huge")

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        p = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "none", self.path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode:
            raise TestFailure("mount -t hugetlbfs failed: %s" % p.stderr.decode().strip())
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", self.path], timeout=30)
        return False


def boot_and_watch(ctx, extra, mem_mib, free_before):
    """tk=serial-irq on `extra`: while it waits for input, the pool's available
    pages (HugePages_Free - HugePages_Rsvd) must be mem_mib/2 below free_before
    (all of guest RAM reserved at start) and HugePages_Free below free_before (the
    pages the guest touched); then 'q' ends it with PASS."""
    argv = ctx.argv(ctx.elf, "tk=serial-irq", ["--mem", "%dM" % mem_mib] + list(extra))
    live = Live(argv)
    try:
        live.wait_line("TK: ready", timeout=30)
        free, rsvd = meminfo("HugePages_Free"), meminfo("HugePages_Rsvd")
        want = free_before - mem_mib // 2
        check(free - rsvd == want, "HugePages_Free %d - HugePages_Rsvd %d while the guest ran, "
              "want %d (%d - %d MiB of guest RAM)" % (free, rsvd, want, free_before, mem_mib))
        check(free < free_before, "HugePages_Free did not drop while the guest ran (%d)" % free)
        live.p.stdin.write(b"q")
        live.p.stdin.flush()
        r = live.finish(timeout=30)
    finally:
        live.kill()
    check_pass(r, "serial-irq")
    check(meminfo("HugePages_Free") == free_before and meminfo("HugePages_Rsvd") == 0,
          "huge pages not given back at exit", r)
    return r


@boot_test(150, labels=L, serial=True)
def test_mem_path_hugetlbfs(ctx):
    with HugePool(200), HugeMount(ctx) as mnt:
        free0 = meminfo("HugePages_Free")
        check(free0 == 200, "HugePages_Free %d after reserving 200" % free0)
        # The guest runs on the mount's huge pages (all reserved at start).
        boot_and_watch(ctx, ["--mem-path", mnt.path], 128, free0)
        check(os.listdir(mnt.path) == [], "a file was left on the mount: %s" % os.listdir(mnt.path))
        # The same through a hugetlb memfd.
        boot_and_watch(ctx, ["--hugepages"], 64, free0)
        # A guest reset rebuilds the VM: its 256 MiB (128 of the 200 pages) must go
        # back to the pool before the new RAM is reserved, on both backings.
        for opt in (["--mem-path", mnt.path], ["--hugepages"]):
            r = ctx.boot("pvh", "reset-cf9", ["--mem", "256M"] + opt)
            check_pass(r, "reset-cf9")
            check(r.has("TK: rebooted"), "%s: the guest did not come back after the reset"
                  % opt[0], r)
            check(meminfo("HugePages_Free") == free0, "%s: pages kept after a reset" % opt[0], r)
        # The guest's view of its RAM, and a disk read into huge-page RAM.
        r = ctx.boot("pvh", "info", ["--mem", "256M", "--mem-path", mnt.path])
        check_pass(r, "info")
        check_e820(r, 256 * MiB)
        img, data = make_image(ctx, "d.img", 4 * MiB)
        for cache in ("writeback", "none"):
            r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--mem-path", mnt.path, "--disk",
                                             "%s,cache=%s" % (img, cache)],
                         args="tk.sector=5 tk.count=256")
            check_pass(r, "blk-read")
            m = r.grep(r"TK: blk read 5 256 sum ([0-9a-f]{8})$")
            check(m and int(m[0].group(1), 16) == sectors_sum(data, 5, 256),
                  "cache=%s: the guest's sum differs from the image's" % cache, r)
        # A vhost-user back-end maps the hugetlbfs fd (SET_MEM_TABLE).
        if shutil.which("qemu-storage-daemon") and shutil.which("qemu-img"):
            q = ctx.path("d.qcow2")
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", img, q],
                           check=True, timeout=60)
            r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--mem-path", mnt.path, "--disk", q],
                         args="tk.sector=5 tk.count=256")
            check_pass(r, "blk-read")
            m = r.grep(r"TK: blk read 5 256 sum ([0-9a-f]{8})$")
            check(m and int(m[0].group(1), 16) == sectors_sum(data, 5, 256),
                  "vhost-user-blk on --mem-path: the guest's sum differs from the image's", r)
        else:
            raise TestFailure("qemu-storage-daemon/qemu-img missing (package qemu-system-common, "
                              "qemu-utils): scripts/deps.sh installs them")
        check(meminfo("HugePages_Free") == free0, "huge pages not given back")


@boot_test(90, labels=L, serial=True)
def test_mem_path_errors(ctx):
    k = ctx.elf
    base = [ctx.myvmm, "--kernel", k, "--cmdline", "tk=info", "--timeout", "20"]
    with HugePool(8), HugeMount(ctx) as mnt:
        # 128 MiB needs 64 pages; 8 are free: one line, no guest, nothing taken.
        for what, opt in (("--mem-path %s" % mnt.path, ["--mem-path", mnt.path]),
                          ("--hugepages", ["--hugepages"])):
            argv = base + ["--mem", "128M"] + opt
            bad(ctx, what + " shortage", argv,
                "%s: 128 MiB needs 64 huge pages of 2 MiB, 8 free: raise vm.nr_hugepages "
                "(sysctl -w vm.nr_hugepages=64)" % what)
            check(meminfo("HugePages_Free") == 8 and meminfo("HugePages_Rsvd") == 0,
                  "%s: the failed start kept huge pages" % what)
        check(os.listdir(mnt.path) == [], "a file was left on the mount")
        bad(ctx, "not a multiple", base + ["--mem", "129M", "--mem-path", mnt.path],
            "--mem 129M is not a multiple of the 2 MiB huge pages of --mem-path %s; use --mem 130M"
            % mnt.path)
    bad(ctx, "not hugetlbfs", base + ["--mem-path", ctx.tmp], "not a hugetlbfs mount")
    bad(ctx, "missing", base + ["--mem-path", ctx.path("nope")],
        "--mem-path %s: No such file or directory" % ctx.path("nope"))
    bad(ctx, "device", base + ["--mem-path", "/dev/null"], "not a directory or a regular file")
    bad(ctx, "both", base + ["--mem-path", ctx.tmp, "--hugepages"], "give one")
    bad(ctx, "restore", [ctx.myvmm, "--restore", ctx.path("snap"), "--hugepages"],
        "drop --hugepages")


@boot_test(90, labels=L)
def test_mem_path_file(ctx):
    """An existing file on any filesystem: grown to --mem, shared, locked."""
    f = ctx.path("ram")
    open(f, "wb").close()
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--mem-path", f, "--status-file",
                                 ctx.path("st.json")])
    check_pass(r, "info")
    with open(ctx.path("st.json")) as sf:
        st = json.load(sf)
    check(st.get("memory_path") == f and st.get("memory_bytes") == 64 * MiB,
          "status file: memory_path %r, memory_bytes %r" % (st.get("memory_path"),
                                                           st.get("memory_bytes")), r)
    check_e820(r, 64 * MiB)
    check(os.path.getsize(f) == 64 * MiB, "the RAM file is %d bytes, want 64 MiB"
          % os.path.getsize(f), r)
    # The guest's RAM is the file: the kernel's own bytes are in it.
    with open(f, "rb") as rf:
        ram = rf.read()
    check(b"myvmm test kernel" in ram, "the test kernel's text is not in the RAM file", r)
    # A second VM on the same file is refused while the first runs.
    live = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M", "--mem-path", f, "--api-sock",
                                              ctx.path("api.sock")]))
    try:
        live.wait_line("TK: hanging", timeout=30)
        bad(ctx, "locked", [ctx.myvmm, "--kernel", ctx.elf, "--mem", "64M", "--mem-path", f,
                            "--timeout", "10"], "in use by another VM")
        st, body, _ = vmmtest.call(ctx.path("api.sock"), "GET", "/myvmm/status")
        check(st == 200 and body.get("mem_path") == f and body.get("mem_size_mib") == 64,
              "GET /myvmm/status: %s %s, want mem_path %s" % (st, body, f))
        # Snapshots refuse RAM in a file, with the reason.
        st, body, _ = vmmtest.call(ctx.path("api.sock"), "PATCH", "/vm", {"state": "Paused"})
        check(st == 204, "PATCH /vm Paused: %s %s" % (st, body))
        st, body, _ = vmmtest.call(ctx.path("api.sock"), "PUT", "/snapshot/create",
                                   {"snapshot_path": ctx.path("s"), "mem_file_path": ctx.path("s.mem")})
        check(st == 400 and "--mem-path" in (body or {}).get("fault_message", ""),
              "snapshot of --mem-path RAM: %s %s, want 400 naming --mem-path" % (st, body))
    finally:
        live.kill()
