"""isol8ctl serve: isol8's HTTP API in front of a real isol8d.

Every route, authentication, the mapping of daemon errors to statuses,
Server-Sent Events framing (http.client and curl), body limits, many
clients at once, cancellation when a client leaves, and the daemon
restarting behind the bridge."""
import base64
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from isol8_bridge import Bridge, start_bridge  # noqa: F401
from isol8_harness import (BUILD, daemon_cgroup_dirs, pids_with_marker,
                           run_ctl, short_tmpdir, wait_until)
from isol8_harness import box_cgroups as harness_box_cgroups

PY_HELLO = {"request": {"runtime": "python", "code": "print('hello')"}}
AUTH_ROUTES = [
    ("POST", "/execute", PY_HELLO),
    ("POST", "/execute/stream", PY_HELLO),
    ("POST", "/file", {"sessionId": "s", "path": "a", "content": ""}),
    ("GET", "/file?sessionId=s&path=a", None),
    ("GET", "/sessions", None),
    ("DELETE", "/session/s", None),
    ("POST", "/session/s/timeout", {"timeoutSec": 5}),
    ("POST", "/cleanup", {}),
    ("GET", "/metrics", None),
]


@pytest.fixture
def bridge(daemon, start_bridge):
    return start_bridge(daemon)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def box_cgroups(d):
    """The cgroups of the daemon's boxes, on every hierarchy."""
    return sorted(f"{ctl}/{b}" for ctl, boxes in
                  harness_box_cgroups(daemon_cgroup_dirs(d.pid)).items()
                  for b in boxes)


def sse_events(raw, keepalives=None):
    """The JSON of each `data:` frame; every frame must be exactly one
    data line, or a keep-alive comment, and a blank line."""
    text = raw.decode()
    assert text.endswith("\n\n"), text
    events = []
    for frame in text[:-2].split("\n\n"):
        if frame == ": keepalive" and keepalives is not None:
            keepalives.append(frame)
            continue
        assert frame.startswith("data: ") and "\n" not in frame, frame
        events.append(json.loads(frame[len("data: "):]))
    return events


# ---- health and authentication ----

def test_health_needs_no_key(bridge):
    status, headers, body = bridge.request("GET", "/health", auth=False)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    version = run_ctl("--version").stdout.split()[-1]
    assert json.loads(body) == {"status": "ok", "version": version}


@pytest.mark.parametrize("method,path,body", AUTH_ROUTES)
def test_missing_and_wrong_key(bridge, method, path, body):
    status, got = bridge.json(method, path, body, auth=False)
    assert (status, got) == (401, {"error": "Missing Authorization header"})
    status, got = bridge.json(method, path, body, auth=False,
                              headers={"Authorization": "Bearer nope"})
    assert (status, got) == (403, {"error": "Invalid API key"})
    # A key that is a prefix, or the key with more behind it, is wrong too.
    for token in (bridge.key[:-1], bridge.key + "x", ""):
        status, _ = bridge.json(method, path, body, auth=False, headers={
            "Authorization": f"Bearer {token}"})
        assert status == 403, token


def test_bearer_word_is_case_insensitive(bridge):
    status, got = bridge.json("GET", "/sessions", auth=False, headers={
        "Authorization": f"bearer   {bridge.key}"})
    assert (status, got) == (200, {"sessions": []})


def test_unknown_route_and_method(bridge):
    status, got = bridge.json("GET", "/nope")
    assert status == 404 and "/nope" in got["error"]
    status, got = bridge.json("GET", "/execute")
    assert status == 405 and "POST" in got["error"]


# ---- execute ----

def test_execute_result(bridge):
    status, r = bridge.json("POST", "/execute", {
        "request": {"runtime": "python",
                    "code": "import sys; print(2 ** 10); "
                            "print('e', file=sys.stderr); sys.exit(3)"},
        "options": {"timeoutMs": 10000}})
    assert status == 200, r
    assert r["stdout"] == "1024\n" and r["stderr"] == "e\n"
    assert r["exitCode"] == 3 and r["runtime"] == "python"
    for key in ("durationMs", "truncated", "executionId", "timestamp"):
        assert key in r


@pytest.mark.parametrize("body,words", [
    ("{", "not valid JSON"),
    ("[1]", "JSON object"),
    ("", "JSON object"),
    ({"options": {}}, '"request"'),
    ({"request": "print(1)"}, '"request"'),
])
def test_execute_malformed_body(bridge, body, words):
    for path in ("/execute", "/execute/stream"):
        status, got = bridge.json("POST", path, body)
        assert status == 400 and words in got["error"], (path, got)


def test_daemon_refusal_is_400_with_its_message(bridge):
    body = {"request": {"runtime": "cobol", "code": "x"}}
    for path in ("/execute", "/execute/stream"):
        status, headers, raw = bridge.request("POST", path, body)
        assert status == 400, raw
        assert headers["Content-Type"] == "application/json"
        assert "Unknown runtime" in json.loads(raw)["error"]


def test_busy_is_429_with_retry_after(start_daemon, start_bridge):
    d = start_daemon(config={"maxConcurrent": 1})
    b = start_bridge(d)
    mark = f"isol8-busy-{os.getpid()}"
    slow = {"request": {"runtime": "bash", "code": f"exec -a {mark} sleep 30"}}
    c = b.connection()
    c.request("POST", "/execute", json.dumps(slow), b.headers())
    try:
        assert wait_until(lambda: pids_with_marker(mark), 15)
        for path in ("/execute", "/execute/stream"):
            status, headers, raw = b.request("POST", path, PY_HELLO)
            assert status == 429, raw
            assert headers["Retry-After"] == "1"
            assert "maxConcurrent" in json.loads(raw)["error"]
    finally:
        c.close()


# ---- streams ----

STREAM_CODE = ("import sys, time\n"
               "for i in range(3):\n"
               "    print(i, flush=True)\n"
               "    print('err', i, file=sys.stderr, flush=True)\n"
               "    time.sleep(0.1)\n"
               "sys.exit(4)\n")


def test_stream_framing_http_client(bridge):
    c = bridge.connection()
    c.request("POST", "/execute/stream", json.dumps(
        {"request": {"runtime": "python", "code": STREAM_CODE}}),
        bridge.headers())
    r = c.getresponse()
    assert r.status == 200
    assert r.getheader("Content-Type") == "text/event-stream"
    assert r.getheader("Cache-Control") == "no-cache"
    events = sse_events(r.read())
    c.close()
    out = [e["data"] for e in events if e["type"] == "stdout"]
    err = [e["data"] for e in events if e["type"] == "stderr"]
    assert "".join(out) == "0\n1\n2\n"
    assert "".join(err) == "err 0\nerr 1\nerr 2\n"
    assert events[-1] == {"type": "exit", "data": "4", "phase": "code"}
    assert all("id" not in e for e in events)


def test_stream_framing_curl(bridge):
    curl = shutil.which("curl")
    if not curl:
        pytest.skip("curl is not installed")
    out = subprocess.run(
        [curl, "-sS", "-N", "-X", "POST", bridge.url + "/execute/stream",
         "-H", f"Authorization: Bearer {bridge.key}",
         "-d", json.dumps({"request": {"runtime": "bash",
                                       "code": "echo a; sleep 0.2; echo b"}})],
        capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    events = sse_events(out.stdout)
    assert [e["data"] for e in events if e["type"] == "stdout"] == \
        ["a\n", "b\n"]
    assert events[-1] == {"type": "exit", "data": "0", "phase": "code"}


def test_stream_events_arrive_as_they_happen(bridge):
    s = socket.create_connection(("127.0.0.1", bridge.port), timeout=20)
    body = json.dumps({"request": {
        "runtime": "bash", "code": "echo first; sleep 2; echo second"}})
    s.sendall((f"POST /execute/stream HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {bridge.key}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    got = b""
    t0 = time.monotonic()
    while b"first" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    first_at = time.monotonic() - t0
    while b'"exit"' not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    s.close()
    assert b"Transfer-Encoding: chunked" in got
    # "first" came while the program still slept, not with the rest.
    assert first_at < time.monotonic() - t0 - 1, first_at


def test_stream_timeout_reports_error_then_exit(bridge):
    status, _, raw = bridge.request("POST", "/execute/stream", {
        "request": {"runtime": "bash", "code": "sleep 20"},
        "options": {"timeoutMs": 300}})
    assert status == 200
    events = sse_events(raw)
    assert {"type": "error", "data": "EXECUTION TIMED OUT",
            "phase": "code"} in events
    assert events[-1] == {"type": "exit", "data": "137", "phase": "code"}


# ---- cancellation ----

def _leave_during(bridge, path, mark):
    code = f"exec -a {mark} sleep 60"
    body = json.dumps({"request": {"runtime": "bash", "code": code}})
    s = socket.create_connection(("127.0.0.1", bridge.port), timeout=20)
    s.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {bridge.key}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    assert wait_until(lambda: pids_with_marker(mark), 15), \
        "the program never started"
    s.close()
    assert wait_until(lambda: not pids_with_marker(mark), 10), \
        "the execution outlived its client"


@pytest.mark.parametrize("path", ["/execute", "/execute/stream"])
def test_client_leaving_cancels_its_execution(daemon, start_bridge, path):
    b = start_bridge(daemon)
    _leave_during(b, path, f"isol8-leave-{os.getpid()}-{path[-6:]}")
    assert wait_until(lambda: not box_cgroups(daemon), 10), \
        box_cgroups(daemon)
    status, r = b.json("POST", "/execute", PY_HELLO)
    assert status == 200 and r["stdout"] == "hello\n"


# ---- files and sessions ----

def test_files_round_trip(bridge):
    sid = "files-1"
    status, r = bridge.json("POST", "/execute", {
        "request": {"runtime": "python", "code": "print('made')"},
        "sessionId": sid})
    assert status == 200 and r["stdout"] == "made\n"
    data = bytes(range(256)) * 300
    status, got = bridge.json("POST", "/file", {
        "sessionId": sid, "path": "/sandbox/dir/in.bin",
        "content": base64.b64encode(data).decode()})
    assert (status, got) == (200, {"ok": True})
    status, got = bridge.json(
        "GET", f"/file?sessionId={sid}&path=/sandbox/dir/in.bin")
    assert status == 200 and list(got) == ["content"]
    assert base64.b64decode(got["content"]) == data
    status, r = bridge.json("POST", "/execute", {
        "request": {"runtime": "python", "code":
                    "print(len(open('/sandbox/dir/in.bin','rb').read()))"},
        "sessionId": sid})
    assert r["stdout"] == f"{len(data)}\n"


def test_file_errors(bridge):
    status, got = bridge.json("GET", "/file?sessionId=nope")
    assert (status, got) == (400, {"error": "Missing sessionId or path"})
    status, got = bridge.json("GET", "/file?sessionId=nope&path=a")
    assert (status, got) == (404, {"error": "Session not found"})
    status, got = bridge.json("POST", "/file", {
        "sessionId": "nope", "path": "a", "content": ""})
    assert (status, got) == (404, {"error": "Session not found"})
    bridge.json("POST", "/execute", {**PY_HELLO, "sessionId": "f2"})
    status, got = bridge.json("GET", "/file?sessionId=f2&path=missing.txt")
    assert status == 404 and "missing.txt" in got["error"]
    status, got = bridge.json("POST", "/file", {
        "sessionId": "f2", "path": "a", "content": "***"})
    assert status == 400 and "content" in got["error"]


def test_sessions_list_timeout_delete(bridge):
    for sid in ("s-a", "s-b"):
        status, _ = bridge.json("POST", "/execute",
                                {**PY_HELLO, "sessionId": sid})
        assert status == 200
    status, got = bridge.json("GET", "/sessions")
    assert status == 200
    assert sorted(s["id"] for s in got["sessions"]) == ["s-a", "s-b"]
    for s in got["sessions"]:
        assert set(s) == {"id", "isActive", "lastAccessedAt", "persisted"}
        assert s["persisted"] is False, s
        assert s["isActive"] is False
        assert s["lastAccessedAt"].endswith("Z")
    status, got = bridge.json("POST", "/session/s-a/timeout",
                              {"timeoutSec": 1})
    assert status == 200 and got["ok"] is True and got["expiresAt"]
    assert wait_until(lambda: [s["id"] for s in bridge.json(
        "GET", "/sessions")[1]["sessions"]] == ["s-b"], 10)
    status, got = bridge.json("POST", "/session/s-b/timeout",
                              {"timeoutSec": -1})
    assert status == 400 and "timeoutSec" in got["error"]
    status, got = bridge.json("POST", "/session/nope/timeout",
                              {"timeoutSec": 1})
    assert (status, got) == (404, {"error": "Session not found"})
    assert bridge.json("DELETE", "/session/s-b") == (200, {"ok": True})
    # Deleting what is not there is no error, as isol8's DELETE.
    assert bridge.json("DELETE", "/session/s-b") == (200, {"ok": True})
    assert bridge.json("GET", "/sessions") == (200, {"sessions": []})


def test_stream_in_a_session(bridge):
    body = {"request": {"runtime": "bash", "code": "echo $((n+1)) > n; "
                        "cat n"}, "sessionId": "st"}
    status, _, raw = bridge.request("POST", "/execute/stream", body)
    assert status == 200
    assert {"type": "stdout", "data": "1\n", "phase": "code"} in \
        sse_events(raw)
    status, r = bridge.json("POST", "/execute", {
        "request": {"runtime": "bash", "code": "cat n"}, "sessionId": "st"})
    assert r["stdout"] == "1\n"


def test_cleanup_removes_every_session(daemon, bridge):
    for i in range(3):
        bridge.json("POST", "/execute", {**PY_HELLO, "sessionId": f"c{i}"})
    assert box_cgroups(daemon)
    status, got = bridge.json("POST", "/cleanup", {})
    assert status == 200
    assert got == {"ok": True,
                   "sessions": {"removed": 3, "failed": 0, "errors": []},
                   "containers": {"removed": 0, "failed": 0, "errors": []}}
    assert bridge.json("GET", "/sessions") == (200, {"sessions": []})
    assert wait_until(lambda: not box_cgroups(daemon), 10), \
        box_cgroups(daemon)


# ---- limits, load, and a daemon that goes away ----

def test_oversized_bodies(daemon, start_bridge):
    b = start_bridge(daemon, args=["--max-body", "64k"])
    big = {"request": {"runtime": "python", "code": "#" * 70000}}
    status, got = b.json("POST", "/execute", big)
    assert status == 413 and "65536-byte limit" in got["error"]
    # Without a Content-Length (chunked), the limit holds as the body comes.
    c = b.connection()
    c.putrequest("POST", "/execute")
    for k, v in b.headers(extra={"Transfer-Encoding": "chunked"}).items():
        c.putheader(k, v)
    c.endheaders()
    try:
        for _ in range(20):
            c.send(b"1000\r\n" + b"x" * 0x1000 + b"\r\n")
        c.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = c.getresponse()
    assert r.status == 413, r.read()
    c.close()
    status, r = b.json("POST", "/execute", PY_HELLO)
    assert status == 200 and r["stdout"] == "hello\n"


def test_hundred_concurrent_requests(start_daemon, start_bridge):
    d = start_daemon(config={"maxConcurrent": 128})
    # All from one address: above the default --max-per-ip.
    b = start_bridge(d, args=["--max-per-ip", "100"])

    def one(i):
        if i % 2:
            return b.json("GET", "/sessions", timeout=120) == \
                (200, {"sessions": []})
        status, r = b.json("POST", "/execute", {"request": {
            "runtime": "bash", "code": f"echo {i}"}}, timeout=120)
        return status == 200 and r["stdout"] == f"{i}\n"

    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        results = list(ex.map(one, range(100)))
    assert all(results), results.count(False)


def test_daemon_unreachable_then_restarted(start_daemon, start_bridge):
    d = start_daemon()
    b = start_bridge(d)
    assert b.json("POST", "/execute", PY_HELLO)[0] == 200
    d.stop()
    d.close()
    (d.dir / "notify.sock").unlink()
    status, got = b.json("POST", "/execute", PY_HELLO)
    assert status == 503
    assert str(d.socket_path) in got["error"] and "running" in got["error"]
    assert b.json("GET", "/health", auth=False)[0] == 200
    start_daemon(workdir=d.dir)
    status, r = b.json("POST", "/execute", PY_HELLO)
    assert status == 200 and r["stdout"] == "hello\n"


def test_daemon_stopping_mid_stream_ends_the_stream(start_daemon,
                                                    start_bridge):
    d = start_daemon()
    b = start_bridge(d)
    c = b.connection()
    c.request("POST", "/execute/stream", json.dumps({"request": {
        "runtime": "bash", "code": "echo up; sleep 30"}}), b.headers())
    r = c.getresponse()
    assert r.status == 200
    assert b"up" in r.read1(4096)
    d.stop()
    rest = r.read()
    c.close()
    assert b'"type":"error"' in rest


# ---- metrics ----

def test_metrics(bridge):
    bridge.json("POST", "/execute", PY_HELLO)
    bridge.json("POST", "/execute", {"request": {"runtime": "bash",
                                                 "code": "exit 2"}})
    status, headers, raw = bridge.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = raw.decode().splitlines()
    samples = {}
    for ln in lines:
        if ln.startswith("#"):
            assert ln.split()[1] in ("HELP", "TYPE"), ln
            continue
        name, value = ln.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['isol8_executions_total{runtime="python",outcome="ok"}'] \
        == 1
    assert samples['isol8_executions_total{runtime="bash",outcome="error"}'] \
        == 1
    assert samples["isol8_execution_duration_seconds_count"] == 2
    assert samples['isol8_execution_duration_seconds_bucket{le="+Inf"}'] == 2
    buckets = [v for k, v in samples.items()
               if k.startswith("isol8_execution_duration_seconds_bucket")]
    assert buckets == sorted(buckets)
    for name in ("isol8_pool_ready", "isol8_pool_in_use", "isol8_sessions",
                 "isol8_sessions_active",
                 'isol8_proxy_requests_total{action="allow"}',
                 'isol8_proxy_requests_total{action="block"}'):
        assert name in samples, name


# ---- the command itself ----

def serve(args, env=None, timeout=10):
    e = {k: v for k, v in os.environ.items()
         if k not in ("ISOL8_API_KEY", "ISOL8_PORT", "PORT")}
    e.update(env or {})
    return subprocess.run([str(BUILD / "isol8ctl"), "serve", *args],
                          capture_output=True, text=True, env=e,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_key_required():
    out = serve(["--port", "0"])
    assert out.returncode == 1
    assert out.stderr == \
        "[ERR] API key required. Use --key or ISOL8_API_KEY env var.\n"


def test_bad_port_and_address():
    out = serve(["--port", "70000", "--key", "k"])
    assert out.returncode == 2 and "--port: 70000" in out.stderr
    out = serve(["--key", "k"], env={"ISOL8_PORT": "x"})
    assert out.returncode == 2 and "ISOL8_PORT: x" in out.stderr
    out = serve(["--key", "k", "--listen", "nowhere", "--port", "0"])
    assert out.returncode == 1 and "nowhere" in out.stderr


@pytest.mark.parametrize("env,flag,want", [
    ({"ISOL8_PORT": "A", "PORT": "B"}, None, "A"),
    ({"PORT": "B"}, None, "B"),
    ({"ISOL8_PORT": "A", "PORT": "B"}, "C", "C"),
])
def test_port_precedence(daemon, env, flag, want):
    ports = {k: str(free_port()) for k in "ABC"}
    e = {k: ports[v] for k, v in env.items()}
    b = Bridge(daemon.socket_path, port=ports[flag] if flag else None, env=e)
    try:
        assert b.port == int(ports[want])
    finally:
        b.stop()


def test_key_from_environment(daemon):
    b = Bridge(daemon.socket_path, key=None, env={"ISOL8_API_KEY": "envk"})
    try:
        b.key = "envk"
        assert b.json("GET", "/sessions")[0] == 200
    finally:
        assert b.stop() == 0


def test_socket_activation(daemon):
    exe = shutil.which("systemd-socket-activate")
    if not exe:
        pytest.skip("systemd-socket-activate is not installed")
    port = free_port()
    e = {k: v for k, v in os.environ.items() if k != "ISOL8_API_KEY"}
    e["ISOL8_API_KEY"] = "act"
    p = subprocess.Popen(
        [exe, "-l", f"127.0.0.1:{port}", "-E", "ISOL8_API_KEY",
         str(BUILD / "isol8ctl"), "--socket", str(daemon.socket_path),
         "serve"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    try:
        c = None
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                c.request("GET", "/sessions",
                          headers={"Authorization": "Bearer act"})
                break
            except ConnectionRefusedError:
                c.close()
                time.sleep(0.05)
        r = c.getresponse()
        assert (r.status, json.loads(r.read())) == (200, {"sessions": []})
        c.close()
        banner = p.stdout.readline()
        assert banner.startswith("[INFO] isol8 server v")
        assert f"http://localhost:{port}" in banner
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0, p.stderr.read()


def test_help_lists_routes():
    out = serve(["--help"])
    assert out.returncode == 0
    for word in ("--port", "--listen", "--key", "--max-body", "ISOL8_PORT",
                 "/execute/stream", "LISTEN_FDS"):
        assert word in out.stdout, word


def test_unreachable_socket_is_503(start_bridge, tmp_path):
    class Absent:
        socket_path = short_tmpdir() / "none.sock"
    b = start_bridge(Absent)
    for method, path, body in AUTH_ROUTES:
        status, got = b.json(method, path, body)
        assert status == 503, (path, got)
        assert "none.sock" in got["error"]


def test_idle_clients_are_dropped_but_slow_programs_are_not(daemon,
                                                            start_bridge):
    b = start_bridge(daemon, args=["--idle-timeout", "1",
                                   "--head-timeout", "1"])
    # A client that never finishes its head is let go.
    s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
    s.sendall(b"POST /execute HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    assert s.recv(4096) == b""
    assert time.monotonic() - t0 < 5
    s.close()
    # A program quiet for longer than that keeps its client.
    body = {"request": {"runtime": "bash", "code": "sleep 2.5; echo late"}}
    status, r = b.json("POST", "/execute", body)
    assert status == 200 and r["stdout"] == "late\n"
    status, _, raw = b.request("POST", "/execute/stream", {"request": {
        "runtime": "bash", "code": "echo a; sleep 2.5; echo b"}})
    assert status == 200
    keepalives = []
    events = sse_events(raw, keepalives)
    assert [e["data"] for e in events if e["type"] == "stdout"] == \
        ["a\n", "b\n"]
    assert keepalives, "no keep-alive comment in 2.5 s of quiet"


def test_bad_idle_timeout():
    out = serve(["--key", "k", "--idle-timeout", "0"])
    assert out.returncode == 2 and "--idle-timeout: 0" in out.stderr
    for flag in ("--head-timeout", "--max-connections", "--max-per-ip",
                 "--max-unauthenticated"):
        out = serve(["--key", "k", flag, "0"])
        assert out.returncode == 2 and f"{flag}: 0" in out.stderr


def test_stream_failure_is_one_error_event(bridge):
    status, _, raw = bridge.request("POST", "/execute/stream", {
        "request": {"runtime": "bash", "code": "echo never",
                    "setupScript": "echo prep; exit 3"}})
    assert status == 200
    events = sse_events(raw)
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1 and "setup" in errors[0]["data"].lower(), events
    assert events[-2:] == [errors[0], {"type": "exit", "data": "3",
                                       "phase": "setup"}], events
    assert errors[0]["phase"] == "setup", events
    assert not any(e["type"] == "stdout" and "never" in e["data"]
                   for e in events)
