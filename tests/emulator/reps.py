"""Representations (reference / entity) of every resource the emulator serves, as ``render.Obj``.

``base`` is the absolute ``https://host:port/api`` prefix (EM writes absolute Hrefs).
Link sets and element orders are taken from the reference pages and the samples; see
docs/em-api-facts.md §5.
"""
import time

from .render import Obj, Raw, ea, et
from .timeutil import US, fmt_dt


# ------------------------------------------------------------------ helpers
def _server_up(base, s):
    return ("Up", "BackupServerReference", "%s/backupServers/%s" % (base, s.guid), s.name)


def _ref(tag, href, kind, obj, links):
    """A reference (``Ref``/``EntityRef``): Href, ``<kind>Reference``, Name, UID and the links."""
    return Obj(tag, [("Href", href), ("Type", kind + "Reference"), ("Name", obj.name), ("UID", obj.uid)], links)


def _entity(kind, href, obj, links, children, extra=(), **json_hints):
    """An entity (``?format=Entity``): Href, Type, Name, UID, any ``extra`` attributes, links, children."""
    attrs = [("Href", href + "?format=Entity"), ("Type", kind), ("Name", obj.name), ("UID", obj.uid)] + list(extra)
    return Obj(kind, attrs, links, children, **json_hints)


def _paths(kind):
    if kind in ("ReplicaTaskSession", "ReplicaJobSession"):
        return "replicaTaskSessions", "replicaSessions", "ReplicaJobSession", "replicaTaskSessions"
    return "backupTaskSessions", "backupSessions", "BackupJobSession", "taskSessions"


def with_end_placeholder(obj, placeholder):
    """A session entity whose absent ``EndTimeUTC`` is written as ``placeholder`` (em-api-facts.md 6).

    Running sessions have no end; some EM installations write ``1900-01-01T00:00:00`` (or .NET's
    ``0001-01-01T00:00:00``) instead [OBS]. Other objects, and ended sessions, are unchanged.
    """
    if not placeholder or not any(name == "EndTimeUTC" and value is None for name, value in obj.children):
        return obj
    children = [(name, placeholder if name == "EndTimeUTC" and value is None else value)
                for name, value in obj.children]
    return Obj(obj.tag, obj.attrs, obj.links, children, obj.json_first, obj.json_extra)


# ------------------------------------------------------------------ task sessions
def task_session_links(base, t, entity):
    kind = t.kind
    tpath, jpath, jkind = _paths(kind)[:3]
    js = t.js
    links = [
        _server_up(base, js.job.server),
        ("Up", jkind + "Reference", "%s/%s/%s" % (base, jpath, js.guid), js.name),
    ]
    if entity:
        links.append(("Alternate", kind + "Reference", "%s/%s/%s" % (base, tpath, t.guid), t.name))
        if t.point_guid:
            if kind == "BackupTaskSession":
                links.append(("Related", "VmRestorePoint", "%s/vmRestorePoints/%s?format=Entity" % (base, t.point_guid),
                              t.point_name))
            else:
                links.append(("Related", "VmReplicaPoint", "%s/vmReplicaPoints/%s?format=Entity" % (base, t.point_guid),
                              t.point_name))
    else:
        links.append(("Alternate", kind, "%s/%s/%s?format=Entity" % (base, tpath, t.guid), t.name))
    return links


def task_session_entity(base, t):
    kind = t.kind
    tpath = _paths(kind)[0]
    children = [
        ("JobSessionUid", t.js.uid),
        ("CreationTimeUTC", t.ct_s),
        ("EndTimeUTC", t.et_s),
        ("State", t.state),
        ("Result", t.result),
        ("Reason", t.reason or ""),
        ("TotalSize", t.total_size),
    ]
    if kind == "BackupTaskSession":
        children.append(("VmUid", t.vm.uid or None))
    return _entity(kind, "%s/%s/%s" % (base, tpath, t.guid), t, task_session_links(base, t, True), children,
                   extra=[("VmDisplayName", t.vm_name)], json_extra=("VmDisplayName",))


def task_session_ref(base, t, tag="Ref"):
    kind = t.kind
    tpath = _paths(kind)[0]
    return _ref(tag, "%s/%s/%s" % (base, tpath, t.guid), kind, t, task_session_links(base, t, False))


# ------------------------------------------------------------------ job sessions
def job_session_links(base, s, entity):
    kind = s.kind
    jpath, down = _paths(kind)[1], _paths(kind)[3]
    tkind = "ReplicaTaskSession" if kind == "ReplicaJobSession" else "BackupTaskSession"
    links = [
        _server_up(base, s.job.server),
        ("Up", "JobReference", "%s/jobs/%s" % (base, s.job.guid), s.job.name),
    ]
    if entity:
        links.append(("Alternate", kind + "Reference", "%s/%s/%s" % (base, jpath, s.guid), s.name))
    else:
        links.append(("Alternate", kind, "%s/%s/%s?format=Entity" % (base, jpath, s.guid), s.name))
    links.append(("Down", tkind + "ReferenceList", "%s/%s/%s/%s" % (base, jpath, s.guid, down), None))
    if kind == "BackupJobSession" and entity:
        links.append(("Stop", None, "%s/%s/%s?action=stop" % (base, jpath, s.guid), None))
    return links


def job_session_entity(base, s):
    kind = s.kind
    jpath = _paths(kind)[1]
    children = [
        ("JobUid", s.job.uid), ("JobName", s.job.name), ("JobType", s.job.job_type),
        ("CreationTimeUTC", s.ct_s), ("EndTimeUTC", s.et_s), ("State", s.state), ("Result", s.result),
        ("Progress", s.progress), ("FailureMessage", s.failure_message), ("IsRetry", bool(s.is_retry)),
    ]
    return _entity(kind, "%s/%s/%s" % (base, jpath, s.guid), s, job_session_links(base, s, True), children,
                   json_first=("IsRetry",))


def job_session_ref(base, s, tag="Ref"):
    kind = s.kind
    jpath = _paths(kind)[1]
    return _ref(tag, "%s/%s/%s" % (base, jpath, s.guid), kind, s, job_session_links(base, s, False))


# ------------------------------------------------------------------ jobs
def job_links(base, j, entity):
    h = "%s/jobs/%s" % (base, j.guid)
    down = ("Down", "ReplicaJobSessionReferenceList" if j.job_type == "Replica" else "BackupJobSessionReferenceList",
            h + "/backupSessions", None)
    if not entity:
        return [_server_up(base, j.server), ("Alternate", "Job", h + "?format=Entity", j.name), down]
    return [
        _server_up(base, j.server),
        ("Alternate", "JobReference", h, j.name),
        ("Edit", "JobReference", h, j.name),
        ("Clone", None, h + "?action=clone", None),
        ("ToggleScheduleEnabled", None, h + "?action=toggleScheduleEnabled", None),
        ("Down", "ObjectInJobList", h + "/includes", None),
        down,
        ("Create", "ObjectInJob", h + "/includes", None),
        ("Start", None, h + "?action=start", None),
        ("Stop", None, h + "?action=stop", None),
        ("Retry", None, h + "?action=retry", None),
    ]


def _job_info(base, j):
    info = "ReplicaJobInfo" if j.job_type == "Replica" else "BackupJobInfo"
    xml_items, json_items = [], []
    for i, vm in enumerate(j.vms):
        oid = "%08x-0000-4000-8000-%012x" % (int(j.guid[:8], 16) ^ i, i)
        href = "%s/jobs/%s/includes/%s" % (base, j.guid, oid)
        xml_items.append('<ObjectInJob Type="ObjectInJob" Href="%s"><ObjectInJobId>%s</ObjectInJobId>'
                         '<HierarchyObjRef>%s</HierarchyObjRef><Name>%s</Name><DisplayName>%s</DisplayName>'
                         '</ObjectInJob>' % (ea(href), oid, et(vm.uid), et(vm.name), et(vm.name)))
        json_items.append({"ObjectInJobId": oid, "HierarchyObjRef": vm.uid, "Name": vm.name,
                           "DisplayName": vm.name, "Href": href, "Type": "ObjectInJob"})
    xml = "<JobInfo><%s><Includes>%s</Includes></%s></JobInfo>" % (info, "".join(xml_items), info)
    js = {"BackupJobInfo": None, "ReplicaJobInfo": None}
    js[info] = {"Includes": {"ObjectInJobs": json_items}}
    return Raw(xml, js)


def job_entity(base, j):
    children = [
        ("JobType", j.job_type), ("Platform", j.platform), ("Description", j.description or ""),
        ("ScheduleConfigured", bool(j.schedule_configured)), ("ScheduleEnabled", bool(j.schedule_enabled)),
        ("NextRun", fmt_dt(j.next_run)), ("JobInfo", _job_info(base, j)),
    ]
    return _entity("Job", "%s/jobs/%s" % (base, j.guid), j, job_links(base, j, True), children)


def job_ref(base, j, tag="Ref"):
    return _ref(tag, "%s/jobs/%s" % (base, j.guid), "Job", j, job_links(base, j, False))


# ------------------------------------------------------------------ backup servers
def server_entity(base, s):
    h = "%s/backupServers/%s" % (base, s.guid)
    links = [
        ("Alternate", "BackupServerReference", h, s.name),
        ("Edit", "BackupServerReference", h, None),
        ("Delete", "BackupServerReference", h, None),
        ("Down", "JobReferenceList", h + "/jobs", None),
        ("Down", "ManagedServerReferenceList", h + "/managedServers", None),
        ("Down", "RepositoryReferenceList", h + "/repositories", None),
        ("Down", "CredentialsList", h + "/credentials", None),
        ("Create", None, h + "/credentials?action=create", None),
        ("Down", "PasswordKeyList", h + "/passwords", None),
        ("Create", None, h + "/passwords?action=create", None),
        ("VeeamZip", None, h + "?action=veeamzip", None),
        ("QuickBackup", None, h + "?action=quickbackup", None),
        ("Start", None, h + "?action=collect", None),
    ]
    children = [("Description", s.description or ""), ("Port", s.port), ("Version", s.version),
                ("WcfPort", s.wcf_port)]
    return _entity("BackupServer", h, s, links, children)


def server_ref(base, s, tag="Ref"):
    h = "%s/backupServers/%s" % (base, s.guid)
    links = [
        ("Down", "JobReferenceList", h + "/jobs", None),
        ("Down", "RepositoryReferenceList", h + "/repositories", None),
        ("Down", "CredentialsList", h + "/credentials", None),
        ("Down", "PasswordKeyList", h + "/passwords", None),
        ("Alternate", "BackupServer", h + "?format=Entity", s.name),
        ("Down", "ManagedServerReferenceList", h + "/managedServers", None),
    ]
    return _ref(tag, h, "BackupServer", s, links)


# ------------------------------------------------------------------ VM restore points (derived)
class RestorePointView:
    """A VmRestorePoint derived from a backup task session that produced one."""
    __slots__ = ("ts", "guid", "uid", "ct", "point_type", "algorithm")

    def __init__(self, ts):
        self.ts = ts
        self.guid = ts.point_guid
        self.uid = "urn:veeam:VmRestorePoint:" + ts.point_guid
        self.ct = ts.et if ts.et is not None else ts.ct
        full = time.gmtime(self.ct // US).tm_wday == 5  # Saturday fulls
        self.point_type = "Full" if full else "Increment"
        self.algorithm = "SyntheticFull" if full else "Incremental"

    name = property(lambda self: self.ts.point_name)
    server = property(lambda self: self.ts.js.job.server)


def restore_point_entity(base, rp):
    h = "%s/vmRestorePoints/%s" % (base, rp.guid)
    ts = rp.ts
    links = [
        _server_up(base, ts.js.job.server),
        ("Alternate", "VmRestorePointReference", h, rp.name),
        ("Up", "RestorePointReference", "%s/restorePoints/%s" % (base, ts.js.guid), ts.js.name),
        ("Restore", None, h + "?action=restore", None),
    ]
    children = [("CreationTimeUTC", fmt_dt(rp.ct)), ("VmName", ts.vm_name), ("Algorithm", rp.algorithm),
                ("PointType", rp.point_type), ("HierarchyObjRef", ts.vm.uid or None)]
    return _entity("VmRestorePoint", h, rp, links, children)


def restore_point_ref(base, rp, tag="Ref"):
    h = "%s/vmRestorePoints/%s" % (base, rp.guid)
    links = [_server_up(base, rp.ts.js.job.server),
             ("Alternate", "VmRestorePoint", h + "?format=Entity", rp.name)]
    return _ref(tag, h, "VmRestorePoint", rp, links)


# ------------------------------------------------------------------ tasks
def task_obj(base, task):
    h = "%s/tasks/%s" % (base, task.task_id)
    links = [("Delete", "Task", h, None)]
    for typ, path, name in task.related:
        links.append(("Related", typ, base + path, name))
    children = [("TaskId", task.task_id), ("State", task.state), ("Operation", task.operation)]
    if task.state != "Running" and task.success is not None:
        if task.message is None:
            xml = '<Result Success="%s" />' % ("true" if task.success else "false")
        else:
            xml = '<Result Success="%s"><Message>%s</Message></Result>' % (
                "true" if task.success else "false", et(task.message))
        children.append(("Result", Raw(xml, {"Message": task.message, "Success": bool(task.success)})))
    else:
        children.append(("Result", None))
    return Obj("Task", [("Type", "Task"), ("Href", h)], links, children)


# ------------------------------------------------------------------ logon session / root
LOGON_DOWN = [
    ("BackupServerReferenceList", "backupServers"), ("ManagedServerReferenceList", "managedServers"),
    ("JobReferenceList", "jobs"), ("FailoverPlanReferenceList", "failoverPlans"),
    ("HierarchyRootReferenceList", "hierarchyRoots"), ("RepositoryReferenceList", "repositories"),
    ("BackupReferenceList", "backups"), ("RestorePointReferenceList", "restorePoints"),
    ("VmRestorePointReferenceList", "vmRestorePoints"), ("VAppRestorePointReferenceList", "vAppRestorePoints"),
    ("ReplicaReferenceList", "replicas"), ("VmReplicaPointReferenceList", "vmReplicaPoints"),
    ("CatalogVmReferenceList", "catalog/vms"), ("BackupJobSessionReferenceList", "backupSessions"),
    ("RestoreSessionReferenceList", "restoreSessions"), ("ReplicaJobSessionReferenceList", "replicaSessions"),
    ("BackupTaskSessionReferenceList", "backupTaskSessions"),
    ("ReplicaTaskSessionReferenceList", "replicaTaskSessions"), ("EnterpriseSecuritySettings", "security"),
    ("WanAcceleratorReferenceList", "wanAccelerators"), ("BackupFileReferenceList", "backupFiles"),
    ("ExternalRepositoryReferenceList", "externalRepositories"), ("TaskList", "tasks"),
    ("QueryService", "querySvc"), ("LookupService", "lookupSvc"),
]
LOGON_DOWN_ENTITY = [
    ("BackupServerList", "backupServers"), ("ManagedServerList", "managedServers"), ("JobList", "jobs"),
    ("FailoverPlanList", "failoverPlans"), ("HierarchyRootList", "hierarchyRoots"),
    ("RepositoryList", "repositories"), ("BackupList", "backups"), ("RestorePointList", "restorePoints"),
    ("VmRestorePointList", "vmRestorePoints"), ("VAppRestorePointList", "vAppRestorePoints"),
    ("ReplicaList", "replicas"), ("VmReplicaPointList", "vmReplicaPoints"), ("CatalogVmList", "catalog/vms"),
    ("BackupJobSessionList", "backupSessions"), ("RestoreSessionList", "restoreSessions"),
    ("ReplicaJobSessionList", "replicaSessions"), ("BackupTaskSessionList", "backupTaskSessions"),
    ("ReplicaTaskSessionList", "replicaTaskSessions"), ("WanAcceleratorList", "wanAccelerators"),
    ("BackupFileList", "backupFiles"), ("ExternalRepositoryList", "externalRepositories"),
]


def logon_session(base, sess):
    h = "%s/logonSessions/%s" % (base, sess.session_id)
    links = [("Up", "EnterpriseManager", base + "/", None)]
    links += [("Down", t, "%s/%s" % (base, p), None) for t, p in LOGON_DOWN]
    links.append(("Down", "Report", base + "/reports/summary", "Summary"))
    links.append(("Create", None, base + "/backupServers?action=create", None))
    links += [("Down", t, "%s/%s?format=Entity" % (base, p), None) for t, p in LOGON_DOWN_ENTITY]
    links += [("Down", "VCloudService", base + "/vCloud", None), ("Down", "AgentsService", base + "/agents", None),
              ("Down", "VSphereSelfService", base + "/selfService/vSphere", None),
              ("Down", "NasService", base + "/nas", None)]
    links.append(("Delete", None, h, None))
    return Obj("LogonSession", [("Href", h), ("Type", "LogonSession")], links,
               [("UserName", sess.user_name), ("SessionId", sess.session_id)])


QUERY_SVC_TYPES = [("BackupServer", "BackupServerList"), ("Job", "JobList"),
                   ("BackupJobSession", "BackupJobSessionList"), ("ReplicaJobSession", "ReplicaJobSessionList"),
                   ("BackupTaskSession", "BackupTaskSessionList"), ("ReplicaTaskSession", "ReplicaTaskSessionList"),
                   ("VmRestorePoint", "VmRestorePointList")]


def query_svc(base):
    """``GET /querySvc``: preset query links (docs: format=Entities, sortAsc=name, pageSize=15;
    the Task link sorts by ``TaskUid``, a documented oddity the emulator accepts as an alias)."""
    links = [("Up", "LogonSession", base + "/logonSessions", None)]
    for qtype, ltype in QUERY_SVC_TYPES:
        links.append(("Down", ltype, "%s/query?type=%s&format=Entities&sortAsc=name&pageSize=15&page=1"
                      % (base, qtype), None))
    links.append(("Down", "TaskList", base + "/query?type=Task&sortAsc=TaskUid&pageSize=15&page=1", None))
    return Obj("QuerySvc", [("Type", "QueryService"), ("Href", base + "/querySvc")], links)


def enterprise_manager(base):
    links = [("Down", "LogonSessionList", base + "/logonSessions", None),
             ("Create", "LogonSession", base + "/sessionMngr/?v=latest", None)]
    vers_xml = "".join(
        '<SupportedVersion Name="%s">%s</SupportedVersion>' % (
            v, "<Links>" + '<Link Href="%s" Type="LogonSession" Rel="Create" />' % ea(base + "/sessionMngr/?v=" + v)
            + "</Links>")
        for v in ("v1_5", "v1_6", "v1_7"))
    vers_json = {"SupportedVersions": [
        {"Name": v, "Links": [{"Rel": "Create", "Href": base + "/sessionMngr/?v=" + v, "Name": None,
                               "Type": "LogonSession"}]} for v in ("v1_5", "v1_6", "v1_7")]}
    versions = Raw("<SupportedVersions>%s</SupportedVersions>" % vers_xml, vers_json)
    return Obj("EnterpriseManager", [], links, [("SupportedVersions", versions)])
