// A pooled Deno box starts `deno run ... --preload <this> /sandbox/main.ts`:
// Deno runs this before it loads its main module, which does not exist
// yet.  It removes every trace of itself first, so that Deno goes on as
// `deno run main.ts` would, and does it before it says it waits, so that
// an execution does not wait for it.  Then it waits for the execution: the
// daemon writes main.ts and the other files, then sends on stdin "<8 hex
// digits: length><cwd>\0<KEY=VALUE>\0...\0" (an empty entry ends it); the
// rest of stdin is the program's.
{
  const readExact = (n) => {
    const buf = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const got = Deno.stdin.readSync(buf.subarray(off));
      if (got === null || got === 0) Deno.exit(70);
      off += got;
    }
    return buf;
  };
  const self = new URL(import.meta.url).pathname;
  Deno.removeSync(self);
  Deno.removeSync(self.slice(0, self.lastIndexOf("/")));
  for (const key of Object.keys(Deno.env.toObject())) Deno.env.delete(key);
  Deno.stdout.writeSync(new TextEncoder().encode("isol8-waiting\n"));
  const size = parseInt(new TextDecoder("latin1").decode(readExact(8)), 16);
  const parts = new TextDecoder().decode(readExact(size)).split("\0");
  Deno.chdir(parts[0]);
  for (const item of parts.slice(1)) {
    const eq = item.indexOf("=");
    if (eq > 0) Deno.env.set(item.slice(0, eq), item.slice(eq + 1));
  }
}
