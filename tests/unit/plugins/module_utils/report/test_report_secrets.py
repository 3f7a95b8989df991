"""Compliance reports pass through the one scrubber (em_secrets.scrub).

Report texts are written to files and mailed, outside Ansible's no_log masking of the module
result, so em_compliance_module.outputs() must mask every registered secret in each of them. The
password is planted where EM's own words go: a failed session's reason. It has characters that
each format escapes differently (& < > "), so the masking must catch the escaped forms too.
"""
import json

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance, em_compliance_module, em_secrets
from unit.plugins.module_utils.compliance.conftest import build_session

NOW = "2025-06-05T06:00:00Z"
PASSWORD = u'Rep0rt-&<pw>"s3cret"'
FORMATS = ["json", "junit", "html"]


def planted():
    """An evaluation whose failed session's reason echoes the password (and its HTML-escaped form)."""
    em_secrets.register_credentials("report-user", PASSWORD)
    failed = build_session(vm="leaky01", result="Failed",
                           reason="Logon failed for report-user with password %s" % PASSWORD)
    result = em_compliance.evaluate([failed], now=NOW)
    assert PASSWORD in result["vms"][0]["findings"][1]["message"]  # the plant is really in the verdicts
    return result


def test_the_password_in_a_reason_is_masked_in_all_three_reports():
    params = {"report_formats": FORMATS, "report_title": "Night", "detail": "full"}
    reports = em_compliance_module.outputs(params, planted())["reports"]
    assert sorted(reports) == sorted(FORMATS)
    for name in FORMATS:
        text = reports[name]
        for form in (PASSWORD, json.dumps(PASSWORD)[1:-1], "Rep0rt-&amp;&lt;pw&gt;", "s3cret"):
            assert form not in text, (name, form)
        assert "with password %s" % em_secrets.MASK in text, name


def test_compact_detail_reports_are_masked_too():
    params = {"report_formats": FORMATS, "report_title": "Night", "detail": "compact"}
    reports = em_compliance_module.outputs(params, planted())["reports"]
    assert all("s3cret" not in reports[name] and em_secrets.MASK in reports[name] for name in FORMATS)


def test_the_password_in_a_reason_is_masked_in_every_written_file(tmp_path):
    """With report_dir the module writes the files itself: every file (reports, state, dated copies) is masked."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report

    params = dict((key, spec.get("default")) for key, spec in em_compliance_report.argument_spec().items())
    params.update(report_formats=FORMATS, report_dir=str(tmp_path), detail="compact")
    found = em_compliance_module.outputs(params, planted())
    assert found["reports"] == {}
    assert sorted(found["report_files"]["files"]) == ["html", "json", "junit", "state", "trend"]
    names = sorted(path.name for path in tmp_path.iterdir())
    assert len(names) == 10
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8")
        for form in (PASSWORD, json.dumps(PASSWORD)[1:-1], "Rep0rt-&amp;&lt;pw&gt;", "s3cret"):
            assert form not in text, (path.name, form)
        if not path.name.endswith(".trend.json"):  # the trend record holds VM and job keys only, no texts
            assert "with password %s" % em_secrets.MASK in text, path.name


def test_a_report_dir_that_cannot_be_written_is_a_report_error(tmp_path):
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_report

    blocker = tmp_path / "file"
    blocker.write_text("x")
    params = dict((key, spec.get("default")) for key, spec in em_compliance_report.argument_spec().items())
    params.update(report_formats=FORMATS, report_dir=str(blocker / "sub"), detail="full")
    found = em_compliance_module.outputs(params, planted())
    assert found["report_error"].startswith("report_dir=%s: the reports could not be written: " % (blocker / "sub"))
    assert found["report_files"] == {} and found["reports"] == {}


def test_a_password_that_is_an_ordinary_word_leaves_the_report_keys_alone(monkeypatch):
    """The reports are scrubbed as text, in any letter case: a password "backup" turned every key
    "backup_server_name", "backup_rpo_hours" into stars. A weak secret (em_secrets.is_weak) is masked as a whole
    word, in any case: the echo is still masked, upper-cased too."""
    for name, value in (("_FORMS", set()), ("_PATTERN", [None]), ("_WEAK_PATTERN", [None]), ("_LOWERED", []),
                        ("_WEAK", []), ("_SINKS", [])):
        monkeypatch.setattr(em_secrets, name, value, raising=False)  # a registry of this test's own
    em_secrets.register("backup")
    failed = build_session(vm="vm01", result="Failed", reason="Logon failed with password backup (BACKUP)")
    result = em_compliance.evaluate([failed], now=NOW)
    text = em_compliance_module.outputs({"report_formats": ["json"], "report_title": "Night", "detail": "full"},
                                        result)["reports"]["json"]
    assert "with password ******** (********)" in text and "password backup" not in text
    document = json.loads(text)
    plain = json.loads(json.dumps(result))
    assert set(document["vms"][0]) == set(plain["vms"][0]) and set(document["summary"]) == set(plain["summary"])
    assert '"backup_server_name"' in text and '"backup_rpo_hours"' in text
