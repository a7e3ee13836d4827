"""execute with the python runtime: the shared per-runtime checks
(execute_helpers.RuntimeSuite) with Python snippets."""

from execute_helpers import RuntimeSuite, shared_daemon  # noqa: F401

SNIPPETS = {
    "hello": 'print("hello from python")\n',
    "exit": "import sys\nsys.exit({code})\n",
    "signal": "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
    "stderr": (
        "import sys\n"
        "print('out-1')\n"
        "print('err-1', file=sys.stderr)\n"
        "print('err-2', file=sys.stderr)\n"
        "sys.exit(3)\n"),
    "stdin": (
        "import sys\n"
        "data = sys.stdin.buffer.read()\n"
        "sys.stdout.buffer.write(b'stdin:' + data)\n"),
    "files": (
        "import os\n"
        "parts = [open(p, encoding='utf-8').read() for p in\n"
        "         ('input.txt', '/sandbox/nested/dir/data.txt',\n"
        "          '/tmp/t/x.txt')]\n"
        "print('|'.join(parts), end='')\n"
        "os.makedirs('/sandbox/out', exist_ok=True)\n"
        "open('/sandbox/out/result.bin', 'wb').write(bytes(range(256)))\n"
        "os.makedirs('/tmp/out', exist_ok=True)\n"
        "open('/tmp/out/text.txt', 'w', encoding='utf-8')"
        ".write('done \\u2603')\n"),
    "env": (
        "import os\n"
        "print(''.join(f'{k}={os.environ.get(k, \"<unset>\")}|' for k in\n"
        "      ('GREETING', 'ISOL8_EMPTY', 'UNI', 'HOME')))\n"),
    "secret": (
        "import os, sys\n"
        "t = os.environ['API_TOKEN']\n"
        "print('token=' + t)\n"
        "print('err:' + t + ':end', file=sys.stderr)\n"),
    "unicode": 'print("héllo wörld ☃ 😀 中文 ÆØÅ")\n',
    "binary": (
        "import sys\n"
        "sys.stdout.buffer.write(b'ok\\xff\\xfeA\\xc3(\\xe2\\x82end\\n')\n"),
    "timeout": (
        "import time\n"
        "print('started', flush=True)\n"
        "while True:\n"
        "    time.sleep(0.05)\n"),
}


class TestPython(RuntimeSuite):
    runtime = "python"
    snippets = SNIPPETS
