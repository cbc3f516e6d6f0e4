# Runs "fwvirtio", "fwide", "fw-ide": SeaBIOS -> GRUB -> this kernel and initramfs,
# both read by GRUB from the ext2 partition of the boot disk.
load virtio_pci virtio_blk ata_piix sd_mod
sleep 1
nt disks "$(ls /sys/block | grep -E '^(vd|sd)' | tr '\n' ' ')"
nt cmdline "$(cat /proc/cmdline)"
dm ata 'ata[0-9]+\.00: ATA-'
warnings
