"""GET /execute/ws: isol8's WebSocket protocol through isol8ctl serve,
spoken by real WebSocket clients (python3-websockets, and Bun's built-in
client the way isol8's RemoteIsol8 opens it).

The client sends one {"type":"execute"} message; the events are the same
objects as /execute/stream's; the server closes with 1000 "Execution
complete".  Invalid JSON is answered by an error event and 1003; unknown
message types by an error event, the connection staying open; stdin and
signal messages are ignored, as isol8 does."""
import asyncio
import json
import os
import shutil
import socket
import subprocess

import pytest
import websockets

from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import (daemon_cgroup_dirs, pids_with_marker,
                           wait_until)
from isol8_harness import box_cgroups as harness_box_cgroups

TIMEOUT = 30
BUN = "/opt/isol8/runtimes/bin/bun"


@pytest.fixture
def bridge(daemon, start_bridge):
    return start_bridge(daemon)


def ws_url(b):
    return f"ws://127.0.0.1:{b.port}/execute/ws"


def auth(b, key=None):
    return {"Authorization": f"Bearer {key or b.key}"}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


async def session(b, messages, headers=None, raw=False, **kw):
    """Sends messages (dicts as JSON, str/bytes as they are, lists as
    fragments), then reads
    until the server closes: (events, close code, close reason)."""
    if headers is None:
        headers = auth(b)
    async with websockets.connect(ws_url(b), extra_headers=headers,
                                  **kw) as ws:
        for m in messages:
            # A list is sent as the fragments of one message.
            await ws.send(json.dumps(m) if isinstance(m, dict) else m)
        events = []
        try:
            async for text in ws:
                events.append(text if raw else json.loads(text))
        except websockets.ConnectionClosedError:
            pass
        return events, ws.close_code, ws.close_reason


def execute(request, **extra):
    return {"type": "execute", "request": request, **extra}


def sse_events(raw):
    text = raw.decode()
    return [json.loads(f[len("data: "):]) for f in text.split("\n\n")
            if f.startswith("data: ")]


def box_cgroups(d):
    return sorted(f"{c}/{x}" for c, boxes in
                  harness_box_cgroups(daemon_cgroup_dirs(d.pid)).items()
                  for x in boxes)


def shape(events):
    """Events with runs of one type's output joined, since how output is
    cut into chunks is the program's timing, not the transport's."""
    out = []
    for e in events:
        if out and e["type"] in ("stdout", "stderr") and \
                out[-1]["type"] == e["type"]:
            out[-1] = dict(out[-1], data=out[-1]["data"] + e["data"])
        else:
            out.append(dict(e))
    return out


# ---- the protocol ----

def test_same_events_as_sse_and_clean_close(bridge):
    req = {"runtime": "python",
           "code": "import sys\nprint('out')\nsys.stdout.flush()\n"
                   "print('err', file=sys.stderr)\nsys.exit(3)"}
    events, code, reason = run(session(bridge, [execute(req)]))
    assert (code, reason) == (1000, "Execution complete")
    status, _, raw = bridge.request("POST", "/execute/stream",
                                    {"request": req})
    assert status == 200
    assert shape(events) == shape(sse_events(raw))
    assert events[-1] == {"type": "exit", "data": "3", "phase": "code"}
    assert {"type": "stdout", "data": "out\n", "phase": "code"} in \
        shape(events)


def test_failure_is_an_error_event_then_1000(bridge):
    events, code, reason = run(session(bridge, [execute(
        {"runtime": "bash", "code": "sleep 20"},
        options={"timeoutMs": 300})]))
    assert {"type": "error", "data": "EXECUTION TIMED OUT", "phase": "code"} in events
    assert events[-1] == {"type": "exit", "data": "137", "phase": "code"}
    assert (code, reason) == (1000, "Execution complete")
    # A request the daemon refuses: its message, then the same close.
    events, code, reason = run(session(bridge, [execute(
        {"runtime": "cobol", "code": "x"})]))
    assert len(events) == 1 and events[0]["type"] == "error"
    assert "cobol" in events[0]["data"]
    assert (code, reason) == (1000, "Execution complete")
    events, code, _ = run(session(bridge, [{"type": "execute"}]))
    assert events == [{"type": "error", "data": "The execute message needs "
                       "a \"request\" object (an ExecutionRequest)"}]
    assert code == 1000


def test_invalid_json_is_1003(bridge):
    for bad in ("{not json", "", b"\xff\xfe"):
        events, code, reason = run(session(bridge, [bad]))
        assert events == [{"type": "error", "data": "Invalid JSON message"}]
        assert (code, reason) == (1003, "Invalid JSON"), bad


def test_unknown_type_keeps_the_connection_stdin_signal_ignored(bridge):
    events, code, reason = run(session(bridge, [
        {"type": "stdin", "data": "x"},
        {"type": "signal", "signal": "SIGINT"},
        {"type": "bogus"}, {"no": "type"},
        execute({"runtime": "bash", "code": "echo ran"}),
        {"type": "stdin", "data": "y"},
    ]))
    assert events[:2] == [
        {"type": "error", "data": "Unknown message type: bogus"},
        {"type": "error", "data": "Unknown message type: undefined"}]
    assert {"type": "stdout", "data": "ran\n", "phase": "code"} in events
    assert events[-1] == {"type": "exit", "data": "0", "phase": "code"}
    assert (code, reason) == (1000, "Execution complete")


def test_second_execute_is_refused_while_running(bridge):
    events, code, _ = run(session(bridge, [
        execute({"runtime": "bash", "code": "sleep 0.5; echo first"}),
        execute({"runtime": "bash", "code": "echo second"})]))
    assert {"type": "error", "data": "An execution is already running on "
            "this connection"} in events
    out = "".join(e["data"] for e in events if e["type"] == "stdout")
    assert out == "first\n" and code == 1000


def test_session_id_is_honoured(bridge):
    events, code, _ = run(session(bridge, [execute(
        {"runtime": "bash", "code": "echo kept > f; echo ok"},
        sessionId="ws-sess")]))
    assert code == 1000 and events[-1]["data"] == "0"
    status, r = bridge.json("POST", "/execute", {
        "request": {"runtime": "bash", "code": "cat f"},
        "sessionId": "ws-sess"})
    assert status == 200 and r["stdout"] == "kept\n"
    assert bridge.json("DELETE", "/session/ws-sess")[0] == 200


# ---- authentication and the handshake ----

@pytest.mark.parametrize("headers, status, message", [
    ({}, 401, "Missing Authorization header"),
    ({"Authorization": "Bearer wrong"}, 403, "Invalid API key"),
])
def test_auth_failures_refuse_the_upgrade(bridge, headers, status, message):
    with pytest.raises(websockets.InvalidStatusCode) as e:
        run(session(bridge, [execute({"runtime": "bash", "code": "echo"})],
                    headers=headers))
    assert e.value.status_code == status
    # The body is the same JSON as on every other route.
    got, _, body = bridge.request("GET", "/execute/ws", auth=False, headers={
        **headers, "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert got == status and json.loads(body) == {"error": message}


def test_query_key_is_not_accepted(bridge):
    async def go():
        async with websockets.connect(ws_url(bridge) +
                                      f"?token={bridge.key}"):
            pass
    with pytest.raises(websockets.InvalidStatusCode) as e:
        run(go())
    assert e.value.status_code == 401


def test_handshake_errors(bridge):
    status, _, body = bridge.request("GET", "/execute/ws")
    assert status == 426 and b"Upgrade: websocket" in body
    up = {"Upgrade": "websocket", "Connection": "keep-alive, Upgrade"}
    status, _, body = bridge.request("GET", "/execute/ws", headers={
        **up, "Sec-WebSocket-Version": "8",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert status == 426 and b"Version must be 13" in body
    status, _, body = bridge.request("GET", "/execute/ws", headers={
        **up, "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "short"})
    assert status == 400 and b"Sec-WebSocket-Key" in body
    status, _, _ = bridge.request("POST", "/execute/ws")
    assert status == 405


def raw_upgrade(bridge):
    """Upgrades a plain socket with RFC 6455's example key: (socket, the
    answer's head, bytes after it)."""
    s = socket.create_connection(("127.0.0.1", bridge.port), timeout=10)
    s.sendall(("GET /execute/ws HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {bridge.key}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
              .encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return s, head + b"\r\n\r\n", rest


def test_accept_key_is_rfc6455s(bridge):
    s, head, _ = raw_upgrade(bridge)
    s.close()
    assert head.startswith(b"HTTP/1.1 101 ")
    # The example of RFC 6455, section 1.3.
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head


# ---- frames and limits ----

def test_ping_is_answered_before_and_during_a_run(bridge):
    async def go():
        async with websockets.connect(ws_url(bridge),
                                      extra_headers=auth(bridge)) as ws:
            await asyncio.wait_for(await ws.ping(b"before"), 10)
            await ws.send(json.dumps(execute(
                {"runtime": "bash", "code": "echo a; sleep 1; echo b"})))
            await ws.recv()
            await asyncio.wait_for(await ws.ping(b"during"), 10)
            return [json.loads(m) async for m in ws], ws.close_code
    events, code = run(go())
    assert code == 1000 and events[-1] == {"type": "exit", "data": "0", "phase": "code"}


def test_fragmented_message_is_assembled(bridge):
    msg = json.dumps(execute({"runtime": "bash", "code": "echo frag"}))
    parts = [msg[i:i + 7] for i in range(0, len(msg), 7)]
    events, code, _ = run(session(bridge, [parts]))
    assert {"type": "stdout", "data": "frag\n", "phase": "code"} in events
    assert code == 1000


def test_oversize_message_is_1009(daemon, start_bridge):
    b = start_bridge(daemon, args=["--max-body", "1k"])
    big = execute({"runtime": "bash", "code": "echo " + "x" * 2000})
    events, code, _ = run(session(b, [big]))
    assert events == [] and code == 1009
    # Under the limit it runs.
    events, code, _ = run(session(b, [execute({"runtime": "bash",
                                               "code": "echo small"})]))
    assert code == 1000 and events[-1]["data"] == "0"


def test_unmasked_frame_is_1002(bridge):
    s, _, data = raw_upgrade(bridge)
    s.sendall(b"\x81\x02{}")  # a text frame without a mask
    while len(data) < 4:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    s.close()
    assert data[0] == 0x88 and int.from_bytes(data[2:4], "big") == 1002
    assert b"masked" in data


# ---- a client that leaves ----

@pytest.mark.parametrize("how", ["close-frame", "tcp"])
def test_client_leaving_cancels_its_execution(daemon, start_bridge, how):
    b = start_bridge(daemon)
    mark = f"isol8-wsleave-{os.getpid()}-{how}"

    async def go():
        ws = await websockets.connect(ws_url(b), extra_headers=auth(b))
        await ws.send(json.dumps(execute(
            {"runtime": "bash", "code": f"exec -a {mark} sleep 60"})))
        started = await asyncio.get_running_loop().run_in_executor(
            None, wait_until, lambda: pids_with_marker(mark), 15)
        assert started, "the program never started"
        if how == "tcp":
            ws.transport.abort()
        else:
            await ws.close()
    run(go())
    assert wait_until(lambda: not pids_with_marker(mark), 10), \
        "the execution outlived its client"
    assert wait_until(lambda: not box_cgroups(daemon), 10), \
        box_cgroups(daemon)
    events, code, _ = run(session(b, [execute({"runtime": "bash",
                                               "code": "echo after"})]))
    assert code == 1000 and events[-1]["data"] == "0"


def test_silent_client_is_dropped_before_execute(daemon, start_bridge):
    b = start_bridge(daemon, args=["--idle-timeout", "1"])
    events, code, reason = run(session(b, []))
    assert events == [] and code == 1001 and "idle" in reason


# ---- isol8's own client ----

@pytest.mark.skipif(not shutil.which(BUN), reason="no bun")
def test_bun_websocket_with_header_as_remoteisol8(bridge, tmp_path):
    """RemoteIsol8 on Bun: new WebSocket(url, {headers}), execute on open,
    events until close."""
    script = tmp_path / "client.js"
    script.write_text("""
const [url, key] = process.argv.slice(2);
const ws = new WebSocket(url, {headers: {Authorization: `Bearer ${key}`}});
const events = [];
ws.onopen = () => ws.send(JSON.stringify({type: "execute",
  request: {runtime: "python", code: "print(6*7)"}}));
ws.onmessage = (e) => events.push(JSON.parse(e.data));
ws.onerror = () => { console.log(JSON.stringify({error: true})); };
ws.onclose = (e) => { console.log(JSON.stringify(
  {events, code: e.code, reason: e.reason})); process.exit(0); };
""")
    out = subprocess.run([BUN, str(script), ws_url(bridge), bridge.key],
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert (got["code"], got["reason"]) == (1000, "Execution complete")
    assert {"type": "stdout", "data": "42\n", "phase": "code"} in \
        got["events"]
    assert got["events"][-1] == {"type": "exit", "data": "0", "phase": "code"}
