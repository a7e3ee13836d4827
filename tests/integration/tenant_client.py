"""A client of the daemon's socket running as another uid, for the tenant
tests: a child process that drops to that uid and then answers commands
sent as JSON lines on its stdin, one JSON line each on its stdout.

   {"op": "call", "method": M, "params": P, "extra": {...}}
       one request on the child's connection; the response
   {"op": "send", "method": M, "params": P}
       a request sent and not waited for (an execute left running)
   {"op": "connect", "n": N}
       N more connections, each asked for health; the list of what each
       got back (a response, or null when closed without one)"""

import json
import os
import subprocess
import sys

CHILD = r'''
import json, os, socket, struct, sys
uid = int(sys.argv[2])
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    return s
def send(s, msg):
    b = json.dumps(msg).encode()
    s.sendall(struct.pack(">I", len(b)) + b)
def recv(s):
    head = b""
    while len(head) < 4:
        c = s.recv(4 - len(head))
        if not c:
            return None
        head += c
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        c = s.recv(n - len(body))
        if not c:
            return None
        body += c
    return json.loads(body)
main = conn()
extra_conns = []
ids = 0
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "connect":
        got = []
        for _ in range(cmd["n"]):
            s = conn()
            extra_conns.append(s)
            # A refused connection may be closed before the request is
            # written; its refusal is still queued for reading.
            try:
                send(s, {"jsonrpc": "2.0", "id": 1, "method": "health"})
            except OSError:
                pass
            try:
                got.append(recv(s))
            except OSError:
                got.append(None)
        out = got
    else:
        ids += 1
        req = {"jsonrpc": "2.0", "id": ids, "method": cmd["method"],
               "params": cmd.get("params") or {}}
        req.update(cmd.get("extra") or {})
        send(main, req)
        out = None
        if cmd["op"] == "call":
            while True:
                out = recv(main)
                if out is None or out.get("id") == ids:
                    break
    print(json.dumps(out), flush=True)
'''


class OtherUid:
    def __init__(self, socket_path, uid):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(socket_path), str(uid)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _do(self, cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the client as another uid ended: {self.proc.wait()}"
        return json.loads(line)

    def call(self, method, params=None, **extra):
        return self._do({"op": "call", "method": method, "params": params,
                         "extra": extra})

    def send(self, method, params=None):
        return self._do({"op": "send", "method": method, "params": params})

    def connect(self, n):
        return self._do({"op": "connect", "n": n})

    def close(self):
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc.wait(timeout=30)


def open_socket_to_all(daemon):
    """Lets every uid reach the daemon's socket (the test's directory is
    root's alone)."""
    os.chmod(daemon.dir, 0o711)
