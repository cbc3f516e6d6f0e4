#!/usr/bin/env python3
"""Window close -> ACPI power button, under Xvfb (no window manager).

The close request is what a window manager sends: a WM_PROTOCOLS client
message carrying WM_DELETE_WINDOW (ICCCM 4.2.8.1), sent here with libX11
through ctypes. Two cases:
  1. tk=pwrbtn: the guest arms PWRBTN_EN, sees PWRBTN_STS after the close,
     powers off through S5 -> myvmm exits 0;
  2. tk=hang: the guest ignores the button; the title says "close again",
     a second close stops the VM -> myvmm exits 0 (quit).
Needs Xvfb and xdotool (to find the window), /dev/kvm, libX11.

usage: run_close_test.py MYVMM TESTKERNEL
"""
import ctypes
import ctypes.util
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_display_test import Guest, Xvfb, script_main, missing_prereq, run, stop_guest  # noqa: E402

CLIENT_MESSAGE = 33


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("l", ctypes.c_long * 5)]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


def wm_delete(disp, win):
    """Sends WM_DELETE_WINDOW to window id win on display disp."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(XEvent)]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(disp.encode())
    if not dpy:
        raise AssertionError("cannot open display %s" % disp)
    try:
        ev = XEvent()
        ev.xclient.type = CLIENT_MESSAGE
        ev.xclient.window = win
        ev.xclient.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        ev.xclient.format = 32
        ev.xclient.l[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        ev.xclient.l[1] = 0  # CurrentTime
        if not x11.XSendEvent(dpy, win, 0, 0, ctypes.byref(ev)):
            raise AssertionError("XSendEvent failed")
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)


def title(win, env):
    return run(["xdotool", "getwindowname", str(win)], env).strip()


def wait_title(win, env, want, timeout=10):
    end = time.time() + timeout
    t = ""
    while time.time() < end:
        t = title(win, env)
        if want in t:
            return t
        time.sleep(0.1)
    raise AssertionError("window title %r does not contain %r" % (t, want))


def start(myvmm, kernel, scen, name, env):
    g = Guest([myvmm, "--kernel", kernel, "--cmdline", "tk=%s tk.timeout=60" % scen,
               "--display", "sdl", "--name", name, "--timeout", "90"], env)
    win = int(run(["xdotool", "search", "--sync", "--name", "^myvmm: %s " % name], env).split()[0])
    return g, win


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    myvmm, kernel = sys.argv[1], sys.argv[2]
    why = missing_prereq(("Xvfb", "xdotool"), "xvfb xdotool")
    if why:
        print("FAIL: " + why)
        return 1
    xvfb = Xvfb()
    env, disp = xvfb.env, xvfb.disp
    g = None
    try:
        # 1. The guest handles the button and powers off.
        g, win = start(myvmm, kernel, "pwrbtn", "closetest", env)
        g.wait_for(r"TK: pwrbtn armed")
        wm_delete(disp, win)
        g.wait_for(r"TK: pwrbtn pressed \(pm1_sts 0x[0-9a-f]*[13579bdf][0-9a-f]{2}\)", timeout=20)
        rc = g.p.wait(timeout=20)
        assert rc == 0, "exit status %d after the guest's S5, want 0" % rc
        print("ok: window close -> PWRBTN_STS in the guest -> S5 power-off (exit 0)")
        # 2. The guest ignores it: the second close quits.
        g, win = start(myvmm, kernel, "hang", "closetest2", env)
        g.wait_for(r"TK: hanging")
        wm_delete(disp, win)
        wait_title(win, env, "close again to quit")
        assert g.p.poll() is None, "myvmm quit on the first close"
        wm_delete(disp, win)
        rc = g.p.wait(timeout=20)
        assert rc == 0, "exit status %d after the second close, want 0" % rc
        print("ok: second close stops an unresponsive guest (exit 0)")
        print("PASS window close")
        return 0
    finally:
        stop_guest(g)
        xvfb.close()


if __name__ == "__main__":
    script_main(main)
