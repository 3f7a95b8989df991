# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource tables: what EM calls things, and what the modules call them.

DESIGN.md principle 2 (declarations over code): one ``Resource`` per EM resource. The modules'
filter options, ``sort_by`` choices, the argument spec, the documentation check in the unit
tests and the output normalisation all derive from these tables. Adding a resource means adding
an entry here plus a thin module.

Query fields and enum orders are from em-api-facts.md 2.8 [DOC]; output keys are the binding
normalised shape of CONTRACTS.md section 2.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class QueryField:
    """One documented ``/api/query`` field of a resource.

    kind: ``uid`` (URN or GUID, list = OR), ``text`` (string or list = OR), ``enum`` (documented
    values, case-insensitive, list = OR), ``datetime`` and ``int`` (range options).
    ``options`` maps each module option to the filter operator it produces; the default is
    ``{<snake name>: "=="}``.
    """

    def __init__(self, em_name, name, kind, choices=None, uid_kind=None, options=None, sortable=True,
                 option_type=None):
        self.em_name = em_name
        self.name = name
        self.kind = kind
        self.choices = tuple(choices or ())
        self.uid_kind = uid_kind
        self.options = options or ((name, "=="),)
        self.sortable = sortable
        # Argument-spec type override; free text defaults to ``raw`` (a string or a list)
        # because Ansible splits a ``list`` option given as a string on commas, which would
        # silently turn ``reason: "a, b"`` into an OR of two values.
        self.option_type = option_type


class Output:
    """One key of a normalised item and where its value comes from.

    ``source`` is an EM key path (tuple) in the entity, or ``None`` when the value comes from a
    link (``link=(rel, type suffix)``); ``convert`` names a function of ``em_parse.CONVERTERS``.
    """

    def __init__(self, key, source=None, convert="text", link=None, urn_kind=None):
        self.key = key
        self.source = source if source is None or isinstance(source, tuple) else (source,)
        self.convert = convert
        self.link = link
        self.urn_kind = urn_kind


class Resource:
    """Everything the client and the modules need to know about one EM resource."""

    def __init__(self, name, query_type, entity_path, list_tag, item_tag, return_key, key_field,
                 fields, outputs, container="Entities", default_sort=None, sort_direction="desc"):
        self.name = name
        self.query_type = query_type
        self.entity_path = entity_path
        self.list_tag = list_tag
        self.item_tag = item_tag
        self.return_key = return_key
        self.key_field = key_field
        self.fields = tuple(fields)
        self.outputs = tuple(outputs)
        self.container = container
        self.default_sort = default_sort
        self.sort_direction = sort_direction

    @property
    def format_param(self):
        """``format=Entities`` for key resources; Task has a single representation (no format)."""
        return "Entities" if self.container == "Entities" else None

    def field(self, name):
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    def filter_options(self):
        """(option name, field, operator) for every typed filter option, in table order."""
        return [(option, field, operator) for field in self.fields for option, operator in field.options]

    def sort_choices(self):
        return [field.name for field in self.fields if field.sortable]


TASK_SESSION_STATES = ("InProgress", "Pending", "Completed")
SESSION_RESULTS = ("Success", "Warning", "Failed")
TASK_STATES = ("Running", "OperationFinished", "Finished")


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

RESOURCES = (BACKUP_TASK_SESSION, REPLICA_TASK_SESSION, TASK)

# xmltodict returns a dict for one child and a list for several: these tags are always lists.
XML_LIST_TAGS = frozenset(
    ["Link", "Ref", "Task", "LogonSession", "SupportedVersion"] + [resource.item_tag for resource in RESOURCES]
)
