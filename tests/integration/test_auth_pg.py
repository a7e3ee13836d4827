"""isol8ctl serve --auth-db postgres://...: the key database shared by
several bridges in a real PostgreSQL started for the test (initdb and
pg_ctl of Debian's postgresql package, as the unprivileged postgres user,
on 127.0.0.1 with password authentication)."""

import json
import time

import pytest

from isol8_bridge import Bridge, start_bridge  # noqa: F401
from pg_server import NOT_INSTALLED, Postgres, postgres_installed

MASTER = "master-key-for-pg"


@pytest.fixture
def pg():
    if not postgres_installed():
        pytest.skip(NOT_INSTALLED)
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
