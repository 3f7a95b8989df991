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
BESIDE = pytest.mark.parametrize("beside", [False, True], ids=["lines-first", "lines-beside"], indirect=True)


@pytest.fixture
def beside(request, monkeypatch):
    """The cache's lines folded before EM's reads, or beside them (CacheLines)."""
    monkeypatch.setattr(reader, "LINES_BESIDE_READS_BELOW_BYTES", 1 << 30 if request.param else 0)
    return request.param


def _edited_night(tmp_path, sessions, edit, **extra):
    """Night 1 (T1) writes the cache; ``edit(lines)`` changes its decoded lines in place (True when it found the
    line it edits); night 2 (T2) runs warm and cold: (warm, cold, the warm night's cache)."""
    _warm_and_cold(tmp_path, sessions, [T1], **extra)
    path = _cache_file(tmp_path / "warm")
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    assert edit(lines), "the line to edit is not in the cache"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write("".join(json.dumps(line) + "\n" for line in lines))
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **extra)
    return warm, cold, cache


def _job_line(lines, uid):
    return next((line for line in lines if isinstance(line, list) and line[0] == "job" and line[2]["uid"] == uid),
                None)


def _job_made(uid, moved_to=None, **values):
    """The edit: the job line of ``uid`` given ``values`` (and moved to ``moved_to``, an hour long)."""
    def edit(lines):
        line = _job_line(lines, uid)
        if line is None:
            return False
        line[2].update(values)
        if moved_to is not None:
            line[2].update(creation_time=em_time.format_z(moved_to),
                           end_time=em_time.format_z(_t(moved_to, hours=1)))
        return True
    return edit


def _jobrow(result, name):
    return next(row for row in result["jobs"] if row["job_name"] == name)


def _db01(result):
    return next(row for row in result["vms"] if row["vm_display_name"] == "db01")


OK, BAD = "urn:veeam:BackupJobSession:ok", "urn:veeam:BackupJobSession:bad"


def _nightly(task_result="Failed"):
    """Nightly: a Success 4 days before T2, then a Failed 34 h before T2 (inside what T2 reads again from EM), its
    task session ``task_result``."""
    ok = _job("Nightly", "Backup", _t(T2, days=-4), OK)
    bad = _job("Nightly", "Backup", _t(T2, hours=-34), BAD, result="Failed")
    return [ok, bad, _task("db01", "Nightly", _t(T2, days=-4, minutes=5), OK),
            _task("db01", "Nightly", _t(T2, hours=-34, minutes=5), BAD, result=task_result),
            _task("web01", "Other", _t(T2, hours=-3), "urn:veeam:BackupJobSession:other")]


# F1: the Failed job session of 34 h ago (EM reads it again) made a Success and moved 3.5 days back: the cache's line
#  was seeded first and JobPages kept the first read of a UID: warm job not failed, cold failed.
@BESIDE
@pytest.mark.parametrize("task_result, severity", [("Failed", "warning"), ("Success", "violation")],
                         ids=["job-row", "failed-after-its-task-sessions"])
def test_an_edited_job_line_moved_below_job_read_from_does_not_hide_em_s_failed(tmp_path, beside, task_result,
                                                                                severity):
    # failed-after-its-task-sessions: the job failed after every task session succeeded (a merge step) and
    # failed_job_severity=violation: the whole verdict was compliant warm, not cold
    warm, cold, cache = _edited_night(tmp_path, _nightly(task_result),
                                      _job_made(BAD, _t(T2, days=-3, hours=-12), result="Success"),
                                      lookback_days=7, check_replicas=False, failed_job_severity=severity,
                                      backup_rpo_hours=48)
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert _jobrow(cold, "Nightly")["failed"] is True and _jobrow(warm, "Nightly")["failed"] is True
    if severity == "violation":
        assert cold["compliant"] is False and warm["compliant"] is False


# F2: the same fault through the typing of task sessions: db01's backup failed 34 h before T2 and its only later
#  success is a backup copy's (BackupSync, T1-6h); the copy job's line made a Backup and moved 4 days back: warm db01
#  compliant (its copy counted as its backup), cold violation.
@BESIDE
def test_a_copy_job_line_retyped_and_moved_does_not_make_the_copy_a_backup(tmp_path, beside):
    nightly = _job("Nightly", "Backup", _t(T2, hours=-34), "urn:veeam:BackupJobSession:n2", result="Failed")
    old = _job("Nightly", "Backup", _t(T2, days=-6), "urn:veeam:BackupJobSession:n1")
    copy = _job("Offsite", "BackupSync", _t(T1, hours=-6), "urn:veeam:BackupJobSession:copy")
    sessions = [nightly, old, copy,
                _task("db01", "Nightly", _t(T2, days=-6, minutes=5), old[1]["uid"]),
                _task("db01", "Nightly", _t(T2, hours=-34, minutes=5), nightly[1]["uid"], result="Failed"),
                _task("db01", "Offsite", _t(T1, hours=-6, minutes=5), copy[1]["uid"])]
    warm, cold, cache = _edited_night(tmp_path, sessions, _job_made(copy[1]["uid"], _t(T2, days=-4), job_type="Backup"),
                                      lookback_days=7, check_replicas=False, backup_rpo_hours=48)
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert _db01(cold)["status"] == "violation" and _db01(warm)["status"] == "violation"


# F3: a type note of a session EM is asked for again (lookback 1 day: T2's job_read_from, T1-48h, is before T1's
#  window start, T1-24h) edited to Backup one second after EM's BackupSync session: the newer note won (note_type),
#  the copy's success was db01's backup: warm db01 warning, cold violation.
@BESIDE
def test_a_type_note_in_the_range_em_reads_again_gives_way_to_em_s_read(tmp_path, beside):
    nightly = _job("Nightly", "Backup", _t(T2, hours=-10), "urn:veeam:BackupJobSession:n2", result="Failed")
    copy = _job("Offsite", "BackupSync", _t(T1, hours=-30), "urn:veeam:BackupJobSession:copy")
    sessions = [nightly, copy,
                _task("db01", "Nightly", _t(T2, hours=-10, minutes=5), nightly[1]["uid"], result="Failed"),
                _task("db01", "Offsite", _t(T2, hours=-2), None)]

    def edit(lines):
        notes = [line for line in lines if isinstance(line, list) and line[0] == "job_type" and line[3] == "offsite"]
        for line in notes:
            line[4], line[5] = "Backup", em_time.format_z(_t(T1, hours=-30, seconds=1))
        return bool(notes)
    warm, cold, cache = _edited_night(tmp_path, sessions, edit, lookback_days=1, check_replicas=False)
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert _db01(cold)["status"] == "violation" and _db01(warm)["status"] == "violation"


# F4: a job line twice in the file (the writer writes a UID once), a Success twin before the Failed, both below
#  job_read_from: the first was kept: warm job not failed, cold failed.
@BESIDE
def test_a_job_session_twice_in_the_cache_is_a_full_read(tmp_path, beside):
    bad = _job("Nightly", "Backup", _t(T2, days=-4), BAD, result="Failed")
    sessions = [bad, _task("db01", "Nightly", _t(T2, days=-4, minutes=5), BAD),
                _task("db01", "Nightly", _t(T2, hours=-3), "urn:veeam:BackupJobSession:x")]

    def edit(lines):
        line = _job_line(lines, BAD)
        if line is None:
            return False
        twin = json.loads(json.dumps(line))
        twin[2]["result"] = "Success"
        lines.insert(lines.index(line), twin)
        lines[-1]["items"] += 1
        return True
    warm, cold, cache = _edited_night(tmp_path, sessions, edit, lookback_days=7, check_replicas=False)
    assert cache.outcome["used"] is False
    assert "holds a job session twice (urn:veeam:BackupJobSession:bad)" in cache.outcome["reason"]
    assert _jobrow(cold, "Nightly")["failed"] is True and _jobrow(warm, "Nightly")["failed"] is True
