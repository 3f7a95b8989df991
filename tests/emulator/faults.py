"""Fault injection: make the emulator misbehave the way networks and EM servers do.

A fault spec is a JSON object, a list of them, or ``{"faults": [...]}`` (README §Faults).
Common keys: ``kind``; ``count`` (how many times it fires; default 1; ``null``/-1 = forever);
``skip`` (let the first K matching requests through; ``after`` is an alias); ``path`` (prefix
of the request path, case-insensitive; default ``/api/``); ``method`` (e.g. ``GET``).

Kinds: ``status`` (``status`` 500/502/503…, optional ``message``, ``retry_after``), ``reset``
(TCP RST, no response), ``delay`` (``seconds`` before answering), ``truncate`` (half the body,
then close), ``malformed`` (broken XML/JSON with a correct Content-Length), ``bom`` (UTF-8 BOM
before JSON bodies; default forever), ``expire_session`` (the session used by the matching
request is expired → 401), ``insert_during_paging`` (after page 1 of a ``type`` query is
served, insert ``items`` new task sessions, ``position`` ``before`` = newer than everything
(first under sortDesc=CreationTime) or ``among`` = inside the existing time range),
``billion_laughs`` (XML entity-expansion body), ``huge_body`` (``size_mb`` MB valid body).
"""
import threading

KINDS = {"status", "reset", "delay", "truncate", "malformed", "bom", "expire_session", "insert_during_paging",
         "billion_laughs", "huge_body"}
_FOREVER_DEFAULT = {"bom"}


class Fault:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault must be a JSON object")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (expected one of %s)" % (kind, ", ".join(sorted(KINDS))))
        self.kind = kind
        self.spec = dict(spec)
        count = spec.get("count", None if kind in _FOREVER_DEFAULT else 1)
        self.remaining = None if count in (None, -1) else int(count)
        self.skip = int(spec.get("skip", spec.get("after", 0)) or 0)
        self.path = (spec.get("path") or "/api/").lower()
        self.method = (spec.get("method") or "").upper() or None
        self.seen = 0
        self.fired = 0
        if kind == "status":
            self.status = int(spec.get("status", 503))
            if not 400 <= self.status <= 599:
                raise ValueError("status fault needs an HTTP error status (400-599)")
        if kind == "delay":
            self.seconds = float(spec.get("seconds", 5))
        if kind == "huge_body":
            self.size_mb = float(spec.get("size_mb", 64))
        if kind == "insert_during_paging":
            self.items = int(spec.get("items", spec.get("insert", 5)))
            self.position = spec.get("position", "before")
            if self.position not in ("before", "among"):
                raise ValueError("insert_during_paging position must be 'before' or 'among'")
            self.qtype = (spec.get("type") or "BackupTaskSession").lower()
            if self.path == "/api/":
                self.path = "/api/query"

    def matches(self, method, path):
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method and self.method != method:
            return False
        return path.lower().startswith(self.path)

    def describe(self):
        d = dict(self.spec)
        d.update({"remaining": self.remaining, "fired": self.fired, "seen": self.seen})
        return d


def parse_spec(doc):
    if isinstance(doc, dict) and "faults" in doc:
        doc = doc["faults"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise ValueError("fault spec must be an object, a list or {\"faults\": [...]}")
    return [Fault(d) for d in doc]


class FaultManager:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.injected = 0

    def add(self, doc):
        new = parse_spec(doc)
        with self.lock:
            self.faults.extend(new)
        return new

    def clear(self):
        with self.lock:
            self.faults = []

    def describe(self):
        with self.lock:
            return [f.describe() for f in self.faults]

    def fire(self, method, path, kinds=None, has_token=True, qtype=None):
        """Faults that fire for this request (consuming their counts). ``kinds`` restricts the set.

        ``expire_session`` only counts requests that carry a token (a logon has nothing to expire);
        ``insert_during_paging`` only counts page-1 queries of its own ``type``.
        """
        out = []
        with self.lock:
            for f in self.faults:
                if kinds is not None and f.kind not in kinds:
                    continue
                if kinds is None and f.kind == "insert_during_paging":
                    continue
                if f.kind == "expire_session" and not has_token:
                    continue
                if f.kind == "insert_during_paging" and qtype is not None and f.qtype != qtype:
                    continue
                if not f.matches(method, path):
                    continue
                f.seen += 1
                if f.seen <= f.skip:
                    continue
                if f.remaining is not None:
                    f.remaining -= 1
                f.fired += 1
                self.injected += 1
                out.append(f)
        return out


def billion_laughs_body():
    """The classic entity-expansion bomb (~3 GB if expanded; ~1 KB on the wire)."""
    ents = ['<!ENTITY lol "lol">', '<!ENTITY lol1 "' + "&lol;" * 10 + '">']
    for i in range(2, 10):
        ents.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE QueryResult [\n' + "\n".join(ents) + "\n]>\n"
            '<QueryResult xmlns="http://www.veeam.com/ent/v1.0"><Refs><Ref Type="BackupTaskSessionReference" '
            'Name="&lol9;" /></Refs></QueryResult>').encode("utf-8")


def huge_body_chunks(json_mode, size_bytes, base):
    """(total_length, iterator of byte chunks) for a valid but enormous body."""
    if json_mode:
        head = b'{"Refs":{"Refs":['
        item = ('{"Name":"huge","UID":"urn:veeam:BackupTaskSession:00000000-0000-4000-8000-000000000000",'
                '"Links":[],"Href":"%s/backupTaskSessions/00000000-0000-4000-8000-000000000000",'
                '"Type":"BackupTaskSessionReference"}' % base).encode()
        sep = b","
        tail = b']},"Entities":null,"Resources":null,"Links":null,"PagingInfo":null}'
    else:
        head = ('<?xml version="1.0" encoding="utf-8"?>\n<QueryResult xmlns="http://www.veeam.com/ent/v1.0">'
                '<Refs>').encode()
        item = ('<Ref Type="BackupTaskSessionReference" Href="%s/backupTaskSessions/00000000-0000-4000-8000-'
                '000000000000" Name="huge" UID="urn:veeam:BackupTaskSession:00000000-0000-4000-8000-000000000000" />'
                % base).encode()
        sep = b""
        tail = b"</Refs></QueryResult>"
    n = max(1, int((size_bytes - len(head) - len(tail)) // (len(item) + len(sep))))
    total = len(head) + len(tail) + n * len(item) + (n - 1) * len(sep)

    def gen():
        yield head
        block_n = 2000
        block = (item + sep) * block_n
        left = n
        while left > block_n:
            yield block
            left -= block_n
        yield (item + sep) * (left - 1) + item
        yield tail
    return total, gen()
