"""Boxes that hold no interpreter come from the box forker (isol8d(8),
"The box forker"): isol8-init serving the daemon as a zygote, with
CAP_SYS_ADMIN alone, in the daemon's mount namespace and in an address
space of its own far smaller than the daemon's.  The daemon goes on
without it when it dies or stops answering, and starts it again."""

import os
import signal
import threading

from execute_helpers import execute
from isol8_harness import (daemon_helpers, proc_status_kb, wait_until,
                           zombies_of)
from pool_helpers import key_of, lost_clone_reaped, settled

FORKER = ("isol8d-forker",)
# One pooled bash box, the pool not growing: a run's box is the one the
# pool asks the forker for next.
ONE_BASH_BOX = {"pool": {"size": {"python": 0, "node": 0, "bun": 0,
                                  "deno": 0, "bash": 1},
                         "demand": {"grow": False}}}
CAP_SYS_ADMIN = 21
# What a box's shell says of itself: its pid, its capabilities and uid
# inside, the root it sees.
SELF = "echo $$ $(id -u) $(grep CapEff /proc/self/status | cut -f2); ls /"


def forker_of(d):
    pids = daemon_helpers(d.pid, FORKER)
    assert len(pids) == 1, pids
    return pids[0]


def status_of(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f)


def a_box_run(d):
    """A bash run's box is a box as any: its shell is pid 2 beside the
    init, the box user without capabilities, on the box's own root."""
    r = execute(d, {"runtime": "bash", "code": SELF})
    assert r["exitCode"] == 0, r
    first, ls = r["stdout"].split("\n", 1)
    assert first == "2 1000 0000000000000000", r
    assert "sandbox" in ls.split() and "home" not in ls.split(), r


def test_the_forker_is_a_small_helper_with_sys_admin_alone(start_daemon):
    """One forker, the daemon's child: the boxes' init program, keeping
    CAP_SYS_ADMIN alone, in the daemon's mount namespace, its resident
    memory a small part of the daemon's.  Bash runs work through it."""
    d = start_daemon(pool=True, config=ONE_BASH_BOX)
    settled(d)
    f = forker_of(d)
    st = status_of(f)
    only = format(1 << CAP_SYS_ADMIN, "016x")
    assert st["CapEff"] == only and st["CapBnd"] == only, st
    assert st["CapInh"] == "0000000000000000", st
    assert "isol8-init" in os.readlink(f"/proc/{f}/exe")
    assert os.readlink(f"/proc/{f}/ns/mnt") == \
        os.readlink(f"/proc/{d.pid}/ns/mnt")
    assert proc_status_kb(f) * 4 < proc_status_kb(d.pid), st
    for _ in range(3):
        a_box_run(d)
    assert forker_of(d) == f
    assert "the box forker serves" in d.stderr(), d.stderr()


def test_boxes_go_on_when_the_forker_dies(start_daemon):
    """Killed, the forker is reaped and said to be gone; the daemon clones
    boxes itself, and runs go on.  A second later it starts the forker
    again."""
    d = start_daemon(pool=True, config=ONE_BASH_BOX)
    settled(d)
    f = forker_of(d)
    os.kill(f, signal.SIGKILL)
    assert wait_until(lambda: not os.path.exists(f"/proc/{f}"), 5), \
        "the forker was not reaped"
    assert wait_until(lambda: "the box forker ended (signal 9); the daemon "
                      "clones boxes itself until it starts again"
                      in d.stderr(), 5), d.stderr()
    assert "the box forker starts again in 1 s" in d.stderr()
    for _ in range(3):
        a_box_run(d)
    assert wait_until(lambda: d.stderr().count("the box forker serves")
                      == 2, 10), d.stderr()
    assert forker_of(d) != f
    a_box_run(d)
    assert key_of(settled(d), "bash")["consecutiveFailures"] == 0
    assert wait_until(lambda: zombies_of(d) == [], 5), zombies_of(d)


def test_a_forker_that_does_not_answer_holds_up_no_other_run(start_daemon):
    """With the forker stopped (SIGSTOP), a bash run whose box it is asked
    for waits while a python run is served.  Given no answer for 2 s, the
    forker is stopped and the daemon clones the box itself: the run
    succeeds.  The forker starts again and serves."""
    d = start_daemon(pool=True, config={
        "pool": dict(ONE_BASH_BOX["pool"],
                     size=dict(ONE_BASH_BOX["pool"]["size"], python=1))})
    settled(d)
    f = forker_of(d)
    os.kill(f, signal.SIGSTOP)
    # Served by the pool, whose new box then waits for the forker.
    assert execute(d, {"runtime": "bash", "code": "echo 1"})[
        "stdout"] == "1\n"
    waiting = {}

    def bash_run():
        waiting["result"] = execute(d, {"runtime": "bash", "code": SELF})

    t = threading.Thread(target=bash_run)
    t.start()
    try:
        assert wait_until(
            lambda: d.health()["capacity"]["executions"] == 1, 10)
        r = execute(d, {"runtime": "python", "code": "print('hi')"})
        assert r["stdout"] == "hi\n"
        assert "result" not in waiting, "the bash run ended before python's"
    finally:
        t.join(30)
    assert waiting["result"]["exitCode"] == 0, waiting
    assert waiting["result"]["stdout"].startswith("2 1000 "), waiting
    assert "the box forker does not answer; stopping it" in d.stderr()
    assert wait_until(lambda: not os.path.exists(f"/proc/{f}"), 5)
    assert wait_until(lambda: d.stderr().count("the box forker serves")
                      == 2, 10), d.stderr()
    a_box_run(d)
    assert key_of(settled(d), "bash")["ready"] == 1
    assert wait_until(lambda: zombies_of(d) == [], 5), zombies_of(d)


def test_a_process_the_forker_cloned_before_it_ended_is_reaped(
        start_daemon):
    """The forker, ended by the fault injected right after a clone, before
    its answer: the daemon kills and reaps the process it cloned, clones
    the box itself, and bash runs go on with no zombie left."""
    d = start_daemon(pool=True, config=ONE_BASH_BOX,
                     env={"ISOL8D_FAULT": "answer the daemon"})
    lost_clone_reaped(d, "box forker", "bash")
    a_box_run(d)
    assert wait_until(lambda: zombies_of(d) == [], 5), zombies_of(d)
