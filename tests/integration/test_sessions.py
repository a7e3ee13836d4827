"""Persistent sessions: state kept between executions (files, a module
installed with pip, background processes), one runtime per session, file
transfer through the box's init that symlinks and hard links cannot turn
against the host, idle and lifetime timers, capacity errors, deletion under
a running execution, and nothing leaked by a hundred sessions."""

import base64
import io
import os
import threading
import time
import zipfile

import pytest

from execute_helpers import (b64, box_cgroups, execute, execute_raw,
                             leak_snapshot,
                             daemon_cgroup_dirs, params_of)
from isol8_harness import check_error, run_ctl, wait_until


def call(d, method, params=None):
    with d.client() as c:
        return c.call(method, params or {})


def ok(d, method, params=None):
    msg = call(d, method, params)
    assert "error" not in msg, f"{method} failed: {msg['error']!r}"
    return msg["result"]


def create(d, runtime="python", **params):
    return ok(d, "session.create", {"runtime": runtime, **params})["id"]


def run_in(d, sid, code=None, runtime="python", **req):
    if code is not None:
        req["code"] = code
    return execute(d, {"runtime": runtime, **req}, sessionId=sid)


def put(d, sid, path, data, **kw):
    return call(d, "file.put", {"sessionId": sid, "path": path,
                                "content": b64(data), **kw})


def get(d, sid, path):
    return call(d, "file.get", {"sessionId": sid, "path": path})


def run_and_queue(d, sid, running, queued, code):
    """Bash code running in session sid from one client, and `true` from
    another waiting behind it."""
    running.send("execute", params_of({"code": code, "runtime": "bash"},
                                      sessionId=sid))
    assert wait_until(lambda: ok(d, "session.get", {"sessionId": sid})[
        "isActive"], 10)
    queued.send("execute", params_of({"code": "true", "runtime": "bash"},
                                     sessionId=sid))
    assert wait_until(lambda: ok(d, "session.get", {"sessionId": sid})[
        "queued"] == 1, 10)


def session_ids(d):
    return [s["id"] for s in ok(d, "session.list")["sessions"]]


def test_state_survives_between_executions(daemon):
    sid = create(daemon)
    assert run_in(daemon, sid, "open('state.txt', 'w').write('kept')")[
        "exitCode"] == 0
    assert run_in(daemon, sid, "print(open('state.txt').read())")[
        "stdout"] == "kept\n"
    # A background process outlives the execution that started it.
    r = run_in(daemon, sid, cmd="setsid sleep 300 >/dev/null 2>&1 & echo $!")
    pid = r["stdout"].strip()
    r = run_in(daemon, sid, cmd=f"kill -0 {pid} && echo alive")
    assert r["stdout"] == "alive\n"
    s = ok(daemon, "session.get", {"sessionId": sid})
    assert s["runtime"] == "python" and s["executions"] == 4
    assert s["isActive"] is False
    ok(daemon, "session.delete", {"sessionId": sid})


def _wheel():
    """A minimal wheel of a module named isol8_probe_mod, built here, so
    that pip installs it without reaching any index."""
    buf = io.BytesIO()
    info = "isol8_probe_mod-1.0.dist-info"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("isol8_probe_mod.py", "VALUE = 42\n")
        z.writestr(f"{info}/METADATA",
                   "Metadata-Version: 2.1\nName: isol8-probe-mod\n"
                   "Version: 1.0\n")
        z.writestr(f"{info}/WHEEL",
                   "Wheel-Version: 1.0\nGenerator: test\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return buf.getvalue()


def test_pip_installed_module_survives(daemon):
    sid = create(daemon)
    assert "error" not in put(
        daemon, sid, "isol8_probe_mod-1.0-py3-none-any.whl", _wheel())
    r = run_in(daemon, sid, cmd="python3 -m pip install --user --break-system-packages --no-index "
               "--no-warn-script-location -q "
               "isol8_probe_mod-1.0-py3-none-any.whl && echo installed")
    assert r["exitCode"] == 0 and "installed" in r["stdout"], r["stderr"]
    r = run_in(daemon, sid, "import isol8_probe_mod; "
               "print(isol8_probe_mod.VALUE)")
    assert r["stdout"] == "42\n", r
    ok(daemon, "session.delete", {"sessionId": sid})


def test_runtime_switch_refused(daemon):
    sid = create(daemon, "python")
    msg, _ = execute_raw(daemon, {"code": "console.log(1)",
                                  "runtime": "node"}, sessionId=sid)
    check_error(msg, -32602, kind="invalid_argument", id=msg["id"])
    assert msg["error"]["message"] == (
        'Cannot switch runtime from "python" to "node". Each persistent '
        'container supports a single runtime.')
    # Made on first use by execute, the runtime is fixed the same way.
    r = execute(daemon, {"code": "echo hi", "runtime": "bash"},
                sessionId="made-by-execute")
    assert r["stdout"] == "hi\n"
    msg, _ = execute_raw(daemon, {"code": "print(1)", "runtime": "python"},
                         sessionId="made-by-execute")
    assert 'from "bash" to "python"' in msg["error"]["message"]


def test_executions_run_one_at_a_time_in_order(daemon):
    sid = create(daemon, "bash")
    with daemon.client() as c:
        for i, delay in enumerate(("0.4", "0")):
            c.send("execute", params_of(
                {"code": f"echo start{i} >> log; sleep {delay}; "
                         f"echo end{i} >> log", "runtime": "bash"},
                sessionId=sid))
        replies = [c.recv(30), c.recv(30)]
    assert all("result" in m for m in replies), replies
    r = run_in(daemon, sid, runtime="bash", code="cat log")
    assert r["stdout"].split() == ["start0", "end0", "start1", "end1"]


def test_file_round_trips(start_daemon):
    d = start_daemon(config={"sandbox": {"maxFileBytes": 65536}})
    sid = create(d)
    blobs = {"bin.dat": bytes(range(256)) * 3, "empty": b"",
             "a/b/c/deep.txt": "ünïcode\n".encode(),
             "/sandbox/abs.txt": b"absolute",
             "limit.bin": os.urandom(65536)}
    for path, data in blobs.items():
        assert put(d, sid, path, data) == {**put(d, sid, path, data)}
        got = get(d, sid, path)["result"]
        assert base64.b64decode(got["content"]) == data
        assert got["size"] == len(data)
    r = run_in(d, sid, "import os; print(os.path.getsize('a/b/c/deep.txt'))")
    assert r["stdout"] == f"{len(blobs['a/b/c/deep.txt'])}\n"
    # Files the program writes come back too, with their mode as asked.
    run_in(d, sid, "open('made.txt', 'wb').write(b'\\x00\\xff')")
    assert base64.b64decode(get(d, sid, "made.txt")["result"]["content"]) \
        == b"\x00\xff"
    assert put(d, sid, "tool.sh", b"#!/bin/sh\necho ran\n", mode=0o755)[
        "result"]["ok"]
    assert run_in(d, sid, cmd="./tool.sh")["stdout"] == "ran\n"

    too_big = put(d, sid, "big.bin", os.urandom(65537))
    check_error(too_big, -32602, kind="invalid_argument",
                id=too_big["id"], words=("65536", "maxFileBytes"))
    run_in(d, sid, "open('big.bin', 'wb').write(b'x' * 65537)")
    big = get(d, sid, "big.bin")
    check_error(big, -32602, kind="invalid_argument", id=big["id"],
                words=("65537", "65536"))
    missing = get(d, sid, "nope/missing.txt")
    check_error(missing, -32004, kind="not_found", id=missing["id"],
                words=("/sandbox/nope/missing.txt",))
    for bad in ("../etc/passwd", "/etc/passwd", "/tmp/x"):
        msg = get(d, sid, bad)
        check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                    words=("/sandbox",))
    msg = call(d, "file.put", {"sessionId": sid, "path": "x",
                               "content": "%%%"})
    check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                words=("base64",))
    for method, extra in (("file.get", {}), ("file.put", {"content": ""})):
        msg = call(d, method, {"sessionId": "no-such", "path": "x", **extra})
        check_error(msg, -32004, kind="not_found", id=msg["id"])
        assert msg["error"]["message"] == "Session not found"


def test_links_made_in_the_box_do_not_reach_the_host(daemon, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host secret")
    sid = create(daemon, "bash")
    r = run_in(daemon, sid, runtime="bash", code=(
        f"ln -s {secret} s1; ln -s /etc/passwd s2; ln -s / root; "
        f"ln -s /etc etcdir; ln /etc/hostname hard 2>&1; echo done"))
    assert r["stdout"].endswith("done\n")
    assert "Invalid cross-device link" in r["stdout"] or \
        "Operation not permitted" in r["stdout"], r
    for path in ("s1", "s2", "root/etc/passwd", "etcdir/passwd", "hard"):
        msg = get(daemon, sid, path)
        assert "error" in msg, (path, msg)
        assert "host secret" not in str(msg) and "root:" not in str(msg)
    before = open("/etc/passwd", "rb").read()
    for path in ("s2", "etcdir/passwd", "root/tmp/planted"):
        msg = put(daemon, sid, path, b"owned\n")
        assert "error" in msg, (path, msg)
    assert open("/etc/passwd", "rb").read() == before
    assert not os.path.exists("/tmp/planted")
    assert secret.read_text() == "host secret"


def test_idle_expiry_and_set_timeout(start_daemon):
    d = start_daemon()
    sid = create(d, "bash", idleTimeoutSec=1)
    assert ok(d, "session.get", {"sessionId": sid})["expiresAt"]
    assert wait_until(lambda: sid not in session_ids(d), 10)
    msg, _ = execute_raw(d, {"code": "true", "runtime": "bash"},
                         sessionId="x" * 129)
    assert "sessionId" in msg["error"]["message"]

    kept = create(d, "bash", idleTimeoutSec=1)
    # 0 is the longest idle timeout allowed (sessions.maxIdleTimeoutMs).
    s = ok(d, "session.set_timeout", {"sessionId": kept, "timeoutSec": 0})
    assert s["expiresAt"] is not None and s["idleTimeoutSec"] == 86400
    time.sleep(1.5)
    assert kept in session_ids(d)
    ok(d, "session.set_timeout", {"sessionId": kept, "timeoutSec": 1})
    assert wait_until(lambda: kept not in session_ids(d), 10)
    msg = call(d, "session.set_timeout", {"sessionId": kept,
                                          "timeoutSec": 5})
    check_error(msg, -32004, kind="not_found", id=msg["id"])
    bad = create(d, "bash")
    msg = call(d, "session.set_timeout", {"sessionId": bad,
                                          "timeoutSec": -1})
    check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                words=("timeoutSec",))


def test_no_prune_while_an_execution_runs(start_daemon):
    d = start_daemon()
    sid = create(d, "bash", idleTimeoutSec=1)
    r = run_in(d, sid, runtime="bash", code="sleep 2.5; echo survived")
    assert r["stdout"] == "survived\n"
    assert sid in session_ids(d)
    # Counted again from the end of the execution.
    assert wait_until(lambda: sid not in session_ids(d), 10)


def test_lifetime_and_auto_prune_config(start_daemon):
    d = start_daemon(config={"cleanup": {"autoPrune": False,
                                         "maxSessionLifetimeMs": 2000}})
    sid = create(d, "bash")
    s = ok(d, "session.get", {"sessionId": sid})
    assert s["idleTimeoutSec"] == 86400 and s["expiresAt"] is not None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.2:  # in use all along
        run_in(d, sid, runtime="bash", code="true")
    assert wait_until(lambda: sid not in session_ids(d), 10)
    assert time.monotonic() - t0 < 8


def test_capacity_errors(start_daemon):
    d = start_daemon(config={"maxSessions": 2, "maxConcurrent": 2,
                             "sessions": {"maxQueued": 1}})
    a, b = create(d, "bash"), create(d, "bash")
    msg = call(d, "session.create", {"runtime": "bash"})
    check_error(msg, -32005, kind="busy", id=msg["id"],
                words=("2", "maxSessions"))
    with d.client() as c1, d.client() as c2, d.client() as c3:
        run_and_queue(d, a, c1, c2, "sleep 1.5")
        # Two accepted already: the third is refused at once.
        t0 = time.monotonic()
        busy = c3.call("execute", params_of({"code": "true",
                                             "runtime": "bash"},
                                            sessionId=b), timeout=5)
        assert time.monotonic() - t0 < 1
        check_error(busy, -32005, kind="busy", id=busy["id"],
                    words=("2", "maxConcurrent"))
        assert "result" in c1.recv(30) and "result" in c2.recv(30)
    d2 = start_daemon(config={"sessions": {"maxQueued": 1}})
    s = create(d2, "bash")
    with d2.client() as c1, d2.client() as c2, d2.client() as c3:
        run_and_queue(d2, s, c1, c2, "sleep 1")
        full = c3.call("execute", params_of({"code": "true",
                                             "runtime": "bash"},
                                            sessionId=s), timeout=5)
        check_error(full, -32005, kind="busy", id=full["id"],
                    words=("queued", "maxQueued"))
        assert "result" in c1.recv(30) and "result" in c2.recv(30)


def test_delete_during_an_execution(daemon):
    sid = create(daemon, "bash")
    ok(daemon, "session.delete", {"sessionId": "never-existed"})
    with daemon.client() as c:
        c.send("execute", params_of({"code": "sleep 30", "runtime": "bash"},
                                    sessionId=sid))
        time.sleep(0.5)
        t0 = time.monotonic()
        r = ok(daemon, "session.delete", {"sessionId": sid})
        assert r == {"ok": True, "deleted": True}
        msg = c.recv(10)
        assert time.monotonic() - t0 < 5
        check_error(msg, -32009, kind="conflict", id=msg["id"],
                    words=(sid, "deleted"))
    assert sid not in session_ids(daemon)
    msg = call(daemon, "session.get", {"sessionId": sid})
    check_error(msg, -32004, kind="not_found", id=msg["id"])


def test_timeout_in_a_session_keeps_the_session(daemon):
    sid = create(daemon, "python")
    run_in(daemon, sid, "open('f', 'w').write('x')")
    r = run_in(daemon, sid, "while True: pass", timeoutMs=400)
    assert r["exitCode"] == 137 and r.get("timedOut") is True
    assert run_in(daemon, sid, "print(open('f').read())")["stdout"] == "x\n"


def test_sessions_survive_their_client(daemon):
    with daemon.client() as c:
        sid = c.result("session.create", {"runtime": "python"})["id"]
        c.send("execute", params_of({"code": "open('a','w').write('1')",
                                     "runtime": "python"}, sessionId=sid))
        assert "result" in c.recv(30)
    # A client that leaves mid-execution cancels it, not the session.
    with daemon.client() as c:
        c.send("execute", params_of({"code": "import time; time.sleep(30)",
                                     "runtime": "python"}, sessionId=sid))
        time.sleep(0.5)
    assert wait_until(lambda: not ok(daemon, "session.get",
                                     {"sessionId": sid})["isActive"], 10)
    assert run_in(daemon, sid, "print(open('a').read())")["stdout"] == "1\n"


def test_hundred_sessions_leak_nothing(daemon):
    dirs = daemon_cgroup_dirs(daemon.pid)
    # The loop's timer fds come with its first timers, and stay.
    warm = create(daemon, "bash")
    run_in(daemon, warm, runtime="bash", code="true")
    ok(daemon, "session.delete", {"sessionId": warm})
    assert wait_until(lambda: not any(box_cgroups(dirs).values()), 10)
    before = leak_snapshot(daemon, dirs)
    ids = [create(daemon, "bash") for _ in range(100)]
    assert len(set(ids)) == 100 and len(session_ids(daemon)) == 100
    threads = [threading.Thread(target=run_in, args=(daemon, s),
                                kwargs={"runtime": "bash", "code": "true"})
               for s in ids[:10]]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for s in ids:
        ok(daemon, "session.delete", {"sessionId": s})
    assert session_ids(daemon) == []
    assert wait_until(lambda: leak_snapshot(daemon, dirs) == before, 15), \
        (leak_snapshot(daemon, dirs), before)


def test_invalid_session_calls(daemon):
    for method, params, words in (
            ("session.create", {}, ("runtime",)),
            ("session.create", {"runtime": "cobol"}, ("runtime",)),
            ("session.create", {"runtime": "bash", "extra": 1}, ("extra",)),
            ("session.create", {"runtime": "bash", "sessionId": "a b"},
             ("sessionId",)),
            ("session.create", {"runtime": "bash", "idleTimeoutSec": -5},
             ("idleTimeoutSec",)),
            ("session.create", {"runtime": "bash",
                                "options": {"memoryLimit": "lots"}},
             ("lots",)),
            ("session.get", {}, ("sessionId",)),
            ("file.get", {"sessionId": 5}, ("sessionId",))):
        msg = call(daemon, method, params)
        check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                    words=words)
    sid = create(daemon, "bash", sessionId="dup")
    msg = call(daemon, "session.create", {"runtime": "bash",
                                          "sessionId": sid})
    check_error(msg, -32009, kind="conflict", id=msg["id"],
                words=("already exists",))
    ok(daemon, "health")


def test_isol8ctl_sessions(daemon, tmp_path):
    sock = str(daemon.socket_path)
    r = run_ctl("session", "create", "-r", "python", "--idle", "60",
                socket_path=sock)
    assert r.returncode == 0, r.stderr
    sid = r.stdout.strip()
    r = run_ctl("session", "exec", sid, "-e",
                "open('o.txt','w').write('from exec'); print('ran')",
                socket_path=sock)
    assert r.returncode == 0 and r.stdout == "ran\n", r.stderr
    src = tmp_path / "in.bin"
    src.write_bytes(bytes(range(256)))
    assert run_ctl("session", "put", sid, str(src), "d/in.bin",
                   socket_path=sock).returncode == 0
    out = tmp_path / "out.bin"
    assert run_ctl("session", "get", sid, "d/in.bin", str(out),
                   socket_path=sock).returncode == 0
    assert out.read_bytes() == bytes(range(256))
    r = run_ctl("session", "get", sid, "o.txt", socket_path=sock)
    assert r.stdout == "from exec"
    r = run_ctl("run", "--session-id", sid, "-e",
                "import os; print(sorted(os.listdir()))", socket_path=sock)
    assert "'o.txt'" in r.stdout and "'d'" in r.stdout
    r = run_ctl("session", "list", socket_path=sock)
    assert r.returncode == 0 and sid in r.stdout and "python" in r.stdout
    r = run_ctl("session", "list", "--json", socket_path=sock)
    assert '"id": "%s"' % sid in r.stdout or f'"id":"{sid}"' in r.stdout
    r = run_ctl("session", "set-timeout", sid, "0", socket_path=sock)
    assert r.returncode == 0 and "never" in r.stdout
    r = run_ctl("run", "--persistent", "-r", "bash", "-e", "echo kept",
                socket_path=sock)
    assert r.returncode == 0 and r.stdout == "kept\n"
    # As isol8's CLI: the session a --persistent run made ends with it.
    made = r.stderr.split("[Run] Session ID: ")[1].split()[0]
    assert made not in session_ids(daemon)
    r = run_ctl("session", "exec", sid, "-r", "node", "-e", "1",
                socket_path=sock)
    assert r.returncode == 1 and "Cannot switch runtime" in r.stderr
    assert run_ctl("session", "rm", sid, made, "not-there",
                   socket_path=sock).returncode == 0
    assert session_ids(daemon) == []
    r = run_ctl("session", "get", sid, "o.txt", socket_path=sock)
    assert r.returncode == 1 and "Session not found" in r.stderr
    r = run_ctl("session", "put", socket_path=sock)
    assert r.returncode == 2


@pytest.mark.parametrize("runtime,code,want", [
    ("python", "import sys; print(__name__, sys.argv[0])",
     "__main__ /sandbox/main.py\n"),
    ("node", "console.log(require.main === module, process.argv[1])",
     "true /sandbox/main.js\n"),
    ("bash", 'echo "$0"', "/sandbox/main.sh\n"),
])
def test_started_interpreter_runs_as_fresh(daemon, runtime, code, want):
    """Between executions a session starts its next interpreter ahead;
    each execution still sees a fresh program."""
    sid = create(daemon, runtime)
    for _ in range(3):
        time.sleep(0.3)  # time to start the next interpreter
        r = run_in(daemon, sid, code, runtime=runtime)
        assert r["stdout"] == want, r
    ok(daemon, "session.delete", {"sessionId": sid})


def test_session_lifecycle_under_both_builds(any_start_daemon):
    """Create, run, move files, time out, cancel and delete under a running
    execution, on the normal and the ASan+UBSan build."""
    d = any_start_daemon()
    sid = create(d, "python", idleTimeoutSec=30)
    assert run_in(d, sid, "print(2 + 2)")["stdout"] == "4\n"
    assert put(d, sid, "x/y.bin", b"\x00" * 1000)["result"]["ok"]
    assert get(d, sid, "x/y.bin")["result"]["size"] == 1000
    assert run_in(d, sid, "while True: pass", timeoutMs=300)["exitCode"] \
        == 137
    with d.client() as c:
        c.send("execute", params_of({"code": "import time; time.sleep(9)",
                                     "runtime": "python"}, sessionId=sid))
        time.sleep(0.3)
    with d.client() as c:
        c.send("execute", params_of({"code": "import time; time.sleep(9)",
                                     "runtime": "python"}, sessionId=sid))
        time.sleep(0.3)
        ok(d, "session.delete", {"sessionId": sid})
        assert "error" in c.recv(10)
    assert session_ids(d) == []


# Programs whose output depends on how the interpreter ends: finalizers run
# by the last collections, unclosed files flushed as modules are cleared,
# exit codes, atexit handlers and audit hooks.  The ones made of plain
# objects only take the cheaper end of a started interpreter.
ENDINGS = {
    "plain": "class A:\n    pass\na = A()\na.me = a\nb = [a, {'k': (1, 2)}]\n"
             "print('plain', len(b))\n",
    "cycle_with_del": "class A:\n    def __del__(self):\n"
                      "        print('del', flush=True)\n"
                      "a = A()\na.me = a\nprint('x')\n",
    "generator_finally": "def g():\n    try:\n        yield 1\n    finally:\n"
                         "        print('closed', flush=True)\n"
                         "x = g()\nnext(x)\nprint('x')\n",
    "unclosed_file": "f = open('ending.txt', 'w')\nf.write('data')\n"
                     "print('x')\n",
    "exit_code": "import sys\nprint('out')\nsys.exit(3)\n",
    "exit_message": "print('out')\nraise SystemExit('bye')\n",
    "atexit": "import atexit, gc\n"
              "atexit.register(lambda: print('bye', gc.get_freeze_count()))\n"
              "print('hi')\n",
    "weakref_finalize": "import weakref\nclass A:\n    pass\na = A()\n"
                        "weakref.finalize(a, print, 'finalized')\n",
    "audit_hook": "import sys\n"
                  "sys.addaudithook(lambda e, a: print('audit', e, flush=True)"
                  " if e.startswith(('gc.', 'sys._')) else None)\n"
                  "print('x')\n",
    "gc_introspection": "import gc\nprint(gc.get_freeze_count(), gc.isenabled())"
                        "\n",
    "daemon_thread": "import _thread, time\n"
                     "_thread.start_new_thread(time.sleep, (5,))\n"
                     "time.sleep(0.05)\nprint('x')\n",
}


@pytest.mark.parametrize("name", list(ENDINGS))
def test_started_interpreter_ends_as_fresh(daemon, tmp_path, name):
    """An execution on the interpreter a session started ahead ends as
    `python3 main.py` does: same output, files and exit code."""
    import subprocess
    code = ENDINGS[name]
    (tmp_path / "main.py").write_text(code)
    want = subprocess.run(["/usr/bin/python3", "main.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})
    sid = create(daemon)
    for _ in range(2):
        time.sleep(0.3)  # time to start the next interpreter
        r = run_in(daemon, sid, code)
        assert (r["stdout"], r["stderr"], r["exitCode"]) == \
            (want.stdout, want.stderr, want.returncode), r
    if name == "unclosed_file":
        assert run_in(daemon, sid, "print(open('ending.txt').read())")[
            "stdout"] == "data\n"
    ok(daemon, "session.delete", {"sessionId": sid})


@pytest.mark.parametrize("env", [None, {"FOO": "bar", "ZED": "1"}])
def test_started_interpreter_has_a_fresh_environment(daemon, env):
    """The environment of an execution on a started interpreter, in order,
    in Python and in what it starts, and its importers' cache are a fresh
    interpreter's."""
    code = ("import os, subprocess, sys\nprint(list(os.environ.items()))\n"
            "print(list(sys.path_importer_cache.items()))\n"
            "print(subprocess.run(['/usr/bin/env'], capture_output=True, "
            "text=True).stdout)\n")
    extra = {"env": env} if env else {}
    sid = create(daemon)
    time.sleep(0.3)  # time to start the next interpreter
    started = run_in(daemon, sid, code, **extra)
    # A setup script makes the execution start its own interpreter.
    fresh = run_in(daemon, sid, code, setupScript="true", **extra)
    assert started["exitCode"] == 0, started
    assert started["stdout"] == fresh["stdout"]
    ok(daemon, "session.delete", {"sessionId": sid})


def test_delete_if_idle_spares_a_session_in_use(daemon):
    """session.delete with idleForMs deletes only a session idle for longer
    than that: one running an execution, or used just now, is kept."""
    sid = create(daemon)
    assert run_in(daemon, sid, "open('/sandbox/x', 'w').write('1')"
                  )["exitCode"] == 0
    done = {}
    t = threading.Thread(target=lambda: done.setdefault(
        "r", run_in(daemon, sid, "import time\ntime.sleep(2)\n"
                          "print(open('/sandbox/x').read())")))
    t.start()
    wait_until(lambda: ok(daemon, "session.get",
                          {"sessionId": sid})["isActive"], 10)
    assert ok(daemon, "session.delete",
              {"sessionId": sid, "idleForMs": 0})["deleted"] is False
    t.join(30)
    assert done["r"]["stdout"] == "1\n", done
    assert ok(daemon, "session.delete",
              {"sessionId": sid, "idleForMs": 60000})["deleted"] is False
    time.sleep(0.3)
    assert ok(daemon, "session.delete",
              {"sessionId": sid, "idleForMs": 100})["deleted"] is True
    for bad in (-1, 1.5, "10"):
        check_error(call(daemon, "session.delete",
                         {"sessionId": sid, "idleForMs": bad}),
                    -32602, kind="invalid_argument", id=1,
                    words=("idleForMs",))
