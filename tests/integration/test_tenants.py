"""Tenants through the daemon's socket: a uid sees and touches only its
own sessions (another's is not_found, as a missing one), only root and
tenants.bridgeUser may act for a named tenant, per-tenant quotas
(sessions, concurrent executions, connections per uid) answer busy naming
the quota, and every session has an expiry."""

import base64

import pytest

from isol8_harness import check_error
from tenant_client import OtherUid, open_socket_to_all

A, B, BRIDGE = 60001, 60002, 60003
OPEN = {"server": {"socketMode": "0666"},
        "tenants": {"bridgeUser": str(BRIDGE)}}


@pytest.fixture
def clients():
    made = []

    def make(d, uid):
        c = OtherUid(d.socket_path, uid)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def ok(msg):
    assert "error" not in msg, msg
    return msg["result"]


def b64(s):
    return base64.b64encode(s.encode()).decode()


def execute(c, code, sid=None, **extra):
    p = {"request": {"code": code, "runtime": "bash"}}
    if sid:
        p["sessionId"] = sid
    return c.call("execute", p, **extra)


def test_other_uid_cannot_see_or_touch_a_session(start_daemon, clients):
    d = start_daemon(config=OPEN)
    open_socket_to_all(d)
    a, b = clients(d, A), clients(d, B)
    sid = ok(a.call("session.create", {"runtime": "bash",
                                       "sessionId": "work"}))["id"]
    ok(a.call("file.put", {"sessionId": sid, "path": "secret.txt",
                           "content": b64("a's secret")}))
    assert ok(a.call("session.get", {"sessionId": sid}))["tenant"] == \
        f"uid:{A}"

    # Every call of B on A's session is answered as for a missing one.
    assert ok(b.call("session.list"))["sessions"] == []
    for method, params in [
            ("session.get", {"sessionId": sid}),
            ("session.set_timeout", {"sessionId": sid, "timeoutSec": 1}),
            ("file.get", {"sessionId": sid, "path": "secret.txt"}),
            ("file.put", {"sessionId": sid, "path": "x", "content": ""})]:
        msg = b.call(method, params)
        assert msg["error"]["data"]["kind"] == "not_found", (method, msg)
        assert msg["error"]["message"] == "Session not found", msg
    assert ok(b.call("session.delete", {"sessionId": sid})) == \
        {"ok": True, "deleted": False}
    # Executing with A's id runs in a session of B's own, A's files absent.
    r = ok(execute(b, "echo mine > b.txt; cat secret.txt", sid))
    assert r["exitCode"] != 0 and "a's secret" not in r["stdout"]

    # A's session is intact, and B's of the same id is B's alone.
    assert ok(a.call("file.get", {"sessionId": sid, "path": "secret.txt"}))[
        "content"] == b64("a's secret")
    msg = a.call("file.get", {"sessionId": sid, "path": "b.txt"})
    assert msg["error"]["data"]["kind"] == "not_found"
    assert [s["id"] for s in ok(a.call("session.list"))["sessions"]] == [sid]
    assert [s["tenant"] for s in ok(b.call("session.list"))["sessions"]] == \
        [f"uid:{B}"]

    # Root, an administrator, sees both and may delete A's.
    with d.client() as root:
        tenants = sorted(s["tenant"] for s in
                         root.result("session.list")["sessions"])
        assert tenants == [f"uid:{A}", f"uid:{B}"]
    assert ok(a.call("session.delete", {"sessionId": sid}))["deleted"]
    assert ok(b.call("session.delete", {"sessionId": sid}))["deleted"]


def test_only_the_bridge_user_and_root_may_act_for_a_tenant(start_daemon,
                                                            clients):
    d = start_daemon(config=OPEN)
    open_socket_to_all(d)
    a, bridge = clients(d, A), clients(d, BRIDGE)
    for method in ("session.list", "health", "execute"):
        msg = a.call(method, {}, actAs="alice")
        check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                    words=("actAs", "refused", "tenants.bridgeUser"))
    # Nothing was made for alice by the refused calls.
    with d.client() as root:
        assert root.result("session.list")["sessions"] == []

    sid = ok(bridge.call("session.create", {"runtime": "bash"},
                         actAs="alice"))["id"]
    assert ok(bridge.call("session.get", {"sessionId": sid},
                          actAs="alice"))["tenant"] == "alice"
    msg = bridge.call("session.get", {"sessionId": sid}, actAs="bob")
    assert msg["error"]["data"]["kind"] == "not_found"
    assert ok(bridge.call("session.list", {}, actAs="bob"))["sessions"] == []
    # The bridge as itself is just another tenant; "*" is its admin view.
    assert ok(bridge.call("session.list"))["sessions"] == []
    assert [s["id"] for s in ok(bridge.call("session.list", {},
                                            actAs="*"))["sessions"]] == [sid]
    for bad in ("uid:0", "", "a" * 65, 7, "x y"):
        msg = bridge.call("session.list", {}, actAs=bad)
        check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                    words=("actAs",))
    # Root may act for a tenant too.
    with d.client() as root:
        msg = root.call("session.list", {}, actAs="alice")
        assert [s["id"] for s in msg["result"]["sessions"]] == [sid]
        msg = root.call("session.list", {}, actAs="carol")
        assert msg["result"]["sessions"] == []
    assert ok(bridge.call("session.delete", {"sessionId": sid},
                          actAs="alice"))["deleted"]


def test_sessions_per_tenant(start_daemon, clients):
    d = start_daemon(config=dict(OPEN, tenants=dict(OPEN["tenants"],
                                                    maxSessions=2)))
    open_socket_to_all(d)
    a, b = clients(d, A), clients(d, B)
    for i in range(2):
        ok(a.call("session.create", {"runtime": "bash"}))
    msg = a.call("session.create", {"runtime": "bash"})
    check_error(msg, -32005, kind="busy", id=msg["id"],
                words=("tenants.maxSessions", "2"))
    msg = execute(a, "true", "implicit")
    assert msg["error"]["data"]["kind"] == "busy"
    assert "tenants.maxSessions" in msg["error"]["message"]
    # Other tenants and administrators are not held by A's quota.
    ok(b.call("session.create", {"runtime": "bash"}))
    with d.client() as root:
        for _ in range(3):
            root.result("session.create", {"runtime": "bash"})
    # A deleted session frees its place.
    sid = ok(a.call("session.list"))["sessions"][0]["id"]
    ok(a.call("session.delete", {"sessionId": sid}))
    ok(a.call("session.create", {"runtime": "bash"}))


def test_concurrent_executions_per_tenant(start_daemon, clients):
    d = start_daemon(config=dict(OPEN, tenants=dict(OPEN["tenants"],
                                                    maxConcurrent=1)))
    open_socket_to_all(d)
    a1, a2, b = clients(d, A), clients(d, A), clients(d, B)
    a1.send("execute", {"request": {"code": "sleep 60", "runtime": "bash",
                                    "timeoutMs": 60000}})
    # Wait until the first is counted: the daemon handles a1's frames in
    # order, so an answered call after it means it was accepted.
    ok(a1.call("health"))
    msg = execute(a2, "echo second")
    check_error(msg, -32005, kind="busy", id=msg["id"],
                words=("tenants.maxConcurrent", "1"))
    assert ok(execute(b, "echo other"))["stdout"] == "other\n"


def test_connections_per_uid(start_daemon, clients):
    d = start_daemon(config=dict(OPEN, tenants=dict(OPEN["tenants"],
                                                    maxConnections=3)))
    open_socket_to_all(d)
    a = clients(d, A)  # its first connection
    got = a.connect(4)
    assert all(m and "result" in m for m in got[:2]), got
    for m in got[2:]:
        check_error(m, -32005, kind="busy", id=None,
                    words=("uid 60001", "tenants.maxConnections", "3"))
    # Another uid and root still connect.
    assert all("result" in m for m in clients(d, B).connect(2))
    assert d.health()["status"] == "ok"


def test_every_session_expires(start_daemon):
    d = start_daemon(config={"sessions": {"maxIdleTimeoutMs": 5000},
                             "cleanup": {"autoPrune": False}})
    with d.client() as c:
        for idle in (0, 100000, None):
            p = {"runtime": "bash"}
            if idle is not None:
                p["idleTimeoutSec"] = idle
            s = c.result("session.create", p)
            assert s["idleTimeoutSec"] == 5 and s["expiresAt"], (idle, s)
        s = c.result("session.set_timeout", {"sessionId": s["id"],
                                             "timeoutSec": 0})
        assert s["idleTimeoutSec"] == 5 and s["expiresAt"]
        s = c.result("session.set_timeout", {"sessionId": s["id"],
                                             "timeoutSec": 2})
        assert s["idleTimeoutSec"] == 2
