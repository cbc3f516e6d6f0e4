# Run "blk" (myvmm, and under QEMU as the reference): vda is an ext4 image
# made on the host (mke2fs -d) with payload.bin, vdb the same kind of image
# attached ,ro. Checksums, a write the host reads back with debugfs, fstrim,
# the read-only disk's refusals; then sync and poweroff.
# ext4 asks the crypto API for crc32c: not a modinfo dependency.
load virtio_pci virtio_blk crc32c_generic ext4
nt blkdevs "$(ls /sys/block | grep '^vd' | tr '\n' ' ')"
nt vda_ro "$(cat /sys/block/vda/ro)"
nt vdb_ro "$(cat /sys/block/vdb/ro)"
mount -t ext4 /dev/vda /mnt 2>&1 && nt mount_vda ok
nt payload_sha "$(sha256sum /mnt/payload.bin | cut -d' ' -f1)"
echo "written by L2 at $(date +%s), boot $(cat /proc/sys/kernel/random/boot_id)" >/mnt/fromguest.txt
nt written "$(cat /mnt/fromguest.txt)"
rm -f /mnt/filler.bin
sync
nt fstrim "$(fstrim -v /mnt 2>&1)"
mkdir -p /ro
nt mount_vdb "$(mount -t ext4 /dev/vdb /ro 2>&1; grep ' /ro ' /proc/mounts | cut -d' ' -f1,4 | cut -d, -f1)"
nt ro_read "$(cat /ro/hello.txt)"
nt ro_write "$(echo x 2>&1 >/ro/new.txt)"
nt ro_dd "$(dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>&1 | head -n1)"
umount /ro
dmesg >/mnt/dmesg.txt
umount /mnt && nt umount_vda ok
sync
warnings
