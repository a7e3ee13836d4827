"""isol8-image import: OCI layouts, docker save and docker export archives
the tests build themselves, hostile ones included, through the real
program (skopeo and umoci in its sandbox)."""
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from isol8_harness import BUILD

IMPORT = BUILD / "isol8-image"
ID_BASE = 1000000000 - 65536
SANDBOX_UID = ID_BASE + 1000

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not (shutil.which("skopeo") and shutil.which("umoci")),
                       reason="needs skopeo and umoci (make deps)"),
]


def entry(name, data=b"", mode=0o644, kind=tarfile.REGTYPE, link="",
          xattrs=None, **kw):
    return dict(name=name, data=data, mode=mode, kind=kind, link=link,
                xattrs=xattrs or {}, **kw)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.type = e["kind"]
            info.mode = e["mode"]
            info.linkname = e["link"]
            info.devmajor = e.get("major", 0)
            info.devminor = e.get("minor", 0)
            info.pax_headers = {f"SCHILY.xattr.{k}": v
                                for k, v in e["xattrs"].items()}
            if info.type == tarfile.REGTYPE:
                info.size = len(e["data"])
                t.addfile(info, io.BytesIO(e["data"]))
            else:
                t.addfile(info)
    return buf.getvalue()


CONFIG = {"Env": ["PATH=/usr/bin:/bin", "GREETING=hi"],
          "Entrypoint": ["/bin/hello"], "Cmd": ["--loud"],
          "WorkingDir": "/app"}
CREATED = "2024-01-02T03:04:05Z"


def image_config(layers):
    return json.dumps({
        "architecture": "amd64", "os": "linux", "created": CREATED,
        "config": CONFIG,
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest()
                                for l in layers]},
    }).encode()


def oci_layout(path, layers, gzip_layers=True):
    """An OCI image layout of the given layer tars; the manifest digest."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return "sha256:" + digest

    descs = []
    for layer in layers:
        data = gzip.compress(layer) if gzip_layers else layer
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar"
                      + ("+gzip" if gzip_layers else ""),
                      "digest": blob(data), "size": len(data)})
    config = image_config(layers)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob(config), "size": len(config)},
        "layers": descs}).encode()
    digest = blob(manifest)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (path / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest, "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))
    return digest


def docker_save(path, layers):
    """A `docker save` archive: manifest.json, the config, layer tars."""
    config = image_config(layers)
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    files = {config_name: config}
    names = []
    for i, layer in enumerate(layers):
        names.append(f"layer{i}/layer.tar")
        files[names[-1]] = layer
    files["manifest.json"] = json.dumps([{
        "Config": config_name, "RepoTags": ["test/image:1"],
        "Layers": names}]).encode()
    path.write_bytes(tar_bytes([entry(n, d) for n, d in files.items()]))
    return "sha256:" + hashlib.sha256(config).hexdigest()


BASE = [
    entry("bin", kind=tarfile.DIRTYPE, mode=0o755),
    entry("bin/hello", b"#!/bin/sh\necho hi\n", mode=0o4755),
    entry("bin/group", b"g", mode=0o2755),
    entry("bin/noted", b"n", mode=0o755,
          xattrs={"user.note": "dropped by the copy"}),
    # cap_net_raw, effective (struct vfs_cap_data, revision 2).
    entry("bin/capable", b"c", mode=0o755, xattrs={
        "security.capability": struct.pack(
            "<5I", 0x02000001, 1 << 13, 0, 0, 0).decode("latin-1")}),
    entry("bin/again", kind=tarfile.LNKTYPE, link="bin/hello"),
    entry("etc", kind=tarfile.DIRTYPE, mode=0o755),
    entry("etc/gone", b"removed by the next layer"),
    entry("etc/passwd-link", kind=tarfile.SYMTYPE, link="/etc/passwd"),
    entry("etc/up", kind=tarfile.SYMTYPE, link="../../../.."),
    entry("dev", kind=tarfile.DIRTYPE, mode=0o755),
    entry("dev/sda", kind=tarfile.BLKTYPE, major=8, minor=0),
    entry("dev/mem", kind=tarfile.CHRTYPE, major=1, minor=1),
    entry("dev/fifo", kind=tarfile.FIFOTYPE),
]
TOP = [entry("etc/.wh.gone"), entry("etc/new", b"added")]


def run_import(archive, out, meta, *extra, timeout=120):
    return subprocess.run(
        [str(IMPORT), "import", "--archive", str(archive), "--out", str(out),
         "--meta", str(meta), *extra],
        capture_output=True, text=True, timeout=timeout)


def walk(root):
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(dirpath) / name


def assert_safe(root):
    for p in walk(root):
        st = os.lstat(p)
        assert stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode) or \
            stat.S_ISLNK(st.st_mode), f"{p} is neither file, dir nor symlink"
        assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID), f"{p} setid"
        assert (st.st_uid, st.st_gid) == (0, 0), p
        if not stat.S_ISLNK(st.st_mode):
            assert os.listxattr(p, follow_symlinks=False) == [], p


def sandbox_processes():
    found = []
    for pid in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and \
                    ID_BASE <= int(line.split()[1]) < ID_BASE + 65536:
                found.append(pid)
    return found


def sandbox_mounts():
    """The host's mounts of the sandbox's directories (there must be none:
    they live in the sandbox's own mount namespace)."""
    return [line for line in Path("/proc/self/mountinfo").read_text()
            .splitlines() if "/in/archive" in line or "/work/" in line
            or "/pytest-of-" in line]


@pytest.fixture(autouse=True)
def no_leaks():
    mounts = sandbox_mounts()
    yield
    assert sandbox_processes() == []
    assert sandbox_mounts() == mounts


@pytest.fixture
def canary(tmp_path):
    """A host directory and file that no import may touch."""
    d = tmp_path / "canary"
    d.mkdir()
    (d / "file").write_text("untouched")
    yield d
    assert sorted(os.listdir(d)) == ["file"]
    assert (d / "file").read_text() == "untouched"


def check_base(out, meta):
    assert not (out / "etc/gone").exists()
    assert (out / "etc/new").read_text() == "added"
    assert os.readlink(out / "etc/passwd-link") == "/etc/passwd"
    assert os.readlink(out / "etc/up") == "../../../.."
    hello = os.lstat(out / "bin/hello")
    assert hello.st_ino == os.lstat(out / "bin/again").st_ino
    assert stat.S_IMODE(hello.st_mode) == 0o755
    assert (out / "bin/hello").read_bytes().startswith(b"#!/bin/sh")
    assert_safe(out)
    assert meta["removed"]["setid_bits"] == 2
    assert meta["entrypoint"] == CONFIG["Entrypoint"]
    assert meta["cmd"] == CONFIG["Cmd"]
    assert meta["env"] == CONFIG["Env"]
    assert meta["workdir"] == "/app"
    assert meta["created"] == CREATED
    assert meta["size"] == sum(os.lstat(p).st_size for p in walk(out)
                               if p.is_file() and not p.is_symlink()
                               and p.name != "again")


def test_oci_layout_directory(tmp_path):
    digest = oci_layout(tmp_path / "layout",
                        [tar_bytes(BASE), tar_bytes(TOP)])
    r = run_import(tmp_path / "layout", tmp_path / "out", tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["format"] == "oci-layout"
    assert meta["digest"] == digest
    check_base(tmp_path / "out", meta)


def test_oci_archive_tar(tmp_path):
    digest = oci_layout(tmp_path / "layout",
                        [tar_bytes(BASE), tar_bytes(TOP)], gzip_layers=False)
    with tarfile.open(tmp_path / "image.tar", "w") as t:
        for p in sorted((tmp_path / "layout").iterdir()):
            t.add(p, arcname=p.name)
    r = run_import(tmp_path / "image.tar", tmp_path / "out",
                   tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["format"] == "oci-archive"
    # skopeo writes the manifest of the layout it copies to.
    assert meta["digest"].startswith("sha256:") and digest
    check_base(tmp_path / "out", meta)


def test_docker_save_archive(tmp_path):
    docker_save(tmp_path / "saved.tar", [tar_bytes(BASE), tar_bytes(TOP)])
    r = run_import(tmp_path / "saved.tar", tmp_path / "out",
                   tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["format"] == "docker-archive"
    assert meta["digest"].startswith("sha256:")
    check_base(tmp_path / "out", meta)


ROOTFS = [
    entry("usr", kind=tarfile.DIRTYPE, mode=0o755),
    entry("usr/bin", kind=tarfile.DIRTYPE, mode=0o755),
    entry("usr/bin/python3.11", b"#!/bin/false\n", mode=0o755),
    entry("usr/bin/python3", kind=tarfile.SYMTYPE, link="python3.11"),
    entry("bin", kind=tarfile.SYMTYPE, link="usr/bin"),
    entry("usr/bin/node", kind=tarfile.SYMTYPE, link="/etc/node-elsewhere"),
]


def test_docker_export_rootfs_and_runtime(tmp_path):
    (tmp_path / "export.tar").write_bytes(tar_bytes(ROOTFS))
    r = run_import(tmp_path / "export.tar", tmp_path / "out",
                   tmp_path / "m.json", "--runtime", "python",
                   "--owner", "0:0")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["format"] == "rootfs-tar"
    assert meta["digest"] is None and meta["entrypoint"] is None
    assert meta["runtime"] == "python"
    # node is a symlink out of the image: resolved inside, it leads nowhere.
    assert meta["runtimes"] == ["python"]
    assert os.readlink(tmp_path / "out/bin") == "usr/bin"

    r = run_import(tmp_path / "export.tar", tmp_path / "out2",
                   tmp_path / "m2.json", "--runtime", "node")
    assert r.returncode == 1
    assert "--runtime node: the image has no executable node" in r.stderr
    assert not (tmp_path / "out2").exists()


def test_owner_option(tmp_path):
    (tmp_path / "export.tar").write_bytes(tar_bytes(ROOTFS))
    r = run_import(tmp_path / "export.tar", tmp_path / "out",
                   tmp_path / "m.json", "--owner", "4242:4343")
    assert r.returncode == 0, r.stderr
    for p in [tmp_path / "out", *walk(tmp_path / "out")]:
        st = os.lstat(p)
        assert (st.st_uid, st.st_gid) == (4242, 4343), p


def hostile_entries(canary):
    """Names that would land outside the root if a tool followed them:
    each is resolved inside the image instead."""
    inside = str(canary).lstrip("/")
    return [
        entry("../../../../../../etc/isol8-import-escape", b"x"),
        entry(str(canary / "absolute"), b"x"),
        entry("esc", kind=tarfile.SYMTYPE, link=str(canary)),
        entry("esc/through-symlink", b"x"),
        entry("up", kind=tarfile.SYMTYPE, link="../../../../.."),
        entry(f"up/{inside}/via-dotdot", b"x"),
        entry("root-link", kind=tarfile.SYMTYPE, link="/"),
        entry("root-link/tmp/isol8-import-escape", b"x"),
        entry("bin", kind=tarfile.DIRTYPE, mode=0o755),
        entry("bin/x", b"inside"),
        entry("hard-inside", kind=tarfile.LNKTYPE, link="/bin/x"),
    ]


def hostile_archive(tmp_path, shape, entries):
    if shape == "rootfs":
        archive = tmp_path / "export.tar"
        archive.write_bytes(tar_bytes(entries))
    else:
        # One layer an entry: a later layer writes through an earlier
        # layer's symlink.
        archive = tmp_path / "layout"
        oci_layout(archive, [tar_bytes([e]) for e in entries])
    return archive


@pytest.mark.parametrize("shape", ["rootfs", "layers"])
def test_hostile_paths_stay_inside(tmp_path, canary, shape):
    archive = hostile_archive(tmp_path, shape, hostile_entries(canary))
    r = run_import(archive, tmp_path / "out", tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    assert not Path("/etc/isol8-import-escape").exists()
    assert not Path("/tmp/isol8-import-escape").exists()
    out = tmp_path / "out"
    assert_safe(out)
    inside = out / str(canary).lstrip("/")
    assert sorted(os.listdir(inside)) == ["absolute", "through-symlink",
                                          "via-dotdot"]
    assert (out / "etc/isol8-import-escape").is_file()
    assert (out / "tmp/isol8-import-escape").is_file()
    assert os.readlink(out / "esc") == str(canary)
    assert os.readlink(out / "root-link") == "/"
    assert os.lstat(out / "hard-inside").st_ino == \
        os.lstat(out / "bin/x").st_ino


@pytest.mark.parametrize("shape", ["rootfs", "layers"])
def test_hard_link_to_a_host_file_is_refused(tmp_path, canary, shape):
    archive = hostile_archive(tmp_path, shape, [
        entry("hard", kind=tarfile.LNKTYPE, link=str(canary / "file"))])
    r = run_import(archive, tmp_path / "out", tmp_path / "m.json")
    assert r.returncode == 1
    assert "umoci could not unpack the image" in r.stderr
    assert "hard: link" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_setuid_devices_and_capabilities_removed(tmp_path):
    (tmp_path / "export.tar").write_bytes(tar_bytes(BASE))
    r = run_import(tmp_path / "export.tar", tmp_path / "out",
                   tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.json").read_text())
    assert_safe(tmp_path / "out")
    assert not (tmp_path / "out/dev/fifo").exists()
    assert meta["removed"]["fifos"] == 1
    assert meta["removed"]["setid_bits"] == 2
    # umoci, unprivileged, leaves device nodes as empty files.
    assert (tmp_path / "out/dev/sda").stat().st_size == 0


def test_decompression_bomb_over_max_bytes(tmp_path):
    bomb = tar_bytes([entry("zeros", bytes(64 << 20))])
    oci_layout(tmp_path / "layout", [bomb])
    r = run_import(tmp_path / "layout", tmp_path / "out",
                   tmp_path / "m.json", "--max-bytes", "16m")
    assert r.returncode == 1
    assert "larger than --max-bytes 16777216" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "m.json").exists()


def test_absurd_declared_size(tmp_path):
    info = tarfile.TarInfo("huge")
    info.size = 1 << 40
    (tmp_path / "export.tar").write_bytes(
        info.tobuf(format=tarfile.GNU_FORMAT) + b"short" * 100)
    r = run_import(tmp_path / "export.tar", tmp_path / "out",
                   tmp_path / "m.json", "--max-bytes", "16m")
    assert r.returncode == 1
    assert r.stderr.startswith("isol8-image: import "), r.stderr
    assert not (tmp_path / "out").exists()


def test_too_many_files(tmp_path):
    entries = [entry(f"f{i}") for i in range(3000)]
    (tmp_path / "export.tar").write_bytes(tar_bytes(entries))
    r = run_import(tmp_path / "export.tar", tmp_path / "out",
                   tmp_path / "m.json", "--max-files", "1000")
    assert r.returncode == 1
    assert "more than --max-files 1000 files" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_corrupted_archives(tmp_path):
    (tmp_path / "junk").write_bytes(os.urandom(100000))
    r = run_import(tmp_path / "junk", tmp_path / "out", tmp_path / "m.json")
    assert r.returncode == 1
    assert "neither a tar archive nor an OCI image layout" in r.stderr

    oci_layout(tmp_path / "layout", [tar_bytes(TOP)])
    blob = next(p for p in (tmp_path / "layout/blobs/sha256").iterdir()
                if p.read_bytes()[:2] == b"\x1f\x8b")
    blob.write_bytes(blob.read_bytes()[:20])
    r = run_import(tmp_path / "layout", tmp_path / "out", tmp_path / "m.json")
    assert r.returncode == 1
    assert "skopeo could not read the oci-layout" in r.stderr, r.stderr

    (tmp_path / "notlayout").mkdir()
    r = run_import(tmp_path / "notlayout", tmp_path / "out",
                   tmp_path / "m.json")
    assert r.returncode == 1
    assert "not an OCI image layout (no oci-layout file)" in r.stderr
    assert not (tmp_path / "out").exists()


def test_timeout_kills_everything(tmp_path):
    # A blob that is a FIFO nobody writes: skopeo waits on it forever.
    oci_layout(tmp_path / "layout", [tar_bytes(TOP)])
    blob = next(p for p in (tmp_path / "layout/blobs/sha256").iterdir()
                if p.read_bytes()[:2] == b"\x1f\x8b")
    blob.unlink()
    os.mkfifo(blob)
    r = run_import(tmp_path / "layout", tmp_path / "out",
                   tmp_path / "m.json", "--timeout", "2")
    assert r.returncode == 1
    assert "longer than --timeout 2 seconds and was killed" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,message", [
    (["--out", "O", "--meta", "M"], "--archive, --out and --meta are required"),
    (["--runtime", "cobol"], "--runtime cobol: not a runtime"),
    (["--max-bytes", "lots"], "--max-bytes lots: not a size"),
    (["--max-files", "1"], "--max-files 1: not a number"),
    (["--timeout", "0"], "--timeout 0: not a number of seconds"),
    (["--owner", "root"], "--owner root: not UID:GID"),
    (["--id-base", "0"], "--id-base 0: not an id"),
])
def test_usage_errors(tmp_path, args, message):
    r = subprocess.run([str(IMPORT), "import", *args], capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr


def test_existing_out_and_missing_archive(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "export.tar").write_bytes(tar_bytes(ROOTFS))
    r = run_import(tmp_path / "export.tar", tmp_path / "out",
                   tmp_path / "m.json")
    assert r.returncode == 1
    assert f"--out {tmp_path / 'out'}: already exists" in r.stderr
    r = run_import(tmp_path / "nothing", tmp_path / "out2",
                   tmp_path / "m.json")
    assert r.returncode == 1
    assert "--archive" in r.stderr and "No such file" in r.stderr


def wait_for(predicate, what, tries=600):
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def test_killed_importer_takes_its_sandbox_along(tmp_path):
    oci_layout(tmp_path / "layout", [tar_bytes(TOP)])
    blob = next(p for p in (tmp_path / "layout/blobs/sha256").iterdir()
                if p.read_bytes()[:2] == b"\x1f\x8b")
    blob.unlink()
    os.mkfifo(blob)
    proc = subprocess.Popen(
        [str(IMPORT), "import", "--archive", str(tmp_path / "layout"),
         "--out", str(tmp_path / "out"), "--meta", str(tmp_path / "m.json")],
        stderr=subprocess.DEVNULL)
    try:
        wait_for(sandbox_processes, "the sandbox's tools running")
    finally:
        proc.kill()
        proc.wait()
    wait_for(lambda: not sandbox_processes(), "the sandbox gone")
    assert not (tmp_path / "out").exists()
