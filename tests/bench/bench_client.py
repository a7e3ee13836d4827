"""The client section: what isol8ctl itself costs against /bin/true."""

import contextlib
import os
import shlex
import time

from bench_common import RpcConnection, SectionDaemon, log, pct, wait_pool_ready


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
