"""Each module's DOCUMENTATION (with its fragments) matches its argument spec and the tables."""
import re

import pytest
import yaml

from ansible_collections.backupops.veeam_em.plugins.doc_fragments import (
    attributes, compliance_policy, connection, job_session_query, query_paging, task_session_query, task_wait)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, BACKUP_SERVER, BACKUP_TASK_SESSION, JOB, REPLICA_JOB_SESSION, REPLICA_TASK_SESSION, TASK,
    VM_RESTORE_POINT)
from ansible_collections.backupops.veeam_em.plugins.modules import (
    veeam_em_backup_job_session_info, veeam_em_backup_server_info, veeam_em_backup_task_session_info,
    veeam_em_compliance_info, veeam_em_job,
    veeam_em_job_info, veeam_em_replica_job_session_info, veeam_em_replica_task_session_info, veeam_em_session,
    veeam_em_task_info, veeam_em_vm_restore_point_info)
from unit.plugins.modules.module_runner import argument_spec_of

FRAGMENTS = {
    "backupops.veeam_em.connection": connection.ModuleDocFragment.DOCUMENTATION,
    "backupops.veeam_em.task_session_query": task_session_query.ModuleDocFragment.DOCUMENTATION,
    "backupops.veeam_em.job_session_query": job_session_query.ModuleDocFragment.DOCUMENTATION,
    "backupops.veeam_em.query_paging": query_paging.ModuleDocFragment.DOCUMENTATION,
    "backupops.veeam_em.compliance_policy": compliance_policy.ModuleDocFragment.DOCUMENTATION,
    "backupops.veeam_em.attributes.info_module": attributes.ModuleDocFragment.INFO_MODULE,
    "backupops.veeam_em.task_wait": task_wait.ModuleDocFragment.DOCUMENTATION,
}
MODULES = [veeam_em_backup_task_session_info, veeam_em_replica_task_session_info, veeam_em_task_info,
           veeam_em_session, veeam_em_backup_job_session_info, veeam_em_replica_job_session_info, veeam_em_job_info,
           veeam_em_backup_server_info, veeam_em_vm_restore_point_info, veeam_em_job, veeam_em_compliance_info]
RESOURCE_OF = {veeam_em_backup_task_session_info: BACKUP_TASK_SESSION,
               veeam_em_replica_task_session_info: REPLICA_TASK_SESSION, veeam_em_task_info: TASK,
               veeam_em_backup_job_session_info: BACKUP_JOB_SESSION,
               veeam_em_replica_job_session_info: REPLICA_JOB_SESSION, veeam_em_job_info: JOB,
               veeam_em_backup_server_info: BACKUP_SERVER, veeam_em_vm_restore_point_info: VM_RESTORE_POINT}
QUERY_MODULES = [veeam_em_backup_task_session_info, veeam_em_replica_task_session_info,
                 veeam_em_backup_job_session_info, veeam_em_replica_job_session_info, veeam_em_job_info,
                 veeam_em_backup_server_info, veeam_em_vm_restore_point_info]
# Keys a module adds to the table's outputs (documented in RETURN after them).
EXTRA_KEYS = {veeam_em_backup_job_session_info: ["task_sessions"], veeam_em_replica_job_session_info: ["task_sessions"]}


def documented_options(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    for fragment in doc.get("extends_documentation_fragment", []):
        loaded = yaml.safe_load(FRAGMENTS[fragment])
        options.update(loaded["options"])
        doc.setdefault("attributes", {}).update(loaded.get("attributes", {}))
    # As ansible-core's plugin_docs.merge_fragment: a module entry for an option a fragment also
    # documents extends it key by key (``fields`` takes its per-resource choices this way).
    for name, entry in (doc.get("options") or {}).items():
        options[name] = dict(options.get(name) or {}, **entry)
    return doc, options


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_documented_options_match_argument_spec(module):
    _doc, options = documented_options(module)
    spec, _kwargs = argument_spec_of(module)
    assert sorted(options) == sorted(spec)
    for name, argument in spec.items():
        documented = options[name]
        assert documented.get("type", "str") == argument.get("type", "str"), name
        assert documented.get("default") == argument.get("default"), name
        assert documented.get("choices") == argument.get("choices"), name
        assert documented.get("elements") == argument.get("elements"), name
        assert bool(documented.get("required", False)) == bool(argument.get("required", False)), name
        assert documented.get("description"), name


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_module_metadata(module):
    doc, _options = documented_options(module)
    name = module.__name__.rsplit(".", 1)[-1]
    assert doc["module"] == name
    assert doc["version_added"] == "1.0.0"
    assert doc["author"]
    assert doc["attributes"]["check_mode"]["support"] == "full"
    requirements = yaml.safe_load(FRAGMENTS["backupops.veeam_em.connection"])["requirements"]
    assert requirements == ["requests", "xmltodict"]
    examples = yaml.safe_load(module.EXAMPLES)
    for task in examples:
        actions = [key for key in task if "." in key]
        assert actions and all(re.match(r"^(backupops\.veeam_em|ansible\.builtin)\.", key) for key in actions)
    assert yaml.safe_load(module.RETURN)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_secrets_are_no_log(module):
    spec, _kwargs = argument_spec_of(module)
    assert spec["password"]["no_log"] is True
    assert spec["session_id"]["no_log"] is True


@pytest.mark.parametrize("module", QUERY_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_query_options_derive_from_the_table(module):
    resource = RESOURCE_OF[module]
    _doc, options = documented_options(module)
    for option, field, _operator in resource.filter_options():
        assert option in options
        for choice in field.choices:
            assert "C(%s)" % choice in " ".join(options[option]["description"]), (option, choice)
    assert options["sort_by"]["choices"] == resource.sort_choices()
    assert options["sort_by"]["default"] == resource.default_sort
    assert options["sort_order"]["default"] == resource.sort_direction
    assert options["fields"]["choices"] == resource.output_keys()
    assert options["fields"]["description"]
    returned = yaml.safe_load(module.RETURN)
    assert list(returned)[:2] == [resource.return_key, "query"]
    assert list(returned[resource.return_key]["contains"]) == (
        [output.key for output in resource.outputs] + EXTRA_KEYS.get(module, []))


def test_task_info_return_matches_table():
    returned = yaml.safe_load(veeam_em_task_info.RETURN)
    assert list(returned["tasks"]["contains"]) == [output.key for output in TASK.outputs]


def test_enum_choices_are_documented():
    _doc, options = documented_options(veeam_em_backup_task_session_info)
    for option, field, _operator in BACKUP_TASK_SESSION.filter_options():
        for choice in field.choices:
            assert choice in " ".join(options[option]["description"])
