"""Custom images of bash, bun and deno: `isol8ctl setup --bash PKGS`
installs Debian packages with apt-get in a box on the bash base image
whose network reaches only the archive its apt sources name (Debian's
real archive here); `--bun PKGS` and `--deno PKGS` install npm packages
from the real registry into /node_modules, which code imports with the
network off.  Several runtimes in one setup make one image each; the
configuration's prebuiltImages take these runtimes too."""

import json
import re
import subprocess
from contextlib import contextmanager

import pytest

from execute_helpers import module_daemon
from isol8_harness import BUILD
from test_images import CODENAME, ctl, ok
from test_images_custom import build, config, run, store  # noqa: F401


@pytest.fixture
def daemon(store):  # noqa: F811
    yield from module_daemon(config=config(store))


def custom_tags(d):
    return [t for i in ok(d, "image.list")["images"] for t in i["tags"]
            if not t.endswith(f":{CODENAME}")]


def test_bash_image_with_debian_packages(daemon, store):
    tag, digest, *rest = build(daemon, "--bash", "jq")
    assert re.fullmatch(r"custom-bash:[0-9a-f]{12}", tag), tag
    assert rest[:2] == ["built", "in"]
    meta = ok(daemon, "image.inspect", {"ref": tag})
    assert meta["installPackages"] == ["jq"]
    # The lock: jq and the libraries the base lacks, at apt's versions.
    version = meta["packages"]["jq"]
    assert re.fullmatch(r"[0-9][A-Za-z0-9.+~:-]*", version), meta
    assert "libjq1" in meta["packages"] and "bash" not in meta["packages"]
    # A box on it runs jq with no network, and dpkg knows it installed,
    # at the version recorded.
    r = ctl(daemon, "run", "-r", "bash", "--image", tag, "--net", "none",
            "--cmd", "echo '{\"a\":1}' | jq .a; dpkg -s jq; dpkg -L jq")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "1"
    assert "Status: install ok installed" in out
    assert f"Version: {version}" in out
    assert "/usr/bin/jq" in out
    # The base image has neither.
    r = ctl(daemon, "run", "-r", "bash", "--image", f"bash:{CODENAME}",
            "--cmd", "command -v jq || dpkg -s jq")
    assert r.returncode != 0 and "not installed" in r.stderr
    # Several runtimes at once: one image each, the unchanged bash recipe
    # reused.
    out = ctl(daemon, "setup", "--node", "is-number", "--bash", "jq")
    assert out.returncode == 0, out.stderr
    node, bash = [ln.split() for ln in out.stdout.splitlines()]
    assert node[0].startswith("custom-node:") and node[2:4] == ["built", "in"]
    assert bash == [tag, digest, "already", "present"]


def test_unknown_debian_package_fails_cleanly(daemon, store):
    before = sorted(p.name for p in (store / "layers").iterdir()) \
        if (store / "layers").exists() else []
    # (--env cannot replace the package list the builder checked.)
    out = ctl(daemon, "setup", "--bash", "jq,isol8-no-such-package",
              "--env", "ISOL8_PACKAGES=jq")
    assert out.returncode != 0
    assert "Unable to locate package isol8-no-such-package" in out.stderr
    assert "installing isol8-no-such-package jq for bash failed" in \
        out.stderr, out.stderr
    assert not [t for t in custom_tags(daemon) if t.startswith("custom-bash")]
    assert not [p for p in (store / "tmp").iterdir() if p.is_dir()]
    # The base image was built (or copied) on the way: nothing more.
    after = sorted(p.name for p in (store / "layers").iterdir())
    base = ok(daemon, "image.inspect", {"ref": f"bash:{CODENAME}"})
    assert set(after) - set(before) <= {x.split(":")[1]
                                        for x in base["layers"]}


def test_bun_and_deno_import_npm_packages_offline(daemon):
    out = ctl(daemon, "setup", "--bun", "is-odd", "--deno", "is-odd,lodash")
    assert out.returncode == 0, out.stderr
    bun, deno = [ln.split()[0] for ln in out.stdout.splitlines()]
    assert bun.startswith("custom-bun:") and deno.startswith("custom-deno:")
    bun_meta = ok(daemon, "image.inspect", {"ref": bun})
    deno_meta = ok(daemon, "image.inspect", {"ref": deno})
    # is-odd's dependency is recorded too.
    assert {"is-odd", "is-number"} <= set(bun_meta["packages"])
    assert {"is-odd", "is-number", "lodash"} <= set(deno_meta["packages"])
    r = run(daemon, bun, "bun",
            "import isOdd from 'is-odd'; "
            "import p from 'is-odd/package.json'; "
            "console.log(isOdd(3), isOdd(4), p.version)", "--net", "none")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["true", "false",
                                bun_meta["packages"]["is-odd"]]
    r = run(daemon, deno, "deno",
            "import _ from 'npm:lodash'; import isOdd from 'is-odd'; "
            "console.log(JSON.stringify(_.chunk([1, 2, 3], 2)), isOdd(3), "
            "_.VERSION)", "--net", "none")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[[1,2],[3]]", "true",
                                deno_meta["packages"]["lodash"]]
    # The packages are the image's, read-only; deno's own cache is the
    # box's.
    r = run(daemon, deno, "deno",
            "try { Deno.writeTextFileSync('/node_modules/x', ''); "
            "console.log('written') } catch (e) { console.log(e.message) }; "
            "console.log(Deno.env.get('DENO_DIR'))")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Read-only file system"), r.stdout + r.stderr
    assert lines[1:] == ["/tmp/.deno"]
    # The base images stay without them.
    r = run(daemon, f"bun:{CODENAME}", "bun", "import 'is-odd'",
            "--net", "none")
    assert r.returncode != 0


def test_prebuilt_bash_bun_and_deno_images(store):  # noqa: F811
    with contextmanager(module_daemon)(config=config(store, prebuiltImages=[
            {"tag": "pre-bash:v1", "runtime": "bash",
             "installPackages": ["bc"]},
            {"tag": "pre-deno:v1", "runtime": "deno",
             "installPackages": ["is-odd"]},
    ])) as d:
        out = ctl(d, "setup", "-r", "bash,deno")
        assert out.returncode == 0, out.stderr
        lines = [ln.split() for ln in out.stdout.splitlines()]
        assert [ln[0] for ln in lines] == [
            f"bash:{CODENAME}", f"deno:{CODENAME}", "pre-bash:v1",
            "pre-deno:v1"]
        assert "bc" in ok(d, "image.inspect", {"ref": "pre-bash:v1"})[
            "packages"]
        # bc's libreadline8 ships in /lib, the base's symlink to
        # /usr/lib: its files went there, the symlink stays.
        r = ctl(d, "run", "-r", "bash", "--image", "pre-bash:v1", "--cmd",
                "echo 6*7 | bc; readlink /lib; "
                "ls -d /usr/lib/*/libreadline.so.8")
        assert re.fullmatch(r"42\nusr/lib\n/usr/lib/[^/]+/libreadline"
                            r"\.so\.8\n", r.stdout), r.stdout + r.stderr
        r = run(d, "pre-deno:v1", "deno",
                "import isOdd from 'npm:is-odd'; console.log(isOdd(7))")
        assert r.stdout == "true\n", r.stderr


def test_bad_requests_refused(daemon):
    cases = [
        (("--bash", "a;rm"), "invalid package name"),
        (("--bash", "Jq"), "invalid package name"),
        (("--bash", "-o=x"), "invalid package name"),
        (("--bun", "-evil"), "invalid package name"),
        (("--deno", "a b"), "invalid package name"),
        (("--bash", "jq", "--deno", "x", "--name", "x:y"), "not several"),
        (("--bash", "jq", "-r", "bash"), "--runtime goes with"),
    ]
    for args, words in cases:
        out = ctl(daemon, "setup", *args)
        assert out.returncode != 0 and words in out.stderr, (args, out)
    assert custom_tags(daemon) == []


def test_prebuilt_entries_of_every_runtime_accepted(tmp_path):
    conf = tmp_path / "isol8d.json"
    conf.write_text(json.dumps({"prebuiltImages": [
        {"tag": "b:1", "runtime": "bash",
         "installPackages": ["libstdc++6", "jq=1.6-2.1+deb12u3"]},
        {"tag": "u:1", "runtime": "bun", "installPackages": ["@scope/x"]},
        {"installPackages": ["lodash@4"], "tag": "d:1", "runtime": "deno"},
    ]}))
    out = subprocess.run([str(BUILD / "isol8d"), "--config", str(conf),
                          "--check-config"], capture_output=True, text=True,
                         timeout=15)
    assert out.returncode == 0, out.stderr
