"""isol8ctl serve applies isol8's config file as isol8's server does:
defaults.* for executions that leave them out (the client's own values
win, and the daemon's limits still apply on top), auth.defaultTtlMs for
keys and logins made without ttlMs, and cleanup.autoPrune: idle sessions
older than cleanup.maxContainerAgeMs deleted through the daemon (every
60 s as isol8; SIGUSR1 runs a pass at once, which these tests use)."""

import json
import signal
import threading
import time

import pytest

from isol8_bridge import start_bridge  # noqa: F401

MASTER = "master-key-for-serve"
PASS_TIMEOUT = 30


def bridge_with(daemon, start_bridge, tmp_path, config, auth_db=False):
    home = tmp_path / "home"
    (home / ".isol8").mkdir(parents=True)
    (home / ".isol8" / "config.json").write_text(json.dumps(config))
    args = ["--auth-db", str(tmp_path / "keys.db")] if auth_db else []
    return start_bridge(daemon, key=MASTER, args=args,
                        env={"HOME": str(home)})


def execute(b, request, options=None, session=None):
    body = {"request": {"runtime": "python", **request}}
    if options is not None:
        body["options"] = options
    if session:
        body["sessionId"] = session
    return b.json("POST", "/execute", body, timeout=60)


def test_request_defaults_applied(daemon, start_bridge, tmp_path):
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"defaults": {"timeoutMs": 700, "memoryLimit": "96m"}})
    sleeper = {"code": "import time\ntime.sleep(20)\nprint('late')"}
    status, r = execute(b, sleeper)
    assert status == 200 and r["exitCode"] == 137, r
    assert "EXECUTION TIMED OUT" in r["stderr"], r
    # The client's own values win, in options or in the request.
    quick = {"code": "import time\ntime.sleep(1)\nprint('done')"}
    for req, opt in ((quick, {"timeoutMs": 20000}),
                     ({**quick, "timeoutMs": 20000}, None)):
        status, r = execute(b, req, opt)
        assert status == 200 and r["stdout"] == "done\n", r
    # The memory default reaches the box's cgroup: 150 MB is too much.
    hog = {"code": "x = bytearray(150 * 1024 * 1024)\nprint('kept')",
           "timeoutMs": 20000}
    status, r = execute(b, hog)
    assert status == 200 and r["exitCode"] != 0 and "kept" not in \
        r["stdout"], r
    status, r = execute(b, hog, {"memoryLimit": "512m"})
    assert status == 200 and r["stdout"] == "kept\n", r


def test_a_default_never_loosens_the_daemon(daemon, start_bridge, tmp_path):
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"defaults": {"memoryLimit": "1000g"}})
    status, r = execute(b, {"code": "print(1)"})
    assert status == 400, r
    assert "memoryLimit" in r["error"] and "limits.memoryLimit" in \
        r["error"], r


def test_bad_config_stops_serve(daemon, tmp_path):
    from isol8_bridge import Bridge
    home = tmp_path / "home"
    (home / ".isol8").mkdir(parents=True)
    (home / ".isol8" / "config.json").write_text(
        json.dumps({"auth": {"defaultTtlMs": 0}}))
    with pytest.raises(AssertionError, match="auth.defaultTtlMs"):
        Bridge(daemon.socket_path, key=MASTER, env={"HOME": str(home)})


def test_default_ttl_for_keys_and_logins(daemon, start_bridge, tmp_path):
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"auth": {"defaultTtlMs": 120000}}, auth_db=True)
    for path, body in (("/auth/keys", {"name": "k"}), ("/auth/login", {})):
        before = time.time() * 1000
        status, k = b.json("POST", path, body)
        after = time.time() * 1000
        assert status in (200, 201), k
        t = time.mktime(time.strptime(k["expiresAt"][:19],
                                      "%Y-%m-%dT%H:%M:%S")) - time.timezone
        # Whole seconds of the expiry against the window of the call.
        assert before + 120000 - 1000 <= t * 1000 <= after + 120000, k
    status, k = b.json("POST", "/auth/keys", {"name": "k", "ttlMs": 5000})
    t = time.mktime(time.strptime(k["expiresAt"][:19],
                                  "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert t * 1000 <= time.time() * 1000 + 5000, k


def session_ids(b):
    status, r = b.json("GET", "/sessions")
    assert status == 200, r
    return {s["id"] for s in r["sessions"]}


def wait_for(pred, timeout=PASS_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_auto_prune_deletes_old_idle_sessions(daemon, start_bridge,
                                              tmp_path):
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"cleanup": {"autoPrune": True,
                                 "maxContainerAgeMs": 0}})
    status, r = execute(b, {"code": "print(1)"}, session="old-one")
    assert status == 200, r
    assert session_ids(b) == {"old-one"}
    b.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: session_ids(b) == set()), session_ids(b)
    # The bridge still serves, and says what it pruned.
    status, r = execute(b, {"code": "print(2)"})
    assert status == 200 and r["stdout"] == "2\n", r
    assert b.stop() == 0
    assert "[INFO] Auto-pruned stale session: id=old-one\n" in b.stderr()


def test_auto_prune_skips_active_and_persisted(daemon, start_bridge,
                                              tmp_path):
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"cleanup": {"maxContainerAgeMs": 0}})
    assert execute(b, {"code": "print(1)"}, session="idle")[0] == 200
    status, r = execute(b, {"code": "print(1)"}, {"persist": True})
    assert status == 200 and r.get("sessionId"), r
    kept = r["sessionId"]
    done = []
    # An execution that waits on a file the test writes: active until then.
    t = threading.Thread(target=lambda: done.append(execute(
        b, {"code": "import os, time\n"
                    "while not os.path.exists('/sandbox/go'):\n"
                    "    time.sleep(0.05)\nprint('ran')",
            "timeoutMs": 60000}, session="busy")))
    t.start()

    def busy_active():
        status, r = b.json("GET", "/sessions")
        return any(s["id"] == "busy" and s["isActive"]
                   for s in r["sessions"])
    assert wait_for(busy_active)
    b.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: "idle" not in session_ids(b))
    assert {"busy", kept} <= session_ids(b)
    status, r = b.json("POST", "/file", {"sessionId": "busy",
                                         "path": "/sandbox/go", "content": ""})
    assert status == 200, r
    t.join(60)
    assert done and done[0][1]["stdout"] == "ran\n", done


@pytest.mark.parametrize("cleanup", [
    {"autoPrune": False, "maxContainerAgeMs": 0},
    {"maxContainerAgeMs": 3600000},
])
def test_no_prune_when_off_or_young(daemon, start_bridge, tmp_path, cleanup):
    """A pass asked for before SIGTERM is made before the bridge stops, so
    nothing printed and the session kept mean the pass spared it."""
    b = bridge_with(daemon, start_bridge, tmp_path, {"cleanup": cleanup})
    assert execute(b, {"code": "print(1)"}, session="s")[0] == 200
    b.proc.send_signal(signal.SIGUSR1)
    assert b.stop() == 0
    assert "Auto-pruned" not in b.stderr()
    other = bridge_with(daemon, start_bridge, tmp_path / "again",
                        {"cleanup": {"autoPrune": False}})
    assert "s" in session_ids(other)


def test_prune_before_stop_is_made(daemon, start_bridge, tmp_path):
    """The counterpart of the test above: with autoPrune on and an old
    idle session, the same steps prune it."""
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"cleanup": {"maxContainerAgeMs": 0}})
    assert execute(b, {"code": "print(1)"}, session="s")[0] == 200
    # Stale means idle for longer than the age, in milliseconds: a pass
    # made within the millisecond of the run would rightly keep it.
    time.sleep(0.01)
    b.proc.send_signal(signal.SIGUSR1)
    assert b.stop() == 0
    assert "[INFO] Auto-pruned stale session: id=s\n" in b.stderr()
    other = bridge_with(daemon, start_bridge, tmp_path / "again",
                        {"cleanup": {"autoPrune": False}})
    assert "s" not in session_ids(other)


def test_auth_enabled_in_the_config(daemon, start_bridge, tmp_path):
    """auth.enabled turns the key database on without --auth-db: at
    auth.connectionString, else ~/.isol8/auth.db (its directory made)."""
    db = tmp_path / "made" / "keys.db"
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"auth": {"enabled": True, "connectionString": str(db)}})
    status, k = b.json("POST", "/auth/keys", {"name": "cfg"})
    assert status == 201, k
    assert db.exists()
    status, r = b.json("GET", "/sessions",
                       headers={"Authorization": "Bearer " + k["key"]})
    assert status == 200, r
    home = tmp_path / "h2"
    (home / ".isol8").mkdir(parents=True)
    (home / ".isol8" / "config.json").write_text(
        json.dumps({"auth": {"enabled": True}}))
    b2 = start_bridge(daemon, key=MASTER, env={"HOME": str(home)})
    status, k = b2.json("POST", "/auth/login", {})
    assert status == 200 and k["token"].startswith("isol8_"), k
    assert (home / ".isol8" / "auth.db").exists()


def test_mysql_connection_string_is_refused(daemon, tmp_path):
    """isol8 takes MySQL too; here it is refused by name, its password
    unshown (PostgreSQL: test_auth_pg.py)."""
    from isol8_bridge import Bridge
    home = tmp_path / "home"
    (home / ".isol8").mkdir(parents=True)
    (home / ".isol8" / "config.json").write_text(json.dumps(
        {"auth": {"enabled": True,
                  "connectionString": "mysql://u:pw-77x@localhost/i"}}))
    with pytest.raises(AssertionError, match="MySQL is not supported") as e:
        Bridge(daemon.socket_path, key=MASTER, env={"HOME": str(home)})
    assert "auth.connectionString mysql://u:***@localhost/i" in str(e.value)
    assert "pw-77x" not in str(e.value)
    assert not (tmp_path / "mysql:").exists()


def test_expired_and_revoked_keys_are_purged(daemon, start_bridge, tmp_path):
    """auth.cleanupIntervalMs: expired and revoked keys leave the list."""
    b = bridge_with(daemon, start_bridge, tmp_path,
                    {"auth": {"cleanupIntervalMs": 300}}, auth_db=True)
    names = {}
    for name, ttl in (("short", 1), ("revoked", 600000), ("kept", 600000)):
        status, k = b.json("POST", "/auth/keys",
                           {"name": name, "ttlMs": ttl})
        assert status == 201, k
        names[name] = k["id"]
    status, r = b.json("DELETE", "/auth/keys/" + names["revoked"])
    assert status == 200, r

    def listed():
        status, r = b.json("GET", "/auth/keys")
        assert status == 200, r
        return {k["name"] for k in r["keys"]}
    assert wait_for(lambda: listed() == {"kept"}), listed()
