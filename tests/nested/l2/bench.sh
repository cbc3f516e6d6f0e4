# Runs "bench", "benchqemu" (bench/nested.sh): virtio-blk sequential read
# and write with Linux's driver, O_DIRECT, 1 MiB blocks, 64 MiB, twice each.
load virtio_pci virtio_blk
for i in 1 2; do
	nt bench_read "$(dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct 2>&1 | tail -n1)"
	nt bench_write "$(dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct 2>&1 | tail -n1)"
done
