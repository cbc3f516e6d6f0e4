# Run "vsock": Linux's virtio-vsock driver (vmw_vsock_virtio_transport)
# against myvmm's --vsock 3,PATH (L1 runs the unix-socket side). nt-vsock
# (tests/nested/nt-vsock.c) on both sides prints "sent= sent_fnv= got=
# got_fnv= end= secs=" (FNV-1a 64 of each direction). Guest-initiated, to
# L1's listeners: 1 MiB to host port 5000 (echoed back; half-close), 8 MiB
# to 5005 (the figure), 5002 (L1 closes after 64 KiB), 256 KiB on each of
# 5010-5013 at once, 5004 afterwards (the device still serves) and 5009
# (nobody listens: refused). Host-initiated: L1's CONNECT 5001 (1 MiB echoed
# here) and CONNECT 5003 (this side closes after 64 KiB).
load virtio_pci vmw_vsock_virtio_transport
dm pfvsock 'Registered PF_VSOCK'
nt vsock_cid "$(nt-vsock cid 2>&1)"
nt vsock_guest "$(timeout 120 nt-vsock client vsock:2:5000 1048576 half 2>/tmp/g5000.err)"
nt vsock_bulk "$(timeout 120 nt-vsock client vsock:2:5005 8388608 half 2>&1)"
nt vsock_guest_close "$(timeout 120 nt-vsock client vsock:2:5002 1048576 half 2>/tmp/g5002.err)"
for p in 5010 5011 5012 5013; do
	timeout 120 nt-vsock client vsock:2:$p 262144 half >/tmp/p$p 2>&1 &
done
wait
for p in 5010 5011 5012 5013; do nt vsock_par_$p "$(cat /tmp/p$p)"; done
timeout 240 nt-vsock echo vsock:5001 >/tmp/e5001 2>/tmp/e5001.err &
timeout 240 nt-vsock echo vsock:5003 65536 >/tmp/e5003 2>/tmp/e5003.err &
i=0
while [ $i -lt 100 ] && ! { grep -q listening /tmp/e5001.err && grep -q listening /tmp/e5003.err; }; do
	sleep 0.1; i=$((i + 1))
done
waitline vsock_host
wait
nt vsock_host_echo "$(cat /tmp/e5001) $(grep -v listening /tmp/e5001.err)"
nt vsock_host_close_echo "$(cat /tmp/e5003) $(grep -v listening /tmp/e5003.err)"
nt vsock_after "$(timeout 60 nt-vsock client vsock:2:5004 65536 half 2>&1)"
nt vsock_refused "$(timeout 60 nt-vsock client vsock:2:5009 16 2>&1 | tr '\n' ' ')"
nt vsock_errs "$(cat /tmp/g5000.err /tmp/g5002.err | tr '\n' ' ')"
warnings
