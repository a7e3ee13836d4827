"""The images section: boxes on a Debian base image against host-root
boxes, warm (from the pool) and cold, in the same run."""

import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench_common import RpcConnection, SectionDaemon, log, pct

REPO = Path(__file__).resolve().parents[2]
CACHE = os.environ.get("ISOL8_IMAGE_CACHE", "/var/cache/isol8/test-images")
CODE = "print(1)"


def codename():
    with open("/etc/os-release") as f:
        return next(line.split("=", 1)[1].strip() for line in f
                    if line.startswith("VERSION_CODENAME="))


def wait_ready(conn, image, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for k in conn.call("pool.status")["keys"]:
            if k["runtime"] == "python" and k["image"] == image and \
                    k["ready"] >= 1:
                return k
        time.sleep(0.002)
    raise RuntimeError(f"the python pool on {image} did not refill")


def run(conn, image, options=None):
    params = {"request": {"code": CODE, "runtime": "python"},
              "options": dict(options or {}, image=image)}
    t0 = time.perf_counter()
    r = conn.call("execute", params)
    dt = (time.perf_counter() - t0) * 1000
    if r["stdout"] != "1\n":
        raise RuntimeError(f"{image}: execute gave {r!r}")
    return dt


def section_images(args):
    n = max(20, int(args.seconds * 10))
    tag = f"python:{codename()}"
    store = Path(tempfile.mkdtemp(prefix="isol8-bench-img-", dir="/tmp"))
    t0 = time.perf_counter()
    out = subprocess.run([str(REPO / "tools" / "isol8-image-build"), "base",
                          "--dir", str(store), "--cache", CACHE,
                          "--runtime", "python"],
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"isol8-image-build: {out.stderr.strip()}")
    prepared = (time.perf_counter() - t0) * 1000
    sizes = {"python": 1, "node": 0, "bun": 0, "deno": 0, "bash": 0}
    config = {"images": {"dir": str(store), "build": [], "default": "host"},
              "pool": {"images": [tag], "size": sizes,
                       "demand": {"grow": False}}}
    try:
        with SectionDaemon(args, config) as isol8d, \
                contextlib.closing(RpcConnection(isol8d.sock)) as conn:
            digest = conn.call("image.inspect", {"ref": tag})["digest"]
            log("== images: python print(1) on the python base image "
                "against the host image ==")
            log(f"   the image {tag} copied into the store from the build "
                f"cache in {prepared:.0f} ms ({out.stdout.strip()})")
            log(f"   {n} alternating runs each, one execute on an open "
                "connection, in ms; warm: from the pool (refilled before "
                "each run), cold: a fresh box (tmpSize 128m, which the "
                "pool's boxes do not have)")
            log()
            log(f"   {'case':6} {'host p50':>9} {'host p90':>9} "
                f"{'image p50':>10} {'image p90':>10} {'image/host':>11}")
            cold_opts = {"tmpSize": "128m"}
            for label, opts in (("warm", None), ("cold", cold_opts)):
                th, ti = [], []
                for i in range(n + 2):
                    if opts is None:
                        wait_ready(conn, "host")
                    dh = run(conn, "host", opts)
                    if opts is None:
                        wait_ready(conn, digest)
                    di = run(conn, tag, opts)
                    if i >= 2:  # the first two warm the page cache
                        th.append(dh)
                        ti.append(di)
                h50, i50 = pct(th, .5), pct(ti, .5)
                log(f"   {label:6} {h50:9.1f} {pct(th, .9):9.1f} "
                    f"{i50:10.1f} {pct(ti, .9):10.1f} {i50 / h50:11.2f}")
            hits = next(k for k in conn.call("pool.status")["keys"]
                        if k["image"] == digest)["hits"]
            log()
            log(f"   image/host: above 1.00 the image is slower.  Warm runs "
                f"on the image served by the pool: {hits}")
            return isol8d.finish()
    finally:
        subprocess.run(["rm", "-rf", "--", str(store)], check=False)
