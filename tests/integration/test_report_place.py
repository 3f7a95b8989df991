"""Reports land in the right place: outside the playbook's folder by default, latest plus dated copies.

By default the role used to write under ``{{ playbook_dir }}/reports``: inside the installed
collection, in AWX's discarded job folder, and from a checkout into the next galaxy build. Now the
default is the controller's ``VEEAM_EM_REPORT_DIR`` or ``~/veeam_em_reports``; each run writes
``compliance.<ext>`` (the latest) and ``compliance-YYYYmmddTHHMMSSZ.<ext>`` (kept for
``veeam_em_compliance_report_history`` runs).
"""
import json
import os
import subprocess
import sys

import pytest

from collection_layout import REPO_ROOT, ansible_env
from emulator.harness import Emulator

pytestmark = pytest.mark.slow

PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
FORMATS = ("json", "xml", "html")
# the module writes a small state beside the reports (new / resolved, trend: _report/history.py)
WRITTEN = FORMATS + ("state.json", "trend.json")
CACHE = ["compliance.history-cache.json.gz"]  # the history cache beside the reports (issue 18), never dated


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=6, days=3, seed=17, tls=True, now="2025-06-05T06:00:00Z") as emulator:
        yield emulator


def run(em, home, extra_vars=None, report_env=None):
    env = ansible_env()
    for key in ("VEEAM_EM_REPORT_DIR", "VEEAM_EM_SESSION_ID", "VEEAM_EM_PORT"):
        env.pop(key, None)
    env.update({"HOME": str(home), "VEEAM_EM_SERVER": em.base_url, "VEEAM_EM_USERNAME": em.username,
                "VEEAM_EM_PASSWORD": em.password, "VEEAM_EM_CA_PATH": em.ca_file,
                "ANSIBLE_LOCAL_TEMP": str(home / "tmp"), "ANSIBLE_REMOTE_TEMP": str(home / "tmp")})
    if report_env is not None:
        env["VEEAM_EM_REPORT_DIR"] = report_env
    variables = dict({"veeam_em_compliance_fail_on_violation": False}, **(extra_vars or {}))
    proc = subprocess.run([ANSIBLE_PLAYBOOK, PLAYBOOK, "-i", "localhost,", "-e",
                           "ansible_python_interpreter=" + sys.executable, "-e", json.dumps(variables)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=str(home), check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    return proc


def test_default_report_dir_is_home_not_the_playbook_folder(em, tmp_path):
    before = os.path.exists(os.path.join(REPO_ROOT, "playbooks", "reports"))
    run(em, tmp_path, {"veeam_em_compliance_now": "2025-06-05T06:00:00Z"})
    names = sorted(os.listdir(str(tmp_path / "veeam_em_reports")))
    assert names == sorted(["compliance.%s" % ext for ext in WRITTEN]
                           + ["compliance-20250605T060000Z.%s" % ext for ext in WRITTEN] + CACHE)
    assert os.path.exists(os.path.join(REPO_ROOT, "playbooks", "reports")) == before
    latest = (tmp_path / "veeam_em_reports" / "compliance.json").read_text(encoding="utf-8")
    assert (tmp_path / "veeam_em_reports" / "compliance-20250605T060000Z.json").read_text(encoding="utf-8") == latest
    assert json.loads(latest)["generated_at"].startswith("2025-06-05T06:00:00")


def test_veeam_em_report_dir_environment_wins_over_home(em, tmp_path):
    target = tmp_path / "from-env"
    run(em, tmp_path, {"veeam_em_compliance_report_history": 0}, report_env=str(target))
    assert sorted(os.listdir(str(target))) == sorted(["compliance.%s" % ext for ext in WRITTEN] + CACHE)
    assert not (tmp_path / "veeam_em_reports").exists()


def test_dated_copies_beyond_history_are_deleted(em, tmp_path):
    report_dir = tmp_path / "r"
    report_dir.mkdir()
    # three older runs (one of them JSON only) and a file of another basename that must stay
    for stamp in ("20250601T060000Z", "20250602T060000Z", "20250603T060000Z"):
        for ext in (FORMATS if stamp != "20250602T060000Z" else ("json",)):
            (report_dir / ("compliance-%s.%s" % (stamp, ext))).write_text("{}", encoding="utf-8")
    (report_dir / "other-20250101T000000Z.json").write_text("{}", encoding="utf-8")
    run(em, tmp_path, {"veeam_em_compliance_report_dir": str(report_dir), "veeam_em_compliance_report_history": 2,
                       "veeam_em_compliance_now": "2025-06-05T06:00:00Z"})
    assert sorted(os.listdir(str(report_dir))) == sorted(
        ["compliance.%s" % ext for ext in WRITTEN]
        + ["compliance-20250603T060000Z.%s" % ext for ext in FORMATS]
        + ["compliance-20250605T060000Z.%s" % ext for ext in WRITTEN]
        + ["other-20250101T000000Z.json"] + CACHE)


def test_a_relative_report_dir_is_refused_and_nothing_lands_in_the_playbook_folder(em, tmp_path):
    """VEEAM_EM_REPORT_DIR=reports (or the role variable) was resolved against the playbook's folder - the
    checkout's playbooks/ here, the installed collection elsewhere - and the fallback wrote there too."""
    name = "g17-relative-role-reports"
    env = ansible_env()
    for key in ("VEEAM_EM_REPORT_DIR", "VEEAM_EM_SESSION_ID", "VEEAM_EM_PORT"):
        env.pop(key, None)
    env.update({"HOME": str(tmp_path), "VEEAM_EM_SERVER": em.base_url, "VEEAM_EM_USERNAME": em.username,
                "VEEAM_EM_PASSWORD": em.password, "VEEAM_EM_CA_PATH": em.ca_file, "VEEAM_EM_REPORT_DIR": name,
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "tmp")})
    proc = subprocess.run([ANSIBLE_PLAYBOOK, PLAYBOOK, "-i", "localhost,", "-e",
                           "ansible_python_interpreter=" + sys.executable],
                          env=env, capture_output=True, text=True, timeout=600, cwd=str(tmp_path), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-3000:]
    assert "report_dir='%s': must be an absolute path" % name in output, output[-3000:]
    for folder in (REPO_ROOT, os.path.join(REPO_ROOT, "playbooks"), str(tmp_path)):
        assert not os.path.exists(os.path.join(folder, name)), folder
