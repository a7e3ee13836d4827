"""Fixtures (shared by the integration and security suites) that run the real isol8d as root on a temporary socket.

start_daemon(config=..., args=..., ...) starts one and waits (bounded) for
READY=1 on a NOTIFY_SOCKET the fixture listens on.  At teardown every daemon
still running gets SIGTERM and must exit 0, leaving no process, socket file
or pid file behind.  any_start_daemon does the same for the normal build and,
when ISOL8_ASAN_BUILD names one, the ASan+UBSan build, whose stderr must then
hold no sanitizer report."""

import os

import pytest

from isol8_harness import BUILD, Daemon, asan_build


@pytest.fixture(scope="session", autouse=True)
def _built_binaries():
    for name in ("isol8d", "isol8ctl", "isol8ctl-http"):
        p = BUILD / name
        if not p.is_file():
            pytest.exit(f"{p} is missing: run make first (or set "
                        f"ISOL8_BUILD)", returncode=1)
    if os.geteuid() != 0:
        pytest.exit("the integration tests start isol8d and must run as "
                    "root", returncode=1)


def _factory(build, sanitized):
    daemons = []

    def start(wait=True, **kw):
        d = Daemon(build=build, sanitized=sanitized, **kw)
        daemons.append(d)
        d.start(wait=wait)
        return d

    def finish():
        errors = []
        for d in daemons:
            try:
                if d.alive():
                    d.assert_clean_exit()
                else:
                    d.assert_no_sanitizer_report()
            except AssertionError as e:
                errors.append(str(e))
            finally:
                d.close()
                d.cleanup_dir()
        return errors

    return start, finish


@pytest.fixture
def start_daemon():
    """Starts isol8d from $ISOL8_BUILD: start_daemon(config={...}, ...)."""
    start, finish = _factory(BUILD, False)
    yield start
    errors = finish()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def daemon(start_daemon):
    """One isol8d with the built-in defaults."""
    return start_daemon()


@pytest.fixture(params=["release", "asan"])
def any_start_daemon(request):
    """Like start_daemon, once for the normal build and once for the
    ASan+UBSan build ($ISOL8_ASAN_BUILD; skipped when there is none)."""
    if request.param == "asan":
        build = asan_build()
        if build is None:
            pytest.skip("no ASan build: set ISOL8_ASAN_BUILD to a directory "
                        "holding an isol8d built with SAN=1")
        start, finish = _factory(build, True)
    else:
        start, finish = _factory(BUILD, False)
    yield start
    errors = finish()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)
