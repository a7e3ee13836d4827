"""Public URLs for services in a session's box: session.expose gives a
path /x/TOKEN/ on the HTTP bridge through which a server listening only on
the box's loopback (the box has no network) answers HTTP and WebSocket; a
wrong token, a closed session's or an unexposed port's URL gets 404 and
nothing else; unexposing cuts a connection that is open; the limits per
session and per tenant hold; another tenant's session cannot be exposed;
bad input is refused by name; the traffic shows in metrics and in the
audit trail; the token is in no log; nothing leaks in the daemon."""

import base64
import hashlib
import json
import os
import secrets
import socket
import struct

from execute_helpers import (box_cgroups, daemon_cgroup_dirs, execute,
                             leak_snapshot)
from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import check_error, run_ctl, wait_until
from tenant_client import OtherUid, open_socket_to_all
from test_sessions import call, ok
from test_sessions import create as create_session

PAGE = "hello from inside the box\n"

# A WebSocket echo server in the standard library: text frames back as
# they came, until the client closes.
WS_SERVER = r'''
import base64, hashlib, socket, struct, sys, threading, time
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b
def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        head += c.recv(4096)
    keys = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
            if l.lower().startswith(b"sec-websocket-key:")]
    if not keys:
        # Plain requests: a POST's body comes back, anything else is 426.
        length = [int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")
                  if l.lower().startswith(b"content-length:")]
        body = head.split(b"\r\n\r\n", 1)[1]
        while length and len(body) < length[0]:
            body += c.recv(65536)
        if head.startswith(b"POST "):
            line = head.split(b"\r\n", 1)[0]
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n"
                      b"X-Request-Line: %s\r\n\r\n%s"
                      % (len(body), line, body))
        elif head.startswith(b"GET /slow "):
            # An answer that takes its time: the first line, then the
            # rest a minute later.
            c.sendall(b"HTTP/1.0 200 OK\r\n\r\nfirst\n")
            time.sleep(60)
            c.sendall(b"last\n")
        else:
            c.sendall(b"HTTP/1.0 426 Upgrade Required\r\n\r\nWebSocket only\n")
        c.close()
        return
    key = keys[0]
    acc = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + acc +
              b"\r\n\r\n")
    try:
        while True:
            b0, b1 = recv_exact(c, 2)
            n = b1 & 127
            if n == 126:
                n = struct.unpack(">H", recv_exact(c, 2))[0]
            mask = recv_exact(c, 4)
            data = bytes(x ^ mask[i % 4]
                         for i, x in enumerate(recv_exact(c, n)))
            if b0 & 15 == 8:
                c.sendall(bytes([0x88, 0]))
                return
            c.sendall(bytes([0x81, len(data)]) + data)
    except EOFError:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


def create(d, **params):
    return create_session(d, runtime="bash", **params)


def start_http_server(d, sid, port=8000):
    execute(d, {"runtime": "bash", "files": {"/sandbox/www/hello.txt":
                                             PAGE},
                "code": "cd /sandbox/www && setsid python3 -m http.server "
                        f"{port} --bind 127.0.0.1 >/dev/null 2>&1 &"},
            sessionId=sid)


def start_ws_server(d, sid, port=8765):
    execute(d, {"runtime": "bash", "files": {"/sandbox/ws.py": WS_SERVER},
                "code": f"setsid python3 /sandbox/ws.py {port} "
                        ">/dev/null 2>&1 &"},
            sessionId=sid)


def ws_session(d, b, port=8765):
    """A session running the WebSocket server, exposed: (id, path)."""
    sid = create(d)
    start_ws_server(d, sid, port)
    x = expose(d, sid, port)
    assert wait_until(lambda: get_page(b, x["path"])[0] == 426, 20)
    return sid, x["path"]


def expose(d, sid, port):
    return ok(d, "session.expose", {"sessionId": sid, "port": port})


def exposed(d, sid):
    return ok(d, "session.exposed", {"sessionId": sid})["exposed"]


def get_page(b, path):
    """(status, body bytes) without an API key."""
    status, _, body = b.request("GET", path, auth=False)
    return status, body


def serving(b, path):
    """The server in the box has started listening."""
    return wait_until(lambda: get_page(b, path)[0] == 200, 20)


def ws_connect(b, path):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{b.port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head + s.recv(4096)
    want = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert b"sec-websocket-accept: " + want in head.lower().replace(
        want.lower(), want), head
    return s


def ws_send(s, text):
    data = text.encode()
    mask = os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(data)]) + mask +
              bytes(x ^ mask[i % 4] for i, x in enumerate(data)))


def ws_recv(s):
    head = s.recv(2)
    if len(head) < 2:
        return None
    n = head[1] & 127
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data.decode()


def closed(s):
    """The peer closed s (or reset it)."""
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False


def test_http_server_on_the_box_loopback(daemon, start_bridge):
    b = start_bridge(daemon, args=["--debug"])
    sid = create(daemon)
    start_http_server(daemon, sid)
    x = expose(daemon, sid, 8000)
    token = x["token"]
    assert len(token) >= 32 and x["path"] == f"/x/{token}/" and \
        x["port"] == 8000 and x["sessionId"] == sid
    # Exposing it again gives the same URL.
    assert expose(daemon, sid, 8000)["token"] == token
    assert serving(b, x["path"] + "hello.txt")
    status, body = get_page(b, x["path"] + "hello.txt?a=1&b=%20")
    assert status == 200 and body == PAGE.encode()
    status, body = get_page(b, x["path"])  # a directory listing
    assert status == 200 and b"hello.txt" in body
    status, body = get_page(b, x["path"] + "missing")
    assert status == 404
    # The box's network is as it was: its loopback is its own, the
    # bridge's port on the host is not there.
    r = execute(daemon, {"runtime": "bash", "code":
                         f"exec 3<>/dev/tcp/127.0.0.1/{b.port} && echo open"},
                sessionId=sid)
    assert r["exitCode"] != 0 and "open" not in r["stdout"], r
    assert ok(daemon, "session.get",
              {"sessionId": sid})["exposedPorts"] == [8000]
    # A relay ends once the bridge has answered: then it is counted whole.
    assert wait_until(lambda: exposed(daemon, sid)[0]["openConnections"]
                      == 0, 10)
    [listed] = exposed(daemon, sid)
    assert listed["port"] == 8000 and listed["token"] == token
    assert listed["connections"] >= 3
    assert listed["bytesOut"] >= len(PAGE) and listed["bytesIn"] > 0
    m = ok(daemon, "metrics")["exposed"]
    assert m["ports"] == 1 and m["connections"] >= 3 and \
        m["bytesOut"] >= len(PAGE), m
    status, _, text = b.request("GET", "/metrics")
    assert status == 200
    assert b"isol8_exposed_connections_total" in text, text
    # The bridge's routes: with a key, the URL as the client reached it.
    status, body = b.json("GET", f"/session/{sid}/expose")
    assert status == 200 and body["exposed"][0]["url"] == \
        f"http://127.0.0.1:{b.port}/x/{token}/", body
    status, body = b.json("POST", f"/session/{sid}/expose", {"port": 8001})
    assert status == 200 and body["port"] == 8001 and body["token"]
    status, body = b.json("POST", f"/session/{sid}/expose", {"port": 8001},
                          auth=False)
    assert status == 401
    status, body = b.json("DELETE", f"/session/{sid}/expose/8001")
    assert status == 200 and body["port"] == 8001, body
    status, body = b.json("DELETE", f"/session/{sid}/expose/8001")
    assert status == 404, body
    status, body = b.json("DELETE", f"/session/{sid}/expose/zero")
    assert status == 400 and "port" in body["error"], body
    ok(daemon, "session.delete", {"sessionId": sid})
    # The token is in no log line: the bridge logs the port instead.
    b.stop()
    log = b.stderr()
    assert "(port 8000)/hello.txt" in log, log
    assert token not in log and token not in daemon.stderr()


def test_websocket_echo_in_the_box(daemon, start_bridge):
    b = start_bridge(daemon)
    sid, path = ws_session(daemon, b)
    s = ws_connect(b, path)
    try:
        for text in ("hello", "über", "x" * 100):
            ws_send(s, text)
            assert ws_recv(s) == text
        [listed] = ok(daemon, "session.exposed",
                      {"sessionId": sid})["exposed"]
        assert listed["openConnections"] == 1
    finally:
        s.close()
    assert wait_until(lambda: exposed(daemon, sid)[0]["openConnections"]
                      == 0, 10)
    # A request body and its query go through as they were sent.
    data = os.urandom(100000)
    status, headers, body = b.request("POST", path + "up?q=a%2Fb&r",
                                      body=data, auth=False)
    assert status == 200 and body == data
    assert headers["X-Request-Line"] == "POST /up?q=a%2Fb&r HTTP/1.0"
    ok(daemon, "session.delete", {"sessionId": sid})


def test_wrong_tokens_and_ended_urls_get_404(daemon, start_bridge):
    b = start_bridge(daemon)
    sid = create(daemon)
    start_http_server(daemon, sid)
    x = expose(daemon, sid, 8000)
    token = x["token"]
    assert serving(b, x["path"] + "hello.txt")
    near = token[:-1] + ("0" if token[-1] != "0" else "1")
    for path in (f"/x/{near}/hello.txt", f"/x/{secrets.token_hex(20)}/",
                 "/x/short/", "/x/", f"/x/{token}extra/hello.txt",
                 f"/x/{token.upper()}/hello.txt"):
        status, _, body = b.request("GET", path, auth=False)
        assert status == 404, (path, body)
        # Nothing about sessions, ports or tokens.
        assert json.loads(body) == {"error": "Not found"}, body
    # Unexposed: the URL is gone.
    r = ok(daemon, "session.unexpose", {"sessionId": sid, "port": 8000})
    assert r["port"] == 8000 and r["connections"] >= 1
    assert get_page(b, x["path"] + "hello.txt")[0] == 404
    msg = call(daemon, "session.unexpose", {"sessionId": sid, "port": 8000})
    check_error(msg, -32004, id=msg["id"], kind="not_found", words=("not exposed",))
    # A closed session's URL is gone too.
    x = expose(daemon, sid, 8000)
    assert get_page(b, x["path"] + "hello.txt")[0] == 200
    ok(daemon, "session.delete", {"sessionId": sid})
    assert get_page(b, x["path"] + "hello.txt")[0] == 404


def test_unexpose_cuts_an_open_connection(daemon, start_bridge):
    b = start_bridge(daemon)
    sid, path = ws_session(daemon, b)
    s = ws_connect(b, path)
    try:
        ws_send(s, "before")
        assert ws_recv(s) == "before"
        r = ok(daemon, "session.unexpose", {"sessionId": sid, "port": 8765})
        assert r["connections"] >= 1 and r["bytesIn"] > 0
        s.settimeout(10)
        assert closed(s)
    finally:
        s.close()
    # A plain HTTP answer under way is cut too: it never ends properly.
    x = expose(daemon, sid, 8765)
    s = socket.create_connection(("127.0.0.1", b.port), timeout=30)
    try:
        s.sendall(f"GET {x['path']}slow HTTP/1.1\r\nHost: x\r\n\r\n"
                  .encode())
        got = b""
        while b"first" not in got:
            got += s.recv(4096)
        ok(daemon, "session.unexpose", {"sessionId": sid, "port": 8765})
        s.settimeout(10)
        while (chunk := s.recv(4096)):
            got += chunk
    finally:
        s.close()
    assert got.startswith(b"HTTP/1.1 200") and b"last" not in got
    assert not got.endswith(b"0\r\n\r\n"), got  # no last chunk
    # Nothing listening answers 502, with the port named.
    x = expose(daemon, sid, 9999)
    status, _, body = b.request("GET", x["path"], auth=False)
    assert status == 502 and b"9999" in body, body
    ok(daemon, "session.delete", {"sessionId": sid})


def test_limits_per_session_and_per_tenant(start_daemon):
    d = start_daemon(config={"server": {"socketMode": "0666"},
                             "sessions": {"maxExposedPorts": 2},
                             "tenants": {"maxExposedPorts": 3}})
    open_socket_to_all(d)
    c = OtherUid(d.socket_path, 60021)
    try:
        def tenant_ok(method, params):
            msg = c.call(method, params)
            assert "result" in msg, msg
            return msg["result"]
        a = tenant_ok("session.create", {"runtime": "bash"})["id"]
        bb = tenant_ok("session.create", {"runtime": "bash"})["id"]
        tenant_ok("session.expose", {"sessionId": a, "port": 1})
        tenant_ok("session.expose", {"sessionId": a, "port": 2})
        msg = c.call("session.expose", {"sessionId": a, "port": 3})
        check_error(msg, -32005, id=msg["id"], kind="busy",
                    words=("sessions.maxExposedPorts",))
        tenant_ok("session.expose", {"sessionId": bb, "port": 1})
        msg = c.call("session.expose", {"sessionId": bb, "port": 2})
        check_error(msg, -32005, id=msg["id"], kind="busy",
                    words=("tenants.maxExposedPorts",))
        # Another tenant's session is not there to expose.
        mine = create(d, sessionId="mine")
        for method in ("session.expose", "session.unexpose"):
            msg = c.call(method, {"sessionId": mine, "port": 80})
            check_error(msg, -32004, id=msg["id"], kind="not_found")
        msg = c.call("session.exposed", {"sessionId": mine})
        check_error(msg, -32004, id=msg["id"], kind="not_found")
        # Freed by an unexpose, and by a session's end.
        tenant_ok("session.unexpose", {"sessionId": a, "port": 1})
        tenant_ok("session.expose", {"sessionId": bb, "port": 2})
        msg = c.call("session.expose", {"sessionId": bb, "port": 3})
        check_error(msg, -32005, id=msg["id"], kind="busy",
                    words=("sessions.maxExposedPorts",))
        tenant_ok("session.delete", {"sessionId": a})
        cc = tenant_ok("session.create", {"runtime": "bash"})["id"]
        tenant_ok("session.expose", {"sessionId": cc, "port": 1})
    finally:
        c.close()
    # An administrator is bound by the session's limit only.
    ok(d, "session.expose", {"sessionId": mine, "port": 1})
    ok(d, "session.expose", {"sessionId": mine, "port": 2})
    assert ok(d, "metrics")["exposed"]["ports"] == 5


def test_bad_input(daemon):
    sid = create(daemon)
    for params, words in (
            ({"sessionId": sid, "port": 0}, ("port", "1", "65535")),
            ({"sessionId": sid, "port": 70000}, ("port", "70000")),
            ({"sessionId": sid, "port": "8000"}, ("port", '"8000"')),
            ({"sessionId": sid, "port": 80.5}, ("port",)),
            ({"sessionId": sid}, ("port",)),
            ({"sessionId": sid, "port": 80, "x": 1}, ("x",)),
            ({"port": 80}, ("sessionId",))):
        for method in ("session.expose", "session.unexpose"):
            msg = call(daemon, method, params)
            check_error(msg, -32602, id=msg["id"], kind="invalid_argument", words=words)
    msg = call(daemon, "session.expose", {"sessionId": "nope", "port": 80})
    check_error(msg, -32004, id=msg["id"], kind="not_found", words=("not found",))
    for params, words in (({}, ("token",)), ({"token": 5}, ("token",)),
                          ({"token": "a", "b": 1}, ("b",))):
        msg = call(daemon, "session.connect", params)
        check_error(msg, -32602, id=msg["id"], kind="invalid_argument", words=words)
    msg = call(daemon, "session.connect", {"token": "0" * 40})
    check_error(msg, -32004, id=msg["id"], kind="not_found")
    ok(daemon, "session.delete", {"sessionId": sid})


def test_host_network_session_is_not_exposed(start_daemon):
    d = start_daemon(config={"network": {"allowHost": True}})
    sid = create(d, options={"network": "host"})
    msg = call(d, "session.expose", {"sessionId": sid, "port": 22})
    check_error(msg, -32010, id=msg["id"], kind="unsupported", words=("host",))


def test_audit_records_expose_and_traffic(start_daemon, start_bridge,
                                          tmp_path):
    logdir = tmp_path / "audit"
    d = start_daemon(config={"audit": {"enabled": True,
                                       "logDir": str(logdir)}})
    b = start_bridge(d)
    sid = create(d)
    start_http_server(d, sid)
    x = expose(d, sid, 8000)
    assert serving(b, x["path"] + "hello.txt")
    ok(d, "session.delete", {"sessionId": sid})

    def recs():
        path = logdir / "executions.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]
    assert wait_until(lambda: any(r.get("event") == "unexpose"
                                  for r in recs()), 10)
    text = (logdir / "executions.log").read_text()
    assert x["token"] not in text
    made = [r for r in recs() if r.get("event") == "expose"]
    ended = [r for r in recs() if r.get("event") == "unexpose"]
    assert made[0]["port"] == 8000 and made[0]["sessionId"] == sid
    assert ended[0]["reason"] == "the session ended"
    assert ended[0]["connections"] >= 1 and \
        ended[0]["bytesOut"] >= len(PAGE), ended


def test_isol8ctl_expose_through_the_bridge(daemon, start_bridge):
    b = start_bridge(daemon)
    sid = create(daemon)
    host = ["--host", b.url, "--key", b.key]
    r = run_ctl("session", "expose", sid, "8080", *host)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    token = ok(daemon, "session.exposed",
               {"sessionId": sid})["exposed"][0]["token"]
    assert url == f"{b.url}/x/{token}/"
    r = run_ctl("session", "exposed", sid, "--json", *host)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["url"] == url
    r = run_ctl("session", "unexpose", sid, "8080", *host)
    assert r.returncode == 0 and "unexposed" in r.stdout, r.stderr
    r = run_ctl("session", "unexpose", sid, "8080", *host)
    assert r.returncode != 0 and "not exposed" in r.stderr, r.stderr
    ok(daemon, "session.delete", {"sessionId": sid})


def test_isol8ctl_expose(daemon):
    sock = daemon.socket_path
    sid = create(daemon)
    r = run_ctl("session", "expose", sid, "8080", socket_path=sock)
    assert r.returncode == 0, r.stderr
    path = r.stdout.strip()
    assert path.startswith("/x/") and path.endswith("/")
    r = run_ctl("session", "exposed", sid, socket_path=sock)
    assert r.returncode == 0 and "8080" in r.stdout and path in r.stdout
    r = run_ctl("session", "expose", sid, "0", socket_path=sock)
    assert r.returncode == 2 and "PORT" in r.stderr, r.stderr
    r = run_ctl("session", "expose", sid, "http", socket_path=sock)
    assert r.returncode == 2 and "PORT" in r.stderr, r.stderr
    r = run_ctl("session", "unexpose", sid, "8080", socket_path=sock)
    assert r.returncode == 0 and "unexposed" in r.stdout, r.stderr
    r = run_ctl("session", "unexpose", sid, "8080", socket_path=sock)
    assert r.returncode != 0 and "not exposed" in r.stderr, r.stderr
    r = run_ctl("session", "--help")
    assert "expose" in r.stdout and "unexpose" in r.stdout
    ok(daemon, "session.delete", {"sessionId": sid})


def test_no_leaks_in_the_daemon(daemon, start_bridge):
    """Fds, children, mounts and cgroups of the daemon as they were once a
    session whose ports carried HTTP and WebSocket traffic, some of it
    cut, is gone."""
    dirs = daemon_cgroup_dirs(daemon.pid)
    b = start_bridge(daemon)
    warm = create(daemon)
    ok(daemon, "session.delete", {"sessionId": warm})
    assert wait_until(lambda: not any(box_cgroups(dirs).values()), 10)
    before = leak_snapshot(daemon, dirs)
    sid, path = ws_session(daemon, b)
    start_http_server(daemon, sid)
    x = expose(daemon, sid, 8000)
    assert serving(b, x["path"] + "hello.txt")
    for _ in range(20):
        assert get_page(b, x["path"] + "hello.txt")[0] == 200
    assert get_page(b, x["path"].replace("/x/", "/x/0"))[0] == 404
    open_ws = [ws_connect(b, path) for _ in range(3)]
    ok(daemon, "session.unexpose", {"sessionId": sid, "port": 8765})
    for s in open_ws:
        s.close()
    kept = ws_connect(b, expose(daemon, sid, 8765)["path"])
    ok(daemon, "session.delete", {"sessionId": sid})
    kept.settimeout(10)
    assert closed(kept)
    kept.close()
    assert wait_until(lambda: leak_snapshot(daemon, dirs) == before, 15), \
        (leak_snapshot(daemon, dirs), before)
