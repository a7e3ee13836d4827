"""The warm pool as the pool tests look at it: pool.status, one key of it,
and waiting until every key holds its target."""

from isol8_harness import wait_until


def status(d):
    with d.client() as c:
        return c.result("pool.status")


def key_of(st, runtime, seccomp="strict"):
    for k in st["keys"]:
        if k["runtime"] == runtime and k["seccomp"] == seccomp:
            return k
    return None


def settled(d, timeout=30.0):
    """Waits until every key holds its target (its size, or more after
    misses) in ready boxes."""
    def full():
        st = status(d)
        return st["building"] == 0 and all(
            k["ready"] == k["target"] for k in st["keys"])
    assert wait_until(full, timeout, interval=0.05), status(d)
    return status(d)
