# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""EM bodies (XML or JSON) to one neutral tree: ``decode`` (bytes -> ``Document``), used by em_parse.

``decode`` turns a body into a plain tree whose keys are EM's names (attributes and elements
alike, as EM's own JSON does), with ``Links`` always a list of ``{Rel, Type, Href, Name}``.
XML quirks die here: one-item lists (force_list), ``<Reason />`` (= empty string), omitted
nulls (= absent key), namespaces. JSON quirks too: a UTF-8 BOM, doubled ``Entities`` keys,
``null`` everywhere, and EM 13's camelCase keys (one spelling for every key, below).

Safety: XML bodies with a DOCTYPE or ENTITY declaration are refused outright and xmltodict runs
with ``disable_entities=True``; body size is capped by the client before it gets here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

try:
    import xmltodict
    HAS_XMLTODICT = True
    XMLTODICT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module base
    xmltodict = None
    HAS_XMLTODICT = False
    XMLTODICT_IMPORT_ERROR = exc

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import RESOURCES, XML_LIST_TAGS

BOM = b"\xef\xbb\xbf"

# ---- one spelling for every key (em-api-facts.md 3.3) ------------------------------------------
# EM up to 12.x writes PascalCase keys; EM 13.0.1 writes its JSON keys in camelCase at every level
# (``uid``, ``creationTimeUTC``, ``pagingInfo.pagesCount``) [OBS]; XML backup files spell
# ``CreationTimeUtc`` [OBS]. Every key is rewritten to EM's own PascalCase spelling while the body
# is decoded, so nothing after ``decode`` ever sees another spelling. Names whose spelling is not
# "first letter upper-cased" (UID, ...UTC, NASJobs, the EnterpiseRoles typo) come from this table,
# keyed by lower case; any other key gets its first letter upper-cased.
STRUCTURE_NAMES = (
    "QueryResult", "Refs", "Ref", "Entities", "Resources", "Links", "Link", "Rel", "Href", "Name", "Type",
    "UID", "PagingInfo", "PageNum", "PageSize", "PagesCount", "EntityRef", "EntityReferences",
    "LogonSession", "LogonSessions", "SessionId", "UserName", "EnterpriseManager", "SupportedVersions",
    "SupportedVersion", "Error", "Message", "StatusCode", "Status", "FirstChanceExceptionMessage",
    "StackTrace", "Success", "CredentialsNeeded", "ConfirmationNeeded", "TaskId", "CreationTimeUTC",
    "EndTimeUTC", "VmUid", "VmDisplayName", "JobSessionUid", "JobUid", "HierarchyObjRef", "IsRetry",
    "VbrCertificateThumbprint", "WcfPort", "IpOrDnsName", "#text",
    # JSON QueryResult.Entities / Resources keys (em-api-facts.md 3.3, typos kept)
    "Jobs", "FailoverPlans", "Backups", "Replicas", "Repositories", "RestorePoints", "VmRestorePoints",
    "VAppRestorePoints", "VmReplicaPoints", "BackupJobSessions", "ReplicaJobSessions", "ReplicaTaskSessions",
    "RestoreSessions", "HierarchyRoots", "BackupTaskSessions", "BackupServers", "ManagedServers",
    "EnterpiseRoles", "EnterpiseAccounts", "WanAccelerators", "CloudGateways", "CloudTenants", "CloudReplicas",
    "VCloudOrganizationConfigs", "BackupFiles", "VSphereSelfServiceConfigs", "CloudPublicIps",
    "CloudHardwarePlans", "CloudVmReplicaPoints", "AgentRestorePoints", "AgentBackupJob", "CloudGatewayPools",
    "CloudFailoverPlans", "ExternalRepositories", "VlanConfigurations", "CloudFailoverSessions",
    "AgentProtectionGroups", "DiscoveredComputers", "FileServers", "NASJobs", "CdpReplicas", "CdpReplicaVms",
    "CdpPolicies", "CdpReplicaSessions", "CdpReplicaTaskSessions", "VAppReplicaPoints", "VmCdpReplicas",
    "VAppCdpReplicas", "VAppCdpReplicaVms", "SystemSessions",
    "Files", "Directories", "Tasks", "CredentialsList", "PasswordKeyInfoList",
)


def _known_names():
    names = list(STRUCTURE_NAMES)
    for resource in RESOURCES:
        names.extend((resource.list_tag, resource.item_tag))
        names.extend(field.em_name for field in resource.fields)
        for output in resource.outputs:
            names.extend(output.source or ())
            names.extend(output.fallback or ())
    return dict((name.lower(), name) for name in names)


_CANONICAL = _known_names()
# Keys already in EM's spelling: a JSON object whose keys are all here is kept as decoded (EM 12
# bodies cost one set look-up per key; an object_pairs_hook rebuilding every object doubled the
# decode time of a 1000-item page).
_CANONICAL_SPELLINGS = set(_CANONICAL.values())


def canonical_key(key):
    """EM's spelling of a key in any case (``uid``, ``creationTimeUtc`` -> ``UID``, ``CreationTimeUTC``)."""
    name = _CANONICAL.get(key)
    if name is None:
        name = _CANONICAL.get(key.lower())
        if name is None:
            name = key[:1].upper() + key[1:]
        _CANONICAL[key] = name  # unknown spellings are few (one per EM version): remember them
        if name == key:
            _CANONICAL_SPELLINGS.add(key)
    return name


def _canonical_object(obj, _known=_CANONICAL.get, _canonical=_CANONICAL_SPELLINGS.issuperset):
    """``json.loads`` object hook: the object with every key in EM's spelling (issuperset: the keys
    checked in C, half the cost of a Python loop over them; it runs for every object of every page).
    EM 13 writes every key in camelCase, so every object is rebuilt: a comprehension with the known
    spellings looked up inline (canonical_key only for a key not seen yet) took a 1,000-item page's hook
    from ~15 to ~10 ms (issue 18)."""
    if _canonical(obj):
        return obj
    result = {_known(key) or canonical_key(key): value for key, value in obj.items()}
    if len(result) != len(obj):
        result = {}
        for key, value in obj.items():
            name = canonical_key(key)
            result[name] = _one_value(name, result[name], value) if name in result else value
    return result


def _one_value(name, kept, value):
    """The value of a key EM's answer holds twice (``Result`` and ``result``; an XML attribute and an
    element of one name): never the last one silently [INF: not seen from EM; an answer stitched by a
    proxy, a mixed EM 12/13 serializer]. A blank beside a value keeps the value (EM 12 lists the
    unrequested collections as null), equal values are one; two different values cannot both be EM's,
    so the answer is refused rather than read as whichever came last (a collection could become an
    empty page, a Failed a Success)."""
    if value == kept or is_blank(value):
        return kept
    if is_blank(kept):
        return value
    raise EMResponseError("the response holds the key %s twice, with different values; refused" % name)


class Document:
    """A decoded body: ``root`` is the XML root tag (None for JSON), ``data`` the neutral tree."""

    def __init__(self, media, root, data):
        self.media = media
        self.root = root
        self.data = data


def sniff_media(body):
    """XML or JSON by the first significant byte (EM may send errors in either form)."""
    text = body[len(BOM):] if body.startswith(BOM) else body
    stripped = text.lstrip()
    if stripped.startswith(b"<"):
        return "xml"
    if stripped[:1] in (b"{", b"["):
        return "json"
    return None


def decode(body):
    """Parse a body into a ``Document``; raise ``EMResponseError`` if it is neither XML nor JSON."""
    media = sniff_media(body or b"")
    if media == "json":
        return Document("json", None, _decode_json(body))
    if media == "xml":
        root, data = _decode_xml(body)
        return Document("xml", root, data)
    raise EMResponseError("the response body is neither XML nor JSON (%d bytes)" % len(body or b""))


# A JSON escape of a UTF-16 surrogate: a lone one ("\ud800" without its pair, half of a pair a .NET
# serializer cut) decodes to a str no UTF-8 writer takes - a report, the module's answer - so one hostile
# VM name stopped the night's reports (found by attack). Looked for in the body (C speed; a pair, or an
# escaped backslash before "u", only costs the walk below).
_SURROGATE_ESCAPE = re.compile(br"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(u"[\ud800-\udfff]")


def _decode_json(body):
    try:
        data = json.loads(body.decode("utf-8-sig"), object_hook=_canonical_object)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EMResponseError("the JSON response cannot be parsed: %s" % exc)
    return _without_lone_surrogates(data) if _SURROGATE_ESCAPE.search(body) else data


def _without_lone_surrogates(value):
    """``value`` with each lone surrogate (json.loads joins a pair into one character, so any left is
    lone) read as U+FFFD, as a UTF-8 decoder reads a bad byte; keys too."""
    if isinstance(value, dict):
        return dict((_without_lone_surrogates(key), _without_lone_surrogates(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, str):
        return _SURROGATE.sub(u"\ufffd", value)
    return value


def _force_list(path, key, value):
    """Listed tags become lists everywhere except at the root (a single entity document)."""
    return bool(path) and canonical_key(_local_name(key)) in XML_LIST_TAGS


def _decode_xml(body):
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise EMResponseError("the XML response carries a DOCTYPE/ENTITY declaration; refused for safety")
    if not HAS_XMLTODICT:
        raise EMResponseError("xmltodict is required to read XML responses")
    try:
        # strip_whitespace=False: Reason texts can end in a space (EM's own samples do), and the
        # JSON form keeps it; the indentation between elements is dropped in _neutral_xml.
        parsed = xmltodict.parse(body, attr_prefix="", cdata_key="#text", force_list=_force_list,
                                 disable_entities=True, strip_whitespace=False)
    except Exception as exc:  # expat raises ExpatError, xmltodict ValueError; both mean "bad body"
        raise EMResponseError("the XML response cannot be parsed: %s" % exc)
    if not isinstance(parsed, dict) or len(parsed) != 1:
        raise EMResponseError("the XML response has no single root element")
    root, data = next(iter(parsed.items()))
    return canonical_key(_local_name(root)), _neutral_xml(data)


def _local_name(tag):
    return tag.rsplit(":", 1)[-1]


def is_blank(value):
    """Nothing in it: None, "", whitespace between tags, an element without attributes or children."""
    return value is None or value == {} or (isinstance(value, str) and not value.strip())


def _neutral_xml(node):
    """xmltodict tree -> EM JSON-like tree (drop xmlns, unwrap Links/Link, empty element = "").

    Keys are canonicalised here (element and attribute names alike), so ``Links``/``Link`` in any
    spelling unwrap the same way.
    """
    if node is None:
        return ""
    if isinstance(node, list):
        return [_neutral_xml(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "xmlns" or key.startswith("xmlns:") or key.startswith("xsi:"):
            continue
        if key == "#text" and isinstance(value, str) and not value.strip():
            continue  # indentation between child elements
        name = canonical_key(_local_name(key))
        if name == "Links" and isinstance(value, dict):
            value = _neutral_xml(value).get("Link") or []
        elif name == "Links" and is_blank(value):
            value = []
        value = _neutral_xml(value)
        # an attribute and an element (or two spellings) of one name: one value, never the last silently
        result[name] = _one_value(name, result[name], value) if name in result else value
    return result
