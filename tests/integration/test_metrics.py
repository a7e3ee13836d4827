"""The metrics method: executions counted once each by runtime and outcome
(ok, error, timeout, oom, failed), a cumulative histogram of the durations
of those that produced a result, the pool's ready and in-use boxes, sessions
and the active ones, and the filtering proxy's ALLOW/BLOCK decisions with or
without logNetwork."""

import pytest

from execute_helpers import execute, execute_error, params_of
from isol8_harness import wait_until
from test_network import HOST, filtered, get_code, http_server  # noqa: F401

BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
          60000]
OUTCOMES = ("ok", "error", "timeout", "oom", "failed")


def metrics(d, params=None):
    with d.client() as c:
        return c.result("metrics", params)


def counts(m):
    """{(runtime, outcome): count} of a metrics result."""
    out = {}
    for e in m["executions"]:
        assert set(e) == {"runtime", "outcome", "count"}, e
        assert e["outcome"] in OUTCOMES and e["count"] > 0, e
        key = (e["runtime"], e["outcome"])
        assert key not in out, f"{key} listed twice: {m['executions']}"
        out[key] = e["count"]
    return out


def check_histogram(m, durations):
    """The histogram holds exactly these durations, cumulatively."""
    h = m["durationMs"]
    assert set(h) == {"bounds", "buckets", "count", "sum"}, h
    assert h["bounds"] == BOUNDS
    assert h["buckets"] == [sum(1 for x in durations if x <= b)
                            for b in BOUNDS], (h, durations)
    assert h["count"] == len(durations) and h["sum"] == sum(durations), h
    results = sum(n for (_, o), n in counts(m).items() if o != "failed")
    assert h["count"] == results, m


def gauges(d):
    m = metrics(d)
    return (m["pool"]["ready"], m["pool"]["inUse"], m["sessions"]["total"],
            m["sessions"]["active"])


def py(code):
    return {"runtime": "python", "code": code}


def sh(code):
    return {"runtime": "bash", "code": code}


def test_shape_of_a_fresh_daemon(start_daemon):
    d = start_daemon()
    m = metrics(d)
    assert set(m) == {"executions", "durationMs", "pool", "sessions",
                      "proxyRequests", "audit", "exposed"}
    assert m["audit"] == {"enabled": False}
    assert m["exposed"] == {"ports": 0, "connections": 0, "bytesIn": 0,
                            "bytesOut": 0, "openConnections": 0,
                            "refused": 0}
    assert m["executions"] == []
    check_histogram(m, [])
    assert m["pool"] == {"ready": 0, "inUse": 0}
    assert m["sessions"] == {"total": 0, "active": 0}
    assert m["proxyRequests"] == {"allow": 0, "block": 0}
    # Members in params are ignored, as by the other methods without any.
    with d.client() as c:
        assert "error" not in c.call("pool.status", {"x": 1})
        assert c.result("metrics", {"x": 1}) == m
        assert c.result("metrics", {}) == m


def test_outcomes_and_durations(any_start_daemon):
    d = any_start_daemon()
    results = [
        execute(d, py("print('hi')")),
        execute(d, py("import sys\nsys.exit(3)")),
        execute(d, py("import time\ntime.sleep(10)"), {"timeoutMs": 500}),
        execute(d, sh("exit 0")),
        execute(d, py("a = []\nwhile True:\n    a.append(bytearray(1 << 20))"),
                {"memoryLimit": "64m", "timeoutMs": 30000}),
    ]
    assert [r["exitCode"] for r in results] == [0, 3, 137, 0, 137]
    assert results[2].get("timedOut") is True
    assert results[4].get("oomKilled") is True, results[4]
    m = metrics(d)
    assert counts(m) == {("python", "ok"): 1, ("python", "error"): 1,
                         ("python", "timeout"): 1, ("bash", "ok"): 1,
                         ("python", "oom"): 1}
    check_histogram(m, [r["durationMs"] for r in results])
    assert m["pool"]["inUse"] == 0


def test_executions_without_a_result_count_as_failed(start_daemon):
    d = start_daemon()
    msg = execute_error(d, {"runtime": "python", "code": "print(1)",
                            "setupScript": "exit 4"})
    assert "Setup script failed" in msg["error"]["message"]
    # A client that goes away cancels its execution.
    with d.client() as c:
        c.send("execute", params_of(sh("sleep 30")))
        assert wait_until(lambda: gauges(d)[1] == 1, 10)
    assert wait_until(lambda: counts(metrics(d)).get(("bash", "failed")), 10)
    # A request refused before it runs is no execution at all.
    execute_error(d, {"runtime": "cobol", "code": "x"})
    m = metrics(d)
    assert counts(m) == {("python", "failed"): 1, ("bash", "failed"): 1}
    check_histogram(m, [])
    assert wait_until(lambda: gauges(d)[1] == 0, 10), metrics(d)


@pytest.mark.parametrize("step", ["create the box cgroup",
                                  "write the id maps",
                                  "build the root filesystem"])
def test_box_set_up_failures_count_as_failed(start_daemon, step):
    """A box that fails before, during or after its clone is counted
    neither as in use nor, once its execution has failed, at all."""
    d = start_daemon(env={"ISOL8D_FAULT": step})
    for _ in range(2):
        assert "Input/output error" in \
            execute_error(d, sh("echo hi"))["error"]["message"]
    m = metrics(d)
    assert counts(m) == {("bash", "failed"): 2}
    check_histogram(m, [])
    assert m["pool"] == {"ready": 0, "inUse": 0}


def test_running_ephemeral_execution_holds_a_box(start_daemon):
    d = start_daemon()
    with d.client(timeout=30) as c:
        c.send("execute", params_of(sh("sleep 2")))
        assert wait_until(lambda: gauges(d) == (0, 1, 0, 0), 10), metrics(d)
        assert c.recv(30)["result"]["exitCode"] == 0
    assert gauges(d) == (0, 0, 0, 0)
    assert counts(metrics(d)) == {("bash", "ok"): 1}


def test_sessions_total_and_active(start_daemon):
    d = start_daemon()
    with d.client(timeout=30) as c:
        sid = c.result("session.create", {"runtime": "bash"})["id"]
        other = c.result("session.create", {"runtime": "python"})["id"]
        assert gauges(d) == (0, 2, 2, 0)
        c.send("execute", params_of(sh("sleep 3"), sessionId=sid))
        assert wait_until(lambda: gauges(d) == (0, 2, 2, 1), 10), metrics(d)
        assert c.recv(30)["result"]["exitCode"] == 0
        assert gauges(d) == (0, 2, 2, 0)
        c.result("session.delete", {"sessionId": sid})
        assert gauges(d) == (0, 1, 1, 0)
        c.result("session.delete", {"sessionId": other})
    assert gauges(d) == (0, 0, 0, 0)
    m = metrics(d)
    assert counts(m) == {("bash", "ok"): 1}
    assert m["durationMs"]["count"] == 1


POOL = {"prewarm": True, "maxBuilding": 2, "maxBoxes": 8,
        "size": {"python": 2, "node": 0, "bun": 0, "deno": 0, "bash": 1}}


def pool_ready(d):
    with d.client() as c:
        st = c.result("pool.status")
    return sum(k["ready"] for k in st["keys"]), st["pooled"]


def test_pool_ready_and_in_use(start_daemon):
    d = start_daemon(config={"pool": POOL}, pool=True)
    assert wait_until(lambda: pool_ready(d) == (3, 3), 30), pool_ready(d)
    assert gauges(d) == (3, 0, 0, 0)
    with d.client(timeout=30) as c:
        c.send("execute", params_of(py("import time\ntime.sleep(2)")))
        # The claimed box leaves the pool; its refill waits for the end.
        assert wait_until(lambda: gauges(d) == (2, 1, 0, 0), 10), metrics(d)
        assert c.recv(30)["result"]["exitCode"] == 0
    assert wait_until(lambda: gauges(d) == (3, 0, 0, 0), 30), metrics(d)
    assert counts(metrics(d)) == {("python", "ok"): 1}


def test_proxy_decisions_counted_with_and_without_logs(start_daemon,
                                                       http_server):  # noqa: F811
    d = start_daemon(config={"network": {"allowPrivate": True}})
    code = get_code(f"http://{HOST}:{http_server}/ok",
                    "http://blocked.example/x", "http://other.blocked.example/")
    r = execute(d, py(code), filtered(deny=[r"blocked\.example$"], log=False))
    assert r["stdout"].startswith("200 path=/ok "), r
    assert "networkLogs" not in r
    assert metrics(d)["proxyRequests"] == {"allow": 1, "block": 2}
    r = execute(d, py(code), filtered(deny=[r"blocked\.example$"]))
    actions = [e["action"] for e in r["networkLogs"]]
    assert actions == ["ALLOW", "BLOCK", "BLOCK"], r["networkLogs"]
    assert metrics(d)["proxyRequests"] == {"allow": 2, "block": 4}
    # Without filtered networking nothing goes through the proxy.
    execute(d, py(code))
    assert metrics(d)["proxyRequests"] == {"allow": 2, "block": 4}
    assert counts(metrics(d)) == {("python", "ok"): 3}
