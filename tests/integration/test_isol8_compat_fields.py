"""isol8 compatibility of request fields, results and stream events,
through the HTTP bridge (isol8ctl serve) with the bodies isol8 v0.20's
CLI and RemoteIsol8 send: every option key they always send is accepted,
each with its meaning (persist keeps the box as a session of the caller's
tenant); results carry isol8's resourceUsage fields; exit events carry
their phase; the timeout and truncation texts are isol8's."""
import copy
import http.client
import json

import pytest

from execute_helpers import TIMEOUT_EVENT, TIMEOUT_TEXT, truncation_marker
from isol8_bridge import Bridge, start_bridge  # noqa: F401
from isol8_fixtures import _factory
from isol8_harness import BUILD
from test_bridge import sse_events
from test_network import HOST, http_server  # noqa: F401

MASTER = "master-key"

# What isol8's CLI sends for `isol8 run -e 'print("hello")' -r python`
# against --host, with its built-in configuration: the options it always
# sends (mode, debug, persist, remoteCode, poolStrategy, poolSize, audit)
# included.
REMOTE_CODE = {"enabled": False, "allowedSchemes": ["https"],
               "allowedHosts": [], "blockedHosts": [],
               "maxCodeSize": 10485760, "fetchTimeoutMs": 30000,
               "requireHash": False, "enableCache": True, "cacheTtl": 3600}
AUDIT = {"enabled": False, "destination": "filesystem",
         "trackResources": True, "retentionDays": 90,
         "includeCode": False, "includeOutput": False}
CLI_BODY = {
    "request": {"runtime": "python", "timeoutMs": 30000,
                "code": 'print("hello")'},
    "options": {"mode": "ephemeral", "network": "none",
                "networkFilter": {"whitelist": [], "blacklist": []},
                "memoryLimit": "512m", "cpuLimit": 1, "timeoutMs": 30000,
                "debug": False, "persist": False,
                "remoteCode": REMOTE_CODE, "poolStrategy": "fast",
                "poolSize": {"clean": 1, "dirty": 1}, "audit": AUDIT},
}
USAGE = ("cpuTimeMs", "peakMemoryMB", "cpuPercent", "memoryMB",
         "networkBytesIn", "networkBytesOut")


def body(code=None, runtime=None, request=None, **options):
    b = copy.deepcopy(CLI_BODY)
    if code is not None:
        b["request"]["code"] = code
    if runtime is not None:
        b["request"]["runtime"] = runtime
    b["request"].update(request or {})
    b["options"].update(options)
    return b


def as_key(b, key, method, path, payload=None):
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=60)
    try:
        c.request(method, path,
                  body=None if payload is None else json.dumps(payload),
                  headers={"Authorization": f"Bearer {key}",
                           "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if path != "/execute/stream"
                          else sse_events(data))
    finally:
        c.close()


CONFIG = {"network": {"allowPrivate": True}, "tenants": {"maxSessions": 2}}


def keyed(d, b):
    """Two tenants' keys, made with the master key."""
    keys = {}
    for tenant in ("team-a", "team-b"):
        status, k = as_key(b, MASTER, "POST", "/auth/keys",
                           {"name": tenant, "tenantId": tenant})
        assert status == 201, k
        keys[tenant] = k["key"]
    return d, b, keys


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A daemon (private addresses allowed, for the loopback server) and a
    bridge with an SQLite key store, for the tests that keep nothing."""
    start, finish = _factory(BUILD, False)
    d = start(config=CONFIG)
    db = tmp_path_factory.mktemp("keys") / "keys.db"
    b = Bridge(d.socket_path, key=MASTER, args=["--auth-db", str(db)])
    yield keyed(d, b)
    rc = b.stop()
    b.proc.stdout.close()
    b.proc.stderr.close()
    errors = finish()
    assert rc == 0 and not errors, errors


@pytest.fixture
def env(start_daemon, start_bridge, tmp_path):
    """The same, of its own, for a test that keeps sessions."""
    d = start_daemon(config=CONFIG)
    b = start_bridge(d, key=MASTER,
                     args=["--auth-db", str(tmp_path / "keys.db")])
    return keyed(d, b)


def run(env, payload, tenant="team-a", path="/execute"):
    d, b, keys = env
    return as_key(b, keys[tenant], "POST", path, payload)


def ok(env, payload, **kw):
    status, r = run(env, payload, **kw)
    assert status == 200, r
    return r


# ---- request fields ----


def test_the_cli_body_runs_whole_and_streamed(shared):
    r = ok(shared, CLI_BODY)
    assert r["stdout"] == "hello\n" and r["exitCode"] == 0, r
    for key in USAGE:
        v = r["resourceUsage"][key]
        assert isinstance(v, (int, float)) and v >= 0, r["resourceUsage"]
    assert "sessionId" not in r and "persistError" not in r, r
    # "mode" is ignored: a persistent mode without a sessionId is still
    # one run, as isol8's server decides by sessionId alone.
    r = ok(shared, body(mode="persistent"))
    assert r["stdout"] == "hello\n" and "sessionId" not in r, r
    status, sessions = as_key(shared[1], shared[2]["team-a"], "GET",
                              "/sessions")
    assert status == 200 and sessions["sessions"] == [], sessions
    status, events = run(shared, CLI_BODY, path="/execute/stream")
    assert status == 200, events
    assert events == [{"type": "stdout", "data": "hello\n", "phase": "code"},
                      {"type": "exit", "data": "0", "phase": "code"}]


def test_hints_are_accepted_in_every_shape_isol8_allows(shared):
    r = ok(shared, body(poolStrategy="secure", poolSize=3,
                     audit={"enabled": True, "destination": "stdout",
                            "postLogScript": "/bin/true"},
                     remoteCode=dict(REMOTE_CODE, enabled=True,
                                     allowedHosts=[".*"]),
                     request={"allowInsecureCodeUrl": True,
                              "metadata": {"userId": "u1"}}))
    assert r["stdout"] == "hello\n", r


@pytest.mark.parametrize("options,request_,words", [
    ({"mode": "forever"}, {}, ["options.mode", "ephemeral"]),
    ({"debug": "yes"}, {}, ["options.debug", "true or false"]),
    ({"persist": 1}, {}, ["options.persist"]),
    ({"poolStrategy": "quick"}, {}, ["options.poolStrategy", "secure"]),
    ({"poolSize": -1}, {}, ["options.poolSize"]),
    ({"poolSize": {"clean": "1"}}, {}, ["options.poolSize.clean"]),
    ({"poolSize": {"warm": 1}}, {}, ["options.poolSize.warm",
                                     "unknown field"]),
    ({"audit": True}, {}, ["options.audit", "object"]),
    ({"audit": {"enabled": "no"}}, {}, ["options.audit.enabled"]),
    ({"remoteCode": {"allowedHosts": "x"}}, {},
     ["options.remoteCode.allowedHosts", "array"]),
    ({"remoteCode": {"enable": True}}, {},
     ["options.remoteCode.enable", "unknown field"]),
    ({"memoryLimt": "1g"}, {}, ["options.memoryLimt", "unknown field"]),
    ({}, {"allowInsecureCodeUrl": "yes"},
     ["request.allowInsecureCodeUrl"]),
    ({}, {"agentFlags": "--thinking"}, ["request.agentFlags", "agent"]),
    ({}, {"runtime": "agent"}, ["request.runtime", "agent",
                                "python, node, bun, deno, bash"]),
])
def test_bad_values_are_refused_naming_the_field(shared, options, request_,
                                                 words):
    status, r = run(shared, body(request=request_, **options))
    assert status == 400, r
    for w in words:
        assert w in r["error"], r


def test_remote_code_policy_never_enables_code_urls(shared):
    b = body(remoteCode=dict(REMOTE_CODE, enabled=True,
                             allowedSchemes=["http", "https"]),
             request={"allowInsecureCodeUrl": True,
                      "codeUrl": "http://127.0.0.1/x.py"})
    del b["request"]["code"]
    status, r = run(shared, b)
    assert status == 400 and "request.codeUrl" in r["error"], r


def test_debug_logs_that_execution_only(shared):
    d = shared[0]
    quiet = ok(shared, CLI_BODY)
    loud = ok(shared, body(debug=True))
    log = d.stderr_path.read_text()
    assert f"execution {loud['executionId']}: code phase" in log, log[-2000:]
    assert f"execution {loud['executionId']}: exit code 0" in log
    # Another execution's steps stay at the debug level the daemon is not
    # at: options.debug changed nothing global.
    assert f"execution {quiet['executionId']}: code phase" not in log
    after = ok(shared, CLI_BODY)
    log = d.stderr_path.read_text()
    assert f"execution {after['executionId']}: code phase" not in log


# ---- persist ----


def test_persist_keeps_the_box_as_the_callers_session(env):
    d, b, keys = env
    r = ok(env, body(code="open('/sandbox/left.txt', 'w').write('kept')\n"
                          "print('done')", persist=True))
    assert r["stdout"] == "done\n", r
    sid = r["sessionId"]
    assert sid and r["containerId"], r
    status, mine = as_key(b, keys["team-a"], "GET", "/sessions")
    assert status == 200, mine
    assert [(s["id"], s["persisted"]) for s in mine["sessions"]] == \
        [(sid, True)], mine
    # Another tenant sees nothing of it.
    status, theirs = as_key(b, keys["team-b"], "GET", "/sessions")
    assert status == 200 and theirs["sessions"] == [], theirs
    # Its owner inspects what the run left.
    look = body(code="print(open('/sandbox/left.txt').read())")
    look["sessionId"] = sid
    r2 = ok(env, look)
    assert r2["stdout"] == "kept\n" and r2["containerId"] == r["containerId"]
    # The same id from another tenant is a session of its own, empty.
    r3 = ok(env, look, tenant="team-b")
    assert r3["exitCode"] != 0 and "FileNotFoundError" in r3["stderr"], r3
    # The daemon's own view marks it too, with the caller's tenant.
    with d.client() as c:
        sessions = c.result("session.list")["sessions"]
    kept = [s for s in sessions if s["id"] == sid and s["persisted"]]
    assert len(kept) == 1 and kept[0]["tenant"] == "team-a", sessions
    assert all(k in kept[0]["resourceUsage"] for k in USAGE), kept
    # Cleanup removes it, counted as isol8's kept containers.
    status, c = as_key(b, keys["team-a"], "POST", "/cleanup", {})
    assert status == 200 and c["containers"]["removed"] == 1, c
    status, mine = as_key(b, keys["team-a"], "GET", "/sessions")
    assert mine["sessions"] == [], mine


def test_persist_within_the_tenants_quota(env):
    d, b, keys = env
    kept = [ok(env, body(persist=True))["sessionId"] for _ in range(2)]
    assert len(set(kept)) == 2, kept
    # tenants.maxSessions is 2: the run is answered, the box not kept.
    r = ok(env, body(persist=True))
    assert r["stdout"] == "hello\n" and "sessionId" not in r, r
    assert "tenants.maxSessions" in r["persistError"], r
    status, mine = as_key(b, keys["team-a"], "GET", "/sessions")
    assert sorted(s["id"] for s in mine["sessions"]) == sorted(kept)


def test_persist_of_a_timed_out_run_keeps_nothing(env):
    # The request's timeoutMs (the CLI sends one) wins over the option's.
    r = ok(env, body(code="import time\ntime.sleep(30)", persist=True,
                     request={"timeoutMs": 500}))
    assert r["exitCode"] == 137 and "sessionId" not in r, r
    assert r["persistError"], r
    status, mine = as_key(env[1], env[2]["team-a"], "GET", "/sessions")
    assert mine["sessions"] == [], mine


# ---- results ----


def test_cpu_percent_of_a_busy_loop(shared):
    r = ok(shared, body(code="import time\nt = time.process_time()\n"
                          "while time.process_time() - t < 0.3: pass"))
    ru = r["resourceUsage"]
    assert ru["cpuPercent"] > 0 and ru["cpuTimeMs"] >= 300, ru
    assert ru["peakMemoryMB"] > 0 and isinstance(ru["memoryMB"], int), ru
    assert ru["networkBytesIn"] == 0 and ru["networkBytesOut"] == 0, ru


def test_network_bytes_of_a_filtered_fetch(shared, http_server):
    url = f"http://{HOST}:{http_server}/bytes/5000"
    r = ok(shared, body(code="import urllib.request\n"
                          f"print(len(urllib.request.urlopen({url!r}, "
                          "timeout=10).read()))",
                     network="filtered",
                     networkFilter={"whitelist": [], "blacklist": []}))
    assert r["stdout"] == "5000\n", r
    ru = r["resourceUsage"]
    assert ru["networkBytesIn"] > 5000, ru
    assert ru["networkBytesOut"] > 0, ru


def test_exit_events_carry_their_phase(shared):
    status, events = run(shared, body(request={"setupScript": "echo prep"}),
                         path="/execute/stream")
    assert status == 200, events
    assert events == [
        {"type": "stdout", "data": "prep\n", "phase": "setup"},
        {"type": "exit", "data": "0", "phase": "setup"},
        {"type": "stdout", "data": "hello\n", "phase": "code"},
        {"type": "exit", "data": "0", "phase": "code"}], events


def test_timeout_texts(shared):
    slow = body(code="import sys, time\nsys.stderr.write('oops')\n"
                     "sys.stderr.flush()\ntime.sleep(30)",
                request={"timeoutMs": 500})
    r = ok(shared, slow)
    assert r["stderr"] == "oops\n" + TIMEOUT_TEXT and r["exitCode"] == 137
    assert TIMEOUT_TEXT == "--- EXECUTION TIMED OUT ---"
    status, events = run(shared, slow, path="/execute/stream")
    assert status == 200, events
    assert events[-2:] == [
        {"type": "error", "data": TIMEOUT_EVENT, "phase": "code"},
        {"type": "exit", "data": "137", "phase": "code"}], events


def test_truncation_marker(shared):
    r = ok(shared, body(code="print('x' * 5000)", maxOutputSize=1000))
    assert r["truncated"] is True, r
    assert r["stdout"] == "x" * 1000 + truncation_marker(5001, 1000), \
        r["stdout"][-80:]
    assert r["stdout"].endswith(
        "\n\n--- OUTPUT TRUNCATED (5001 bytes, limit: 1000) ---")
