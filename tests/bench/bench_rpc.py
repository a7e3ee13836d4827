"""The rpc section: health requests/s against a minimal epoll server."""

import json
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench_common import (
    build_bench_tool,
    cpu_plan,
    log,
    pinned,
    proc_cpu_seconds,
    raw_call,
    serving,
    start_isol8d,
    stop)


def start_baseline(rpc_load, tmp, reply_file, cpu):
    sock = tmp / "baseline.sock"
    proc = subprocess.Popen([str(rpc_load), "--serve", str(sock),
                             "--reply-file", str(reply_file)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=pinned(cpu))
    return serving(proc, sock)


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
