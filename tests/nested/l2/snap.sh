# Run "snap": Linux at its shell with a virtio disk mounted and the user
# network up is paused, snapshotted through the control API, its myvmm is
# SIGKILLed and a new myvmm restores it (L1 types the rest, l1/runs.sh).
# ext4 asks the crypto API for crc32c: not a modinfo dependency.
load virtio_pci virtio_blk virtio_net crc32c_generic ext4
mount -t ext4 /dev/vda /mnt && nt mounted "$(grep -c ' /mnt ' /proc/mounts)"
ip link set eth0 up
nt dhcp "$(udhcpc -i eth0 -n -q -t 5 -T 2 -s /nt/udhcpc.sh 2>&1 | grep -m1 -i 'lease of')"
sh_on_console
