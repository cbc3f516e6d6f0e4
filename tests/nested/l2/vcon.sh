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
nt bulk_sha "$(bulk | sha256sum | cut -d' ' -f1) $(bulk | wc -c)"
stty -opost
echo "NT-BULK-BEGIN"
bulk
echo "NT-BULK-END"
stty opost
stty -echo
PS1='nt# ' exec sh -i </dev/hvc0 >/dev/hvc0 2>&1
