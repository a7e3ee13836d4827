"""Pausing a session: session.pause freezes every process of its box with
the cgroup freezer (a busy loop uses no CPU time while paused, runs again
once resumed), the idle timer stops while paused, an execution sent to a
paused session is refused unless it asks to resume it, another tenant's
or a missing session is not found, and deleting a paused session leaves
no cgroup (freezer included) and no process behind."""

import time

from execute_helpers import (box_cgroups, daemon_cgroup_dirs, execute,
                             execute_raw, leak_snapshot, params_of)
from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import (check_error, pids_with_marker, run_ctl,
                           wait_until)
from tenant_client import OtherUid, open_socket_to_all
from test_sessions import call, ok
from test_sessions import create as create_session

BUSY_LOOP = "setsid sh -c 'while :; do :; done' >/dev/null 2>&1 &"


def create(d, **params):
    return create_session(d, runtime="bash", **params)


def get(d, sid):
    return ok(d, "session.get", {"sessionId": sid})


def cpu_ms(d, sid):
    return get(d, sid)["resourceUsage"]["cpuTimeMs"]


def test_pause_freezes_the_box_and_resume_thaws_it(daemon):
    sid = create(daemon, options={"cpuLimit": 0.25})
    assert execute(daemon, {"runtime": "bash", "code": BUSY_LOOP},
                   sessionId=sid)["exitCode"] == 0
    # The loop runs: its CPU time grows.
    first = cpu_ms(daemon, sid)
    assert wait_until(lambda: cpu_ms(daemon, sid) > first, 10)
    s = ok(daemon, "session.pause", {"sessionId": sid})
    assert s["paused"] is True and s["pausedAt"]
    assert get(daemon, sid)["paused"] is True
    frozen = cpu_ms(daemon, sid)
    time.sleep(1)
    assert cpu_ms(daemon, sid) == frozen
    # Pausing a paused session changes nothing.
    assert ok(daemon, "session.pause", {"sessionId": sid})["paused"] is True
    s = ok(daemon, "session.resume", {"sessionId": sid})
    assert s["paused"] is False and "pausedAt" not in s
    assert wait_until(lambda: cpu_ms(daemon, sid) > frozen, 10)
    # Resuming a running session changes nothing either.
    assert ok(daemon, "session.resume", {"sessionId": sid})["paused"] is False
    ok(daemon, "session.delete", {"sessionId": sid})


def test_idle_timer_stops_while_paused(start_daemon):
    d = start_daemon()
    sid = create(d, idleTimeoutSec=1)
    ok(d, "session.pause", {"sessionId": sid})
    time.sleep(2.5)
    assert get(d, sid)["paused"] is True
    # A pruning client does not take a paused session as idle either.
    assert ok(d, "session.delete", {"sessionId": sid, "idleForMs": 0})[
        "deleted"] is False
    ok(d, "session.resume", {"sessionId": sid})
    # Counted again from the resume: the session then expires.
    assert wait_until(lambda: "error" in call(d, "session.get",
                                              {"sessionId": sid}), 10)


def test_execution_on_a_paused_session(daemon):
    sid = create(daemon)
    ok(daemon, "session.pause", {"sessionId": sid})
    msg, _ = execute_raw(daemon, {"runtime": "bash", "code": "echo hi"},
                         sessionId=sid)
    check_error(msg, -32009, kind="conflict", id=msg["id"],
                words=("paused", "session.resume", "resume"))
    msg = call(daemon, "file.get", {"sessionId": sid, "path": "x"})
    check_error(msg, -32009, kind="conflict", id=msg["id"],
                words=("paused",))
    msg, _ = execute_raw(daemon, {"runtime": "bash", "code": "echo hi"},
                         sessionId=sid, resume="yes")
    check_error(msg, -32602, kind="invalid_argument", id=msg["id"],
                words=("resume",))
    assert get(daemon, sid)["paused"] is True
    r = execute(daemon, {"runtime": "bash", "code": "echo hi"},
                sessionId=sid, resume=True)
    assert r["stdout"] == "hi\n"
    s = get(daemon, sid)
    assert s["paused"] is False and s["executions"] == 1


def test_pause_refused_while_busy_and_on_missing_sessions(start_daemon):
    d = start_daemon(config={"server": {"socketMode": "0666"}})
    open_socket_to_all(d)
    sid = create(d, sessionId="mine")
    with d.client() as running:
        running.send("execute", params_of(
            {"runtime": "bash", "code": "sleep 30"}, sessionId=sid))
        assert wait_until(lambda: get(d, sid)["isActive"], 10)
        msg = call(d, "session.pause", {"sessionId": sid})
        check_error(msg, -32009, kind="conflict", id=msg["id"],
                    words=("busy",))
        ok(d, "session.delete", {"sessionId": sid})
    for params, words in (({"sessionId": "nope"}, ("not found",)),
                          ({}, ("sessionId",)),
                          ({"sessionId": 5}, ("sessionId",)),
                          ({"sessionId": "x", "extra": 1}, ("extra",))):
        for method in ("session.pause", "session.resume"):
            msg = call(d, method, params)
            assert msg["error"]["data"]["kind"] in ("not_found",
                                                    "invalid_argument")
            assert all(w.lower() in msg["error"]["message"].lower()
                       for w in words), msg
    # Another tenant's session is not found, and stays as it was.
    other = create(d, sessionId="theirs")
    c = OtherUid(d.socket_path, 60011)
    try:
        for method in ("session.pause", "session.resume"):
            msg = c.call(method, {"sessionId": other})
            check_error(msg, -32004, kind="not_found", id=msg["id"])
    finally:
        c.close()
    assert get(d, other)["paused"] is False


def test_deleting_a_paused_session_leaks_nothing(daemon):
    dirs = daemon_cgroup_dirs(daemon.pid)
    assert "freezer" in dirs or "unified" in dirs, dirs
    warm = create(daemon)
    ok(daemon, "session.delete", {"sessionId": warm})
    assert wait_until(lambda: not any(box_cgroups(dirs).values()), 10)
    before = leak_snapshot(daemon, dirs)
    sids = [create(daemon) for _ in range(3)]
    for sid in sids:
        execute(daemon, {"runtime": "bash",
                         "code": "setsid sleep 300 >/dev/null 2>&1 &"},
                sessionId=sid)
    for sid in sids[1:]:
        ok(daemon, "session.pause", {"sessionId": sid})
    # One is deleted as its pause is under way (or just over): the pause
    # is answered either way.
    with daemon.client() as pausing:
        pausing.send("session.pause", {"sessionId": sids[0]})
        ok(daemon, "session.delete", {"sessionId": sids[0]})
        msg = pausing.recv()
        assert "result" in msg or "ended" in msg["error"]["message"], msg
    for sid in sids[1:]:
        ok(daemon, "session.delete", {"sessionId": sid})
    assert wait_until(lambda: leak_snapshot(daemon, dirs) == before, 15), \
        (leak_snapshot(daemon, dirs), before)


def test_isol8ctl_and_bridge_pause(daemon, start_bridge):
    sock = daemon.socket_path
    sid = create(daemon)
    r = run_ctl("session", "pause", sid, socket_path=sock)
    assert r.returncode == 0 and r.stdout == f"{sid} paused\n", r.stderr
    assert get(daemon, sid)["paused"] is True
    r = run_ctl("session", "resume", sid, socket_path=sock)
    assert r.returncode == 0 and r.stdout == f"{sid} resumed\n", r.stderr
    r = run_ctl("session", "pause", "nope", socket_path=sock)
    assert r.returncode != 0 and "not found" in r.stderr.lower(), r.stderr
    r = run_ctl("session", "--help")
    assert "pause" in r.stdout and "resume" in r.stdout

    b = start_bridge(daemon)
    status, body = b.json("POST", f"/session/{sid}/pause")
    assert status == 200 and body["paused"] is True, body
    status, body = b.json("POST", f"/session/{sid}/pause", auth=False)
    assert status == 401
    status, body = b.json("POST", f"/session/{sid}/resume")
    assert status == 200 and body["paused"] is False, body
    status, body = b.json("POST", "/session/nope/pause")
    assert status == 404, body
    # isol8ctl through the bridge.
    r = run_ctl("session", "pause", sid, "--host",
                f"http://127.0.0.1:{b.port}", "--key", b.key)
    assert r.returncode == 0 and r.stdout == f"{sid} paused\n", r.stderr
    assert get(daemon, sid)["paused"] is True
    r = run_ctl("session", "resume", sid, "--host",
                f"http://127.0.0.1:{b.port}", "--key", b.key)
    assert r.returncode == 0, r.stderr
    assert get(daemon, sid)["paused"] is False


def test_paused_box_of_a_killed_daemon_is_swept(start_daemon):
    """A daemon killed while a session is paused leaves frozen processes
    (on v1 they cannot die frozen): the next daemon kills them."""
    mark = "isol8-paused-sweep-3173"
    d = start_daemon()
    sid = create(d)
    execute(d, {"runtime": "bash",
                "code": f"setsid bash -c 'exec -a {mark} sleep 300' "
                        ">/dev/null 2>&1 &"}, sessionId=sid)
    assert wait_until(lambda: pids_with_marker(mark), 10)
    ok(d, "session.pause", {"sessionId": sid})
    d.kill()
    start_daemon()
    assert wait_until(lambda: not pids_with_marker(mark), 15), \
        pids_with_marker(mark)
