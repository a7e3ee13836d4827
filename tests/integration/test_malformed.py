"""Every kind of malformed input gets the proper JSON-RPC error, and the same
daemon keeps serving: health on a connection opened before the bad input and
on a new one.  Runs against the normal build and the ASan+UBSan build."""

import json
import random
import time

import pytest

from isol8_harness import (HEADER, ConnectionClosed, assert_serving,
                           check_error, frame, request)

PARSE, INVALID_REQUEST, NO_METHOD, INVALID_PARAMS = \
    -32700, -32600, -32601, -32602

SMALL_FRAMES = {"server": {"maxFrameBytes": 1024}}


@pytest.fixture
def served(any_start_daemon):
    """A daemon (limit of 1024-byte frames) and a client connected before
    the bad input, which must still be served afterwards."""
    d = any_start_daemon(config=SMALL_FRAMES)
    before = d.client()
    before.result("health")
    yield d, before
    try:
        assert_serving(d, before)
    finally:
        before.close()


# -- framing errors: an error frame, then the daemon closes


def test_frame_over_limit(served):
    d, _ = served
    with d.client() as c:
        c.send_raw(HEADER.pack(2048) + b'{"jsonrpc":')
        msg = c.recv()
        check_error(msg, INVALID_REQUEST, "invalid_argument", None,
                    ["too large", "2048", "1024"])
        c.expect_eof()


def test_huge_announced_length_allocates_nothing(served):
    d, _ = served
    rss = d.rss_kb()
    with d.client() as c:
        c.send_raw(HEADER.pack(0xFFFFFFFF))
        check_error(c.recv(), INVALID_REQUEST, "invalid_argument", None,
                    ["too large"])
        c.expect_eof()
    assert d.rss_kb() - rss < 16 * 1024


def test_frame_at_limit_is_accepted(served):
    d, _ = served
    base = request("health", id="edge", params={"pad": ""})
    pad = 1024 - len(json.dumps(base, separators=(",", ":")))
    base["params"]["pad"] = "x" * pad
    body = json.dumps(base, separators=(",", ":")).encode()
    assert len(body) == 1024
    with d.client() as c:
        c.send_raw(HEADER.pack(len(body)) + body)
        msg = c.recv()
        assert msg["id"] == "edge" and msg["result"]["status"] == "ok"


def test_zero_length_frame(served):
    d, _ = served
    with d.client() as c:
        c.send_raw(HEADER.pack(0))
        check_error(c.recv(), INVALID_REQUEST, "invalid_argument", None,
                    ["zero"])
        c.expect_eof()


def test_zero_length_frame_after_good_requests(served):
    """Requests before the bad frame are answered, in order, first."""
    d, _ = served
    with d.client() as c:
        c.send_raw(frame(request("health", id=1)) +
                   frame(request("version", id=2)) + HEADER.pack(0) +
                   frame(request("health", id=3)))
        assert c.recv()["id"] == 1
        assert c.recv()["id"] == 2
        check_error(c.recv(), INVALID_REQUEST, None, None, ["zero"])
        c.expect_eof()


def test_truncated_frame(served):
    d, _ = served
    with d.client() as c:
        c.send_raw(HEADER.pack(100) + b'{"jsonrpc"')
        c.shutdown_write()
        check_error(c.recv(), INVALID_REQUEST, "invalid_argument", None,
                    ["truncated"])
        c.expect_eof()


def test_truncated_header(served):
    d, _ = served
    with d.client() as c:
        c.send_raw(b"\x00\x00")
        c.shutdown_write()
        check_error(c.recv(), INVALID_REQUEST, "invalid_argument", None,
                    ["truncated"])
        c.expect_eof()


def test_half_close_after_complete_requests(served):
    """A client that sends whole requests then shuts its write side still
    gets every answer, then a clean close."""
    d, _ = served
    with d.client() as c:
        c.send_raw(b"".join(frame(request("health", id=i))
                            for i in range(5)))
        c.shutdown_write()
        assert sorted(c.recv()["id"] for _ in range(5)) == list(range(5))
        c.expect_eof()


def test_client_vanishes_mid_frame(served):
    d, _ = served
    c = d.client()
    c.send_raw(HEADER.pack(500) + b"{" * 20)
    c.close()


def test_frame_sent_byte_by_byte(served):
    d, _ = served
    data = frame(request("health", id="slow"))
    with d.client() as c:
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
            if i < 8:
                time.sleep(0.01)
        assert c.recv()["id"] == "slow"


# -- bad documents: an error response, the connection stays usable


def _bad_frame(d, body, code, id=None, words=(), kind="invalid_argument"):
    with d.client() as c:
        c.send_frame(body)
        err = check_error(c.recv(), code, kind, id, words)
        # The same connection goes on working.
        assert c.result("health")["status"] == "ok"
    return err


@pytest.mark.parametrize("body", [
    b'{"jsonrpc":"2.0","id":1,"method":"health","params":{"x":"\xff\xfe"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"he\xc3"}',
    b'{"jsonrpc":"2.0","id":1,"method":"health","params":{"\xc0\xaf":1}}',
    b'\xef\xbb\xbf\xff{"jsonrpc":"2.0","id":1,"method":"health"}',
    b'{"jsonrpc":"2.0","id":1,"method":"\xc0\xaf"}',
    b'{"jsonrpc":"2.0","id":1,"method":"\xed\xa0\x80"}',
    b'{"jsonrpc":"2.0","id":1,"method":"\xf4\x90\x80\x80"}',
], ids=["invalid-bytes", "truncated-sequence", "overlong", "stray-bytes",
        "overlong-method", "surrogate-method", "beyond-unicode-method"])
def test_invalid_utf8(served, body):
    d, _ = served
    _bad_frame(d, body, PARSE, None, ["parse error"])


def test_invalid_utf8_message_names_utf8(served):
    d, _ = served
    _bad_frame(d, b'{"jsonrpc":"2.0","id":1,"method":"x","y":"\xff"}', PARSE,
               None, ["UTF-8"])


@pytest.mark.parametrize("body", [
    b'{"jsonrpc":"2.0",',
    b'{"jsonrpc":"2.0","id":1,"method":"health"}{}',
    b'{"jsonrpc":"2.0","id":1,"method":"health"} x',
    b"{'jsonrpc':'2.0','id':1,'method':'health'}",
    b'{"jsonrpc":"2.0","id":1,"method":"health",}',
    b'{"jsonrpc":"2.0","id":1,"method":"health"}\x00',
    b'{"jsonrpc":"2.0","id":01,"method":"health"}',
    b'{"jsonrpc":"2.0","id":NaN,"method":"health"}',
    b'{"jsonrpc":"2.0","id":Infinity,"method":"health"}',
    b'{"jsonrpc":"2.0","id":-Infinity,"method":"health"}',
    b'not json at all',
    b' ',
], ids=["unterminated", "two-objects", "trailing", "single-quotes",
        "trailing-comma", "nul-byte", "leading-zero", "nan-id",
        "infinity-id", "minus-infinity-id", "text", "blank"])
def test_invalid_json(served, body):
    d, _ = served
    _bad_frame(d, body, PARSE, None, ["parse error"])


@pytest.mark.parametrize("body", [
    b'[]',
    b'[{"jsonrpc":"2.0","id":1,"method":"health"}]',
    b'"health"',
    b'42',
    b'-1.5e3',
    b'null',
    b'true',
], ids=["empty-array", "batch", "string", "integer", "float", "null",
        "true"])
def test_non_object(served, body):
    d, _ = served
    _bad_frame(d, body, INVALID_REQUEST, None, ["object"])


@pytest.mark.parametrize("doc,id,words", [
    ({"jsonrpc": "2.0", "id": 7}, 7, ["method", "missing"]),
    ({"jsonrpc": "2.0", "id": 8, "method": 5}, 8, ["method"]),
    ({"jsonrpc": "2.0", "id": 9, "method": ""}, 9, ["method"]),
    ({"jsonrpc": "2.0", "id": 10, "method": None}, 10, ["method"]),
    ({"jsonrpc": "2.0", "id": 11, "method": ["health"]}, 11, ["method"]),
    ({"id": 12, "method": "health"}, 12, ["jsonrpc"]),
    ({"jsonrpc": "1.0", "id": 13, "method": "health"}, 13, ["jsonrpc"]),
    ({"jsonrpc": 2.0, "id": 14, "method": "health"}, 14, ["jsonrpc"]),
    ({}, None, []),
])
def test_invalid_request(served, doc, id, words):
    d, _ = served
    _bad_frame(d, doc, INVALID_REQUEST, id, words)


def test_missing_method_without_id_is_still_answered(served):
    """An invalid request cannot be a notification: the answer has id null."""
    d, _ = served
    _bad_frame(d, {"jsonrpc": "2.0"}, INVALID_REQUEST, None, ["method"])


@pytest.mark.parametrize("method", [
    "no.such.method", "Health", "health ", "é" * 300, "a" + "é" * 300,
    "health\u0000", "health\u0000x", "\u00ad"],
    ids=["dotted", "case", "space", "long-2-byte", "long-odd-2-byte",
         "nul-suffix", "nul-inside", "soft-hyphen"])
def test_unknown_method(served, method):
    """The name is quoted back (shortened, still valid UTF-8: the strict
    client rejects anything else), and never matches a real method."""
    d, _ = served
    err = _bad_frame(d, request(method, id="u1"), NO_METHOD, "u1",
                     ["method not found"], kind="not_found")
    assert method[:20].split("\u0000")[0] in err["message"]
    assert len(err["message"]) < 400


def test_params_array(served):
    d, _ = served
    _bad_frame(d, request("health", id=3, params=[1, 2]), INVALID_PARAMS, 3,
               ["params", "object"])


@pytest.mark.parametrize("params", ["health", 5, True])
def test_params_scalar(served, params):
    d, _ = served
    _bad_frame(d, request("health", id=4, params=params), INVALID_REQUEST, 4,
               ["params", "object"])


def test_params_null_means_none(served):
    d, _ = served
    with d.client() as c:
        assert c.result("health", params=None)["status"] == "ok"
        c.send_frame({"jsonrpc": "2.0", "id": 5, "method": "health",
                      "params": None})
        assert c.recv()["result"]["status"] == "ok"


@pytest.mark.parametrize("bad_id", [{}, {"a": 1}, [], [1], True, False])
def test_bad_id_type(served, bad_id):
    d, _ = served
    _bad_frame(d, request("health", id=bad_id), INVALID_REQUEST, None,
               ["id"])


def test_notification_gets_no_response(served):
    d, _ = served
    with d.client() as c:
        c.send_frame(request("health", id=...))
        c.send_frame(request("no.such.method", id=...))
        c.send_frame(request("version", id=...))
        c.send_frame(request("health", id="after"))
        msg = c.recv()
        assert msg["id"] == "after", \
            f"a notification was answered: {msg!r}"
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.3)


def test_many_errors_on_one_connection(served):
    """Errors do not accumulate state: 300 bad documents in one burst."""
    d, _ = served
    bads = [b"[]", b"{", b'{"jsonrpc":"2.0","id":1}',
            json.dumps(request("nope", id=2)).encode()]
    with d.client() as c:
        c.send_raw(b"".join(frame(bads[i % 4]) for i in range(300)))
        for i in range(300):
            assert "error" in c.recv()
        assert c.result("health")["status"] == "ok"


def test_garbage_stream(served):
    """Random-looking bytes: the daemon answers or closes, never dies."""
    d, _ = served
    rnd = random.Random(8)
    for _ in range(20):
        with d.client() as c:
            try:
                c.send_raw(bytes(rnd.randrange(256) for _ in range(300)))
                c.shutdown_write()
                while True:
                    c.recv_frame(timeout=2)
            except (ConnectionClosed, OSError):
                pass  # closed after its error frame, maybe mid-send
    d.health()


def test_error_frames_go_to_the_right_connection(served):
    d, before = served
    with d.client() as bad, d.client() as good:
        bad.send_raw(HEADER.pack(0))
        good.send_frame(request("health", id="g"))
        assert good.recv()["id"] == "g"
        check_error(bad.recv(), INVALID_REQUEST)
        bad.expect_eof()
    # Nothing leaked onto the connection opened before.
    with pytest.raises(TimeoutError):
        before.recv(timeout=0.1)
