"""em_job_session_info: the job-session runner's task-session reading, without a module around it."""
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_job_session_info
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, BACKUP_TASK_SESSION, REPLICA_TASK_SESSION)

GUID = "07fb4019-dc8c-45ba-a36f-d15f2e7fe41b"


def job_uid(index, kind="Backup"):
    return "urn:veeam:%sJobSession:%08d-0000-4000-8000-000000000000" % (kind, index)


class Info:
    def __init__(self, pages, requests):
        self.pages = pages
        self.requests = requests


class RecordingClient:
    """Answers each query with the task sessions of the job sessions its filter names."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.queries = []
        self.warnings = []

    def query(self, resource, filter_expr, sort_field, sort_order, page_size, concurrency=4):
        self.queries.append((resource.query_type, filter_expr, sort_field, sort_order, page_size, concurrency))
        found = [task for task in self.tasks if '"%s"' % task["job_session_uid"] in filter_expr]
        return found, Info(pages=2, requests=3)


# (moved from tests/unit/plugins/modules/test_job_session_info.py with the runner's rename)
def test_task_session_filter_without_creation_times_has_no_time_bound():
    sessions = [{"uid": "urn:veeam:BackupJobSession:" + GUID, "creation_time": None}]
    assert em_job_session_info.task_session_filter(sessions, BACKUP_TASK_SESSION) == (
        'JobSessionUid=="urn:veeam:BackupJobSession:%s"' % GUID)


def test_task_session_filter_starts_a_minute_before_the_earliest_session_in_utc():
    sessions = [{"uid": job_uid(1), "creation_time": "2025-06-05T03:00:30+02:00"},
                {"uid": job_uid(2), "creation_time": "2025-06-05T02:00:00Z"}]
    assert em_job_session_info.task_session_filter(sessions, BACKUP_TASK_SESSION) == (
        'CreationTime>="2025-06-05T00:59:30Z";(JobSessionUid=="%s",JobSessionUid=="%s")'
        % (job_uid(1), job_uid(2)))


def test_replica_task_sessions_are_filtered_by_replica_job_session_urns():
    sessions = [{"uid": GUID, "creation_time": None}]
    assert em_job_session_info.task_session_filter(sessions, REPLICA_TASK_SESSION) == (
        'JobSessionUid=="urn:veeam:ReplicaJobSession:%s"' % GUID)


def test_attach_reads_in_batches_and_groups_by_job_session():
    sessions = [{"uid": job_uid(index), "creation_time": "2025-06-05T01:00:00Z"} for index in range(5)]
    sessions.append({"uid": None, "creation_time": "2025-06-05T01:00:00Z"})
    tasks = [{"uid": "t%d-%d" % (index, n), "job_session_uid": job_uid(index)} for index in range(5) for n in (1, 2)]
    client = RecordingClient(tasks)
    summary = em_job_session_info.attach_task_sessions(client, sessions, BACKUP_TASK_SESSION, page_size=50,
                                                       concurrency=2, batch_size=2)
    assert summary == {"type": "BackupTaskSession", "batches": 3, "pages": 6, "requests": 9}
    assert [query[1].count("JobSessionUid==") for query in client.queries] == [2, 2, 1]
    assert {query[2:] for query in client.queries} == {("CreationTime", "asc", 50, 2)}
    for index, session in enumerate(sessions[:5]):
        assert [task["uid"] for task in session["task_sessions"]] == ["t%d-1" % index, "t%d-2" % index]
    assert sessions[5]["task_sessions"] == []  # no UID: nothing can be asked for it, and it is not queried


def test_incomplete_task_sessions_are_said_not_dropped():
    client = RecordingClient([])
    em_job_session_info.warn_incomplete(client, [{"uid": None, "creation_time": None, "name": "x"}],
                                        BACKUP_TASK_SESSION)
    assert len(client.warnings) == 1 and client.warnings[0].startswith("1 BackupTaskSession item(s) lack")
    em_job_session_info.warn_incomplete(client, [{"uid": job_uid(1), "creation_time": "2025-06-05T01:00:00Z"}],
                                        BACKUP_JOB_SESSION)
    assert len(client.warnings) == 1


def test_a_job_session_created_in_the_first_minute_of_year_one_does_not_overflow_the_filter():
    """Found by looking for siblings of the relative-window overflow (attack, session 15): a minute before EM's
    earliest creation time overflowed for a time within a minute of year 1 (a traceback instead of the task
    sessions). Now the bound is that time itself."""
    sessions = [{"uid": job_uid(1), "creation_time": "0001-01-01T00:00:30Z"}]
    assert em_job_session_info.task_session_filter(sessions, BACKUP_TASK_SESSION) == (
        'CreationTime>="0001-01-01T00:00:30Z";JobSessionUid=="%s"' % job_uid(1))
