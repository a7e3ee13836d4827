"""The balancer section: runs per second through HAProxy (the shipped
deploy/haproxy/isol8.cfg) in front of 1, 2 and 3 nodes, each an isol8d
with its bridge, against one bridge without the balancer, all in the same
run; and the latency the balancer's hop adds to one execution."""

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import REPO, SectionDaemon, log, pct, pinned
from bench_network import BridgeProcess

sys.path.insert(0, str(REPO / "tests" / "integration"))
from balancer import Haproxy  # noqa: E402

NODES = 3
CONNECTIONS = 12
BODY = {"request": {"runtime": "bash", "code": "echo hi"}}
WRK_SCRIPT = f"""wrk.method = "POST"
wrk.body = '{json.dumps(BODY)}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {BridgeProcess.KEY}"
"""


def cpu_layout():
    """(load generator's cpu, HAProxy's, [each node's]) when the machine
    has a cpu for each; None when it has too few to pin anything."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < NODES + 2:
        return None
    return cpus[0], cpus[1], cpus[2:2 + NODES]


def wrk_rps(port, seconds, script, cpu):
    """Executions per second from wrk POSTing BODY on CONNECTIONS
    kept-alive connections; every answer must be a 200."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s",
         "-s", script, f"http://127.0.0.1:{port}/execute"],
        capture_output=True, text=True, timeout=seconds + 60,
        preexec_fn=pinned(cpu))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if out.returncode != 0 or not m or "Non-2xx" in out.stdout:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    return float(m.group(1))


def one_execution_ms(conn):
    body = json.dumps(BODY)
    headers = {"Authorization": f"Bearer {BridgeProcess.KEY}",
               "Content-Type": "application/json"}
    t0 = time.perf_counter()
    conn.request("POST", "/execute", body, headers)
    r = conn.getresponse()
    data = json.loads(r.read())
    dt = (time.perf_counter() - t0) * 1000
    if r.status != 200 or data.get("stdout") != "hi\n":
        raise RuntimeError(f"execute gave {r.status} {data!r}")
    return dt


def section_balancer(args):
    layout = cpu_layout()
    client_cpu, lb_cpu, node_cpus = layout or (None, None, [None] * NODES)
    with contextlib.ExitStack() as stack:
        daemons, bridges = [], []
        for cpu in node_cpus:
            d = stack.enter_context(SectionDaemon(args, cpu=cpu))
            b = BridgeProcess(d, cpu=cpu)
            stack.callback(b.close)
            daemons.append(d)
            bridges.append(b)
        nodes = [(f"node{i + 1}", "127.0.0.1", b.port)
                 for i, b in enumerate(bridges)]
        balancers = {}
        for k in range(1, NODES + 1):
            lb = Haproxy(nodes[:k], cpu=lb_cpu)
            stack.callback(lb.close)
            balancers[k] = lb
        script = Path(tempfile.mkstemp(prefix="isol8-wrk-", suffix=".lua")[1])
        stack.callback(script.unlink)
        script.write_text(WRK_SCRIPT)

        log("== balancer: runs/s through HAProxy with 1, 2 and 3 nodes, "
            "against one bridge direct ==")
        if layout:
            log(f"   wrk on cpu {client_cpu}, HAProxy on cpu {lb_cpu}, "
                f"nodes on cpus {node_cpus} (daemon and bridge together)")
        else:
            log(f"   {len(os.sched_getaffinity(0))} cpus: too few to give "
                f"wrk, HAProxy and {NODES} nodes one each; nothing pinned, "
                "so more nodes share the same cpus")
        targets = {"direct": bridges[0].port}
        targets.update({f"balancer, {k} node{'s' if k > 1 else ''}":
                        lb.port for k, lb in balancers.items()})
        rps = {name: [] for name in targets}
        for port in targets.values():  # a second each, unmeasured
            wrk_rps(port, 1, str(script), client_cpu)
        for _ in range(args.repeat):
            for name, port in targets.items():
                rps[name].append(wrk_rps(port, args.seconds, str(script),
                                         client_cpu))
        direct = pct(rps["direct"], .5)
        log()
        log(f"   {'target':24} {'runs/s':>8} {'vs direct':>10}")
        for name, values in rps.items():
            median = pct(values, .5)
            log(f"   {name:24} {median:8.0f} {median / direct:10.2f}")
        log()

        n = max(40, int(args.seconds * 20))
        direct_conn = http.client.HTTPConnection("127.0.0.1",
                                                 bridges[0].port, timeout=60)
        lb_conn = http.client.HTTPConnection("127.0.0.1", balancers[1].port,
                                             timeout=60)
        td, tl = [], []
        for i in range(n + 2):
            d_ms = one_execution_ms(direct_conn)
            l_ms = one_execution_ms(lb_conn)
            if i >= 2:
                td.append(d_ms)
                tl.append(l_ms)
        direct_conn.close()
        lb_conn.close()
        d50, l50 = pct(td, .5), pct(tl, .5)
        log(f"   one execution at a time, {n} alternating, ms:")
        log(f"   {'direct to the bridge':24} p50 {d50:7.2f}  p99 "
            f"{pct(td, .99):7.2f}")
        log(f"   {'through HAProxy (1 node)':24} p50 {l50:7.2f}  p99 "
            f"{pct(tl, .99):7.2f}")
        log(f"   {'the hop adds (p50)':24}     {l50 - d50:7.2f}")
        log()
        log(f"   {CONNECTIONS} connections, bash `echo hi` from each "
            f"node's warm pool, median of {args.repeat} runs of "
            f"{args.seconds:g} s in alternating rounds; sessionless, so "
            "HAProxy\n   spreads by least connections and reads each body "
            "to look for a sessionId")
        log()
        return max(d.finish() for d in daemons)
