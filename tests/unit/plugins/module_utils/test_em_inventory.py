"""em_inventory: the inventory plugin's reading parameters, host names and host/group variables.

The row shapes are the evaluation's (em_compliance.evaluate ``vms``/``servers``/``violations``);
hostnames and host_vars read only a few keys of a row, so their collision and edge cases are
driven with hand-made rows, and the whole path with a real evaluation. The plugin's groups and
its use of these functions are tests/unit/plugins/inventory/test_veeam_em.py's.
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_compliance, em_compliance_read, em_inventory)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMForbiddenError, EMValidationError)
from unit.plugins.module_utils.em_fake import FakeEM, Reply, error_body
from unit.plugins.module_utils.test_em_client import make_client

NOW = "2025-06-05T06:00:00Z"


def row(name, server="vbr01.test", uid=None, server_uid=None, **extra):
    result = {"vm_display_name": name, "backup_server_name": server, "backup_server_uid": server_uid,
              "vm_uid": uid}
    result.update(extra)
    return result


def session(vm, created, result="Success", server="vbr01.test", job="Backup Job A", vm_uid=None):
    return {"uid": "urn:veeam:BackupTaskSession:%s:%s" % (vm, created), "name": vm, "vm_display_name": vm,
            "vm_uid": vm_uid or "urn:vm:%s:%s" % (server, vm), "job_name": job, "backup_server_uid": None,
            "backup_server_name": server, "creation_time": created, "end_time": created, "state": "Completed",
            "result": result, "reason": "" if result == "Success" else "Error: disk full",
            "restore_point_uid": "rp-%s" % vm if result == "Success" else None}


def assert_distinct(names, rows):
    assert len(names) == len(rows)
    assert len({name.lower() for name in names}) == len(names), names


# ---- read_params / validate ------------------------------------------------------------------

def test_read_params_holds_every_reading_option_and_no_report_option():
    spec = em_compliance_read.argument_spec()
    params = em_inventory.read_params({})
    assert set(params) == set(spec) - set(em_inventory.NOT_FOR_INVENTORY)
    assert all(params[key] == spec[key].get("default") for key in params)


def test_read_params_takes_given_values_including_false_and_zero_and_ignores_none():
    params = em_inventory.read_params({"check_jobs": False, "backup_rpo_hours": 0.0, "exclude_vms": [],
                                       "include_vms": ["web*"], "replica_rpo_hours": None})
    assert params["check_jobs"] is False and params["backup_rpo_hours"] == 0.0 and params["exclude_vms"] == []
    assert params["include_vms"] == ["web*"]
    assert params["replica_rpo_hours"] == em_compliance_read.argument_spec()["replica_rpo_hours"]["default"]


def test_read_params_drops_options_that_are_not_the_readers():
    params = em_inventory.read_params({"server": "em", "password": "x", "report_dir": "/tmp", "hostnames": "vm_name"})
    assert not {"server", "password", "report_dir", "hostnames"} & set(params)


def test_validate_accepts_the_defaults():
    em_inventory.validate(em_inventory.read_params({}))


@pytest.mark.parametrize("options, error, text", [
    ({"page_size": 0}, EMValidationError, "option page_size: 0 must be greater than 0"),
    ({"concurrency": 0}, EMValidationError, "option concurrency: 0 must be between 1 and"),
    ({"concurrency": 1000}, EMValidationError, "option concurrency: 1000 must be between 1 and"),
    ({"backup_rpo_hours": -1.0}, em_compliance.ComplianceInputError, "backup_rpo_hours"),
    ({"failed_job_severity": "loud"}, em_compliance.ComplianceInputError, "failed_job_severity must be one of"),
    ({"include_vms": 5}, em_compliance.ComplianceInputError, "include_vms must be a list, got 5"),
    ({"accept_warnings": "maybe"}, em_compliance.ComplianceInputError, "accept_warnings must be a boolean"),
])
def test_validate_names_the_bad_option_and_value(options, error, text):
    with pytest.raises(error) as raised:
        em_inventory.validate(em_inventory.read_params(options))
    assert text in str(raised.value)


def test_read_evaluation_refuses_bad_options_before_any_request():
    fake = FakeEM("json")
    with pytest.raises(EMValidationError):
        em_inventory.read_evaluation(make_client(fake), em_inventory.read_params({"page_size": -5}))
    assert fake.calls == []


def test_read_evaluation_raises_a_failed_read_after_logging_off():
    """No host list from a part of the window: the read failure is raised, not turned into no_data."""
    fake = FakeEM("json", lambda call: Reply(403, error_body("json", 403, "Access denied")))
    with pytest.raises(EMForbiddenError):
        em_inventory.read_evaluation(make_client(fake, retries=0), em_inventory.read_params({"now": NOW}))
    assert fake.logons == 1 and fake.logoffs == 1


# ---- hostnames and _unique ------------------------------------------------------------------

def test_unique_names_stay_plain_in_row_order():
    rows = [row("web01"), row("db01", server="vbr02.test"), row("app01")]
    assert em_inventory.hostnames(rows) == ["web01", "db01", "app01"]


def test_a_name_held_twice_ignoring_case_becomes_name_at_server_for_every_holder():
    rows = [row("dc01"), row("DC01", server="vbr02.test"), row("web01")]
    assert em_inventory.hostnames(rows) == ["dc01@vbr01.test", "DC01@vbr02.test", "web01"]


def test_vm_name_server_always_appends_the_server():
    rows = [row("web01"), row("db01", server="vbr02.test")]
    assert em_inventory.hostnames(rows, "vm_name_server") == ["web01@vbr01.test", "db01@vbr02.test"]


def test_the_server_uid_stands_in_for_a_missing_server_name():
    rows = [row("web01", server=None, server_uid="urn:veeam:BackupServer:1"), row("web01")]
    assert em_inventory.hostnames(rows) == ["web01@urn:veeam:BackupServer:1", "web01@vbr01.test"]


def test_same_name_same_server_gets_the_vm_uid_and_without_one_the_row_number():
    rows = [row("app", uid="urn:vm:1"), row("app", uid="urn:vm:2"), row("app")]
    assert em_inventory.hostnames(rows) == ["app@vbr01.test#urn:vm:1", "app@vbr01.test#urn:vm:2",
                                            "app@vbr01.test#3"]


def test_a_name_without_server_stays_plain_and_is_made_unique_by_uid():
    """An expected VM never backed up has no server: its name alone, told apart from a namesake."""
    rows = [row("ghost", server=None, uid=None), row("ghost", uid="urn:vm:9")]
    assert em_inventory.hostnames(rows) == ["ghost", "ghost@vbr01.test"]
    rows = [row("ghost", server=None), row("GHOST", server=None, uid="urn:vm:9")]
    assert em_inventory.hostnames(rows) == ["ghost#1", "GHOST#urn:vm:9"]


@pytest.mark.parametrize("name, uid, expected", [
    (None, "urn:vm:7", "urn:vm:7"), ("", "urn:vm:7", "urn:vm:7"), (None, None, "unnamed"), (0, None, "unnamed"),
])
def test_a_row_without_a_name_is_named_by_its_uid_or_unnamed(name, uid, expected):
    assert em_inventory.hostnames([row(name, uid=uid)]) == [expected]


def test_nameless_rows_never_share_a_name():
    rows = [row(None), row(None, server="vbr02.test"), row(None, server=None), row("unnamed", server=None)]
    names = em_inventory.hostnames(rows)
    assert_distinct(names, rows)


@pytest.mark.parametrize("rows", [
    # a VM named like the name@server another VM is given
    [row("web"), row("web", server="vbr02.test"), row("web@vbr01.test", server="vbr03.test")],
    # a VM named like the #uid suffix of two namesakes
    [row("app", uid="u1"), row("app", uid="u2"), row("app@vbr01.test#u1", server="vbr01.test")],
    [row("app@vbr01.test#u1"), row("app", uid="u1"), row("app", uid="u1")],
    # a VM named like the row-number suffix
    [row("x#2", server=None), row("x", server=None), row("x", server=None)],
    # the same VM uid twice on one server (two rows EM would not give, but no two hosts may merge)
    [row("dup", uid="urn:vm:1"), row("DUP", uid="urn:vm:1"), row("dup", uid="urn:vm:1")],
])
def test_names_chosen_to_collide_with_generated_names_still_give_distinct_hosts(rows):
    names = em_inventory.hostnames(rows)
    assert_distinct(names, rows)
    assert em_inventory.hostnames(rows) == names  # deterministic


def test_a_later_vm_named_like_an_earlier_generated_name_is_the_one_renamed():
    rows = [row("web"), row("web", server="vbr02.test"), row("web@vbr01.test", server="vbr03.test")]
    names = em_inventory.hostnames(rows)
    assert names[1] == "web@vbr02.test"
    assert names[0] != names[2] and {names[0], names[2]} == {"web@vbr01.test#1", "web@vbr01.test#3"}


@pytest.mark.parametrize("name", ["{{ lookup('pipe', 'id') }}", "{% for x in y %}{% endfor %}", "{# c #}web",
                                  "a{{{b}}}", "vm{-%x", "{{", "{"])
def test_a_vm_name_holding_template_syntax_gives_an_inert_hostname(name):
    """ansible-core before 2.19 templates the text of inventory_hostname where it is used: a VM name is
    written by whoever may rename VMs in vSphere/Hyper-V, so no host name may open a Jinja2 block.
    The real name stays in veeam_vm_name (marked unsafe by the plugin)."""
    for choice in em_inventory.HOSTNAME_CHOICES:
        rows = [row(name, uid="urn:vm:{{1}}"), row(name, uid="urn:vm:{{1}}", server="{{ evil }}")]
        names = em_inventory.hostnames(rows, choice)
        assert_distinct(names, rows)
        assert not [text for text in names if "{{" in text or "{%" in text or "{#" in text], names


@pytest.mark.parametrize("rows", [
    [row("a{", server=None, uid="u1"), row("a{", server=None, uid="u2")],    # the #<uid> suffix
    [row("a{", server=None), row("a{", server=None)],                        # the #<n> suffix
    # a name taken by an earlier suffixed name (the uid ends in "{"): the second suffix
    [row("a", server=None, uid="x{"), row("a", server=None, uid="y"), row("a#x{", server=None)],
])
def test_a_suffix_after_a_trailing_brace_does_not_open_a_comment(rows):
    """"a{" + "#<uid>" would be "a{#...": every suffixed name is made inert too."""
    names = em_inventory.hostnames(rows)
    assert_distinct(names, rows)
    assert not [text for text in names if "{#" in text], names


def test_inert_names_do_not_collide_with_a_vm_already_named_like_them():
    rows = [row("a{{b", server=None), row("a_{b", server=None)]
    names = em_inventory.hostnames(rows)
    assert_distinct(names, rows)
    assert not [text for text in names if "{{" in text or "{#" in text]


@pytest.mark.parametrize("name", ["web 01", "web\n01", "[group]", "../../etc/passwd", "wéb-日本", "x" * 300,
                                  "all", "localhost", "a:22"])
def test_other_odd_vm_names_are_kept_as_they_are(name):
    """Ansible takes any text as a host name; only template openers are changed (above)."""
    assert em_inventory.hostnames([row(name)]) == [name]


def test_bad_hostnames_choice_names_the_option_and_value():
    with pytest.raises(em_compliance.ComplianceInputError) as error:
        em_inventory.hostnames([row("web01")], "fqdn")
    assert str(error.value) == "option hostnames: 'fqdn' is not one of vm_name, vm_name_server"


# ---- host_vars and hosts ----------------------------------------------------------------------

HOST_VAR_KEYS = {
    "veeam_vm_name", "veeam_vm_uid", "veeam_backup_server", "veeam_backup_server_uid", "veeam_jobs",
    "veeam_expected", "veeam_status", "veeam_reasons", "veeam_findings", "veeam_last_restore_point_uid",
    "veeam_last_replica_point_uid", "veeam_replica_state", "veeam_evaluated_at",
} | {template % kind for kind in ("backup", "replica", "copy") for template in (
    "veeam_last_%s_time", "veeam_last_%s_state", "veeam_last_%s_result", "veeam_last_%s_success_time",
    "veeam_last_%s_success_end_time", "veeam_last_%s_age_hours", "veeam_%s_sessions")}


def test_host_vars_of_a_bare_row_are_none_zero_and_none_state():
    variables = em_inventory.host_vars(row("ghost", server=None, expected=1), {"generated_at": NOW})
    assert set(variables) == HOST_VAR_KEYS
    assert variables["veeam_replica_state"] == "none" and variables["veeam_expected"] is True
    assert variables["veeam_jobs"] == [] and variables["veeam_reasons"] == [] and variables["veeam_findings"] == []
    assert variables["veeam_evaluated_at"] == NOW
    for kind in ("backup", "replica", "copy"):
        assert variables["veeam_%s_sessions" % kind] == 0
        assert variables["veeam_last_%s_time" % kind] is None and variables["veeam_last_%s_age_hours" % kind] is None


def test_host_vars_copy_the_lists_and_keep_only_the_documented_finding_keys():
    finding = {"code": "rpo_exceeded", "severity": "violation", "kind": "backup", "message": "old",
               "time": NOW, "vm_uid": "urn:vm:1", "internal": object()}
    source = row("web01", jobs=["Job A"], reasons=["rpo_exceeded"], findings=[finding])
    variables = em_inventory.host_vars(source, {})
    variables["veeam_jobs"].append("changed")
    variables["veeam_reasons"].append("changed")
    assert source["jobs"] == ["Job A"] and source["reasons"] == ["rpo_exceeded"]
    assert variables["veeam_findings"] == [{"code": "rpo_exceeded", "severity": "violation", "kind": "backup",
                                            "message": "old", "time": NOW}]


def test_host_vars_round_ages_to_two_decimals_and_keep_zero():
    summary = {"last_success_age_hours": 1.23456, "sessions": 3, "last_restore_point_uid": "rp-1"}
    variables = em_inventory.host_vars(row("web01", backup=summary, copy={"last_success_age_hours": 0.0}), {})
    assert variables["veeam_last_backup_age_hours"] == 1.23 and variables["veeam_backup_sessions"] == 3
    assert variables["veeam_last_copy_age_hours"] == 0.0 and variables["veeam_last_restore_point_uid"] == "rp-1"


@pytest.mark.parametrize("replica, expected", [
    (None, "none"), ({}, "none"),
    ({"running": True, "last_state": "InProgress", "last_result": "None"}, "running"),
    ({"running": True, "last_state": "Completed", "last_result": "Failed"}, "failed"),
    ({"running": False, "last_state": "InProgress", "last_result": "Warning"}, "warning"),
    ({"last_state": "Completed", "last_result": None}, "completed"),
    ({"sessions": 1}, "unknown"),
])
def test_replica_state(replica, expected):
    assert em_inventory.host_vars(row("web01", replica=replica), {})["veeam_replica_state"] == expected


def test_hosts_pair_each_name_with_its_own_rows_variables_in_order():
    evaluation = em_compliance.evaluate([
        session("dc01", "2025-06-05T01:00:00Z"),
        session("DC01", "2025-06-03T04:00:00Z", server="vbr02.test"),
        session("fail01", "2025-06-04T10:00:00Z"),
        session("fail01", "2025-06-05T01:00:00Z", result="Failed"),
    ], now=NOW)
    hosts = em_inventory.hosts(evaluation)
    assert [name for name, _variables in hosts] == em_inventory.hostnames(evaluation["vms"])
    for (name, variables), source in zip(hosts, evaluation["vms"]):
        assert variables["veeam_vm_uid"] == source["vm_uid"] and name.startswith(source["vm_display_name"])
    by_name = dict(hosts)
    assert by_name["dc01@vbr01.test"]["veeam_backup_server"] == "vbr01.test"
    assert by_name["DC01@vbr02.test"]["veeam_status"] == "violation"
    assert by_name["fail01"]["veeam_reasons"] == ["last_backup_failed"]


def test_hosts_of_an_evaluation_without_vms_is_empty():
    assert em_inventory.hosts({}) == []


# ---- server_vars and global_problems ------------------------------------------------------------

def test_server_vars_are_keyed_by_server_name():
    evaluation = {"servers": [
        {"backup_server_name": "vbr01.test", "status": "compliant", "reasons": [], "last_session_time": NOW},
        {"backup_server_name": "vbr02.test", "status": "violation", "reasons": ["server_silent"]},
    ]}
    assert em_inventory.server_vars(evaluation) == {
        "vbr01.test": {"veeam_server_status": "compliant", "veeam_server_reasons": [],
                       "veeam_server_last_session_time": NOW},
        "vbr02.test": {"veeam_server_status": "violation", "veeam_server_reasons": ["server_silent"],
                       "veeam_server_last_session_time": None},
    }


def test_server_vars_of_a_real_evaluation_name_every_server_that_has_a_name():
    evaluation = em_compliance.evaluate([session("a", "2025-06-05T01:00:00Z"),
                                         session("b", "2025-06-05T01:00:00Z", server="vbr02.test")], now=NOW)
    result = em_inventory.server_vars(evaluation)
    assert sorted(result) == ["vbr01.test", "vbr02.test"]
    assert result["vbr01.test"]["veeam_server_status"] == "compliant"


def test_global_problems_split_no_data_from_other_global_findings_and_skip_vm_findings():
    evaluation = {
        "violations": [{"scope": "global", "code": "no_data", "message": "nothing read"},
                       {"scope": "vm", "code": "rpo_exceeded", "message": "old"}],
        "warnings": [{"scope": "global", "code": "unreadable_sessions", "message": "2 sessions"},
                     {"scope": "server", "code": "server_silent", "message": "quiet"}],
    }
    assert em_inventory.global_problems(evaluation) == (["no_data: nothing read"],
                                                        ["unreadable_sessions: 2 sessions"])


def test_global_problems_of_a_clean_evaluation_are_none():
    evaluation = em_compliance.evaluate([session("a", "2025-06-05T01:00:00Z")], now=NOW)
    assert em_inventory.global_problems(evaluation) == ([], [])


def test_global_problems_of_an_empty_window_is_fatal():
    """An empty inventory would read as "EM protects nothing": nothing read is a failure."""
    fatal, warnings = em_inventory.global_problems(em_compliance.evaluate([], now=NOW))
    assert len(fatal) == 1 and fatal[0].startswith("no_data: ") and warnings == []
