"""e2e_zmq: what the scenarios' own pyzmq clients share (lib.sh puts this
folder on PYTHONPATH).  ep("submit.sock") is the scenario's endpoint of
that socket: ipc:// in STATE/run, or tcp:// under MINYI_E2E_TCP; connect()
sets the CURVE keys a tcp:// endpoint needs (the admin key of $MINYI_KEY,
or on the pipes between daemons the server's pair, as a daemon would)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python"))
from minyi_client import load_key  # noqa: E402

SOCKS = {"submit.sock": "submit", "route.sock": "route", "route-large.sock": "route_large",
         "archive.sock": "archive", "archive-large.sock": "archive_large",
         "confirm.sock": "confirm", "query.sock": "query", "collector.sock": "collector_ctl",
         "router.sock": "router_ctl"}
PIPES = {"route", "route_large", "archive", "archive_large", "confirm"}


def _endpoints():
    return dict(x.split("=", 1) for x in os.environ.get("E2E_EPS", "").split(";") if x)


def ep(sock):
    return _endpoints().get(SOCKS[sock]) or "ipc://%s/run/%s" % (os.environ["E2E_STATE"], sock)


def connect(s, endpoint):
    server = os.environ.get("E2E_SERVER_KEY")
    if endpoint.startswith("tcp://") and server:
        name = next((n for n, e in _endpoints().items() if e == endpoint), "")
        s.curve_publickey, s.curve_secretkey = load_key(server if name in PIPES
                                                        else os.environ["MINYI_KEY"])
        s.curve_serverkey = load_key(server)[0]
    s.connect(endpoint)
