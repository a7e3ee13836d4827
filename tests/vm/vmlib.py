"""Helpers of the vm-check guest checks: they drive the installed isol8d
through systemctl and the installed isol8ctl, as a user of a systemd host
would.  Run as root inside the guest only (tools/vm/guest-run.sh)."""

import json
import os
import subprocess
import time
from pathlib import Path

CTL = "/usr/local/bin/isol8ctl"
DAEMON = "/usr/local/sbin/isol8d"
SOCKET = "/run/isol8/isol8.sock"
CGROOT = Path("/sys/fs/cgroup")
SERVICE_CG = CGROOT / "system.slice" / "isol8d.service"
CONFIG = Path("/etc/isol8/isol8d.json")

# Bounds for a guest under TCG, 10 to 30 times slower than a real machine:
# they only end a check that is already broken.
RUN_TIMEOUT = 180


def sh(*argv, check=True, timeout=RUN_TIMEOUT, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n"
                             f"{r.stdout}\n{r.stderr}")
    return r


def ctl(*args, check=False, socket=None, timeout=RUN_TIMEOUT, input=None):
    argv = [CTL] + (["--socket", socket] if socket else []) + list(args)
    return sh(*argv, check=check, timeout=timeout, input=input)


def ctl_json(*args, socket=None, timeout=RUN_TIMEOUT):
    r = ctl(*args, "--json", socket=socket, timeout=timeout)
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError(
            f"isol8ctl {' '.join(args)} --json exited {r.returncode} with "
            f"no JSON:\nstdout: {r.stdout[:2000]}\nstderr: {r.stderr[:2000]}")


def run_json(*args, socket=None, timeout=RUN_TIMEOUT):
    """isol8ctl run ... --json: the whole ExecutionResult."""
    return ctl_json("run", *args, socket=socket, timeout=timeout)


def systemctl(*args, check=True):
    return sh("systemctl", *args, check=check)


def show(unit, prop):
    return systemctl("show", "-p", prop, "--value", unit).stdout.strip()


def main_pid():
    return int(show("isol8d.service", "MainPID") or 0)


def wait_until(pred, timeout, interval=0.25):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(interval)


def wait_serving(timeout=120):
    """Waits until isol8d answers health through the socket."""
    return wait_until(lambda: ctl("health").returncode == 0, timeout, 0.5)


def restart_daemon():
    systemctl("restart", "isol8d.service")
    assert wait_serving(), "isol8d does not answer after a restart"


def cgroup_children(path):
    """Every cgroup directory below path (not path itself), recursively."""
    out = []
    for dirpath, dirnames, _ in os.walk(path):
        out += [os.path.join(dirpath, d) for d in dirnames]
    return out


def pids_with(marker, but=None):
    """Pids whose command line holds marker (but this one and pid but)."""
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) in (os.getpid(), but):
            continue
        try:
            cmd = (p / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmd:
            out.append(int(p.name))
    return out
