"""The exit contract: how each way of stopping maps to an exit status, the stderr
message and the --status-file JSON."""
import json
import os
import re
import signal
import subprocess
import time

from framework import (TestFailure, check, Live, check_pass, bad, boot_test, MiB,
                       SAFETY_TIMEOUT)


@boot_test(60)
def test_poweroff(ctx):
    for kind in ("pvh", "bz"):
        r = ctx.boot(kind, "poweroff", ["--mem", "64M"])
        check(r.rc == 0, "tk=poweroff (%s): exit status %s, want 0" % (kind, r.rc), r)
        check(r.has("TK: poweroff"), "no 'TK: poweroff' line", r)
        check(not r.grep("TK: FAIL"), "guest printed FAIL", r)


@boot_test(90)
def test_reset_restart(ctx):
    for how in ("cf9", "kbd", "acpi"):
        scen = "reset-" + how
        r = ctx.boot("pvh", scen, ["--mem", "64M"])
        check_pass(r, scen)
        banners = [i for i, l in enumerate(r.tk) if l.startswith("TK: myvmm test kernel")]
        check(len(banners) == 2, "%s: want 2 banners (boot, reboot), got %d" % (scen, len(banners)), r)
        check(r.has("TK: resetting via %s" % how), "no 'resetting via' line", r)
        check(r.tk.index("TK: rebooted") > banners[1], "'rebooted' not after the second banner", r)
        r = ctx.boot("pvh", scen, ["--mem", "64M", "--no-reboot"])
        check(r.rc == 0, "%s --no-reboot: exit status %s, want 0" % (scen, r.rc), r)
        banners = [l for l in r.tk if l.startswith("TK: myvmm test kernel")]
        check(len(banners) == 1, "%s --no-reboot: want 1 banner, got %d" % (scen, len(banners)), r)
        check(not r.has("TK: rebooted"), "--no-reboot but the guest rebooted", r)
        check(not r.grep("TK: FAIL"), "guest printed FAIL", r)


@boot_test(60)
def test_debug_exit(ctx):
    for n in (0, 1, 5, 42):
        r = ctx.boot("pvh", "exit", ["--mem", "64M"], args="tk.code=%d" % n)
        check(r.has("TK: exit %d" % n), "no 'TK: exit %d'" % n, r)
        check(r.rc == ((n << 1) | 1) & 0xff, "tk.code=%d: exit status %s, want %d"
              % (n, r.rc, (n << 1) | 1), r)


@boot_test(60, serial=True)
def test_timeout(ctx):
    for t, lo, hi in (("2", 2.0, 3.0), ("0.5", 0.5, 1.5)):
        r = ctx.boot("pvh", "hang", ["--mem", "64M"], timeout=t)
        check(r.rc == 124, "--timeout %s: exit status %s, want 124" % (t, r.rc), r)
        check(lo <= r.elapsed <= hi, "--timeout %s: took %.2f s, want %.1f-%.1f s"
              % (t, r.elapsed, lo, hi), r)
        check("timeout" in r.err.lower(), "stderr does not mention the timeout", r)
        if t == "2":  # 0.5 s may pass before the guest prints on a loaded host
            check(r.has("TK: hanging"), "guest never reached the hang", r)


@boot_test(60)
def test_internal_error(ctx):
    for kind, efer in (("pvh", None), ("bz", "500")):
        r = ctx.boot(kind, "int3", ["--mem", "64M"])
        check(r.rc == 3, "tk=int3 (%s): exit status %s, want 3" % (kind, r.rc), r)
        for word in ("RIP", "CR0", "EFER", "code at RIP: cc"):
            check(word in r.err, "register dump lacks %r" % word, r)
        if efer:  # long mode: EFER.LME|LMA in the dump
            check(re.search(r"EFER 0*%s\b" % efer, r.err), "EFER %s not in the 64-bit dump" % efer, r)
        if os.path.exists("/sys/module/kvm_pvm"):
            check("PVM" in r.err and "hint" in r.err, "no PVM hint on a PVM host", r)
        check(r.has("TK: int3"), "guest never reached int3", r)


@boot_test(60)
def test_signals(ctx):
    for sig, want in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        sf = ctx.path("signal-%d.json" % sig)
        v = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M", "--status-file", sf]),
                 stdin=subprocess.DEVNULL)
        v.wait_line("TK: hanging")
        t = time.monotonic()
        v.p.send_signal(sig)
        r = v.finish()
        dt = time.monotonic() - t
        check(r.rc == want, "%s: exit status %s, want %d" % (sig.name, r.rc, want), r)
        check(dt < 3, "%s: took %.1f s to exit" % (sig.name, dt), r)
        st = json.load(open(sf))
        check(st.get("reason") == "signal" and st.get("signal") == int(sig)
              and st.get("exit_code") == want, "%s: status file %r" % (sig.name, st), r)


def status_of(ctx, kind, scen, extra=(), args="", timeout=SAFETY_TIMEOUT):
    p = ctx.path("status-%s.json" % scen)
    if os.path.exists(p):
        os.unlink(p)
    r = ctx.boot(kind, scen, ["--mem", "64M", "--cpus", "2", "--status-file", p] + list(extra),
                 args=args, timeout=timeout)
    try:
        with open(p) as f:
            st = json.load(f)
    except (OSError, ValueError) as e:
        raise TestFailure("status file for tk=%s unreadable: %s\n%s" % (scen, e, r.describe()))
    check(st.get("exit_code") == r.rc, "status exit_code %s but process exit status %s"
          % (st.get("exit_code"), r.rc), r)
    check(st.get("cpus") == 2, "status cpus %s, want 2" % st.get("cpus"), r)
    check(st.get("memory_bytes") == 64 * MiB, "status memory_bytes %s" % st.get("memory_bytes"), r)
    check(st.get("kernel") == ctx.kernel(kind), "status kernel %r" % st.get("kernel"), r)
    lines = st.get("last_console_lines")
    check(isinstance(lines, list) and r.tk and r.tk[-1] in [l.rstrip("\r") for l in lines],
          "last_console_lines %r lacks the last TK line %r" % (lines, r.tk[-1:]), r)
    return r, st


@boot_test(90)
def test_status_file(ctx):
    cases = [("poweroff", [], "", "poweroff", 0),
             ("exit", [], "tk.code=5", "debug-exit", 11),
             ("hang", [], "", "timeout", 124),
             ("int3", [], "", "internal-error", 3),
             ("reset-cf9", ["--no-reboot"], "", "reset", 0)]
    for scen, extra, args, reason, code in cases:
        r, st = status_of(ctx, "pvh", scen, extra, args, timeout=1 if scen == "hang" else SAFETY_TIMEOUT)
        check(st.get("reason") == reason, "tk=%s: reason %r, want %r" % (scen, st.get("reason"), reason), r)
        check(r.rc == code, "tk=%s: exit status %s, want %d" % (scen, r.rc, code), r)
        check(isinstance(st.get("wall_time_ms"), int), "wall_time_ms not an integer", r)
    r, st = status_of(ctx, "pvh", "reset-cf9")
    check(r.rc == 1 and st.get("reason") == "debug-exit" and st.get("resets") == 1,
          "reset then PASS: exit %s reason %r resets %r, want 1 debug-exit 1"
          % (r.rc, st.get("reason"), st.get("resets")), r)
    r, st = status_of(ctx, "pvh", "exit", args="tk.code=5")
    check(st.get("debug_exit_value") == 5, "debug_exit_value %r" % st.get("debug_exit_value"), r)
    r, st = status_of(ctx, "pvh", "info", ["--expect", "PASS info"])
    check(r.rc == 0 and st.get("reason") == "expect-match",
          "--expect: exit %s reason %r, want 0 expect-match" % (r.rc, st.get("reason")), r)
    r, st = status_of(ctx, "pvh", "info", ["--expect-fail", "TK: PASS"])
    check(r.rc == 5, "--expect-fail: exit status %s, want 5" % r.rc, r)
    check(st.get("reason") == "expect-fail-match", "--expect-fail reason %r" % st.get("reason"), r)


@boot_test(60)
def test_marker(ctx):
    log = ctx.path("marker.log")
    r, st = status_of(ctx, "pvh", "marker", ["--log", log])
    check_pass(r, "marker")
    text = open(log, errors="replace").read()
    check("guest reached userspace at" in text, "log lacks the marker message: %r" % text[-500:], r)
    check(isinstance(st.get("boot_marker_ms"), int) and 0 <= st["boot_marker_ms"] <= r.elapsed * 1000 + 50,
          "boot_marker_ms %r not a plausible number" % st.get("boot_marker_ms"), r)


@boot_test(60)
def test_pvpanic(ctx):
    sf = ctx.path("panic.json")
    r = ctx.boot("pvh", "panic", ["--mem", "64M", "--status-file", sf])
    check(r.rc == 4, "tk=panic: exit status %s, want 4" % r.rc, r)
    check("guest panicked" in r.err, "stderr lacks 'guest panicked'", r)
    check(r.has("TK: panicking") and r.grep(r"TK: pvpanic events 0x[0-9a-f]*[13579bdf]$"),
          "pvpanic device missing or PANICKED event not offered", r)
    check(not r.grep("TK: FAIL"), "guest kept running after the panic write", r)
    st = json.load(open(sf))
    check(st.get("reason") == "panic" and st.get("exit_code") == 4, "status file %r" % st, r)


@boot_test(60)
def test_expect_regex(ctx):
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--expect", "TK: PASS (info|smp)"])
    check(r.rc == 0, "--expect ERE alternation: exit status %s, want 0" % r.rc, r)
    check(r.has("TK: PASS info"), "no PASS line", r)
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--expect-fail", "TK: (PASS|FAIL)"])
    check(r.rc == 5, "--expect-fail: exit status %s, want 5" % r.rc, r)
    check([l for l in r.err.splitlines() if "expect-fail" in l], "no stderr line about --expect-fail", r)
    m, elf = ctx.myvmm, ctx.elf
    bad(ctx, "bad --expect regex", [m, "--kernel", elf, "--expect", "TK: (PASS", "--timeout", "10"],
        "regular expression")
    bad(ctx, "bad --expect-fail regex", [m, "--kernel", elf, "--expect-fail", "[z-a]",
                                         "--timeout", "10"], "regular expression")
