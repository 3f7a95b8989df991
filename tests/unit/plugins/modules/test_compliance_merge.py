"""veeam_em_compliance_merge: docs match the argument spec; results, reports and errors through main()."""
import xml.etree.ElementTree as ET

import yaml

from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_merge as module
from unit.plugins.modules.module_runner import run_module

NOW = "2026-11-29T06:00:00Z"
READ = {"em": "em-a", "status": "violation", "generated_at": NOW, "summary": {"vms_total": 5, "vms_violation": 1, "violations_total": 1},
        "first_violations": ["vbr01 / sql01: rpo_exceeded"]}


def test_documentation_matches_the_argument_spec():
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert set(options) == set(module.ARGUMENT_SPEC)
    for name, spec in module.ARGUMENT_SPEC.items():
        doc = options[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("required", False) == spec.get("required", False), name
        assert doc.get("elements") == spec.get("elements"), name
        assert sorted(doc.get("choices") or []) == sorted(spec.get("choices") or []), name
    returned = yaml.safe_load(module.RETURN)
    assert set(returned) == {"fleet", "reports", "stats", "message"}


def test_merge_through_the_module(capsys):
    result = run_module(module, {"parts": [READ], "expected": ["em-a", "em-b"], "now": NOW,
                                 "report_formats": ["junit", "html"], "stats_max_items": 1}, capsys)
    assert result["changed"] is False
    assert result["fleet"]["status"] == "error"  # em-b sent nothing
    assert [(e["em"], e["status"]) for e in result["fleet"]["ems"]] == [("em-b", "error"), ("em-a", "violation")]
    assert set(result["reports"]) == {"junit", "html"}
    assert ET.fromstring(result["reports"]["junit"]).get("errors") == "1"
    assert result["stats"]["ems"] == {"em-a": "violation", "em-b": "error"}
    assert len(result["stats"]["first_errors"]) == 1


def test_bad_part_fails_with_the_part_named(capsys):
    result = run_module(module, {"parts": [{"em": "em-a", "status": "green"}]}, capsys)
    assert result["failed"] is True
    assert "parts[0].status must be one of" in result["msg"]


def test_bad_report_format_is_refused_by_the_spec(capsys):
    result = run_module(module, {"parts": [READ], "report_formats": ["pdf"]}, capsys)
    assert result["failed"] is True
    assert "report_formats" in result["msg"] and "pdf" in result["msg"]


def test_negative_stats_max_items_is_refused(capsys):
    result = run_module(module, {"parts": [READ], "stats_max_items": -1}, capsys)
    assert result["failed"] is True
    assert "stats_max_items must be 0 or more, got -1" in result["msg"]


def test_a_part_of_an_earlier_night_makes_the_fleet_error_through_the_module(capsys):
    """The fleet playbook passes veeam_em_fleet_max_part_age_hours; a part older than it is that EM's error."""
    last_week = dict(READ, em="em-b", status="compliant", generated_at="2026-11-22T06:00:00Z",
                     summary={"vms_total": 3}, first_violations=[])
    result = run_module(module, {"parts": [READ, last_week], "max_part_age_hours": 36, "now": NOW}, capsys)
    assert result["fleet"]["status"] == "error"
    assert [(e["em"], e["code"]) for e in result["fleet"]["errors"]] == [("em-b", "stale_part")]
    assert "; max_part_age_hours=36.0)" in result["fleet"]["errors"][0]["message"]
    assert result["stats"]["ems"] == {"em-a": "violation", "em-b": "error"}


def test_a_negative_max_part_age_is_refused_naming_the_option(capsys):
    result = run_module(module, {"parts": [READ], "max_part_age_hours": -2}, capsys)
    assert result["failed"] is True
    assert "max_part_age_hours must be a number of hours above 0" in result["msg"] and "got -2.0" in result["msg"]
