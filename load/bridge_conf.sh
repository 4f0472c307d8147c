# load/bridge_conf.sh — shell helpers shared by load/smoke.sh and
# scripts/bench-load (sourced, not run).
#
#   fb_load_write_conf FILE DIR SECRET TICK_CPU MAX_PARTICIPANTS
#       a bridge config for load runs: media and signalling on ephemeral
#       loopback ports, synthetic floor (builtin:speech), no PA, no
#       recording, no store, log_level warn, the control socket in DIR, no
#       per-IP WebSocket limit worth the name (every load participant comes
#       from 127.0.0.1), meeting "loadtest" signed with SECRET.
#   fb_load_signalling_port PID LOG TRIES
#       the bridge's signalling TCP port: from the "signalling listening on"
#       log line when the log level shows it, else from the listening socket
#       the process owns (/proc/PID/fd and /proc/net/tcp). Polls every 0.1 s
#       up to TRIES times; prints the port or fails.

fb_load_write_conf() {
  local file=$1 dir=$2 secret=$3 tick_cpu=$4 maxp=$5
  cat >"$file" <<EOF
[bridge]
bind = 127.0.0.1
media_port = 0
control_socket = $dir/ctl.sock
log_level = warn
max_participants = $maxp

[mixer]
tick_cpu = $tick_cpu

[floor]
pipeline = builtin:speech

[pa]
pipeline = ""

[recording]
pipeline = ""

[signalling]
bind = 127.0.0.1
port = 0
www = $dir
max_connections_per_ip = 100000

[meeting]
id = loadtest
token_secret = $secret
EOF
}

# Listening TCP ports of a process, from its socket inodes.
fb_load_listen_ports() {
  local pid=$1 inodes
  inodes=$(ls -l "/proc/$pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p' | sort -u)
  [[ -n $inodes ]] || return 1
  awk -v list="$inodes" 'BEGIN { n = split(list, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
    $4 == "0A" && ($10 in want) { n = split($2, la, ":"); print la[n] }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r hex; do echo $((16#$hex)); done
}

fb_load_signalling_port() {
  local pid=$1 log=$2 tries=$3 port
  for _ in $(seq "$tries"); do
    kill -0 "$pid" 2>/dev/null || return 1
    port=$(sed -n 's/.*signalling listening on https\{0,1\}:\/\/.*:\([0-9][0-9]*\).*/\1/p' "$log" | head -n1)
    [[ -z $port ]] && port=$(fb_load_listen_ports "$pid" | head -n1)
    if [[ -n $port ]]; then
      echo "$port"
      return 0
    fi
    sleep 0.1
  done
  return 1
}
