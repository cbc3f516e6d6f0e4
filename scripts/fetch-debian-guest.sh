#!/bin/sh
# fetch-debian-guest.sh [--refresh] [CACHE_DIR]
#
# Fetches Debian 12's real kernels and busybox as a myvmm guest, without
# installing anything on the host (the packages are only unpacked into
# CACHE_DIR, never into /boot). Produces in CACHE_DIR:
#   vmlinuz            generic bzImage     (linux-image-amd64 -> linux-image-6.1.0-NN-amd64)
#   vmlinuz-cloud      cloud bzImage, LZ4  (linux-image-cloud-amd64 -> ...-cloud-amd64)
#   vmlinux            uncompressed ELF with a Xen PVH note, from the generic bzImage
#   initramfs.cpio.gz  busybox-static + an /init that prints "myvmm-demo: userspace up"
# and prints NAME=PATH lines on stdout (progress goes to stderr).
#
# Idempotent: when every output exists it only prints the paths (no apt call);
# --refresh re-resolves the packages and rebuilds what changed.
# Needs: apt-get, apt-cache, dpkg-deb, tar, gzip, python3 (all in Debian 12 base
# except python3). Default CACHE_DIR: ${XDG_CACHE_HOME:-$HOME/.cache}/myvmm/debian
set -eu

refresh=0
if [ "${1:-}" = "--refresh" ]; then refresh=1; shift; fi
case "${1:-}" in -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0;; esac
cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/myvmm/debian}

say() { echo "fetch-debian-guest: $*" >&2; }
die() { echo "fetch-debian-guest: error: $*" >&2; exit 1; }

print_paths() {
	for f in vmlinuz vmlinuz-cloud vmlinux initramfs.cpio.gz; do
		echo "$f=$cache/$f"
	done
}

mkdir -p "$cache" || die "cannot create cache dir $cache"
cache=$(cd "$cache" && pwd)

# The initramfs also depends on this script's /init, so its stamp includes a
# version tag: bump it when the init or inittab below change.
init_ver=2

if [ $refresh = 0 ] && [ -s "$cache/vmlinuz" ] && [ -s "$cache/vmlinuz-cloud" ] &&
   [ -s "$cache/vmlinux" ] && [ -s "$cache/initramfs.cpio.gz" ] &&
   grep -q " v$init_ver\$" "$cache/.initramfs.cpio.gz.src" 2>/dev/null; then
	print_paths
	exit 0
fi

for t in apt-get apt-cache dpkg-deb tar gzip python3; do
	command -v $t >/dev/null 2>&1 || die "'$t' not found (this script needs a Debian host; python3: apt-get install python3)"
done

# The package lists must exist before apt can resolve anything.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		say "apt package lists are empty: running apt-get update"
		apt-get update >&2 || die "apt-get update failed: check the network and /etc/apt/sources.list*"
	else
		die "apt package lists are empty: run 'apt-get update' as root first"
	fi
fi

# resolve META: prints the versioned linux-image package the metapackage depends on.
resolve() {
	out=$(apt-cache depends "$1" 2>&1) ||
		die "apt-cache depends $1 failed: $out
(is this Debian 12 with main in sources.list, and was 'apt-get update' run?)"
	dep=$(printf '%s\n' "$out" | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	[ -n "$dep" ] || die "cannot find the versioned kernel package $1 depends on; apt said:
$out"
	echo "$dep"
}

debs="$cache/debs"
mkdir -p "$debs"
# The _apt sandbox user must be able to write the download dir.
chmod 0777 "$debs" 2>/dev/null || true

# fetch PKG: downloads PKG's .deb into $debs unless present; prints its path.
fetch() {
	f=$(ls "$debs/$1"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$f" ]; then
		say "downloading $1"
		out=$(cd "$debs" && apt-get download "$1" 2>&1) ||
			die "apt-get download $1 failed:
$out
(run 'apt-get update' and check the network and sources.list)"
		f=$(ls "$debs/$1"_*.deb 2>/dev/null | head -n 1 || true)
		[ -n "$f" ] || die "apt-get download $1 reported success but left no .deb in $debs"
	fi
	echo "$f"
}

# unpack DEB MEMBER OUT: extracts one member (tar wildcard) of DEB's data to OUT.
# Same data as 'dpkg -x', but only the file we need (the generic kernel package
# unpacks to ~400 MB of modules otherwise).
unpack() {
	tmpd=$(mktemp -d "$cache/.x.XXXXXX")
	dpkg-deb --fsys-tarfile "$1" | tar -x -C "$tmpd" --wildcards "$2" ||
		{ rm -rf "$tmpd"; die "cannot extract $2 from $1"; }
	src=$(ls -d "$tmpd"/$2 2>/dev/null | head -n 1 || true)
	[ -n "$src" ] && [ -s "$src" ] || { rm -rf "$tmpd"; die "$1 has no $2"; }
	mv -f "$src" "$3"
	rm -rf "$tmpd"
}

gen_pkg=$(resolve linux-image-amd64)
cloud_pkg=$(resolve linux-image-cloud-amd64)
say "linux-image-amd64 -> $gen_pkg, linux-image-cloud-amd64 -> $cloud_pkg"

gen_deb=$(fetch "$gen_pkg")
cloud_deb=$(fetch "$cloud_pkg")
bb_deb=$(fetch busybox-static)

# stamp_ok NAME SRC: true when output NAME was built from SRC (skip rebuilding).
stamp_ok() { [ -s "$cache/$1" ] && [ "$(cat "$cache/.$1.src" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$cache/.$1.src"; }

if ! stamp_ok vmlinuz "$gen_deb"; then
	say "extracting vmlinuz from $(basename "$gen_deb")"
	unpack "$gen_deb" './boot/vmlinuz-*' "$cache/vmlinuz"
	rm -f "$cache/vmlinux"
	stamp vmlinuz "$gen_deb"
fi
if ! stamp_ok vmlinuz-cloud "$cloud_deb"; then
	say "extracting vmlinuz-cloud from $(basename "$cloud_deb")"
	unpack "$cloud_deb" './boot/vmlinuz-*' "$cache/vmlinuz-cloud"
	stamp vmlinuz-cloud "$cloud_deb"
fi

if ! stamp_ok vmlinux "$gen_deb"; then
	say "decompressing vmlinux (xz payload of the generic bzImage)"
	python3 - "$cache/vmlinuz" "$cache/vmlinux.tmp" <<'EOF' || die "vmlinux extraction failed"
import lzma, struct, sys

src, dst = sys.argv[1], sys.argv[2]
img = open(src, 'rb').read()
if img[0x202:0x206] != b'HdrS':
    sys.exit('%s: not a bzImage (no HdrS at 0x202)' % src)

def has_pvh_note(elf):
    """True if a PT_NOTE segment holds a Xen note of type 18 (PHYS32_ENTRY)."""
    if elf[:4] != b'\x7fELF' or elf[4] != 2 or elf[5] != 1:
        return False
    phoff, = struct.unpack_from('<Q', elf, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', elf, 0x36)
    for i in range(phnum):
        p = phoff + i * phentsize
        if p + 56 > len(elf):
            return False
        ptype, _, off, _, _, filesz = struct.unpack_from('<IIQQQQ', elf, p)
        if ptype != 4:
            continue
        q, end = off, min(off + filesz, len(elf))
        while q + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from('<III', elf, q)
            name = elf[q + 12:q + 12 + namesz].rstrip(b'\0')
            if name == b'Xen' and ntype == 18:
                return True
            q += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False

magic = b'\xfd7zXZ\x00'
pos = img.find(magic)
while pos >= 0:
    try:
        # The stream is followed by the payload size and setup data: a
        # decompressor stops at the end of the xz stream and keeps the rest.
        out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(img[pos:])
    except lzma.LZMAError:
        out = b''
    if out[:4] == b'\x7fELF':
        if not has_pvh_note(out):
            sys.exit('vmlinux has no Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY)')
        open(dst, 'wb').write(out)
        print('vmlinux: %d bytes from xz stream at 0x%x, PVH note present' % (len(out), pos),
              file=sys.stderr)
        sys.exit(0)
    pos = img.find(magic, pos + 1)
sys.exit('no xz stream decompressing to an ELF found in %s' % src)
EOF
	mv -f "$cache/vmlinux.tmp" "$cache/vmlinux"
	stamp vmlinux "$gen_deb"
fi

if ! stamp_ok initramfs.cpio.gz "$bb_deb v$init_ver"; then
	say "building initramfs.cpio.gz from $(basename "$bb_deb")"
	unpack "$bb_deb" './bin/busybox' "$cache/busybox"
	python3 - "$cache/busybox" "$cache/initramfs.cpio.tmp" <<'EOF' || die "initramfs build failed"
import stat, sys

busybox, dst = sys.argv[1], sys.argv[2]

INIT = r'''#!/bin/busybox sh
# myvmm demo init: mount the API filesystems, say hello, hand over to busybox init.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
echo "myvmm-demo: userspace up (Linux $(uname -r), $(nproc) CPU(s), $(awk '/MemTotal/{print $2 " kB"}' /proc/meminfo))"
# Boot marker for myvmm: write 1 to port 0xf0 (needs CONFIG_DEVPORT).
printf '\001' | dd of=/dev/port bs=1 seek=240 count=1 conv=notrunc 2>/dev/null
exec /sbin/init
'''
INITTAB = '''::sysinit:/bin/hostname myvmm
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
'''
PROFILE = '''PS1='myvmm-guest:\\w# '
echo "busybox shell; 'poweroff' stops the VM."
'''

entries = []            # (name, mode, data, rdevmajor, rdevminor)
for d in ('bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys',
          'dev', 'tmp', 'root', 'run'):
    entries.append((d, stat.S_IFDIR | (0o1777 if d == 'tmp' else 0o755), b'', 0, 0))
entries.append(('dev/console', stat.S_IFCHR | 0o600, b'', 5, 1))
entries.append(('bin/busybox', stat.S_IFREG | 0o755, open(busybox, 'rb').read(), 0, 0))
entries.append(('bin/sh', stat.S_IFLNK | 0o777, b'busybox', 0, 0))
entries.append(('sbin/init', stat.S_IFLNK | 0o777, b'../bin/busybox', 0, 0))
entries.append(('init', stat.S_IFREG | 0o755, INIT.encode(), 0, 0))
entries.append(('etc/inittab', stat.S_IFREG | 0o644, INITTAB.encode(), 0, 0))
entries.append(('etc/profile', stat.S_IFREG | 0o644, PROFILE.encode(), 0, 0))

def pad4(b):
    return b + b'\0' * (-len(b) % 4)

out = bytearray()
def add(ino, name, mode, data, rmaj, rmin):
    nm = name.encode() + b'\0'
    nlink = 2 if stat.S_ISDIR(mode) else 1
    hdr = '070701' + ''.join('%08x' % v for v in (
        ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmaj, rmin, len(nm), 0))
    out.extend(pad4(hdr.encode() + nm))
    out.extend(pad4(data))

for i, e in enumerate(entries, 1):
    add(i, *e)
add(0, 'TRAILER!!!', 0, b'', 0, 0)
open(dst, 'wb').write(out)
EOF
	gzip -9n <"$cache/initramfs.cpio.tmp" >"$cache/initramfs.cpio.gz.tmp"
	mv -f "$cache/initramfs.cpio.gz.tmp" "$cache/initramfs.cpio.gz"
	rm -f "$cache/initramfs.cpio.tmp" "$cache/busybox"
	stamp initramfs.cpio.gz "$bb_deb v$init_ver"
fi

print_paths
