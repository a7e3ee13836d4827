"""A box's PID 1 is isol8-init, exec'd from a sealed memfd, never a copy of
the daemon: no box holds what another execution gave the daemon, and /proc
in a box shows neither the daemon's command line nor a host path.  Boxes
also see less of the host: its boot options, kernel configuration, boot id
and /usr/local stay out."""

import json
import os
import re
import uuid

from execute_helpers import execute
from isol8_harness import children_of, pids_with_marker, wait_until

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                     r"[0-9a-f]{12}$")


def box_inits(daemon_pid):
    """The daemon's children that are PID 1 of a PID namespace."""
    inits = []
    for pid in children_of(daemon_pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                nspid = [l.split()[1:] for l in f
                         if l.startswith("NSpid:")]
        except OSError:
            continue
        if nspid and len(nspid[0]) > 1 and nspid[0][-1] == "1":
            inits.append(pid)
    return inits


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def memory_of(pid):
    """Every readable mapping of pid, read as root from the host."""
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, \
            open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            if "r" not in fields[1] or name in ("[vvar]", "[vsyscall]"):
                continue
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except OSError:
                continue
    return b"".join(chunks)


def in_box(daemon, code):
    r = execute(daemon, {"runtime": "python", "code": code})
    return json.loads(r["stdout"])


def test_pid1_is_the_init_and_holds_no_other_executions_data(daemon):
    marker = "isol8-secret-" + uuid.uuid4().hex
    # Execution A keeps the marker (in its command and environment) in the
    # daemon while it runs ...
    a = daemon.client(timeout=60)
    try:
        a.send("execute", {"request": {
            "runtime": "bash", "cmd": f"sleep 60; : {marker}",
            "env": {"TENANT_SECRET": marker}}})
        running = wait_until(lambda: pids_with_marker(marker), 30)
        assert running, "execution A did not start"
        a_init = parent_of(running[0])
        # ... while box B is made for another session.
        with daemon.client() as c:
            sid = c.result("session.create", {"runtime": "bash"})["id"]
        try:
            b_inits = [p for p in box_inits(daemon.pid) if p != a_init]
            assert len(b_inits) == 1, (box_inits(daemon.pid), a_init)
            b = b_inits[0]
            # The scan finds the marker where it is (A's own init was
            # given it) but not in B, which was made while A ran.
            assert marker.encode() in memory_of(a_init)
            memory = memory_of(b)
            leaked = marker.encode() in memory
            assert not leaked, "box B's init holds execution A's secret"
            assert b"isol8-init" in memory
            with open(f"/proc/{b}/cmdline", "rb") as f:
                assert f.read() == b"isol8-init\0"
            exe = os.readlink(f"/proc/{b}/exe")
            # The box's own copy of the program, unlinked once opened: no
            # path (in the box or on the host) leads to it.
            assert exe == "/.isol8-init (deleted)", exe
            assert not os.path.exists(exe), exe
            # From inside the box, too, PID 1 is the init.
            with daemon.client() as c:
                r = c.result("execute", {
                    "request": {"runtime": "bash",
                                "code": "tr '\\0' ' ' </proc/1/cmdline; "
                                        "readlink /proc/1/exe || true"},
                    "sessionId": sid})
            assert r["stdout"].split("\n")[0] == "isol8-init ", r
            assert "isol8d" not in r["stdout"], r
        finally:
            with daemon.client() as c:
                c.result("session.delete", {"sessionId": sid})
    finally:
        a.close()  # cancels A
    assert wait_until(lambda: not pids_with_marker(marker), 10)


def test_host_boot_options_and_kernel_config_are_masked(daemon):
    seen = in_box(daemon, (
        "import json, os\n"
        "def read(p):\n"
        "    try:\n"
        "        return open(p, 'rb').read().hex()\n"
        "    except OSError as e:\n"
        "        return 'error ' + e.strerror\n"
        "print(json.dumps({p: read(p) for p in\n"
        "    ('/proc/cmdline', '/proc/config.gz')}))\n"))
    with open("/proc/cmdline", "rb") as f:
        assert f.read(), "the host has a command line to hide"
    assert seen["/proc/cmdline"] == "", seen
    # Where the host has a kernel configuration, the box reads nothing.
    assert seen["/proc/config.gz"] in ("", "error No such file or directory")
    if os.path.exists("/proc/config.gz"):
        assert seen["/proc/config.gz"] == "", seen


def test_boot_id_is_per_box(daemon):
    code = "print(repr(open('/proc/sys/kernel/random/boot_id').read()))"
    with open("/proc/sys/kernel/random/boot_id") as f:
        host = f.read().strip()
    ids = []
    for _ in range(2):
        r = execute(daemon, {"runtime": "python", "code": code})
        text = eval(r["stdout"])  # a repr of a str, printed by the box
        assert text.endswith("\n"), text
        ids.append(text.strip())
        assert UUID_RE.match(ids[-1]), ids
    assert host not in ids
    assert ids[0] != ids[1]
    # Nor can the box write its own.
    r = execute(daemon, {"runtime": "bash", "code":
                         "echo x > /proc/sys/kernel/random/boot_id "
                         "2>/dev/null && echo WROTE || echo refused"})
    assert r["stdout"] == "refused\n", r


def test_usr_local_shows_only_what_runtimes_need(daemon):
    seen = in_box(daemon, (
        "import json, os, ssl\n"
        "walk = sorted(os.path.join(d, n)[len('/usr/local'):]\n"
        "    for d, ds, fs in os.walk('/usr/local') for n in ds + fs)\n"
        "try:\n"
        "    os.mkdir('/usr/local/bin')\n"
        "    made = True\n"
        "except OSError:\n"
        "    made = False\n"
        "links = {}\n"
        "for n in os.listdir('/etc/ssl/certs'):\n"
        "    p = os.path.join('/etc/ssl/certs', n)\n"
        "    if os.path.islink(p) and os.readlink(p).startswith('/usr/local'):\n"
        "        links[n] = os.path.exists(p)\n"
        "print(json.dumps({'walk': walk, 'made': made, 'links': links}))\n"))
    assert not seen["made"]
    # Nothing of the host's /usr/local but its local CA certificates.
    for entry in seen["walk"]:
        assert entry in ("/share", "/share/ca-certificates") or \
            entry.startswith("/share/ca-certificates/"), seen["walk"]
    host_entries = os.listdir("/usr/local")
    assert host_entries, "the host's /usr/local is not empty"
    for name in host_entries:
        if name != "share":
            assert f"/{name}" not in seen["walk"], seen["walk"]
    # The image's links to local CAs resolve in the box as on the host.
    for name, resolves in seen["links"].items():
        assert resolves == os.path.exists(f"/etc/ssl/certs/{name}"), name


# The host's /etc entries a box on the host image sees (daemon/sandbox/
# rootfs.c), each where the host has it, beside the files made for the box.
ETC_FROM_HOST = ("alternatives", "ssl", "ca-certificates", "ld.so.cache",
                 "ld.so.conf", "ld.so.conf.d", "localtime", "python3",
                 "python3.11", "protocols", "services", "mime.types",
                 "gai.conf", "nsswitch.conf")
ETC_MADE = ("passwd", "group", "hosts", "hostname", "resolv.conf")


def test_etc_holds_its_own_files_and_chosen_host_entries(daemon):
    """A box's /etc: the files made for it and, of the host's, only the
    chosen entries the host has, read-only; a symbolic link among them
    (localtime) is there as the file it leads to."""
    seen = in_box(daemon, (
        "import json, os\n"
        "lt = '/etc/localtime'\n"
        "try:\n"
        "    open('/etc/services', 'a')\n"
        "    writable = True\n"
        "except OSError:\n"
        "    writable = False\n"
        "print(json.dumps({'names': sorted(os.listdir('/etc')),\n"
        "    'link': os.path.islink(lt),\n"
        "    'zone': open(lt, 'rb').read().hex() if os.path.exists(lt)\n"
        "            else None,\n"
        "    'writable': writable}))\n"))
    host = [n for n in ETC_FROM_HOST if os.path.exists(f"/etc/{n}")]
    assert "localtime" in host
    assert seen["names"] == sorted(host + list(ETC_MADE)), seen["names"]
    assert not seen["link"], seen
    with open("/etc/localtime", "rb") as f:
        assert seen["zone"] == f.read().hex()
    assert not seen["writable"]
