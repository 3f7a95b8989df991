"""Query types served by ``/api/query``: their fields (filter + sort), sources and renderers.

Field lists are those of docs/em-api-facts.md §2.8 (one per documented query parameter);
fields that are not part of the entity (JobName, BackupServerName, ...) are resolved through
the object's parents. Enum value lists are in documented order, which is also the order used
for ``<``/``>`` comparisons.
"""
from . import reps
from .filterexpr import Field

TS_STATES = ["InProgress", "Pending", "Completed"]
RESULTS = ["Success", "Warning", "Failed"]
JS_STATES = ["Starting", "Stopping", "Working", "Pausing", "Resuming", "Stopped"]
BJS_TYPES = ["Backup", "BackupCopy", "ImmediateBackupCopy", "ImmediateBackupCopyWorker", "AgentBackup",
             "AgentManagement", "NasBackup"]
RJS_TYPES = ["Replica"]
JOB_TYPES = ["Backup", "BackupCopy", "ImmediateBackupCopy", "Replica"]
PLATFORMS = ["VMware", "Hyperv", "vCloud"]
TASK_STATES = ["Running", "OperationFinished", "Finished"]
RP_TYPES = ["Full", "Increment", "ReverseIncrement"]
RP_ALGOS = ["Full", "ReversedIncremental", "Incremental", "SyntheticFull"]


def _fields(*fs):
    return {f.name.lower(): f for f in fs}


TASK_SESSION_FIELDS = _fields(
    Field("UID", "uid", lambda t: t.uid),
    Field("Name", "str", lambda t: t.name),
    Field("CreationTime", "datetime", lambda t: t.ct),
    Field("EndTime", "datetime", lambda t: t.et),
    Field("State", "enum", lambda t: t.state, TS_STATES),
    Field("Result", "enum", lambda t: t.result, RESULTS),
    Field("Reason", "str", lambda t: t.reason),
    Field("TotalSize", "int", lambda t: t.total_size),
    Field("JobSessionUid", "uid", lambda t: t.js.uid),
    Field("JobUid", "uid", lambda t: t.js.job.uid),
    Field("JobName", "str", lambda t: t.js.job.name),
    Field("BackupServerUid", "uid", lambda t: t.js.job.server.uid),
    Field("BackupServerName", "str", lambda t: t.js.job.server.name),
    Field("VmDisplayName", "str", lambda t: t.vm_name),
)


def _js_fields(types):
    return _fields(
        Field("UID", "uid", lambda s: s.uid),
        Field("Name", "str", lambda s: s.name),
        Field("JobType", "enum", lambda s: s.job.job_type, types),
        Field("JobUid", "uid", lambda s: s.job.uid),
        Field("JobName", "str", lambda s: s.job.name),
        Field("CreationTime", "datetime", lambda s: s.ct),
        Field("EndTime", "datetime", lambda s: s.et),
        Field("State", "enum", lambda s: s.state, JS_STATES),
        Field("Result", "enum", lambda s: s.result, RESULTS),
        Field("IsRetry", "bool", lambda s: s.is_retry),
        Field("BackupServerUid", "uid", lambda s: s.job.server.uid),
        Field("BackupServerName", "str", lambda s: s.job.server.name),
    )


JOB_FIELDS = _fields(
    Field("UID", "uid", lambda j: j.uid),
    Field("Name", "str", lambda j: j.name),
    Field("Description", "str", lambda j: j.description),
    Field("NextRun", "datetime", lambda j: j.next_run),
    Field("JobType", "enum", lambda j: j.job_type, JOB_TYPES),
    Field("Platform", "enum", lambda j: j.platform, PLATFORMS),
    Field("ScheduleConfigured", "bool", lambda j: j.schedule_configured),
    Field("ScheduleEnabled", "bool", lambda j: j.schedule_enabled),
    Field("BackupServerUid", "uid", lambda j: j.server.uid),
    Field("BackupServerName", "str", lambda j: j.server.name),
)

SERVER_FIELDS = _fields(
    Field("UID", "uid", lambda s: s.uid),
    Field("Name", "str", lambda s: s.name),
    Field("Description", "str", lambda s: s.description),
    Field("IpOrDnsName", "str", lambda s: s.name),
    Field("Port", "int", lambda s: s.port),
    Field("Version", "str", lambda s: s.version),
)

TASK_FIELDS = _fields(
    Field("TaskId", "str", lambda t: t.task_id),
    Field("TaskUid", "str", lambda t: t.task_id),   # alias: the querySvc preset link sorts by it
    Field("State", "enum", lambda t: t.state, TASK_STATES),
    Field("Operation", "str", lambda t: t.operation),
)

RP_FIELDS = _fields(
    Field("UID", "uid", lambda r: r.uid),
    Field("Name", "str", lambda r: r.name),
    Field("CreationTime", "datetime", lambda r: r.ct),
    Field("Type", "enum", lambda r: r.point_type, RP_TYPES),
    Field("Algorithm", "enum", lambda r: r.algorithm, RP_ALGOS),
    Field("RestorePointId", "uid", lambda r: "urn:veeam:RestorePoint:" + r.ts.js.guid),
    Field("RestorePointName", "str", lambda r: r.ts.js.name),
    Field("VmDisplayName", "str", lambda r: r.ts.vm_name),
    Field("BackupServerUid", "uid", lambda r: r.ts.js.job.server.uid),
    Field("BackupServerName", "str", lambda r: r.ts.js.job.server.name),
)


class QueryType:
    """How one ``type=`` value is answered."""

    def __init__(self, name, plural, fields, source, entity, ref, sorted_by_ct=False, roles_denied=(),
                 resources=False):
        self.name = name
        self.plural = plural
        self.fields = fields
        self.source = source            # (dataset, logon_session) -> list
        self.entity = entity            # (base, obj) -> Obj
        self.ref = ref                  # (base, obj, tag) -> Obj
        self.sorted_by_ct = sorted_by_ct
        self.roles_denied = set(roles_denied)
        self.resources = resources      # Task: QueryResult/Resources


def _restore_points(ds, _sess):
    cache = getattr(ds, "_rp_cache", None)
    if cache is None or cache[0] != ds.version:
        rps = [reps.RestorePointView(t) for t in ds.backup_ts if t.point_guid]
        rps.sort(key=lambda r: (r.ct, r.guid))
        cache = (ds.version, rps)
        ds._rp_cache = cache
    return cache[1]


TYPES = {}
for _qt in (
    QueryType("BackupTaskSession", "BackupTaskSessions", TASK_SESSION_FIELDS, lambda ds, s: ds.backup_ts,
              reps.task_session_entity, reps.task_session_ref, True, ("RestoreOperator",)),
    QueryType("ReplicaTaskSession", "ReplicaTaskSessions", TASK_SESSION_FIELDS, lambda ds, s: ds.replica_ts,
              reps.task_session_entity, reps.task_session_ref, True, ("RestoreOperator",)),
    QueryType("BackupJobSession", "BackupJobSessions", _js_fields(BJS_TYPES), lambda ds, s: ds.backup_js,
              reps.job_session_entity, reps.job_session_ref, True, ("RestoreOperator",)),
    QueryType("ReplicaJobSession", "ReplicaJobSessions", _js_fields(RJS_TYPES), lambda ds, s: ds.replica_js,
              reps.job_session_entity, reps.job_session_ref, True, ("RestoreOperator",)),
    QueryType("Job", "Jobs", JOB_FIELDS, lambda ds, s: ds.jobs, reps.job_entity, reps.job_ref, False,
              ("PortalUser", "RestoreOperator")),
    QueryType("BackupServer", "BackupServers", SERVER_FIELDS, lambda ds, s: ds.servers, reps.server_entity,
              reps.server_ref),
    QueryType("VmRestorePoint", "VmRestorePoints", RP_FIELDS, _restore_points, reps.restore_point_entity,
              reps.restore_point_ref, True),
    QueryType("Task", "Tasks", TASK_FIELDS, lambda ds, s: list(s.tasks.values()), None, None, False,
              resources=True),
):
    TYPES[_qt.name.lower()] = _qt

# Documented query types the emulator does not model: answered with 501 (not 400) so a client
# bug (unknown type) and an emulator gap are told apart.
DOCUMENTED_TYPES = {t.lower() for t in (
    "AgentBackupJob AgentProtectionGroup AgentRestorePoint Backup BackupFile BackupJobSession BackupServer "
    "BackupTaskSession CdpPolicy CdpReplica CdpReplicaSession CdpReplicaTaskSession CloudGateway "
    "CloudGatewayPool CloudTenant CloudFailoverPlan CloudFailoverSession CloudHardwarePlan "
    "CloudPublicIpAddress CloudReplica CloudSubtenant CloudVmReplicaPoint Credentials DiscoveredComputer "
    "FailoverPlan FileServer HierarchyRoot Job ManagedServer NasJob NasObject ObjectInJob Passwords Replica "
    "ReplicaJobSession ReplicaTaskSession Repository RestorePoint RestoreSession Task vAppReplicaPoint "
    "vAppRestorePoint VCloudOrganizationConfig VlanConfiguration VmReplicaPoint VmRestorePoint "
    "VsphereSelfServiceConfig WanAccelerator").split()}
