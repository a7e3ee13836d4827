"""The network and bridge sections."""

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench_common import (
    CLEAN_ENV,
    RpcConnection,
    SectionDaemon,
    build_bench_tool,
    log,
    pct,
    pinned,
    proc_cpu_seconds,
    stop,
    wait_pool_ready)
from bench_rpc import run_load


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

    def __init__(self, isol8d, cpu=None):
        self.proc = subprocess.Popen(
            isol8d.ctl("serve", "--listen", "127.0.0.1", "--port", "0",
                       "--key", self.KEY),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, preexec_fn=pinned(cpu))
        line = self.proc.stdout.readline()
        m = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)$", line.strip())
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
