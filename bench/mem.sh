#!/usr/bin/env bash
# bench/mem.sh [N=20]: guest RAM backing, measured both ways on the same
# guests, interleaved:
#   anon     anonymous private RAM (what myvmm uses when nothing needs sharing)
#   shared   a sealed memfd mapped MAP_SHARED (what a vhost-user device needs)
#   mempath  --mem-path on a hugetlbfs mount of 2 MiB pages (/dev/hugepages
#            when it is one, else, as root, a mount made for the run)
#   hugepg   --hugepages (a hugetlb memfd: the same pages without a mount)
#   The two hugetlb modes run only when 2 MiB hugetlb pages are free, or when
#   MEM_HUGEPAGES=N (root) reserves N pages for the run (the old
#   vm.nr_hugepages is restored at exit). Both allocate all of guest RAM at
#   start (fallocate), which the lifecycle rows include.
# The shared backing is chosen with MYVMM_BENCH_MEM=shared (a measurement
# knob in src/mem/guest_mem.c); transparent huge pages for shmem are usually
# "never" (/sys/kernel/mm/transparent_hugepage/shmem_enabled, printed).
# The seqread lines give each mode's ratio to anon.
#
# Rows: lifecycle (process start to exit, median/p90/min ms) and max RSS of
#   null   157-byte PVH guest, --mem 128M and --mem 1G (RSS: what backing costs)
#   exit   test kernel tk=exit, --mem 128M
#   touch  test kernel blk-bench seqread 64 MiB into guest RAM, --mem 256M
# and seqread MB/s (test kernel tk=blk-bench, 1 MiB reads, QD 8, 64 MiB,
# cache=none, median and max of RUNS, default 5). The test kernel's blk-bench exits 1 (PASS).
# Builds nothing: BUILD_DIR (default ./build) must hold myvmm and the test kernel.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

N=${1:-20}
RUNS=${RUNS:-5}
BUILD_DIR=${BUILD_DIR:-./build}
MYVMM=${MYVMM:-$BUILD_DIR/myvmm}
ELF=${ELF:-$BUILD_DIR/tests/guest/testkernel.elf}
BENCH_DIR=${BENCH_DIR:-$BUILD_DIR/bench-mem}
CODE=21
STATUS=$(( (CODE << 1) | 1 ))

bench_need python3 dd || exit 2
[ -x "$BENCH_TIME" ] || { echo "mem.sh: $BENCH_TIME missing (apt-get install time)" >&2; exit 2; }
[ -x "$MYVMM" ] || { echo "mem.sh: no myvmm at $MYVMM (set BUILD_DIR)" >&2; exit 2; }
[ -r "$ELF" ] || { echo "mem.sh: no test kernel at $ELF" >&2; exit 2; }
[ -w /dev/kvm ] || { echo "mem.sh: /dev/kvm not usable" >&2; exit 2; }

tmp=$(mktemp -d)
mkdir -p "$BENCH_DIR" || exit 2
IMG=$BENCH_DIR/mem-bench.img
old_huge=
mnt=
cleanup() {
	[ -n "$mnt" ] && umount "$mnt"
	rm -rf "$tmp" "$IMG"
	rmdir "$BENCH_DIR" 2>/dev/null
	[ -n "$old_huge" ] && echo "$old_huge" >/proc/sys/vm/nr_hugepages
}
trap cleanup EXIT
NULL_ELF=$tmp/null.elf
bench_null_elf "$NULL_ELF" "$CODE"
dd if=/dev/urandom of="$IMG" bs=1M count=128 status=none || exit 2

MODES="anon shared"
if [ -n "${MEM_HUGEPAGES:-}" ] && [ "$(id -u)" = 0 ]; then
	old_huge=$(cat /proc/sys/vm/nr_hugepages)
	echo "$MEM_HUGEPAGES" >/proc/sys/vm/nr_hugepages
fi
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
# The largest guest below needs 1 GiB = 512 pages; the others 64-128.
HUGEDIR=
if [ "$(stat -f -c %T /dev/hugepages 2>/dev/null)" = hugetlbfs ]; then
	HUGEDIR=/dev/hugepages
elif [ "$(id -u)" = 0 ] && mkdir -p "$tmp/huge" &&
     mount -t hugetlbfs -o pagesize=2M none "$tmp/huge"; then
	HUGEDIR=$tmp/huge
	mnt=$HUGEDIR
fi
if [ "${free_huge:-0}" -lt 128 ]; then
	echo "note: hugetlb modes skipped: ${free_huge:-0} free 2 MiB hugetlb pages (MEM_HUGEPAGES=600 as root reserves them)"
elif [ -z "$HUGEDIR" ]; then
	MODES="$MODES hugepg"
	echo "note: mempath skipped: no hugetlbfs at /dev/hugepages (and not root to mount one)"
else
	MODES="$MODES mempath hugepg"
fi

# The command prefix of a mode: environment, myvmm and its backing option.
cmd_of() {
	case $1 in
	anon) echo "env $MYVMM" ;;
	shared) echo "env MYVMM_BENCH_MEM=shared $MYVMM" ;;
	mempath) echo "env $MYVMM --mem-path $HUGEDIR" ;;
	hugepg) echo "env $MYVMM --hugepages" ;;
	esac
}

echo "mem.sh: N=$N RUNS=$RUNS, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)," \
	"THP $(cat /sys/kernel/mm/transparent_hugepage/enabled), shmem THP" \
	"$(cat /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null || echo '?'), modes: $MODES"
printf '%-7s %-6s %-8s %9s %9s %9s %9s\n' guest mem backing "med ms" "p90 ms" "min ms" "RSS MiB"
fail=0
row() { # GUEST MEM EXPECT ARGS...: one line per mode
	local guest=$1 mem=$2 expect=$3 specs=() m
	shift 3
	for m in $MODES; do
		case $m in mempath|hugepg) [ "$mem" = 1G ] && [ "${free_huge:-0}" -lt 512 ] && continue ;; esac
		specs+=("$m|$expect|$(cmd_of "$m") --mem $mem --console none $*")
	done
	bench_interleave "$N" "${specs[@]}" >"$tmp/rows" || fail=1
	while read -r label med p90 min rss runs failures; do
		printf '%-7s %-6s %-8s %9s %9s %9s %9s\n' "$guest" "$mem" "$label" "$med" "$p90" "$min" "$rss"
	done <"$tmp/rows"
}
row null 128M $STATUS --kernel "$NULL_ELF" --cmdline bench
row null 1G $STATUS --kernel "$NULL_ELF" --cmdline bench
row exit 128M $STATUS --kernel "$ELF" --cmdline "'tk=exit tk.code=$CODE'"
row touch 256M 1 --kernel "$ELF" --disk "$IMG,cache=none" \
	--cmdline "'tk=blk-bench tk.mode=seqread tk.mib=64 tk.qd=8'"

# Sequential reads into guest RAM (O_DIRECT pins the guest's pages): the
# in-process disk, and (when qemu-storage-daemon and qemu-img are there) the
# same image as qcow2 through vhost-user-blk, where the daemon writes into the
# guest RAM it maps: the memfd myvmm shares by default (the "anon" and
# "shared" modes are the same there), or the --mem-path/--hugepages file.
declare -A best vals top
seqread() { # MODE DISK KEY
	local m=$1 disk=$2 key=$3 out=$tmp/out us mbs
	$(cmd_of "$m") --kernel "$ELF" --mem 256M --console stdio --timeout 300 \
		--disk "$disk" --cmdline "tk=blk-bench tk.mode=seqread tk.mib=64 tk.qd=8" \
		</dev/null >"$out" 2>&1
	us=$(tr -d '\r' <"$out" | grep -o 'TK: bench seqread bytes [0-9]* ticks [0-9]* us [0-9]*' | awk '{print $NF}')
	if [ -z "$us" ]; then
		echo "mem.sh: $m seqread ($disk) failed:" >&2
		tail -3 "$out" >&2
		fail=1
		return
	fi
	mbs=$(( (64 << 20) / us ))
	vals[$key]="${vals[$key]:-} $mbs"
}
# best[KEY]: the median of the runs ("max" too in the line: single runs swing 2x here).
summarize() {
	local k
	for k in "${!vals[@]}"; do
		best[$k]=$(echo "${vals[$k]}" | bench_median | cut -d. -f1)
		top[$k]=$(echo "${vals[$k]}" | tr ' ' '\n' | sort -n | tail -1)
	done
}
QCOW=
if command -v qemu-storage-daemon >/dev/null && command -v qemu-img >/dev/null; then
	QCOW=$tmp/mem-bench.qcow2
	qemu-img convert -f raw -O qcow2 "$IMG" "$QCOW" || QCOW=
fi
VMODES=
for m in $MODES; do [ "$m" != shared ] && VMODES="$VMODES $m"; done
for ((i = 0; i < RUNS; i++)); do
	for m in $MODES; do
		seqread "$m" "$IMG,cache=none" "$m"
	done
	if [ -n "$QCOW" ]; then
		for m in $VMODES; do
			seqread "$m" "$QCOW,cache=none" "vhost-$m"
		done
	fi
done
summarize
ratio() { python3 -c "import sys; a, b = float(sys.argv[1] or 0), float(sys.argv[2] or 0); print(f'{b / a:.2f}x {sys.argv[3]}' if a and b else '-')" "$@"; }
for m in $MODES; do
	echo "seqread 1M qd8 64 MiB, $m: ${best[$m]:-fail} MB/s (median of $RUNS, max ${top[$m]:-}), $(ratio "${best[anon]:-}" "${best[$m]:-}" anon)"
done
if [ -n "$QCOW" ]; then
	for m in $VMODES; do
		label=$m
		[ "$m" = anon ] && label="memfd (default)"
		echo "seqread 1M qd8 64 MiB, vhost-user-blk (qemu-storage-daemon, qcow2), $label:" \
			"${best[vhost-$m]:-fail} MB/s (median of $RUNS, max ${top[vhost-$m]:-}), $(ratio "${best[vhost-anon]:-}" "${best[vhost-$m]:-}" memfd)"
	done
fi
exit $fail
