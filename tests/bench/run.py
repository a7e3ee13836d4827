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

  balancer  executions per second (bash echo hi, 12 connections from
        wrk) through HAProxy with the shipped deploy/haproxy/isol8.cfg in
        front of 1, 2 and 3 nodes (an isol8d and its bridge each), against
        one bridge without the balancer, alternating; and one execution at
        a time direct and through HAProxy, the p50 the hop adds.  wrk,
        HAProxy and each node get a cpu of their own when there are
        enough.

  client  what isol8ctl itself costs: `isol8ctl --help`, `isol8ctl
        health` and a bash hello (`isol8ctl run -r bash -e 'echo hi'`,
        the pool refilled before each, outside the timing) against
        /bin/true, in alternating rounds, each started with posix_spawn;
        p50 and p90 in ms, and each p50's difference from /bin/true's.

  images  a python hello on the python base image (tools/isol8-image-build,
        copied from the build cache $ISOL8_IMAGE_CACHE, by default
        /var/cache/isol8/test-images) against the host image, both warm
        (pool.images keeps warm boxes on the image) and cold (fresh boxes),
        alternating, in one run; image/host is the ratio of the p50s.

Each section starts its own isol8d on a temporary socket and stops it.
At the end every speed target of the project is printed beside the
figure measured for it (or why there is none).
Speed targets are read from this output; nothing here fails on a figure."""

import argparse
import subprocess
import sys
from pathlib import Path

from bench_balancer import section_balancer
from bench_client import section_client
from bench_common import REPO, log
from bench_exec import section_exec
from bench_images import section_images
from bench_memory import section_memory, section_session
from bench_network import section_bridge, section_network
from bench_rpc import section_rpc
from bench_warm import (
    print_targets,
    section_latency,
    section_loop,
    section_throughput)


SECTIONS = {"rpc": section_rpc, "exec": section_exec,
            "latency": section_latency, "loop": section_loop,
            "throughput": section_throughput,
            "memory": section_memory, "session": section_session,
            "bridge": section_bridge, "network": section_network,
            "balancer": section_balancer, "client": section_client,
            "images": section_images}


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
