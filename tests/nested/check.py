#!/usr/bin/env python3
"""check.py SCENARIO OUT: judges one nested scenario from what its L2 run left
in OUT/<run>/ (console.log, stderr.log, status.json, rc, disk images) after
run-nested.sh. Prints one line per check; exits 1 if any failed.

Each scenario asserts what Linux printed (the "NT ..." lines the L2 scripts
print, and the kernel lines they quote from dmesg) and myvmm's exit status
and --status-file report."""
import json
import os
import re
import subprocess
import sys
import zlib

scen, out = sys.argv[1], sys.argv[2]
fails = []


def ok(cond, what):
    print(('ok:   ' if cond else 'FAIL: ') + what)
    if not cond:
        fails.append(what)
    return cond


class Run:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(out, name)
        self.console = self.read('console.log')
        self.lines = self.console.replace('\r', '').split('\n')
        try:
            self.rc = int(self.read('rc').strip())
        except ValueError:
            self.rc = None
        try:
            self.status = json.loads(self.read('status.json'))
        except ValueError:
            self.status = {}

    def read(self, f):
        try:
            with open(os.path.join(self.dir, f), errors='replace') as fp:
                return fp.read()
        except OSError:
            return ''

    def nt(self, key):
        """Values of the 'NT key value' lines (also after a shell prompt)."""
        vals = []
        for ln in self.lines:
            m = re.search(r'(?:^|# )NT %s ?(.*)$' % re.escape(key), ln)
            if m:
                vals.append(m.group(1).strip())
        return vals

    def nt1(self, key):
        v = self.nt(key)
        return v[0] if v else None

    def has(self, ere, what=None):
        return ok(any(re.search(ere, ln) for ln in self.lines),
                  '%s: %s' % (self.name, what or 'console has /%s/' % ere))

    def count(self, ere):
        return sum(1 for ln in self.lines if re.search(ere, ln))

    def exit(self, code, reason):
        ok(self.rc == code, '%s: myvmm exit status %s (want %d)' % (self.name, self.rc, code))
        ok(self.status.get('exit_code') == code and self.status.get('reason') == reason,
           '%s: status file reason %r exit_code %r (want %r, %d)' % (
               self.name, self.status.get('reason'), self.status.get('exit_code'), reason, code))

    def userspace(self, nt=None):
        self.has(r'^NT-UP %s' % re.escape(nt or self.name), 'L2 reached /init')
        ok(isinstance(self.status.get('boot_marker_ms'), int),
           '%s: status file has boot_marker_ms (%s)' % (self.name, self.status.get('boot_marker_ms')))

    def eq(self, key, want):
        v = self.nt1(key)
        return ok(v == want, '%s: NT %s is %r (want %r)' % (self.name, key, v, want))

    def dmesg(self, name, ere):
        v = self.nt1('dmesg-' + name)
        return ok(v is not None and re.search(ere, v) is not None,
                  '%s: kernel printed /%s/ (%r)' % (self.name, ere, v))


def png_pixels(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB PNG."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, w, h = 8, b'', 0, 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], 'big')
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if typ == b'IHDR':
            w, h = int.from_bytes(body[0:4], 'big'), int.from_bytes(body[4:8], 'big')
            if body[8] != 8 or body[9] != 2:
                raise ValueError('not 8-bit RGB')
        elif typ == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = 1 + 3 * w
    rows = []
    for y in range(h):
        row = raw[y * stride:(y + 1) * stride]
        if row[0] != 0:
            raise ValueError('filtered row (writer uses none)')
        rows.append(row[1:])
    return w, h, rows


def debugfs_cat(img, path):
    p = subprocess.run(['debugfs', '-R', 'cat ' + path, img], capture_output=True)
    return p.stdout


def qcow2(s):
    """Run qcow2: ext4 on qcow2 through qemu-storage-daemon (myvmm's child)."""
    import hashlib
    r = Run('qcow2')
    r.userspace()
    r.exit(0, 'poweroff')
    err = r.read('stderr.log')
    ok('forbidden' not in err and 'went away' not in err and 'sandbox off' not in err,
       'qcow2: no sandbox or back-end error on stderr (%r)' % err.strip()[:300])
    if s == 'qcow2_ext4':
        want = open(os.path.join(out, '..', 'in', 'payload.sha256')).read().strip()
        r.eq('blkdevs', 'vda vdb')
        r.eq('mount_vda', 'ok')
        r.eq('payload_sha', want)
        r.eq('umount_vda', 'ok')
        img = os.path.join(r.dir, 'data.img')
        got = debugfs_cat(img, '/fromguest.txt').decode(errors='replace').strip()
        ok(bool(got) and got == r.nt1('written'),
           'qcow2: debugfs reads the guest\'s file from the converted image: %r (guest wrote %r)'
           % (got, r.nt1('written')))
        big = hashlib.sha256(debugfs_cat(img, '/big.bin')).hexdigest()
        ok(big == r.nt1('big_sha'), 'qcow2: the guest\'s 4 MiB file reads back (sha %s, guest %s)'
           % (big, r.nt1('big_sha')))
        try:
            wake = int(r.read('ctxt-after')) - int(r.read('ctxt-before'))
        except ValueError:
            wake = None
        print('info: qcow2: 32 MiB sequential read in L2 took %s s; myvmm\'s I/O thread woke %s '
              'times meanwhile' % (r.nt1('read32m_secs'), wake))
    elif s == 'qcow2_check':
        for i in ('data', 'top'):
            txt = r.read('check-%s.txt' % i)
            ok(r.read('check-%s.rc' % i).strip() == '0' and 'No errors were found' in txt,
               'qcow2: qemu-img check %s.qcow2 after the VM is clean: %r' % (i, txt.strip()[:200]))
        ok(r.read('qsd-left.txt').strip() == '', 'qcow2: no qemu-storage-daemon left after myvmm')
        ok('myvmm-qsd' not in r.read('tmp-left.txt'), 'qcow2: no daemon directory left in /tmp (%r)'
           % r.read('tmp-left.txt').strip())
    elif s == 'qcow2_backing':
        before, after = r.read('base.sha256.before').strip(), r.read('base.sha256.after').strip()
        ok(bool(before) and before == after, 'qcow2: the backing file is unchanged (sha256 %s -> %s)'
           % (before, after))
        r.eq('mount_vdb', 'ok')
        r.eq('top_read', 'read-only disk made on the host')
        r.eq('umount_vdb', 'ok')
        got = debugfs_cat(os.path.join(r.dir, 'top.img'), '/fromguest.txt').decode(
            errors='replace').strip()
        ok(bool(got) and got == r.nt1('written_top'),
           'qcow2: the overlay holds the guest\'s file: %r (guest wrote %r)' % (got, r.nt1('written_top')))


def nt_vsock(line):
    """The fields of an nt-vsock result line (sent= sent_fnv= got= ...), or {}."""
    return dict(kv.split('=', 1) for kv in (line or '').split() if '=' in kv)


def vsock(s):
    """Run vsock: Linux's virtio-vsock driver against myvmm's --vsock, nt-vsock
    on both sides (tests/nested/nt-vsock.c, l2/vsock.sh, run_vsock)."""
    r = Run('vsock')
    mib = '1048576'

    def transfer(who, res, want):
        """An echo of `want` bytes: both directions complete, checksums equal."""
        ok(res.get('sent') == want and res.get('got') == want and res.get('end') == 'eof'
           and res.get('sent_fnv') == res.get('got_fnv'),
           'vsock: %s sent and got back %s bytes, same FNV-1a, then EOF (%r)' % (who, want, res))

    def cut(who, res):
        """A peer closed after 64 KiB: this side ended (EOF or a reset), no stall."""
        ok(res.get('end') in ('eof', 'ECONNRESET', 'EPIPE', 'ENOTCONN')
           and 0 <= int(res.get('got', -1)) <= 65536
           and float(res.get('secs', 99)) < 30,
           'vsock: %s saw the peer close mid-stream (EOF/reset, got at most the 64 KiB echoed, < 30 s): %r'
           % (who, res))

    if s == 'vsock_guest_connect':
        r.userspace()
        r.dmesg('pfvsock', r'Registered PF_VSOCK')
        r.eq('vsock_cid', '3')
        g = nt_vsock(r.nt1('vsock_guest'))
        transfer('L2 -> host port 5000', g, mib)
        e = nt_vsock(r.read('echo-5000.txt'))
        ok(e.get('got') == mib and e.get('got_fnv') == g.get('sent_fnv')
           and e.get('sent_fnv') == g.get('got_fnv'),
           "vsock: L1's listener on PATH_5000 received the guest's 1 MiB (same FNV-1a) and "
           "echoed it: %r" % e)
        b = nt_vsock(r.nt1('vsock_bulk'))
        transfer('L2 -> host port 5005 (8 MiB)', b, '8388608')
        print('info: 8 MiB echoed guest -> host -> guest in %s s' % b.get('secs'))
        a = nt_vsock(r.nt1('vsock_after'))
        transfer('L2 -> host port 5004 after the resets', a, '65536')
        ref = r.nt1('vsock_refused') or ''
        ok('end=connect' in ref and 'Connection reset' in ref,
           'vsock: connecting to a host port nobody listens on is refused (reset): %r' % ref)
        vw = [w for w in r.nt('warn') if re.search(r'vsock|virtio', w, re.I)]
        ok(not vw, 'vsock: no kernel warning/error about virtio or vsock: %r' % vw)
        r.exit(0, 'poweroff')
    elif s == 'vsock_parallel':
        for p in (5010, 5011, 5012, 5013):
            g = nt_vsock(r.nt1('vsock_par_%d' % p))
            transfer('L2 -> host port %d (4 at once)' % p, g, '262144')
            e = nt_vsock(r.read('echo-%d.txt' % p))
            ok(e.get('got') == '262144' and e.get('got_fnv') == g.get('sent_fnv'),
               "vsock: L1's listener on PATH_%d got this connection's own 256 KiB: %r" % (p, e))
    elif s == 'vsock_host_connect':
        h = nt_vsock(r.read('host-5001.txt'))
        transfer('L1 CONNECT 5001', h, mib)
        ok(r.read('host-5001.err').startswith('nt-vsock: OK '),
           'vsock: CONNECT 5001 answered "OK <port>": %r' % r.read('host-5001.err').strip())
        e = nt_vsock(r.nt1('vsock_host_echo'))
        ok(e.get('got') == mib and e.get('got_fnv') == h.get('sent_fnv')
           and e.get('sent_fnv') == h.get('got_fnv'),
           "vsock: L2's listener on port 5001 received L1's 1 MiB (same FNV-1a) and echoed it: %r" % e)
        r.exit(0, 'poweroff')
    elif s == 'vsock_close':
        cut('L2 -> host port 5002 (L1 closes)', nt_vsock(r.nt1('vsock_guest_close')))
        e = nt_vsock(r.read('echo-5002.txt'))
        ok(e.get('got') == '65536' and e.get('sent') == '65536',
           "vsock: L1's listener on PATH_5002 echoed 64 KiB, then closed: %r" % e)
        cut('L1 CONNECT 5003 (L2 closes)', nt_vsock(r.read('host-5003.txt')))
        e = nt_vsock(r.nt1('vsock_host_close_echo'))
        ok(e.get('got') == '65536' and e.get('sent') == '65536',
           "vsock: L2's listener on port 5003 echoed 64 KiB, then closed: %r" % e)
        ok(r.read('echo-left.txt') == '', 'vsock: no listener left running: %r' % r.read('echo-left.txt'))
        err = r.read('stderr.log')
        ok('error' not in err, "vsock: no error on myvmm's stderr: %r" % err[-300:])
        r.exit(0, 'poweroff')
    elif s == 'vsock_restore':
        r = Run('vsnap')
        api = r.read('api.log')
        ok('pause 204' in api and 'create 204' in api, 'vsnap: paused and snapshotted: %r' % api)
        transfer('L1 CONNECT 5008 before the snapshot', nt_vsock(r.read('hold.txt')), '4096')
        ok(r.count(r'^NT-UP vsnap') == 0, 'vsnap: the restored VM did not boot again')
        r.eq('vsnap_restored', 'go')
        c = nt_vsock(r.nt1('vsnap_idle'))
        ok(c.get('got') == '4096' and c.get('end') in ('ECONNRESET', 'eof', 'ENOTCONN'),
           "vsnap: the guest's idle connection ended with a reset after the restore "
           "(TRANSPORT_RESET), not a stall: %r" % c)
        transfer('restored L2 -> host port 5007', nt_vsock(r.nt1('vsnap_after')), '65536')
        r.exit(0, 'poweroff')
    else:
        ok(False, 'unknown scenario %s' % s)


def scenario(s):
    if s == 'shell_ttyS0':
        r = Run('shell')
        r.userspace()
        r.has(r'typed-42', 'typed input reached the shell on ttyS0 (echo $((6*7)) printed 42)')
        ok(r.count(r'NT-ERROR') == 0, 'shell: no NT-ERROR line (the console shell never exited)')
        r.exit(0, 'poweroff')
    elif s == 'reboot':
        r = Run('shell')
        ok(r.count(r'^NT-UP shell') == 2, 'shell: L2 booted twice (reboot -f restarted the VM), saw %d'
           % r.count(r'^NT-UP shell'))
        ok(r.status.get('resets') == 1, 'shell: status file resets %r (want 1)' % r.status.get('resets'))
        ok('stalled' not in r.read('l1.log'),
           'shell: ttyS0 output after the reboot never stalled (%s)' % r.read('l1.log').strip())
        r.exit(0, 'poweroff')
    elif s == 'legacy':
        r = Run('shell')
        r.dmesg('i8042', r'i8042: PNP: PS/2 Controller .* at 0x60,0x64 irq 1')
        r.dmesg('atkbd', r'input: AT Translated Set 2 keyboard')
        r.dmesg('rtc', r'rtc_cmos .*registered as rtc0')
        r.eq('dmesg-rtcerr', '')
        r.eq('dmesg-i8042err', '')
        hw = r.nt1('hwclock')
        seen = r.read('hwclock_seen').strip()
        try:
            typed, guest = [int(x) for x in hw.split()[:2]]
            seen = int(seen)
            ok(typed - 2 <= guest <= seen + 2,
               'shell: hwclock -s gave %d, host time %d..%d when typed/seen (within 2 s)'
               % (guest, typed, seen))
        except (AttributeError, ValueError):
            ok(False, 'shell: NT hwclock line %r / seen %r' % (hw, seen))
        r.has(r'typed-42', 'ttyS0 input works')
    elif s == 'cpu_model':
        r = Run('shell')
        l1 = open(os.path.join(out, 'l1-model.txt')).read().strip() if os.path.exists(
            os.path.join(out, 'l1-model.txt')) else None
        v = r.nt1('model')
        ok(bool(v) and v == l1, 'shell: guest model name %r equals the host (L1) CPU %r' % (v, l1))
    elif s == 'rng':
        r = Run('shell')
        r.eq('rng_current', 'virtio_rng.0')
        r.eq('rng_bytes', '65536')
        d = r.nt1('rng_distinct')
        ok(d is not None and d.isdigit() and int(d) >= 200,
           'shell: 64 KiB from /dev/hwrng hold %s distinct byte values (want >= 200)' % d)
    elif s == 'display':
        r = Run('shell')
        r.dmesg('drm', r'Initialized bochs-drm')
        r.dmesg('fbcon', r'Console: switching to colour frame buffer device')
        path = os.path.join(r.dir, 'screen.png')
        try:
            w, h, rows = png_pixels(path)
            lit, colours, lit_rows = 0, set(), 0
            for row in rows:
                n = sum(1 for x in range(0, 3 * w, 3) if row[x:x + 3] != b'\0\0\0')
                if n:
                    lit += n
                    lit_rows += 1
                    colours.update(row[x:x + 3] for x in range(0, 3 * w, 3))
            ok(w >= 640 and h >= 400, 'shell: screenshot %dx%d' % (w, h))
            # One line of console text: a few hundred lit pixels over >= 8 rows.
            ok(lit >= 200 and lit_rows >= 8 and len(colours) >= 2,
               'shell: screenshot shows text (%d lit pixels on %d rows, %d colours)'
               % (lit, lit_rows, len(colours)))
        except (OSError, ValueError, zlib.error) as e:
            ok(False, 'shell: screenshot %s: %s' % (path, e))
    elif s.startswith('blk_'):
        r = Run('blk')
        r.userspace()
        r.exit(0, 'poweroff')
        want = open(os.path.join(out, '..', 'in', 'payload.sha256')).read().strip()
        if s == 'blk_ext4':
            r.eq('mount_vda', 'ok')
            r.eq('payload_sha', want)
            r.eq('umount_vda', 'ok')
        elif s == 'blk_write':
            img = os.path.join(r.dir, 'data.img')
            p = subprocess.run(['debugfs', '-R', 'cat /fromguest.txt', img],
                               capture_output=True, text=True)
            got = p.stdout.strip()
            ok(bool(got) and got == r.nt1('written'),
               'blk: debugfs on the host reads the guest\'s file: %r (guest wrote %r)'
               % (got, r.nt1('written')))
        elif s == 'blk_ro':
            r.eq('vda_ro', '0')
            r.eq('vdb_ro', '1')
            r.eq('mount_vdb', '/dev/vdb ro')
            r.eq('ro_read', 'read-only disk made on the host')
            v = r.nt1('ro_write') or ''
            ok('Read-only file system' in v, 'blk: a write on the ro mount fails: %r' % v)
            v = r.nt1('ro_dd') or ''
            ok(re.search(r'Operation not permitted|Read-only', v) is not None,
               'blk: a raw write to /dev/vdb is refused: %r' % v)
        elif s == 'blk_two_disks':
            r.eq('blkdevs', 'vda vdb')
        elif s == 'blk_fstrim':
            v = r.nt1('fstrim') or ''
            ok(re.search(r'^/mnt: .*\b[1-9][0-9]* bytes', v) is not None,
               'blk: fstrim -v trimmed bytes: %r' % v)
    elif s == 'qemu_same':
        m, q = Run('blk'), Run('blkqemu')
        q.has(r'NT-UP blk', 'L2 reached /init under QEMU -enable-kvm')
        q.has(r'^NT-END blk', 'L2 ran the blk scenario to its end under QEMU')
        m.has(r'^NT-END blk', 'L2 ran the blk scenario to its end under myvmm')
        for k in ('blkdevs', 'vda_ro', 'vdb_ro', 'mount_vda', 'payload_sha', 'mount_vdb',
                  'ro_read', 'ro_write', 'umount_vda'):
            ok(m.nt1(k) == q.nt1(k), 'NT %s same on myvmm and QEMU: %r / %r' % (k, m.nt1(k), q.nt1(k)))

        # Clock-quality warnings depend on how loaded the host running the
        # TCG L1 is at that moment (the kernel times PIT ticks against the
        # PM timer and the TSC against kvm-clock): reported, not compared.
        timing = re.compile(r'APIC calibration not consistent|clocksource|Unstable clock|'
                            r'trace_clock|If you want to keep using|on the kernel command line|'
                            r'TSC|timekeeping watchdog|hrtimer: interrupt took')

        def norm(lines):
            return set(re.sub(r'0x[0-9a-f]+|[0-9]+', 'N', ln) for ln in lines)
        for w in sorted(norm(w for w in m.nt('warn') + q.nt('warn') if timing.search(w))):
            print('info: timing (not compared): %s' % w)
        mw = norm(w for w in m.nt('warn') if not timing.search(w))
        qw = norm(w for w in q.nt('warn') if not timing.search(w))
        for w in sorted(qw - mw):
            print('info: only under QEMU: %s' % w)
        for w in sorted(mw & qw):
            print('info: same on QEMU: %s' % w)
        ok(not (mw - qw), 'no kernel warning/error under myvmm that QEMU does not show too%s'
           % ''.join('\n      myvmm only: ' + w for w in sorted(mw - qw)))
    elif s.startswith('net_') or s == 'pvpanic':
        r = Run('net')
        r.userspace()
        if s == 'net_dhcp':
            v = r.nt1('dhcp') or ''
            ok('lease of 10.0.2.15 obtained' in v, 'net: udhcpc: %r' % v)
            r.eq('addr', 'inet 10.0.2.15/24')
            v = r.nt1('route') or ''
            ok(v.startswith('default via 10.0.2.2 '), 'net: default route %r' % v)
        elif s == 'net_ping':
            v = r.nt1('ping') or ''
            ok(re.search(r'3 packets transmitted, 3 packets received', v) is not None,
               'net: ping 10.0.2.2: %r' % v)
        elif s == 'net_http':
            r.eq('http_sha', r.read('blob.sha256').strip() or 'missing blob.sha256')
        elif s == 'net_hostfwd':
            v = r.nt1('fwd_host')
            ok(bool(v) and v == r.nt1('fwd_sha'),
               'net: L1 fetched the guest\'s page through hostfwd: sha %r (guest has %r)'
               % (v, r.nt1('fwd_sha')))
        elif s == 'pvpanic':
            r.eq('pvpanic', '1')
            r.has(r'^NT panicking', 'the guest triggered a panic')
            r.exit(4, 'panic')
            ok('guest panicked' in r.read('stderr.log'), 'net: "guest panicked" on stderr')
    elif s.startswith('vcon_'):
        r = Run('vcon')
        if s == 'vcon_input':
            r.eq('vcon_up', 'hvc0')
            r.has(r'typed-42', 'typed input reached the shell on hvc0')
            r.exit(0, 'poweroff')
        else:
            c = r.console.encode()
            i, j = c.find(b'NT-BULK-BEGIN\n'), c.find(b'NT-BULK-END')
            body = c[i + 14:j] if 0 <= i < j else b''
            want = b''.join(b'%08d abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR\n' % k
                            for k in range(16384))
            ok(len(want) == 1 << 20, 'expected text is 1 MiB')
            ok(body == want, 'vcon: 1 MiB written to hvc0 arrived whole (%d bytes between markers)'
               % len(body))
    elif s in ('cpus4', 'mem4g', 'no_reboot'):
        r = Run('smp')
        r.userspace()
        if s == 'cpus4':
            r.eq('nproc', '4')
            r.eq('online', '0-3')
            r.dmesg('smp', r'smp: Brought up 1 node, 4 CPUs')
            ok(r.status.get('cpus') == 4, 'smp: status file cpus %r' % r.status.get('cpus'))
        elif s == 'mem4g':
            r.dmesg('e820hi', r'BIOS-e820: \[mem 0x0000000100000000-0x[0-9a-f]+\] usable')
            v = r.nt1('memtotal_kb') or '0'
            ok(v.isdigit() and int(v) > 3800 * 1024, 'smp: MemTotal %s kB (want > 3800 MiB)' % v)
            ok(bool(r.nt1('iomem_hi')), 'smp: /proc/iomem System RAM above 4 GiB: %r' % r.nt1('iomem_hi'))
            ok(r.status.get('memory_bytes') == 4 << 30,
               'smp: status file memory_bytes %r' % r.status.get('memory_bytes'))
        else:
            r.has(r'^NT rebooting', 'the guest rebooted')
            r.exit(0, 'reset')
    elif s in ('fw_virtio', 'fw_ide'):
        r = Run(s.replace('_', ''))
        r.has(r'GRUB: loading Linux', 'GRUB ran from the disk')
        r.userspace('fw')
        if s == 'fw_virtio':
            r.eq('disks', 'vda')
        else:
            r.eq('disks', 'sda')
            r.dmesg('ata', r'ata[0-9]+\.00: ATA-')
        r.exit(0, 'poweroff')
    elif s.startswith('qcow2_'):
        qcow2(s)
    elif s.startswith('fs_') or s == 'fsqemu_read':
        r = Run('fsqemu' if s == 'fsqemu_read' else 'fs')
        if s == 'fsqemu_read':   # SeaBIOS's escapes precede NT-UP; no status file
            r.has(r'NT-UP fs', 'L2 reached /init under QEMU -enable-kvm')
        else:
            r.userspace('fs')
        r.has(r'^NT-END fs', 'L2 ran the fs scenario to its end')
        want = open(os.path.join(out, '..', 'in', 'payload.sha256')).read().strip()
        if s == 'fsqemu_read':
            r.eq('mount_share', 'ok')
            r.eq('payload_sha', want)
            ok(r.nt1('bench_read_secs') is not None, 'fsqemu: big.bin read timed: %r / %r'
               % (r.nt1('bench_dd'), r.nt1('bench_read_secs')))
        else:
            r.exit(0, 'poweroff')
        if s == 'fs_mount':
            r.eq('mount_share', 'ok')
            r.eq('fstype', 'virtiofs')
            r.eq('umount_share', 'ok')
        elif s == 'fs_read':
            r.eq('payload_sha', want)
            v = r.nt1('bench_dd') or ''
            mib = r.nt1('big_mib') or '?'
            ok(mib.isdigit() and int(mib) >= 16 and v.startswith(mib + '+0 records out'),
               'fs: the %s MiB file read whole: %r (%s s)' % (mib, v, r.nt1('bench_read_secs')))
        elif s == 'fs_write':
            got = r.read('host_fromguest.txt').strip()
            ok(bool(got) and got == r.nt1('written'),
               "fs: L1 reads the guest's file: %r (guest wrote %r)" % (got, r.nt1('written')))
        elif s == 'fs_dir':
            r.eq('many', '1000')
        elif s == 'fs_ro':
            r.eq('mount_ro', 'ok')
            r.eq('ro_read', 'read-only share made on the host')
            v = r.nt1('ro_write') or ''
            ok('Read-only file system' in v, 'fs: a write on the ro share fails with EROFS: %r' % v)
            v = r.nt1('ro_mkdir') or ''
            ok('Read-only file system' in v, 'fs: mkdir on the ro share fails with EROFS: %r' % v)
            ok(r.read('host_ro_ls.txt').split() == ['hello.txt'],
               'fs: nothing new in the ro directory on L1: %r' % r.read('host_ro_ls.txt'))
        elif s == 'fs_cleanup':
            ok(r.read('virtiofsd_left.txt').strip() == '',
               'fs: no virtiofsd left in L1 after myvmm exited: %r' % r.read('virtiofsd_left.txt'))
            err = r.read('stderr.log')
            ok('error' not in err, 'fs: no error on myvmm\'s stderr: %r' % err[-300:])
    elif s.startswith('snap_'):
        r = Run('snap')
        api = r.read('api.log')
        first = r.read('console1.log')
        if s == 'snap_create':
            ok('NT mounted 1' in first, 'snap: the ext4 disk was mounted before the snapshot')
            ok('wrote-25' in first, 'snap: the shell wrote the disk before the snapshot')
            ok('pause 204' in api and 'create 204' in api,
               'snap: PATCH /vm Paused and PUT /snapshot/create answered 204: %r' % api)
        elif s == 'snap_restore':
            ok('restored /tmp/run/snap/vm.snap' in r.read('stderr.log'),
               'snap: myvmm --restore said it restored: %r' % r.read('stderr.log')[-300:])
            r.has(r'after-49', 'the restored shell runs typed commands (echo $((7*7)) printed 49)')
            ok(r.count(r'^NT-UP snap') == 0, 'snap: the restored VM did not boot again')
            ok(r.count(r'NT-ERROR') == 0, 'snap: no NT-ERROR line (the restored console shell never exited)')
            r.exit(0, 'poweroff')
        elif s == 'snap_disk':
            r.has(r'^(nt# )?before-42', 'the disk written before the snapshot reads back after it')
            img = os.path.join(r.dir, 'data.img')
            r.has(r'umounted-64', 'the restored guest unmounted the ext4 disk cleanly')
            ok(b'before-42' in debugfs_cat(img, '/before.txt'),
               'snap: the file written before the snapshot is in the image (debugfs)')
            ok(b'restored-disk' in debugfs_cat(img, '/after.txt'),
               'snap: the write after the restore is in the image (debugfs)')
        elif s == 'snap_net':
            r.has(r'3 packets transmitted, [1-3] (packets )?received',
                  'ping 10.0.2.2 after the restore (new slirp, same guest lease)')
            r.has(r'served by L1 for the restored guest', 'HTTP download from L1 after the restore')
    elif s.startswith('vsock_'):
        vsock(s)
    else:
        ok(False, 'unknown scenario %s' % s)


scenario(scen)
if fails:
    run_dirs = sorted(os.listdir(out)) if os.path.isdir(out) else []
    print('--- %d check(s) failed; outputs in %s (%s)' % (len(fails), out, ' '.join(run_dirs)))
    sys.exit(1)
print('all checks passed')
