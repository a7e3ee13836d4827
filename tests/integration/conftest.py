"""The integration suite's fixtures live in isol8_fixtures.py, which the
security suite shares."""
from isol8_fixtures import (_built_binaries, any_start_daemon, daemon,  # noqa: F401,E402
                            start_daemon)
