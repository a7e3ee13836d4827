"""isol8ctl's two programs: the local client loads none of the HTTP side's
libraries, and serve and --host, handed to isol8ctl-http with the same
command line, work as before; an isol8ctl-http planted beside a copy of
isol8ctl where others could have put it is never run."""

import json
import os
import shutil
import subprocess

import pytest

from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import BUILD, run_ctl, short_tmpdir, wait_until

HTTP_LIBS = ("libcurl", "libmicrohttpd", "libsqlite3", "libcrypto",
             "libsystemd")


def mapped_files(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1] for line in f if "/" in line}


def reading_stdin(pid):
    """Whether pid is blocked in read(0, ...) (x86-64's read is 0)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            return f.read().split()[:2] == ["0", "0x0"]
    except OSError:
        return False


def test_local_run_maps_no_http_library(daemon):
    # Code from standard input: isol8ctl waits for it, started in full,
    # and its mappings can be read meanwhile.
    p = subprocess.Popen(
        [str(BUILD / "isol8ctl"), "--socket", str(daemon.socket_path), "run",
         "-r", "bash"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        exe = BUILD / "isol8ctl"
        assert wait_until(lambda: reading_stdin(p.pid), 10), \
            "isol8ctl did not come to read its standard input"
        maps = mapped_files(p.pid)
        assert str(exe) in maps
        loaded = [m for m in maps if any(lib in os.path.basename(m)
                                         for lib in HTTP_LIBS)]
        assert loaded == [], loaded
        out, err = p.communicate("echo hi\n", timeout=60)
    finally:
        p.kill()
        p.wait()
    assert (p.returncode, out, err) == (0, "hi\n", "")


def test_serve_runs_as_isol8ctl_http_with_the_same_argv(daemon,
                                                        start_bridge):
    b = start_bridge(daemon, key="k")
    assert os.readlink(f"/proc/{b.proc.pid}/exe") == \
        str(BUILD / "isol8ctl-http")
    with open(f"/proc/{b.proc.pid}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")[:-1]
    assert argv[:4] == [str(BUILD / "isol8ctl").encode(), b"--socket",
                        str(daemon.socket_path).encode(), b"serve"]
    assert any("libmicrohttpd" in m for m in mapped_files(b.proc.pid))


@pytest.mark.parametrize("host", [["--host", "URL"], ["--host=URL"],
                                  ["--hos", "URL"], ["--ho=URL"]])
def test_host_in_any_spelling_goes_remote(daemon, start_bridge, host):
    b = start_bridge(daemon, key="k")
    host = [a.replace("URL", b.url) for a in host]
    # No --socket: were --host missed, the run would go to the default
    # socket, where no daemon listens, and fail.
    p = run_ctl("run", "-r", "bash", *host, "--key", "k", "-e", "echo hi",
                env={"ISOL8_API_KEY": ""}, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, "hi\n", ""), p
    p = run_ctl("session", "list", *host, "--key", "k", "--json",
                env={"ISOL8_API_KEY": ""}, timeout=60)
    assert (p.returncode, json.loads(p.stdout)) == (0, []), p


def test_a_host_value_elsewhere_still_runs(daemon):
    # An option's value that reads as --host is handed over too, and
    # isol8ctl-http runs it as the local client would.
    p = run_ctl("run", "-r", "bash", "--stdin", "--host", "-e", "cat",
                socket_path=daemon.socket_path, timeout=60)
    assert (p.returncode, p.stdout) == (0, "--host"), p


@pytest.mark.parametrize("case", ["shared_directory", "foreign_owner"])
def test_planted_isol8ctl_http_is_not_run(case):
    # A copy of isol8ctl in a directory, and beside it a program (mkdir,
    # which would make the directories its arguments name) that isol8ctl
    # must not take for its HTTP side.
    tmp = short_tmpdir()
    try:
        d = tmp / "bin"
        d.mkdir()
        shutil.copy(BUILD / "isol8ctl", d / "isol8ctl")
        shutil.copy("/usr/bin/mkdir", d / "isol8ctl-http")
        if case == "shared_directory":
            d.chmod(0o1777)
        else:
            os.chown(d / "isol8ctl-http", 65534, 65534)
        work = tmp / "work"
        work.mkdir()
        p = subprocess.run([str(d / "isol8ctl"), "serve", "planted"],
                           cwd=work, capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        assert list(work.iterdir()) == [], \
            f"the planted program ran: {p.stderr}"
        assert p.returncode != 0
    finally:
        shutil.rmtree(tmp)


def test_beside_isol8ctl_http_is_used():
    tmp = short_tmpdir()
    try:
        shutil.copy(BUILD / "isol8ctl", tmp / "isol8ctl")
        shutil.copy(BUILD / "isol8ctl-http", tmp / "isol8ctl-http")
        p = subprocess.run([str(tmp / "isol8ctl"), "serve", "--help"],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0 and \
            p.stdout.startswith("Usage: isol8ctl serve"), p
    finally:
        shutil.rmtree(tmp)
