"""Slow, stalled and greedy clients cannot stall anyone else; buffers are
bounded; idle connections are closed; the connection limit answers busy."""

import itertools
import socket
import threading
import time

import pytest

from isol8_harness import (HEADER, check_error, frame, nonblocking_fill,
                           request, wait_until)

SMALL_OUTPUT = {"server": {"maxPendingOutputBytes": 4096}}


def _quick_calls(d, n=50, budget=5.0):
    """n health calls on fresh connections; each must come back promptly
    (the budget only catches a daemon that is stuck, it is no benchmark)."""
    worst = 0.0
    for _ in range(n):
        t0 = time.monotonic()
        with d.client(timeout=budget) as c:
            c.result("health")
        worst = max(worst, time.monotonic() - t0)
    return worst


def test_half_frame_does_not_block_others(start_daemon):
    d = start_daemon()
    staller = d.client()
    staller.send_raw(HEADER.pack(100) + b'{"jsonrpc"')
    another = d.client()
    another.send_raw(b"\x00\x00")  # half a header
    _quick_calls(d)
    # The stalled frames complete later and are answered.
    rest = b':"2.0","id":"late","method":"health"'
    staller.send_raw(rest + b" " * (89 - len(rest)) + b"}")
    msg = staller.recv()
    assert msg["id"] == "late" and msg["result"]["status"] == "ok"
    another.send_raw(b"\x00\x10" + b'{"jsonrpc":"20"}')
    # 16 bytes announced, 16 sent: an object, but not JSON-RPC 2.0.
    check_error(another.recv(), -32600, words=["jsonrpc"])
    staller.close()
    another.close()


def _flood():
    """An endless stream of pipelined health requests, in 4 KiB chunks."""
    ids = itertools.count()
    while True:
        yield b"".join(frame(request("health", id=next(ids)))
                       for _ in range(64))


def test_pipelined_batch_answered_with_small_output_buffer(start_daemon):
    """A client that sends a batch larger than maxPendingOutputBytes and
    then reads must get every answer: reading is paused while the output
    buffer is full and must resume when it drains, even if the client sends
    nothing more."""
    d = start_daemon(config=SMALL_OUTPUT)
    for n in (100, 1000):
        with d.client() as c:
            c.send_raw(b"".join(frame(request("health", id=i))
                                for i in range(n)))
            got = []
            try:
                for _ in range(n):
                    got.append(c.recv(timeout=3)["id"])
            except TimeoutError:
                pytest.fail(f"only {len(got)} of {n} pipelined requests "
                            f"were answered; the rest stay unread in the "
                            f"daemon's input buffer")
            assert got == list(range(n))


def test_client_that_never_reads(start_daemon):
    """A client pipelining requests without reading its answers: the daemon
    stops reading from it (or drops it), stays small and idle, and keeps
    answering everyone else quickly."""
    d = start_daemon(config=SMALL_OUTPUT)
    rss0 = d.rss_kb()
    greedy = d.client()
    sent, stalled = nonblocking_fill(greedy.sock, _flood(),
                                     max_bytes=256 << 20,
                                     stall_seconds=0.5, deadline_seconds=10)
    assert stalled, f"the daemon kept reading: {sent} bytes accepted"
    # Kernel socket buffers plus the daemon's bounded buffers; nowhere near
    # what the client would have sent.
    assert sent < 16 << 20, f"{sent} bytes accepted from a non-reader"

    # Others are served while the greedy client sits there.
    _quick_calls(d, n=30)
    grown = d.rss_kb() - rss0
    assert grown < 32 * 1024, f"isol8d grew by {grown} KiB"
    # The daemon is not spinning on the blocked connection.
    cpu0 = d.cpu_seconds()
    time.sleep(1.0)
    cpu = d.cpu_seconds() - cpu0
    assert cpu < 0.3, f"isol8d used {cpu:.2f}s of CPU in 1s while idle " \
        f"with one blocked client (busy loop?)"
    greedy.close()
    d.health()


def test_idle_connection_is_closed(start_daemon):
    d = start_daemon(config={"server": {"idleTimeoutMs": 300}})
    idle = d.client()
    idle.result("health")
    half = d.client()
    half.send_raw(HEADER.pack(50) + b"{")
    busy = d.client()
    t0 = time.monotonic()
    # A connection that keeps talking stays open past the timeout.
    while time.monotonic() - t0 < 1.0:
        busy.result("health")
        time.sleep(0.1)
    assert idle.is_closed_by_peer(wait=1.0), "idle connection not closed"
    assert half.is_closed_by_peer(wait=1.0), \
        "connection stalled mid-frame not closed"
    assert not busy.is_closed_by_peer()
    busy.result("health")
    elapsed = time.monotonic() - t0
    assert elapsed < 5
    for c in (idle, half, busy):
        c.close()
    d.health()


def test_idle_timeout_default_keeps_connections(start_daemon):
    d = start_daemon()
    with d.client() as c:
        c.result("health")
        time.sleep(0.5)
        assert not c.is_closed_by_peer()
        c.result("health")


def test_connection_limit(start_daemon):
    d = start_daemon(config={"server": {"maxConnections": 3}})
    held = [d.client() for _ in range(3)]
    for c in held:
        c.result("health")
    extra = d.client()
    err = check_error(extra.recv(), -32005, "busy", None,
                      ["too many connections", "3"])
    assert "try again" in err["message"].lower()
    extra.expect_eof()
    extra.close()
    # The held ones are unaffected.
    for c in held:
        assert c.result("health")["connections"] == 3
    # A slot freed is usable again.
    held.pop().close()

    def fresh_ok():
        with d.client() as c:
            c.send("health")
            return "result" in c.recv()

    assert wait_until(fresh_ok, 3.0), "freed slot not reusable"
    for c in held:
        c.close()


def test_connection_storm(start_daemon):
    """More clients than the limit at once: every one either is served or
    gets the busy error; none hangs; the daemon survives."""
    d = start_daemon(config={"server": {"maxConnections": 20}})
    results = []
    lock = threading.Lock()

    def one():
        try:
            with d.client(timeout=10) as c:
                try:
                    c.send_frame(request("health", id=1))
                except BrokenPipeError:
                    pass  # refused already: the busy frame is queued
                msg = c.recv()
                kind = "ok" if "result" in msg else \
                    msg["error"]["data"]["kind"]
                time.sleep(0.2)  # hold the slot a little
        except Exception as e:  # noqa: BLE001 - reported below
            kind = repr(e)
        with lock:
            results.append(kind)

    threads = [threading.Thread(target=one) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == 60
    assert set(results) <= {"ok", "busy"}, results
    assert "ok" in results and "busy" in results
    d.health()


def test_close_while_answers_pending(start_daemon):
    """A client that sends a burst and closes at once: nothing to answer,
    nothing leaked, nobody else disturbed."""
    d = start_daemon(config=SMALL_OUTPUT)
    base = d.baseline_fds()
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(d.socket_path))
        s.sendall(b"".join(frame(request("health", id=i))
                           for i in range(300)))
        s.close()
    d.health()
    d.assert_fds_back_to(base)
