"""Attack: the history cache's job part (format 3) against a cold read of the same night.

The claim under attack (_compliance/history_cache.py, "The job part"): a warm night (cache used) gives exactly the
verdicts of a cold read (history_cache=false), and no backup copy task session ever counts as a backup because of
the cache. Each test runs nights against the FakeEM of test_history_cache (EM answers by creation time; sessions
become visible when EM collects them) and compares the warm night with a cold read, or attacks JobPages and the
job-type index directly where the fault is the order pages arrive in (EM pages are read in parallel).
"""
from datetime import timedelta

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance, em_resources, em_time
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import (
    KIND_BACKUP, evaluate_fold, session_fold)

from .conftest import build_session, moment
from .test_history_cache import (
    _header, _job_session, _judged_night, _load, _save, _with_job_sessions, _month)

T1 = "2025-06-04T06:00:00Z"
T2 = "2025-06-05T06:00:00Z"
SERVER = "vbr01.example.com"


pytestmark = pytest.mark.usefixtures("pages_as_given")
_t = moment


def _job(job, job_type, created, uid, result="Success", visible=None, hours=1, server=SERVER):
    """A backup job session ([kind, item, finished, visible]) of ``job``, collected by EM at ``visible``."""
    kind, item = _job_session("backup", job, job_type, created, created + timedelta(hours=hours), result, uid)
    item["backup_server_name"] = server
    return (kind, item, created + timedelta(hours=hours), visible or created)


def _task(vm, job, created, job_session_uid, result="Success", visible=None, server=SERVER):
    item = build_session(vm=vm, vm_uid="urn:vm:" + vm, created=em_time.format_z(created), job=job, result=result,
                         job_session_uid=job_session_uid, server=server)
    return (KIND_BACKUP, item, created + timedelta(hours=1), visible or created)


def _failed_nightly(now):
    """db01's backup of last night failed: only a copy's success could make it look protected."""
    nightly = _job("Nightly", "Backup", _t(now, hours=-9), "urn:veeam:BackupJobSession:nightly@" + now,
                   result="Failed")
    return [nightly, _task("db01", "Nightly", _t(now, hours=-8), nightly[1]["uid"], result="Failed")]


def _warm_and_cold(tmp_path, sessions, nights, **extra):
    """[(warm, cold, warm cache)] of each night in ``nights`` (the first writes the cache: a full read)."""
    extra = dict(dict(check_jobs=True, lookback_days=1, history_full_read_days=30), **extra)
    judged = []
    for now in nights:
        warm, cache, _em, _queries = _judged_night(tmp_path / "warm", sessions, now, **extra)
        cold, _cache, _em, _queries = _judged_night(tmp_path / "cold", sessions, now,
                                                    **dict(extra, history_cache=False))
        judged.append((warm, cold, cache))
    return judged


def _db01(result):
    row, = [row for row in result["vms"] if row["vm_display_name"] == "db01"]
    return row


# ---- a job's cached type against its typed and untyped sessions ----------------------------------------------

def test_a_late_typed_session_older_than_a_cached_untyped_one_still_types_the_job(tmp_path):
    """A job created again as a copy job (BackupSync) whose job sessions mix typed and untyped ones: the cache kept
    (the old type Backup, the time of the job's newest session - an untyped one). A typed session EM collects late
    (within the overlap, read again on the warm night) is newer than the cached type's own session but older than
    the untyped one, so the cached type's time wrongly beat it: the copy's success counted as db01's backup and
    the warm night said compliant where the cold read says last_backup_failed."""
    sessions = _failed_nightly(T2) + [
        _job("Offsite", "Backup", _t(T1, days=-10), "urn:veeam:BackupJobSession:s1"),
        _job("Offsite", None, _t(T1, days=-1.2), "urn:veeam:BackupJobSession:s2"),
        _job("Offsite", "BackupSync", _t(T1, days=-1.5), "urn:veeam:BackupJobSession:late", visible=_t(T1, hours=12)),
        _task("db01", "Offsite", _t(T2, hours=-4), "urn:veeam:BackupJobSession:late")]
    (_w1, _c1, _cache1), (warm, cold, cache) = _warm_and_cold(tmp_path, sessions, [T1, T2])
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert cold["compliant"] is False and "last_backup_failed" in _db01(cold)["reasons"]
    assert _db01(cold)["copy"]["sessions"] == 1
    assert warm == cold


def test_a_cached_type_whose_typed_session_left_the_history_is_unknown_as_in_a_cold_read(tmp_path):
    """The job's only typed session (BackupSync) is 29.5 days before night 1 and leaves EM's 30 days by night 2; its
    untyped session of 20 days ago stays. A cold night 2 reads the job without a type (counted as a backup, said:
    job_type_unknown); the warm night kept the forgotten BackupSync because the cached time was the untyped
    session's."""
    sessions = _failed_nightly(T2) + [
        _job("Offsite", "BackupSync", _t(T1, days=-29.5), "urn:veeam:BackupJobSession:s1"),
        _job("Offsite", None, _t(T1, days=-20), "urn:veeam:BackupJobSession:s2"),
        _task("db01", "Offsite", _t(T2, hours=-4), "urn:veeam:BackupJobSession:s2")]
    (_w1, _c1, _cache1), (warm, cold, cache) = _warm_and_cold(tmp_path, sessions, [T1, T2])
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert [item["code"] for item in cold["warnings"] if item["code"] == "job_type_unknown"] == ["job_type_unknown"]
    assert warm == cold


def test_a_job_created_again_as_a_copy_late_within_the_overlap_is_a_copy(tmp_path):
    """Held: all sessions typed; the copy job's session (created again under the old backup job's name) is
    collected late, within the overlap: the warm night reads it again and its type is the newest."""
    sessions = _failed_nightly(T2) + [
        _job("Offsite", "Backup", _t(T1, days=-10), "urn:veeam:BackupJobSession:s1"),
        _job("Offsite", "BackupSync", _t(T1, days=-1.5), "urn:veeam:BackupJobSession:late", visible=_t(T1, hours=12)),
        _task("db01", "Offsite", _t(T2, hours=-4), "urn:veeam:BackupJobSession:late")]
    (_w1, _c1, _cache1), (warm, cold, cache) = _warm_and_cold(tmp_path, sessions, [T1, T2])
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] == 1
    assert warm == cold


def test_server_names_that_differ_in_case_are_one_job(tmp_path):
    """Held: the copy job's session names its server VBR01.EXAMPLE.COM, its task sessions vbr01.example.com; the
    cached type is filed under the lower-case key, as the cold read's."""
    sessions = _failed_nightly(T2) + [
        _job("Offsite Copy", "BackupSync", _t(T1, days=-5), "urn:veeam:BackupJobSession:copy", hours=200,
             server=SERVER.upper()),
        _task("db01", "Offsite Copy", _t(T2, hours=-4), "urn:veeam:BackupJobSession:copy")]
    judged = _warm_and_cold(tmp_path, sessions, [T1, T2])
    (warm, cold, cache) = judged[1]
    assert cache.outcome["used"] is True and cache.outcome["jobs_cached"] is True, cache.outcome
    assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] == 1
    assert warm == cold


# ---- the window's job sessions: a session that ends between nights, equal creation times ------------------------

def test_a_window_job_session_that_ends_with_another_result_is_read_again(tmp_path):
    """Held: a window job session Working at night 1 (its task sessions still running) fails after it: it bounded
    job_read_through, and night 2 reads it again and judges the failure as the cold read does."""
    created = _t(T1, hours=-3)
    job = _job("Nightly", "Backup", created, "urn:veeam:BackupJobSession:long", result="Failed", hours=10)
    task = _task("db01", "Nightly", created + timedelta(minutes=5), job[1]["uid"], result="Failed")
    task = (task[0], task[1], created + timedelta(hours=9), task[3])
    sessions = [job, task]
    judged = _warm_and_cold(tmp_path, sessions, [T1, T2], lookback_days=2)
    assert _header(tmp_path / "warm")["job_read_through"] == em_time.format_z(_t(T2))
    (warm, cold, cache) = judged[1]
    assert cache.outcome["used"] is True
    assert cache.outcome["job_read_from"] == em_time.format_z(created - timedelta(hours=48))
    assert [job_row["job_name"] for job_row in cold["jobs"]] == ["Nightly"]
    assert warm == cold and cold["compliant"] is False


def test_job_sessions_of_one_job_with_equal_creation_times_give_one_type_whatever_the_page_order():
    """Two job sessions of one (server, job) created at the same instant (servers whose names differ in case, a job
    created again within a second) with two types: the type was the one of the page that came last (pages arrive
    in any order), so a night's verdict depended on it. Now a tie gives the type that is not a source backup
    (a copy's success never stands for a backup)."""
    created = "2025-06-01T00:00:00Z"
    backup = dict(_job_session("backup", "Offsite", "Backup", em_time.parse_iso(created),
                               _t(created, hours=1), "Success", "urn:a")[1])
    copy = dict(_job_session("backup", "Offsite", "BackupSync", em_time.parse_iso(created),
                             _t(created, hours=1), "Success", "urn:b")[1], backup_server_name=SERVER.upper())
    for pages in ([backup], [copy]), ([copy], [backup]):
        jobs = reader.JobPages(em_resources.BACKUP_JOB_SESSION, em_compliance.window_start(T2, 1))
        for page in pages:
            jobs.normalise(page)
        assert jobs.types == {(SERVER, "offsite"): "BackupSync"}


def _recreated_in_the_window():
    """Job "Offsite" ran as a backup job early in the window and was created again as a copy job (BackupSync);
    db01's task session of the copy names a job session that was not read (opened before the history)."""
    backup = dict(_job_session("backup", "Offsite", "Backup", _t(T2, hours=-20), _t(T2, hours=-19), "Success",
                               "urn:veeam:BackupJobSession:a")[1])
    copy = dict(_job_session("backup", "Offsite", "BackupSync", _t(T2, hours=-10), _t(T2, hours=-9), "Success",
                             "urn:veeam:BackupJobSession:b")[1])
    sessions = [build_session(vm="db01", vm_uid="urn:vm:db01", created=em_time.format_z(_t(T2, hours=-8)),
                              job="Nightly", result="Failed", server=SERVER),
                build_session(vm="db01", vm_uid="urn:vm:db01", created=em_time.format_z(_t(T2, hours=-4)),
                              job="Offsite", server=SERVER, job_session_uid="urn:veeam:BackupJobSession:unread")]
    nightly = dict(_job_session("backup", "Nightly", "Backup", _t(T2, hours=-9), _t(T2, hours=-7), "Failed",
                                sessions[0]["job_session_uid"])[1])
    return sessions, [nightly, backup, copy]


def test_the_window_job_sessions_type_a_job_by_its_newest_typed_session_whatever_their_order():
    """job_type_index filed the type of whichever window job session came last in the list (JobPages keeps them in
    the order the pages arrived, and a warm night puts the cached ones first): with the copy job's session before
    the old backup job's in the list, the copy's success counted as db01's backup. The type is the newest typed
    session's, as JobPages gives it for the sessions before the window."""
    results, (sessions, jobs) = [], _recreated_in_the_window()
    for order in ((0, 1, 2), (0, 2, 1)):
        fold = session_fold(T2, lookback_days=1)
        fold.add(sessions, KIND_BACKUP)
        results.append(evaluate_fold(fold, [jobs[index] for index in order], jobs_complete=True))
    for result in results:
        assert result["compliant"] is False and _db01(result)["copy"]["sessions"] == 1, _db01(result)
    assert results[0] == results[1]


# ---- a cache file edited by hand: lines the writer never writes are a full read ---------------------------------

def _edited(tmp_path, line):
    document = _load(tmp_path / "warm")
    document["items"] = document["items"] + [line]
    document.pop("trailer")
    _save(tmp_path / "warm", document)


def _retired_copy_sessions():
    """A job whose only session is 35 days old (before every night's history) with task sessions in the window:
    not seen at all, so a copy (never a backup) in a cold read."""
    return _failed_nightly(T2) + [
        _job("Retired", "Backup", _t(T2, days=-35), "urn:veeam:BackupJobSession:old"),
        _task("db01", "Retired", _t(T2, hours=-4), "urn:veeam:BackupJobSession:old")]


@pytest.mark.parametrize("line, words", [
    # a type whose newest session is in the future (after the cache's window start: the writer files only the
    # types of sessions before its window)
    (["job_type", "backup_job_sessions", SERVER, "retired", "Backup", "2099-01-01T00:00:00Z"], "cannot be read"),
    (["job_type", "backup_job_sessions", SERVER, "retired", "Backup", T1], "cannot be read"),
    # a type that is no JobType (EM's are words)
    (["job_type", "backup_job_sessions", SERVER, "retired", ["Backup"], "2025-05-30T00:00:00Z"], "cannot be read"),
    # a job session outside the cached window's [window start, job_read_through)
    (["job", "backup_job_sessions", dict(_job("Retired", "Backup", _t(T1, days=-3), "urn:x")[1])], "cannot be read"),
    # a window job session EM may still change (Working): job_read_through is never after one
    (["job", "backup_job_sessions", dict(_job("Retired", "Backup", _t(T1, hours=-3), "urn:x")[1], state="Working",
                                         end_time=None)], "cannot be read"),
    # a read this run does not make
    (["job_type", "replica_job_sessions", SERVER, "retired", "Backup", "2025-05-30T00:00:00Z"], "cannot be read"),
])
def test_a_job_line_the_writer_never_writes_is_a_full_read(tmp_path, line, words):
    """A cache edited by hand (or by another tool): a job line with a time outside what its own header says it
    covers, or a type that is not a word, is refused whole (a full read, said) - a future "newest" would keep a
    type alive for ever and make a forgotten job's copies backups."""
    sessions = _retired_copy_sessions()
    _warm_and_cold(tmp_path, sessions, [T1], check_replicas=False)
    _edited(tmp_path, line)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], check_replicas=False)
    assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] == 1
    assert cache.outcome["used"] is False and words in cache.outcome["reason"], cache.outcome
    assert warm == cold


# ---- options that change between nights, the job part without the window part -----------------------------------

@pytest.mark.parametrize("first, second, words", [
    (dict(check_jobs=False), dict(check_jobs=True), "other job-session reads"),
    (dict(check_jobs=True), dict(check_jobs=False), "other job-session reads"),
    (dict(check_replicas=False), dict(check_replicas=True), "other kinds of sessions"),
])
def test_job_options_changed_between_nights_are_a_full_read(tmp_path, first, second, words):
    """Held: check_jobs / check_replicas changed: the cache names other reads (identity), a full read, said."""
    sessions = _retired_copy_sessions()
    _warm_and_cold(tmp_path, sessions, [T1], **first)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], **second)
    assert cache.outcome["used"] is False and words in cache.outcome["reason"], cache.outcome
    assert warm == cold


@pytest.mark.parametrize("seed, lookback, window", [(30, 2, False), (31, 7, False), (32, 3, True)])
def test_warm_nights_with_the_job_part_and_another_policy_each_night_equal_cold_nights(tmp_path, seed, lookback,
                                                                                       window):
    """Held: the job part with and without the window part (history_cache_window), lookback_days shrinking, and
    include/exclude patterns on the jobs changing between nights: every warm night is the cold read."""
    first = "2025-06-01T06:00:00Z"
    last = _t(first, days=6)
    sessions = _with_job_sessions(_month(seed, em_time.format_z(last), late_hours=40), em_time.format_z(last))
    policies = [{}, {"exclude_jobs": ["Copy 1"]}, {"include_jobs": ["Job 1", "Copy 1", "Retired"]}, {}, {},
                {"exclude_servers": ["vbr01*"]}]
    used = []
    for night, policy in enumerate(policies):
        now = em_time.format_z(_t(first, days=night))
        extra = dict(policy, history_cache_window=window, lookback_days=max(1, lookback - night // 3))
        (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [now], **extra)
        assert warm == cold, (night, cache.outcome)
        used.append(cache.outcome["used"] and cache.jobs_cached_through is not None)
    assert used == [False, True, True, True, True, True]


# ---- job sessions that cannot be placed, carry no JobType, or share a job name across servers --------------------

def test_a_job_session_without_a_readable_creation_time_on_one_night_leaves_the_job_part_out(tmp_path):
    """Held: a window job session whose creation time cannot be read (EM filters it by its real time) is read on
    night 1 only (EM drops it before night 2): night 1 writes no job part (said), night 2 reads the job sessions
    whole and judges as the cold read; night 3 is warm again."""
    sessions = _failed_nightly(T2) + _failed_nightly(T1)
    odd = _job("Nightly", "Backup", _t(T1, hours=-2), "urn:veeam:BackupJobSession:odd")
    odd[1].update(creation_time="not a time", _em_created=em_time.format_z(_t(T1, hours=-2)))
    sessions.append(odd)
    judged = _warm_and_cold(tmp_path, sessions, [T1], lookback_days=2)
    (warm1, cold1, cache1), = judged
    assert "no readable creation time" in cache1.outcome["jobs_reason"] and cache1.outcome["jobs_cached"] is False
    assert warm1 == cold1 and [item for item in cold1["warnings"] + cold1["errors"] + cold1["violations"]
                               if item["code"] == "unreadable_sessions"]
    sessions.remove(odd)  # EM no longer answers it from night 2 on
    judged = _warm_and_cold(tmp_path, sessions, [T2, em_time.format_z(_t(T2, days=1))], lookback_days=2)
    (warm2, cold2, cache2), (warm3, cold3, cache3) = judged
    assert cache2.outcome["used"] is True and "holds no job sessions" in cache2.outcome["jobs_reason"]
    assert cache2.outcome["job_read_from"] == em_time.format_z(_t(T2, days=-30))
    assert cache3.jobs_cached_through is not None
    assert warm2 == cold2 and warm3 == cold3


def test_warm_nights_of_an_em_whose_job_sessions_carry_no_job_type_equal_cold_nights(tmp_path):
    """Held: EM 9.5 sends no JobType: every job is read untyped (its task sessions counted as backups, said as
    job_type_unknown) on warm nights as on cold ones; the cache never invents a type."""
    first = "2025-06-01T06:00:00Z"
    last = _t(first, days=4)
    sessions = _with_job_sessions(_month(40, em_time.format_z(last), late_hours=40), em_time.format_z(last))
    sessions = [(kind, dict(item, job_type=None) if kind.endswith("_job") else item, finished, visible)
                for kind, item, finished, visible in sessions]
    nights = [em_time.format_z(_t(first, days=night)) for night in range(5)]
    for night, (warm, cold, cache) in enumerate(_warm_and_cold(tmp_path, sessions, nights, lookback_days=3)):
        assert warm == cold, night
        assert [item for item in cold["warnings"] if item["code"] == "job_type_unknown"]
        assert (cache.jobs_cached_through is not None) is (night > 0)
    assert all(line[4] is None for line in _load(tmp_path / "warm")["items"] if line[0] == "job_type")


def test_two_servers_with_one_job_name_keep_their_own_types(tmp_path):
    """Held: "Offsite" is a backup job on vbr01 and a backup copy job on vbr02 (both opened before the window):
    the cache keeps a type per (server, job), so vbr02's copy is a copy and vbr01's backup a backup."""
    other = "vbr02.example.com"
    sessions = _failed_nightly(T2) + [
        _job("Offsite", "Backup", _t(T1, days=-6), "urn:veeam:BackupJobSession:b1", hours=200),
        _job("Offsite", "BackupSync", _t(T1, days=-6), "urn:veeam:BackupJobSession:c2", hours=200, server=other),
        _task("db01", "Offsite", _t(T2, hours=-4), "urn:veeam:BackupJobSession:c2", server=other),
        _task("web01", "Offsite", _t(T2, hours=-4), "urn:veeam:BackupJobSession:b1")]
    (_w1, _c1, _cache1), (warm, cold, cache) = _warm_and_cold(tmp_path, sessions, [T1, T2])
    assert cache.jobs_cached_through is not None
    copies = sorted((row["vm_display_name"], row["backup_server_name"]) for row in cold["vms"] if row["copy"])
    assert copies == [("db01", other)]
    web01, = [row for row in cold["vms"] if row["vm_display_name"] == "web01"]
    assert web01["backup"]["succeeded"] == 1 and web01["copy"] is None
    assert warm == cold


# ---- job sessions EM collects late, job sessions in states the reader does not know -----------------------------

def test_a_job_created_again_as_a_copy_collected_later_than_the_overlap_is_a_copy(tmp_path):
    """Job "Offsite" was a backup job (its last session 10 days ago) and was created again as a backup copy job
    on a backup server EM could not reach: the copy job's session of 3 days before night 2 reaches EM after
    night 1, older than the overlap before night 1's job_read_through, so the warm night 2 does not read it in
    its range and the cache typed the job "Backup" by its name. The copy's success of last night names that job
    session, which no read returned: it is read by its UID (read_named_job_sessions), and the copy stays a copy
    (it was xfail: a false compliant until the next full read)."""
    late = "urn:veeam:BackupJobSession:5d1c7a52-0b64-4c39-9a35-1f6f3d0c2b11"
    sessions = _failed_nightly(T2) + [
        _job("Offsite", "Backup", _t(T1, days=-10), "urn:veeam:BackupJobSession:0e8f2a41-6b5d-4f0e-8d0a-3c5b2e1f4a22"),
        _job("Offsite", "BackupSync", _t(T1, days=-2.5), late, visible=_t(T1, hours=12)),
        _task("db01", "Offsite", _t(T2, hours=-4), late)]
    (_w1, _c1, _cache1), (warm, cold, cache) = _warm_and_cold(tmp_path, sessions, [T1, T2])
    assert cache.outcome["used"] is True and cache.jobs_cached_through is not None
    assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] == 1
    assert warm["compliant"] is False and _db01(warm)["copy"]["sessions"] == 1
    assert warm == cold


@pytest.mark.parametrize("state", ["stopped", "Postponed", None])
def test_a_window_job_session_in_a_state_the_reader_does_not_know_is_read_again(tmp_path, state):
    """Held: a window job session whose State is not EM's "Stopped" (another spelling, a value of a later EM, none)
    is one EM may still change (job_unsettled): the job part covers nothing from it on, the next night reads it
    again, and a cached line with it would be refused."""
    created = _t(T1, hours=-3)
    job = _job("Nightly", "Backup", created, "urn:veeam:BackupJobSession:odd-state")
    job[1]["state"] = state
    sessions = [job, _task("db01", "Nightly", created + timedelta(minutes=5), job[1]["uid"])]
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T1], lookback_days=2)
    assert _header(tmp_path / "warm")["job_read_through"] == em_time.format_z(created)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], lookback_days=2)
    assert cache.outcome["job_read_from"] == em_time.format_z(created - timedelta(hours=48))
    assert warm == cold


@pytest.mark.parametrize("window", [True, False])
def test_lookback_days_grown_between_nights_reads_the_job_sessions_whole(tmp_path, window):
    """Held: night 2's window starts before night 1's (lookback_days 1 -> 3): the cached job part holds no window
    job session before night 1's window start, so the cache is not used (with or without the window part) and
    the job sessions are read from the history start."""
    sessions = _failed_nightly(T2) + _failed_nightly(T1) + [
        _job("Offsite", "BackupSync", _t(T1, days=-2), "urn:veeam:BackupJobSession:copy", hours=100),
        _task("db01", "Offsite", _t(T2, hours=-4), "urn:veeam:BackupJobSession:copy")]
    _warm_and_cold(tmp_path, sessions, [T1], lookback_days=1, history_cache_window=window)
    (warm, cold, cache), = _warm_and_cold(tmp_path, sessions, [T2], lookback_days=3, history_cache_window=window)
    assert cache.outcome["used"] is False and cache.outcome["job_read_from"] == em_time.format_z(_t(T2, days=-30))
    assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] == 1
    assert warm == cold


# ---- job sessions the window's task sessions name, read by UID (read_named_job_sessions) ----------------------

def test_a_mirroring_copy_session_open_longer_than_the_history_types_its_task_sessions_by_uid(tmp_path):
    """An immediate (mirroring) copy job keeps one session open for weeks (FACTS 6): created 40 days ago, before the
    history start, it is in no job-session read. Its task session of last night is read by UID: a copy by its
    real type, not a job_type_unknown guess - cold and warm alike, one request each night."""
    mirror = "urn:veeam:BackupJobSession:7a3e9c10-2f4b-4d6e-8b1a-9c0d5e6f7a33"
    sessions = _failed_nightly(T2) + _failed_nightly(T1) + [
        _job("Offsite Mirror", "ImmediateBackupCopy", _t(T2, days=-40), mirror, hours=24 * 60),
        _task("db01", "Offsite Mirror", _t(T1, hours=-3), mirror),
        _task("db01", "Offsite Mirror", _t(T2, hours=-3), mirror)]
    nights = _warm_and_cold(tmp_path, sessions, [T1, T2])
    for warm, cold, _cache in nights:
        assert warm == cold
        assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] >= 1
        assert not [item for item in cold["warnings"] if item["code"] == "job_type_unknown"]
    _warm, _cache, _em, queries = _judged_night(tmp_path / "cold", sessions, T2, check_jobs=True, lookback_days=1,
                                                history_cache=False)
    assert queries["named_job_sessions"] == {"type": "BackupJobSession", "asked": 1, "not_asked": 0, "requests": 1,
                                             "items": 1}


def test_nothing_is_asked_by_uid_when_every_named_job_session_was_read(tmp_path):
    """The usual night: every task session's job session is in the range read (the window's, or one before the
    window whose UID a window task session names): no request by UID."""
    _warm, _cache, em, queries = _judged_night(tmp_path, _failed_nightly(T2), T2, check_jobs=True, lookback_days=1,
                                               history_cache=False)
    assert queries["named_job_sessions"] == {"type": "BackupJobSession", "asked": 0, "not_asked": 0, "requests": 0,
                                             "items": 0}
    assert [flt for query_type, flt in em.filters if "UID==" in (flt or "")] == []


def test_a_task_session_naming_something_that_is_no_job_session_uid_stays_a_copy_and_is_said(tmp_path):
    """A JobSessionUid that is not a backup job session's UID is not put into a filter (em_query refuses it, so no
    value changes a query's meaning): its task session stays unseen - a copy, named by job_type_unknown."""
    odd = 'urn:veeam:BackupJobSession:x" ,UID=="*'
    sessions = _failed_nightly(T2) + [_task("db01", "Gone", _t(T2, hours=-3), odd)]
    cold, _cache, em, queries = _judged_night(tmp_path, sessions, T2, check_jobs=True, lookback_days=1,
                                              history_cache=False)
    assert queries["named_job_sessions"]["not_asked"] == 1 and queries["named_job_sessions"]["requests"] == 0
    assert [flt for query_type, flt in em.filters if "UID==" in (flt or "")] == []
    assert cold["compliant"] is False and _db01(cold)["copy"]["sessions"] == 1
    assert [item for item in cold["warnings"] if item["code"] == "job_type_unknown"]


def test_at_most_named_max_job_sessions_are_asked_for_by_uid(tmp_path, monkeypatch):
    """An answer naming more job sessions than a fleet's few long copy sessions costs at most NAMED_MAX / NAMED_CHUNK
    requests; the others are not asked and their task sessions stay copies, named by job_type_unknown."""
    monkeypatch.setattr(reader, "NAMED_MAX", 2)
    monkeypatch.setattr(reader, "NAMED_CHUNK", 1)
    uids = ["urn:veeam:BackupJobSession:00000000-0000-4000-8000-%012d" % number for number in range(5)]
    sessions = _failed_nightly(T2) + [_task("vm%d" % number, "Gone", _t(T2, hours=-3), uid)
                                      for number, uid in enumerate(uids)]
    cold, _cache, em, queries = _judged_night(tmp_path, sessions, T2, check_jobs=True, lookback_days=1,
                                              history_cache=False)
    assert queries["named_job_sessions"] == {"type": "BackupJobSession", "asked": 2, "not_asked": 3, "requests": 2,
                                             "items": 0}
    assert len([flt for query_type, flt in em.filters if "UID==" in (flt or "")]) == 2
    unknown = [item for item in cold["warnings"] if item["code"] == "job_type_unknown"]
    assert unknown and unknown[0]["message"].startswith("5 backup task session(s) belong to no job session read")


def test_a_job_session_uid_is_held_as_its_guid_and_given_back_in_ems_spelling():
    """The window's named job sessions are held as 16 bytes each (50,000 VMs: ~23,000 of them); the key is the same
    for any case of the UID, and the UID asked for is EM's own spelling. Anything else is held as written, lower
    case, and em_query refuses to put it into a filter."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import sessions
    uid = "urn:veeam:BackupJobSession:5d1c7a52-0b64-4c39-9a35-1f6f3d0c2b11"
    key = sessions.job_session_key(uid)
    assert key == sessions.job_session_key(uid.upper()) == sessions.job_session_key(uid.replace("5d1c", "5D1C"))
    assert isinstance(key, bytes) and len(key) == 16
    assert sessions.job_session_uid(key) == uid
    for odd in ("urn:veeam:BackupJobSession:not-a-guid-at-all-but-36-chars-long", "Nightly@2025", "", None):
        assert sessions.job_session_key(odd) == str(odd or "").lower()
        assert sessions.job_session_uid(sessions.job_session_key(odd)) == str(odd or "").lower()
