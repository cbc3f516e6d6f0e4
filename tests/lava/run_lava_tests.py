#!/usr/bin/env python3
"""LAVA (lava-dispatcher 2023.01, Debian 12) driving myvmm as its QEMU: render the
device dictionary in devices/ with lava-server's device-type templates, run each
job in jobs/ locally with lava-run (no server), and check that the job finished
correctly, what command line LAVA ran and how long it took.

    run_lava_tests.py --myvmm PATH --kernel-dir DIR --work DIR --only JOB
    run_lava_tests.py --check-k8s MANIFEST

The templates come from /usr/share/lava-server/device-types when lava-server is
installed, else from the lava-server package unpacked into --work (apt-get
download + dpkg -x; the server is never installed). Nothing is skipped: a missing
lava-run, template or /dev/kvm is a failure that says what to install.
"""
import argparse
import datetime
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = "/usr/share/lava-server/device-types"


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def templates_dir(work):
    if os.path.isfile(os.path.join(TEMPLATES, "qemu.jinja2")):
        return TEMPLATES
    unpacked = os.path.join(work, "lava-server", "usr/share/lava-server/device-types")
    if os.path.isfile(os.path.join(unpacked, "qemu.jinja2")):
        return unpacked
    os.makedirs(os.path.join(work, "lava-server"), exist_ok=True)
    p = subprocess.run(["apt-get", "download", "lava-server"], cwd=work,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    debs = glob.glob(os.path.join(work, "lava-server_*.deb"))
    check(p.returncode == 0 and debs, "cannot fetch lava-server's device-type templates "
          "(apt-get download lava-server): %s" % p.stdout.decode(errors="replace")[-400:])
    subprocess.run(["dpkg", "-x", debs[0], os.path.join(work, "lava-server")], check=True)
    return unpacked


def render_device(work, name):
    import jinja2
    import yaml
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(
        [os.path.join(HERE, "devices"), templates_dir(work)]), trim_blocks=True, autoescape=False)
    text = env.get_template(name + ".jinja2").render()
    dev = yaml.safe_load(text)
    opts = dev["actions"]["boot"]["methods"]["qemu"]["parameters"]
    check(opts["command"] == "qemu-system-x86_64", "device type renders command %r" % opts["command"])
    path = os.path.join(work, name + ".yaml")
    open(path, "w").write(text)
    return path


def events(log):
    import yaml
    out = []
    for line in open(log, errors="replace"):
        if line.startswith("{"):
            try:
                out.append(yaml.safe_load(line))
            except yaml.YAMLError:
                pass
    return out


def run_job(a, job):
    check(shutil.which("lava-run"), "lava-run not found: apt-get install --no-install-recommends "
          "lava-dispatcher (scripts/deps.sh)")
    check(os.access("/dev/kvm", os.R_OK | os.W_OK), "/dev/kvm is missing: LAVA boots need KVM")
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    device = render_device(work, "myvmm01")
    # myvmm installed as qemu-system-x86_64 on PATH: a symlink, as a lab would
    # (LAVA resolves it, so myvmm sees its own name and QEMU's arguments).
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    link = os.path.join(bindir, "qemu-system-x86_64")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.abspath(a.myvmm), link)
    text = open(os.path.join(HERE, "jobs", job + ".yaml")).read()
    jobfile = os.path.join(work, job + ".yaml")
    open(jobfile, "w").write(text.replace("@KERNEL_DIR@", os.path.abspath(a.kernel_dir)))
    out = os.path.join(work, "out-" + job)
    shutil.rmtree(out, ignore_errors=True)
    log = os.path.join(work, job + ".log")
    env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
    t0 = time.monotonic()
    with open(log, "w") as f:
        p = subprocess.run(["lava-run", "--job-id", str(os.getpid()), "--output-dir", out,
                            "--device", device, jobfile], stdout=f, stderr=subprocess.STDOUT,
                           env=env, timeout=170)
    wall = time.monotonic() - t0
    ev = events(log)
    tail = "".join(open(log, errors="replace").readlines()[-15:])
    msgs = [str(e.get("msg")) for e in ev]
    check(p.returncode == 0 and "Job finished correctly" in msgs,
          "lava-run exit %d, the job did not finish correctly; log %s:\n%s" % (p.returncode, log, tail))
    results = [e["msg"] for e in ev if e.get("lvl") == "results"]
    job_res = [r for r in results if r.get("case") == "job"]
    check(job_res and job_res[-1].get("result") == "pass", "job result %r" % job_res)
    check(all(r.get("result") == "pass" for r in results),
          "a failed step: %r" % [r for r in results if r.get("result") != "pass"])
    boot = [m for m in msgs if m.startswith("Boot command: ")]
    check(boot, "no 'Boot command' in the log")
    argv0 = boot[0].split()[2]
    check(os.path.realpath(argv0) == os.path.realpath(a.myvmm),
          "LAVA ran %r, not myvmm" % argv0)
    for want in ("-cpu host", "-enable-kvm", "-nographic", "-net nic,model=virtio,macaddr=",
                 "-net user", "-m 256", "-monitor none", "-kernel ", "-append \"console=ttyS0"):
        check(want in boot[0], "the boot command lacks %r: %s" % (want, boot[0]))
    # Timings from LAVA's own timestamps.
    def ts(e):
        return datetime.datetime.fromisoformat(e["dt"])
    start = next(e for e in ev if str(e.get("msg")).startswith("Boot command: "))
    first = next((e for e in ev if e.get("lvl") == "target"), None)
    check(first is not None, "no guest output in the log")
    print("LAVA ran: %s" % boot[0][len("Boot command: "):])
    print("timing: boot command -> first guest line %.3f s, lava-run wall %.1f s (job %s)"
          % ((ts(first) - ts(start)).total_seconds(), wall, job))


def check_k8s(path):
    import yaml
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    jobs = [d for d in docs if d.get("kind") == "Job"]
    check(jobs, "%s: no kind: Job" % path)
    for j in jobs:
        spec = j["spec"]["template"]["spec"]
        check(spec.get("restartPolicy") == "Never", "restartPolicy must be Never (one boot, one verdict)")
        check(j["spec"].get("backoffLimit") == 0, "backoffLimit must be 0: a failed boot is a result")
        check(isinstance(j["spec"].get("activeDeadlineSeconds"), int), "no activeDeadlineSeconds")
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        kvm = [n for n, v in vols.items() if v.get("hostPath", {}).get("path") == "/dev/kvm"]
        check(kvm and vols[kvm[0]]["hostPath"].get("type") == "CharDevice",
              "/dev/kvm must be a hostPath volume of type CharDevice")
        c = spec["containers"][0]
        mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
        check(kvm[0] in mounts and mounts[kvm[0]]["mountPath"] == "/dev/kvm",
              "the container must mount /dev/kvm")
        sc = c.get("securityContext", {})
        check(not sc.get("privileged"), "the boot container must not be privileged")
        res = c.get("resources", {})
        for k in ("cpu", "memory"):
            check(k in res.get("limits", {}) and k in res.get("requests", {}),
                  "resources.limits/requests.%s missing" % k)
        check(c["command"][0].endswith("myvmm") and "--timeout" in c["command"],
              "the container runs myvmm with a --timeout: %r" % c["command"])
    print("k8s: %d Job(s) in %s: /dev/kvm hostPath CharDevice mounted, limits set, "
          "restartPolicy Never" % (len(jobs), path))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--myvmm")
    ap.add_argument("--kernel-dir")
    ap.add_argument("--work")
    ap.add_argument("--only", action="append")
    ap.add_argument("--check-k8s")
    a = ap.parse_args()
    try:
        if a.check_k8s:
            check_k8s(a.check_k8s)
            return 0
        for job in a.only or [os.path.basename(p)[:-5] for p in sorted(glob.glob(os.path.join(HERE, "jobs", "*.yaml")))]:
            run_job(a, job)
            print("PASS %s" % job)
    except (TestFailure, subprocess.TimeoutExpired, OSError, KeyError) as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
