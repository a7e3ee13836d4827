"""isol8's configuration file in isol8ctl: ./isol8.config.json, else
~/.isol8/config.json (the first found wins, no merging of the two), merged
over isol8's defaults; `isol8ctl config [--json]` in isol8's layouts; the
defaults isol8's `run` takes from it applied to real runs through the real
daemon (flags win, the daemon's ceilings still apply); bad values named;
the daemon's own view under `isol8ctl daemon-config`."""

import json
import os
import subprocess

import pytest

from execute_helpers import TIMEOUT_EVENT, shared_daemon  # noqa: F401
from isol8_harness import BUILD

FAILURE = 1

BLOCKED_HOSTS = [
    r"^localhost$",
    r"^127(?:\.[0-9]{1,3}){3}$",
    r"^\[::1\]$",
    r"^::1$",
    r"^10(?:\.[0-9]{1,3}){3}$",
    r"^172\.(?:1[6-9]|2[0-9]|3[0-1])(?:\.[0-9]{1,3}){2}$",
    r"^192\.168(?:\.[0-9]{1,3}){2}$",
    r"^169\.254(?:\.[0-9]{1,3}){2}$",
    r"^metadata\.google\.internal$",
    r"^169\.254\.169\.254$",
]

# isol8 v0.20's `isol8 config --json` with no file (its DEFAULT_CONFIG), in
# its key order.
ISOL8_DEFAULTS = {
    "maxConcurrent": 10,
    "defaults": {"timeoutMs": 30000, "memoryLimit": "512m", "cpuLimit": 1,
                 "network": "none", "sandboxSize": "512m",
                 "tmpSize": "256m", "readonlyRootFs": True},
    "network": {"whitelist": [], "blacklist": []},
    "cleanup": {"autoPrune": True, "maxContainerAgeMs": 3600000},
    "poolStrategy": "fast",
    "poolSize": {"clean": 1, "dirty": 1},
    "security": {"seccomp": "strict"},
    "remoteCode": {"enabled": False, "allowedSchemes": ["https"],
                   "allowedHosts": [], "blockedHosts": BLOCKED_HOSTS,
                   "maxCodeSize": 10485760, "fetchTimeoutMs": 30000,
                   "requireHash": False, "enableCache": True,
                   "cacheTtl": 3600},
    "audit": {"enabled": False, "destination": "filesystem",
              "trackResources": True, "retentionDays": 90,
              "includeCode": False, "includeOutput": False},
    "auth": {"enabled": False, "defaultTtlMs": 86400000,
             "cleanupIntervalMs": 3600000},
    "prebuiltImages": [],
    "debug": False,
}

# isol8 v0.20's `isol8 config` with no file, line for line.
ISOL8_DEFAULTS_HUMAN = """
Isol8 Configuration

  Source: defaults (no config file found)

  ── General ──
  Max concurrent:  10

  ── Defaults ──
  Timeout:         30000ms
  Memory limit:    512m
  CPU limit:       1
  Network:         none
  Sandbox size:    512m
  Tmp size:        256m

  ── Network Filter ──
  Whitelist:       (none)

  ── Remote Code ──
  Enabled:         no
  Schemes:         https
  Max code size:   10485760 bytes
  Fetch timeout:   30000ms
  Require hash:    no
  Blacklist:       (none)

  ── Cleanup ──
  Auto-prune:      yes
  Max idle time:   3600000ms (60min)

  ── Pool Defaults (Serve) ──
  Pool strategy:   fast
  Pool size:       1,1

"""


@pytest.fixture
def places(tmp_path):
    """(cwd, home): an empty working directory and an empty HOME."""
    cwd, home = tmp_path / "work", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    return cwd, home


def ctl(places, *args, daemon=None, timeout=60):
    """isol8ctl [--socket S] ARGS in places' cwd with places' HOME."""
    cwd, home = places
    argv = [str(BUILD / "isol8ctl")]
    if daemon is not None:
        argv += ["--socket", str(daemon.socket_path)]
    env = {k: v for k, v in os.environ.items()
           if k not in ("ISOL8_SOCKET", "ISOL8_API_KEY")}
    env["HOME"] = str(home)
    return subprocess.run(argv + [str(a) for a in args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def cwd_file(places, doc):
    p = places[0] / "isol8.config.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def home_file(places, doc):
    d = places[1] / ".isol8"
    d.mkdir(exist_ok=True)
    p = d / "config.json"
    p.write_text(json.dumps(doc))
    return p


def ok(p):
    assert p.returncode == 0, \
        f"exit {p.returncode}\nstdout: {p.stdout!r}\nstderr: {p.stderr!r}"
    return p


def merged(**sections):
    """ISOL8_DEFAULTS with sections merged in (one level deep)."""
    doc = json.loads(json.dumps(ISOL8_DEFAULTS))
    for k, v in sections.items():
        if isinstance(v, dict) and isinstance(doc.get(k), dict):
            doc[k].update(v)
        else:
            doc[k] = v
    return doc


# --------------------------------------------------------------------------
# isol8ctl config and config --json


def test_no_file_prints_isol8s_defaults(places):
    p = ok(ctl(places, "config", "--json"))
    # JSON.stringify(config, null, 2): the same text, key order included.
    assert p.stdout == json.dumps(ISOL8_DEFAULTS, indent=2,
                                  ensure_ascii=False) + "\n"
    p = ok(ctl(places, "config"))
    assert p.stdout == ISOL8_DEFAULTS_HUMAN
    assert p.stderr == ""


def test_home_file_is_read_and_merged(places):
    path = home_file(places, {"defaults": {"timeoutMs": 5000},
                              "network": {"whitelist": ["^a\\.example$"]},
                              "poolSize": 3})
    doc = json.loads(ok(ctl(places, "config", "--json")).stdout)
    assert doc == merged(defaults={"timeoutMs": 5000},
                         network={"whitelist": ["^a\\.example$"],
                                  "blacklist": []},
                         poolSize=3)
    out = ok(ctl(places, "config")).stdout
    assert f"  Source: {path}\n" in out
    assert "  Timeout:         5000ms\n" in out
    assert "  Memory limit:    512m\n" in out
    assert "  Whitelist:       ^a\\.example$\n" in out
    assert "  Pool size:       3\n" in out


def test_cwd_file_wins_and_files_are_not_merged(places):
    home_file(places, {"defaults": {"memoryLimit": "1g"}, "maxConcurrent": 3})
    path = cwd_file(places, {"defaults": {"timeoutMs": 1234}})
    doc = json.loads(ok(ctl(places, "config", "--json")).stdout)
    assert doc == merged(defaults={"timeoutMs": 1234})
    out = ok(ctl(places, "config")).stdout
    assert f"  Source: {path}\n" in out
    assert "  Memory limit:    512m\n" in out
    assert "  Max concurrent:  10\n" in out


def test_keys_merge_as_isol8s(places):
    """Unknown top-level keys and unknown keys of rebuilt sections are
    dropped; sections isol8 copies whole keep them; null keeps the default;
    numbers print as JavaScript prints them."""
    cwd_file(places, {
        "$schema": "https://example.invalid/schema.json",
        "notAKey": 1,
        "defaults": {"cpuLimit": 2.0, "memoryLimit": None, "extra": [1.5]},
        "network": {"blacklist": ["^evil$"], "other": True},
        "security": {"customProfilePath": "/p.json", "more": 1},
        "cleanup": {"maxContainerAgeMs": 90000},
        "audit": {"logDir": "/var/log/a"},
        "auth": {"connectionString": "postgres://db"},
    })
    p = ok(ctl(places, "config", "--json"))
    doc = json.loads(p.stdout)
    exp = merged(defaults={"cpuLimit": 2, "extra": [1.5]},
                 network={"whitelist": [], "blacklist": ["^evil$"]},
                 security={"seccomp": "strict",
                           "customProfilePath": "/p.json"},
                 cleanup={"maxContainerAgeMs": 90000},
                 auth={"connectionString": "postgres://db"})
    exp["audit"] = {"enabled": False, "destination": "filesystem",
                    "logDir": "/var/log/a", "trackResources": True,
                    "retentionDays": 90, "includeCode": False,
                    "includeOutput": False}
    assert doc == exp
    # Key order as isol8's object spread makes it.
    assert p.stdout == json.dumps(exp, indent=2) + "\n"
    assert '"cpuLimit": 2,' in p.stdout
    out = ok(ctl(places, "config")).stdout
    assert "  CPU limit:       2\n" in out
    # isol8 prints the network blacklist under Remote Code.
    assert "  Require hash:    no\n  Blacklist:       ^evil$\n" in out
    assert "  Max idle time:   90000ms (2min)\n" in out


@pytest.mark.parametrize("doc,key", [
    ({"defaults": {"timeoutMs": "5s"}}, "defaults.timeoutMs"),
    ({"defaults": {"timeoutMs": 0}}, "defaults.timeoutMs"),
    ({"defaults": {"memoryLimit": "lots"}}, "defaults.memoryLimit"),
    ({"defaults": {"cpuLimit": -1}}, "defaults.cpuLimit"),
    ({"defaults": {"network": "wifi"}}, "defaults.network"),
    ({"defaults": 5}, "defaults"),
    ({"network": {"whitelist": "^a$"}}, "network.whitelist"),
    ({"network": {"blacklist": [1]}}, "network.blacklist"),
    ({"poolStrategy": "slow"}, "poolStrategy"),
    ({"poolSize": {"clean": 1}}, "poolSize"),
    ({"debug": "yes"}, "debug"),
    ({"security": {"seccomp": "off"}}, "security.seccomp"),
    ({"prebuiltImages": [{"tag": "t", "runtime": "ruby",
                          "installPackages": []}]}, "prebuiltImages[0]"),
])
def test_bad_values_are_named(places, doc, key):
    path = cwd_file(places, doc)
    for args in (["config"], ["config", "--json"],
                 ["run", "--cmd", "echo never"]):
        p = ctl(places, *args)
        assert p.returncode == FAILURE, (args, p)
        assert p.stdout == "", p.stdout
        assert p.stderr.startswith(f"[ERR] {path}: {key}: expected"), \
            p.stderr


@pytest.mark.parametrize("text,words", [
    ("{\"defaults\": {},}", "invalid JSON"),
    ("", "invalid JSON"),
    ("[1]", "the top level must be an object"),
])
def test_bad_json_is_named(places, text, words):
    path = cwd_file(places, text)
    p = ctl(places, "config")
    assert p.returncode == FAILURE, p
    assert p.stderr.startswith(f"[ERR] {path}: ") and words in p.stderr, \
        p.stderr


def test_unreadable_file_is_named(places):
    (places[0] / "isol8.config.json").mkdir()
    p = ctl(places, "config")
    assert p.returncode == FAILURE, p
    assert str(places[0] / "isol8.config.json") in p.stderr
    assert "Is a directory" in p.stderr, p.stderr


def test_config_needs_no_daemon(places, tmp_path):
    cwd_file(places, {"maxConcurrent": 2})
    p = ok(ctl(places, "--socket", tmp_path / "absent.sock", "config"))
    assert "  Max concurrent:  2\n" in p.stdout


def test_config_usage(places):
    p = ok(ctl(places, "config", "--help"))
    assert p.stdout.startswith("Usage: isol8ctl config")
    assert "daemon-config" in p.stdout
    p = ctl(places, "config", "extra")
    assert p.returncode == 2 and "extra" in p.stderr, p


# --------------------------------------------------------------------------
# run takes the file's defaults


SLOW = ["--cmd", "echo started; sleep 30"]


def test_run_timeout_from_cwd_file(places, shared_daemon):
    cwd_file(places, {"defaults": {"timeoutMs": 700}})
    p = ctl(places, "run", *SLOW, daemon=shared_daemon)
    assert p.returncode == 137, p
    assert p.stdout == "started\n", p
    assert TIMEOUT_EVENT in p.stderr, p.stderr


def test_run_timeout_from_home_file(places, shared_daemon):
    home_file(places, {"defaults": {"timeoutMs": 700}})
    p = ctl(places, "run", "--no-stream", *SLOW, daemon=shared_daemon)
    assert p.returncode == 137, p
    assert TIMEOUT_EVENT in p.stderr, p.stderr


def test_run_cwd_file_wins_over_home(places, shared_daemon):
    home_file(places, {"defaults": {"timeoutMs": 700}})
    cwd_file(places, {"defaults": {"cpuLimit": 0.5}})
    p = ok(ctl(places, "run", "--cmd", "sleep 1.5; echo done",
               daemon=shared_daemon))
    assert p.stdout == "done\n"


def test_run_flag_wins_over_file(places, shared_daemon):
    cwd_file(places, {"defaults": {"timeoutMs": 700}})
    p = ok(ctl(places, "run", "--timeout", "30000", "--cmd",
               "sleep 1.5; echo done", daemon=shared_daemon))
    assert p.stdout == "done\n"


def test_run_memory_above_ceiling_is_the_daemons_error(places,
                                                      shared_daemon):
    cwd_file(places, {"defaults": {"memoryLimit": "1024g"}})
    p = ctl(places, "run", "--cmd", "echo never", daemon=shared_daemon)
    assert p.returncode == FAILURE, p
    assert "options.memoryLimit 1024g exceeds" in p.stderr, p.stderr
    assert "limits.memoryLimit (4g)" in p.stderr, p.stderr
    assert "never" not in p.stdout
    p = ok(ctl(places, "run", "--memory", "64m", "--cmd", "echo ran",
               daemon=shared_daemon))
    assert p.stdout == "ran\n"


def test_run_sends_isol8s_run_defaults(places, shared_daemon):
    """debug, cpuLimit, memoryLimit and the network lists come from the file
    (--debug shows the request); --allow replaces the file's whitelist;
    defaults.network and sandboxSize are not used by isol8's run."""
    cwd_file(places, {"debug": True,
                      "defaults": {"cpuLimit": 0.5, "memoryLimit": "256m",
                                   "network": "host",
                                   "sandboxSize": "1g"},
                      "network": {"whitelist": ["^a\\.test$"],
                                  "blacklist": ["^b\\.test$"]}})
    p = ok(ctl(places, "run", "--cmd", "echo ran", daemon=shared_daemon))
    assert p.stdout == "ran\n"
    line = next(ln for ln in p.stderr.splitlines()
                if ln.startswith("[DEBUG] request: "))
    opts = json.loads(line[len("[DEBUG] request: "):])["options"]
    assert opts["cpuLimit"] == 0.5 and opts["memoryLimit"] == "256m"
    assert opts["networkFilter"] == {"whitelist": ["^a\\.test$"],
                                     "blacklist": ["^b\\.test$"]}
    assert "network" not in opts and "sandboxSize" not in opts
    assert "timeoutMs" not in opts  # not in the file: the daemon's default

    p = ok(ctl(places, "run", "--allow", "^c\\.test$", "--cmd", "echo ran",
               daemon=shared_daemon))
    line = next(ln for ln in p.stderr.splitlines()
                if ln.startswith("[DEBUG] request: "))
    opts = json.loads(line[len("[DEBUG] request: "):])["options"]
    assert opts["networkFilter"] == {"whitelist": ["^c\\.test$"],
                                     "blacklist": ["^b\\.test$"]}


def test_run_help_works_with_a_bad_file(places):
    cwd_file(places, "{")
    p = ok(ctl(places, "run", "--help"))
    assert p.stdout.startswith("Usage: isol8ctl run")


# --------------------------------------------------------------------------
# The daemon's own view, renamed


def test_daemon_config_is_the_daemons_view(places, shared_daemon):
    cwd_file(places, {"maxConcurrent": 2})
    p = ok(ctl(places, "daemon-config", "--json", daemon=shared_daemon))
    doc = json.loads(p.stdout)
    assert set(doc) >= {"config", "sources"}
    assert doc["config"]["server"]["socket"] == str(shared_daemon.socket_path)
    p = ok(ctl(places, "daemon-config", daemon=shared_daemon))
    assert p.stdout.startswith("# config file: ")
    assert "server.socket" in p.stdout
