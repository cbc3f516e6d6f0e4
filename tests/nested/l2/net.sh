# Run "net": virtio-net on myvmm's user-mode network (libslirp): DHCP, ping
# the gateway, an HTTP download from L1 (10.0.2.2 is L1's loopback), a
# server in the guest reached through hostfwd; then a kernel panic for
# pvpanic (myvmm must exit 4).
load virtio_pci virtio_net pvpanic_pci
ip link set eth0 up
nt dhcp "$(udhcpc -i eth0 -n -q -t 5 -T 2 -s /nt/udhcpc.sh 2>&1 | grep -m1 -i 'lease of')"
nt addr "$(ip -4 addr show eth0 | grep -o 'inet [0-9./]*')"
nt route "$(ip route | grep '^default')"
nt ping "$(ping -c 3 -W 3 10.0.2.2 2>&1 | grep 'packets transmitted')"
# (Debian busybox 1.35 wget segfaults with -T: bound it with timeout.)
timeout 60 wget -q -O /tmp/blob http://10.0.2.2:8080/blob 2>&1
nt http_sha "$(sha256sum /tmp/blob | cut -d' ' -f1)"
mkdir -p /www
echo "hello from L2 $(cat /proc/sys/kernel/random/uuid)" >/www/index.html
httpd -p 80 -h /www
nt fwd_sha "$(sha256sum /www/index.html | cut -d' ' -f1)"
waitline fwd
nt fwd_host "$REPLY"
nt pvpanic "$(ls /sys/bus/pci/drivers/pvpanic-pci 2>/dev/null | grep -c :)"
warnings
echo "NT panicking"
echo c >/proc/sysrq-trigger
