"""What the benchmark sections share: daemons started on temporary
sockets, raw RPC calls, timing helpers, and the figures gathered for
the targets table."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent


REPO = HERE.parents[1]


def log(msg=""):
    print(msg, flush=True)


def pinned(cpu):
    """preexec_fn pinning a child to one CPU (None: no pinning)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def cpu_plan():
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        return cpus[0], cpus[1]
    return None, None


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU seconds every core together has spent busy since boot
    (/proc/stat: all but idle, iowait and steal)."""
    with open("/proc/stat") as f:
        user, nice, system, _, _, irq, softirq = map(
            int, f.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def raw_call(path, method, rid=1, timeout=5.0, params=None):
    """One request on a fresh connection; returns the response body bytes."""
    req = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        req["params"] = params
    body = json.dumps(req, separators=(",", ":")).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(struct.pack(">I", len(body)) + body)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I",
                                                            buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed the connection")
            buf += chunk
        n = struct.unpack(">I", buf[:4])[0]
        return buf[4:4 + n]


def wait_serving(path, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            raw_call(path, "health", timeout=1.0)
            return
        except (OSError, RuntimeError):
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on {path} after {timeout}s")


def stop(proc, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)
        return None


POOL_OFF = {"pool": {"prewarm": False, "size": {
    rt: 0 for rt in ("python", "node", "bun", "deno", "bash")}}}


def start_isol8d(build, tmp, cpu, config=None):
    """config: a dict written as the config file; the built-in defaults
    (warm pool included) otherwise, but for images: unless config names
    its own, the daemon builds none at start (a build would take the CPU
    being measured) and runs on the host's root, as the bare baselines
    do, whatever the host's image store holds."""
    sock = tmp / "isol8.sock"
    argv = [str(build / "isol8d"), "--socket", str(sock)]
    config = dict(config or {})
    config.setdefault("images", {"build": [], "default": "host"})
    (tmp / "config.json").write_text(json.dumps(config))
    argv += ["--config", str(tmp / "config.json")]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))}
    err = open(tmp / "isol8d.stderr", "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err,
                            stderr=err, env=env, preexec_fn=pinned(cpu))
    return serving(proc, sock)


def serving(proc, sock):
    """(proc, sock) once proc serves on sock; proc is stopped if not."""
    try:
        wait_serving(sock, proc)
    except RuntimeError:
        stop(proc)
        raise
    return proc, sock


class SectionDaemon:
    """An isol8d for one section, in a temporary directory of its own
    (pinned to cpu unless None); finish() stops it and gives the
    section's exit status: 0 when isol8d stopped cleanly."""

    def __init__(self, args, config=None, cpu=None):
        self.build = Path(args.build).resolve()
        self.config = config
        self.cpu = cpu
        self.proc = None

    def __enter__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="isol8-bench-", dir="/tmp"))
        try:
            self.proc, self.sock = start_isol8d(self.build, self.tmp,
                                                self.cpu, self.config)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return self

    def ctl(self, *argv):
        return [str(self.build / "isol8ctl"), "--socket", str(self.sock),
                *argv]

    def finish(self):
        rc = stop(self.proc)
        self.proc = None
        return 0 if rc == 0 else 1

    def __exit__(self, *exc):
        stop(self.proc)
        shutil.rmtree(self.tmp, ignore_errors=True)


def build_bench_tool(build, name):
    out = build / name
    src = HERE / f"{name}.c"
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"cannot build {name}:\n{r.stderr}")
    return out


# The boxes' environment: the host's may hold variables that slow an
# interpreter down (NODE_EXTRA_CA_CERTS makes node read a CA bundle).
RUNTIMES_DIR = "/opt/isol8/runtimes"


CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp",
             "LANG": "C.UTF-8"}


def timed(argv, env=None):
    t0 = time.perf_counter()
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=60, env=env)
    dt = (time.perf_counter() - t0) * 1000
    if out.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {out.returncode}: "
                           f"{out.stderr.decode(errors='replace')[-300:]}")
    return dt, out.stdout


def bwrap_argv(cmd):
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "1000",
            "--gid", "1000", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "sbin", "lib", "lib64"):
        if os.path.islink(f"/{link}"):
            argv += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    if os.path.isdir(RUNTIMES_DIR):
        argv += ["--ro-bind", RUNTIMES_DIR, RUNTIMES_DIR]
    argv += ["--ro-bind", "/etc/passwd", "/etc/passwd",
             "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
             "--tmpfs", "/sandbox", "--chdir", "/sandbox",
             "--setenv", "HOME", "/sandbox", "--remount-ro", "/"]
    return argv + cmd


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


HELLO = {
    # runtime: (code, bare argv, expected stdout)
    "python": ("print(1)", ["/usr/bin/python3", "-c", "print(1)"], "1\n"),
    "node": ("console.log(1)", ["/usr/bin/node", "-e", "console.log(1)"],
             "1\n"),
    "bun": ("console.log(1)", ["@/bin/bun", "-e", "console.log(1)"], "1\n"),
    "deno": ("console.log(1)", ["@/bin/deno", "eval", "console.log(1)"],
             "1\n"),
    "bash": ("echo 1", ["/bin/bash", "-c", "echo 1"], "1\n"),
}


def bare_argv(argv):
    return [RUNTIMES_DIR + a[1:] if a.startswith("@") else a for a in argv]


class RpcConnection:
    """One persistent connection for sequential requests."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(60)
        self.s.connect(str(path))
        self.buf = b""
        self.rid = 0

    def call(self, method, params=None):
        self.rid += 1
        req = {"jsonrpc": "2.0", "id": self.rid, "method": method}
        if params is not None:
            req["params"] = params
        body = json.dumps(req, separators=(",", ":")).encode()
        self.s.sendall(struct.pack(">I", len(body)) + body)
        while True:
            while len(self.buf) < 4 or \
                    len(self.buf) < 4 + struct.unpack(">I", self.buf[:4])[0]:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise RuntimeError("isol8d closed the connection")
                self.buf += chunk
            n = struct.unpack(">I", self.buf[:4])[0]
            msg = json.loads(self.buf[4:4 + n])
            self.buf = self.buf[4 + n:]
            if msg.get("id") == self.rid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def close(self):
        self.s.close()


def pool_key(st, runtime):
    return next(k for k in st["keys"] if k["runtime"] == runtime and
                k["seccomp"] == "strict")


def wait_pool_ready(conn, runtime, timeout=10.0):
    """Waits until the runtime's pool has refilled: a box ready and none
    being built, since a box still being built (its interpreter starting)
    would compete with the timed run for the CPUs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        k = pool_key(conn.call("pool.status"), runtime)
        if k["ready"] >= 1 and k["building"] == 0:
            return
        time.sleep(0.002)
    raise RuntimeError(f"the {runtime} pool did not refill in {timeout}s")


# The figures the targets are read from, filled by the sections
# that measure them and printed by print_targets() at the end.
FIGURES = {}
