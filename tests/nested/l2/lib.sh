# Helpers for the L2 scenario scripts (sourced by /init).
# nt KEY VALUE...: one result line for the host's check.sh.
nt() { echo "NT $*"; }
# dm NAME ERE: the first dmesg line matching ERE, as "NT dmesg-NAME <line>".
dm() { nt "dmesg-$1" "$(dmesg | grep -E -m1 -- "$2" | sed 's/^\[[ 0-9.]*\] //')"; }
# warnings: the kernel's warnings and errors, without timestamps (compared
# between myvmm and QEMU by the host).
warnings() { dmesg -r | grep -E '^<[0-4]>' | sed 's/^<[0-9]>\[[ 0-9.]*\] /NT warn /'; }
# sh_on_console: an interactive shell for typed input (no echo: the serial
# line is slow). It is not PID 1: busybox ash as PID 1 exits (EOF) when an
# orphan it inherited dies while it waits at its prompt (`timeout CMD`
# leaves such a watcher), and init's death panics the kernel. PID 1 stays
# this script, which reaps orphans and never powers off by itself: if the
# shell ends, the run fails on its own timeout with the NT-ERROR line.
sh_on_console() {
	stty -echo 2>/dev/null
	PS1='nt# ' sh -i </dev/console >/dev/console 2>&1
	echo "NT-ERROR the console shell exited (status $?)"
	while :; do sleep 3600; done
}
# waitline TAG: tells the host it waits (NT-WAIT TAG) and reads one line.
waitline() { echo "NT-WAIT $1"; read -r REPLY </dev/console; }
# load MOD...: insmods each MOD after the modules it depends on.
load() {
	for m in "$@"; do
		for d in $(cat /lib/mods/$m.load); do
			[ -d /sys/module/$d ] && continue
			insmod /lib/mods/$d.ko 2>/tmp/insmod.err || nt insmod-failed $d "$(cat /tmp/insmod.err)"
		done
	done
	nt loaded "$* at $(cut -d' ' -f1 /proc/uptime) s"
}
