"""isol8ctl driven with the isol8 CLI's flags and conventions (isol8 v0.20's
apps/cli/src/cli.ts): what an isol8 user's command line does here, against
a real daemon."""

import http.client
import os
import re
import signal
import socket
import subprocess

import pytest

from isol8_bridge import Bridge
from isol8_harness import BUILD, run_ctl, wait_until
from pypi_index import start_pypi_index

HOST = "127.0.0.2"


def ctl(daemon, *args, data=None, env=None, timeout=120):
    """isol8ctl --socket S ARGS, with data (or nothing) on its stdin."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("ISOL8_SOCKET", "ISOL8_API_KEY")}
    e.update(env or {})
    return subprocess.run(
        [str(BUILD / "isol8ctl"), "--socket", str(daemon.socket_path),
         *[str(a) for a in args]],
        input=data or "", capture_output=True, text=True, env=e,
        timeout=timeout)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout!r}" \
        f"\nstderr: {p.stderr!r}"
    return p


def sessions(daemon):
    with daemon.client() as c:
        return {s["id"]: s for s in
                c.result("session.list", {})["sessions"]}


# --------------------------------------------------------------------------
# run flags


def test_out_writes_the_output_of_buffered_runs(daemon, tmp_path):
    out = tmp_path / "out.txt"
    p = ok(ctl(daemon, "run", "--no-stream", "--out", out, "-e",
               "print('to the file')"))
    assert out.read_text() == p.stdout and "to the file" in p.stdout
    assert f"[Run] Output written to {out}" in p.stderr
    # No stdout, no file, as isol8.
    empty = tmp_path / "empty.txt"
    ok(ctl(daemon, "run", "--no-stream", "--out", empty, "--cmd", "true"))
    assert not empty.exists()
    # isol8 ignores --out when streaming; isol8ctl says so.
    streamed = tmp_path / "streamed.txt"
    p = ok(ctl(daemon, "run", "--out", streamed, "-e", "print(1)"))
    assert not streamed.exists() and p.stdout == "1\n"
    assert "--out" in p.stderr and "--no-stream" in p.stderr


def test_fetch_keeps_the_box_file_copy(daemon, tmp_path):
    p = ok(subprocess.run(
        [str(BUILD / "isol8ctl"), "--socket", str(daemon.socket_path), "run",
         "--cmd", "printf made > /sandbox/r.txt", "--fetch", "/sandbox/r.txt"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL))
    assert p.stdout == ""
    assert (tmp_path / "r.txt").read_text() == "made"


def test_setup_repeatable_and_from_a_file(daemon, tmp_path):
    script = tmp_path / "setup.sh"
    script.write_text("echo two >> /sandbox/s")
    p = ok(ctl(daemon, "run", "--setup", "echo one > /sandbox/s",
               "--setup", script, "--setup", "echo three >> /sandbox/s",
               "--cmd", "cat /sandbox/s"))
    assert p.stdout == "one\ntwo\nthree\n", p


def test_install_turns_on_filtered_networking(start_daemon):
    """No --net: the install goes through the proxy to the runtime's
    registry (the daemon's network.registry.python, here the local
    index); with --allow too, the registry is added to the allowed hosts,
    as isol8 adds its registry hosts."""
    srv, url = start_pypi_index(HOST, "isol8_cli_mod", 9)
    try:
        d = start_daemon(config={"network": {
            "allowPrivate": True, "registry": {"python": r"^127\.0\.0\.2$"}}})
        code = "import isol8_cli_mod; print(isol8_cli_mod.VALUE)"
        args = ("run", "--install", "isol8-cli-mod", "--env",
                f"PIP_INDEX_URL={url}", "--env", "PIP_RETRIES=0",
                "--timeout", "120000", "--log-network", "-e", code)
        p = ok(ctl(d, *args))
        assert p.stdout == "9\n", p
        assert f'"host":"{HOST}"' in p.stderr and '"BLOCK"' not in p.stderr
        p = ok(ctl(d, *args, "--allow", r"^example\.invalid$"))
        assert p.stdout == "9\n", p
        # An explicit --net none is kept, and refused by the daemon.
        p = ctl(d, *args, "--net", "none")
        assert p.returncode == 1 and "needs network access" in p.stderr, p
    finally:
        srv.shutdown()


def test_persistent_session_ends_with_the_run(daemon):
    p = ok(ctl(daemon, "run", "--persistent", "-r", "bash", "--cmd",
               "echo in-session"))
    assert p.stdout == "in-session\n"
    made = re.search(r"^\[Run\] Session ID: (cli-\d+)$", p.stderr, re.M)
    assert made, p.stderr
    assert sessions(daemon) == {}


def test_persistent_session_ends_on_ctrl_c(daemon):
    proc = subprocess.Popen(
        [str(BUILD / "isol8ctl"), "--socket", str(daemon.socket_path), "run",
         "--persistent", "--cmd", "echo started; sleep 60"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "started\n"
        assert len(sessions(daemon)) == 1
        proc.send_signal(signal.SIGINT)
        # As isol8's CLI: an interrupted run exits 0, its engine stopped.
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sessions(daemon) == {}


def test_explicit_session_id_is_kept(daemon):
    ok(ctl(daemon, "run", "--session-id", "mine", "--cmd", "true"))
    assert "mine" in sessions(daemon)
    ok(ctl(daemon, "session", "rm", "mine"))


def test_persist_is_its_own_flag(daemon):
    """--persist is no prefix of --persistent: it asks the daemon to keep
    the box and the run makes no session of its own."""
    p = ctl(daemon, "run", "--persist", "--cmd", "echo x")
    if p.stderr == "[ERR] options.persist: unknown field\n":
        pytest.skip("this daemon does not know options.persist yet")
    assert ok(p).stdout == "x\n"
    assert "[Run] Session ID" not in p.stderr
    kept = re.search(r"Box kept for inspection: session (\S+)", p.stderr)
    if kept:
        assert kept.group(1) in sessions(daemon)
        ok(ctl(daemon, "cleanup", "--force"))
    else:
        assert "[WARN] --persist: the server named no kept box" in p.stderr
    assert sessions(daemon) == {}


def test_long_options_exact_or_unique_prefix(daemon):
    p = ctl(daemon, "run", "--persis", "--cmd", "true")
    assert p.returncode == 2 and "ambiguous" in p.stderr, p
    p = ok(ctl(daemon, "run", "--no-str", "--cmd", "echo buffered"))
    assert p.stdout == "buffered\n"


# --------------------------------------------------------------------------
# help, version, exit codes


def test_no_arguments_prints_help():
    p = run_ctl()
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith("Usage: isol8ctl")


def test_version_is_bare():
    p = run_ctl("--version")
    assert p.returncode == 0
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", p.stdout), p.stdout


def test_help_lists_every_command():
    p = ok(run_ctl("--help"))
    listed = re.findall(r"^  (\S+) ", p.stdout, re.M)
    for cmd in ("run", "serve", "session", "cleanup", "config", "login",
                "logout", "setup", "image", "help"):
        assert cmd in listed, cmd


def test_help_command_as_isol8s():
    """isol8's `help [COMMAND]`: the program's help, or the command's."""
    p = ok(run_ctl("help"))
    assert p.stdout == ok(run_ctl("--help")).stdout
    for cmd in ("run", "session", "serve", "login", "cleanup"):
        p = ok(run_ctl("help", cmd))
        assert p.stdout == ok(run_ctl(cmd, "--help")).stdout, cmd
        assert p.stdout.startswith(f"Usage: isol8ctl {cmd}"), p.stdout
    p = run_ctl("help", "nosuch")
    assert p.returncode == 2 and "nosuch" in p.stderr, p


def test_session_stop_as_isol8s(daemon):
    ok(ctl(daemon, "run", "--session-id", "to-stop", "-e", "print(1)"))
    assert "to-stop" in sessions(daemon)
    p = ok(ctl(daemon, "session", "stop", "to-stop"))
    assert p.stdout == '[OK] Session "to-stop" destroyed.\n', p
    assert "to-stop" not in sessions(daemon)
    p = ctl(daemon, "session", "stop")
    assert p.returncode == 2 and "ID" in p.stderr, p


def test_missing_key_for_host():
    e = {k: v for k, v in os.environ.items() if k != "ISOL8_API_KEY"}
    for args in (("run", "-e", "print(1)"), ("session", "list")):
        p = subprocess.run(
            [str(BUILD / "isol8ctl"), *args, "--host", "http://127.0.0.1:9"],
            capture_output=True, text=True, env=e, timeout=15,
            stdin=subprocess.DEVNULL)
        assert p.returncode == 1, p
        assert p.stderr == "[ERR] API key required. Use --key, " \
            "ISOL8_API_KEY env var, or `isol8ctl login`.\n", p


# --------------------------------------------------------------------------
# serve


def test_serve_banner_and_busy_port_fallback(daemon):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        b = Bridge(daemon.socket_path, port=str(busy))
        try:
            assert b.port != busy
            c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=10)
            c.request("GET", "/health")
            assert c.getresponse().status == 200
            c.close()
        finally:
            assert b.stop() == 0
        assert f"[WARN] Port {busy} is in use. Falling back to available " \
            f"port {b.port}.\n" in b.stderr()


# --------------------------------------------------------------------------
# cleanup


def test_cleanup(daemon):
    p = ok(ctl(daemon, "cleanup"))
    assert p.stdout == "No isol8 sessions found\n"
    for sid in ("c-one", "c-two"):
        ok(ctl(daemon, "session", "create", "-r", "bash", "--id", sid))
    # Without --force it asks; anything but y/yes (or no answer) cancels.
    for answer in ("", "n\n", "maybe\n"):
        p = ok(ctl(daemon, "cleanup", data=answer))
        assert p.stdout.startswith("Found 2 isol8 session(s)\n"), p.stdout
        assert "c-one | bash |" in p.stdout and "c-two" in p.stdout
        assert "Remove all these sessions? [y/N] " in p.stdout
        assert p.stdout.endswith("Cleanup cancelled\n"), p.stdout
    assert set(sessions(daemon)) == {"c-one", "c-two"}
    p = ok(ctl(daemon, "cleanup", data="yes\n"))
    assert p.stdout.endswith("Removed 2 session(s)\n"), p.stdout
    assert sessions(daemon) == {}
    ok(ctl(daemon, "session", "create", "-r", "bash", "--id", "c-three"))
    p = ok(ctl(daemon, "cleanup", "--force"))
    assert "[y/N]" not in p.stdout
    assert p.stdout.endswith("Removed 1 session(s)\n"), p.stdout
    assert wait_until(lambda: sessions(daemon) == {}, 10)


def test_serve_debug_and_update(daemon):
    """isol8's serve flags: --debug prints a line per request (never the
    key), --update is accepted."""
    b = Bridge(daemon.socket_path, key="dbg-key-secret",
               args=["--debug", "--update"])
    try:
        status, _, _ = b.request("GET", "/health")
        assert status == 200
        status, _, _ = b.request("GET", "/sessions")
        assert status == 200
    finally:
        b.stop()
    err = b.stderr()
    assert re.search(r"^\[DEBUG\] GET /health -> 200 in \d+ ms$", err,
                     re.M), err
    assert re.search(r"^\[DEBUG\] GET /sessions -> 200 in \d+ ms$", err,
                     re.M), err
    assert "dbg-key-secret" not in err
