"""The vm-check guest checks run in file order: the service's features
(test_a_*), the daemon started by hand outside systemd's delegation
(test_b_*), then restart and stop (test_c_*), which end the service."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
