# Run "smp": --cpus 4 --mem 4G --no-reboot: four CPUs online, RAM above
# 4 GiB, then a reboot that myvmm must turn into exit 0.
nt nproc "$(nproc)"
nt online "$(cat /sys/devices/system/cpu/online)"
dm smp 'smp: Brought up'
dm e820hi 'BIOS-e820: \[mem 0x0000000100000000-0x[0-9a-f]+\] usable'
nt memtotal_kb "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
nt iomem_hi "$(grep -m1 -E '^ *1[0-9a-f]{8}-[0-9a-f]+ : System RAM' /proc/iomem)"
warnings
echo "NT rebooting"
reboot -f
