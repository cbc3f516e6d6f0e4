#!/bin/sh
# run-nested.sh [--demo] MYVMM CACHE WORK [RUNS]
#
# The nested tier's fixture: builds an L1 machine from Debian's packages and
# boots it once under QEMU's TCG (an emulated AMD CPU with SVM), where myvmm
# (and QEMU -enable-kvm, for reference) boots Debian's kernel as L2 for each
# run in RUNS (comma-separated, default: all of them), one after the other.
#   CACHE  Debian packages, the unpacked modules and busybox (kept between runs)
#   WORK   this run: initramfs images, disk images, WORK/share/out/<run>/
#          (console.log, stderr.log, status.json, rc, secs), WORK/l1-console.log
# Exits 0 when L1 ran every run to the end (the per-scenario ctest tests then
# judge the results with check.py), 1 otherwise. --demo: L1's console is this
# terminal and L1 runs myvmm with Debian's kernel and the demo initramfs
# (scripts/fetch-debian-guest.sh) interactively (scripts/demo.sh on PVM hosts). Needs qemu-system-x86,
# busybox-static's package (fetched), e2fsprogs, grub-pc-bin, python3.
set -eu
demo=0
if [ "${1:-}" = --demo ]; then demo=1; shift; fi
myvmm=$1 cache=$2 work=$3
runs=${4:-shell,blk,blkqemu,net,vcon,smp,fwvirtio,fwide,qcow2,fs,fsqemu,snap,vsock}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
say() { echo "nested: $*" >&2; }
die() { echo "nested: error: $*" >&2; exit 1; }

[ -x "$myvmm" ] || die "$myvmm is not an executable myvmm"
for t in qemu-system-x86_64 qemu-storage-daemon qemu-img mke2fs debugfs python3 dpkg-deb; do
	command -v $t >/dev/null 2>&1 || die "$t missing: run scripts/deps.sh"
done
mkdir -p "$cache" "$work"
cache=$(cd "$cache" && pwd) work=$(cd "$work" && pwd)

# 1. Debian's kernel and busybox (scripts/fetch-debian-guest.sh caches them).
"$top/scripts/fetch-debian-guest.sh" "$cache" >/dev/null
kdeb=$(ls "$cache"/debs/linux-image-[0-9]*-amd64_*.deb | grep -v cloud | head -n 1)
bdeb=$(ls "$cache"/debs/busybox-static_*.deb | head -n 1)
kver=$(basename "$kdeb" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
mods=$cache/modules/$kver
if [ ! -d "$mods/kernel" ]; then
	say "unpacking the modules of $(basename "$kdeb")"
	rm -rf "$cache/modules/.tmp"; mkdir -p "$cache/modules/.tmp"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$cache/modules/.tmp" "./lib/modules/$kver/kernel"
	mv "$cache/modules/.tmp/lib/modules/$kver" "$mods"
	rm -rf "$cache/modules/.tmp"
fi
busybox=$cache/busybox-static
if [ ! -x "$busybox" ] || [ "$(cat "$busybox.src" 2>/dev/null)" != "$bdeb" ]; then
	dpkg-deb --fsys-tarfile "$bdeb" | tar -x -O ./bin/busybox >"$busybox.tmp"
	chmod 755 "$busybox.tmp"; mv "$busybox.tmp" "$busybox"; echo "$bdeb" >"$busybox.src"
fi
kernel=$cache/vmlinuz
mk=$here/mkinitramfs.py

# nt-vsock (the vsock run's peer in L2 and L1), static: glibc's libc.a.
command -v gcc >/dev/null 2>&1 || die "gcc missing: run scripts/deps.sh"
gcc -static -O2 -Wall -o "$work/nt-vsock" "$here/nt-vsock.c" ||
	die "cannot build nt-vsock statically (libc6-dev provides libc.a)"

# 2. L2's initramfs: busybox, the drivers Linux needs for myvmm's devices,
# the scenario scripts.
l2mods="virtio_pci virtio_blk virtio_net virtio_console virtio_rng ext4 bochs ata_piix sd_mod pvpanic_pci crc32c_generic virtiofs vmw_vsock_virtio_transport"
set -- dir:bin dir:dev dir:proc dir:sys dir:tmp dir:mnt dir:etc dir:root \
	file:"$busybox":bin/busybox link:busybox:bin/sh dev:dev/console:c:5:1 \
	file:"$here/l2/init":init:755
for f in "$here"/l2/*.sh; do set -- "$@" file:"$f":nt/$(basename "$f"):755; done
for m in $l2mods; do set -- "$@" mod:"$mods":$m:lib/mods; done
set -- "$@" file:"$work/nt-vsock":bin/nt-vsock:755
python3 "$mk" "$work/l2.cpio" "$@"

# 3. L1's initramfs: busybox, kvm_amd and 9p, myvmm and its libraries (libslirp
# is dlopen()ed, so ldd does not list it), QEMU with its firmware, SeaBIOS,
# the L2 kernel and initramfs.
l1mods="kvm_amd 9pnet_virtio 9p virtio_pci"
slirp=$(ls /usr/lib/x86_64-linux-gnu/libslirp.so.0 2>/dev/null || true)
[ -n "$slirp" ] || die "libslirp.so.0 missing: apt-get install libslirp0"
qemu=$(command -v qemu-system-x86_64)
set -- dir:bin dir:dev dir:proc dir:sys dir:tmp dir:etc dir:root dir:share \
	file:"$busybox":bin/busybox link:busybox:bin/sh dev:dev/console:c:5:1 \
	file:"$here/l1/init":init:755 file:"$here/l1/runs.sh":nested/runs.sh:644 \
	bin:"$myvmm":usr/bin/myvmm lib:"$slirp" bin:"$qemu":usr/bin/qemu-system-x86_64 \
	bin:"$(command -v qemu-storage-daemon)":usr/bin/qemu-storage-daemon \
	bin:"$(command -v qemu-img)":usr/bin/qemu-img \
	bin:"$(command -v curl)":usr/bin/curl \
	bin:/usr/lib/qemu/virtiofsd:usr/lib/qemu/virtiofsd \
	tree:/usr/share/seabios:usr/share/seabios \
	file:"$kernel":l2/vmlinuz:644 file:"$work/l2.cpio":l2/initrd.cpio:644 \
	file:"$work/nt-vsock":usr/bin/nt-vsock:755 \
	file:"$cache/initramfs.cpio.gz":l2/demo.cpio.gz:644
for f in bios-256k.bin kvmvapic.bin linuxboot_dma.bin multiboot_dma.bin pvh.bin; do
	[ -e /usr/share/qemu/$f ] && set -- "$@" file:/usr/share/qemu/$f:usr/share/qemu/$f:644
done
for m in $l1mods; do set -- "$@" mod:"$mods":$m:lib/l1mods; done
python3 "$mk" "$work/l1.cpio" "$@"

# 4. The share: per-run inputs (disk images) and outputs.
share=$work/share
rm -rf "$share"; mkdir -p "$share/in" "$share/out"
tmp=$work/tmp
rm -rf "$tmp"; mkdir -p "$tmp/data" "$tmp/ro"
head -c 1048576 /dev/urandom >"$tmp/data/payload.bin"
head -c 8388608 /dev/zero >"$tmp/data/filler.bin"
sha256sum "$tmp/data/payload.bin" | cut -d' ' -f1 >"$share/in/payload.sha256"
cp "$tmp/data/payload.bin" "$share/in/payload.bin"   # the fs runs' host file
echo "read-only disk made on the host" >"$tmp/ro/hello.txt"
mke2fs -q -F -t ext4 -L ntdata -d "$tmp/data" "$share/in/data.img" 32M
mke2fs -q -F -t ext4 -L ntro -d "$tmp/ro" "$share/in/ro.img" 8M
"$here/mkgrubdisk-linux.sh" "$kernel" "$work/l2.cpio" "$share/in/grub.img" \
	"console=ttyS0 quiet noxsave nt=fw"
rm -rf "$tmp"

# 5. Boot L1. TCG is slow: the whole sequence is bounded here, each L2 run
# by myvmm's own --timeout inside.
if [ $demo = 1 ]; then
	exec qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -cpu max -M q35 -m 2048 \
		-nographic -nodefaults -no-user-config -serial mon:stdio -no-reboot \
		-kernel "$kernel" -initrd "$work/l1.cpio" -append "console=ttyS0 quiet nt.runs=demo" \
		-virtfs local,path="$share",mount_tag=share,security_model=none,id=share
fi
# L1's /init prints "L1 tick" every 20 s. TCG's emulated SVM (QEMU 7.2) now
# and then wedges the whole L1 machine: both CPUs in soft lockup, or no output
# at all, for as long as it is left. When no line from L1's userspace ("L1
# tick", "L1[...]") has come for NESTED_STALL seconds, the CPUs' state goes to WORK/l1-stall-N.txt (QEMU's
# monitor), L1 is killed and booted again with the runs not yet done, at most
# NESTED_RESTARTS times (0: fail at once). Every L2 run is bounded inside L1 by
# myvmm's own --timeout, so a silent console is never a slow run.
stall=${NESTED_STALL:-100} restarts=${NESTED_RESTARTS:-3}
mon=$work/l1-mon.sock
boot_l1() { # boot_l1 RUNS: one L1 boot; sets rc
	rm -f "$mon"
	qemu-system-x86_64 -accel tcg,thread=multi \
		-smp 2 -cpu max -M q35 -m 6144 -nographic -nodefaults -no-user-config \
		-serial stdio -monitor unix:"$mon",server=on,wait=off -no-reboot \
		-kernel "$kernel" -initrd "$work/l1.cpio" \
		-append "console=ttyS0 quiet nt.runs=$1 nt.fsmib=${NESTED_FS_MIB:-16}" \
		-virtfs local,path="$share",mount_tag=share,security_model=none,id=share \
		</dev/null >>"$work/l1-console.log" 2>&1 &
	qpid=$!
	rc=0 stalled=0
	last=$(date +%s) beats=0
	while kill -0 $qpid 2>/dev/null; do
		sleep 5
		now=$(date +%s)
		# L1's userspace lines only: a wedged L1's kernel may go on
		# printing soft-lockup reports every 28 s
		n=$(grep -c '^L1 tick\|^L1\[' "$work/l1-console.log" || true)
		[ "$n" != "$beats" ] && beats=$n last=$now
		if [ $((now - start)) -ge ${MYVMM_NESTED_TIMEOUT:-2300} ]; then
			say "L1 still running after ${MYVMM_NESTED_TIMEOUT:-2300} s: killed"
			kill -9 $qpid 2>/dev/null; wait $qpid 2>/dev/null || true; rc=124; return
		fi
		if [ $((now - last)) -ge $stall ]; then
			stalled=$((stalled + 1)) nstall=$((nstall + 1))
			say "no heartbeat from L1 for $stall s: the emulated machine is wedged; its CPUs: $work/l1-stall-$nstall.txt"
			python3 "$here/l1-monitor.py" "$mon" "info cpus" "info registers -a" \
				"x/8i \$pc" >"$work/l1-stall-$nstall.txt" 2>&1 || true
			kill -9 $qpid 2>/dev/null; wait $qpid 2>/dev/null || true; rc=124; return
		fi
	done
	wait $qpid || rc=$?
}
say "booting L1 (runs: $runs); console: $work/l1-console.log"
start=$(date +%s)
: >"$work/l1-console.log"
nstall=0 left=$runs
while :; do
	boot_l1 "$left"
	say "L1 exited $rc after $(( $(date +%s) - start )) s"
	[ -f "$share/out/DONE" ] && break
	[ $stalled = 1 ] && [ $nstall -le $restarts ] || break
	# the runs not done yet: from the one in progress on (its partial output goes)
	left=$(echo "$runs" | tr ',' '\n' | while read -r r; do
		[ -f "$share/out/$r/rc" ] || echo "$r"; done | paste -sd, -)
	for r in $(echo "$left" | tr ',' ' '); do rm -rf "$share/out/$r"; done
	say "restart $nstall of $restarts: booting L1 again for runs $left"
	echo "L1 wedged during runs $left; restarted" >>"$share/out/RESTARTS"
done
grep '^L1\[\|^L1 dmesg' "$work/l1-console.log" >&2 || true
[ -f "$share/out/DONE" ] || die "L1 did not finish its runs (see $work/l1-console.log)"
