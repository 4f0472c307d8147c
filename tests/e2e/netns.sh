#!/bin/sh
# netns.sh COMMAND... — run COMMAND in a private network namespace whose only
# interface is loopback (up), so the browser tests cannot send a packet to any
# address but 127.0.0.1/::1: Chromium then gathers only loopback candidates.
# Needs `unshare -n` to be allowed (root, as in CI). Otherwise, or with
# FB_E2E_NETNS=0, COMMAND runs as is; everything still targets 127.0.0.1, but
# Chromium also uses the host's other interfaces' addresses as its sources.
if [ "${FB_E2E_NETNS:-1}" != 0 ] && command -v unshare >/dev/null 2>&1 \
   && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c 'ip link set lo up && exec "$@"' netns.sh "$@"
fi
exec "$@"
