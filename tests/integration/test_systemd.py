"""systemd integration: sd_notify (READY, STATUS, WATCHDOG, STOPPING), clean
stops on SIGTERM and SIGINT, socket activation, and the unit files."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from isol8_harness import (BUILD, HEADER, REPO, NotifyListener, RpcClient,
                           frame, processes_in_group, request, run_ctl,
                           short_tmpdir, wait_until)

UNITS = REPO / "units"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_notify_and_clean_stop(start_daemon, sig):
    d = start_daemon(pid_file=True)
    ready = d.notify.wait_for("READY", "1", timeout=0)
    assert ready is not None
    status = ready.get("STATUS") or (d.notify.all("STATUS") or
                                     [(0, {})])[-1][1].get("STATUS")
    assert status, "no STATUS= with READY=1"
    assert "\n" not in status and str(d.socket_path) in status, status
    assert d.pid_file.read_text().strip() == str(d.pid)

    # Clients in every state when the signal comes.
    idle = d.client()
    idle.result("health")
    mid = d.client()
    mid.send_raw(HEADER.pack(100) + b"{")
    busy = d.client()
    busy.send_raw(b"".join(frame(request("health", id=i))
                           for i in range(200)))

    rc = d.stop(sig)
    assert rc == 0, d.stderr()
    assert d.stop_seconds < 1.0, \
        f"exit took {d.stop_seconds:.2f}s after {sig.name}"
    assert d.notify.wait_for("STOPPING", "1", timeout=1) is not None, \
        "no STOPPING=1"
    stopping_at = [t for t, f in d.notify.all("STOPPING")][0]
    ready_at = [t for t, f in d.notify.all("READY")][0]
    assert stopping_at > ready_at
    assert not d.socket_path.exists(), "socket file left behind"
    assert not d.pid_file.exists(), "pid file left behind"
    assert not processes_in_group(d.pid), "processes left behind"
    for c in (idle, mid, busy):
        assert c.drain_until_eof(timeout=1.0)
        c.close()
    assert "stopping" in d.stderr().lower()


def test_sighup_does_not_stop(start_daemon):
    d = start_daemon()
    with d.client() as c:
        c.result("health")
        os.kill(d.pid, signal.SIGHUP)
        time.sleep(0.2)
        assert d.alive(), f"SIGHUP stopped isol8d: {d.stderr()}"
        c.result("health")


def test_watchdog_pings(start_daemon):
    d = start_daemon(watchdog_usec=200_000)
    assert d.pid  # the shell exec'd into isol8d: same pid
    t_ready = d.notify.all("READY")[0][0]
    time.sleep(1.0)
    pings = [t for t, f in d.notify.all("WATCHDOG") if f["WATCHDOG"] == "1"
             and t >= t_ready]
    assert len(pings) >= 3, \
        f"{len(pings)} WATCHDOG=1 in 1s with WATCHDOG_USEC=200000"
    d.health()


def test_watchdog_other_pid_is_not_pinged(start_daemon):
    """WATCHDOG_PID naming another process: the watchdog is not ours."""
    d = start_daemon(env={"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    time.sleep(0.5)
    assert not d.notify.all("WATCHDOG")


def test_no_watchdog_without_env(start_daemon):
    d = start_daemon()
    time.sleep(0.5)
    assert not d.notify.all("WATCHDOG")


def test_logs_go_to_stderr_without_systemd(start_daemon):
    d = start_daemon()
    d.health()
    log = d.stderr()
    assert "listening on" in log and str(d.socket_path) in log, log
    assert "ready" in log


# --------------------------------------------------------------------------
# Socket activation


@pytest.fixture
def activator():
    exe = shutil.which("systemd-socket-activate")
    if not exe:
        pytest.fail("systemd-socket-activate is not installed (make deps "
                    "installs systemd)")
    started = []

    def start(*daemon_args):
        d = short_tmpdir()
        path = d / "activated.sock"
        notify = NotifyListener(d / "notify.sock")
        errf = open(d / "stderr", "wb")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))}
        # Without --accept, systemd-socket-activate binds, then execs the
        # daemon in its own process: the pid stays the same.
        proc = subprocess.Popen(
            [exe, "-l", str(path), "-E", f"NOTIFY_SOCKET={notify.path}",
             str(BUILD / "isol8d"), *daemon_args],
            stdin=subprocess.DEVNULL, stdout=errf, stderr=errf, env=env,
            start_new_session=True)
        started.append((proc, notify, errf, d))
        assert wait_until(path.exists, 5.0), "the activator did not bind"
        # systemd-socket-activate execs the daemon at the first connection
        # attempt, as systemd would start the service.
        return proc, notify, path, d

    yield start
    for proc, notify, errf, d in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        for pid in processes_in_group(proc.pid):
            os.kill(pid, signal.SIGKILL)
        notify.close()
        errf.close()
        shutil.rmtree(d, ignore_errors=True)


def test_socket_activation(activator):
    other = Path("/tmp") / f"isol8-it-not-{os.getpid()}.sock"
    proc, notify, path, d = activator("--socket", str(other))
    # A client may connect before the daemon runs: the socket exists.
    early = RpcClient(path)
    early.send("health", id="early")
    ready = notify.wait_for("READY", "1", alive=lambda: proc.poll() is None)
    assert ready is not None, (d / "stderr").read_text()
    msg = early.recv()
    assert msg["id"] == "early" and msg["result"]["status"] == "ok"
    early.close()

    out = run_ctl("health", socket_path=path)
    assert out.returncode == 0, out.stderr
    with RpcClient(path) as c:
        r = c.result("config.get")
    assert not other.exists(), "isol8d bound its own socket as well"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 0, (d / "stderr").read_text()
    assert path.exists(), \
        "isol8d removed the socket file systemd created and owns"
    assert not other.exists()
    assert notify.wait_for("STOPPING", "1", timeout=1) is not None
    assert r["sources"]["server.socket"] == "command line"


def test_socket_activation_status_names_passed_socket(activator):
    proc, notify, path, d = activator()
    first = RpcClient(path)  # starts the daemon
    ready = notify.wait_for("READY", "1", alive=lambda: proc.poll() is None)
    first.close()
    assert ready is not None, (d / "stderr").read_text()
    status = ready.get("STATUS", "")
    assert str(path) in status, \
        f"STATUS names another socket than the one served: {status!r}"
    assert "/run/isol8/isol8.sock" not in status
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 0


def test_socket_activation_rejects_wrong_socket_kind(tmp_path):
    """A datagram socket passed in is refused with a clear message."""
    exe = shutil.which("systemd-socket-activate")
    if not exe:
        pytest.fail("systemd-socket-activate is not installed (make deps "
                    "installs systemd)")
    d = short_tmpdir()
    try:
        path = d / "dgram.sock"
        proc = subprocess.Popen(
            [exe, "--datagram", "-l", str(path), str(BUILD / "isol8d"),
             "--socket", str(d / "never.sock")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            assert wait_until(path.exists, 5.0)
            # The first datagram makes the activator exec the daemon.
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(b"hello", str(path))
            s.close()
            out, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        assert proc.returncode != 0
        assert "stream" in out.lower(), out
        assert not (d / "never.sock").exists()
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# Unit files


def _unit_files():
    return sorted(p for p in UNITS.glob("*")
                  if p.suffix in (".service", ".socket"))


def _exec_paths(unit_text):
    """Absolute program paths of Exec*= lines (prefixes like - @ + ! : are
    stripped)."""
    paths = []
    for line in unit_text.splitlines():
        m = re.match(r"\s*Exec[A-Za-z]*\s*=\s*(.*)", line)
        if not m or not m.group(1).strip():
            continue
        prog = m.group(1).split()[0].lstrip("-@+!:|")
        if prog.startswith("/"):
            paths.append(prog)
    return paths


def _fake_root():
    """A root with the host's own units (sysinit.target and friends), ours
    in /etc/systemd/system, and our binaries where ExecStart= says."""
    root = short_tmpdir("isol8-units-")
    host_units = Path("/usr/lib/systemd/system")
    shutil.copytree(host_units, root / "usr/lib/systemd/system",
                    symlinks=True)
    dest = root / "etc/systemd/system"
    dest.mkdir(parents=True)
    for unit in _unit_files():
        shutil.copy(unit, dest / unit.name)
        for prog in _exec_paths(unit.read_text()):
            target = root / prog.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            built = BUILD / Path(prog).name
            if built.is_file():
                shutil.copy(built, target)
            else:
                target.write_text("#!/bin/sh\nexit 0\n")
                target.chmod(0o755)
    return root


def test_units_verify():
    units = _unit_files()
    names = {u.name for u in units}
    if not {"isol8d.service", "isol8d.socket"} <= names:
        pytest.fail("units/isol8d.service or units/isol8d.socket is "
                    "missing")
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is not installed (make deps installs "
                    "systemd)")
    root = _fake_root()
    try:
        # Documentation=man:... is checked with man(1) on the host: point
        # it at the project's pages.
        man = root / "man"
        for page in (REPO / "man").glob("*.[1-8]"):
            section = man / f"man{page.suffix[1:]}"
            section.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, section / page.name)
        out = subprocess.run(
            ["systemd-analyze", "verify", f"--root={root}", *sorted(names)],
            capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice",
                     MANPATH=str(man)))
        text = out.stdout + out.stderr
        assert out.returncode == 0, text
        # Warnings (unknown keys, bad values) do not change the exit code;
        # none may be about our units.
        ours = [ln for ln in text.splitlines()
                if any(n in ln for n in names) or "isol8" in ln]
        assert not ours, "\n".join(ours)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_units_content():
    svc, sock = UNITS / "isol8d.service", UNITS / "isol8d.socket"
    if not (svc.exists() and sock.exists()):
        pytest.fail("units/isol8d.service or units/isol8d.socket is "
                    "missing")
    s = svc.read_text()
    for line in ("Type=notify", "Delegate=yes", "KillMode=mixed"):
        assert re.search(rf"^{re.escape(line)}\s*$", s, re.M), line
    assert re.search(r"^WatchdogSec=\S+", s, re.M)
    assert re.search(r"^Restart=\S+", s, re.M)
    k = sock.read_text()
    assert re.search(r"^ListenStream=/run/isol8/isol8\.sock\s*$", k, re.M)
    assert re.search(r"^SocketMode=0660\s*$", k, re.M)
    assert re.search(r"^SocketGroup=isol8\s*$", k, re.M)


def test_sysusers_and_tmpfiles_snippets():
    sysusers, tmpfiles = UNITS / "isol8.sysusers", UNITS / "isol8.tmpfiles"
    if not (sysusers.exists() and tmpfiles.exists()):
        pytest.fail("units/isol8.sysusers or units/isol8.tmpfiles is "
                    "missing")
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed (make deps installs "
                        "systemd)")
    root = short_tmpdir("isol8-root-")
    try:
        (root / "etc").mkdir()
        out = subprocess.run(["systemd-sysusers", f"--root={root}",
                              str(sysusers)], capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0, out.stderr
        groups = (root / "etc/group").read_text()
        assert re.search(r"^isol8:", groups, re.M), groups
        out = subprocess.run(["systemd-tmpfiles", f"--root={root}",
                              "--create", str(tmpfiles)],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert (root / "run/isol8").is_dir()
    finally:
        shutil.rmtree(root, ignore_errors=True)
