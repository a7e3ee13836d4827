"""isol8ctl remote mode: run and session commands with --host/--key against
isol8ctl serve in front of a real isol8d, with the same output and exit
codes as through the socket, and isol8's client's error texts."""

import json
import re
import socket
import subprocess
import time

from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import BUILD, run_ctl

USAGE = 2
FAILURE = 1
UNREACHABLE = 69


def remote(b, *args, key=None, env=None, timeout=60):
    """isol8ctl ARGS --host URL --key KEY (b.key unless key says); the
    caller's $ISOL8_API_KEY is not let through unless env sets it."""
    e = {"ISOL8_API_KEY": ""}
    e.update(env or {})
    argv = list(args) + ["--host", b.url]
    if key is not False:
        argv += ["--key", key or b.key]
    return run_ctl(*argv, env=e, timeout=timeout)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout!r}" \
        f"\nstderr: {p.stderr!r}"
    return p


def closed_port():
    """A port on 127.0.0.1 with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote_session_ids(b):
    p = ok(remote(b, "session", "list", "--json"))
    return [s["id"] for s in json.loads(p.stdout)]


# --------------------------------------------------------------------------
# run


def test_run_python_hello(daemon, start_bridge):
    b = start_bridge(daemon, key="k")
    p = ok(remote(b, "run", "-e", "print('hello')"))
    assert p.stdout == "hello\n" and p.stderr == "", p


def test_exit_code_and_stderr(daemon, start_bridge):
    b = start_bridge(daemon)
    p = remote(b, "run", "-e",
               "import sys\nprint('out')\nprint('err', file=sys.stderr)\n"
               "sys.exit(7)")
    assert p.returncode == 7, p
    assert p.stdout == "out\n" and p.stderr == "err\n", p


def test_the_socket_is_not_used(daemon, start_bridge):
    b = start_bridge(daemon)
    p = ok(remote(b, "--socket", "/nonexistent/isol8.sock", "run", "--cmd",
                  "echo via http"))
    assert p.stdout == "via http\n", p


def test_same_output_as_local(daemon, start_bridge):
    b = start_bridge(daemon)
    code = ("import sys\nfor i in range(3):\n    print(i)\n"
            "    print(-i, file=sys.stderr)\nsys.exit(3)")
    local = run_ctl("run", "-e", code, socket_path=daemon.socket_path,
                    timeout=60)
    for extra in ((), ("--no-stream",)):
        p = remote(b, "run", "-e", code, *extra)
        assert (p.returncode, p.stdout, p.stderr) == \
            (local.returncode, local.stdout, local.stderr), (extra, p)


def test_streamed_in_order_as_it_runs(daemon, start_bridge):
    b = start_bridge(daemon)
    code = ("import time\nfor i in range(5):\n    print(i, flush=True)\n"
            "    time.sleep(0.3)\n")
    proc = subprocess.Popen(
        [str(BUILD / "isol8ctl"), "run", "--host", b.url, "--key", b.key,
         "-e", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True)
    arrived = []
    try:
        for line in proc.stdout:
            arrived.append((time.monotonic(), line))
        err = proc.stderr.read()
        assert proc.wait(30) == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert [line for _, line in arrived] == ["0\n", "1\n", "2\n", "3\n",
                                             "4\n"]
    # Each line came as it was printed, not all at the end.
    assert arrived[-1][0] - arrived[0][0] > 0.8, arrived


def test_json_result(daemon, start_bridge):
    b = start_bridge(daemon)
    p = ok(remote(b, "run", "--json", "-e", "print(6 * 7)"))
    result = json.loads(p.stdout)
    assert result["stdout"] == "42\n" and result["exitCode"] == 0, result


def test_timeout(daemon, start_bridge):
    b = start_bridge(daemon)
    p = remote(b, "run", "--timeout", "500", "-e",
               "import time\nprint('before', flush=True)\ntime.sleep(10)")
    assert p.returncode == 137, p
    assert p.stdout == "before\n", p
    assert p.stderr.splitlines()[-1] == "EXECUTION TIMED OUT", p


def test_failed_setup_is_a_stream_failure(daemon, start_bridge):
    b = start_bridge(daemon)
    p = remote(b, "run", "--setup", "exit 4", "-e", "print(1)")
    # As isol8's CLI: the setup's exit event comes after its error.
    assert p.returncode == 4, p
    # Said once, though the daemon's error event and its error answer
    # both come through the bridge; the event has isol8's text.
    assert p.stderr == "[ERR] Stream failed: Setup script failed (exit " \
        "code 4)\n", p
    # Buffered, isol8's execute() throws and its CLI exits 1.
    p = remote(b, "run", "--no-stream", "--setup", "echo why >&2; exit 4",
               "-e", "print(1)")
    assert p.returncode == FAILURE, p
    assert "Setup script failed (exit code 4): why" in p.stderr, p


def test_log_network_as_local(daemon, start_bridge):
    b = start_bridge(daemon)
    code = ("import urllib.request\ntry:\n"
            "    urllib.request.urlopen('http://blocked.example/x', "
            "timeout=5)\nexcept Exception as e:\n    print('refused')\n")
    args = ("--net", "filtered", "--deny", "blocked", "--log-network", "-e",
            code)
    local = run_ctl("run", *args, socket_path=daemon.socket_path, timeout=60)
    p = remote(b, "run", *args)
    for q in (local, p):
        assert q.returncode == 0 and q.stdout == "refused\n", q
        lines = q.stderr.splitlines()
        assert lines[0] == "--- Network Logs ---", q
        logs = [json.loads(ln) for ln in lines[1:]]
        assert [(x["host"], x["action"]) for x in logs] == \
            [("blocked.example", "BLOCK")], q


def test_persistent_session_lasts_one_run(daemon, start_bridge):
    b = start_bridge(daemon)
    p = ok(remote(b, "run", "--persistent", "-r", "bash", "-e",
                  "echo kept"))
    assert p.stdout == "kept\n", p
    made = re.search(r"Session ID: (cli-\d+)", p.stderr)
    assert made, p.stderr
    # As isol8's client does, the made-up session goes with its run.
    assert remote_session_ids(b) == []


def test_out_files(daemon, start_bridge, tmp_path, monkeypatch):
    b = start_bridge(daemon)
    write = "open('o.txt', 'w').write('from the box')"
    monkeypatch.chdir(tmp_path)
    # A stream carries no files: they are read from a session after it.
    p = remote(b, "run", "--fetch", "o.txt", "-e", write)
    assert p.returncode == USAGE, p
    assert p.stderr == "[ERR] File operations require a sessionId " \
        "(persistent mode)\n", p
    ok(remote(b, "run", "--session-id", "outs", "--fetch", "o.txt", "-e",
              write))
    assert (tmp_path / "o.txt").read_text() == "from the box"
    (tmp_path / "o.txt").unlink()
    # POST /execute answers with the result, files and all.
    ok(remote(b, "run", "--no-stream", "--fetch", "o.txt", "-e", write))
    assert (tmp_path / "o.txt").read_text() == "from the box"


# --------------------------------------------------------------------------
# sessions


def test_sessions(daemon, start_bridge, tmp_path):
    b = start_bridge(daemon)
    sid = "remote-s1"
    ok(remote(b, "run", "--session-id", sid, "-e",
              "open('kept.txt', 'w').write('still here')"))
    p = ok(remote(b, "run", "--session-id", sid, "-e",
                  "print(open('kept.txt').read())"))
    assert p.stdout == "still here\n", p
    p = ok(remote(b, "session", "exec", sid, "-e", "print('exec')"))
    assert p.stdout == "exec\n", p

    assert remote_session_ids(b) == [sid]
    p = ok(remote(b, "session", "list"))
    assert p.stdout.splitlines()[0].startswith("ID"), p
    assert any(ln.split()[0] == sid for ln in p.stdout.splitlines()[1:]), p

    data = bytes(range(256)) * 64
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    ok(remote(b, "session", "put", sid, str(src), "d/in.bin", "--mode",
              "0600"))
    back = tmp_path / "back.bin"
    ok(remote(b, "session", "get", sid, "d/in.bin", str(back)))
    assert back.read_bytes() == data
    p = ok(remote(b, "run", "--session-id", sid, "-e",
                  "import os; print(oct(os.stat('d/in.bin').st_mode & 0o777)"
                  ")"))
    assert p.stdout == "0o600\n", p

    p = ok(remote(b, "session", "set-timeout", sid, "100"))
    assert re.fullmatch(rf"{sid} expires \d{{4}}-\d\d-\d\dT\S+Z\n",
                        p.stdout), p
    p = ok(remote(b, "session", "set-timeout", sid, "0"))
    assert p.stdout == f"{sid} expires never (no idle timeout)\n", p

    ok(remote(b, "session", "rm", sid))
    assert remote_session_ids(b) == []
    p = remote(b, "session", "get", sid, "d/in.bin")
    assert p.returncode == FAILURE, p
    assert re.fullmatch(r'isol8ctl: File download failed: [^{]*\n',
                        p.stderr), p


def test_session_create_refused(daemon, start_bridge):
    b = start_bridge(daemon)
    p = remote(b, "session", "create")
    assert p.returncode == USAGE, p
    assert "first execution" in p.stderr, p
    assert f"run --host {b.url} --session-id ID" in p.stderr, p
    assert remote_session_ids(b) == []


# --------------------------------------------------------------------------
# failures


def test_health_check_failure():
    url = f"http://127.0.0.1:{closed_port()}"
    p = run_ctl("run", "--host", url, "--key", "k", "-e", "print(1)")
    assert p.returncode == UNREACHABLE, p
    assert p.stderr.startswith("[ERR] Remote server health check failed: "), p
    assert "Couldn't connect to server" in p.stderr, p
    p = run_ctl("session", "list", "--host", url, "--key", "k")
    assert p.returncode == UNREACHABLE, p
    assert p.stderr.startswith("isol8ctl: Failed to list sessions: "), p


def test_wrong_key_shows_the_403(daemon, start_bridge):
    b = start_bridge(daemon)
    p = remote(b, "run", "-e", "print(1)", key="not-the-key")
    assert p.returncode == FAILURE, p
    assert p.stderr == '[ERR] Stream failed: Invalid API key\n', p
    p = remote(b, "session", "list", key="not-the-key")
    assert p.returncode == FAILURE, p
    assert p.stderr == 'isol8ctl: Failed to list sessions: ' \
        'Invalid API key\n', p


def test_key_from_the_environment(daemon, start_bridge):
    b = start_bridge(daemon)
    p = ok(remote(b, "run", "-e", "print(1)", key=False,
                  env={"ISOL8_API_KEY": b.key}))
    assert p.stdout == "1\n"
    p = remote(b, "run", "-e", "print(1)", key=False)
    assert p.returncode == FAILURE, p
    assert p.stderr == "[ERR] API key required. Use --key, " \
        "ISOL8_API_KEY env var, or `isol8ctl login`.\n", p
    p = run_ctl("run", "--key", "k", "-e", "print(1)",
                socket_path=daemon.socket_path)
    assert p.returncode == USAGE and "--host" in p.stderr, p


def test_bad_request_shows_the_400(daemon, start_bridge):
    b = start_bridge(daemon)
    p = remote(b, "run", "--net", "bogus", "-e", "print(1)")
    assert p.returncode == FAILURE, p
    assert re.fullmatch(r'\[ERR\] Stream failed: options\.network: '
                        r'[^{]*\n', p.stderr), p
    p = remote(b, "run", "--no-stream", "--net", "bogus", "-e", "print(1)")
    assert p.returncode == FAILURE, p
    assert p.stderr.startswith('[ERR] Execution failed: '
                               'options.network: '), p


def test_the_answers_error_text_is_shown_whole(daemon, start_bridge):
    """As isol8's client: the error member of the answer, not the body."""
    b = start_bridge(daemon)
    # The daemon names the bad package in its message.
    p = remote(b, "run", "--net", "filtered", "--install", "no such " * 60,
               "-e", "print(1)")
    assert p.returncode == FAILURE, p
    m = re.fullmatch(r"\[ERR\] Stream failed: (.*)\n", p.stderr)
    assert m and "no such no such" in m.group(1), p
    assert '{"error"' not in p.stderr, p


def test_busy_shows_the_429(start_daemon, start_bridge):
    d = start_daemon(config={"maxSessions": 1})
    b = start_bridge(d)
    ok(remote(b, "run", "--session-id", "first", "-e", "print(1)"))
    p = remote(b, "run", "--session-id", "second", "-e", "print(1)")
    assert p.returncode == FAILURE, p
    assert re.fullmatch(r'\[ERR\] Stream failed: [^{]*maxSessions[^{]*\n',
                        p.stderr), p
    assert remote_session_ids(b) == ["first"]


# --------------------------------------------------------------------------
# usage


def test_help_mentions_host_and_key():
    for cmd in (("run",), ("session",)):
        p = ok(run_ctl(*cmd, "--help"))
        assert "--host URL" in p.stdout and "--key KEY" in p.stdout, cmd
