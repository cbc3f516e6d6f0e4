# Run "vcon": --console virtio, console=hvc0. /dev/console had no device at
# /init's start (virtio_console is a module), so switch to /dev/hvc0 once
# it appears. 1 MiB of known text to hvc0 with output processing off, then
# a shell on hvc0 for typed input.
load virtio_pci virtio_console
i=0
while [ ! -c /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
exec </dev/hvc0 >/dev/hvc0 2>&1
nt vcon_up "$(cat /sys/class/tty/console/active)"
bulk() {
	awk 'BEGIN { for (i = 0; i < 16384; i++) printf "%08d abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR\n", i }'
}
# Written with cat (4 KiB writes): awk's line-sized writes cost one
# virtqueue round trip per 64 bytes.
bulk >/tmp/bulk
nt bulk_sha "$(sha256sum </tmp/bulk | cut -d' ' -f1) $(wc -c </tmp/bulk)"
stty -opost
echo "NT-BULK-BEGIN"
cat /tmp/bulk
echo "NT-BULK-END"
stty opost
stty -echo
PS1='nt# ' exec sh -i </dev/hvc0 >/dev/hvc0 2>&1
