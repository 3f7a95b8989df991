"""Attack: a VM named in include_vms that EM no longer mentions is silently absent.

FACTS 6: a VM whose backups stopped keeps sessions in EM for 30 days only; then nothing in EM names
it. A team that scopes its nightly run with ``include_vms: [db01, db02]`` is told its VMs are
compliant when db02 - removed from its job five weeks ago - is not in EM at all: the pattern matched
nothing, and a VM that matches nothing is not judged. A name without glob characters is a statement
that this VM is in scope; when no VM of EM's answer matches it, the run says so (never_backed_up),
as for an expected VM. Patterns with glob characters only select, as before.
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from unit.plugins.module_utils.compliance.conftest import build_session as session

NOW = "2025-06-05T06:00:00Z"


def by_name(result):
    return dict((row["vm_display_name"], row) for row in result["vms"])


def test_a_vm_named_in_include_vms_that_em_does_not_mention_is_a_violation():
    result = evaluate([session(vm="db01"), session(vm="other01")], now=NOW, include_vms=["db01", "db02"])
    rows = by_name(result)
    assert set(rows) == {"db01", "db02"}
    assert rows["db01"]["status"] == "compliant"
    assert rows["db02"]["reasons"] == ["never_backed_up"] and rows["db02"]["status"] == "violation"
    assert rows["db02"]["findings"][0]["message"] == (
        "VM named in include_vms has no backup or replica session in the run's scope (EM's answer under the "
        "include/exclude patterns: the 7-day window, and the history before it when read)")
    assert rows["db02"]["expected"] is False and result["compliant"] is False


def test_the_name_matches_as_expected_vms_do():
    # case, and a short name for an FQDN (expected_vm_match=fqdn, the default)
    result = evaluate([session(vm="DB01.corp.example.com")], now=NOW, include_vms=["db01.corp.example.com"])
    assert [row["vm_display_name"] for row in result["vms"]] == ["DB01.corp.example.com"]
    assert result["compliant"] is True


@pytest.mark.parametrize("pattern", ["db0*", "db0?", "db0[2-9]"])
def test_a_glob_that_matches_nothing_only_selects(pattern):
    result = evaluate([session(vm="db01")], now=NOW, include_vms=["db01", pattern])
    assert [row["vm_display_name"] for row in result["vms"]] == ["db01"]


def test_a_named_vm_that_is_excluded_too_is_not_judged():
    result = evaluate([session(vm="db01")], now=NOW, include_vms=["db01", "db02"], exclude_vms=["db02"])
    assert [row["vm_display_name"] for row in result["vms"]] == ["db01"]


def test_a_named_vm_that_is_also_expected_is_one_row():
    result = evaluate([session(vm="db01")], now=NOW, include_vms=["db01", "db02"], expected_vms=["db02"])
    rows = [row for row in result["vms"] if row["vm_display_name"] == "db02"]
    assert len(rows) == 1 and rows[0]["expected"] is True


def test_a_short_name_that_does_not_select_the_fqdn_vm_is_said_too():
    # include_vms patterns match whole names: "db01" does not select "db01.corp.example.com", so that VM
    # was not judged at all while the run passed; now the name that selected nothing is a violation
    result = evaluate([session(vm="db01.corp.example.com", result="Failed"), session(vm="app01")], now=NOW,
                      include_vms=["db01", "app01"])
    rows = by_name(result)
    assert set(rows) == {"db01", "app01"} and rows["db01"]["reasons"] == ["never_backed_up"]
    assert result["compliant"] is False


def test_a_close_name_is_suggested():
    result = evaluate([session(vm="db-01")], now=NOW, include_vms=["db-01", "db-02"])
    assert by_name(result)["db-02"]["findings"][0]["message"].endswith(
        '; did you mean "db-01"? (expected_vm_match=fqdn)')
