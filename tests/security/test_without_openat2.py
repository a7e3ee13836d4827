"""Files move in and out of boxes safely where openat2 cannot be called:
on kernels before 5.6, and under seccomp filters that make it fail with
ENOSYS, as systemd's RestrictSUIDSGID= does (isol8d.service keeps it).
The daemon is started under such a filter (tests/tools/with_enosys),
which every box inherits, and the file and link attacks of the other
suites are run against it again: the fallback must give the same
answers."""

import functools

import pytest

import test_escapes as escapes
import test_sessions as sessions
from execute_helpers import execute
from isol8_harness import WITH_ENOSYS

WRAP = (WITH_ENOSYS, "openat2")


@pytest.fixture
def start_without_openat2(start_daemon):
    return functools.partial(start_daemon, wrap=WRAP)


@pytest.fixture
def daemon_without_openat2(start_without_openat2):
    return start_without_openat2()


def test_the_filter_hides_openat2_in_boxes_too(daemon_without_openat2):
    d = daemon_without_openat2
    assert d.health()["features"]["openat2"] is False
    r = execute(d, {"runtime": "python", "code": (
        "import ctypes, errno\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.syscall(437, -100, b'/', 0, 0),"
        " errno.errorcode[ctypes.get_errno()])\n")})
    assert r["stdout"] == "-1 ENOSYS\n", r
    assert "openat2 is not available" in d.stderr()


def test_health_names_openat2(daemon):
    """Without the filter the probe finds it: every supported kernel has
    it, and nothing filters it here."""
    assert daemon.health()["features"]["openat2"] is True


def test_files_round_trip(start_without_openat2):
    sessions.test_file_round_trips(start_without_openat2)


def test_links_made_in_the_box_do_not_reach_the_host(daemon_without_openat2,
                                                     tmp_path):
    sessions.test_links_made_in_the_box_do_not_reach_the_host(
        daemon_without_openat2, tmp_path)


def test_symlinks_in_output_paths_are_not_followed(daemon_without_openat2,
                                                   tmp_path):
    escapes.test_symlinks_in_output_paths_are_not_followed(
        daemon_without_openat2, tmp_path)


def test_files_are_written_through_symlink_free_paths(daemon_without_openat2):
    escapes.test_files_are_written_through_symlink_free_paths(
        daemon_without_openat2)


def test_request_files_and_output_paths(daemon_without_openat2):
    r = execute(daemon_without_openat2, {
        "runtime": "bash",
        "code": "cat /sandbox/in/a.txt /tmp/t.txt; mkdir -p out/d; "
                "echo made > out/d/b.txt; mkfifo out/fifo; "
                "ln -s /etc/hostname out/link",
        "files": {"/sandbox/in/a.txt": "A\n", "/tmp/t.txt": "T\n"},
        "outputPaths": ["/sandbox/out/d/b.txt", "/sandbox/out/fifo",
                        "/sandbox/out/link", "/sandbox/in/a.txt"]})
    assert r["stdout"] == "A\nT\n", r
    assert set(r["files"]) == {"/sandbox/out/d/b.txt", "/sandbox/in/a.txt"}
