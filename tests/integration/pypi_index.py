"""A one-package PyPI simple index on a loopback address, for tests of
installPackages (no real index is reachable)."""

import http.server
import io
import threading
import zipfile


def start_pypi_index(host, module, value, extra=None):
    """Serves package `module` (underscores; its project name uses dashes)
    whose module sets VALUE = value, and whose wheel also holds the files
    of `extra` (name: text).  Returns (server, simple index URL); the
    caller shuts the server down."""
    project = module.replace("_", "-")
    buf = io.BytesIO()
    info = f"{module}-1.0.dist-info"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{module}.py", f"VALUE = {value}\n")
        for name, text in (extra or {}).items():
            z.writestr(name, text)
        z.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\n"
                   f"Name: {project}\nVersion: 1.0\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: t\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    wheel = buf.getvalue()
    name = f"{module}-1.0-py3-none-any.whl"

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.rstrip("/") == f"/simple/{project}":
                body = f'<a href="/w/{name}">{name}</a>'.encode()
            elif self.path == f"/w/{name}":
                body = wheel
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer((host, 0), Index)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://{host}:{srv.server_address[1]}/simple/"
