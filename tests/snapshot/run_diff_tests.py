#!/usr/bin/env python3
"""Diff snapshots end to end (machine-config track_dirty_pages, PUT
/snapshot/create snapshot_type Diff, myvmm --snapshot-merge): the test
kernel's tk=blk-dma keeps a buffer that only the virtio-blk device writes
(KVM's dirty log cannot see those writes) and prints its byte sum every
tick. A Full snapshot is taken, the disk is swapped so the device reads
other bytes into the buffer, a Diff snapshot follows; the Diff's memory file
holds a few pages, and the Full's file with the Diff merged into it restores
a guest that still sees the new bytes and runs to its PASS.

    run_diff_tests.py --myvmm PATH --elf PATH --only NAME
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmmtest  # noqa: E402
from vmmtest import TestFailure, check  # noqa: E402

TESTS = {}


def diff_test(fn):
    TESTS[fn.__name__] = fn
    return fn


def byte_sum(data):
    return sum(data) & 0xffffffff


def wait_text(vm, pat, timeout=40):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        m = re.search(pat, vm.text())
        if m:
            return m
        check(vm.p.poll() is None, "myvmm exited %s waiting for %r%s" % (vm.p.returncode, pat,
                                                                         vm.describe()))
        time.sleep(0.02)
    raise TestFailure("timed out after %d s waiting for %r%s" % (timeout, pat, vm.describe()))


def ok(vm, method, path, body=None, status=204):
    st, b = vm.call(method, path, body)
    check(st == status, "%s %s %r: %s %r%s" % (method, path, body, st, b, vm.describe()))
    return b


def allocated(path):
    return os.stat(path).st_blocks * 512


def image(ctx, name, seed):
    path = os.path.join(ctx.tmp, name)
    data = bytes((i * i * seed >> 6) & 0xff if i % 3 else seed for i in range(1 << 20))
    with open(path, "wb") as f:
        f.write(data)
    return path, byte_sum(data[:8 * 512])


@diff_test
def diff_dma(ctx):
    a, sum_a = image(ctx, "a.img", 3)
    b, sum_b = image(ctx, "b.img", 40)
    check(sum_a != sum_b, "the two images must differ")
    t = ctx.tmp
    vm = vmmtest.VMM(ctx, [], sock=os.path.join(t, "v.sock"), timeout=80)
    try:
        vm.wait_sock()
        ok(vm, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 64,
                                          "track_dirty_pages": True})
        st, mc = vm.call("GET", "/machine-config")
        check(st == 200 and mc["track_dirty_pages"] is True, "GET /machine-config %r" % mc)
        ok(vm, "PUT", "/boot-source", {"kernel_image_path": ctx.elf,
                                       "boot_args": "tk=blk-dma tk.ticks=300 tk.period=50 tk.fill=512"})
        ok(vm, "PUT", "/drives/d0", {"drive_id": "d0", "path_on_host": a, "is_root_device": False,
                                     "is_read_only": True})
        ok(vm, "PUT", "/actions", {"action_type": "InstanceStart"})
        wait_text(vm, r"TK: blk-dma tick 3 sum %08x" % sum_a)
        ok(vm, "PATCH", "/vm", {"state": "Paused"})
        full, full_mem = os.path.join(t, "full.snap"), os.path.join(t, "full.mem")
        st, body = vm.call("PUT", "/snapshot/create", {"snapshot_path": full + ".x",
                                                       "mem_file_path": full_mem + ".x",
                                                       "snapshot_type": "Diff"})
        check(st == 400 and "Full snapshot first" in body["fault_message"],
              "a Diff without a base: %s %r" % (st, body))
        ok(vm, "PUT", "/snapshot/create", {"snapshot_path": full, "mem_file_path": full_mem,
                                           "snapshot_type": "Full"})
        ok(vm, "PATCH", "/vm", {"state": "Resumed"})
        # the device, not the CPU, writes b's bytes into the guest's buffer
        ok(vm, "PATCH", "/drives/d0", {"drive_id": "d0", "path_on_host": b})
        wait_text(vm, r"TK: blk-dma reread capacity 2048")
        m = wait_text(vm, r"TK: blk-dma tick (\d+) sum %08x" % sum_b)
        ok(vm, "PATCH", "/vm", {"state": "Paused"})
        paused_at = max(int(x) for x in re.findall(r"TK: blk-dma tick (\d+)", vm.text()))
        diff, diff_mem = os.path.join(t, "diff.snap"), os.path.join(t, "diff.mem")
        ok(vm, "PUT", "/snapshot/create", {"snapshot_path": diff, "mem_file_path": diff_mem,
                                           "snapshot_type": "Diff"})
        vm.kill()
    finally:
        vm.kill()
    fa, da = allocated(full_mem), allocated(diff_mem)
    check(os.path.getsize(diff_mem) == os.path.getsize(full_mem) == 64 << 20,
          "memory file sizes %d %d" % (os.path.getsize(diff_mem), os.path.getsize(full_mem)))
    check(da * 8 <= fa and da <= 256 << 10,
          "the Diff allocates %d KiB, the Full %d KiB: want far fewer" % (da >> 10, fa >> 10))
    print("Full memory file: %d KiB allocated; Diff: %d KiB" % (fa >> 10, da >> 10))
    # the Diff alone is not a machine: restoring it without its base must not pass
    merged = os.path.join(t, "merged.mem")
    shutil.copyfile(full_mem, merged)
    p = subprocess.run([ctx.myvmm, "--snapshot-merge", diff_mem + ",into=" + merged],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "merged" in p.stderr, "merge: %d %s" % (p.returncode, p.stderr))
    p = subprocess.run([ctx.myvmm, "--restore", diff + ",mem=" + merged, "--timeout", "60"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90,
                       errors="replace")
    out = p.stdout
    ticks = re.findall(r"TK: blk-dma tick (\d+) sum ([0-9a-f]{8})", out)
    check(p.returncode == 1 and "TK: PASS blk-dma" in out,
          "restore from the merged file: exit %d\n%s\n%s" % (p.returncode, out[-1500:], p.stderr))
    check(ticks and int(ticks[0][0]) == paused_at + 1,
          "the restored guest's first tick is %s, want %d" % (ticks[:1], paused_at + 1))
    bad = [x for x in ticks if x[1] != "%08x" % sum_b]
    check(not bad, "after the restore the buffer holds other bytes than the device read (%d "
          "ticks, e.g. %r; b's sum %08x, a's %08x): the Diff missed the device's writes"
          % (len(bad), bad[:3], sum_b, sum_a))
    # a restored VM (PUT /snapshot/load enable_diff_snapshots) takes a Diff on top of
    # the file it maps: the device reads a's bytes again, Diff, merge, restore
    vm = vmmtest.VMM(ctx, [], sock=os.path.join(t, "v2.sock"), timeout=80)
    try:
        vm.wait_sock()
        ok(vm, "PUT", "/snapshot/load", {"snapshot_path": diff, "mem_backend": {
            "backend_type": "File", "backend_path": merged}, "enable_diff_snapshots": True,
            "resume_vm": True})
        ok(vm, "PATCH", "/drives/d0", {"drive_id": "d0", "path_on_host": a})
        wait_text(vm, r"TK: blk-dma tick (\d+) sum %08x" % sum_a)
        ok(vm, "PATCH", "/vm", {"state": "Paused"})
        paused_at = max(int(x) for x in re.findall(r"TK: blk-dma tick (\d+)", vm.text()))
        diff2, diff2_mem = os.path.join(t, "diff2.snap"), os.path.join(t, "diff2.mem")
        ok(vm, "PUT", "/snapshot/create", {"snapshot_path": diff2, "mem_file_path": diff2_mem,
                                           "snapshot_type": "Diff"})
    finally:
        vm.kill()
    merged2 = os.path.join(t, "merged2.mem")
    shutil.copyfile(merged, merged2)
    p = subprocess.run([ctx.myvmm, "--snapshot-merge", diff2_mem + ",into=" + merged2],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "second merge: %d %s" % (p.returncode, p.stderr))
    # --restore ...,diff: the restored VM tracks dirty pages too (a third Diff)
    vm = vmmtest.VMM(ctx, ["--restore", diff2 + ",mem=" + merged2 + ",diff"],
                     sock=os.path.join(t, "v4.sock"), timeout=80)
    try:
        vm.wait_sock()
        wait_text(vm, r"TK: blk-dma tick %d " % (paused_at + 3))
        ticks = re.findall(r"TK: blk-dma tick (\d+) sum ([0-9a-f]{8})", vm.text())
        check(int(ticks[0][0]) == paused_at + 1 and all(x[1] == "%08x" % sum_a for x in ticks),
              "restore of Full + Diff + Diff: ticks %r...%s" % (ticks[:3], vm.describe()))
        ok(vm, "PATCH", "/vm", {"state": "Paused"})
        ok(vm, "PUT", "/snapshot/create", {"snapshot_path": diff + ".4", "mem_file_path":
                                           diff_mem + ".4", "snapshot_type": "Diff"})
        check(allocated(diff_mem + ".4") <= 256 << 10, "third Diff: %d KiB" %
              (allocated(diff_mem + ".4") >> 10))
    finally:
        vm.kill()
    # without tracking a Diff is refused, naming the setting
    vm = vmmtest.VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=blk-dma tk.ticks=100",
                           "--disk", a + ",ro", "--mem", "64M"], sock=os.path.join(t, "v3.sock"))
    try:
        vm.wait_sock()
        wait_text(vm, r"TK: blk-dma tick 1 ")
        ok(vm, "PATCH", "/vm", {"state": "Paused"})
        st, body = vm.call("PUT", "/snapshot/create", {"snapshot_path": diff + ".3",
                                                       "mem_file_path": diff_mem + ".3",
                                                       "snapshot_type": "Diff"})
        check(st == 400 and "track_dirty_pages" in body["fault_message"],
              "Diff without tracking: %s %r" % (st, body))
    finally:
        vm.kill()
    # bad merges are one line and exit 2
    for args, want in (([diff_mem + ",into=" + os.path.join(t, "none.mem")], "No such file"),
                       ([diff_mem + ",into=" + a], "of one size"),
                       ([diff_mem], "DIFF,into=BASE")):
        p = subprocess.run([ctx.myvmm, "--snapshot-merge"] + args, capture_output=True, text=True,
                           timeout=30)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        check(p.returncode == 2 and len(lines) == 1 and want in lines[0],
              "--snapshot-merge %r: exit %d %r" % (args, p.returncode, p.stderr))


if __name__ == "__main__":
    sys.exit(vmmtest.main(TESTS, "myvmm-diff-"))
