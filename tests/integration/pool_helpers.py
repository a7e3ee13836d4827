"""The warm pool as the pool tests look at it: pool.status, one key of it,
and waiting until every key holds its target."""

from isol8_harness import wait_until, zombies_of


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


def lost_clone_reaped(d, helper, runtime):
    """A daemon whose helper (a zygote: "python zygote", "box forker") ended
    right after cloning a box's first process, before it told the daemon
    its pid: the daemon says it killed and reaped that process and that the
    helper ended, its pool holds the box it made instead, and no zombie of
    it is left (a box's init that ended is reaped from the loop, a moment
    later)."""
    assert wait_until(lambda: f"killed and reaped 1 process the {helper} "
                      "cloned before it ended" in d.stderr(), 10), \
        d.stderr()
    assert f"the {helper} ended (status 1)" in d.stderr(), d.stderr()
    assert key_of(settled(d), runtime)["ready"] == 1
    assert wait_until(lambda: zombies_of(d) == [], 5), zombies_of(d)
