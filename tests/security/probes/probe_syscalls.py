"""Kernel interfaces the seccomp filter and the missing capabilities must
keep out of reach."""
import ctypes
import os
import socket

from probe_common import expect_fail, libc, report, require_box, syscall

require_box()

SYS = {
    "keyctl": 250, "add_key": 248, "request_key": 249,
    "io_uring_setup": 425, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "mount": 165, "umount2": 166, "unshare": 272,
    "setns": 308, "pivot_root": 155, "ptrace": 101,
    "process_vm_readv": 310, "kexec_load": 246, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "chroot": 161,
    "open_by_handle_at": 304, "reboot": 169, "swapon": 167,
}

buf = ctypes.create_string_buffer(4096)
# Sockets first: a namespace escape below would spoil what they show.
for fam, name in ((40, "AF_VSOCK"), (38, "AF_ALG")):
    try:
        s = socket.socket(fam, socket.SOCK_STREAM if fam == 40 else socket.SOCK_SEQPACKET, 0)
        s.close()
        report(f"socket {name}", False, "socket created")
    except OSError:
        report(f"socket {name}", True)
for kind, name in ((socket.SOCK_RAW, "raw IPv4 socket"),):
    try:
        socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
        report(name, False, "socket created")
    except OSError:
        report(name, True)
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    report("packet socket", False, "socket created")
except OSError:
    report("packet socket", True)
expect_fail("keyctl", SYS["keyctl"], 0, 0, 0, 0)
expect_fail("add_key", SYS["add_key"], ctypes.addressof(ctypes.c_char_p(b"user")), 0, 0, 0, 0)
expect_fail("request_key", SYS["request_key"], 0, 0, 0, 0)
expect_fail("io_uring_setup", SYS["io_uring_setup"], 8, ctypes.addressof(buf))
expect_fail("bpf", SYS["bpf"], 0, ctypes.addressof(buf), 64)
expect_fail("perf_event_open", SYS["perf_event_open"], ctypes.addressof(buf), 0, -1, -1, 0)
expect_fail("userfaultfd", SYS["userfaultfd"], 0)
for target in (b"/sandbox", b"/tmp", b"/proc"):
    t = ctypes.c_char_p(target)
    expect_fail(f"mount tmpfs on {target.decode()}", SYS["mount"],
                ctypes.cast(ctypes.c_char_p(b"none"), ctypes.c_void_p).value,
                ctypes.cast(t, ctypes.c_void_p).value,
                ctypes.cast(ctypes.c_char_p(b"tmpfs"), ctypes.c_void_p).value, 0, 0)
expect_fail("umount2 /proc", SYS["umount2"],
            ctypes.cast(ctypes.c_char_p(b"/proc"), ctypes.c_void_p).value, 2)
for flag, name in ((0x10000000, "user"), (0x00020000, "mount"),
                   (0x20000000, "pid"), (0x40000000, "net")):
    expect_fail(f"unshare {name} namespace", SYS["unshare"], flag)
fd = os.open("/proc/1/ns/mnt", os.O_RDONLY) if os.access("/proc/1/ns/mnt", os.R_OK) else -1
expect_fail("setns into init's mount namespace", SYS["setns"], fd, 0)
expect_fail("pivot_root", SYS["pivot_root"],
            ctypes.cast(ctypes.c_char_p(b"/sandbox"), ctypes.c_void_p).value,
            ctypes.cast(ctypes.c_char_p(b"/sandbox"), ctypes.c_void_p).value)
expect_fail("chroot", SYS["chroot"], ctypes.cast(ctypes.c_char_p(b"/sandbox"), ctypes.c_void_p).value)
expect_fail("ptrace attach to pid 1", SYS["ptrace"], 16, 1, 0, 0)
expect_fail("ptrace traceme", SYS["ptrace"], 0, 0, 0, 0)


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


local = IOVec(ctypes.addressof(buf), 8)
remote = IOVec(0x400000, 8)
r, e = syscall(SYS["process_vm_readv"], 1, ctypes.addressof(local), 1,
               ctypes.addressof(remote), 1, 0)
# EFAULT would mean the access check passed and only the address was bad.
report("process_vm_readv of pid 1", r == -1 and e in (1, 3, 13, 38),
       f"returned {r} errno {e}")
expect_fail("kexec_load", SYS["kexec_load"], 0, 0, 0, 0)
expect_fail("init_module", SYS["init_module"], ctypes.addressof(buf), 16, 0)
expect_fail("finit_module", SYS["finit_module"], 0, 0, 0)
expect_fail("delete_module", SYS["delete_module"], ctypes.cast(ctypes.c_char_p(b"ext4"), ctypes.c_void_p).value, 0)
expect_fail("open_by_handle_at", SYS["open_by_handle_at"], -100, ctypes.addressof(buf), 0)
expect_fail("reboot", SYS["reboot"], 0xfee1dead, 672274793, 0x4321fedc, 0)
expect_fail("swapon", SYS["swapon"], ctypes.cast(ctypes.c_char_p(b"/sandbox/x"), ctypes.c_void_p).value, 0)

# clone3 must look absent (ENOSYS) so libc falls back to clone.
r, e = syscall(435, 0, 0)
report("clone3", r == -1 and e == 38, f"returned {r} errno {e}")
# clone with a namespace flag (CLONE_NEWUSER | SIGCHLD): must not create.
r, e = syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
if r == 0:
    os._exit(0)
report("clone with CLONE_NEWUSER", r == -1, f"created pid {r}")

print("DONE", flush=True)
