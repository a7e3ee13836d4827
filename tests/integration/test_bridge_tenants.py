"""The bridge's tenants: API keys in an SQLite database (--auth-db),
managed with the master key through isol8's /auth routes, each acting for
its tenant, which sees and touches only its own sessions; and the limits
that keep half-open, unauthenticated connections from holding every
thread of the bridge."""
import base64
import http.client
import json
import socket

import pytest

from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import wait_until

MASTER = "master-key"


def b64(s):
    return base64.b64encode(s.encode()).decode()


def as_key(b, key, method, path, body=None, source=None):
    """(status, JSON) of one request with key, from source's address."""
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=30,
                                   source_address=source)
    try:
        c.request(method, path, body=None if body is None
                  else json.dumps(body),
                  headers={"Authorization": f"Bearer {key}",
                           "Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def admitted_from(b, addr):
    """A request from addr got 200; a connection refused or reset while
    the bridge has not yet counted the dropped ones out is a no."""
    try:
        return as_key(b, MASTER, "GET", "/sessions", source=(addr, 0))[0] == 200
    except ConnectionError:
        return False


@pytest.fixture
def keyed(start_daemon, start_bridge, tmp_path):
    d = start_daemon(config={"tenants": {"maxSessions": 2}})
    db = tmp_path / "keys.db"
    b = start_bridge(d, key=MASTER, args=["--auth-db", str(db)])
    return d, b, db


def new_key(b, tenant, **extra):
    status, k = as_key(b, MASTER, "POST", "/auth/keys",
                       {"name": f"key of {tenant}", "tenantId": tenant,
                        **extra})
    assert status == 201, k
    return k


def session_ids(b, key):
    status, r = as_key(b, key, "GET", "/sessions")
    assert status == 200, r
    return sorted(s["id"] for s in r["sessions"])


def run(b, key, code, sid):
    return as_key(b, key, "POST", "/execute", {
        "request": {"runtime": "bash", "code": code}, "sessionId": sid})


def test_key_management(keyed):
    d, b, db = keyed
    k = new_key(b, "team-a", ttlMs=3600000)
    assert k["key"].startswith("isol8_") and len(k["key"]) > 40
    assert k["keyPrefix"] == k["key"][:10] + "..."
    assert k["tenantId"] == "team-a" and k["name"] == "key of team-a"
    assert k["id"] and k["expiresAt"]
    # Only a digest is stored.
    assert k["key"].encode() not in db.read_bytes()
    status, r = as_key(b, MASTER, "GET", "/auth/keys")
    assert status == 200 and [x["id"] for x in r["keys"]] == [k["id"]]
    assert "key" not in r["keys"][0] and r["keys"][0]["revoked"] is False
    status, r = as_key(b, MASTER, "GET", "/auth/keys?tenantId=other")
    assert status == 200 and r["keys"] == []

    # The tenant's key works, and is no master key.
    assert as_key(b, k["key"], "GET", "/sessions")[0] == 200
    status, r = as_key(b, k["key"], "GET", "/auth/keys")
    assert status == 403 and r["error"] == \
        "Master key required for this operation"
    assert as_key(b, k["key"], "POST", "/auth/login", {})[0] == 403

    for bad, word in [({}, "name is required"),
                      ({"name": "x", "tenantId": "a b"}, "tenantId"),
                      ({"name": "x", "tenantId": "uid:0"}, "tenantId"),
                      ({"name": "x", "ttlMs": 0}, "ttlMs"),
                      ({"name": 5}, "name")]:
        status, r = as_key(b, MASTER, "POST", "/auth/keys", bad)
        assert status == 400 and word in r["error"], (bad, r)

    status, r = as_key(b, MASTER, "POST", "/auth/login", {"ttlMs": 60000})
    assert status == 200 and r["token"].startswith("isol8_")
    assert r["keyId"] and r["expiresAt"]
    assert as_key(b, r["token"], "GET", "/sessions")[0] == 200

    status, r = as_key(b, MASTER, "DELETE", f"/auth/keys/{k['id']}")
    assert status == 200 and r == {"ok": True, "id": k["id"]}
    status, r = as_key(b, k["key"], "GET", "/sessions")
    assert status == 403 and r["error"] == "Invalid API key"
    status, r = as_key(b, MASTER, "DELETE", "/auth/keys/nope")
    assert status == 404 and r["error"] == "Key not found"
    # An expired key is refused.
    gone = new_key(b, "team-a", ttlMs=1)
    assert wait_until(lambda: as_key(b, gone["key"], "GET",
                                     "/sessions")[0] == 403, 10)


def test_no_auth_db(daemon, start_bridge):
    b = start_bridge(daemon, key=MASTER)
    status, r = as_key(b, MASTER, "POST", "/auth/keys", {"name": "x"})
    assert status == 400 and "DB-backed auth is not enabled" in r["error"]


def test_tenants_see_only_their_own_sessions(keyed):
    d, b, _ = keyed
    a, bb = new_key(b, "team-a")["key"], new_key(b, "team-b")["key"]
    status, r = run(b, a, "echo a-secret > s.txt", "shared")
    assert status == 200 and r["exitCode"] == 0, r
    assert run(b, a, "true", "a-only")[0] == 200
    assert session_ids(b, a) == ["a-only", "shared"]

    assert session_ids(b, bb) == []
    status, r = as_key(b, bb, "GET", "/file?sessionId=shared&path=s.txt")
    assert status == 404 and r["error"] == "Session not found"
    status, r = as_key(b, bb, "POST", "/file", {
        "sessionId": "shared", "path": "s.txt", "content": b64("b's")})
    assert status == 404
    status, r = as_key(b, bb, "POST", "/session/shared/timeout",
                       {"timeoutSec": 1})
    assert status == 404
    assert as_key(b, bb, "DELETE", "/session/shared")[0] == 200
    # B's own "shared" is another session: A's file is not in it.
    status, r = run(b, bb, "cat s.txt", "shared")
    assert status == 200 and r["exitCode"] != 0
    assert "a-secret" not in r["stdout"]
    # B's quota (tenants.maxSessions 2) is B's: a third is 429.
    assert run(b, bb, "true", "b2")[0] == 200
    status, r = run(b, bb, "true", "b3")
    assert status == 429 and "tenants.maxSessions" in r["error"]

    # B's cleanup leaves A's sessions; A's file is still there.
    status, r = as_key(b, bb, "POST", "/cleanup", {})
    assert status == 200 and r["sessions"]["removed"] == 2
    assert session_ids(b, bb) == []
    assert session_ids(b, a) == ["a-only", "shared"]
    status, r = as_key(b, a, "GET", "/file?sessionId=shared&path=s.txt")
    assert status == 200 and r["content"] == b64("a-secret\n")

    # The master key sees and cleans every tenant's sessions.
    assert session_ids(b, MASTER) == ["a-only", "shared"]
    status, r = as_key(b, MASTER, "POST", "/cleanup", {})
    assert status == 200 and r["sessions"]["removed"] == 2
    assert session_ids(b, a) == []


def half_open(port, source):
    s = socket.socket()
    s.settimeout(30)
    s.bind((source, 0))
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"POST /execute HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        pass
    return s


def closed_by_server(s):
    try:
        return s.recv(4096) == b""
    except OSError:
        return True


def test_half_open_requests_cannot_hold_the_bridge(daemon, start_bridge):
    b = start_bridge(daemon, key=MASTER, args=[
        "--max-per-ip", "4", "--max-unauthenticated", "6",
        "--head-timeout", "2", "--idle-timeout", "60"])
    # An authenticated client, connected before the flood.
    kept = http.client.HTTPConnection("127.0.0.1", b.port, timeout=30)
    hdr = {"Authorization": f"Bearer {MASTER}"}
    kept.request("GET", "/sessions", headers=hdr)
    assert kept.getresponse().read()

    socks = [half_open(b.port, "127.0.0.1") for _ in range(10)]
    # One address holds at most its share; another still gets in.
    status, _ = as_key(b, MASTER, "GET", "/sessions",
                       source=("127.0.0.2", 0))
    assert status == 200
    # Unauthenticated connections from many addresses are capped too,
    # while the authenticated client goes on working.
    socks += [half_open(b.port, f"127.0.0.{i}") for i in range(3, 9)]
    kept.request("GET", "/sessions", headers=hdr)
    resp = kept.getresponse()
    assert resp.status == 200 and resp.read()
    kept.request("POST", "/execute", body=b'{"request": {"runtime": '
                 b'"bash", "code": "echo still"}}',
                 headers=dict(hdr, **{"Content-Type": "application/json"}))
    resp = kept.getresponse()
    assert resp.status == 200 and b"still" in resp.read()
    # Heads not sent in time are dropped, which frees the places.
    assert all(closed_by_server(s) for s in socks)
    for s in socks:
        s.close()
    assert wait_until(lambda: admitted_from(b, "127.0.0.9"), 30)
    kept.close()
