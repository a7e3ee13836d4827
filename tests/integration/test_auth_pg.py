"""isol8ctl serve --auth-db postgres://...: the key database shared by
several bridges in a real PostgreSQL started for the test (initdb and
pg_ctl of Debian's postgresql package, as the unprivileged postgres user,
on 127.0.0.1 with password authentication)."""

import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from isol8_bridge import Bridge, start_bridge  # noqa: F401

MASTER = "master-key-for-pg"
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A cluster in a temporary directory, owned by an unprivileged user
    (initdb refuses root)."""

    def __init__(self):
        self.bin = PG_BIN[-1]
        user = "postgres"
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            user, pw = "nobody", pwd.getpwnam("nobody")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.dir = tempfile.mkdtemp(prefix="isol8-pg-")
        os.chown(self.dir, self.uid, self.gid)
        self.data = os.path.join(self.dir, "data")
        self.password = "pw-" + secrets.token_hex(12)
        self.port = free_port()
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        os.chown(pwfile, self.uid, self.gid)
        self._run("initdb", "-D", self.data, "-U", "isol8", "--pwfile",
                  pwfile, "--auth=scram-sha-256", "-E", "UTF8",
                  "--no-sync")
        self.url = (f"postgres://isol8:{self.password}@127.0.0.1:"
                    f"{self.port}/postgres")
        self.start()

    def _run(self, tool, *args):
        r = subprocess.run([os.path.join(self.bin, tool), *args],
                           user=self.uid, group=self.gid, cwd=self.dir,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{tool}: {r.stdout}{r.stderr}"

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l",
                  os.path.join(self.dir, "log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.dir} "
                  "-c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def close(self):
        subprocess.run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                        "-m", "immediate", "-w", "stop"], user=self.uid,
                       group=self.gid, capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg():
    if not PG_BIN or not os.path.exists(os.path.join(PG_BIN[-1], "initdb")):
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed "
                    "(Debian package postgresql; tools/install-deps.sh)")
    p = Postgres()
    yield p
    p.close()


def pg_bridge(daemon, start_bridge, pg, tmp_path, config=None, name="a"):
    env = {}
    if config:
        home = tmp_path / f"home-{name}"
        (home / ".isol8").mkdir(parents=True)
        (home / ".isol8" / "config.json").write_text(json.dumps(config))
        env["HOME"] = str(home)
    return start_bridge(daemon, key=MASTER, args=["--auth-db", pg.url],
                        env=env)


def as_key(b, key, method="GET", path="/sessions", body=None):
    return b.json(method, path, body,
                  headers={"Authorization": f"Bearer {key}"})


def make_key(b, **body):
    status, k = b.json("POST", "/auth/keys", {"name": "k", **body})
    assert status == 201, k
    return k


def test_keys_are_shared_between_bridges(daemon, start_bridge, pg, tmp_path):
    """A key made on one bridge works on the other at once; revoked on
    one, it is refused by the other at once; lists are per tenant."""
    a = pg_bridge(daemon, start_bridge, pg, tmp_path, name="a")
    b = pg_bridge(daemon, start_bridge, pg, tmp_path, name="b")
    ka = make_key(a, tenantId="team-a")
    kb = make_key(b, tenantId="team-b")
    status, body = as_key(b, ka["key"])
    assert status == 200, body
    status, body = as_key(a, kb["key"])
    assert status == 200, body

    status, listed = b.json("GET", "/auth/keys?tenantId=team-a")
    assert status == 200, listed
    assert [k["id"] for k in listed["keys"]] == [ka["id"]]
    assert listed["keys"][0]["lastUsedAt"] is not None
    status, listed = a.json("GET", "/auth/keys")
    assert {k["id"] for k in listed["keys"]} == {ka["id"], kb["id"]}

    status, r = a.json("DELETE", "/auth/keys/" + ka["id"])
    assert status == 200, r
    status, body = as_key(b, ka["key"])
    assert status == 403, body
    assert body["error"] == "Invalid API key"
    status, body = as_key(b, kb["key"])
    assert status == 200, body
    status, r = b.json("DELETE", "/auth/keys/" + ka["id"] + "0")
    assert status == 404, r


def test_expired_and_revoked_keys_go(daemon, start_bridge, pg, tmp_path):
    """An expired key is refused; auth.cleanupIntervalMs on one bridge
    deletes expired and revoked keys for all."""
    a = pg_bridge(daemon, start_bridge, pg, tmp_path,
                  {"auth": {"cleanupIntervalMs": 300}}, name="a")
    b = pg_bridge(daemon, start_bridge, pg, tmp_path, name="b")
    short = make_key(b, ttlMs=1)
    revoked = make_key(b)
    kept = make_key(b)
    status, body = as_key(b, short["key"])
    assert status == 403, body
    assert b.json("DELETE", "/auth/keys/" + revoked["id"])[0] == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ids = {k["id"] for k in b.json("GET", "/auth/keys")[1]["keys"]}
        if ids == {kept["id"]}:
            break
        time.sleep(0.1)
    assert ids == {kept["id"]}
    assert a.alive()


def test_database_outage(daemon, start_bridge, pg, tmp_path):
    """PostgreSQL stopped: a request that needs a key gets 503 with a
    clear message while /health and the master key still work; started
    again, keys work again without restarting the bridge.  The password
    is never printed."""
    a = pg_bridge(daemon, start_bridge, pg, tmp_path)
    k = make_key(a)
    pg.stop()
    status, body = as_key(a, k["key"])
    assert status == 503, body
    assert "key database is unreachable" in body["error"]
    status, body = a.json("POST", "/auth/keys", {"name": "x"})
    assert status == 503, body
    assert a.json("GET", "/health", auth=False)[0] == 200
    assert a.json("GET", "/sessions")[0] == 200
    pg.start()
    status, body = as_key(a, k["key"])
    assert status == 200, body
    make_key(a)
    assert a.stop() == 0
    out = a.proc.stdout.read()
    err = a.proc.stderr.read()
    assert "Auth DB: postgres://isol8:***@127.0.0.1" in out
    assert "unavailable" in err
    assert pg.password not in out + err


def test_bad_connection_strings(daemon, pg, tmp_path):
    """A wrong password fails at start without showing the password;
    mysql:// is refused by name."""
    wrong = pg.url.replace(pg.password, "not-" + pg.password)
    with pytest.raises(AssertionError) as e:
        Bridge(daemon.socket_path, key=MASTER, args=["--auth-db", wrong])
    assert "Cannot open --auth-db postgres://isol8:***@" in str(e.value)
    assert "password authentication failed" in str(e.value)
    assert pg.password not in str(e.value)
    param = (f"postgresql://isol8@127.0.0.1:{pg.port}/postgres"
             f"?sslmode=disable&password=x{pg.password}")
    with pytest.raises(AssertionError) as e:
        Bridge(daemon.socket_path, key=MASTER, args=["--auth-db", param])
    assert "?sslmode=disable&password=***" in str(e.value)
    assert pg.password not in str(e.value)
    with pytest.raises(AssertionError, match="MySQL is not supported"):
        Bridge(daemon.socket_path, key=MASTER,
               args=["--auth-db", "mysql://u:secret-my@localhost/db"])
