"""Non-raw disks through qemu-storage-daemon as vhost-user-blk (issue 12): the test
kernel's virtio-blk driver reads and writes a qcow2 image, a backing file stays
untouched, locking, a daemon killed mid-run, an external back-end, and the refusal
when qemu-storage-daemon is missing."""
import os
import shutil
import signal
import socket
import subprocess
import time

from framework import (check, Live, check_pass, bad, SECTOR, sectors_sum, file_md5,
                       boot_test, MiB, TestFailure)

L = ("vhost",)


def qemu_img(*args):
    p = subprocess.run(["qemu-img"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise TestFailure("qemu-img %s: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode()


def make_qcow2(ctx, name, size=4 * MiB):
    """A qcow2 image holding `size` random bytes; returns (path, bytes)."""
    data = os.urandom(size)
    raw = ctx.path(name + ".src")
    with open(raw, "wb") as f:
        f.write(data)
    img = ctx.path(name)
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, img)
    os.unlink(raw)
    return img, data


def as_raw(ctx, img):
    out = ctx.path(os.path.basename(img) + ".raw")
    qemu_img("convert", "-O", "raw", img, out)
    with open(out, "rb") as f:
        got = f.read()
    os.unlink(out)
    return got


def daemons(ctx):
    p = subprocess.run(["pgrep", "-f", "qemu-storage-daemon.*" + ctx.tmp], stdout=subprocess.PIPE)
    return p.stdout.split()


def no_daemons_left(ctx, r):
    check(daemons(ctx) == [], "qemu-storage-daemon still running after myvmm exited", r)


PAT = bytes((7 + 7 * i + (i >> 9)) & 0xff for i in range(8 * SECTOR))


def check_written(r, got, orig, what):
    check(r.rc == 0, "%s: exit status %s, want 0 (poweroff)" % (what, r.rc), r)
    for l in ("TK: blk write 100 8 status 0", "TK: blk flush status 0", "TK: blk verify ok"):
        check(r.has(l), "%s: no %r line" % (what, l), r)
    lo, hi = 100 * SECTOR, 108 * SECTOR
    check(len(got) == len(orig), "%s: disk size changed" % what, r)
    check(got[lo:hi] == PAT, "%s: sectors 100..107 are not the guest's pattern" % what, r)
    check(got[:lo] == orig[:lo] and got[hi:] == orig[hi:], "%s: other bytes changed" % what, r)


@boot_test(90, labels=L)
def test_vhost_qcow2_read(ctx):
    img, data = make_qcow2(ctx, "read.qcow2")
    for kind in ("pvh", "bz"):
        r = ctx.boot(kind, "blk-read", ["--mem", "64M", "--disk", img],
                     args="tk.sector=3 tk.count=16")
        check_pass(r, "blk-read")
        check(r.grep(r"TK: blk0 capacity %d ro 0 " % (len(data) // SECTOR)), "wrong capacity", r)
        m = r.grep(r"TK: blk read 3 16 sum ([0-9a-f]{8})$")
        check(m and int(m[0].group(1), 16) == sectors_sum(data, 3, 16),
              "%s: guest sum differs from the image's (%08x)" % (kind, sectors_sum(data, 3, 16)), r)
        no_daemons_left(ctx, r)
    # format= declared: the same image, no probe needed.
    r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img + ",format=qcow2"],
                 args="tk.sector=0 tk.count=8")
    check(r.has("TK: blk read 0 8 sum %08x" % sectors_sum(data, 0, 8)), "format=qcow2: wrong sum", r)


@boot_test(90, labels=L)
def test_vhost_qcow2_write(ctx):
    img, orig = make_qcow2(ctx, "write.qcow2")
    r = ctx.boot("pvh", "blk-write", ["--mem", "64M", "--disk", img],
                 args="tk.sector=100 tk.count=8 tk.seed=7")
    check_written(r, as_raw(ctx, img), orig, "qcow2")
    out = qemu_img("check", img)
    check("No errors were found" in out, "qemu-img check: %s" % out, r)
    # ,ro: the back-end exports read-only, the guest's write fails.
    r = ctx.boot("pvh", "blk-ro", ["--mem", "64M", "--disk", img + ",ro"])
    check_pass(r, "blk-ro")
    check(r.has("TK: blk ro write status 1"), "write to a ro qcow2 did not fail with status 1", r)


@boot_test(90, labels=L)
def test_vhost_qcow2_backing(ctx):
    base = ctx.path("base.raw")
    orig = os.urandom(4 * MiB)
    with open(base, "wb") as f:
        f.write(orig)
    before = file_md5(base)
    top = ctx.path("top.qcow2")
    qemu_img("create", "-f", "qcow2", "-b", base, "-F", "raw", top)
    r = ctx.boot("pvh", "blk-write", ["--mem", "64M", "--disk", top],
                 args="tk.sector=100 tk.count=8 tk.seed=7")
    check_written(r, as_raw(ctx, top), orig, "qcow2 over a raw backing file")
    check(file_md5(base) == before, "the backing file changed", r)


@boot_test(90, labels=L)
def test_vhost_qcow2_locked(ctx):
    img, _ = make_qcow2(ctx, "locked.qcow2")
    m, elf = ctx.myvmm, ctx.elf
    T = ["--timeout", "10", "--mem", "64M", "--cmdline", "tk=blk-read"]
    holder = Live(ctx.argv(elf, "tk=hang", ["--mem", "64M", "--disk", img], 30),
                  stdin=subprocess.DEVNULL)
    try:
        time.sleep(2)   # the holder's daemon has the image open and locked
        check(holder.p.poll() is None, "the first VM exited early")
        bad(ctx, "qcow2 held by another VM", [m, "--kernel", elf, "--disk", img] + T, "lock")
    finally:
        holder.kill()


@boot_test(90, labels=L)
def test_vhost_daemon_killed(ctx):
    img, _ = make_qcow2(ctx, "killed.qcow2")
    live = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M", "--disk", img], 6),
                stdin=subprocess.DEVNULL)
    try:
        time.sleep(2)
        pids = daemons(ctx)
        check(len(pids) == 1, "want one qemu-storage-daemon for myvmm, got %r" % pids)
        os.kill(int(pids[0]), signal.SIGKILL)
        r = live.finish(20)
    finally:
        live.kill()
    check(r.rc == 124, "exit status %s, want 124 (--timeout still honoured)" % r.rc, r)
    check("went away" in r.err and "needs a reset" in r.err,
          "no clear line about the dead back-end on stderr", r)
    check(r.err.count("went away") == 1, "the back-end's death reported more than once", r)


@boot_test(90, labels=L)
def test_vhost_external_backend(ctx):
    img, data = make_qcow2(ctx, "ext.qcow2")
    sock = ctx.path("ext.sock")
    qsd = subprocess.Popen(["qemu-storage-daemon", "--blockdev",
                            "driver=file,node-name=f,filename=" + img, "--blockdev",
                            "driver=qcow2,node-name=d,file=f", "--export",
                            "type=vhost-user-blk,id=e,node-name=d,addr.type=unix,addr.path=%s,"
                            "writable=on" % sock], stdin=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < end:
            time.sleep(0.05)
        r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", "vhost-user:" + sock],
                     args="tk.sector=3 tk.count=16")
        check_pass(r, "blk-read")
        check(r.has("TK: blk read 3 16 sum %08x" % sectors_sum(data, 3, 16)), "wrong sum", r)
        check(qsd.poll() is None, "the external back-end did not survive the VM")
    finally:
        qsd.kill()
        qsd.wait()
    bad(ctx, "no back-end listening", [ctx.myvmm, "--kernel", ctx.elf, "--disk",
        "vhost-user:" + sock, "--timeout", "10", "--mem", "64M"], "cannot connect")


@boot_test(60, labels=L)
def test_vhost_daemon_missing(ctx):
    img, _ = make_qcow2(ctx, "missing.qcow2")
    bad(ctx, "qcow2 without qemu-storage-daemon",
        [ctx.myvmm, "--kernel", ctx.elf, "--disk", img, "--timeout", "10", "--mem", "64M"],
        "qemu-img convert", env={"PATH": "/nonexistent"})


@boot_test(120, labels=L)
def test_vhost_qcow2_reboot(ctx):
    """A guest reset rebuilds the VM under the default sandbox: the daemon
    is stopped (its metadata flushed) and a new one started through the
    spawner; the data written before the reset reads back after it."""
    img, orig = make_qcow2(ctx, "reboot.qcow2")
    r = ctx.boot("pvh", "blk-reboot", ["--mem", "64M", "--disk", img],
                 args="tk.sector=100 tk.count=8 tk.seed=7")
    check(r.rc == 0, "exit status %s, want 0 (poweroff after the reboot)" % r.rc, r)
    for l in ("TK: blk write 100 8 status 0", "TK: blk rebooting", "TK: blk after reboot verify ok"):
        check(r.has(l), "no %r line" % l, r)
    check(not r.grep("TK: FAIL"), "guest printed FAIL", r)
    check("forbidden" not in r.err, "the sandbox stopped something", r)
    got = as_raw(ctx, img)
    check(got[100 * SECTOR:108 * SECTOR] == PAT, "sectors 100..107 are not the guest's pattern", r)
    check(got[:100 * SECTOR] == orig[:100 * SECTOR], "other bytes changed", r)
    out = qemu_img("check", img)
    check("No errors were found" in out, "qemu-img check: %s" % out, r)
    no_daemons_left(ctx, r)


def qsd_dirs(tmp):
    return sorted(d for d in os.listdir(tmp) if d.startswith("myvmm-qsd-"))


@boot_test(90, labels=L)
def test_vhost_myvmm_killed(ctx):
    """myvmm SIGKILLed: its spawner still stops the daemon (SIGTERM: the image
    stays clean) and removes the private dir; a dir of a dead myvmm left by
    an older crash is removed at the next start, a live one's is kept."""
    tmp = ctx.path("t")
    os.mkdir(tmp)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = os.path.join(tmp, "myvmm-qsd-%d-aBc123" % dead.pid)
    live_dir = os.path.join(tmp, "myvmm-qsd-%d-xYz789" % os.getpid())
    for d in (stale, live_dir):
        os.mkdir(d)
        with open(os.path.join(d, "stderr"), "w") as f:
            f.write("x\n")
    img, _ = make_qcow2(ctx, "k.qcow2")
    env = dict(os.environ, TMPDIR=tmp)
    live = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M", "--disk", img], 30),
                stdin=subprocess.DEVNULL, env=env)
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and len(daemons(ctx)) != 1:
            time.sleep(0.1)
        check(len(daemons(ctx)) == 1, "want one qemu-storage-daemon, got %r" % daemons(ctx))
        time.sleep(0.5)
        check(not os.path.exists(stale), "the dead myvmm's dir was not removed")
        check(os.path.exists(live_dir), "a live process's dir was removed")
        check(len(qsd_dirs(tmp)) == 2, "want this VM's dir and the live one, got %r" % qsd_dirs(tmp))
        live.p.kill()
        live.p.wait(10)
    finally:
        live.kill()
    end = time.monotonic() + 10
    while time.monotonic() < end and (daemons(ctx) or len(qsd_dirs(tmp)) > 1):
        time.sleep(0.1)
    check(daemons(ctx) == [], "qemu-storage-daemon outlived a SIGKILLed myvmm")
    check(qsd_dirs(tmp) == [os.path.basename(live_dir)],
          "the killed myvmm's dir was left behind: %r" % qsd_dirs(tmp))
    out = qemu_img("check", img)
    check("No errors were found" in out, "qemu-img check after SIGKILL: %s" % out)


@boot_test(90, labels=L)
def test_vhost_msix_irqfd(ctx):
    """The back-end's call eventfd is a KVM irqfd on the queue's MSI-X vector
    while it can deliver (the completion interrupt comes back-end -> KVM ->
    guest); masking the vector relays it instead (pending bit, no interrupt),
    unmasking binds it again and delivers the pending one."""
    img, data = make_qcow2(ctx, "msix.qcow2", 1 * MiB)
    r = ctx.boot("pvh", "msix", ["--mem", "64M", "--debug", "--disk", img], args="tk.dev=blk")
    check_pass(r, "msix")
    check(r.has("TK: msix vector 0x42 fired 1"), "queue vector 0x42 did not fire", r)
    check(r.has("TK: msix blk read 0 1 status 0 sum %08x" % sectors_sum(data, 0, 1)),
          "wrong sector 0 sum", r)
    check(r.has("TK: msix masked fired 0 pba 0x2"), "masked vector fired or not pending", r)
    check(r.has("TK: msix masked pending ok"), "pending vector not delivered on unmask", r)
    ev = [l for l in r.err.splitlines() if "interrupts from the back-end" in l]
    kinds = ["relay" if "relayed" in l else "irqfd" for l in ev]
    check(kinds[:3] == ["irqfd", "relay", "irqfd"],
          "want irqfd, relayed while masked, irqfd again; got %r" % ev, r)
