"""execute with the deno runtime: the shared per-runtime checks
(execute_helpers.RuntimeSuite) with TypeScript snippets using Deno's own
APIs (inline code; no file of the user's)."""

from execute_helpers import RuntimeSuite, shared_daemon  # noqa: F401

SNIPPETS = {
    "hello": 'const who: string = "deno";\nconsole.log(`hello from ${who}`);\n',
    "exit": "Deno.exit({code});\n",
    "signal": 'Deno.kill(Deno.pid, "SIGTERM");\n'
              "await new Promise((r) => setTimeout(r, 10000));\n",
    "stderr": (
        'console.log("out-1");\n'
        'console.error("err-1");\n'
        'Deno.stderr.writeSync(new TextEncoder().encode("err-2\\n"));\n'
        "Deno.exitCode = 3;\n"),
    "stdin": (
        "const chunks: Uint8Array[] = [];\n"
        "for await (const c of Deno.stdin.readable) chunks.push(c);\n"
        'const head = new TextEncoder().encode("stdin:");\n'
        "const w = Deno.stdout;\n"
        "let buf = head;\n"
        "for (const c of chunks) {\n"
        "  const n = new Uint8Array(buf.length + c.length);\n"
        "  n.set(buf); n.set(c, buf.length); buf = n;\n"
        "}\n"
        "let off = 0;\n"
        "while (off < buf.length) off += w.writeSync(buf.subarray(off));\n"),
    "files": (
        'const parts: string[] = ["input.txt", "/sandbox/nested/dir/data.txt",\n'
        '  "/tmp/t/x.txt"].map((p) => Deno.readTextFileSync(p));\n'
        'await Deno.stdout.write(new TextEncoder().encode(parts.join("|")));\n'
        'Deno.mkdirSync("/sandbox/out", { recursive: true });\n'
        'Deno.writeFileSync("/sandbox/out/result.bin",\n'
        "  new Uint8Array([...Array(256).keys()]));\n"
        'Deno.mkdirSync("/tmp/out", { recursive: true });\n'
        'Deno.writeTextFileSync("/tmp/out/text.txt", "done \\u2603");\n'),
    "env": (
        'const keys = ["GREETING", "ISOL8_EMPTY", "UNI", "HOME"];\n'
        "console.log(keys.map((k) => `${k}=${Deno.env.get(k) ?? "
        '"<unset>"}|`).join(""));\n'),
    "secret": (
        'const t: string = Deno.env.get("API_TOKEN")!;\n'
        'console.log("token=" + t);\n'
        'console.error("err:" + t + ":end");\n'),
    "unicode": 'console.log("héllo wörld ☃ 😀 中文 ÆØÅ");\n',
    "binary": (
        "Deno.stdout.writeSync(new Uint8Array([0x6f, 0x6b, 0xff, 0xfe, "
        "0x41, 0xc3, 0x28, 0xe2, 0x82, 0x65, 0x6e, 0x64, 0x0a]));\n"),
    "timeout": (
        'Deno.stdout.writeSync(new TextEncoder().encode("started\\n"));\n'
        "setInterval(() => {}, 50);\n"),
}


class TestDeno(RuntimeSuite):
    runtime = "deno"
    snippets = SNIPPETS
