"""execute with the node runtime: the shared per-runtime checks
(execute_helpers.RuntimeSuite) with Node.js (CommonJS) snippets."""

from execute_helpers import RuntimeSuite, shared_daemon  # noqa: F401

SNIPPETS = {
    "hello": 'console.log("hello from node");\n',
    "exit": "process.exit({code});\n",
    "signal": 'process.kill(process.pid, "SIGTERM");\n'
              "setTimeout(() => {}, 10000);\n",
    "stderr": (
        'console.log("out-1");\n'
        'console.error("err-1");\n'
        'process.stderr.write("err-2\\n");\n'
        "process.exitCode = 3;\n"),
    "stdin": (
        'const fs = require("fs");\n'
        "const data = fs.readFileSync(0);\n"
        'process.stdout.write(Buffer.concat([Buffer.from("stdin:"), '
        "data]));\n"),
    "files": (
        'const fs = require("fs");\n'
        "const parts = [\"input.txt\", \"/sandbox/nested/dir/data.txt\",\n"
        '  "/tmp/t/x.txt"].map((p) => fs.readFileSync(p, "utf8"));\n'
        'process.stdout.write(parts.join("|"));\n'
        'fs.mkdirSync("/sandbox/out", { recursive: true });\n'
        'fs.writeFileSync("/sandbox/out/result.bin",\n'
        "  Buffer.from([...Array(256).keys()]));\n"
        'fs.mkdirSync("/tmp/out", { recursive: true });\n'
        'fs.writeFileSync("/tmp/out/text.txt", "done \\u2603");\n'),
    "env": (
        'const keys = ["GREETING", "ISOL8_EMPTY", "UNI", "HOME"];\n'
        "console.log(keys.map((k) => `${k}=${process.env[k] ?? "
        '"<unset>"}|`).join(""));\n'),
    "secret": (
        "const t = process.env.API_TOKEN;\n"
        'console.log("token=" + t);\n'
        'console.error("err:" + t + ":end");\n'),
    "unicode": 'console.log("héllo wörld ☃ 😀 中文 ÆØÅ");\n',
    "binary": (
        "process.stdout.write(Buffer.from([0x6f, 0x6b, 0xff, 0xfe, 0x41, "
        "0xc3, 0x28, 0xe2, 0x82, 0x65, 0x6e, 0x64, 0x0a]));\n"),
    "timeout": (
        'process.stdout.write("started\\n");\n'
        "setInterval(() => {}, 50);\n"),
}


class TestNode(RuntimeSuite):
    runtime = "node"
    snippets = SNIPPETS
