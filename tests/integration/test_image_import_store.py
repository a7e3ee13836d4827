"""isol8ctl image import: an archive into the daemon's image store, then
boxes on it.  The image is a docker export tar the test makes of the
host's own bash and the libraries it loads (nothing else of the host), and
a file of its own that boxes must see."""
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from execute_helpers import execute
from isol8_harness import BUILD, Daemon, wait_until
from test_image_import import entry, sandbox_processes, tar_bytes
from test_images_custom import store  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not (shutil.which("skopeo") and shutil.which("umoci")
                            and shutil.which("jq")),
                       reason="needs skopeo, umoci and jq (make deps)"),
]

HELLO = b"from the imported image\n"


def mini_rootfs():
    """Entries of a root file system with /usr/bin/bash and its libraries
    (from ldd), the host's top-level links (bin -> usr/bin...), a file in
    /srv and an /etc without passwd, group and the rest a box needs."""
    entries = [entry(n, kind=tarfile.SYMTYPE, link=os.readlink("/" + n))
               for n in ("bin", "lib", "lib64", "sbin")
               if os.path.islink("/" + n)]
    ldd = subprocess.run(["ldd", "/usr/bin/bash"], capture_output=True,
                         text=True, check=True).stdout
    dirs = set()
    for f in ["/usr/bin/bash"] + re.findall(r"(/\S+) \(0x", ldd):
        name = os.path.join(os.path.realpath(os.path.dirname(f)),
                            os.path.basename(f)).lstrip("/")
        parts = name.split("/")
        for k in range(1, len(parts)):
            d = "/".join(parts[:k])
            if d not in dirs:
                dirs.add(d)
                entries.append(entry(d, kind=tarfile.DIRTYPE, mode=0o755))
        entries.append(entry(name, Path(f).read_bytes(), mode=0o755))
    entries += [entry("srv", kind=tarfile.DIRTYPE, mode=0o755),
                entry("srv/hello.txt", HELLO),
                entry("etc", kind=tarfile.DIRTYPE, mode=0o755),
                entry("etc/motd", b"imported\n")]
    return entries


@pytest.fixture
def daemon(store):
    d = Daemon(build=BUILD, config={"images": {"dir": str(store)}})
    d.start()
    yield d
    d.assert_clean_exit()
    d.close()
    d.cleanup_dir()


def ctl(d, *args):
    return subprocess.run([str(Path(BUILD) / "isol8ctl"), "--socket",
                           str(d.socket_path), *args], capture_output=True,
                          text=True, timeout=300)


def store_entries(store):
    """What the store holds, but its lock file."""
    return sorted(str(p.relative_to(store)) for sub in
                  ("layers", "images", "tags", "tmp")
                  for p in (Path(store) / sub).glob("*")
                  if p.name != "build.lock")


def archive(tmp_path, entries, name="mini.tar"):
    path = tmp_path / name
    path.write_bytes(tar_bytes(entries))
    return path


def test_import_run_reimport_list_remove(daemon, store, tmp_path):
    tar = archive(tmp_path, mini_rootfs())
    out = ctl(daemon, "image", "import", str(tar), "--name", "mini:1",
              "--runtime", "bash")
    assert out.returncode == 0, out.stderr
    m = re.fullmatch(r"mini:1 (sha256:[0-9a-f]{64}) imported in \S+s\n",
                     out.stdout)
    assert m, out.stdout
    digest = m.group(1)

    # At once usable by execute: the image's own files and bash, no host's.
    r = execute(daemon, {"runtime": "bash", "code":
                         'echo "$(</srv/hello.txt)" $BASH; '
                         'for p in /usr/bin/gcc /usr/include/stdio.h '
                         '/etc/motd /etc/passwd /tmp /sandbox; do '
                         'test -e $p && echo $p; done'},
                {"image": "mini:1"})
    assert r["stdout"] == (HELLO.decode().strip() + " /usr/bin/bash\n"
                           "/etc/motd\n/etc/passwd\n/tmp\n/sandbox\n"), r
    assert r["exitCode"] == 0, r

    # And by sessions.
    sid = ctl(daemon, "session", "create", "-r", "bash", "--image",
              "mini:1").stdout.strip()
    assert sid
    ex = ctl(daemon, "session", "exec", sid, "-r", "bash", "-e",
             'echo "$(</etc/motd)"')
    assert ex.returncode == 0 and ex.stdout == "imported\n", ex.stderr
    assert ctl(daemon, "session", "rm", sid).returncode == 0

    # The same archive again: the same image, no second layer.
    layers = sorted(os.listdir(Path(store) / "layers"))
    again = ctl(daemon, "image", "import", str(tar), "--name", "mini:2",
                "--runtime", "bash", "--json")
    assert again.returncode == 0, again.stderr
    meta = json.loads(again.stdout)
    assert meta["digest"] == digest
    assert sorted(os.listdir(Path(store) / "layers")) == layers
    assert len(layers) == 1 and meta["layers"] == ["sha256:" + layers[0]]
    assert meta["runtime"] == "bash"
    assert meta["source"]["format"] == "rootfs-tar"
    assert meta["size"] > len(HELLO)

    ls = ctl(daemon, "image", "ls")
    assert ls.returncode == 0
    assert re.search(r"mini:1,mini:2\s+sha256:[0-9a-f]+\s+bash", ls.stdout) \
        or re.search(r"mini:2,mini:1\s+sha256:[0-9a-f]+\s+bash", ls.stdout), \
        ls.stdout
    inspect = json.loads(ctl(daemon, "image", "inspect", "mini:1").stdout)
    assert inspect["digest"] == digest

    assert wait_until(lambda: json.loads(ctl(
        daemon, "image", "inspect", "mini:1").stdout)["inUse"] == 0, 10)
    rm = ctl(daemon, "image", "rm", digest)
    assert rm.returncode == 0, rm.stderr
    assert ctl(daemon, "image", "inspect", "mini:1").returncode == 1
    pruned = json.loads(ctl(daemon, "image", "prune").stdout)
    assert pruned["removedLayers"] == meta["layers"]
    # Pruned layers are deleted by a child of the daemon.
    assert wait_until(lambda: store_entries(store) == [], 30)


def test_oci_config_kept_in_the_metadata(daemon, tmp_path):
    from test_image_import import CONFIG, CREATED, oci_layout
    layout = tmp_path / "layout"
    manifest = oci_layout(layout, [tar_bytes(mini_rootfs())])
    out = ctl(daemon, "image", "import", str(layout), "--name",
              "mini-oci:1.0", "--runtime", "bash", "--json")
    assert out.returncode == 0, out.stderr
    meta = json.loads(out.stdout)
    assert meta["source"]["format"] == "oci-layout"
    assert meta["source"]["digest"] == manifest
    assert meta["created"] == CREATED
    assert meta["entrypoint"] == CONFIG["Entrypoint"]
    assert meta["env"] == CONFIG["Env"]
    assert meta["workdir"] == CONFIG["WorkingDir"]
    r = execute(daemon, {"runtime": "bash", "code": 'echo "$(</srv/hello.txt)"'},
                {"image": "mini-oci:1.0"})
    assert r["stdout"] == HELLO.decode(), r


def test_links_at_box_points_are_replaced_not_followed(daemon, store,
                                                        tmp_path):
    """An archive whose /etc and /tmp are links to the host's: the import
    writes the box's /etc files into a directory of the image, never
    through the link, and the box runs."""
    passwd = Path("/etc/passwd").read_bytes()
    entries = [e for e in mini_rootfs() if not e["name"].startswith("etc")]
    entries += [entry("etc", kind=tarfile.SYMTYPE, link="/etc"),
                entry("tmp", kind=tarfile.SYMTYPE, link="/tmp")]
    out = ctl(daemon, "image", "import", str(archive(tmp_path, entries)),
              "--name", "linked:1", "--runtime", "bash", "--json")
    assert out.returncode == 0, out.stderr
    assert Path("/etc/passwd").read_bytes() == passwd
    layer = Path(store) / "layers" / \
        json.loads(out.stdout)["layers"][0].split(":")[1]
    for d in ("etc", "tmp"):
        assert not (layer / d).is_symlink() and (layer / d).is_dir()
    assert (layer / "etc/passwd").read_bytes() == b""
    r = execute(daemon, {"runtime": "bash", "code": 'echo "$(</srv/hello.txt)"'},
                {"image": "linked:1"})
    assert r["stdout"] == HELLO.decode(), r


@pytest.mark.parametrize("entries,runtime,words", [
    # A hard link to a host file: the unpacker refuses it.
    ([entry("hard", kind=tarfile.LNKTYPE, link="/etc/shadow")], "bash",
     ["umoci could not unpack"]),
    # No bash in it.
    ([entry("srv", kind=tarfile.DIRTYPE, mode=0o755)], "bash", ["bash"]),
])
def test_failed_import_leaves_nothing(daemon, store, tmp_path, entries,
                                      runtime, words):
    before = store_entries(store)
    out = ctl(daemon, "image", "import", str(archive(tmp_path, entries)),
              "--name", "bad:1", "--runtime", runtime)
    assert out.returncode != 0
    assert all(w in out.stderr for w in words), out.stderr
    assert "cannot import" in out.stderr
    assert store_entries(store) == before
    assert ctl(daemon, "image", "inspect", "bad:1").returncode == 1
    assert sandbox_processes() == []


@pytest.mark.parametrize("args,words", [
    (["--name", "mini:latest", "--runtime", "bash"], ["moving tag"]),
    (["--name", "../x:1", "--runtime", "bash"], ["not NAME:TAG"]),
    (["--name", "mini", "--runtime", "bash"], ["not NAME:TAG"]),
    (["--name", "mini:1", "--runtime", "cobol"], ["unknown runtime"]),
])
def test_bad_names_and_runtimes_refused(daemon, store, tmp_path, args,
                                        words):
    out = ctl(daemon, "image", "import",
              str(archive(tmp_path, mini_rootfs())), *args)
    assert out.returncode == 1
    assert all(w in out.stderr for w in words), out.stderr
    assert store_entries(store) == []


def test_usage(daemon, tmp_path):
    assert ctl(daemon, "image", "import", "--name", "a:1").returncode == 2
    assert "--runtime" in ctl(daemon, "image", "import", "--help").stdout
