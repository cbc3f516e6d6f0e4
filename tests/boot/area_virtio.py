"""virtio devices through the test kernel's polled driver: blk (read, write, ro, two
disks, errors, a hostile guest, a queue-depth benchmark), rng and console."""
import os
import shutil
import subprocess

from framework import (TestFailure, check, Live, check_pass, bad, SECTOR, make_image,
                       sectors_sum, file_md5, boot_test, MiB)


def odirect_dir(ctx):
    """A directory whose file system accepts O_DIRECT (tmpfs does not):
    the temp dir if it works there, else a directory beside myvmm (the build dir)."""
    cands = [ctx.tmp, os.path.join(os.path.dirname(ctx.myvmm), "boot-test-odirect")]
    for d in cands:
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, ".odirect-probe")
        try:
            with open(p, "wb") as f:
                f.write(bytes(4096))
            fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
            try:
                import mmap
                buf = mmap.mmap(-1, 4096)
                os.preadv(fd, [buf], 0)
            finally:
                os.close(fd)
            return d
        except OSError:
            continue
        finally:
            try:
                os.unlink(p)
            except OSError:
                pass
    raise TestFailure("no directory supporting O_DIRECT among %s" % cands)


def check_blk_read(r, data, sector, count, serial, disk=0, scen="blk-read"):
    check_pass(r, scen)
    cap = len(data) // SECTOR
    check(r.has("TK: blk%d capacity %d ro 0 serial %s" % (disk, cap, serial)),
          "expected 'blk%d capacity %d ro 0 serial %s'" % (disk, cap, serial), r)
    want = sectors_sum(data, sector, count)
    m = r.grep(r"TK: blk read %d %d sum ([0-9a-f]{8})$" % (sector, count))
    check(m, "no 'blk read %d %d sum' line" % (sector, count), r)
    check(int(m[0].group(1), 16) == want, "guest sum %s, host sum %08x" % (m[0].group(1), want), r)
    return int(m[0].group(1), 16)


@boot_test(60)
def test_virtio_blk_read(ctx):
    img, data = make_image(ctx, "read.img", 4 * MiB)
    for kind in ("pvh", "bz"):
        r = ctx.boot(kind, "blk-read", ["--mem", "64M", "--disk", img + ",serial=SN-1"],
                     args="tk.sector=3 tk.count=16")
        check_blk_read(r, data, 3, 16, "SN-1")
        check(r.grep(r"TK: pci 00:[0-9a-f]{2}\.\d 1af4:1042 class 010000$"),
              "%s: no virtio-blk PCI function (1af4:1042 class 010000) listed" % kind, r)
    # The same read through an indirect descriptor table.
    r = ctx.boot("pvh", "blk-indirect", ["--mem", "64M", "--disk", img],
                 args="tk.sector=3 tk.count=16")
    check_pass(r, "blk-indirect")
    want = sectors_sum(data, 3, 16)
    check(r.has("TK: blk indirect read 3 16 sum %08x" % want),
          "indirect read: want sum %08x" % want, r)


def blk_write_case(ctx, kind, directory, cache):
    img = os.path.join(directory, "write-%s-%s.img" % (kind, (cache or "default").replace("=", "-")))
    orig = os.urandom(4 * MiB)
    with open(img, "wb") as f:
        f.write(orig)
    spec = img + ("," + cache if cache else "")
    r = ctx.boot(kind, "blk-write", ["--mem", "64M", "--disk", spec],
                 args="tk.sector=100 tk.count=8 tk.seed=7")
    try:
        got = open(img, "rb").read()
    finally:
        if directory != ctx.tmp:
            os.unlink(img)
    what = "%s %s" % (kind, cache or "cache=writeback")
    check(r.rc == 0, "%s: exit status %s, want 0 (poweroff)" % (what, r.rc), r)
    for l in ("TK: blk write 100 8 status 0", "TK: blk flush status 0", "TK: blk verify ok",
              "TK: poweroff"):
        check(r.has(l), "%s: no %r line" % (what, l), r)
    check(not r.grep("TK: FAIL"), "guest printed FAIL", r)
    check(len(got) == len(orig), "%s: image size changed %d -> %d" % (what, len(orig), len(got)), r)
    pat = bytes((7 + 7 * i + (i >> 9)) & 0xff for i in range(8 * SECTOR))
    lo, hi = 100 * SECTOR, 108 * SECTOR
    check(got[lo:hi] == pat, "%s: bytes at sector 100..107 are not the guest's pattern" % what, r)
    check(got[:lo] == orig[:lo] and got[hi:] == orig[hi:],
          "%s: bytes outside sectors 100..107 changed" % what, r)


@boot_test(60)
def test_virtio_blk_write(ctx):
    blk_write_case(ctx, "pvh", ctx.tmp, None)
    blk_write_case(ctx, "bz", ctx.tmp, None)
    d = odirect_dir(ctx)
    if d != ctx.tmp:
        print("note: %s lacks O_DIRECT; cache=none image in %s" % (ctx.tmp, d), flush=True)
    try:
        blk_write_case(ctx, "pvh", d, "cache=none")
    finally:
        if d != ctx.tmp:
            shutil.rmtree(d, ignore_errors=True)


@boot_test(60)
def test_virtio_blk_ro(ctx):
    img, data = make_image(ctx, "ro.img", 1 * MiB)
    before = file_md5(img)
    r = ctx.boot("pvh", "blk-ro", ["--mem", "64M", "--disk", img + ",ro"])
    check_pass(r, "blk-ro")
    check(r.has("TK: blk ro write status 1"), "write to a ro disk did not fail with status 1", r)
    check(file_md5(img) == before, "read-only image changed", r)


@boot_test(60)
def test_virtio_blk_two(ctx):
    a, da = make_image(ctx, "two-a.img", 4 * MiB)
    b, db = make_image(ctx, "two-b.img", 2 * MiB)
    r = ctx.boot("pvh", "blk-two", ["--mem", "64M", "--disk", a + ",serial=DISK-A",
                                    "--disk", b + ",ro,serial=DISK-B"])
    check_pass(r, "blk-two")
    for i, (d, ser, ro) in enumerate(((da, "DISK-A", 0), (db, "DISK-B", 1))):
        line = "TK: blk%d capacity %d ro %d serial %s" % (i, len(d) // SECTOR, ro, ser)
        check(r.has(line), "expected %r" % line, r)
        line = "TK: blk%d read 0 1 sum %08x" % (i, sectors_sum(d, 0, 1))
        check(r.has(line), "expected %r" % line, r)


@boot_test(60)
def test_virtio_blk_errors(ctx):
    m, elf = ctx.myvmm, ctx.elf
    T = ["--timeout", "10", "--mem", "64M", "--cmdline", "tk=blk-read"]
    odd = ctx.path("odd.img")
    open(odd, "wb").write(os.urandom(1000))
    d = ctx.path("adir")
    os.makedirs(d, exist_ok=True)
    missing = ctx.path("missing.img")
    bad(ctx, "missing image", [m, "--kernel", elf, "--disk", missing] + T, missing)
    bad(ctx, "directory image", [m, "--kernel", elf, "--disk", d] + T, "directory")
    bad(ctx, "1000-byte image", [m, "--kernel", elf, "--disk", odd] + T, "multiple of 512")
    bad(ctx, "unknown disk option", [m, "--kernel", elf, "--disk", odd + ",frob"] + T, "frob")

    img, data = make_image(ctx, "locked.img", 1 * MiB)
    holder = Live(ctx.argv(elf, "tk=hang", ["--mem", "64M", "--disk", img], 30),
                  stdin=subprocess.DEVNULL)
    try:
        holder.wait_line("TK: hanging")
        bad(ctx, "image held by another VM", [m, "--kernel", elf, "--disk", img] + T, "in use")
        bad(ctx, "image held rw, second ro", [m, "--kernel", elf, "--disk", img + ",ro"] + T, "in use")
    finally:
        holder.kill()
    # Released when the holder dies.
    r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img])
    check_pass(r, "blk-read")
    # Read-only opens share the image.
    holder = Live(ctx.argv(elf, "tk=hang", ["--mem", "64M", "--disk", img + ",ro"], 30),
                  stdin=subprocess.DEVNULL)
    try:
        holder.wait_line("TK: hanging")
        r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img + ",ro"])
        check_pass(r, "blk-read")
        check(r.has("TK: blk read 0 8 sum %08x" % sectors_sum(data, 0, 8)), "wrong sum", r)
        check(r.grep(r"TK: blk0 capacity 2048 ro 1 "), "second ro VM: disk not ro", r)
    finally:
        holder.kill()



@boot_test(120)
def test_virtio_blk_lock_after_kill(ctx):
    """A VM killed with SIGKILL releases its image's lock by the time it is
    reaped, with every I/O engine: a VM started right after finds the image
    free. With the image as a registered io_uring file the ring kept it (and
    the lock) until the kernel's deferred ring teardown: 3 of 10 restarts
    right after a kill were refused as "in use"."""
    elf = ctx.kernel("pvh")
    img, data = make_image(ctx, "killed.img", 1 * MiB)
    for aio, rounds in (("io_uring", 6), ("native", 2), ("threads", 2)):
        spec = "%s,aio=%s" % (img, aio)
        for i in range(rounds):
            holder = Live(ctx.argv(elf, "tk=hang", ["--mem", "64M", "--disk", spec], 30),
                          stdin=subprocess.DEVNULL)
            try:
                holder.wait_line("TK: hanging")
            finally:
                holder.kill()
            r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", spec])
            check("in use" not in r.err, "aio=%s round %d: image still locked after the "
                  "holder was killed and reaped" % (aio, i + 1), r)
            check_pass(r, "blk-read")
            check(r.has("TK: blk read 0 8 sum %08x" % sectors_sum(data, 0, 8)), "wrong sum", r)

def check_blk_disks(r, imgs, origs, what, sector=64, count=16):
    """blk-disks: each disk read, written (per-disk pattern), flushed, read back,
    then write-zeroes over the first half and discard of the second half:
    the guest sees zeroes and so does the file; nothing else changed."""
    check(r.rc == 0, "%s: exit status %s, want 0 (poweroff)" % (what, r.rc), r)
    check(not r.grep("TK: FAIL"), "%s: guest printed FAIL" % what, r)
    lo, hi = sector * SECTOR, (sector + count) * SECTOR
    for d, (img, orig) in enumerate(zip(imgs, origs)):
        line = "TK: blk%d read 0 8 sum %08x" % (d, sectors_sum(orig, 0, 8))
        check(r.has(line), "%s: disk %d: no %r" % (what, d, line), r)
        line = "TK: blk%d write %d %d verify ok" % (d, sector, count)
        check(r.has(line), "%s: disk %d: no %r" % (what, d, line), r)
        line = "TK: blk%d zeroes 0 discard 0 read 0 sum 00000000" % d
        check(r.has(line), "%s: disk %d: no %r" % (what, d, line), r)
        got = open(img, "rb").read()
        check(len(got) == len(orig), "%s: disk %d size changed" % (what, d), r)
        check(got[lo:hi] == bytes(hi - lo), "%s: disk %d: sectors %d..%d are not zero on the host"
              % (what, d, sector, sector + count - 1), r)
        check(got[:lo] == orig[:lo] and got[hi:] == orig[hi:],
              "%s: disk %d: bytes outside the written range changed" % (what, d), r)


@boot_test(90)
def test_virtio_blk_engines(ctx):
    """The raw-disk I/O engines, four disks per boot: io_uring and libaio
    (native) with O_DIRECT, io_uring and threads on the page cache; then
    the same with io_uring refused at the probe (the test hook), where auto
    falls back to libaio and a forced aio=io_uring fails with one line.
    --log shows which engine each disk got."""
    d = odirect_dir(ctx)
    try:
        for case, specs, env, engines in (
                ("engines", ["aio=io_uring,cache=none", "aio=native,cache=none",
                             "aio=io_uring", "aio=threads"], None,
                 ["io_uring", "native", "io_uring", "threads"]),
                ("fallback", ["cache=none", "", "aio=native", "aio=threads,cache=none"],
                 {"MYVMM_TEST_URING_FAIL": "1"}, ["native", "native", "native", "threads"])):
            imgs, origs, extra = [], [], ["--mem", "64M"]
            for i, spec in enumerate(specs):
                img = os.path.join(d if "cache=none" in spec else ctx.tmp, "%s-%d.img" % (case, i))
                orig = os.urandom(2 * MiB)
                open(img, "wb").write(orig)
                imgs.append(img)
                origs.append(orig)
                extra += ["--disk", img + ("," + spec if spec else "")]
            log = ctx.path("%s.log" % case)
            r = ctx.boot("pvh", "blk-disks", extra + ["--log", log], env=env)
            check_blk_disks(r, imgs, origs, case)
            text = open(log).read()
            for img, spec, eng in zip(imgs, specs, engines):
                want = "disk %s: %s I/O" % (img, eng)
                check(want in text, "%s: log lacks %r (disk %s)" % (case, want, spec or "default"), r)
        img = os.path.join(ctx.tmp, "forced.img")
        open(img, "wb").write(bytes(MiB))
        bad(ctx, "aio=io_uring refused", ctx.argv(ctx.elf, "tk=blk-read", ["--mem", "64M",
            "--disk", img + ",aio=io_uring"], 10), "io_uring unavailable",
            env={"MYVMM_TEST_URING_FAIL": "1"})
        bad(ctx, "unknown aio", ctx.argv(ctx.elf, "tk=blk-read", ["--mem", "64M",
            "--disk", img + ",aio=posix"], 10), "aio=io_uring|native|threads")
    finally:
        if d != ctx.tmp:
            shutil.rmtree(d, ignore_errors=True)


@boot_test(60)
def test_virtio_hostile(ctx):
    img, data = make_image(ctx, "hostile.img", 1 * MiB)
    before = file_md5(img)
    r = ctx.boot("pvh", "hostile", ["--mem", "64M", "--disk", img])
    check_pass(r, "hostile")   # exit 1: myvmm survived and the guest finished
    check("Segmentation" not in r.err and "Aborted" not in r.err, "myvmm crashed", r)
    m = r.grep(r"TK: hostile loop status 0x([0-9a-f]+) used ([01])$")
    check(m and int(m[0].group(1), 16) & 0x40, "descriptor loop did not set NEEDS_RESET (0x40)", r)
    check(m[0].group(2) == "0", "a looping chain was completed (used 1)", r)
    m = r.grep(r"TK: hostile badaddr (\S+) status 0x([0-9a-f]+) blk \d+$")
    check(m and m[0].group(1) in ("needs_reset", "ioerr"),
          "bad buffer address: want needs_reset or ioerr", r)
    m = r.grep(r"TK: hostile qsize3 (\S+) size \d+ enable \d+ status 0x([0-9a-f]+)$")
    check(m and m[0].group(1) == "needs_reset" and int(m[0].group(2), 16) & 0x40,
          "queue size 3: want needs_reset", r)
    check(r.has("TK: hostile read 0 1 sum %08x" % sectors_sum(data, 0, 1)),
          "device unusable after reset: wrong or missing read sum", r)
    check(file_md5(img) == before, "hostile guest changed the image", r)


@boot_test(60)
def test_virtio_rng(ctx):
    seen = []
    for _ in range(2):
        r = ctx.boot("pvh", "rng", ["--mem", "64M"])
        check_pass(r, "rng")
        m = r.grep(r"TK: rng ([0-9a-f]{128})$")
        check(m, "no 'rng <128 hex digits>' line", r)
        h = m[0].group(1)
        check(len(set(h[i:i + 2] for i in range(0, 128, 2))) > 1, "all 64 bytes equal", r)
        seen.append(h)
    check(seen[0] != seen[1], "two boots got the same 64 random bytes: %s" % seen[0])


@boot_test(60)
def test_virtio_console(ctx):
    r = ctx.boot("pvh", "vcons", ["--mem", "64M", "--console", "virtio"])
    check_pass(r, "vcons")
    check(r.has("TK: vcons sent"), "no 'vcons sent'", r)
    check("hello from hvc0" in r.lines, "stdout lacks the hvc0 line 'hello from hvc0'", r)


@boot_test(90)
def test_virtio_blk_bench_qd(ctx):
    img, data = make_image(ctx, "bench.img", 4 * MiB)
    before = file_md5(img)
    runs = [("randread", 1, 8)] * 3 + [("seqread", 1, 4)] * 3
    for mode, mib, qd in runs:
        r = ctx.boot("pvh", "blk-bench", ["--mem", "64M", "--disk", img],
                     args="tk.mode=%s tk.mib=%d tk.qd=%d" % (mode, mib, qd))
        check_pass(r, "blk-bench")
        m = r.grep(r"TK: bench %s bytes (\d+) ticks \d+ us (\d+)$" % mode)
        check(m and int(m[0].group(1)) == mib * MiB,
              "%s qd %d: no bench line with %d bytes" % (mode, qd, mib * MiB), r)
    check(file_md5(img) == before, "read benchmark changed the image")
