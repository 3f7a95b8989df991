"""Every filter has a parseable .yml documentation sidecar, and every sidecar a filter.

ansible-doc and antsibull-docs read these files; a YAML error there hides the documentation
without failing anything else, so it is checked here.
"""
import os

import pytest
import yaml

from ansible_collections.backupops.veeam_em.plugins.filter import veeam_em_compliance, veeam_em_compliance_report
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance

FILTER_DIR = os.path.dirname(veeam_em_compliance.__file__)
FILTERS = {}
for _module in (veeam_em_compliance, veeam_em_compliance_report):
    FILTERS.update(_module.FilterModule().filters())


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_filter_has_a_sidecar(name):
    path = os.path.join(FILTER_DIR, name + ".yml")
    with open(path) as handle:
        docs = yaml.safe_load(handle)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    assert docs["DOCUMENTATION"]["name"] == name
    assert "_input" in docs["DOCUMENTATION"]["options"]
    assert "_value" in docs["RETURN"]
    assert "backupops.veeam_em." + name in docs["EXAMPLES"]


def test_every_sidecar_belongs_to_a_filter():
    sidecars = {f[:-4] for f in os.listdir(FILTER_DIR) if f.endswith(".yml")}
    assert sidecars == set(FILTERS)


def documented_options():
    """The filter's own options plus those of its doc fragment (compliance_policy)."""
    from ansible_collections.backupops.veeam_em.plugins.doc_fragments.compliance_policy import ModuleDocFragment

    with open(os.path.join(FILTER_DIR, "veeam_em_compliance.yml")) as handle:
        docs = yaml.safe_load(handle)["DOCUMENTATION"]
    assert docs["extends_documentation_fragment"] == ["backupops.veeam_em.compliance_policy"]
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(docs["options"])
    return options


def test_documented_options_of_the_evaluation_match_the_code():
    options = documented_options()
    documented = set(options) - {"_input", "replica_sessions", "now", "job_sessions"}
    assert documented == set(em_compliance.DEFAULT_POLICY)
    for name, value in em_compliance.DEFAULT_POLICY.items():
        assert options[name].get("default") == value, name


def test_the_module_documents_and_accepts_the_same_policy():
    """veeam_em_compliance_info shares the fragment; its argument spec has the same defaults."""
    from ansible_collections.backupops.veeam_em.plugins.doc_fragments.compliance_policy import ModuleDocFragment
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_read import argument_spec

    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = argument_spec()
    for name, option in fragment.items():
        assert spec[name]["default"] == option["default"] == em_compliance.DEFAULT_POLICY[name], name
        assert spec[name]["type"] == option["type"], name
        assert spec[name].get("elements") == option.get("elements"), name
