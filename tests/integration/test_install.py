"""make install honours DESTDIR and PREFIX and puts every part in its FHS
place."""

import os
import subprocess
from pathlib import Path

from isol8_harness import BUILD

REPO = Path(__file__).resolve().parents[2]


def test_install_into_destdir(tmp_path):
    dest = tmp_path / "root"
    out = subprocess.run(
        ["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/usr",
         f"BUILD={BUILD}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    want = {
        "usr/sbin/isol8d": 0o755,
        "usr/bin/isol8ctl": 0o755,
        "lib/systemd/system/isol8d.service": 0o644,
        "lib/systemd/system/isol8d.socket": 0o644,
        "usr/lib/sysusers.d/isol8.conf": 0o644,
        "usr/lib/tmpfiles.d/isol8.conf": 0o644,
        "usr/share/isol8/profiles/strict.json": 0o644,
        "usr/share/isol8/isol8d-hibernate.conf": 0o644,
        "usr/share/man/man1/isol8ctl.1": 0o644,
        "usr/share/man/man5/isol8d.json.5": 0o644,
        "usr/share/man/man8/isol8d.8": 0o644,
    }
    for rel, mode in want.items():
        p = dest / rel
        assert p.is_file(), f"{rel} not installed"
        assert p.stat().st_mode & 0o777 == mode, f"{rel}: mode {oct(p.stat().st_mode)}"
    # Nothing outside DESTDIR, and the installed daemon runs.
    v = subprocess.run([str(dest / "usr/sbin/isol8d"), "--version"],
                       capture_output=True, text=True, timeout=10)
    assert v.returncode == 0 and "isol8d" in v.stdout
    assert (dest / "usr/share/isol8/profiles/strict.json").read_bytes() == \
        (REPO / "profiles/strict.json").read_bytes()
