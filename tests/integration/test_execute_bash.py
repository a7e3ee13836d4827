"""execute with the bash runtime: the shared per-runtime checks
(execute_helpers.RuntimeSuite) with bash scripts, plus `cmd`, which runs
`bash -c` whatever the runtime."""

from execute_helpers import (RuntimeSuite, check_result, execute,
                             shared_daemon)  # noqa: F401

SNIPPETS = {
    "hello": 'who=bash\necho "hello from $who"\n',
    "exit": "exit {code}\n",
    "signal": "kill -TERM $$\nsleep 10\n",
    "stderr": "echo out-1\necho err-1 >&2\nprintf 'err-2\\n' >&2\nexit 3\n",
    "stdin": "printf 'stdin:'\ncat\n",
    "files": (
        "printf '%s|%s|%s' \"$(cat input.txt)\" "
        "\"$(cat /sandbox/nested/dir/data.txt)\" \"$(cat /tmp/t/x.txt)\"\n"
        "mkdir -p /sandbox/out /tmp/out\n"
        "for i in $(seq 0 255); do printf \"\\\\x$(printf %02x $i)\"; done"
        " > /sandbox/out/result.bin\n"
        "printf 'done \\xe2\\x98\\x83' > /tmp/out/text.txt\n"),
    "env": (
        "for k in GREETING ISOL8_EMPTY UNI HOME; do\n"
        "  printf '%s=%s|' \"$k\" \"${!k-<unset>}\"\n"
        "done\necho\n"),
    "secret": 'echo "token=$API_TOKEN"\necho "err:$API_TOKEN:end" >&2\n',
    "unicode": "echo 'héllo wörld ☃ 😀 中文 ÆØÅ'\n",
    "binary": "printf 'ok\\xff\\xfeA\\xc3(\\xe2\\x82end\\n'\n",
    "timeout": "echo started\nwhile :; do sleep 0.05; done\n",
}


class TestBash(RuntimeSuite):
    runtime = "bash"
    snippets = SNIPPETS


def test_cmd_runs_bash_c(shared_daemon):
    # Bash syntax, $0 of `bash -c`, and the runtime reported as bash.
    r = check_result(execute(shared_daemon, {
        "cmd": 'x=(a b c); [[ ${#x[@]} -eq 3 ]] && echo "n=${#x[@]} '
               '${BASH_VERSION:+bash} $(basename "$0")"; pwd'}), "bash")
    assert r["stdout"] == "n=3 bash bash\n/sandbox\n", r
    assert r["exitCode"] == 0, r


def test_cmd_exit_code_and_stderr(shared_daemon):
    r = execute(shared_daemon, {"cmd": "echo oops >&2; false || exit 9"})
    assert r["exitCode"] == 9, r
    assert r["stderr"] == "oops\n" and r["stdout"] == "", r


def test_cmd_with_another_runtime_still_uses_bash(shared_daemon):
    # isol8: cmd is a shell command whatever the runtime says.
    r = execute(shared_daemon, {"cmd": "echo ${BASH_VERSION:+bash}",
                                "runtime": "python"})
    assert r["stdout"] == "bash\n", r
