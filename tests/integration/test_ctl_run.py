"""isol8ctl run: isol8's run flags, what a user sees on stdout and stderr,
and the program's exit code as isol8ctl's."""

import json
import os
import signal
import subprocess

import pytest

from execute_helpers import (TIMEOUT_EVENT, assert_no_marker_processes,
                             marker, truncation_marker,
                             shared_daemon, signal_marker)  # noqa: F401
from isol8_harness import BUILD, run_ctl

USAGE = 2          # bad command line
FAILURE = 1        # the daemon refused
UNREACHABLE = 69


def ctl(daemon, *args, **kw):
    return run_ctl("run", *args, socket_path=daemon.socket_path, timeout=60,
                   **kw)


def ctl_input(daemon, *args, data):
    """isol8ctl run with data on its standard input."""
    e = {k: v for k, v in os.environ.items() if k != "ISOL8_SOCKET"}
    return subprocess.run(
        [str(BUILD / "isol8ctl"), "--socket", str(daemon.socket_path), "run",
         *args], input=data, capture_output=True, text=True, env=e,
        timeout=60)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout!r}" \
        f"\nstderr: {p.stderr!r}"
    return p


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------
# Sources and runtimes


def test_file_runs_with_exit_code(shared_daemon, tmp_path):
    f = write(tmp_path / "prog.py",
              "import sys\nprint('out')\nprint('err', file=sys.stderr)\n"
              "sys.exit(7)\n")
    p = ctl(shared_daemon, f)
    assert p.returncode == 7, p
    assert p.stdout == "out\n", p
    assert p.stderr == "err\n", p


FILES = [
    ("a.py", "python", "print('ok')"),
    ("a.js", "node", "console.log('ok')"),
    ("a.mjs", "node", "import os from 'node:os'; console.log('ok')"),
    ("a.cjs", "node", "require('os'); console.log('ok')"),
    ("a.ts", "bun", "const s: string = 'ok'; console.log(s)"),
    ("a.mts", "deno", "const s: string = 'ok'; console.log(s)"),
    ("a.sh", "bash", "echo ok"),
]


@pytest.mark.parametrize("name,runtime,code", FILES,
                         ids=[f[0] for f in FILES])
def test_runtime_from_file_extension(shared_daemon, tmp_path, name, runtime,
                                     code):
    f = write(tmp_path / name, code + "\n")
    p = ok(ctl(shared_daemon, f, "--json"))
    r = json.loads(p.stdout)
    assert r["runtime"] == runtime, r
    assert r["stdout"] == "ok\n", r


def test_unknown_extension_names_the_file(shared_daemon, tmp_path):
    f = write(tmp_path / "script.rb", "puts 1\n")
    p = ctl(shared_daemon, f)
    assert p.returncode != 0, p
    assert p.stdout == ""
    assert f"[ERR] Cannot detect runtime for {f}" in p.stderr or \
        "[ERR] Cannot detect runtime for script.rb" in p.stderr, p.stderr
    assert "--runtime" in p.stderr, p.stderr


def test_unknown_extension_refused_with_a_hint(shared_daemon, tmp_path):
    f = write(tmp_path / "script.rb", "puts 1\n")
    p = ctl(shared_daemon, f)
    assert p.returncode == FAILURE, p
    assert p.stderr.startswith("[ERR] Cannot detect runtime for "), p.stderr
    assert ".rb" in p.stderr and "--runtime" in p.stderr, p.stderr


def test_no_extension_refused_with_a_hint(shared_daemon, tmp_path):
    f = write(tmp_path / "script", "echo 1\n")
    p = ctl(shared_daemon, f)
    assert p.returncode != 0, p
    assert f"[ERR] Cannot detect runtime for {f}" in p.stderr, p.stderr
    assert "--runtime" in p.stderr, p.stderr


def test_runtime_flag_overrides_detection(shared_daemon, tmp_path):
    f = write(tmp_path / "script.rb", "echo from bash\n")
    p = ok(ctl(shared_daemon, f, "-r", "bash"))
    assert p.stdout == "from bash\n", p
    g = write(tmp_path / "script", "print('from python')\n")
    p = ok(ctl(shared_daemon, g, "--runtime", "python"))
    assert p.stdout == "from python\n", p


def test_unknown_runtime(shared_daemon):
    p = ctl(shared_daemon, "-e", "x", "-r", "ruby")
    assert p.returncode == FAILURE, p
    assert p.stderr == '[ERR] Unknown runtime: "ruby". Available: python, ' \
        "node, bun, deno, bash\n", p.stderr


def test_file_not_found(shared_daemon, tmp_path):
    missing = tmp_path / "nope.py"
    p = ctl(shared_daemon, missing)
    assert p.returncode != 0, p
    assert p.stdout == ""
    assert p.stderr == f"[ERR] File not found: {missing}\n", p.stderr


@pytest.mark.parametrize("runtime,code,out", [
    ("python", "print(6*7)", "42\n"),
    ("node", "console.log(6*7)", "42\n"),
    ("bun", "console.log(6*7)", "42\n"),
    ("deno", "console.log(6*7)", "42\n"),
    ("bash", "echo $((6*7))", "42\n"),
])
def test_eval(shared_daemon, runtime, code, out):
    p = ok(ctl(shared_daemon, "-e", code, "-r", runtime))
    assert p.stdout == out, p
    p = ok(ctl(shared_daemon, "--eval", code, "--runtime", runtime))
    assert p.stdout == out, p


def test_eval_defaults_to_python(shared_daemon):
    p = ok(ctl(shared_daemon, "-e", "import sys; print(sys.version_info[0])"))
    assert p.stdout == "3\n", p


def test_code_from_standard_input(shared_daemon):
    p = ok(ctl_input(shared_daemon, data="import sys\nprint('from stdin', "
                     "sys.version_info[0])\n"))
    assert p.stdout == "from stdin 3\n", p
    p = ok(ctl_input(shared_daemon, "-r", "bash",
                     data="echo ${BASH_VERSION:+bash}; exit 0\n"))
    assert p.stdout == "bash\n", p
    p = ctl_input(shared_daemon, "-r", "node", data="process.exit(5)\n")
    assert p.returncode == 5, p


def test_cmd(shared_daemon):
    p = ctl(shared_daemon, "--cmd", "echo a; echo b >&2; exit 4")
    assert p.returncode == 4, p
    assert p.stdout == "a\n" and p.stderr == "b\n", p


def test_only_one_source(shared_daemon, tmp_path):
    f = write(tmp_path / "a.py", "print(1)\n")
    for args in ((f, "-e", "1"), ("-e", "1", "--cmd", "true"),
                 (f, "--cmd", "true")):
        p = ctl(shared_daemon, *args)
        assert p.returncode == USAGE, (args, p)
        assert p.stderr.startswith("[ERR] "), p.stderr


@pytest.mark.parametrize("code,want", [
    ("exit 0", 0), ("exit 1", 1), ("exit 42", 42), ("exit 255", 255),
    ("kill -TERM $$", 128 + signal.SIGTERM),
])
def test_exit_code_is_the_programs(shared_daemon, code, want):
    p = ctl(shared_daemon, "--cmd", code)
    assert p.returncode == want, p


# --------------------------------------------------------------------------
# Execution flags


def test_stdin_flag(shared_daemon):
    p = ok(ctl(shared_daemon, "-r", "python", "-e",
               "import sys; print(sys.stdin.read()[::-1])",
               "--stdin", "abc ☃"))
    assert p.stdout == "☃ cba\n", p


def test_env_flags(shared_daemon):
    p = ok(ctl(shared_daemon, "--cmd", 'echo "$A|$B|$C"', "--env", "A=1",
               "--env", "B=two words", "--env", "C=x=y"))
    assert p.stdout == "1|two words|x=y\n", p


@pytest.mark.parametrize("flag", ["--env", "--secret"])
@pytest.mark.parametrize("value", ["NOEQUALS", "=value"])
def test_key_value_flags_need_a_key(shared_daemon, flag, value):
    p = ctl(shared_daemon, "--cmd", "true", flag, value)
    assert p.returncode == USAGE, p
    assert p.stderr.startswith(f"[ERR] {flag} expects KEY=VALUE"), p.stderr


@pytest.mark.parametrize("mode", [[], ["--no-stream"], ["--json"]])
def test_secret_flag_masks(shared_daemon, mode):
    secret = "sekrit-" + marker()
    p = ok(ctl(shared_daemon, "--cmd", 'echo "token=$TOKEN"; '
               'echo "also $TOKEN" >&2', "--secret", f"TOKEN={secret}",
               *mode))
    assert secret not in p.stdout + p.stderr, p
    if mode == ["--json"]:
        r = json.loads(p.stdout)
        assert r["stdout"] == "token=***\n" and r["stderr"] == "also ***\n"
    else:
        assert "token=***\n" in p.stdout, p
        assert "also ***\n" in p.stderr, p


def test_install_bad_name(shared_daemon):
    p = ctl(shared_daemon, "-r", "python", "-e", "print(1)",
            "--install", "ok", "--install", "bad;name")
    assert p.returncode == FAILURE, p
    assert p.stderr.startswith("[ERR] request.installPackages"), p.stderr
    assert "bad;name" in p.stderr, p.stderr
    assert p.stdout == ""


def test_install_without_network_fails(shared_daemon):
    p = ctl(shared_daemon, "-r", "python", "-e", "print('ran')",
            "--net", "none",
            "--install", "requests", "--env", "PIP_RETRIES=0",
            "--env", "PIP_TIMEOUT=2")
    assert p.returncode == FAILURE, p
    assert ("[ERR] request.installPackages: installing packages needs "
            "network access; enable filtered networking") in p.stderr, \
        p.stderr
    assert "ran" not in p.stdout


def test_setup_flag(shared_daemon):
    p = ok(ctl(shared_daemon, "--cmd", "cat /sandbox/ready",
               "--setup", "echo prepared > /sandbox/ready"))
    assert p.stdout == "prepared\n", p


def test_setup_failure(shared_daemon):
    mark = marker()
    p = ctl(shared_daemon, "--cmd", f"echo {mark}",
            "--setup", "echo broken >&2; exit 3")
    assert p.returncode == FAILURE, p
    assert "[ERR] Setup script failed (exit code 3): broken" in p.stderr, p
    assert mark not in p.stdout


def test_workdir_flag(shared_daemon):
    p = ok(ctl(shared_daemon, "--cmd", "pwd", "--workdir", "a/b"))
    assert p.stdout == "/sandbox/a/b\n", p
    p = ctl(shared_daemon, "--cmd", "pwd", "--workdir", "/tmp")
    assert p.returncode == FAILURE, p
    assert p.stderr == "[ERR] Working directory must be inside /sandbox\n"


def test_files_and_out(shared_daemon, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write(src / "top.txt", "top\n")
    write(src / "deep" / "er" / "nested.txt", "nested ☃\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    p = ok(ctl(shared_daemon, "--files", src, "--cmd",
               "cat top.txt deep/er/nested.txt; mkdir -p out; "
               "printf 'result\\xff' > out/result.bin; "
               "printf second > /tmp/two.txt",
               "--fetch", "/sandbox/out/result.bin", "--fetch",
               "/tmp/two.txt", "--fetch", "/sandbox/never-made.txt"))
    assert p.stdout == "top\nnested ☃\n", p
    # Fetched files land here under their base names.
    assert (work / "result.bin").read_bytes() == b"result\xff"
    assert (work / "two.txt").read_bytes() == b"second"
    assert not (work / "never-made.txt").exists()


def test_files_dir_missing(shared_daemon, tmp_path):
    p = ctl(shared_daemon, "--files", tmp_path / "nope", "--cmd", "true")
    assert p.returncode != 0, p
    assert p.stderr.startswith("[ERR] "), p.stderr
    assert "nope" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# Limit flags


@pytest.mark.parametrize("mode", [[], ["--no-stream"]])
def test_timeout_flag(shared_daemon, mode):
    p = ctl(shared_daemon, "--cmd", "echo started; sleep 30",
            "--timeout", "700", *mode)
    assert p.returncode == 137, p
    assert p.stdout == "started\n", p
    assert TIMEOUT_EVENT in p.stderr, p.stderr


def test_memory_flag(shared_daemon):
    p = ctl(shared_daemon, "-r", "python", "-e",
            "a = []\nwhile True: a.append(bytearray(1 << 20))",
            "--memory", "48m", "--json")
    assert p.returncode == 137, p
    r = json.loads(p.stdout)
    assert r.get("oomKilled") is True, r


def test_cpu_flag(shared_daemon):
    p = ok(ctl(shared_daemon, "--cmd", "echo ran", "--cpu", "0.5"))
    assert p.stdout == "ran\n", p


def test_pids_limit_flag(shared_daemon):
    code = ("import os, time\nn = 0\ntry:\n    while True:\n"
            "        if os.fork() == 0:\n            time.sleep(5)\n"
            "            os._exit(0)\n        n += 1\n"
            "except OSError:\n    print(n)\n")
    p = ok(ctl(shared_daemon, "-r", "python", "-e", code,
               "--pids-limit", "8"))
    assert 0 < int(p.stdout) < 8, p


@pytest.mark.parametrize("mode", [[], ["--no-stream"]])
def test_max_output_flag_warns(shared_daemon, mode):
    p = ok(ctl(shared_daemon, "--cmd", "head -c 5000 /dev/zero | tr '\\0' x",
               "--max-output", "1k", *mode))
    assert p.stdout.startswith("x" * 1024), p.stdout[:50]
    assert p.stdout in ("x" * 1024,
                        "x" * 1024 + truncation_marker(5000, 1024)), \
        p.stdout[-60:]
    assert "[WARN] Output was truncated" in p.stderr, p.stderr


def test_sandbox_and_tmp_size_flags(shared_daemon):
    p = ok(ctl(shared_daemon, "--cmd",
               "df -k --output=size /sandbox /tmp | tail -n 2",
               "--sandbox-size", "16m", "--tmp-size", "8m"))
    assert p.stdout.split() == ["16384", "8192"], p


@pytest.mark.parametrize("flag,value", [
    ("--timeout", "0"), ("--timeout", "soon"), ("--memory", "lots"),
    ("--cpu", "abc"), ("--cpu", "0"), ("--pids-limit", "-1"),
    ("--max-output", "1x"), ("--sandbox-size", "big"),
    ("--tmp-size", ""),
])
def test_bad_flag_values(shared_daemon, flag, value):
    p = ctl(shared_daemon, "--cmd", "echo ran", flag, value)
    assert p.returncode == USAGE, p
    assert p.stdout == "", p
    assert p.stderr.startswith(f"[ERR] {flag}"), p.stderr


# --------------------------------------------------------------------------
# Output modes


def test_json_flag(shared_daemon):
    p = ctl(shared_daemon, "--cmd", "echo hi; echo e >&2; exit 3", "--json")
    assert p.returncode == 3, p
    r = json.loads(p.stdout)
    assert r["stdout"] == "hi\n" and r["stderr"] == "e\n", r
    assert r["exitCode"] == 3 and r["runtime"] == "bash", r
    for key in ("durationMs", "executionId", "timestamp", "resourceUsage"):
        assert key in r, r
    assert p.stderr == "", p


def test_no_stream_flag(shared_daemon):
    p = ctl(shared_daemon, "--cmd", "echo hi; echo e >&2; exit 3",
            "--no-stream")
    assert p.returncode == 3, p
    assert p.stdout == "hi\n" and p.stderr == "e\n", p


def test_debug_flag(shared_daemon):
    p = ok(ctl(shared_daemon, "--cmd", "echo hi", "--env", "A=1", "--debug"))
    assert p.stdout == "hi\n", p
    lines = p.stderr.splitlines()
    req = [ln for ln in lines if ln.startswith("[DEBUG] request: ")]
    assert req, p.stderr
    sent = json.loads(req[0][len("[DEBUG] request: "):])
    assert sent["request"]["cmd"] == "echo hi", sent
    assert sent["request"]["env"] == {"A": "1"}, sent
    assert any(ln.startswith("[DEBUG] durationMs: ") for ln in lines), lines


def test_output_is_streamed_while_running(shared_daemon, tmp_path):
    # The program prints a line and then waits for SIGUSR1 from here:
    # isol8ctl must have shown the line before the program ends.
    mark = marker()
    src = tmp_path / "src"
    write(src / f"{mark}.py",
          "import signal, sys\n"
          "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n"
          "print('first', flush=True)\n"
          "signal.sigwait({signal.SIGUSR1})\n"
          "print('second', flush=True)\n")
    e = {k: v for k, v in os.environ.items() if k != "ISOL8_SOCKET"}
    proc = subprocess.Popen(
        [str(BUILD / "isol8ctl"), "--socket", str(shared_daemon.socket_path),
         "run", "--files", str(src), "--timeout", "20000",
         # A glob: isol8ctl's own command line must not hold the marker.
         "--cmd", "exec python3 /sandbox/isol8mark*.py"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e,
        stdin=subprocess.DEVNULL)
    try:
        first = proc.stdout.readline()
        assert first == "first\n", (first, proc.poll())
        assert proc.poll() is None
        signal_marker(mark, signal.SIGUSR1)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert rest == "second\n", rest
    assert_no_marker_processes(mark)


# --------------------------------------------------------------------------
# Usage


def test_help_lists_the_flags():
    p = ok(run_ctl("run", "--help"))
    for flag in ("-e", "--cmd", "-r", "--timeout", "--memory", "--cpu",
                 "--pids-limit", "--max-output", "--sandbox-size",
                 "--tmp-size", "--secret", "--env", "--stdin", "--install",
                 "--setup", "--workdir", "--files", "--out", "--fetch",
                 "--persist", "--persistent", "--no-stream",
                 "--json", "--debug"):
        assert flag in p.stdout, flag


def test_unknown_flag():
    p = run_ctl("run", "--bogus-flag")
    assert p.returncode == USAGE, p
    assert "bogus-flag" in p.stderr, p.stderr


def test_daemon_unreachable(tmp_path):
    p = run_ctl("run", "--cmd", "true", socket_path=tmp_path / "none.sock")
    assert p.returncode == UNREACHABLE, p
    assert str(tmp_path / "none.sock") in p.stderr, p.stderr
