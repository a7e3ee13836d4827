"""Custom images: `isol8ctl setup --python PKGS` / `--node PKGS` add a
layer of packages, installed by the daemon in a box on the runtime's base
image whose network reaches only the registry, with the versions the
package manager resolved; the same recipe reuses the image, --force builds
its layer again (not its base).  pip reaches a package index the test
serves on loopback; npm the real registry."""

import json
import os
import shutil
import stat
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from execute_helpers import module_daemon
from isol8_harness import BUILD, short_tmpdir
from test_images import CODENAME, ctl, ok
from pypi_index import start_pypi_index

HOST = "127.0.0.2"


@pytest.fixture
def index():
    srv, url = start_pypi_index(HOST, "isol8_img_mod", 42)
    yield url
    srv.shutdown()


def config(store, **more):
    return {"images": {"dir": str(store)},
            "network": {"allowPrivate": True,
                        "registry": {"python": r"^127\.0\.0\.2$"}},
            **more}


@pytest.fixture
def store():
    s = short_tmpdir("isol8-img-")
    yield s
    subprocess.run(["rm", "-rf", "--", str(s)], check=False)


@pytest.fixture
def daemon(store):
    yield from module_daemon(config=config(store))


def build(d, *args, env=None):
    out = ctl(d, "setup", *args, env=env)
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.splitlines()
    return line.split()


def run(d, image, runtime, code, *args):
    return ctl(d, "run", "-r", runtime, "--image", image, "-e", code, *args)


def test_python_image_from_a_local_index(daemon, index):
    env = ("--env", f"PIP_INDEX_URL={index}", "--env", "PIP_RETRIES=0")
    tag, digest, *rest = build(daemon, "--python", "isol8-img-mod", *env)
    assert tag.startswith("custom-python:") and len(tag) == 14 + 12
    assert digest.startswith("sha256:") and rest[:2] == ["built", "in"]
    assert rest[2].endswith("s") and float(rest[2][:-1]) > 0
    meta = ok(daemon, "image.inspect", {"ref": tag})
    assert meta["packages"] == {"isol8-img-mod": "1.0"}
    assert meta["installPackages"] == ["isol8-img-mod"]
    base = ok(daemon, "image.inspect", {"ref": f"python:{CODENAME}"})
    assert meta["base"] == base["digest"]
    assert meta["layers"][:-1] == base["layers"]
    assert len(meta["layers"]) == len(base["layers"]) + 1
    # A run on it imports the package with no installPackages and no
    # network.
    r = run(daemon, tag, "python",
            "import isol8_img_mod; print(isol8_img_mod.VALUE, "
            "isol8_img_mod.__file__)")
    assert r.returncode == 0, r.stderr
    value, path = r.stdout.split()
    assert value == "42" and path.startswith("/usr/local/lib/python3")
    # The base image stays without it.
    r = run(daemon, f"python:{CODENAME}", "python", "import isol8_img_mod")
    assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr
    # Same packages (in another order, repeated): the same image.
    again = build(daemon, "--python", "isol8-img-mod,isol8-img-mod", *env)
    assert again == [tag, digest, "already", "present"]
    # --force builds it again, on the same base, even on another day (the
    # builder's default SOURCE_DATE_EPOCH is the start of the UTC day).
    tomorrow = (int(time.time()) // 86400 + 1) * 86400
    forced = build(daemon, "--python", "isol8-img-mod", "--force", *env,
                   env={"SOURCE_DATE_EPOCH": str(tomorrow)})
    assert forced[0] == tag and forced[2:4] == ["built", "in"]
    assert forced[1] == digest  # the same files, byte for byte
    assert ok(daemon, "image.inspect",
              {"ref": f"python:{CODENAME}"})["digest"] == base["digest"]
    assert ok(daemon, "image.inspect", {"ref": tag})["created"] != \
        meta["created"]
    # Removed, it gives back its own layer alone: the base keeps its own.
    assert ctl(daemon, "image", "rm", tag).returncode == 0
    pruned = ok(daemon, "image.prune")["removedLayers"]
    assert pruned == meta["layers"][-1:]
    r = run(daemon, f"python:{CODENAME}", "python", "print('base ok')")
    assert r.stdout == "base ok\n", r.stderr


def test_node_image_from_the_npm_registry(daemon):
    tag, digest, *rest = build(daemon, "--node", "is-number",
                               "--name", "mynode:v1")
    assert tag == "mynode:v1" and rest[:2] == ["built", "in"]
    meta = ok(daemon, "image.inspect", {"ref": tag})
    version = meta["packages"]["is-number"]
    assert version.count(".") == 2
    r = run(daemon, tag, "node",
            "const n = require('is-number'); "
            "console.log(n(5), n('x'), require('is-number/package.json')"
            ".version)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["true", "false", version]
    again = build(daemon, "--node", "is-number", "--name", "mynode:v1",
                  "--force")
    assert again[:4] == [tag, digest, "built", "in"]


def test_image_setup_script_runs_before_each_execution(daemon, tmp_path):
    script = tmp_path / "setup.sh"
    script.write_text("echo \"image $IMG_VAR\" >> /sandbox/order\n")
    tag, _, *_ = build(daemon, "--node", "is-number", "--name", "nset:v1",
                       "--setup-script", script)
    meta = ok(daemon, "image.inspect", {"ref": tag})
    assert meta["setupScript"] == script.read_text()
    # Before the request's own setup script, with the request's env.
    r = ctl(daemon, "run", "-r", "node", "--image", tag, "--env",
            "IMG_VAR=x", "--setup", "echo request >> /sandbox/order",
            "--cmd", "cat /sandbox/order")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "image x\nrequest\n"
    # Before each execution of a session on the image.
    sid = ctl(daemon, "session", "create", "-r", "node", "--image",
              tag).stdout.strip()
    for n in (1, 2):
        r = ctl(daemon, "session", "exec", sid, "-r", "node", "-e",
                "process.stdout.write(require('fs')"
                ".readFileSync('/sandbox/order', 'utf8'))")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "image \n" * n
    assert ctl(daemon, "session", "rm", sid).returncode == 0
    # Another script is another recipe: another image, and its failure
    # fails the setup before the request's script runs.
    script.write_text("echo broken >&2; exit 3\n")
    other, _, *_ = build(daemon, "--node", "is-number", "--setup-script",
                         script)
    assert other.startswith("custom-node:")
    r = ctl(daemon, "run", "-r", "node", "--image", other, "--setup",
            "echo request-ran >&2", "-e", "console.log('code ran')")
    assert r.returncode != 0
    assert "Setup script failed (exit code 3)" in r.stderr
    assert "broken" in r.stderr
    assert "request-ran" not in r.stderr and "code ran" not in r.stdout
    # The base image has no script: a plain run.
    r = ctl(daemon, "run", "-r", "node", "--image", f"node:{CODENAME}",
            "--cmd", "ls /sandbox")
    assert r.returncode == 0 and r.stdout == ""


def test_bad_requests_refused(daemon, tmp_path):
    cases = [
        (("--python", "ok", "--name", "Bad:Name"), "--name"),
        (("--python", "ok", "--name", "x:latest"), "moving tag"),
        (("--python", "-evil"), "invalid package name"),
        (("--python", "a;rm"), "invalid package name"),
        (("--python", "ok", "--setup-script", tmp_path / "none"),
         "--setup-script"),
        (("--ruby", "x"), "unrecognized option"),
        (("--name", "x:y"), "--python, --node, --bun, --deno or --bash"),
        (("--python", "a", "--node", "b", "--name", "x:y"), "not several"),
    ]
    for args, words in cases:
        out = ctl(daemon, "setup", *args)
        assert out.returncode != 0 and words in out.stderr, (args, out)
    assert not [t for t in ok(daemon, "image.list")["images"]
                if any(x.startswith("custom") for x in t["tags"])]


def test_prebuilt_images_from_the_configuration(index, store):
    """`isol8ctl setup` builds the base images, then the configuration's
    prebuiltImages (isol8's key) under their tags, with their setup
    scripts; a second run finds them all present."""
    env = ("--env", f"PIP_INDEX_URL={index}", "--env", "PIP_RETRIES=0")
    with contextmanager(module_daemon)(config=config(store, prebuiltImages=[
            {"tag": "pre-node:v1", "runtime": "node",
             "installPackages": ["is-number"],
             "setupScript": "echo node-setup > /sandbox/pre\n"},
            {"tag": "pre-py:v1", "runtime": "python",
             "installPackages": ["isol8-img-mod"], "setupScript": None},
    ])) as d:
        out = ctl(d, "setup", "-r", "node,python", *env)
        assert out.returncode == 0, out.stderr
        lines = [ln.split() for ln in out.stdout.splitlines()]
        assert [ln[0] for ln in lines] == [
            f"node:{CODENAME}", f"python:{CODENAME}", "pre-node:v1",
            "pre-py:v1"]
        assert lines[2][2:4] == ["built", "in"] == lines[3][2:4]
        meta = ok(d, "image.inspect", {"ref": "pre-node:v1"})
        assert meta["setupScript"] == "echo node-setup > /sandbox/pre\n"
        assert "is-number" in meta["packages"]
        r = run(d, "pre-node:v1", "node",
                "console.log(require('is-number')(1), require('fs')"
                ".readFileSync('/sandbox/pre', 'utf8').trim())")
        assert r.stdout == "true node-setup\n", r.stderr
        r = run(d, "pre-py:v1", "python",
                "import isol8_img_mod; print(isol8_img_mod.VALUE)")
        assert r.stdout == "42\n", r.stderr
        again = ctl(d, "setup", "-r", "node,python", *env)
        assert again.returncode == 0, again.stderr
        assert [ln.split()[1:] for ln in again.stdout.splitlines()] == \
            [[ln[1], "already", "present"] for ln in lines]
        # --runtime limits the prebuilt images too.
        only = ctl(d, "setup", "-r", "node")
        assert [ln.split()[0] for ln in only.stdout.splitlines()] == [
            f"node:{CODENAME}", "pre-node:v1"]




@pytest.mark.parametrize("entry,words", [
    ({"runtime": "node", "installPackages": ["x"]},
     ["prebuiltImages[0].tag", "required"]),
    ({"tag": "a:latest", "runtime": "node", "installPackages": ["x"]},
     ["prebuiltImages[0].tag", "latest"]),
    ({"tag": "a:b", "runtime": "ruby", "installPackages": ["x"]},
     ["prebuiltImages[0].runtime", "python", "\"bash\""]),
    ({"tag": "a:b", "runtime": "node", "installPackages": []},
     ["prebuiltImages[0].installPackages"]),
    ({"tag": "a:b", "runtime": "node", "installPackages": ["-x"]},
     ["prebuiltImages[0].installPackages[0]", "package name"]),
    ({"tag": "a:b", "runtime": "node", "installPackages": ["x"],
      "setupScript": 3}, ["prebuiltImages[0].setupScript"]),
    ({"tag": "a:b", "runtime": "node", "installPackages": ["x"],
      "extra": 1}, ["prebuiltImages[0].extra", "unknown key"]),
    ({"tag": "a:b", "runtime": "bash", "installPackages": ["Jq"]},
     ["prebuiltImages[0].installPackages[0]", "Debian package name"]),
    ({"tag": "a:b", "runtime": "bash", "installPackages": ["@x/y"]},
     ["prebuiltImages[0].installPackages[0]", "Debian package name"]),
    ({"installPackages": ["x;y"], "tag": "a:b", "runtime": "bun"},
     ["prebuiltImages[0].installPackages[0]", "package name"]),
])
def test_bad_prebuilt_images_refused(tmp_path, entry, words):
    conf = tmp_path / "isol8d.json"
    conf.write_text(json.dumps({"prebuiltImages": [entry]}))
    out = subprocess.run([str(BUILD / "isol8d"), "--config", str(conf),
                          "--check-config"], capture_output=True, text=True,
                         timeout=15)
    assert out.returncode != 0
    for w in words:
        assert w in out.stderr, out.stderr


# Run by site at every python start in the install box (a .pth line that
# starts with "import"), after tar and before `pip list`: it replaces the
# layer's archive with a hostile one.
HOSTILE = r'''
import io, os, sys, tarfile
site = "lib/python%d.%d/site-packages/" % sys.version_info[:2]
m = os.environ.get("MARK")
def add(t, name, data=b"", kind=tarfile.REGTYPE, link="", mode=0o644):
    i = tarfile.TarInfo(name)
    i.type, i.linkname, i.mode = kind, link, mode
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    if kind == tarfile.CHRTYPE:
        i.devmajor, i.devminor = 1, 3
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
if m and not os.path.exists("/sandbox/.hostile-done"):
    open("/sandbox/.hostile-done", "w").close()
    with tarfile.open("/sandbox/.isol8-layer.tgz", "w:gz") as t:
        add(t, site + "fine.py", b"FINE = 1\n")
        if os.environ["KIND"] == "escape":
            add(t, "../../../../../tmp/" + m + "-dotdot", b"x")
            add(t, "/tmp/" + m + "-abs", b"x")
            add(t, site + "out", kind=tarfile.SYMTYPE,
                link="/tmp/" + m + "-dir")
            add(t, site + "out/pwned", b"x")
        else:
            add(t, site + "suid", b"#!/bin/sh\n", mode=0o6755)
            add(t, site + "null", kind=tarfile.CHRTYPE)
            add(t, site + "fifo", kind=tarfile.FIFOTYPE)
'''


@pytest.mark.parametrize("kind", ["escape", "unsafe"])
def test_hostile_layer_archive_stays_in_the_layer(daemon, store, kind):
    """Code the packages bring runs in the install box and may replace
    the archive the builder unpacks as root: members with "..", absolute
    names or a write through a symlink fail the build with nothing
    written outside; setuid bits, device nodes and fifos never reach the
    layer."""
    mark = f"isol8-hostile-{uuid.uuid4().hex[:8]}"
    outdir = Path("/tmp") / f"{mark}-dir"
    outdir.mkdir()
    line = "import os; exec(%r, {}) if os.environ.get('MARK') else None\n" % \
        HOSTILE
    srv, url = start_pypi_index(HOST, "isol8_evil_mod", 1,
                                extra={"isol8_evil.pth": line})
    try:
        out = ctl(daemon, "setup", "--python", "isol8-evil-mod", "--env",
                  f"PIP_INDEX_URL={url}", "--env", "PIP_RETRIES=0",
                  "--env", f"MARK={mark}", "--env", f"KIND={kind}")
        for suffix in ("-dotdot", "-abs"):
            assert not (Path("/tmp") / (mark + suffix)).exists()
        assert list(outdir.iterdir()) == []
        for top, dirs, files in os.walk(store):
            for name in dirs + files:
                mode = os.lstat(os.path.join(top, name)).st_mode
                assert stat.S_ISDIR(mode) or stat.S_ISREG(mode) or \
                    stat.S_ISLNK(mode), (top, name)
                assert stat.S_ISLNK(mode) or not mode & 0o6000, (top, name)
        assert not list((store / "tmp").glob("custom-*"))
        if kind == "unsafe":
            assert out.returncode == 0, out.stderr
            tag = out.stdout.split()[0]
            r = run(daemon, tag, "python",
                    "import fine, os; d = os.path.dirname(fine.__file__); "
                    "print(fine.FINE, sorted(os.listdir(d)), "
                    "oct(os.stat(d + '/suid').st_mode & 0o7777))")
            assert r.stdout == "1 ['fine.py', 'suid'] 0o755\n", r.stderr
        else:
            assert out.returncode != 0
            assert "cannot unpack the installed files" in out.stderr
    finally:
        srv.shutdown()
        shutil.rmtree(outdir)
