"""The memory and session sections."""

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

from bench_common import (
    CLEAN_ENV,
    POOL_OFF,
    RpcConnection,
    SectionDaemon,
    bare_argv,
    build_bench_tool,
    log,
    pct,
    timed)


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
