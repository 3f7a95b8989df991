"""The compliance role, the veeam_em_compliance_info module and the evaluation must agree.

Every policy option of the evaluation is a role variable with the same default in
defaults/main.yml and meta/argument_specs.yml, and tasks/read.yml passes it on to the module;
every role variable is documented. Drift here would make the role silently evaluate with other
values than the documentation says. The keys the module reads from EM are the keys the
evaluation touches, no more and no fewer.
"""
import os

import yaml

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import DEFAULT_POLICY
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import history_cache
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as _fold
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import jobs as _jobs
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import sessions as _sessions
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, BACKUP_SERVER, BACKUP_TASK_SESSION, REPLICA_JOB_SESSION, REPLICA_TASK_SESSION)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "veeam_em_compliance")
PREFIX = "veeam_em_compliance_"
CONNECTION = {"server", "port", "username", "password", "validate_certs", "ca_path", "timeout", "page_size",
              "concurrency"}
READ_SWITCHES = {"check_replicas", "check_jobs", "known_servers_from_em"}
INTERNAL_OPTIONS = {"read_errors", "view_limits"}  # set by the reader itself


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return handle.read()


def role_defaults():
    return yaml.safe_load(load("defaults", "main.yml"))


def spec_options():
    return yaml.safe_load(load("meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]


def test_every_variable_is_prefixed_and_documented():
    defaults, options = role_defaults(), spec_options()
    assert all(name.startswith(PREFIX) for name in list(defaults) + list(options))
    assert set(defaults) <= set(options)
    undocumented_defaults = set(options) - set(defaults)
    assert undocumented_defaults == {PREFIX + name for name in CONNECTION}


def test_defaults_agree_between_defaults_file_and_argument_specs():
    defaults, options = role_defaults(), spec_options()
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_filter_policy_options_are_role_variables_with_the_same_default():
    defaults = role_defaults()
    for option, value in DEFAULT_POLICY.items():
        if option in INTERNAL_OPTIONS:
            continue
        assert defaults[PREFIX + option] == value, option


def module_call():
    tasks = yaml.safe_load(load("tasks", "read.yml"))
    calls = [task["backupops.veeam_em.veeam_em_compliance_info"] for task in tasks
             if "backupops.veeam_em.veeam_em_compliance_info" in task]
    assert len(calls) == 1
    return calls[0]


def test_the_role_passes_every_policy_option_to_the_module():
    call = module_call()
    policy = set(DEFAULT_POLICY) - INTERNAL_OPTIONS
    reports = {"report_formats", "report_title", "report_dir", "report_basename", "report_history",
               "report_trend_days", "report_html_max_rows"}
    assert set(call) == policy | READ_SWITCHES | CONNECTION | reports | HISTORY_CACHE | {"now", "detail", "result_format"}
    # the verdicts come back as one JSON text (a value for ansible-core to carry, not 2.3 MB of them at 5,000 VMs)
    assert call["result_format"] == "json"
    # the fact's detail is the role's variable (compact by default); "full" is not offered: the full rows are in the reports
    assert call["detail"] == "{{ %sdetail }}" % PREFIX
    assert role_defaults()[PREFIX + "detail"] == "compact"
    assert spec_options()[PREFIX + "detail"]["choices"] == ["compact", "summary"]
    # the module writes the reports itself: every report variable of the role reaches it, same meaning
    for option in ("report_basename", "report_history", "report_trend_days", "report_html_max_rows", "report_title"):
        assert call[option] == "{{ %s%s }}" % (PREFIX, option), option
    assert call["report_dir"] == "{{ %sreport_dir | default(omit, true) }}" % PREFIX
    for option in policy | READ_SWITCHES:
        assert call[option] == "{{ %s%s }}" % (PREFIX, option), option


HISTORY_CACHE = {"history_cache", "history_cache_overlap_hours", "history_full_read_days", "history_cache_window"}


def test_the_role_passes_the_history_cache_options_with_the_module_defaults():
    """Issue 18: the nightly role keeps the history cache beside its reports, same meaning as the module's."""
    call, defaults = module_call(), role_defaults()
    spec = history_cache.argument_spec()
    for option in HISTORY_CACHE:
        assert call[option] == "{{ %s%s }}" % (PREFIX, option), option
        assert defaults[PREFIX + option] == spec[option]["default"], option


def test_connection_variables_are_omitted_when_undefined():
    read = load("tasks", "read.yml")
    for name in CONNECTION - {"validate_certs"}:
        assert "%s%s | default(omit, true)" % (PREFIX, name) in read, name
    assert "%svalidate_certs | default(omit)" % PREFIX in read


# ---- the keys the module asks EM for (em_compliance.*_FIELDS) are the keys the evaluation reads ---

READ_FIELDS = {  # what the module reads -> (its resource, the keys it asks for)
    "backup_task_sessions": (BACKUP_TASK_SESSION, em_compliance.BACKUP_TASK_SESSION_FIELDS),
    "replica_task_sessions": (REPLICA_TASK_SESSION, em_compliance.REPLICA_TASK_SESSION_FIELDS),
    "backup_job_sessions": (BACKUP_JOB_SESSION, em_compliance.JOB_SESSION_FIELDS),
    "replica_job_sessions": (REPLICA_JOB_SESSION, em_compliance.JOB_SESSION_FIELDS),
    "backup_servers": (BACKUP_SERVER, em_compliance.BACKUP_SERVER_FIELDS),
    # issue 14: the history before the window, identity keys only
    "backup_task_history": (BACKUP_TASK_SESSION, em_compliance.BACKUP_HISTORY_FIELDS),
    "replica_task_history": (REPLICA_TASK_SESSION, em_compliance.REPLICA_HISTORY_FIELDS),
}


class RecordingDict(dict):
    """A dict that records the keys looked up in ``log``; a copy made with dict() keeps the log."""

    def __init__(self, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self.log = args[0].log if args and isinstance(args[0], RecordingDict) else None

    def record(self, key):
        if self.log is not None:
            self.log.add(key)

    def __getitem__(self, key):
        self.record(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self.record(key)
        return dict.get(self, key, default)

    def __contains__(self, key):
        self.record(key)
        return dict.__contains__(self, key)


def recording(items, log):
    recorded = []
    for item in items:
        copy = RecordingDict(item)
        copy.log = log
        recorded.append(copy)
    return recorded


def test_the_module_asks_for_valid_fields_of_every_read():
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_read import planned_reads

    reads = planned_reads({"check_replicas": True, "check_jobs": True, "known_servers_from_em": True})
    assert [read.key for read in reads] == ["backup_task_sessions", "replica_task_sessions", "backup_task_history",
                                            "replica_task_history", "backup_servers", "backup_job_sessions",
                                            "replica_job_sessions"]
    for read in reads:
        resource, asked = READ_FIELDS[read.key]
        assert set(asked) <= set(resource.output_keys()), read.key
        assert set(read.resource.output_keys()) == set(asked) | {resource.key_field}, read.key
    # only the names of the backup servers are used (em_compliance_read.known_servers)
    assert em_compliance.BACKUP_SERVER_FIELDS == ("name",)


def test_the_module_asks_for_every_key_the_evaluation_reads(monkeypatch):
    """Run the filter over sessions of every shape, record the item keys it reads."""
    from unit.plugins.module_utils.compliance.conftest import build_session
    from unit.plugins.module_utils.compliance.test_veeam_em_compliance_jobs import SESSIONS as JOB_SESSIONS

    # the copies (dict(item)) are made in the private package behind the em_compliance front
    for module in (em_compliance, _sessions, _jobs, _fold):
        monkeypatch.setattr(module, "dict", RecordingDict, raising=False)
    now = "2025-06-05T06:00:00Z"
    backups = [build_session(vm="vm%d" % n, created="2025-06-0%dT0%d:00:00Z" % (1 + n % 4, n % 6),
                             result=result, state=state, vm_uid=vm_uid)
               for n, (result, state, vm_uid) in enumerate([
                   ("Success", "Completed", "urn:vm:1"), ("Failed", "Completed", None),
                   ("Warning", "Completed", "urn:vm:3"), (None, "InProgress", None), (None, "Pending", "urn:vm:5"),
                   ("Failed", "Completed", "urn:vm:1"), ("Success", "Completed", None)])]
    backups.append(build_session(vm="vm1", created="2025-06-05T04:00:00Z", result="Failed", reason="disk full"))
    backups.append(build_session(vm="vm1", created="2025-06-05T05:00:00Z", result="Success"))
    backups.append(build_session(vm="old", created="2025-05-01T00:00:00Z"))
    replicas = [build_session(vm="vm%d" % n, kind="replica", created="2025-06-04T0%d:00:00Z" % n, result=result)
                for n, result in enumerate(["Success", "Failed", "Warning"])]
    logs = {"backup": set(), "replica": set(), "job": set()}
    result = em_compliance.evaluate(
        recording(backups, logs["backup"]), recording(replicas, logs["replica"]), now=now,
        job_sessions=recording(JOB_SESSIONS, logs["job"]), accept_warnings=False,
        expected_vms=["vm0", {"name": "missing", "backup_server": "vbr01.example.com"}],
        known_backup_servers=["vbr01.example.com", "vbr02"], max_duration_minutes=5, stuck_hours=1)
    assert result["vms"] and result["jobs"] and all(logs.values())
    for name, log in (("backup_task_sessions", logs["backup"]),
                      ("replica_task_sessions", logs["replica"]),
                      ("backup_job_sessions", logs["job"]),
                      ("replica_job_sessions", logs["job"])):
        resource, fields = READ_FIELDS[name]
        asked = set(fields) | {resource.key_field}
        read = log & set(resource.output_keys())
        # every key the filter reads is asked for, and nothing is asked for that it never reads
        assert read <= asked, (name, read - asked)
        assert asked - {resource.key_field} <= read | {"replica_point_uid", "restore_point_uid"}, (name, asked - read)
