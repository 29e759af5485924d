#!/bin/sh
# netns-run.sh COMMAND...: runs COMMAND in a network namespace of its own,
# with lo up and a veth pair whose end carries 127.0.0.2/32, IPv6 off.
# Janus gathers no ICE candidates on a loopback interface; the veth end is
# an address on no loopback interface that still reaches nothing outside
# this namespace, so the WebRTC tests stay off every real network.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
if [ "${ZC_IN_NETNS:-}" != 1 ]; then
  ZC_IN_NETNS=1
  export ZC_IN_NETNS
  if [ "$(id -u)" = 0 ]; then
    exec unshare --net -- "$0" "$@"
  fi
  exec unshare --map-root-user --net -- "$0" "$@"
fi
ip link set lo up
ip link add zc-veth0 type veth peer name zc-veth1
ip link set zc-veth0 up
ip link set zc-veth1 up
ip addr add 127.0.0.2/32 dev zc-veth0
for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do
  echo 1 > "$f" 2> /dev/null || true
done
exec "$@"
