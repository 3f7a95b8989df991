"""The veeam_em_compliance filter plugin itself: its names and its errors (the rules it applies are
tested under tests/unit/plugins/module_utils/compliance/)."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.filter import veeam_em_compliance as compliance
from ansible_collections.backupops.veeam_em.plugins.filter.veeam_em_compliance import FilterModule

NOW = "2025-06-05T06:00:00Z"


def test_filter_module_exposes_the_documented_names():
    assert set(FilterModule().filters()) == {"veeam_em_compliance", "veeam_em_compliance_window_start"}


def test_filter_entry_point_rejects_a_non_list():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError):
        compliance.veeam_em_compliance({"backup_task_sessions": []}, now=NOW)


def test_filter_errors_are_ansible_filter_errors():
    """Ansible shows filter errors by type; the evaluation raises a plain ValueError subclass."""
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="backup_rpo_hours"):
        compliance.veeam_em_compliance([], now=NOW, backup_rpo_hours=-1)
    with pytest.raises(AnsibleFilterError, match="now"):
        compliance.veeam_em_compliance_window_start("not a time", 7)
