"""The security suite starts the real isol8d with the integration suite's
fixtures and harness."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

from isol8_fixtures import (_built_binaries, any_start_daemon, daemon,  # noqa: F401,E402
                            start_daemon)
