"""fbtest.py — what the soak and the fault tests share (Python 3 stdlib only).

  WS          a minimal RFC 6455 client (ws:// or wss:// with any certificate),
              enough for a chair: text messages, fragments, ping/pong, close
  mint_token  an HS256 join token, as `floorbridge token` makes it
  http_get    GET over http or https (self-signed accepted), bounded in time
  metrics     Prometheus text -> {series: value}
  Bridge      a floorbridge process: config file, start (optionally inside a
              network namespace), wait until it listens, RSS, stop, SIGKILL
  Netns       network namespaces and the links between them (veth, or TUN
              devices for fb-impair)

Nothing here changes the host's network: every address is made inside
namespaces this module creates, and Netns.destroy removes them.
"""
import base64
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

# ---------------------------------------------------------------------------
# tokens


def _b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint_token(secret, meeting, delegate, name=None, role="delegate", speak=False, ttl_s=6 * 3600,
               jti=None):
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())
    claims = {"mtg": meeting, "sub": delegate, "name": name or delegate, "role": role,
              "iat": now, "exp": now + ttl_s}
    if speak:
        claims["speak"] = True
    if jti:
        claims["jti"] = jti
    signing = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + _b64(sig)


# ---------------------------------------------------------------------------
# WebSocket client


class Closed(Exception):
    """The connection ended (close frame, EOF or error); .code has the close code."""

    def __init__(self, code, why=""):
        super().__init__(f"closed ({code}) {why}".strip())
        self.code = code


def _tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect_tcp(host, port, tls=False, timeout=5.0, source=None):
    s = socket.create_connection((host, port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        s = _tls_context().wrap_socket(s, server_hostname=host)
    return s


class WS:
    """A blocking WebSocket client. recv(timeout) returns one text message (str),
    None on timeout, and raises Closed when the connection is gone."""

    def __init__(self, host, port, path="/ws", tls=False, timeout=5.0, source=None):
        self.sock = connect_tcp(host, port, tls, timeout, source)
        self.buf = bytearray()
        self.frags = []
        self.closed = None
        self.rx_bytes = 0
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: {'https' if tls else 'http'}://{host}:{port}\r\n\r\n")
        self.sock.sendall(req.encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.sock.close()
                raise Closed(0, "no upgrade answer")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                self.sock.close()
                raise Closed(0, "refused: connection closed during the upgrade")
            self.buf += chunk
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode(errors="replace")
        if " 101 " not in status + " ":
            self.sock.close()
            raise Closed(0, f"refused: {status}")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                               .encode()).digest()).decode()
        if accept.encode() not in head:
            self.sock.close()
            raise Closed(0, "bad Sec-WebSocket-Accept")
        self.buf = bytearray(rest)

    # -- sending
    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        # XOR with the mask, fast: as one big integer
        m = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") \
            if n else b""
        try:
            self.sock.sendall(hdr + mask + masked)
        except OSError as e:
            self.closed = self.closed or 1006
            raise Closed(1006, str(e))

    def send(self, msg):
        if not isinstance(msg, str):
            msg = json.dumps(dict({"v": 1}, **msg))
        self._frame(1, msg.encode())

    def close(self, code=1000):
        try:
            if not self.closed:
                self._frame(8, struct.pack("!H", code))
        except Closed:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = self.closed or code

    # -- receiving
    def _parse(self):
        """One complete frame from the buffer: (opcode, fin, payload) or None."""
        b = self.buf
        if len(b) < 2:
            return None
        n = b[1] & 0x7F
        off = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack_from("!H", b, 2)[0]
            off = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack_from("!Q", b, 2)[0]
            off = 10
        if b[1] & 0x80:  # a masked server frame: not allowed, but read it
            off += 4
        if len(b) < off + n:
            return None
        op, fin = b[0] & 0x0F, bool(b[0] & 0x80)
        payload = bytes(b[off:off + n])
        del b[:off + n]
        return op, fin, payload

    def recv(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            fr = self._parse()
            if fr:
                op, fin, payload = fr
                if op == 8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    self.closed = code
                    try:
                        self._frame(8, payload[:2])
                    except Closed:
                        pass
                    self.sock.close()
                    raise Closed(code, payload[2:].decode(errors="replace"))
                if op == 9:
                    self._frame(10, payload)
                    continue
                if op == 10:
                    continue
                self.frags.append(payload)
                if fin:
                    data = b"".join(self.frags)
                    self.frags = []
                    return data.decode("utf-8", errors="replace")
                continue
            if self.closed:
                raise Closed(self.closed, "closed")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            # TLS may hold decrypted bytes that select() cannot see
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            if not pending:
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    return None
            try:
                self.sock.settimeout(5)
                chunk = self.sock.recv(262144)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (OSError, ssl.SSLError) as e:
                self.closed = 1006
                raise Closed(1006, str(e))
            if not chunk:
                self.closed = 1006
                raise Closed(1006, "EOF")
            self.rx_bytes += len(chunk)
            self.buf += chunk

    def recv_json(self, timeout=None):
        t = self.recv(timeout)
        return None if t is None else json.loads(t)

    def wait(self, pred, timeout, on_other=None):
        """Messages until pred(msg) is true (that message is returned) or the
        timeout (None). on_other(msg) sees the others."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            m = self.recv_json(left)
            if m is None:
                return None
            if pred(m):
                return m
            if on_other:
                on_other(m)


def join(host, port, token, tls=False, timeout=5.0, source=None):
    """Open a WebSocket and join; returns (ws, joined message). Raises Closed or
    RuntimeError (an error reply)."""
    w = WS(host, port, tls=tls, timeout=timeout, source=source)
    w.send({"type": "join", "token": token})
    m = w.wait(lambda m: m.get("type") in ("joined", "error"), timeout)
    if not m or m["type"] != "joined":
        w.close()
        raise RuntimeError(f"join refused: {m}")
    return w, m


# ---------------------------------------------------------------------------
# HTTP


def http_get(host, port, path, tls=False, timeout=2.0):
    """(status, body as str); (0, why) when the request failed."""
    try:
        s = connect_tcp(host, port, tls, timeout)
        s.settimeout(timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
                  .encode())
        data = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(262144)
            except ssl.SSLError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = bytes(data).partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length" and len(body) >= int(v):
                        break
                else:
                    continue
                break
        s.close()
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return status, body.decode(errors="replace")
    except (OSError, ValueError, IndexError) as e:
        return 0, str(e)


def metrics(text):
    """Prometheus text -> {'series{labels}': float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        k, _, v = line.rpartition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def tick_quantile(m0, m1, q):
    """Quantile q of floorbridge_mixer_tick_seconds between two metrics dicts
    (seconds; the bucket's upper bound, +Inf as 'above the last bound')."""
    pre = 'floorbridge_mixer_tick_seconds_bucket{le="'
    bounds = []
    for k in m1:
        if k.startswith(pre):
            le = k[len(pre):-2]
            bounds.append((float("inf") if le == "+Inf" else float(le), k))
    bounds.sort()
    if not bounds:
        return None
    total = m1[bounds[-1][1]] - m0.get(bounds[-1][1], 0)
    if total <= 0:
        return None
    for le, k in bounds:
        if m1[k] - m0.get(k, 0) >= q * total:
            return le
    return float("inf")


# ---------------------------------------------------------------------------
# processes and namespaces


def sh(*args, check=True, quiet=False):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


class Netns:
    """Namespaces named PREFIX-x and links between them; destroy() removes all."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.names = []

    def add(self, short):
        name = f"{self.prefix}-{short}"
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        sh("ip", "netns", "add", name)
        self.names.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def veth(self, a, a_dev, a_addr, b, b_dev, b_addr):
        tmp_a, tmp_b = f"fbv{os.getpid() % 100000}a", f"fbv{os.getpid() % 100000}b"
        sh("ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
        sh("ip", "link", "set", tmp_a, "netns", a, "name", a_dev)
        sh("ip", "link", "set", tmp_b, "netns", b, "name", b_dev)
        for ns, dev, addr in ((a, a_dev, a_addr), (b, b_dev, b_addr)):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def tun(self, ns, dev, addr):
        sh("ip", "-n", ns, "tuntap", "add", "dev", dev, "mode", "tun")
        sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")

    def route(self, ns, dest, via):
        sh("ip", "-n", ns, "route", "add", dest, "via", via)

    def destroy(self):
        for n in self.names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        self.names = []


def in_ns(ns, argv):
    return (["ip", "netns", "exec", ns] if ns else []) + list(argv)


def make_cert(dirpath, ip):
    """A self-signed P-256 certificate for ip (CN and subjectAltName)."""
    cert, key = os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={ip}",
       "-addext", f"subjectAltName=IP:{ip}")
    os.chmod(key, 0o600)
    return cert, key


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Bridge:
    """One floorbridge process from a config made here."""

    def __init__(self, binary, workdir, repo, meeting="faults", secret=None, sig_bind="127.0.0.1",
                 sig_port=0, media_bind="127.0.0.1", media_port=0, tls=None, store=True,
                 extra=None, ns=None, log_level="info"):
        self.binary, self.dir, self.ns = binary, workdir, ns
        self.meeting = meeting
        self.secret = secret or base64.b64encode(os.urandom(24)).decode().replace("/", "_")
        self.host = sig_bind
        self.port = sig_port
        self.media_port = media_port
        self.tls = tls
        self.proc = None
        self.log = os.path.join(workdir, "bridge.log")
        self.conf = os.path.join(workdir, "bridge.conf")
        self.db = os.path.join(workdir, "store.db") if store else ""
        self.ctl = os.path.join(workdir, "ctl.sock")
        sections = {
            "bridge": {"bind": media_bind, "media_port": media_port, "control_socket": self.ctl,
                       "log_level": log_level, "max_participants": 2000},
            "floor": {"pipeline": "builtin:speech",
                      "sessions": '"Working session:interactive, Second session:interactive, '
                                  'Closing plenary:webcast"', "start_session": 0},
            "pa": {"pipeline": '""'},
            "recording": {"pipeline": '""'},
            "signalling": {"bind": sig_bind, "port": sig_port, "www": os.path.join(repo, "web")},
            "meeting": {"id": meeting, "token_secret": self.secret},
            "store": {"path": self.db or '""'},
        }
        if tls:
            sections["signalling"]["tls_cert"], sections["signalling"]["tls_key"] = tls
        for k, v in (extra or {}).items():
            sec, _, key = k.partition(".")
            sections.setdefault(sec, {})[key] = v
        with open(self.conf, "w") as f:
            for sec, kv in sections.items():
                f.write(f"[{sec}]\n")
                for k, v in kv.items():
                    f.write(f"{k} = {v}\n")
                f.write("\n")

    def start(self, wait_s=15):
        if getattr(self, "logf", None):
            self.logf.close()
        self.logf = open(self.log, "a")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(in_ns(self.ns, [self.binary, "--config", self.conf]),
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bridge exited ({self.proc.returncode}):\n{self.tail()}")
            port = self._logged_port()
            if port:
                self.port = port
                st, _ = self.get("/healthz")
                if st == 200:
                    self.t_ready = time.monotonic()
                    return self
            time.sleep(0.02)
        raise RuntimeError(f"the bridge did not become healthy in {wait_s} s:\n{self.tail()}")

    def _logged_port(self):
        try:
            with open(self.log) as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        for line in reversed(lines):
            if "signalling listening on" in line:
                return int(line.rsplit(":", 1)[1].split()[0].strip("/"))
        return None

    def tail(self, n=30):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def get(self, path, timeout=2.0):
        """HTTP GET from inside the bridge's namespace when there is one (via
        curl), else directly."""
        if self.ns:
            scheme = "https" if self.tls else "http"
            r = subprocess.run(in_ns(self.ns, ["curl", "-sk", "--max-time", str(timeout), "-o", "-",
                                               "-w", "\n%{http_code}",
                                               f"{scheme}://{self.host}:{self.port}{path}"]),
                               capture_output=True, text=True)
            body, _, code = r.stdout.rpartition("\n")
            return int(code or 0), body
        return http_get(self.host, self.port, path, bool(self.tls), timeout)

    def metrics(self):
        st, body = self.get("/metrics")
        return metrics(body) if st == 200 else None

    def rss_kb(self):
        return rss_kb(self.pid)

    def token(self, delegate, role="delegate", speak=False, name=None):
        return mint_token(self.secret, self.meeting, delegate, name=name, role=role, speak=speak)

    def join(self, delegate, role="delegate", speak=False, timeout=5.0, source=None):
        return join(self.host, self.port, self.token(delegate, role, speak), bool(self.tls),
                    timeout, source)

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait()

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()


class Report:
    """Checks with a verdict each, printed as a table; exit code from them."""

    def __init__(self, name):
        self.name = name
        self.rows = []
        try:
            sys.stdout.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError):
            pass

    def check(self, what, ok, value=""):
        self.rows.append((what, bool(ok), str(value)))
        print(f"  [{'ok' if ok else 'FAIL'}] {what}: {value}", flush=True)
        return ok

    def info(self, what, value):
        self.rows.append((what, None, str(value)))
        print(f"  [info] {what}: {value}", flush=True)

    def failed(self):
        return [r for r in self.rows if r[1] is False]

    def finish(self):
        bad = self.failed()
        print(f"{self.name}: {'FAILED (' + str(len(bad)) + ' checks)' if bad else 'ok'}",
              flush=True)
        return 1 if bad else 0


class Chair:
    """A chair's view of the meeting: the full roster, the queue, the mode and
    session, events and refusals, kept up to date as messages arrive."""

    def __init__(self, bridge, delegate="fchair", timeout=10.0):
        self.bridge = bridge
        self.delegate = delegate
        self.connect(timeout)

    def connect(self, timeout=10.0):
        self.ws, self.joined = self.bridge.join(self.delegate, role="chair", timeout=timeout)
        self.roster, self.queue, self.mode, self.session = {}, [], None, None
        self.events, self.errors, self.pongs = [], [], {}

    def on(self, m):
        t = m.get("type")
        if t == "roster" and "participants" in m:
            if m.get("full") is False:  # a delta: the entries that changed
                self.roster.update({p["delegate"]: p for p in m["participants"]})
            else:
                self.roster = {p["delegate"]: p for p in m["participants"]}
        elif t == "queue":
            self.queue = [e["delegate"] for e in m.get("entries", [])]
        elif t == "mode":
            self.mode = m.get("mode")
            self.session = (m.get("session") or {}).get("index")
        elif t == "event":
            self.events.append(dict(m, t=time.monotonic()))
        elif t == "error":
            self.errors.append(m)
        elif t == "pong":
            self.pongs[json.dumps(m.get("id"))] = time.monotonic()

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            m = self.ws.recv_json(left)
            if m is None:
                return
            self.on(m)

    def until(self, pred, timeout):
        end = time.monotonic() + timeout
        while not pred(self):
            left = end - time.monotonic()
            if left <= 0:
                return False
            m = self.ws.recv_json(min(left, 0.2))
            if m is not None:
                self.on(m)
        return True

    def send(self, type_, **fields):
        self.ws.send(dict({"type": type_}, **fields))

    def state(self, delegate):
        p = self.roster.get(delegate) or {}
        return p.get("state"), p.get("connected"), p.get("chair_muted"), p.get("bar_reason")

    def ping_ms(self, timeout=5.0):
        key = f"p{time.monotonic_ns()}"
        t0 = time.monotonic()
        self.send("ping", id=key)
        if self.until(lambda c: json.dumps(key) in c.pongs, timeout):
            return (self.pongs[json.dumps(key)] - t0) * 1000
        return None

    def close(self):
        self.ws.close()


def audit_rows(db, meeting):
    """(ms, actor, action, target, detail) rows of the store's audit log."""
    import sqlite3
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("SELECT ms, actor, action, target, detail FROM audit WHERE meeting = ?"
                           " ORDER BY rowid", (meeting,)).fetchall()
    finally:
        con.close()


def read_events(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def rss_kb(pid):
    """VmRSS of a process in KiB, None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def build_dir(repo):
    return os.environ.get("FB_BUILD_DIR") or os.path.join(repo, "build")


def tool(repo, name):
    p = os.path.join(build_dir(repo), name)
    if not os.access(p, os.X_OK):
        raise SystemExit(f"{p} is missing: build first (scripts/build, or FB_BUILD_DIR=...)")
    return p


def end_run(name, rep, br, work, keep, procs=(), tail=25):
    """The common end of a fault test: kill what is left (SIGCONT too, for
    frozen ones), stop the bridge, show its log's tail if anything failed,
    keep or remove the work directory, and return the exit code."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.send_signal(signal.SIGCONT)
            p.wait()
    br.stop()
    if rep.failed():
        print(br.tail(tail), file=sys.stderr)
    if keep:
        print(f"{name}: kept {work}")
    else:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return rep.finish()
