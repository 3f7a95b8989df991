"""The inventory plugin's host and group building, its options, cache and errors, without EM.

Hosts come from em_compliance.evaluate over hand-made task sessions (the evaluation the plugin
runs); the plugin's groups are built into ansible-core's own InventoryData.
"""
import importlib

import pytest
import yaml

from ansible.inventory.data import InventoryData

from ansible_collections.backupops.veeam_em.plugins.module_utils import (
    em_compliance, em_compliance_read, em_connection, em_inventory, em_module)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError
from ansible_collections.backupops.veeam_em.plugins.inventory import veeam_em

NOW = "2025-06-05T06:00:00Z"
PASSWORD = "S3cret-Pass"
_NUMBER = [0]


def session(vm, created, result="Success", server="vbr01.test", job="Backup Job A", vm_uid=None, end=None,
            state="Completed", reason=""):
    _NUMBER[0] += 1
    return {"uid": "urn:veeam:BackupTaskSession:%d" % _NUMBER[0], "name": vm, "vm_display_name": vm,
            "vm_uid": vm_uid or "urn:vm:%s:%s" % (server, vm), "job_name": job, "backup_server_uid": None,
            "backup_server_name": server, "creation_time": created, "end_time": end or created, "state": state,
            "result": result, "reason": reason,
            "restore_point_uid": "rp-%d" % _NUMBER[0] if result == "Success" else None}


def evaluation(backups, replicas=(), **policy):
    return em_compliance.evaluate(list(backups), replica_sessions=list(replicas), now=NOW, **policy)


FLEET = [
    session("ok01", "2025-06-05T01:00:00Z"),
    session("fail01", "2025-06-04T10:00:00Z"),
    session("fail01", "2025-06-05T01:00:00Z", result="Failed", reason="Error: disk full"),
    session("dc01", "2025-06-05T01:00:00Z"),
    session("DC01", "2025-06-03T04:00:00Z", server="vbr02.test", job="Backup Job-B"),
]
REPLICAS = [dict(session("ok01", "2025-06-05T02:00:00Z", job="Replica Job A"), restore_point_uid=None,
                 replica_point_uid="rep-1")]


# ---- em_inventory: hosts, names, variables ---------------------------------------------------

def test_hosts_names_and_variables():
    hosts = dict(em_inventory.hosts(evaluation(FLEET, REPLICAS)))
    # dc01 and DC01 are one name ignoring case, on two servers: both get @server
    assert sorted(hosts) == ["DC01@vbr02.test", "dc01@vbr01.test", "fail01", "ok01"]
    ok01 = hosts["ok01"]
    assert ok01["veeam_status"] == "compliant" and ok01["veeam_reasons"] == []
    assert ok01["veeam_jobs"] == ["Backup Job A", "Replica Job A"]
    assert ok01["veeam_backup_server"] == "vbr01.test"
    assert ok01["veeam_last_backup_time"] == "2025-06-05T01:00:00Z"
    assert ok01["veeam_last_backup_age_hours"] == 5.0
    assert ok01["veeam_last_restore_point_uid"] == FLEET[0]["restore_point_uid"]
    assert ok01["veeam_replica_state"] == "success"
    assert ok01["veeam_last_replica_point_uid"] == "rep-1"
    assert ok01["veeam_last_replica_age_hours"] == 4.0
    assert ok01["veeam_evaluated_at"] == NOW
    fail01 = hosts["fail01"]
    assert (fail01["veeam_status"], fail01["veeam_reasons"]) == ("violation", ["last_backup_failed"])
    assert fail01["veeam_last_backup_result"] == "Failed"
    assert fail01["veeam_last_backup_success_time"] == "2025-06-04T10:00:00Z"
    assert fail01["veeam_last_backup_age_hours"] == 20.0
    assert fail01["veeam_findings"][0]["code"] == "last_backup_failed"
    assert "disk full" in fail01["veeam_findings"][0]["message"]
    assert fail01["veeam_replica_state"] == "none" and fail01["veeam_replica_sessions"] == 0
    old = hosts["DC01@vbr02.test"]
    assert (old["veeam_status"], old["veeam_reasons"], old["veeam_last_backup_age_hours"]) == \
        ("violation", ["rpo_exceeded"], 50.0)


def test_every_variable_is_prefixed():
    for _name, variables in em_inventory.hosts(evaluation(FLEET, REPLICAS)):
        assert variables and all(key.startswith("veeam_") for key in variables)


def test_ages_are_rounded_to_two_decimals():
    hosts = dict(em_inventory.hosts(evaluation([session("vm1", "2025-06-05T05:40:00Z")])))
    assert hosts["vm1"]["veeam_last_backup_age_hours"] == 0.33


def test_vm_name_server_names_every_host_with_its_server():
    hosts = dict(em_inventory.hosts(evaluation(FLEET), "vm_name_server"))
    assert sorted(hosts) == ["DC01@vbr02.test", "dc01@vbr01.test", "fail01@vbr01.test", "ok01@vbr01.test"]


def test_two_vms_of_one_name_on_one_server_stay_distinct():
    rows = evaluation([session("app", "2025-06-05T01:00:00Z", vm_uid="urn:vm:1"),
                       session("app", "2025-06-05T02:00:00Z", vm_uid="urn:vm:2")])["vms"]
    assert len(rows) == 2
    assert sorted(em_inventory.hostnames(rows)) == ["app@vbr01.test#urn:vm:1", "app@vbr01.test#urn:vm:2"]


def test_a_unique_name_is_plain():
    rows = evaluation([session("app", "2025-06-05T01:00:00Z")])["vms"]
    assert em_inventory.hostnames(rows) == ["app"]


def test_expected_vm_never_backed_up_is_a_host_in_violation():
    hosts = dict(em_inventory.hosts(evaluation(FLEET, expected_vms=["ghost01"])))
    ghost = hosts["ghost01"]
    assert (ghost["veeam_status"], ghost["veeam_reasons"]) == ("violation", ["never_backed_up"])
    assert ghost["veeam_expected"] is True and ghost["veeam_backup_server"] is None


def test_bad_hostnames_choice_is_refused():
    with pytest.raises(em_compliance.ComplianceInputError, match="hostnames: 'dns'"):
        em_inventory.hostnames([], "dns")


def test_no_data_is_fatal_other_global_findings_are_warnings():
    fatal, warnings = em_inventory.global_problems(evaluation([]))
    assert len(fatal) == 1 and fatal[0].startswith("no_data: EM returned no task sessions")
    unreadable = dict(session("bad", "2025-06-05T01:00:00Z"), creation_time="garbage", vm_uid=None,
                      vm_display_name=None)
    fatal, warnings = em_inventory.global_problems(evaluation(FLEET + [unreadable]))
    assert fatal == []
    assert len(warnings) == 1 and warnings[0].startswith("unreadable_sessions")


def test_scoped_out_everything_is_fatal():
    fatal, _warnings = em_inventory.global_problems(evaluation(FLEET, include_vms=["nothing*"]))
    assert len(fatal) == 1 and "excluded by the include/exclude patterns" in fatal[0]


def test_read_params_are_the_compliance_module_defaults_plus_options():
    params = em_inventory.read_params({"backup_rpo_hours": 30.0, "exclude_vms": ["t*"], "now": None})
    spec = em_compliance_read.argument_spec()
    assert params["backup_rpo_hours"] == 30.0 and params["exclude_vms"] == ["t*"]
    assert params["replica_rpo_hours"] == spec["replica_rpo_hours"]["default"]
    assert params["check_jobs"] is True and params["now"] is None
    assert "report_formats" not in params


# ---- the plugin's group building (ansible-core's InventoryData; parsing, Constructable and Cacheable
# through ansible-inventory are in tests/integration/test_inventory_plugin.py: the plugin loader
# cannot load a collection plugin in a process that already imported the collection without it) ------

class _Plugin(veeam_em.InventoryModule):
    """The plugin without a source file: options as parse() would have set them."""

    def __init__(self, **options):
        super(_Plugin, self).__init__()
        self._options = dict({"strict": False, "compose": {}, "groups": {}, "keyed_groups": []}, **options)
        self.inventory = InventoryData()

    def get_option(self, option, hostvars=None):
        """The options set here; KeyError for another, as ansible-core 2.18+ answers for a plugin whose option was
        not set (2.16 and 2.17 ask the configuration by the plugin's load name, which a plugin built without the
        loader has not got: AttributeError)."""
        return self._options[option]


def populated(evaluation_result, choice="vm_name"):
    plugin = _Plugin()
    plugin._populate({"hosts": em_inventory.hosts(evaluation_result, choice),
                      "servers": em_inventory.server_vars(evaluation_result), "warnings": []})
    return plugin.inventory


def hosts_of(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts()) if group in inventory.groups else None


def test_fixed_groups():
    inventory = populated(evaluation(FLEET, REPLICAS))
    assert hosts_of(inventory, "veeam_status_violation") == ["DC01@vbr02.test", "fail01"]
    assert hosts_of(inventory, "veeam_status_compliant") == ["dc01@vbr01.test", "ok01"]
    assert hosts_of(inventory, "veeam_status_warning") == []
    assert hosts_of(inventory, "veeam_server_vbr01_test") == ["dc01@vbr01.test", "fail01", "ok01"]
    assert hosts_of(inventory, "veeam_server_vbr02_test") == ["DC01@vbr02.test"]
    assert hosts_of(inventory, "veeam_job_Backup_Job_A") == ["dc01@vbr01.test", "fail01", "ok01"]
    assert hosts_of(inventory, "veeam_job_Backup_Job_B") == ["DC01@vbr02.test"]
    assert hosts_of(inventory, "veeam_job_Replica_Job_A") == ["ok01"]
    assert inventory.get_host("fail01").vars["veeam_reasons"] == ["last_backup_failed"]
    # vbr02's only session is 50 h old: the server rule (server_silent) speaks on its group
    assert inventory.groups["veeam_server_vbr02_test"].get_vars()["veeam_server_reasons"] == ["server_silent"]
    assert inventory.groups["veeam_server_vbr01_test"].get_vars()["veeam_server_status"] == "compliant"


def test_warning_status_group_and_known_silent_server():
    warned = [session("w1", "2025-06-05T01:00:00Z", result="Warning", reason="CBT off")]
    inventory = populated(evaluation(warned, known_backup_servers=["vbr-new.test"]))
    assert hosts_of(inventory, "veeam_status_warning") == ["w1"]
    assert hosts_of(inventory, "veeam_server_vbr_new_test") == []
    assert inventory.groups["veeam_server_vbr_new_test"].get_vars()["veeam_server_reasons"] == ["server_silent"]


def test_expected_vm_without_server_is_in_no_server_group():
    inventory = populated(evaluation(FLEET, expected_vms=["ghost01"]))
    groups = sorted(group.name for group in inventory.get_host("ghost01").get_groups())
    assert groups == ["veeam_status_violation"]


def test_group_names_are_sanitised_always():
    assert veeam_em.group_name("veeam_job_", "Backup Job-A (daily).v2") == "veeam_job_Backup_Job_A__daily__v2"
    assert veeam_em.group_name("veeam_server_", "vbr01.example.com") == "veeam_server_vbr01_example_com"


def test_documented_environment_variables_are_the_modules():
    doc = yaml.safe_load(veeam_em.DOCUMENTATION)
    documented = dict((key, [entry["name"] for entry in option["env"]])
                      for key, option in doc["options"].items() if "env" in option)
    fallbacks = dict((key, list(spec["fallback"][1]))
                     for key, spec in em_module.connection_argument_spec().items() if "fallback" in spec)
    assert documented == fallbacks


def _fragment_options(name):
    module = importlib.import_module("ansible_collections.backupops.veeam_em.plugins.doc_fragments." + name)
    return set(yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"])


def test_every_reader_option_is_documented():
    """Every option the plugin reads is documented (plugin, connection or compliance_policy fragment)."""
    doc = yaml.safe_load(veeam_em.DOCUMENTATION)
    assert "backupops.veeam_em.connection" in doc["extends_documentation_fragment"]
    assert "backupops.veeam_em.compliance_policy" in doc["extends_documentation_fragment"]
    options = set(doc["options"]) | _fragment_options("connection") | _fragment_options("compliance_policy")
    wanted = set(em_compliance_read.argument_spec()) - set(em_inventory.NOT_FOR_INVENTORY)
    assert wanted - options == set()
    assert set(em_module.connection_argument_spec()) - options == set()


def test_verify_file(tmp_path):
    plugin = _Plugin()
    for name, accepted in (("em.veeam_em.yml", True), ("em.veeam_em.yaml", True), ("em.yml", False),
                           ("veeam_em.yml.bak", False)):
        path = tmp_path / name
        path.write_text("plugin: backupops.veeam_em.veeam_em\n", encoding="utf-8")
        assert bool(plugin.verify_file(str(path))) is accepted, name


# ---- attack, session 15: the connection options by the modules' rules --------------------------

@pytest.fixture
def fresh_environment_checks(monkeypatch):
    monkeypatch.setattr(em_connection, "EMPTY_ENVIRONMENT", set())
    for name in ("VEEAM_EM_VALIDATE_CERTS", "VEEAM_EM_ALLOW_HTTP", "VEEAM_EM_PORT", "VEEAM_EM_SESSION_ID"):
        monkeypatch.delenv(name, raising=False)


def _connection(plugin):
    options = veeam_em._Options(plugin._params(), plugin._written())
    return em_module.connection_options(options)


def _plugin(written=None, **configured):
    """``configured``: what ansible-core's configuration gives (file, else environment: '' and typos as false)."""
    plugin = _Plugin(server="em.example.com", username="svc", password=PASSWORD, **configured)
    plugin._config = dict(written or {}, plugin="backupops.veeam_em.veeam_em")
    return plugin


@pytest.mark.parametrize("value", ["", "  ", "ture", "flase", "2"])
def test_a_validate_certs_variable_the_modules_refuse_is_refused(fresh_environment_checks, monkeypatch, value):
    """Found (attack, session 15): ansible-core reads '' (a cleared AWX credential field) and typos as false for
    a bool option: an empty or mistyped VEEAM_EM_VALIDATE_CERTS switched certificate validation off in the
    plugin, where the modules and the EDA source refuse it. Now the plugin refuses it, naming the variable."""
    monkeypatch.setenv("VEEAM_EM_VALIDATE_CERTS", value)
    with pytest.raises(EMValidationError, match="option validate_certs.*VEEAM_EM_VALIDATE_CERTS"):
        _connection(_plugin(validate_certs=False))


def test_a_validate_certs_variable_the_modules_accept_is_taken(fresh_environment_checks, monkeypatch):
    monkeypatch.setenv("VEEAM_EM_VALIDATE_CERTS", "no")
    assert _connection(_plugin(validate_certs=False)).validate_certs is False
    monkeypatch.setenv("VEEAM_EM_VALIDATE_CERTS", "yes")
    assert _connection(_plugin(validate_certs=True)).validate_certs is True


@pytest.mark.parametrize("written", [{"validate_certs": "flase"}, {"allow_http": "ture"}, {"check_jobs": "nope"},
                                     {"read_history": ""}])
def test_a_bool_mistyped_in_the_source_file_is_refused(fresh_environment_checks, written):
    key, value = list(written.items())[0]
    with pytest.raises(EMValidationError, match="option %s: %r is not a boolean" % (key, value)):
        _connection(_plugin(written, **{key: False}))


def test_the_source_file_wins_over_the_environment(fresh_environment_checks, monkeypatch):
    monkeypatch.setenv("VEEAM_EM_VALIDATE_CERTS", "")
    assert _connection(_plugin({"validate_certs": True}, validate_certs=True)).validate_certs is True


# ---- EM's text in host variables, group variables and warnings: through the one scrubber -----------

class _QuietClient(object):
    def __init__(self):
        self.warnings = ["logoff failed: %s refused" % PASSWORD.upper()]


def test_a_password_em_echoes_never_reaches_host_or_group_variables_or_warnings(fresh_environment_checks, monkeypatch):
    """The inventory has no result for Ansible's no_log to mask: host variables (a finding's message holds
    EM's reason), group variables and the evaluation's warnings went out as EM wrote them, in any case,
    into ansible-inventory --list, hostvars and -vvv. They now pass through em_secrets, in any letter case."""
    echo = "Logon failed for svc:%s (%s)" % (PASSWORD, PASSWORD.upper())
    fleet = [session("fail01", "2025-06-05T01:00:00Z", result="Failed", reason=echo),
             session("fail01", "2025-06-04T01:00:00Z", result="Failed", reason=echo, job="Backup %s" % PASSWORD)]
    planted = evaluation(fleet, known_backup_servers=["quiet.test"])
    planted["warnings"].append({"scope": "global", "code": "sessions_unreadable", "message": "EM says %s" % PASSWORD})
    monkeypatch.setattr(em_inventory, "new_client", lambda connection, params: _QuietClient())
    monkeypatch.setattr(em_inventory, "read_evaluation", lambda client, params: planted)
    plugin = _plugin(hostnames="vm_name")
    data = plugin._fetch()
    text = repr(data)
    assert PASSWORD.lower() not in text.lower() and "********" in text
    variables = dict(data["hosts"])["fail01"]
    assert any("Logon failed for ******** (********)" in item["message"] for item in variables["veeam_findings"])
    assert data["warnings"] == ["sessions_unreadable: EM says ********", "logoff failed: ******** refused"]
