#!/usr/bin/env bash
# load/smoke.sh — the load_smoke ctest: a real bridge (temporary config,
# ephemeral ports, synthetic floor, no PA or recording) and floorbridge-load
# with 20 participants, 2 live speakers, 10 s measured. It asserts
# correctness only (floorbridge-load --assert): every join succeeded, no
# listener's stream stopped (no gap over 2 s after its join: a starved CI
# machine delays packets by hundreds of ms, a broken fan-out stops them),
# every decoded listener heard the speakers' markers. It never asserts timing.
#
#   load/smoke.sh BRIDGE_BINARY LOAD_BINARY
set -euo pipefail
bridge=${1:?usage: smoke.sh FLOORBRIDGE FLOORBRIDGE-LOAD}
load=${2:?usage: smoke.sh FLOORBRIDGE FLOORBRIDGE-LOAD}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=load/bridge_conf.sh
source "$here/bridge_conf.sh"
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
fb_load_write_conf "$tmp/bridge.conf" "$tmp" "$secret" -1 1000
"$bridge" --config "$tmp/bridge.conf" >"$tmp/bridge.log" 2>&1 &
pid=$!
port=$(fb_load_signalling_port "$pid" "$tmp/bridge.log" 100) || {
  echo "smoke: the bridge did not start listening:" >&2
  cat "$tmp/bridge.log" >&2
  exit 1
}

set +e
"$load" --url "ws://127.0.0.1:$port/ws" --secret "$secret" --meeting loadtest \
  -n 20 -s 2 --duration-s 10 --ramp-per-s 50 --decode-pct 15 \
  --bridge-pid "$pid" --control "$tmp/ctl.sock" --json "$tmp/smoke.json" --assert \
  --assert-gap-ms 2000
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "smoke: floorbridge-load failed ($rc); bridge log:" >&2
  tail -n 40 "$tmp/bridge.log" >&2
fi
exit $rc
