"""isol8's login, logout and API key resolution in isol8ctl, with a real
bridge (isol8ctl serve --auth-db) in front of a real isol8d, and $HOME a
temporary directory: the token isol8ctl login stores in
~/.isol8/credentials.json (mode 0600, never readable by others) is what
later --host commands use when neither --key nor $ISOL8_API_KEY is given;
expired, foreign, linked and malformed files are refused with clear
words; and isol8ctl serve's config file use (request defaults, the keys'
TTL, auto-prune)."""

import datetime
import json
import os
import signal
import stat
import time

import pytest

from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import run_ctl

MASTER = "master-key-for-login"
FAILURE = 1
USAGE = 2
KEY_REQUIRED = ("[ERR] API key required. Use --key, ISOL8_API_KEY env var, "
                "or `isol8ctl login`.\n")
EXPIRED = ("[WARN] Stored credentials have expired. Run `isol8ctl login` "
           "to re-authenticate.\n")


def ctl(home, *args, env=None, timeout=60):
    e = {"HOME": str(home), "ISOL8_API_KEY": ""}
    e.update(env or {})
    return run_ctl(*args, env=e, timeout=timeout)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout!r}" \
        f"\nstderr: {p.stderr!r}"
    return p


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{dt.microsecond // 1000:03d}Z"


def ms_of(text):
    return datetime.datetime.strptime(
        text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000


@pytest.fixture
def keyed(daemon, start_bridge, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    b = start_bridge(daemon, key=MASTER,
                     args=["--auth-db", str(tmp_path / "keys.db")],
                     env={"HOME": str(home)})
    return b, home


def creds_path(home):
    return home / ".isol8" / "credentials.json"


def write_creds(home, host, token="isol8_x", expires=None, mode=0o600):
    d = home / ".isol8"
    d.mkdir(mode=0o700, exist_ok=True)
    p = creds_path(home)
    if expires is None:
        expires = iso(datetime.datetime.now(datetime.timezone.utc)
                      + datetime.timedelta(hours=1))
    p.write_text(json.dumps({"host": host, "token": token,
                             "expiresAt": expires, "keyId": "k"}))
    p.chmod(mode)
    return p


# --------------------------------------------------------------------------
# login / logout


def test_login_stores_a_token_the_host_commands_use(keyed):
    b, home = keyed
    before = time.time() * 1000
    p = ok(ctl(home, "login", "--host", b.url + "/", "--key", MASTER,
               "--ttl", "600000"))
    after = time.time() * 1000
    assert p.stderr == "✔ Authenticated successfully\n", p
    lines = p.stdout.splitlines()
    assert lines[0] == f"  Host:    {b.url}", p
    assert lines[1].startswith("  Expires: "), p
    assert lines[2] == "  Stored:  ~/.isol8/credentials.json", p
    path = creds_path(home)
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    text = path.read_text()
    c = json.loads(text)
    assert list(c) == ["host", "token", "expiresAt", "keyId"]
    assert c["host"] == b.url  # one trailing '/' stripped, as isol8
    assert c["token"].startswith("isol8_") and len(c["token"]) == 6 + 64
    assert before + 600000 <= ms_of(c["expiresAt"]) <= after + 600000
    assert text.startswith('{\n  "host": ')  # JSON.stringify(c, null, 2)
    # The server knows the token under isol8's default name.
    status, keys = b.json("GET", "/auth/keys")
    mine = [k for k in keys["keys"] if k["id"] == c["keyId"]]
    assert mine and mine[0]["name"].startswith("cli-login-20"), keys
    # Neither --key nor $ISOL8_API_KEY: the stored token, for this host,
    # with or without one trailing '/'.
    for host in (b.url, b.url + "/"):
        q = ok(ctl(home, "run", "-e", "print(6*7)", "--host", host))
        assert q.stdout == "42\n", q
    q = ok(ctl(home, "session", "list", "--host", b.url))


def test_login_name_and_refusals(keyed, daemon, start_bridge, tmp_path):
    b, home = keyed
    ok(ctl(home, "login", "--host", b.url, "--key", MASTER, "--name", "ci"))
    status, keys = b.json("GET", "/auth/keys")
    assert [k["name"] for k in keys["keys"]][0] == "ci"
    p = ctl(home, "login", "--host", b.url, "--key", "wrong")
    assert p.returncode == FAILURE, p
    assert p.stderr == "✖ Authentication failed: Invalid API key\n", p
    # A bridge without --auth-db: isol8's 400 and its hint.
    plain = start_bridge(daemon, key=MASTER)
    p = ctl(home, "login", "--host", plain.url, "--key", MASTER)
    assert p.returncode == FAILURE, p
    assert p.stderr.startswith("✖ Authentication failed: DB-backed auth "
                               "is not enabled"), p
    assert p.stderr.endswith(
        "[WARN] DB-backed auth may not be enabled on the server.\n"
        "[WARN] Start the server with --auth-db <path> to enable it.\n"), p
    # The stored token is still the first login's.
    assert json.loads(creds_path(home).read_text())["host"] == b.url
    p = ctl(home, "login", "--host", "http://127.0.0.1:9", "--key", MASTER)
    assert p.returncode == FAILURE and p.stderr.startswith(
        "✖ Login failed: "), p
    for args in (("--key", MASTER), ("--host", b.url),
                 ("--host", b.url, "--key", MASTER, "--ttl", "soon")):
        p = ctl(home, "login", *args)
        assert p.returncode == USAGE and "isol8ctl login: " in p.stderr, p


def test_logout(keyed):
    b, home = keyed
    p = ok(ctl(home, "logout"))
    assert p.stdout == "[INFO] No stored credentials found.\n", p
    ok(ctl(home, "login", "--host", b.url, "--key", MASTER))
    p = ok(ctl(home, "logout"))
    assert p.stdout == \
        "[OK] Credentials removed from ~/.isol8/credentials.json\n", p
    assert not creds_path(home).exists()
    p = ctl(home, "run", "-e", "print(1)", "--host", b.url)
    assert p.returncode == FAILURE and p.stderr == KEY_REQUIRED, p


# --------------------------------------------------------------------------
# key resolution: --key, $ISOL8_API_KEY, the stored token


def test_resolution_order(keyed):
    b, home = keyed
    ok(ctl(home, "login", "--host", b.url, "--key", MASTER))
    # --key first: a wrong one is used (and refused), not the token.
    p = ctl(home, "run", "-e", "print(1)", "--host", b.url, "--key", "bad")
    assert p.returncode == FAILURE and "Invalid API key" in p.stderr, p
    p = ctl(home, "run", "-e", "print(1)", "--host", b.url,
            env={"ISOL8_API_KEY": "bad"})
    assert p.returncode == FAILURE and "Invalid API key" in p.stderr, p
    # The token is for its host only.
    other = b.url.replace("127.0.0.1", "localhost")
    p = ctl(home, "run", "-e", "print(1)", "--host", other)
    assert p.returncode == FAILURE and p.stderr == KEY_REQUIRED, p


def test_expired_credentials(keyed):
    b, home = keyed
    past = iso(datetime.datetime.now(datetime.timezone.utc)
               - datetime.timedelta(seconds=1))
    write_creds(home, b.url, expires=past)
    for args in (("run", "-e", "print(1)"), ("session", "list")):
        p = ctl(home, *args, "--host", b.url)
        assert p.returncode == FAILURE, p
        assert p.stderr == EXPIRED + KEY_REQUIRED, p


def test_token_expiry_is_the_servers(keyed):
    """The stored expiry is the server's: a token the server expired is
    refused there too."""
    b, home = keyed
    ok(ctl(home, "login", "--host", b.url, "--key", MASTER, "--ttl", "1"))
    p = ctl(home, "run", "-e", "print(1)", "--host", b.url)
    assert p.returncode == FAILURE and p.stderr == EXPIRED + KEY_REQUIRED, p


# --------------------------------------------------------------------------
# hostile files


def test_malformed_credentials(keyed):
    b, home = keyed
    cases = [
        ("{not json", "~/.isol8/credentials.json is not JSON: "),
        ('["a"]', '~/.isol8/credentials.json: "host" must be a string'),
        ('{"host": "%s", "token": 5, "expiresAt": "x"}' % b.url,
         '~/.isol8/credentials.json: "token" must be a string'),
        ('{"host": "%s", "token": "t", "expiresAt": "tomorrow"}' % b.url,
         '~/.isol8/credentials.json: "expiresAt" is not an ISO 8601 time'),
    ]
    write_creds(home, b.url)
    for text, words in cases:
        creds_path(home).write_text(text)
        p = ctl(home, "run", "-e", "print(1)", "--host", b.url)
        assert p.returncode == FAILURE, p
        assert p.stderr.startswith("[ERR] " + words), (text, p.stderr)
    # --key never reads the file.
    p = ok(ctl(home, "run", "-e", "print(1)", "--host", b.url,
               "--key", MASTER))
    # login replaces a malformed file.
    ok(ctl(home, "login", "--host", b.url, "--key", MASTER))
    ok(ctl(home, "run", "-e", "print(1)", "--host", b.url))


def test_symlinked_credentials_not_followed(keyed, tmp_path):
    b, home = keyed
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"host": b.url, "token": MASTER,
                                  "expiresAt": "2999-01-01T00:00:00.000Z",
                                  "keyId": "x"}))
    (home / ".isol8").mkdir(mode=0o700)
    creds_path(home).symlink_to(target)
    before = target.read_text()
    # Not read through the link ...
    p = ctl(home, "run", "-e", "print(1)", "--host", b.url)
    assert p.returncode == FAILURE, p
    assert p.stderr.startswith("[ERR] ~/.isol8/credentials.json is a "
                               "symbolic link: not followed"), p
    # ... nor written through it.
    p = ctl(home, "login", "--host", b.url, "--key", MASTER)
    assert p.returncode == FAILURE, p
    assert "is a symbolic link: not followed" in p.stderr, p
    assert target.read_text() == before
    assert creds_path(home).is_symlink()
    # logout removes the link, never its target.
    ok(ctl(home, "logout"))
    assert not creds_path(home).is_symlink() and target.exists()


def test_foreign_credentials_not_trusted(keyed):
    b, home = keyed
    p = write_creds(home, b.url, token=MASTER)
    os.chown(p, 65534, 65534)
    r = ctl(home, "run", "-e", "print(1)", "--host", b.url)
    assert r.returncode == FAILURE, r
    assert r.stderr.startswith("[ERR] ~/.isol8/credentials.json belongs to "
                               "uid 65534, not to you"), r
    r = ctl(home, "login", "--host", b.url, "--key", MASTER)
    assert r.returncode == FAILURE and "belongs to uid 65534" in r.stderr, r
    assert p.stat().st_uid == 65534
    # A directory others may write to is not trusted either.
    os.chown(p, 0, 0)
    (home / ".isol8").chmod(0o777)
    r = ctl(home, "login", "--host", b.url, "--key", MASTER)
    assert r.returncode == FAILURE and "is not trusted" in r.stderr, r
    r = ctl(home, "run", "-e", "print(1)", "--host", b.url)
    assert r.returncode == FAILURE and "is not trusted" in r.stderr, r


def test_credentials_never_readable_by_others(keyed):
    """Written under a permissive umask, the file is still 0600, and no
    other file is left in the directory."""
    b, home = keyed
    old = os.umask(0)
    try:
        ok(ctl(home, "login", "--host", b.url, "--key", MASTER))
    finally:
        os.umask(old)
    assert stat.S_IMODE(creds_path(home).stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".isol8").stat().st_mode) == 0o700
    assert os.listdir(home / ".isol8") == ["credentials.json"]
