"""A small wire-level EM (written by an attack helper, session 15): raw EM entities per query type, with EM's
CreationTime and UID filters applied, sorted, paged, and served as EM 12 JSON (PascalCase), EM 13 JSON (camelCase,
FACTS 3.3) or XML, through em_fake.FakeEM - so that a test states a night as the entities EM holds and reads the
compliance module's answer, not a parsed dict the reader would never make."""
import json
import re
import uuid

from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.module_utils.em_fake import FakeEM, Reply, error_body, paged_handler
from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module

TAGS = {"BackupTaskSession": ("BackupTaskSessions", "BackupTaskSession"),
        "ReplicaTaskSession": ("ReplicaTaskSessions", "ReplicaTaskSession"),
        "BackupJobSession": ("BackupJobSessions", "BackupJobSession"),
        "ReplicaJobSession": ("ReplicaJobSessions", "ReplicaJobSession"),
        "BackupServer": ("BackupServers", "BackupServer"),
        "Job": ("Jobs", "Job")}
SERVER_GUID = "7445e6ce-86f5-4171-b909-dac209c66563"
SERVER = "vbr01.example.com"
_n = [0]


def guid():
    _n[0] += 1
    return str(uuid.UUID(int=_n[0] * 7919 + 12345))


def job_session(job, created, end, state="Stopped", result="Success", job_type="Backup", kind="Backup", uid=None,
                server=SERVER):
    g = uid or guid()
    return {"JobUid": "urn:veeam:Job:%s" % uuid.uuid5(uuid.NAMESPACE_DNS, job), "JobName": job, "JobType": job_type,
            "CreationTimeUTC": created, "EndTimeUTC": end, "State": state, "Result": result, "Progress": 100,
            "FailureMessage": None, "IsRetry": False,
            "Name": "%s@%s" % (job, created[:19].replace("T", " ")), "UID": "urn:veeam:%sJobSession:%s" % (kind, g),
            "Links": [{"Rel": "Up", "Href": "https://em:9398/api/backupServers/%s" % SERVER_GUID, "Name": server,
                       "Type": "BackupServerReference"}],
            "Href": "https://em:9398/api/%sSessions/%s?format=Entity" % (kind.lower(), g),
            "Type": "%sJobSession" % kind}


def task_session(vm, js, created, end, state="Completed", result="Success", kind="Backup", vm_uid="DEFAULT",
                 server=SERVER, reason=""):
    g = guid()
    jguid = js["UID"].rsplit(":", 1)[1]
    item = {"JobSessionUid": js["UID"], "CreationTimeUTC": created, "EndTimeUTC": end, "State": state,
            "Result": result, "Reason": reason, "TotalSize": 1024}
    if kind == "Backup" and vm_uid:
        item["VmUid"] = ("urn:VMware:Vm:de28dc43-b8ee-4e17-8e63-3d38b6604033.vm-%d" % (abs(hash(vm)) % 10000)
                         if vm_uid == "DEFAULT" else vm_uid)
    item.update({"VmDisplayName": vm, "Name": "%s@%s" % (vm, created[:19].replace("T", " ")),
                 "UID": "urn:veeam:%sTaskSession:%s" % (kind, g),
                 "Links": [{"Rel": "Up", "Href": "https://em:9398/api/backupServers/%s" % SERVER_GUID, "Name": server,
                            "Type": "BackupServerReference"},
                           {"Rel": "Up", "Href": "https://em:9398/api/%sSessions/%s" % (kind.lower(), jguid),
                            "Name": js["Name"], "Type": "%sJobSessionReference" % kind}],
                 "Href": "https://em:9398/api/%sTaskSessions/%s?format=Entity" % (kind.lower(), g),
                 "Type": "%sTaskSession" % kind})
    return item


def server_entity(name=SERVER, g=SERVER_GUID):
    return {"Name": name, "UID": "urn:veeam:BackupServer:%s" % g,
            "Href": "https://em:9398/api/backupServers/%s" % g, "Type": "BackupServer", "Port": 9392,
            "Version": "12.3.1.1139", "Links": []}


JOB_ENTITY = {"Name": "Backup Job 1", "UID": "urn:veeam:Job:0b5b5d2e-1b1e-4a36-9d0e-5f0b7c1d2a01", "Links": []}

_BOUND = re.compile(r'CreationTime(>=|<=|<|>)"([^"]+)"')
_UID = re.compile(r'UID=="([^"]+)"')


def _camel(node):
    if isinstance(node, dict):
        return dict(((k[:1].lower() + k[1:]) if k != "UID" else "uid", _camel(v)) for k, v in node.items())
    if isinstance(node, list):
        return [_camel(v) for v in node]
    return node


def _created_key(item):
    return item.get("CreationTimeUTC") or ""


def select(items, flt):
    out = list(items)
    if flt:
        for op, value in _BOUND.findall(flt):
            v = value
            out = [i for i in out if {">=": _created_key(i) >= v, "<": _created_key(i) < v,
                                      ">": _created_key(i) > v, "<=": _created_key(i) <= v}[op]]
        uids = [u.lower() for u in _UID.findall(flt)]
        if uids:
            out = [i for i in out if i.get("UID", "").lower() in uids]
    return out


def handler_for(served, media="json", camel=False, deny=(), hooks=None):
    """served: {query type: [raw entities]}; deny: query types answered 403; hooks: {type: fn(call, items)->Reply|None}."""
    def handler(call):
        if call.path != "/api/query":
            return None
        qtype = call.query["type"]
        if qtype in deny:
            return Reply(403, error_body(media, 403, "Access denied."))
        items = select(served.get(qtype, []), call.query.get("filter"))
        sort = call.query.get("sortAsc") or call.query.get("sortDesc")
        if sort and sort.lower() == "creationtime":
            items.sort(key=_created_key, reverse="sortDesc" in call.query)
        if hooks and qtype in hooks:
            reply = hooks[qtype](call, items)
            if reply is not None:
                return reply
        reply = paged_handler(items, media, *TAGS[qtype])(call)   # em_fake's paging, as EM pages
        if camel and media == "json":
            reply.body = json.dumps(_camel(json.loads(reply.body))).encode()
        return reply
    return handler


def run(monkeypatch, capsys, served, now, media="json", camel=False, deny=(), hooks=None, **args):
    fake = FakeEM(media, handler_for(served, media, camel, deny, hooks))
    install_fake(monkeypatch, fake)
    params = dict(CONNECTION, now=now, media_type=media)
    params.update(args)
    return run_module(module, params, capsys), fake


def verdicts(result):
    return {row["vm_display_name"]: (row["status"], row["reasons"]) for row in result["compliance"]["vms"]}
