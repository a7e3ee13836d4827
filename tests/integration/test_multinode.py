"""Three isol8 nodes behind HAProxy on one machine: each node an isol8d
with its own socket, state directory and config, and its HTTP bridge
(isol8ctl serve --node-name), both in a network namespace of their own
joined to a Linux bridge by a veth pair; HAProxy on the host with the
shipped deploy/haproxy/isol8.cfg (only its node list and ports changed);
the API keys in a PostgreSQL started here, which the bridges reach over
the Linux bridge.  Requests go through HAProxy as isol8's client sends
them; the X-Isol8-Node header says which node answered."""

import base64
import collections
import os
import shutil
import threading
import urllib.parse

import pytest

from balancer import Haproxy, NetLab
from isol8_bridge import Bridge
from isol8_harness import Daemon, processes_in_group
from pg_server import NOT_INSTALLED, Postgres, postgres_installed

MASTER = "master-key-multinode"
NAMES = ("node1", "node2", "node3")


class Node:
    def __init__(self, lab, i, pg_url):
        self.name = NAMES[i]
        self.daemon = Daemon(wrap=lab.wrap(i))
        self.daemon.start()
        try:
            self.bridge = Bridge(
                self.daemon.socket_path, key=MASTER, port="3000",
                args=["--auth-db", pg_url, "--node-name", self.name],
                wrap=lab.wrap(i), listen="0.0.0.0", host=lab.addrs[i])
        except BaseException:
            self.daemon.close()
            shutil.rmtree(self.daemon.dir, ignore_errors=True)
            raise


class Cluster:
    def __init__(self):
        self.lab = self.pg = self.lb = None
        self.nodes = []

    def start(self):
        self.lab = NetLab(len(NAMES))
        self.pg = Postgres(listen=(self.lab.host_addr,),
                           networks=(self.lab.network,))
        pg_url = self.pg.url_for(self.lab.host_addr)
        for i in range(len(NAMES)):
            self.nodes.append(Node(self.lab, i, pg_url))
        self.lb = Haproxy([(n.name, n.bridge.host, n.bridge.port)
                           for n in self.nodes])
        for n in self.nodes:
            self.lb.wait_state(n.name, "UP")

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def close(self):
        """Everything goes, whatever failed; then nothing may be left."""
        if self.lb:
            self.lb.close()
        groups = []
        for n in self.nodes:
            n.bridge.stop()
            groups.append(n.daemon.pid)
            n.daemon.stop()
            n.daemon.close()
            shutil.rmtree(n.daemon.dir, ignore_errors=True)
        if self.pg:
            self.pg.close()
        if self.lab:
            self.lab.close()
        left = [p for g in groups for p in processes_in_group(g)]
        assert not left, f"processes left by the nodes: {left}"
        assert not (self.lab and self.lab.leftovers()), \
            f"namespaces or links left: {self.lab.leftovers()}"


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("network namespaces and isol8d need root")
    for tool in ("haproxy", "ip", "nsenter"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (tools/install-deps.sh)")
    if not postgres_installed():
        pytest.skip(NOT_INSTALLED)
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.close()


def execute(lb, code, session=None, key=MASTER):
    body = {"request": {"runtime": "bash", "code": code}}
    if session:
        body["sessionId"] = session
    return lb.request("POST", "/execute", body, key=key)


def new_sessions(lb, prefix, count):
    """count sessions made through the balancer: {session: node}."""
    placed = {}
    for k in range(count):
        sid = f"{prefix}:{k}"
        status, node, body = execute(lb, "echo $RANDOM > /sandbox/mark",
                                     sid)
        assert status == 200, body
        placed[sid] = node
    return placed


def one_per_node(lb, prefix, names):
    """A session on each node of names: {node: session}."""
    found = {}
    for k in range(200):
        sid = f"{prefix}-{k}"
        status, node, body = execute(lb, f"echo {sid} > /sandbox/mark", sid)
        assert status == 200, body
        found.setdefault(node, sid)
        if set(found) >= set(names):
            return found
    raise AssertionError(f"200 sessions landed only on {sorted(found)}")


def sessionless_nodes(lb, count=6):
    """The nodes that ran count concurrent sessionless executions."""
    got = []

    def run():
        got.append(execute(lb, "sleep 1; echo done"))

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == count
    for status, node, body in got:
        assert status == 200 and body["stdout"] == "done\n", body
    return collections.Counter(node for _, node, _ in got)


def test_a_session_keeps_its_node(cluster):
    """Execute, file upload and download, and delete of each session
    reach the node that made it, which alone has it."""
    lb = cluster.lb
    placed = new_sessions(lb, "stay", 12)
    assert len(set(placed.values())) > 1, placed
    for sid, node in placed.items():
        content = base64.b64encode(f"in {sid}\n".encode()).decode()
        status, at, body = lb.request(
            "POST", "/file", {"sessionId": sid, "path": "/sandbox/in.txt",
                              "content": content}, key=MASTER)
        assert (status, at) == (200, node), body
        status, at, body = execute(
            lb, "cat /sandbox/in.txt; cat /sandbox/mark > /sandbox/out",
            sid)
        assert (status, at) == (200, node), body
        assert body["stdout"] == f"in {sid}\n"
        status, at, events = lb.request(
            "POST", "/execute/stream",
            {"request": {"runtime": "bash", "code": "echo streamed"},
             "sessionId": sid}, key=MASTER)
        assert (status, at) == (200, node), events
        assert "streamed" in events
        # As isol8's client sends it (URLSearchParams: ':' and '/'
        # encoded).
        query = urllib.parse.urlencode({"sessionId": sid,
                                        "path": "/sandbox/out"})
        status, at, body = lb.request("GET", f"/file?{query}", key=MASTER)
        assert (status, at) == (200, node), body
        assert base64.b64decode(body["content"]).strip().isdigit()
        for n in cluster.nodes:
            status, listed = n.bridge.json("GET", "/sessions")
            ids = {s["id"] for s in listed["sessions"]}
            assert (sid in ids) == (n.name == node), (sid, n.name, ids)
        status, at, body = lb.request(
            "DELETE", "/session/" + urllib.parse.quote(sid, safe=""),
            key=MASTER)
        assert (status, at) == (200, node), body
        status, at, body = lb.request("GET", f"/file?{query}", key=MASTER)
        assert (status, at) == (404, node), body


def test_a_body_too_large_to_route(cluster):
    """An execution whose sessionId lies past HAProxy's buffer: without
    a session it runs anywhere; a new session is refused with the reason
    instead of being made on a node the session's later requests would
    not reach."""
    lb = cluster.lb
    big = "#" + "x" * (2 << 20) + "\necho big"
    status, _, body = execute(lb, big)
    assert status == 200 and body["stdout"] == "big\n", body
    status, _, body = execute(lb, big, "big-new")
    assert status == 421, body
    assert "tune.bufsize" in body["error"]
    for n in cluster.nodes:
        ids = {s["id"] for s in n.bridge.json("GET", "/sessions")[1]
               ["sessions"]}
        assert "big-new" not in ids


def test_sessionless_runs_spread(cluster):
    assert set(sessionless_nodes(cluster.lb)) == set(NAMES)


def test_a_key_made_through_one_node_works_on_all(cluster):
    lb = cluster.lb
    status, maker, made = lb.request(
        "POST", "/auth/keys", {"name": "mn", "tenantId": "team-mn"},
        key=MASTER)
    assert status == 201, made
    tenant = {"Authorization": f"Bearer {made['key']}"}
    for n in cluster.nodes:
        status, body = n.bridge.json("GET", "/sessions", headers=tenant)
        assert status == 200, (n.name, body)
    status, node, body = execute(lb, "echo mine", "tenant-s",
                                 key=made["key"])
    assert status == 200 and body["stdout"] == "mine\n", body
    other = next(n for n in cluster.nodes if n.name != maker)
    status, body = other.bridge.json("DELETE", "/auth/keys/" + made["id"])
    assert status == 200, body
    for n in cluster.nodes:
        status, body = n.bridge.json("GET", "/sessions", headers=tenant)
        assert status == 403, (n.name, body)


def test_a_dead_daemon_fails_only_its_sessions(cluster):
    lb = cluster.lb
    live = [n for n in NAMES if cluster.node(n).daemon.alive()]
    owned = one_per_node(lb, "kill", live)
    victim = cluster.node("node2")
    victim.daemon.kill()
    status, at, body = execute(lb, "cat /sandbox/mark", owned["node2"])
    assert (status, at) == (503, "node2"), body
    assert "isol8d is not reachable" in body["error"], body
    for name, sid in owned.items():
        if name != "node2":
            status, at, body = execute(lb, "cat /sandbox/mark", sid)
            assert (status, at) == (200, name), body
            assert body["stdout"] == f"{sid}\n"
    lb.wait_state("node2", "NOLB")
    placed = new_sessions(lb, "after-kill", 12)
    assert "node2" not in placed.values(), placed
    assert "node2" not in sessionless_nodes(lb)
    # Its own sessions still go to it, and still say why they fail.
    status, at, body = execute(lb, "true", owned["node2"])
    assert (status, at) == (503, "node2"), body


def test_a_drained_node_gets_no_new_sessions(cluster):
    lb = cluster.lb
    owned = one_per_node(lb, "drain", ["node1", "node3"])
    node1 = cluster.node("node1")
    status, body = node1.bridge.json("POST", "/admin/drain")
    assert status == 200, body
    lb.wait_state("node1", "NOLB")
    placed = new_sessions(lb, "after-drain", 12)
    assert set(placed.values()) == {"node3"}, placed
    assert set(sessionless_nodes(lb)) == {"node3"}
    # The session it has is still served there.
    status, at, body = execute(lb, "cat /sandbox/mark", owned["node1"])
    assert (status, at) == (200, "node1"), body
    assert body["stdout"] == f"{owned['node1']}\n"
