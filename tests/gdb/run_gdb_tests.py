#!/usr/bin/env python3
"""gdb stub tests: Debian's gdb in batch mode against the test kernel's ELF
symbols, and a small GDB remote-protocol client for what batch gdb cannot do
(Ctrl-C, malformed packets, no-ack mode, threads, detach, kill).

    run_gdb_tests.py --myvmm PATH --elf PATH --bzimage PATH --elf64 PATH --only NAME

Nothing is skipped: without /dev/kvm or gdb the tests fail and say why.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

PROC_TIMEOUT = 90


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def is_pvm(myvmm):
    out = subprocess.run([myvmm, "--check"], capture_output=True, text=True, timeout=30).stdout
    return "PVM" in out


class VM:
    """myvmm in the background with --gdb; stderr collected in a file."""

    def __init__(self, ctx, args, gdb_spec):
        self.errf = tempfile.NamedTemporaryFile("w+", prefix="gdbtest-", suffix=".err", delete=False)
        self.conf = tempfile.NamedTemporaryFile("w+", prefix="gdbtest-", suffix=".con", delete=False)
        self.argv = [ctx.myvmm, "--console", "file:" + self.conf.name, "--gdb", gdb_spec,
                     "--timeout", "60"] + args
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.errf)

    def stderr(self):
        with open(self.errf.name) as f:
            return f.read()

    def console(self):
        with open(self.conf.name) as f:
            return f.read()

    def wait_listening(self):
        """Returns the address myvmm prints once it listens."""
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r"gdb: listening on (tcp:[\d.]+:\d+|unix:\S+)", self.stderr())
            if m:
                return m.group(1)
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise TestFailure("myvmm did not start listening: " + self.describe())

    def wait(self, timeout=PROC_TIMEOUT):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise TestFailure("myvmm did not exit: " + self.describe())

    def describe(self):
        return "\n  command: %s\n  --- stderr ---\n%s\n  --- console ---\n%s" % (
            " ".join(self.argv), self.stderr(), self.console())

    def cleanup(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.errf, self.conf):
            os.unlink(f.name)


def run_gdb(ctx, symbols, sock, cmds):
    argv = ["gdb", "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off",
            "-ex", "target remote " + sock]
    for c in cmds:
        argv += ["-ex", c]
    argv.append(symbols)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=PROC_TIMEOUT)
    return p.stdout + p.stderr


def symbol_addr(symbols, name):
    out = subprocess.run(["nm", symbols], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise TestFailure("symbol %s not in %s" % (name, symbols))


def batch_session(ctx, kernel, symbols, arch, pcreg):
    """Break (hbreak and break), read a register and a variable, step, watch,
    continue to the exit; assert what gdb printed and myvmm's exit status."""
    pvm = is_pvm(ctx.myvmm)
    d = tempfile.mkdtemp(prefix="gdbtest-")
    sock = os.path.join(d, "gdb.sock")
    vm = VM(ctx, ["--kernel", kernel, "--cmdline", "tk=exit tk.code=5", "--gdb-wait"], "unix:" + sock)
    try:
        vm.wait_listening()
        kmain = symbol_addr(symbols, "kmain")
        out = run_gdb(ctx, symbols, sock, [
            "show architecture",
            "info registers " + pcreg,
            "hbreak kmain",
            "continue",
            "info registers " + pcreg,
            "print cur_scen",
            "print bi->cmdline",
            "watch cur_scen",
            "continue",
            "delete 2",
            "info registers " + pcreg,
            "stepi",
            "info registers " + pcreg,
            "break scen_exit",
            "continue",
            "continue",
        ])
        rc = vm.wait()
        ctxt = "\n--- gdb ---\n" + out + vm.describe()
        check('currently "%s"' % arch in out, "gdb did not pick architecture %s%s" % (arch, ctxt))
        check(re.search(r"Breakpoint 1, kmain", out), "hbreak kmain did not stop there" + ctxt)
        check(re.search(r"%s\s+0x%x\s" % (pcreg, kmain), out), "pc is not kmain at the breakpoint" + ctxt)
        check(re.search(r'\$1 = 0x[0-9a-f]+ (<[^>]*> )?"info"', out), "cur_scen did not read as \"info\"" + ctxt)
        if pvm:
            check("Could not insert hardware watchpoint 2" in out,
                  "gdb did not report the refused watchpoint" + ctxt)
            check("watchpoints are unavailable on this PVM host" in vm.stderr(),
                  "myvmm did not say watchpoints are unavailable" + ctxt)
        else:
            check(re.search(r"Hardware watchpoint 2: cur_scen\s+Old value = .*\"info\"\s+New value = .*\"exit\"",
                            out), "the watchpoint on cur_scen did not fire" + ctxt)
        pcs = re.findall(r"%s\s+(0x[0-9a-f]+)\s" % pcreg, out)
        check(len(pcs) == 4 and int(pcs[3], 16) != int(pcs[2], 16) and 0 < int(pcs[3], 16) - int(pcs[2], 16) < 16,
              "stepi did not move the pc by one instruction: %s%s" % (pcs, ctxt))
        check(re.search(r"Breakpoint 3, scen_exit", out), "break scen_exit did not stop there" + ctxt)
        check(re.search(r'\$2 = 0x[0-9a-f]+ "tk=exit tk.code=5[^"]*"', out),
              "bi->cmdline did not read (memory through the guest's mappings)" + ctxt)
        check("exited with code 013" in out, "gdb did not see the exit status" + ctxt)
        check(rc == 11, "myvmm exited %s, expected 11 (tk.code=5)%s" % (rc, ctxt))
    finally:
        vm.cleanup()
        if os.path.exists(sock):
            os.unlink(sock)
        os.rmdir(d)


def test_batch_pvh(ctx):
    batch_session(ctx, ctx.elf, ctx.elf, "i386", "eip")


def test_batch_long(ctx):
    batch_session(ctx, ctx.bzimage, ctx.elf64, "i386:x86-64", "rip")


def test_reset(ctx):
    """A guest reset keeps the session: the new vCPUs get the breakpoint."""
    d = tempfile.mkdtemp(prefix="gdbtest-")
    sock = os.path.join(d, "gdb.sock")
    vm = VM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=reset-cf9", "--gdb-wait"], "unix:" + sock)
    try:
        vm.wait_listening()
        out = run_gdb(ctx, ctx.elf, sock, ["hbreak kmain", "continue", "continue", "continue"])
        rc = vm.wait()
        ctxt = "\n--- gdb ---\n" + out + vm.describe()
        check(len(re.findall(r"Breakpoint 1, kmain", out)) == 2, "kmain was not hit in both boots" + ctxt)
        check("TK: rebooted" in vm.console() and rc == 1, "the reset scenario did not pass (exit %s)%s" % (rc, ctxt))
        check("exited with code 01" in out, "gdb did not see the exit" + ctxt)
    finally:
        vm.cleanup()
        if os.path.exists(sock):
            os.unlink(sock)
        os.rmdir(d)


class Rsp:
    """A minimal GDB remote-protocol client."""

    def __init__(self, addr):
        if addr.startswith("unix:"):
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(addr[5:])
        else:
            host, port = addr[4:].rsplit(":", 1)
            self.s = socket.create_connection((host, int(port)))
        self.s.settimeout(20)
        self.buf = b""
        self.ack = True

    def raw(self, b):
        self.s.sendall(b)

    def byte(self):
        while not self.buf:
            d = self.s.recv(4096)
            if not d:
                raise TestFailure("the stub closed the connection")
            self.buf += d
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def packet(self):
        """Reads one reply packet, skipping acks; checks its checksum."""
        while self.byte() != b"$":
            pass
        data = b""
        while True:
            c = self.byte()
            if c == b"#":
                break
            data += c
        cs = self.byte() + self.byte()
        check(int(cs, 16) == sum(data) & 0xff, "bad checksum from the stub: %r" % data)
        if self.ack:
            self.raw(b"+")
        # undo '}' escapes
        out, i = b"", 0
        while i < len(data):
            if data[i:i + 1] == b"}":
                out += bytes([data[i + 1] ^ 0x20])
                i += 2
            else:
                out += data[i:i + 1]
                i += 1
        return out.decode("latin-1")

    @staticmethod
    def frame(payload):
        b = payload.encode("latin-1")
        return b"$" + b + b"#%02x" % (sum(b) & 0xff)

    def cmd(self, payload):
        self.raw(self.frame(payload))
        if self.ack:
            check(self.byte() == b"+", "no ack for %r" % payload)
        return self.packet()

    def closed(self, timeout=20):
        self.s.settimeout(timeout)
        try:
            while True:
                d = self.s.recv(4096)
                if not d:
                    return True
        except (ConnectionResetError, socket.timeout):
            return False


def test_rsp(ctx):
    """--cpus 2, tcp with a free port: no-ack, malformed packets, threads,
    memory, step, continue, Ctrl-C, kill."""
    vm = VM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=hang", "--cpus", "2", "--gdb-wait"], "tcp::0")
    try:
        addr = vm.wait_listening()
        check(addr.startswith("tcp:127.0.0.1:"), "the stub should listen on localhost: " + addr)
        r = Rsp(addr)
        sup = r.cmd("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
        check("PacketSize=1000" in sup and "qXfer:features:read+" in sup and "QStartNoAckMode+" in sup,
              "qSupported: " + sup)
        # a corrupted checksum is NAKed, nothing else happens
        r.raw(b"$g#00")
        check(r.byte() == b"-", "a bad checksum was not NAKed")
        # malformed packets are errors, never crashes
        for bad in ["mzz,4", "m100000", "m100000,", "M100000,2:zz", "M100000,2:00",
                    "Z9,100000,1", "Z1,zz,1", "p", "pzz", "Pzz=00", "P0=0", "Hx1", "Hg", "T",
                    "vCont;x", "vCont;s:zz", "vCont", "qXfer:features:read:target.xml",
                    "qXfer:features:read:other.xml:0,100", "G00", "c100000zz",
                    "m" + "f" * 40 + ",1"]:
            rep = r.cmd(bad)
            check(re.fullmatch(r"E[0-9a-f]{2}", rep), "%r gave %r, expected an error" % (bad, rep))
        check(r.cmd("vMustReplyEmpty") == "", "unknown packets must get an empty reply")
        check(r.cmd("QStartNoAckMode") == "OK", "QStartNoAckMode")
        r.ack = False
        check(r.cmd("?") == "T05thread:01;", "stop reason at start")
        check(r.cmd("qfThreadInfo") == "m1,2", "thread list with --cpus 2")
        check(r.cmd("qsThreadInfo") == "l", "end of the thread list")
        check(r.cmd("qC") == "QC1", "current thread")
        check(r.cmd("T2") == "OK" and re.fullmatch(r"E..", r.cmd("T3")), "thread alive")
        xml = ""
        while True:
            chunk = r.cmd("qXfer:features:read:target.xml:%x,200" % len(xml))
            check(chunk[:1] in ("m", "l"), "qXfer chunk " + chunk[:20])
            xml += chunk[1:]
            if chunk[0] == "l":
                break
        check("<architecture>i386</architecture>" in xml and xml.endswith("</target>"),
              "32-bit PVH entry should get the i386 description: " + xml[:200])
        regs = r.cmd("g")
        check(len(regs) == 2 * 308, "i386 'g' block is %d hex digits" % len(regs))
        eip = int.from_bytes(bytes.fromhex(regs[64:72]), "little")
        check(eip == 0x100000, "eip at the PVH entry is %#x" % eip)
        check(r.cmd("p8") == regs[64:72], "p8 (eip) disagrees with g")
        # memory: the entry code as loaded, a write read back, a read across
        # a page boundary, and addresses outside guest RAM
        code = r.cmd("m100000,8")
        with open(ctx.elf, "rb") as f:
            elf = f.read()
        check(bytes.fromhex(code) in elf, "m100000,8 does not match the kernel image: " + code)
        check(len(r.cmd("m100000,99999")) == 2 * 2048, "a long read is served in part (2048 bytes)")
        check(r.cmd("M7ffe,4:deadbeef") == "OK", "M across a page boundary")
        check(r.cmd("m7ffc,8") == "0000deadbeef0000", "read back across the page boundary")
        check(r.cmd("mfee00000,4") == "E0e", "the LAPIC page is not RAM")
        check(r.cmd("m100000000,4") == "E0e", "above 4 GiB with paging off")
        # the AP is a thread of its own
        check(r.cmd("Hg2") == "OK" and len(r.cmd("g")) == 2 * 308, "registers of vCPU 1")
        check(re.fullmatch(r"E..", r.cmd("Hg3")), "Hg to a missing vCPU")
        check(r.cmd("Hg1") == "OK", "Hg1")
        # step the BSP alone
        check(r.cmd("vCont?") == "vCont;c;C;s;S", "vCont?")
        rep = r.cmd("vCont;s:1")
        check(rep.startswith("T05thread:01;"), "step: " + rep)
        eip2 = int.from_bytes(bytes.fromhex(r.cmd("p8")), "little")
        check(0x100000 < eip2 < 0x100010, "one step moved eip to %#x" % eip2)
        # a hardware breakpoint at kmain, then continue
        kmain = symbol_addr(ctx.elf, "kmain")
        check(r.cmd("Z1,%x,1" % kmain) == "OK", "Z1")
        rep = r.cmd("vCont;c")
        check(rep.startswith("T05thread:01;") and "hwbreak" in rep, "breakpoint stop: " + rep)
        check(int.from_bytes(bytes.fromhex(r.cmd("p8")), "little") == kmain, "stopped at kmain")
        check(r.cmd("z1,%x,1" % kmain) == "OK", "z1")
        # run into the guest's hlt loop, then Ctrl-C
        r.raw(r.frame("vCont;c"))
        time.sleep(1.0)
        check("TK: hanging" in vm.console(), "the guest did not run on" + vm.describe())
        # a protocol violation while it runs: refused at once, never blocks myvmm
        t0 = time.time()
        check(r.cmd("g") == "E01" and r.cmd("m100000,4") == "E01", "state read while running")
        check(time.time() - t0 < 2, "the refusal took %.1f s" % (time.time() - t0))
        r.raw(b"\x03")
        rep = r.packet()
        check(re.fullmatch(r"T02thread:0?[12];", rep), "Ctrl-C stop: " + rep)
        # kill: myvmm stops the VM and exits 0 (like Ctrl-A x)
        r.raw(r.frame("k"))
        rc = vm.wait()
        check(rc == 0, "kill: myvmm exited %s%s" % (rc, vm.describe()))
        check(r.closed(), "the connection stayed open after k")
    finally:
        vm.cleanup()


def test_detach(ctx):
    """D resumes a --gdb-wait guest: it runs to its exit status."""
    vm = VM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=exit tk.code=3", "--gdb-wait"], "tcp::0")
    try:
        r = Rsp(vm.wait_listening())
        check(r.cmd("?") == "T05thread:01;", "stopped at start")
        time.sleep(0.3)
        check("TK: exit" not in vm.console(), "--gdb-wait: the guest ran before gdb continued")
        check(r.cmd("D") == "OK", "detach")
        rc = vm.wait()
        check(rc == 7, "after detach myvmm exited %s, expected 7%s" % (rc, vm.describe()))
    finally:
        vm.cleanup()


def test_usage(ctx):
    """Bad --gdb input is one clear line and exit 2."""
    for args, msg in [(["--gdb", "tcp:nohost"], "not a listening address"),
                      (["--gdb-wait"], "--gdb-wait needs --gdb"),
                      (["--gdb", "unix:/nonexistent-dir/x.sock"], "--gdb unix:/nonexistent-dir/x.sock"),
                      (["--gdb", "tcp:256.1.1.1:1234"], "unknown host")]:
        p = subprocess.run([ctx.myvmm, "--kernel", ctx.elf] + args, capture_output=True, text=True,
                           timeout=30)
        check(p.returncode == 2 and msg in p.stderr,
              "%s: exit %s, stderr %r" % (args, p.returncode, p.stderr))
    out = subprocess.run([ctx.myvmm, "--check"], capture_output=True, text=True, timeout=30).stdout
    check(re.search(r"gdb stub: +available", out), "--check says nothing about gdb: " + out)
    if "PVM" in out:
        check("watchpoints unavailable" in out, "--check on PVM must say watchpoints are unavailable")
    h = subprocess.run([ctx.myvmm, "--help"], capture_output=True, text=True, timeout=30).stdout
    check("--gdb SPEC" in h and "--gdb-wait" in h, "--help lacks --gdb")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--myvmm", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--bzimage", required=True)
    ap.add_argument("--elf64", required=True)
    ap.add_argument("--only", required=True)
    ctx = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("FAIL: /dev/kvm is not usable")
        return 1
    try:
        subprocess.run(["gdb", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("FAIL: gdb is not installed (scripts/deps.sh installs it)")
        return 1
    fn = globals().get("test_" + ctx.only)
    if not fn:
        print("unknown test " + ctx.only)
        return 2
    try:
        fn(ctx)
    except TestFailure as e:
        print("FAIL %s: %s" % (ctx.only, e))
        return 1
    print("PASS " + ctx.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
