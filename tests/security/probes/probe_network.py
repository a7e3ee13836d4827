"""With network none the box has loopback only: no route anywhere.  Judged
from the interfaces and the routing tables; nothing is sent."""
import socket

from probe_common import report, require_box

require_box()
with open("/proc/net/dev") as f:
    ifaces = [l.split(":")[0].strip() for l in f.readlines()[2:]]
report("only loopback", ifaces == ["lo"], f"interfaces {ifaces}")
with open("/proc/net/route") as f:
    routes = f.readlines()[1:]
report("no IPv4 routes", not routes, f"{routes}")
# A loopback listener works inside the box...
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=2)
report("loopback inside works", True)
c.close(); s.close()
# Nothing but loopback routes for IPv6 either.
with open("/proc/net/ipv6_route") as f:
    v6 = [l.split()[-1] for l in f if l.strip()]
report("no IPv6 routes beyond loopback", all(d == "lo" for d in v6), f"{v6}")
print("DONE", flush=True)
