"""The end of `make demo` (tools/demo.py): the verdict, the failing VMs worst first (top N, with the
count of all), the failing jobs, and the report to open - not a dump of internal counters."""
import importlib.util
import json
import os

from collection_layout import REPO_ROOT

SPEC = importlib.util.spec_from_file_location("demo_tool", os.path.join(REPO_ROOT, "tools", "demo.py"))
demo = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(demo)


def vm(name, age, status="violation"):
    finding = {"code": "rpo_exceeded", "severity": "violation",
               "message": "data of the last successful backup is %sh old (RPO 24h)" % age}
    return {"vm_display_name": name, "backup_server_name": "vbr01.test", "status": status,
            "reasons": ["rpo_exceeded"] if status == "violation" else [],
            "findings": [finding] if status == "violation" else [], "backup": {"last_success_age_hours": age}}


def test_summary_names_the_worst_failing_vms_and_the_report(tmp_path, monkeypatch, capsys):
    vms = [vm("vm%02d" % number, 30 + number) for number in range(12)] + [vm("never", None)] + \
        [vm("fine", 2, status="compliant")]
    report = {"status": "violation", "errors": [], "vms": vms,
              "jobs": [{"job_name": "Nightly", "backup_server_name": "vbr01.test", "failed": True,
                        "failed_sessions": 16, "sessions": 16}],
              "summary": {"vms_total": 300, "vms_violation": 13, "vms_warning": 0, "vms_compliant": 287,
                          "sessions_outside_window": 775}}
    monkeypatch.setattr(demo, "REPORT_DIR", str(tmp_path))
    (tmp_path / "compliance.json").write_text(json.dumps(report), encoding="utf-8")
    assert demo.print_summary() == 300
    out = capsys.readouterr().out
    assert "Result: violation. VMs judged: 300 of the fleet's 300 - 13 in violation" in out
    assert "Failing VMs (10 of 13, longest without a good backup first):" in out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ") and "rpo_exceeded" in line]
    assert listed == ["never", "vm11", "vm10", "vm09", "vm08", "vm07", "vm06", "vm05", "vm04", "vm03"]
    assert "Nightly (vbr01.test): 16 of 16 runs failed" in out
    assert "Open the report: " in out and os.path.join(str(tmp_path), "compliance.html") in out
    assert "sessions_outside_window" not in out and "fine" not in out


def test_summary_says_what_changed_since_the_last_report(tmp_path, monkeypatch, capsys):
    """The module compares with the previous report in the directory; the demo's last lines say so."""
    base = {"status": "violation", "errors": [], "vms": [vm("vm01", 30)], "jobs": [],
            "summary": {"vms_total": 1, "vms_violation": 1, "vms_warning": 0, "vms_compliant": 0}}
    monkeypatch.setattr(demo, "REPORT_DIR", str(tmp_path))
    first = dict(base, changes={"first_report": True, "previous_generated_at": None, "new": [], "recurring": [],
                                "resolved": []})
    (tmp_path / "compliance.json").write_text(json.dumps(first), encoding="utf-8")
    demo.print_summary()
    assert "Since the last report: first report in " in capsys.readouterr().out
    second = dict(base, changes={"first_report": False, "previous_generated_at": "2026-11-28T02:00:00Z",
                                 "new": [{"key": "a"}], "recurring": [{"key": "b"}, {"key": "c"}], "resolved": []})
    (tmp_path / "compliance.json").write_text(json.dumps(second), encoding="utf-8")
    demo.print_summary()
    assert ("Since the last report: 1 new, 2 recurring, 0 resolved finding(s) (previous report "
            "2026-11-28T02:00:00Z).") in capsys.readouterr().out
