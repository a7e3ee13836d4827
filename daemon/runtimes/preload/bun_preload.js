// A pooled Bun box starts `bun run --preload <this> /sandbox/main.ts`.  Bun
// finds its entry point before it runs this, so the pool leaves an empty
// main.ts there first; Bun reads the entry's text only after this, so it
// runs the code the execution writes over it.  It waits here for the
// execution: the daemon writes main.ts and the other files, then sends on
// stdin "<8 hex digits: length><cwd>\0<KEY=VALUE>\0...\0" (an empty entry
// ends it); the rest of stdin is the program's.  Then it removes every
// trace of itself, so that Bun goes on as `bun run main.ts` would.
{
  const fs = require("fs");
  const readExact = (n) => {
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      let got;
      try {
        got = fs.readSync(0, buf, off, n - off, null);
      } catch (e) {
        if (e.code === "EAGAIN" || e.code === "EINTR") continue;
        throw e;
      }
      if (got === 0) process.exit(70);
      off += got;
    }
    return buf;
  };
  fs.writeSync(1, "isol8-waiting\n");
  const size = parseInt(readExact(8).toString("latin1"), 16);
  const parts = readExact(size).toString("utf8").split("\0");
  fs.unlinkSync(import.meta.path);
  fs.rmdirSync(import.meta.dir);
  const at = process.execArgv.indexOf("--preload");
  if (at >= 0) process.execArgv.splice(at, 2);
  process.chdir(parts[0]);
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const item of parts.slice(1)) {
    const eq = item.indexOf("=");
    if (eq > 0) process.env[item.slice(0, eq)] = item.slice(eq + 1);
  }
}
