"""Isolation policy is the administrator's: "unconfined" and custom seccomp
profiles only where the daemon's configuration allows them, custom profiles
only by name from the administrator's directory, and the mandatory denials
under every mode unless a setting named for it drops them."""

import ctypes
import os
import stat
import struct

from test_escapes import assert_all_blocked, execute, run_probe

UNCONFINED = {"seccomp": "unconfined"}

# What a nested user namespace would give; all must stay blocked.
NESTED = ("unshare -Urm and mount", "mount tmpfs on /tmp",
          "nested user+net namespace", "packet socket", "raw IPv4 socket",
          "raw IPv6 socket")


def refused(msg):
    assert "error" in msg, msg
    assert msg["error"]["code"] == -32602, msg
    assert msg["error"]["data"]["kind"] == "invalid_argument", msg
    return msg["error"]["message"]


def test_weakening_modes_are_refused_by_default(daemon):
    for sec, key in ((UNCONFINED, "security.allowUnconfined"),
                     ({"seccomp": "custom", "customProfilePath": "x.json"},
                      "security.allowCustomProfiles")):
        msg = execute(daemon, runtime="bash", code="echo ran",
                      options={"security": sec})
        assert key in refused(msg)


def assert_nested_blocked(r, lines):
    blocked = assert_all_blocked(r, lines, len(NESTED))
    for name in NESTED:
        assert f"BLOCKED {name}" in blocked, lines
    assert ("BLOCKED netfilter table creation" in blocked or
            "UNAVAILABLE netfilter: no nfnetlink in this kernel" in lines)


def test_unconfined_keeps_the_mandatory_denials(start_daemon):
    d = start_daemon(config={"security": {"allowUnconfined": True}})
    r, lines = run_probe(d, "probe_nested_ns.py", security=UNCONFINED)
    assert_nested_blocked(r, lines)
    r, lines = run_probe(d, "probe_syscalls.py", security=UNCONFINED)
    blocked = assert_all_blocked(r, lines, 30)
    for name in ("keyctl", "io_uring_setup", "bpf", "perf_event_open",
                 "socket AF_VSOCK", "socket AF_ALG", "packet socket",
                 "ptrace attach to pid 1", "unshare user namespace",
                 "clone3", "clone with CLONE_NEWUSER"):
        assert f"BLOCKED {name}" in blocked, lines


def test_a_custom_allow_all_profile_keeps_the_mandatory_denials(
        start_daemon, tmp_path):
    (tmp_path / "allow-all.json").write_text(
        '{"defaultAction": "SCMP_ACT_ALLOW"}')
    d = start_daemon(config={"security": {"allowCustomProfiles": True,
                                          "profileDir": str(tmp_path)}})
    r, lines = run_probe(d, "probe_nested_ns.py", security={
        "seccomp": "custom", "customProfilePath": "allow-all.json"})
    assert_nested_blocked(r, lines)


def test_only_the_setting_named_for_it_drops_the_denials(start_daemon):
    """The control for the tests above: with the denials dropped on
    purpose, the same probe gets its nested namespace."""
    d = start_daemon(config={"security": {
        "allowUnconfined": True, "unconfinedDropsMandatoryDenials": True}})
    r, lines = run_probe(d, "probe_nested_ns.py", security=UNCONFINED)
    assert lines[-1] == "DONE", r
    escaped = [l.split(":")[0] for l in lines if l.startswith("ESCAPED")]
    assert "ESCAPED nested user+net namespace" in escaped, lines
    assert "ESCAPED packet socket" in escaped, lines
    # The default mode still has them.
    r, lines = run_probe(d, "probe_nested_ns.py")
    assert_nested_blocked(r, lines)


class OpenWatch:
    """Reports every open(2) of the watched files, by anyone (inotify)."""
    IN_OPEN = 0x20

    def __init__(self, paths):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0
        self.names = {}
        for p in paths:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(p),
                                             self.IN_OPEN)
            assert wd >= 0, p
            self.names[wd] = str(p)

    def opened(self):
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return []
        seen = []
        while data:  # struct inotify_event: wd, mask, cookie, len, name
            wd, _, _, length = struct.unpack_from("=iIII", data)
            seen.append(self.names.get(wd, wd))
            data = data[16 + length:]
        return seen

    def close(self):
        os.close(self.fd)


def test_custom_profiles_are_names_never_host_paths(start_daemon, tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    secret = tmp_path / "secret.json"
    secret.write_text('{"defaultAction": "SECRET-9f1c"}')
    os.symlink(secret, profiles / "link.json")
    os.mkfifo(profiles / "fifo.json")
    (profiles / "dir.json").mkdir()
    os.mknod(profiles / "null.json", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    (profiles / "big.json").write_bytes(b" " * (2 << 20))
    d = start_daemon(config={"security": {"allowCustomProfiles": True,
                                          "profileDir": str(profiles)}})
    watch = OpenWatch([secret, profiles / "fifo.json", profiles / "null.json",
                       profiles / "big.json"])
    try:
        for given, why in (
                ("/etc/shadow", "not another path"),
                ("/proc/self/root/etc/shadow", "not another path"),
                (str(secret), "not another path"),
                (f"/proc/self/root{secret}", "not another path"),
                (f"{profiles}/../secret.json", "a profile name is"),
                ("../secret.json", "a profile name is"),
                ("../x", "a profile name is"),
                ("link.json", "profile 'link.json' is not a regular file"),
                ("fifo.json", "profile 'fifo.json' is not a regular file"),
                ("dir.json", "profile 'dir.json' is not a regular file"),
                ("null.json", "profile 'null.json' is not a regular file"),
                ("big.json", "profile 'big.json' is larger than"),
                ("missing.json", "no seccomp profile named 'missing.json'")):
            msg = execute(d, runtime="bash", code="echo ran", options={
                "security": {"seccomp": "custom",
                             "customProfilePath": given}})
            text = refused(msg)
            assert why in text, (given, text)
            assert "9f1c" not in text and "SECRET" not in text, text
            assert "root:" not in text, text
        assert watch.opened() == []
    finally:
        watch.close()


def test_a_broken_profile_is_named_without_its_content(start_daemon,
                                                       tmp_path):
    (tmp_path / "bad.json").write_text(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": '
        '[{"names": ["read"], "action": "SECRET-9f1c"}]}')
    d = start_daemon(config={"security": {"allowCustomProfiles": True,
                                          "profileDir": str(tmp_path)}})
    msg = execute(d, runtime="bash", code="echo should-not-run",
                  options={"security": {"seccomp": "custom",
                                        "customProfilePath": "bad.json"}})
    assert refused(msg) == ("options.security.customProfilePath: profile "
                            "'bad.json': syscalls[0].action: is not a "
                            "known action")
