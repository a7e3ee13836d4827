"""The base images isol8d builds at start (images.build): the image builder
runs in the background while the daemon serves on the host image, health
shows how far it is, the images are usable by name once built, a build
that fails is reported (and not tried again until the next start), and
stopping mid-build leaves no builder process, no staging directory and no
mount behind.

The builder is the real one.  A build copied from the test cache
(ISOL8_IMAGE_CACHE) is held back by holding the store's build lock, which
the builder takes before it writes; an mmdebstrap earlier in the daemon's
PATH stands in for the real one where a build must hang or fail.

Then `isol8ctl setup` with isol8's own configuration file: its
prebuiltImages are built as the daemon's are."""

import fcntl
import json
import os
import re
import subprocess

import pytest

from execute_helpers import execute, execute_raw
from isol8_harness import (BUILD, WITH_ENOSYS, check_error, short_tmpdir,
                           wait_until)
from test_images import CACHE, CODENAME, PYTHON, build_store, ok
from test_images_custom import config as custom_config
from test_images_custom import index  # noqa: F401 (a fixture)

RUNTIMES = ["python", "node", "bun", "deno", "bash"]
BUSY = -32005
NOT_FOUND = -32004
WAIT = 300


@pytest.fixture
def store():
    s = short_tmpdir("isol8-auto-")
    yield s
    for line in reversed(mounts_under(s)):
        subprocess.run(["umount", "-l", line.split()[4]], check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(s)],
                   check=False)


@pytest.fixture
def start(start_daemon):
    """start(store, runtimes, env, **images): a daemon building runtimes
    into store, stopped before store goes."""
    def one(store, runtimes, env=None, **images):
        return start_daemon(env=env, config={
            "images": {"dir": str(store), "build": runtimes, **images}})
    return one


def images(d):
    return d.health()["images"]


def build_of(d, tag):
    return next(b for b in images(d)["builds"] if b["tag"] == tag)


def run_py(d, code, image=None):
    opts = {"image": image} if image else None
    return execute_raw(d, {"code": code, "runtime": "python"}, opts)[0]


def on_image(d):
    """Whether a python request naming no image runs on an image of the
    store (a Debian tree, with dpkg's database) rather than the host's
    /usr."""
    r = execute(d, {"code": "import os; print(os.path.exists("
                            "'/var/lib/dpkg/status'))",
                    "runtime": "python"})
    return {"True\n": True, "False\n": False}[r["stdout"]]


def builder_pid(d):
    m = re.search(r"building the base image of \w+ in \S+ \(pid (\d+)\)",
                  d.stderr())
    return int(m.group(1)) if m else None


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if str(path) in line]


def fake_mmdebstrap(tmp, body):
    """A directory for the front of PATH with an mmdebstrap running body
    (sh), which gets the tree to make as $ROOT."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "mmdebstrap"
    exe.write_text("#!/bin/sh\n"
                   "for a; do ROOT=$PREV; PREV=$a; done\n"
                   f"{body}\n")
    exe.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}",
            "ISOL8_IMAGE_CACHE": ""}


def test_serves_on_the_host_while_building_then_the_image_by_name(store,
                                                                 start):
    # The cache has the image; the copy waits for the store's lock.
    warm = short_tmpdir("isol8-auto-warm-")
    build_store(warm, "python")
    subprocess.run(["rm", "-rf", "--", str(warm)], check=True)
    (store / "tmp").mkdir(parents=True)
    lock = open(store / "tmp" / "build.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    d = start(store, ["python"], env={"ISOL8_IMAGE_CACHE": CACHE},
              default="auto")
    try:
        assert wait_until(lambda: builder_pid(d), WAIT)
        st = images(d)
        assert st["state"] == "building", st
        assert build_of(d, PYTHON)["state"] == "building"
        # Requests that name no image run on the host meanwhile.
        assert on_image(d) is False
        # One that names the image being built is told so.
        check_error(run_py(d, "print(1)", image=PYTHON), BUSY, id=1,
                    words=(PYTHON, "being built"))
        text = d.ctl("health").stdout
        assert "images:   building" in text
        assert re.search(rf"{re.escape(PYTHON)}\s+building", text)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    assert wait_until(lambda: images(d)["state"] != "building", WAIT)
    st = images(d)
    assert st["state"] == "ready", st
    b = build_of(d, PYTHON)
    assert b["state"] == "built" and "sha256:" in b["message"], b
    assert f"image build {PYTHON}: done" in d.stderr()
    # With images.default "auto", the default is the image from now on.
    assert on_image(d) is True
    # Usable by name at once: the store is read on each request.
    r = execute(d, {"code": "print(open('/etc/os-release').read())",
                    "runtime": "python"}, {"image": PYTHON})
    assert f"VERSION_CODENAME={CODENAME}" in r["stdout"]
    assert not group_alive(builder_pid(d))
    d.assert_clean_exit()
    # The next start finds it there and builds nothing.
    d = start(store, ["python"], env={"ISOL8_IMAGE_CACHE": CACHE})
    assert build_of(d, PYTHON)["state"] == "present"
    assert images(d)["state"] == "ready"
    assert builder_pid(d) is None
    d.assert_clean_exit()


def test_stop_mid_build_leaves_no_builder_stage_or_mount(store, start,
                                                        tmp_path):
    """The stand-in mounts in the tree it makes and, terminated, undoes
    that before it exits, as mmdebstrap does: the stage must go after."""
    mark = tmp_path / "started"
    env = fake_mmdebstrap(tmp_path, f"""
mkdir -p "$ROOT/proc"
mount -t tmpfs isol8-test "$ROOT/proc"
trap 'sleep 0.2; umount "$ROOT/proc"; exit 1' TERM
: > {mark}
sleep 600 & wait""")
    mounts_before = len(open("/proc/self/mountinfo").readlines())
    d = start(store, ["python"], env=env)
    assert wait_until(mark.exists, WAIT)
    stages = list((store / "tmp").glob("build-python.*"))
    assert len(stages) == 1 and (stages[0] / "root" / "proc").is_dir()
    assert len(mounts_under(stages[0])) == 1
    pgid = builder_pid(d)
    assert group_alive(pgid)
    assert images(d)["state"] == "building"
    d.assert_clean_exit()
    assert not group_alive(pgid)
    assert list((store / "tmp").glob("build-*")) == []
    assert list((store / "images").glob("*.json")) == []
    assert not (store / "tags" / PYTHON).exists()
    assert mounts_under(store) == []
    assert len(open("/proc/self/mountinfo").readlines()) <= mounts_before
    assert "stopping the builder" in d.stderr()


def test_a_failed_build_is_reported_and_the_daemon_keeps_serving(
        store, tmp_path, start):
    env = fake_mmdebstrap(tmp_path, 'echo "E: the archive cannot be '
                                    'reached" >&2; exit 1')
    d = start(store, ["python", "bash"], env=env)
    assert wait_until(lambda: images(d)["state"] != "building", WAIT)
    st = images(d)
    assert st["state"] == "failed", st
    for b in st["builds"]:
        assert b["state"] == "failed", b
        assert b["message"] == "E: the archive cannot be reached", b
    text = d.ctl("health").stdout
    assert "images:   failed" in text
    assert "the archive cannot be reached" in text
    assert f"image build {PYTHON} failed" in d.stderr()
    # Tried once per start, not again and again.
    assert d.stderr().count("building the base image of python") == 1
    r = execute(d, {"code": "print(6 * 7)", "runtime": "python"})
    assert r["stdout"] == "42\n"
    check_error(run_py(d, "print(1)", image=PYTHON), NOT_FOUND, id=1,
                words=(PYTHON, "isol8ctl setup"))
    assert list((store / "tmp").glob("build-*")) == []
    assert mounts_under(store) == []
    d.assert_clean_exit()


def test_base_image_built_later_gets_warm_boxes(store, start_daemon):
    """With images.default "auto", the runtime's requests move to its base
    image once it is built; the warm pool follows them there (a key for
    that image, made at its first miss) instead of serving only the host
    image's boxes it warmed at start."""
    pool = {"size": {rt: 0 for rt in RUNTIMES}}
    pool["size"]["python"] = 1
    d = start_daemon(env={"ISOL8_IMAGE_CACHE": CACHE}, config={
        "images": {"dir": str(store), "build": ["python"],
                   "default": "auto"},
        "pool": pool})
    assert wait_until(lambda: images(d)["state"] == "ready", WAIT)
    digest = build_of(d, PYTHON)["message"].split()[1]

    def image_key():
        keys = ok(d, "pool.status")["keys"]
        return next((k for k in keys if k.get("image") == digest), None)

    assert on_image(d) is True  # the first: a miss, which makes the key
    assert wait_until(lambda: (image_key() or {}).get("ready", 0) >= 1, 60)
    assert on_image(d) is True
    k = image_key()
    assert k["runtime"] == "python" and k["hits"] >= 1, k
    d.assert_clean_exit()


def test_no_build_where_setuid_files_cannot_be_made(store, start_daemon):
    """Under systemd's RestrictSUIDSGID= (the shipped unit's), whose filter
    the builder would inherit, dpkg cannot install a Debian tree's setuid
    programs.  A daemon that no service manager started (no INVOCATION_ID:
    it cannot hand the build to a service of its own, as one under the
    unit does; make vm-check shows that) reports the builds failed up
    front, saying why, and starts nothing.  A filter failing fchmod stands
    in for RestrictSUIDSGID=."""
    d = start_daemon(config={"images": {"dir": str(store),
                                        "build": ["python", "bash"]}},
                     wrap=(WITH_ENOSYS, "fchmod"))
    st = images(d)
    assert st["state"] == "failed", st
    for b in st["builds"]:
        assert b["state"] == "failed", b
        for w in ("setuid", "no service manager", "isol8ctl setup"):
            assert w in b["message"], b
    assert builder_pid(d) is None
    r = execute(d, {"code": "print(6 * 7)", "runtime": "python"})
    assert r["stdout"] == "42\n"
    d.assert_clean_exit()


def test_images_build_names_runtimes_only(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"images": {"build": ["python", "cobol"]}}')
    out = subprocess.run([str(BUILD / "isol8d"), "--config", str(cfg),
                          "--check-config"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode != 0
    assert "images.build" in out.stderr and "cobol" in out.stderr


def test_images_build_off_builds_nothing(store, start):
    d = start(store, [])
    st = images(d)
    assert st == {"state": "off", "builds": []}
    assert builder_pid(d) is None
    assert not (store / "tmp").exists()
    d.assert_clean_exit()


def test_the_default_is_every_runtime(store, tmp_path, start_daemon):
    """A daemon whose configuration leaves images.build out (make run on a
    fresh machine) builds the base images of the five runtimes."""
    cfg = tmp_path / "isol8d.json"
    cfg.write_text(json.dumps({"images": {"dir": str(store)},
                               "pool": {"prewarm": False}}))
    env = fake_mmdebstrap(tmp_path, "exit 1")
    d = start_daemon(config=cfg, env=env)
    doc = json.loads(d.ctl("daemon-config", "--json").stdout)
    assert doc["config"]["images"]["build"] == RUNTIMES
    assert doc["sources"]["images.build"] == "default"
    assert [b["runtime"] for b in images(d)["builds"]] == RUNTIMES
    assert wait_until(lambda: images(d)["state"] == "failed", WAIT)
    assert d.stderr().count("building the base image of") == len(RUNTIMES)
    d.assert_clean_exit()


def setup_in(d, cwd, *args):
    """isol8ctl setup run from cwd, base images from the test cache."""
    return subprocess.run(
        [str(BUILD / "isol8ctl"), "--socket", str(d.socket_path), "setup",
         *args], capture_output=True, text=True, timeout=900, cwd=cwd,
        env=dict(os.environ, ISOL8_IMAGE_CACHE=CACHE))


def test_setup_builds_the_prebuilt_images_of_isol8_config_json(
        index, store, start_daemon, tmp_path):
    """isol8's own configuration file (./isol8.config.json, or --config)
    gives `isol8ctl setup` its prebuiltImages, built as the daemon's."""
    d = start_daemon(config=custom_config(store))
    project = tmp_path / "project"
    project.mkdir()
    (project / "isol8.config.json").write_text(json.dumps({
        "defaults": {"timeoutMs": 20000},
        "prebuiltImages": [{
            "tag": "cfg-py:v1", "runtime": "python",
            "installPackages": ["isol8-img-mod"],
            "setupScript": "echo from-config > /sandbox/pre\n"}]}))
    env = ("--env", f"PIP_INDEX_URL={index}", "--env", "PIP_RETRIES=0")
    out = setup_in(d, project, "-r", "python", *env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[0] == PYTHON
    assert lines[1] == f"prebuiltImages of {project}/isol8.config.json:"
    tag, digest, *rest = lines[2].split()
    assert (tag, rest[:2]) == ("cfg-py:v1", ["built", "in"])
    assert len(lines) == 3
    r = subprocess.run(
        [str(BUILD / "isol8ctl"), "--socket", str(d.socket_path), "run",
         "-r", "python", "--image", "cfg-py:v1", "-e",
         "import isol8_img_mod; print(isol8_img_mod.VALUE, "
         "open('/sandbox/pre').read().strip())"],
        capture_output=True, text=True, timeout=120)
    assert r.stdout == "42 from-config\n", r.stderr
    # --config names the file from anywhere; the image is there already.
    again = setup_in(d, "/", "-r", "python", "--config",
                     str(project / "isol8.config.json"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[2].split() == [
        "cfg-py:v1", digest, "already", "present"]


@pytest.mark.parametrize("content,words", [
    ('{"prebuiltImages": [{"tag": 3}]}', ["prebuiltImages[0]", "tag"]),
    ('{"prebuiltImages": [{"tag": "a:b", "runtime": "ruby", '
     '"installPackages": ["x"]}]}', ["prebuiltImages[0]", "runtime"]),
    ("{not json", ["isol8.config.json"]),
])
def test_setup_refuses_a_bad_isol8_config_before_building(
        store, start_daemon, tmp_path, content, words):
    d = start_daemon(config={"images": {"dir": str(store)}})
    (tmp_path / "isol8.config.json").write_text(content)
    out = setup_in(d, tmp_path, "-r", "bash")
    assert out.returncode != 0
    assert out.stdout == ""
    assert str(tmp_path / "isol8.config.json") in out.stderr
    for w in words:
        assert w in out.stderr, out.stderr
    assert not (store / "tags").exists()
    missing = setup_in(d, tmp_path, "--config", str(tmp_path / "nope.json"))
    assert missing.returncode != 0
    assert "nope.json" in missing.stderr and missing.stdout == ""
    usage = setup_in(d, tmp_path, "--python", "x", "--config",
                     str(tmp_path / "isol8.config.json"))
    assert usage.returncode == 2 and "--config" in usage.stderr
