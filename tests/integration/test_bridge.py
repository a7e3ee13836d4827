"""isol8ctl serve: isol8's HTTP API in front of a real isol8d."""
import json

from isol8_bridge import start_bridge  # noqa: F401


def test_health_and_execute(daemon, start_bridge):
    b = start_bridge(daemon)
    status, body = b.json("GET", "/health", auth=False)
    assert status == 200 and body["status"] == "ok"
    status, body = b.json("POST", "/execute", {
        "request": {"runtime": "python", "code": "print(2 ** 10)"}})
    assert status == 200, body
    assert body["stdout"] == "1024\n" and body["exitCode"] == 0
