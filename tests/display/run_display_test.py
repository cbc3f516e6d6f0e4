#!/usr/bin/env python3
"""End-to-end test of --display sdl under Xvfb.

Boots the test kernel's `input` scenario (draws 8 colour bars, then echoes
PS/2 bytes), captures the myvmm window (xwd + ImageMagick convert), checks a
pixel in every bar, types with xdotool and checks the set-1 scan codes the
guest printed, moves/clicks the mouse and checks the packets, then presses
'q' (PASS). Needs: Xvfb, xdotool, xwd (x11-apps), convert (imagemagick).

usage: run_display_test.py MYVMM TESTKERNEL [--screenshot OUT.png]
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

BARS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
        (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]


class Guest:
    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\r\n"))

    def wait_for(self, pattern, timeout=30, start=0):
        rx = re.compile(pattern)
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                for i in range(start, len(self.lines)):
                    if rx.search(self.lines[i]):
                        return i
            if self.p.poll() is not None:
                time.sleep(0.2)
                with self.lock:
                    if not any(rx.search(l) for l in self.lines[start:]):
                        break
            time.sleep(0.05)
        raise AssertionError("no line matching %r; output:\n%s" % (pattern, "\n".join(self.lines)))

    def count(self):
        with self.lock:
            return len(self.lines)


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, **kw).stdout


def missing_prereq(tools, packages):
    """The FAIL reason for the first missing tool, or a missing /dev/kvm; None if all are there."""
    for tool in tools:
        if not shutil.which(tool):
            return "%s not installed (apt-get install %s)" % (tool, packages)
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is missing or not accessible; this test needs KVM"
    return None


class Xvfb:
    """A private X server on a display Xvfb picks itself (-displayfd), so
    tests running in parallel never collide; env carries its DISPLAY."""

    def __init__(self):
        rfd, wfd = os.pipe()
        self.p = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1280x1024x24",
                                   "-nolisten", "tcp"], pass_fds=(wfd,),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(wfd)
        with os.fdopen(rfd) as f:
            num = f.readline().strip()
        if not num:
            self.close()
            raise AssertionError("Xvfb did not start")
        self.disp = ":" + num
        self.env = dict(os.environ, DISPLAY=self.disp)

    def close(self):
        self.p.terminate()
        self.p.wait()


def script_main(main):
    """Runs main(); a failed assertion is one FAIL line and exit status 1."""
    try:
        sys.exit(main())
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)


def stop_guest(g):
    """Terminates a guest that is still running (kills it after 10 s)."""
    if g and g.p.poll() is None:
        g.p.terminate()
        try:
            g.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            g.p.kill()


def capture(win, env, png=None):
    """Returns (w, h, rgb bytes) of the window."""
    xwd = subprocess.run(["xwd", "-silent", "-id", win], env=env, check=True,
                         capture_output=True).stdout
    if png:
        subprocess.run(["convert", "xwd:-", png], input=xwd, check=True)
    ppm = subprocess.run(["convert", "xwd:-", "-depth", "8", "ppm:-"], input=xwd, check=True,
                         capture_output=True).stdout
    m = re.match(rb"P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s+(\d+)\s", ppm)
    if not m:
        raise AssertionError("convert did not produce a PPM")
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, ppm[m.end():]


def pixel(img, x, y):
    w, h, data = img
    o = (y * w + x) * 3
    return tuple(data[o:o + 3])


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    myvmm, kernel = sys.argv[1], sys.argv[2]
    shot = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--screenshot" else None
    why = missing_prereq(("Xvfb", "xdotool", "xwd", "convert"),
                         "xvfb xdotool x11-apps imagemagick")
    if why:
        print("FAIL: " + why)
        return 1
    xvfb = Xvfb()
    env = xvfb.env
    guest = None
    try:
        guest = Guest([myvmm, "--kernel", kernel, "--cmdline", "tk=input tk.timeout=60",
                       "--display", "sdl", "--name", "disptest", "--timeout", "90"], env)
        guest.wait_for(r"TK: fb 1024x768 drawn")
        guest.wait_for(r"TK: input ready")
        guest.wait_for(r"TK: mouse ack", timeout=10)
        win = run(["xdotool", "search", "--sync", "--name", "^myvmm: disptest"], env).split()[0]
        title = run(["xdotool", "getwindowname", win], env).strip()
        assert title == "myvmm: disptest (running)", title
        time.sleep(0.5)                       # a few frames at <= 60 fps
        img = capture(win, env, shot)
        w, h = img[0], img[1]
        for i, want in enumerate(BARS):
            got = pixel(img, int((i + 0.5) * w / 8), h // 4)
            assert got == want, "bar %d at (%d,%d): %s, want %s" % (i, int((i + 0.5) * w / 8), h // 4, got, want)
        assert pixel(img, w // 2, h * 7 // 8) == (0x40, 0x40, 0x40), pixel(img, w // 2, h * 7 // 8)
        # Caption "MYVMM TEST PATTERN" (5x7 font at 4x from x=296, y=560):
        # the first M's left stroke is lit on every row, the gap after it is not.
        for y in (562, 573, 585):
            got = pixel(img, int(297 * w / 1024), int(y * h / 768))
            assert got == (0xff, 0xff, 0xff), "caption M stroke at y=%d: %s" % (y, got)
        got = pixel(img, int(317 * w / 1024), int(573 * h / 768))
        assert got == (0x40, 0x40, 0x40), "caption gap: %s" % (got,)
        print("ok: 8 colour bars and the caption in a %dx%d window" % (w, h))

        run(["xdotool", "windowfocus", "--sync", win], env)
        mark = guest.count()
        run(["xdotool", "key", "--window", win, "a"], env)
        guest.wait_for(r"TK: kbd 1e", start=mark, timeout=10)   # set 1 make 'a'
        guest.wait_for(r"TK: kbd 9e", start=mark, timeout=10)   # break
        mark = guest.count()
        run(["xdotool", "key", "--window", win, "Up"], env)
        i = guest.wait_for(r"TK: kbd e0", start=mark, timeout=10)
        guest.wait_for(r"TK: kbd 48", start=i, timeout=10)
        print("ok: keys a and Up arrive as set-1 scan codes")

        run(["xdotool", "mousemove", "--window", win, "100", "100"], env)
        time.sleep(0.2)
        mark = guest.count()
        run(["xdotool", "mousemove_relative", "--", "20", "0"], env)
        guest.wait_for(r"TK: mouse [0-9a-f]{2} 14 00", start=mark, timeout=10)  # dx = +20
        mark = guest.count()
        run(["xdotool", "mousemove_relative", "--", "0", "10"], env)
        guest.wait_for(r"TK: mouse 28 00 f6", start=mark, timeout=10)  # down 10: dy = -10, sign bit
        mark = guest.count()
        run(["xdotool", "click", "1"], env)
        guest.wait_for(r"TK: mouse 09 00 00", start=mark, timeout=10)  # left down
        guest.wait_for(r"TK: mouse 08 00 00", start=mark, timeout=10)  # left up
        print("ok: mouse motion and left button arrive as PS/2 packets")

        run(["xdotool", "key", "--window", win, "q"], env)
        guest.wait_for(r"TK: PASS input", timeout=10)
        rc = guest.p.wait(timeout=20)
        assert rc == 1, "exit status %d" % rc   # debug-exit 0 -> status 1
        print("PASS display end-to-end")
        return 0
    finally:
        stop_guest(guest)
        xvfb.close()


if __name__ == "__main__":
    script_main(main)
