"""The configuration file: bad keys and types are refused at start-up with
the key's JSON path in the message, --check-config, missing files."""

import json
import subprocess

import pytest

from isol8_harness import BUILD, DEFAULT_CONFIG, short_tmpdir

BAD_CONFIGS = [
    # (config, words the one-line message must contain)
    ({"server": {"bogus": 1}}, ["server.bogus", "unknown key"]),
    ({"frobnicate": True}, ["frobnicate", "unknown key"]),
    ({"sandbox": {"uidBase": 100000, "color": "red"}},
     ["sandbox.color", "unknown key"]),
    ({"server": {"maxConnections": "many"}},
     ["server.maxConnections", "must be"]),
    ({"server": {"maxConnections": -1}}, ["server.maxConnections"]),
    ({"server": {"maxConnections": 1.5}}, ["server.maxConnections"]),
    ({"server": {"maxConnections": 0}},
     ["server.maxConnections", "out of range"]),
    ({"server": {"socket": {"path": "/x"}}}, ["server.socket", "string"]),
    ({"server": {"socket": ""}}, ["server.socket"]),
    ({"server": {"socketMode": "rw-rw----"}}, ["server.socketMode"]),
    ({"server": {"maxFrameBytes": "lots"}},
     ["server.maxFrameBytes", "Invalid memory limit format"]),
    ({"defaults": {"readonlyRootFs": "yes"}},
     ["defaults.readonlyRootFs", "true or false"]),
    ({"defaults": {"cpuLimit": "1"}}, ["defaults.cpuLimit", "number"]),
    ({"defaults": {"memoryLimit": None}}, ["defaults.memoryLimit"]),
    ({"defaults": {"network": "everywhere"}},
     ["defaults.network", "everywhere"]),
    ({"defaults": {"seccomp": "lax"}}, ["defaults.seccomp", "lax"]),
    ({"defaults": {"seccomp": "unconfined"}},
     ["defaults.seccomp", "security.allowUnconfined"]),
    ({"security": {"profileDir": "profiles"}},
     ["security.profileDir", "absolute"]),
    ({"sessions": {"hibernateDir": "hibernated"}},
     ["sessions.hibernateDir", "absolute"]),
    ({"sandbox": {"criuPath": "criu"}}, ["sandbox.criuPath", "absolute"]),
    ({"sessions": {"hibernateOnStop": 1}},
     ["sessions.hibernateOnStop", "true or false"]),
    ({"security": {"allowUnconfined": "yes"}},
     ["security.allowUnconfined", "true or false"]),
    ({"server": 5}, ["server", "object"]),
    ({"defaults": []}, ["defaults", "object"]),
    ({"network": {"registry": {"python": "^(pypi\\.org"}}},
     ["network.registry.python", "at offset 11", "missing closing"]),
    ({"network": {"registry": {"node": "x" * 1025}}},
     ["network.registry.node", "1025 bytes long", "limit of 1024"]),
]


def _ids(cases):
    return [json.dumps(c, separators=(",", ":"))[:50] for c, _ in cases]


@pytest.fixture
def workdir():
    d = short_tmpdir()
    yield d
    for p in sorted(d.rglob("*"), reverse=True):
        p.unlink() if not p.is_dir() else p.rmdir()
    d.rmdir()


def _run(args, timeout=15):
    return subprocess.run([str(BUILD / "isol8d")] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("cfg,words", BAD_CONFIGS, ids=_ids(BAD_CONFIGS))
def test_bad_config_refused_at_start(workdir, cfg, words):
    conf = workdir / "bad.json"
    conf.write_text(json.dumps(cfg))
    sock = workdir / "isol8.sock"
    pid = workdir / "isol8d.pid"
    out = _run(["--config", conf, "--socket", sock, "--pid-file", pid])
    assert out.returncode != 0
    msg = out.stderr.strip()
    assert "\n" not in msg, f"expected one line, got {msg!r}"
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert not sock.exists(), "a refused start left a socket file"
    assert not pid.exists(), "a refused start left a pid file"
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.json"]

    # --check-config says the same and exits non-zero.
    out2 = _run(["--config", conf, "--check-config"])
    assert out2.returncode != 0
    for w in words:
        assert w in out2.stderr


@pytest.mark.parametrize("text,words", [
    ("{\"server\": {", ["bad.json"]),
    ("[1, 2]", ["bad.json", "object"]),
    ("", ["bad.json"]),
    ("{\"server\": {\"maxConnections\": 5}} trailing", ["bad.json"]),
    ("{\"a\": \"\xff\"}", ["bad.json"]),
])
def test_unparsable_config_file(workdir, text, words):
    conf = workdir / "bad.json"
    conf.write_bytes(text.encode("latin-1"))
    out = _run(["--config", conf, "--socket", workdir / "s.sock"])
    assert out.returncode != 0
    for w in words:
        assert w in out.stderr, out.stderr
    assert not (workdir / "s.sock").exists()


def test_check_config_good_file(workdir):
    conf = workdir / "good.json"
    conf.write_text(json.dumps({
        "server": {"socket": str(workdir / "never.sock"),
                   "maxFrameBytes": "1m", "maxConnections": 10,
                   "socketMode": "0600"},
        "defaults": {"memoryLimit": "256m", "cpuLimit": 0.5,
                     "readonlyRootFs": False},
        "sandbox": {"maxBoxes": 8},
    }))
    out = _run(["--config", conf, "--check-config"])
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout and str(conf) in out.stdout
    assert not (workdir / "never.sock").exists(), \
        "--check-config must not start serving"


def test_config_socket_key_is_used(start_daemon, workdir):
    sock = workdir / "from-config.sock"
    d = start_daemon(config={"server": {"socket": str(sock)}})
    # The fixture passes --socket, which wins over the file.
    assert d.socket_path.exists()
    assert not sock.exists()
    with d.client() as c:
        r = c.result("config.get")
    assert r["sources"]["server.socket"] == "command line"


def test_missing_config_file_is_an_error(workdir):
    missing = workdir / "nope.json"
    out = _run(["--config", missing, "--socket", workdir / "s.sock"])
    assert out.returncode != 0
    assert str(missing) in out.stderr
    assert "No such file or directory" in out.stderr
    assert not (workdir / "s.sock").exists()
    out = _run(["--config", missing, "--check-config"])
    assert out.returncode != 0 and str(missing) in out.stderr


def test_missing_default_config_is_fine(workdir):
    if DEFAULT_CONFIG.exists():
        pytest.skip(f"{DEFAULT_CONFIG} exists on this machine")
    out = _run(["--check-config"])
    assert out.returncode == 0, out.stderr
    assert "built-in defaults" in out.stdout


def test_security_settings_are_shown_with_their_source(start_daemon):
    """Off by default; what the file sets shows as coming from it."""
    d = start_daemon()
    out = json.loads(d.ctl("daemon-config", "--json").stdout)
    assert out["config"]["security"] == {
        "allowUnconfined": False, "allowCustomProfiles": False,
        "profileDir": "/etc/isol8/seccomp",
        "unconfinedDropsMandatoryDenials": False}
    assert out["sources"]["security.allowUnconfined"] == "default"
    d2 = start_daemon(config={"security": {"allowCustomProfiles": True,
                                           "profileDir": "/srv/profiles"}})
    out = json.loads(d2.ctl("daemon-config", "--json").stdout)
    assert out["config"]["security"]["allowCustomProfiles"] is True
    assert out["config"]["security"]["profileDir"] == "/srv/profiles"
    assert out["sources"]["security.profileDir"] == str(d2.config_path)
