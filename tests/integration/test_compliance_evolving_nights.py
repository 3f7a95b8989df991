"""The history cache night after night while EM's data EVOLVES (the emulator's as-of view, asof.py).

test_compliance_history_cache.py replays nights on a dataset generated once: at a night before the
emulator's clock EM would answer with sessions created after that night and with the final state of
sessions still running then. Here the emulator answers as of each night (``as_of=True``): a session
created later is absent, one that ends later is running (InProgress / Working, the EM 13 placeholder end
time), and a backup server EM could not reach has its sessions of the outage collected only when it
is back, with their past creation times (late collection, docs/em-api-facts.md 6 [INF]).

Every night the module runs warm (report_dir, the cache of the previous nights) and cold
(history_cache=false) at the same ``now``; the module promises (history_cache_window's and
history_cache_overlap_hours' documentation) that their ``compliance`` is equal, except for sessions EM
collects later than the overlap after their creation, which the next full read
(history_full_read_days) finds.
"""
import gzip
import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import requests

from emulator.harness import Emulator
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
from ansible_collections.backupops.veeam_em.plugins.modules import veeam_em_compliance_info as module
from unit.plugins.modules.module_runner import run_module

pytestmark = pytest.mark.slow

NOW = "2026-11-08T12:00:00Z"           # the dataset's clock; every night is at or before it
LOOKBACK_DAYS = 2
OVERLAP_HOURS = 24
MORNINGS = ["2026-11-0%dT06:00:00Z" % day for day in range(3, 9)]
SERVER = "vbr02.corp.example.com"       # the backup server of the outages (generator: the second one)
NS = {"v": "http://www.veeam.com/ent/v1.0"}


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=60, days=14, seed=7, tls=True, now=NOW, as_of=True) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def data(em):
    """The whole dataset (the control plane never applies the view): what the nights are chosen from."""
    return em.dataset()


@pytest.fixture(autouse=True)
def as_of_without_outage(em):
    em.set_view(as_of=True)
    yield
    em.set_view(as_of=True)


def _args(em, now, **extra):
    args = {"server": em.host, "port": em.port, "username": em.username, "password": em.password,
            "ca_path": em.ca_file, "now": now, "lookback_days": LOOKBACK_DAYS, "page_size": 25,
            "history_cache_overlap_hours": OVERLAP_HOURS, "history_full_read_days": 10}
    args.update(extra)
    return args


def _run(em, capsys, now, **extra):
    """One module run at ``now`` on the emulator's clock ``now`` (the as-of view); (result, requests)."""
    em.set_clock(now)
    em.reset_stats()
    result = run_module(module, _args(em, now, **extra), capsys)
    assert not result.get("failed"), result.get("msg")
    return result, em.stats()["requests_total"]


def _night(em, capsys, now, report_dir, **extra):
    """The warm and the cold run of one night: (warm, cold, warm requests, cold requests)."""
    warm, warm_requests = _run(em, capsys, now, report_dir=str(report_dir), **extra)
    cold, cold_requests = _run(em, capsys, now, history_cache=False, **extra)
    return warm, cold, warm_requests, cold_requests


def _cache_header(report_dir):
    with gzip.open(str(report_dir / "compliance.history-cache.json.gz"), "rt", encoding="utf-8") as stream:
        return json.loads(stream.readline())


def _parse(text):
    return em_time.parse_iso(text)


def _midpoint(session):
    created, ended = _parse(session["creation_time"]), _parse(session["end_time"])
    return em_time.format_z(created + (ended - created) / 2)


def _index(data):
    job_sessions = dict((s["id"], s) for s in data["job_sessions"])
    jobs = dict((j["id"], j) for j in data["jobs"])
    servers = dict((s["id"], s) for s in data["backup_servers"])
    return job_sessions, jobs, servers


def _failed_cuts(data):
    """Failed task sessions (not retries) of visible servers, at least 20 h apart, a replica first: a night at
    each one's midpoint sees it InProgress and its job session Working."""
    job_sessions, jobs, servers = _index(data)
    start, end = _parse(MORNINGS[0]), _parse(MORNINGS[-1])
    candidates = []
    for session in sorted(data["task_sessions"], key=lambda s: s["creation_time"]):
        job_session = job_sessions[session["job_session_id"]]
        job = jobs[job_session["job_id"]]
        created = _parse(session["creation_time"])
        if session["result"] == "Failed" and not job_session["is_retry"] \
                and not servers[job["backup_server_id"]]["restricted"] and start < created < end \
                and _parse(session["end_time"]) - created >= timedelta(seconds=4):
            candidates.append((session, job_session, job["type"]))
    cuts = []
    for replica in (True, False):
        for cut in candidates:
            created = _parse(cut[0]["creation_time"])
            if (cut[2] == "Replica") == replica and \
                    all(abs(created - _parse(other[0]["creation_time"])) >= timedelta(hours=20) for other in cuts):
                cuts.append(cut)
    assert any(kind == "Replica" for _s, _j, kind in cuts), "the dataset has no failed replica task session to cut"
    assert len(cuts) >= 3, cuts
    return cuts


class _Client(object):
    """A plain EM client on the emulator (XML): what EM answers for one session at the clock."""

    def __init__(self, em):
        self.em = em
        self.http = requests.Session()
        self.http.trust_env = False
        answer = self.http.post(em.api_url + "/sessionMngr/?v=latest", auth=(em.username, em.password),
                                verify=em.ca_file)
        assert answer.status_code == 201, answer.text
        self.token = answer.headers["X-RestSvcSessionId"]
        self.session_id = ET.fromstring(answer.content).find("v:SessionId", NS).text

    def entity(self, path):
        answer = self.http.get(self.em.api_url + path, params={"format": "Entity"},
                               headers={"X-RestSvcSessionId": self.token}, verify=self.em.ca_file)
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        root = ET.fromstring(answer.content)
        return dict((child.tag.split("}")[1], child.text) for child in root if not child.tag.endswith("Links"))

    def close(self):
        if self.session_id is None:
            return
        self.http.delete(self.em.api_url + "/logonSessions/" + self.session_id,
                         headers={"X-RestSvcSessionId": self.token}, verify=self.em.ca_file)
        self.http.close()
        self.session_id = None


@pytest.fixture
def client(em):
    c = _Client(em)
    yield c
    c.close()


def _paths(kind):
    return ("/replicaTaskSessions/", "/replicaSessions/") if kind == "Replica" else \
        ("/backupTaskSessions/", "/backupSessions/")


def _assert_warm_equals_cold(warm, cold, warm_requests, cold_requests, night):
    cache = warm["history_cache"]
    assert cache["used"] is True, (night, cache["reason"])
    assert warm["compliance"] == cold["compliance"], night
    assert warm_requests < cold_requests, (night, warm_requests, cold_requests)


@pytest.mark.parametrize("options", [
    dict(history_cache_overlap_hours=0),
    dict(history_cache_overlap_hours=OVERLAP_HOURS),
    # a 6-hour window and no window part: the history is read from the cache's end each night, and the job
    # session stuck Working since 14 h before the dataset's clock (generator) is a running HISTORY session
    dict(history_cache_overlap_hours=0, history_cache_window=False, lookback_days=0.25),
], ids=["no-overlap", "overlap-24h", "history-only-6h-window"])
def test_nights_cutting_through_failing_runs_equal_cold_nights(em, data, client, capsys, tmp_path, options):
    """Mornings and nights inside failing job runs (a task session InProgress and its job session Working at one
    night, both Failed at the next, a replica among them): every warm night judges as the cold one. With no
    overlap at all too: what bounds the cache then is the running session alone (read again the next night)."""
    cuts = _failed_cuts(data)
    cut_nights = dict((_midpoint(session), (session, job_session, kind)) for session, job_session, kind in cuts)
    nights = sorted(set(MORNINGS) | set(cut_nights), key=_parse)
    first, _requests = _run(em, capsys, nights[0], report_dir=str(tmp_path), **options)
    assert first["history_cache"]["used"] is False
    pending = None      # the cut of the previous night: Failed now
    running_in_history = False
    for night in nights[1:]:
        warm, cold, warm_requests, cold_requests = _night(em, capsys, night, tmp_path, **options)
        _assert_warm_equals_cold(warm, cold, warm_requests, cold_requests, night)
        if pending is not None:
            session, job_session, kind = pending
            task_path, job_path = _paths(kind)
            assert client.entity(task_path + session["id"])["Result"] == "Failed"
            assert client.entity(job_path + job_session["id"])["Result"] == "Failed"
            pending = None
        if night in cut_nights:
            session, job_session, kind = cut_nights[night]
            task_path, job_path = _paths(kind)
            task, job = client.entity(task_path + session["id"]), client.entity(job_path + job_session["id"])
            assert (task["State"], task.get("Result"), task["EndTimeUTC"]) == ("InProgress", None, "1900-01-01T00:00:00Z")
            assert (job["State"], job.get("Result")) == ("Working", None)
            pending = cut_nights[night]
        # the oldest session running at the night bounds what the cache covers: it is read again the next night
        running = _running_at(data, night)
        if running:
            assert _parse(_cache_header(tmp_path)["read_through"]) <= min(running)
            window_start = _parse(night) - timedelta(days=options.get("lookback_days", LOOKBACK_DAYS))
            running_in_history = running_in_history or min(running) < window_start
    if not options.get("history_cache_window", True):
        assert running_in_history, "no night had a running session in its history"
    assert pending is None, "the last night cut a run: nothing checked that it ended Failed"
    # a VM that stopped being backed up during these nights (generator: removed from its job 3-7 days before NOW)
    # is judged from the cache alone on the last warm night, as the cold read judges it: RPO exceeded
    dropped = _dropped_vms(data)
    assert dropped, "the dataset has no VM that stopped being backed up"
    read_from = _read_start(warm)
    rows = _rows(warm)
    for uid, last in dropped.items():
        assert _parse(nights[0]) - timedelta(days=options.get("lookback_days", LOOKBACK_DAYS)) < last < read_from
        assert rows[uid]["status"] == "violation" and set(rows[uid]["reasons"]) & {"rpo_exceeded", "replica_rpo_exceeded"}
    client.close()
    assert em.stats()["open_sessions"] == 0


def _server_sessions(data, server, start, end):
    """The task sessions of backup server ``server`` created in [start, end)."""
    job_sessions, jobs, servers = _index(data)
    return [s for s in data["task_sessions"]
            if servers[jobs[job_sessions[s["job_session_id"]]["job_id"]]["backup_server_id"]]["name"] == server
            and start <= _parse(s["creation_time"]) < end]


def _outage(start, end):
    return [{"server": SERVER, "from": start, "until": end}]


@pytest.mark.parametrize("options", [{}, dict(history_cache_window=False, lookback_days=0.25)],
                         ids=["window-cached", "history-only-6h-window"])
def test_late_collection_inside_the_overlap_equals_cold(em, data, client, capsys, tmp_path, options):
    """A backup server EM cannot reach for 14 hours (less than the 24 h overlap) over a night: that night EM shows
    none of its sessions since the outage began; the next night they are all there with their past creation
    times, inside what the warm night reads again - warm equals cold every night. With a 6-hour window the late
    sessions are history the night they appear."""
    start, end = "2026-11-04T20:00:00Z", "2026-11-05T10:00:00Z"
    late = _server_sessions(data, SERVER, _parse(start), _parse("2026-11-05T06:00:00Z"))
    assert late, "the dataset has no session of %s in the outage" % SERVER
    em.set_view(as_of=True, late_collection=_outage(start, end))
    nights = ["2026-11-04T06:00:00Z", "2026-11-05T06:00:00Z", "2026-11-05T12:00:00Z", "2026-11-06T06:00:00Z"]
    _run(em, capsys, nights[0], report_dir=str(tmp_path), **options)
    for night in nights[1:]:
        warm, cold, warm_requests, cold_requests = _night(em, capsys, night, tmp_path, **options)
        _assert_warm_equals_cold(warm, cold, warm_requests, cold_requests, night)
        shown = [client.entity(_paths(_kind(data, s))[0] + s["id"]) for s in late]
        if night == nights[1]:      # inside the outage: not collected yet
            assert shown == [None] * len(late)
        else:                       # collected, with their own creation times
            assert [item["CreationTimeUTC"] for item in shown] == [s["creation_time"] for s in late]
        if night == nights[2]:      # the night after the outage reads again from before it began
            assert _read_start(warm) <= _parse(start)
            window_start = _parse(night) - timedelta(days=options.get("lookback_days", LOOKBACK_DAYS))
            in_history = [s for s in late if _parse(s["creation_time"]) < window_start]
            assert len(in_history) == (len(late) if "lookback_days" in options else 0)
    client.close()
    assert em.stats()["open_sessions"] == 0


BEYOND_OUTAGE = ("2026-11-04T07:00:00Z", "2026-11-06T08:00:00Z")   # 49 h, longer than the 24 h overlap
BEYOND_NIGHTS = ["2026-11-04T06:00:00Z", "2026-11-05T06:00:00Z", "2026-11-06T06:00:00Z", "2026-11-06T09:00:00Z"]
# A warning that a later success made good is a recovered_failure warning when it ended within recent_hours:
# with warnings not accepted and a 3-day recent period, a late session changes a verdict, not only a row.
BEYOND_POLICY = {"lookback_days": 3, "accept_warnings": False, "recent_hours": 72, "history_full_read_days": 3}


def _beyond_the_overlap(em, data, capsys, tmp_path):
    """The nights up to the first one after a 49 h outage of SERVER (no session of it running when the outage
    began); returns (warm, cold, the late sessions of SERVER the warm night does not read again, the warm nights'
    history_cache.quiet_server texts during the outage)."""
    start = _parse(BEYOND_OUTAGE[0])
    assert not [s for s in _server_sessions(data, SERVER, start - timedelta(days=1), start)
                if s["end_time"] is None or _parse(s["end_time"]) > start], "a session of the server runs at the outage"
    em.set_view(as_of=True, late_collection=_outage(*BEYOND_OUTAGE))
    _run(em, capsys, BEYOND_NIGHTS[0], report_dir=str(tmp_path), **BEYOND_POLICY)
    quiet = []
    for night in BEYOND_NIGHTS[1:-1]:     # during the outage, warm and cold see the same EM
        warm, cold, warm_requests, cold_requests = _night(em, capsys, night, tmp_path, **BEYOND_POLICY)
        _assert_warm_equals_cold(warm, cold, warm_requests, cold_requests, night)
        quiet.append(warm["history_cache"].get("quiet_server"))
    warm, cold, _warm_requests, _cold_requests = _night(em, capsys, BEYOND_NIGHTS[-1], tmp_path, **BEYOND_POLICY)
    read_from = _parse(warm["history_cache"]["window_read_from"])
    return warm, cold, _server_sessions(data, SERVER, start, read_from), quiet


def _read_start(warm):
    """Where the warm night's reads from EM start: the history's read_from (None when not read), or the window's."""
    cache = warm["history_cache"]
    return min(_parse(text) for text in (cache["read_from"], cache["window_read_from"]) if text)


def _running_at(data, night):
    """The creation times of the task sessions running at ``night`` (as the as-of view shows them)."""
    moment = _parse(night)
    return [_parse(s["creation_time"]) for s in data["task_sessions"] if _parse(s["creation_time"]) <= moment
            and (s["end_time"] is None or _parse(s["end_time"]) > moment)]


def _dropped_vms(data):
    """{VM uid: its last session's creation time} of the VMs with sessions but in no job."""
    in_jobs = set(uid for job in data["jobs"] for uid in job["vms"])
    last = {}
    for session in data["task_sessions"]:
        if session["vm_id"] not in in_jobs:
            created = _parse(session["creation_time"])
            last[session["vm_id"]] = max(created, last.get(session["vm_id"], created))
    return last


def _rows(result):
    return dict((row["vm_uid"], row) for row in result["compliance"]["vms"])


def test_late_collection_beyond_the_overlap_judges_as_cold(em, data, capsys, tmp_path):
    """A 49 h outage of SERVER, longer than the 24 h overlap. While it is quiet in EM for longer than the overlap,
    SERVER holds the cache back to its last sign of life (history_cache._quiet_through, said in quiet_server), so
    the first warm night after the outage reads its late sessions again and judges as a cold read. Without that
    bound the warm night read BETTER than the cold one: sql_014, ci035 and SRV-ERP-0033 compliant warm and
    'warning' (recovered_failure) cold, SRV-CRM-0058 counting 5 failed backups warm and 8 cold. The next full
    read (history_full_read_days=3) judges the same."""
    warm, cold, missed, quiet = _beyond_the_overlap(em, data, capsys, tmp_path)
    assert warm["history_cache"]["used"] is True, warm["history_cache"]["reason"]
    assert all(text and ("backup server %s has no session since" % SERVER) in text for text in quiet), quiet
    # what the bound covers: late sessions of SERVER created more than the overlap before the night, not all
    # successes (the scenario must be one where reading from night minus the overlap judges differently)
    night = _parse(BEYOND_NIGHTS[-1])
    beyond = _server_sessions(data, SERVER, _parse(BEYOND_OUTAGE[0]), night - timedelta(hours=OVERLAP_HOURS))
    assert [s for s in beyond if s["result"] != "Success"], "no late non-success beyond the overlap"
    assert not missed, "late sessions of %s the warm night did not read again" % SERVER
    assert warm["compliance"] == cold["compliance"]
    night = "2026-11-07T06:00:00Z"
    warm, cold, warm_requests, cold_requests = _night(em, capsys, night, tmp_path, **BEYOND_POLICY)
    assert warm["history_cache"]["used"] is False
    assert "history_full_read_days=3 ago or more" in warm["history_cache"]["reason"]
    assert warm["compliance"] == cold["compliance"] and warm_requests == cold_requests


def _kind(data, session):
    job_sessions, jobs, _servers = _index(data)
    return jobs[job_sessions[session["job_session_id"]]["job_id"]]["type"]
