"""Helpers for driving a real isol8d: starting and stopping it, a raw
JSON-RPC client speaking the length-prefixed frame format, and running
isol8ctl.  Used by conftest.py and the test modules.

Everything here talks only to Unix sockets the tests create themselves."""

import ctypes
import errno
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ISOL8_BUILD") or REPO / "build").resolve()
DEFAULT_CONFIG = Path("/etc/isol8/isol8d.json")
# Runs a program with system calls made to fail with ENOSYS (tests/tools).
WITH_ENOSYS = BUILD / "tests" / "tools" / "with_enosys"

HEADER = struct.Struct(">I")

# Start-up, stop and reply bounds.  Generous: they only end a test that is
# already broken, they are not speed checks.
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
REPLY_TIMEOUT = 5.0

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
)


def asan_build():
    """The ASan+UBSan build directory, or None when there is none."""
    d = os.environ.get("ISOL8_ASAN_BUILD")
    if d and (Path(d) / "isol8d").is_file():
        return Path(d).resolve()
    return None


def short_tmpdir(prefix="isol8-it-"):
    """A directory with a short path: socket paths must fit in 108 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


# --------------------------------------------------------------------------
# Frames and the raw client


def encode_body(body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":"),
                      ensure_ascii=False).encode()


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def parse_strict(body):
    """Parses a frame the daemon sent: it must be UTF-8 and RFC 8259 JSON
    (no NaN or Infinity)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(
            f"the daemon sent invalid UTF-8 ({e}): {body[:300]!r}") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError as e:
        raise AssertionError(
            f"the daemon sent invalid JSON ({e}): {body[:300]!r}") from None


def frame(body):
    b = encode_body(body)
    return HEADER.pack(len(b)) + b


def request(method, id=1, params=None, **extra):
    """A JSON-RPC request object; id=Ellipsis leaves the id out."""
    r = {"jsonrpc": "2.0", "method": method}
    if id is not Ellipsis:
        r["id"] = id
    if params is not None:
        r["params"] = params
    r.update(extra)
    return r


class ConnectionClosed(Exception):
    """The daemon closed the connection (clean EOF)."""


class RpcClient:
    """A blocking raw-socket client; every wait is bounded."""

    def __init__(self, path, timeout=REPLY_TIMEOUT, connect=True):
        self.path = str(path)
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self._buf = b""
        self._next_id = 1
        if connect:
            self.sock.connect(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def fileno(self):
        return self.sock.fileno()

    # -- sending
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, body):
        self.sock.sendall(frame(body))

    def send(self, method, params=None, id=None, **extra):
        if id is None:
            id = self._next_id
            self._next_id += 1
        self.send_frame(request(method, id=id, params=params, **extra))
        return id

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    # -- receiving
    def _fill(self, want, deadline):
        while len(self._buf) < want:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no complete frame from {self.path} within the timeout "
                    f"({len(self._buf)} bytes buffered)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(
                    f"no complete frame from {self.path} within the timeout "
                    f"({len(self._buf)} bytes buffered)") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self._buf:
                    raise ConnectionClosed(
                        f"connection closed inside a frame "
                        f"({len(self._buf)} bytes buffered)")
                raise ConnectionClosed("connection closed by the daemon")
            self._buf += chunk

    def recv_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        self._fill(HEADER.size, deadline)
        (n,) = HEADER.unpack(self._buf[:HEADER.size])
        self._fill(HEADER.size + n, deadline)
        body = self._buf[HEADER.size:HEADER.size + n]
        self._buf = self._buf[HEADER.size + n:]
        return body

    def recv(self, timeout=None):
        body = self.recv_frame(timeout)
        msg = parse_strict(body)
        assert isinstance(msg, dict), f"daemon sent a non-object: {body!r}"
        assert msg.get("jsonrpc") == "2.0", f"not JSON-RPC 2.0: {body!r}"
        return msg

    def call(self, method, params=None, id=None, timeout=None, **extra):
        rid = self.send(method, params=params, id=id, **extra)
        msg = self.recv(timeout)
        assert "id" in msg and msg["id"] == rid, \
            f"expected the answer to id {rid!r}, got {msg!r}"
        return msg

    def result(self, method, params=None, **kw):
        msg = self.call(method, params=params, **kw)
        assert "error" not in msg, f"{method} failed: {msg['error']!r}"
        return msg["result"]

    def expect_eof(self, timeout=None):
        """Waits for the daemon to close; fails if it sends anything."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the daemon did not close the connection")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(
                    "the daemon did not close the connection") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                assert not self._buf, f"unread bytes at EOF: {self._buf!r}"
                return
            self._buf += chunk
            raise AssertionError(
                f"expected EOF, the daemon sent {self._buf[:200]!r}")

    def drain_until_eof(self, timeout=None):
        """Reads and drops whatever the daemon still sends; True when the
        connection then ends within the timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._buf = b""
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
        return False

    def is_closed_by_peer(self, wait=0.0):
        """True when the daemon has closed (EOF readable), without
        consuming frames that are still queued before the EOF."""
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return False
        try:
            data = self.sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except ConnectionResetError:
            return True
        return data == b""


def check_error(msg, code, kind=None, id=None, words=()):
    """Asserts msg is an error response with the given code (and kind, id)
    and that its message is a sentence mentioning every word in words."""
    assert "error" in msg and "result" not in msg, f"not an error: {msg!r}"
    err = msg["error"]
    assert err.get("code") == code, f"expected code {code}, got {msg!r}"
    assert msg.get("id", "missing") == id, f"expected id {id!r}, got {msg!r}"
    text = err.get("message")
    assert isinstance(text, str) and len(text) >= 10, f"terse message: {msg!r}"
    for w in words:
        assert w.lower() in text.lower(), f"{w!r} not in message {text!r}"
    if kind is not None:
        assert isinstance(err.get("data"), dict), f"no error data: {msg!r}"
        assert err["data"].get("kind") == kind, \
            f"expected kind {kind!r}, got {msg!r}"
    return err


# --------------------------------------------------------------------------
# isol8ctl


def run_ctl(*args, socket_path=None, env=None, timeout=15, build=None):
    """Runs isol8ctl [--socket S] ARGS...; returns the CompletedProcess."""
    exe = str((build or BUILD) / "isol8ctl")
    argv = [exe]
    if socket_path is not None:
        argv += ["--socket", str(socket_path)]
    argv += [str(a) for a in args]
    e = {k: v for k, v in os.environ.items() if k != "ISOL8_SOCKET"}
    if env:
        e.update(env)
    return subprocess.run(argv, capture_output=True, text=True, env=e,
                          timeout=timeout, stdin=subprocess.DEVNULL)


# --------------------------------------------------------------------------
# /proc helpers


def pids_with_marker(mark):
    """Live (non-zombie) processes whose command line holds mark."""
    found = []
    needle = mark.encode()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != "Z":
            found.append(int(entry))
    return found


# The spare network namespaces isol8d keeps (NETNS_SPARES, netns.h).
NETNS_SPARES = 4


def daemon_fd_count(pid):
    """isol8d's fds, its network namespaces counted as its own and all the
    spares, which its helper makes in the background and which may be on
    their way (one more is one too many)."""
    base = f"/proc/{pid}/fd"
    nets = others = 0
    for name in os.listdir(base):
        try:
            net = os.readlink(f"{base}/{name}").startswith("net:[")
        except OSError:
            continue
        nets += net
        others += not net
    return others + max(nets, 1 + NETNS_SPARES)


def proc_status_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the full line.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _live_stats():
    """(pid, state, ppid, pgrp) of every process."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(entry), rest[0], int(rest[1]), int(rest[2])


def processes_in_group(pgid):
    """Pids of live (non-zombie) processes whose process group is pgid."""
    return [p for p, state, _, pgrp in _live_stats()
            if pgrp == pgid and state != "Z"]


# isol8d's helpers that make network namespaces and boxes live as
# long as the daemon: they are none of the processes a test counts.
DAEMON_HELPERS = ("isol8d-netns", "isol8d-zygote", "isol8d-forker")


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def _children(pid, names):
    """Pids of pid's children (zombies included) whose name is in names
    (names a tuple) or is not a helper's (names None)."""
    return [p for p, _, ppid, _ in _live_stats()
            if ppid == pid and (_comm(p) in (names or DAEMON_HELPERS)) ==
            (names is not None)]


def children_of(pid):
    """Pids of the processes whose parent is pid (zombies included), but
    for isol8d's helpers."""
    return _children(pid, None)


def zombies_of(d):
    """The daemon's children that ended and were not reaped."""
    return [p for p, state, ppid, _ in _live_stats()
            if ppid == d.pid and state == "Z"]


def daemon_helpers(pid, names=DAEMON_HELPERS):
    """Pids of isol8d pid's helpers among its children: those named in
    names (DAEMON_HELPERS: all)."""
    return _children(pid, names)


def wait_until(pred, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# --------------------------------------------------------------------------
# The notify socket


class NotifyListener:
    """Binds an AF_UNIX datagram socket and collects sd_notify messages."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages = []  # (monotonic time, {KEY: VALUE})
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            fields = {}
            for line in data.decode(errors="replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self._cond:
                self.messages.append((time.monotonic(), fields))
                self._cond.notify_all()

    def wait_for(self, key, value=None, timeout=READY_TIMEOUT, alive=None):
        """Waits for a message setting key (to value); returns its fields.
        alive() returning False ends the wait early."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, f in self.messages:
                    if key in f and (value is None or f[key] == value):
                        return f
                left = deadline - time.monotonic()
                if left <= 0 or (alive is not None and not alive()):
                    return None
                self._cond.wait(min(left, 0.05))

    def all(self, key):
        with self._cond:
            return [(t, f) for t, f in self.messages if key in f]

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


# --------------------------------------------------------------------------
# The daemon


POOL_OFF = {"prewarm": False,
            "size": {rt: 0 for rt in ("python", "node", "bun", "deno",
                                      "bash")}}


_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: SIGTERM when the test run that started it
    dies (killed, or timed out), so that no daemon outlives it."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG,
                                             signal.SIGTERM, 0, 0, 0)


class Daemon:
    """One isol8d process on a temporary socket.

    config: None (the built-in defaults, but for the two below; never a
    file this machine has), a dict (written to a file and passed with
    --config) or a path.

    images.build (the base images a daemon builds at start) is [] unless
    config is a path or sets it, so that no builder runs beside the tests.

    pool: False (the default) turns the warm pool off with a config
    "pool" section, unless config is a path or already has one, so that
    counts of fds, boxes and processes are not moved by boxes being built
    in the background; True leaves the daemon's own defaults.

    wrap: a command line that execs isol8d's, such as WITH_ENOSYS and its
    system calls; the daemon keeps the wrapper's pid."""

    def __init__(self, build=BUILD, config=None, args=(), env=None,
                 sanitized=False, pid_file=False, watchdog_usec=None,
                 workdir=None, notify=True, pool=False, wrap=()):
        self.build = Path(build)
        self.exe = self.build / "isol8d"
        self.dir = Path(workdir) if workdir else short_tmpdir()
        self.socket_path = self.dir / "isol8.sock"
        self.stderr_path = self.dir / "isol8d.stderr"
        self.pid_file = self.dir / "isol8d.pid" if pid_file else None
        self.sanitized = sanitized
        if not pool and (config is None or isinstance(config, dict)) \
                and "pool" not in (config or {}):
            config = dict(config or {}, pool=POOL_OFF)
        if (config is None or isinstance(config, dict)) \
                and "build" not in (config or {}).get("images", {}):
            config = dict(config or {}, images=dict(
                (config or {}).get("images", {}), build=[]))
        if isinstance(config, dict):
            self.config_path = self.dir / "isol8d.json"
            self.config_path.write_text(json.dumps(config))
        else:
            self.config_path = Path(config)
        self.args = list(args)
        self.wrap = [str(w) for w in wrap]
        self.extra_env = dict(env or {})
        self.watchdog_usec = watchdog_usec
        self.notify = NotifyListener(self.dir / "notify.sock") if notify \
            else None
        self.proc = None
        self.returncode = None
        self.stop_seconds = None
        self._stderr_file = None

    # -- life cycle
    def argv(self):
        argv = [str(self.exe), "--socket", str(self.socket_path),
                "--config", str(self.config_path)]
        if self.pid_file is not None:
            argv += ["--pid-file", str(self.pid_file)]
        return argv + self.args

    def environment(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LISTEN_", "WATCHDOG_", "NOTIFY_SOCKET",
                                    "JOURNAL_STREAM", "INVOCATION_ID",
                                    "ASAN_", "UBSAN_"))}
        if self.notify:
            env["NOTIFY_SOCKET"] = self.notify.path
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(self.watchdog_usec)
        if self.sanitized:
            env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
            env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
        env.update(self.extra_env)
        return env

    def start(self, wait=True):
        argv = self.wrap + self.argv()
        if self.watchdog_usec:
            # sd-event only pings when WATCHDOG_PID names the daemon itself;
            # the shell's pid becomes the daemon's through exec.
            argv = ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; '
                    'exec "$0" "$@"'] + argv
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self._stderr_file,
            stderr=self._stderr_file, env=self.environment(),
            start_new_session=True, close_fds=True,
            preexec_fn=_die_with_parent)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        assert self.notify, "readiness needs the notify socket"
        f = self.notify.wait_for("READY", "1", timeout,
                                 alive=lambda: self.proc.poll() is None)
        if f is None:
            rc = self.proc.poll()
            self.kill()
            raise AssertionError(
                f"isol8d did not report READY=1 within {timeout}s "
                f"(exit status {rc}); stderr:\n{self.stderr()}")
        return f

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signals the daemon and waits (bounded); returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            t0 = time.monotonic()
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"isol8d did not exit within {timeout}s of "
                    f"{signal.Signals(sig).name}; stderr:\n{self.stderr()}")
            self.stop_seconds = time.monotonic() - t0
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        """Last resort: SIGKILL the daemon's whole process group."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        """Releases everything; safe to call more than once."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        for pid in processes_in_group(self.proc.pid) if self.proc else []:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.notify:
            self.notify.close()
            self.notify = None
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None

    def cleanup_dir(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- checks
    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def assert_no_sanitizer_report(self):
        text = self.stderr()
        for marker in SANITIZER_MARKERS:
            assert marker not in text, \
                f"sanitizer report in isol8d's stderr:\n{text[-6000:]}"

    def cgroup_dirs(self):
        """The isol8d-<pid> directories the daemon made for its boxes'
        cgroups, on every hierarchy."""
        try:
            return sorted(daemon_cgroup_dirs(self.pid).values())
        except OSError:  # the daemon is gone
            return []

    def assert_clean_exit(self, sig=signal.SIGTERM):
        cgroups = self.cgroup_dirs()
        rc = self.stop(sig)
        assert rc == 0, \
            f"isol8d exited with {rc} after {signal.Signals(sig).name}; " \
            f"stderr:\n{self.stderr()[-4000:]}"
        wait_until(lambda: not processes_in_group(self.pid), 2.0)
        left = processes_in_group(self.pid)
        assert not left, f"processes left behind by isol8d: {left}"
        left = [d for d in cgroups if os.path.exists(d)]
        assert not left, f"cgroups left behind by isol8d: {left}"
        assert not self.socket_path.exists(), \
            f"socket file {self.socket_path} left behind"
        if self.pid_file is not None:
            assert not self.pid_file.exists(), "pid file left behind"
        self.assert_no_sanitizer_report()

    # -- conveniences
    def client(self, **kw):
        return RpcClient(self.socket_path, **kw)

    def health(self):
        with self.client() as c:
            r = c.result("health")
        assert r["status"] == "ok", r
        return r

    def fd_count(self):
        return daemon_fd_count(self.pid)

    def baseline_fds(self, timeout=3.0):
        """The daemon's fd count with no client connected, measured once it
        has served one (sd-event creates its timerfd lazily)."""
        with self.client() as c:
            r = c.result("health")
            with_one = self.fd_count()
        assert r["connections"] == 1, \
            f"{r['connections']} connections open, expected only this one"
        assert wait_until(lambda: self.fd_count() == with_one - 1, timeout), \
            "the daemon did not close a finished connection"
        return with_one - 1

    def assert_fds_back_to(self, base, timeout=3.0):
        ok = wait_until(lambda: self.fd_count() == base, timeout)
        assert ok, f"isol8d holds {self.fd_count()} fds, {base} at the " \
            f"start: {sorted(os.listdir(f'/proc/{self.pid}/fd'), key=int)}"

    def rss_kb(self):
        return proc_status_kb(self.pid, "VmRSS")

    def cpu_seconds(self):
        return proc_cpu_seconds(self.pid)

    def ctl(self, *args, **kw):
        return run_ctl(*args, socket_path=self.socket_path, **kw)


V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer")


def daemon_cgroup_dirs(pid):
    """{hierarchy: directory} of the isol8d-<pid> cgroups in which the
    daemon makes its boxes' cgroups: below its own cgroup on each v1
    controller's hierarchy (v1 and hybrid hosts), or on v2 the parent of
    the "daemon" leaf it moves itself into, which is what /proc shows.
    A live daemon always has one: finding none fails the caller, so a leak
    check cannot pass by looking in the wrong place."""
    dirs = {}
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [ln.rstrip("\n").split(":", 2) for ln in f]
    for hid, ctls, path in lines:
        path = path.rstrip("/")
        for ctl in set(ctls.split(",")) & set(V1_CONTROLLERS):
            d = f"/sys/fs/cgroup/{ctl}{path}/isol8d-{pid}"
            if os.path.isdir(d):
                dirs[ctl] = d
    for hid, ctls, path in lines:
        leaf = f"/isol8d-{pid}/daemon"
        if hid == "0" and not ctls and not dirs and path.endswith(leaf):
            d = "/sys/fs/cgroup" + path[:-len("/daemon")]
            if os.path.isdir(d):
                dirs["unified"] = d
    assert dirs, f"no isol8d-{pid} cgroup found for /proc/{pid}/cgroup:\n" \
        + "\n".join(":".join(ln) for ln in lines)
    return dirs


def box_cgroups(dirs):
    """{hierarchy: sorted box cgroups} below each of daemon_cgroup_dirs
    (on v2 the "daemon" leaf, where the daemon itself sits, is no box)."""
    out = {}
    for ctl, d in dirs.items():
        found = []
        for root, subdirs, _ in os.walk(d):
            for s in subdirs:
                rel = os.path.relpath(os.path.join(root, s), d)
                if ctl == "unified" and rel == "daemon":
                    continue
                found.append(rel)
        out[ctl] = sorted(found)
    return out


def assert_serving(daemon, *open_clients):
    """The daemon answers health on a fresh connection and on each client
    that was connected before."""
    for c in open_clients:
        r = c.result("health")
        assert r["status"] == "ok"
    daemon.health()


def isol8d_version(build=BUILD):
    out = subprocess.run([str(Path(build) / "isol8d"), "--version"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out
    return out.stdout.split()[-1]


def nonblocking_fill(sock, data_iter, max_bytes, stall_seconds=0.5,
                     deadline_seconds=10.0):
    """Writes chunks from data_iter to a non-blocking socket until the peer
    stops reading (no progress for stall_seconds), max_bytes were written
    or the deadline passes.  Returns (bytes written, stalled?)."""
    sock.setblocking(False)
    sent = 0
    pending = b""
    last_progress = time.monotonic()
    end = last_progress + deadline_seconds
    while sent < max_bytes and time.monotonic() < end:
        if not pending:
            pending = next(data_iter)
        try:
            n = sock.send(pending)
        except BlockingIOError:
            if time.monotonic() - last_progress >= stall_seconds:
                return sent, True
            select.select([], [sock], [], 0.05)
            continue
        except OSError as e:
            if e.errno in (errno.EPIPE, errno.ECONNRESET):
                return sent, True
            raise
        sent += n
        pending = pending[n:]
        last_progress = time.monotonic()
    return sent, False
