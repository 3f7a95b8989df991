"""The inventory plugin end to end: real ansible-inventory, the emulator over HTTPS.

A hand-written dataset pins every host, group and variable (fixed clock): a compliant VM with a
replica, a failed backup, the same VM name on two backup servers (distinct hosts), a known backup
server with no session (its group, no hosts, status violation). Then the cache (a second run sends
no request), the loud failures (wrong password, nothing in scope) and ansible-doc.
"""
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from collection_layout import REPO_ROOT, ansible_env
from emulator.harness import Emulator

pytestmark = pytest.mark.slow
BIN = os.path.dirname(sys.executable)
NOW = "2025-06-05T06:00:00Z"
SERVERS = {"A": "vbr01.test", "B": "vbr02.test", "C": "vbr-old.test"}
JOBS = {("A", "backup"): "Backup Job A", ("A", "replica"): "Replica Job A", ("B", "backup"): "Backup Job-B"}
# (server, vm, kind, hours before NOW, state, result, reason); every session lasts 10 minutes.
SESSIONS = [
    ("A", "ok01", "backup", 29, "Completed", "Success", ""),
    ("A", "ok01", "backup", 5, "Completed", "Success", ""),
    ("A", "ok01", "replica", 4, "Completed", "Success", ""),
    ("A", "fail01", "backup", 20, "Completed", "Success", ""),
    ("A", "fail01", "backup", 5, "Completed", "Failed", "Error: There is not enough space on the disk."),
    ("A", "dc01", "backup", 5, "Completed", "Success", ""),
    ("B", "dc01", "backup", 50, "Completed", "Success", ""),
    ("B", "web02", "backup", 3, "Completed", "Success", ""),
]


def _guid(number):
    return str(uuid.UUID(int=number))


def _at(hours_before_now):
    moment = datetime(2025, 6, 5, 6, 0, tzinfo=timezone.utc) - timedelta(hours=hours_before_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_dataset():
    servers = [{"id": _guid(index + 1), "name": name} for index, name in enumerate(SERVERS.values())]
    server_id = {key: _guid(index + 1) for index, key in enumerate(SERVERS)}
    vms, jobs, job_sessions, task_sessions = {}, {}, [], []
    for number, (server, vm, kind, hours, state, result, reason) in enumerate(SESSIONS, start=100):
        vm_id = vms.setdefault((server, vm), {
            "id": "urn:VMware:Vm:vc-%s.vm-%d" % (server.lower(), len(vms) + 1), "name": vm,
            "backup_server_id": server_id[server], "size_bytes": 10 ** 9})["id"]
        job = jobs.setdefault((server, kind), {
            "id": _guid(1000 + len(jobs)), "name": JOBS[(server, kind)],
            "type": "Backup" if kind == "backup" else "Replica", "backup_server_id": server_id[server], "vms": []})
        if vm_id not in job["vms"]:
            job["vms"].append(vm_id)
        job_sessions.append({
            "id": _guid(number), "job_id": job["id"], "creation_time": _at(hours), "end_time": _at(hours - 1 / 6.0),
            "state": "Stopped", "result": result, "progress": 100, "is_retry": False})
        task_sessions.append({
            "id": _guid(5000 + number), "job_session_id": _guid(number), "vm_id": vm_id, "vm_display_name": vm,
            "creation_time": _at(hours), "end_time": _at(hours - 1 / 6.0), "state": state, "result": result,
            "reason": reason, "total_size": 10 ** 9,
            "point_id": _guid(9000 + number) if result == "Success" else None})
    return {"format": "veeam-em-emulator-dataset/1", "generated_now": NOW, "backup_servers": servers,
            "vms": list(vms.values()), "jobs": list(jobs.values()), "job_sessions": job_sessions,
            "task_sessions": task_sessions}


def em_env(emulator, password=None):
    """The connection as an AWX credential injects it: the VEEAM_EM_* variables the modules read too."""
    env = ansible_env()
    env.update({
        "VEEAM_EM_SERVER": emulator.host,
        "VEEAM_EM_PORT": str(emulator.port),
        "VEEAM_EM_USERNAME": emulator.username,
        "VEEAM_EM_PASSWORD": password or emulator.password,
        "VEEAM_EM_VALIDATE_CERTS": "true",
        "VEEAM_EM_CA_PATH": emulator.ca_file,
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_INVENTORY_ENABLED": "backupops.veeam_em.veeam_em",
    })
    return env


def write_source(tmp_path, **options):
    config = {"plugin": "backupops.veeam_em.veeam_em", "now": NOW}
    config.update(options)
    path = tmp_path / "em.veeam_em.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


def inventory(env, source, *args):
    command = [os.path.join(BIN, "ansible-inventory"), "-i", source] + list(args)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, check=False)


def listing(env, source):
    run = inventory(env, source, "--list")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return plain(json.loads(run.stdout)), run


def plain(value):
    """The listing without ansible-inventory's ``{"__ansible_unsafe": x}`` marks: the plugin marks EM's
    text unsafe (never templated), and --list prints the mark."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return plain(value["__ansible_unsafe"])
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def members(listed, group):
    return sorted(listed.get(group, {}).get("hosts", []))


@pytest.fixture(scope="module")
def em():
    with Emulator(dataset=build_dataset(), now=NOW, tls=True) as emulator:
        yield emulator


CONSTRUCTED = {
    "compose": {"ansible_host": "veeam_vm_name"},
    "keyed_groups": [{"key": "veeam_reasons", "prefix": "veeam_reason"}],
    "groups": {"veeam_stale": "veeam_last_backup_age_hours > 24"},
}


def test_groups_and_host_vars(em, tmp_path):
    em.reset_stats()
    listed, _run = listing(em_env(em), write_source(tmp_path, **CONSTRUCTED))
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(hostvars) == ["dc01@vbr01.test", "dc01@vbr02.test", "fail01", "ok01", "web02"]
    assert members(listed, "veeam_status_compliant") == ["dc01@vbr01.test", "ok01", "web02"]
    assert members(listed, "veeam_status_violation") == ["dc01@vbr02.test", "fail01"]
    assert members(listed, "veeam_status_warning") == []
    assert "veeam_status_warning" in listed["all"]["children"]  # always there, so `hosts:` on it never errors
    assert members(listed, "veeam_server_vbr01_test") == ["dc01@vbr01.test", "fail01", "ok01"]
    assert members(listed, "veeam_server_vbr02_test") == ["dc01@vbr02.test", "web02"]
    assert members(listed, "veeam_job_Backup_Job_A") == ["dc01@vbr01.test", "fail01", "ok01"]
    assert members(listed, "veeam_job_Replica_Job_A") == ["ok01"]
    assert members(listed, "veeam_job_Backup_Job_B") == ["dc01@vbr02.test", "web02"]
    # Constructable: keyed_groups, groups, compose
    assert members(listed, "veeam_reason_rpo_exceeded") == ["dc01@vbr02.test"]
    assert members(listed, "veeam_reason_last_backup_failed") == ["fail01"]
    assert members(listed, "veeam_stale") == ["dc01@vbr02.test"]
    assert hostvars["dc01@vbr02.test"]["ansible_host"] == "dc01"

    ok01 = hostvars["ok01"]
    assert (ok01["veeam_status"], ok01["veeam_reasons"], ok01["veeam_backup_server"]) == ("compliant", [], "vbr01.test")
    assert ok01["veeam_jobs"] == ["Backup Job A", "Replica Job A"]
    assert ok01["veeam_vm_uid"] == "urn:VMware:Vm:vc-a.vm-1"
    assert ok01["veeam_last_backup_time"] == "2025-06-05T01:00:00Z"
    assert ok01["veeam_last_backup_result"] == "Success"
    assert ok01["veeam_last_backup_success_time"] == "2025-06-05T01:00:00Z"
    assert ok01["veeam_last_backup_success_end_time"] == "2025-06-05T01:10:00Z"
    assert ok01["veeam_last_backup_age_hours"] == 5.0
    assert ok01["veeam_backup_sessions"] == 2
    assert ok01["veeam_replica_state"] == "success"
    assert ok01["veeam_last_replica_age_hours"] == 4.0
    # the point of the newest successful backup (session 101, ok01's second)
    assert ok01["veeam_last_restore_point_uid"] == "urn:veeam:VmRestorePoint:" + _guid(9101)
    assert ok01["veeam_evaluated_at"] == NOW

    fail01 = hostvars["fail01"]
    assert (fail01["veeam_status"], fail01["veeam_reasons"]) == ("violation", ["last_backup_failed"])
    assert fail01["veeam_last_backup_result"] == "Failed"
    assert fail01["veeam_last_backup_time"] == "2025-06-05T01:00:00Z"
    assert fail01["veeam_last_backup_success_time"] == "2025-06-04T10:00:00Z"
    assert fail01["veeam_last_backup_age_hours"] == 20.0
    assert "not enough space" in fail01["veeam_findings"][0]["message"]
    assert hostvars["web02"]["veeam_replica_state"] == "none"
    assert hostvars["web02"]["veeam_last_replica_age_hours"] is None

    stale = hostvars["dc01@vbr02.test"]
    assert (stale["veeam_vm_name"], stale["veeam_backup_server"]) == ("dc01", "vbr02.test")
    assert (stale["veeam_status"], stale["veeam_reasons"], stale["veeam_last_backup_age_hours"]) == \
        ("violation", ["rpo_exceeded"], 50.0)
    assert hostvars["dc01@vbr01.test"]["veeam_status"] == "compliant"

    # The server rules' verdicts are group variables (--list merges them into the hosts' variables).
    assert (ok01["veeam_server_status"], ok01["veeam_server_reasons"]) == ("compliant", [])
    assert ok01["veeam_server_last_session_time"] == "2025-06-05T02:10:00Z"  # ok01's replica, the latest end

    stats = em.stats()
    assert stats["sessions_created"] == 1 and stats["open_sessions"] == 0, stats


def test_known_server_without_sessions_has_its_group(em, tmp_path):
    run = inventory(em_env(em), write_source(tmp_path), "--list", "--export")
    assert run.returncode == 0, run.stderr[-3000:]
    exported = plain(json.loads(run.stdout))
    assert "veeam_server_vbr_old_test" in exported["all"]["children"]
    assert members(exported, "veeam_server_vbr_old_test") == []
    assert exported["veeam_server_vbr_old_test"]["vars"] == {
        "veeam_server_status": "violation", "veeam_server_reasons": ["server_silent"],
        "veeam_server_last_session_time": None}


def test_graph_and_hostnames_with_server(em, tmp_path):
    run = inventory(em_env(em), write_source(tmp_path, hostnames="vm_name_server"), "--graph")
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line.strip(" |-@:") for line in run.stdout.splitlines()]
    assert "veeam_status_violation" in lines and "veeam_server_vbr02_test" in lines
    assert "ok01@vbr01.test" in lines and "web02@vbr02.test" in lines and "ok01" not in lines


def test_filters_and_policy_options(em, tmp_path):
    listed, _run = listing(em_env(em), write_source(tmp_path, exclude_servers=["vbr01*"], backup_rpo_hours=60))
    assert sorted(listed["_meta"]["hostvars"]) == ["dc01", "web02"]  # no longer a duplicate: plain name
    assert listed["_meta"]["hostvars"]["dc01"]["veeam_status"] == "compliant"  # 50 h < 60 h


def test_cache_serves_the_second_run(em, tmp_path):
    source = write_source(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile",
                          cache_connection=str(tmp_path / "cache"))
    em.reset_stats()
    first, _run = listing(em_env(em), source)
    sent = em.stats()["requests_total"]
    assert sent >= 3  # logon, reads, logoff
    em.reset_stats()
    second, _run = listing(em_env(em), source)
    assert em.stats()["requests_total"] == 0
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    # --flush-cache reads EM again
    em.reset_stats()
    run = inventory(em_env(em), source, "--list", "--flush-cache")
    assert run.returncode == 0, run.stderr[-3000:]
    assert em.stats()["requests_total"] == sent


def test_wrong_password_fails_loudly_without_the_secret(em, tmp_path):
    secret = "Wr0ng-Secret-77"
    run = inventory(em_env(em, password=secret), write_source(tmp_path), "--list")
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "veeam_em inventory" in output and "401" in output
    assert secret not in output


def test_nothing_in_scope_is_an_error_not_an_empty_inventory(em, tmp_path):
    run = inventory(em_env(em), write_source(tmp_path, include_vms=["no-such-vm*"]), "--list")
    assert run.returncode != 0
    assert "no_data" in run.stderr and "excluded by the include/exclude patterns" in run.stderr
    assert em.stats()["open_sessions"] == 0  # logged off before failing


def test_bad_option_fails_before_any_request(em, tmp_path):
    em.reset_stats()
    run = inventory(em_env(em), write_source(tmp_path, page_size=0), "--list")
    assert run.returncode != 0 and "page_size" in run.stderr
    assert em.stats()["requests_total"] == 0


def _logged_on_token(em):
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
    client = EMClient(ConnectionOptions(em.host, port=em.port, username=em.username, password=em.password,
                                        ca_path=em.ca_file, retries=0))
    client.logon()
    return client


def test_a_session_in_the_environment_reads_em_and_never_ends_ansible_inventory(em, tmp_path):
    """Found (attack, session 15): with VEEAM_EM_SESSION_ID set (as a veeam_em_session + AWX set-up exports it)
    the plugin loaded the *module's* parameters (ansible's _load_params) in the controller: argparse over
    ansible-inventory's own argv printed a usage and exited (SystemExit 2). Now the session is used; a
    username and password written in the source file beat it, with a warning, as in a task."""
    client = _logged_on_token(em)
    try:
        env = em_env(em)
        env["VEEAM_EM_SESSION_ID"] = client.token
        for name in ("VEEAM_EM_USERNAME", "VEEAM_EM_PASSWORD"):
            env.pop(name)
        em.reset_stats()
        listed, run = listing(env, write_source(tmp_path))
        assert "unrecognized arguments" not in run.stderr and "usage:" not in run.stderr
        assert members(listed, "veeam_status_violation") and em.stats()["sessions_created"] == 0
        source = write_source(tmp_path, username=em.username, password=em.password)
        run = inventory(dict(env, VEEAM_EM_SESSION_ID=client.token), source, "--list")
        assert run.returncode == 0, run.stderr[-3000:]
        assert "VEEAM_EM_SESSION_ID from the environment is ignored" in run.stderr
        assert em.stats()["sessions_created"] == 1
    finally:
        client.logoff()
        client.close()


@pytest.mark.parametrize("value", ["", "ture"])
def test_an_empty_or_mistyped_validate_certs_variable_is_refused(em, tmp_path, value):
    """Found (attack, session 15): ansible-core's plugin configuration reads '' (a cleared AWX credential field)
    and any typo as false for a bool: the plugin read EM without checking its certificate, where every module
    refuses the same environment. Now the plugin refuses it too, before any request."""
    env = em_env(em)
    env["VEEAM_EM_VALIDATE_CERTS"] = value
    env.pop("VEEAM_EM_CA_PATH")  # no CA: a read that succeeds did not check the certificate
    em.reset_stats()
    run = inventory(env, write_source(tmp_path), "--list")
    assert run.returncode != 0
    assert "option validate_certs" in run.stderr and "VEEAM_EM_VALIDATE_CERTS" in run.stderr, run.stderr[-3000:]
    assert em.stats()["requests_total"] == 0


def test_ansible_doc_documents_the_plugin():
    run = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "inventory", "backupops.veeam_em.veeam_em"],
                         env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    for word in ("hostnames", "VEEAM_EM_SERVER", "VEEAM_EM_PASSWORD", "keyed_groups", "cache_plugin",
                 "backup_rpo_hours", "veeam_status_violation"):
        assert word in run.stdout, word
