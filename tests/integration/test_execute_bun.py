"""execute with the bun runtime: the shared per-runtime checks
(execute_helpers.RuntimeSuite) with TypeScript snippets run by Bun."""

from execute_helpers import RuntimeSuite, shared_daemon  # noqa: F401

SNIPPETS = {
    "hello": 'const who: string = "bun";\nconsole.log(`hello from ${who}`);\n',
    "exit": "process.exit({code});\n",
    "signal": 'process.kill(process.pid, "SIGTERM");\n'
              "await Bun.sleep(10000);\n",
    "stderr": (
        'console.log("out-1");\n'
        'console.error("err-1");\n'
        'process.stderr.write("err-2\\n");\n'
        "process.exitCode = 3;\n"),
    "stdin": (
        "const data = new Uint8Array(await Bun.stdin.arrayBuffer());\n"
        'const head = new TextEncoder().encode("stdin:");\n'
        "const out = new Uint8Array(head.length + data.length);\n"
        "out.set(head); out.set(data, head.length);\n"
        "await Bun.write(Bun.stdout, out);\n"),
    "files": (
        'import * as fs from "node:fs";\n'
        'const parts: string[] = ["input.txt", "/sandbox/nested/dir/data.txt",\n'
        '  "/tmp/t/x.txt"].map((p) => fs.readFileSync(p, "utf8"));\n'
        'process.stdout.write(parts.join("|"));\n'
        'fs.mkdirSync("/sandbox/out", { recursive: true });\n'
        'await Bun.write("/sandbox/out/result.bin",\n'
        "  new Uint8Array([...Array(256).keys()]));\n"
        'fs.mkdirSync("/tmp/out", { recursive: true });\n'
        'await Bun.write("/tmp/out/text.txt", "done \\u2603");\n'),
    "env": (
        'const keys = ["GREETING", "ISOL8_EMPTY", "UNI", "HOME"];\n'
        "console.log(keys.map((k) => `${k}=${Bun.env[k] ?? "
        '"<unset>"}|`).join(""));\n'),
    "secret": (
        "const t: string = process.env.API_TOKEN!;\n"
        'console.log("token=" + t);\n'
        'console.error("err:" + t + ":end");\n'),
    "unicode": 'console.log("héllo wörld ☃ 😀 中文 ÆØÅ");\n',
    "binary": (
        "await Bun.write(Bun.stdout, new Uint8Array([0x6f, 0x6b, 0xff, "
        "0xfe, 0x41, 0xc3, 0x28, 0xe2, 0x82, 0x65, 0x6e, 0x64, 0x0a]));\n"),
    "timeout": (
        'process.stdout.write("started\\n");\n'
        "while (true) await Bun.sleep(50);\n"),
}


class TestBun(RuntimeSuite):
    runtime = "bun"
    snippets = SNIPPETS
