"""Helpers for the emulator's own tests: a tiny EM client over ``requests`` and XML helpers.

Every request passes ``verify=`` explicitly and ``trust_env`` is off, because
REQUESTS_CA_BUNDLE (set in CI images) would otherwise override the emulator's CA.
"""
import json
import os
import xml.etree.ElementTree as ET

import pytest
import requests

from emulator.render import ENTITIES_KEYS, RESOURCES_KEYS, camel_name

NS = {"v": "http://www.veeam.com/ent/v1.0"}
V = "{http://www.veeam.com/ent/v1.0}"
SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "fixtures", "em_samples")
NOW = "2025-06-05T12:00:00Z"


# EM 13 (the emulator's default) writes JSON keys in camelCase, EM 12 in PascalCase
# (docs/em-api-facts.md 3.3). The shape tests below are written in EM's PascalCase names: every
# JSON answer read through ``EM`` (or ``pascal_json``) has its keys turned back, so the same
# assertions hold for both versions. test_em_versions.py checks the camelCase form itself.
_PASCAL = {camel_name(name): name for name in list(ENTITIES_KEYS) + list(RESOURCES_KEYS) + ["UID"]}


def pascal_name(key):
    return _PASCAL.get(key) or key[:1].upper() + key[1:]


def pascal_keys(node):
    if isinstance(node, dict):
        return {pascal_name(k): pascal_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [pascal_keys(v) for v in node]
    return node


def pascal_json(r):
    """``r.json()`` (BOM tolerated) with EM's PascalCase keys, whichever version answered."""
    return pascal_keys(json.loads(r.content.decode("utf-8-sig")))


class EM:
    """A logged-on client: ``get``/``post``/``delete`` relative to ``/api``.

    JSON answers' ``.json()`` gives PascalCase keys for every EM version (see ``pascal_keys``).
    """

    def __init__(self, em, user=None, password=None, json_mode=False):
        self.em = em
        self.http = requests.Session()
        self.http.trust_env = False
        self.verify = em.ca_file if em.ca_file else True
        self.json_mode = json_mode
        self.token = None
        self.session_id = None
        if user is not False:
            self.logon(user or em.username, password or em.password)

    def logon(self, user, password, version="latest"):
        r = self.http.post(self.em.api_url + "/sessionMngr/?v=" + version, auth=(user, password),
                           verify=self.verify)
        assert r.status_code == 201, r.text
        self.token = r.headers["X-RestSvcSessionId"]
        self.http.cookies.clear()  # use the header only (cookie-beats-header is tested separately)
        root = ET.fromstring(r.content)
        self.session_id = root.find("v:SessionId", NS).text
        return r

    def headers(self, extra=None):
        h = {"X-RestSvcSessionId": self.token} if self.token else {}
        if self.json_mode:
            h["Accept"] = "application/json"
        h.update(extra or {})
        return h

    def request(self, method, path, params=None, headers=None, **kw):
        url = path if path.startswith("http") else self.em.api_url + path
        r = self.http.request(method, url, params=params, headers=self.headers(headers), verify=self.verify,
                              timeout=kw.pop("timeout", 30), **kw)
        r.json = lambda **kwargs: pascal_json(r)
        return r

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params, **kw)

    def post(self, path, params=None, **kw):
        return self.request("POST", path, params, **kw)

    def delete(self, path, params=None, **kw):
        return self.request("DELETE", path, params, **kw)

    def query(self, **params):
        r = self.get("/query", params=params)
        assert r.status_code == 200, r.text
        return r

    def logoff(self):
        if self.session_id:
            self.delete("/logonSessions/" + self.session_id)
            self.session_id = None

    def close(self):
        self.logoff()
        self.http.close()


def xml(r):
    return ET.fromstring(r.content)


def query_items(r, json_mode=False):
    """Items of a QueryResult (entities or refs) as a list of dicts {Name, UID, ...}."""
    if json_mode:
        d = r.json()
        if d["Refs"] is not None:
            return d["Refs"]["Refs"]
        if d["Entities"] is not None:
            for v in d["Entities"].values():
                if v is not None:
                    return next(iter(v.values()))
        if d["Resources"] is not None:
            for v in d["Resources"].values():
                if v is not None:
                    return next(iter(v.values()))
        return []
    root = xml(r)
    out = []
    container = root[0]
    holder = container if container.tag == V + "Refs" else (container[0] if len(container) else [])
    for el in holder:
        d = dict(el.attrib)
        for c in el:
            if c.tag != V + "Links":
                d[c.tag.replace(V, "")] = c.text
        out.append(d)
    return out


def paging_info(r, json_mode=False):
    if json_mode:
        p = r.json()["PagingInfo"]
        return p["PageNum"], p["PageSize"], p["PagesCount"], {lk["Rel"]: lk["Href"] for lk in p["Links"]}
    p = xml(r).find("v:PagingInfo", NS)
    links = {lk.get("Rel"): lk.get("Href") for lk in p.find("v:Links", NS)}
    return int(p.get("PageNum")), int(p.get("PageSize")), int(p.get("PagesCount")), links


# Module-scoped clients over the ``em`` fixture each test module defines (its own dataset).
@pytest.fixture(scope="module")
def c(em):
    """An XML client, logged on for the module."""
    cl = EM(em)
    yield cl
    cl.close()


@pytest.fixture(scope="module")
def cj(em):
    """A JSON client, logged on for the module."""
    cl = EM(em, json_mode=True)
    yield cl
    cl.close()


@pytest.fixture(scope="module")
def data(em):
    """The module's dataset as the control plane exports it."""
    return em.dataset()


@pytest.fixture
def samples_dir():
    return SAMPLES
