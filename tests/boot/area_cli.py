"""Command-line conventions and consoles you attach to, booting the test kernel:

qemu_mode       QEMU command lines (as LAVA passes them, as qemu-system-x86_64, as
                `myvmm qemu`), QEMU --version, errors naming the option, -pidfile,
                signals ending with 0 as in QEMU
native_cli      positional kernel, --append, the added console=, exact names
console_unix    --console unix:PATH: a late client sees the boot log, one client at
                a time, reattach, input to the guest
console_pty     --console pty: the path on stderr, read, reattach, input
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import time

from framework import TestFailure, check, boot_test

TIMEOUT = 30


def run(argv, timeout=TIMEOUT, **kw):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def describe(argv, rc, out, err):
    return "\n  command: %s\n  exit status %s\n  stdout: %s\n  stderr: %s" % (
        " ".join(argv), rc, out[-1500:], err[-800:])


def tk_pass(out, scen):
    return ("TK: PASS %s" % scen) in [l.rstrip("\r") for l in out.splitlines()]


# LAVA 2023.01's qemu device type for amd64 and a tmpfs deploy, as myvmm receives it
# (see tests/lava/README.md for the recorded command line).
def lava_argv(prog, kernel, append):
    return [prog, "-cpu", "host", "-enable-kvm", "-nographic", "-net",
            "nic,model=virtio,macaddr=52:54:00:12:34:58", "-net", "user", "-m", "512",
            "-monitor", "none", "-kernel", kernel, "-append", append,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-no-reboot"]


@boot_test(90, labels=("cli",))
def test_qemu_mode(ctx):
    m, elf = ctx.myvmm, ctx.elf
    # 1. LAVA's command line, myvmm called by its own name (LAVA resolves symlinks).
    a = lava_argv(m, elf, "console=ttyS0,115200 tk=info")
    rc, out, err = run(a)
    check(rc == 1 and tk_pass(out, "info"), "LAVA command line: want TK: PASS info and "
          "exit 1 (debug-exit 0 -> (0<<1)|1)" + describe(a, rc, out, err))
    check("TK: cmdline console=ttyS0,115200 tk=info" in out,
          "QEMU mode must pass -append as given" + describe(a, rc, out, err))
    # 2. As qemu-system-x86_64 (a hard link, as installed): --version in QEMU's format.
    link = os.path.join(ctx.tmp, "qemu-system-x86_64")
    try:
        os.link(m, link)
    except OSError:
        shutil.copy2(m, link)
    rc, out, err = run([link, "--version"])
    check(rc == 0 and re.match(r"QEMU emulator version \d+\.\d+\.\d+ \(myvmm \d+\.\d+", out)
          and out.split()[3][0].isdigit(), "qemu-system-x86_64 --version: %r %r" % (out, err))
    rc, out, err = run([m, "--version"])
    check(rc == 0 and out.startswith("myvmm "), "myvmm --version: %r" % out)
    pidfile = os.path.join(ctx.tmp, "vm.pid")
    a = [link, "-kernel", elf, "-append", "tk=exit tk.code=5", "-m", "64", "-display", "none",
         "-serial", "stdio", "-smp", "2", "-M", "microvm,accel=kvm", "-pidfile", pidfile,
         "-name", "lava-job", "-nodefaults", "-no-user-config"]
    rc, out, err = run(a)
    check(rc == 11, "debug-exit 5 as qemu-system-x86_64: want (5<<1)|1 = 11" +
          describe(a, rc, out, err))
    check(not os.path.exists(pidfile), "the -pidfile is removed at exit")
    # 3. `myvmm qemu ...` and a single-dash first option.
    a = [m, "qemu", "-kernel", elf, "-append", "tk=info", "-nographic"]
    rc, out, err = run(a)
    check(rc == 1 and tk_pass(out, "info"), "myvmm qemu ..." + describe(a, rc, out, err))
    # 4. Anything outside the subset: exit 2 and one line naming it.
    for bad, word in ((["-kernel", elf, "-device", "e1000"], "e1000"),
                      (["-kernel", elf, "-hda", "x.img"], "-hda"),
                      (["-kernel", elf, "-drive", "file=x.qcow2,format=qcow2"], "qemu-img"),
                      (["-kernel", elf, "-monitor", "stdio"], "monitor")):
        rc, out, err = run([link] + bad)
        check(rc == 2 and word in err and len(err.strip().splitlines()) == 1,
              "unsupported option: want exit 2 and one line naming %r" % word +
              describe([link] + bad, rc, out, err))
    # 5. A signal ends QEMU with status 0; the pidfile holds our pid meanwhile.
    a = [link, "-kernel", elf, "-append", "tk=hang", "-display", "none", "-pidfile", pidfile]
    p = subprocess.Popen(a, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(pidfile) and time.monotonic() < end:
            time.sleep(0.05)
        check(os.path.exists(pidfile), "no -pidfile written")
        check(open(pidfile).read().strip() == str(p.pid), "-pidfile does not hold the pid")
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0 and b"terminating on signal 15" in err,
          "SIGTERM in QEMU mode: want exit 0 and 'terminating on signal 15', got %s %r"
          % (p.returncode, err))


@boot_test(60, labels=("cli",))
def test_native_cli(ctx):
    m, elf = ctx.myvmm, ctx.elf
    a = [m, elf, "--append", "tk=info", "--mem", "64M", "--timeout", "20"]
    rc, out, err = run(a)
    check(rc == 1 and "TK: cmdline tk=info console=ttyS0" in out,
          "positional kernel + --append: want console=ttyS0 added" + describe(a, rc, out, err))
    a = [m, elf, "--cmdline", "tk=info", "--no-default-console", "--mem", "64M"]
    rc, out, err = run(a)
    lines = [l.rstrip("\r") for l in out.splitlines()]
    check(rc == 1 and "TK: cmdline tk=info" in lines,
          "--no-default-console: the command line as given" + describe(a, rc, out, err))
    for argv, want in (([m, "--ker", elf], "did you mean --kernel?"),
                       ([m, "--kernel", elf, "-m", "64"], "did you mean --mem?"),
                       ([m, "--kernel", elf, "--memory", "64M"], "did you mean --mem?")):
        rc, out, err = run(argv)
        check(rc == 2 and want in err, "want exit 2 and %r" % want + describe(argv, rc, out, err))


def wait_for(path, timeout=10):
    end = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.02)
    check(os.path.exists(path), "%s never appeared" % path)


def recv_until(sock_or_fd, needle, timeout=10):
    data, end = b"", time.monotonic() + timeout
    while needle not in data and time.monotonic() < end:
        r, _, _ = select.select([sock_or_fd], [], [], max(0.01, end - time.monotonic()))
        if not r:
            break
        chunk = sock_or_fd.recv(65536) if hasattr(sock_or_fd, "recv") else os.read(sock_or_fd, 65536)
        if not chunk:
            break
        data += chunk
    return data


@boot_test(60, labels=("cli",))
def test_console_unix(ctx):
    path = os.path.join(ctx.tmp, "con.sock")
    a = [ctx.myvmm, ctx.elf, "--cmdline", "tk=serial-irq", "--mem", "64M", "--console",
         "unix:" + path, "--timeout", "25"]
    p = subprocess.Popen(a, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        wait_for(path)
        time.sleep(1.0)  # the guest has printed its banner: nobody was attached
        c1 = socket.socket(socket.AF_UNIX)
        c1.connect(path)
        got = recv_until(c1, b"TK: ready")
        check(b"TK: myvmm test kernel" in got and b"TK: ready" in got,
              "a late client must see the boot log; got %r" % got)
        c2 = socket.socket(socket.AF_UNIX)
        c2.connect(path)
        busy = recv_until(c2, b"\n", 5)
        check(b"busy" in busy, "a second client must be refused; got %r" % busy)
        c2.close()
        c1.close()  # detach; the guest waits for input meanwhile
        time.sleep(0.3)
        c3 = socket.socket(socket.AF_UNIX)
        c3.connect(path)
        c3.sendall(b"aq")
        got = recv_until(c3, b"TK: PASS serial-irq")
        check(b"TK: rx 61" in got and b"TK: rx 71" in got and b"PASS serial-irq" in got,
              "input through the reattached socket; got %r" % got)
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 1, "exit status %s, want 1; stderr %r" % (p.returncode, err))
    check(b"TK:" not in out, "guest output leaked to stdout with --console unix")
    check(not os.path.exists(path), "the socket file is removed at exit")
    # A regular file at the path is never replaced.
    open(path, "w").write("keep")
    rc, out, err = run([ctx.myvmm, ctx.elf, "--console", "unix:" + path, "--timeout", "5"])
    check(rc == 2 and "not a socket" in err and open(path).read() == "keep",
          "a non-socket file at the path: want exit 2" + describe(a, rc, out, err))


@boot_test(60, labels=("cli",))
def test_console_pty(ctx):
    a = [ctx.myvmm, ctx.elf, "--cmdline", "tk=serial-irq", "--mem", "64M", "--console", "pty",
         "--timeout", "25"]
    p = subprocess.Popen(a, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        line = p.stderr.readline().decode()
        m = re.search(r"console on pty (/dev/pts/\d+)", line)
        check(m, "no pty path on stderr: %r" % line)
        time.sleep(1.0)
        fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
        got = recv_until(fd, b"TK: ready")
        check(b"TK: ready" in got, "pty: no boot output; got %r" % got)
        os.close(fd)
        fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)  # reattach
        os.write(fd, b"aq")
        got = recv_until(fd, b"TK: PASS serial-irq")
        os.close(fd)
        check(b"TK: rx 61" in got and b"PASS serial-irq" in got, "pty input; got %r" % got)
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 1, "exit status %s, want 1; stderr %r" % (p.returncode, err))
