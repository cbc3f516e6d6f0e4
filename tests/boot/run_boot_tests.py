#!/usr/bin/env python3
"""End-to-end boot tests for myvmm: boot the freestanding test kernel
(tests/guest) and assert what the guest printed, the exit status and the
messages on stderr.  Stdlib only.

    run_boot_tests.py --myvmm PATH --elf PATH --bzimage PATH [--mb PATH] [--only NAME]
    run_boot_tests.py --list-cmake      (name timeout serial labels..., for CMake)

The tests live in area_<area>.py beside this file (framework.py is what
they share); each is one function test_<name>(ctx) under @boot_test(timeout),
which makes it the ctest test boot.<name>. A failed check raises TestFailure.
Exit status: 0 all selected tests passed, 1 a test failed, 2 usage error.
Nothing is ever skipped: without /dev/kvm every test fails and says why.
"""
import argparse
import glob
import importlib
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from framework import TESTS, Ctx, TestFailure, require_kvm  # noqa: E402


def load_areas():
    for path in sorted(glob.glob(os.path.join(HERE, "area_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])


def list_cmake():
    """One line a test: name, timeout, 1 if RUN_SERIAL else 0, extra labels."""
    for t in TESTS.values():
        print(" ".join([t.name, str(t.timeout), "1" if t.serial else "0"] + list(t.labels)))
    return 0


def main():
    load_areas()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list-cmake", action="store_true", help="print the test list for CMake and exit")
    ap.add_argument("--myvmm")
    ap.add_argument("--elf")
    ap.add_argument("--bzimage")
    ap.add_argument("--mb", help="multiboot test kernel (default: testkernel.mb.elf beside --elf)")
    ap.add_argument("--only", action="append", help="run only this test (repeatable); "
                    "one of: " + ", ".join(TESTS))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    if a.list_cmake:
        return list_cmake()
    for opt in ("myvmm", "elf", "bzimage"):
        if not getattr(a, opt):
            ap.error("--%s is required" % opt)
    names = a.only or list(TESTS)
    for n in names:
        if n not in TESTS:
            ap.error("unknown test %r; tests: %s" % (n, ", ".join(TESTS)))
    for f in (a.myvmm, a.elf, a.bzimage):
        if not os.path.isfile(f):
            print("FAIL: %s does not exist; build first" % f)
            return 1
    ctx = Ctx(os.path.abspath(a.myvmm), os.path.abspath(a.elf), os.path.abspath(a.bzimage),
              os.path.abspath(a.mb) if a.mb else None)
    failed = []
    try:
        for n in names:
            t0 = time.monotonic()
            try:
                require_kvm()
                TESTS[n].fn(ctx)
                print("PASS %s (%.1f s)" % (n, time.monotonic() - t0), flush=True)
            except TestFailure as e:
                print("FAIL %s (%.1f s): %s" % (n, time.monotonic() - t0, e), flush=True)
                failed.append(n)
    finally:
        if not a.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
