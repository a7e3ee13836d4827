"""The audit trail: one chained record per admitted execution, whatever its
outcome, in files under audit.logDir (or on stdout), with the journal
fields (on stderr here: the tests run without journald, so the fields are
checked in the daemon's stderr lines); `isol8ctl audit verify` names the
first record that was edited, cut, reordered or removed."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from execute_helpers import execute, execute_error
from isol8_harness import BUILD, wait_until
from test_network import HOST, filtered, get_code, http_server  # noqa: F401

CTL = os.path.join(BUILD, "isol8ctl")
MSGID = "MESSAGE_ID=4f8e2c1b7a9d4e3f9c0b6a5d8e7f1a2b"


def cfg(logdir, **audit):
    return {"audit": dict({"enabled": True, "logDir": str(logdir)}, **audit),
            "network": {"allowPrivate": True}}


def records(logdir):
    names = sorted(n for n in os.listdir(logdir)
                   if n.startswith("executions-")) + ["executions.log"]
    out = []
    for n in names:
        p = os.path.join(logdir, n)
        if os.path.exists(p):
            with open(p) as f:
                out += [json.loads(line) for line in f]
    return out


def wait_records(logdir, n):
    assert wait_until(lambda: os.path.exists(
        os.path.join(logdir, "executions.log")) and len(records(logdir)) >= n,
        10), records(logdir) if os.path.exists(logdir) else "no dir"
    return records(logdir)


def verify(path, *args):
    return subprocess.run([CTL, "audit", "verify", *args, str(path)],
                          capture_output=True, text=True, timeout=30)


def sh(code):
    return {"runtime": "bash", "code": code}


def test_outcomes_recorded_and_chain_verifies(start_daemon, tmp_path):
    logdir = tmp_path / "audit"
    d = start_daemon(config=cfg(logdir))
    execute(d, sh("echo hi"))
    execute(d, sh("exit 3"))
    r = execute(d, sh("sleep 30"), {"timeoutMs": 300})
    assert r["timedOut"]
    execute(d, {"runtime": "python",
                "code": "b = bytearray(200 << 20)\nprint(len(b))"},
            {"memoryLimit": "32m"})
    recs = wait_records(logdir, 4)
    by = [r["outcome"] for r in recs]
    assert by == ["ok", "error", "timeout", "oom"], by
    assert recs[1]["exitCode"] == 3 and recs[2]["timedOut"] is True
    assert recs[3].get("oomKilled") is True
    for i, rec in enumerate(recs, 1):
        assert rec["seq"] == i
        for k in ("executionId", "userId", "timestamp", "runtime",
                  "codeHash", "containerId", "exitCode", "durationMs",
                  "tenant", "peer", "image", "network", "seccomp",
                  "resourceUsage", "hash", "prevHash"):
            assert k in rec, (k, rec)
        assert "code" not in rec and "stdout" not in rec
    import hashlib
    assert recs[0]["codeHash"] == hashlib.sha256(b"echo hi").hexdigest()
    assert recs[0]["tenant"] == "uid:0" and recs[0]["peer"]["uid"] == 0
    v = verify(logdir)
    assert v.returncode == 0 and "OK: 4 records" in v.stdout, v
    err = d.stderr()
    assert err.count(MSGID) == 4, err
    assert f"EXECUTION_ID={recs[0]['executionId']}" in err


def test_failed_execution_recorded(start_daemon, tmp_path):
    """An admitted execution that ends without a result (its setup script
    fails) has a record with the error."""
    logdir = tmp_path / "audit"
    d = start_daemon(config=cfg(logdir))
    execute_error(d, dict(sh("true"), setupScript="exit 7"))
    rec = wait_records(logdir, 1)[0]
    assert rec["outcome"] == "failed" and rec["exitCode"] is None
    assert "Setup script failed" in rec["error"]


def test_network_logs_metadata_and_secrets(start_daemon, tmp_path,
                                           http_server):  # noqa: F811
    logdir = tmp_path / "audit"
    d = start_daemon(config=cfg(logdir, includeCode=True,
                                includeOutput=True))
    url = f"http://{HOST}:{http_server}/a"
    code = get_code(url) + "\nprint('tok-s3cret-99')\n# tok-s3cret-99\n"
    execute(d, {"runtime": "python", "code": code,
                "metadata": {"userId": "alice", "team": "tok-s3cret-99"}},
            dict(filtered(), secrets={"T": "tok-s3cret-99"}))
    rec = wait_records(logdir, 1)[0]
    assert rec["network"] == "filtered"
    assert rec["networkLogs"] and rec["networkLogs"][0]["host"] == HOST
    assert rec["userId"] == "alice" and rec["metadata"]["userId"] == "alice"
    text = open(logdir / "executions.log").read()
    assert "tok-s3cret-99" not in text
    assert "***" in rec["code"] and "***" in rec["stdout"]
    assert rec["metadata"]["team"] == "***"
    assert "AUDIT_USER_ID=alice" in d.stderr()


def test_client_cannot_turn_audit_off(start_daemon, tmp_path):
    logdir = tmp_path / "audit"
    d = start_daemon(config=cfg(logdir))
    execute(d, sh("true"), {"audit": {"enabled": False}})
    assert len(wait_records(logdir, 1)) == 1


def test_stdout_destination(start_daemon, tmp_path):
    d = start_daemon(config=cfg(tmp_path / "unused", destination="stdout"))
    execute(d, sh("true"))
    # the harness sends the daemon's stdout and stderr to one file
    assert wait_until(lambda: '"prevHash":"' in d.stderr(), 10)
    line = next(x for x in d.stderr().splitlines() if '"prevHash"' in x)
    assert json.loads(line)["seq"] == 1
    assert not (tmp_path / "unused").exists()


def test_tamper_edit_truncate_reorder(start_daemon, tmp_path):
    logdir = tmp_path / "audit"
    d = start_daemon(config=cfg(logdir))
    for i in range(4):
        execute(d, sh(f"exit {i}"))
    wait_records(logdir, 4)
    d.stop()
    path = logdir / "executions.log"
    good = path.read_text()
    lines = good.splitlines(keepends=True)

    path.write_text(good.replace('"exitCode":2', '"exitCode":0'))
    v = verify(logdir)
    assert v.returncode == 1 and ":3 (record seq 3)" in v.stdout, v.stdout

    path.write_text(good[:-20])
    v = verify(logdir)
    assert v.returncode == 1 and ":4 " in v.stdout and "cut" in v.stdout

    path.write_text(lines[0] + lines[2] + lines[1] + lines[3])
    v = verify(logdir)
    assert v.returncode == 1 and ":2 (record seq 3)" in v.stdout, v.stdout

    path.write_text("".join(lines[:1] + lines[2:]))
    v = verify(logdir)
    assert v.returncode == 1 and "missing" in v.stdout

    path.write_text(good)
    assert verify(logdir).returncode == 0
    q = subprocess.run([CTL, "audit", "query", "--exit-code", "2", "--json",
                        str(logdir)], capture_output=True, text=True)
    assert [json.loads(x)["exitCode"] for x in q.stdout.splitlines()] == [2]


def test_rotation_retention_and_deleted_middle_file(start_daemon, tmp_path):
    logdir = tmp_path / "audit"
    conf = cfg(logdir, maxFileBytes="4k", retentionDays=1)
    d = start_daemon(config=conf)
    for i in range(12):  # about 2 records a file
        execute(d, dict(sh(f"echo {i}"), metadata={"pad": "x" * 1000}))
    wait_records(logdir, 12)
    d.stop()
    rotated = sorted(n for n in os.listdir(logdir)
                     if n.startswith("executions-"))
    assert len(rotated) >= 3, rotated
    assert verify(logdir).returncode == 0
    # retention: the oldest file is 10 days old; a restart prunes it
    old = logdir / rotated[0]
    os.utime(old, (0, 0))
    d = start_daemon(config=conf)
    assert wait_until(lambda: not old.exists(), 10)
    assert (logdir / "anchor").exists()
    d.stop()
    v = verify(logdir)
    assert v.returncode == 0, v.stdout
    os.unlink(logdir / rotated[2])
    v = verify(logdir)
    assert v.returncode == 1 and "missing" in v.stdout, v.stdout


def test_hmac_key(start_daemon, tmp_path):
    logdir = tmp_path / "audit"
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    os.chmod(key, 0o644)
    from isol8_harness import Daemon
    bad = Daemon(config=cfg(logdir, keyFile=str(key)))
    try:
        bad.start(wait=False)
        bad.proc.wait(timeout=20)
        assert bad.proc.returncode != 0
        assert "readable by nobody else" in bad.stderr()
    finally:
        bad.close()
    os.chmod(key, 0o600)
    d = start_daemon(config=cfg(logdir, keyFile=str(key)))
    execute(d, sh("true"))
    wait_records(logdir, 1)
    d.stop()
    assert verify(logdir, "--key", str(key)).returncode == 0
    v = verify(logdir)
    assert v.returncode == 1 and "--key" in v.stdout


def test_post_log_script_unprivileged(start_daemon, tmp_path):
    # nobody must reach the script: not under pytest's 0700 directory
    pub = Path(tempfile.mkdtemp(prefix="isol8-audit-"))
    os.chmod(pub, 0o755)
    logdir = tmp_path / "audit"
    out = pub / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    script = pub / "post.sh"
    script.write_text(f"#!/bin/sh\necho \"$(id -u) $1 $(wc -l)\" "
                      f"> {out}/ran\n")
    os.chmod(script, 0o755)
    d = start_daemon(config=cfg(logdir, postLogScript=str(script)))
    execute(d, sh("true"))
    assert wait_until(lambda: (out / "ran").exists(), 10)
    uid, path, n = (out / "ran").read_text().split()
    assert uid == "65534" and path == str(logdir / "executions.log")
    assert n == "1"
    shutil.rmtree(pub)


def test_unwritable_destination(start_daemon, tmp_path):
    logdir = tmp_path / "file-not-dir"
    logdir.write_text("")
    d = start_daemon(config=cfg(logdir))
    execute(d, sh("true"))

    def health():
        with d.client() as c:
            return c.result("health")
    # The writer process reports the failed write when it has tried.
    assert wait_until(lambda: health()["audit"]["status"] == "failing",
                      10), health()
    with d.client() as c:
        h = c.result("health")
        m = c.result("metrics")
    assert h["status"] == "ok" and h["audit"]["status"] == "failing", h
    assert m["audit"]["status"] == "failing"
    assert "cannot write records" in d.stderr()

    d2 = start_daemon(config=cfg(logdir, required=True))
    assert wait_until(lambda: d2.client().result("health")["audit"]
                      ["status"] == "failing", 10)
    err = execute_error(d2, sh("true"))
    assert err["error"]["data"]["kind"] == "busy"
    assert "audit.required" in err["error"]["message"]
