"""Hibernating a session: session.hibernate writes its box's processes,
memory and files to disk with CRIU and frees the box; session.resume
brings it back with the same id, files and running processes (a value
only a process's memory holds survives), on the same daemon or after a
restart; sessions.hibernateOnStop hibernates running sessions at SIGTERM
and restores them at start; a deleted hibernated session leaves nothing
on disk; hibernated sessions count against the tenant's quota."""

import base64
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from execute_helpers import (box_cgroups, daemon_cgroup_dirs, execute,
                             execute_raw, leak_snapshot)
from isol8_bridge import start_bridge  # noqa: F401
from pool_helpers import settled
from isol8_harness import (WITH_ENOSYS, check_error, run_ctl, short_tmpdir,
                           wait_until)
from tenant_client import OtherUid, open_socket_to_all
from test_sessions import call, ok
from test_sessions import create as create_session

CRIU = Path("/opt/isol8/criu/sbin/criu")
pytestmark = pytest.mark.skipif(
    not os.access(CRIU, os.X_OK),
    reason=f"no CRIU at {CRIU} (tools/build-criu.sh installs it)")

# Background programs that count in a file, with a token drawn at random
# when they start: only their memory knows it, so seeing it again after a
# restore shows the same process came back, not a new one.
COUNTERS = {
    "bash": ("cd /sandbox; echo kept > f.txt; echo tmp > /tmp/t.txt; "
             "(t=$RANDOM$RANDOM; i=0; while :; do i=$((i+1)); "
             "echo \"$t $i\" > /sandbox/count.new; "
             "mv /sandbox/count.new /sandbox/count; sleep 0.1; done) "
             "</dev/null >/dev/null 2>&1 &"),
    "python": (
        "import subprocess, sys\n"
        "open('/sandbox/f.txt', 'w').write('kept\\n')\n"
        "open('/tmp/t.txt', 'w').write('tmp\\n')\n"
        "prog = ('import os, time\\n'\n"
        "        't = os.urandom(8).hex()\\n'\n"
        "        'i = 0\\n'\n"
        "        'while True:\\n'\n"
        "        '    i += 1\\n'\n"
        "        '    open(\"/sandbox/count.new\", \"w\").write(f\"{t} {i}\\\\n\")\\n'\n"
        "        '    os.replace(\"/sandbox/count.new\", \"/sandbox/count\")\\n'\n"
        "        '    time.sleep(0.1)\\n')\n"
        "subprocess.Popen([sys.executable, '-c', prog],\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
        "                 stderr=subprocess.DEVNULL, start_new_session=True)\n"),
    "node": (
        "const fs = require('fs');\n"
        "const { spawn } = require('child_process');\n"
        "fs.writeFileSync('/sandbox/f.txt', 'kept\\n');\n"
        "fs.writeFileSync('/tmp/t.txt', 'tmp\\n');\n"
        "const prog = `const fs = require('fs');\n"
        "const t = require('crypto').randomBytes(8).toString('hex');\n"
        "let i = 0;\n"
        "setInterval(() => { i++;\n"
        "  fs.writeFileSync('/sandbox/count.new', t + ' ' + i + '\\\\n');\n"
        "  fs.renameSync('/sandbox/count.new', '/sandbox/count'); }, 100);`;\n"
        "spawn(process.execPath, ['-e', prog],\n"
        "      { detached: true, stdio: 'ignore' }).unref();\n"),
}


@pytest.fixture
def tmp():
    """sessions.hibernateDir of the test's daemons; named before
    start_daemon, it is removed after they stop (a stop may hibernate)."""
    d = short_tmpdir("isol8-hib-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def config(tmp, **sessions):
    return {"sessions": {"hibernateDir": str(tmp), **sessions}}


def start_counter(d, runtime):
    sid = create_session(d, runtime=runtime)
    r = execute(d, {"runtime": runtime, "code": COUNTERS[runtime]},
                sessionId=sid)
    assert r["exitCode"] == 0, r
    assert wait_until(lambda: read_count(d, sid) is not None, 20)
    return sid


def cat(d, sid, path):
    msg = call(d, "file.get", {"sessionId": sid, "path": path})
    return (base64.b64decode(msg["result"]["content"]).decode()
            if "result" in msg else None)


def read_count(d, sid):
    """(token, count) the counter last wrote, or None."""
    text = cat(d, sid, "/sandbox/count")
    m = re.fullmatch(r"(\S+) (\d+)\n", text or "")
    return (m.group(1), int(m.group(2))) if m else None


def hibernate(d, sid):
    s = ok(d, "session.hibernate", {"sessionId": sid})
    assert s["state"] == "hibernated" and s["hibernatedAt"], s
    return s


# Prints /tmp/t.txt (file.get reaches /sandbox only), per runtime.
READ_TMP = {
    "bash": "cat /tmp/t.txt",
    "python": "print(open('/tmp/t.txt').read(), end='')",
    "node": "process.stdout.write(require('fs').readFileSync('/tmp/t.txt'))",
}


def assert_came_back(d, sid, before, runtime):
    """The same counter runs again (its token) and counts on; the files
    are there."""
    assert cat(d, sid, "/sandbox/f.txt") == "kept\n"
    r = execute(d, {"runtime": runtime, "code": READ_TMP[runtime]},
                sessionId=sid)
    assert r["stdout"] == "tmp\n", r
    now = read_count(d, sid)
    assert now and now[0] == before[0] and now[1] >= before[1], (now, before)
    assert wait_until(lambda: (read_count(d, sid) or ("", 0))[1] > now[1],
                      10)


def hib_entries(tmp):
    return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []


@pytest.mark.parametrize("runtime", ["bash", "python", "node"])
def test_hibernate_and_resume(tmp, start_daemon, runtime):
    d = start_daemon(config=config(tmp))
    dirs = daemon_cgroup_dirs(d.pid)
    before_all = warm_snapshot(d, dirs)
    sid = start_counter(d, runtime)
    before = read_count(d, sid)
    hibernate(d, sid)
    # On disk: no box, no cgroup, nothing runs until resumed.
    assert ok(d, "session.get", {"sessionId": sid})["state"] == "hibernated"
    # The freed box's cgroup goes as every box's does, just after.
    assert wait_until(lambda: not any(box_cgroups(dirs).values()), 10)
    assert len(hib_entries(tmp)) == 1
    msg, _ = execute_raw(d, {"runtime": runtime, "code": READ_TMP[runtime]},
                         sessionId=sid)
    check_error(msg, -32009, kind="conflict", id=msg["id"],
                words=("resume",))
    s = ok(d, "session.resume", {"sessionId": sid})
    assert s["state"] == "running" and s["id"] == sid
    assert_came_back(d, sid, before, runtime)
    # Restored, its images are gone.
    assert hib_entries(tmp) == []
    ok(d, "session.delete", {"sessionId": sid})
    # Neither the hibernation nor the restore left anything behind.
    assert wait_until(lambda: leak_snapshot(d, dirs) == before_all, 15), \
        (leak_snapshot(d, dirs), before_all)


def warm_snapshot(d, dirs):
    """What the daemon holds once its loop has made its first timers."""
    warm = create_session(d, runtime="bash")
    execute(d, {"runtime": "bash", "code": "true"}, sessionId=warm)
    ok(d, "session.delete", {"sessionId": warm})
    assert wait_until(lambda: not any(box_cgroups(dirs).values()), 10)
    # The box it had is gone once the figures stop moving.
    last = [None]

    def settled():
        now = leak_snapshot(d, dirs)
        same, last[0] = now == last[0], now
        return same

    assert wait_until(settled, 10, interval=0.3)
    return last[0]


def test_survives_a_daemon_restart(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    sid = start_counter(d, "python")
    before = read_count(d, sid)
    hibernate(d, sid)
    d.stop()
    d2 = start_daemon(config=config(tmp))
    listed = ok(d2, "session.list")
    s = [x for x in listed["sessions"] if x["id"] == sid]
    assert s and s[0]["state"] == "hibernated", listed
    ok(d2, "session.resume", {"sessionId": sid})
    assert_came_back(d2, sid, before, "python")
    ok(d2, "session.delete", {"sessionId": sid})
    assert hib_entries(tmp) == []


def test_hibernate_on_stop(tmp, start_daemon):
    cfg = config(tmp, hibernateOnStop=True)
    d = start_daemon(config=cfg)
    sid = start_counter(d, "bash")
    before = read_count(d, sid)
    d.stop()
    assert len(hib_entries(tmp)) == 1
    d2 = start_daemon(config=cfg)
    # Restored at start ("restoring" until CRIU is done): running, with
    # its processes.
    assert wait_until(lambda: ok(d2, "session.get", {"sessionId": sid})
                      ["state"] == "running", 30)
    assert_came_back(d2, sid, before, "bash")
    assert hib_entries(tmp) == []
    ok(d2, "session.delete", {"sessionId": sid})


def test_deleted_hibernated_session_leaves_nothing(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    dirs = daemon_cgroup_dirs(d.pid)
    before = warm_snapshot(d, dirs)
    sid = start_counter(d, "bash")
    hibernate(d, sid)
    assert len(hib_entries(tmp)) == 1
    ok(d, "session.delete", {"sessionId": sid})
    assert hib_entries(tmp) == []
    assert "error" in call(d, "session.get", {"sessionId": sid})
    assert wait_until(lambda: leak_snapshot(d, dirs) == before, 15), \
        (leak_snapshot(d, dirs), before)


def test_hibernated_sessions_count_against_the_quota(tmp, start_daemon):
    cfg = config(tmp)
    cfg["tenants"] = {"maxSessions": 1}
    cfg["server"] = {"socketMode": "0666"}
    d = start_daemon(config=cfg)
    open_socket_to_all(d)
    c = OtherUid(d.socket_path, 60012)
    try:
        msg = c.call("session.create", {"runtime": "bash"})
        sid = msg["result"]["id"]
        msg = c.call("session.hibernate", {"sessionId": sid})
        assert msg["result"]["state"] == "hibernated", msg
        msg = c.call("session.create", {"runtime": "bash"})
        check_error(msg, -32005, kind="busy", id=msg["id"],
                    words=("tenants.maxSessions",))
        msg = c.call("session.delete", {"sessionId": sid})
        assert "result" in msg, msg
    finally:
        c.close()
    assert hib_entries(tmp) == []


def test_hibernated_ttl(tmp, start_daemon):
    d = start_daemon(config=config(tmp, hibernatedTtlMs=1000))
    sid = create_session(d, runtime="bash")
    hibernate(d, sid)
    assert wait_until(lambda: "error" in call(d, "session.get",
                                              {"sessionId": sid}), 15)
    assert hib_entries(tmp) == []


def test_bad_input(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    msg = call(d, "session.hibernate", {})
    check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                words=("sessionId",))
    msg = call(d, "session.hibernate", {"sessionId": 7})
    check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                words=("sessionId",))
    msg = call(d, "session.hibernate", {"sessionId": "no-such"})
    check_error(msg, -32004, kind="not_found", id=msg["id"])
    sid = create_session(d, runtime="bash")
    hibernate(d, sid)
    # Hibernating a hibernated session changes nothing.
    assert ok(d, "session.hibernate",
              {"sessionId": sid})["state"] == "hibernated"
    ok(d, "session.delete", {"sessionId": sid})
    assert hib_entries(tmp) == []


def test_execution_resumes_a_hibernated_session(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    sid = create_session(d, runtime="bash")
    execute(d, {"runtime": "bash", "code": "echo x > /sandbox/x"},
            sessionId=sid)
    hibernate(d, sid)
    r = execute(d, {"runtime": "bash", "code": "cat /sandbox/x"},
                sessionId=sid, resume=True)
    assert r["stdout"] == "x\n"
    ok(d, "session.delete", {"sessionId": sid})


def test_isol8ctl_and_bridge_hibernate(tmp, start_daemon, start_bridge):
    d = start_daemon(config=config(tmp))
    sid = create_session(d, runtime="bash")
    r = run_ctl("session", "hibernate", sid, socket_path=d.socket_path)
    assert r.returncode == 0 and r.stdout == f"{sid} hibernated\n", r.stderr
    r = run_ctl("session", "resume", sid, socket_path=d.socket_path)
    assert r.returncode == 0, r
    r = run_ctl("session", "--help")
    assert "hibernate" in r.stdout
    b = start_bridge(d)
    status, body = b.json("POST", f"/session/{sid}/hibernate")
    assert status == 200 and body["state"] == "hibernated", body
    status, body = b.json("POST", "/session/nope/hibernate")
    assert status == 404, body
    status, body = b.json("POST", f"/session/{sid}/resume")
    assert status == 200 and body["state"] == "running", body
    r = run_ctl("session", "hibernate", sid, "--host",
                f"http://127.0.0.1:{b.port}", "--key", b.key)
    assert r.returncode == 0 and r.stdout == f"{sid} hibernated\n", r.stderr
    ok(d, "session.delete", {"sessionId": sid})


# A connection on the box's loopback, used every 100 ms: after a restore
# it is closed (CRIU's tcp_close), a new one to the same listening socket
# works.
TCP_PROGRAM = r'''
import errno, socket, time
srv = socket.socket()
srv.bind(("127.0.0.1", 7000))
srv.listen()
c = socket.create_connection(("127.0.0.1", 7000))
a, _ = srv.accept()
log = open("/sandbox/tcp.log", "w", buffering=1)
while True:
    try:
        c.sendall(b"x")
        a.recv(1)
        log.write("ok\n")
    except OSError as e:
        log.write(f"send {errno.errorcode[e.errno]}\n")
        log.write(f"recv {c.recv(1)!r}\n")
        break
    time.sleep(0.1)
c2 = socket.create_connection(("127.0.0.1", 7000))
a2, _ = srv.accept()
c2.sendall(b"y")
log.write(f"new {a2.recv(1)!r}\n")
'''


def test_established_tcp_connections_come_back_closed(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    sid = create_session(d, runtime="python")
    execute(d, {"runtime": "python", "code": (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {TCP_PROGRAM!r}],\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
        "                 stderr=subprocess.DEVNULL, start_new_session=True)\n"
    )}, sessionId=sid)
    assert wait_until(lambda: "ok" in (cat(d, sid, "/sandbox/tcp.log") or ""),
                      20)
    hibernate(d, sid)
    ok(d, "session.resume", {"sessionId": sid})
    assert wait_until(lambda: "new" in cat(d, sid, "/sandbox/tcp.log"), 20)
    lines = cat(d, sid, "/sandbox/tcp.log").splitlines()
    assert lines[-3:] == ["send EPIPE", "recv b''", "new b'y'"], lines
    ok(d, "session.delete", {"sessionId": sid})


def test_exposed_port_serves_again_after_a_restore(tmp, start_daemon,
                                                   start_bridge):
    """The URL belongs to the session: while it is hibernated nothing
    answers there; once restored, the same server (same process) does."""
    d = start_daemon(config=config(tmp))
    b = start_bridge(d)
    sid = create_session(d, runtime="bash")
    execute(d, {"runtime": "bash", "files": {"/sandbox/www/hello.txt": "hi"},
                "code": "cd /sandbox/www && setsid python3 -m http.server "
                        "8000 --bind 127.0.0.1 >/dev/null 2>&1 &"},
            sessionId=sid)
    x = ok(d, "session.expose", {"sessionId": sid, "port": 8000})
    page = x["path"] + "hello.txt"

    def status():
        return b.request("GET", page, auth=False)[0]

    assert wait_until(lambda: status() == 200, 20)
    hibernate(d, sid)
    assert status() != 200
    msg = call(d, "session.expose", {"sessionId": sid, "port": 8001})
    check_error(msg, -32009, kind="conflict", id=msg["id"],
                words=("hibernated",))
    ok(d, "session.resume", {"sessionId": sid})
    assert wait_until(lambda: status() == 200, 20)
    ok(d, "session.delete", {"sessionId": sid})


def test_without_criu_hibernation_is_unsupported(tmp, start_daemon):
    cfg = config(tmp)
    cfg["sandbox"] = {"criuPath": "/nonexistent/criu"}
    d = start_daemon(config=cfg)
    sid = create_session(d, runtime="bash")
    msg = call(d, "session.hibernate", {"sessionId": sid})
    check_error(msg, -32010, kind="unsupported", id=msg["id"],
                words=("CRIU", "sandbox.criuPath"))
    # The session runs on, untouched.
    s = ok(d, "session.get", {"sessionId": sid})
    assert s["state"] == "running"
    assert execute(d, {"runtime": "bash", "code": "echo on"},
                   sessionId=sid)["stdout"] == "on\n"
    assert hib_entries(tmp) == []


# Memory for a dump that takes a while: the other calls below are answered
# while it is written.
BIG = ("import subprocess, sys\n"
       "subprocess.Popen([sys.executable, '-c', "
       "'import os, time; b = os.urandom(96 << 20); time.sleep(3600)'], "
       "start_new_session=True)\n")


def start_big(d):
    sid = create_session(d, runtime="python")
    r = execute(d, {"runtime": "python", "code": BIG}, sessionId=sid)
    assert r["exitCode"] == 0, r
    return sid


def test_other_calls_are_served_while_criu_works(tmp, start_daemon):
    """The dump's answer is awaited on the event loop: health and a
    session.get answer first, and show the session "hibernating"."""
    d = start_daemon(config=config(tmp))
    sid = start_big(d)
    time.sleep(1)  # the 96 MiB are written by then
    with d.client() as slow, d.client() as other:
        slow.send("session.hibernate", {"sessionId": sid}, id=1)
        assert wait_until(
            lambda: other.call("session.get", {"sessionId": sid})
            ["result"]["state"] == "hibernating", 10)
        assert other.call("health")["result"]
        reply = slow.recv()
    assert reply["result"]["state"] == "hibernated", reply
    resumed = ok(d, "session.resume", {"sessionId": sid})
    assert resumed["state"] == "running", resumed
    ok(d, "session.delete", {"sessionId": sid})


def test_deleted_while_hibernating_leaves_nothing(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    dirs = daemon_cgroup_dirs(d.pid)
    before = warm_snapshot(d, dirs)
    sid = start_big(d)
    time.sleep(1)
    with d.client() as slow:
        slow.send("session.hibernate", {"sessionId": sid}, id=1)
        assert wait_until(lambda: ok(d, "session.get", {"sessionId": sid})
                          ["state"] == "hibernating", 10)
        ok(d, "session.delete", {"sessionId": sid})
        reply = slow.recv()
    check_error(reply, -32009, kind="conflict", id=1,
                words=("ended while being hibernated",))
    assert "error" in call(d, "session.get", {"sessionId": sid})
    assert wait_until(lambda: hib_entries(tmp) == [], 30), hib_entries(tmp)
    assert wait_until(lambda: warm_snapshot(d, dirs) == before, 30)


def test_refused_while_the_daemon_is_under_seccomp(tmp, start_daemon):
    """A daemon under a seccomp filter (as systemd's SystemCallFilter=
    makes one) cannot have CRIU suspend the boxes' filters: hibernation is
    refused up front, and the session runs on untouched."""
    d = start_daemon(config=config(tmp), wrap=(WITH_ENOSYS, "openat2"))
    sid = start_counter(d, "bash")
    msg = call(d, "session.hibernate", {"sessionId": sid})
    check_error(msg, -32010, kind="unsupported", id=msg["id"],
                words=("seccomp", "isol8d(8)"))
    before = read_count(d, sid)
    assert wait_until(lambda: read_count(d, sid)[1] > before[1], 10)
    assert hib_entries(tmp) == []


def test_restore_refused_while_the_daemon_is_under_seccomp(tmp, start_daemon):
    d = start_daemon(config=config(tmp))
    sid = start_counter(d, "bash")
    hibernate(d, sid)
    d.stop()
    d2 = start_daemon(config=config(tmp), wrap=(WITH_ENOSYS, "openat2"))
    msg = call(d2, "session.resume", {"sessionId": sid})
    check_error(msg, -32010, kind="unsupported", id=msg["id"],
                words=("seccomp", "isol8d(8)"))
    assert ok(d2, "session.get", {"sessionId": sid})["state"] == "hibernated"
    ok(d2, "session.delete", {"sessionId": sid})
    assert hib_entries(tmp) == []


# Forks of the interpreter a pooled box held (isol8d(8), "Python boxes
# from a zygote"): their memory maps files of the zygote's mounts.
FORKER = (
    "import os, time\n"
    "open('/sandbox/f.txt', 'w').write('kept\\n')\n"
    "open('/tmp/t.txt', 'w').write('tmp\\n')\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    fd = os.open('/dev/null', os.O_RDWR)\n"
    "    for k in range(3):\n"
    "        os.dup2(fd, k)\n"
    "    t, i = os.urandom(8).hex(), 0\n"
    "    while True:\n"
    "        i += 1\n"
    "        open('/sandbox/count.new', 'w').write(f'{t} {i}\\n')\n"
    "        os.replace('/sandbox/count.new', '/sandbox/count')\n"
    "        time.sleep(0.1)\n")


def test_hibernate_a_fork_of_a_zygote_interpreter(tmp, start_daemon):
    """A session on a pooled python box made from the zygote, whose
    program forked a process that runs on: hibernated and resumed, that
    process counts on."""
    d = start_daemon(pool=True, config=dict(config(tmp), pool={"size": {
        "python": 1, "node": 0, "bun": 0, "deno": 0, "bash": 0}}))
    settled(d)
    sid = create_session(d, runtime="python")
    r = execute(d, {"runtime": "python", "code": FORKER +
                    "print(any('_isol8_zygote' in ln "
                    "for ln in open('/proc/self/maps')))"}, sessionId=sid)
    assert r["stdout"] == "True\n", r
    assert wait_until(lambda: read_count(d, sid) is not None, 20)
    before = read_count(d, sid)
    hibernate(d, sid)
    ok(d, "session.resume", {"sessionId": sid})
    assert_came_back(d, sid, before, "python")
    ok(d, "session.delete", {"sessionId": sid})
