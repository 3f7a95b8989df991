"""AWX scale-out of the fleet run (issue 19), played with ansible-runner, the engine AWX runs jobs with.

AWX job slicing (``job_slice_count`` > 1) runs the same playbook once per slice, each on a part of the
inventory; the next workflow node receives the slices' ``set_stats`` artifacts as extra vars, combined
by a top-level dict update (ansible/awx#12223, get_combined_artifacts; parents' artifacts likewise in
WorkflowJobNode.get_job_kwargs). Here: two slice runs of playbooks/fleet_compliance.yml (merge off)
on parts of one inventory (``--limit``, as AWX's slice inventories), the artifacts read from the
``playbook_on_stats`` event where AWX reads them (``artifact_data``), combined in order with
``dict.update``, and fed as extra vars to playbooks/fleet_compliance_merge.yml on the full inventory.
A fourth EM whose slice never ran (a lost execution node) must be an error, not a gap.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from collection_layout import REPO_ROOT, link_collection
from fleet_support import WRONG_PASSWORD, em_host_vars, emulators, write_inventory

PLAYBOOKS = os.path.join(REPO_ROOT, "playbooks")
FLEET = {"em-a": dict(vms=20, days=8, seed=21), "em-b": dict(vms=20, days=8, seed=22),
         "em-c": dict(vms=10, days=8, seed=23)}
SLICES = ["em-a,em-c", "em-b"]  # what AWX's slicing would make of [em-a, em-b, em-c, em-lost] with 2 slices,
# minus em-lost: its slice "ran on a node that died" and published nothing
ARTIFACT_PREFIX = "veeam_em_fleet_em_"


@pytest.fixture(scope="module")
def fleet():
    with emulators(FLEET) as ems:
        yield ems


def private_data_dir(base, name, hosts, extravars):
    pdd = base / name
    (pdd / "env").mkdir(parents=True)
    shutil.copytree(PLAYBOOKS, str(pdd / "project"))
    (pdd / "inventory").mkdir()
    write_inventory(pdd / "inventory" / "hosts.yml", hosts)
    envvars = {"ANSIBLE_COLLECTIONS_PATH": link_collection(), "ANSIBLE_NOCOLOR": "1"}
    (pdd / "env" / "envvars").write_text(json.dumps(envvars))
    (pdd / "env" / "extravars").write_text(json.dumps(extravars))
    return pdd


def run_runner(pdd, playbook, ident, limit=None):
    bin_dir = os.path.dirname(sys.executable)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("VEEAM_EM_"))
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    command = [os.path.join(bin_dir, "ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", ident,
               "--omit-env-files"]
    if limit:
        command += ["--limit", limit]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, env=env)
    artifacts = pdd / "artifacts" / ident
    status = (artifacts / "status").read_text().strip()
    return completed, status, artifacts


def artifact_data(artifacts):
    """What AWX stores as the job's artifacts: artifact_data of the playbook_on_stats event."""
    for path in glob.glob(str(artifacts / "job_events" / "*.json")):
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
        if event.get("event") == "playbook_on_stats":
            return event["event_data"].get("artifact_data") or {}
    raise AssertionError("no playbook_on_stats event in %s" % artifacts)


@pytest.fixture(scope="module")
def sliced(fleet, tmp_path_factory):
    base = tmp_path_factory.mktemp("awx")
    hosts = {"em-a": em_host_vars(fleet["em-a"]), "em-b": em_host_vars(fleet["em-b"]),
             "em-c": em_host_vars(fleet["em-c"], password=WRONG_PASSWORD),
             "em-lost": em_host_vars(fleet["em-a"])}
    slices = []
    for number, limit in enumerate(SLICES, start=1):
        pdd = private_data_dir(base, "slice%d" % number, hosts, {
            "veeam_em_fleet_merge": False, "veeam_em_fleet_report_dir": str(base / ("slice%d-reports" % number))})
        completed, status, artifacts = run_runner(pdd, "fleet_compliance.yml", "slice%d" % number, limit=limit)
        slices.append({"limit": limit, "completed": completed, "status": status,
                       "artifacts": artifact_data(artifacts), "dir": artifacts})
    combined = {}
    for one in slices:  # AWX: a top-level dict update, slice after slice
        combined.update(one["artifacts"])
    report_dir = base / "fleet-reports"
    merge_pdd = private_data_dir(base, "merge", hosts, dict(combined, veeam_em_fleet_report_dir=str(report_dir)))
    completed, status, artifacts = run_runner(merge_pdd, "fleet_compliance_merge.yml", "merge")
    merge = {"completed": completed, "status": status, "artifacts": artifact_data(artifacts), "dir": artifacts}
    return slices, combined, merge, report_dir


def test_each_slice_succeeds_and_publishes_one_artifact_key_per_em(sliced):
    slices, _combined, _merge, _reports = sliced
    for one in slices:
        output = one["completed"].stdout + one["completed"].stderr
        # an EM refusing the password is recorded for the merge; the slice itself succeeds
        assert one["status"] == "successful", output[-4000:]
        keys = [key for key in one["artifacts"] if key.startswith(ARTIFACT_PREFIX)]
        ems = sorted(one["artifacts"][key]["em"] for key in keys)
        assert ems == sorted(one["limit"].split(","))
        assert "veeam_em_compliance_stats" not in one["artifacts"]  # one shared key would be overwritten
        for key in keys:  # small: counts, status, the first findings, report paths
            assert len(json.dumps(one["artifacts"][key])) < 16000, key


def test_awx_combination_of_the_slices_artifacts_loses_nothing(sliced):
    slices, combined, _merge, _reports = sliced
    keys = [set(one["artifacts"]) for one in slices]
    assert not keys[0] & keys[1]
    for one in slices:
        for key, value in one["artifacts"].items():
            assert combined[key] == value
    assert sorted(value["em"] for key, value in combined.items() if key.startswith(ARTIFACT_PREFIX)) == [
        "em-a", "em-b", "em-c"]


def test_the_merge_node_builds_one_fleet_verdict_from_the_artifacts(sliced):
    _slices, combined, merge, report_dir = sliced
    output = merge["completed"].stdout + merge["completed"].stderr
    assert merge["status"] == "failed", output[-4000:]  # the fleet is in error: the job says so
    with open(str(report_dir / "fleet_compliance.json"), encoding="utf-8") as handle:
        fleet = json.load(handle)
    statuses = dict((entry["em"], entry["status"]) for entry in fleet["ems"])
    assert statuses["em-c"] == statuses["em-lost"] == "error"
    assert statuses["em-a"] != "error" and statuses["em-b"] != "error"
    assert fleet["status"] == "error"
    assert sorted((e["em"], e["code"]) for e in fleet["errors"]) == [("em-c", "em_error"), ("em-lost", "no_result")]
    parts = dict((value["em"], value) for key, value in combined.items() if key.startswith(ARTIFACT_PREFIX))
    for em in ("em-a", "em-b"):
        entry = [e for e in fleet["ems"] if e["em"] == em][0]
        assert entry["summary"]["vms_total"] == parts[em]["summary"]["vms_total"] > 0
        assert entry["status"] == parts[em]["status"]
        assert "vms" not in entry  # artifacts carry no VM rows
    assert fleet["summary"]["vms_total"] == sum(parts[em]["summary"]["vms_total"] for em in parts)
    # the merge node's own artifact: the fleet verdict for later workflow nodes
    stats = merge["artifacts"]["veeam_em_fleet_stats"]
    assert stats["status"] == "error"
    assert stats["ems"] == statuses
    for name in ("fleet_compliance.xml", "fleet_compliance.html"):
        assert (report_dir / name).is_file()


def test_no_password_in_artifacts_or_job_events(sliced, fleet):
    slices, combined, merge, _reports = sliced
    texts = [json.dumps(combined), json.dumps(merge["artifacts"])]
    for one in slices + [merge]:
        texts.append(one["completed"].stdout + one["completed"].stderr)
        for path in glob.glob(str(one["dir"] / "job_events" / "*.json")):
            with open(path, encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
    everything = "\n".join(texts)
    assert WRONG_PASSWORD not in everything
    assert fleet["em-a"].password not in everything
    for em in fleet.values():
        assert em.stats()["open_sessions"] == 0
