"""Many concurrent clients with pipelined requests, ids echoed exactly, and
the daemon's file descriptors back to their baseline afterwards."""

import json
import threading
import time

import pytest

from isol8_harness import (HEADER, ConnectionClosed, RpcClient, frame, request,
                           wait_until)

CLIENTS = 200
PIPELINE = 20


def _client_ids(i):
    # Mixed id types, distinct across clients and requests.
    return [f"c{i}-r{j}" if j % 2 else i * 1000 + j for j in range(PIPELINE)]


def test_200_clients_pipelining(daemon):
    base_fds = daemon.baseline_fds()
    barrier = threading.Barrier(CLIENTS, timeout=30)
    failures = []
    done = []
    lock = threading.Lock()

    def run(i):
        ids = _client_ids(i)
        try:
            with RpcClient(daemon.socket_path, timeout=20) as c:
                barrier.wait()
                c.send_raw(b"".join(frame(request("health", id=rid))
                                    for rid in ids))
                seen = []
                for _ in ids:
                    msg = c.recv()
                    assert msg["result"]["status"] == "ok", msg
                    seen.append(msg["id"])
                assert sorted(map(str, seen)) == sorted(map(str, ids))
                assert len(set(map(json.dumps, seen))) == PIPELINE
                # Every id kept its type.
                assert all(type(a) is type(b) for a, b in
                           zip(sorted(seen, key=str), sorted(ids, key=str)))
                # Nothing extra arrives.
                with pytest.raises(TimeoutError):
                    c.recv(timeout=0.05)
            with lock:
                done.append(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            with lock:
                failures.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=run, args=(i,), daemon=True)
               for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, 45 - (time.monotonic() - t0)))
    assert not failures, "\n".join(failures[:10])
    assert len(done) == CLIENTS, f"only {len(done)} clients finished"

    daemon.assert_fds_back_to(base_fds)
    with daemon.client() as c:
        assert c.result("health")["connections"] == 1


def test_many_connections_open_at_once(daemon):
    """Clients that stay connected all at once, then leave in any order."""
    base_fds = daemon.baseline_fds()
    clients = [daemon.client() for _ in range(300)]
    for c in clients[::7]:
        c.result("health")
    # Accepted in order: once the last one is served, all are.
    assert clients[-1].result("health")["connections"] == 300
    assert daemon.fd_count() == base_fds + 300
    for c in clients[::2]:
        c.close()
    for c in clients[1::2]:
        c.result("version")
        c.close()
    daemon.assert_fds_back_to(base_fds)


def test_fds_back_to_baseline_after_bad_clients(start_daemon):
    d = start_daemon(config={"server": {"maxFrameBytes": 4096,
                                        "maxConnections": 50}})
    base = d.baseline_fds()
    for i in range(30):
        c = d.client()
        kind = i % 5
        if kind == 0:
            c.send_raw(HEADER.pack(0))
        elif kind == 1:
            c.send_raw(HEADER.pack(1 << 20))
        elif kind == 2:
            c.send_raw(HEADER.pack(100) + b"{")
            c.shutdown_write()
        elif kind == 3:
            c.send_frame(b"[]")
        else:
            c.send_raw(HEADER.pack(100) + b"{")  # and vanish mid-frame
        c.close()
    held = [d.client() for _ in range(60)]  # over the limit: some refused
    for c in held:
        c.close()

    def served():  # busy until the daemon has seen the closes
        try:
            with d.client() as c:
                c.send("health")
                return "result" in c.recv()
        except (OSError, ConnectionClosed):  # refused while still full
            return False

    assert wait_until(served, 3.0)
    d.assert_fds_back_to(base)


ECHOED_IDS = [
    0, 1, -1, 2**31, 2**53 - 1, -(2**53 - 1),
    1.5, -0.25, 1e300,
    "", "1", "id with spaces", "h\u00e9llo \u2028 \u4e2d\u6587 \U0001F600",
    "quote\" backslash\\ slash/ nl\n tab\t nul\u0000",
    "x" * 5000,
]


@pytest.mark.parametrize("rid", ECHOED_IDS,
                         ids=[repr(i)[:30] for i in ECHOED_IDS])
def test_id_echoed_exactly(daemon, rid):
    with daemon.client() as c:
        c.send_frame(request("version", id=rid))
        msg = c.recv()
        assert msg["id"] == rid and type(msg["id"]) is type(rid)
        assert "result" in msg
        # Errors echo the id too.
        c.send_frame(request("no.such.method", id=rid))
        msg = c.recv()
        assert msg["id"] == rid and msg["error"]["code"] == -32601


def test_ids_of_pipelined_requests_all_echoed(daemon):
    ids = ECHOED_IDS + [str(i) for i in range(50)] + list(range(100, 150))
    with daemon.client() as c:
        c.send_raw(b"".join(frame(request("health", id=r)) for r in ids))
        got = [c.recv()["id"] for _ in ids]
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, ids))


def test_null_id_is_a_request_not_a_notification(daemon):
    """JSON-RPC 2.0: only a request WITHOUT an id member is a notification;
    "id": null must be answered, with id null."""
    with daemon.client() as c:
        c.send_frame(request("version", id=None))
        c.send_frame(request("version", id="sentinel"))
        msg = c.recv()
        assert msg["id"] is None, \
            f'the request with "id": null was not answered: {msg!r}'
        assert "result" in msg
        assert c.recv()["id"] == "sentinel"


@pytest.mark.parametrize("big", [2**53, -2**53, 2**63 - 1, -2**63, 2**64 - 1,
                                 123456789012345678901234567890])
def test_id_beyond_safe_integers_refused(daemon, big):
    """An integer id outside +-(2^53 - 1) could come back as a different
    number (json-c clamps, JavaScript rounds), so it is refused instead."""
    body = ('{"jsonrpc":"2.0","id":%d,"method":"version"}' % big).encode()
    with daemon.client() as c:
        c.send_raw(HEADER.pack(len(body)) + body)
        msg = c.recv()
    assert "error" in msg, f"request id {big} answered as id {msg.get('id')}"
    assert msg["error"]["code"] == -32600 and msg["id"] is None, msg
    assert "2^53" in msg["error"]["message"]
