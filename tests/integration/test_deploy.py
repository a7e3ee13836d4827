"""The deployment descriptions in deploy/, checked offline by their own
tools: HAProxy's configuration check (haproxy -c), the Kubernetes API's
model classes (Debian's python3-kubernetes) into which every manifest
must load without losing a field, and HashiCorp's HCL2 parser (npm
@cdktf/hcl2json, installed by tools/install-deps.sh) for the Nomad job;
then what each must say for isol8 to work behind the balancer."""

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from balancer import HAPROXY_CFG, NODE_BLOCK
from isol8_harness import REPO

DEPLOY = REPO / "deploy"
HCL2JSON = Path("/opt/isol8/devtools/node_modules/@cdktf/hcl2json")


def haproxy_check(path):
    if not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed (tools/install-deps.sh)")
    r = subprocess.run(["haproxy", "-c", "-f", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Configuration file is valid" in r.stdout + r.stderr


def manifests():
    """(file name, document) of every Kubernetes manifest."""
    docs = []
    for f in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        docs += [(f.name, d) for d in yaml.safe_load_all(f.read_text())
                 if d is not None]
    return docs


def k8s_model(doc):
    """doc loaded into its Kubernetes model class and serialised back;
    a misspelt or misplaced field would be missing from the result."""
    kubernetes = pytest.importorskip(
        "kubernetes", reason="python3-kubernetes (tools/install-deps.sh)")
    group = doc["apiVersion"].split("/")[0]
    version = doc["apiVersion"].split("/")[-1]
    prefix = "" if group == version else group.capitalize()
    klass = f"{version.capitalize()}{doc['kind']}"
    assert prefix in ("", "Apps"), doc["apiVersion"]
    client = kubernetes.client.ApiClient()
    obj = client._ApiClient__deserialize(copy.deepcopy(doc), klass)
    return client.sanitize_for_serialization(obj)


def by_kind(kind, name):
    found = [d for _, d in manifests()
             if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def test_haproxy_config_is_valid():
    haproxy_check(HAPROXY_CFG)


def test_haproxy_routes_by_session_everywhere_isol8_carries_it():
    cfg = HAPROXY_CFG.read_text()
    for needed in ("option http-buffer-request",
                   "req.body,json_query('$.sessionId')",
                   "url_param(sessionId),url_dec(1)",
                   "path,field(3,/),url_dec",
                   "balance hash var(txn.sid)", "hash-type consistent",
                   "stick on var(txn.sid)", "balance leastconn",
                   "option httpchk GET /ready?unavailableStatus=404",
                   "http-check disable-on-404"):
        assert needed in cfg, needed


def test_every_manifest_loads_into_its_model():
    docs = manifests()
    assert {d["kind"] for _, d in docs} >= {
        "Namespace", "ConfigMap", "DaemonSet", "Service", "Deployment"}
    for name, doc in docs:
        assert k8s_model(doc) == doc, f"{name}: {doc['kind']} " \
            f"{doc['metadata']['name']} has fields the API does not know"


def test_the_model_check_finds_a_misspelt_field():
    ds = copy.deepcopy(by_kind("DaemonSet", "isol8d"))
    ds["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "privilegd": True}
    assert k8s_model(ds) != ds


def test_daemonset_privileged_daemon_unprivileged_bridge():
    spec = by_kind("DaemonSet", "isol8d")["spec"]
    assert spec["selector"]["matchLabels"].items() <= \
        spec["template"]["metadata"]["labels"].items()
    pod = spec["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert containers["isol8d"]["securityContext"] == {"privileged": True}
    bridge = containers["bridge"]
    assert bridge["securityContext"]["runAsNonRoot"] is True
    assert bridge["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert "--node-name" in bridge["args"]
    assert "--auth-db" in bridge["args"]
    host = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]
            if "hostPath" in v}
    assert set(host.values()) == {"/sys/fs/cgroup", "/run/isol8",
                                  "/var/lib/isol8", "/opt/isol8/runtimes"}
    mounted = {m["name"] for m in containers["isol8d"]["volumeMounts"]}
    assert set(host) <= mounted
    service = by_kind("Service", "isol8-nodes")["spec"]
    assert service["clusterIP"] == "None"
    assert service["publishNotReadyAddresses"] is True
    assert service["selector"].items() <= \
        spec["template"]["metadata"]["labels"].items()


def test_kubernetes_haproxy_is_the_shipped_config(tmp_path):
    """The ConfigMap's configuration is valid, and is the shipped one but
    for its node list (DNS of the headless Service) and resolvers."""
    cm = by_kind("ConfigMap", "isol8-haproxy")
    cfg = cm["data"]["haproxy.cfg"]
    (tmp_path / "haproxy.cfg").write_text(cfg)
    haproxy_check(tmp_path / "haproxy.cfg")
    assert "isol8-nodes.isol8.svc.cluster.local:3000" in cfg

    def core(text):
        text = NODE_BLOCK.sub("# nodes", text)
        return re.sub(r"\n# [^\n]*\nresolvers .*?\n\n", "\n", text,
                      flags=re.S)

    assert core(cfg) == core(HAPROXY_CFG.read_text())
    deployment = by_kind("Deployment", "isol8-haproxy")["spec"]
    volumes = deployment["template"]["spec"]["volumes"]
    assert {"name": "config", "configMap": {"name": "isol8-haproxy"}} \
        in volumes
    front = by_kind("Service", "isol8")["spec"]
    assert front["selector"].items() <= \
        deployment["template"]["metadata"]["labels"].items()


def nomad_job():
    if not (HCL2JSON / "package.json").exists() or not shutil.which("node"):
        pytest.skip("@cdktf/hcl2json is not installed "
                    "(tools/install-deps.sh)")
    script = ("const {parse} = require(process.argv[1]);"
              "parse('isol8d.nomad.hcl', require('fs').readFileSync("
              "process.argv[2], 'utf8')).then(j => console.log("
              "JSON.stringify(j)), e => {console.error(String(e));"
              "process.exit(1);});")
    r = subprocess.run(["node", "-e", script, str(HCL2JSON),
                        str(DEPLOY / "nomad" / "isol8d.nomad.hcl")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_nomad_system_job():
    job = nomad_job()["job"]["isol8d"][0]
    assert job["type"] == "system"
    group = job["group"]["node"][0]
    tasks = {name: t[0] for name, t in group["task"].items()}
    assert set(tasks) == {"isol8d", "bridge"}
    daemon, bridge = tasks["isol8d"], tasks["bridge"]
    assert daemon["driver"] == "raw_exec" and "user" not in daemon
    assert daemon["lifecycle"][0] == {"hook": "prestart", "sidecar": True}
    assert bridge["user"] == "isol8"
    args = bridge["config"][0]["args"]
    assert args[args.index("--node-name") + 1] == "${node.unique.name}"
    assert bridge["kill_signal"] == "SIGTERM"
    assert group["network"][0]["port"]["http"][0]["static"] == 3000
    assert group["service"][0]["check"][0]["path"] == "/health"


def test_the_hcl_parser_refuses_broken_hcl(tmp_path):
    nomad_job()  # skips without the parser
    bad = tmp_path / "bad.hcl"
    bad.write_text('job "x" {\n  type = "system"\n')
    script = ("require(process.argv[1]).parse('bad.hcl', require('fs')"
              ".readFileSync(process.argv[2], 'utf8')).then(() => "
              "process.exit(0), () => process.exit(3));")
    r = subprocess.run(["node", "-e", script, str(HCL2JSON), str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r
