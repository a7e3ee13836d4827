"""Images: boxes on a root file system of their own, built from Debian
packages by tools/isol8-image-build into the store under images.dir, referred to
by name:tag or digest, listed, inspected, removed (never while in use) and
pruned.

The base images are built once into a cache (ISOL8_IMAGE_CACHE, by default
/var/cache/isol8/test-images) and copied into each test's store with hard
links, so only the first run of the suite pays for mmdebstrap."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from execute_helpers import execute, execute_raw
from isol8_harness import (BUILD, Daemon, box_cgroups, check_error,
                           daemon_cgroup_dirs, short_tmpdir, wait_until)
from tenant_client import OtherUid, open_socket_to_all

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "isol8-image-build"
CACHE = os.environ.get("ISOL8_IMAGE_CACHE", "/var/cache/isol8/test-images")
CODENAME = next(line.split("=", 1)[1].strip() for line in
                open("/etc/os-release") if line.startswith("VERSION_CODENAME="))
PYTHON = f"python:{CODENAME}"
INVALID_ARGUMENT = -32602
NOT_FOUND = -32004
CONFLICT = -32009


def build_store(store, *runtimes):
    args = [str(TOOL), "base", "--dir", str(store), "--cache", CACHE]
    for r in runtimes:
        args += ["--runtime", r]
    out = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    return out.stdout


def start(store, **config):
    d = Daemon(build=BUILD, config={"images": {"dir": str(store), **config}})
    d.start()
    return d


@pytest.fixture
def store():
    s = short_tmpdir("isol8-img-")
    build_store(s, "python")
    yield s
    subprocess.run(["rm", "-rf", "--", str(s)], check=False)


@pytest.fixture
def daemon(store):
    d = start(store)
    yield d
    d.assert_clean_exit()
    d.close()
    d.cleanup_dir()


def call(d, method, params=None):
    with d.client(timeout=60) as c:
        return c.call(method, params or {}, timeout=60)


def ok(d, method, params=None):
    msg = call(d, method, params)
    assert "error" not in msg, f"{method} failed: {msg['error']!r}"
    return msg["result"]


def run_py(d, code, image=None, **kw):
    opts = {"image": image} if image else None
    return execute(d, {"code": code, "runtime": "python"}, opts, **kw)


def refused(msg, code, kind, words=()):
    check_error(msg, code, kind=kind, id=msg.get("id"), words=words)


def mount_count(pid):
    with open(f"/proc/{pid}/mountinfo") as f:
        return sum(1 for _ in f)


def test_box_on_image_sees_the_image_not_the_host(daemon):
    """A host file under /usr (which host-image boxes see) is absent from
    a box on the python image, which runs the image's own python."""
    marker = Path("/usr/share") / f"isol8-test-{uuid.uuid4().hex}"
    local = Path("/usr/local/share") / f"isol8-test-{uuid.uuid4().hex}"
    marker.write_text("host\n")
    local.write_text("host\n")
    code = ("import os, sys; print(os.path.exists(%r), os.path.exists(%r),"
            " sys.executable, sys.version.split()[0])" % (str(marker),
                                                          str(local)))
    try:
        host = run_py(daemon, code, image="host")["stdout"].split()
        img = run_py(daemon, code, image=PYTHON)["stdout"].split()
    finally:
        marker.unlink()
        local.unlink()
    assert host[0] == "True"  # the test's file is where host boxes look
    assert img[:2] == ["False", "False"]
    meta = ok(daemon, "image.inspect", {"ref": PYTHON})
    version = meta["packages"]["python3"].split("-")[0]
    assert img[2] == "/usr/bin/python3"
    assert img[3].startswith(version.split("~")[0].rsplit(".", 1)[0])
    # The box's own /etc files over the image's, and its user.
    out = run_py(daemon, "import os; print(open('/etc/hostname').read()"
                 ".strip(), os.getuid(), open('/etc/passwd').read()"
                 ".count('\\nsandbox:x:1000:'))", image=PYTHON)["stdout"].split()
    assert out == ["sandbox", "1000", "1"]


def test_image_root_is_read_only_and_has_no_setuid(daemon):
    r = run_py(daemon, (
        "import os, stat\n"
        "try:\n open('/usr/bin/evil', 'w'); print('wrote')\n"
        "except OSError as e: print('refused', e.errno)\n"
        "bad = [os.path.join(d, f) for d, _, fs in os.walk('/usr') for f in fs"
        " if not os.path.islink(os.path.join(d, f)) and"
        " os.lstat(os.path.join(d, f)).st_mode & (stat.S_ISUID | stat.S_ISGID)]\n"
        "print(len(bad))\n"
        "print(sorted(os.listdir('/dev')))\n"), image=PYTHON)
    lines = r["stdout"].splitlines()
    assert lines[0].startswith("refused")
    assert lines[1] == "0"
    assert "sda" not in lines[2] and "null" in lines[2]


def test_digest_reference_and_list(daemon):
    images = ok(daemon, "image.list")["images"]
    [py] = [i for i in images if PYTHON in i["tags"]]
    assert py["runtime"] == "python" and py["inUse"] == 0
    assert py["digest"].startswith("sha256:") and len(py["digest"]) == 71
    r = run_py(daemon, "print('by digest')", image=py["digest"])
    assert r["stdout"] == "by digest\n"
    assert ok(daemon, "image.inspect", {"ref": py["digest"]})["digest"] == \
        py["digest"]


@pytest.mark.parametrize("ref", ["python:latest", "latest", "python:LTS",
                                 "lts"])
def test_moving_tags_refused(daemon, ref):
    msg, _ = execute_raw(daemon, {"code": "print(1)", "runtime": "python"},
                         {"image": ref})
    refused(msg, INVALID_ARGUMENT, kind="invalid_argument",
                words=("options.image", "moving", "digest"))


def test_unknown_image_is_not_found(daemon):
    msg, _ = execute_raw(daemon, {"code": "print(1)", "runtime": "python"},
                         {"image": "python:no-such-tag"})
    refused(msg, NOT_FOUND, kind="not_found",
                words=("options.image", "python:no-such-tag"))
    msg, _ = execute_raw(daemon, {"code": "print(1)", "runtime": "python"},
                         {"image": "sha256:" + "0" * 64})
    refused(msg, NOT_FOUND, kind="not_found", words=("sha256:",))


@pytest.mark.parametrize("ref", [
    "../../etc:passwd", "a/b:c", "python:../../x", "python:a/b",
    "sha256:abc", "sha256:" + "A" * 64, "Python:x", "-x:y", "x:.y",
    "x:-y", "", ".:x", "python", "x" * 65 + ":y", "x:" + "y" * 129,
    "python:x\ny", "python:x y"])
def test_hostile_references_refused(daemon, ref):
    msg, _ = execute_raw(daemon, {"code": "print(1)", "runtime": "python"},
                         {"image": ref})
    refused(msg, INVALID_ARGUMENT, kind="invalid_argument",
                words=("options.image",))
    msg = call(daemon, "image.inspect", {"ref": ref})
    refused(msg, INVALID_ARGUMENT, kind="invalid_argument",
                words=("params.ref",))


def test_runtime_mismatch_refused(daemon):
    msg, _ = execute_raw(daemon, {"code": "1", "runtime": "node"},
                         {"image": PYTHON})
    refused(msg, INVALID_ARGUMENT, kind="invalid_argument",
                words=("options.image", "python", "node"))
    # bash is in every image.
    r = execute(daemon, {"code": "echo $BASH_VERSION", "runtime": "bash"},
                {"image": PYTHON})
    assert r["stdout"].strip()


def test_remove_refused_while_in_use_then_prune(daemon, store):
    sid = ok(daemon, "session.create",
             {"runtime": "python", "options": {"image": PYTHON}})["id"]
    assert ok(daemon, "image.inspect", {"ref": PYTHON})["inUse"] == 1
    msg = call(daemon, "image.remove", {"ref": PYTHON})
    refused(msg, CONFLICT, kind="conflict", words=("in use",))
    # Still there and usable.
    assert run_py(daemon, "print(2)", image=PYTHON)["stdout"] == "2\n"
    # Nothing to prune while the image refers to its layer.
    assert ok(daemon, "image.prune")["removedLayers"] == []
    ok(daemon, "session.delete", {"sessionId": sid})
    assert wait_until(lambda: ok(daemon, "image.inspect", {"ref": PYTHON})
                      ["inUse"] == 0, 10)
    layers = ok(daemon, "image.inspect", {"ref": PYTHON})["layers"]
    gone = ok(daemon, "image.remove", {"ref": PYTHON})
    assert gone["untagged"] == [PYTHON] and gone["deleted"]
    msg, _ = execute_raw(daemon, {"code": "1", "runtime": "python"},
                         {"image": PYTHON})
    refused(msg, NOT_FOUND, kind="not_found")
    pruned = ok(daemon, "image.prune")["removedLayers"]
    assert pruned == layers
    for layer in layers:
        path = Path(store) / "layers" / layer.split(":")[1]
        assert not path.exists()
    # Deleted by a child of the daemon's.
    assert wait_until(lambda: not list((Path(store) / "tmp").glob("pruned-*")),
                      30)


def test_default_image_configurable(store):
    d = Daemon(build=BUILD, config={
        "images": {"dir": str(store), "default": PYTHON},
        "pool": {"size": {"python": 1, "node": 0, "bun": 0, "deno": 0,
                          "bash": 0}}})
    d.start()
    try:
        marker = "import os; print(os.path.exists('/usr/include/stdio.h'))"
        assert run_py(d, marker)["stdout"] == "False\n"
        assert run_py(d, marker, image="host")["stdout"] == "True\n"
        assert ok(d, "image.list")["default"] == PYTHON
        # The python pool is kept on the default image (a host key came
        # with the run that named "host").
        keys = ok(d, "pool.status")["keys"]
        digest = ok(d, "image.inspect", {"ref": PYTHON})["digest"]
        [k] = [k for k in keys if k["image"] == digest]
        assert k["runtime"] == "python" and k["hits"] + k["misses"] >= 1
        # bash runs on the default image too; node, which it lacks, on
        # the host's.
        r = execute(d, {"code": "test -e /usr/include/stdio.h && echo "
                        "host || echo image", "runtime": "bash"})
        assert r["stdout"] == "image\n"
        r = execute(d, {"code": "console.log(require('fs').existsSync("
                        "'/usr/include/stdio.h'))", "runtime": "node"})
        assert r["stdout"] == "true\n"
        # Named explicitly, an image of another runtime is refused.
        msg, _ = execute_raw(d, {"code": "1", "runtime": "node"},
                             {"image": PYTHON})
        refused(msg, INVALID_ARGUMENT, "invalid_argument",
                words=("options.image", "node"))
    finally:
        d.assert_clean_exit()
        d.close()
        d.cleanup_dir()


def test_box_on_image_where_the_daemons_mounts_are_shared(store):
    """On a systemd host every mount is shared, the image's too (in the
    daemon's own namespace under its unit's PrivateMounts=): a box still
    gets the image as its root, whose copy must not stay a peer of the
    daemon's (pivot_root refuses a shared mount).  The daemon runs in a
    mount namespace of its own whose mounts are all shared."""
    d = Daemon(build=BUILD, config={"images": {"dir": str(store)}},
               wrap=("unshare", "--mount", "--propagation", "shared"))
    d.start()
    try:
        r = run_py(d, "print(6 * 7)", image=PYTHON)
        assert r.get("stdout") == "42\n", r
    finally:
        d.assert_clean_exit()


def test_no_mounts_or_cgroups_left(daemon):
    before = mount_count(daemon.pid)
    dirs = daemon_cgroup_dirs(daemon.pid)
    cgroups = box_cgroups(dirs)
    for i in range(3):
        assert run_py(daemon, f"print({i})", image=PYTHON)["stdout"] == \
            f"{i}\n"
    msg, _ = execute_raw(daemon, {"code": "import time; time.sleep(60)",
                                  "runtime": "python"},
                         {"image": PYTHON, "timeoutMs": 300})
    assert msg["result"]["exitCode"] == 137
    assert wait_until(lambda: mount_count(daemon.pid) == before, 10), \
        (before, mount_count(daemon.pid))
    assert wait_until(lambda: box_cgroups(dirs) == cgroups, 10)


def test_builder_reuses_and_reports(store):
    out = build_store(store, "python")
    assert "already present" in out
    meta = json.loads(next((Path(store) / "images").glob("*.json"))
                      .read_text())
    assert meta["runtime"] == "python"
    assert "python3-pip" in meta["packages"]
    layer = Path(store) / "layers" / meta["layers"][0].split(":")[1]
    bad = subprocess.run(["find", str(layer), "-xdev", "(", "-type", "b",
                          "-o", "-type", "c", "-o", "-perm", "/6000", ")",
                          "!", "-type", "l"],
                         capture_output=True, text=True, check=True)
    assert bad.stdout == ""


def test_pool_keeps_warm_boxes_on_named_images(store):
    sizes = {"python": 1, "node": 0, "bun": 0, "deno": 0, "bash": 0}
    d = Daemon(build=BUILD, config={
        "images": {"dir": str(store)},
        "pool": {"images": [PYTHON, "python:not-built"], "size": sizes,
                 "demand": {"grow": False}}})
    d.start()
    try:
        digest = ok(d, "image.inspect", {"ref": PYTHON})["digest"]

        def key(image):
            keys = ok(d, "pool.status")["keys"]
            return next((k for k in keys if k["image"] == image), None)
        assert wait_until(lambda: (key(digest) or {}).get("ready") == 1, 30)
        assert key(digest)["runtime"] == "python"
        table = ctl(d, "pool").stdout.splitlines()
        assert any(ln.split()[:2] == ["python", digest[7:19]]
                   for ln in table), table
        # A warm box holds the image: it is in use, and not removable.
        assert ok(d, "image.inspect", {"ref": PYTHON})["inUse"] >= 1
        refused(call(d, "image.remove", {"ref": PYTHON}), CONFLICT,
                "conflict")
        r = run_py(d, "import os; print(os.path.exists('/usr/include/stdio.h'))",
                   image=PYTHON)
        assert r["stdout"] == "False\n"
        assert key(digest)["hits"] == 1
        # Host boxes keep their own key.
        assert run_py(d, "print(1)", image="host")["stdout"] == "1\n"
        assert key("host")["runtime"] == "python"
        assert "python:not-built" in d.stderr()
    finally:
        d.assert_clean_exit()
        d.close()
        d.cleanup_dir()


def ctl(d, *args, env=None):
    e = dict(os.environ, ISOL8_IMAGE_CACHE=CACHE, **(env or {}))
    return subprocess.run([str(Path(BUILD) / "isol8ctl"), "--socket",
                           str(d.socket_path), *args], capture_output=True,
                          text=True, timeout=900, env=e)


def test_ctl_setup_and_image_commands():
    store = short_tmpdir("isol8-img-")
    d = start(store)
    try:
        out = ctl(d, "setup", "--runtime", "python")
        assert out.returncode == 0, out.stderr
        assert f"{PYTHON} sha256:" in out.stdout and " built in " in \
            out.stdout
        again = ctl(d, "setup", "-r", "python")
        assert again.returncode == 0 and "already present" in again.stdout
        ls = ctl(d, "image", "ls")
        assert ls.returncode == 0 and PYTHON in ls.stdout
        assert "default: host" in ls.stdout
        meta = json.loads(ctl(d, "image", "inspect", PYTHON).stdout)
        assert meta["runtime"] == "python"
        run = ctl(d, "run", "-r", "python", "--image", PYTHON, "-e",
                  "import os; print(os.path.exists('/usr/include/stdio.h'))")
        assert run.returncode == 0, run.stderr
        assert run.stdout == "False\n"
        sid = ctl(d, "session", "create", "--image", PYTHON).stdout.strip()
        ex = ctl(d, "session", "exec", sid, "-e",
                 "import os; print(os.path.exists('/usr/include/stdio.h'))")
        assert ex.stdout == "False\n", ex.stderr
        busy = ctl(d, "image", "rm", PYTHON)
        assert busy.returncode == 1 and "in use" in busy.stderr
        assert ctl(d, "session", "rm", sid).returncode == 0
        assert wait_until(lambda: ok(d, "image.inspect", {"ref": PYTHON})
                          ["inUse"] == 0, 10)
        bad = ctl(d, "image", "inspect", "python:latest")
        assert bad.returncode == 1 and "moving tag" in bad.stderr
        assert ctl(d, "image", "frob").returncode == 2
        rm = ctl(d, "image", "rm", PYTHON)
        assert rm.returncode == 0 and rm.stdout == f"Deleted {PYTHON}\n"
        pruned = json.loads(ctl(d, "image", "prune").stdout)
        assert pruned["removedLayers"] == meta["layers"]
    finally:
        d.assert_clean_exit()
        d.close()
        d.cleanup_dir()
        subprocess.run(["rm", "-rf", "--", str(store)], check=False)


RUNTIME_HELLO = {
    "python": ("import sys; print(sys.executable)", "/usr/bin/python3"),
    "node": ("console.log(process.execPath)", "/usr/bin/node"),
    "bun": ("console.log(process.versions.bun ? 'bun' : 'other')", "bun"),
    "deno": ("console.log(typeof Deno)", "object"),
    "bash": ("echo $BASH", "/usr/bin/bash"),
}


@pytest.fixture(scope="module")
def every_image():
    s = short_tmpdir("isol8-img-")
    build_store(s, *RUNTIME_HELLO)
    d = start(s)
    yield d
    d.assert_clean_exit()
    d.close()
    d.cleanup_dir()
    subprocess.run(["rm", "-rf", "--", str(s)], check=False)


@pytest.mark.parametrize("runtime", list(RUNTIME_HELLO))
def test_each_runtime_runs_on_its_image(every_image, runtime):
    """The runtime's binary is the image's own: the host's /usr and
    runtimes prefix are not there."""
    code, want = RUNTIME_HELLO[runtime]
    tag = f"{runtime}:{CODENAME}"
    r = execute(every_image, {"code": code, "runtime": runtime},
                {"image": tag})
    assert r["stdout"].strip() == want, r
    host_only = ["/usr/include/stdio.h", "/usr/bin/gcc",
                 "/opt/isol8/runtimes/node_modules"]
    assert all(os.path.exists(p) for p in host_only)
    probe = execute(every_image, {
        "code": "for p in %s; do test -e $p && echo $p; done; "
                "ls /usr/lib/x86_64-linux-gnu | wc -l" % " ".join(host_only),
        "runtime": "bash"}, {"image": tag})
    assert probe["stdout"].split() != [] and \
        int(probe["stdout"].split()[-1]) > 0
    assert probe["stdout"].split()[:-1] == []
    meta = ok(every_image, "image.inspect", {"ref": tag})
    assert meta["runtime"] == runtime and meta["packages"]


def test_prune_waits_for_a_build(daemon, store):
    """A layer the builder has put in place before its image must not be
    pruned: prune is refused while the builder holds its lock."""
    import fcntl
    lock = Path(store) / "tmp" / "build.lock"
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        orphan = Path(store) / "layers" / ("f" * 64)
        orphan.mkdir()
        refused(call(daemon, "image.prune"), CONFLICT, "conflict",
                words=("being built",))
        assert orphan.is_dir()
    assert ok(daemon, "image.prune")["removedLayers"] == ["sha256:" + "f" * 64]
    assert not orphan.exists()


def host_mounts_below(path):
    with open("/proc/self/mountinfo") as f:
        return [ln.split()[4] for ln in f
                if ln.split()[4].startswith(str(path) + "/")]


def test_stale_mount_of_a_killed_daemon_is_replaced(store):
    """A daemon killed while a box used an image leaves the image's shared
    mount behind; the next daemon takes its place instead of stacking a
    second one, and removes it when it stops."""
    d = start(store)
    try:
        sid = ok(d, "session.create",
                 {"runtime": "python", "options": {"image": PYTHON}})["id"]
        assert sid and len(host_mounts_below(store)) == 1
        d.kill()
    finally:
        d.close()
        d.cleanup_dir()
    assert len(host_mounts_below(store)) == 1
    d = start(store)
    try:
        assert run_py(d, "print(3)", image=PYTHON)["stdout"] == "3\n"
        assert wait_until(lambda: host_mounts_below(store) == [], 10)
        assert "stale mount" in d.stderr()
    finally:
        d.assert_clean_exit()
        d.close()
        d.cleanup_dir()
    assert host_mounts_below(store) == []


def hand_made_image(store, name, build):
    """An image whose single layer build(root) makes; returns its ref."""
    import hashlib
    lhex = hashlib.sha256(name.encode()).hexdigest()
    root = Path(store) / "layers" / lhex
    root.mkdir(parents=True)
    for d in ("sandbox", "tmp", "proc", "dev", "root", "etc"):
        (root / d).mkdir()
    for f in ("passwd", "group", "hosts", "hostname", "resolv.conf"):
        (root / "etc" / f).write_text("")
    build(root)
    ihex = hashlib.sha256(("image " + name).encode()).hexdigest()
    (Path(store) / "images").mkdir(exist_ok=True)
    (Path(store) / "images" / f"{ihex}.json").write_text(json.dumps({
        "digest": f"sha256:{ihex}", "runtime": "bash", "packages": {},
        "setupScript": None, "size": 0, "created": "2026-01-01T00:00:00Z",
        "layers": [f"sha256:{lhex}"]}))
    (Path(store) / "tags").mkdir(exist_ok=True)
    (Path(store) / "tags" / f"{name}:1").write_text(ihex + "\n")
    return f"{name}:1"


def swap_for_link(path, target):
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    path.symlink_to(target)


@pytest.mark.parametrize("place,words", [
    ("sandbox", ("/sandbox", "image")),
    ("etc", ("/etc", "image")),
    ("etc/passwd", ("/etc/passwd", "image")),
])
def test_image_with_links_at_mount_points_refused(daemon, store, place,
                                                  words):
    """Links where the box mounts or binds its own files would send the
    mounts elsewhere: the box is refused, nothing is left behind."""
    ref = hand_made_image(store, "evil-" + place.replace("/", "-"),
                          lambda root: swap_for_link(root / place, "/proc"))
    before = mount_count(daemon.pid)
    msg, _ = execute_raw(daemon, {"code": "echo hi", "runtime": "bash"},
                         {"image": ref})
    refused(msg, -32603, "internal", words=words)
    assert wait_until(lambda: mount_count(daemon.pid) == before, 10)
    assert run_py(daemon, "print(4)", image=PYTHON)["stdout"] == "4\n"


def test_tenants_list_and_run_but_only_administrators_remove(store):
    d = Daemon(build=BUILD, config={"images": {"dir": str(store)},
                                    "server": {"socketMode": "0666"}})
    d.start()
    open_socket_to_all(d)
    other = OtherUid(d.socket_path, 60011)
    try:
        listed = other.call("image.list")["result"]["images"]
        assert [PYTHON] in [i["tags"] for i in listed]
        r = other.call("execute", {"request": {"code": "print(5)",
                                               "runtime": "python"},
                                   "options": {"image": PYTHON}})
        assert r["result"]["stdout"] == "5\n"
        for method, params in (("image.remove", {"ref": PYTHON}),
                               ("image.prune", {})):
            refused(other.call(method, params), INVALID_ARGUMENT,
                    "invalid_argument", words=(method, "administrators"))
        assert ok(d, "image.inspect", {"ref": PYTHON})["tags"] == [PYTHON]
    finally:
        other.close()
        d.assert_clean_exit()
        d.close()
        d.cleanup_dir()


def test_session_on_an_image_is_not_hibernated(daemon):
    """Hibernation keeps to host-image sessions: one on an image is
    refused, runs on, and nothing is left on disk for it."""
    sid = ok(daemon, "session.create",
             {"runtime": "python", "options": {"image": PYTHON}})["id"]
    msg = call(daemon, "session.hibernate", {"sessionId": sid})
    refused(msg, -32010, "unsupported", words=("runs on an image",))
    r = execute(daemon, {"code": "print(2 + 2)", "runtime": "python"},
                sessionId=sid)
    assert r["stdout"] == "4\n", r
    ok(daemon, "session.delete", {"sessionId": sid})
