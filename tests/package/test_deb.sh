#!/usr/bin/env bash
# tests/package/test_deb.sh — the Debian package, as a secretariat gets it:
# build it, lint it, install it on this machine, run the service, remove it.
#
#   tests/package/test_deb.sh        (root; ctest: package_deb, label "package")
#
# 1. dpkg-buildpackage -b -us -uc in a copy of the source tree in a temporary
#    directory (what git would commit: tracked plus untracked, not ignored
#    files), so the repository gets no debian/ build output.
# 2. lintian on the .deb: any E: line fails the test.
# 3. dpkg -i (apt-get install -f when dependencies are missing), then
#    systemd-analyze verify on the installed unit (it needs no running
#    systemd), the files, the conffile, the user, the state directory, the
#    generated secret and certificate, and --check-config of the installed
#    configuration.
# 4. The service:
#    - where systemd is PID 1 (/run/systemd/system exists): systemctl start,
#      is-active, /healthz, the watchdog, systemctl reload, systemctl stop;
#    - elsewhere (containers, this CI): started the way the unit starts it.
#      ExecStart= is read from the installed unit and run as its User= with
#      setpriv, with its LoadCredential= files copied into a credentials
#      directory for %d, its RuntimeDirectory= and StateDirectory= made, its
#      LimitRTPRIO= (when this host lets us raise it) and UMask=, and a
#      NOTIFY_SOCKET and WATCHDOG_USEC like systemd's, so READY=1, WATCHDOG=1
#      and STOPPING=1 are checked too. Ports are overridden to 0 (free ones)
#      with --set. The sandboxing options (ProtectSystem= ...) are not
#      emulated. Then /healthz, the pages, the control socket, an online
#      backup of the store, SIGHUP (still running, still healthy) and SIGTERM
#      (exit status 0, "stopped").
# 5. dpkg --purge: the package's files and generated secrets are gone, the
#    meeting's records in /var/lib/floorbridge and the floorbridge user are
#    kept (see debian/floorbridge.postrm); then the test removes those too
#    when it created them.
#
# Exit status: 0 passed, 1 failed, 77 skipped (not root: dpkg -i needs it).
# Refuses to run when floorbridge is already installed (it would be purged),
# unless FB_PACKAGE_TEST_FORCE=1. Every wait has a timeout; about a minute in
# all on two cores, most of it the package build.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
started=$SECONDS

say() { echo "== package: $*"; }
fail() { echo "package: FAIL: $*" >&2; exit 1; }

if ((EUID != 0)); then
  echo "== package: SKIPPED (not root: installing a .deb needs root)" >&2
  exit 77
fi
for tool in dpkg-buildpackage dh lintian systemd-analyze curl openssl setpriv python3; do
  command -v "$tool" >/dev/null || fail "$tool not found (scripts/setup installs it)"
done
if dpkg-query -W -f='${Status}' floorbridge 2>/dev/null | grep -q installed &&
   [[ ${FB_PACKAGE_TEST_FORCE:-0} != 1 ]]; then
  fail "floorbridge is installed on this machine; this test would purge it" \
       "(dpkg --purge floorbridge, or FB_PACKAGE_TEST_FORCE=1)"
fi

tmp=$(mktemp -d -t fb-package.XXXXXX)
chmod 0711 "$tmp" # the service user reaches its credentials and the notify socket
user_existed=0
getent passwd floorbridge >/dev/null && user_existed=1
bridge_pid=""
notify_pid=""
installed=0

cleanup() {
  local rc=$?
  [[ -n $bridge_pid ]] && kill -KILL "$bridge_pid" 2>/dev/null || true
  [[ -n $notify_pid ]] && kill "$notify_pid" 2>/dev/null || true
  if ((installed)); then
    [[ -d /run/systemd/system ]] && timeout 30 systemctl stop floorbridge 2>/dev/null || true
    timeout 120 dpkg --purge floorbridge >/dev/null 2>&1 || true
    rm -rf /var/lib/floorbridge /run/floorbridge
    if ((!user_existed)); then
      deluser --system --quiet floorbridge >/dev/null 2>&1 || true
      delgroup --system --quiet floorbridge >/dev/null 2>&1 || true
    fi
  fi
  if ((rc != 0)) && [[ -f $tmp/bridge.log ]]; then
    echo "---- bridge log (last 30 lines)" >&2
    tail -30 "$tmp/bridge.log" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---- 1. build ---------------------------------------------------------------
say "building the .deb in a copy of the tree"
mkdir "$tmp/src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -C "$tmp/src" -xf -
else
  tar -C "$repo" --exclude='./build*' --exclude='./obj-*' --exclude=node_modules \
      --exclude=./.git -cf - . | tar -C "$tmp/src" -xf -
fi
t=$SECONDS
if ! (cd "$tmp/src" && timeout 900 dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
  tail -40 "$tmp/build.log" >&2
  fail "dpkg-buildpackage failed (log above)"
fi
debs=("$tmp"/floorbridge_*.deb)
[[ -f ${debs[0]} ]] || fail "no floorbridge_*.deb was built"
deb=${debs[0]}
say "built $(basename "$deb") in $((SECONDS - t)) s"

# ---- 2. lintian -------------------------------------------------------------
t=$SECONDS
# (TMPDIR: lintian leaves scratch files behind; they go with $tmp)
lint=$(TMPDIR=$tmp timeout 300 lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[[ -n $lint ]] && echo "$lint"
if grep -q '^E:' <<<"$lint"; then fail "lintian reports errors"; fi
say "lintian: no errors, $(grep -c '^W:' <<<"$lint" || true) warning(s) ($((SECONDS - t)) s)"

# ---- 3. install -------------------------------------------------------------
say "installing"
installed=1
if ! timeout 300 dpkg -i "$deb" >"$tmp/install.log" 2>&1; then
  say "dpkg -i left dependencies missing: apt-get install -f"
  timeout 600 env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq \
    --no-install-recommends >>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "install"; }
fi
dpkg-query -W -f='${Status}' floorbridge | grep -q 'install ok installed' || fail "not installed"

unit=/lib/systemd/system/floorbridge.service
conf=/etc/floorbridge/floorbridge.conf
verify=$(timeout 60 systemd-analyze verify "$unit" 2>&1) || { echo "$verify" >&2; fail "systemd-analyze verify"; }
[[ -z $verify ]] || { echo "$verify" >&2; fail "systemd-analyze verify complains"; }

for f in /usr/bin/floorbridge /usr/share/floorbridge/www/index.html \
         /usr/share/floorbridge/www/chair.html /usr/share/floorbridge/www/listen.html \
         "$conf" "$unit" /usr/share/doc/floorbridge/OPERATIONS.md \
         /usr/share/doc/floorbridge/examples/demo.conf /usr/share/man/man1/floorbridge.1.gz; do
  [[ -f $f ]] || fail "missing $f"
done
dpkg-query -W -f='${Conffiles}\n' floorbridge | grep -q " $conf " || fail "$conf is not a conffile"
[[ -L /etc/systemd/system/multi-user.target.wants/floorbridge.service ]] ||
  fail "the service is not enabled"
getent passwd floorbridge >/dev/null || fail "no floorbridge user"
[[ $(getent passwd floorbridge | cut -d: -f7) == /usr/sbin/nologin ]] || fail "floorbridge has a login shell"
((user_existed)) || (($(id -u floorbridge) < 1000)) || fail "floorbridge is not a system user"
[[ $(stat -c %U:%a /var/lib/floorbridge) == floorbridge:750 ]] || fail "/var/lib/floorbridge: $(stat -c %U:%a /var/lib/floorbridge)"
[[ $(stat -c %U:%a /etc/floorbridge/token_secret) == root:600 ]] || fail "token_secret not root:600"
[[ $(stat -c %U:%G:%a /etc/floorbridge/tls/key.pem) == root:floorbridge:640 ]] ||
  fail "key.pem not root:floorbridge 0640"
openssl x509 -in /etc/floorbridge/tls/cert.pem -noout -checkend 86400 >/dev/null || fail "certificate"
(($(tr -d '\n' </etc/floorbridge/token_secret | wc -c) >= 32)) || fail "token_secret too short"
/usr/bin/floorbridge --check-config "$conf" >/dev/null || fail "--check-config $conf"
grep -q '^token_secret *=' "$conf" && fail "$conf carries a token_secret"
token=$(/usr/bin/floorbridge token --meeting meeting --delegate d1 --name "Delegate 1" \
          --role delegate --secret-file /etc/floorbridge/token_secret)
[[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || fail "token: '$token'"
say "installed: files, conffile, user, secret, certificate, unit verified"

healthz() { [[ $(curl -fsk --max-time 3 "https://127.0.0.1:$1/healthz" 2>/dev/null) == ok ]]; }

# ---- 4a. under systemd -------------------------------------------------------
if [[ -d /run/systemd/system ]]; then
  say "systemd is running: systemctl start"
  timeout 60 systemctl start floorbridge || { journalctl -u floorbridge -n 30 --no-pager >&2 || true; fail "start"; }
  systemctl is-active --quiet floorbridge || fail "not active"
  port=$(awk '/^\[/{s=$0} s=="[signalling]" && $1=="port"{print $3}' "$conf")
  wait_for 20 healthz "$port" || fail "/healthz on port $port did not answer ok within 20 s"
  systemctl show -p StatusText --value floorbridge | grep -q '^meeting ' ||
    fail "no STATUS= from READY=1"
  # systemd stamps the watchdog at READY=1; a ping moves the stamp
  wd0=$(systemctl show -p WatchdogTimestampMonotonic --value floorbridge)
  wait_for 10 sh -c "[ \"\$(systemctl show -p WatchdogTimestampMonotonic --value floorbridge)\" != $wd0 ]" ||
    fail "no watchdog ping within 10 s"
  timeout 30 systemctl reload floorbridge || fail "reload"
  sleep 1
  systemctl is-active --quiet floorbridge || fail "not active after reload"
  healthz "$port" || fail "/healthz after reload"
  if journalctl -u floorbridge --no-pager -q >/dev/null 2>&1; then
    wait_for 5 sh -c 'journalctl -u floorbridge --no-pager -o cat | grep -q "reload requested (SIGHUP)"' ||
      fail "no 'reload requested' in the journal"
  fi
  timeout 60 systemctl stop floorbridge || fail "stop"
  [[ $(systemctl show -p Result --value floorbridge) == success ]] || fail "stop: not a clean exit"
  say "systemd: started, healthy, watchdog pinged, reloaded, stopped cleanly"
else
  # ---- 4b. as the unit would run it ------------------------------------------
  say "no systemd as PID 1: running ExecStart as the unit would"
  # unit_get KEY: the values of KEY= in the unit, one a line
  unit_get() { sed -n "s/^$1=//p" "$unit"; }
  svc_user=$(unit_get User)
  svc_group=$(unit_get Group)
  creds=$tmp/credentials
  install -d -o "$svc_user" -g root -m 0500 "$creds"
  while IFS=: read -r id path; do
    [[ -n $id ]] || continue
    install -o "$svc_user" -g root -m 0400 "$path" "$creds/$id"
  done < <(unit_get LoadCredential)
  rmode=$(unit_get RuntimeDirectoryMode)
  smode=$(unit_get StateDirectoryMode)
  for d in $(unit_get RuntimeDirectory); do
    install -d -o "$svc_user" -g "$svc_group" -m "${rmode:-0755}" "/run/$d"
  done
  for d in $(unit_get StateDirectory); do
    install -d -o "$svc_user" -g "$svc_group" -m "${smode:-0755}" "/var/lib/$d"
  done
  read -r -a cmd <<<"$(unit_get ExecStart)"
  for i in "${!cmd[@]}"; do cmd[i]=${cmd[i]//%d/$creds}; done
  [[ "${cmd[*]}" != *%* ]] || fail "ExecStart uses a specifier this test does not know: ${cmd[*]}"
  cmd+=(--set signalling.port=0 --set bridge.media_port=0)

  wd=$(unit_get WatchdogSec)
  case $wd in
    *ms) wd_usec=$((${wd%ms} * 1000)) ;;
    *s) wd_usec=$((${wd%s} * 1000000)) ;;
    *[0-9]) wd_usec=$((wd * 1000000)) ;;
    *) fail "WatchdogSec=$wd: unknown unit" ;;
  esac
  limits=()
  rtprio=$(unit_get LimitRTPRIO)
  if [[ -n $rtprio ]]; then
    if prlimit --rtprio="$rtprio:$rtprio" true 2>/dev/null; then
      limits=(prlimit --rtprio="$rtprio:$rtprio")
    else
      say "note: this host does not let root raise RLIMIT_RTPRIO (no CAP_SYS_RESOURCE): LimitRTPRIO not emulated"
    fi
  fi
  groups=(--clear-groups)
  supp=$(unit_get SupplementaryGroups | tr ' ' ',')
  [[ -z $supp ]] || groups=(--groups="$supp")

  # systemd's notify socket: one datagram a line pair in $tmp/notify.txt
  install -d -m 0755 "$tmp/notify"
  timeout 300 python3 - "$tmp/notify/sock" "$tmp/notify.txt" "$svc_user" <<'PY' &
import os, pwd, socket, sys
path, out, user = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chown(path, pwd.getpwnam(user).pw_uid, -1)
with open(out, "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
PY
  notify_pid=$!
  wait_for 5 test -S "$tmp/notify/sock" || fail "notify socket"

  # The subshell execs: $! is the bridge's own pid, as MAINPID would be.
  (
    umask "$(unit_get UMask)"
    cd "$(unit_get WorkingDirectory)"
    exec "${limits[@]}" setpriv --reuid="$svc_user" --regid="$svc_group" \
      "${groups[@]}" --no-new-privs \
      --bounding-set=-all --inh-caps=-all -- \
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      NOTIFY_SOCKET="$tmp/notify/sock" WATCHDOG_USEC="$wd_usec" CREDENTIALS_DIRECTORY="$creds" \
      "${cmd[@]}"
  ) >"$tmp/bridge.log" 2>&1 &
  bridge_pid=$!

  listening() {
    kill -0 "$bridge_pid" 2>/dev/null || fail "the bridge exited during start"
    grep -q 'signalling listening on https://' "$tmp/bridge.log"
  }
  wait_for 20 listening || fail "no 'signalling listening' within 20 s"
  port=$(sed -n 's|.*signalling listening on https://[^ ]*:\([0-9]*\)$|\1|p' "$tmp/bridge.log" | head -1)
  [[ -n $port ]] || fail "no port in the log"
  wait_for 20 healthz "$port" || fail "/healthz on port $port did not answer ok within 20 s"
  grep -q '^READY=1 STATUS=meeting ' "$tmp/notify.txt" || fail "no READY=1 on the notify socket"
  wait_for 10 grep -q '^WATCHDOG=1' "$tmp/notify.txt" || fail "no WATCHDOG=1 within 10 s"

  # the shipped config binds media to 0.0.0.0 with no public_ip: browsers
  # are offered the default route's address, not 127.0.0.1
  if want=$(ip -4 route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p') && [[ -n $want ]]; then
    grep -q "ICE host candidate $want " "$tmp/bridge.log" ||
      fail "the ICE host candidate is not the default route's address $want"
  else
    grep -q 'has no default route' "$tmp/bridge.log" || fail "no warning about the missing default route"
  fi
  # a reload re-reads the certificate: the one postinst made loads again
  kill -HUP "$bridge_pid"
  wait_for 5 grep -q 'TLS certificate reloaded from /etc/floorbridge/tls/cert.pem' "$tmp/bridge.log" ||
    fail "SIGHUP did not reload the certificate"

  # the certificate made by postinst is valid for localhost
  [[ $(curl -fs --max-time 3 --cacert /etc/floorbridge/tls/cert.pem \
         "https://localhost:$port/healthz") == ok ]] || fail "the certificate does not verify for localhost"
  curl -fsk --max-time 3 "https://127.0.0.1:$port/" | grep -qi '<html' || fail "GET / is not the page"
  curl -fsk --max-time 3 "https://127.0.0.1:$port/chair.html" | grep -qi '<html' || fail "GET /chair.html"
  curl -fsk --max-time 3 "https://127.0.0.1:$port/metrics" | grep -q '^floorbridge_mixer_ticks_total' ||
    fail "GET /metrics"
  sock=$(sed -n 's/^control_socket *= *//p' "$conf")
  [[ -S $sock && $(stat -c %U:%a "$sock") == "$svc_user:660" ]] || fail "control socket $sock"
  reply=$(timeout 5 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1]); s.sendall(b"status\n")
print(s.recv(65536).decode().strip())' "$sock")
  [[ $reply == 'ok {'* ]] || fail "control status: $reply"
  if grep -q 'the tick runs at SCHED_FIFO' "$tmp/bridge.log"; then
    say "the tick runs SCHED_FIFO as the service user (RLIMIT_RTPRIO, no capability)"
  elif ((${#limits[@]})) && chrt -f "$rtprio" true 2>/dev/null; then
    fail "root may use SCHED_FIFO here but the service user with RLIMIT_RTPRIO=$rtprio may not"
  else
    say "note: SCHED_FIFO not available to the service here; the bridge warned and runs normally"
  fi
  store=$(sed -n 's/^path *= *//p' "$conf")
  if command -v sqlite3 >/dev/null; then
    timeout 20 sqlite3 "$store" ".backup $tmp/backup.db" || fail "online backup of $store"
    [[ $(sqlite3 "$tmp/backup.db" 'PRAGMA integrity_check;') == ok ]] || fail "backup integrity"
  fi

  kill -HUP "$bridge_pid"
  wait_for 5 grep -q 'reload requested (SIGHUP)' "$tmp/bridge.log" || fail "no 'reload requested' after SIGHUP"
  sleep 0.5
  kill -0 "$bridge_pid" 2>/dev/null || fail "SIGHUP stopped the bridge"
  healthz "$port" || fail "/healthz after SIGHUP"

  kill -TERM "$bridge_pid"
  wait_for 20 sh -c "! kill -0 $bridge_pid 2>/dev/null" || fail "still running 20 s after SIGTERM"
  rc=0
  wait "$bridge_pid" || rc=$?
  bridge_pid=""
  ((rc == 0)) || fail "exit status $rc after SIGTERM"
  grep -q '\[main\] stopped' "$tmp/bridge.log" || fail "no 'stopped' in the log"
  grep -q '^STOPPING=1' "$tmp/notify.txt" || fail "no STOPPING=1 on the notify socket"
  [[ -s /var/lib/floorbridge/recordings/meeting.ogg ]] || fail "no recording"
  [[ $(stat -c %U "$store") == "$svc_user" ]] || fail "store not owned by $svc_user"
  kill "$notify_pid" 2>/dev/null || true
  notify_pid=""
  say "service: ready, healthy, watchdog pinged, SIGHUP survived, SIGTERM clean (exit 0)"
fi

# ---- 5. purge ----------------------------------------------------------------
say "purging"
timeout 120 dpkg --purge floorbridge >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "purge"; }
installed=0
for f in /usr/bin/floorbridge "$unit" "$conf" /etc/floorbridge/token_secret /etc/floorbridge/tls \
         /etc/systemd/system/multi-user.target.wants/floorbridge.service; do
  [[ ! -e $f && ! -L $f ]] || fail "$f is left after purge"
done
getent passwd floorbridge >/dev/null || fail "purge removed the floorbridge user"
[[ -f /var/lib/floorbridge/floorbridge.db ]] || fail "purge removed the meeting store"
grep -q 'kept /var/lib/floorbridge' "$tmp/purge.log" || fail "purge did not say it kept /var/lib/floorbridge"
rm -rf /var/lib/floorbridge /run/floorbridge
if ((!user_existed)); then
  deluser --system --quiet floorbridge >/dev/null 2>&1 || true
  delgroup --system --quiet floorbridge >/dev/null 2>&1 || true
fi
say "purged: files and secrets gone, records and user kept (then removed by the test)"
say "passed in $((SECONDS - started)) s"
