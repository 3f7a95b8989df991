"""The version matrix: the modules and the compliance role against the emulator as EM 12 and EM 13,
in XML and in JSON (issue 13; docs/em-api-facts.md 3.3, 6, 7).

EM 13.0.1 writes camelCase JSON keys and (as the emulator plays it) a 1900-01-01 placeholder end
on running sessions; EM 12 writes PascalCase and omits the end. Every combination must give the
same facts and the same verdicts, and those must be the right ones: the rules dataset of
test_compliance_role.py pins every verdict, and its running session (stuck01) has no end.
Four module playbook runs (2 versions x 2 media types) and two role runs (JSON, the default).
"""
import base64
import json

import pytest
import requests

from emulator.harness import Emulator
from integration.test_compliance_role import EXPECTED, NOW, _guid, build_dataset, em_env, read_reports
from integration.test_compliance_role import run_playbook as run_role
from integration.test_modules_integration import run_playbook

pytestmark = pytest.mark.slow

VERSIONS = ("12", "13")
MEDIA = ("json", "xml")
RUNNING_ID = _guid(5000 + 111)  # stuck01's InProgress task session (row 11 of SESSIONS)
WINDOW_START = "2025-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def emulators():
    with Emulator(dataset=build_dataset(), now=NOW, tls=True, em_version="12") as em12, \
            Emulator(dataset=build_dataset(), now=NOW, tls=True, em_version="13") as em13:
        yield {"12": em12, "13": em13}


@pytest.fixture(scope="module")
def module_runs(emulators, tmp_path_factory):
    """{(version, media): results with the emulator's base URL taken out of every Href}."""
    runs = {}
    for version in VERSIONS:
        for media in MEDIA:
            em = emulators[version]
            tmp = tmp_path_factory.mktemp("em%s-%s" % (version, media))
            proc, results = run_playbook(em, tmp, "em_versions", {
                "media_type": media, "em_now": NOW, "window_start": WINDOW_START, "running_id": RUNNING_ID})
            assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
            assert em.stats()["open_sessions"] == 0
            runs[(version, media)] = json.loads(json.dumps(results).replace(em.base_url, "BASE"))
    return runs


def verdicts(compliance):
    return {(row["backup_server_name"], row["vm_display_name"]): (row["status"], row["reasons"])
            for row in compliance["vms"]}


def test_the_emulators_really_answer_as_their_version(emulators):
    """Guards the matrix itself: EM 13 JSON is camelCase with a placeholder end, EM 12 is not."""
    bodies = {}
    for version, em in emulators.items():
        http = requests.Session()
        http.trust_env = False
        logon = http.post(em.api_url + "/sessionMngr/?v=latest", auth=(em.username, em.password), verify=em.ca_file)
        token = logon.headers["X-RestSvcSessionId"]
        bodies[version] = http.get(em.api_url + "/backupTaskSessions/" + RUNNING_ID, params={"format": "Entity"},
                                   headers={"X-RestSvcSessionId": token, "Accept": "application/json"},
                                   verify=em.ca_file).json()
        session_id = base64.b64decode(token).decode()  # the emulator's token is base64(SessionId), facts 1.2
        assert http.delete(em.api_url + "/logonSessions/" + session_id, verify=em.ca_file,
                           headers={"X-RestSvcSessionId": token}).status_code == 204
        http.close()
    assert bodies["12"]["UID"].endswith(RUNNING_ID) and bodies["12"]["EndTimeUTC"] is None
    assert bodies["13"]["uid"].endswith(RUNNING_ID) and bodies["13"]["endTimeUTC"] == "1900-01-01T00:00:00Z"
    assert "UID" not in bodies["13"]


@pytest.mark.parametrize("version, media", [(v, m) for v in VERSIONS for m in MEDIA])
def test_same_facts_and_verdicts_in_every_version_and_media_type(module_runs, version, media):
    reference = module_runs[("12", "xml")]
    run = module_runs[(version, media)]
    for key in ("backup_task_sessions", "by_id", "replica_task_sessions", "backup_job_sessions",
                "replica_job_sessions", "backup_servers", "jobs", "vm_restore_points"):
        assert run[key] == reference[key], key
    assert verdicts(run["compliance"]) == verdicts(reference["compliance"]) == EXPECTED
    assert run["compliance"]["summary"] == reference["compliance"]["summary"]
    # the playbook replays the dataset's fixed night (NOW) on purpose: the module's replay warning, and nothing else
    assert [warning for warning in run["warnings"] if "replays a past night" not in str(warning)] == []


def test_the_facts_are_the_right_ones(module_runs):
    """Not only equal: complete, and the running session has no end in every combination."""
    for combination, run in module_runs.items():
        assert len(run["backup_task_sessions"]) == 16, combination
        assert len(run["replica_task_sessions"]) == 2, combination
        running = [item for item in run["backup_task_sessions"] if item["state"] == "InProgress"]
        assert [(item["vm_display_name"], item["end_time"]) for item in running] == [("stuck01", None)], combination
        assert [(item["id"], item["end_time"], item["creation_time"]) for item in run["by_id"]] == [
            (RUNNING_ID, None, "2025-06-04T16:00:00Z")], combination
        ended = [item for item in run["backup_task_sessions"] if item["state"] == "Completed"]
        assert ended and all(item["end_time"] > item["creation_time"] for item in ended), combination
        tasks_of_jobs = sum(len(job["task_sessions"]) for job in run["backup_job_sessions"])
        assert tasks_of_jobs == 16, combination
        working = [job for job in run["backup_job_sessions"] if job["state"] == "Working"]
        assert working and all(job["end_time"] is None for job in working), combination
        assert {server["name"] for server in run["backup_servers"]} == {"vbr01.test", "vbr02.test", "vbr-old.test"}


@pytest.mark.parametrize("version", VERSIONS)
def test_the_role_gives_the_same_verdicts_in_every_version(emulators, version, tmp_path):
    em = emulators[version]
    run = run_role(em_env(em), tmp_path, veeam_em_compliance_now=NOW,
                   veeam_em_compliance_expected_vms=["ghost01", "OK01"],
                   veeam_em_compliance_known_backup_servers=["vbr01.test", "vbr-new.test"])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result, _junit, _page = read_reports(tmp_path)
    assert verdicts(result) == EXPECTED
    assert result["summary"]["backup_sessions"] == 16 and result["summary"]["replica_sessions"] == 2
    assert em.stats()["open_sessions"] == 0


# ---- the client alone against both versions (cheap: no playbook) -------------------------------

def _client_items(em, media, resource, **query):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
    client = EMClient(ConnectionOptions(server=em.base_url, username=em.username, password=em.password,
                                        ca_path=em.ca_file), media_type=media)
    params = dict(filter_expr=None, sort_field="CreationTime", sort_order="asc", page_size=3)
    params.update(query)
    with client:
        items, info = client.query(resource, **params)
    return json.loads(json.dumps(list(items)).replace(em.base_url, "BASE")), info


@pytest.mark.parametrize("fault", [None, {"kind": "bom"}])
def test_client_reads_both_versions_alike_with_and_without_bom(emulators, fault):
    """Paging (3 per page), BOM on JSON, camelCase: the same items from each version and media type."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
        BACKUP_JOB_SESSION, BACKUP_TASK_SESSION)
    for resource, count in ((BACKUP_TASK_SESSION, 16), (BACKUP_JOB_SESSION, 16)):
        seen = {}
        for version in VERSIONS:
            for media in MEDIA:
                em = emulators[version]
                em.clear_faults()
                if fault:
                    em.set_faults(fault)
                try:
                    seen[(version, media)], info = _client_items(em, media, resource)
                finally:
                    em.clear_faults()
                assert info.pages == 6, (version, media)
        reference = seen[("12", "xml")]
        assert len(reference) == count
        assert all(items == reference for items in seen.values()), resource.name


def test_an_empty_result_is_empty_in_every_version(emulators):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
    for version in VERSIONS:
        for media in MEDIA:
            items, info = _client_items(emulators[version], media, BACKUP_TASK_SESSION,
                                        filter_expr='VmDisplayName=="no-such-vm"')
            assert items == [] and info.pages == 1, (version, media)
