// A pooled Bun box starts `bun run --preload <this> /sandbox/main.ts` with
// an empty main.ts made first: Bun looks for its entry point before its
// preloads run, but reads its text only after them.  This removes every
// trace of itself first, so that Bun goes on exactly as `bun run main.ts`
// would, and does it before it says it waits, so that an execution does
// not wait for it.  Then it waits for the execution: the daemon writes the
// program and the other files, then sends on stdin "<8 hex digits: length>
// <cwd>\0<KEY=VALUE>\0...\0" (an empty entry ends it).  The rest of stdin
// is the program's.
//
// Its system calls go to libc through bun:ffi, not through node:fs: node:fs
// (and whatever else reads process.nextTick) set up Bun's nextTick queue,
// and one set up before the program starts runs the program's nextTick
// callbacks after its promise callbacks instead of before them.
'use strict';
(() => {
  const { dlopen } = require('bun:ffi');
  const libc = dlopen('libc.so.6', {
    read: { args: ['i32', 'ptr', 'u64'], returns: 'i64' },
    write: { args: ['i32', 'ptr', 'u64'], returns: 'i64' },
    unlink: { args: ['cstring'], returns: 'i32' },
    rmdir: { args: ['cstring'], returns: 'i32' },
  }).symbols;
  const cstring = (s) => Buffer.from(`${s}\0`);
  // Blocking reads: a pipe's end, as the daemon hands it over.  An error
  // (a signal's EINTR) reads again; the end of input ends the wait.
  const readExact = (n) => {
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      const got = Number(libc.read(0, buf.subarray(off), n - off));
      if (got === 0) process.reallyExit(70);
      if (got > 0) off += got;
    }
    return buf;
  };
  libc.unlink(cstring(__filename));
  libc.rmdir(cstring(__filename.slice(0, __filename.lastIndexOf('/'))));
  const at = process.execArgv.indexOf('--preload');
  if (at >= 0) process.execArgv.splice(at, 2);
  for (const key of Object.keys(process.env)) delete process.env[key];
  // Bun enters its preloads (and the built-in modules they require) in
  // require.cache again once they have run, a microtask or two after
  // this: they leave it in microtasks that all run before the program's
  // first line.
  let hops = 0;
  const drop = () => {
    delete require.cache[__filename];
    delete require.cache['bun:ffi'];
    if (++hops < 8) return Promise.resolve().then(drop);
  };
  drop();
  // Tells the pool this interpreter is ready; the daemon drops the line
  // from the output before the program's.
  const waiting = Buffer.from('isol8-waiting\n');
  libc.write(1, waiting, waiting.length);
  const size = parseInt(readExact(8).toString('latin1'), 16);
  const parts = readExact(size).toString('utf8').split('\0');
  process.chdir(parts[0]);
  for (const item of parts.slice(1)) {
    const eq = item.indexOf('=');
    if (eq > 0) process.env[item.slice(0, eq)] = item.slice(eq + 1);
  }
})();
