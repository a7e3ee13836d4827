// A pooled Node.js box starts `node --require <this> /sandbox/main.js`
// before main.js exists: Node runs this before it resolves its main
// module.  It removes every trace of itself first, so that Node goes on
// exactly as `node main.js` would: require.main, require.cache,
// process.argv and execArgv, stack traces and exit codes are Node's own.
// All of that is done before it says it waits, so that an execution does
// not wait for it.  Then it waits for the execution: the daemon writes the
// program and the other files, then sends on stdin "<8 hex digits: length>
// <cwd>\0<KEY=VALUE>\0...\0" (an empty entry ends it).  The rest of stdin
// is the program's.
'use strict';
(() => {
  const fs = require('fs');
  const path = require('path');
  const readExact = (n) => {
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      let got;
      try {
        got = fs.readSync(0, buf, off, n - off, null);
      } catch (e) {
        if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
        throw e;
      }
      if (got === 0) (process.reallyExit || process.exit)(70);
      off += got;
    }
    return buf;
  };
  fs.unlinkSync(__filename);
  fs.rmdirSync(path.dirname(__filename));
  delete require.cache[__filename];
  const at = process.execArgv.indexOf('--require');
  if (at >= 0) process.execArgv.splice(at, 2);
  for (const key of Object.keys(process.env)) delete process.env[key];
  // Tells the pool this interpreter is ready; the daemon drops the line
  // from the output before the program's.
  fs.writeSync(1, 'isol8-waiting\n');
  const size = parseInt(readExact(8).toString('latin1'), 16);
  const parts = readExact(size).toString('utf8').split('\0');
  process.chdir(parts[0]);
  for (const item of parts.slice(1)) {
    const eq = item.indexOf('=');
    if (eq > 0) process.env[item.slice(0, eq)] = item.slice(eq + 1);
  }
})();
