#!/usr/bin/env python3
"""Runs a command (a boot test against a sanitized myvmm) with the
sanitizers' reports sent to files, and fails when any report was written.

    run_sanitized.py --reports DIR -- COMMAND...

Every sanitizer halts on its first error (halt_on_error; the build also uses
-fno-sanitize-recover), and its report goes to DIR/<tool>.<pid> instead of
stderr, so the boot test's own stderr checks still see only myvmm's messages.
Exit status: the command's, or 1 when a report exists (printed here)."""
import argparse
import os
import shutil
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    shutil.rmtree(a.reports, ignore_errors=True)
    os.makedirs(a.reports)
    d = os.path.abspath(a.reports)
    env = dict(os.environ)
    common = "halt_on_error=1:print_stacktrace=1:log_exe_name=1"
    env["ASAN_OPTIONS"] = "%s:log_path=%s/asan:detect_leaks=1:abort_on_error=0" % (common, d)
    env["UBSAN_OPTIONS"] = "%s:log_path=%s/ubsan" % (common, d)
    env["LSAN_OPTIONS"] = "log_path=%s/lsan" % d
    env["TSAN_OPTIONS"] = "%s:log_path=%s/tsan:second_deadlock_stack=1" % (common, d)
    rc = subprocess.call(cmd, env=env)
    reports = sorted(f for f in os.listdir(d) if os.path.getsize(os.path.join(d, f)) > 0)
    for f in reports:
        with open(os.path.join(d, f), errors="replace") as fh:
            text = fh.read()
        print("=== sanitizer report %s ===\n%s" % (f, text[:20000]))
    if reports:
        print("FAIL: %d sanitizer report(s) in %s" % (len(reports), d))
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
