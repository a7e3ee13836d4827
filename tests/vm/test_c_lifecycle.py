"""Restart and stop of the service with boxes running, and what the
journal holds afterwards (issue 16, point 1).  These run last: they stop
isol8d for good."""

import json
import re
import secrets
from pathlib import Path

import pytest

from vmlib import (CONFIG, SERVICE_CG, cgroup_children, ctl, main_pid,
                   pids_with, restart_daemon, sh, show, systemctl,
                   wait_serving, wait_until)


def test_restart_with_a_session_box_running():
    c = ctl("session", "create", "-r", "python", "--idle", "600")
    assert c.returncode == 0, c.stderr
    sid = c.stdout.strip()
    mark = f"vmcheck-restart-{secrets.token_hex(4)}"
    r = ctl("session", "exec", sid, "-e",
            "import subprocess\n"
            f"subprocess.Popen(['sh', '-c', 'sleep 600; : {mark}'], "
            "start_new_session=True)\nprint('started')")
    assert r.returncode == 0 and r.stdout == "started\n", r.stdout + r.stderr
    assert wait_until(lambda: pids_with(mark), 30), "session process missing"
    old = main_pid()
    assert (SERVICE_CG / f"isol8d-{old}").is_dir()

    systemctl("restart", "isol8d.service")
    assert wait_serving(), "isol8d does not answer after the restart"
    new = main_pid()
    assert new and new != old
    assert wait_until(lambda: not (SERVICE_CG / f"isol8d-{old}").exists(),
                      30), \
        f"stale cgroup isol8d-{old}: {cgroup_children(SERVICE_CG)}"
    assert wait_until(lambda: not pids_with(mark), 30), \
        f"the old session's process survived: {pids_with(mark)}"
    r = ctl("run", "--cmd", "echo served", "--timeout", "60000")
    assert r.returncode == 0 and r.stdout == "served\n", r.stdout + r.stderr


CRIU = Path("/opt/isol8/criu/sbin/criu")
# A background counter whose token only its memory holds: the same token
# after the restart means the same process came back.
COUNTER = ("(t=$RANDOM$RANDOM; i=0; while :; do i=$((i+1)); "
           "echo \"$t $i\" > /sandbox/count.new; "
           "mv /sandbox/count.new /sandbox/count; sleep 0.2; done) "
           "</dev/null >/dev/null 2>&1 &")


def read_count(sid):
    r = ctl("session", "exec", sid, "-r", "bash", "-e", "cat /sandbox/count")
    m = re.fullmatch(r"(\S+) (\d+)\n", r.stdout) if r.returncode == 0 else None
    return (m.group(1), int(m.group(2))) if m else None


DROP_IN_SRC = Path("/usr/local/share/isol8/isol8d-hibernate.conf")
DROP_IN = Path("/etc/systemd/system/isol8d.service.d/hibernate.conf")


def daemon_seccomp():
    status = Path(f"/proc/{main_pid()}/status").read_text()
    return int(re.search(r"^Seccomp:\s*(\d+)", status, re.M).group(1))


@pytest.fixture
def hibernate_on_stop():
    """What an administrator does for hibernation: the shipped drop-in and
    sessions.hibernateOnStop; both as they were afterwards."""
    assert daemon_seccomp() > 0, "the shipped unit puts isol8d under seccomp"
    r = ctl("session", "create", "-r", "bash")
    sid = r.stdout.strip()
    refused = ctl("session", "hibernate", sid)
    assert refused.returncode != 0 and "seccomp" in refused.stderr, \
        refused.stdout + refused.stderr
    ctl("session", "rm", sid)
    before = CONFIG.read_text() if CONFIG.exists() else None
    cfg = json.loads(before) if before else {}
    cfg.setdefault("sessions", {})["hibernateOnStop"] = True
    CONFIG.write_text(json.dumps(cfg))
    DROP_IN.parent.mkdir(parents=True, exist_ok=True)
    DROP_IN.write_text(DROP_IN_SRC.read_text())
    systemctl("daemon-reload")
    restart_daemon()
    assert daemon_seccomp() == 0
    yield
    DROP_IN.unlink()
    systemctl("daemon-reload")
    if before is None:
        CONFIG.unlink()
    else:
        CONFIG.write_text(before)
    restart_daemon()


@pytest.mark.skipif(not CRIU.exists(), reason=f"no CRIU at {CRIU}")
def test_restart_keeps_sessions_with_hibernate_on_stop(hibernate_on_stop):
    """systemctl restart hibernates the running sessions at SIGTERM and
    the new daemon restores them: same id, files, running processes."""
    c = ctl("session", "create", "-r", "bash", "--idle", "600")
    assert c.returncode == 0, c.stderr
    sid = c.stdout.strip()
    r = ctl("session", "exec", sid, "-r", "bash", "-e",
            f"echo kept > /sandbox/f.txt; {COUNTER}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_until(lambda: read_count(sid), 60), "the counter never wrote"
    before = read_count(sid)
    old = main_pid()

    systemctl("restart", "isol8d.service")
    assert wait_serving(), "isol8d does not answer after the restart"
    assert main_pid() != old
    # Restored at start: "restoring" until CRIU is done, then it runs.
    now = wait_until(lambda: read_count(sid), 120)
    assert now and now[0] == before[0] and now[1] >= before[1], (now, before)
    assert wait_until(lambda: (read_count(sid) or ("", 0))[1] > now[1], 60), \
        "the restored counter does not count on"
    r = ctl("session", "exec", sid, "-r", "bash", "-e", "cat /sandbox/f.txt")
    assert r.stdout == "kept\n", r.stdout + r.stderr
    assert ctl("session", "rm", sid).returncode == 0
    assert not list(Path("/var/lib/isol8/hibernated").glob("h-*"))


def test_no_restarts_by_the_service_manager():
    """No watchdog timeout or crash made systemd restart isol8d."""
    assert show("isol8d.service", "NRestarts") == "0"


def test_stop_leaves_no_cgroup_process_or_mount():
    pid = main_pid()
    assert pid
    systemctl("stop", "isol8d.service", "isol8d.socket")
    assert show("isol8d.service", "ActiveState") == "inactive"
    left = cgroup_children(SERVICE_CG) if SERVICE_CG.exists() else []
    assert not left, f"cgroups left below the service: {left}"
    if SERVICE_CG.exists():
        procs = (SERVICE_CG / "cgroup.procs").read_text().split()
        assert not procs, f"processes left in the service's cgroup: {procs}"
    strays = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cg = (p / "cgroup").read_text()
            comm = (p / "comm").read_text().strip()
        except OSError:
            continue
        if "isol8d" in cg or comm == "isol8d":
            strays.append((p.name, comm, cg.strip()))
    assert not strays, f"processes of isol8d left: {strays}"
    mounts = [ln for ln in Path("/proc/1/mountinfo").read_text().splitlines()
              if "isol8" in ln or "/sandbox" in ln or " - overlay " in ln]
    assert not mounts, "\n".join(mounts)
    assert not Path("/run/isol8/isol8.sock").exists()


def test_journal_has_no_errors_from_isol8d():
    """Nothing at priority err or worse from isol8d since boot, stop
    included."""
    r = sh("journalctl", "-b", "--no-pager", "-o", "short-monotonic",
           "-p", "err", "_SYSTEMD_UNIT=isol8d.service", "+",
           "SYSLOG_IDENTIFIER=isol8d")
    lines = [ln for ln in r.stdout.splitlines()
             if ln.strip() and not ln.startswith("-- ")]
    assert not lines, "\n".join(lines[:50])


def test_journal_repeats_no_warning():
    """A quiet journal: no warning from isol8d repeats in a loop (a pooled
    box that cannot be built is reported once per cause, issue 16 point 3,
    not once per attempt)."""
    r = sh("journalctl", "-b", "--no-pager", "-o", "cat", "-p", "warning",
           "_SYSTEMD_UNIT=isol8d.service", "+", "SYSLOG_IDENTIFIER=isol8d")
    counts = {}
    for ln in r.stdout.splitlines():
        key = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "N", ln.strip())
        if key:
            counts[key] = counts.get(key, 0) + 1
    loud = {k: n for k, n in counts.items() if n > 10}
    assert not loud, loud
