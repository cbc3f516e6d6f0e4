#!/bin/sh
# busybox udhcpc's hook: applies the lease.
case $1 in
bound|renew)
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
	[ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
	;;
esac
exit 0
