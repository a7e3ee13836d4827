#!/usr/bin/python3
"""Benchmarks of isol8d, each section printing figures measured in one run
together with a baseline measured in the same run.

    run.py --build DIR [--only SECTION[,SECTION]] [--seconds S] [--repeat N]
           [--profile] [--json FILE]

Sections:
  rpc   requests/s of `health` over one connection and over 50 concurrent
        connections, from the raw-socket load client (rpc_load.c), against
        a minimal epoll server that answers frames of the same size with no
        JSON work (the baseline; see rpc_load.c).  ratio = isol8d/baseline.

  exec  cold ephemeral executions end to end through isol8ctl (a fresh box
        each, the warm pool off: bash -c true, which is nearly all box
        creation, python print(1), bash echo hi, node)
        against the bare interpreter and against bubblewrap with comparable
        isolation (new user, mount, pid, net, ipc and uts namespaces,
        read-only /usr, tmpfs /sandbox and /tmp, fresh /proc and /dev, uid
        1000, no capabilities), all measured in the same run, alternating.

  latency  warm runs (the built-in pool) of a hello world in each runtime,
        p50 and p99, through isol8ctl and through a raw RPC client on one
        connection, each paired in the same run with the bare host
        interpreter and with bubblewrap; the pool is let refill before
        each warm run (outside the timing).

  loop  back-to-back runs (no pause between them, as hyperfine or a shell
        loop runs them): `isol8ctl health` against /bin/true, and python
        and bash hellos through isol8ctl against the bare interpreter and
        bubblewrap, with the share of runs the pool served.

  throughput  hello-world python runs per second at concurrency 1, 4 and
        16 (--seconds each, default 5 here), raw RPC clients against the
        built-in pool, and the bare interpreter run the same way; also the
        share of runs the pool served.

  memory  the memory of idle pooled boxes against the bare interpreter.

  session  a python hello in an existing session against bare
        `python3 -c pass`; file.put then file.get of 1 MiB from a C client
        (file_rtt.c) against the same frames answered by a process that
        does nothing else.

  bridge  the HTTP bridge (isol8ctl serve) in front of the same isol8d:
        POST /execute of a python hello on a kept-alive HTTP connection
        against the same execute over the Unix socket, alternating, the
        pool refilled before each run; and GET /health per second from a
        bounded wrk run (2 threads, 32 connections) against `health` over
        the Unix socket from rpc_load (32 connections).

  network  filtered networking through the daemon's proxy, against
        servers started here on 127.0.0.2 (openssl s_server for HTTPS
        with a test CA, python's http.server for plain HTTP): a 100 MB
        HTTPS download by curl in a filtered box against the same curl
        on the host going direct, in DOWNLOAD_PAIRS alternating pairs
        (the ratio is the median of the pairs' ratios, so that a slow
        spell of the machine hits both sides of a pair); the latency a request gains through
        the proxy (python urllib, a small file, N requests in a filtered
        box against the same loop on the host); and how long a python
        hello takes to run in a filtered box against a `none` box, both
        from the warm pool, alternating.

  client  what isol8ctl itself costs: `isol8ctl --help`, `isol8ctl
        health` and a bash hello (`isol8ctl run -r bash -e 'echo hi'`,
        the pool refilled before each, outside the timing) against
        /bin/true, in alternating rounds, each started with posix_spawn;
        p50 and p90 in ms, and each p50's difference from /bin/true's.

Each section starts its own isol8d on a temporary socket and stops it.
At the end every speed target of the project is printed beside the
figure measured for it (or why there is none).
Speed targets are read from this output; nothing here fails on a figure."""

import argparse
import contextlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# Processes


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
    (warm pool included) otherwise."""
    sock = tmp / "isol8.sock"
    argv = [str(build / "isol8d"), "--socket", str(sock)]
    if config is not None or Path("/etc/isol8/isol8d.json").exists():
        (tmp / "config.json").write_text(json.dumps(config or {}))
        argv += ["--config", str(tmp / "config.json")]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))}
    err = open(tmp / "isol8d.stderr", "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err,
                            stderr=err, env=env, preexec_fn=pinned(cpu))
    try:
        wait_serving(sock, proc)
    except RuntimeError:
        stop(proc)
        raise
    return proc, sock


class SectionDaemon:
    """An isol8d for one section, in a temporary directory of its own;
    finish() stops it and gives the section's exit status: 0 when isol8d
    stopped cleanly."""

    def __init__(self, args, config=None):
        self.build = Path(args.build).resolve()
        self.config = config
        self.proc = None

    def __enter__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="isol8-bench-", dir="/tmp"))
        try:
            self.proc, self.sock = start_isol8d(self.build, self.tmp, None,
                                                self.config)
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


def start_baseline(rpc_load, tmp, reply_file, cpu):
    sock = tmp / "baseline.sock"
    proc = subprocess.Popen([str(rpc_load), "--serve", str(sock),
                             "--reply-file", str(reply_file)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=pinned(cpu))
    try:
        wait_serving(sock, proc)
    except RuntimeError:
        stop(proc)
        raise
    return proc, sock


def run_load(rpc_load, sock, conns, window, seconds, warmup, cpu):
    """Runs the load client; its figures plus client_cpu, the share of one
    CPU the client itself used (near 1.0: the client is the limit)."""
    ru0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = subprocess.run(
        [str(rpc_load), "--socket", str(sock), "-c", str(conns),
         "-w", str(window), "-d", str(seconds), "--warmup", str(warmup)],
        capture_output=True, text=True, timeout=seconds + warmup + 30,
        preexec_fn=pinned(cpu))
    if out.returncode != 0:
        raise RuntimeError(f"rpc_load failed ({out.returncode}): "
                           f"{out.stderr.strip() or out.stdout.strip()}")
    ru1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), \
        time.monotonic() - t0
    fields = dict(kv.split("=", 1) for kv in out.stdout.split())
    r = {k: float(v) for k, v in fields.items()}
    r["client_cpu"] = (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime -
                       ru0.ru_stime) / wall
    return r


# --------------------------------------------------------------------------
# Profiling


def perf_profile(pid, seconds, tmp):
    """perf record -g on pid for seconds; returns the report's top lines
    or the reason it did not work."""
    perf = shutil.which("perf")
    if not perf:
        return None, "perf is not installed"
    data = tmp / "perf.data"
    rec = subprocess.Popen(
        [perf, "record", "-q", "-F", "1999", "-g", "-p", str(pid),
         "-o", str(data), "--", "sleep", str(seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return rec, data


def perf_report(rec, data):
    perf = shutil.which("perf")
    try:
        _, err = rec.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        rec.kill()
        return "perf record did not finish"
    if rec.returncode != 0 or not data.exists():
        return f"perf record failed: {err.strip()[-500:]}"
    lines = []
    for sort, title in (("dso", "by object"), ("dso,sym", "by function")):
        rep = subprocess.run(
            [perf, "report", "-i", str(data), "--stdio", "--no-children",
             "-g", "none", "--percent-limit", "1.5", "--sort", sort],
            capture_output=True, text=True, timeout=120)
        if rep.returncode != 0:
            return f"perf report failed: {rep.stderr.strip()[-500:]}"
        lines.append(f"  self time {title} (entries >= 1.5%):")
        lines += ["    " + ln.strip() for ln in rep.stdout.splitlines()
                  if ln.strip() and not ln.startswith("#")][:25]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Sections


RPC_SCENARIOS = [
    # (label, connections, requests in flight per connection)
    ("1 connection, 1 in flight", 1, 1),
    ("1 connection, 64 pipelined", 1, 64),
    ("50 connections, 1 in flight each", 50, 1),
    ("50 connections, 16 pipelined each", 50, 16),
]


def median_run(runs):
    """The run with the median requests/s (errors summed over all)."""
    runs = sorted(runs, key=lambda r: r["rps"])
    m = dict(runs[len(runs) // 2])
    m["errors"] = sum(r["errors"] for r in runs)
    m["bad"] = sum(r["bad"] for r in runs)
    m["all_rps"] = [r["rps"] for r in runs]
    return m


def build_bench_tool(build, name):
    out = build / name
    src = HERE / f"{name}.c"
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"cannot build {name}:\n{r.stderr}")
    return out


def section_rpc(args):
    build = Path(args.build).resolve()
    rpc_load = build_bench_tool(build, "rpc_load")
    server_cpu, client_cpu = cpu_plan()
    tmp = Path(tempfile.mkdtemp(prefix="isol8-bench-", dir="/tmp"))
    daemon = baseline = None
    results = []
    profile = None
    try:
        daemon, dsock = start_isol8d(build, tmp, server_cpu)
        body = raw_call(dsock, "health", rid=1)
        template = body.replace(b'"id":1,', b'"id":@ID@,', 1)
        if b"@ID@" not in template:
            raise RuntimeError(f"unexpected health answer: {body[:200]!r}")
        (tmp / "reply.json").write_bytes(template)
        baseline, bsock = start_baseline(rpc_load, tmp, tmp / "reply.json",
                                         server_cpu)
        log("== rpc: health requests/s, isol8d against a minimal epoll "
            "server (baseline) ==")
        if server_cpu is None:
            log("   one CPU only: server and load client share it")
        else:
            log(f"   server pinned to CPU {server_cpu}, load client to CPU "
                f"{client_cpu}")
        log(f"   {args.seconds}s per run after {args.warmup}s warm-up; median "
            f"of {args.repeat} alternating runs per server")
        req_len = len(b'{"jsonrpc":"2.0","id":1,"method":"health"}')
        log(f"   frames: request {req_len} bytes, health answer {len(body)} "
            f"bytes (+4-byte headers; both grow with the id)")
        log()
        hdr = (f"   {'scenario':34} {'isol8d req/s':>12} {'baseline':>10} "
               f"{'ratio':>6} {'isol8d CPU':>10} {'client CPU':>10} "
               f"{'p50 us':>7} {'p99 us':>7}")
        log(hdr)
        for label, conns, window in RPC_SCENARIOS:
            # Alternating runs, median of each: a neighbour's burst of CPU
            # use then skews one sample, not the figure.
            ds, bs = [], []
            for _ in range(args.repeat):
                cpu0, t0 = proc_cpu_seconds(daemon.pid), time.monotonic()
                r = run_load(rpc_load, dsock, conns, window, args.seconds,
                             args.warmup, client_cpu)
                r["server_cpu"] = (proc_cpu_seconds(daemon.pid) - cpu0) / \
                    (time.monotonic() - t0)
                ds.append(r)
                bs.append(run_load(rpc_load, bsock, conns, window,
                                   args.seconds, args.warmup, client_cpu))
            d, b = median_run(ds), median_run(bs)
            cpu = d["server_cpu"]
            ratio = d["rps"] / b["rps"] if b["rps"] else float("nan")
            results.append({"scenario": label, "connections": conns,
                            "window": window, "isol8d_rps": d["rps"],
                            "baseline_rps": b["rps"], "ratio": ratio,
                            "isol8d_cpu": cpu, "p50_us": d["p50_us"],
                            "p99_us": d["p99_us"],
                            "client_cpu": d["client_cpu"],
                            "baseline_client_cpu": b["client_cpu"],
                            "isol8d_runs": d["all_rps"],
                            "baseline_runs": b["all_rps"],
                            "errors": d["errors"] + d["bad"]})
            client = f"{d['client_cpu']:.0%}/{b['client_cpu']:.0%}"
            log(f"   {label:34} {d['rps']:12,.0f} {b['rps']:10,.0f} "
                f"{ratio:6.2f} {cpu:10.0%} {client:>10} "
                f"{d['p50_us']:7.1f} {d['p99_us']:7.1f}")
            if d["errors"] or d["bad"]:
                log(f"   !! {d['errors']:.0f} error answers, {d['bad']:.0f} "
                    f"unmatched ids from isol8d")
        log()
        log("   ratio = isol8d / baseline.  isol8d CPU: its CPU time over the "
            "run's wall time\n"
            "   (100% = the one core it runs on is saturated).  client CPU: "
            "the load client's,\n"
            "   against isol8d / against the baseline; near 100% the client, "
            "not the server,\n"
            "   sets the figure (then the baseline is a lower bound of that "
            "server's speed).\n"
            "   p50/p99: isol8d's request latency as the client saw it.")
        if args.profile:
            # A separate run: perf itself would skew the figures above.
            rec, data = perf_profile(daemon.pid, args.seconds, tmp)
            if rec is None:
                profile = data
            else:
                run_load(rpc_load, dsock, 50, 16, args.seconds,
                         args.warmup, client_cpu)
                profile = perf_report(rec, data)
            log()
            log("   profile of isol8d under 50 connections x 16 pipelined "
                "(perf record -g, separate run):")
            log(profile)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        rc = stop(daemon)
        daemon = None
        if rc != 0:
            log(f"   !! isol8d exited with {rc} after SIGTERM")
            return 1
        return 0
    finally:
        stop(daemon)
        stop(baseline)
        shutil.rmtree(tmp, ignore_errors=True)


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


EXEC_CASES = [
    # (label, bare argv, isol8ctl run args, expected stdout)
    # The smallest run: what making the box costs, nearly alone.
    ("box: bash -c true", ["/bin/bash", "-c", "true"], ["--cmd", "true"],
     b""),
    ("python print(1)", ["/usr/bin/python3", "-c", "print(1)"],
     ["-r", "python", "-e", "print(1)"], b"1\n"),
    ("bash echo hi", ["/bin/bash", "-c", "echo hi"],
     ["-r", "bash", "-e", "echo hi"], b"hi\n"),
    ("node console.log(1)", ["/usr/bin/node", "-e", "console.log(1)"],
     ["-r", "node", "-e", "console.log(1)"], b"1\n"),
]


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def section_exec(args):
    have_bwrap = shutil.which("bwrap") is not None
    n = max(10, int(args.seconds * 10))
    with SectionDaemon(args, POOL_OFF) as isol8d:
        ctl = isol8d.ctl("run")
        log("== exec: cold ephemeral runs end to end, against the bare "
            "interpreter and bubblewrap ==")
        log(f"   {n} alternating runs each; wall time of the whole client "
            "command, in ms")
        # What starting any program costs this harness, so that absolute
        # figures can be read without it.
        spawn = pct([timed(["/bin/true"], CLEAN_ENV)[0]
                     for _ in range(n)], .5)
        log(f"   starting /bin/true from this harness: {spawn:.1f} ms (p50); "
            "'isol8 net' is isol8 p50 minus that")
        log()
        log(f"   {'case':22} {'bare p50':>9} {'bwrap p50':>10} "
            f"{'isol8 p50':>10} {'isol8 p90':>10} {'isol8 net':>10} "
            f"{'- bare':>8} {'/ bwrap':>8}")
        for label, bare, run_args, want in EXEC_CASES:
            for _ in range(2):  # warm the page cache for all three
                timed(bare, CLEAN_ENV)
                timed(ctl + run_args)
                if have_bwrap:
                    timed(bwrap_argv(bare), CLEAN_ENV)
            tb, tw, ti = [], [], []
            for _ in range(n):
                dt, out = timed(bare, CLEAN_ENV)
                tb.append(dt)
                dt, out = timed(ctl + run_args)
                if out != want:
                    raise RuntimeError(f"{label}: isol8ctl printed {out!r}")
                ti.append(dt)
                if have_bwrap:
                    dt, out = timed(bwrap_argv(bare), CLEAN_ENV)
                    tw.append(dt)
            b50, i50, i90 = pct(tb, .5), pct(ti, .5), pct(ti, .9)
            w50 = pct(tw, .5) if tw else float("nan")
            log(f"   {label:22} {b50:9.1f} {w50:10.1f} {i50:10.1f} "
                f"{i90:10.1f} {i50 - spawn:10.1f} {i50 - b50:+8.1f} "
                f"{i50 / w50:8.2f}")
        log()
        log("   - bare: isol8's added cost in ms (p50).  / bwrap: below 1.00 "
            "isol8 is faster.\n"
            "   isol8 also sets up cgroup limits and a seccomp filter that the "
            "bwrap run lacks.")
        return isol8d.finish()


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        k = pool_key(conn.call("pool.status"), runtime)
        if k["ready"] >= 1:
            return
        time.sleep(0.002)
    raise RuntimeError(f"the {runtime} pool did not refill in {timeout}s")


def section_latency(args):
    have_bwrap = shutil.which("bwrap") is not None
    n = max(20, int(args.seconds * 20))
    with SectionDaemon(args) as isol8d, \
            contextlib.closing(RpcConnection(isol8d.sock)) as conn:
        ctl = isol8d.ctl("run")
        log("== latency: warm runs (built-in pool) against the bare "
            "interpreter and bubblewrap ==")
        log(f"   {n} alternating runs each, in ms; 'ctl' is the whole "
            "isol8ctl command, 'rpc' one execute on an open connection")
        log()
        log(f"   {'runtime':8} {'bare p50':>9} {'bwrap p50':>10} "
            f"{'ctl p50':>8} {'ctl p99':>8} {'rpc p50':>8} {'rpc p99':>8} "
            f"{'ctl/bare':>9} {'rpc/bare':>9} {'rpc/bwrap':>10} {'hits':>6}")
        figures = {}
        for rt, (code, bare, want) in HELLO.items():
            bare = bare_argv(bare)
            params = {"request": {"code": code, "runtime": rt}}
            hits0 = pool_key(conn.call("pool.status"), rt)["hits"]
            tb, tw, tc, tr = [], [], [], []
            for i in range(n + 2):
                dt_b, _ = timed(bare, CLEAN_ENV)
                dt_w = timed(bwrap_argv(bare), CLEAN_ENV)[0] \
                    if have_bwrap else float("nan")
                wait_pool_ready(conn, rt)
                dt_c, out = timed(ctl + ["-r", rt, "-e", code])
                if out.decode() != want:
                    raise RuntimeError(f"{rt}: isol8ctl printed {out!r}")
                wait_pool_ready(conn, rt)
                t0 = time.perf_counter()
                r = conn.call("execute", params)
                dt_r = (time.perf_counter() - t0) * 1000
                if r["stdout"] != want:
                    raise RuntimeError(f"{rt}: execute gave {r!r}")
                if i >= 2:  # the first two warm the page cache
                    tb.append(dt_b)
                    tw.append(dt_w)
                    tc.append(dt_c)
                    tr.append(dt_r)
            hits = pool_key(conn.call("pool.status"), rt)["hits"] - hits0
            b50, w50 = pct(tb, .5), pct(tw, .5)
            c50, c99, r50, r99 = (pct(tc, .5), pct(tc, .99), pct(tr, .5),
                                  pct(tr, .99))
            figures[rt] = {"bare": b50, "bwrap": w50, "ctl50": c50,
                           "ctl99": c99, "rpc50": r50, "rpc99": r99}
            FIGURES[f"latency_{rt}"] = figures[rt]
            log(f"   {rt:8} {b50:9.1f} {w50:10.1f} {c50:8.1f} {c99:8.1f} "
                f"{r50:8.1f} {r99:8.1f} {c50 / b50:9.2f} {r50 / b50:9.2f} "
                f"{r50 / w50:10.2f} {hits:>3}/{2 * (n + 2)}")
        log()
        log("   ratios are p50 / p50: below 1.00 the sandboxed run finishes "
            "sooner.  hits: runs the pool served.")
        conn.close()
        return isol8d.finish()


def _run_for(seconds, worker, concurrency):
    """Runs worker() in concurrency threads until seconds have passed;
    returns the number of completed calls."""
    import threading
    done = [0] * concurrency
    stop_at = time.monotonic() + seconds
    errors = []

    def loop(i):
        try:
            w = worker()
            while time.monotonic() < stop_at:
                w()
                done[i] += 1
        except Exception as e:  # reported, the section then fails
            errors.append(e)

    threads = [threading.Thread(target=loop, args=(i,))
               for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a worker failed: {errors[0]}")
    return sum(done)


def section_throughput(args):
    seconds = args.seconds if args.seconds_given else 5.0
    code, bare, want = HELLO["python"]
    with SectionDaemon(args) as isol8d:
        sock = isol8d.sock
        log(f"== throughput: python hello-world runs/s, {seconds:g} s per "
            "concurrency, raw RPC clients, built-in pool ==")
        log()
        log(f"   {'concurrency':>11} {'bare/s':>8} {'isol8/s':>8} "
            f"{'isol8/bare':>11} {'pool hits':>10}")

        def bare_worker():
            def one():
                subprocess.run(bare, stdin=subprocess.DEVNULL,
                               capture_output=True, env=CLEAN_ENV,
                               check=True)
            return one

        def isol8_worker():
            conn = RpcConnection(sock)
            params = {"request": {"code": code, "runtime": "python"}}

            def one():
                r = conn.call("execute", params)
                if r["stdout"] != want:
                    raise RuntimeError(f"execute gave {r!r}")
            return one

        status = RpcConnection(sock)
        for conc in (1, 4, 16):
            nb = _run_for(seconds, bare_worker, conc)
            time.sleep(1.0)  # let the pool refill
            k0 = pool_key(status.call("pool.status"), "python")
            ni = _run_for(seconds, isol8_worker, conc)
            k1 = pool_key(status.call("pool.status"), "python")
            hits = k1["hits"] - k0["hits"]
            FIGURES[f"throughput_{conc}"] = {"bare": nb / seconds,
                                             "isol8": ni / seconds}
            log(f"   {conc:11} {nb / seconds:8.1f} {ni / seconds:8.1f} "
                f"{ni / max(nb, 1):11.2f} {hits:>5}/{ni}")
            time.sleep(1.0)
        status.close()
        log()
        log("   the pool's size is the built-in default; runs it cannot "
            "serve get a fresh box")
        return isol8d.finish()


# --------------------------------------------------------------------------
# Back-to-back loops (the way a script runs one run after another)

# The figures the targets are read from, filled by the sections
# that measure them and printed by print_targets() at the end.
FIGURES = {}

LOOP_CASES = [
    # (runtime, isol8ctl run args, bare argv, expected stdout)
    ("python", ["-r", "python", "-e", "print(1)"],
     ["/usr/bin/python3", "-c", "print(1)"], b"1\n"),
    ("bash", ["-r", "bash", "-e", "echo 1"], ["/bin/bash", "-c", "echo 1"],
     b"1\n"),
]


def back_to_back(argv, n, want=None, env=None):
    """Runs argv n times with no pause between runs; the wall times in ms."""
    times = []
    for _ in range(n):
        dt, out = timed(argv, env)
        if want is not None and out != want:
            raise RuntimeError(f"{argv[0]} printed {out!r}")
        times.append(dt)
    return times


def _target_rows():
    """(target, figure text or None, met) per speed target, from
    FIGURES; None: the section measuring it did not run."""
    f = FIGURES
    rows = []
    h = f.get("health_minus_true")
    rows.append(("isol8ctl health within 1.5 ms of /bin/true (loop)",
                 None if h is None else f"+{h:.2f} ms", h is not None and
                 h <= 1.5))
    b = f.get("loop_bash")
    rows.append(("bash hello through isol8ctl < 4 ms p50 (loop)",
                 None if b is None else f"{b['ctl']:.1f} ms, hits "
                 f"{100 * b['hit_rate']:.0f}%", b is not None and
                 b["ctl"] < 4))
    p = f.get("loop_python")
    rows.append(("warm python via isol8ctl <= 0.4x bare p50 (loop)",
                 None if p is None else
                 f"{p['ctl'] / p['bare']:.2f}x ({p['ctl']:.1f} / "
                 f"{p['bare']:.1f} ms), hits {100 * p['hit_rate']:.0f}%",
                 p is not None and p["ctl"] <= 0.4 * p["bare"]))
    t = f.get("throughput_4")
    rows.append((">= 300 python hellos/s at concurrency 4, raw RPC",
                 None if t is None else f"{t['isol8']:.0f}/s",
                 t is not None and t["isol8"] >= 300))
    rows.append((">= 3x a bare python loop at concurrency 4",
                 None if t is None else
                 f"{t['isol8'] / max(t['bare'], 1e-9):.2f}x",
                 t is not None and t["isol8"] >= 3 * t["bare"]))
    r = f.get("latency_python")
    rows.append(("raw-RPC warm python p50 < 3 ms (latency)",
                 None if r is None else f"{r['rpc50']:.1f} ms",
                 r is not None and r["rpc50"] < 3))
    for rt in ("bun", "deno"):
        r = f.get(f"latency_{rt}")
        rows.append((f"{rt} warm via isol8ctl <= 0.5x bare start (latency)",
                     None if r is None else
                     f"{r['ctl50'] / r['bare']:.2f}x ({r['ctl50']:.1f} / "
                     f"{r['bare']:.1f} ms)",
                     r is not None and r["ctl50"] <= 0.5 * r["bare"]))
    return rows


def print_targets():
    log()
    log("== targets: each beside the figure measured for it in this run ==")
    for target, figure, met in _target_rows():
        mark = "--" if figure is None else ("met" if met else "NOT met")
        log(f"   {target:52} {figure or 'not measured':32} {mark}")


def section_loop(args):
    """The issue's back-to-back figures: each command run n times in a row
    without pause (as hyperfine or a shell loop does), isol8ctl against
    the bare interpreter and bubblewrap, with the share of runs the pool
    served."""
    have_bwrap = shutil.which("bwrap") is not None
    n = max(50, int(args.seconds * 50))
    warm = 20
    with SectionDaemon(args) as isol8d, \
            contextlib.closing(RpcConnection(isol8d.sock)) as conn:
        log("== loop: back-to-back runs through isol8ctl (built-in pool), "
            "against the bare command and bubblewrap ==")
        log(f"   {n} runs in a row each after {warm} unmeasured ones, no "
            "pause between runs; wall ms of the whole command")
        log()
        true50 = pct(back_to_back(["/bin/true"], n, env=CLEAN_ENV), .5)
        health = back_to_back(isol8d.ctl("health"), n)
        h50 = pct(health, .5)
        FIGURES["health_minus_true"] = h50 - true50
        log(f"   /bin/true p50 {true50:.2f}, isol8ctl health p50 {h50:.2f} "
            f"(+{h50 - true50:.2f})")
        log()
        log(f"   {'runtime':8} {'bare p50':>9} {'bwrap p50':>10} "
            f"{'ctl p50':>8} {'ctl p90':>8} {'ctl/bare':>9} "
            f"{'ctl/bwrap':>10} {'hits':>10}")
        for rt, run_args, bare, want in LOOP_CASES:
            ctl = isol8d.ctl("run", *run_args)
            back_to_back(bare, warm, want, CLEAN_ENV)
            tb = back_to_back(bare, n, want, CLEAN_ENV)
            tw = [float("nan")]
            if have_bwrap:
                back_to_back(bwrap_argv(bare), warm, want, CLEAN_ENV)
                tw = back_to_back(bwrap_argv(bare), n, want, CLEAN_ENV)
            back_to_back(ctl, warm, want)
            k0 = pool_key(conn.call("pool.status"), rt)
            tc = back_to_back(ctl, n, want)
            k1 = pool_key(conn.call("pool.status"), rt)
            hits = k1["hits"] - k0["hits"]
            b50, w50, c50 = pct(tb, .5), pct(tw, .5), pct(tc, .5)
            FIGURES[f"loop_{rt}"] = {"bare": b50, "bwrap": w50, "ctl": c50,
                                     "hit_rate": hits / n}
            log(f"   {rt:8} {b50:9.1f} {w50:10.1f} {c50:8.1f} "
                f"{pct(tc, .9):8.1f} {c50 / b50:9.2f} {c50 / w50:10.2f} "
                f"{hits:>4}/{n} ({100 * hits / n:.0f}%)")
            log(f"   {'':8} pool after: target {k1.get('target', '-')}, "
                f"ready {k1['ready']}, building {k1['building']}")
        log()
        log("   hits: the runs the pool served, from pool.status.")
        return isol8d.finish()


WAITING = {
    # runtime: a bare interpreter waiting on stdin, as a pooled one does
    "python": ["/usr/bin/python3", "-c", "import sys; sys.stdin.read()"],
    "node": ["/usr/bin/node", "-e", "process.stdin.on('data', () => {})"],
    "bash": ["/bin/bash", "-c", "read -r x"],
}


def pss_kib(pid):
    """Proportional set size of a process: shared pages split among their
    users, so that summing over processes does not count them twice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def box_memory(cg):
    """(cgroup charge, PSS of its processes, name of the interpreter) of
    one box cgroup, in MiB."""
    usage = next((cg / f for f in ("memory.current", "memory.usage_in_bytes")
                  if (cg / f).exists()), None)
    charge = int(usage.read_text()) / 2**20 if usage else float("nan")
    pids = [int(p) for p in (cg / "cgroup.procs").read_text().split()]
    names = []
    for pid in pids:
        try:
            names.append(Path(os.readlink(f"/proc/{pid}/exe")).name)
        except OSError:
            pass
    pss = sum(pss_kib(pid) for pid in pids) / 1024
    return charge, pss, names


def section_memory(args):
    sizes = {"python": 3, "node": 2, "bun": 1, "deno": 1, "bash": 2}
    config = {"pool": {"size": sizes,
                       "maxBoxes": sum(sizes.values())}}
    with SectionDaemon(args, config) as isol8d, \
            contextlib.closing(RpcConnection(isol8d.sock)) as conn:
        log("== memory: idle pooled boxes against a bare interpreter "
            "waiting on stdin ==")
        deadline = time.monotonic() + 30
        while True:
            st = conn.call("pool.status")
            if all(k["ready"] == k["size"] for k in st["keys"]):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the pool did not fill: {st}")
            time.sleep(0.05)
        time.sleep(0.5)  # let each interpreter settle in its wait
        found = re.search(r"box cgroups in (\S+)",
                          (isol8d.tmp / "isol8d.stderr").read_text())
        boxes = [d for d in Path(found[1]).iterdir() if d.is_dir()]
        by_runtime = {}
        for cg in boxes:
            charge, pss, names = box_memory(cg)
            rt = next((r for r, exe in (("python", "python3"),
                                        ("node", "node"), ("bash", "bash"))
                       if any(n.startswith(exe) for n in names)), "init only")
            by_runtime.setdefault(rt, []).append((charge, pss))
        bare = {}
        for rt, argv in WAITING.items():
            p = subprocess.Popen(bare_argv(argv), stdin=subprocess.PIPE,
                                 env=CLEAN_ENV)
            time.sleep(0.5)
            bare[rt] = pss_kib(p.pid) / 1024
            p.stdin.close()
            p.wait()
        log()
        log(f"   {'box':10} {'boxes':>5} {'charge MiB':>11} {'PSS MiB':>8} "
            f"{'bare PSS':>9} {'PSS/bare':>9}")
        for rt, rows in sorted(by_runtime.items()):
            charge = max(c for c, _ in rows)
            pss = max(p for _, p in rows)
            b = bare.get(rt, float("nan"))
            log(f"   {rt:10} {len(rows):5} {charge:11.1f} {pss:8.1f} "
                f"{b:9.1f} {pss / b:9.2f}")
        log()
        log("   the largest box of each kind; charge: what the box's memory "
            "cgroup holds (pages it\n   touched first, page cache "
            "included); PSS: its processes' proportional set size")
        conn.close()
        return isol8d.finish()


def section_session(args):
    n = max(40, int(args.seconds * 20))
    bare = ["/usr/bin/python3", "-c", "pass"]
    with SectionDaemon(args, POOL_OFF) as isol8d, \
            contextlib.closing(RpcConnection(isol8d.sock)) as conn:
        log("== session: python hello in an existing session, file.put + "
            "file.get of 1 MiB ==")
        sid = conn.call("session.create", {"runtime": "python"})["id"]
        params = {"request": {"code": "print(1)", "runtime": "python"},
                  "sessionId": sid}
        tb, ts = [], []
        for i in range(n + 2):
            tb.append(timed(bare, CLEAN_ENV)[0])
            # As a client pausing between runs: the session has started
            # its next interpreter meanwhile.
            time.sleep(0.05)
            t0 = time.perf_counter()
            r = conn.call("execute", params)
            ts.append((time.perf_counter() - t0) * 1000)
            if r["stdout"] != "1\n":
                raise RuntimeError(f"execute gave {r!r}")
        tb, ts = tb[2:], ts[2:]
        # A client that spends nothing on JSON or base64, so that the
        # figure is the daemon's; its baseline moves the same frames
        # through a socketpair to a process that only answers.
        out = subprocess.run(
            [str(build_bench_tool(Path(args.build).resolve(), "file_rtt")),
             "--socket", str(isol8d.sock), "--session", sid,
             "--size", str(1 << 20), "-n", str(max(20, n))],
            capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"file_rtt failed: {out.stderr.strip()}")
        tf = dict(kv.split("=") for kv in out.stdout.split())
        tf = {k: float(v) for k, v in tf.items()}
        conn.call("session.delete", {"sessionId": sid})
        b50, s50, s99 = pct(tb, .5), pct(ts, .5), pct(ts, .99)
        log()
        log(f"   {'case':34} {'p50 ms':>8} {'p99 ms':>8} {'/ bare':>7}")
        log(f"   {'bare python3 -c pass':34} {b50:8.2f} {pct(tb, .99):8.2f}")
        log(f"   {'execute in the session (raw RPC)':34} {s50:8.2f} "
            f"{s99:8.2f} {s50 / b50:7.2f}")
        log(f"   {'frames of file.put + file.get':34} "
            f"{tf['base_p50']:8.2f} {tf['base_p99']:8.2f}")
        log(f"   {'file.put + file.get, 1 MiB':34} {tf['pair_p50']:8.2f} "
            f"{tf['pair_p99']:8.2f} {tf['pair_p50'] / tf['base_p50']:7.2f}"
            "  (of the frames alone)")
        log(f"   {'  of which file.put':34} {tf['put_p50']:8.2f}")
        log(f"   {'  of which file.get':34} {tf['get_p50']:8.2f}")
        log()
        log(f"   {n} runs each; the session's next interpreter is started "
            "between executions;\n   files from a C client (file_rtt.c) "
            "that builds its two requests once; \"frames\":\n   the same "
            "requests to a process that reads them and sends back "
            "answers of the\n   daemon's size")
        conn.close()
        return isol8d.finish()


NET_HOST = "127.0.0.2"
DOWNLOAD_PAIRS = 9
LATENCY_LOOP = """
import json, sys, time, urllib.request
times = []
for i in range(N):
    t0 = time.perf_counter()
    urllib.request.urlopen(URL, timeout=10).read()
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps(times))
"""


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(host, port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited")
        with contextlib.suppress(OSError), \
                socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def test_ca(tmp):
    """A CA and a certificate for NET_HOST signed by it; their paths."""
    ca_key, ca, key, csr, crt, ext = (str(tmp / n) for n in (
        "ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem", "ext"))
    Path(ext).write_text(f"subjectAltName=IP:{NET_HOST}\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=bench"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", csr, "-subj", f"/CN={NET_HOST}"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext]):
        subprocess.run(cmd, check=True, capture_output=True)
    return ca, crt, key


def section_network(args):
    n = max(40, int(args.seconds * 20))
    tmp = Path(tempfile.mkdtemp(prefix="isol8-bench-net-", dir="/tmp"))
    www = tmp / "www"
    www.mkdir()
    size = 100 * 1024 * 1024
    with open(www / "big", "wb") as f:
        f.write(os.urandom(1024 * 1024) * 100)
    (www / "small").write_bytes(b"x" * 512)
    ca, crt, key = test_ca(tmp)
    tls_port, http_port = free_port(NET_HOST), free_port(NET_HOST)
    servers = [
        subprocess.Popen(["openssl", "s_server", "-quiet", "-WWW",
                          "-accept", f"{NET_HOST}:{tls_port}", "-cert", crt,
                          "-key", key], cwd=www, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind",
                          NET_HOST, str(http_port)], cwd=www,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)]
    config = {"network": {"allowPrivate": True}}
    try:
        wait_port(NET_HOST, tls_port, servers[0])
        wait_port(NET_HOST, http_port, servers[1])
        with SectionDaemon(args, config) as isol8d, \
                contextlib.closing(RpcConnection(isol8d.sock)) as conn:
            log("== network: the filtering proxy against going direct ==")
            big = f"https://{NET_HOST}:{tls_port}/big"
            curl = ["curl", "-sS", "-o", "/dev/null", "-w",
                    "%{time_total} %{size_download}", "--cacert"]
            direct, boxed = [], []
            cpu0 = proc_cpu_seconds(isol8d.proc.pid)
            for _ in range(DOWNLOAD_PAIRS):
                out = subprocess.run(curl + [ca, big], capture_output=True,
                                     text=True, timeout=120, env=CLEAN_ENV)
                t, got = out.stdout.split()
                if int(got) != size:
                    raise RuntimeError(f"direct curl got {out!r}")
                direct.append(float(t))
                r = conn.call("execute", {
                    "request": {"runtime": "bash", "code": shlex.join(
                        curl + ["/sandbox/ca.pem", big]),
                        "files": {"ca.pem": Path(ca).read_text()}},
                    "options": {"network": "filtered", "timeoutMs": 120000}})
                if r["exitCode"] != 0 or int(r["stdout"].split()[1]) != size:
                    raise RuntimeError(f"curl in the box gave {r!r}")
                boxed.append(float(r["stdout"].split()[0]))
            relay_cpu = ((proc_cpu_seconds(isol8d.proc.pid) - cpu0)
                         / DOWNLOAD_PAIRS)
            ratios = [d / b for d, b in zip(direct, boxed)]
            small = f"http://{NET_HOST}:{http_port}/small"
            loop = f"N, URL = {n}, {small!r}\n" + LATENCY_LOOP
            host = subprocess.run(
                ["/usr/bin/python3", "-c", loop],
                capture_output=True, text=True, timeout=120, env=CLEAN_ENV)
            lh = json.loads(host.stdout)[2:]
            r = conn.call("execute", {
                "request": {"runtime": "python", "code": loop},
                "options": {"network": "filtered", "timeoutMs": 120000}})
            if r["exitCode"] != 0:
                raise RuntimeError(f"the latency loop failed: {r!r}")
            lb = json.loads(r["stdout"])[2:]
            tn, tf = [], []
            hello = {"request": {"runtime": "python", "code": "print(1)"}}
            for i in range(n + 2):
                for mode, into in (("none", tn), ("filtered", tf)):
                    wait_pool_ready(conn, "python")
                    t0 = time.perf_counter()
                    r = conn.call("execute", {**hello,
                                              "options": {"network": mode}})
                    if r["stdout"] != "1\n":
                        raise RuntimeError(f"{mode}: {r!r}")
                    if i >= 2:
                        into.append((time.perf_counter() - t0) * 1000)
            log()
            log(f"   100 MB over HTTPS, curl, {DOWNLOAD_PAIRS} pairs, median: "
                f"direct {size / pct(direct, .5) / 1e6:.0f} MB/s, through "
                f"the proxy {size / pct(boxed, .5) / 1e6:.0f} MB/s; ratio "
                f"{pct(ratios, .5):.2f} (quartiles {pct(ratios, .25):.2f}-"
                f"{pct(ratios, .75):.2f}); the daemon's CPU per download "
                f"{relay_cpu * 1000:.0f} ms")
            log(f"   a request for 512 bytes, python urllib, p50 of {n - 2}: "
                f"direct {pct(lh, .5):.3f} ms, through the proxy "
                f"{pct(lb, .5):.3f} ms, added {pct(lb, .5) - pct(lh, .5):.3f}"
                " ms")
            log(f"   python hello from the pool, p50 of {n}: none "
                f"{pct(tn, .5):.2f} ms, filtered {pct(tf, .5):.2f} ms, "
                f"added {pct(tf, .5) - pct(tn, .5):.2f} ms")
            conn.close()
            return isol8d.finish()
    finally:
        for p in servers:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


class BridgeProcess:
    """isol8ctl serve in front of a section's isol8d, on a free port."""

    KEY = "bench-key"

    def __init__(self, isol8d):
        self.proc = subprocess.Popen(
            isol8d.ctl("serve", "--listen", "127.0.0.1", "--port", "0",
                       "--key", self.KEY),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            stop(self.proc)
            raise RuntimeError(f"isol8ctl serve printed {line!r}")
        self.port = int(m.group(1))

    def close(self):
        stop(self.proc)


def wrk_rps(port, seconds):
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{max(1, round(seconds))}s",
         f"http://127.0.0.1:{port}/health"],
        capture_output=True, text=True, timeout=seconds + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if out.returncode != 0 or not m or "Non-2xx" in out.stdout:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    return float(m.group(1))


def section_bridge(args):
    import http.client
    n = max(40, int(args.seconds * 20))
    with SectionDaemon(args) as isol8d, \
            contextlib.closing(RpcConnection(isol8d.sock)) as conn, \
            contextlib.closing(BridgeProcess(isol8d)) as bridge:
        log("== bridge: POST /execute over HTTP against execute over the "
            "Unix socket; GET /health ==")
        params = {"request": {"code": "print(1)", "runtime": "python"}}
        body = json.dumps(params)
        headers = {"Authorization": f"Bearer {BridgeProcess.KEY}",
                   "Content-Type": "application/json"}
        http_conn = http.client.HTTPConnection("127.0.0.1", bridge.port,
                                               timeout=60)
        tr, th = [], []
        for i in range(n + 2):
            wait_pool_ready(conn, "python")
            t0 = time.perf_counter()
            r = conn.call("execute", params)
            dt_r = (time.perf_counter() - t0) * 1000
            wait_pool_ready(conn, "python")
            t0 = time.perf_counter()
            http_conn.request("POST", "/execute", body, headers)
            resp = http_conn.getresponse()
            h = json.loads(resp.read())
            dt_h = (time.perf_counter() - t0) * 1000
            if r["stdout"] != "1\n" or h.get("stdout") != "1\n":
                raise RuntimeError(f"execute gave {r!r} / {h!r}")
            if i >= 2:
                tr.append(dt_r)
                th.append(dt_h)
        http_conn.close()
        seconds = args.seconds or 2
        rps_http = wrk_rps(bridge.port, seconds)
        rpc_load = build_bench_tool(Path(args.build).resolve(), "rpc_load")
        rps_rpc = run_load(rpc_load, isol8d.sock, 32, 1, seconds,
                           args.warmup, None)["rps"]
        r50, h50 = pct(tr, .5), pct(th, .5)
        log()
        log(f"   {'case':36} {'p50 ms':>8} {'p99 ms':>8}")
        log(f"   {'execute over the Unix socket':36} {r50:8.2f} "
            f"{pct(tr, .99):8.2f}")
        log(f"   {'POST /execute through the bridge':36} {h50:8.2f} "
            f"{pct(th, .99):8.2f}")
        log(f"   {'difference of the p50s':36} {h50 - r50:8.2f}")
        log()
        log(f"   {'GET /health, wrk (req/s)':36} {rps_http:10.0f}")
        log(f"   {'health over the Unix socket (req/s)':36} {rps_rpc:10.0f}"
            f"   ratio {rps_http / rps_rpc:.2f}")
        log()
        log(f"   {n} alternating runs each, warm pool refilled before each; "
            "the bridge keeps\n   no state and opens a daemon connection per "
            "request; /health is answered\n   by the bridge itself")
        conn.close()
        bridge.close()
        return isol8d.finish()


def spawn_ms(argv, devnull):
    """Milliseconds from posix_spawn to the exit of argv, which must
    succeed; its output goes to /dev/null."""
    fa = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)
    _, status = os.waitpid(pid, 0)
    dt = (time.perf_counter() - t0) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited with {status}")
    return dt


def section_client(args):
    n = max(50, int(args.seconds * 100))
    with SectionDaemon(args) as isol8d, \
            contextlib.closing(RpcConnection(isol8d.sock)) as conn:
        cases = {"/bin/true": ["/bin/true"],
                 "isol8ctl --help": isol8d.ctl("--help"),
                 "isol8ctl health": isol8d.ctl("health"),
                 "bash hello": isol8d.ctl("run", "-r", "bash", "-e",
                                          "echo hi")}
        times = {k: [] for k in cases}
        devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        try:
            for i in range(n + 2):
                for name, argv in cases.items():
                    if name == "bash hello":
                        wait_pool_ready(conn, "bash")
                    dt = spawn_ms(argv, devnull)
                    if i >= 2:  # the first two warm the page cache
                        times[name].append(dt)
        finally:
            os.close(devnull)
        log("== client: what isol8ctl costs, against /bin/true ==")
        log(f"   {n} alternating rounds, in ms; the bash hello from the "
            "warm pool")
        log()
        log(f"   {'command':18} {'p50':>7} {'p90':>7} {'p50-true':>9} "
            f"{'p50/true':>9}")
        base = pct(times["/bin/true"], .5)
        for name, t in times.items():
            p50 = pct(t, .5)
            log(f"   {name:18} {p50:7.2f} {pct(t, .9):7.2f} "
                f"{p50 - base:9.2f} {p50 / base:9.2f}")
        log()
        conn.close()
        return isol8d.finish()


SECTIONS = {"rpc": section_rpc, "exec": section_exec,
            "latency": section_latency, "loop": section_loop,
            "throughput": section_throughput,
            "memory": section_memory, "session": section_session,
            "bridge": section_bridge, "network": section_network,
            "client": section_client}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=str(REPO / "build"),
                   help="directory holding isol8d (default: build/)")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma-separated sections: {', '.join(SECTIONS)}")
    p.add_argument("--seconds", type=float, default=None,
                   help="measured seconds per run (default 2; 30 for "
                        "throughput)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs per scenario and server, median reported "
                        "(default 3)")
    p.add_argument("--warmup", type=float, default=0.5,
                   help="unmeasured seconds before each run (default 0.5)")
    p.add_argument("--profile", action="store_true",
                   help="perf-record isol8d during the busiest run")
    p.add_argument("--json", metavar="FILE",
                   help="also write the figures to FILE as JSON")
    args = p.parse_args()
    args.seconds_given = args.seconds is not None
    if args.seconds is None:
        args.seconds = 2.0
    if not 0 < args.seconds <= 60 or not 0 <= args.warmup <= 10 or \
            not 1 <= args.repeat <= 20:
        p.error("--seconds must be in (0, 60], --warmup in [0, 10], "
                "--repeat in [1, 20]")
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s): {', '.join(unknown)}; known: "
                f"{', '.join(SECTIONS)}")
    if not (Path(args.build) / "isol8d").is_file():
        p.error(f"{args.build}/isol8d does not exist: run make first")
    rc = 0
    for name in wanted:
        try:
            rc |= SECTIONS[name](args)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            log(f"!! section {name} failed: {e}")
            rc = 1
    print_targets()
    return rc


if __name__ == "__main__":
    sys.exit(main())
