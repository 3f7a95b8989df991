"""Attacks on the job-session part of the history cache (session 14, found by a helper's attack): an edited job line
must never make a warm night's job verdicts, or the typing of copy-job task sessions, better than a cold read of the
same EM. Each was a false compliant (or a better verdict) on both paths - the lines folded before EM's reads and
beside them - and is fixed: EM's read of a window job session replaces the cache's line of it (JobPages._take), a
job session twice in the file is a full read, and a job type note of a session EM is asked for again is not taken
(HistoryCache._job_line)."""
import gzip
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader

from .conftest import moment
from .test_history_cache import _cache_file
from .test_compliance_attack_job_part import _job, _task, _warm_and_cold, T1, T2

pytestmark = pytest.mark.usefixtures("pages_as_given")
_t = moment


def _lines(path):
    with gzip.open(_cache_file(path), "rt", encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


def _write(path, lines):
    with gzip.open(_cache_file(path), "wt", encoding="utf-8") as stream:
        for line in lines:
            stream.write(json.dumps(line) + "\n")


def _nightly_failed_then_ok():
    """Nightly: a Success 4 days before T2, then a Failed 34 h before T2 (inside what T2 reads again from EM)."""
    ok = _job("Nightly", "Backup", _t(T2, days=-4), "urn:veeam:BackupJobSession:ok")
    bad = _job("Nightly", "Backup", _t(T2, hours=-34), "urn:veeam:BackupJobSession:bad", result="Failed")
    return [ok, bad, _task("db01", "Nightly", _t(T2, days=-4, minutes=5), ok[1]["uid"]),
            _task("db01", "Nightly", _t(T2, hours=-34, minutes=5), bad[1]["uid"], result="Failed"),
            _task("web01", "Other", _t(T2, hours=-3), "urn:veeam:BackupJobSession:other")]


def _jobrow(result, name):
    rows = [row for row in result["jobs"] if row["job_name"] == name]
    return rows[0] if rows else None


# F1: the Failed job session of 34 h ago (EM reads it again) made a Success and moved 3.5 days back: the cache's line
#  was seeded first and JobPages kept the first read of a UID: warm job not failed, cold failed.
@pytest.mark.parametrize("beside", [False, True], ids=["lines-first", "lines-beside"])
def test_an_edited_job_line_moved_below_job_read_from_does_not_hide_em_s_failed(tmp_path, monkeypatch, beside):
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if beside else 0)
    sessions = _nightly_failed_then_ok()
    extra = dict(lookback_days=7, check_replicas=False)
    _warm_and_cold(tmp_path, sessions, [T1], **extra)
    lines = _lines(tmp_path / "warm")
    for line in lines:
        if isinstance(line, list) and line[0] == "job" and line[2]["uid"] == "urn:veeam:BackupJobSession:bad":
            line[2]["result"] = "Success"
            line[2]["creation_time"] = em_time.format_z(_t(T2, days=-3, hours=-12))   # below T2's job_read_from
            line[2]["end_time"] = em_time.format_z(_t(T2, days=-3, hours=-11))
            break
    else:
        raise AssertionError("no bad line")
    _write(tmp_path / "warm", lines)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **extra)
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True
    assert _jobrow(cold, "Nightly")["failed"] is True
    assert _jobrow(warm, "Nightly")["failed"] is True


def _db01(result):
    row, = [row for row in result["vms"] if row["vm_display_name"] == "db01"]
    return row


# F2: the same fault through the typing of task sessions: a copy job's line made a Backup and moved: warm db01
#  compliant (its copy counted as its backup), cold violation.
@pytest.mark.parametrize("beside", [False, True], ids=["lines-first", "lines-beside"])
def test_a_copy_job_line_retyped_and_moved_does_not_make_the_copy_a_backup(tmp_path, monkeypatch, beside):
    """db01's nightly backup failed 10 h before T2; its only success is a backup copy (BackupSync) run at T1-6h.
    The cache's line of that copy job session is edited: JobType Backup, moved to 4 days before T2 (below T2's
    job_read_from). EM's read of the same UID (BackupSync, created T1-6h) is dropped by JobPages._take."""
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if beside else 0)
    nightly = _job("Nightly", "Backup", _t(T2, hours=-34), "urn:veeam:BackupJobSession:n2", result="Failed")
    old = _job("Nightly", "Backup", _t(T2, days=-6), "urn:veeam:BackupJobSession:n1")
    copy = _job("Offsite", "BackupSync", _t(T1, hours=-6), "urn:veeam:BackupJobSession:copy")
    sessions = [nightly, old, copy,
                _task("db01", "Nightly", _t(T2, days=-6, minutes=5), old[1]["uid"]),
                _task("db01", "Nightly", _t(T2, hours=-34, minutes=5), nightly[1]["uid"], result="Failed"),
                _task("db01", "Offsite", _t(T1, hours=-6, minutes=5), copy[1]["uid"])]
    extra = dict(lookback_days=7, check_replicas=False, backup_rpo_hours=48)
    _warm_and_cold(tmp_path, sessions, [T1], **extra)
    lines = _lines(tmp_path / "warm")
    for line in lines:
        if isinstance(line, list) and line[0] == "job" and line[2]["uid"] == copy[1]["uid"]:
            line[2]["job_type"] = "Backup"
            line[2]["creation_time"] = em_time.format_z(_t(T2, days=-4))
            line[2]["end_time"] = em_time.format_z(_t(T2, days=-4, hours=1))
            break
    else:
        raise AssertionError("no copy line")
    _write(tmp_path / "warm", lines)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **extra)
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert _db01(cold)["status"] == "violation"
    assert _db01(warm)["status"] == "violation"


# F1 as the whole verdict: failed_job_severity=violation, the job failed after every task session succeeded.
@pytest.mark.parametrize("beside", [False, True], ids=["lines-first", "lines-beside"])
def test_a_job_failed_after_its_task_sessions_succeeded_stays_a_violation(tmp_path, monkeypatch, beside):
    """The job failed after every task session succeeded (a merge step); failed_job_severity=violation: cold is
    not compliant, warm (line moved and made Success) is."""
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if beside else 0)
    ok = _job("Nightly", "Backup", _t(T2, days=-4), "urn:veeam:BackupJobSession:ok")
    bad = _job("Nightly", "Backup", _t(T2, hours=-34), "urn:veeam:BackupJobSession:bad", result="Failed")
    sessions = [ok, bad, _task("db01", "Nightly", _t(T2, days=-4, minutes=5), ok[1]["uid"]),
                _task("db01", "Nightly", _t(T2, hours=-34, minutes=5), bad[1]["uid"])]
    extra = dict(lookback_days=7, check_replicas=False, failed_job_severity="violation", backup_rpo_hours=48)
    _warm_and_cold(tmp_path, sessions, [T1], **extra)
    lines = _lines(tmp_path / "warm")
    for line in lines:
        if isinstance(line, list) and line[0] == "job" and line[2]["uid"] == bad[1]["uid"]:
            line[2]["result"] = "Success"
            line[2]["creation_time"] = em_time.format_z(_t(T2, days=-3, hours=-12))
            line[2]["end_time"] = em_time.format_z(_t(T2, days=-3, hours=-11))
    _write(tmp_path / "warm", lines)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **extra)
    assert cache.outcome["used"] is True
    assert cold["compliant"] is False
    assert warm["compliant"] is False


# F3: a type note of a session EM is asked for again (lookback 1 day: job_read_from before the cached window start)
#  edited to Backup one second after EM's BackupSync session: the newer note won: warm db01 warning, cold violation.
@pytest.mark.parametrize("beside", [False, True], ids=["lines-first", "lines-beside"])
def test_a_type_note_in_the_range_em_reads_again_gives_way_to_em_s_read(tmp_path, monkeypatch, beside):
    """lookback 1 day: T2's job_read_from (T1-48h) is before T1's window start (T1-24h), so a cached type note of a
    session in [T1-48h, T1-24h) stands for a session EM reads again. The note edited: Backup, one second later than
    EM's BackupSync session; note_type keeps the newest -> the copy's success is db01's backup."""
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if beside else 0)
    nightly = _job("Nightly", "Backup", _t(T2, hours=-10), "urn:veeam:BackupJobSession:n2", result="Failed")
    copy = _job("Offsite", "BackupSync", _t(T1, hours=-30), "urn:veeam:BackupJobSession:copy")
    sessions = [nightly, copy,
                _task("db01", "Nightly", _t(T2, hours=-10, minutes=5), nightly[1]["uid"], result="Failed"),
                _task("db01", "Offsite", _t(T2, hours=-2), None)]
    extra = dict(lookback_days=1, check_replicas=False)
    _warm_and_cold(tmp_path, sessions, [T1], **extra)
    lines = _lines(tmp_path / "warm")
    found = False
    for line in lines:
        if isinstance(line, list) and line[0] == "job_type" and line[3] == "offsite":
            line[4] = "Backup"
            line[5] = em_time.format_z(_t(T1, hours=-30, seconds=1))
            found = True
    assert found
    _write(tmp_path / "warm", lines)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **extra)
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert _db01(cold)["status"] == "violation"
    assert _db01(warm)["status"] == "violation"


# F4: a job line twice in the file (the writer writes a UID once), a Success twin before the Failed: the first won.
@pytest.mark.parametrize("beside", [False, True], ids=["lines-first", "lines-beside"])
def test_a_job_session_twice_in_the_cache_is_a_full_read(tmp_path, monkeypatch, beside):
    """A job line twice in the file (the writer writes a UID once): a Success twin before EM's Failed, both below
    job_read_from. Cold: Failed."""
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if beside else 0)
    bad = _job("Nightly", "Backup", _t(T2, days=-4), "urn:veeam:BackupJobSession:bad", result="Failed")
    sessions = [bad, _task("db01", "Nightly", _t(T2, days=-4, minutes=5), bad[1]["uid"]),
                _task("db01", "Nightly", _t(T2, hours=-3), "urn:veeam:BackupJobSession:x")]
    extra = dict(lookback_days=7, check_replicas=False)
    _warm_and_cold(tmp_path, sessions, [T1], **extra)
    lines = _lines(tmp_path / "warm")
    for number, line in enumerate(lines):
        if isinstance(line, list) and line[0] == "job" and line[2]["uid"] == bad[1]["uid"]:
            twin = json.loads(json.dumps(line))
            twin[2]["result"] = "Success"
            lines.insert(number, twin)
            lines[-1]["items"] += 1
            break
    _write(tmp_path / "warm", lines)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **extra)
    assert cache.outcome["used"] is False
    assert "holds a job session twice (urn:veeam:BackupJobSession:bad)" in cache.outcome["reason"]
    assert _jobrow(cold, "Nightly")["failed"] is True and _jobrow(warm, "Nightly")["failed"] is True
