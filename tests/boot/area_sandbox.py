"""The seccomp sandbox (src/host/sandbox.c): on by default, a forbidden system
call stops myvmm with one line naming it and exit status 3; log and off."""
import re

from framework import check, check_pass, boot_test

LINE = re.compile(r"^myvmm: sandbox: the (\w+) thread made a forbidden system call: "
                  r"([\w ()]+) \((\d+)\); stopping\.", re.M)


def forbidden(r):
    return LINE.findall(r.err)


@boot_test(90)
def test_sandbox(ctx):
    # MYVMM_SANDBOX_SELFTEST makes a thread of that kind call a system call
    # its filter refuses, after the filter is in place.
    for who, extra, call in (("main", [], "personality"), ("vcpu", [], "socket"),
                             ("slirp", ["--net", "user"], "personality")):
        r = ctx.boot("pvh", "info", ["--mem", "64M"] + extra,
                     env={"MYVMM_SANDBOX_SELFTEST": who})
        check(r.rc == 3, "selftest %s: exit status %s, want 3 (internal error)" % (who, r.rc), r)
        hits = forbidden(r)
        check(len(hits) == 1 and hits[0][0] == who and hits[0][1] == call,
              "selftest %s: want one line naming %s in the %s thread, got %s"
              % (who, call, who, hits), r)
        check(not r.has("TK: PASS info") or who == "slirp",
              "selftest %s: the guest ran on after the forbidden call" % who, r)
    # log: the call goes through (the kernel logs it); the guest passes.
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--sandbox", "log"],
                 env={"MYVMM_SANDBOX_SELFTEST": "vcpu"})
    check_pass(r, "info")
    check(re.search(r"sandbox selftest: socket\(\) in a vCPU thread returned \d+", r.err)
          and not forbidden(r), "--sandbox log: the call was not let through", r)
    # off: no filter at all.
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--sandbox", "off"],
                 env={"MYVMM_SANDBOX_SELFTEST": "main"})
    check_pass(r, "info")
    check(not forbidden(r) and "selftest" not in r.err, "--sandbox off still filtered", r)
    # The default is on and the guest runs, resets (the VM is rebuilt under
    # the filter) and passes.
    r = ctx.boot("pvh", "reset-cf9", ["--mem", "64M", "--cpus", "2"])
    check_pass(r, "reset-cf9")
    check(r.has("TK: rebooted") and not forbidden(r), "reset under the sandbox failed", r)
    r = ctx.run(raw_argv=[ctx.myvmm, "--sandbox", "maybe", "--kernel", ctx.elf])
    check(r.rc == 2 and "--sandbox maybe" in r.err, "bad --sandbox value not refused clearly", r)
    r = ctx.run(raw_argv=[ctx.myvmm, "--check"])
    check(re.search(r"seccomp sandbox:\s+available", r.out + r.err),
          "--check does not report the sandbox", r)
