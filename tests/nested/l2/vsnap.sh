# Run "vsnap" (by hand, like snap): Linux's virtio-vsock driver across a
# snapshot and restore. L1 connects to this guest's listener on port 5008
# (CONNECT 5008), exchanges 4 KiB and leaves the connection idle; L1 then
# pauses, snapshots and SIGKILLs myvmm and restores it in a new process,
# which sends VIRTIO_VSOCK_EVENT_TRANSPORT_RESET. Nothing else can end the
# idle socket here (the new myvmm sends nothing for a connection it does not
# know): it must end with a reset, not a 30 s stall. Then a new connection
# to host port 5007 must work.
load virtio_pci vmw_vsock_virtio_transport
timeout 200 nt-vsock echo vsock:5008 >/tmp/e5008 2>/tmp/e5008.err &
i=0
while [ $i -lt 100 ] && ! grep -q listening /tmp/e5008.err; do sleep 0.1; i=$((i + 1)); done
waitline vsnap
nt vsnap_restored "$REPLY"
wait
nt vsnap_idle "$(cat /tmp/e5008) $(grep -v listening /tmp/e5008.err)"
nt vsnap_after "$(timeout 60 nt-vsock client vsock:2:5007 65536 half 2>&1)"
warnings
