"""The serial console: to a file, input from a pipe, Ctrl-A x, the terminal on a pty."""
import os
import select
import signal
import subprocess
import termios
import time

from framework import TestFailure, check, Live, check_pass, boot_test, SAFETY_TIMEOUT


@boot_test(60)
def test_console_file(ctx):
    p = ctx.path("console.txt")
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--console", "file:" + p])
    check(r.rc == 1, "exit status %s, want 1" % r.rc, r)
    check(not r.tk, "TK lines on stdout with --console file:", r)
    content = open(p, "rb").read().decode("utf-8", "replace")
    tk = [l.rstrip("\r") for l in content.splitlines() if l.startswith("TK: ")]
    check("TK: PASS info" in tk and "TK: pci0 yes" in tk,
          "console file lacks the TK lines: %r" % content[:400], r)


@boot_test(60)
def test_console_input(ctx):
    argv = ctx.argv(ctx.elf, "tk=serial-irq", ["--mem", "64M"], 30)
    v = Live(argv)
    v.wait_line("TK: ready")
    v.p.stdin.write(b"a\x01\x01q")
    v.p.stdin.flush()
    r = v.finish()
    check_pass(r, "serial-irq")
    rx = [m.group(1) for m in r.grep(r"TK: rx ([0-9a-f]{2})$")]
    check(rx == ["61", "01", "71"], "received %s, want 61 01 71" % rx, r)

    v = Live(argv)
    v.wait_line("TK: ready")
    t = time.monotonic()
    v.p.stdin.write(b"\x01x")
    v.p.stdin.flush()
    r = v.finish()
    check(r.rc == 0, "Ctrl-A x: exit status %s, want 0" % r.rc, r)
    check(time.monotonic() - t < 3, "Ctrl-A x took %.1f s" % (time.monotonic() - t), r)
    check(not r.grep(r"TK: rx "), "bytes of Ctrl-A x reached the guest", r)


@boot_test(60)
def test_console_quit(ctx):
    """Ctrl-A x on a piped stdin (no interrupts needed in the guest)."""
    v = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M"], 30))
    v.wait_line("TK: hanging")
    t = time.monotonic()
    v.p.stdin.write(b"\x01x")
    v.p.stdin.flush()
    r = v.finish()
    dt = time.monotonic() - t
    check(r.rc == 0, "Ctrl-A x: exit status %s, want 0" % r.rc, r)
    check(dt < 3, "Ctrl-A x took %.1f s to stop the VM" % dt, r)
    check("Traceback" not in r.err, "noise on stderr", r)


def pty_run(ctx, extra, action, want_rc, timeout=SAFETY_TIMEOUT):
    """Runs tk=hang on a pty; action(proc, master) once 'TK: hanging' shows."""
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        check(before[3] & termios.ICANON and before[3] & termios.ECHO,
              "fresh pty is not in canonical echo mode")
        argv = ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M"] + extra, timeout)
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave)
        buf = b""
        raw_seen = False
        acted = False
        while time.monotonic() - t0 < 20:
            rd, _, _ = select.select([master], [], [], 0.05)
            if rd:
                try:
                    buf += os.read(master, 4096)
                except OSError:
                    pass
            if not acted and b"TK: hanging" in buf:
                raw_seen = not (termios.tcgetattr(slave)[3] & termios.ICANON)
                action(p, master)
                acted = True
            if acted and p.poll() is not None:
                break
        if p.poll() is None:
            p.kill()
            p.wait()
            raise TestFailure("%s: myvmm did not exit; output %r" % (extra, buf))
        # drain what is left
        while select.select([master], [], [], 0.05)[0]:
            try:
                buf += os.read(master, 4096)
            except OSError:
                break
        after = termios.tcgetattr(slave)
        out = buf.decode("utf-8", "replace")
        check(acted, "%s: never saw 'TK: hanging' on the pty: %r" % (extra, out))
        check(raw_seen, "%s: the terminal was not put in raw mode while running" % extra)
        check(p.returncode == want_rc, "%s: exit status %s, want %d; output %r"
              % (extra, p.returncode, want_rc, out))
        for flag in ("ICANON", "ECHO", "ISIG"):
            bit = getattr(termios, flag)
            check(after[3] & bit == before[3] & bit,
                  "%s: lflag %s not restored after exit (before %#x after %#x)"
                  % (extra, flag, before[3], after[3]))
        check(after == before, "%s: termios not restored exactly: %s vs %s" % (extra, before, after))
    finally:
        os.close(master)
        os.close(slave)


@boot_test(90)
def test_pty_restore(ctx):
    pty_run(ctx, [], lambda p, m: os.write(m, b"\x01x"), 0)
    pty_run(ctx, [], lambda p, m: None, 124, timeout=1)
    pty_run(ctx, [], lambda p, m: p.send_signal(signal.SIGTERM), 143)
