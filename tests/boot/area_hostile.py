"""Hostile guests (issue 10), one per finding class (tests/guest/scenarios/hostile.c):
the VMM keeps running, honours --timeout and SIGTERM within a second, stays under a
memory bound (VmRSS from /proc), keeps --log small and leaves images unchanged."""
import os
import signal
import subprocess
import time

from framework import check, Live, check_pass, make_image, file_md5, boot_test, MiB

GUEST_MEM_MB = 64
# What myvmm may hold beyond guest RAM while a hostile guest runs (its own
# code, slirp, AIO slots, bounded bounce buffers): measured ~20 MiB idle.
RSS_SLACK = 128 * MiB
LOG_BOUND = 64 << 10


def vm_rss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1]) * 1024
    except OSError:
        pass
    return 0


def check_bounded(ctx, scen, extra, args="", watch=1.0):
    """scen never ends: --timeout 2 stops it within a second of the deadline, and
    a live run (watched for `watch` s: RSS sampled) exits within a second of
    SIGTERM."""
    base = ["--mem", "%dM" % GUEST_MEM_MB] + list(extra)
    r = ctx.boot("pvh", scen, base, args=args, timeout="2")
    check(r.has("TK: %s running" % scen.replace("-", " ")),
          "%s never started its attack" % scen, r)
    check(r.rc == 124, "%s: --timeout 2 gave exit status %s, want 124" % (scen, r.rc), r)
    check(r.elapsed <= 3.0, "%s: --timeout 2 took %.2f s (want <= 3)" % (scen, r.elapsed), r)

    v = Live(ctx.argv(ctx.elf, ("tk=%s %s" % (scen, args)).strip(), base),
             stdin=subprocess.DEVNULL)
    v.wait_line("TK: %s running" % scen.replace("-", " "), timeout=20)
    peak, end = 0, time.monotonic() + watch
    while time.monotonic() < end:
        peak = max(peak, vm_rss(v.p.pid))
        time.sleep(0.05)
    t = time.monotonic()
    v.p.send_signal(signal.SIGTERM)
    r = v.finish(timeout=10)
    dt = time.monotonic() - t
    check(r.rc == 143, "%s: SIGTERM gave exit status %s, want 143" % (scen, r.rc), r)
    check(dt <= 1.0, "%s: exit took %.2f s after SIGTERM (want <= 1)" % (scen, dt), r)
    bound = GUEST_MEM_MB * MiB + RSS_SLACK
    check(peak <= bound, "%s: VmRSS %d MiB, bound %d MiB" % (scen, peak >> 20, bound >> 20), r)
    return r, peak


# serial: the 1 s deadlines need a quiet host, as boot.timeout
@boot_test(90, labels=("hostile",), serial=True)
def test_hostile_flood(ctx):
    """Finding 4: the blk avail ring kept full forever must not starve the loop."""
    img, _ = make_image(ctx, "flood.img", 1 * MiB)
    before = file_md5(img)
    check_bounded(ctx, "hostile-flood", ["--disk", img + ",ro"])
    check(file_md5(img) == before, "the read-only image changed")


# serial: the 1 s deadlines need a quiet host, as boot.timeout
@boot_test(90, labels=("hostile",), serial=True)
def test_hostile_reset(ctx):
    """Finding 2: device_status = 0 with reads in flight, forever (blk lock vs
    transport lock): no deadlock, so SIGTERM and --timeout still work."""
    img, _ = make_image(ctx, "reset.img", 2 * MiB)
    before = file_md5(img)
    check_bounded(ctx, "hostile-reset", ["--disk", img + ",ro"])
    check(file_md5(img) == before, "the read-only image changed")


@boot_test(60, labels=("hostile",))
def test_hostile_pvpanic(ctx):
    """Finding 5: 200,000 guest-triggered log messages keep --log and stderr small."""
    log = ctx.path("pvpanic.log")
    r = ctx.boot("pvh", "hostile-pvpanic", ["--mem", "64M", "--log", log])
    check_pass(r, "hostile-pvpanic")
    check(r.has("TK: hostile pvpanic done 200000"), "the guest did not finish its writes", r)
    size = os.path.getsize(log)
    check(size <= LOG_BOUND, "--log grew to %d bytes (bound %d)" % (size, LOG_BOUND), r)
    check(len(r.err) <= LOG_BOUND, "stderr grew to %d bytes" % len(r.err), r)


@boot_test(60, labels=("hostile",))
def test_hostile_exit_codes(ctx):
    """Finding 9: debug-exit values >= 0x40000000 give ((v & 0x7f) << 1) | 1 (no
    signed overflow: the sanitize build checks the UB)."""
    for v in (0x40000000, 0x7fffffff, 0x4000002a):
        r = ctx.boot("pvh", "exit", ["--mem", "64M"], args="tk.code=%d" % v)
        want = ((v & 0x7f) << 1) | 1
        check(r.rc == want, "debug-exit 0x%x: exit status %s, want %d" % (v, r.rc, want), r)


@boot_test(60, labels=("hostile",))
def test_hostile_qsize(ctx):
    """Finding 4: queue_size above QueueSizeMax is refused (read back <= max, or the
    queue is not enabled, or NEEDS_RESET)."""
    img, _ = make_image(ctx, "qsize.img", 1 * MiB)
    r = ctx.boot("pvh", "hostile-qsize", ["--mem", "64M", "--disk", img + ",ro"])
    check_pass(r, "hostile-qsize")
    m = r.grep(r"TK: hostile qsize max (\d+) size (\d+) enable (\d+) status 0x([0-9a-f]+)$")
    check(m, "no 'hostile qsize' line", r)
    mx, size, en = (int(m[0].group(i)) for i in (1, 2, 3))
    st = int(m[0].group(4), 16)
    check(size <= mx or en == 0 or st & 0x40,
          "queue_size 1024 accepted (max %d, size %d, enable %d, status 0x%x)"
          % (mx, size, en, st), r)
