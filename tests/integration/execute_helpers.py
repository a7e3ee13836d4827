"""Shared code for the `execute` suites: running executions (alone, several
at once over separate connections, or streamed), checking the shape of an
ExecutionResult, finding a box's processes on the host, and one suite of
per-runtime checks that test_execute_<runtime>.py instantiate with their
own snippets.

Everything here talks only to the daemon's Unix socket."""

import base64
import os
import re
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from isol8_harness import (BUILD, Daemon, box_cgroups,  # noqa: F401
                           check_error, children_of, daemon_cgroup_dirs,
                           pids_with_marker, wait_until)

# Bounds on waiting for an execution's reply.  Generous: they only end a
# test that is already broken.
REPLY_TIMEOUT = 30.0

# isol8's texts: the line a timed-out result's stderr ends with (after a
# newline), the stream's error event on a timeout, and the marker after
# output cut at maxOutputSize (total: the bytes the program wrote).
TIMEOUT_TEXT = "--- EXECUTION TIMED OUT ---"
TIMEOUT_EVENT = "EXECUTION TIMED OUT"


def truncation_marker(total, limit):
    return f"\n\n--- OUTPUT TRUNCATED ({total} bytes, limit: {limit}) ---"


TRUNCATION_RE = re.compile(
    r"\n\n--- OUTPUT TRUNCATED \(\d+ bytes, limit: \d+\) ---$")
RUNTIMES = ("python", "node", "bun", "deno", "bash")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                     r"[0-9a-f]{12}$")

INVALID_ARGUMENT = -32602


# --------------------------------------------------------------------------
# A daemon shared by the tests of one module


def module_daemon(**kwargs):
    """One isol8d (Daemon's keyword arguments) for a whole module, as a
    fixture's generator; it must still exit cleanly at the end (no process,
    socket or box left behind)."""
    d = Daemon(build=BUILD, **kwargs)
    try:
        d.start()
        yield d
        d.assert_clean_exit()
    finally:
        d.close()
        d.cleanup_dir()


@pytest.fixture(scope="module")
def shared_daemon():
    yield from module_daemon()


# --------------------------------------------------------------------------
# Running executions


def marker():
    """A string unique to one test, to find its processes on the host."""
    return "isol8mark" + uuid.uuid4().hex[:12]


def params_of(request, options=None, stream=False, **extra):
    p = {"request": request}
    if options is not None:
        p["options"] = options
    if stream:
        p["stream"] = True
    p.update(extra)
    return p


def call_execute(client, params, timeout=REPLY_TIMEOUT):
    """Sends one execute on client and reads until its response; returns
    (response, [stream notification params, in order])."""
    rid = client.send("execute", params)
    events = []
    while True:
        msg = client.recv(timeout)
        if "method" in msg:
            assert msg["method"] == "stream", f"unexpected message {msg!r}"
            assert "id" not in msg, f"a notification with an id: {msg!r}"
            assert msg["params"]["id"] == rid, \
                f"an event for another request: {msg!r}"
            events.append(msg["params"])
            continue
        assert msg.get("id") == rid, f"expected the answer to {rid}: {msg!r}"
        return msg, events


def execute_raw(daemon, request, options=None, stream=False,
                timeout=REPLY_TIMEOUT, **extra):
    """One execute on a fresh connection: (response, events)."""
    with daemon.client(timeout=timeout) as c:
        return call_execute(c, params_of(request, options, stream, **extra),
                            timeout)


def execute(daemon, request, options=None, **kw):
    """One execute that must succeed; returns the checked result."""
    msg, _ = execute_raw(daemon, request, options, **kw)
    assert "error" not in msg, f"execute failed: {msg['error']!r}"
    check_result(msg["result"])
    return msg["result"]


def execute_error(daemon, request, options=None, **kw):
    """One execute that must fail; returns the whole response."""
    msg, _ = execute_raw(daemon, request, options, **kw)
    assert "error" in msg, f"execute should have failed: {msg!r}"
    return msg


def execute_many(daemon, items, timeout=REPLY_TIMEOUT):
    """Runs several executions at once, each on its own connection.
    items: list of (request, options) or params dicts; returns the
    responses in the same order."""
    def one(item):
        p = item if isinstance(item, dict) and "request" in item \
            else params_of(*item)
        with daemon.client(timeout=timeout) as c:
            return call_execute(c, p, timeout)[0]

    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        return list(pool.map(one, items))


def results_of(msgs):
    out = []
    for m in msgs:
        assert "error" not in m, f"execute failed: {m['error']!r}"
        check_result(m["result"])
        out.append(m["result"])
    return out


def check_invalid(msg, *words, kind="invalid_argument",
                  code=INVALID_ARGUMENT):
    """An invalid_argument error whose message names every word."""
    return check_error(msg, code, kind=kind, id=msg.get("id"), words=words)


# --------------------------------------------------------------------------
# Results


def check_result(r, runtime=None):
    """The fields every ExecutionResult carries, with their types."""
    for key, typ in (("stdout", str), ("stderr", str), ("exitCode", int),
                     ("durationMs", int), ("truncated", bool),
                     ("executionId", str), ("runtime", str),
                     ("timestamp", str), ("containerId", str),
                     ("resourceUsage", dict)):
        assert key in r, f"{key} missing from the result: {r!r}"
        assert isinstance(r[key], typ) and not (
            typ is int and isinstance(r[key], bool)), \
            f"{key} is not a {typ.__name__}: {r!r}"
    assert r["durationMs"] >= 0, r
    assert 0 <= r["exitCode"] <= 255, r
    assert UUID_RE.match(r["executionId"]), r["executionId"]
    assert r["runtime"] in RUNTIMES, r
    if runtime is not None:
        assert r["runtime"] == runtime, r
    ts = r["timestamp"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", ts), ts
    datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
    assert r["containerId"], r
    ru = r["resourceUsage"]
    for key in ("cpuTimeMs", "peakMemoryMB", "cpuPercent", "memoryMB",
                "networkBytesIn", "networkBytesOut"):
        assert key in ru, f"resourceUsage.{key} missing: {r!r}"
        assert isinstance(ru[key], (int, float)) and \
            not isinstance(ru[key], bool) and ru[key] >= 0, r
    for key in ("timedOut", "oomKilled"):
        if key in r:
            assert r[key] is True, f"{key} present but not true: {r!r}"
    if "signal" in r:
        assert re.match(r"^SIG[A-Z0-9]+$", r["signal"]), r
    if "files" in r:
        assert isinstance(r["files"], dict), r
    return r


def check_timed_out(r):
    assert r.get("timedOut") is True, f"not timed out: {r!r}"
    assert r["exitCode"] == 137, r
    assert r["stderr"].endswith("\n" + TIMEOUT_TEXT), r["stderr"][-300:]
    assert r.get("signal") == "SIGKILL", r
    assert "oomKilled" not in r, r


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def stream_text(events, typ, phase=None):
    return "".join(e["data"] for e in events if e["type"] == typ and
                   (phase is None or e.get("phase") == phase))


# --------------------------------------------------------------------------
# Processes on the host


def assert_no_marker_processes(mark, timeout=5.0):
    left = wait_until(lambda: not pids_with_marker(mark), timeout)
    assert left, f"processes of the box survived: {pids_with_marker(mark)}"


def signal_marker(mark, sig=signal.SIGUSR1):
    pids = pids_with_marker(mark)
    assert pids, f"no process with {mark} in its command line"
    for p in pids:
        os.kill(p, sig)
    return pids


# --------------------------------------------------------------------------
# The per-runtime suite
#
# A test module sets `runtime` and `snippets`, a dict of source texts (with
# str.format fields where noted):
#   hello       prints "hello from <runtime>" and a newline
#   exit        exits with {code}
#   signal      kills itself with SIGTERM
#   stderr      prints "out-1\n" to stdout, "err-1\nerr-2\n" to stderr and
#               exits with 3
#   stdin       prints "stdin:" then all of its standard input, unchanged
#   files       reads /sandbox/input.txt, /sandbox/nested/dir/data.txt and
#               /tmp/t/x.txt and prints them joined by "|"; writes bytes
#               0..255 to /sandbox/out/result.bin and "done ☃" (UTF-8) to
#               /tmp/out/text.txt
#   env         prints GREETING, ISOL8_EMPTY, UNI and HOME as "K=v|" each,
#               then a newline
#   secret      prints "token=<$API_TOKEN>" to stdout, "err:<$API_TOKEN>:end"
#               to stderr (newlines after both)
#   unicode     prints UNICODE_TEXT and a newline
#   binary      writes the bytes BINARY_BYTES to stdout
#   timeout     prints "started" (flushed), then never ends


UNICODE_TEXT = "héllo wörld ☃ 😀 中文 ÆØÅ"
BINARY_BYTES = b"ok\xff\xfeA\xc3(\xe2\x82end\n"
BINARY_TEXT = "ok\ufffd\ufffdA\ufffd(\ufffd\ufffdend\n"
FILES_IN = {
    "input.txt": "line one\nline two ☃",
    "nested/dir/data.txt": "nested data",
    "/tmp/t/x.txt": "in tmp",
}
FILES_PRINTED = "line one\nline two ☃|nested data|in tmp"


class RuntimeSuite:
    runtime = None
    snippets = {}

    def req(self, name, **fmt):
        code = self.snippets[name]
        if fmt:
            code = code.format(**fmt)
        return {"code": code, "runtime": self.runtime}

    def run(self, daemon, name, options=None, fmt=None, **extra):
        request = self.req(name, **(fmt or {}))
        request.update(extra)
        return check_result(execute(daemon, request, options),
                            self.runtime)

    # -- tests

    def test_hello(self, shared_daemon):
        r = self.run(shared_daemon, "hello")
        assert r["stdout"] == f"hello from {self.runtime}\n", r
        assert r["stderr"] == "", r
        assert r["exitCode"] == 0, r
        assert r["truncated"] is False, r
        for key in ("timedOut", "oomKilled", "signal"):
            assert key not in r, r

    def test_each_run_is_a_new_box(self, shared_daemon):
        a, b = results_of(execute_many(shared_daemon, [
            (self.req("hello"), None), (self.req("hello"), None)]))
        assert a["executionId"] != b["executionId"]
        assert a["containerId"] != b["containerId"]

    def test_exit_codes(self, shared_daemon):
        codes = (0, 1, 3, 42, 255)
        msgs = execute_many(shared_daemon, [
            (self.req("exit", code=c), None) for c in codes])
        for code, r in zip(codes, results_of(msgs)):
            assert r["exitCode"] == code, (code, r)
            assert "signal" not in r, r
            assert "timedOut" not in r, r

    def test_killed_by_signal(self, shared_daemon):
        r = self.run(shared_daemon, "signal")
        assert r["exitCode"] == 128 + signal.SIGTERM, r
        assert r.get("signal") == "SIGTERM", r
        assert "timedOut" not in r and "oomKilled" not in r, r

    def test_stderr(self, shared_daemon):
        r = self.run(shared_daemon, "stderr")
        assert r["stdout"] == "out-1\n", r
        assert r["stderr"] == "err-1\nerr-2\n", r
        assert r["exitCode"] == 3, r

    def test_stdin(self, shared_daemon):
        data = "first line\nsecond ☃ line\n\nlast without newline"
        big = "".join(f"{i:07d}\n" for i in range(40000))  # 320 kB
        r1, r2, r3 = results_of(execute_many(shared_daemon, [
            (dict(self.req("stdin"), stdin=data), None),
            (dict(self.req("stdin"), stdin=big), None),
            # No stdin: the program sees end of file at once.
            (self.req("stdin"), None),
        ]))
        assert r1["stdout"] == "stdin:" + data, r1
        assert r1["exitCode"] == 0, r1
        assert r2["exitCode"] == 0, r2["stderr"]
        assert r2["stdout"] == "stdin:" + big, \
            (len(r2["stdout"]), r2["stdout"][-100:])
        assert r3["stdout"] == "stdin:", r3
        assert r3["exitCode"] == 0, r3

    def test_files_in_and_out(self, shared_daemon):
        r = self.run(shared_daemon, "files",
                     files=FILES_IN,
                     outputPaths=["/sandbox/out/result.bin",
                                  "/tmp/out/text.txt",
                                  "/sandbox/never-written.txt"])
        assert r["exitCode"] == 0, r
        assert r["stdout"] == FILES_PRINTED, r
        files = r.get("files")
        assert files == {
            "/sandbox/out/result.bin": b64(bytes(range(256))),
            "/tmp/out/text.txt": b64("done ☃"),
        }, files

    def test_env(self, shared_daemon):
        r = self.run(shared_daemon, "env", env={
            "GREETING": "hello world", "ISOL8_EMPTY": "", "UNI": "ñ☃"})
        assert r["stdout"] == ("GREETING=hello world|ISOL8_EMPTY=|UNI=ñ☃|"
                               "HOME=/sandbox|\n"), r
        assert r["exitCode"] == 0, r

    def test_env_overrides_defaults(self, shared_daemon):
        r = self.run(shared_daemon, "env", env={
            "GREETING": "x", "ISOL8_EMPTY": "y", "UNI": "z",
            "HOME": "/sandbox/elsewhere"})
        assert r["stdout"] == "GREETING=x|ISOL8_EMPTY=y|UNI=z|" \
            "HOME=/sandbox/elsewhere|\n", r

    def test_secrets_masked(self, shared_daemon):
        token = "tok-" + uuid.uuid4().hex
        opts = {"secrets": {"API_TOKEN": token}}
        with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
            plain, _ = call_execute(c, params_of(self.req("secret"), opts))
            streamed, events = call_execute(
                c, params_of(self.req("secret"), opts, stream=True))
        for msg in (plain, streamed):
            assert "error" not in msg, msg
            r = check_result(msg["result"], self.runtime)
            assert r["stdout"] == "token=***\n", r
            assert r["stderr"] == "err:***:end\n", r
            assert token not in repr(r)
        assert stream_text(events, "stdout") == "token=***\n", events
        assert stream_text(events, "stderr") == "err:***:end\n", events
        assert token not in repr(events)

    def test_unicode_output(self, shared_daemon):
        r = self.run(shared_daemon, "unicode")
        assert r["stdout"] == UNICODE_TEXT + "\n", r
        assert r["exitCode"] == 0, r

    def test_binary_output(self, shared_daemon):
        # Invalid UTF-8 becomes U+FFFD; the reply is still valid JSON (the
        # client parses it strictly).
        r = self.run(shared_daemon, "binary")
        assert r["exitCode"] == 0, r
        assert r["stdout"] == BINARY_TEXT, r

    def test_timeout(self, shared_daemon):
        r = self.run(shared_daemon, "timeout", {"timeoutMs": 1000})
        check_timed_out(r)
        assert r["stdout"] == "started\n", r


# --------------------------------------------------------------------------
# What a leak would show in


def mount_count(pid):
    with open(f"/proc/{pid}/mountinfo") as f:
        return len(f.readlines())


def leak_snapshot(d, dirs):
    return {
        "fds": d.fd_count(),
        "children": len(children_of(d.pid)),
        "mounts": mount_count(d.pid),
        "cgroups": box_cgroups(dirs),
    }
