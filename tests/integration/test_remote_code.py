"""Remote code (request.codeUrl): the daemon fetches the code under its
remoteCode configuration before any box is made.  The servers are started
here on loopback (127.0.0.2 and 127.0.0.3) with a certificate from a CA
made here; the daemon trusts that CA through remoteCode.caFile and, unless
a test checks the private-range guard, may reach loopback through
remoteCode.allowPrivate.  Nothing connects beyond loopback: the URLs that
name other hosts are refused before any lookup."""

import glob
import hashlib
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

from execute_helpers import (check_invalid, execute, execute_error,
                             params_of)
from isol8_bridge import start_bridge  # noqa: F401
from pki import make_pki
from isol8_harness import (BUILD, box_cgroups, daemon_cgroup_dirs, run_ctl,
                           wait_until)

HOST = "127.0.0.2"
OTHER = "127.0.0.3"
# A documentation address (TEST-NET-2), outside every private range, put on
# the loopback interface while a test needs a "public" first hop.
PUBLIC = "198.51.100.7"
CODE = "print('hello from a url')\n"
CODE_HASH = hashlib.sha256(CODE.encode()).hexdigest()
MAX = 1000  # remoteCode.maxCodeSize in the tests that need a small one


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        path = urllib.parse.urlparse(self.path)
        self.server.counts[path.path] = \
            self.server.counts.get(path.path, 0) + 1
        q = urllib.parse.parse_qs(path.query)
        route = getattr(self, "r_" + path.path.strip("/").replace(
            "-", "_").replace(".", "_"), None)
        if route is None:
            self.send_error(404)
            return
        try:
            route(q)
        except OSError:
            pass

    def body(self, data, length=True):
        self.send_response(200)
        if length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def r_code_py(self, q):
        self.body(CODE.encode())

    def r_other_py(self, q):
        self.body(b"print('other')\n")

    def r_noext(self, q):
        self.body(CODE.encode())

    def r_binary_py(self, q):
        self.body(b"print(1)\x00\n")

    def r_empty_py(self, q):
        self.body(b"")

    def r_big_length_py(self, q):
        self.body(b"#" * (MAX * 5))

    def r_big_stream_py(self, q):
        # No Content-Length: the cap must hold as the body arrives.
        self.send_response(200)
        self.end_headers()
        for _ in range(50):
            self.wfile.write(b"#" * 100)
            self.wfile.flush()

    def r_slow_py(self, q):
        self.send_response(200)
        self.end_headers()
        for _ in range(300):
            self.wfile.write(b"#")
            self.wfile.flush()
            time.sleep(0.1)

    def r_redirect_py(self, q):
        self.send_response(302)
        self.send_header("Location", q["to"][0])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def r_loop_py(self, q):
        self.send_response(302)
        self.send_header("Location", "/loop.py")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *a):
        super().__init__(*a)
        self.counts = {}


@pytest.fixture(scope="module")
def pki():
    """A CA and a certificate for 127.0.0.2, 127.0.0.3 and localhost;
    yields (CA file, certificate, key)."""
    tmp = tempfile.mkdtemp(prefix="isol8-rc-")
    os.chmod(tmp, 0o755)
    ca, crt, key = make_pki(
        tmp, HOST, f"IP:{HOST},IP:{OTHER},IP:{PUBLIC},DNS:localhost",
        "isol8 remote code test CA")
    os.chmod(ca, 0o644)
    return ca, crt, key


def serve(host, pki=None):
    import ssl
    srv = Server((host, 0), Handler)
    if pki:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki[1], pki[2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture(scope="module")
def https(pki):
    srv = serve(HOST, pki)
    yield srv
    srv.shutdown()


@pytest.fixture(scope="module")
def https_other(pki):
    srv = serve(OTHER, pki)
    yield srv
    srv.shutdown()


@pytest.fixture(scope="module")
def plain():
    srv = serve(HOST)
    yield srv
    srv.shutdown()


def url(srv, path, scheme="https"):
    host, port = srv.server_address[:2]
    return f"{scheme}://{host}:{port}{path}"


def policy(pki, **kw):
    """A remoteCode configuration for the test servers."""
    rc = {"enabled": True, "caFile": pki[0], "allowPrivate": True,
          "blockedHosts": []}
    rc.update(kw)
    return {"remoteCode": rc}


def fetch(daemon, code_url, **extra):
    return {"runtime": "python", "codeUrl": code_url, **extra}


@pytest.fixture(scope="module")
def rc_daemon(pki):
    from execute_helpers import module_daemon
    yield from module_daemon(config=policy(pki, maxCodeSize=MAX,
                                           fetchTimeoutMs=3000))


# --------------------------------------------------------------------------
# Off unless the administrator turns it on


def test_disabled_by_default(daemon, https):
    msg = execute_error(daemon, fetch(daemon, url(https, "/code.py")))
    check_invalid(msg, "Remote code fetching is disabled. Set "
                  "remoteCode.enabled=true to allow it.", "request.codeUrl")
    assert https.counts.get("/code.py", 0) == 0


def libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(line.split()[-1]) for line in f
                if "/" in line}


def test_libcurl_is_loaded_only_for_remote_code(daemon, rc_daemon):
    """A daemon without remote code maps none of libcurl (nor its own
    libraries); one with it has it loaded from its start."""
    assert not any(lib.startswith("libcurl") for lib in
                   libraries(daemon.pid)), sorted(libraries(daemon.pid))
    assert any(lib.startswith("libcurl.so.4") for lib in
               libraries(rc_daemon.pid)), sorted(libraries(rc_daemon.pid))


def test_without_libcurl_it_does_not_start(pki, tmp_path):
    """Remote code enabled where libcurl cannot be loaded: isol8d says so
    and exits, leaving no cgroup behind."""
    found = subprocess.run(["ldconfig", "-p"], capture_output=True,
                           text=True, check=True).stdout
    lib = next(line.split(" => ")[1] for line in found.splitlines()
               if line.split()[0] == "libcurl.so.4")
    conf = tmp_path / "isol8d.json"
    conf.write_text(json.dumps(policy(pki)))
    # Over the library, in a mount namespace of its own: an empty file.
    with subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount --bind /dev/null "$1" && exec "$2" --socket "$3" '
             '--config "$4"', "sh", lib, str(BUILD / "isol8d"),
             str(tmp_path / "s.sock"), str(conf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True) as p:
        _, err = p.communicate(timeout=30)
    assert p.returncode != 0
    assert "cannot load libcurl.so.4 for remote code" in err, err
    # The pid is isol8d's: unshare and sh exec it.
    assert not glob.glob(f"/sys/fs/cgroup/**/isol8d-{p.pid}",
                         recursive=True)


def test_client_policy_does_not_enable_it(daemon, https):
    opts = {"remoteCode": {"enabled": True, "allowedHosts": [".*"]}}
    msg = execute_error(daemon, fetch(daemon, url(https, "/code.py")), opts)
    check_invalid(msg, "Remote code fetching is disabled")


# --------------------------------------------------------------------------
# Fetching and running


def test_runs_fetched_code(rc_daemon, https):
    r = execute(rc_daemon, fetch(rc_daemon, url(https, "/code.py")))
    assert r["exitCode"] == 0 and r["stdout"] == "hello from a url\n", r


def test_hash_matches_in_any_case(rc_daemon, https):
    r = execute(rc_daemon, fetch(rc_daemon, url(https, "/code.py"),
                                 codeHash=CODE_HASH.upper()))
    assert r["stdout"] == "hello from a url\n", r


def test_hash_mismatch(rc_daemon, https):
    before = https.counts.get("/other.py", 0)
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/other.py"),
                                         codeHash=CODE_HASH))
    check_invalid(msg, "Remote code hash mismatch")
    assert https.counts["/other.py"] == before + 1


def test_hash_must_be_sha256_hex(rc_daemon, https):
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/code.py"),
                                         codeHash="abc"))
    check_invalid(msg, "request.codeHash", "64 hexadecimal digits")


def test_exactly_one_source(rc_daemon, https):
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/code.py"),
                                         code="print(1)"))
    check_invalid(msg, "exactly one of", "codeUrl")


def test_cache_hit_does_not_fetch_again(rc_daemon, https):
    u = url(https, "/code.py") + "?cache=1"
    for _ in range(2):
        r = execute(rc_daemon, fetch(rc_daemon, u, codeHash=CODE_HASH))
        assert r["stdout"] == "hello from a url\n", r
    assert https.counts["/code.py"] >= 1
    n = https.counts["/code.py"]
    execute(rc_daemon, fetch(rc_daemon, u, codeHash=CODE_HASH))
    assert https.counts["/code.py"] == n, "a cached fetch reached the server"
    # Another hash (here: none) is another key.
    execute(rc_daemon, fetch(rc_daemon, u))
    assert https.counts["/code.py"] == n + 1


def test_cache_off(pki, start_daemon, https):
    d = start_daemon(config=policy(pki, enableCache=False))
    u = url(https, "/code.py") + "?nocache=1"
    n = https.counts.get("/code.py", 0)
    for _ in range(2):
        execute(d, fetch(d, u))
    assert https.counts["/code.py"] == n + 2


def test_http_error(rc_daemon, https):
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/nope.py")))
    check_invalid(msg, "Failed to fetch remote code: HTTP 404")


def test_binary_and_empty(rc_daemon, https):
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/binary.py")))
    check_invalid(msg, "Fetched code appears to be binary content")
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/empty.py")))
    check_invalid(msg, "Remote code response body is empty")


# --------------------------------------------------------------------------
# The policy


def test_require_hash(pki, start_daemon, https):
    d = start_daemon(config=policy(pki, requireHash=True))
    msg = execute_error(d, fetch(d, url(https, "/code.py")))
    check_invalid(msg, "Hash verification required: provide codeHash for "
                  "remote code execution.")
    r = execute(d, fetch(d, url(https, "/code.py"), codeHash=CODE_HASH))
    assert r["stdout"] == "hello from a url\n"


def test_http_needs_allow_insecure(rc_daemon, plain):
    msg = execute_error(rc_daemon, fetch(rc_daemon,
                                         url(plain, "/code.py", "http")))
    check_invalid(msg, "Insecure code URL blocked. Use "
                  "allowInsecureCodeUrl=true to allow HTTP.")
    msg = execute_error(rc_daemon, fetch(rc_daemon,
                                         url(plain, "/code.py", "http"),
                                         allowInsecureCodeUrl=True))
    check_invalid(msg, "URL scheme not allowed: http")
    assert plain.counts.get("/code.py", 0) == 0


def test_http_when_allowed(pki, start_daemon, plain):
    d = start_daemon(config=policy(pki, allowedSchemes=["https", "http"]))
    r = execute(d, fetch(d, url(plain, "/code.py", "http"),
                         allowInsecureCodeUrl=True))
    assert r["stdout"] == "hello from a url\n"


def test_other_scheme(rc_daemon):
    msg = execute_error(rc_daemon, fetch(rc_daemon, "ftp://127.0.0.2/x.py"))
    check_invalid(msg, "URL scheme not allowed: ftp")


def test_tls_is_verified(start_daemon, pki, https):
    # No caFile: the test CA is not trusted, whatever the URL says.
    d = start_daemon(config={"remoteCode": {
        "enabled": True, "allowPrivate": True, "blockedHosts": []}})
    msg = execute_error(d, fetch(d, url(https, "/code.py") + "?tls=1"))
    check_invalid(msg, "Failed to fetch remote code:", "certificate")


def test_allowed_and_blocked_hosts(pki, start_daemon, https):
    d = start_daemon(config=policy(pki, allowedHosts=[r"^example\.org$"]))
    msg = execute_error(d, fetch(d, url(https, "/code.py")))
    check_invalid(msg, f"Blocked code URL host: {HOST}")
    d = start_daemon(config=policy(pki, blockedHosts=[r"^127\.0\.0\.2$"]))
    msg = execute_error(d, fetch(d, url(https, "/code.py")))
    check_invalid(msg, f"Blocked code URL host: {HOST}")


def test_default_blocked_hosts(pki, start_daemon, https):
    # isol8's default blockedHosts name loopback even with allowPrivate.
    d = start_daemon(config={"remoteCode": {
        "enabled": True, "caFile": pki[0], "allowPrivate": True}})
    msg = execute_error(d, fetch(d, url(https, "/code.py")))
    check_invalid(msg, f"Blocked code URL host: {HOST}")


def test_private_address_refused(pki, start_daemon, https):
    """Without allowPrivate: an address in the URL, and a name whose
    address is private, are refused before any connection."""
    d = start_daemon(config={"remoteCode": {
        "enabled": True, "caFile": pki[0], "blockedHosts": []}})
    n = sum(https.counts.values())
    msg = execute_error(d, fetch(d, url(https, "/code.py")))
    check_invalid(msg, f"Blocked code URL host: {HOST}")
    port = https.server_address[1]
    msg = execute_error(d, fetch(d, f"https://localhost:{port}/code.py"))
    check_invalid(msg, "Blocked code URL host: localhost")
    for target, host in ((f"https://[::1]:{port}/code.py", "[::1]"),
                         ("https://169.254.169.254/x.py", "169.254.169.254"),
                         ("https://[fd00::1]/x.py", "[fd00::1]"),
                         ("https://2130706434/x.py", HOST)):
        msg = execute_error(d, fetch(d, target))
        check_invalid(msg, f"Blocked code URL host: {host}")
    assert sum(https.counts.values()) == n


def test_unresolvable_host(rc_daemon):
    msg = execute_error(rc_daemon, fetch(
        rc_daemon, "https://no-such-host.invalid/x.py"))
    check_invalid(msg, "Failed to resolve code URL host: "
                  "no-such-host.invalid")


def test_redirect_followed(rc_daemon, https, https_other):
    to = url(https_other, "/code.py")
    r = execute(rc_daemon, fetch(rc_daemon, url(https, "/redirect.py") +
                                 "?to=" + urllib.parse.quote(to)))
    assert r["stdout"] == "hello from a url\n"
    assert https_other.counts["/code.py"] >= 1


def test_redirect_to_blocked_host(pki, start_daemon, https, https_other):
    d = start_daemon(config=policy(pki, blockedHosts=[r"^127\.0\.0\.3$"]))
    to = url(https_other, "/code.py") + "?blocked=1"
    n = sum(https_other.counts.values())
    msg = execute_error(d, fetch(d, url(https, "/redirect.py") + "?to=" +
                                 urllib.parse.quote(to)))
    check_invalid(msg, f"Blocked code URL host: {OTHER}")
    assert sum(https_other.counts.values()) == n


@pytest.fixture
def https_public(pki):
    """A server on PUBLIC, an address given to lo for the test only."""
    subprocess.run(["ip", "addr", "add", f"{PUBLIC}/32", "dev", "lo"],
                   check=True, capture_output=True)
    try:
        srv = serve(PUBLIC, pki)
        yield srv
        srv.shutdown()
    finally:
        subprocess.run(["ip", "addr", "del", f"{PUBLIC}/32", "dev", "lo"],
                       capture_output=True)


def test_redirect_to_private_address(pki, start_daemon, https_public,
                                     https_other):
    """The private-range guard holds at every hop: a first hop outside the
    private ranges is fetched, and its redirect to a loopback address, by
    number or by name, is refused before any connection to it."""
    d = start_daemon(config={"remoteCode": {
        "enabled": True, "caFile": pki[0], "blockedHosts": []}})
    r = execute(d, fetch(d, url(https_public, "/code.py")))
    assert r["stdout"] == "hello from a url\n", r
    port = https_other.server_address[1]
    n = sum(https_other.counts.values())
    for to, host in ((url(https_other, "/code.py"), OTHER),
                     (f"https://localhost:{port}/code.py", "localhost")):
        msg = execute_error(d, fetch(d, url(https_public, "/redirect.py") +
                                     "?to=" + urllib.parse.quote(to)))
        check_invalid(msg, f"Blocked code URL host: {host}")
    assert sum(https_other.counts.values()) == n


def test_redirect_to_http(pki, start_daemon, https, plain):
    d = start_daemon(config=policy(pki))
    to = url(plain, "/code.py", "http")
    n = plain.counts.get("/code.py", 0)
    msg = execute_error(d, fetch(d, url(https, "/redirect.py") + "?to=" +
                                 urllib.parse.quote(to)))
    check_invalid(msg, "Insecure code URL blocked")
    assert plain.counts.get("/code.py", 0) == n


def test_redirect_loop(rc_daemon, https):
    n = https.counts.get("/loop.py", 0)
    msg = execute_error(rc_daemon, fetch(rc_daemon, url(https, "/loop.py")))
    check_invalid(msg, "Failed to fetch remote code: more than 10 redirects")
    assert https.counts["/loop.py"] == n + 11


# --------------------------------------------------------------------------
# Size and time


def test_oversize_by_content_length(rc_daemon, https):
    msg = execute_error(rc_daemon, fetch(rc_daemon,
                                         url(https, "/big-length.py")))
    check_invalid(msg, f"Remote code exceeds maxCodeSize ({MAX} bytes): "
                  f"{MAX * 5} bytes")


def test_oversize_while_streaming(rc_daemon, https):
    msg = execute_error(rc_daemon, fetch(rc_daemon,
                                         url(https, "/big-stream.py")))
    check_invalid(msg, f"Remote code exceeds maxCodeSize ({MAX} bytes)",
                  kind="invalid_argument")
    assert "bytes):" not in msg["error"]["message"]


def test_slow_body_times_out_and_others_run(rc_daemon, https):
    """A fetch stalls for its whole fetchTimeoutMs; meanwhile another
    execution is served."""
    with rc_daemon.client(timeout=30) as slow:
        rid = slow.send("execute", params_of(fetch(
            rc_daemon, url(https, "/slow.py"))))
        assert wait_until(lambda: https.counts.get("/slow.py", 0) >= 1, 10)
        r = execute(rc_daemon, {"runtime": "python",
                                "code": "print('meanwhile')"})
        assert r["stdout"] == "meanwhile\n"
        msg = slow.recv(30)
        assert msg["id"] == rid
        check_invalid(msg, "Remote code fetch timed out after 3000ms",
                      kind="timeout", code=msg["error"]["code"])


def test_cancelled_fetch_leaves_nothing(rc_daemon, https):
    execute(rc_daemon, fetch(rc_daemon, url(https, "/code.py")))
    # The connections of the tests before may still be closing.
    for attempt in range(5):
        try:
            base = rc_daemon.baseline_fds()
            break
        except AssertionError:
            if attempt == 4:
                raise
    dirs = daemon_cgroup_dirs(rc_daemon.pid)
    boxes = box_cgroups(dirs)
    for _ in range(3):
        n = https.counts.get("/slow.py", 0)
        c = rc_daemon.client(timeout=10)
        c.send("execute", params_of(fetch(rc_daemon,
                                          url(https, "/slow.py"))))
        assert wait_until(lambda: https.counts.get("/slow.py", 0) > n, 10)
        c.close()
    # At most the fds of the start: ones of the tests before that were
    # still closing then may be gone since.
    assert wait_until(lambda: rc_daemon.fd_count() <= base, 10), \
        (rc_daemon.fd_count(), base)
    # None new; the first execution's box may still have been going when
    # boxes was read, and be gone now.
    assert wait_until(lambda: all(
        set(v) <= set(boxes.get(k, []))
        for k, v in box_cgroups(dirs).items()), 10), (box_cgroups(dirs), boxes)
    assert rc_daemon.health()["status"] == "ok"


# --------------------------------------------------------------------------
# isol8ctl


def ctl(d, *args):
    return d.ctl(*args, timeout=60)


def test_ctl_url(rc_daemon, https):
    p = ctl(rc_daemon, "run", "--url", url(https, "/code.py"), "--hash",
            CODE_HASH)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello from a url\n"


def test_ctl_runtime_from_url(rc_daemon, https):
    p = ctl(rc_daemon, "run", "--url", url(https, "/noext"))
    assert p.returncode == 1
    assert "[ERR] Cannot detect runtime from URL path. Use --runtime to " \
        "specify." in p.stderr
    p = ctl(rc_daemon, "run", "--url", url(https, "/noext"), "-r", "python")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello from a url\n"


def test_ctl_github_and_gist_expand(pki, start_daemon):
    """The URLs isol8's CLI makes; the daemon refuses their hosts by name,
    before any lookup or connection."""
    d = start_daemon(config=policy(pki, allowedHosts=[r"^127\.0\.0\.2$"]))
    p = ctl(d, "run", "--debug", "--github", "own/repo/main/dir/app.py")
    assert p.returncode != 0
    req = json.loads(p.stderr.split("[DEBUG] request: ", 1)[1]
                     .splitlines()[0])
    assert req["request"]["codeUrl"] == \
        "https://raw.githubusercontent.com/own/repo/main/dir/app.py"
    assert req["request"]["runtime"] == "python"
    assert "Blocked code URL host: raw.githubusercontent.com" in p.stderr
    p = ctl(d, "run", "--debug", "--gist", "abc123/tool.js", "--hash",
            CODE_HASH, "--allow-insecure-code-url")
    req = json.loads(p.stderr.split("[DEBUG] request: ", 1)[1]
                     .splitlines()[0])
    assert req["request"]["codeUrl"] == \
        "https://gist.githubusercontent.com/abc123/raw/tool.js"
    assert req["request"]["runtime"] == "node"
    assert req["request"]["codeHash"] == CODE_HASH
    assert req["request"]["allowInsecureCodeUrl"] is True
    assert "Blocked code URL host: gist.githubusercontent.com" in p.stderr


def test_ctl_flag_errors(daemon):
    cases = (
        (["--github", "own/repo/main"],
         "[ERR] --github format must be owner/repo/ref/path/to/file"),
        (["--gist", "abc123"], "[ERR] --gist format must be gistId/file.ext"),
        (["--url", "https://x/a.py", "-e", "print(1)"],
         "[ERR] --url/--github/--gist cannot be used with file input or "
         "--eval."),
        (["--cmd", "true", "--gist", "a/b.py"],
         "[ERR] --cmd cannot be combined with file input, --eval, --url, "
         "--github, or --gist."),
    )
    for args, text in cases:
        p = ctl(daemon, "run", *args)
        assert p.returncode != 0 and text in p.stderr, (args, p.stderr)


def test_through_the_bridge_and_remote_cli(pki, start_daemon, start_bridge,
                                           https, tmp_path):
    """isol8's client sends codeUrl over HTTP: the bridge passes it on,
    and isol8ctl run --url --host sends it there."""
    d = start_daemon(config=policy(pki))
    b = start_bridge(d)
    status, r = b.json("POST", "/execute", {"request": {
        "runtime": "python", "codeUrl": url(https, "/code.py"),
        "codeHash": CODE_HASH}})
    assert status == 200 and r["stdout"] == "hello from a url\n", r
    status, r = b.json("POST", "/execute", {"request": {
        "runtime": "python", "codeUrl": url(https, "/code.py"),
        "codeHash": "0" * 64}})
    assert status == 400 and "hash" in r["error"].lower(), r
    p = run_ctl("run", "--host", b.url, "--key", b.key, "--url",
                url(https, "/code.py"), "--hash", CODE_HASH)
    assert p.returncode == 0 and p.stdout == "hello from a url\n", p
