"""A certificate authority made for a test, and a server certificate it
signs, with openssl's command line."""

import os
import subprocess


def make_pki(tmp, cn, san, ca_name="isol8 test CA"):
    """Writes ca.pem, srv.pem and srv.key under tmp for a server named cn
    with the subjectAltName san (e.g. "IP:127.0.0.2,DNS:localhost");
    returns their paths (CA, certificate, key)."""
    ca_key, ca, key, csr, crt, ext = (os.path.join(tmp, n) for n in
                                      ("ca.key", "ca.pem", "srv.key",
                                       "srv.csr", "srv.pem", "ext"))
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", ca_key, "-out", ca, "-days", "2", "-subj",
         f"/CN={ca_name}"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", csr, "-subj", f"/CN={cn}"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext],
    ):
        subprocess.run(cmd, check=True, capture_output=True)
    return ca, crt, key
