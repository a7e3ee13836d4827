"""A real PostgreSQL for the tests that share API keys between bridges:
initdb and pg_ctl of Debian's postgresql package, a cluster in a
temporary directory owned by an unprivileged user (initdb refuses root),
password (SCRAM) authentication, its own port and socket directory.

Postgres(listen=("10.0.0.1",), networks=("10.0.0.0/24",)) also listens
on those addresses and admits clients from those networks (bridges in
network namespaces the test made); 127.0.0.1 always."""

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
NOT_INSTALLED = ("PostgreSQL's initdb and pg_ctl are not installed "
                 "(Debian package postgresql; tools/install-deps.sh)")


def postgres_installed():
    return bool(PG_BIN) and os.path.exists(os.path.join(PG_BIN[-1],
                                                        "initdb"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, listen=(), networks=()):
        self.bin = PG_BIN[-1]
        user = "postgres"
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            user, pw = "nobody", pwd.getpwnam("nobody")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.dir = tempfile.mkdtemp(prefix="isol8-pg-")
        os.chown(self.dir, self.uid, self.gid)
        self.data = os.path.join(self.dir, "data")
        self.password = "pw-" + secrets.token_hex(12)
        self.port = free_port()
        self.listen = ",".join(("127.0.0.1", *listen))
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        os.chown(pwfile, self.uid, self.gid)
        self._run("initdb", "-D", self.data, "-U", "isol8", "--pwfile",
                  pwfile, "--auth=scram-sha-256", "-E", "UTF8",
                  "--no-sync")
        if networks:
            with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
                for net in networks:
                    f.write(f"host all isol8 {net} scram-sha-256\n")
        self.url = self.url_for("127.0.0.1")
        self.start()

    def url_for(self, host):
        return (f"postgres://isol8:{self.password}@{host}:{self.port}"
                "/postgres")

    def _run(self, tool, *args):
        r = subprocess.run([os.path.join(self.bin, tool), *args],
                           user=self.uid, group=self.gid, cwd=self.dir,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{tool}: {r.stdout}{r.stderr}"

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l",
                  os.path.join(self.dir, "log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.dir} "
                  f"-c listen_addresses={self.listen} -c fsync=off",
                  "start")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def close(self):
        subprocess.run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                        "-m", "immediate", "-w", "stop"], user=self.uid,
                       group=self.gid, capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
