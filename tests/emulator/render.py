"""XML and JSON renderers for EM representations.

Shapes follow tests/fixtures/em_samples (docs/em-api-facts.md §3):
* XML: ``<?xml …?>`` declaration, default namespace ``http://www.veeam.com/ent/v1.0`` plus the
  ``xsd``/``xsi`` declarations on the root, attributes in real-output order (Href, Type, Name,
  UID; links Href, Name, Type, Rel), ``&amp;`` in hrefs, ``<Reason />`` for empty strings,
  null elements omitted. Written with a string builder (fast enough for 1,000-item pages).
* JSON: same names, attributes as plain keys, nulls present, ``Links`` arrays of
  ``{"Rel","Href","Name","Type"}``, key order = own fields, Name, UID, Links, Href, Type.

Every representation is first described as an ``Obj`` (tag, attrs, links, children, json
order hints) and then serialised by ``to_xml``/``to_json`` so the two media types never drift.
"""
import json

NS = "http://www.veeam.com/ent/v1.0"
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'
ROOT_NS = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

_ATTR_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                             "\n": "&#xA;", "\r": "&#xD;", "\t": "&#x9;"})
_TEXT_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def ea(s):
    return str(s).translate(_ATTR_TABLE)


def et(s):
    return str(s).translate(_TEXT_TABLE)


class Raw:
    """A nested child with hand-made XML and its JSON equivalent (Task Result, Job JobInfo)."""
    __slots__ = ("xml", "json")

    def __init__(self, xml, json_value):
        self.xml = xml
        self.json = json_value


class Obj:
    """One representation: tag, attributes, links, ordered children, JSON ordering hints."""
    __slots__ = ("tag", "attrs", "links", "children", "json_first", "json_extra")

    def __init__(self, tag, attrs, links, children=(), json_first=(), json_extra=()):
        self.tag = tag
        self.attrs = attrs            # [(name, value)] -- Href, Type, Name, UID, ...
        self.links = links            # [(rel, type, href, name)]
        self.children = children      # [(name, value)]
        self.json_first = json_first  # child names that come first in JSON (IsRetry)
        self.json_extra = json_extra  # attribute names emitted as JSON keys before Name (VmDisplayName)


def link_xml(links):
    if links is None:
        return ""
    out = ["<Links>"]
    for rel, typ, href, name in links:
        s = '<Link Href="' + ea(href) + '"'
        if name is not None:
            s += ' Name="' + ea(name) + '"'
        if typ is not None:
            s += ' Type="' + typ + '"'
        out.append(s + ' Rel="' + rel + '" />')
    out.append("</Links>")
    return "".join(out)


def link_json(links):
    return [{"Rel": rel, "Href": href, "Name": name, "Type": typ} for rel, typ, href, name in links]


def _child_xml(name, v):
    if v is None:
        return ""
    if isinstance(v, Raw):
        return v.xml
    if v is True:
        return "<%s>true</%s>" % (name, name)
    if v is False:
        return "<%s>false</%s>" % (name, name)
    if v == "":
        return "<%s />" % name
    return "<%s>%s</%s>" % (name, et(v), name)


def to_xml(o, root=False):
    attrs = "".join(' %s="%s"' % (k, ea(v)) for k, v in o.attrs if v is not None)
    if root:
        head = "<%s %s%s xmlns=\"%s\">" % (o.tag, ROOT_NS, attrs, NS)
    else:
        head = "<%s%s>" % (o.tag, attrs)
    body = link_xml(o.links) + "".join(_child_xml(n, v) for n, v in o.children)
    return head + body + "</%s>" % o.tag


def to_json(o):
    d = {}
    children = dict(o.children)
    for n in o.json_first:
        v = children[n]
        d[n] = v.json if isinstance(v, Raw) else v
    for n, v in o.children:
        if n not in d:
            d[n] = v.json if isinstance(v, Raw) else v
    attrs = dict(o.attrs)
    for n in o.json_extra:
        d[n] = attrs.get(n)
    if "Name" in attrs:
        d["Name"] = attrs["Name"]
    if "UID" in attrs:
        d["UID"] = attrs["UID"]
    if o.links is not None:
        d["Links"] = link_json(o.links)
    d["Href"] = attrs.get("Href")
    d["Type"] = attrs.get("Type")
    return d


def xml_doc(inner_root_xml):
    return XML_DECL + inner_root_xml


def json_bytes(doc, camel=False):
    if camel:
        doc = camel_keys(doc)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def camel_name(name):
    """EM 13.0.1's JSON key spelling: the leading capitals lower-cased (``UID`` -> ``uid``,
    ``VmDisplayName`` -> ``vmDisplayName``, ``NASJobs`` -> ``nasJobs``), the rest unchanged
    (``CreationTimeUTC`` -> ``creationTimeUTC``).

    [OBS] for the keys the capture shows (docs/em-api-facts.md 3.3); [INF] for the others: the rule
    of the .NET camel-case serialiser EM evidently switched to (a capital run keeps its last
    capital when a lower-case letter follows it).
    """
    chars = list(name)
    for i, char in enumerate(chars):
        if i == 1 and not char.isupper():
            break
        if i > 0 and i + 1 < len(chars) and not chars[i + 1].isupper():
            break
        chars[i] = char.lower()
    return "".join(chars)


def camel_keys(node):
    """Every key of a JSON document camel-cased, at every level; values unchanged."""
    if isinstance(node, dict):
        return {camel_name(k): camel_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [camel_keys(v) for v in node]
    return node


def wrap_xml(tag, inner, attrs=""):
    """A root element with namespaces around already-rendered children."""
    return XML_DECL + "<%s %s%s xmlns=\"%s\">%s</%s>" % (tag, ROOT_NS, attrs, NS, inner, tag)


# JSON QueryResult.Entities keys observed on EM 12 (XSD order, typos kept)
ENTITIES_KEYS = [
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
]
# JSON QueryResult.Resources keys [INF: XSD bindings list these containers]
RESOURCES_KEYS = ["Files", "Directories", "Tasks", "CredentialsList", "PasswordKeyInfoList"]


def paging_xml(p):
    return ('<PagingInfo PageNum="%d" PageSize="%d" PagesCount="%d">' % (p["num"], p["size"], p["count"])
            + link_xml([(rel, None, href, None) for rel, href in p["links"]]) + "</PagingInfo>")


def paging_json(p):
    return {"Links": [{"Rel": rel, "Href": href, "Name": None, "Type": None} for rel, href in p["links"]],
            "PageNum": p["num"], "PageSize": p["size"], "PagesCount": p["count"]}


def query_result_xml(kind, objs, plural, paging):
    """kind: 'refs' | 'entities' | 'resources'."""
    items = "".join(to_xml(o) for o in objs)
    if kind == "refs":
        inner = "<Refs>%s</Refs>" % items if objs else "<Refs />"
    elif kind == "entities":
        inner = "<Entities>%s</Entities>" % ("<%s>%s</%s>" % (plural, items, plural) if objs else "<%s />" % plural)
    else:
        inner = "<Resources>%s</Resources>" % ("<%s>%s</%s>" % (plural, items, plural) if objs else "<%s />" % plural)
    return wrap_xml("QueryResult", inner + paging_xml(paging))


def query_result_json(kind, objs, plural, paging):
    items = [to_json(o) for o in objs]
    doc = {"Refs": None, "Entities": None, "Resources": None, "Links": None, "PagingInfo": paging_json(paging)}
    if kind == "refs":
        doc["Refs"] = {"Refs": items}
    elif kind == "entities":
        doc["Entities"] = {k: ({k: items} if k == plural else None) for k in ENTITIES_KEYS}
    else:
        doc["Resources"] = {k: ({k: items} if k == plural else None) for k in RESOURCES_KEYS}
    return doc


def error_xml(status, message):
    return XML_DECL + '<Error %s Message="%s" StatusCode="%d" xmlns="%s" />' % (ROOT_NS, ea(message), status, NS)


def error_json(status, message):
    return {"FirstChanceExceptionMessage": None, "Message": message, "StackTrace": None, "Status": None,
            "StatusCode": status}
