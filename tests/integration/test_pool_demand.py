"""The pool follows demand: a loop of runs one after another, each
waiting for the last, first misses, and each miss raises its key's target,
so that the grown pool serves such a loop from ready boxes (each run
sleeps a little in its box: a loop faster than the pool can build boxes on
this machine would measure the machine, not the pool); after an idle
period the target comes back to the configured size and the extra boxes
and their cgroups go; the pool never holds more than pool.maxBoxes, and
keeps its size when growth is turned off or the memory bound is reached."""

from execute_helpers import (REPLY_TIMEOUT, daemon_cgroup_dirs,
                             leak_snapshot, params_of)
from pool_helpers import key_of, settled, status
from isol8_harness import run_ctl, wait_until

SIZES = {"python": 1, "node": 0, "bun": 0, "deno": 0, "bash": 1}


def loop(d, runtime, code, n, watch=None):
    """n executions in a row on one connection, each sent when the last
    answered (no pause between them); watch(status) after each."""
    with d.client(timeout=REPLY_TIMEOUT) as c:
        for i in range(n):
            r = c.result("execute", params_of({"code": code(i),
                                               "runtime": runtime}))
            assert r["exitCode"] == 0 and r["stdout"] == f"{i}\n", r
            if watch:
                watch(c.result("pool.status"))


def pooled_boxes(d, dirs):
    return {c: len(v) for c, v in leak_snapshot(d, dirs)["cgroups"].items()}


def test_a_loop_becomes_warm_and_the_pool_shrinks_after(start_daemon):
    d = start_daemon(pool=True, config={"pool": {
        "size": SIZES, "maxBoxes": 12, "demand": {"idleMs": 3000}}})
    dirs = daemon_cgroup_dirs(d.pid)
    settled(d, 60.0)
    before = pooled_boxes(d, dirs)
    assert set(before.values()) == {2}, before
    seen = []

    def watch(st):
        seen.append(st["pooled"])
        assert st["pooled"] <= 12, st

    def py(i):
        return f"import time\ntime.sleep(0.1)\nprint({i})"
    # Warm-up: misses raise the target until the pool keeps up.
    for _ in range(10):
        k0 = key_of(status(d), "python")
        loop(d, "python", py, 20, watch)
        k1 = key_of(status(d), "python")
        if k1["misses"] == k0["misses"]:
            break
    k = key_of(status(d), "python")
    assert k["size"] == 1 and 1 < k["target"] <= 11, k
    assert k["hitRate"] == round(k["hits"] / (k["hits"] + k["misses"]), 3)
    # Warm now: once the grown pool is full, a loop as long as the target
    # finds every box ready, however fast this machine builds them (how
    # often a longer loop stays warm is the bench's loop figure).
    settled(d, 60.0)
    k0 = key_of(status(d), "python")
    loop(d, "python", py, k0["target"], watch)
    k1 = key_of(status(d), "python")
    hits, misses = k1["hits"] - k0["hits"], k1["misses"] - k0["misses"]
    assert (hits, misses) == (k0["target"], 0), (k0, k1)
    assert max(seen) <= 12
    # isol8ctl pool shows the grown target beside the size.
    out = run_ctl("pool", socket_path=d.socket_path)
    assert out.returncode == 0, out.stderr
    row = [ln.split() for ln in out.stdout.splitlines()
           if ln.startswith("python ")][0]
    assert row[5:7] == ["1", str(k1["target"])], out.stdout
    assert "following demand on" in out.stdout, out.stdout
    # Idle: the target halves back to the size, and the extra boxes and
    # their cgroups are gone, nothing else left behind.
    assert wait_until(lambda: key_of(status(d), "python")["target"] == 1,
                      30.0, interval=0.1), status(d)
    settled(d, 60.0)
    assert wait_until(lambda: pooled_boxes(d, dirs) == before, 15.0,
                      interval=0.1), (before, pooled_boxes(d, dirs))
    st = status(d)
    assert (st["pooled"], key_of(st, "python")["ready"]) == (2, 1), st


def test_bursts_never_grow_past_max_boxes(start_daemon):
    d = start_daemon(pool=True, config={"pool": {
        "size": SIZES, "maxBoxes": 4, "demand": {"idleMs": 60000}}})
    settled(d, 60.0)
    highest = []
    with d.client(timeout=REPLY_TIMEOUT) as c:
        for rnd in range(4):
            ids = [c.send("execute", params_of({"code": f"print({j})",
                                                "runtime": "python"}))
                   for j in range(8)]
            got = 0
            while got < len(ids):
                msg = c.recv(REPLY_TIMEOUT)
                if msg.get("id") in ids:
                    assert msg["result"]["exitCode"] == 0, msg
                    got += 1
            highest.append(c.result("pool.status")["pooled"])
    st = settled(d, 60.0)
    k = key_of(st, "python")
    # bash keeps its one box: python grows to 4 less the others' sizes.
    assert k["target"] == 3 and k["ready"] == 3, st
    assert key_of(st, "bash")["ready"] == 1 and st["pooled"] == 4, st
    assert max(highest) <= 4, highest


def test_growth_off_and_memory_bound_keep_the_size(start_daemon):
    for demand in ({"grow": False}, {"maxMemory": 0}):
        d = start_daemon(pool=True, config={"pool": {
            "size": SIZES, "demand": demand}})
        settled(d, 60.0)
        loop(d, "python", lambda i: f"print({i})", 12)
        st = settled(d, 60.0)
        k = key_of(st, "python")
        assert k["misses"] > 0 and k["target"] == 1 and k["ready"] == 1, st
        assert st["demand"]["grow"] == ("grow" not in demand), st
        if "maxMemory" in demand:
            assert st["demand"]["maxMemoryBytes"] == 0, st


def test_bad_demand_settings_are_refused(start_daemon, tmp_path):
    import json
    import subprocess
    from isol8_harness import BUILD
    for bad, word in (({"idleMs": 10}, "pool.demand.idleMs"),
                      ({"maxMemory": "lots"}, "pool.demand.maxMemory"),
                      ({"grow": "yes"}, "pool.demand.grow"),
                      ({"shrink": 1}, "pool.demand.shrink")):
        cfg = tmp_path / "c.json"
        cfg.write_text(json.dumps({"pool": {"demand": bad}}))
        out = subprocess.run([f"{BUILD}/isol8d", "--config", str(cfg),
                              "--check-config"], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode != 0 and word in out.stderr, (bad, out)
