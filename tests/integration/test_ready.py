"""isol8ctl serve's readiness for a load balancer: GET /ready (no key)
says whether the node takes new work, with its pool and capacity; 503
with "unreachable", "full" or "draining" otherwise.  Draining (POST
/admin/drain, SIGTERM) refuses new work and serves what is here."""

import json
import os
import signal
import threading
import time

from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import pids_with_marker, wait_until

MASTER = "master-key-for-ready"


def ready(b):
    return b.json("GET", "/ready", auth=False)


def execute(b, code, session=None, runtime="python"):
    body = {"request": {"runtime": runtime, "code": code}}
    if session:
        body["sessionId"] = session
    return b.json("POST", "/execute", body, timeout=60)


def wait_status(b, want, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = ready(b)
        if body["status"] == want:
            return status, body
        time.sleep(0.05)
    raise AssertionError(f"/ready never said {want!r}; last {body}")


def test_ready_with_pool_and_capacity(start_daemon, start_bridge):
    d = start_daemon(config={"maxConcurrent": 7, "maxSessions": 5})
    b = start_bridge(d, key=MASTER)
    status, body = ready(b)
    assert status == 200, body
    assert body["status"] == "ready"
    assert body["capacity"] == {"executions": 0, "maxConcurrent": 7,
                                "left": 7, "sessions": 0,
                                "maxSessions": 5}
    assert isinstance(body["pool"]["ready"], int)
    assert execute(b, "print(1)", session="s1")[0] == 200
    assert ready(b)[1]["capacity"]["sessions"] == 1


def test_unreachable_daemon(start_daemon, start_bridge):
    d = start_daemon()
    b = start_bridge(d, key=MASTER)
    d.stop()
    status, body = ready(b)
    assert (status, body) == (503, {"status": "unreachable"})
    assert b.json("GET", "/health", auth=False)[0] == 200


def test_full_when_capacity_is_used(start_daemon, start_bridge):
    d = start_daemon(config={"maxConcurrent": 1})
    b = start_bridge(d, key=MASTER)
    mark = f"isol8-ready-full-{os.getpid()}"
    slow = {"request": {"runtime": "bash",
                        "code": f"exec -a {mark} sleep 60"}}
    c = b.connection()
    c.request("POST", "/execute", json.dumps(slow), b.headers())
    try:
        assert wait_until(lambda: pids_with_marker(mark), 15)
        status, body = ready(b)
        assert status == 503, body
        assert body["status"] == "full"
        assert body["capacity"]["left"] == 0
        assert body["capacity"]["executions"] == 1
    finally:
        c.close()
    # The client left: its execution is cancelled and room comes back.
    assert wait_status(b, "ready")[0] == 200


def test_admin_drain(daemon, start_bridge):
    b = start_bridge(daemon, key=MASTER)
    assert execute(b, "open('/tmp/n', 'w').write('41')", session="kept")[0] == 200
    status, body = b.json("POST", "/admin/drain", auth=False)
    assert status == 401, body
    assert ready(b)[0] == 200
    status, body = b.json("POST", "/admin/drain")
    assert (status, body) == (200, {"status": "draining"})
    assert ready(b) == (503, {"status": "draining"})
    # New work goes elsewhere; the session here is still served.
    status, body = execute(b, "print(1)")
    assert status == 503, body
    assert "draining" in body["error"]
    status, body = execute(b, "print(1)", session="new-one")
    assert status == 503, body
    status, body = execute(b, "print(int(open('/tmp/n').read()) + 1)",
                           session="kept")
    assert status == 200, body
    assert body["stdout"] == "42\n"
    assert b.json("GET", "/sessions")[0] == 200


def test_sigterm_drains_then_stops(daemon, start_bridge):
    b = start_bridge(daemon, key=MASTER)
    mark = f"isol8-ready-term-{os.getpid()}"
    result = {}

    def in_flight():
        result["r"] = execute(
            b, f"(exec -a {mark} sleep 4); echo finished", runtime="bash")

    t = threading.Thread(target=in_flight)
    t.start()
    try:
        assert wait_until(lambda: pids_with_marker(mark), 15)
        b.proc.send_signal(signal.SIGTERM)
        assert wait_status(b, "draining")[0] == 503
        status, body = execute(b, "print(1)")
        assert status == 503, body
    finally:
        t.join(60)
    status, body = result["r"]
    assert status == 200, body
    assert body["stdout"] == "finished\n"
    assert b.proc.wait(30) == 0


def test_unavailable_status_for_haproxy(daemon, start_bridge):
    """?unavailableStatus=404 (HAProxy's disable-on-404) says the same
    states with 404 in place of 503; anything else is refused by name."""
    b = start_bridge(daemon, key=MASTER)
    assert ready_as(b, "404")[0] == 200
    status, body = b.json("GET", "/ready?unavailableStatus=500", auth=False)
    assert status == 400, body
    assert "unavailableStatus" in body["error"]
    assert b.json("POST", "/admin/drain")[0] == 200
    assert ready_as(b, "404") == (404, {"status": "draining"})
    assert ready_as(b, "503") == (503, {"status": "draining"})


def test_unreachable_as_404(start_daemon, start_bridge):
    d = start_daemon()
    b = start_bridge(d, key=MASTER)
    d.stop()
    assert ready_as(b, "404") == (404, {"status": "unreachable"})


def ready_as(b, status):
    return b.json("GET", f"/ready?unavailableStatus={status}", auth=False)


def test_node_name_header(daemon, start_bridge):
    """--node-name is on every response: answers, errors, streams."""
    b = start_bridge(daemon, key=MASTER, args=["--node-name", "node-7.a_b"])
    for method, path, body, auth in (
            ("GET", "/health", None, False),
            ("GET", "/ready", None, False),
            ("GET", "/sessions", None, False),
            ("POST", "/execute/stream",
             {"request": {"runtime": "bash", "code": "echo hi"}}, True)):
        status, headers, _ = b.request(method, path, body, auth=auth)
        assert headers.get("X-Isol8-Node") == "node-7.a_b", \
            (method, path, status, headers)
    plain = start_bridge(daemon, key=MASTER)
    assert "X-Isol8-Node" not in plain.request("GET", "/health")[1]


def test_node_name_refused(daemon):
    for bad in ("", "a b", "x\r\nSet-Cookie: y", "n" * 64, "ü"):
        r = daemon.ctl("serve", "--port", "0", "--key", MASTER,
                       "--node-name", bad)
        assert r.returncode == 2, (bad, r)
        assert "Invalid --node-name" in r.stderr, r.stderr


def test_unrouted_execution_only_in_a_session_here(daemon, start_bridge):
    """X-Isol8-Unrouted (the balancer could not read the body's
    sessionId): served without a session or in one this node has, else
    421 saying why, and no session is made."""
    b = start_bridge(daemon, key=MASTER)
    assert execute(b, "echo kept > /sandbox/f", session="here",
                   runtime="bash")[0] == 200
    unrouted = {"X-Isol8-Unrouted": "truncated"}

    def run(code, session=None):
        body = {"request": {"runtime": "bash", "code": code}}
        if session:
            body["sessionId"] = session
        return b.json("POST", "/execute", body, headers=unrouted)

    status, body = run("cat /sandbox/f", "here")
    assert (status, body["stdout"]) == (200, "kept\n"), body
    status, body = run("echo free")
    assert (status, body["stdout"]) == (200, "free\n"), body
    status, body = run("echo lost", "elsewhere")
    assert status == 421, body
    assert "could not read this request's sessionId" in body["error"]
    ids = [s["id"] for s in b.json("GET", "/sessions")[1]["sessions"]]
    assert ids == ["here"]
