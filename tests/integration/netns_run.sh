#!/bin/sh
# Runs a multi-node test executable ($@) with ITEST_NETNS=1: the head on a
# bridge made for the test, every joined node in a network namespace of its
# own (ip netns + veth), so nodes reach each other only by IP, as separate
# hosts. Needs root, ip(8), network namespaces and bridges; exits 77
# (CTest: skipped) where this machine has not got them.
if [ "$(id -u)" != 0 ]; then echo "skipped: network namespaces need root"; exit 77; fi
if ! command -v ip >/dev/null 2>&1; then echo "skipped: no ip(8) (Debian package iproute2)"; exit 77; fi
probe=mtprobe$$
if ! ip netns add "$probe" 2>/dev/null; then echo "skipped: ip netns add is refused here"; exit 77; fi
ip netns del "$probe"
if ! ip link add "$probe" type bridge 2>/dev/null; then echo "skipped: cannot make a bridge here"; exit 77; fi
ip link del "$probe"
ITEST_NETNS=1 exec "$@"
