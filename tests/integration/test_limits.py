"""The administrator's ceilings (limits.*): requests above them and below
the least a box can run with are refused with invalid_argument naming the
field; results too large to send are errors the client sees (raw socket,
isol8ctl, the HTTP bridge); output files are read within their ceiling;
strings holding a NUL byte where something is named are refused; and
isol8ctl run --no-stream writes output holding NUL bytes whole."""

import base64
import json
import subprocess

import pytest

from execute_helpers import (check_invalid, execute, execute_error,
                             execute_raw, module_daemon,
                             shared_daemon)  # noqa: F401
from isol8_bridge import start_bridge  # noqa: F401
from isol8_harness import BUILD, proc_status_kb, run_ctl

MiB = 1 << 20
BASH = {"runtime": "bash", "cmd": "echo hi"}


# --------------------------------------------------------------------------
# Ceilings and lower bounds, with the built-in defaults


@pytest.mark.parametrize("key,value,ceiling", [
    ("maxOutputSize", "2g", "16m"),
    ("memoryLimit", "1024g", "4g"),
    ("sandboxSize", "1024g", "4g"),
    ("tmpSize", "1024g", "4g"),
    ("cpuLimit", 1024, "8"),
    ("pidsLimit", 4194304, "1024"),
    ("timeoutMs", 86400000, "3600000"),
])
def test_default_ceilings_refuse(shared_daemon, key, value, ceiling):
    msg = execute_error(shared_daemon, BASH, {key: value})
    check_invalid(msg, f"options.{key} {value} exceeds",
                  f"ceiling limits.{key} ({ceiling})")


def test_request_timeout_has_the_ceiling_too(shared_daemon):
    msg = execute_error(shared_daemon, dict(BASH, timeoutMs=86400000))
    check_invalid(msg, "request.timeoutMs", "limits.timeoutMs")


@pytest.mark.parametrize("key,value,words", [
    ("cpuLimit", 0.0001, ["options.cpuLimit", "from 0.01 to 8"]),
    ("cpuLimit", 0.009, ["options.cpuLimit", "from 0.01"]),
    ("pidsLimit", 1, ["options.pidsLimit", "from 2 to 1024"]),
    ("memoryLimit", "1m", ["options.memoryLimit", "from 4m to 4g"]),
    ("sandboxSize", "4k", ["options.sandboxSize", "from 1m"]),
    ("tmpSize", 1000, ["options.tmpSize", "from 1m"]),
])
def test_lower_bounds(shared_daemon, key, value, words):
    check_invalid(execute_error(shared_daemon, BASH, {key: value}), *words)


def test_least_values_run(shared_daemon):
    r = execute(shared_daemon, BASH, {"cpuLimit": 0.01, "pidsLimit": 2,
                                      "memoryLimit": "4m"})
    assert r["stdout"] == "hi\n" and r["exitCode"] == 0, r


# --------------------------------------------------------------------------
# Ceilings from the configuration


SMALL = {"limits": {"memoryLimit": "64m", "inputFiles": 2,
                    "inputFilesBytes": "1k", "outputFiles": 2,
                    "outputFilesBytes": "64k", "resultBytes": "64k"},
         "defaults": {"memoryLimit": "32m"}}


@pytest.fixture(scope="module")
def small(request):
    yield from module_daemon(config=SMALL)


def test_config_shows_limits_with_sources(small):
    p = run_ctl("daemon-config", "--json", socket_path=small.socket_path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    lim = doc["config"]["limits"]
    assert lim["memoryLimit"] == 64 * MiB and lim["resultBytes"] == 65536
    assert lim["pidsLimit"] == 1024  # not in the file: the default
    assert doc["sources"]["limits.memoryLimit"] == str(small.config_path)
    assert doc["sources"]["limits.pidsLimit"] == "default"


def test_config_ceiling_applies(small):
    check_invalid(execute_error(small, BASH, {"memoryLimit": "128m"}),
                  "options.memoryLimit 128m exceeds",
                  "limits.memoryLimit (64m)")
    r = execute(small, BASH, {"memoryLimit": "64m"})
    assert r["stdout"] == "hi\n"


def test_files_in_ceilings(small):
    three = {f"f{i}": "x" for i in range(3)}
    check_invalid(execute_error(small, dict(BASH, files=three)),
                  "request.files", "limits.inputFiles (2)")
    big = {"a": "x" * 600, "b": "y" * 600}
    check_invalid(execute_error(small, dict(BASH, files=big)),
                  "request.files", "limits.inputFilesBytes (1k)")
    r = execute(small, dict(BASH, files={"a": "x" * 500, "b": "y" * 500},
                            cmd="cat a b | wc -c"))
    assert r["stdout"].strip() == "1000"


def test_output_paths_count_ceiling(small):
    msg = execute_error(small, dict(BASH, outputPaths=["a", "b", "c"]))
    check_invalid(msg, "request.outputPaths", "limits.outputFiles (2)")


def test_output_files_total_ceiling(small):
    write = "head -c 40000 /dev/zero > a; head -c 40000 /dev/zero > b"
    msg = execute_error(small, dict(BASH, cmd=write,
                                    outputPaths=["a", "b"]))
    check_invalid(msg, "limits.outputFilesBytes (64k)")
    r = execute(small, dict(BASH, cmd=write, outputPaths=["a"]))
    assert base64.b64decode(r["files"]["/sandbox/a"]) == b"\0" * 40000


def test_result_too_large_is_an_error(small):
    req = dict(BASH, cmd="head -c 100000 /dev/zero | tr '\\0' x")
    with small.client() as c:
        from execute_helpers import call_execute, params_of
        msg, _ = call_execute(c, params_of(req))
        check_invalid(msg, "too large", "limits.resultBytes (64k)")
        # The connection is still good.
        assert c.result("health")["status"] == "ok"


def test_result_too_large_through_isol8ctl(small):
    p = run_ctl("run", "--cmd", "head -c 100000 /dev/zero | tr '\\0' x",
                "--no-stream", socket_path=small.socket_path, timeout=60)
    assert p.returncode == 1, p
    assert "limits.resultBytes" in p.stderr, p.stderr


def test_result_too_large_through_the_bridge(small, start_bridge):
    b = start_bridge(small)
    status, body = b.json("POST", "/execute", {
        "request": dict(BASH, cmd="head -c 100000 /dev/zero | tr '\\0' x")})
    assert status == 400, body
    assert "limits.resultBytes" in body["error"], body


def test_any_reply_too_large_is_an_error(small):
    """A reply checked only as it is sent (file.get here) still ends in an
    error frame, not in a closed connection."""
    with small.client() as c:
        r = c.call("session.create", {"runtime": "bash"})
        sid = r["result"]["id"]
        content = base64.b64encode(b"z" * 60000).decode()
        r = c.call("file.put", {"sessionId": sid, "path": "/sandbox/big",
                                "content": content})
        assert "result" in r, r
        msg = c.call("file.get", {"sessionId": sid, "path": "/sandbox/big"})
        check_invalid(msg, "too large", "limits.resultBytes (64k)")
        assert "result" in c.call("session.delete", {"sessionId": sid})


@pytest.mark.parametrize("cfg,words", [
    ({"defaults": {"memoryLimit": "1g"}, "limits": {"memoryLimit": "512m"}},
     ["defaults.memoryLimit", "limits.memoryLimit (512m)"]),
    ({"defaults": {"cpuLimit": 2}, "limits": {"cpuLimit": 1}},
     ["defaults.cpuLimit", "limits.cpuLimit (1)"]),
    ({"limits": {"pidsLimit": 1}}, ["limits.pidsLimit"]),
])
def test_config_inconsistent_ceilings_refused(tmp_path, cfg, words):
    conf = tmp_path / "bad.json"
    conf.write_text(json.dumps(cfg))
    out = subprocess.run([str(BUILD / "isol8d"), "--config", str(conf),
                          "--check-config"], capture_output=True, text=True,
                         timeout=30, stdin=subprocess.DEVNULL)
    assert out.returncode != 0
    for w in words:
        assert w in out.stderr, out.stderr


# --------------------------------------------------------------------------
# Large output: within the ceilings, and the daemon's memory bounded


def test_output_file_read_in_slices_is_whole(shared_daemon):
    """A file of several read slices and a size that is no multiple of 3
    comes back byte for byte."""
    code = ("import sys\n"
            "data = bytes(range(256)) * (12 * 1024) + b'end'\n"
            "open('/sandbox/out.bin', 'wb').write(data)\n")
    r = execute(shared_daemon, {"runtime": "python", "code": code,
                                "outputPaths": ["out.bin"]})
    got = base64.b64decode(r["files"]["/sandbox/out.bin"])
    assert got == bytes(range(256)) * (12 * 1024) + b"end"


def test_large_output_keeps_daemon_memory_bounded(shared_daemon):
    """The most output a request may keep, as NUL bytes (six times larger
    as JSON), is refused before a result is built: the daemon grows by
    about the output it kept, not by the result it would have made."""
    pid = shared_daemon.pid
    before = proc_status_kb(pid, "VmHWM")
    msg = execute_error(shared_daemon, {"runtime": "bash",
                                        "cmd": "head -c 64m /dev/zero"},
                        {"maxOutputSize": "16m"})
    check_invalid(msg, "too large", "limits.resultBytes (64m)")
    grown = proc_status_kb(pid, "VmHWM") - before
    assert grown < 160 * 1024, f"the daemon grew by {grown} kB"


# --------------------------------------------------------------------------
# NUL bytes


@pytest.mark.parametrize("params,where", [
    ({"request": BASH, "sessionId": "s\0x"}, "params.sessionId"),
    ({"request": dict(BASH, outputPaths=["a\0b"])},
     "params.request.outputPaths[0]"),
    ({"request": dict(BASH, env={"A": "x\0y"})}, "params.request.env.A"),
    ({"request": dict(BASH, workdir="/sandbox/a\0b")},
     "params.request.workdir"),
    ({"request": dict(BASH, runtime="bash\0x")}, "params.request.runtime"),
    ({"request": dict(BASH, cmd="echo a\0b")}, "params.request.cmd"),
    ({"request": BASH, "options": {"secrets": {"K": "v\0w"}}},
     "params.options.secrets.K"),
])
def test_nul_in_names_refused(shared_daemon, params, where):
    with shared_daemon.client() as c:
        msg = c.call("execute", params)
    check_invalid(msg, where, "NUL")


def test_nul_in_session_method_refused(shared_daemon):
    with shared_daemon.client() as c:
        msg = c.call("session.get", {"sessionId": "abc\0def"})
    check_invalid(msg, "params.sessionId", "NUL")


@pytest.mark.parametrize("key", ["env", "files"])
def test_nul_in_keys_refused(shared_daemon, key):
    body = ('{"jsonrpc":"2.0","id":7,"method":"execute","params":'
            '{"request":{"runtime":"bash","cmd":"true","%s":'
            '{"A\\u0000B":"x"}}}}' % key).encode()
    with shared_daemon.client() as c:
        c.send_frame(body)
        msg = c.recv()
    assert msg["error"]["data"]["kind"] == "invalid_argument", msg
    assert "NUL" in msg["error"]["message"] and "key" in msg["error"][
        "message"], msg


def test_nul_in_contents_kept(shared_daemon):
    r = execute(shared_daemon, dict(BASH, cmd="od -An -c < f; od -An -c",
                                    files={"f": "a\0b"}, stdin="c\0d"))
    assert r["stdout"].split() == ["a", "\\0", "b", "c", "\\0", "d"], r


def test_no_stream_writes_nul_bytes(shared_daemon):
    exe = str(BUILD / "isol8ctl")
    p = subprocess.run([exe, "--socket", str(shared_daemon.socket_path),
                        "run", "--no-stream", "--cmd",
                        "printf 'a\\0b\\n'; printf 'c\\0d' >&2"],
                       capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p
    assert p.stdout == b"a\0b\n" and p.stderr == b"c\0d", p
