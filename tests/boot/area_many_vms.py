"""Many VMs at once on one host."""
import subprocess
import time

from framework import check, boot_test


@boot_test(120, serial=True)
def test_many_vms(ctx):
    n = 20
    procs = []
    t0 = time.monotonic()
    for i in range(n):
        out = open(ctx.path("many-%d.out" % i), "wb+")
        argv = ctx.argv(ctx.elf, "tk=info", ["--mem", "64M"], 90)
        procs.append((subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT), out))
    failures = []
    for i, (p, out) in enumerate(procs):
        try:
            rc = p.wait(timeout=max(1, 100 - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        out.close()
        if rc != 1 or "TK: PASS info" not in text:
            failures.append("VM %d: exit %s\n%s" % (i, rc, text[-600:]))
    check(not failures, "%d of %d VMs failed:\n%s" % (len(failures), n, "\n".join(failures)))
