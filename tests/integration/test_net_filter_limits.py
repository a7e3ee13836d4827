"""Host filters as a hostile client writes them: patterns that crashed or
stalled the daemon's loop under POSIX regexec, patterns that take ages to
compile, and JavaScript syntax, which isol8 users write, meaning what it
means.  Requests go from a filtered box through the daemon's proxy to the
HTTP server of test_network on loopback; afterwards the daemon must still
answer and run other executions."""

import pytest

from execute_helpers import check_invalid, execute, execute_error
from test_network import (HOST, filtered, get_code, http_server,  # noqa: F401
                          net_daemon, py)

# From the findings: (|)(\1\1)* crashed glibc, ((a*)*)*\2\1x stalled the
# loop for 25 s on a 96-character host, and the nested counted repeats
# took 21 s to compile.
CRASH = r"(|)(\1\1)*"
STALL = r"((a*)*)*\2\1x"
COMPILE_BOMB = r"((((a{1,20}){1,20}){1,20}){1,20}){1,20}"
# The same stall with PCRE2's start-of-match shortcuts turned off, so that
# it really backtracks until the match limit stops it.
STALL_UNOPTIMIZED = r"(*NO_START_OPT)" + STALL
LONG_HOST = "a" * 63 + "." + "a" * 31 + "b"  # 96 characters
ONLY_HOST = r"^127\.0\.0\.2$"


def blocked_line(host):
    return f"403 isol8: request to {host} blocked by network filter"


def still_serving(daemon, port):
    """Health answers and another filtered execution reaches the server."""
    daemon.health()
    url = f"http://{HOST}:{port}/after"
    r = execute(daemon, py(get_code(url)), filtered(allow=[ONLY_HOST]))
    assert r["stdout"] == f"200 path=/after host={HOST}:{port}\n", r


def test_crash_pattern_blocks_and_daemon_survives(net_daemon, http_server):
    url = f"http://{HOST}:{http_server}/crash"
    r = execute(net_daemon, py(get_code(url)), filtered(deny=[CRASH]))
    # It matches the empty string, so it matches every host.
    assert r["stdout"] == blocked_line(HOST) + "\n", r
    assert [x["action"] for x in r["networkLogs"]] == ["BLOCK"]
    still_serving(net_daemon, http_server)


@pytest.mark.parametrize("pattern", [STALL, STALL_UNOPTIMIZED],
                         ids=["stall", "stall-unoptimized"])
def test_stall_pattern_on_long_hosts_ends(net_daemon, http_server, pattern):
    """Many requests for a long host against a stall pattern finish well
    inside the execution's timeout (each took 25 s before), and the host
    is blocked (by the whitelist, or by the pattern giving up)."""
    urls = [f"http://{LONG_HOST}/{i}" for i in range(20)]
    r = execute(net_daemon, py(get_code(*urls), timeoutMs=20000),
                filtered(allow=[ONLY_HOST], deny=[pattern]))
    assert not r.get("timedOut"), r
    assert r["stdout"].splitlines() == [blocked_line(LONG_HOST)] * 20, r
    assert {(x["host"], x["action"]) for x in r["networkLogs"]} == {
        (LONG_HOST, "BLOCK")}
    still_serving(net_daemon, http_server)


def test_pattern_that_gives_up_blocks(net_daemon, http_server):
    """A blacklist pattern that never matches in JavaScript, but
    backtracks without end on any host, reaches the match limit: the
    request is blocked, not let through."""
    url = f"http://{HOST}:{http_server}/giveup"
    gives_up = r"(?:(?:.*)*)*(?!)"
    r = execute(net_daemon, py(get_code(url)), filtered(deny=[gives_up]))
    assert r["stdout"] == blocked_line(HOST) + "\n", r
    # In a whitelist it counts as no match; another pattern still allows.
    r = execute(net_daemon, py(get_code(url)),
                filtered(allow=[gives_up, ONLY_HOST]))
    assert r["stdout"] == f"200 path=/giveup host={HOST}:{http_server}\n", r
    still_serving(net_daemon, http_server)


def test_compile_bomb_refused(net_daemon, http_server):
    msg = execute_error(net_daemon, py("print(1)"),
                        filtered(deny=["ok", COMPILE_BOMB]))
    check_invalid(msg, "options.networkFilter.blacklist[1]", COMPILE_BOMB,
                  "at offset 39", "regular expression is too large")
    still_serving(net_daemon, http_server)


TOO_MUCH = [
    (filtered(deny=["x"] * 33),
     ["options.networkFilter.blacklist", "33 patterns",
      "more than the limit of 32"]),
    (filtered(allow=["a" * 1025]),
     ["options.networkFilter.whitelist[0]", "1025 bytes long",
      "more than the limit of 1024"]),
    (filtered(allow=["(" * 40 + "a" + ")" * 40]),
     ["options.networkFilter.whitelist[0]", "at offset 33",
      "too deeply nested", "the limit is 32"]),
    (filtered(deny=["ok", "a(?<=b+)"]),
     ["options.networkFilter.blacklist[1]", "at offset 1",
      "lookbehind assertion is not fixed length"]),
    (filtered(allow=[r"^[z-a]$"]),
     ["options.networkFilter.whitelist[0]", "at offset 4",
      "range out of order"]),
]


@pytest.mark.parametrize("options,words", TOO_MUCH,
                         ids=["count", "length", "nesting", "lookbehind",
                              "range"])
def test_limits_and_bad_patterns_refused(net_daemon, options, words):
    msg = execute_error(net_daemon, py("print(1)"), options)
    check_invalid(msg, *words)
    net_daemon.health()


# Deny lists in JavaScript syntax; each must block the loopback server,
# which POSIX regexec let through (\d, (?:...), lookahead mean nothing
# there, or are errors).
JS_DENY = [
    r"^127\.0\.0\.\d$",
    r"^(?:10|127)\.0\.0\.2$",
    r"^(?=127\.)(?!127\.0\.0\.1$)",
    r"^\x31\d{2}\.\u0030\.0\.2$",
    r"^\d+(?:\.\d+){3}$",
]


@pytest.mark.parametrize("pattern", JS_DENY)
def test_js_syntax_deny_list_blocks(net_daemon, http_server, pattern):
    url = f"http://{HOST}:{http_server}/js"
    r = execute(net_daemon, py(get_code(url)), filtered(deny=[pattern]))
    assert r["stdout"] == blocked_line(HOST) + "\n", r
    assert [x["action"] for x in r["networkLogs"]] == ["BLOCK"]


def test_js_syntax_case_insensitive(net_daemon, http_server):
    """The whitelist's \\d lets the server through, and the deny list in
    other letter case blocks a named host."""
    ok = f"http://{HOST}:{http_server}/ok"
    r = execute(net_daemon,
                py(get_code(ok, "http://Blocked.Example/x")),
                filtered(allow=[r"^127\.0\.0\.\d$", r"\.EXAMPLE$"],
                         deny=[r"^BLOCKED\.(?=exa)"]))
    assert r["stdout"].splitlines() == [
        f"200 path=/ok host={HOST}:{http_server}",
        blocked_line("blocked.example")], r
