"""Attacks on the history cache's late-collection rules of session 9 (h-attack9).

_quiet_through (a quiet backup server holds the cache back), _new_servers (a server new to EM is a full
read) and em_compliance_read.task_sessions_answered (no server_silent unless the task sessions were read). Each finding (a
warm night judging BETTER than a cold read of the same EM, a secret in the result, or a wrong error) was a
strict xfail first and is a plain test now, its finding in the comment above it; the other plain tests pin
behaviour that held under attack. The nights are the FakeEM nights of test_history_cache.py
(_judged: EM shows a session from its end, or from ``collected_hours`` after a night: collected late).
"""
import gzip
import json
from datetime import timedelta

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader

from .test_history_cache import (  # helpers only (no test is imported: pytest would run it twice)
    FakeEM, NIGHT1, NIGHT2, _as_em_shows, _judged, _night, _params, _vbr, _vm_row)

VBR1, VBR2 = "vbr01.example.com", "vbr02.example.com"


@pytest.fixture(autouse=True)
def _plain_pages(monkeypatch):
    monkeypatch.setattr(reader.em_parse, "normalise_document", lambda document, resource: document)


def _active(now):
    """vbr01 is alive: a session every day up to 2 h before ``now``."""
    return [_vbr(now, hours, "web01", VBR1) for hours in (2, 26, 50, 74)]


def _listed_night(path, sessions, night, servers=(VBR1, VBR2), **extra):
    """One night against an EM that lists ``servers`` (known_servers_from_em) and shows ``sessions`` as at ``night``
    (late ones not yet collected): (fold, items, cache), the reads without error."""
    em = FakeEM(_as_em_shows(sessions, em_compliance.parse_time(night)))
    em.servers = list(servers)
    fold, items, _queries, error, cache = _night(path, em, night, known_servers_from_em=True, **extra)
    assert error is None
    return fold, items, cache


def _listed_verdicts(path, fold, items):
    """judge_read of a _listed_night's fold (the task sessions read, no read error), as JSON gives it back."""
    params = _params(path, check_jobs=False, known_servers_from_em=True)
    return json.loads(json.dumps(reader.judge_read(params, fold, items, [])))


def _night_pair(tmp_path, sessions, night, **extra):
    warm, cache, _requests = _judged(tmp_path / "warm", sessions, night, **extra)
    cold, _cache, _requests = _judged(tmp_path / "cold", sessions, night, history_cache=False,
                                      **dict((k, v) for k, v in extra.items() if not k.startswith("history_cache")))
    return warm, cold, cache


# ---- 1. a server quiet for longer than the window ------------------------------------------------------------

# Found (h-attack9), fixed in session 9: quiet server beyond the window: vbr02's last session ended 9 days before
#  night 1 (lookback 7 d, so it is a HISTORY session); it is unreachable, and a Failed session of app01 created 3
#  days before night 1 is collected 12 h after night 1. HistoryCache.save runs before settle, and
#  SessionFold.add_history never calls _seen, so fold.last_seen has no entry for vbr02 at save: no quiet_server,
#  read_through = night 1. Night 2 reads the window from night 1 - 48 h and misses the late Failed session: warm
#  app01 backup.failed 0, cold 1 (false compliant; the module doc promises 'a backup server that had no session for
#  longer than this' is found the next night)
def test_a_server_quiet_for_longer_than_the_window_holds_the_cache_back(tmp_path):
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 9 * 24, "app01", VBR2),                                          # its last sign of life
        _vbr(NIGHT1, 72, "app01", VBR2, collected_hours=12, result="Failed"),         # collected late
        _vbr(NIGHT2, 1, "app01", VBR2)]                                               # vbr02 is back
    _first, first, _requests = _judged(tmp_path / "warm", sessions, NIGHT1)
    warm, cold, cache = _night_pair(tmp_path, sessions, NIGHT2)
    assert cache.outcome["used"] is True
    assert _vm_row(cold, "app01")["backup"]["failed"] == 1
    assert _vm_row(warm, "app01")["backup"]["failed"] == 1   # fails now: 0 (the late Failed session unread)
    assert warm == cold
    # the rule as documented: vbr02 had no session for longer than the overlap, said
    assert "backup server %s has no session since" % VBR2 in first.outcome.get("quiet_server", "")


def test_a_server_quiet_inside_the_window_is_held_back(tmp_path):
    """The same outage inside the window (last sign 4 days back): held back, warm equals cold - the contrast that
    shows the failure above is the history (not the outage's length)."""
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 4 * 24, "app01", VBR2),
        _vbr(NIGHT1, 72, "app01", VBR2, collected_hours=12, result="Failed"),
        _vbr(NIGHT2, 1, "app01", VBR2)]
    _assert_held_back_then_warm_equals_cold(tmp_path, sessions)


# Found (h-attack9), fixed in session 9: a server EM lists with no session at all in the 30 days (unreachable all
#  that time; known_servers_from_em): nothing in fold.last_seen, so no quiet_server and the cache covers up to night
#  1. When EM reaches it, its sessions of the last days arrive with their past creation times; night 2 reads from
#  night 1 - 48 h and misses the Failed one created 3 days before night 1: warm app01 backup.failed 0, cold 1 (false
#  compliant). A listed server with no sign of life should hold the cache back (to the history start), said in
#  quiet_server
def test_a_listed_server_with_no_session_at_all_holds_the_cache_back(tmp_path):
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 72, "app01", VBR2, collected_hours=12, result="Failed"),
        _vbr(NIGHT2, 1, "app01", VBR2)]
    _fold, _items, first_cache = _listed_night(tmp_path / "warm", sessions, NIGHT1)
    fold, items, cache = _listed_night(tmp_path / "warm", sessions, NIGHT2)
    assert cache.outcome["used"] is True
    warm = _listed_verdicts(tmp_path / "warm", fold, items)
    cold, _cache, _requests = _judged(tmp_path / "cold", sessions, NIGHT2, history_cache=False)
    assert _vm_row(cold, "app01")["backup"]["failed"] == 1
    assert _vm_row(warm, "app01")["backup"]["failed"] == 1   # fails now: 0 (the late Failed session unread)
    assert VBR2 in first_cache.outcome.get("quiet_server", "")


# ---- 2. a quiet server outside the server patterns --------------------------------------------------------------

# Found (h-attack9), fixed in session 9: exclude_servers: [vbr02] on night 1, the pattern removed on night 2 (a
#  policy changed between nights; the cache docstring promises cached sessions are judged 'as a cold read would').
#  vbr02 is quiet 60 h at night 1, but SessionFold._place returns for an out-of-scope server before _seen, so it has
#  no last_seen: no quiet_server, read_through = night 1. Night 2 (vbr02 in scope) misses app01's Failed session
#  created 50 h before night 1 and collected 12 h after it: warm backup.failed 0, cold 1 (false compliant)
def test_a_quiet_server_outside_the_server_patterns_still_holds_the_cache_back(tmp_path):
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 60 + 1.0 / 6, "app01", VBR2),
        _vbr(NIGHT1, 50, "app01", VBR2, collected_hours=12, result="Failed"),
        _vbr(NIGHT2, 1, "app01", VBR2)]
    _first, cache, _requests = _judged(tmp_path / "warm", sessions, NIGHT1, exclude_servers=[VBR2])
    warm, cold, cache = _night_pair(tmp_path, sessions, NIGHT2)
    assert cache.outcome["used"] is True
    assert _vm_row(cold, "app01")["backup"]["failed"] == 1
    assert _vm_row(warm, "app01")["backup"]["failed"] == 1   # fails now: 0 (the late Failed session unread)
    assert warm == cold


def test_a_quiet_server_whose_vms_are_all_excluded_still_holds_the_cache_back(tmp_path):
    """exclude_vms covers every VM of vbr02 on night 1: its sessions still are signs of life (_place calls _seen
    for a session outside the VM patterns), so the cache is held back and night 2 (no pattern) equals cold."""
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 60 + 1.0 / 6, "app01", VBR2),
        _vbr(NIGHT1, 50, "app01", VBR2, collected_hours=12, result="Failed"),
        _vbr(NIGHT2, 1, "app01", VBR2)]
    _assert_held_back_then_warm_equals_cold(tmp_path, sessions, exclude_vms=["app*"])


# ---- 2b. a server added to EM again under the same name -----------------------------------------------------

# Found (h-attack9), accepted then, fixed in session 14: _new_servers compared EM's list by NAME only: vbr02 is
#  removed from EM and a backup server of the same name (VBR reinstalled on the same host: a new UID) is added between
#  two nights; EM collects its past sessions with their past creation times, among them a Failed one of app01 created
#  3 days before night 1. Night 2's list was [vbr01, vbr02] as night 1's: no full read, the warm night read from
#  night 1 - 48 h and missed it: warm app01 (new vbr02) backup.failed 0, cold 1 (false compliant). The list is
#  compared by name and UID now.
def test_a_server_added_again_under_its_name_is_a_full_read(tmp_path):
    new_uid = "urn:veeam:BackupServer:11111111-2222-3333-4444-555555555555"
    night1 = _active(NIGHT1) + [_vbr(NIGHT1, hours, "app01", VBR2) for hours in (2, 26)]
    night2 = _active(NIGHT2) + [
        _vbr(NIGHT1, 72, "app01", VBR2, collected_hours=12, result="Failed", server_uid=new_uid),
        _vbr(NIGHT2, 1, "app01", VBR2, server_uid=new_uid)]
    listed2 = [VBR1, (VBR2, new_uid)]   # EM lists vbr02 under its new UID
    _listed_night(tmp_path / "warm", night1, NIGHT1)
    # EM forgot the removed server's sessions; the new one's are all there from night 1 + 12 h
    fold, items, cache = _listed_night(tmp_path / "warm", night2, NIGHT2, servers=listed2)
    assert cache.outcome["used"] is False
    assert "under a UID the history cache" in cache.outcome["reason"]
    assert "vbr02.example.com (%s)" % new_uid.lower() in cache.outcome["reason"]
    warm = _listed_verdicts(tmp_path / "warm", fold, items)
    fold, items, _cache = _listed_night(tmp_path / "cold", night2, NIGHT2, servers=listed2, history_cache=False)
    cold = _listed_verdicts(tmp_path / "warm", fold, items)

    def new_app01(result):
        return next(row for row in result["vms"] if row["vm_display_name"] == "app01"
                    and row["backup_server_uid"] == new_uid)
    assert new_app01(cold)["backup"]["failed"] == 1
    assert new_app01(warm)["backup"]["failed"] == 1, cache.outcome["reason"]   # was 0


def test_a_server_listed_again_under_its_uid_in_another_case_keeps_the_cache(tmp_path):
    # the control of the test above: UIDs compare without case (EM's URNs are GUIDs), a rename by case is no new server
    sessions = _active(NIGHT1) + [_vbr(NIGHT1, hours, "app01", VBR2) for hours in (2, 26)]
    _listed_night(tmp_path, sessions, NIGHT1)
    upper = "urn:veeam:BackupServer:%s" % VBR2.upper()
    _fold, _items, cache = _listed_night(tmp_path, sessions, NIGHT2, servers=[VBR1, (VBR2.upper(), upper)])
    assert cache.outcome["used"] is True, cache.outcome["reason"]


def test_a_server_renamed_in_em_is_a_full_read(tmp_path):
    # same UID, another name: still a full read (a name the cache does not know), as before the UIDs were kept
    sessions = _active(NIGHT1) + [_vbr(NIGHT1, hours, "app01", VBR2) for hours in (2, 26)]
    _listed_night(tmp_path, sessions, NIGHT1)
    renamed = [VBR1, ("vbr02-new.example.com", "urn:veeam:BackupServer:%s" % VBR2)]
    _fold, _items, cache = _listed_night(tmp_path, sessions, NIGHT2, servers=renamed)
    assert cache.outcome["used"] is False
    assert "does not know (vbr02-new.example.com)" in cache.outcome["reason"]


def test_a_cache_that_names_no_server_uids_is_a_full_read_once(tmp_path):
    # a cache written before the UIDs were kept (or edited): the night cannot tell a server added again, so it reads
    # the whole history, said, and writes the UIDs; the night after is warm
    sessions = _active(NIGHT1) + [_vbr(NIGHT1, hours, "app01", VBR2) for hours in (2, 26)]
    _listed_night(tmp_path, sessions, NIGHT1)
    path = tmp_path / "compliance.history-cache.json.gz"
    with gzip.open(str(path), "rt", encoding="utf-8") as stream:
        lines = stream.read().splitlines(True)
    header = json.loads(lines[0])
    assert header["server_uids_listed"] == sorted("urn:veeam:backupserver:%s" % name for name in (VBR1, VBR2))
    del header["server_uids_listed"]
    with gzip.open(str(path), "wt", encoding="utf-8") as stream:
        stream.write(json.dumps(header) + "\n" + "".join(lines[1:]))
    _fold, _items, cache = _listed_night(tmp_path, sessions, NIGHT2)
    assert cache.outcome["used"] is False
    assert "does not name the backup servers EM listed, by name and UID" in cache.outcome["reason"]
    _fold, _items, cache = _listed_night(tmp_path, sessions, _at_hours(NIGHT2, 24))
    assert cache.outcome["used"] is True, cache.outcome["reason"]


# Found (h-attack9), fixed in session 9: a backup server added to EM minutes before night 1: EM's list names it
#  (new: night 1 is a full read, said), but EM has collected none of its past sessions yet; they arrive 2 h after
#  night 1 with their past creation times. Night 1's cache names vbr02 in servers_listed and covers up to night 1
#  (no session of vbr02: no last_seen, no quiet_server), so night 2 is warm, reads from night 1 - 48 h and misses
#  app01's Failed session created 3 days before night 1: warm backup.failed 0, cold 1 (false compliant).
#  _new_servers assumes EM has collected a new server's past by the time it lists it
def test_a_new_server_whose_past_ems_collects_after_the_night_is_read_the_night_after(tmp_path):
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 72, "app01", VBR2, collected_hours=2, result="Failed"),
        _vbr(NIGHT1, 48, "app01", VBR2, collected_hours=2),
        _vbr(NIGHT2, 1, "app01", VBR2)]
    _listed_night(tmp_path / "warm", sessions, _at_hours(NIGHT1, -24), servers=[VBR1])
    _fold, _items, cache = _listed_night(tmp_path / "warm", sessions, NIGHT1)
    assert cache.outcome["used"] is False and "EM lists backup server(s)" in cache.outcome["reason"]
    fold, items, cache = _listed_night(tmp_path / "warm", sessions, NIGHT2)
    warm = _listed_verdicts(tmp_path / "warm", fold, items)
    cold, _cache, _requests = _judged(tmp_path / "cold", sessions, NIGHT2, history_cache=False)
    assert _vm_row(cold, "app01")["backup"]["failed"] == 1
    assert _vm_row(warm, "app01")["backup"]["failed"] == 1, cache.outcome["reason"]   # now: 0


# ---- 3. no server_silent next to a read that stopped before the task sessions --------------------------------

def _codes(result):
    return sorted(set(code for row in result.get("servers", []) for code in row.get("reasons", [])))


@pytest.mark.parametrize("fail_type", [
    "BackupServer",  # found by h-attack9 (server_silent next to read_error), fixed in session 9 (task_sessions_answered)
    "Job",  # found by h-attack9 (server_silent next to read_error), fixed in session 9 (task_sessions_answered)
])
def test_a_read_stopped_before_the_task_sessions_judges_no_server_silent(tmp_path, fail_type):
    em = FakeEM([_vbr(NIGHT1, 2, "web01", VBR1)[:2]], fail_type=fail_type)
    extra = dict(known_servers_from_em=True, known_backup_servers=[VBR1])
    fold, items, queries, error, _cache = _night(tmp_path, em, NIGHT1, **extra)
    assert error is not None and "HTTP 500" in str(error)
    params = _params(tmp_path, check_jobs=False, **extra)
    result = json.loads(json.dumps(reader.judge_read(params, fold, items, [str(error)], queries=queries)))
    assert result["status"] == "error"
    assert "read_error" in json.dumps(result)
    assert "server_silent" not in json.dumps(result), _codes(result)


def test_a_failed_task_session_read_judges_no_server_silent(tmp_path):
    """The rule that landed (8ce75bb), pinned with the history cache and the list read first."""
    em = FakeEM([_vbr(NIGHT1, 2, "web01", VBR1)[:2]], fail_type="BackupTaskSession")
    extra = dict(known_servers_from_em=True, known_backup_servers=[VBR1])
    fold, items, queries, error, _cache = _night(tmp_path, em, NIGHT1, **extra)
    params = _params(tmp_path, check_jobs=False, **extra)
    assert error is not None and reader.task_sessions_answered(params, queries) is False
    result = json.loads(json.dumps(reader.judge_read(params, fold, items, [str(error)], queries=queries)))
    assert result["status"] == "error" and "server_silent" not in json.dumps(result)


# ---- 4. a secret EM echoes in a backup server's name: never in the result, never in the cache ---------------

def _secret_server_em(monkeypatch, server, created_day):
    """The module's HTTP fake serving 6 backup task sessions of ``server`` (the last on June ``created_day``+5)
    and EM's server list naming it."""
    from unit.plugins.module_utils.em_fake import FakeEM as HttpEM, paged_handler, synthetic_task_session
    from unit.plugins.modules.module_runner import install_fake
    sessions = []
    for index in range(6):
        item = synthetic_task_session(index)
        item["CreationTimeUTC"] = item["EndTimeUTC"] = "2025-06-%02dT01:00:00Z" % (created_day + index)
        item["Links"][0]["Name"] = server
        sessions.append(item)
    served = {"BackupTaskSession": (sessions, "BackupTaskSessions", "BackupTaskSession"),
              "ReplicaTaskSession": ([], "ReplicaTaskSessions", "ReplicaTaskSession"),
              "BackupServer": ([{"Name": server, "UID": "urn:veeam:BackupServer:7445e6ce-86f5-4171-b909-dac209c66563",
                                 "Type": "BackupServer", "Links": []}], "BackupServers", "BackupServer"),
              "Job": ([{"Name": "Backup Job 1", "UID": "urn:veeam:Job:0b5b5d2e-1b1e-4a36-9d0e-5f0b7c1d2a01",
                        "Links": []}], "Jobs", "Job")}

    def handler(call):
        if call.path != "/api/query":
            return None
        items, list_tag, item_tag = served[call.query["type"]]
        return paged_handler(items, "json", list_tag, item_tag)(call)
    install_fake(monkeypatch, HttpEM("json", handler))


def _run_module(capsys, tmp_path, now):
    from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
    from unit.plugins.modules.module_runner import CONNECTION, run_module
    result = run_module(module, dict(CONNECTION, now=now, check_jobs=False, check_replicas=False,
                                     report_dir=str(tmp_path)), capsys)
    assert "failed" not in result, result.get("msg")
    return result


def _cache_text(tmp_path):
    with gzip.open(str(tmp_path / "compliance.history-cache.json.gz"), "rt", encoding="utf-8") as stream:
        return stream.read()


# Found (h-attack9), fixed in session 9: a backup server whose name carries the password (EM echoes what it was
#  given, 'vbr-Pa55-w0rd!.example.com'), quiet for 18 days: history_cache.quiet_server names it LOWER-CASED
#  (_quiet_through takes the name from fold.last_seen's 'known:<lower name>' key): 'backup server
#  vbr-pa55-w0rd!.example.com has no session since ...'. The outcome is returned as it is (em_compliance_module:
#  history_cache=cache.outcome, not em_secrets.scrub_data'd), and ansible-core's no_log masking is case-sensitive:
#  the password, lower-cased, is in the module's result (secret in result). The cache file is scrubbed
#  (case-insensitive): it holds none
def test_a_quiet_server_named_with_a_secret_is_masked_in_the_result_and_the_cache(monkeypatch, capsys, tmp_path):
    from unit.plugins.modules.module_runner import CONNECTION
    monkeypatch.undo()   # EM's real pages here (the autouse fixture's plain pages are for FakeEM)
    secret = CONNECTION["password"]
    _secret_server_em(monkeypatch, "vbr-%s.example.com" % secret, 5)
    result = _run_module(capsys, tmp_path, "2025-06-29T06:00:00Z")
    assert "has no session since 2025-06-10T01:00:00Z" in result["history_cache"]["quiet_server"]
    text = _cache_text(tmp_path)
    assert "vbr-********.example.com" in text and secret.lower() not in text.lower()
    assert secret.lower() not in json.dumps(result).lower(), result["history_cache"]["quiet_server"]


# Found (h-attack9), fixed in session 9: EM's server list names a server whose name carries the password, new since
#  the cache's night: HistoryCache._new_servers' reason lists the LOWER-CASED names ('... does not know
#  (vbr-pa55-w0rd!...)'), returned in history_cache.reason unscrubbed; no_log masking is case-sensitive: the
#  password, lower-cased, is in the module's result
def test_a_new_server_named_with_a_secret_is_masked_in_the_reason(monkeypatch, capsys, tmp_path):
    from unit.plugins.modules.module_runner import CONNECTION
    monkeypatch.undo()
    secret = CONNECTION["password"]
    _secret_server_em(monkeypatch, "vbr01.example.com", 22)
    _run_module(capsys, tmp_path, "2025-06-28T06:00:00Z")
    _secret_server_em(monkeypatch, "vbr-%s.example.com" % secret, 22)
    result = _run_module(capsys, tmp_path, "2025-06-29T06:00:00Z")
    assert "EM lists backup server(s) the history cache" in result["history_cache"]["reason"]
    assert secret.lower() not in json.dumps(result).lower(), result["history_cache"]["reason"]


@pytest.mark.parametrize("failure", [
    "logon",  # found by h-attack9 (server_silent next to read_error), fixed in session 9 (task_sessions_answered)
    "servers",  # found by h-attack9 (server_silent next to read_error), fixed in session 9 (task_sessions_answered)
    "tasks",   # 8ce75bb's case: held
])
def test_the_module_claims_no_silent_server_when_em_could_not_be_read(monkeypatch, capsys, tmp_path, failure):
    from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
    from unit.plugins.module_utils.em_fake import FakeEM as HttpEM, Reply, error_body
    from unit.plugins.modules.module_runner import CONNECTION, install_fake, run_module
    from unit.plugins.modules.test_compliance_info import by_type
    monkeypatch.undo()
    if failure == "logon":
        fake = HttpEM("json", by_type(), logon=lambda call: Reply(401, error_body("json", 401, "Unauthorized")))
    else:
        fake = HttpEM("json", by_type(fail_type="BackupServer" if failure == "servers" else "BackupTaskSession"))
    install_fake(monkeypatch, fake)
    result = run_module(module, dict(CONNECTION, now="2025-06-29T06:00:00Z", known_backup_servers=[VBR1],
                                     report_dir=str(tmp_path)), capsys)
    assert result["failed"] is True
    compliance = result["compliance"]
    assert [error["code"] for error in compliance["errors"]] == [em_compliance.READ_ERROR]
    assert compliance["status"] == "error"
    assert compliance["violations"] == [] and compliance["servers"] == [], compliance["violations"]
    if failure != "logon":
        assert fake.logoffs == 1


# ---- 5. clock skew of a quiet server ------------------------------------------------------------------------

def _shown_from(entry, hours_before_night1):
    """``entry`` (a _vbr tuple) shown by EM from ``hours_before_night1`` before night 1 (its times dated ahead)."""
    kind, item, end, _visible = entry
    return kind, item, end, em_compliance.parse_time(NIGHT1) - timedelta(hours=hours_before_night1)


@pytest.mark.parametrize("stray", ["created ahead", "ended ahead"])
def test_a_stray_session_dated_ahead_does_not_hide_a_quiet_server(tmp_path, stray):
    """Held: vbr02 is quiet since 60 h before night 1, but one of its sessions carries a time 3 days ahead of night 1
    (a wrong clock: its creation, or only its end): that time is no sign of life (fold.ahead_seen, clock_skew), so
    vbr02 still holds the cache back and night 2 finds the Failed session EM collects late - warm equals cold."""
    if stray == "created ahead":
        odd = _shown_from(_vbr(NIGHT1, -72, "db01", VBR2), 61)
    else:
        odd = _shown_from(_vbr(NIGHT1, 61, "db01", VBR2, end=_at_hours(NIGHT1, 72)), 61)
    sessions = _active(NIGHT1) + [
        _vbr(NIGHT1, 60 + 1.0 / 6, "app01", VBR2), odd,
        _vbr(NIGHT1, 50, "app01", VBR2, collected_hours=12, result="Failed"),
        _vbr(NIGHT2, 1, "app01", VBR2)]
    _assert_held_back_then_warm_equals_cold(tmp_path, sessions)


def _assert_held_back_then_warm_equals_cold(tmp_path, sessions, **night1):
    """Night 1 (``night1``: its options) says vbr02 is quiet (history_cache.quiet_server); night 2 (the default
    policy) uses the cache, and app01's Failed session EM collected late is counted warm as cold."""
    _first, cache, _requests = _judged(tmp_path / "warm", sessions, NIGHT1, **night1)
    assert "backup server %s has no session since" % VBR2 in cache.outcome["quiet_server"]
    warm, cold, cache = _night_pair(tmp_path, sessions, NIGHT2)
    assert cache.outcome["used"] is True
    assert _vm_row(cold, "app01")["backup"]["failed"] == 1
    assert warm == cold


def _at_hours(iso, hours):
    return em_compliance.format_time(em_compliance.parse_time(iso) + timedelta(hours=hours))


# ---- 6. the cost of the quiet rule ----------------------------------------------------------------------------

def test_a_server_with_weekly_jobs_holds_every_warm_night_back_to_its_last_run(tmp_path):
    """The cost, pinned (not a fault): a backup server whose only job runs weekly is 'quiet' for up to 6 days after
    each run, so while it is, every warm night reads the window again from that run's end - night 2 below reads
    5 of the 7 days of the window from EM (a cold read reads 7). A decommissioned server still in scope costs the
    same until its last session leaves the window (and, once the history is counted as a sign of life, the 30 days)."""
    sessions = _active(NIGHT2) + [_vbr(NIGHT1, 4 * 24, "weekly01", VBR2)]
    _judged(tmp_path / "warm", sessions, NIGHT1)
    warm, cold, cache = _night_pair(tmp_path, sessions, NIGHT2)
    assert warm == cold and cache.outcome["used"] is True
    assert cache.outcome["window_read_from"] == "2025-05-31T06:10:00Z"   # the weekly run's end, 5 days back
    assert "backup server %s has no session since 2025-05-31T06:10:00Z" % VBR2 in cache.outcome["quiet_server"]
