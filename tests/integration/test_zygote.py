"""Pooled python boxes made from the zygote (isol8d(8), "Python boxes from
a zygote"): each is a box of its own in every respect a fresh one is, its
interpreter the zygote's copy; attacks on what it shares fail; the daemon
goes on without the zygote when it dies or is turned off."""

import json
import os
import shutil
import signal
import subprocess
import threading

import pytest

from execute_helpers import execute, execute_many
from isol8_harness import (box_cgroups, children_of, daemon_cgroup_dirs,
                           daemon_helpers, wait_until, zombies_of)
from pool_helpers import key_of, lost_clone_reaped, settled, status

ZYGOTE = ("isol8d-zygote",)
POOL = {"pool": {"size": {"python": 2, "node": 0, "bun": 0, "deno": 0,
                          "bash": 0}}}
# One pooled python box, the pool not growing: a run's box is the one the
# pool asks the zygote for next.
ONE_PYTHON_BOX = {"pool": {"size": dict(POOL["pool"]["size"], python=1),
                           "demand": {"grow": False}}}
NAMESPACES = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")

# What a box's interpreter says of itself.
SELF = r"""
import json, os, sys
st = dict(l.split(":", 1) for l in open("/proc/self/status"))
maps = open("/proc/self/maps").read().splitlines()
print(json.dumps({
    "pid": os.getpid(), "ppid": os.getppid(),
    "ids": [os.getuid(), os.getgid()],
    "ns": {n: os.readlink(f"/proc/self/ns/{n}") for n in %r},
    "seccomp": st["Seccomp"].strip(), "capeff": st["CapEff"].strip(),
    "nnp": st["NoNewPrivs"].strip(),
    "zygote": any("_isol8_zygote" in l for l in maps),
    "shared_writable": [l for l in maps if l.split()[1][1] == "w" and
                        l.split()[1][3] == "s"],
    "modules": sorted(m for m in sys.modules if "isol8" in m),
    "comm": open("/proc/self/comm").read().strip(),
    "cwd": os.getcwd(), "argv": sys.argv, "path0": sys.path[0],
    "dumpable": os.access("/proc/self/environ", os.R_OK),
    "hash": hash("isol8"),
    "uid_map": open("/proc/self/uid_map").read().split(),
    "cgroup": open("/proc/self/cgroup").read().splitlines()[-1],
    "stdin_seekable": sys.stdin.seekable(),
}))
""" % (NAMESPACES,)


def zygote_of(d):
    pids = daemon_helpers(d.pid, ZYGOTE)
    assert len(pids) == 1, pids
    return pids[0]


def box_count(d):
    """The boxes whose cgroups are below the daemon's."""
    return len({b for bs in box_cgroups(daemon_cgroup_dirs(d.pid)).values()
                for b in bs if "/" not in b})


def session(d):
    with d.client() as c:
        msg = c.call("session.create", {"runtime": "python"})
    assert "error" not in msg, msg
    return msg["result"]["id"]


def test_pooled_python_boxes_come_from_the_zygote(start_daemon):
    """Two boxes made from the zygote, alive together: each has its own
    namespaces, none the zygote's, its own uid range and cgroup, the box
    user without capabilities under seccomp, no shared writable memory;
    its interpreter is pid 2 under the box's init, looks like a fresh
    `python3 /sandbox/main.py`, and is a copy of the zygote's (its module
    in the maps, the shared hash seed)."""
    d = start_daemon(pool=True, config=POOL)
    z = zygote_of(d)
    with open(f"/proc/{z}/status") as f:
        zst = dict(ln.split(":", 1) for ln in f)
    # Root of the host with CAP_SYS_ADMIN alone (bit 21).
    assert zst["Uid"].split()[0] == "0"
    assert int(zst["CapBnd"], 16) == 1 << 21, zst["CapBnd"]
    settled(d)
    # Read while it builds none: it enters each box's network namespace
    # to clone it, and is back in the daemon's after.
    zns = {n: os.readlink(f"/proc/{z}/ns/{n}") for n in NAMESPACES}
    assert zns["net"] == os.readlink(f"/proc/{d.pid}/ns/net")
    before = key_of(status(d), "python")
    ids = [session(d) for _ in range(2)]
    seen = [json.loads(execute(d, {"runtime": "python", "code": SELF},
                               sessionId=i)["stdout"]) for i in ids]
    after = key_of(status(d), "python")
    assert after["hits"] == before["hits"] + 2, (before, after)
    for s in seen:
        assert s["zygote"], s
        assert (s["pid"], s["ppid"], s["ids"]) == (2, 1, [1000, 1000]), s
        assert s["seccomp"] == "2" and s["nnp"] == "1", s
        assert int(s["capeff"], 16) == 0, s
        assert s["shared_writable"] == [], s
        assert s["modules"] == [] and s["comm"] == "python3", s
        assert (s["cwd"], s["argv"], s["path0"]) == \
            ("/sandbox", ["/sandbox/main.py"], "/sandbox"), s
        assert s["dumpable"], s
        # stdin is a pipe, as Python saw it at start.
        assert s["stdin_seekable"] is False, s
        for n in NAMESPACES:
            assert s["ns"][n] != zns[n], (n, s["ns"][n])
    for n in NAMESPACES:
        assert seen[0]["ns"][n] != seen[1]["ns"][n], n
    # The seed is the zygote's (documented), the same in both.
    assert seen[0]["hash"] == seen[1]["hash"]
    # Each has a uid range of its own on the host, and sits at the root
    # of its cgroup namespace, its box's cgroup: from the host, the box
    # inits' (where their interpreters were) differ, and are not the
    # daemon's.
    bases = {s["uid_map"][1] for s in seen}
    assert len(bases) == 2 and "0" not in bases, seen
    assert all(s["uid_map"][0] == "0" for s in seen), seen
    assert all(s["cgroup"] == "0::/" for s in seen), seen
    cgroups = set()
    for init in children_of(d.pid):
        with open(f"/proc/{init}/cgroup") as f:
            cgroups.add(f.read())
    with open(f"/proc/{d.pid}/cgroup") as f:
        assert f.read() not in cgroups
    assert len(cgroups) == len(children_of(d.pid)) >= 2, cgroups


def test_what_boxes_share_with_the_zygote_stays_out_of_reach(start_daemon):
    """Attacks on what a held interpreter shares with its zygote fail:
    a change one box makes to the interpreter's state is not seen by the
    next; the zygote's files and memory are not reachable; the box sees
    no process but its own."""
    d = start_daemon(pool=True, config=POOL)
    z = zygote_of(d)
    settled(d)
    probe = r"""
import ctypes, errno, json, os
# An escape probe: only inside a box's user namespace.
if open("/proc/self/uid_map").read().split()[:3] == ["0", "0", "4294967295"]:
    raise SystemExit("not in a user namespace: refusing to probe")
libc = ctypes.CDLL(None, use_errno=True)
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode[e.errno]
def mount():
    if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) != 0:
        raise OSError(ctypes.get_errno(), "mount")
out["marked"] = hasattr(json, "isol8_marker")
json.isol8_marker = True
attempt("exe_write", lambda: open("/proc/self/exe", "r+b"))
# The zygote's module, in a file of the zygote's /tmp, deleted.
span = next(l.split()[0] for l in open("/proc/self/maps")
            if "_isol8_zygote" in l)
attempt("map_files", lambda: os.open(f"/proc/self/map_files/{span}",
                                     os.O_RDONLY))
attempt("zygote_pid", lambda: os.kill(%d, 0))
attempt("mount", mount)
out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(json.dumps(out))
""" % z
    for _ in range(2):
        r = json.loads(execute(d, {"runtime": "python",
                                   "code": probe})["stdout"])
        assert r["marked"] is False, r
        assert r["exe_write"] in ("EROFS", "EACCES", "ETXTBSY"), r
        assert r["map_files"] in ("EPERM", "EACCES"), r
        assert r["zygote_pid"] == "ESRCH", r
        assert r["mount"] in ("EPERM", "EACCES"), r
        assert r["pids"] == [1, 2], r
    assert os.path.exists(f"/proc/{z}")


# Every page of the interpreter's private writable memory that is there
# (pagemap's bit 63) is the process's alone (bit 56) or the file's
# (bit 61): none is still the zygote's, shared until written.  The stack,
# which the copying runs on, is left out.  Also how many private writable
# mappings are of the interpreter's file.
OWN_MEMORY = r"""
import os, struct
exe = os.readlink("/proc/self/exe")
pm = open("/proc/self/pagemap", "rb")
seen = shared = files = 0
for line in open("/proc/self/maps"):
    f = line.split()
    if f[1] != "rw-p" or f[-1] == "[stack]":
        continue
    files += f[-1] == exe
    start, end = (int(x, 16) for x in f[0].split("-"))
    pm.seek(start // 4096 * 8)
    n = (end - start) // 4096
    for e in struct.unpack(f"{n}Q", pm.read(n * 8)):
        if e >> 63 & 1:
            seen += 1
            shared += not (e >> 56 & 1 or e >> 61 & 1)
print(seen, shared, files)
"""


@pytest.mark.parametrize("fault", [None, "copy memory in the kernel"])
def test_a_box_interpreter_memory_is_its_own(start_daemon, fault):
    """The memory a box's interpreter has from the zygote is copied into
    the box before its program runs: no page of it is shared with the
    zygote or another box, whether the kernel copies it (in place, and
    the files' data through a userfaultfd) or, where that is not to be had
    (a fault injected), the box does page by page.  The interpreter's
    private writable data is a copy in memory of no file when the kernel
    copies, and stays the file's (with the changed pages copied) when the
    box does."""
    d = start_daemon(pool=True, config=POOL,
                     env={"ISOL8D_FAULT": fault} if fault else None)
    settled(d)
    for _ in range(2):
        r = execute(d, {"runtime": "python", "code": SELF + OWN_MEMORY})
        out = r["stdout"].splitlines()
        assert json.loads(out[0])["zygote"], r
        seen, shared, files = map(int, out[1].split())
        assert seen > 500 and shared == 0, (seen, shared)
        assert (files == 0) == (fault is None), files
    assert daemon_helpers(d.pid, ZYGOTE)


def test_boxes_go_on_when_the_zygote_dies(start_daemon):
    """Killed, the zygote is reaped and said to be gone; pooled python
    boxes then start their own interpreter, and runs go on.  A second
    later the daemon starts it again, and boxes come from the new one;
    killed again soon after its start, it waits twice as long."""
    d = start_daemon(pool=True, config=POOL)
    z = zygote_of(d)
    settled(d)
    os.kill(z, signal.SIGKILL)
    assert wait_until(lambda: not os.path.exists(f"/proc/{z}"), 5), \
        "the zygote was not reaped"
    assert wait_until(lambda: "the python zygote ended (signal 9); python "
                      "boxes start their own interpreter until it starts "
                      "again" in d.stderr(), 5), d.stderr()
    assert "the python zygote starts again in 1 s" in d.stderr()
    for i in range(4):
        r = execute(d, {"runtime": "python", "code": SELF})
        assert json.loads(r["stdout"])["pid"] == 2
    st = settled(d)
    assert key_of(st, "python")["consecutiveFailures"] == 0, st
    # Whether this run's box came before the new zygote or after it.
    json.loads(execute(d, {"runtime": "python", "code": SELF})["stdout"])
    assert wait_until(lambda: daemon_helpers(d.pid, ZYGOTE), 5), d.stderr()
    z2 = zygote_of(d)
    assert z2 != z
    assert wait_until(lambda: d.stderr().count("the python zygote serves")
                      == 2, 10), d.stderr()
    # The boxes built before it serves start their own interpreter; those
    # built after come from it.
    assert wait_until(lambda: json.loads(execute(
        d, {"runtime": "python", "code": SELF})["stdout"])["zygote"], 10)
    os.kill(z2, signal.SIGKILL)
    assert wait_until(lambda: "the python zygote starts again in 2 s"
                      in d.stderr(), 5), d.stderr()


def zygote_stopped_with_a_box_to_make(start_daemon):
    """A daemon whose pool holds one python box, and its zygote, stopped
    (SIGSTOP) once asked for the box that replaces the one a run took."""
    d = start_daemon(pool=True, config=ONE_PYTHON_BOX)
    settled(d)
    z = zygote_of(d)
    os.kill(z, signal.SIGSTOP)
    # Served by the pool, whose new box then waits for the zygote.
    assert execute(d, {"runtime": "python", "code": "print(1)"})[
        "stdout"] == "1\n"
    return d, z


def a_run_waits_for_its_box(d):
    """The run has begun, and its box waits beside the pool's new one (the
    box the run before used is gone)."""
    return (d.health()["capacity"]["executions"] == 1 and
            box_count(d) == 2)


def test_a_zygote_that_does_not_answer_holds_up_no_other_run(start_daemon):
    """The daemon asks the zygote for a box and goes on serving: with the
    zygote stopped (SIGSTOP), a python run waits for its box while a bash
    run is served.  Given no answer for 2 s, the zygote is stopped, and the
    daemon makes the waiting run's box itself: the run succeeds with an
    interpreter of its own.  Nothing of the lost request stays; the zygote
    starts again, and python runs get boxes from it."""
    d, z = zygote_stopped_with_a_box_to_make(start_daemon)
    waiting = {}

    def python_run():
        waiting["result"] = execute(d, {"runtime": "python", "code": SELF})

    t = threading.Thread(target=python_run)
    t.start()
    try:
        assert wait_until(lambda: a_run_waits_for_its_box(d), 10)
        r = execute(d, {"runtime": "bash", "code": "echo hi"})
        assert r["stdout"] == "hi\n"
        assert "result" not in waiting, "the python run ended before bash's"
    finally:
        t.join(30)
    s = json.loads(waiting["result"]["stdout"])
    assert not s["zygote"] and s["pid"] == 2, s
    assert "the python zygote does not answer; stopping it" in d.stderr()
    assert wait_until(lambda: not os.path.exists(f"/proc/{z}"), 5)
    assert wait_until(lambda: d.stderr().count("the python zygote serves")
                      == 2, 10), d.stderr()
    assert wait_until(lambda: json.loads(execute(
        d, {"runtime": "python", "code": SELF})["stdout"])["zygote"], 10)
    # Left: the box the pool holds, no other.
    assert key_of(settled(d), "python")["ready"] == 1
    assert wait_until(lambda: box_count(d) == 1, 5)


def test_a_box_given_up_while_the_zygote_clones_it_leaves_nothing(
        start_daemon):
    """A run whose client leaves while the zygote is still to clone its
    box: when the answer comes, the process cloned for it is killed and
    reaped and its cgroup removed; the zygote goes on serving."""
    d, z = zygote_stopped_with_a_box_to_make(start_daemon)
    with d.client() as c:
        c.send("execute", {"request": {"runtime": "python",
                                       "code": "print(1)"}}, id=1)
        assert wait_until(lambda: a_run_waits_for_its_box(d), 10)
    # The client has gone: the run's box is given up, its making not yet
    # answered.  Then the zygote answers both.
    assert wait_until(
        lambda: d.health()["capacity"]["executions"] == 0, 10)
    assert box_count(d) == 2
    os.kill(z, signal.SIGCONT)
    assert key_of(settled(d), "python")["ready"] == 1
    assert wait_until(lambda: box_count(d) == 1, 5)
    assert zombies_of(d) == []
    assert "does not answer" not in d.stderr(), d.stderr()
    assert zygote_of(d) == z
    r = json.loads(execute(d, {"runtime": "python", "code": SELF})["stdout"])
    assert r["zygote"], r


def test_a_process_the_zygote_cloned_before_it_ended_is_reaped(
        start_daemon):
    """A zygote that ends between cloning a box's first process and telling
    the daemon its pid (ended there by the fault injected, as the OOM
    killer might end it): the daemon finds that process by the control
    socket it waits on, kills and reaps it, and makes the box itself.  No
    zombie is left, and python runs go on."""
    d = start_daemon(pool=True, config=ONE_PYTHON_BOX,
                     env={"ISOL8D_FAULT": "answer the daemon"})
    lost_clone_reaped(d, "python zygote", "python")
    r = json.loads(execute(d, {"runtime": "python", "code": SELF})["stdout"])
    assert not r["zygote"] and r["pid"] == 2, r
    assert wait_until(lambda: zombies_of(d) == [], 5), zombies_of(d)


def test_no_zygote_when_turned_off(start_daemon):
    """pool.zygote false: no zygote; pooled python boxes start their own
    interpreter."""
    cfg = {"pool": dict(POOL["pool"], zygote=False)}
    d = start_daemon(pool=True, config=cfg)
    assert not daemon_helpers(d.pid, ZYGOTE)
    settled(d)
    r = json.loads(execute(d, {"runtime": "python", "code": SELF})["stdout"])
    assert not r["zygote"] and r["pid"] == 2, r
    assert key_of(status(d), "python")["hits"] == 1


def test_zygote_is_given_up_when_its_boxes_fail(start_daemon):
    """A box whose interpreter cannot be made from the zygote (here a
    fault injected where it maps the interpreter's files from the box, as
    after the host's Python was upgraded under a running zygote) stops the
    zygote: the failure and the stop are logged, and the pool fills with
    boxes that start their own interpreter."""
    d = start_daemon(pool=True, config=POOL, env={
        "ISOL8D_FAULT": "map the interpreter's files from the box"})
    # The first box may fail, and stop the zygote, before it is looked
    # for: it is judged by the log, and by its absence after.
    assert wait_until(lambda: "a python box made from the zygote failed "
                      "(map the interpreter's files from the box)"
                      in d.stderr(), 10), d.stderr()
    assert "the python zygote serves" in d.stderr(), d.stderr()
    assert wait_until(lambda: not daemon_helpers(d.pid, ZYGOTE), 5)
    st = settled(d)
    k = key_of(st, "python")
    assert k["consecutiveFailures"] == 0 and k["failures"] >= 1, k
    r = json.loads(execute(d, {"runtime": "python", "code": SELF})["stdout"])
    assert not r["zygote"] and r["pid"] == 2, r
    # Given up, it is not started again.
    assert "python boxes start their own interpreter from now on" \
        in d.stderr(), d.stderr()
    assert "the python zygote starts again" not in d.stderr()
    assert not daemon_helpers(d.pid, ZYGOTE)


def test_runs_the_pool_misses_get_boxes_from_the_zygote(start_daemon):
    """Runs the pool cannot serve get a new box made from the zygote, its
    interpreter a copy of the zygote's as a pooled one's, with the
    program's output, exit code and environment its own."""
    d = start_daemon(pool=True, config=ONE_PYTHON_BOX)
    settled(d)
    code = SELF + "import os, sys\nprint(os.environ['WHO'])\nsys.exit(3)\n"
    results = execute_many(d, [({"runtime": "python", "code": code,
                                 "env": {"WHO": f"run{i}"}}, None)
                               for i in range(4)])
    k = key_of(status(d), "python")
    assert k["misses"] >= 3, k
    for i, msg in enumerate(results):
        r = msg["result"]
        out = r["stdout"].splitlines()
        s = json.loads(out[0])
        assert s["zygote"] and s["pid"] == 2 and s["ids"] == [1000, 1000]
        assert out[1] == f"run{i}" and r["exitCode"] == 3, r


# Programs by whether the interpreter may skip the rest of its end: it ran
# to its end, with only plain objects made; or not.
ENDS = {
    "hello": ("print(1)\n", True),
    "plain_unflushed": ("class A:\n    pass\na = [A(), {1: (2,)}]\n"
                        "print(1, end='')\n", True),
    "exit_zero": ("import sys\nprint(1)\nsys.exit(0)\n", False),
    "exit_without_file": ("import sys\ndel __file__, __cached__\nprint(1)\n"
                          "sys.exit(3)\n", False),
    "finalizer": ("class A:\n    def __del__(self):\n        print(2)\n"
                  "a = A()\nprint(1)\n", False),
    "traceback": ("print(1)\nraise ValueError\n", False),
}


def held_interpreters(d):
    """Pids of the interpreters the pooled boxes hold."""
    return [p for init in children_of(d.pid) for p in children_of(init)]


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
@pytest.mark.parametrize("name", list(ENDS))
def test_a_program_that_ran_to_its_end_skips_the_interpreter_end(
        start_daemon, tmp_path, name):
    """An interpreter made from the zygote whose program ran to its end,
    making only plain objects, exits without Python's finalization (which
    restores SIGINT's handler as it goes); after a SystemExit, even with
    __file__ dropped, an exception or with a finalizer to run, Python ends
    as always.  Either way output and exit code are a fresh python's."""
    code, skips = ENDS[name]
    (tmp_path / "main.py").write_text(code)
    want = subprocess.run(["/usr/bin/python3", "main.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})
    d = start_daemon(pool=True, config=POOL)
    settled(d)
    held = held_interpreters(d)
    assert len(held) == 2, held
    tracers = [subprocess.Popen(
        ["strace", "-qq", "-p", str(p), "-o", str(tmp_path / f"{p}.trace"),
         "-e", "trace=rt_sigaction,exit_group"],
        stderr=subprocess.DEVNULL) for p in held]
    try:
        assert wait_until(lambda: all(_traced(p) for p in held), 10)
        r = execute(d, {"runtime": "python", "code": code})
    finally:
        for t in tracers:
            t.terminate()
            t.wait(10)
    assert (r["stdout"], r["exitCode"]) == (want.stdout, want.returncode), r
    ended = [(tmp_path / f"{p}.trace").read_text() for p in held]
    ended = [t for t in ended if "exit_group" in t]
    assert len(ended) == 1, ended
    assert ("rt_sigaction(SIGINT" not in ended[0]) == skips, ended[0]


def _traced(pid):
    with open(f"/proc/{pid}/status") as f:
        return any(ln.startswith("TracerPid:") and ln.split()[1] != "0"
                   for ln in f)
