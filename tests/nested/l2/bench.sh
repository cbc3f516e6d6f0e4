# Runs "bench", "benchqemu" (bench/nested.sh): virtio-blk sequential read
# and write with Linux's driver, O_DIRECT, 1 MiB blocks, 64 MiB, twice each.
load virtio_pci virtio_blk
# busybox dd prints no rate: time it with /proc/uptime (10 ms steps).
up() { cut -d' ' -f1 /proc/uptime; }
for i in 1 2; do
	a=$(up); dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct 2>/dev/null; b=$(up)
	nt bench_read "67108864 bytes in $(awk -v a=$a -v b=$b 'BEGIN { print b - a }') s"
	a=$(up); dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct 2>/dev/null; b=$(up)
	nt bench_write "67108864 bytes in $(awk -v a=$a -v b=$b 'BEGIN { print b - a }') s"
done
