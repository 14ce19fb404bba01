"""minyi_client: a Python client for minyi's sockets (docs/protocol.md).

Needs only pyzmq (Debian: python3-zmq).  Every call returns plain dicts and
lists as the daemons sent them (without the protocol's "v" and "ok"), and
raises a MinyiError subclass carrying the reason code when a daemon refuses:

    from minyi_client import Client, NotFound
    c = Client.for_state_dir("/var/lib/minyi")      # ipc:// sockets in STATE/run
    rid = c.submit({"member": "M001", "title": "...", "body": "..."})["id"]
    for r in c.pull("chengjian", limit=5, who="clerk-li"):
        c.ack(r["id"], "adopted", note="...", who="clerk-li")

Over tcp:// with CURVE (README, Security) give the client's key file (made by
`minyi keys new NAME ROLE`) and the server's public key (`minyi keys server`):

    c = Client(submit="tcp://10.0.0.5:7001", query="tcp://10.0.0.5:7002",
               curve=load_key("li.key"), server_key="...40 Z85 characters...")

The client speaks protocol version 2 and understands replies of version 1
(daemons of the release before) and 2.
"""

import json
import os

import zmq

PROTO_VERSION = 2
PROTO_VERSIONS = (1, 2)          # the reply versions this client understands


class MinyiError(Exception):
    """A refusal: .code is the reason code (bad_field, not_found, busy, ...),
    .detail the daemon's sentence."""

    code = "internal"

    def __init__(self, code=None, detail=""):
        self.code = code or self.code
        self.detail = detail
        super().__init__("%s: %s" % (self.code, detail) if detail else self.code)


class BadRequest(MinyiError):
    code = "bad_request"


class NotFound(MinyiError):
    code = "not_found"


class Conflict(MinyiError):
    code = "conflict"


class Busy(MinyiError):
    """The daemon cannot take this now (spool or archive): try again later."""
    code = "busy"


class Forbidden(MinyiError):
    code = "forbidden"


class BadVersion(MinyiError):
    """The daemon does not speak this client's protocol version (or the
    reverse: a reply of a version this client does not know)."""
    code = "bad_version"


class Rejected(MinyiError):
    """A report refused by the submit socket: bad_json, bad_utf8,
    missing_field, bad_field, too_large, unknown_member, ..."""


class Timeout(MinyiError):
    """No answer within the timeout: the daemon is down or stuck."""
    code = "timeout"


class ProtocolError(MinyiError):
    """A reply that is not what docs/protocol.md says."""
    code = "protocol"


_ERRORS = {cls.code: cls for cls in (BadRequest, NotFound, Conflict, Busy, Forbidden,
                                     BadVersion)}
_REPORT_CODES = ("bad_json", "bad_utf8", "bad_encoding", "missing_field", "bad_field",
                 "too_large", "unknown_member")


def _error(code, detail):
    if code in _REPORT_CODES:
        return Rejected(code, detail)
    return _ERRORS.get(code, MinyiError)(code, detail)


def _decode_reply(raw):
    """The reply as a dict without "v" and "ok"; raises the refusal."""
    try:
        reply = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(detail="reply is not JSON: %s" % e)
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise ProtocolError(detail="a reply is an object with \"ok\"")
    version = reply.pop("v", 1)
    if version not in PROTO_VERSIONS:
        raise BadVersion(detail="peer speaks protocol %s, this client %d"
                         % (version, PROTO_VERSION))
    if not reply.pop("ok"):
        raise _error(reply.get("error", "internal"), reply.get("detail", ""))
    return reply


def load_key(path):
    """A minyi key file ("public-key = ..." and "secret-key = ..." lines)
    as (public, secret) bytes in Z85; the .pub file gives (public, None)."""
    found = {}
    with open(path) as f:
        for line in f:
            name, eq, value = line.partition("=")
            if eq and not line.startswith("#"):
                found[name.strip()] = value.strip().encode()
    if "public-key" not in found:
        raise ValueError("%s: no public-key line" % path)
    return found["public-key"], found.get("secret-key")


class Client:
    """Endpoints are ZeroMQ addresses (ipc://... or tcp://...); any left
    None cannot be used.  timeout_ms bounds every call.  curve: (public,
    secret) of this client's key (load_key) and server_key the server's
    public key, both Z85, for tcp:// endpoints with CURVE."""

    def __init__(self, submit=None, query=None, collector_ctl=None, router_ctl=None,
                 timeout_ms=5000, context=None, curve=None, server_key=None):
        self.endpoints = {"submit": submit, "query": query,
                          "collector": collector_ctl, "router": router_ctl}
        self.timeout_ms = timeout_ms
        self.context = context or zmq.Context.instance()
        self.curve = curve
        self.server_key = server_key.encode() if isinstance(server_key, str) else server_key

    def _socket(self, kind):
        s = self.context.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        if self.curve:
            s.curve_publickey, s.curve_secretkey = self.curve
            s.curve_serverkey = self.server_key
        return s

    @classmethod
    def for_state_dir(cls, state_dir, **kw):
        """The default ipc:// endpoints of a state directory (STATE/run/)."""
        run = os.path.join(os.path.abspath(state_dir), "run")
        return cls(submit="ipc://%s/submit.sock" % run, query="ipc://%s/query.sock" % run,
                   collector_ctl="ipc://%s/collector.sock" % run,
                   router_ctl="ipc://%s/router.sock" % run, **kw)

    # ---- transport ----

    def _endpoint(self, name):
        ep = self.endpoints.get(name)
        if not ep:
            raise ValueError("no %s endpoint configured" % name)
        return ep

    def _call(self, name, payload):
        """One request, one reply, on a fresh REQ socket (a REQ socket
        that missed its reply cannot be used again)."""
        s = self._socket(zmq.REQ)
        try:
            s.connect(self._endpoint(name))
            s.send(payload)
            if not s.poll(self.timeout_ms):
                raise Timeout(detail="%s did not answer within %d ms" % (name, self.timeout_ms))
            return _decode_reply(s.recv())
        finally:
            s.close()

    def _request(self, name, cmd, **fields):
        req = {"v": PROTO_VERSION, "cmd": cmd}
        req.update({k: v for k, v in fields.items() if v is not None})
        return self._call(name, json.dumps(req, ensure_ascii=False).encode())

    # ---- submit ----

    @staticmethod
    def _report_bytes(report):
        if isinstance(report, (bytes, bytearray)):
            return bytes(report)
        return json.dumps(report, ensure_ascii=False).encode()

    def submit(self, report):
        """File one report (a dict, or its JSON bytes).  Returns {"id": ID}
        and "duplicate": True when it repeats an earlier one."""
        return self._call("submit", self._report_bytes(report))

    def submit_many(self, reports, window=64):
        """File many reports over one DEALER socket, up to `window` at a
        time.  Returns one entry per report, in order: the reply dict, or
        the MinyiError that refused it (nothing is raised for a refusal;
        Timeout is raised when the collector stops answering)."""
        reports = [self._report_bytes(r) for r in reports]
        results = [None] * len(reports)
        s = self._socket(zmq.DEALER)
        try:
            s.connect(self._endpoint("submit"))
            sent = done = 0
            while done < len(reports):
                while sent < len(reports) and sent - done < window:
                    s.send_multipart([sent.to_bytes(8, "little"), b"", reports[sent]])
                    sent += 1
                if not s.poll(self.timeout_ms):
                    raise Timeout(detail="submit did not answer within %d ms" % self.timeout_ms)
                frames = s.recv_multipart()
                if len(frames) != 3 or frames[1] != b"" or len(frames[0]) != 8:
                    raise ProtocolError(detail="want [tag][\"\"][reply]")
                i = int.from_bytes(frames[0], "little")
                if i >= len(reports) or results[i] is not None:
                    continue
                try:
                    results[i] = _decode_reply(frames[2])
                except MinyiError as e:
                    results[i] = e
                done += 1
        finally:
            s.close()
        return results

    # ---- the archiver's queues ----

    def queue(self, committee, limit=None):
        """The committee's open reports, oldest first, without leasing:
        {"reports": [...], "open": N, "leased": N[, "oldest_age_s": S]}."""
        return self._request("query", "queue", committee=committee, limit=limit)

    def pull(self, committee, limit=10, lease=None, who=None):
        """Lease up to `limit` open reports for `lease` seconds (the
        archiver's default when None).  Returns the list of reports."""
        return self._request("query", "pull", committee=committee, limit=limit, lease=lease,
                             who=who)["reports"]

    def ack(self, report_id, outcome, note=None, who=None):
        """Close a report: outcome adopted, forwarded, filed or declined.
        Returns {"id", "state": "closed", "outcome"}."""
        return self._request("query", "ack", id=report_id, outcome=outcome, note=note, who=who)

    def release(self, report_id, who=None):
        """Give a lease back.  Returns {"id", "state": "open"}."""
        return self._request("query", "release", id=report_id, who=who)

    def reassign(self, report_id, committee, who=None):
        """Move a report to another committee's queue.
        Returns {"id", "state": "open", "committee"}."""
        return self._request("query", "reassign", id=report_id, committee=committee, who=who)

    def show(self, report_id):
        """The whole record of one report (a dict)."""
        return self._request("query", "show", id=report_id)["report"]

    def audit(self, month=None):
        """The month's counts ("YYYY-MM"; the current month when None)."""
        return self._request("query", "audit", month=month)["audit"]

    # ---- every daemon ----

    def status(self, daemon="archiver"):
        """One daemon's counters: daemon is "collector", "router" or
        "archiver" (the archiver's include its queues)."""
        return self._request("query" if daemon == "archiver" else daemon, "status")

    def reload(self):
        """Make the router load its rules file again.  Returns {"topics": N}."""
        return self._request("router", "reload")
