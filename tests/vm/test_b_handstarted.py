"""isol8d started by hand from a shell, outside systemd's delegation (what
`make run` in a terminal does), on a cgroup v2 host: it must ask systemd
for a transient scope with Delegate=yes and then work (issue 16, point 2).

The check runner itself runs in an ordinary, non-delegated service
cgroup, which is where a daemon started from it lands first."""

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path

from vmlib import CGROOT, DAEMON, ctl, ctl_json, show
from isol8_harness import POOL_OFF, NotifyListener


def _own_cgroup(pid="self"):
    return Path(f"/proc/{pid}/cgroup").read_text().strip().split("::", 1)[1]


def test_runner_is_not_delegated():
    """The premise: the runner's own cgroup is not delegated to it."""
    cg = _own_cgroup()
    unit = cg.rsplit("/", 1)[-1]
    assert show(unit, "Delegate") == "no", (cg, unit)


def test_daemon_started_by_hand_gets_a_delegated_scope():
    tmp = Path(tempfile.mkdtemp(prefix="vmhand-", dir="/tmp"))
    sock = tmp / "t.sock"
    cfg = tmp / "isol8d.json"
    cfg.write_text(json.dumps({"pool": POOL_OFF}))
    notify = NotifyListener(tmp / "notify.sock")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LISTEN_", "WATCHDOG_", "NOTIFY_SOCKET",
                                "JOURNAL_STREAM", "INVOCATION_ID"))}
    env["NOTIFY_SOCKET"] = notify.path
    errf = open(tmp / "stderr", "wb")
    p = subprocess.Popen([DAEMON, "--socket", str(sock), "--config", str(cfg)],
                         stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
                         env=env, start_new_session=True)

    def stderr():
        return (tmp / "stderr").read_text(errors="replace")[-3000:]

    try:
        ready = notify.wait_for("READY", "1", 120,
                                alive=lambda: p.poll() is None)
        assert ready is not None, \
            f"isol8d started by hand did not get ready (exit status " \
            f"{p.poll()}):\n{stderr()}"
        cg = _own_cgroup(p.pid)
        assert cg != _own_cgroup(), "the daemon stayed in the runner's cgroup"
        scope = next((part for part in cg.split("/")
                      if part.endswith(".scope")), None)
        assert scope, f"the daemon is not in a scope: {cg}"
        assert show(scope, "Delegate") == "yes", (scope, cg)

        h = ctl_json("health", socket=str(sock))
        assert h.get("cgroupMode") == "v2", h
        r = ctl("run", "--cmd", "echo hello", "--timeout", "60000",
                socket=str(sock))
        assert r.returncode == 0 and r.stdout == "hello\n", \
            f"{r.stdout}{r.stderr}\ndaemon:\n{stderr()}"
        r = ctl("run", "-r", "python", "--memory", "64m", "-e",
                "x = b'a' * (256 << 20)", "--json", socket=str(sock))
        res = json.loads(r.stdout)
        assert res.get("oomKilled") is True, res
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        notify.close()
    assert p.returncode == 0, f"exit status {p.returncode}:\n{stderr()}"
    # Nothing of it is left: no isol8d-<pid> cgroup anywhere.
    left = [d for d, _, _ in os.walk(CGROOT)
            if os.path.basename(d) == f"isol8d-{p.pid}"]
    assert not left, left
