# Run "fs" (myvmm --share in L1, served by Debian's virtiofsd; run "fsqemu":
# QEMU with the same virtiofsd for the benchmark): Linux's virtiofs driver
# mounts tag "share": a host file's sha256, a write the host (L1) reads back,
# a directory of 1,000 files; tag "rodata" (,ro) refuses writes; then the
# timed read of big.bin (16 MiB in CI, 256 MiB for bench/fs.sh). fsqemu has no "rodata" share.
load virtio_pci virtiofs
mkdir -p /mnt /ro
nt mount_share "$(mount -t virtiofs share /mnt 2>&1 && echo ok)"
nt fstype "$(grep ' /mnt ' /proc/mounts | cut -d' ' -f3)"
nt payload_sha "$(sha256sum /mnt/payload.bin | cut -d' ' -f1)"
echo "written by L2 at $(date +%s), boot $(cat /proc/sys/kernel/random/boot_id)" >/mnt/fromguest.txt
nt written "$(cat /mnt/fromguest.txt)"
nt many "$(ls /mnt/many | wc -l)"
if grep -q nt.fsro /proc/cmdline; then
	nt mount_ro "$(mount -t virtiofs rodata /ro 2>&1 && echo ok)"
	nt ro_read "$(cat /ro/hello.txt)"
	nt ro_write "$(echo x 2>&1 >/ro/new.txt)"
	nt ro_mkdir "$(mkdir /ro/newdir 2>&1)"
	umount /ro
fi
# The benchmark: big.bin never read before (no page cache), 1 MiB reads.
nt big_mib "$(ls -ln /mnt/big.bin | awk '{ print int($5 / 1048576) }')"
t0=$(cut -d' ' -f1 /proc/uptime)
dd if=/mnt/big.bin of=/dev/null bs=1M 2>/tmp/dd.err
t1=$(cut -d' ' -f1 /proc/uptime)
nt bench_dd "$(tail -n1 /tmp/dd.err)"
nt bench_read_secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
sync
umount /mnt && nt umount_share ok
warnings
