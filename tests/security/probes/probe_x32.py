"""An x32 system call must kill the process (seccomp refuses the ABI)."""
from probe_common import require_box, syscall

require_box()
print("TRYING x32", flush=True)
r, e = syscall(0x40000000 | 39)  # x32 getpid
print(f"ESCAPED x32 syscall: returned {r} errno {e}", flush=True)
