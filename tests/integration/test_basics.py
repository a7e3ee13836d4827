"""health, version and config.get over a raw socket and through isol8ctl;
socket selection; the unreachable-daemon message; --help everywhere."""

import json
import os
import re
import socket
import stat
import subprocess

import pytest

from isol8_harness import (BUILD, DEFAULT_CONFIG, isol8d_version,
                           run_ctl, short_tmpdir)

CTL_COMMANDS = ("health", "version", "daemon-config", "config", "run",
                "cleanup")


@pytest.fixture(scope="module")
def version():
    return isol8d_version()


def test_health_raw(daemon, version):
    with daemon.client() as c:
        msg = c.call("health", id=1)
    assert set(msg) == {"jsonrpc", "id", "result"}, msg
    r = msg["result"]
    assert r["status"] == "ok"
    assert r["version"] == version
    assert isinstance(r["uptimeMs"], int) and 0 <= r["uptimeMs"] < 600_000
    assert r["cgroupMode"] in ("v1", "v2", "hybrid", "unknown")
    assert isinstance(r["features"], dict)
    assert r["features"].get("kernel") == os.uname().release
    assert r["connections"] == 1


def test_version_raw(daemon, version):
    with daemon.client() as c:
        r = c.result("version")
    assert r["version"] == version
    assert r["protocol"] == 1


def test_config_get_defaults_and_command_line(daemon):
    if daemon.config_path is not None:
        pytest.skip(f"{DEFAULT_CONFIG} exists on this machine")
    with daemon.client() as c:
        r = c.result("config.get")
    assert r["file"] is None
    assert r["config"]["server"]["socket"] == str(daemon.socket_path)
    assert r["sources"]["server.socket"] == "command line"
    assert r["sources"]["server.maxConnections"] == "default"
    assert r["config"]["server"]["maxConnections"] == 1024
    assert r["config"]["server"]["maxFrameBytes"] == 16 * 1024 * 1024
    # Every key has a source, and every source is one of the three kinds.
    assert set(r["sources"].values()) <= {"default", "command line"}
    assert len(r["sources"]) >= 20


def test_config_get_sources_from_file(start_daemon):
    d = start_daemon(config={"server": {"maxConnections": 77,
                                        "idleTimeoutMs": 120000},
                             "defaults": {"memoryLimit": "1g"}})
    path = str(d.config_path)
    with d.client() as c:
        r = c.result("config.get")
    assert r["file"] == path
    s, cfg = r["sources"], r["config"]
    assert s["server.maxConnections"] == path
    assert s["server.idleTimeoutMs"] == path
    assert s["defaults.memoryLimit"] == path
    assert s["server.socket"] == "command line"
    assert s["server.maxFrameBytes"] == "default"
    assert cfg["server"]["maxConnections"] == 77
    assert cfg["defaults"]["memoryLimit"] == 1024 ** 3

    # isol8ctl daemon-config: one key a line with its source.
    out = d.ctl("daemon-config")
    assert out.returncode == 0, out.stderr
    assert f"# config file: {path}" in out.stdout
    lines = {ln.split()[0]: ln for ln in out.stdout.splitlines()
             if ln and not ln.startswith("#")}
    assert "77" in lines["server.maxConnections"]
    assert lines["server.maxConnections"].rstrip().endswith(f"({path})")
    assert lines["server.socket"].rstrip().endswith("(command line)")
    assert lines["server.maxFrameBytes"].rstrip().endswith("(default)")

    out = d.ctl("daemon-config", "--json")
    assert out.returncode == 0, out.stderr
    j = json.loads(out.stdout)
    assert j == r


def test_socket_file_mode(daemon):
    st = os.stat(daemon.socket_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    try:
        import grp
        gid = grp.getgrnam("isol8").gr_gid
    except KeyError:
        gid = None
    if gid is not None:
        assert st.st_gid == gid


def test_ctl_health(daemon, version):
    out = daemon.ctl("health")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert "status:   ok" in out.stdout
    assert f"version:  {version}" in out.stdout
    assert os.uname().release in out.stdout

    out = daemon.ctl("health", "--json")
    assert out.returncode == 0, out.stderr
    j = json.loads(out.stdout)
    assert j["status"] == "ok" and j["version"] == version


def test_ctl_version(daemon, version):
    out = daemon.ctl("version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"isol8ctl {version}",
                                       f"isol8d {version}"]
    out = daemon.ctl("version", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["version"] == version


def test_ctl_socket_from_env_and_flag(daemon, tmp_path):
    missing = "/tmp/isol8-no-such-dir/none.sock"
    # ISOL8_SOCKET alone.
    out = run_ctl("health", env={"ISOL8_SOCKET": str(daemon.socket_path)})
    assert out.returncode == 0, out.stderr
    # The flag wins over the environment, before or after the command.
    out = run_ctl("--socket", daemon.socket_path, "health",
                  env={"ISOL8_SOCKET": missing})
    assert out.returncode == 0, out.stderr
    out = run_ctl("health", "--socket", daemon.socket_path,
                  env={"ISOL8_SOCKET": missing})
    assert out.returncode == 0, out.stderr
    # And the environment is really used: pointing it elsewhere fails.
    out = run_ctl("health", env={"ISOL8_SOCKET": missing})
    assert out.returncode == 69
    assert missing in out.stderr


def _assert_unreachable_message(out, path, errtext):
    assert out.returncode == 69, (out.returncode, out.stderr)
    assert out.stdout == ""
    lines = out.stderr.strip("\n").split("\n")
    assert len(lines) == 1, f"expected one line, got {out.stderr!r}"
    line = lines[0]
    assert str(path) in line
    assert errtext in line, line
    # How to start the daemon.
    assert "start" in line and ("systemctl" in line or "make run" in line), \
        line


def test_ctl_missing_socket():
    d = short_tmpdir()
    try:
        path = d / "absent.sock"
        for cmd in ("health", "version", "daemon-config"):
            out = run_ctl(cmd, socket_path=path)
            _assert_unreachable_message(out, path, os.strerror(2))
    finally:
        d.rmdir()


def test_ctl_socket_nobody_listens():
    d = short_tmpdir()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path = d / "dead.sock"
        s.bind(str(path))  # bound, never listening: ECONNREFUSED
        out = run_ctl("health", socket_path=path)
        _assert_unreachable_message(out, path, os.strerror(111))
    finally:
        s.close()
        for p in d.iterdir():
            p.unlink()
        d.rmdir()


def test_ctl_help():
    env = {"ISOL8_SOCKET": "/tmp/isol8-no-such-dir/none.sock"}
    out = run_ctl("--help", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: isol8ctl")
    for cmd in CTL_COMMANDS:
        assert cmd in out.stdout
    for cmd in CTL_COMMANDS:
        out = run_ctl(cmd, "--help", env=env)
        assert out.returncode == 0, (cmd, out.stderr)
        assert out.stdout.startswith(f"Usage: isol8ctl {cmd}"), \
            (cmd, out.stdout[:200])
        assert out.stderr == ""


def test_ctl_usage_errors():
    # As isol8: no command prints the help, a request like any other.
    out = run_ctl()
    assert out.returncode == 0 and out.stdout.startswith("Usage: isol8ctl")
    out = run_ctl("no-such-command")
    assert out.returncode == 2
    assert "no-such-command" in out.stderr
    out = run_ctl("health", "--no-such-flag")
    assert out.returncode == 2
    out = run_ctl("--version")
    assert out.returncode == 0
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", out.stdout), out.stdout


def test_isol8d_help_and_version(version):
    exe = str(BUILD / "isol8d")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: isol8d")
    for flag in ("--config", "--socket", "--pid-file", "--check-config",
                 "--debug"):
        assert flag in out.stdout
    out = subprocess.run([exe, "--version"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0 and out.stdout.strip() == f"isol8d {version}"
    out = subprocess.run([exe, "--no-such-flag"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 2
    out = subprocess.run([exe, "stray"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 2 and "stray" in out.stderr


def test_second_daemon_on_same_socket_is_refused(daemon):
    """A second isol8d must not take over (or delete) a live socket."""
    with daemon.client() as before:
        before.result("health")
        out = subprocess.run(daemon.argv(), capture_output=True, text=True,
                             timeout=15, env=daemon.environment() |
                             {"NOTIFY_SOCKET": ""})
        assert out.returncode != 0
        assert "already" in out.stderr and str(daemon.socket_path) in \
            out.stderr, out.stderr
        assert daemon.socket_path.exists()
        before.result("health")
    daemon.health()


def test_stale_socket_file_is_replaced(start_daemon):
    """A socket file nobody listens on (a crashed daemon's) is taken over."""
    d = short_tmpdir()  # the fixture removes it with the daemon
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(d / "isol8.sock"))
    stale.close()
    daemon = start_daemon(workdir=d)
    daemon.health()


def test_debug_flag_logs_requests(start_daemon):
    d = start_daemon(args=["--debug"])
    with d.client() as c:
        c.result("health")
    assert d.stop() == 0
    log = d.stderr()
    assert "health" in log and "PEER_UID=0" in log, log


def test_requests_logged_with_peer_credentials(daemon):
    with daemon.client() as c:
        c.send("no.such.method")
        c.recv()
    # Unknown methods are logged at info level, with the peer's uid/pid.
    log = daemon.stderr()
    assert "no.such.method" in log and f"PEER_PID={os.getpid()}" in log, log
