"""Shared helpers of the escape probes.

A probe is run inside a box.  It tries one attack per check and prints
"BLOCKED <name>" when the attack failed as it must, "ESCAPED <name>: <how>"
when it worked.  Run on a host as root these attacks would really mount,
unshare or load filters, so every probe refuses to start unless it sees
that it is inside a user namespace that does not map host root.
"""
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def inside_box():
    try:
        with open("/proc/self/uid_map") as f:
            lines = [l.split() for l in f if l.strip()]
    except OSError:
        return False
    # The host's initial namespace maps 0 onto 0 for the full range.
    return not any(l[0] == "0" and l[1] == "0" for l in lines)


def require_box():
    if not inside_box():
        print("REFUSED: not inside a sandbox user namespace", flush=True)
        sys.exit(3)


def report(name, ok, how=""):
    if ok:
        print(f"BLOCKED {name}", flush=True)
    else:
        print(f"ESCAPED {name}: {how}", flush=True)


def syscall(nr, *args):
    """Returns (result, errno)."""
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return r, ctypes.get_errno()


def expect_fail(name, nr, *args):
    r, e = syscall(nr, *args)
    report(name, r == -1, f"returned {r}")
    return e
