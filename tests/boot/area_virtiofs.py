"""Shared folders (issue 12): virtio-fs devices served by the real virtiofsd
(Debian 12's /usr/lib/qemu/virtiofsd). The test kernel has no FUSE client, so
its tk=fs scenario speaks just enough FUSE over the request queue (INIT,
LOOKUP/OPEN/READ, CREATE/WRITE) to prove the rings, memory table and config
work: reads match the host's bytes, writes land on the host, ,ro refuses
with EROFS. Also the one-line errors, the daemon's lifecycle (gone after
every exit path) and a daemon killed mid-run."""
import os
import signal
import subprocess
import time

from framework import check, Live, check_pass, bad, sum32, boot_test, TestFailure

L = ("vhost", "virtiofs")
VIRTIOFSD = "/usr/lib/qemu/virtiofsd"
# virtiofsd starts through the daemon spawner (forked before the seccomp
# sandbox): the default. Without the sandbox it is forked directly.
NOSB = []


def virtiofsds(ctx):
    """pids of virtiofsd processes serving a directory of this test."""
    p = subprocess.run(["pgrep", "-f", "virtiofsd.*" + ctx.tmp], stdout=subprocess.PIPE)
    return [int(x) for x in p.stdout.split()]


def no_daemons_left(ctx, r=None, within=3.0):
    # A zombie reparented to a non-reaping init is gone for all purposes.
    end = time.monotonic() + within
    while True:
        alive = [p for p in virtiofsds(ctx) if not is_zombie(p)]
        if not alive or time.monotonic() > end:
            break
        time.sleep(0.05)
    check(not alive, "virtiofsd still running after myvmm exited: %r" % alive, r)


def is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def private_tmp(ctx):
    """A short $TMPDIR of this test's own (myvmm puts daemon dirs there when
    the path is <= 32 bytes), so parallel tests' dirs do not count."""
    import tempfile
    return tempfile.mkdtemp(prefix="vfs", dir="/tmp")


def daemon_dirs(tmp):
    return [d for d in os.listdir(tmp) if d.startswith("myvmm-fs-")]


def no_tmpdirs_left(tmp, r, within=0.0):
    end = time.monotonic() + within
    while daemon_dirs(tmp) and time.monotonic() < end:
        time.sleep(0.05)
    check(not daemon_dirs(tmp), "private virtiofsd directory left behind: %r" % daemon_dirs(tmp), r)


def pattern(seed, n):
    return bytes((seed + i * 7 + (i >> 9)) & 0xff for i in range(n))


def make_share(ctx, name, size=300 * 1024):
    d = ctx.path(name)
    os.makedirs(d, exist_ok=True)
    data = os.urandom(size)
    with open(os.path.join(d, "data.bin"), "wb") as f:
        f.write(data)
    return d, data


@boot_test(90, labels=L)
def test_virtiofs_read_write(ctx):
    # A comma in the directory's name: ",," on the command line, escaped for
    # virtiofsd's option parser.
    share, data = make_share(ctx, "sh,are")
    tmp = private_tmp(ctx)
    r = ctx.boot("pvh", "fs", ["--mem", "64M"] + NOSB + ["--share", share.replace(",", ",,")],
                 args="tk.file=data.bin tk.create=new.bin tk.size=20000 tk.seed=5",
                 env={"TMPDIR": tmp})
    check_pass(r, "fs")
    check(r.has("TK: fs tag share queues 1"), "config: want tag 'share', 1 request queue", r)
    check(r.has("TK: fs status 0xf"), "device not DRIVER_OK|FEATURES_OK after set-up", r)
    check(r.grep(r"TK: fs init error 0 major 7 minor \d+$"), "FUSE_INIT through virtiofsd failed", r)
    want = "TK: fs read data.bin size %d got %d sum %08x error 0" % (len(data), len(data), sum32(data))
    check(r.has(want), "read through virtiofsd differs from the host file (want %r)" % want, r)
    check(r.has("TK: fs create new.bin error 0") and r.has("TK: fs write new.bin 20000 error 0"),
          "create/write through virtiofsd failed", r)
    with open(os.path.join(share, "new.bin"), "rb") as f:
        got = f.read()
    check(got == pattern(5, 20000), "the host sees %d bytes, not the guest's pattern" % len(got), r)
    no_daemons_left(ctx, r)
    no_tmpdirs_left(tmp, r)
    os.rmdir(tmp)
    # Two shares with their own tags, the second one the guest's #1.
    other, odata = make_share(ctx, "other", 5000)
    r = ctx.boot("pvh", "fs", ["--mem", "64M"] + NOSB + ["--share",
                 share.replace(",", ",,") + ",tag=first", "--share", other + ",tag=second"],
                 args="tk.n=1 tk.file=data.bin")
    check_pass(r, "fs")
    check(r.has("TK: fs tag second queues 1"), "second share: wrong tag", r)
    check(r.has("TK: fs read data.bin size 5000 got 5000 sum %08x error 0" % sum32(odata)),
          "second share: wrong file", r)
    no_daemons_left(ctx, r)


@boot_test(90, labels=L)
def test_virtiofs_ro(ctx):
    share, data = make_share(ctx, "ro")
    r = ctx.boot("pvh", "fs", ["--mem", "64M"] + NOSB + ["--share", share + ",ro,tag=rodata"],
                 args="tk.file=data.bin tk.create=new.bin")
    check_pass(r, "fs")
    check(r.has("TK: fs tag rodata queues 1"), "wrong tag", r)
    check(r.has("TK: fs read data.bin size %d got %d sum %08x error 0" % (len(data), len(data), sum32(data))),
          "read from a ro share failed", r)
    check(r.has("TK: fs create new.bin error -30"), "create on a ro share: want -EROFS (-30)", r)
    check(not os.path.exists(os.path.join(share, "new.bin")), "a file appeared in the ro share", r)
    # The read-only mount is the daemon's alone: myvmm's own namespace is untouched.
    with open("/proc/self/mountinfo") as f:
        check(share not in f.read(), "the ro bind mount leaked into the host's namespace", r)
    no_daemons_left(ctx, r)


@boot_test(90, labels=L)
def test_virtiofs_errors(ctx):
    share, _ = make_share(ctx, "err", 100)
    m, elf = ctx.myvmm, ctx.elf
    T = ["--kernel", elf, "--cmdline", "tk=fs", "--timeout", "10", "--mem", "64M"]
    bad(ctx, "missing directory", [m, "--share", ctx.path("nope")] + T + NOSB, "no such file")
    bad(ctx, "not a directory", [m, "--share", os.path.join(share, "data.bin")] + T + NOSB,
        "not a directory")
    bad(ctx, "duplicate tag", [m, "--share", share, "--share", ctx.tmp] + T + NOSB, "already used")
    bad(ctx, "tag too long", [m, "--share", share + ",tag=" + "t" * 37] + T, "1 to 36 bytes")
    bad(ctx, "empty tag", [m, "--share", share + ",tag="] + T, "1 to 36 bytes")
    bad(ctx, "unknown option", [m, "--share", share + ",rx"] + T, "unknown option")
    bad(ctx, "virtiofsd missing", [m, "--share", share] + T + NOSB, "virtiofsd is not installed",
        env={"MYVMM_VIRTIOFSD": "/nonexistent/virtiofsd"})
    bad(ctx, "no daemon at the socket", [m, "--vhost-user-fs", ctx.path("none.sock")] + T,
        "cannot connect")
    no_daemons_left(ctx)


def live_hang(ctx, args, env):
    """myvmm running tk=hang in the background, given up to 10 s to have its
    virtiofsd up (the launcher and its sandboxed server: two processes)."""
    live = Live(ctx.argv(ctx.elf, "tk=hang", args, 30), stdin=subprocess.DEVNULL,
                env=dict(os.environ, **env))
    try:
        end = time.monotonic() + 10
        while len(virtiofsds(ctx)) < 2 and time.monotonic() < end:
            time.sleep(0.05)
    except BaseException:
        live.kill()
        raise
    return live


@boot_test(120, labels=L)
def test_virtiofs_lifecycle(ctx):
    share, _ = make_share(ctx, "life", 100)
    tmp = private_tmp(ctx)
    env = {"TMPDIR": tmp}
    A = ["--mem", "64M"] + NOSB + ["--share", share]
    # --timeout, with the spawner (default sandbox) and forked directly
    for extra in ([], ["--sandbox", "off"]):
        r = ctx.run(ctx.elf, "tk=hang", A + extra, timeout=3, env=env)
        check(r.rc == 124, "--timeout: exit status %s, want 124" % r.rc, r)
        no_daemons_left(ctx, r)
        no_tmpdirs_left(tmp, r)
    # SIGTERM: prompt exit, daemon reaped
    live = live_hang(ctx, A, env)
    try:
        check(len(virtiofsds(ctx)) >= 1, "no virtiofsd started")
        live.p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        r = live.finish(20)
    finally:
        live.kill()
    check(r.rc == 143, "SIGTERM: exit status %s, want 143" % r.rc, r)
    check(time.monotonic() - t0 < 5, "SIGTERM: exit took %.1f s" % (time.monotonic() - t0), r)
    no_daemons_left(ctx, r)
    no_tmpdirs_left(tmp, r)
    # SIGKILL of myvmm: the spawner stops the daemon (its sandboxed server
    # also loses its socket) and removes the private dir.
    live = live_hang(ctx, A, env)
    try:
        live.p.kill()
        live.p.wait()
    finally:
        live.kill()
    no_daemons_left(ctx, None, within=6.0)
    no_tmpdirs_left(tmp, None, within=6.0)
    os.rmdir(tmp)


@boot_test(90, labels=L)
def test_virtiofs_daemon_killed(ctx):
    share, _ = make_share(ctx, "killed", 100)
    # The guest brings the device up (FUSE_INIT answered), then waits for
    # NEEDS_RESET while the host kills the daemon.
    live = Live(ctx.argv(ctx.elf, "tk=fs tk.waitreset=8000", ["--mem", "64M"] + NOSB +
                         ["--share", share], 12), stdin=subprocess.DEVNULL)
    try:
        live.wait_line("TK: fs ready", 20)
        pids = virtiofsds(ctx)
        check(pids, "no virtiofsd running")
        for p in pids:   # the launcher and its sandboxed server
            os.kill(p, signal.SIGKILL)
        r = live.finish(20)
    finally:
        live.kill()
    check(r.has("TK: fs status after wait 0x4f"),
          "the guest did not see NEEDS_RESET (want status 0x4f)", r)
    check_pass(r, "fs")   # and myvmm exits normally afterwards: no hang
    check(r.err.count("went away") == 1 and "needs a reset" in r.err,
          "want exactly one 'went away ... needs a reset' line on stderr", r)
    check("(virtiofsd)" in r.err, "the line does not name virtiofsd", r)


@boot_test(90, labels=L)
def test_virtiofs_external(ctx):
    share, data = make_share(ctx, "ext")
    sock = ctx.path("fs.sock")
    d = subprocess.Popen([VIRTIOFSD, "--socket-path=" + sock, "-o", "source=" + share],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.2)   # bound, then listening
        # The connection is not the daemon's child: works under the sandbox.
        r = ctx.boot("pvh", "fs", ["--mem", "64M", "--vhost-user-fs", sock + ",tag=ext"],
                     args="tk.file=data.bin")
        check_pass(r, "fs")
        check(r.has("TK: fs tag ext queues 1"), "wrong tag", r)
        check(r.has("TK: fs read data.bin size %d got %d sum %08x error 0"
                    % (len(data), len(data), sum32(data))), "wrong read", r)
    finally:
        if d.poll() is None:
            d.kill()
        d.wait()


@boot_test(90, labels=L)
def test_virtiofs_reboot(ctx):
    # A guest reset rebuilds the VM: a new virtiofsd (through the spawner,
    # under the sandbox) serves the same directory; the old one is gone.
    share, data = make_share(ctx, "reboot")
    r = ctx.boot("pvh", "fs", ["--mem", "64M", "--share", share],
                 args="tk.file=data.bin tk.reboot")
    check(r.rc == 0, "exit status %s, want 0 (poweroff after the reboot)" % r.rc, r)
    want = "TK: fs read data.bin size %d got %d sum %08x error 0" % (len(data), len(data), sum32(data))
    check(r.has("TK: fs rebooting") and r.has("TK: fs after reboot"), "the guest did not reboot", r)
    check(sum(1 for l in r.tk if l == want) == 2, "want the file read right before and after "
          "the reboot (%r twice)" % want, r)
    check(r.tk.count("TK: fs status 0xf") == 2, "the device did not come up twice", r)
    no_daemons_left(ctx, r)
