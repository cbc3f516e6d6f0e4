#!/usr/bin/env python3
"""mkinitramfs.py OUT.cpio SPEC...: writes an uncompressed newc cpio archive.

Each SPEC is one of
  dir:DEST                  a directory (parents are created implicitly too)
  file:SRC:DEST[:MODE]      a host file (symlinks followed), MODE in octal
  link:TARGET:DEST          a symlink
  bin:SRC:DEST              an executable plus every library `ldd` lists for it
                            (copied to their own paths, the loader included)
  lib:SRC                   a shared library (and its ldd libraries) at its own path,
                            for what a program dlopen()s
  tree:SRC:DEST             a host directory, recursively (files and symlinks)
  mod:MODDIR:NAME:DEST      kernel module NAME (file NAME.ko, '-' and '_' alike)
                            found under MODDIR, with every module its
                            modinfo 'depends=' names, recursively; DEST/modules.order
                            lists them in load order (dependencies first), and
                            DEST/NAME.load the ones NAME needs, in load order
  dev:DEST:c|b:MAJOR:MINOR  a device node
Later specs for the same DEST replace earlier ones. Uncompressed, because a
TCG guest unpacks it faster than it would gunzip it.
"""
import os
import stat
import subprocess
import sys

entries = {}   # dest -> (mode, data, rdevmajor, rdevminor)
order = []


def add(dest, mode, data=b'', rmaj=0, rmin=0):
    dest = dest.strip('/')
    parts = dest.split('/')
    for i in range(1, len(parts)):
        d = '/'.join(parts[:i])
        if d not in entries:
            entries[d] = (stat.S_IFDIR | 0o755, b'', 0, 0)
            order.append(d)
    if dest not in entries:
        order.append(dest)
    entries[dest] = (mode, data, rmaj, rmin)


def add_file(src, dest, mode=None):
    st = os.stat(src)
    with open(src, 'rb') as f:
        data = f.read()
    add(dest, stat.S_IFREG | (mode if mode is not None else stat.S_IMODE(st.st_mode)), data)


def ldd_libs(path):
    out = subprocess.run(['ldd', path], capture_output=True, text=True)
    libs = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if '=>' in line:
            p = line.split('=>', 1)[1].split('(')[0].strip()
        else:
            p = line.split('(')[0].strip()
        if p.startswith('/'):
            libs.append(p)
    if out.returncode != 0 and not libs:
        sys.exit('mkinitramfs: ldd %s failed: %s' % (path, out.stderr.strip()))
    return libs


def add_lib_path(p):
    """Adds library p at its own path and, when p is a symlink, its target too."""
    add_file(p, p)
    real = os.path.realpath(p)
    if real != p:
        add_file(real, real)


def modinfo_depends(ko):
    with open(ko, 'rb') as f:
        data = f.read()
    i = data.find(b'\0depends=')
    if i < 0:
        return []
    j = data.index(b'\0', i + 1)
    v = data[i + 9:j].decode()
    return [d for d in v.split(',') if d]


mod_index = {}


def find_module(moddir, name):
    if moddir not in mod_index:
        idx = {}
        for root, _, files in os.walk(moddir):
            for fn in files:
                if fn.endswith('.ko'):
                    idx[fn[:-3].replace('-', '_')] = os.path.join(root, fn)
        mod_index[moddir] = idx
    p = mod_index[moddir].get(name.replace('-', '_'))
    if not p:
        sys.exit('mkinitramfs: module %s not found under %s' % (name, moddir))
    return p


mod_orders = {}   # DEST -> list of module names in load order


def add_module(moddir, name, dest):
    lst = mod_orders.setdefault(dest, [])
    seen = set()
    mine = []

    def visit(n, depth):
        n = n.replace('-', '_')
        if n in seen:
            return
        if depth > 32:
            sys.exit('mkinitramfs: module dependency loop at %s' % n)
        ko = find_module(moddir, n)
        for d in modinfo_depends(ko):
            visit(d, depth + 1)
        seen.add(n)
        mine.append(n)
        if n not in lst:
            lst.append(n)
            add_file(ko, '%s/%s.ko' % (dest, n), 0o644)

    visit(name, 0)
    add('%s/%s.load' % (dest, name.replace('-', '_')), stat.S_IFREG | 0o644,
        ''.join(n + '\n' for n in mine).encode())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for spec in sys.argv[2:]:
        kind, _, rest = spec.partition(':')
        a = rest.split(':')
        if kind == 'dir':
            add(a[0], stat.S_IFDIR | (0o1777 if a[0].strip('/') == 'tmp' else 0o755))
        elif kind == 'file':
            add_file(a[0], a[1], int(a[2], 8) if len(a) > 2 else None)
        elif kind == 'link':
            add(a[1], stat.S_IFLNK | 0o777, a[0].encode())
        elif kind == 'bin':
            add_file(a[0], a[1])
            for p in ldd_libs(a[0]):
                add_lib_path(p)
        elif kind == 'lib':
            add_lib_path(a[0])
            for p in ldd_libs(a[0]):
                add_lib_path(p)
        elif kind == 'tree':
            src, dest = a[0], a[1]
            for root, dirs, files in os.walk(src):
                rel = os.path.relpath(root, src)
                d = dest if rel == '.' else dest + '/' + rel
                add(d, stat.S_IFDIR | 0o755)
                for fn in sorted(files + [x for x in dirs if os.path.islink(os.path.join(root, x))]):
                    p = os.path.join(root, fn)
                    if os.path.islink(p):
                        add(d + '/' + fn, stat.S_IFLNK | 0o777, os.readlink(p).encode())
                    else:
                        add_file(p, d + '/' + fn)
        elif kind == 'mod':
            add_module(a[0], a[1], a[2])
        elif kind == 'dev':
            add(a[0], (stat.S_IFCHR if a[1] == 'c' else stat.S_IFBLK) | 0o600, b'',
                int(a[2]), int(a[3]))
        else:
            sys.exit('mkinitramfs: unknown spec %r' % spec)
    for dest, lst in mod_orders.items():
        add(dest + '/modules.order', stat.S_IFREG | 0o644, ''.join(n + '\n' for n in lst).encode())

    def pad4(b):
        return b + b'\0' * (-len(b) % 4)

    tmp = out + '.tmp'
    with open(tmp, 'wb') as f:
        def emit(ino, name, mode, data, rmaj, rmin):
            nm = name.encode() + b'\0'
            nlink = 2 if stat.S_ISDIR(mode) else 1
            hdr = '070701' + ''.join('%08x' % v for v in (
                ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmaj, rmin, len(nm), 0))
            f.write(pad4(hdr.encode() + nm))
            f.write(pad4(data))
        for i, name in enumerate(order, 1):
            emit(i, name, *entries[name])
        emit(0, 'TRAILER!!!', 0, b'', 0, 0)
    os.replace(tmp, out)


main()
