# The L2 runs, one function run_NAME each (sourced by L1's /init). A run boots
# L2 under myvmm (or QEMU) once, types into its console where the scenario
# needs it, and copies console.log, stderr.log, status.json, rc and secs to
# /share/out/NAME/ for the host's check.sh.
K=/l2/vmlinuz
I=/l2/initrd.cpio
BASE="console=ttyS0 quiet noxsave"

# vm_start NAME CMD...: starts CMD (myvmm or qemu) with its stdin on a fifo
# (fd 3 here) and its stdout/stderr in $D/console.log, $D/stderr.log.
vm_start() {
	RUN=$1; shift
	D=/tmp/run/$RUN
	mkdir -p "$D"
	rm -f /tmp/fifo; mkfifo /tmp/fifo
	echo "$*" >"$D/cmd"
	T0=$(date +%s)
	U0=$(cut -d' ' -f1 /proc/uptime)
	"$@" </tmp/fifo >"$D/console.log" 2>"$D/stderr.log" &
	VMPID=$!
	exec 3>/tmp/fifo
}
# waitfor ERE [COUNT] [SECS]: waits until COUNT console lines match ERE.
waitfor() {
	n=0
	while [ $n -lt $((${3:-120} * 4)) ]; do
		[ "$(grep -Ec -- "$1" "$D/console.log")" -ge "${2:-1}" ] && return 0
		kill -0 $VMPID 2>/dev/null || return 1
		sleep 0.25; n=$((n + 1))
	done
	echo "L1: timeout waiting for /$1/" >>"$D/l1.log"
	return 1
}
# type LINE: types LINE and Enter into the guest's console.
type() { printf '%s\r' "$1" >&3; }
# vm_end: waits for the VM to exit (myvmm's --timeout bounds it), saves it all.
# vm_end_rc RC: the same for a VM already waited for (exit status RC).
vm_end() {
	wait $VMPID
	vm_end_rc $?
}
vm_end_rc() {
	echo $1 >"$D/rc"
	echo $(( $(date +%s) - T0 )) >"$D/secs"
	exec 3>&-
	[ -n "${POST:-}" ] && $POST   # a run's own post-processing, before the copy
	POST=
	for f in "$D"/*.img; do
		case " $KEEP " in *" ${f##*/} "*) ;; *) rm -f "$f";; esac
	done
	KEEP=
	mkdir -p /share/out/$RUN
	cp -a "$D"/. /share/out/$RUN/
	rm -rf "$D"
}

# shell: a shell on ttyS0, typed input, legacy devices, rng, model name,
# display (screenshot), then reboot (the VM restarts and boots again) and
# poweroff (exit 0).
run_shell() {
	vm_pre shell
	vm_start shell myvmm --kernel $K --initrd $I --mem 512M --timeout 420 \
		--cmdline "$BASE nt=shell" --status-file /tmp/run/shell/status.json \
		--screenshot /tmp/run/shell/screen.png --log /tmp/run/shell/vmm.log
	if waitfor 'job control turned off' 1 240; then
		type 'echo typed-$((6*7))'
		type "echo NT hwclock $(date +%s) \$(hwclock -u -s && date +%s)"
		waitfor 'NT hwclock' 1 30 && date +%s >"$D/hwclock_seen"
		type 'reboot -f'
		if waitfor '^NT-UP' 2 240; then
			if ! waitfor 'job control turned off' 2 90; then
				# Diagnosis: is the guest alive and only its serial
				# output stalled? Input makes Linux's 8250 ISR run.
				echo "L1: console stalled after the reboot; typing Enter" >>"$D/l1.log"
				type ''
				waitfor 'job control turned off' 2 60 &&
					echo "L1: the Enter unstalled it" >>"$D/l1.log"
			fi
			type 'poweroff -f'
		fi
	fi
	vm_end
}


# Disk images from the host's share are copied to tmpfs (the share is 9p).
disk() { cp /share/in/$1 /tmp/run/$RUN/$1; echo /tmp/run/$RUN/$1; }
# vm_pre NAME: a fresh run directory before vm_start (for disk copies).
vm_pre() { RUN=$1; rm -rf /tmp/run/$1; mkdir -p /tmp/run/$1; }

# blk: two virtio-blk disks (ext4 rw, ext4 ro); the image comes back to the
# host, which looks for the guest's file with debugfs.
run_blk() {
	vm_pre blk
	a=$(disk data.img) b=$(disk ro.img)
	KEEP=data.img
	vm_start blk myvmm --kernel $K --initrd $I --mem 512M --timeout 400 \
		--cmdline "$BASE nt=blk" --status-file /tmp/run/blk/status.json \
		--disk $a --disk $b,ro --log /tmp/run/blk/vmm.log
	vm_end
}

# blkqemu: the same L2 run under QEMU -enable-kvm in L1, as the reference.
run_blkqemu() {
	vm_pre blkqemu
	a=$(disk data.img) b=$(disk ro.img)
	vm_start blkqemu qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 512 \
		-nodefaults -no-user-config -nographic -serial stdio -monitor none \
		-L /usr/share/qemu -kernel $K -initrd $I -append "$BASE nt=blk" \
		-drive file=$a,if=virtio,format=raw -drive file=$b,if=virtio,format=raw,readonly=on
	vm_end
}

# net: --net user with a forward; L1 serves a file on 127.0.0.1:8080, which
# the guest reaches as 10.0.2.2 only with host-loopback=on.
run_net() {
	vm_pre net
	mkdir -p /tmp/www
	head -c 1048576 /dev/urandom >/tmp/www/blob
	sha256sum /tmp/www/blob | cut -d' ' -f1 >/tmp/run/net/blob.sha256
	httpd -f -p 127.0.0.1:8080 -h /tmp/www &
	hp=$!
	vm_start net myvmm --kernel $K --initrd $I --mem 512M --timeout 400 \
		--cmdline "$BASE nt=net" --status-file /tmp/run/net/status.json \
		--net user,host-loopback=on,hostfwd=tcp::8022-:80 --log /tmp/run/net/vmm.log
	if waitfor 'NT-WAIT fwd' 1 360; then
		timeout 60 wget -q -O "$D/fwd.html" http://127.0.0.1:8022/index.html 2>"$D/fwd.err"
		type "$(sha256sum "$D/fwd.html" | cut -d' ' -f1)"
	fi
	vm_end
	kill $hp
}

# vcon: the console on virtio-console (hvc0): 1 MiB out, typed input in.
run_vcon() {
	vm_pre vcon
	vm_start vcon myvmm --kernel $K --initrd $I --mem 512M --timeout 400 \
		--console virtio --cmdline "console=hvc0 quiet noxsave nt=vcon" \
		--status-file /tmp/run/vcon/status.json --log /tmp/run/vcon/vmm.log
	if waitfor 'job control turned off' 1 360; then
		type 'echo typed-$((6*7))'
		waitfor 'typed-42' 1 60
		type 'poweroff -f'
	fi
	vm_end
}

# smp: 4 vCPUs, 4 GiB (RAM above 4 GiB), reboot with --no-reboot -> exit 0.
run_smp() {
	vm_pre smp
	vm_start smp myvmm --kernel $K --initrd $I --mem 4G --cpus 4 --no-reboot \
		--timeout 400 --cmdline "$BASE nt=smp" --status-file /tmp/run/smp/status.json \
		--log /tmp/run/smp/vmm.log
	vm_end
}

# fwvirtio, fwide: no --kernel: SeaBIOS boots GRUB from the disk, GRUB
# loads Linux and the initramfs from the disk's ext2 partition.
run_fwvirtio() {
	vm_pre fwvirtio
	a=$(disk grub.img)
	vm_start fwvirtio myvmm --disk $a --mem 512M --timeout 400 \
		--status-file /tmp/run/fwvirtio/status.json --log /tmp/run/fwvirtio/vmm.log
	vm_end
}
run_fwide() {
	vm_pre fwide
	a=$(disk grub.img)
	vm_start fwide myvmm --disk $a,if=ide --mem 512M --timeout 400 \
		--status-file /tmp/run/fwide/status.json --log /tmp/run/fwide/vmm.log
	vm_end
}

# qcow2: ext4 on qcow2 images that myvmm serves through qemu-storage-daemon
# (its child, under the default sandbox): vda converted from data.img, vdb
# an overlay on a raw copy of ro.img. Afterwards qemu-img check, the images
# converted to raw for the host's debugfs, the backing file's sha256.
run_qcow2() {
	vm_pre qcow2
	D=/tmp/run/qcow2
	raw=$(disk data.img) base=$(disk ro.img)
	qemu-img convert -f raw -O qcow2 $raw $D/data.qcow2 2>$D/prep.err
	rm -f $raw
	qemu-img create -q -f qcow2 -b $base -F raw $D/top.qcow2 2>>$D/prep.err
	sha256sum $base | cut -d' ' -f1 >$D/base.sha256.before
	vm_start qcow2 myvmm --kernel $K --initrd $I --mem 512M --timeout 400 \
		--cmdline "$BASE nt=qcow2" --status-file /tmp/run/qcow2/status.json \
		--disk /tmp/run/qcow2/data.qcow2 --disk /tmp/run/qcow2/top.qcow2 \
		--log /tmp/run/qcow2/vmm.log
	# myvmm's I/O thread (its main thread: no display) wakes per completion
	# only when the back-end's interrupts are relayed; with KVM irqfds it
	# sleeps through the guest's 32 MiB read.
	waitfor '^NT loaded' 1 360 && ctxt >$D/ctxt-before
	waitfor '^NT read32m_secs' 1 360 && ctxt >$D/ctxt-after
	KEEP="data.img top.img" POST=qcow2_post
	vm_end
}
ctxt() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/$VMPID/status; }
qcow2_post() {
	for i in data top; do
		qemu-img check $D/$i.qcow2 >$D/check-$i.txt 2>&1; echo $? >$D/check-$i.rc
		qemu-img convert -O raw $D/$i.qcow2 $D/$i.img 2>>$D/post.err
	done
	sha256sum $D/ro.img | cut -d' ' -f1 >$D/base.sha256.after
	ls /tmp/myvmm-* >$D/tmp-left.txt 2>&1
	grep -l 'qemu-storage-daemo[n]' /proc/[0-9]*/cmdline >$D/qsd-left.txt 2>/dev/null
	rm -f $D/*.qcow2
}

# up_time: seconds from vm_start to L2's "NT-UP" line (polled every 0.25 s;
# under QEMU the line starts after SeaBIOS's escape sequences).
up_time() {
	waitfor 'NT-UP' 1 400 &&
		awk -v a="$U0" '{ printf "%.2f\n", $1 - a }' /proc/uptime >"$D/up_secs"
}

# bench, benchqemu (bench/nested.sh): the same L2 under both, a raw disk.
run_bench() {
	vm_pre bench
	truncate -s 80M /tmp/run/bench/raw.img
	vm_start bench myvmm --kernel $K --initrd $I --mem 512M --timeout 400 \
		--cmdline "$BASE nt=bench" --status-file /tmp/run/bench/status.json \
		--disk /tmp/run/bench/raw.img
	up_time
	vm_end
}
run_benchqemu() {
	vm_pre benchqemu
	truncate -s 80M /tmp/run/benchqemu/raw.img
	vm_start benchqemu qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 512 \
		-nodefaults -no-user-config -nographic -serial stdio -monitor none \
		-L /usr/share/qemu -kernel $K -initrd $I -append "$BASE nt=bench" \
		-drive file=/tmp/run/benchqemu/raw.img,if=virtio,format=raw
	up_time
	vm_end
}

# fs_tree: L1's directories for the fs runs, on tmpfs (virtiofsd over 9p
# would measure 9p): /tmp/fs/share (payload.bin, many/ with 1,000 files,
# big.bin of nt.fsmib MiB, default 16) and /tmp/fs/ro (hello.txt).
fs_tree() {
	rm -rf /tmp/fs; mkdir -p /tmp/fs/share/many /tmp/fs/ro
	cp /share/in/payload.bin /tmp/fs/share/payload.bin
	i=0
	while [ $i -lt 1000 ]; do : >/tmp/fs/share/many/f$i; i=$((i + 1)); done
	dd if=/dev/zero of=/tmp/fs/share/big.bin bs=1M count=${FSMIB:-16} 2>/dev/null
	echo "read-only share made on the host" >/tmp/fs/ro/hello.txt
}
# fs_after: what the host (L1) sees of the guest's write, for check.py.
fs_after() {
	cp /tmp/fs/share/fromguest.txt "$D/host_fromguest.txt" 2>/dev/null
	ls /tmp/fs/ro >"$D/host_ro_ls.txt"
	# (no pgrep in L1's busybox; the [s] keeps grep from finding itself)
	grep -l '/usr/lib/qemu/virtiof[s]d' /proc/[0-9]*/cmdline >"$D/virtiofsd_left.txt" 2>/dev/null
	rm -rf /tmp/fs
}

# fs: --share (myvmm starts virtiofsd; -o sandbox=chroot on L1's initramfs
# root) plus a ,ro share; Linux's virtiofs driver in L2.
run_fs() {
	vm_pre fs
	fs_tree
	vm_start fs myvmm --kernel $K --initrd $I --mem 512M --timeout 500 \
		--cmdline "$BASE nt=fs nt.fsro" --status-file /tmp/run/fs/status.json \
		--share /tmp/fs/share --share /tmp/fs/ro,ro,tag=rodata --log /tmp/run/fs/vmm.log
	wait $VMPID; VMRC=$?
	fs_after
	vm_end_rc $VMRC
}

# fsqemu: the same share through QEMU -enable-kvm and the same virtiofsd
# (the benchmark's reference).
run_fsqemu() {
	vm_pre fsqemu
	fs_tree
	/usr/lib/qemu/virtiofsd --socket-path=/tmp/vfsq.sock -o source=/tmp/fs/share \
		-o sandbox=chroot 2>/tmp/run/fsqemu/virtiofsd.log &
	vfspid=$!
	i=0; while [ ! -S /tmp/vfsq.sock ] && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
	vm_start fsqemu qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 512 \
		-object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
		-chardev socket,id=vfs,path=/tmp/vfsq.sock \
		-device vhost-user-fs-pci,chardev=vfs,tag=share \
		-nodefaults -no-user-config -nographic -serial stdio -monitor none \
		-L /usr/share/qemu -kernel $K -initrd $I -append "$BASE nt=fs"
	wait $VMPID; VMRC=$?
	fs_after
	kill $vfspid 2>/dev/null; wait $vfspid
	rm -f /tmp/vfsq.sock
	vm_end_rc $VMRC
}

# demo (scripts/demo.sh on a PVM host): an interactive busybox shell in L2 on
# this console; 'poweroff' there ends it (and L1).
run_demo() {
	mkdir -p /share/out/demo
	echo "L1: myvmm is booting Debian's kernel (about a minute here); 'poweroff' in the guest ends the demo"
	myvmm --kernel $K --initrd /l2/demo.cpio.gz --mem 512M \
		--cmdline "console=ttyS0 quiet noxsave" </dev/console >/dev/console 2>&1
	echo $? >/share/out/demo/rc
	echo "L1: myvmm exited $(cat /share/out/demo/rc)"
}

# snap: Linux's shell, a mounted virtio disk and the network, paused and
# snapshotted through the API (curl), myvmm SIGKILLed, restored by a new
# myvmm (--restore); then the same shell writes the disk, pings and
# downloads from L1 and powers off. The first process's console is
# console1.log; the API answers are in api.log.
snap_api() { curl -s -o /dev/null -w "$1 %{http_code} %{time_total}s\n" --unix-socket "$D/api.sock" \
	-X "$2" "http://x$3" -H 'Content-Type: application/json' -d "$4" >>"$D/api.log" 2>&1; }
run_snap() {
	vm_pre snap
	a=$(disk data.img)
	KEEP=data.img
	mkdir -p /tmp/www
	echo "served by L1 for the restored guest" >/tmp/www/snap.txt
	httpd -f -p 127.0.0.1:8081 -h /tmp/www &
	hp=$!
	vm_start snap myvmm --kernel $K --initrd $I --mem 256M --timeout 400 \
		--cmdline "$BASE nt=snap" --disk $a --net user,host-loopback=on \
		--api-sock /tmp/run/snap/api.sock --log /tmp/run/snap/vmm1.log
	if waitfor 'job control turned off' 1 240; then
		type 'echo before-$((6*7)) >/mnt/before.txt && sync && echo wrote-$((5*5))'
		waitfor 'wrote-25' 1 60
		snap_api pause PATCH /vm '{"state": "Paused"}'
		snap_api create PUT /snapshot/create \
			'{"snapshot_path": "/tmp/run/snap/vm.snap", "mem_file_path": "/tmp/run/snap/vm.mem"}'
	fi
	kill -9 $VMPID; wait $VMPID
	echo $? >"$D/rc1"
	exec 3>&-
	mv "$D/console.log" "$D/console1.log"; mv "$D/stderr.log" "$D/stderr1.log"
	vm_start snap myvmm --restore /tmp/run/snap/vm.snap,mem=/tmp/run/snap/vm.mem \
		--timeout 300 --status-file /tmp/run/snap/status.json --log /tmp/run/snap/vmm2.log
	type ''
	type 'echo after-$((7*7)); cat /mnt/before.txt; echo restored-disk >/mnt/after.txt; sync'
	type 'ping -c 3 -W 3 10.0.2.2 | grep transmitted; echo ping-done'
	waitfor 'ping-done' 1 90
	# busybox wget -T segfaults (1.35): timeout bounds it; its watcher is an
	# orphan that now goes to L2's PID 1, not to the console shell
	type 'timeout 60 wget -q -O - http://10.0.2.2:8081/snap.txt; echo wget-done'
	waitfor 'wget-done' 1 90
	type 'umount /mnt && echo umounted-$((8*8)) && poweroff -f'
	waitfor 'umounted-64' 1 60
	POST=snap_post
	vm_end
	kill $hp
}
# The memory file stays in L1 (9p copies its holes as zeros): its sizes go along.
snap_post() { ls -ls "$D/vm.mem" >>"$D/api.log"; rm -f "$D/vm.mem" "$D/api.sock"; }

# vsock: --vsock 3,PATH with Linux's virtio-vsock driver in L2 (l2/vsock.sh)
# and nt-vsock on both sides. L1 listens on PATH_5000 (echo), PATH_5002
# (closes after 64 KiB), PATH_5004, PATH_5005 and PATH_5010..5013 (echo) for the guest's
# connections, and
# connects to PATH with CONNECT 5001 (1 MiB echoed by L2) and CONNECT 5003
# (L2 closes after 64 KiB) when L2 says NT-WAIT vsock_host.
vsock_echo() {
	timeout 300 nt-vsock echo unix:${V}_$1 $2 >"$D/echo-$1.txt" 2>"$D/echo-$1.err" &
	VSPIDS="$VSPIDS $!"
}
run_vsock() {
	vm_pre vsock
	D=/tmp/run/vsock V=/tmp/run/vsock/v.sock VSPIDS=
	vsock_echo 5000; vsock_echo 5002 65536; vsock_echo 5004; vsock_echo 5005
	for p in 5010 5011 5012 5013; do vsock_echo $p; done
	i=0
	while [ $i -lt 40 ] && [ "$(cat $D/echo-*.err 2>/dev/null | grep -c listening)" -lt 8 ]; do
		sleep 0.25; i=$((i + 1))
	done
	vm_start vsock myvmm --kernel $K --initrd $I --mem 512M --timeout 400 \
		--cmdline "$BASE nt=vsock" --status-file /tmp/run/vsock/status.json \
		--vsock 3,$V --log /tmp/run/vsock/vmm.log
	if waitfor 'NT-WAIT vsock_host' 1 360; then
		timeout 120 nt-vsock client unix:$V:5001 1048576 >"$D/host-5001.txt" 2>"$D/host-5001.err"
		timeout 120 nt-vsock client unix:$V:5003 1048576 >"$D/host-5003.txt" 2>"$D/host-5003.err"
		type go
	fi
	POST=vsock_post
	vm_end
}
# Listeners still running after myvmm exited are named in echo-left.txt.
vsock_post() {
	for p in $VSPIDS; do
		kill -0 $p 2>/dev/null && { echo "still running: $p" >>"$D/echo-left.txt"; kill $p; }
		wait $p
	done
	rm -f $V ${V}_*
}

# vsnap (by hand, not in NESTED_RUNS): l2/vsnap.sh's idle connection
# (CONNECT 5008, 4 KiB echoed, then held open by nt-vsock ... hold) across a
# pause, snapshot, SIGKILL and restore (the stale PATH removed first, as
# Firecracker wants too); the restored guest then connects to PATH_5007.
run_vsnap() {
	vm_pre vsnap
	D=/tmp/run/vsnap V=/tmp/run/vsnap/v.sock VSPIDS=
	vsock_echo 5007
	sleep 1
	vm_start vsnap myvmm --kernel $K --initrd $I --mem 256M --timeout 400 \
		--cmdline "$BASE nt=vsnap" --vsock 3,$V \
		--api-sock /tmp/run/vsnap/api.sock --log /tmp/run/vsnap/vmm1.log
	if waitfor 'NT-WAIT vsnap' 1 240; then
		nt-vsock client unix:$V:5008 4096 hold >"$D/hold.txt" 2>"$D/hold.err" &
		VSPIDS="$VSPIDS $!"
		i=0; while [ $i -lt 120 ] && ! grep -q sent= "$D/hold.txt"; do sleep 0.25; i=$((i + 1)); done
		snap_api pause PATCH /vm '{"state": "Paused"}'
		snap_api create PUT /snapshot/create \
			'{"snapshot_path": "/tmp/run/vsnap/vm.snap", "mem_file_path": "/tmp/run/vsnap/vm.mem"}'
	fi
	kill -9 $VMPID; wait $VMPID
	echo $? >"$D/rc1"
	exec 3>&-
	mv "$D/console.log" "$D/console1.log"; mv "$D/stderr.log" "$D/stderr1.log"
	rm -f $V
	vm_start vsnap myvmm --restore /tmp/run/vsnap/vm.snap,mem=/tmp/run/vsnap/vm.mem \
		--timeout 300 --status-file /tmp/run/vsnap/status.json --log /tmp/run/vsnap/vmm2.log
	sleep 1
	type 'go'
	POST=vsnap_post
	vm_end
}
# (the holding client is expected to be alive: vsock_post kills it)
vsnap_post() { vsock_post; rm -f "$D/vm.mem" "$D/api.sock"; }
