# Run "base": legacy devices, rng, CPU model, display; then a shell on the
# console for the host to type into (it types the rest, see l1/runs.sh).
load virtio_pci virtio_rng bochs
dm i8042 'i8042: PNP|serio: i8042'
dm atkbd 'input: AT Translated Set 2 keyboard'
dm rtc 'rtc_cmos .*registered as rtc0'
dm rtcerr 'rtc_cmos.*(error|fail)'
dm i8042err 'i8042.*([Ee]rror|[Ff]ail|[Tt]imeout|No controller)|atkbd.*([Ff]ail|[Ss]purious|[Uu]nknown key)'
dm drm 'Initialized bochs'
dm fbcon 'Console: switching to colour frame buffer'
nt model "$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)"
nt rng_current "$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
timeout 30 dd if=/dev/hwrng of=/tmp/rng bs=1024 count=64 2>/dev/null
nt rng_bytes "$(wc -c </tmp/rng)"
nt rng_distinct "$(od -An -tx1 -v /tmp/rng | tr ' ' '\n' | grep . | sort -u | wc -l)"
# Text on the framebuffer console, for the screenshot.
echo "myvmm nested display test: Linux console on bochs-drm" >/dev/tty1 2>/dev/null
sh_on_console
