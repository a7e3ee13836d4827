"""Secrets never leak: options.secrets values show as *** wherever the box
controls the bytes: stdout and stderr (whole and streamed, split across
reads, cut at maxOutputSize), networkLogs and network events, error
texts, the daemon's own log, and through the HTTP bridge.  Output files
(outputPaths) are returned as written, as isol8 does."""

import base64
import json
import uuid

import pytest

from execute_helpers import (check_result, execute, truncation_marker,
                             execute_error, execute_raw,
                             shared_daemon, stream_text)  # noqa: F401
from isol8_bridge import start_bridge  # noqa: F401
from test_network import (HOST, PRIVATE, filtered, get_code,  # noqa: F401
                          http_server, net_daemon)


def new_secret():
    return "Sx" + uuid.uuid4().hex


def hidden(text, secret):
    """Neither the secret nor a third of it from either end shows."""
    part = len(secret) // 3
    return (secret not in text and secret[:part] not in text
            and secret[-part:] not in text)


def py(code, **kw):
    return {"runtime": "python", "code": code, **kw}


def sh(cmd, **kw):
    return {"cmd": cmd, **kw}


def run(daemon, request, options, stream):
    """(result, events) of an execution that must succeed."""
    msg, events = execute_raw(daemon, request, options, stream=stream)
    assert "error" not in msg, msg
    return check_result(msg["result"]), events


@pytest.mark.parametrize("stream", [False, True])
def test_stdout_and_stderr(shared_daemon, stream):
    s = new_secret()
    r, events = run(shared_daemon, sh('echo "a $T b"; echo "c $T$T" >&2'),
                    {"secrets": {"T": s}}, stream)
    assert r["stdout"] == "a *** b\n" and r["stderr"] == "c ******\n", r
    assert hidden(json.dumps(r), s) and hidden(repr(events), s)
    if stream:
        assert stream_text(events, "stdout") == r["stdout"]
        assert stream_text(events, "stderr") == r["stderr"]


def test_secret_split_across_reads_and_events(shared_daemon):
    s = new_secret()
    half = len(s) // 2
    code = ("import os, sys, time\n"
            "s = os.environ['T']\n"
            f"sys.stdout.write('a:' + s[:{half}]); sys.stdout.flush()\n"
            "time.sleep(0.3)\n"
            f"sys.stdout.write(s[{half}:] + ':b\\n')\n")
    r, events = run(shared_daemon, py(code), {"secrets": {"T": s}}, True)
    assert r["stdout"] == "a:***:b\n", r
    outs = [e["data"] for e in events if e["type"] == "stdout"]
    # The first half came in a read of its own and was held back.
    assert outs[0] == "a:" and len(outs) >= 2, outs
    assert hidden(repr(events), s), events


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("into", [1, 2, 3, 17])
def test_cut_at_max_output_never_shows_part(shared_daemon, stream, into):
    """maxOutputSize ends `into` bytes after where the secret begins."""
    s = new_secret()
    lead = 100
    r, events = run(shared_daemon, sh(f'printf "%0{lead}d$T%0100d" 0 0'),
                    {"secrets": {"T": s}, "maxOutputSize": lead + into},
                    stream)
    assert r["truncated"] is True, r
    # isol8's marker counts the bytes the program wrote, its secret whole.
    marker = truncation_marker(lead + len(s) + 100, lead + into)
    assert r["stdout"].endswith(marker), r
    # Masked first, then cut: the whole *** where it fits, else nothing.
    masked = "0" * lead + "***" + "0" * 100
    kept = lead if into < 3 else lead + into
    assert r["stdout"] == masked[:kept] + marker, r
    assert hidden(json.dumps(r), s) and hidden(repr(events), s)
    if stream:
        assert stream_text(events, "stdout") == masked[:kept], events


def test_network_logs_and_events(net_daemon, http_server):
    s = new_secret()
    allowed = f"http://{HOST}:{http_server}/ok/{s}?q={s}"
    blocked = f"http://{s}.blocked.invalid/p/{s}"
    opts = dict(filtered(allow=[r"^127\.0\.0\.2$"]), secrets={"T": s})
    r, events = run(net_daemon, py(get_code(allowed, blocked)), opts, True)
    assert r["stdout"].startswith("200 path=/ok/***?q=*** "), r
    logs = r["networkLogs"]
    assert [(x["action"], x["host"], x["path"]) for x in logs] == [
        ("ALLOW", HOST, "/ok/***?q=***"),
        ("BLOCK", "***.blocked.invalid", "/p/***")], logs
    nets = [e["data"] for e in events if e["type"] == "network"]
    assert sorted(map(json.dumps, nets)) == sorted(map(json.dumps, logs))
    assert hidden(json.dumps(r), s) and hidden(repr(events), s)


def test_network_log_host_and_method(net_daemon, http_server):
    """A secret that is the allowed host itself, and one in the method."""
    code = ("import urllib.request as u\n"
            f"q = u.Request('http://{HOST}:{http_server}/m', "
            "method='PATCHME')\n"
            "try:\n    u.urlopen(q, timeout=10)\n"
            "except Exception as e:\n    print(type(e).__name__)\n")
    r = execute(net_daemon, py(code),
                dict(filtered(), secrets={"H": HOST, "M": "PATCHME"}))
    (log,) = r["networkLogs"]
    assert log["host"] == "***" and log["method"] == "***", log
    assert HOST not in json.dumps(r["networkLogs"])


def test_daemon_log_never_has_secrets(start_daemon):
    """Proxy log lines (with --debug) name hosts the box chose."""
    d = start_daemon(config=PRIVATE, args=["--debug"])
    s = new_secret()
    url = f"http://{s}.invalid/{s}"
    r = execute(d, py(get_code(url)),
                dict(filtered(), secrets={"T": s}))
    assert r["networkLogs"][0]["host"] == "***.invalid", r
    assert "proxy:" in d.stderr(), d.stderr()
    assert hidden(d.stderr(), s)


def test_setup_failure_cut_inside_the_secret(shared_daemon):
    """Error texts are masked whole before anything shortens them."""
    s = new_secret()
    for pad in range(980, 1024, 7):
        err = execute_error(shared_daemon, py("print(1)", setupScript=(
            f'printf "%0{pad}d$T" 0 >&2; exit 3')),
            {"secrets": {"T": s}})["error"]
        assert "Setup script failed" in err["message"], err
        assert hidden(err["message"], s), (pad, err)


def test_error_naming_a_path(shared_daemon):
    s = new_secret()
    err = execute_error(shared_daemon, sh("true", files={
        "/sandbox/d": "x", f"/sandbox/d/{s}": "y"}),
        {"secrets": {"T": s}})["error"]
    assert err["message"].startswith("Cannot write /sandbox/d/***"), err
    assert hidden(json.dumps(err), s)


def test_refused_request_quoting_a_value(shared_daemon):
    s = new_secret()
    err = execute_error(shared_daemon, {"runtime": s, "code": "x"},
                        {"secrets": {"T": s}})["error"]
    assert hidden(json.dumps(err), s), err


def test_short_secrets_mask_every_occurrence(shared_daemon):
    r = execute(shared_daemon, sh('echo "a7b77"'), {"secrets": {"S": "7"}})
    assert r["stdout"] == "a***b******\n", r


def test_empty_secret_masks_nothing(shared_daemon):
    r = execute(shared_daemon, sh('echo "[$S]"'), {"secrets": {"S": ""}})
    assert r["stdout"] == "[]\n", r


def test_too_many_secret_bytes_refused(shared_daemon):
    err = execute_error(shared_daemon, sh("true"), {"secrets": {
        "A": "a" * 40000, "B": "b" * 40000}})["error"]
    assert err["data"]["kind"] == "invalid_argument", err
    assert "options.secrets" in err["message"], err


def test_output_files_are_returned_as_written(shared_daemon):
    s = new_secret()
    r = execute(shared_daemon, sh('printf %s "$T" > out.txt; echo "$T"',
                                  outputPaths=["/sandbox/out.txt"]),
                {"secrets": {"T": s}})
    assert r["stdout"] == "***\n"
    assert base64.b64decode(r["files"]["/sandbox/out.txt"]).decode() == s


def test_through_the_bridge(shared_daemon, start_bridge):  # noqa: F811
    b = start_bridge(shared_daemon)
    s = new_secret()
    body = {"request": {"cmd": 'echo "out $T"; echo "err $T" >&2'},
            "options": {"secrets": {"T": s}}}
    status, r = b.json("POST", "/execute", body)
    assert status == 200 and r["stdout"] == "out ***\n", r
    assert r["stderr"] == "err ***\n", r
    status, _, raw = b.request("POST", "/execute/stream", body)
    assert status == 200 and b"out ***" in raw, raw
    assert hidden(raw.decode(), s), raw
    bad = {"request": {"cmd": "true", "setupScript": 'echo "$T" >&2; exit 1'},
           "options": {"secrets": {"T": s}}}
    status, _, raw = b.request("POST", "/execute", bad)
    assert status == 400 and b"***" in raw and hidden(raw.decode(), s), raw
