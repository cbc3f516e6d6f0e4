# Run "qcow2" (myvmm with qemu-storage-daemon in L1): vda is a qcow2 image
# converted from the host's ext4 data.img (payload.bin), vdb a qcow2 overlay
# whose backing file is a raw copy of ro.img, written here (the backing
# file must stay unchanged). The files written are read back on the host
# with debugfs after L1 converts the images to raw; L1 runs qemu-img check.
load virtio_pci virtio_blk crc32c_generic ext4
nt blkdevs "$(ls /sys/block | grep '^vd' | tr '\n' ' ')"
t0=$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/vda of=/dev/null bs=1M count=32 2>/dev/null
nt read32m_secs "$(awk -v a="$t0" '{ printf "%.2f", $1 - a }' /proc/uptime)"
mount -t ext4 /dev/vda /mnt 2>&1 && nt mount_vda ok
nt payload_sha "$(sha256sum /mnt/payload.bin | cut -d' ' -f1)"
echo "written by L2 on qcow2 at $(date +%s), boot $(cat /proc/sys/kernel/random/boot_id)" >/mnt/fromguest.txt
nt written "$(cat /mnt/fromguest.txt)"
dd if=/dev/urandom of=/mnt/big.bin bs=1M count=4 2>/dev/null
nt big_sha "$(sha256sum /mnt/big.bin | cut -d' ' -f1)"
umount /mnt && nt umount_vda ok
mkdir -p /top
mount -t ext4 /dev/vdb /top 2>&1 && nt mount_vdb ok
nt top_read "$(cat /top/hello.txt)"
echo "written by L2 into the overlay, boot $(cat /proc/sys/kernel/random/boot_id)" >/top/fromguest.txt
nt written_top "$(cat /top/fromguest.txt)"
umount /top && nt umount_vdb ok
sync
warnings
