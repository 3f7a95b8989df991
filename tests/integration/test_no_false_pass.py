"""Issue 14, no false pass: the compliance role end to end against the emulator.

* every VM EM keeps sessions of is judged, also one whose backups stopped before the window
  (the generated fleet stops ~1 VM in 100 three to seven days before ``now``: the demo's shape);
* an account that is not a Portal Administrator is named as a partial view and the run is not
  compliant. [EMULATOR] How a real Portal User's view looks is not documented in detail
  (FACTS 1.3: "lower roles yield fewer objects, not an error"); the emulator hides one whole
  backup server (``restricted``) from ``emuser`` and refuses it ``type=Job`` with 403, as the
  EM docs say for every role but Portal Administrator;
* a scope narrowed to one VM or one job raises no ``server_silent`` on the other servers and
  shows only its own jobs;
* an outage (wrong password) is ``status: error`` everywhere - fact, set_stats, JSON, JUnit
  ``<error>``, HTML banner, and the failing task's message - not a violation.
"""
import json
import os
import re

import pytest

from emulator.harness import Emulator
from integration.test_compliance_role import em_env, read_reports, run_playbook

pytestmark = pytest.mark.slow

NOW = "2025-06-05T06:00:00Z"
LOOKBACK_DAYS = 2   # the fleet's stopped VMs (3 to 7 days ago) are all before this window


@pytest.fixture(scope="module")
def fleet():
    with Emulator(vms=100, days=30, seed=14, now=NOW, tls=True) as em:
        yield em


def fleet_sessions(em):
    """(server name, VM name, job name, creation time) of every task session the emulator holds."""
    dataset = em.dataset()
    server_name = {s["id"]: s["name"] for s in dataset["backup_servers"]}
    jobs = {j["id"]: (server_name[j["backup_server_id"]], j["name"]) for j in dataset["jobs"]}
    session_job = {s["id"]: s["job_id"] for s in dataset["job_sessions"]}
    rows = []
    for task in dataset["task_sessions"]:
        server, job = jobs[session_job[task["job_session_id"]]]
        rows.append((server, task["vm_display_name"], job, task["creation_time"]))
    return rows


def with_custom_stats(env):
    """Print set_stats data at the end of the play, so the test can read what AWX would get."""
    env = dict(env)
    env["ANSIBLE_SHOW_CUSTOM_STATS"] = "true"
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    return env


def test_every_vm_of_the_history_is_judged_and_a_stopped_vm_has_its_real_age(fleet, tmp_path):
    run = run_playbook(em_env(fleet), tmp_path, veeam_em_compliance_now=NOW,
                       veeam_em_compliance_lookback_days=LOOKBACK_DAYS)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result, _junit, _page = read_reports(tmp_path)

    sessions = fleet_sessions(fleet)
    every_vm = {(server, vm) for server, vm, _job, _created in sessions}
    rows = {(row["backup_server_name"], row["vm_display_name"]): row for row in result["vms"]}
    assert set(rows) == every_vm
    assert result["summary"]["vms_total"] == len(every_vm)

    newest = {}
    for server, vm, _job, created in sessions:
        newest[(server, vm)] = max(newest.get((server, vm), ""), created)
    window_start = "2025-06-03T06:00:00"
    stopped = {key for key, created in newest.items() if created < window_start}
    assert stopped, "the fleet has no VM whose backups stopped before the window"
    assert result["summary"]["vms_from_history"] == len(stopped)
    for key in stopped:
        row = rows[key]
        assert row["status"] == "violation" and row["reasons"][0] == "rpo_exceeded", row
        assert row["backup"]["last_success_age_hours"] > 24 * LOOKBACK_DAYS, row
        assert "no backup session in the 2-day window" in row["findings"][0]["message"]
        assert any(v["vm_display_name"] == key[1] and v["code"] == "rpo_exceeded" for v in result["violations"])


def test_portal_user_is_a_partial_view_and_not_compliant_emulator_hides_a_server(fleet, tmp_path):
    run = run_playbook(em_env(fleet, username="emuser", password="emuser-Pass1"), tmp_path,
                       veeam_em_compliance_now=NOW)
    assert run.returncode != 0
    assert "could not be read in full" in run.stdout and "not a Portal Administrator" in run.stdout
    result, junit, page = read_reports(tmp_path)
    assert result["status"] == "error" and result["compliant"] is False
    assert [e["code"] for e in result["errors"]] == ["partial_view"]
    message = result["errors"][0]["message"]
    assert "EMULATOR\\emuser" in message
    visible = {s["name"] for s in fleet.dataset()["backup_servers"] if "restricted" not in s["name"]}
    for name in visible:
        assert name in message
    assert not any("restricted" in (row["backup_server_name"] or "") for row in result["vms"])
    global_case = junit.find(".//testcase[@classname='veeam_em_compliance']")
    assert global_case.find("error") is not None and global_case.find("error").get("type") == "partial_view"
    assert 'class="banner error"' in page


def test_an_allowed_partial_view_is_a_warning_that_still_names_the_account(fleet, tmp_path):
    run = run_playbook(em_env(fleet, username="emuser", password="emuser-Pass1"), tmp_path,
                       veeam_em_compliance_now=NOW, veeam_em_compliance_allow_partial_view=True)
    assert run.returncode == 0, run.stdout[-4000:]
    result, _junit, _page = read_reports(tmp_path)
    assert result["status"] != "error" and result["errors"] == []
    partial = [w for w in result["warnings"] if w["code"] == "partial_view"]
    assert len(partial) == 1 and "EMULATOR\\emuser" in partial[0]["message"]


def test_one_vm_scope_raises_no_silent_server_and_shows_only_its_jobs(fleet, tmp_path):
    sessions = fleet_sessions(fleet)
    servers_of = {}
    for server, vm, _job, _created in sessions:
        servers_of.setdefault(vm, set()).add(server)
    # a plain name (no glob characters) on one backup server
    vm = sorted(name for name, servers in servers_of.items() if len(servers) == 1 and re.match(r"^[A-Za-z0-9-]+$", name))[0]
    server = next(iter(servers_of[vm]))
    its_jobs = {job for s, name, job, _created in sessions if name == vm}
    run = run_playbook(em_env(fleet), tmp_path, veeam_em_compliance_now=NOW, veeam_em_compliance_include_vms=[vm])
    assert run.returncode == 0, run.stdout[-4000:]
    result, _junit, _page = read_reports(tmp_path)
    assert {(row["backup_server_name"], row["vm_display_name"]) for row in result["vms"]} == {(server, vm)}
    assert [s["backup_server_name"] for s in result["servers"]] == [server]
    assert result["summary"]["servers_silent"] == 0
    assert not [v for v in result["violations"] if v["code"] == "server_silent"]
    assert result["jobs"] and {job["job_name"] for job in result["jobs"]} <= its_jobs


def test_one_job_scope_raises_no_silent_server(fleet, tmp_path):
    sessions = fleet_sessions(fleet)
    servers_of_job = {}
    for server, _vm, job, _created in sessions:
        servers_of_job.setdefault(job, set()).add(server)
    job = sorted(name for name, servers in servers_of_job.items()
                 if len(servers) == 1 and not any("restricted" in server for server in servers))[0]
    server = next(iter(servers_of_job[job]))
    run = run_playbook(em_env(fleet), tmp_path, veeam_em_compliance_now=NOW, veeam_em_compliance_include_jobs=[job])
    assert run.returncode == 0, run.stdout[-4000:]
    result, _junit, _page = read_reports(tmp_path)
    assert [s["backup_server_name"] for s in result["servers"]] == [server]
    assert result["summary"]["servers_silent"] == 0
    assert {j["job_name"] for j in result["jobs"]} == {job}
    assert {tuple(row["jobs"]) for row in result["vms"]} == {(job,)}


def test_wrong_password_is_an_error_everywhere_not_a_violation(fleet, tmp_path):
    env = with_custom_stats(em_env(fleet, password="not-the-password"))
    run = run_playbook(env, tmp_path, veeam_em_compliance_now=NOW)
    assert run.returncode != 0
    assert "Enterprise Manager could not be read (status error, not a compliance verdict)" in run.stdout
    assert "401" in run.stdout and "not-the-password" not in run.stdout
    assert "Status: error" in run.stdout                       # the fact, as the role shows it
    assert "'status': 'error'" in run.stdout or '"status": "error"' in run.stdout  # set_stats (CUSTOM STATS)
    result, junit, page = read_reports(tmp_path)
    assert result["status"] == "error" and result["compliant"] is False
    assert result["violations"] == [] and [e["code"] for e in result["errors"]] == ["read_error"]
    assert junit.get("errors") == "1" and junit.get("failures") == "0"
    assert junit.find(".//error") is not None and junit.find(".//failure") is None
    assert 'class="banner error"' in page and "could not be read" in page
    # the banner's counts say what they count (issue 17 wording): VMs, then findings by kind
    assert "0 of 0 VMs in violation" in page and "findings: 0 violations, 0 warnings, 1 read error" in page
    assert fleet.stats()["open_sessions"] == 0
    with open(os.path.join(tmp_path, "compliance.json"), encoding="utf-8") as handle:
        assert "not-the-password" not in handle.read()
    assert json.dumps(result).count("read_error") >= 1
