"""Generator realism and determinism, dataset round trip, and the command line itself."""
import collections
import json
import os
import signal
import subprocess
import sys

import pytest

from emulator.generator import SPECIAL_VM_NAMES, generate
from emulator.harness import EMULATOR_DIR, Emulator
from emulator.model import Dataset
from emulator.timeutil import DAY_US, US, parse_dt

from .conftest import EM, NOW, query_items

NOW_US = parse_dt(NOW)


@pytest.fixture(scope="module")
def ds():
    return generate(80, 10, 21, NOW_US)


def test_deterministic_for_seed_and_now():
    a = json.dumps(generate(30, 5, 7, NOW_US).to_json(), sort_keys=True)
    b = json.dumps(generate(30, 5, 7, NOW_US).to_json(), sort_keys=True)
    c = json.dumps(generate(30, 5, 8, NOW_US).to_json(), sort_keys=True)
    assert a == b and a != c


def test_inventory_realism(ds):
    names = [v.name for v in ds.vms]
    assert set(SPECIAL_VM_NAMES) <= set(names)
    dc01 = [v for v in ds.vms if v.name == "dc01"]
    assert len({v.server.guid for v in dc01}) == 2                # same name on two backup servers
    assert len(ds.servers) >= 3 and all(s.name.count(".") >= 2 for s in ds.servers)
    assert sum(s.restricted for s in ds.servers) == 1
    backup_vms = {v.uid for j in ds.jobs if j.job_type == "Backup" for v in j.vms}
    replica_vms = {v.uid for j in ds.jobs if j.job_type == "Replica" for v in j.vms}
    assert replica_vms and replica_vms < backup_vms | replica_vms and len(replica_vms) < len(backup_vms)


def test_sessions_realism(ds):
    js = ds.backup_js
    by_job_day = collections.Counter((s.job.guid, s.ct // DAY_US) for s in js if not s.is_retry)
    assert max(by_job_day.values()) <= 2                          # one scheduled run a day (+ a manual one)
    results = collections.Counter(t.result for t in ds.backup_ts)
    assert results["Failed"] > 0 and results["Warning"] > 0 and results["Success"] > results["Failed"] * 5
    failed = [t for t in ds.backup_ts if t.result == "Failed"]
    assert all(t.reason and t.total_size == 0 for t in failed)
    assert any(t.reason.startswith("Error: ") for t in failed)
    warned = [t for t in ds.backup_ts if t.result == "Warning"]
    assert all(t.reason and t.total_size > 0 for t in warned)
    ok = [t for t in ds.backup_ts if t.result == "Success"]
    assert all(t.reason == "" and t.et > t.ct and t.point_guid for t in ok)
    # retries: IsRetry sessions later the same day re-running failed VMs only
    retries = [s for s in js if s.is_retry]
    assert retries
    for r in retries[:20]:
        prev = [s for s in js if s.job is r.job and s.ct < r.ct]
        assert prev and r.ct - prev[-1].ct < DAY_US
        failed_vms = {t.vm.uid for t in prev[-1].tasks if t.result == "Failed"}
        assert {t.vm.uid for t in r.tasks} <= failed_vms
    # still running now, one stuck for more than 12 h
    working = [s for s in js if s.state == "Working"]
    assert any(NOW_US - s.ct > 12 * 3600 * US for s in working)
    assert any(NOW_US - s.ct < 3600 * US for s in working)
    states = collections.Counter(t.state for t in ds.backup_ts)
    assert states["InProgress"] >= 1 and states["Pending"] >= 1
    assert all(t.result is None and t.et is None for t in ds.backup_ts if t.state != "Completed")
    # VMs that stopped being backed up some days ago
    last = {}
    for t in ds.backup_ts:
        last[t.vm.uid] = max(last.get(t.vm.uid, 0), t.ct)
    stale = [u for u, ct in last.items() if NOW_US - ct > 2 * DAY_US]
    assert stale
    in_jobs = {v.uid for j in ds.jobs for v in j.vms}
    assert not set(stale) & in_jobs


def test_dataset_round_trip(ds, tmp_path):
    doc = ds.to_json()
    again = Dataset.from_json(json.loads(json.dumps(doc))).to_json()
    assert again == doc
    for key in ("backup_servers", "jobs", "vms", "job_sessions", "task_sessions"):
        assert doc[key]
    t = doc["task_sessions"][0]
    assert t["creation_time"].endswith("Z")
    assert set(t) >= {"id", "job_session_id", "vm_id", "state", "result", "reason", "total_size", "end_time", "name"}


def test_load_dataset_through_cli_and_harness(tmp_path):
    path = tmp_path / "fleet.json"
    rc = subprocess.run([sys.executable, EMULATOR_DIR, "--vms", "12", "--days", "2", "--seed", "4", "--now", NOW,
                         "--dump-dataset", str(path), "--dump-only"], capture_output=True, timeout=60, check=False)
    assert rc.returncode == 0 and path.exists()
    doc = json.loads(path.read_text(encoding="utf-8"))
    with Emulator(dataset=str(path), now=NOW) as em:
        assert em.dataset() == doc
        c = EM(em)
        n = len(doc["task_sessions"])
        nb = len(query_items(c.query(type="BackupTaskSession", pageSize=10000)))
        nr = len(query_items(c.query(type="ReplicaTaskSession", pageSize=10000)))
        assert nb + nr == n
        c.close()


def test_hand_written_minimal_dataset():
    doc = {
        "backup_servers": [{"id": "11111111-1111-4111-8111-111111111111", "name": "vbr.example.com"}],
        "vms": [{"id": "urn:VMware:Vm:aaaa.vm-1", "name": "only-vm", "backup_server_id":
                 "11111111-1111-4111-8111-111111111111", "size_bytes": 1073741824}],
        "jobs": [{"id": "22222222-2222-4222-8222-222222222222", "name": "Job A", "type": "Backup",
                  "backup_server_id": "11111111-1111-4111-8111-111111111111", "vms": ["urn:VMware:Vm:aaaa.vm-1"]}],
        "job_sessions": [{"id": "33333333-3333-4333-8333-333333333333",
                          "job_id": "22222222-2222-4222-8222-222222222222",
                          "creation_time": "2025-06-05T01:00:00Z", "end_time": "2025-06-05T01:10:00Z",
                          "state": "Stopped", "result": "Failed"}],
        "task_sessions": [{"id": "44444444-4444-4444-8444-444444444444",
                           "job_session_id": "33333333-3333-4333-8333-333333333333",
                           "vm_id": "urn:VMware:Vm:aaaa.vm-1", "creation_time": "2025-06-05T01:01:00.5Z",
                           "end_time": "2025-06-05T01:02:00Z", "state": "Completed", "result": "Failed",
                           "reason": "Error: boom", "total_size": 0}],
    }
    with Emulator(dataset=doc, now=NOW) as em:
        c = EM(em)
        items = query_items(c.query(type="BackupTaskSession", format="Entities"))
        assert len(items) == 1 and items[0]["Name"] == "only-vm@2025-06-05 01:01:00"
        assert items[0]["Reason"] == "Error: boom" and items[0]["CreationTimeUTC"] == "2025-06-05T01:01:00.5Z"
        js = query_items(c.query(type="BackupJobSession", format="Entities"))
        assert js[0]["Name"] == "Job A@2025-06-05 01:00:00" and js[0]["IsRetry"] == "false"
        c.close()


def test_help_lists_options():
    out = subprocess.run([sys.executable, EMULATOR_DIR, "--help"], capture_output=True, text=True, timeout=30,
                         check=False)
    assert out.returncode == 0
    for opt in ("--host", "--port", "--vms", "--days", "--seed", "--dataset", "--username", "--password", "--http",
                "--tls-dir", "--latency-ms", "--session-idle-seconds", "--faults", "--dump-dataset", "--now",
                "--task-seconds"):
        assert opt in out.stdout


def test_listening_line_and_clean_sigterm(tmp_path):
    p = subprocess.Popen([sys.executable, EMULATOR_DIR, "--port", "0", "--vms", "5", "--days", "1",
                          "--tls-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("EM emulator listening on https://127.0.0.1:")
        port = int(line.strip().rsplit(":", 1)[1])
        assert port > 0 and (tmp_path / "ca.pem").exists()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        assert p.stdout.read() == ""            # exactly one line on stdout
    finally:
        if p.poll() is None:
            p.kill()


def test_a_second_emulator_on_a_taken_port_leaves_the_first_ones_ca(tmp_path):
    # the second one fails before it writes its TLS files: the first one's clients keep trusting its ca.pem
    first = subprocess.Popen([sys.executable, EMULATOR_DIR, "--port", "0", "--vms", "5", "--days", "1",
                              "--tls-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(first.stdout.readline().strip().rsplit(":", 1)[1])
        ca = (tmp_path / "ca.pem").read_bytes()
        second = subprocess.run([sys.executable, EMULATOR_DIR, "--port", str(port), "--vms", "5", "--days", "1",
                                 "--tls-dir", str(tmp_path)], capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2, second.stderr
        assert "--port %d" % port in second.stderr and "in use" in second.stderr, second.stderr
        assert (tmp_path / "ca.pem").read_bytes() == ca
    finally:
        first.kill()
        first.wait(timeout=10)


def test_sigint_also_stops(tmp_path):
    p = subprocess.Popen([sys.executable, EMULATOR_DIR, "--port", "0", "--vms", "5", "--days", "1", "--http"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("EM emulator listening on http://127.0.0.1:")
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_importable_as_package():
    import emulator
    import emulator.server  # noqa: F401
    assert emulator.__doc__ and os.path.isdir(EMULATOR_DIR)


def test_generation_scales():
    # Size only: a wall-clock bound flakes on a loaded machine; speed is tests/performance's job.
    big = generate(1000, 30, 1, NOW_US)
    assert len(big.backup_ts) > 25000


@pytest.mark.parametrize("args,fragment", [
    (["--faults", '{"kind": "gremlins"}'], "unknown fault kind"),
    (["--faults", "{not json"], "--faults"),
    (["--dataset", "/nonexistent/fleet.json"], "--dataset"),
    (["--now", "yesterday-ish"], "--now"),
])
def test_bad_startup_arguments_exit_2(args, fragment):
    out = subprocess.run([sys.executable, EMULATOR_DIR, "--http", "--port", "0"] + args, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 2 and fragment in out.stderr and out.stdout == ""
