"""The host's files and processes stay out of sight and out of reach."""
import os

from probe_common import report, require_box

require_box()

def cannot_read(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return False
    except OSError:
        return True

def cannot_write(path):
    try:
        with open(path, "wb") as f:
            f.write(b"x")
        return False
    except OSError:
        return True

for p in ("/etc/shadow", "/root/.bashrc", "/home", "/var/log/syslog",
          "/boot", "/sys/kernel", "/run/isol8/isol8.sock"):
    report(f"host path {p} absent", not os.path.exists(p), "exists in the box")
for p in ("/x", "/usr/bin/evil", "/etc/passwd", "/bin/sh", "/opt/evil"):
    report(f"write {p}", cannot_write(p), "written")
report("read /proc/kcore", cannot_read("/proc/kcore") or os.path.getsize("/proc/kcore") == 0, "readable")
for p in ("/proc/sysrq-trigger", "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches"):
    report(f"write {p}", cannot_write(p), "written")
pids = [d for d in os.listdir("/proc") if d.isdigit()]
report("only the box's processes visible", all(int(p) < 1000 for p in pids) and "1" in pids, f"pids {pids}")
try:
    os.kill(1, 9)
    report("kill the box's init", False, "signal delivered")
except OSError:
    report("kill the box's init", True)
# The init runs as the box's root: its exe and memory stay closed to uid
# 1000 without capabilities.
report("open /proc/1/exe", cannot_read("/proc/1/exe"), "readable")
report("open /proc/1/mem", cannot_read("/proc/1/mem"), "readable")
report("read /proc/1/environ", cannot_read("/proc/1/environ"), "readable")
# Through our own fds there is nothing of the host to find.
found = []
for fd in os.listdir("/proc/self/fd"):
    try:
        t = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if t.startswith("/") and not t.startswith(("/sandbox", "/dev", "/proc", "/tmp")):
        found.append(t)
report("no host files behind /proc/self/fd", not found, f"{found}")
report("no capabilities", open("/proc/self/status").read().count("0000000000000000") >= 5, "capabilities held")
report("uid 1000", os.getuid() == 1000 and os.geteuid() == 1000, f"uid {os.getuid()}")
print("DONE", flush=True)
