"""The veeam_em_sessions event source's poller, against the emulator over HTTPS (real time clock).

A hand-made dataset: sessions that ended inside and outside the first poll's window, a running
one, a failed backup task session; then a retry through EM's REST API adds new finished sessions.
Each test names what it guards: no event twice (in one run and across restarts with a state
file), none lost when a poll fails, an expired logon session logged on again, one logon kept and
logged off at the end, errors without secrets.
"""
import asyncio
import json
import logging
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from emulator.harness import Emulator

from ansible_collections.backupops.veeam_em.extensions.eda.plugins.event_source import veeam_em_sessions as source
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError


def _guid(number):
    return str(uuid.UUID(int=number))


def _at(now, minutes_before):
    return (now - timedelta(minutes=minutes_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


SERVER = "vbr01.test"
# (vm, minutes before start, duration minutes or None while running, state, result, reason)
SESSIONS = [
    ("old01", 300, 10, "Completed", "Success", ""),          # ended 290 min ago: before the first window
    ("ok01", 40, 10, "Completed", "Success", ""),            # ended 30 min ago
    ("fail01", 30, 5, "Completed", "Failed", "Error: There is not enough space on the disk."),  # ended 25 min ago
    ("run01", 20, None, "InProgress", None, ""),             # still running: no event
]


def build_dataset(now):
    server_id = _guid(1)
    vms, job_sessions, task_sessions = [], [], []
    job = {"id": _guid(1000), "name": "Backup Job A", "type": "Backup", "backup_server_id": server_id, "vms": []}
    for number, (vm, before, minutes, state, result, reason) in enumerate(SESSIONS, start=100):
        vm_id = "urn:VMware:Vm:vc.vm-%d" % number
        vms.append({"id": vm_id, "name": vm, "backup_server_id": server_id, "size_bytes": 10 ** 9})
        job["vms"].append(vm_id)
        ended = _at(now, before - minutes) if minutes is not None else None
        job_sessions.append({"id": _guid(number), "job_id": job["id"], "creation_time": _at(now, before),
                             "end_time": ended, "state": "Stopped" if ended else "Working", "result": result,
                             "progress": 100 if ended else 40, "is_retry": False})
        task_sessions.append({"id": _guid(5000 + number), "job_session_id": _guid(number), "vm_id": vm_id,
                              "vm_display_name": vm, "creation_time": _at(now, before), "end_time": ended,
                              "state": state, "result": result, "reason": reason,
                              "total_size": 10 ** 9 if result else 0})
    return {"format": "veeam-em-emulator-dataset/1", "generated_now": _at(now, 0),
            "backup_servers": [{"id": server_id, "name": SERVER}], "vms": vms, "jobs": [job],
            "job_sessions": job_sessions, "task_sessions": task_sessions}


@pytest.fixture()
def data_now():
    """The moment the test's sessions are laid out from: when its emulator starts, not when this file
    was imported. The source reads them with the real clock (the 60 min lookback, the RPO ages), and a
    test may run many minutes after collection (pytest-xdist, make shuffle, a long suite): with a clock
    read at import, old01's age left 5.0 h +- 0.1 after 6 minutes and ok01/fail01 left the lookback
    after 25."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture()
def em(data_now):
    with Emulator(dataset=build_dataset(data_now), tls=True) as emulator:
        yield emulator


def args_for(em, **extra):
    args = {"server": em.host, "port": em.port, "username": em.username, "password": em.password,
            "ca_path": em.ca_file, "retries": 0, "lookback_minutes": 60}
    args.update(extra)
    return args


def bodies(events):
    return [(e["veeam_em"]["type"], e["veeam_em"]["name"] if e["veeam_em"]["type"] == "job_session"
             else e["veeam_em"]["vm_name"], e["veeam_em"]["result"]) for e in events]


def retry_job(em, poller):
    """EM's retry of the failed job, through the REST API the veeam_em_job module uses: the emulator
    adds a finished retry job session (is_retry) with a task session for fail01."""
    response = poller.client.request("POST", "/api/jobs/%s" % _guid(1000), [("action", "retry")],
                                     describe="POST /api/jobs/{id}?action=retry")
    assert response.status_code == 202


FIRST = [("task_session", "ok01", "Success"), ("job_session", "Backup Job A", "Success"),
         ("task_session", "fail01", "Failed"), ("job_session", "Backup Job A", "Failed")]


def names(events):
    return [(e["veeam_em"]["type"], e["veeam_em"]["vm_name"] or e["veeam_em"]["job_name"], e["veeam_em"]["result"])
            for e in events]


def test_first_poll_reports_what_finished_in_the_lookback(em, data_now):
    poller = source.Poller(args_for(em))
    try:
        events, started = poller.poll()
    finally:
        poller.close()
    # old01 ended before the window, run01 is running: neither is an event; oldest end first
    assert names(events) == FIRST
    failed = events[2]["veeam_em"]
    assert failed == {
        "type": "task_session", "kind": "backup", "uid": "urn:veeam:BackupTaskSession:" + _guid(5102),
        "name": failed["name"], "state": "Completed", "result": "Failed",
        "reason": "Error: There is not enough space on the disk.", "vm_name": "fail01",
        "vm_uid": "urn:VMware:Vm:vc.vm-102", "job_name": "Backup Job A", "job_uid": "urn:veeam:Job:" + _guid(1000),
        "job_type": "Backup", "is_retry": False, "job_session_uid": "urn:veeam:BackupJobSession:" + _guid(102),
        "backup_server": SERVER, "backup_server_uid": "urn:veeam:BackupServer:" + _guid(1),
        "creation_time": _at(data_now, 30), "end_time": _at(data_now, 25)}
    assert events[3]["veeam_em"]["uid"] == "urn:veeam:BackupJobSession:" + _guid(102)
    assert abs((started - datetime.now(timezone.utc)).total_seconds()) < 600
    stats = em.stats()
    assert stats["sessions_created"] == 1 and stats["open_sessions"] == 0, stats


def test_window_is_filtered_by_em_on_end_time(em):
    """One query per resource, with EM's EndTime>= filter at (last poll - overlap), or the lookback first."""
    poller = source.Poller(args_for(em, lookback_minutes=45, overlap_minutes=7))
    sent = []
    query = poller.client.query

    def spy(resource, filter_expr, *args, **kwargs):
        sent.append((resource.query_type, filter_expr))
        return query(resource, filter_expr, *args, **kwargs)

    poller.client.query = spy
    clock = [datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)]
    poller.clock = lambda: clock[0]
    try:
        _events, started = poller.poll()
        poller.advance(started)
        clock[0] += timedelta(minutes=5)
        poller.poll()
    finally:
        poller.close()
    types = ["BackupTaskSession", "ReplicaTaskSession", "BackupJobSession", "ReplicaJobSession"]
    assert sent == [(kind, "EndTime>=\"2026-03-01T11:15:00Z\"") for kind in types] + \
        [(kind, "EndTime>=\"2026-03-01T11:53:00Z\"") for kind in types]


def test_no_event_twice_and_new_sessions_reported(em):
    poller = source.Poller(args_for(em))
    try:
        events, started = poller.poll()
        for event in events:
            poller.reported(event)
        poller.advance(started)
        again, started = poller.poll()
        assert again == []  # the overlap asks EM again; the UIDs already reported are skipped
        poller.advance(started)
        retry_job(em, poller)
        new = []
        for _attempt in range(100):  # the emulator's EM task finishes after task_seconds
            found, started = poller.poll()
            for event in found:
                poller.reported(event)
            poller.advance(started)
            new += found
            if len(new) >= 2:
                break
            time.sleep(0.1)
        # The retry's sessions may land between two of a poll's queries: then they come in two polls.
        assert poller.poll()[0] == []
    finally:
        poller.close()
    assert sorted(names(new)) == [("job_session", "Backup Job A", "Success"), ("task_session", "fail01", "Success")]
    assert new[0]["veeam_em"]["is_retry"] is True and new[1]["veeam_em"]["is_retry"] is True


def test_state_file_no_repeat_across_restarts(em, tmp_path):
    state_file = str(tmp_path / "state.json")
    first = source.Poller(args_for(em, state_file=state_file))
    try:
        events, started = first.poll()
        for event in events[:2]:  # stopped after two events were delivered
            first.reported(event)
    finally:
        first.close()
    second = source.Poller(args_for(em, state_file=state_file))
    try:
        rest, started = second.poll()
        assert names(rest) == FIRST[2:]  # the undelivered ones, not the delivered ones
        for event in rest:
            second.reported(event)
        second.advance(started)
    finally:
        second.close()
    with open(state_file, encoding="utf-8") as handle:
        saved = json.load(handle)
    assert saved["format"] == source.STATE_FORMAT and saved["since"] == source.utc_text(started)
    assert sorted(saved["reported"]) == sorted(e["veeam_em"]["uid"] for e in events)
    third = source.Poller(args_for(em, state_file=state_file))
    try:
        assert third.poll()[0] == []
    finally:
        third.close()


def test_a_failed_poll_loses_nothing(em):
    poller = source.Poller(args_for(em))
    try:
        poller.client.logon()
        em.set_faults({"kind": "status", "status": 503, "path": "/api/query", "count": 1})
        with pytest.raises(source.EMError):
            poller.poll()
        em.clear_faults()
        events, _started = poller.poll()  # the window did not move: everything is still there
    finally:
        poller.close()
    assert names(events) == FIRST


def test_an_expired_logon_session_is_logged_on_again(em):
    poller = source.Poller(args_for(em))
    try:
        poller.poll()
        em.set_faults({"kind": "expire_session", "path": "/api/query", "count": 1})
        events, _started = poller.poll()
    finally:
        poller.close()
    assert names(events) == FIRST
    stats = em.stats()
    assert stats["sessions_created"] == 2 and stats["open_sessions"] == 0, stats


def test_run_puts_events_on_the_queue_keeps_one_logon_and_logs_off(em, tmp_path):
    state_file = str(tmp_path / "state.json")
    poller = source.Poller(args_for(em, state_file=state_file, interval=0.2, keepalive_seconds=0.05))
    queue = asyncio.Queue()
    em.reset_stats()
    asyncio.run(source.run(queue, poller, polls=3))
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    assert names(events) == FIRST
    stats = em.stats()
    assert stats["sessions_created"] == 1 and stats["open_sessions"] == 0, stats
    keepalives = sum(count for key, count in stats["requests"].items() if "logonSessions" in key and "GET" in key)
    assert keepalives >= 1, stats["requests"]  # interval (0.2 s) longer than keepalive_seconds


def test_main_is_the_rulebook_entry_point(em, monkeypatch):
    """main(queue, args) polls until cancelled, and logs off when it is."""
    async def scenario():
        queue = asyncio.Queue()
        task = asyncio.ensure_future(source.main(queue, args_for(em, interval=30)))
        events = [await asyncio.wait_for(queue.get(), 30) for _expected in FIRST]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return events

    events = asyncio.run(scenario())
    assert names(events) == FIRST
    assert em.stats()["open_sessions"] == 0


def test_poll_errors_are_logged_without_secrets(em, caplog):
    secret = "Wr0ng-Secret-77"
    poller = source.Poller(args_for(em, password=secret, interval=0.01))
    with caplog.at_level(logging.WARNING):
        asyncio.run(source.run(asyncio.Queue(), poller, polls=1))
    text = caplog.text
    assert "poll failed" in text and "401" in text
    assert secret not in text


def test_connection_defaults_come_from_the_modules_environment(monkeypatch, tmp_path):
    ca_file = tmp_path / "ca.pem"  # ca_path must exist (checked before any request)
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    for name, value in (("VEEAM_EM_SERVER", "em-env.test"), ("VEEAM_EM_PORT", "9555"),
                        ("VEEAM_EM_USERNAME", "env-user"), ("VEEAM_EM_PASSWORD", "pw"),
                        ("VEEAM_EM_VALIDATE_CERTS", "false"), ("VEEAM_EM_CA_PATH", str(ca_file))):
        monkeypatch.setenv(name, value)
    poller = source.Poller({})
    connection = poller.connection
    assert (connection.server, connection.port, connection.username, connection.password) == \
        ("em-env.test", 9555, "env-user", "pw")
    assert (connection.validate_certs, connection.ca_path) == (False, str(ca_file))


@pytest.mark.parametrize("args, message", [
    ({"intervall": 5}, "unknown argument"),
    ({"interval": 0}, "interval"),
    ({"keepalive_seconds": 900}, "keepalive_seconds"),
    ({"kinds": ["vm"]}, "kinds"),
    ({"port": "many"}, "port"),
    ({"compliance_interval": -1}, "compliance_interval"),
    # nan passed every "< 0" check (sleep(nan), timedelta(minutes=nan) raised later; a compliance_interval of
    # nan never ran a check); inf slept for ever or overflowed a date
    ({"interval": "nan"}, "argument interval: 'nan' is not a valid float"),
    ({"interval": float("inf")}, "argument interval: inf is not a valid float"),
    ({"keepalive_seconds": "nan"}, "argument keepalive_seconds: 'nan' is not a valid float"),
    ({"lookback_minutes": "nan"}, "argument lookback_minutes: 'nan' is not a valid float"),
    ({"overlap_minutes": "-inf"}, "argument overlap_minutes: '-inf' is not a valid float"),
    ({"compliance_interval": "nan"}, "argument compliance_interval: 'nan' is not a valid float"),
    ({"lookback_minutes": 1e12}, r"argument lookback_minutes: 1000000000000.0 must be at most 5256000"),
    ({"interval": 1e12}, r"argument interval: 1000000000000.0 must be at most 31536000"),
    ({"compliance_policy": {"backup_rpo_hours": "nan"}}, "backup_rpo_hours must be a number"),
    ({"compliance_policy": {"backup_rpo_hours": -1}}, "backup_rpo_hours"),
    ({"compliance_policy": {"backup_rpo_hourz": 4}}, "unknown option.*backup_rpo_hourz"),
    ({"compliance_policy": ["backup_rpo_hours"]}, "compliance_policy"),
    ({"username": None, "password": None}, "username and password are required"),
    # attack, session 15: requests read such a URL as another one (the logon went to port 443)
    ({"port": 0}, "option port: 0 must be a port number between 1 and 65535"),
    ({"server": "em.test#x"}, "option server: 'em.test#x' contains '#'"),
])
def test_bad_arguments_are_refused_before_any_request(monkeypatch, args, message):
    for name in ("VEEAM_EM_USERNAME", "VEEAM_EM_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    full = {"server": "em.test", "username": "u", "password": "p"}
    full.update(args)
    with pytest.raises(EMValidationError, match=message):
        source.Poller(full)


def test_arguments_ansible_rulebook_adds_are_accepted():
    poller = source.Poller({"server": "em.test", "username": "u", "password": "p", "eda_feedback_queue": object()})
    assert poller.options["interval"] == 60


def test_an_unreadable_state_file_is_refused(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(EMValidationError, match="state_file"):
        source.Poller({"server": "em.test", "username": "u", "password": "p", "state_file": str(path)})


def test_reported_uids_are_forgotten_once_outside_the_window():
    state = source.State(None)
    state.reported = {"a": "2026-01-01T10:00:00Z", "b": "2026-01-01T12:00:00Z"}
    state.prune(datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc))
    assert state.reported == {"b": "2026-01-01T12:00:00Z"}


# --- compliance events: a VM crossing its RPO (issue 20) -------------------------------------------
# With a 4 h backup RPO: old01 (last success 290 min ago) is over it, ok01 (30 min) within it,
# fail01 (only a failure) and run01 (only a running session) have no success at all. Replicas off.
POLICY = {"backup_rpo_hours": 4, "check_replicas": False}


def compliance_poller(em, tmp_path, **extra):
    return source.Poller(args_for(em, kinds=["job_session"], compliance_interval=3600, compliance_policy=POLICY,
                                  state_file=str(tmp_path / "state.json"), **extra))


def crossings(events):
    return sorted((e["veeam_em"]["code"], e["veeam_em"]["vm_name"]) for e in events
                  if e["veeam_em"]["type"] == "compliance")


def run_once(poller, failures_expected=False):
    """One poll and check (run() logs off at the end: a poller is used once, as by one source run).

    Unless told otherwise, a failed poll or check fails the test: "no crossing" must come from a
    check that ran."""
    queue = asyncio.Queue()
    handler = _Recorder()
    logging.getLogger(source.__name__).addHandler(handler)
    try:
        asyncio.run(source.run(queue, poller, polls=1))
    finally:
        logging.getLogger(source.__name__).removeHandler(handler)
    if not failures_expected:
        assert not [text for text in handler.texts if "failed" in text], handler.texts
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


class _Recorder(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self, logging.WARNING)
        self.texts = []

    def emit(self, record):
        self.texts.append(record.getMessage())


def test_a_vm_over_its_rpo_is_one_compliance_event_with_its_age(em, tmp_path):
    events = run_once(compliance_poller(em, tmp_path))
    assert crossings(events) == [("rpo_exceeded", "fail01"), ("rpo_exceeded", "old01"), ("rpo_exceeded", "run01")]
    old01 = [e["veeam_em"] for e in events if e["veeam_em"].get("vm_name") == "old01"][0]
    # the age of the data: created 300 min before the dataset's now (issue 22), never the end
    assert old01["last_success_age_hours"] == pytest.approx(5.0, abs=0.1)
    assert (old01["kind"], old01["status"], old01["rpo_hours"], old01["backup_server"]) == \
        ("backup", "violation", 4, SERVER)
    assert em.stats()["open_sessions"] == 0


def test_a_crossing_is_announced_once_across_checks_and_restarts(em, tmp_path):
    assert len(crossings(run_once(compliance_poller(em, tmp_path)))) == 3
    em.reset_stats()
    # a restart with the same state file: the check runs (it reads EM) and announces nothing again
    assert crossings(run_once(compliance_poller(em, tmp_path))) == []
    assert em.stats()["requests"].get("GET /api/query", 0) > 2


def test_a_vm_back_within_its_rpo_is_announced(em, tmp_path):
    run_once(compliance_poller(em, tmp_path))
    wider = source.Poller(args_for(em, kinds=["job_session"], compliance_interval=3600,
                                   compliance_policy=dict(POLICY, backup_rpo_hours=6),
                                   state_file=str(tmp_path / "state.json")))
    assert crossings(run_once(wider)) == [("rpo_met", "old01")]


def test_a_failed_compliance_check_changes_nothing_and_is_tried_again(em, tmp_path, caplog):
    poller = compliance_poller(em, tmp_path)
    # the poll's two job-session queries pass, the check's first query fails (retries: 0)
    em.set_faults({"kind": "status", "status": 500, "path": "/api/query", "skip": 2, "count": 1})
    with caplog.at_level(logging.WARNING):
        assert crossings(run_once(poller, failures_expected=True)) == []
    assert "compliance check failed" in caplog.text and em.password not in caplog.text
    assert poller.state.rpo_exceeded == {} and poller.compliance_due()
    assert [fault["fired"] for fault in em.faults_state()["faults"]] == [1]
    em.clear_faults()
    assert len(crossings(run_once(compliance_poller(em, tmp_path)))) == 3


def test_no_compliance_check_unless_asked(em):
    poller = source.Poller(args_for(em))
    em.reset_stats()
    events = run_once(poller)
    assert crossings(events) == []
    assert not any("BackupServer" in key for key in em.stats()["requests"])


# ---- attacks, session 15 -----------------------------------------------------------------------

def test_the_source_still_polls_after_its_deadline_has_passed_once(em, monkeypatch):
    """Found (attack, session 15): EMClient fixed its deadline (1800 s, meant for one module call) when the
    source started, so every poll after its first half hour failed with EMDeadlineError, for ever. Now
    each poll starts with the whole deadline of its own."""
    poller = source.Poller(args_for(em))
    try:
        events, _started = poller.poll()
        assert names(events) == FIRST
        real = time.monotonic
        monkeypatch.setattr(time, "monotonic", lambda: real() + 31 * 60)  # 31 minutes of the source's life later
        events, _started = poller.poll()
        assert names(events) == FIRST
        poller.keepalive()  # the keep-alive too (it logged "keep-alive failed" before)
    finally:
        poller.close()
        monkeypatch.undo()
    assert em.stats()["open_sessions"] == 0, "the logon session was left open on EM"


def test_the_source_logs_off_when_it_stops_long_after_its_last_poll(em, monkeypatch, caplog):
    """Found (attack, session 15): Poller.close() called client.logoff() directly, under the deadline of the
    source's start: after half an hour the DELETE failed and the logon session stayed open on EM. Now the
    logoff goes through close_session, which gives it a budget of its own."""
    poller = source.Poller(args_for(em))
    poller.poll()
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + 31 * 60)
    with caplog.at_level(logging.WARNING):
        poller.close()
    monkeypatch.undo()
    assert em.stats()["open_sessions"] == 0, "the logon session was left open on EM"
    assert "logoff" not in caplog.text


def test_a_session_in_the_environment_does_not_end_the_source(em, monkeypatch):
    """Found (attack, session 15): with VEEAM_EM_SESSION_ID set, connection_options loaded the *module's*
    parameters (ansible's _load_params) in ansible-rulebook: argparse over the controller's sys.argv raised
    SystemExit(2) and ended the rulebook (or stdin was read). Now only a module process loads them: the
    rulebook's own arguments are what was written, and username/password written there beat the ambient
    session (with a warning), as in a task."""
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", "ZW52aXJvbm1lbnQtc2Vzc2lvbi10b2tlbi14eXo=")
    monkeypatch.setattr("sys.argv", ["ansible-rulebook", "--rulebook", "r.yml", "-i", "inventory.yml"])
    poller = source.Poller(args_for(em))
    try:
        assert poller.connection.session_id is None  # the rulebook names its account: that account is used
        events, _started = poller.poll()
    finally:
        poller.close()
    assert names(events) == FIRST
    assert em.stats()["open_sessions"] == 0


def test_the_environment_session_is_used_when_the_rulebook_names_no_account(monkeypatch):
    monkeypatch.setenv("VEEAM_EM_SESSION_ID", "ZW52aXJvbm1lbnQtc2Vzc2lvbi10b2tlbi14eXo=")
    monkeypatch.setenv("VEEAM_EM_USERNAME", "env-user")
    monkeypatch.setenv("VEEAM_EM_PASSWORD", "env-Pa55word")
    monkeypatch.setattr("sys.argv", ["ansible-rulebook", "--unknown-to-ansible"])
    poller = source.Poller({"server": "em.test"})
    assert poller.connection.session_id == "ZW52aXJvbm1lbnQtc2Vzc2lvbi10b2tlbi14eXo="


def _without_uid(item, ended):
    return dict(item, uid=None, job_session_uid=None, creation_time=ended, end_time=ended)


def test_each_finished_session_without_a_uid_is_one_event(tmp_path):
    """Found (attack, session 15): State.reported was keyed by UID, and every session EM sent without one
    was None: the first became an event, every later one was "already reported" and dropped for as long
    as the source ran. Now such a session is keyed by its type, kind, server, job, name and times; each is
    one event, once, across a restart with the state file too."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    base = {"state": "Completed", "result": "Failed", "job_name": "Backup Job A", "backup_server_name": SERVER}
    pages = [[_without_uid(dict(base, name="vm1", vm_display_name="vm1"), _at(now, 20)),
              _without_uid(dict(base, name="vm2", vm_display_name="vm2"), _at(now, 10))]]
    state_file = str(tmp_path / "state.json")

    class FakeClient(object):
        token, owns_session, warnings = "t", False, []

        def restart_deadline(self):
            pass

        def query(self, *_args, **_kwargs):
            return list(pages[0]), None

        def close(self):
            pass

    def poller():
        made = source.Poller({"server": "em.test", "username": "u", "password": "p", "kinds": ["task_session"],
                              "include_replicas": False, "state_file": state_file}, clock=lambda: now)
        made.client = FakeClient()
        return made

    first = poller()
    events, started = first.poll()
    assert [e["veeam_em"]["vm_name"] for e in events] == ["vm1", "vm2"]
    for event in events:
        first.reported(event)
    first.advance(started)
    pages[0] = pages[0] + [_without_uid(dict(base, name="vm3", vm_display_name="vm3"), _at(now, 1))]
    events, _started = first.poll()
    assert [e["veeam_em"]["vm_name"] for e in events] == ["vm3"]
    for event in events:
        first.reported(event)
    events, _started = poller().poll()  # a restart: the state file knows all three
    assert events == []


# ---- EM's text in an event: through the one scrubber (review, session 16) ---------------------------

class _EchoPoller(object):
    """One poll's worth of events whose reason echoes a secret; records what the source remembers."""

    options = {"interval": 0}

    def __init__(self, events):
        self.events = events
        self.remembered = []

    def poll(self):
        return [dict(event) for event in self.events], None

    def reported(self, event):
        self.remembered.append(event)

    def advance(self, started):
        pass

    def compliance_due(self):
        return False

    def close(self):
        pass


def test_a_secret_em_echoes_in_a_reason_never_reaches_the_queue():
    """Events go to rulebooks, their logs and playbooks outside any no_log: a password EM echoed in a failed
    session's reason (in any letter case) was put on the queue as EM wrote it."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_secrets
    password = "Eda-S3cret-9"
    em_secrets.register(password)
    reason = "Logon as svc with %s failed (%s)" % (password, password.upper())
    poller = _EchoPoller([{"veeam_em": {"type": "task_session", "uid": "u-1", "reason": reason, "vm_name": "vm01"}}])
    queue = asyncio.Queue()
    asyncio.run(source.run(queue, poller, polls=1))
    event = queue.get_nowait()
    assert event["veeam_em"]["reason"] == "Logon as svc with ******** failed (********)"
    assert event["veeam_em"]["vm_name"] == "vm01" and queue.empty()
    assert poller.remembered[0]["veeam_em"]["reason"] == reason  # the state keys the event as EM sent it
