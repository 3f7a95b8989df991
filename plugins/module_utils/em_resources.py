# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Resource tables: what EM calls things, and what the modules call them.

Declarations over code (docs/CONTRACTS.md, "Where does X live"): one ``Resource`` per EM
resource. The modules' filter options, ``sort_by`` choices, the argument spec, the documentation check in the unit
tests and the output normalisation all derive from these tables. Adding a resource means adding
an entry here plus a thin module.

Query fields and enum orders are from em-api-facts.md 2.8 [DOC]; output keys are the binding
normalised shape of CONTRACTS.md section 2.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resource_model import Output, QueryField, Resource

TASK_SESSION_STATES = ("InProgress", "Pending", "Completed")
# A task session InProgress or Pending has not ended: an end time it carries is a placeholder.
TASK_SESSION_RUNNING_STATES = ("InProgress", "Pending")
SESSION_RESULTS = ("Success", "Warning", "Failed")
TASK_STATES = ("Running", "OperationFinished", "Finished")
TASK_FINISHED = "Finished"  # the data are in the EM database; the Result is final (em-api-facts.md 5)


def task_session_fields(kind, job_session_kind):
    """The 14 documented query fields shared by BackupTaskSession and ReplicaTaskSession."""
    return (
        QueryField("UID", "uid", "uid", uid_kind=kind),
        QueryField("Name", "name", "text"),
        QueryField("VmDisplayName", "vm_display_name", "text"),
        QueryField("JobName", "job_name", "text"),
        QueryField("JobUid", "job_uid", "uid", uid_kind="Job"),
        QueryField("JobSessionUid", "job_session_uid", "uid", uid_kind=job_session_kind),
        QueryField("BackupServerName", "backup_server_name", "text"),
        QueryField("BackupServerUid", "backup_server_uid", "uid", uid_kind="BackupServer"),
        QueryField("State", "state", "enum", choices=TASK_SESSION_STATES),
        QueryField("Result", "result", "enum", choices=SESSION_RESULTS),
        QueryField("Reason", "reason", "text"),
        QueryField("TotalSize", "total_size", "int",
                   options=(("total_size_min", ">="), ("total_size_max", "<="))),
        QueryField("CreationTime", "creation_time", "datetime",
                   options=(("created_after", ">="), ("created_before", "<"))),
        QueryField("EndTime", "end_time", "datetime",
                   options=(("ended_after", ">="), ("ended_before", "<"))),
    )


def task_session_outputs(kind, point_key, point_kind):
    """CONTRACTS.md 2: the normalised task-session item; only ``point_key`` differs per kind."""
    return (
        Output("uid", "UID"),
        Output("id", "UID", "guid"),
        Output("name", "Name"),
        Output("vm_display_name", "VmDisplayName"),
        Output("vm_uid", "VmUid"),
        Output("job_session_uid", "JobSessionUid"),
        Output("job_session_id", "JobSessionUid", "guid"),
        Output("job_session_name", link=("Up", "JobSessionReference"), convert="link_name"),
        Output("job_name", link=("Up", "JobSessionReference"), convert="job_name"),
        Output("backup_server_uid", link=("Up", "BackupServerReference"), convert="link_urn",
               urn_kind="BackupServer"),
        Output("backup_server_name", link=("Up", "BackupServerReference"), convert="link_name"),
        Output("creation_time", "CreationTimeUTC", "datetime"),
        Output("end_time", "EndTimeUTC", "datetime"),
        Output("state", "State"),
        Output("result", "Result"),
        Output("reason", "Reason"),
        Output("total_size", "TotalSize", "int"),
        Output(point_key, link=("Related", point_kind), convert="link_urn", urn_kind=point_kind),
        Output("links", "Links", "links"),
    )


BACKUP_TASK_SESSION = Resource(
    name="BackupTaskSession",
    query_type="BackupTaskSession",
    entity_path="backupTaskSessions",
    list_tag="BackupTaskSessions",
    item_tag="BackupTaskSession",
    return_key="backup_task_sessions",
    key_field="uid",
    fields=task_session_fields("BackupTaskSession", "BackupJobSession"),
    outputs=task_session_outputs("BackupTaskSession", "restore_point_uid", "VmRestorePoint"),
    default_sort="creation_time",
)

REPLICA_TASK_SESSION = Resource(
    name="ReplicaTaskSession",
    query_type="ReplicaTaskSession",
    entity_path="replicaTaskSessions",
    list_tag="ReplicaTaskSessions",
    item_tag="ReplicaTaskSession",
    return_key="replica_task_sessions",
    key_field="uid",
    fields=task_session_fields("ReplicaTaskSession", "ReplicaJobSession"),
    outputs=task_session_outputs("ReplicaTaskSession", "replica_point_uid", "VmReplicaPoint"),
    default_sort="creation_time",
)

# Task: a non-key resource. ``query?type=Task`` answers QueryResult/Resources/Tasks/Task with or
# without ``format`` (em-api-facts.md 2.3). The querySvc preset sorts by ``TaskUid`` although the
# documented filter field is ``TaskId`` [DOC inconsistency]; we sort by the documented TaskId.
TASK = Resource(
    name="Task",
    query_type="Task",
    entity_path="tasks",
    list_tag="Tasks",
    item_tag="Task",
    return_key="tasks",
    key_field="task_id",
    fields=(
        QueryField("TaskId", "task_id", "text", option_type="list"),
        QueryField("State", "state", "enum", choices=TASK_STATES),
        QueryField("Operation", "operation", "text"),
    ),
    outputs=(
        Output("task_id", "TaskId"),
        Output("href", "Href"),
        Output("state", "State"),
        Output("operation", "Operation"),
        Output("result_success", ("Result", "Success"), "bool"),
        Output("result_message", ("Result", "Message")),
        Output("related", "Links", "related"),
        Output("links", "Links", "links"),
    ),
    container="Resources",
    default_sort="task_id",
    sort_direction="asc",
)

# ---- job sessions, jobs, backup servers, restore points (issue 8) ---------------------------

JOB_SESSION_STATES = ("Starting", "Stopping", "Working", "Pausing", "Resuming", "Stopped")
# A job session in any state but Stopped is running (Stopping included: it has not ended yet).
JOB_SESSION_RUNNING_STATES = ("Starting", "Stopping", "Working", "Pausing", "Resuming")


def job_session_running(session):
    """Whether a normalised job session (None: no session) is running: in any state but Stopped.

    The one definition for job control (veeam_em_job): a state EM adds later has not said that the
    session ended, so it counts as running (no second start); for the known states this equals
    ``state in JOB_SESSION_RUNNING_STATES``.
    """
    return session is not None and session["state"] != "Stopped"


BACKUP_JOB_SESSION_TYPES = ("Backup", "BackupCopy", "ImmediateBackupCopy", "ImmediateBackupCopyWorker",
                            "AgentBackup", "AgentManagement", "NasBackup")
REPLICA_JOB_SESSION_TYPES = ("Replica",)
JOB_TYPES = ("Backup", "BackupCopy", "ImmediateBackupCopy", "Replica")
JOB_PLATFORMS = ("VMware", "Hyperv", "vCloud")
RESTORE_POINT_TYPES = ("Full", "Increment", "ReverseIncrement")
RESTORE_POINT_ALGORITHMS = ("Full", "ReversedIncremental", "Incremental", "SyntheticFull")


def job_session_fields(kind, job_types):
    """The 12 documented query fields of BackupJobSession / ReplicaJobSession (facts 2.8)."""
    return (
        QueryField("UID", "uid", "uid", uid_kind=kind),
        QueryField("Name", "name", "text"),
        QueryField("JobName", "job_name", "text"),
        QueryField("JobUid", "job_uid", "uid", uid_kind="Job"),
        QueryField("JobType", "job_type", "enum", choices=job_types),
        QueryField("BackupServerName", "backup_server_name", "text"),
        QueryField("BackupServerUid", "backup_server_uid", "uid", uid_kind="BackupServer"),
        QueryField("State", "state", "enum", choices=JOB_SESSION_STATES),
        QueryField("Result", "result", "enum", choices=SESSION_RESULTS),
        QueryField("IsRetry", "is_retry", "bool"),
        QueryField("CreationTime", "creation_time", "datetime",
                   options=(("created_after", ">="), ("created_before", "<"))),
        QueryField("EndTime", "end_time", "datetime",
                   options=(("ended_after", ">="), ("ended_before", "<"))),
    )


def job_session_outputs():
    """Normalised job session (facts 5.4/5.5); ``task_sessions`` is added by the module."""
    return (
        Output("uid", "UID"),
        Output("id", "UID", "guid"),
        Output("name", "Name"),
        Output("job_uid", "JobUid"),
        Output("job_id", "JobUid", "guid"),
        Output("job_name", "JobName"),
        Output("job_type", "JobType"),
        Output("backup_server_uid", link=("Up", "BackupServerReference"), convert="link_urn",
               urn_kind="BackupServer"),
        Output("backup_server_name", link=("Up", "BackupServerReference"), convert="link_name"),
        Output("creation_time", "CreationTimeUTC", "datetime"),
        Output("end_time", "EndTimeUTC", "datetime"),
        Output("state", "State"),
        Output("result", "Result"),
        Output("progress", "Progress", "int"),
        Output("is_retry", "IsRetry", "bool"),
        Output("failure_message", "FailureMessage"),
        Output("links", "Links", "links"),
    )


BACKUP_JOB_SESSION = Resource(
    name="BackupJobSession",
    query_type="BackupJobSession",
    entity_path="backupSessions",
    list_tag="BackupJobSessions",
    item_tag="BackupJobSession",
    return_key="backup_job_sessions",
    key_field="uid",
    fields=job_session_fields("BackupJobSession", BACKUP_JOB_SESSION_TYPES),
    outputs=job_session_outputs(),
    default_sort="creation_time",
)

REPLICA_JOB_SESSION = Resource(
    name="ReplicaJobSession",
    query_type="ReplicaJobSession",
    entity_path="replicaSessions",
    list_tag="ReplicaJobSessions",
    item_tag="ReplicaJobSession",
    return_key="replica_job_sessions",
    key_field="uid",
    fields=job_session_fields("ReplicaJobSession", REPLICA_JOB_SESSION_TYPES),
    outputs=job_session_outputs(),
    default_sort="creation_time",
)

# Job: Portal Administrator only (403 otherwise, facts 1.3). JobScheduleOptions/JobInfo are
# deep, type-specific trees; they are not flattened (links carry what automation needs).
JOB = Resource(
    name="Job",
    query_type="Job",
    entity_path="jobs",
    list_tag="Jobs",
    item_tag="Job",
    return_key="jobs",
    key_field="uid",
    fields=(
        QueryField("UID", "uid", "uid", uid_kind="Job"),
        QueryField("Name", "name", "text"),
        QueryField("Description", "description", "text"),
        QueryField("JobType", "job_type", "enum", choices=JOB_TYPES),
        QueryField("Platform", "platform", "enum", choices=JOB_PLATFORMS),
        QueryField("ScheduleConfigured", "schedule_configured", "bool"),
        QueryField("ScheduleEnabled", "schedule_enabled", "bool"),
        QueryField("NextRun", "next_run", "datetime",
                   options=(("next_run_after", ">="), ("next_run_before", "<"))),
        QueryField("BackupServerName", "backup_server_name", "text"),
        QueryField("BackupServerUid", "backup_server_uid", "uid", uid_kind="BackupServer"),
    ),
    outputs=(
        Output("uid", "UID"),
        Output("id", "UID", "guid"),
        Output("name", "Name"),
        Output("job_type", "JobType"),
        Output("platform", "Platform"),
        Output("description", "Description"),
        Output("schedule_configured", "ScheduleConfigured", "bool"),
        Output("schedule_enabled", "ScheduleEnabled", "bool"),
        Output("next_run", "NextRun", "datetime"),
        Output("backup_server_uid", link=("Up", "BackupServerReference"), convert="link_urn",
               urn_kind="BackupServer"),
        Output("backup_server_name", link=("Up", "BackupServerReference"), convert="link_name"),
        Output("links", "Links", "links"),
    ),
    default_sort="name",
    sort_direction="asc",
)

# BackupServer: the query field ``Port`` becomes option ``backup_server_port`` (``port`` is the
# EM connection option); ``IpOrDnsName`` is filterable but not part of the entity (facts 2.8/5.6).
BACKUP_SERVER = Resource(
    name="BackupServer",
    query_type="BackupServer",
    entity_path="backupServers",
    list_tag="BackupServers",
    item_tag="BackupServer",
    return_key="backup_servers",
    key_field="uid",
    fields=(
        QueryField("UID", "uid", "uid", uid_kind="BackupServer"),
        QueryField("Name", "name", "text"),
        QueryField("Description", "description", "text"),
        QueryField("IpOrDnsName", "ip_or_dns_name", "text"),
        QueryField("Port", "port", "int", options=(("backup_server_port", "=="),)),
        QueryField("Version", "version", "text"),
    ),
    outputs=(
        Output("uid", "UID"),
        Output("id", "UID", "guid"),
        Output("name", "Name"),
        Output("description", "Description"),
        Output("port", "Port", "int"),
        Output("version", "Version"),
        Output("wcf_port", "WcfPort", "int"),
        Output("vbr_certificate_thumbprint", "VbrCertificateThumbprint"),
        Output("links", "Links", "links"),
    ),
    default_sort="name",
    sort_direction="asc",
)

# VmRestorePoint: the query field ``Type`` is the entity's ``PointType``; the VM name is the
# ``VmName`` element (13.x table) or the ``VmDisplayName`` attribute (older examples).
VM_RESTORE_POINT = Resource(
    name="VmRestorePoint",
    query_type="VmRestorePoint",
    entity_path="vmRestorePoints",
    list_tag="VmRestorePoints",
    item_tag="VmRestorePoint",
    return_key="vm_restore_points",
    key_field="uid",
    fields=(
        QueryField("UID", "uid", "uid", uid_kind="VmRestorePoint"),
        QueryField("Name", "name", "text"),
        QueryField("VmDisplayName", "vm_display_name", "text"),
        QueryField("Type", "point_type", "enum", choices=RESTORE_POINT_TYPES),
        QueryField("Algorithm", "algorithm", "enum", choices=RESTORE_POINT_ALGORITHMS),
        QueryField("RestorePointId", "restore_point_uid", "uid", uid_kind="RestorePoint"),
        QueryField("RestorePointName", "restore_point_name", "text"),
        QueryField("BackupServerName", "backup_server_name", "text"),
        QueryField("BackupServerUid", "backup_server_uid", "uid", uid_kind="BackupServer"),
        QueryField("CreationTime", "creation_time", "datetime",
                   options=(("created_after", ">="), ("created_before", "<"))),
    ),
    outputs=(
        Output("uid", "UID"),
        Output("id", "UID", "guid"),
        Output("name", "Name"),
        Output("vm_display_name", "VmName", fallback="VmDisplayName"),
        Output("vm_uid", "HierarchyObjRef"),
        Output("creation_time", "CreationTimeUTC", "datetime"),
        Output("point_type", "PointType"),
        Output("algorithm", "Algorithm"),
        Output("restore_point_uid", link=("Up", "RestorePointReference"), convert="link_urn",
               urn_kind="RestorePoint"),
        Output("restore_point_name", link=("Up", "RestorePointReference"), convert="link_name"),
        Output("backup_file_name", link=("Up", "BackupFileReference"), convert="link_name"),
        Output("backup_server_uid", link=("Up", "BackupServerReference"), convert="link_urn",
               urn_kind="BackupServer"),
        Output("backup_server_name", link=("Up", "BackupServerReference"), convert="link_name"),
        Output("links", "Links", "links"),
    ),
    default_sort="creation_time",
)

RESOURCES = (BACKUP_TASK_SESSION, REPLICA_TASK_SESSION, TASK, BACKUP_JOB_SESSION, REPLICA_JOB_SESSION, JOB,
             BACKUP_SERVER, VM_RESTORE_POINT)

# xmltodict returns a dict for one child and a list for several: these tags are always lists.
XML_LIST_TAGS = frozenset(
    ["Link", "Ref", "Task", "LogonSession", "SupportedVersion"] + [resource.item_tag for resource in RESOURCES]
)
