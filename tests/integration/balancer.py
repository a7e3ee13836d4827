"""Several isol8 nodes behind HAProxy on one machine, for the multi-node
test and the balancer benchmark.

NetLab(n) makes a Linux bridge with an address on the host and n network
namespaces, each joined to it by a veth pair with an address of its own;
close() removes them (deleting a namespace deletes its veth end).

Haproxy(nodes) runs HAProxy with the shipped deploy/haproxy/isol8.cfg,
only its node list and listening addresses replaced, on free loopback
ports; states() reads each node's state from its stats page."""

import csv
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from isol8_harness import REPO

HAPROXY_CFG = REPO / "deploy" / "haproxy" / "isol8.cfg"
NODE_BLOCK = re.compile(r"# nodes:begin\n.*?# nodes:end", re.S)


def ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def free_subnet():
    """A 10.x.y.0/24 no interface of this host is in."""
    used = ip("-4", "-o", "addr", "show")
    for _ in range(100):
        prefix = f"10.{random.randint(64, 250)}.{random.randint(1, 250)}"
        if f" {prefix}." not in used:
            return prefix
    raise RuntimeError("no free 10.x.y.0/24 subnet found")


class NetLab:
    def __init__(self, count):
        tag = f"{os.getpid() % 100000}{random.randint(0, 99):02d}"
        self.bridge = f"i8b{tag}"
        self.prefix = free_subnet()
        self.host_addr = f"{self.prefix}.1"
        self.network = f"{self.prefix}.0/24"
        self.namespaces = []
        self.addrs = []
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.host_addr}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for i in range(count):
                self._add(tag, i)
        except BaseException:
            self.close()
            raise

    def _add(self, tag, i):
        ns = f"isol8-{tag}-{i}"
        outside, inside = f"i8h{tag}{i}", f"i8n{tag}{i}"
        addr = f"{self.prefix}.{10 + i}"
        ip("netns", "add", ns)
        self.namespaces.append(ns)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", ns)
        ip("link", "set", outside, "master", self.bridge, "up")
        ip("-n", ns, "addr", "add", f"{addr}/24", "dev", inside)
        ip("-n", ns, "link", "set", inside, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        self.addrs.append(addr)

    def wrap(self, i):
        """A command prefix running a program in namespace i (nsenter
        execs it: the process keeps its pid, the mounts stay the host's,
        so its cgroups and Unix sockets are where they are)."""
        return ["nsenter", f"--net=/run/netns/{self.namespaces[i]}"]

    def leftovers(self):
        """What of this lab is still there."""
        left = [ns for ns in self.namespaces
                if os.path.exists(f"/run/netns/{ns}")]
        if os.path.exists(f"/sys/class/net/{self.bridge}"):
            left.append(self.bridge)
        return left

    def close(self):
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True,
                           timeout=10)
        subprocess.run(["ip", "link", "del", self.bridge],
                       capture_output=True, timeout=10)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_config(nodes, port, stats_port):
    """The shipped configuration for nodes [(name, host, port)], serving
    on 127.0.0.1:port, its stats page on stats_port."""
    text = HAPROXY_CFG.read_text()
    blocks = NODE_BLOCK.findall(text)
    assert len(blocks) == 2, "the node lists of be_session and be_any"
    checked = "\n".join(f"    server {n} {h}:{p} check"
                        for n, h, p in nodes)
    tracking = "\n".join(f"    server {n} {h}:{p} track be_session/{n}"
                         for n, h, p in nodes)
    text = text.replace(blocks[0], checked, 1)
    text = text.replace(blocks[1], tracking, 1)
    text = text.replace("    bind :8080\n", f"    bind 127.0.0.1:{port}\n")
    text = text.replace("    bind 127.0.0.1:8404\n",
                        f"    bind 127.0.0.1:{stats_port}\n")
    return text


class Haproxy:
    def __init__(self, nodes, cpu=None):
        self.dir = Path(tempfile.mkdtemp(prefix="isol8-lb-"))
        self.port, self.stats_port = free_port(), free_port()
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(haproxy_config(nodes, self.port, self.stats_port))
        self.log_path = self.dir / "haproxy.log"
        self._log = open(self.log_path, "wb")
        pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None \
            else None
        self.proc = subprocess.Popen(
            ["haproxy", "-f", str(cfg)], stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=pin)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"haproxy did not start: "
                                       f"{self.log()}")
                time.sleep(0.05)

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, key=None, timeout=60):
        """(status, X-Isol8-Node, decoded JSON body) on a fresh
        connection."""
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        c = self.connection(timeout)
        try:
            c.request(method, path,
                      json.dumps(body) if body is not None else None,
                      headers)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        try:
            decoded = json.loads(data)
        except ValueError:
            decoded = data.decode(errors="replace")
        return r.status, r.getheader("X-Isol8-Node"), decoded

    def states(self, backend="be_session"):
        """{server: status} as HAProxy sees them (UP, DRAIN, DOWN...)."""
        c = http.client.HTTPConnection("127.0.0.1", self.stats_port,
                                       timeout=10)
        try:
            c.request("GET", "/stats;csv")
            text = c.getresponse().read().decode()
        finally:
            c.close()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {r["svname"]: r["status"] for r in rows
                if r["pxname"] == backend
                and r["svname"] not in ("FRONTEND", "BACKEND")}

    def wait_state(self, server, want, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            state = self.states().get(server)
            if state is not None and state.startswith(want):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"HAProxy never saw {server} {want}: "
                                     f"{self.states()}")
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
