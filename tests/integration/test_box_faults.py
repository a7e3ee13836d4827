"""A failure at any step of making a box leaks nothing: each step is made to
fail in turn (ISOL8D_FAULT) and the daemon's fds, child processes, mounts
and box cgroups are counted before and after."""

import os

import pytest

from isol8_harness import (ConnectionClosed, box_cgroups, children_of,
                           daemon_cgroup_dirs, daemon_fd_count,
                           pids_with_marker, wait_until)

# Every step box creation names, in order, then the box's init and the
# command's exec inside it.
STEPS = [
    "reserve a uid range",
    "create the box cgroup",
    "create the control socket",
    "open the box cgroup",
    "bring up loopback",
    "clone the box",
    "watch the box's init",
    "write the id maps",
    "watch the control socket",
    "start the box's init",
    "join the box cgroup",
    "build the root filesystem",
    "exec the box's init",
    "execute the command",
]


def box_cgroup_dirs(pid):
    """The box cgroups below the daemon's isol8d-<pid>, on every
    hierarchy."""
    return sorted(os.path.join(d, b) for ctl, d in
                  daemon_cgroup_dirs(pid).items()
                  for b in box_cgroups({ctl: d})[ctl] if "/" not in b)


def snapshot(pid):
    with open(f"/proc/{pid}/mountinfo") as f:
        mounts = len(f.readlines())
    return {"fds": daemon_fd_count(pid),
            "children": len(children_of(pid)),
            "mounts": mounts,
            "cgroups": len(box_cgroup_dirs(pid))}


def settled_snapshot(pid):
    """A snapshot once closing connections and exiting boxes are done:
    two in a row, 50 ms apart, agree."""
    import time
    prev = snapshot(pid)
    for _ in range(100):
        time.sleep(0.05)
        cur = snapshot(pid)
        if cur == prev and cur["children"] == 0:
            return cur
        prev = cur
    return prev


def execute(d, code="echo hi"):
    with d.client(timeout=30) as c:
        return c.call("execute", {"request": {"runtime": "bash",
                                              "code": code}})


@pytest.mark.parametrize("step", STEPS)
def test_failed_step_leaks_nothing(start_daemon, step):
    d = start_daemon(env={"ISOL8D_FAULT": step})
    # One health call and one failed run warm up what the daemon keeps
    # (the event loop's timer fd), so the counts compare like for like.
    msg = execute(d)
    assert "error" in msg, msg
    before = settled_snapshot(d.pid)
    for _ in range(3):
        msg = execute(d)
        assert "error" in msg, msg
        err = msg["error"]
        assert err["code"] == -32603, err
        assert "Input/output error" in err["message"], err
        if step in ("join the box cgroup", "build the root filesystem",
                    "exec the box's init", "execute the command"):
            assert step in err["message"], err
    assert wait_until(lambda: snapshot(d.pid) == before, 5), \
        (before, snapshot(d.pid))
    assert box_cgroup_dirs(d.pid) == []
    assert d.health()["status"] == "ok"


# What makes a python box once the zygote has cloned its first process:
# the daemon goes on from the zygote's answer, on the event loop.
AFTER_ZYGOTE = ["watch the box's init", "write the id maps",
                "watch the control socket", "start the box's init"]
ZYGOTE_POOL = {"pool": {"size": {"python": 1, "node": 0, "bun": 0,
                                 "deno": 0, "bash": 0},
                        "demand": {"grow": False}}}


@pytest.mark.parametrize("step", AFTER_ZYGOTE)
def test_failed_step_after_the_zygote_leaks_nothing(start_daemon, step):
    d = start_daemon(pool=True, config=ZYGOTE_POOL,
                     env={"ISOL8D_FAULT": step})
    assert wait_until(lambda: "the python zygote serves" in d.stderr(), 10)
    with d.client(timeout=30) as c:
        msg = c.call("execute", {"request": {"runtime": "python",
                                              "code": "print(1)"}})
    assert "error" in msg, msg
    before = settled_snapshot(d.pid)
    for _ in range(3):
        with d.client(timeout=30) as c:
            msg = c.call("execute", {"request": {"runtime": "python",
                                                  "code": "print(1)"}})
        err = msg["error"]
        assert err["code"] == -32603, err
        assert f"{step}: Input/output error" in err["message"], err
    assert wait_until(lambda: snapshot(d.pid) == before, 5), \
        (before, snapshot(d.pid))
    assert d.health()["status"] == "ok"


def test_healthy_runs_leak_nothing(daemon):
    assert execute(daemon)["result"]["stdout"] == "hi\n"
    before = settled_snapshot(daemon.pid)
    for code in ("echo hi", "exit 3", "sleep 0.05; echo late >&2"):
        assert "result" in execute(daemon, code)
    assert wait_until(lambda: snapshot(daemon.pid) == before, 5), \
        (before, snapshot(daemon.pid))
    assert box_cgroup_dirs(daemon.pid) == []


def test_fault_in_one_step_does_not_affect_other_steps_names(start_daemon):
    """An unknown step name injects nothing: runs succeed."""
    d = start_daemon(env={"ISOL8D_FAULT": "no such step"})
    assert execute(d)["result"]["stdout"] == "hi\n"


def test_cgroup_count_sees_a_live_box(daemon):
    """The counting above is not vacuous: a running box shows up."""
    import threading
    t = threading.Thread(target=execute, args=(daemon, "sleep 1"))
    t.start()
    try:
        assert wait_until(lambda: len(box_cgroup_dirs(daemon.pid)) >= 1, 5)
        assert wait_until(lambda: snapshot(daemon.pid)["children"] >= 1, 5)
    finally:
        t.join(10)
    assert wait_until(lambda: box_cgroup_dirs(daemon.pid) == [], 5)


def test_sigterm_with_boxes_running_leaves_nothing(start_daemon):
    """SIGTERM ends running executions; the daemon exits within a second
    and takes its boxes, their processes and every cgroup with it."""
    import threading
    import time
    d = start_daemon()
    marker = "4242.17"
    ended = []

    def run():
        try:
            ended.append(execute(d, f"sleep {marker}"))
        except (OSError, ConnectionClosed) as e:  # the daemon went away
            ended.append(e)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    assert wait_until(lambda: len(pids_with_marker(marker)) == 3, 10)
    cgroups = d.cgroup_dirs()
    assert cgroups and box_cgroup_dirs(d.pid)
    t0 = time.monotonic()
    d.assert_clean_exit()
    assert time.monotonic() - t0 < 1.5
    assert pids_with_marker(marker) == []
    assert not any(os.path.exists(c) for c in cgroups)
