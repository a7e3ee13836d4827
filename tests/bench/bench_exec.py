"""The exec section: cold executions against the bare interpreter and
bubblewrap."""

import shutil

from bench_common import (
    CLEAN_ENV,
    POOL_OFF,
    SectionDaemon,
    bwrap_argv,
    log,
    pct,
    timed)


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
