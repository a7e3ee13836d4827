"""The latency, throughput and loop sections (warm runs from the pool),
and the table of speed targets beside their figures."""

import contextlib
import shutil
import subprocess
import time
from statistics import mean

from bench_common import (
    CLEAN_ENV,
    FIGURES,
    HELLO,
    RpcConnection,
    SectionDaemon,
    bare_argv,
    bwrap_argv,
    log,
    machine_busy_seconds,
    pct,
    pool_key,
    proc_cpu_seconds,
    timed,
    wait_pool_ready)


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
            f"{'isol8/bare':>11} {'pool hits':>10} {'loop ms/run':>12} "
            f"{'loop busy':>10}")

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
            loop0 = proc_cpu_seconds(isol8d.proc.pid)
            ni = _run_for(seconds, isol8_worker, conc)
            loop = proc_cpu_seconds(isol8d.proc.pid) - loop0
            k1 = pool_key(status.call("pool.status"), "python")
            hits = k1["hits"] - k0["hits"]
            FIGURES[f"throughput_{conc}"] = {"bare": nb / seconds,
                                             "isol8": ni / seconds}
            log(f"   {conc:11} {nb / seconds:8.1f} {ni / seconds:8.1f} "
                f"{ni / max(nb, 1):11.2f} {hits:>5}/{ni} "
                f"{1000 * loop / max(ni, 1):12.2f} "
                f"{100 * loop / seconds:9.0f}%")
            time.sleep(1.0)
        status.close()
        log()
        log("   the pool's size is the built-in default; runs it cannot "
            "serve get a fresh box")
        log("   loop: the CPU isol8d's event loop spent (its own process, "
            "not its helpers), per run and as a share of one core")
        return isol8d.finish()


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


def loop_cost(argv, n, want=None, env=None):
    """back_to_back's wall times, and the CPU the whole machine spent per
    run in ms: the command's, and for isol8ctl the daemon's and its boxes'
    as well."""
    busy0 = machine_busy_seconds()
    times = back_to_back(argv, n, want, env)
    return times, (machine_busy_seconds() - busy0) * 1000 / n


def _target_rows():
    """(target, figure text or None, met) per speed target, from
    FIGURES; None: the section measuring it did not run."""
    f = FIGURES
    rows = []
    h = f.get("health_minus_true")
    rows.append(("isol8ctl health within 1.5 ms of /bin/true (loop)",
                 None if h is None else f"{h:+.2f} ms", h is not None and
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
            f"({h50 - true50:+.2f})")
        log()
        log(f"   {'runtime':8} {'bare p50':>9} {'bwrap p50':>10} "
            f"{'ctl p50':>8} {'ctl p90':>8} {'ctl/bare':>9} "
            f"{'ctl/bwrap':>10} {'hits':>10}")
        for rt, run_args, bare, want in LOOP_CASES:
            ctl = isol8d.ctl("run", *run_args)
            back_to_back(bare, warm, want, CLEAN_ENV)
            tb, cb = loop_cost(bare, n, want, CLEAN_ENV)
            tw, cw = [float("nan")], float("nan")
            if have_bwrap:
                back_to_back(bwrap_argv(bare), warm, want, CLEAN_ENV)
                tw, cw = loop_cost(bwrap_argv(bare), n, want, CLEAN_ENV)
            back_to_back(ctl, warm, want)
            k0 = pool_key(conn.call("pool.status"), rt)
            tc, cc = loop_cost(ctl, n, want)
            k1 = pool_key(conn.call("pool.status"), rt)
            hits = k1["hits"] - k0["hits"]
            b50, w50, c50 = pct(tb, .5), pct(tw, .5), pct(tc, .5)
            FIGURES[f"loop_{rt}"] = {"bare": b50, "bwrap": w50, "ctl": c50,
                                     "hit_rate": hits / n,
                                     "ctl_mean": mean(tc), "ctl_cpu": cc,
                                     "bare_cpu": cb}
            log(f"   {rt:8} {b50:9.1f} {w50:10.1f} {c50:8.1f} "
                f"{pct(tc, .9):8.1f} {c50 / b50:9.2f} {c50 / w50:10.2f} "
                f"{hits:>4}/{n} ({100 * hits / n:.0f}%)")
            log(f"   {'':8} mean {mean(tb):.1f} / {mean(tw):.1f} / "
                f"{mean(tc):.1f} ms; CPU per run {cb:.1f} / {cw:.1f} / "
                f"{cc:.1f} ms (bare / bwrap / isol8ctl)")
            log(f"   {'':8} pool after: target {k1.get('target', '-')}, "
                f"ready {k1['ready']}, building {k1['building']}")
        log()
        log("   hits: the runs the pool served, from pool.status.")
        log("   CPU per run: the busy time of all cores over the loop "
            "(/proc/stat), per run: the daemon's and the boxes' work with "
            "the command's.  Near cores x mean, the loop is bound by CPU, "
            "and only less work per run makes it faster.")
        return isol8d.finish()
