"""Networking: "none", "host" and "filtered" through the daemon's proxy,
against HTTP and HTTPS servers started here on loopback (127.0.0.2, which
the boxes' NO_PROXY does not cover), with network.allowPrivate on unless a
test says otherwise.  Every attempt to get past the proxy is made inside a
box and must fail."""

import http.server
import json
import os
import signal
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from execute_helpers import (check_invalid, execute, execute_error,
                             execute_many, execute_raw)
from isol8_fixtures import _factory
from isol8_harness import BUILD, daemon_helpers, run_ctl, wait_until
from pki import make_pki
from pypi_index import start_pypi_index

HOST = "127.0.0.2"
PRIVATE = {"network": {"allowPrivate": True}}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/bytes/"):
            body = b"x" * int(self.path.split("/")[2])
        else:
            body = f"path={self.path} host={self.headers.get('Host')}"
            body = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def http_server():
    srv = Server((HOST, 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()


@pytest.fixture(scope="module")
def https_server():
    """An HTTPS server with a certificate from a test CA; yields (port,
    CA in PEM)."""
    tmp = tempfile.mkdtemp(prefix="isol8-net-")
    ca, crt, key = make_pki(tmp, HOST, f"IP:{HOST}")
    srv = Server((HOST, 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    with open(ca) as f:
        yield srv.server_address[1], f.read()
    srv.shutdown()


@pytest.fixture(scope="module")
def net_daemon():
    """One daemon with allowPrivate for the tests that share it."""
    start, finish = _factory(BUILD, False)
    d = start(config={"network": {"allowPrivate": True,
                                  "connectTimeoutMs": 1000}})
    yield d
    errors = finish()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


def filtered(allow=None, deny=None, log=True):
    opts = {"network": "filtered", "logNetwork": log}
    if allow is not None or deny is not None:
        opts["networkFilter"] = {"whitelist": allow or [],
                                 "blacklist": deny or []}
    return opts


def py(code, **kw):
    return {"runtime": "python", "code": code, **kw}


GET = """
import urllib.request, urllib.error, sys
for url in sys.argv[1:] or URLS:
    try:
        r = urllib.request.urlopen(url, timeout=10)
        print(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())
    except Exception as e:
        print("ERR", type(e).__name__)
"""


def get_code(*urls):
    return f"URLS = {list(urls)!r}\n" + GET


def test_plain_http_allowed_and_logged(net_daemon, http_server):
    url = f"http://{HOST}:{http_server}/a/b?c=1"
    r = execute(net_daemon, py(get_code(url)), filtered())
    assert r["stdout"] == f"200 path=/a/b?c=1 host={HOST}:{http_server}\n"
    (log,) = r["networkLogs"]
    assert log["method"] == "GET" and log["host"] == HOST
    assert log["path"] == "/a/b?c=1" and log["action"] == "ALLOW"
    assert log["bytesIn"] > len("path=/a/b?c=1") and log["bytesOut"] > 0
    assert isinstance(log["durationMs"], int)
    assert log["timestamp"].endswith("Z")
    assert set(log) == {"timestamp", "method", "host", "path", "action",
                        "durationMs", "bytesIn", "bytesOut"}


def test_filter_whitelist_blacklist_precedence(net_daemon, http_server):
    ok = f"http://{HOST}:{http_server}/ok"
    r = execute(net_daemon, py(get_code(ok, "http://blocked.example/x",
                                        "http://elsewhere.example/")),
                filtered(allow=[r"^127\.0\.0\.2$", "BLOCKED"],
                         deny=[r"^blocked\."]))
    lines = r["stdout"].splitlines()
    assert lines[0].startswith("200 path=/ok")
    assert lines[1] == ("403 isol8: request to blocked.example blocked by "
                        "network filter")
    assert lines[2] == ("403 isol8: request to elsewhere.example blocked "
                        "by network filter")
    # In the order the requests were made, though the allowed request's
    # entry is made only when its connection closes.
    actions = [(e["host"], e["action"]) for e in r["networkLogs"]]
    assert actions == [(HOST, "ALLOW"), ("blocked.example", "BLOCK"),
                       ("elsewhere.example", "BLOCK")]


def test_other_spellings_of_a_host_are_decided_as_one(net_daemon,
                                                     http_server):
    """A trailing dot, or another way of writing an address that the
    resolver would take, reaches the filter and the logs as the one
    spelling it decides on: no way past a blacklist, and a whitelist
    holds the same way."""
    url = f"http://{{}}:{http_server}/p"
    spellings = ["blocked.example.", "2130706434", "0x7f.0.0.2", "127.2",
                 "127.0.0.2.", "[::ffff:127.0.0.2]"]
    code = get_code(*(url.format(h) for h in spellings))
    r = execute(net_daemon, py(code),
                filtered(deny=[r"^blocked\.example$", r"^127\.0\.0\.2$"]))
    assert r["stdout"].splitlines() == [
        "403 isol8: request to blocked.example blocked by network filter"] + [
        f"403 isol8: request to {HOST} blocked by network filter"] * 5, r
    assert [x["host"] for x in r["networkLogs"]] == \
        ["blocked.example"] + [HOST] * 5
    r = execute(net_daemon, py(code), filtered(allow=[r"^127\.0\.0\.2$"]))
    assert r["stdout"].splitlines()[1:] == [
        f"200 path=/p host={HOST}:{http_server}"] * 5, r


def test_https_through_connect(net_daemon, https_server):
    port, ca = https_server
    code = f"""
import urllib.request, ssl
ctx = ssl.create_default_context(cadata={ca!r})
r = urllib.request.urlopen("https://{HOST}:{port}/tls", context=ctx)
print(r.status, r.read().decode())
try:
    urllib.request.urlopen("https://denied.example/", context=ctx)
except Exception as e:
    print("denied", e)
"""
    r = execute(net_daemon, py(code), filtered(deny=["denied"]))
    lines = r["stdout"].splitlines()
    assert lines[0] == f"200 path=/tls host={HOST}:{port}", r["stderr"]
    assert "403" in lines[1]
    conn, blocked = r["networkLogs"]
    assert conn["method"] == "CONNECT" and conn["path"] is None
    assert conn["host"] == HOST and conn["action"] == "ALLOW"
    assert conn["bytesIn"] > 1000  # the certificate chain came back
    assert blocked["method"] == "CONNECT" and blocked["action"] == "BLOCK"


def test_curl_and_bash_dev_tcp(net_daemon, http_server):
    url = f"http://{HOST}:{http_server}/curl"
    cmd = (f"curl -s {url}; echo; "
           f"curl -s --noproxy '*' --max-time 5 {url} || echo direct-failed; "
           "exec 3<>/dev/tcp/127.0.0.1/8118; "
           f"printf 'GET http://{HOST}:{http_server}/tcp HTTP/1.0\\r\\n\\r\\n' "
           ">&3; tail -n1 <&3; echo")
    r = execute(net_daemon, {"runtime": "bash", "code": cmd}, filtered())
    assert r["stdout"].splitlines() == [
        f"path=/curl host={HOST}:{http_server}", "direct-failed",
        f"path=/tcp host={HOST}:{http_server}"], r


def test_node_with_and_without_proxy_support(net_daemon, http_server):
    code = f"""
const http = require('http');
const proxy = new URL(process.env.HTTP_PROXY);
http.get({{host: proxy.hostname, port: proxy.port,
          path: 'http://{HOST}:{http_server}/node'}}, res => {{
  let b = ''; res.on('data', d => b += d);
  res.on('end', async () => {{
    console.log(res.statusCode, b);
    try {{ await fetch('http://{HOST}:{http_server}/fetch');
           console.log('fetch reached it'); }}
    catch (e) {{ console.log('fetch failed'); }}
  }});
}});
"""
    r = execute(net_daemon, {"runtime": "node", "code": code}, filtered())
    assert r["stdout"].splitlines() == [
        f"200 path=/node host={HOST}:{http_server}", "fetch failed"], r


def test_no_way_around_the_proxy(net_daemon, http_server):
    code = f"""
import socket
print(open('/proc/net/route').read().count('\\n') - 1)
print(sorted(l.split(':')[0].strip() for l in
             open('/proc/net/dev').readlines()[2:]))
for target in [("{HOST}", {http_server}), ("127.0.0.3", 53)]:
    try:
        socket.create_connection(target, timeout=3)
        print("connected")
    except OSError as e:
        print("refused", e.errno)
try:
    socket.getaddrinfo("blocked.example", 80)
    print("resolved")
except socket.gaierror:
    print("no dns")
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("raw socket")
except OSError:
    print("no raw socket")
"""
    r = execute(net_daemon, py(code), filtered(deny=["blocked"]))
    lines = r["stdout"].splitlines()
    assert lines[0] == "0"  # no route in the main table
    assert lines[1] == "['lo']"
    assert lines[2].startswith("refused") and lines[3].startswith("refused")
    assert lines[4:] == ["no dns", "no raw socket"], r


def test_private_addresses_refused_by_default(start_daemon, http_server):
    d = start_daemon()
    url = f"http://{HOST}:{http_server}/"
    r = execute(d, py(get_code(url, "http://localhost:1/")), filtered())
    lines = r["stdout"].splitlines()
    assert lines[0] == (f"403 isol8: {HOST} resolves to a private address; "
                        "the daemon's network.allowPrivate is off")
    assert [e["action"] for e in r["networkLogs"]][0] == "BLOCK"


def test_host_mode_needs_allow_host(start_daemon, http_server):
    d = start_daemon(config={"network": {"allowHost": True}})
    code = get_code(f"http://{HOST}:{http_server}/host")
    r = execute(d, py(code), {"network": "host"})
    assert r["stdout"] == f"200 path=/host host={HOST}:{http_server}\n"
    assert "networkLogs" not in r


def test_proxy_survives_bad_clients(start_daemon, http_server):
    d = start_daemon(config={"network": {"allowPrivate": True,
                                         "connectTimeoutMs": 500,
                                         "headTimeoutMs": 500}})
    code = f"""
import socket, time
def raw(data, wait=True):
    s = socket.create_connection(("127.0.0.1", 8118))
    s.sendall(data)
    if not wait:
        s.close(); return
    s.settimeout(5)
    print(s.recv(200).split(b"\\r\\n")[0].decode())
raw(b"garbage\\r\\n\\r\\n")
raw(b"GET /nohost HTTP/1.1\\r\\n\\r\\n")
raw(b"GET ftp://x/ HTTP/1.1\\r\\n\\r\\n")
raw(b"GET http://{HOST}:{http_server}/", wait=True)  # never finishes
raw(b"X" * 20000)
raw(b"CONNECT {HOST}:{http_server} HTTP/1.1\\r\\n\\r\\n", wait=False)
print(__import__('urllib.request').request.urlopen(
    "http://{HOST}:{http_server}/after").read().decode())
"""
    r = execute(d, py(code), filtered(log=False))
    assert r["stdout"].splitlines() == [
        "HTTP/1.1 400 Bad Request", "HTTP/1.1 400 Bad Request",
        "HTTP/1.1 400 Bad Request", "HTTP/1.1 408 Request Timeout",
        "HTTP/1.1 431 Request Header Fields Too Large",
        f"path=/after host={HOST}:{http_server}"], r


def test_per_execution_limits(start_daemon, http_server):
    """network.maxConnections, maxBytes and idleTimeoutMs hold for each
    execution on its own: the second run starts with a fresh budget."""
    d = start_daemon(config={"network": {
        "allowPrivate": True, "maxConnections": 3, "maxBytes": "100k",
        "idleTimeoutMs": 300}})
    code = f"""
import socket, time, urllib.error, urllib.request
def tunnel():
    s = socket.create_connection(("127.0.0.1", 8118))
    s.sendall(b"CONNECT {HOST}:{http_server} HTTP/1.1\\r\\n\\r\\n")
    return s, s.recv(200).split(b"\\r\\n")[0].decode()
held = [tunnel() for _ in range(4)]
print([line for _, line in held])
held[0][0].close()
time.sleep(0.1)
print(tunnel()[1])
t0 = time.monotonic()
print(repr(held[1][0].recv(10)), time.monotonic() - t0 < 10)
for s, _ in held:
    s.close()
def get(n):
    try:
        return len(urllib.request.urlopen(
            f"http://{HOST}:{http_server}/bytes/{{n}}", timeout=10).read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception as e:
        return type(e).__name__
print(get(60000))
print(get(60000))
print(get(10))
"""
    for _ in range(2):
        r = execute(d, py(code), filtered(log=False))
        lines = r["stdout"].splitlines()
        assert lines[0] == repr(["HTTP/1.1 200 Connection Established"] * 3
                                + ["HTTP/1.1 503 Service Unavailable"]), r
        assert lines[1] == "HTTP/1.1 200 Connection Established"
        # A tunnel quiet both ways is closed.
        assert lines[2] == "b'' True"
        # The first download fits; the second goes over and is cut; then
        # nothing more is let through.
        assert lines[3] == "60000"
        assert lines[4] in ("IncompleteRead", "RemoteDisconnected"), lines
        assert lines[5] == repr((403, "isol8: network.maxBytes reached; "
                                 f"no more traffic to {HOST}\n"))


def test_heads_count_and_trickling_heads_time_out(start_daemon,
                                                  http_server):
    """Request heads the box sends count toward network.maxBytes; and a
    head trickled in a byte at a time still meets the head timeout,
    counted from the connection's start."""
    d = start_daemon(config={"network": {
        "allowPrivate": True, "maxBytes": "20k", "headTimeoutMs": 1000}})
    code = f"""
import json, select, socket, time, urllib.error, urllib.request
def get():
    req = urllib.request.Request("http://{HOST}:{http_server}/bytes/10",
                                 headers={{"X-Pad": "p" * 8000}})
    try:
        return len(urllib.request.urlopen(req, timeout=10).read())
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:
        return type(e).__name__
print(json.dumps([get() for _ in range(5)]))
s = socket.create_connection(("127.0.0.1", 8118))
s.sendall(b"GET http://{HOST}:{http_server}/ HTTP/1.1\\r\\nX: ")
answer = b""
for _ in range(20):
    if select.select([s], [], [], 0.3)[0]:
        answer = s.recv(100)
        break
    s.sendall(b"a")
print(answer.split(b"\\r\\n")[0].decode())
"""
    r = execute(d, py(code), filtered(log=False))
    lines = r["stdout"].splitlines()
    got = json.loads(lines[0])
    assert got[:2] == [10, 10] and got[-1] == 403, r
    assert lines[1] == "HTTP/1.1 408 Request Timeout", r


def test_fifty_boxes_twenty_requests_each(start_daemon, http_server):
    d = start_daemon(config={**PRIVATE, "maxConcurrent": 64})
    code = f"""
import urllib.request, os
me = os.environ["BOX"]
for i in range(20):
    body = urllib.request.urlopen(
        f"http://{HOST}:{http_server}/{{me}}/{{i}}").read().decode()
    assert body.startswith(f"path=/{{me}}/{{i}} "), body
print("ok", me)
"""
    items = [(py(code, env={"BOX": str(n)}),
              {**filtered(), "timeoutMs": 120000}) for n in range(50)]
    msgs = execute_many(d, items, timeout=300)
    for n, msg in enumerate(msgs):
        r = msg["result"]
        assert r["stdout"] == f"ok {n}\n", r
        paths = [e["path"] for e in r["networkLogs"]]
        assert paths == [f"/{n}/{i}" for i in range(20)]


def test_install_packages_allows_the_registry(start_daemon):
    """installPackages with no whitelist adds the registry from the
    daemon's configuration; pip reaches a test index through the proxy."""
    srv, url = start_pypi_index(HOST, "isol8_net_mod", 7)
    try:
        d = start_daemon(config={"network": {
            "allowPrivate": True,
            "registry": {"python": r"^127\.0\.0\.2$"}}})
        env = {"PIP_INDEX_URL": url, "PIP_RETRIES": "0"}
        r = execute(d, py("import isol8_net_mod; print(isol8_net_mod.VALUE)",
                          installPackages=["isol8-net-mod"], env=env),
                    {"network": "filtered", "logNetwork": True,
                     "timeoutMs": 120000})
        assert r["stdout"] == "7\n", r
        assert {e["host"] for e in r["networkLogs"]} == {HOST}
        assert all(e["action"] == "ALLOW" for e in r["networkLogs"])
    finally:
        srv.shutdown()


def test_ctl_network_flags(net_daemon, http_server):
    url = f"http://{HOST}:{http_server}/ctl"
    p = run_ctl("run", "--net", "filtered", "--allow", r"^127\.",
                "--deny", "nothing-here", "--log-network",
                "-e", get_code(url, "http://x.example/"), "-r", "python",
                socket_path=str(net_daemon.socket_path))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == f"200 path=/ctl host={HOST}:" \
                                       f"{http_server}"
    tail = p.stderr.split("--- Network Logs ---\n", 1)[1].splitlines()
    logs = [json.loads(l) for l in tail]
    assert [(e["host"], e["action"]) for e in logs] == [
        (HOST, "ALLOW"), ("x.example", "BLOCK")]


def test_bad_filter_named(net_daemon):
    msg = execute_error(net_daemon, py("1"), {
        "network": "filtered", "networkFilter": {"blacklist": ["a", "[z"]}})
    check_invalid(msg, "options.networkFilter.blacklist[1]", "[z")


def test_streamed_network_events(net_daemon, http_server):
    url = f"http://{HOST}:{http_server}/s"
    msg, events = execute_raw(net_daemon, py(get_code(url)), filtered(),
                              stream=True)
    nets = [e for e in events if e.get("type") == "network"]
    assert len(nets) == 1 and nets[0]["data"]["path"] == "/s"
    assert msg["result"]["networkLogs"] == [nets[0]["data"]]


def test_logs_keep_the_order_requests_were_made(net_daemon, http_server):
    """A tunnel stays open while a later request is refused: the refusal
    is streamed first, as it happens, and the result lists the tunnel
    first, as the box made it."""
    code = f"""
import os, socket, urllib.error, urllib.parse, urllib.request
proxy = urllib.parse.urlsplit(os.environ["HTTP_PROXY"])
t = socket.create_connection((proxy.hostname, proxy.port))
t.sendall(b"CONNECT {HOST}:{http_server} HTTP/1.1\\r\\n\\r\\n")
print(t.recv(100).split(b"\\r\\n")[0].decode())
try:
    urllib.request.urlopen("http://blocked.example/x", timeout=10)
except urllib.error.HTTPError as e:
    print(e.code)
t.close()
"""
    msg, events = execute_raw(net_daemon, py(code),
                              filtered(deny=[r"^blocked\."]), stream=True)
    r = msg["result"]
    assert r["stdout"] == "HTTP/1.1 200 Connection Established\n403\n", r
    made = [("CONNECT", HOST, "ALLOW"), ("GET", "blocked.example", "BLOCK")]
    assert [(x["method"], x["host"], x["action"])
            for x in r["networkLogs"]] == made
    streamed = [e["data"] for e in events if e.get("type") == "network"]
    assert [(x["method"], x["host"], x["action"]) for x in streamed] == \
        made[::-1]


def test_connections_open_at_the_end_are_logged(net_daemon, http_server):
    """Tunnels still open when the program ends (a child of its holds
    them) are in the result, with what they carried so far."""
    code = f"""
import os, socket, time
held = []
for i in range(3):
    t = socket.create_connection(("127.0.0.1", 8118))
    t.sendall(b"CONNECT {HOST}:{http_server} HTTP/1.1\\r\\n\\r\\n")
    t.recv(100)
    t.sendall(b"GET /" + str(i).encode())  # and no more
    held.append(t)
print(len(held), flush=True)
if os.fork() == 0:  # holds the tunnels past the program's end
    os.close(1)
    os.close(2)
    time.sleep(60)
"""
    msg, events = execute_raw(net_daemon, py(code), filtered(), stream=True)
    r = msg["result"]
    assert r["stdout"] == "3\n", r
    assert [(x["method"], x["action"]) for x in r["networkLogs"]] == \
        [("CONNECT", "ALLOW")] * 3, r["networkLogs"]
    for x in r["networkLogs"]:
        assert x["bytesOut"] == len("GET /0")
    streamed = [e["data"] for e in events if e.get("type") == "network"]
    assert sorted(map(json.dumps, streamed)) == \
        sorted(map(json.dumps, r["networkLogs"]))


def test_filtered_boxes_come_from_the_pool(start_daemon, http_server):
    """A pooled box has a namespace with loopback only, as a filtered box;
    claimed for a filtered run it gets the proxy's socket and nothing
    else, and is never given back."""
    pool = {"prewarm": True, "maxBuilding": 1,
            "size": {"python": 1, "node": 0, "bun": 0, "deno": 0,
                     "bash": 1}}
    d = start_daemon(config={**PRIVATE, "pool": pool}, pool=True)

    def key(runtime):
        with d.client() as c:
            st = c.result("pool.status")
        return next(k for k in st["keys"] if k["runtime"] == runtime and
                    k["seccomp"] == "strict")

    url = f"http://{HOST}:{http_server}/pooled"
    code = get_code(url) + """
import os, socket
print(os.environ.get("HTTP_PROXY"), sorted(os.listdir("/sys/class/net"))
      if os.path.exists("/sys/class/net") else "no-sysfs")
with open("/proc/net/tcp") as f:
    listening = [l.split()[1] for l in f.readlines()[1:]
                 if l.split()[3] == "0A"]
print(listening)
"""
    for i in range(2):
        assert wait_until(lambda: key("python")["ready"] == 1, 30)
        hits = key("python")["hits"]
        r = execute(d, py(code), filtered())
        assert key("python")["hits"] == hits + 1, "not from the pool"
        lines = r["stdout"].splitlines()
        assert lines[0] == f"200 path=/pooled host={HOST}:{http_server}"
        assert lines[1].startswith("http://127.0.0.1:8118 ")
        # The only socket listening in the box is the proxy's.
        assert lines[2] == "['0100007F:1FB6']", lines
        assert [x["action"] for x in r["networkLogs"]] == ["ALLOW"]
    # A "none" run from the pool after it has no proxy.
    assert wait_until(lambda: key("python")["ready"] == 1, 30)
    r = execute(d, py(code), {"network": "none"})
    lines = r["stdout"].splitlines()
    assert lines[0].startswith("ERR") and lines[2] == "[]", lines


# ---- transparent interception ----

def _bind_or_skip(server_class, addr, handler):
    try:
        return server_class(addr, handler)
    except OSError as e:
        pytest.skip(f"cannot listen on {addr[0]}:{addr[1]}: {e}")


@pytest.fixture(scope="module")
def intercepted_servers():
    """HTTP on 127.0.0.2:80 and HTTPS on 127.0.0.1:443 (certificate for
    localhost and 127.0.0.1 from a test CA): the ports the boxes' TCP is
    intercepted on.  Yields the CA in PEM."""
    tmp = tempfile.mkdtemp(prefix="isol8-icpt-")
    ca_key, ca, key, csr, crt, ext = (os.path.join(tmp, n) for n in (
        "ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem", "ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=ca"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", csr, "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext],
    ):
        subprocess.run(cmd, check=True, capture_output=True)
    plain = _bind_or_skip(Server, (HOST, 80), Handler)
    tls = _bind_or_skip(Server, ("127.0.0.1", 443), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for srv in (plain, tls):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(ca) as f:
        yield f.read()
    plain.shutdown()
    tls.shutdown()


NO_PROXY_GET = """
import ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context(cafile="/sandbox/ca.pem")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                     urllib.request.HTTPSHandler(context=ctx))
for url in URLS:
    try:
        r = opener.open(url, timeout=10)
        print(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())
    except Exception as e:
        # What TLS said (an alert's name), if anything.
        print("ERR", type(e).__name__,
              getattr(getattr(e, "reason", None), "reason", None) or "-")
"""


def test_programs_ignoring_the_proxy_are_intercepted(net_daemon,
                                                     intercepted_servers):
    urls = [f"http://{HOST}/plain", "https://localhost/named",
            "https://127.0.0.1/bare", f"http://{HOST}:8080/other-port"]
    code = f"URLS = {urls!r}\n" + NO_PROXY_GET
    r = execute(net_daemon, py(code, files={"ca.pem": intercepted_servers}),
                filtered())
    assert r["stdout"].splitlines() == [
        f"200 path=/plain host={HOST}", "200 path=/named host=localhost",
        "200 path=/bare host=127.0.0.1", "ERR URLError -"], r
    logs = [(x["method"], x["host"], x["path"] or "", x["action"])
            for x in r["networkLogs"]]
    assert logs == [("GET", HOST, "/plain", "ALLOW"),
                    ("CONNECT", "localhost", "", "ALLOW"),
                    ("CONNECT", "127.0.0.1", "", "ALLOW")], logs
    for x in r["networkLogs"]:
        assert x["bytesIn"] > 100 and x["bytesOut"] > 100
        assert (x["path"] is None) == (x["method"] == "CONNECT")


def test_interception_applies_the_filter(net_daemon, intercepted_servers):
    urls = ["https://localhost/a", f"http://{HOST}/b", "https://127.0.0.1/c"]
    code = f"URLS = {urls!r}\n" + NO_PROXY_GET
    r = execute(net_daemon, py(code, files={"ca.pem": intercepted_servers}),
                filtered(deny=["^localhost$", r"^127\.0\.0\.2$"]))
    lines = r["stdout"].splitlines()
    assert lines[0] == "ERR URLError TLSV1_ALERT_ACCESS_DENIED", lines
    assert lines[2].startswith("200 ")
    assert lines[1] == \
        f"403 isol8: request to {HOST} blocked by network filter"
    assert [(x["host"], x["action"]) for x in r["networkLogs"]] == \
        [("localhost", "BLOCK"), (HOST, "BLOCK"), ("127.0.0.1", "ALLOW")]


def test_node_fetch_and_curl_noproxy_are_intercepted(net_daemon,
                                                     intercepted_servers):
    code = f"""
const r = await fetch('http://{HOST}/fetch');
console.log(r.status, await r.text());
"""
    r = execute(net_daemon, {"runtime": "node", "code": code,
                             "fileExtension": "mjs"}, filtered())
    assert r["stdout"] == f"200 path=/fetch host={HOST}\n", r
    r = execute(net_daemon, {"runtime": "bash", "code":
                             "curl -sS --noproxy '*' --cacert ca.pem "
                             "https://localhost/curl",
                             "files": {"ca.pem": intercepted_servers}},
                filtered())
    assert r["stdout"] == "path=/curl host=localhost", r


def test_intercepted_tls_without_allow_private(start_daemon,
                                               intercepted_servers):
    d = start_daemon()
    code = "URLS = ['https://localhost/x']\n" + NO_PROXY_GET
    r = execute(d, py(code, files={"ca.pem": intercepted_servers}),
                filtered())
    assert r["stdout"] == "ERR URLError TLSV1_ALERT_ACCESS_DENIED\n", r
    assert [x["action"] for x in r["networkLogs"]] == ["BLOCK"]


def test_intercepted_tls_refused_for_capacity_or_unreachable(
        start_daemon, intercepted_servers):
    """Over network.maxConnections, or to an address where nothing
    listens, intercepted TLS gets an internal_error alert."""
    d = start_daemon(config={"network": {"allowPrivate": True,
                                         "maxConnections": 2}})
    code = """
import socket
held = [socket.create_connection(("127.0.0.1", 8118)) for _ in range(2)]
URLS = ["https://localhost/full"]
""" + NO_PROXY_GET + """
for s in held:
    s.close()
URLS = ["https://127.0.0.3/nothing-listens"]
""" + NO_PROXY_GET
    r = execute(d, py(code, files={"ca.pem": intercepted_servers}),
                filtered())
    assert r["stdout"].splitlines() == [
        "ERR URLError TLSV1_ALERT_INTERNAL_ERROR"] * 2, r


DNS_QUERY = r"""
import socket, struct
def ask(name, qtype, server=("127.0.0.53", 53), raw=None):
    q = raw or (struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) +
                b"".join(bytes([len(l)]) + l.encode()
                         for l in name.split(".")) + b"\0" +
                struct.pack(">HH", qtype, 1))
    s = socket.socket(socket.AF_INET6 if ":" in server[0]
                      else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    # Connected: only an answer from the address asked is taken.
    s.connect(server)
    s.send(q)
    try:
        a = s.recv(512)
    except OSError as e:
        return type(e).__name__
    ident, flags, qd, an = struct.unpack(">HHHH", a[:8])
    addrs = []
    off = len(q) if raw is None else 12
    for _ in range(an):
        rdlen = struct.unpack(">H", a[off + 10:off + 12])[0]
        rdata = a[off + 12:off + 12 + rdlen]
        addrs.append(socket.inet_ntop(
            socket.AF_INET if rdlen == 4 else socket.AF_INET6, rdata))
        off += 12 + rdlen
    return [hex(ident), flags & 0xf, addrs]
"""


def test_dns_stub_answers_only_allowed_names(net_daemon):
    code = DNS_QUERY + """
print(ask("localhost", 1))
print(ask("LocalHost", 1, server=("127.0.0.1", 53)))
print(ask("localhost", 1, server=("::1", 53)))
print(ask("localhost", 16))
print(ask("blocked.example", 1))
print(ask("", 1, raw=b"\\x00" * 5))
try:
    print(sorted({a[4][0] for a in socket.getaddrinfo("localhost.", 80,
                                                       socket.AF_INET)}))
except socket.gaierror as e:
    print("gaierror")
try:
    socket.getaddrinfo("blocked.example", 80)
except socket.gaierror as e:
    print("blocked gaierror")
"""
    r = execute(net_daemon, py(code), filtered(deny=["^blocked"]))
    assert r["stdout"].splitlines() == [
        "['0x1234', 0, ['127.0.0.1']]",
        "['0x1234', 0, ['127.0.0.1']]",
        "['0x1234', 0, ['127.0.0.1']]",
        "['0x1234', 0, []]",
        "['0x1234', 3, []]",
        "TimeoutError",
        "['127.0.0.1']",
        "blocked gaierror"], r


def test_dns_stub_hides_private_addresses(start_daemon):
    d = start_daemon()
    r = execute(d, py(DNS_QUERY + "print(ask('localhost', 1))"), filtered())
    assert r["stdout"] == "['0x1234', 0, []]\n"


def test_other_udp_goes_nowhere(net_daemon):
    import socket as pysocket
    srv = pysocket.socket(pysocket.AF_INET, pysocket.SOCK_DGRAM)
    srv.bind((HOST, 0))
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    code = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"hello", ("{HOST}", {port}))
s.settimeout(1)
try:
    s.recv(10)
except OSError as e:
    print(type(e).__name__)
"""
    try:
        r = execute(net_daemon, py(code), filtered())
        assert r["stdout"] in ("ConnectionRefusedError\n", "TimeoutError\n")
        with pytest.raises(pysocket.timeout):
            srv.recv(10)
    finally:
        srv.close()


def test_nothing_leaks_around_filtered_runs(start_daemon, http_server,
                                            intercepted_servers):
    """Proxied, intercepted and DNS traffic, connections left open when a
    run times out and a client that goes away: afterwards the daemon holds
    the same descriptors, mounts and children, and no box cgroup."""
    import socket as pysocket
    from execute_helpers import leak_snapshot, daemon_cgroup_dirs
    hang = pysocket.socket()
    hang.bind((HOST, 0))
    hang.listen(64)
    d = start_daemon(config=PRIVATE)
    dirs = daemon_cgroup_dirs(d.pid)
    # The resolver helper is forked at the first lookup of a name: make
    # it exist.
    execute(d, py(get_code(f"http://{HOST}:{http_server}/warm") +
                  "import socket\nsocket.getaddrinfo('localhost.', 80)\n"),
            filtered())
    # Its box is torn down after the answer.
    assert wait_until(lambda: not any(leak_snapshot(d, dirs)["cgroups"]
                                      .values()), 15)
    base_fds = d.baseline_fds()
    before = leak_snapshot(d, dirs)
    assert before["fds"] == base_fds, before
    busy = f"""
import socket, threading, urllib.request
def hold(target):
    s = socket.create_connection(target)
    s.sendall(b"CONNECT {HOST}:{hang.getsockname()[1]} HTTP/1.1\\r\\n\\r\\n")
    s.recv(100)
    threading.Event().wait()
for i in range(3):
    threading.Thread(target=hold, args=(("127.0.0.1", 8118),),
                     daemon=True).start()
socket.create_connection(("127.0.0.9", 443)).sendall(b"\\x16\\x03")
socket.getaddrinfo("localhost.", 80)
print(urllib.request.urlopen("http://{HOST}:{http_server}/x").status, flush=True)
threading.Event().wait()
"""
    for i in range(6):
        r = execute(d, py(busy, files={"ca.pem": intercepted_servers}),
                    {**filtered(), "timeoutMs": 1500})
        assert r["stdout"] == "200\n" and r.get("timedOut"), (r["stdout"], r["stderr"])
    # A client that leaves while its run holds connections.
    with d.client() as c:
        c.send("execute", {"request": py(busy), "options": filtered()})
        time.sleep(1)
    assert wait_until(lambda: leak_snapshot(d, dirs) == before, 15,
                      interval=0.1), (before, leak_snapshot(d, dirs))
    hang.close()


def test_each_box_gets_a_fresh_namespace_from_the_maker(start_daemon):
    """Network namespaces are made by a helper process of the daemon
    beside the event loop: each box has its own, the helper goes back to
    the daemon's own namespace after each (it keeps no box's alive), four
    spares are ready for the next boxes, none a box's, and the helper ends
    with the daemon."""
    d = start_daemon()
    own = os.readlink(f"/proc/{d.pid}/ns/net")
    makers = daemon_helpers(d.pid, ("isol8d-netns",))
    assert len(makers) == 1
    # Sessions keep their boxes alive: a namespace's inode number is
    # unique only while it lives (a later one may reuse a freed one).
    seen = []
    for _ in range(4):
        with d.client() as c:
            msg = c.call("session.create", {"runtime": "bash"})
        assert "error" not in msg, msg
        r = execute(d, {"runtime": "bash",
                        "code": "readlink /proc/self/ns/net"},
                    sessionId=msg["result"]["id"])
        seen.append(r["stdout"].strip())
    assert len(set(seen)) == 4 and own not in seen, seen
    assert os.readlink(f"/proc/{makers[0]}/ns/net") == own

    def spare():
        fds = f"/proc/{d.pid}/fd"
        links = set()
        for name in os.listdir(fds):
            try:
                links.add(os.readlink(f"{fds}/{name}"))
            except OSError:
                pass
        return {link for link in links if link.startswith("net:[")} - {own}
    assert wait_until(lambda: len(spare()) == 4, 5), spare()
    assert not spare() & set(seen), (spare(), seen)
    d.stop()
    assert wait_until(lambda: not os.path.exists(f"/proc/{makers[0]}"), 5)


def test_boxes_go_on_when_the_namespace_maker_dies(start_daemon):
    """Killed, the maker is reaped and said to be gone; boxes then get
    namespaces made by the daemon itself."""
    d = start_daemon()
    maker, = daemon_helpers(d.pid, ("isol8d-netns",))
    os.kill(maker, signal.SIGKILL)
    assert wait_until(lambda: not os.path.exists(f"/proc/{maker}"), 5), \
        "the maker was not reaped"
    assert wait_until(lambda: "the network namespace maker ended (signal 9)"
                      in d.stderr(), 5), d.stderr()
    outs = {execute(d, {"runtime": "bash",
                        "code": "readlink /proc/self/ns/net"})["stdout"]
            for _ in range(3)}
    assert os.readlink(f"/proc/{d.pid}/ns/net") + "\n" not in outs
    assert not daemon_helpers(d.pid, ("isol8d-netns",))
