"""The module's reader folds the pages of an emulator fleet as they arrive (issue 18): its verdicts
are those of the list-based evaluation, frozen before the fold (unit data/fleet_reference.json.gz,
page size 1000), with small pages fetched in parallel (out of order) and with a page read twice.
"""
import gzip
import json
import os

import pytest

from emulator.harness import Emulator
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client, em_compliance
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read as reader

pytestmark = pytest.mark.slow

NOW = "2026-11-01T06:00:00Z"
REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "unit", "plugins",
                         "module_utils", "compliance", "data", "fleet_reference.json.gz")


def _reference():
    with gzip.open(REFERENCE, "rt") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def em():
    fleet = _reference()[0]["fleet"]
    with Emulator(now=NOW, tls=True, startup_timeout=600, **fleet) as emulator:
        yield emulator


def _params(em, policy):
    params = dict((key, value) for key, value in em_compliance.DEFAULT_POLICY.items()
                  if key not in em_compliance.INTERNAL_OPTIONS)
    params.update(check_replicas=True, check_jobs=True, known_servers_from_em=True, read_history=True,
                  username=em.username, now=NOW)
    params.update(policy)
    return params


def _client(em):
    return em_client.EMClient(em_client.ConnectionOptions(server=em.host, port=em.port, username=em.username,
                                                          password=em.password, ca_path=em.ca_file))


def _read(em, params, page_size, concurrency, fold):
    start = em_compliance.window_start(NOW, params["lookback_days"])
    with _client(em) as client:
        items, queries, error = reader.run_reads(client, reader.planned_reads(params), NOW, start, True,
                                                 page_size, concurrency, fold)
        assert error is None, error
        limits = reader.view_limits(client, params, items, queries)
    return items, queries, limits


@pytest.mark.parametrize("case", range(2))
def test_streamed_pages_give_the_frozen_list_based_verdicts(em, case):
    reference = _reference()[case]
    params = _params(em, reference["policy"])
    fold = reader.new_fold(params, NOW)
    items, queries, limits = _read(em, params, 37, 4, fold)
    assert queries["backup_task_sessions"]["pages"] > 4  # many pages, fetched in parallel
    result = reader.judge_read(params, fold, items, [], limits)
    assert json.loads(json.dumps(result)) == reference["compliance"]


def test_the_list_path_and_the_streamed_path_agree_on_a_page_read_twice(em):
    """The filter's list path (every item, the history reduced by digest_history) and the reader's."""
    params = _params(em, {})
    items, _queries, limits = _read(em, params, 1000, 1, None)
    fold = reader.new_fold(params, NOW)
    streamed_items, _queries, _limits = _read(em, params, 1000, 4, fold)
    # a relogon restart or an insert during the walk: the first page of the window again
    fold.add(items["backup_task_sessions"][:300], em_compliance.KIND_BACKUP)
    streamed = reader.judge_read(params, fold, streamed_items, [], limits)
    job_sessions = items["backup_job_sessions"] + items["replica_job_sessions"]
    options = dict(reader.policy_options(params), known_backup_servers=reader.known_servers(params, items))
    listed = em_compliance.evaluate(
        items["backup_task_sessions"] + em_compliance.digest_history(items["backup_task_history"]),
        items["replica_task_sessions"] + em_compliance.digest_history(items["replica_task_history"]),
        now=NOW, job_sessions=job_sessions, view_limits=limits, **options)
    assert streamed["summary"]["sessions_read"] > 300
    assert streamed == listed


@pytest.mark.parametrize("skip", [3, 12])
def test_a_query_that_fails_half_way_leaves_no_vm_judged_on_half_of_its_sessions(em, skip):
    """Pages folded before a failure are part of an answer (issue 18 streaming, issue 14 no false pass):
    the fold is emptied, the verdict is error (read_error) with no VM row, never rows from half a read.
    skip=3: the backup window fails after its first pages; skip=12: a later query (the replica window
    or the history) fails after the backup window was read whole."""
    params = _params(em, {})
    fold = reader.new_fold(params, NOW)
    start = em_compliance.window_start(NOW, params["lookback_days"])
    em.set_faults([{"kind": "status", "status": 500, "count": 500, "path": "/api/query", "skip": skip}])
    try:
        with _client(em) as client:
            items, queries, error = reader.run_reads(client, reader.planned_reads(params), NOW, start, True,
                                                     37, 1, fold)
    finally:
        em.clear_faults()
    assert error is not None and fold.read > 0  # pages were folded before the failure
    assert [key for key, query in queries.items() if query.get("failed")]
    result = reader.judge_read(params, fold, items, [str(error)])
    assert result["status"] == "error" and result["vms"] == []
    assert [finding["code"] for finding in result["errors"]] == ["read_error"]
    assert result["violations"] == [] and result["compliant"] is False
