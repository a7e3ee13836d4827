"""The HTTP bridge (isol8ctl serve) in front of a test daemon.

start_bridge(daemon, key=..., args=..., env=...) starts one on 127.0.0.1
with a port the kernel picks, read back from its banner.  At teardown each
bridge still running gets SIGTERM and must exit 0.

Bridge(..., wrap=[...], listen="0.0.0.0", host=ADDR) runs it under a
wrapper that execs it (nsenter into a network namespace) and reaches it
at ADDR."""

import http.client
import json
import os
import re
import signal
import subprocess
import time

import pytest

from isol8_harness import BUILD

BANNER = re.compile(r"^\[INFO\] isol8 server v(\S+) listening on "
                    r"http://localhost:(\d+)$")
START_TIMEOUT = 10


class Bridge:
    def __init__(self, socket_path, key="test-key", args=(), env=None,
                 build=BUILD, port="0", wrap=(), listen="127.0.0.1",
                 host="127.0.0.1"):
        self.key = key
        self.host = host
        argv = [*wrap, str(build / "isol8ctl"), "--socket", str(socket_path),
                "serve", "--listen", listen]
        if port is not None:
            argv += ["--port", port]
        if key is not None:
            argv += ["--key", key]
        e = {k: v for k, v in os.environ.items()
             if k not in ("ISOL8_API_KEY", "ISOL8_PORT", "PORT")
             and not k.startswith("LISTEN_")}
        e.update(env or {})
        self.proc = subprocess.Popen(
            argv + list(args), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
            text=True, start_new_session=True)
        line = self._banner()
        m = BANNER.match(line)
        assert m, f"unexpected banner {line!r}; stderr: {self.stderr()}"
        self.version = m.group(1)
        self.port = int(m.group(2))
        self.url = f"http://{host}:{self.port}"

    def _banner(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line:
                return line.rstrip("\n")
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"bridge printed no banner; exit "
                             f"{self.proc.poll()}, stderr: {self.stderr()}")

    def stderr(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read()

    def connection(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)

    def headers(self, auth=True, extra=None):
        h = {"Content-Type": "application/json"}
        if auth:
            h["Authorization"] = f"Bearer {self.key}"
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, auth=True, headers=None,
                timeout=30):
        """(status, headers, body bytes) of one request on a fresh
        connection; body may be a dict (sent as JSON), str or bytes."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c = self.connection(timeout)
        try:
            c.request(method, path, body=body,
                      headers=self.headers(auth, headers))
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def json(self, method, path, body=None, **kw):
        status, headers, data = self.request(method, path, body, **kw)
        return status, json.loads(data)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the bridge did not stop on SIGTERM")


@pytest.fixture
def start_bridge():
    """start_bridge(daemon, key="k", ...) -> a running Bridge."""
    bridges = []

    def start(daemon, **kw):
        b = Bridge(daemon.socket_path, **kw)
        bridges.append(b)
        return b

    yield start
    errors = []
    for b in bridges:
        was_running = b.alive()
        rc = b.stop()
        if was_running and rc != 0:
            errors.append(f"bridge exited {rc} on SIGTERM: {b.stderr()}")
        b.proc.stdout.close()
        b.proc.stderr.close()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)
