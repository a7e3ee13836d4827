"""A nested user namespace and what it would give: full capabilities over
a mount and a network namespace of its own, so mounts, netfilter, packet
and raw sockets.  Run under "unconfined" the mandatory denials must still
keep every one of them out of reach."""
import ctypes
import errno
import os
import socket
import struct
import subprocess

from probe_common import expect_fail, report, require_box, syscall

require_box()

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
SYS_UNSHARE, SYS_MOUNT = 272, 165


keep = []


def c_str(s):
    buf = ctypes.create_string_buffer(s)
    keep.append(buf)
    return ctypes.addressof(buf)


# The util-linux way, as an attacker would try first.
out = subprocess.run(["unshare", "-Urm", "sh", "-c",
                      "mount -t tmpfs none /tmp && echo MOUNTED"],
                     capture_output=True, text=True, timeout=20)
report("unshare -Urm and mount", "MOUNTED" not in out.stdout,
       out.stdout.strip())
expect_fail("mount tmpfs on /tmp", SYS_MOUNT, c_str(b"none"), c_str(b"/tmp"),
            c_str(b"tmpfs"), 0, 0)


def nft_new_table():
    """Sends an nftables batch creating a table; returns the errno the
    kernel acknowledged it with (0: created), or None if netfilter's
    netlink family is not in this kernel."""
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    except OSError as e:
        if e.errno in (errno.EPROTONOSUPPORT, errno.EAFNOSUPPORT):
            return None
        return e.errno
    s.settimeout(5)

    def msg(mtype, flags, family, res_id, payload=b""):
        body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + payload
        return struct.pack("=IHHII", 16 + len(body), mtype, flags, 0, 0) + body

    name = struct.pack("=HH", 6, 1) + b"x\0" + b"\0\0"
    batch = (msg(0x10, 1, 0, 10) +
             msg(0xa00, 1 | 4 | 0x400, socket.AF_INET, 0, name) +
             msg(0x11, 1, 0, 10))
    try:
        s.sendto(batch, (0, 0))
        data = s.recv(65536)
    except OSError as e:
        return e.errno
    finally:
        s.close()
    while len(data) >= 20:
        length, mtype = struct.unpack_from("=IH", data)
        if mtype == 2:  # NLMSG_ERROR: its error is the first field
            return -struct.unpack_from("=i", data, 16)[0]
        data = data[(length + 3) & ~3:]
    return 0


def in_nested_namespace():
    """In a child: a new user and network namespace, then the sockets and
    netfilter a process holding every capability there would get."""
    r, e = syscall(SYS_UNSHARE, CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)
    report("nested user+net namespace", r == -1, "unshare succeeded")
    for fam, kind, proto, name in (
            (socket.AF_PACKET, socket.SOCK_RAW, 0, "packet socket"),
            (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP,
             "raw IPv4 socket"),
            (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6,
             "raw IPv6 socket")):
        try:
            socket.socket(fam, kind, proto).close()
            report(name, False, "socket created")
        except OSError:
            report(name, True)
    err = nft_new_table()
    if err is None:
        print("UNAVAILABLE netfilter: no nfnetlink in this kernel",
              flush=True)
    else:
        report("netfilter table creation", err != 0, "table created")


pid = os.fork()
if pid == 0:
    try:
        in_nested_namespace()
    finally:
        os._exit(0)
os.waitpid(pid, 0)
print("DONE", flush=True)
