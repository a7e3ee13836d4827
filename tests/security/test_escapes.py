"""Escape attempts from inside boxes.  Each one is made by code running in a
box through the real daemon; the test asserts that it failed and that the
host and the daemon saw nothing of it.  The probes in probes/ refuse to run
outside a box's user namespace."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from isol8_harness import pids_with_marker, wait_until

PROBES = Path(__file__).resolve().parent / "probes"


def execute(daemon, timeout=60, **request):
    options = request.pop("options", {})
    with daemon.client(timeout=timeout) as c:
        return c.call("execute", {"request": request, "options": options})


def result_of(daemon, **request):
    msg = execute(daemon, **request)
    assert "error" not in msg, msg["error"]
    return msg["result"]


def probe_files():
    return {f"/sandbox/probes/{p.name}": p.read_text()
            for p in PROBES.glob("probe_*.py")}


def run_probe(daemon, name, **options):
    r = result_of(daemon, cmd=f"cd /sandbox/probes && /usr/bin/python3 {name}",
                  files=probe_files(), options=options)
    lines = r["stdout"].splitlines()
    return r, lines


def assert_all_blocked(r, lines, at_least):
    escaped = [l for l in lines if l.startswith("ESCAPED")]
    assert not escaped, "\n".join(escaped)
    assert "REFUSED: not inside a sandbox user namespace" not in lines
    assert lines and lines[-1] == "DONE", (r["stdout"], r["stderr"])
    blocked = [l for l in lines if l.startswith("BLOCKED")]
    assert len(blocked) >= at_least, lines
    return blocked


def test_probes_refuse_to_run_on_the_host():
    import subprocess
    import sys
    for p in PROBES.glob("probe_*.py"):
        if p.name == "probe_common.py":
            continue
        out = subprocess.run([sys.executable, str(p)], cwd=PROBES,
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 3, (p.name, out.stdout, out.stderr)
        assert "REFUSED" in out.stdout


def test_syscall_and_socket_attacks_fail(daemon):
    r, lines = run_probe(daemon, "probe_syscalls.py")
    blocked = assert_all_blocked(r, lines, 30)
    for name in ("keyctl", "io_uring_setup", "bpf", "perf_event_open",
                 "socket AF_VSOCK", "socket AF_ALG", "raw IPv4 socket",
                 "ptrace attach to pid 1", "unshare user namespace",
                 "mount tmpfs on /sandbox", "clone3",
                 "clone with CLONE_NEWUSER"):
        assert f"BLOCKED {name}" in blocked


def test_syscall_attacks_fail_without_seccomp_too(start_daemon):
    """With seccomp unconfined and even the mandatory denials dropped,
    what the kernel itself enforces still holds: no capabilities, no host
    mounts, no host processes."""
    d = start_daemon(config={"security": {
        "allowUnconfined": True, "unconfinedDropsMandatoryDenials": True}})
    r, lines = run_probe(d, "probe_filesystem.py",
                         security={"seccomp": "unconfined"})
    assert_all_blocked(r, lines, 15)


def test_x32_syscall_kills_the_process(daemon):
    r, lines = run_probe(daemon, "probe_x32.py")
    assert "TRYING x32" in lines
    assert not any(l.startswith("ESCAPED") for l in lines), lines
    # SIGSYS from the seccomp filter: 128 + 31.
    assert r["exitCode"] == 159, r


def test_host_files_processes_and_root_fs_out_of_reach(daemon):
    r, lines = run_probe(daemon, "probe_filesystem.py")
    blocked = assert_all_blocked(r, lines, 15)
    for name in ("host path /etc/shadow absent", "write /etc/passwd",
                 "write /usr/bin/evil", "only the box's processes visible",
                 "no host files behind /proc/self/fd", "no capabilities",
                 "uid 1000"):
        assert f"BLOCKED {name}" in blocked


def test_a_host_file_planted_for_the_test_is_not_visible(daemon, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host secret 9f1c")
    r = result_of(daemon, runtime="bash", code=(
        f"cat {secret} 2>&1; ls {tmp_path} 2>&1; "
        "cat /proc/1/root/etc/shadow 2>&1; grep -rl '9f1c' /tmp /sandbox "
        "2>/dev/null; echo end"))
    assert "host secret" not in r["stdout"]
    assert r["stdout"].rstrip().endswith("end")


def test_network_only_loopback_and_host_listener_unreachable(daemon):
    r, lines = run_probe(daemon, "probe_network.py")
    assert_all_blocked(r, lines, 4)

    # A listener on the host's loopback: the box's own loopback is another
    # namespace, so the connection must fail and nothing must arrive.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    accepted = []
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                accepted.append(conn)
            except OSError:
                pass

    t = threading.Thread(target=accept_loop, daemon=True)
    t.start()
    try:
        r = result_of(daemon, runtime="python", code=(
            "import socket\n"
            "for host in ('127.0.0.1', 'localhost', '::1'):\n"
            "    try:\n"
            f"        socket.create_connection((host, {port}), timeout=2)\n"
            "        print('CONNECTED', host)\n"
            "    except OSError as e:\n"
            "        print('failed', host, e.errno)\n"))
    finally:
        stop.set()
        t.join(5)
        srv.close()
    assert "CONNECTED" not in r["stdout"], r["stdout"]
    assert r["stdout"].count("failed") == 3, r
    assert not accepted


def test_symlinks_in_output_paths_are_not_followed(daemon, tmp_path):
    secret = tmp_path / "planted.txt"
    secret.write_text("host content 77aa")
    r = result_of(
        daemon, runtime="bash",
        code=("cd /sandbox && ln -s /etc/passwd passwd && "
              f"ln -s {secret} planted && ln -s / root && "
              "ln -s /proc/self/fd/0 fd0 && mkdir d && ln -s /etc d/etc && "
              "echo mine > real.txt"),
        outputPaths=["/sandbox/passwd", "/sandbox/planted", "/sandbox/fd0",
                     "/sandbox/root/etc/passwd", "/sandbox/d/etc/hostname",
                     "/sandbox/real.txt"])
    files = r.get("files", {})
    assert set(files) == {"/sandbox/real.txt"}, files


@pytest.mark.parametrize("path", ["/etc/passwd", "/sandbox/../etc/passwd",
                                  "../../etc/x", "/proc/self/fd/1",
                                  "/usr/bin/python3"])
def test_files_outside_the_sandbox_are_refused(daemon, path):
    msg = execute(daemon, runtime="bash", code="true",
                  files={path: "overwrite"})
    assert "error" in msg, msg
    assert msg["error"]["code"] == -32602
    assert "files" in msg["error"]["message"]


def test_files_are_written_through_symlink_free_paths(daemon):
    """A file whose parent is made by the box user cannot be redirected:
    parents are created fresh and nothing is followed."""
    r = result_of(daemon, runtime="bash",
                  code="ls -la /sandbox/a/b; cat /sandbox/a/b/c.txt",
                  files={"/sandbox/a/b/c.txt": "inside"})
    assert "inside" in r["stdout"]
    assert "->" not in r["stdout"]


def test_nothing_keeps_running_after_a_timeout(daemon):
    marker = "987.6543"
    r = result_of(daemon, runtime="bash", code=(
        f"setsid sleep {marker} & "
        f"( ( sleep {marker} & ) & ) ; "
        f"nohup sleep {marker} >/dev/null 2>&1 & "
        f"sleep {marker}"),
        options={"timeoutMs": 700})
    assert r["exitCode"] == 137
    assert wait_until(lambda: not pids_with_marker(marker), 5), \
        pids_with_marker(marker)


def test_box_cannot_signal_the_daemon(daemon):
    pid = daemon.pid
    r = result_of(daemon, runtime="bash", code=(
        f"kill -9 {pid} 2>&1; kill -9 -1 2>&1; kill -TERM 1 2>&1; "
        "echo survived"))
    assert daemon.alive()
    assert daemon.health()["status"] == "ok"
    # kill -9 -1 took the box's own shell with it, or nothing at all.
    assert r["exitCode"] in (0, 137), r


def test_daemon_serves_others_while_a_box_misbehaves(daemon):
    results = {}

    def bomb():
        results["bomb"] = result_of(
            daemon, runtime="bash",
            code=":(){ :|:& };:; sleep 1", options={"timeoutMs": 3000})

    t = threading.Thread(target=bomb)
    t.start()
    time.sleep(0.3)
    assert daemon.health()["status"] == "ok"
    assert result_of(daemon, runtime="bash", code="echo fine")["stdout"] \
        == "fine\n"
    t.join(30)
    assert "bomb" in results


DOCKER_STYLE_PROFILE = "/usr/share/containers/seccomp.json"


@pytest.mark.skipif(not os.path.exists(DOCKER_STYLE_PROFILE),
                    reason="containers-common's profile is not installed")
def test_docker_format_profile_as_custom_keeps_mandatory_denials(
        start_daemon):
    """The containers' default profile (Docker's format, with caps, arches
    and minKernel conditions) runs the runtimes; the denials isol8d adds
    still hold under it."""
    daemon = start_daemon(config={"security": {
        "allowCustomProfiles": True,
        "profileDir": os.path.dirname(DOCKER_STYLE_PROFILE)}})
    sec = {"seccomp": "custom", "customProfilePath": DOCKER_STYLE_PROFILE}
    r = result_of(daemon, runtime="python",
                  code="import subprocess\n"
                       "print(subprocess.run(['echo', 'ok'], "
                       "capture_output=True).stdout.decode(), end='')",
                  options={"security": sec})
    assert r["stdout"] == "ok\n", r
    r, lines = run_probe(daemon, "probe_syscalls.py", security=sec)
    assert_all_blocked(r, lines, 30)
