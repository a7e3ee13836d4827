"""execute, the heavy and runtime-independent cases: output limits, OOM,
fork bombs, killing whole process trees on timeout, streaming, setup
scripts, package installs, working directories, every invalid field,
runtime detection, files, secrets across reads, and no leak of fds,
processes, mounts or cgroups after a batch of runs (some failing)."""

import os
import signal
import threading
import time

import pytest

from execute_helpers import (REPLY_TIMEOUT, TIMEOUT_EVENT, TIMEOUT_TEXT,
                             truncation_marker,
                             assert_no_marker_processes, b64, call_execute,
                             check_invalid, check_result, check_timed_out,
                             execute, execute_error, execute_many,
                             execute_raw, marker, params_of,
                             pids_with_marker, results_of, shared_daemon,
                             signal_marker, stream_text, daemon_cgroup_dirs,
                             box_cgroups, leak_snapshot)  # noqa: F401
from isol8_harness import check_error, children_of, wait_until

MiB = 1024 * 1024


def py(code, **request):
    return dict({"code": code, "runtime": "python"}, **request)


def sh(cmd, **request):
    return dict({"cmd": cmd}, **request)


# --------------------------------------------------------------------------
# Output size


def test_10mb_of_output_is_truncated(shared_daemon):
    code = ("import sys\n"
            "sys.stdout.write('x' * (10 * 1024 * 1024))\n"
            "sys.stdout.flush()\n"
            "sys.stderr.write('y' * (10 * 1024 * 1024))\n"
            "sys.stderr.flush()\n"
            "open('/tmp/finished', 'w').write('yes')\n"
            "sys.exit(4)\n")
    (plain, streamed) = execute_many(shared_daemon, [
        params_of(py(code, outputPaths=["/tmp/finished"])),
        params_of(py(code), stream=True)])
    r = check_result(plain["result"], "python")
    # The default cap: 1 MiB of each stream, then isol8's marker; the rest
    # is read and dropped, so the program is neither blocked nor killed.
    assert r["truncated"] is True, {k: r[k] for k in r if k not in
                                    ("stdout", "stderr")}
    big = 10 * MiB
    assert r["stdout"] == "x" * MiB + truncation_marker(big, MiB), \
        (len(r["stdout"]), r["stdout"][-60:])
    assert r["stderr"] == "y" * MiB + truncation_marker(big, MiB), \
        (len(r["stderr"]), r["stderr"][-60:])
    assert r["exitCode"] == 4, r["exitCode"]
    assert r.get("files") == {"/tmp/finished": b64("yes")}, r.get("files")
    assert "timedOut" not in r

    s = check_result(streamed["result"], "python")
    assert s["truncated"] is True and s["exitCode"] == 4
    assert s["stdout"] == r["stdout"] and s["stderr"] == r["stderr"]


def test_10mb_of_output_truncated_in_stream_events(shared_daemon):
    code = "import sys\nsys.stdout.write('z' * (10 * 1024 * 1024))\n"
    msg, events = execute_raw(shared_daemon, py(code), stream=True)
    r = check_result(msg["result"])
    assert r["truncated"] is True
    streamed = stream_text(events, "stdout")
    # The events carry what is kept, not the 10 MB.
    assert streamed == "z" * MiB, \
        (len(streamed), streamed[-60:])


@pytest.mark.parametrize("size,written,kept,truncated", [
    ("1k", 1024, 1024, False),
    (1024, 1025, 1024, True),
    ("2k", 1, 1, False),
    (100, 5000, 100, True),
])
def test_max_output_size_boundaries(shared_daemon, size, written, kept,
                                    truncated):
    r = execute(shared_daemon, py(
        f"import sys\nsys.stdout.write('a' * {written})\n"
        f"sys.stderr.write('e' * 10)\n"), {"maxOutputSize": size})
    assert r["truncated"] is truncated, r
    limit = 1024 if size in ("1k", 1024) else 2048 if size == "2k" else size
    want = "a" * kept + (truncation_marker(written, limit) if truncated
                         else "")
    assert r["stdout"] == want, (len(r["stdout"]), r["stdout"][-40:])
    assert r["stderr"] == "e" * 10, r


def test_max_output_size_applies_to_each_stream(shared_daemon):
    r = execute(shared_daemon, sh("head -c 3000 /dev/zero | tr '\\0' o; "
                                  "head -c 500 /dev/zero | tr '\\0' e >&2"),
                {"maxOutputSize": "1k"})
    assert r["truncated"] is True
    assert r["stdout"] == "o" * 1024 + truncation_marker(3000, 1024), \
        r["stdout"][-60:]
    assert r["stderr"] == "e" * 500, r["stderr"][-40:]


def test_truncation_inside_a_character_stays_valid_utf8(shared_daemon):
    # 1000 bytes cut a 3-byte character; the reply must still be valid
    # JSON text (the client parses strictly) and keep the whole ones.
    r = execute(shared_daemon, py("print('€' * 1000)"),
                {"maxOutputSize": 1000})
    assert r["truncated"] is True
    assert r["stdout"].startswith("€" * 333), r["stdout"][:20]
    marker = truncation_marker(3001, 1000)
    assert r["stdout"].endswith(marker), r["stdout"][-60:]
    middle = r["stdout"][333:-len(marker)]
    assert middle in ("", "\ufffd"), repr(middle)


# --------------------------------------------------------------------------
# Memory, processes, time


def test_oom_kill_reported(shared_daemon):
    hog = py("a = []\nwhile True:\n    a.append(bytearray(1 << 20))\n")
    ok = py("b = bytearray(16 << 20)\nb[::4096] = b'x' * len(b[::4096])\n"
            "print('fine', len(b))\n")
    oom, fine = results_of(execute_many(shared_daemon, [
        (hog, {"memoryLimit": "64m", "timeoutMs": 30000}),
        (ok, {"memoryLimit": "64m", "timeoutMs": 30000})]))
    assert oom.get("oomKilled") is True, oom
    assert oom["exitCode"] == 137, oom
    assert oom.get("signal") == "SIGKILL", oom
    assert "timedOut" not in oom, oom
    assert oom["resourceUsage"]["peakMemoryMB"] <= 64 + 1, oom
    assert oom["resourceUsage"]["peakMemoryMB"] >= 32, oom
    # Under the limit nothing happens, and the peak is measured.
    assert fine["exitCode"] == 0, fine
    assert fine["stdout"] == f"fine {16 << 20}\n", fine
    assert "oomKilled" not in fine and "signal" not in fine, fine
    assert fine["resourceUsage"]["peakMemoryMB"] >= 16, fine


def test_memory_limit_as_bytes(shared_daemon):
    r = execute(shared_daemon, py("x = b'x' * (96 << 20)\nprint(len(x))"),
                {"memoryLimit": 48 * MiB, "timeoutMs": 30000})
    assert r.get("oomKilled") is True and r["exitCode"] == 137, r


def test_fork_bomb_is_contained(shared_daemon):
    mark = marker()
    bash_bomb = sh(f"# {mark}\nbomb() {{ bomb | bomb & }}\nbomb\n"
                   "sleep 30\n")
    # Run through cmd so that the marker is in python's command line.
    py_bomb = sh(f"exec python3 /sandbox/bomb.py {mark}", files={
        "bomb.py": "import os\nwhile True:\n    try:\n        os.fork()\n"
                   "    except OSError:\n        pass\n"})
    results = []
    t = threading.Thread(target=lambda: results.extend(execute_many(
        shared_daemon, [(bash_bomb, {"pidsLimit": 32, "timeoutMs": 1500}),
                        (py_bomb, {"timeoutMs": 1500})])), daemon=True)
    t.start()
    counts, health = [], []
    while t.is_alive():
        counts.append(len(pids_with_marker(mark)))
        try:
            health.append(shared_daemon.health()["status"])
        except Exception as e:  # noqa: BLE001 - reported below
            health.append(repr(e))
        time.sleep(0.02)
    t.join(REPLY_TIMEOUT)
    assert len(results) == 2, results
    bash_r, py_r = results_of(results)
    # Both boxes were busy forking; together they never exceed their limits
    # (32 + 64), and the daemon answered health all along.
    assert max(counts) > 4, counts
    assert max(counts) <= 32 + 64, max(counts)
    assert health and set(health) == {"ok"}, health
    check_timed_out(bash_r)
    check_timed_out(py_r)
    assert_no_marker_processes(mark)
    shared_daemon.health()


def test_fork_bomb_alone_within_pids_limit(shared_daemon):
    mark = marker()
    results = []
    t = threading.Thread(target=lambda: results.append(execute(
        shared_daemon, sh(f"# {mark}\nf() {{ f | f & }}; f; sleep 30"),
        {"pidsLimit": 16, "timeoutMs": 1200})), daemon=True)
    t.start()
    counts = []
    while t.is_alive():
        counts.append(len(pids_with_marker(mark)))
        time.sleep(0.01)
    t.join(REPLY_TIMEOUT)
    assert results, "no result"
    check_timed_out(results[0])
    assert counts and 1 < max(counts) <= 16, counts
    assert_no_marker_processes(mark)


TREE_SCRIPT = """\
M={mark}
setsid bash -c "exec -a $M-setsid sleep 300" &
( ( exec -a $M-double sleep 300 ) & )
nohup bash -c "exec -a $M-nohup sleep 300" >/dev/null 2>&1 &
( trap '' TERM HUP INT; exec -a $M-ignoring sleep 300 ) &
disown -a
python3 -c '
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/usr/bin/sleep", [sys.argv[1] + "-py", "300"])
    os._exit(0)
' "$M"
echo ready
exec -a $M-main sleep 300
"""


def test_timeout_kills_the_whole_tree(shared_daemon):
    mark = marker()
    with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
        rid = c.send("execute", params_of(
            sh(TREE_SCRIPT.format(mark=mark)), {"timeoutMs": 2500},
            stream=True))
        msg = c.recv()
        assert msg.get("method") == "stream", msg
        assert msg["params"]["type"] == "stdout", msg
        assert msg["params"]["data"] == "ready\n", msg
        # setsid'd, double-forked, nohup'd, signal-ignoring descendants.
        names = ("-setsid", "-double", "-nohup", "-ignoring", "-py")

        def all_there():
            cmdlines = []
            for p in pids_with_marker(mark):
                try:
                    with open(f"/proc/{p}/cmdline", "rb") as f:
                        cmdlines.append(f.read().decode(errors="replace"))
                except OSError:
                    pass
            return all(any(mark + n in cl for cl in cmdlines)
                       for n in names)
        assert wait_until(all_there, 2.0), pids_with_marker(mark)
        while True:
            msg = c.recv()
            if msg.get("id") == rid:
                break
    r = check_result(msg["result"])
    check_timed_out(r)
    assert r["stdout"] == "ready\n", r
    assert_no_marker_processes(mark)


def test_background_processes_die_with_the_box(shared_daemon):
    mark = marker()
    r = execute(shared_daemon, sh(
        f"(exec -a {mark} sleep 300 >/dev/null 2>&1 &)\n"
        f"setsid bash -c 'exec -a {mark} sleep 300' >/dev/null 2>&1 &\n"
        "echo done"), {"timeoutMs": 20000})
    assert r["stdout"] == "done\n" and r["exitCode"] == 0, r
    assert "timedOut" not in r
    assert_no_marker_processes(mark)


def test_closing_the_connection_kills_the_box(shared_daemon):
    mark = marker()
    c = shared_daemon.client(timeout=REPLY_TIMEOUT)
    try:
        c.send("execute", params_of(sh(f"exec -a {mark} sleep 300")))
        assert wait_until(lambda: pids_with_marker(mark), 10.0), \
            "the execution did not start"
    finally:
        c.close()
    assert_no_marker_processes(mark)
    shared_daemon.health()


def test_request_timeout_overrides_options(shared_daemon):
    r1, r2 = results_of(execute_many(shared_daemon, [
        (sh("echo started; sleep 30", timeoutMs=600), {"timeoutMs": 30000}),
        (sh("sleep 1; echo not killed", timeoutMs=30000),
         {"timeoutMs": 300}),
    ]))
    check_timed_out(r1)
    assert r1["stdout"] == "started\n", r1
    assert r1["stderr"] == "\n" + TIMEOUT_TEXT, r1
    assert r2["stdout"] == "not killed\n" and r2["exitCode"] == 0, r2
    assert "timedOut" not in r2, r2


def test_timeout_keeps_stderr_before_the_text(shared_daemon):
    r = execute(shared_daemon, sh("echo oops >&2; sleep 30"),
                {"timeoutMs": 500})
    check_timed_out(r)
    # What the program wrote stays, then isol8's line after a newline.
    assert r["stderr"] == "oops\n\n" + TIMEOUT_TEXT, r


# --------------------------------------------------------------------------
# Streaming


SIGNAL_WAITER = """\
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
print("first", flush=True)
print("err1", file=sys.stderr, flush=True)
signal.sigwait({signal.SIGUSR1})
print("second", flush=True)
print("err2", file=sys.stderr, flush=True)
sys.exit(3)
"""


def test_stream_events_arrive_while_the_program_runs(shared_daemon):
    mark = marker()
    req = sh(f"exec python3 /sandbox/{mark}.py",
             files={f"{mark}.py": SIGNAL_WAITER})
    events = []
    with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
        rid = c.send("execute", params_of(req, {"timeoutMs": 20000},
                                          stream=True))
        signalled = False
        while True:
            msg = c.recv()
            if "method" not in msg:
                break
            assert msg["method"] == "stream" and "id" not in msg, msg
            p = msg["params"]
            assert p["id"] == rid, msg
            events.append(p)
            out = stream_text(events, "stdout")
            err = stream_text(events, "stderr")
            if not signalled and out == "first\n" and err == "err1\n":
                # The program is blocked until it gets SIGUSR1: the
                # events came while it was running.
                signal_marker(mark, signal.SIGUSR1)
                signalled = True
    assert signalled, f"the first output never came as events: {events}"
    assert msg.get("id") == rid, msg
    r = check_result(msg["result"])
    assert r["exitCode"] == 3, r
    assert r["stdout"] == "first\nsecond\n", r
    assert r["stderr"] == "err1\nerr2\n", r
    assert stream_text(events, "stdout") == r["stdout"]
    assert stream_text(events, "stderr") == r["stderr"]
    for e in events:
        assert e["type"] in ("stdout", "stderr", "exit"), e
        assert isinstance(e["data"], str), e
        if e["type"] != "exit":
            assert e["phase"] == "code", e
    # exit comes last, after all the output, with the code as a string.
    assert events[-1]["type"] == "exit", events
    assert events[-1]["data"] == "3", events
    assert [e["type"] for e in events].count("exit") == 1


def test_stream_timeout_sends_error_then_exit(shared_daemon):
    msg, events = execute_raw(shared_daemon, sh("echo hello; sleep 30"),
                              {"timeoutMs": 700}, stream=True)
    r = check_result(msg["result"])
    check_timed_out(r)
    types = [e["type"] for e in events]
    assert types[-2:] == ["error", "exit"], events
    assert {k: events[-2][k] for k in ("type", "data", "phase")} == {
        "type": "error", "data": TIMEOUT_EVENT, "phase": "code"}, events
    assert events[-1]["phase"] == "code", events
    assert events[-1]["data"] == "137", events
    assert stream_text(events, "stdout") == "hello\n", events


def test_stream_setup_phase(shared_daemon):
    msg, events = execute_raw(shared_daemon, sh(
        "echo code-out; echo code-err >&2",
        setupScript="echo setup-out; echo setup-err >&2"), stream=True)
    r = check_result(msg["result"])
    assert r["exitCode"] == 0, r
    assert stream_text(events, "stdout", "setup") == "setup-out\n", events
    assert stream_text(events, "stderr", "setup") == "setup-err\n", events
    assert stream_text(events, "stdout", "code") == "code-out\n", events
    assert stream_text(events, "stderr", "code") == "code-err\n", events
    # Setup output comes first.
    phases = [e.get("phase") for e in events if e["type"] in
              ("stdout", "stderr")]
    assert phases == sorted(phases, key=lambda p: p != "setup"), events
    assert r["stdout"] == "code-out\n", r
    assert r["stderr"] == "code-err\n", r
    assert events[-1]["type"] == "exit" and events[-1]["data"] == "0", \
        events


def test_no_events_without_stream(shared_daemon):
    msg, events = execute_raw(shared_daemon, sh("echo a; echo b >&2"))
    assert events == []
    assert check_result(msg["result"])["stdout"] == "a\n"


def test_stream_events_for_pipelined_requests_carry_their_id(shared_daemon):
    with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
        ids = [c.send("execute", params_of(
            sh(f"for i in 1 2 3; do echo r{n}-$i; sleep 0.05; done"),
            stream=True)) for n in range(4)]
        outs = {i: "" for i in ids}
        results = {}
        while len(results) < len(ids):
            msg = c.recv()
            if "method" in msg:
                p = msg["params"]
                assert p["id"] in ids, msg
                assert p["id"] not in results, \
                    f"an event after the final response: {msg!r}"
                if p["type"] == "stdout":
                    outs[p["id"]] += p["data"]
            else:
                results[msg["id"]] = check_result(msg["result"])
    for n, i in enumerate(ids):
        want = "".join(f"r{n}-{k}\n" for k in (1, 2, 3))
        assert outs[i] == want, outs
        assert results[i]["stdout"] == want, results[i]


# --------------------------------------------------------------------------
# Secrets


def test_secret_split_across_reads_is_masked(shared_daemon):
    secret = "split-secret-" + marker()
    half = len(secret) // 2
    code = ("import os, sys, time\n"
            "s = os.environ['TOKEN']\n"
            f"for out in (sys.stdout, sys.stderr):\n"
            f"    out.write('a:' + s[:{half}]); out.flush(); time.sleep(0.15)\n"
            f"    out.write(s[{half}:] + ':b\\n'); out.flush()\n"
            "    time.sleep(0.05)\n"
            f"sys.stdout.write('end:' + s[:3]); sys.stdout.flush()\n"
            "time.sleep(0.15)\n"
            f"sys.stdout.write(s[3:])\n")
    msg, events = execute_raw(shared_daemon, py(code),
                              {"secrets": {"TOKEN": secret}}, stream=True)
    r = check_result(msg["result"])
    assert r["stdout"] == "a:***:b\nend:***", r
    assert r["stderr"] == "a:***:b\n", r
    assert secret not in repr(events) and secret[:half] not in repr(events)
    assert stream_text(events, "stdout") == r["stdout"], events
    assert stream_text(events, "stderr") == r["stderr"], events
    # The pieces really came in several reads (otherwise this proves
    # nothing about chunk boundaries).
    assert len([e for e in events if e["type"] == "stdout"]) >= 2, events


def test_several_secrets_and_repeats(shared_daemon):
    r = execute(shared_daemon, sh(
        'echo "$A-$B-$A$A"; printf %s "$B" >&2'),
        {"secrets": {"A": "alpha-1", "B": "beta-22"}})
    assert r["stdout"] == "***-***-******\n", r
    assert r["stderr"] == "***", r


def test_overlapping_secrets_do_not_leak(shared_daemon):
    r = execute(shared_daemon, sh('echo "$B"; echo "$A"'),
                {"secrets": {"A": "abc", "B": "abcdef"}})
    assert "def" not in r["stdout"], r
    assert r["stdout"] == "***\n***\n", r


def test_secrets_are_environment_variables(shared_daemon):
    r = execute(shared_daemon, sh('[ -n "$K" ] && echo "len ${#K}"'),
                {"secrets": {"K": "12345678"}})
    assert r["stdout"] == "len 8\n", r


# --------------------------------------------------------------------------
# Output encoding


def test_nul_bytes_in_output_are_kept(shared_daemon):
    msg, events = execute_raw(shared_daemon, sh(
        "printf 'a\\x00b\\n'; printf 'c\\x00d' >&2"), stream=True)
    r = check_result(msg["result"])
    assert stream_text(events, "stdout") == "a\x00b\n", events
    assert r["stdout"] == "a\x00b\n", r
    assert r["stderr"] == "c\x00d", r


# --------------------------------------------------------------------------
# Setup scripts


def test_setup_script_runs_before_the_code(shared_daemon):
    r = execute(shared_daemon, py(
        "import os\nprint(open('/sandbox/setup.txt').read().strip(), "
        "os.getcwd())\n",
        setupScript='echo "configured in $(pwd) as $(id -un) $GREETING" '
                    "> /sandbox/setup.txt\n",
        env={"GREETING": "hi"}, workdir="wd"))
    assert r["stdout"] == \
        "configured in /sandbox/wd as sandbox hi /sandbox/wd\n", r
    assert r["exitCode"] == 0, r


def test_setup_script_failure(shared_daemon):
    mark = marker()
    msg, events = execute_raw(shared_daemon, sh(
        f"echo code-ran-{mark}",
        setupScript="echo progress; echo 'bad thing happened' >&2; exit 3"),
        stream=True)
    err = check_invalid(msg, "Setup script failed")
    assert err["message"] == \
        "Setup script failed (exit code 3): bad thing happened\n", err
    # The code never ran.
    assert f"code-ran-{mark}" not in repr(events)
    assert not [e for e in events if e.get("phase") == "code"], events
    # isol8's events: the failure and the setup's exit code, both of the
    # setup phase, end the stream.
    tail = [{k: e[k] for k in ("type", "data", "phase")} for e in events[-2:]]
    assert tail == [{"type": "error", "phase": "setup",
                     "data": "Setup script failed (exit code 3)"},
                    {"type": "exit", "data": "3", "phase": "setup"}], events


def test_setup_script_failure_masks_secrets(shared_daemon):
    secret = "s3cr3t-" + marker()
    msg = execute_error(shared_daemon, sh(
        "true", setupScript='echo "cannot use $TOKEN" >&2; exit 5'),
        {"secrets": {"TOKEN": secret}})
    err = check_invalid(msg, "Setup script failed (exit code 5)")
    assert secret not in err["message"], err
    assert "cannot use ***" in err["message"], err


def test_setup_script_killed_by_signal(shared_daemon):
    msg = execute_error(shared_daemon, sh("true", setupScript="kill -9 $$"))
    check_invalid(msg, "Setup script failed (exit code 137)")


def test_setup_script_timeout(shared_daemon):
    r = execute(shared_daemon, sh("echo code", setupScript="sleep 30"),
                {"timeoutMs": 700})
    check_timed_out(r)
    assert "code" not in r["stdout"], r


# --------------------------------------------------------------------------
# Packages (network "none" by default: nothing to install from)


def test_install_refused_without_network(shared_daemon):
    reqs = [
        py("print('ran')", installPackages=["requests==2.31.0"]),
        {"code": "console.log('ran')", "runtime": "node",
         "installPackages": ["left-pad"]},
        {"code": "console.log('ran')", "runtime": "bun",
         "installPackages": ["left-pad"]},
    ]
    msgs = execute_many(shared_daemon, [(r, {}) for r in reqs])
    for msg in msgs:
        check_invalid(msg, "request.installPackages",
                      "enable filtered networking")


@pytest.mark.parametrize("name", [
    "bad name", "foo;rm -rf /", "$(id)", "`id`", "-e", "--index-url=x",
    "a\nb", "", "pkg>1", "npm:left-pad", "a|b",
])
def test_invalid_package_names_refused_before_running(shared_daemon, name):
    mark = marker()
    msg, events = execute_raw(shared_daemon, py(
        f"print('{mark}')", installPackages=["ok-name", name],
        setupScript=f"echo {mark}"), stream=True)
    check_invalid(msg, "request.installPackages")
    assert events == [] or all(e["type"] == "error" for e in events), events
    assert mark not in repr(events)


@pytest.mark.parametrize("name", [
    "requests", "@scope/pkg", "numpy==1.26.4", "a.b_c-d", "pkg/sub",
])
def test_valid_package_names_pass_the_check(shared_daemon, name):
    # Names that pass the check but must never get far: bash has no
    # package manager, which is reported only after the names were checked.
    msg = execute_error(shared_daemon, sh("true", runtime="bash",
                                          installPackages=[name]))
    check_invalid(msg, "request.installPackages", "package manager")


def test_install_packages_must_be_strings(shared_daemon):
    msg = execute_error(shared_daemon, py("1", installPackages=["a", 7]))
    check_invalid(msg, "request.installPackages[1]")


# --------------------------------------------------------------------------
# Working directory


@pytest.mark.parametrize("workdir,pwd", [
    ("sub/dir", "/sandbox/sub/dir"),
    ("/sandbox", "/sandbox"),
    ("/sandbox/a/../b", "/sandbox/b"),
    ("./x//y/", "/sandbox/x/y"),
    ("/sandbox/already", "/sandbox/already"),
])
def test_workdir(shared_daemon, workdir, pwd):
    r = execute(shared_daemon, sh(
        "pwd; cat /sandbox/in.txt; stat -c %U .",
        workdir=workdir, files={"in.txt": "input\n",
                                "already/f": "exists"}))
    assert r["stdout"] == f"{pwd}\ninput\nsandbox\n", r


@pytest.mark.parametrize("workdir", [
    "/tmp", "/", "/etc", "../etc", "/sandbox/../etc", "/sandboxx",
    "/sandbox/../../sandbox2", "..", "/tmp/../..",
])
def test_workdir_outside_sandbox(shared_daemon, workdir):
    msg = execute_error(shared_daemon, sh("pwd", workdir=workdir))
    err = check_invalid(msg)
    assert err["message"] == "Working directory must be inside /sandbox", err


def test_workdir_that_is_a_file(shared_daemon):
    msg = execute_error(shared_daemon, sh(
        "pwd", workdir="wd", files={"wd": "a file"}))
    check_invalid(msg, "working directory", "/sandbox/wd")


# --------------------------------------------------------------------------
# Runtime detection


DETECT = [
    (".py", "python", "import sys\nprint('py', sys.version_info[0])",
     "py 3\n"),
    ("py", "python", "print('no dot')", "no dot\n"),
    (".js", "node", "console.log('js', typeof require)", "js function\n"),
    (".mjs", "node", "import os from 'node:os';\n"
     "console.log('mjs', typeof os.cpus, typeof require)",
     "mjs function undefined\n"),
    (".cjs", "node", "const os = require('os');\n"
     "console.log('cjs', typeof os.cpus)", "cjs function\n"),
    (".ts", "bun", "const n: number = 1;\n"
     "console.log('ts', typeof Bun, n)", "ts object 1\n"),
    (".mts", "deno", "const n: number = 2;\n"
     "console.log('mts', typeof Deno, n)", "mts object 2\n"),
    (".sh", "bash", "echo sh ${BASH_VERSION:+bash}", "sh bash\n"),
]


def test_runtime_detected_from_the_extension(shared_daemon):
    msgs = execute_many(shared_daemon, [
        ({"code": code, "fileExtension": ext}, None)
        for ext, _, code, _ in DETECT])
    for (ext, runtime, _, out), msg in zip(DETECT, msgs):
        assert "error" not in msg, (ext, msg)
        r = check_result(msg["result"])
        assert r["runtime"] == runtime, (ext, r)
        assert r["stdout"] == out, (ext, r)
        assert r["exitCode"] == 0, (ext, r)


def test_code_is_written_with_its_extension(shared_daemon):
    a, b = results_of(execute_many(shared_daemon, [
        ({"code": "print(__file__)", "fileExtension": ".py"}, None),
        ({"code": "print(__file__)", "runtime": "python"}, None)]))
    assert a["stdout"] == "/sandbox/main.py\n", a
    assert b["stdout"] == "/sandbox/main.py\n", b


def test_explicit_runtime_wins_over_the_extension(shared_daemon):
    r = execute(shared_daemon, {"code": "echo $0", "runtime": "bash",
                                "fileExtension": ".py"})
    assert r["runtime"] == "bash", r
    assert r["stdout"] == "/sandbox/main.py\n", r


@pytest.mark.parametrize("ext", [".rb", "go", ".txt"])
def test_unknown_extension(shared_daemon, ext):
    msg = execute_error(shared_daemon, {"code": "x", "fileExtension": ext})
    err = check_invalid(msg, "Cannot detect runtime for",
                        ext.lstrip("."), "--runtime")
    assert err["message"].startswith("Cannot detect runtime for "), err


@pytest.mark.parametrize("name", ["ruby", "Python", "", "node "])
def test_unknown_runtime(shared_daemon, name):
    msg = execute_error(shared_daemon, {"code": "x", "runtime": name})
    err = check_invalid(msg)
    assert err["message"] == (f'Unknown runtime: "{name}". Available: '
                              "python, node, bun, deno, bash"), err


def test_no_runtime_and_no_extension(shared_daemon):
    msg = execute_error(shared_daemon, {"code": "print(1)"})
    check_invalid(msg, "request.runtime")


def test_deno_inline_code(shared_daemon):
    r = execute(shared_daemon, {
        "code": "const xs: number[] = [1, 2, 3];\n"
                "console.log(xs.map((x) => x * 2).join(','), "
                "Deno.cwd());\n", "runtime": "deno"})
    assert r["stdout"] == "2,4,6 /sandbox\n", r
    assert r["runtime"] == "deno"


# --------------------------------------------------------------------------
# Files in and out


def test_files_written_as_the_box_user_with_parents(shared_daemon):
    r = execute(shared_daemon, sh(
        "stat -c '%n %U %a %s' a.txt deep/er/b.txt /tmp/x/y/c.txt "
        "/sandbox/nul.bin empty; stat -c '%U' deep deep/er /tmp/x",
        files={"a.txt": "A", "deep/er/b.txt": "BB",
               "/tmp/x/y/c.txt": "CCC", "/sandbox/nul.bin": "a\x00b",
               "empty": ""}))
    assert r["stdout"] == (
        "a.txt sandbox 644 1\n"
        "deep/er/b.txt sandbox 644 2\n"
        "/tmp/x/y/c.txt sandbox 644 3\n"
        "/sandbox/nul.bin sandbox 644 3\n"
        "empty sandbox 644 0\n"
        "sandbox\nsandbox\nsandbox\n"), r


def test_output_paths(shared_daemon):
    r = execute(shared_daemon, sh(
        "printf hi > /sandbox/f; mkdir -p /sandbox/d/e; "
        "printf deep > /sandbox/d/e/g; printf t > /tmp/t; "
        "ln -s /etc/passwd /sandbox/to-etc; ln -s /sandbox/f /sandbox/to-f; "
        "mkfifo /sandbox/fifo; : > /sandbox/empty",
        outputPaths=["f", "/sandbox/d/e/g", "/tmp/t", "/sandbox/d",
                     "/sandbox/to-etc", "/sandbox/to-f", "/sandbox/fifo",
                     "/sandbox/missing", "/sandbox/empty"]))
    assert r["exitCode"] == 0, r
    # Missing files, directories, symlinks and fifos are left out.
    assert r.get("files") == {
        "/sandbox/f": b64("hi"),
        "/sandbox/d/e/g": b64("deep"),
        "/tmp/t": b64("t"),
        "/sandbox/empty": "",
    }, r.get("files")


def test_output_paths_of_a_timed_out_run(shared_daemon):
    # The result still comes (with or without the files) and is marked.
    r = execute(shared_daemon, sh("printf x > /sandbox/o; sleep 30",
                                  outputPaths=["/sandbox/o"]),
                {"timeoutMs": 600})
    check_timed_out(r)
    assert r.get("files", {}) in ({}, {"/sandbox/o": b64("x")}), r


def test_sandbox_and_tmp_sizes(shared_daemon):
    r = execute(shared_daemon, sh(
        "df -k --output=size /sandbox /tmp | tail -n 2; "
        "(head -c 12m /dev/zero > /sandbox/big) 2>/dev/null; echo $?; "
        "touch /not-allowed 2>/dev/null; echo $?"),
        {"sandboxSize": "8m", "tmpSize": "4m", "cpuLimit": 0.5})
    lines = r["stdout"].split()
    # 12 MB do not fit in an 8 MB /sandbox (ENOSPC or SIGXFSZ); / is
    # read-only.
    assert lines[:2] == ["8192", "4096"], r
    assert lines[2] != "0" and lines[3] == "1", r


# --------------------------------------------------------------------------
# Many at once


def test_pipelined_executions_on_one_connection(shared_daemon):
    with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
        ids = [c.send("execute", params_of(sh(
            f"sleep 0.$((RANDOM % 3)); echo job-{n}; exit {n}")))
            for n in range(6)]
        got = {}
        for _ in ids:
            msg = c.recv()
            assert "method" not in msg, msg
            got[msg["id"]] = check_result(msg["result"])
    assert sorted(got) == sorted(ids)
    for n, i in enumerate(ids):
        assert got[i]["stdout"] == f"job-{n}\n", got[i]
        assert got[i]["exitCode"] == n, got[i]
    assert len({r["executionId"] for r in got.values()}) == 6


# --------------------------------------------------------------------------
# Invalid fields: invalid_argument naming the field, nothing runs


INVALID = [
    # (params, words the message must hold)
    ({}, ["request"]),
    ({"request": "print(1)"}, ["request"]),
    ({"request": {"code": "1", "runtime": "python"}, "options": []},
     ["options"]),
    ({"request": {"code": "1", "runtime": "python"}, "bogus": 1},
     ["bogus"]),
    ({"request": {"colde": "1", "runtime": "python"}}, ["request.colde"]),
    ({"request": {"code": 1, "runtime": "python"}}, ["request.code"]),
    ({"request": {"cmd": ["ls"]}}, ["request.cmd"]),
    ({"request": {"code": "1", "cmd": "ls", "runtime": "python"}},
     ["code", "cmd"]),
    ({"request": {"runtime": "python"}}, ["code", "cmd"]),
    ({"request": {"code": "1", "runtime": 3}}, ["request.runtime"]),
    ({"request": {"codeUrl": "https://example.com/x.py"}},
     ["request.codeUrl"]),
    ({"request": {"code": "1", "fileExtension": "a/b"}},
     ["request.fileExtension"]),
    ({"request": {"code": "1", "fileExtension": 5}},
     ["request.fileExtension"]),
    ({"request": {"code": "1", "runtime": "python", "env": ["A=1"]}},
     ["request.env"]),
    ({"request": {"code": "1", "runtime": "python", "env": {"A": 1}}},
     ["request.env.A"]),
    ({"request": {"code": "1", "runtime": "python", "env": {"A=B": "x"}}},
     ["request.env"]),
    ({"request": {"code": "1", "runtime": "python", "env": {"": "x"}}},
     ["request.env"]),
    ({"request": {"code": "1", "runtime": "python", "stdin": 5}},
     ["request.stdin"]),
    ({"request": {"code": "1", "runtime": "python", "files": ["a"]}},
     ["request.files"]),
    ({"request": {"code": "1", "runtime": "python", "files": {"a": 1}}},
     ["request.files"]),
    ({"request": {"code": "1", "runtime": "python",
                  "files": {"/etc/passwd": "x"}}}, ["request.files"]),
    ({"request": {"code": "1", "runtime": "python",
                  "files": {"../escape": "x"}}}, ["request.files"]),
    ({"request": {"code": "1", "runtime": "python",
                  "files": {"/sandbox": "x"}}}, ["request.files"]),
    ({"request": {"code": "1", "runtime": "python", "outputPaths": "a"}},
     ["request.outputPaths"]),
    ({"request": {"code": "1", "runtime": "python", "outputPaths": [1]}},
     ["request.outputPaths"]),
    ({"request": {"code": "1", "runtime": "python",
                  "outputPaths": ["/etc/shadow"]}}, ["request.outputPaths"]),
    ({"request": {"code": "1", "runtime": "python",
                  "installPackages": "requests"}},
     ["request.installPackages"]),
    ({"request": {"code": "1", "runtime": "python", "setupScript": 1}},
     ["request.setupScript"]),
    ({"request": {"code": "1", "runtime": "python", "workdir": 1}},
     ["request.workdir"]),
    ({"request": {"code": "1", "runtime": "python", "metadata": "m"}},
     ["request.metadata"]),
    ({"request": {"code": "1", "runtime": "python", "timeoutMs": 0}},
     ["request.timeoutMs"]),
    ({"request": {"code": "1", "runtime": "python", "timeoutMs": "100"}},
     ["request.timeoutMs"]),
    ({"request": {"code": "1", "runtime": "python", "timeoutMs": 1.5}},
     ["request.timeoutMs"]),
    ({"request": {"code": "1", "runtime": "python", "timeoutMs": -5}},
     ["request.timeoutMs"]),
    ({"options": {"timeoutMs": 0}}, ["options.timeoutMs"]),
    ({"options": {"timeoutMs": True}}, ["options.timeoutMs"]),
    ({"options": {"memoryLimit": "lots"}}, ["memory limit", "lots"]),
    ({"options": {"memoryLimit": "1m"}}, ["options.memoryLimit"]),
    ({"options": {"memoryLimit": -1}}, ["memory limit"]),
    ({"options": {"pidsLimit": 0}}, ["options.pidsLimit"]),
    ({"options": {"pidsLimit": "many"}}, ["options.pidsLimit"]),
    ({"options": {"cpuLimit": 0}}, ["options.cpuLimit"]),
    ({"options": {"cpuLimit": -1.5}}, ["options.cpuLimit"]),
    ({"options": {"cpuLimit": "1"}}, ["options.cpuLimit"]),
    ({"options": {"maxOutputSize": "abc"}}, ["options.maxOutputSize"]),
    ({"options": {"maxOutputSize": 0}}, ["options.maxOutputSize"]),
    ({"options": {"sandboxSize": "1k"}}, ["options.sandboxSize"]),
    ({"options": {"tmpSize": "zz"}}, ["options.tmpSize"]),
    ({"options": {"readonlyRootFs": "yes"}}, ["options.readonlyRootFs"]),
    ({"options": {"logNetwork": 1}}, ["options.logNetwork"]),
    ({"options": {"secrets": ["A"]}}, ["options.secrets"]),
    ({"options": {"secrets": {"A": 5}}}, ["options.secrets.A"]),
    ({"options": {"network": "host"}},
     ["options.network", "host", "network.allowHost"]),
    ({"options": {"network": "everywhere"}},
     ["options.network", "\"filtered\""]),
    ({"options": {"network": "filtered",
                  "networkFilter": {"whitelist": ["ok", "("]}}},
     ["options.networkFilter.whitelist[1]"]),
    ({"options": {"network": "filtered",
                  "networkFilter": {"blacklist": "x"}}},
     ["options.networkFilter.blacklist", "array"]),
    ({"options": {"network": 5}}, ["options.network"]),
    ({"options": {"networkFilter": "x"}}, ["options.networkFilter"]),
    ({"options": {"security": "strict"}}, ["options.security"]),
    ({"options": {"security": {"seccomp": "weird"}}},
     ["options.security.seccomp"]),
    ({"options": {"security": {"seccomp": "custom"}}},
     ["options.security.customProfilePath"]),
    ({"options": {"security": {"sekcomp": "strict"}}},
     ["options.security.sekcomp"]),
    ({"options": {"image": "ubuntu:latest"}}, ["options.image", "moving"]),
    ({"options": {"memLimit": "1g"}}, ["options.memLimit"]),
]


@pytest.mark.parametrize("params,words", INVALID, ids=[
    f"{i:02d}-{words[0].replace(' ', '_')}"
    for i, (_, words) in enumerate(INVALID)])
def test_invalid_field(shared_daemon, params, words):
    mark = marker()
    p = dict(params)
    if "request" not in p and "options" in p:
        p["request"] = {"cmd": f"echo {mark}"}
    with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
        p["stream"] = True
        msg, events = call_execute(c, p)
        check_invalid(msg, *words)
        assert mark not in repr(events), events
        # The connection stays usable.
        assert c.result("health")["status"] == "ok"


def test_stream_must_be_boolean(shared_daemon):
    with shared_daemon.client() as c:
        msg = c.call("execute", {"request": {"cmd": "true"},
                                 "stream": "yes"})
    check_error(msg, -32602, kind="invalid_argument", id=msg.get("id"),
                words=["stream"])


def test_invalid_requests_start_nothing(shared_daemon):
    # A burst of invalid requests: all refused, the daemon keeps serving.
    with shared_daemon.client(timeout=REPLY_TIMEOUT) as c:
        ids = []
        for p, _ in INVALID:
            if "options" in p and "request" not in p:
                p = dict(p, request={"cmd": "true"})
            ids.append(c.send("execute", p))
        seen = set()
        for _ in ids:
            msg = c.recv()
            assert "error" in msg, msg
            seen.add(msg["id"])
        assert seen == set(ids)
    shared_daemon.health()


# --------------------------------------------------------------------------
# Leaks


def test_no_leaks_after_a_batch(start_daemon):
    d = start_daemon()
    dirs = daemon_cgroup_dirs(d.pid)
    assert "memory" in dirs or "unified" in dirs, \
        f"no isol8d-{d.pid} cgroup found below the daemon's own: {dirs}"
    if "unified" not in dirs:
        assert {"memory", "pids"} <= set(dirs), dirs

    # Warm up (lazily created resources), then take the baseline with no
    # client connected.
    execute(d, sh("echo warm"))
    assert wait_until(lambda: not children_of(d.pid) and not any(
        box_cgroups(dirs).values()), 15.0, interval=0.05), \
        "the warm-up box did not go away"
    base_fds = d.baseline_fds()
    before = leak_snapshot(d, dirs)
    assert before["fds"] == base_fds

    # While a box runs, it is visible in every count we compare: this is
    # what makes the comparison below mean something.
    mark = marker()
    c = d.client(timeout=REPLY_TIMEOUT)
    c.send("execute", params_of(sh(f"exec -a {mark} sleep 300")))
    assert wait_until(lambda: pids_with_marker(mark), 10.0)
    during = leak_snapshot(d, dirs)
    assert during["children"] > before["children"], (before, during)
    for ctl, boxes in during["cgroups"].items():
        assert len(boxes) > len(before["cgroups"][ctl]), (ctl, during)
    c.close()  # cancels it
    assert_no_marker_processes(mark)

    batch = [
        (sh("echo ok"), None),
        (py("print('ok')"), None),
        ({"code": "console.log(1)", "runtime": "node"}, None),
        (sh("exit 3"), None),
        (sh("pwd", workdir="/etc"), None),                     # refused
        (sh("pwd", workdir="wd", files={"wd": "x"}), None),    # box fails
        (sh("true", setupScript="exit 2"), None),              # setup fails
        (sh("sleep 30"), {"timeoutMs": 500}),                  # timeout
        (sh("sleep 30", setupScript="sleep 30"), {"timeoutMs": 500}),
        (py("a=[]\nwhile True: a.append(bytearray(1<<20))"),
         {"memoryLimit": "32m"}),                              # OOM
        (sh("f() { f | f & }; f; sleep 30"),
         {"pidsLimit": 8, "timeoutMs": 800}),                  # fork bomb
        (sh("true", installPackages=["bad name"]), None),     # refused
        (sh("head -c 3m /dev/zero", outputPaths=["/sandbox/x"],
            files={"x": "y"}), None),                          # truncated
        ({"code": "x", "runtime": "ruby"}, None),              # refused
    ]
    msgs = execute_many(d, batch)
    assert sum("error" in m for m in msgs) == 5, msgs
    # Streamed runs, one of them timing out, on one connection.
    with d.client(timeout=REPLY_TIMEOUT) as c2:
        for req, opts in ((sh("echo s"), None),
                          (sh("sleep 30"), {"timeoutMs": 400})):
            call_execute(c2, params_of(req, opts, stream=True))

    def same():
        return leak_snapshot(d, dirs) == before
    # Box teardown is asynchronous (a busy cgroup is retried later).
    wait_until(same, 15.0, interval=0.1)
    after = leak_snapshot(d, dirs)
    assert after == before, f"before {before}\nafter  {after}\n" \
        f"fds now: {sorted(os.listdir(f'/proc/{d.pid}/fd'), key=int)}"
    d.health()


def test_cpu_limit_throttles(shared_daemon):
    """Two processes spinning for 1.2 s of wall time under cpuLimit 0.25
    get about 0.3 s of CPU together, far from the 2.4 s they would get
    unthrottled on two cores (the margin absorbs scheduling noise)."""
    r = execute(shared_daemon, sh(
        "timeout 1.2 bash -c 'while :; do :; done' & "
        "timeout 1.2 bash -c 'while :; do :; done'; wait"),
        {"cpuLimit": 0.25, "timeoutMs": 10000})
    cpu = r["resourceUsage"]["cpuTimeMs"]
    assert 100 < cpu < 900, r["resourceUsage"]
