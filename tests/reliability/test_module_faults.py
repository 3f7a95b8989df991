"""The same faults as a playbook user sees them: real ansible-playbook, the info module, -vvv.

One playbook run walks every case (clear faults, inject, run the module with ignore_errors). A case
either succeeds with exactly the fault-free items or fails with a clear ``msg`` naming the request,
without an items list (never partial results reported as complete) and without a traceback.
"""
import json

import pytest

from reliability.support import (
    USERNAME, assert_every_fault_fired, assert_no_traceback, compare, dataset_uids, expected_backoffs,
    password_secrets, run_playbook, secret_hits)

Q = "/api/query"
BASE_ARGS = {"page_size": 10, "retry_backoff": 0.05, "timeout": 2}

# name -> (faults, extra module args, expected: "ok" or text of the failure message)
CASES = {
    "baseline": ([], {}, "ok"),
    "503-burst": ([{"kind": "status", "status": 503, "count": 3, "path": Q}], {}, "ok"),
    "502-then-reset": ([{"kind": "status", "status": 502, "count": 1, "path": Q, "skip": 1},
                        {"kind": "reset", "count": 1, "path": Q, "skip": 3}], {"media_type": "xml"}, "ok"),
    # 3 s timeout against an 8 s delay: a wide margin, so that no healthy request times out under load
    "timeout-once": ([{"kind": "delay", "seconds": 8, "count": 1, "path": Q, "skip": 1}], {"timeout": 3}, "ok"),
    "expiry-mid-paging": ([{"kind": "expire_session", "count": 1, "path": Q, "skip": 3}], {"concurrency": 2}, "ok"),
    "truncated-logon": ([{"kind": "truncate", "count": 1, "path": "/api/sessionMngr"}], {}, "ok"),
    "503-forever": ([{"kind": "status", "status": 503, "count": -1, "path": Q, "skip": 2}], {},
                    "GET /api/query (type=BackupTaskSession) failed: HTTP 503"),
    "timeout-forever": ([{"kind": "delay", "seconds": 1.5, "count": -1, "path": Q, "skip": 1}],
                        {"timeout": 0.5, "retries": 1}, "no answer from"),
    "malformed": ([{"kind": "malformed", "count": 1, "path": Q, "skip": 1}], {"media_type": "xml"},
                  "XML response cannot be parsed"),
    "billion-laughs": ([{"kind": "billion_laughs", "path": Q}], {"media_type": "xml"}, "DOCTYPE/ENTITY"),
    "huge-body-65MiB": ([{"kind": "huge_body", "size_mb": 65, "path": Q}], {},
                        "exceeds 67108864 bytes; refused"),
    "503-on-logon": ([{"kind": "status", "status": 503, "path": "/api/sessionMngr"}], {},
                     "POST /api/sessionMngr/ (logon) failed: HTTP 503"),
}


@pytest.fixture(scope="module")
def module_run(em, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("module_faults")
    cases = [{"name": name, "faults": faults, "args": dict(BASE_ARGS, **args)}
             for name, (faults, args, _expected) in CASES.items()]
    em.reset_stats()
    run = run_playbook(em, tmp_path, "module_faults", {"cases": cases}, verbosity=3)
    assert run.results is not None, run.proc.stdout[-5000:] + run.proc.stderr[-3000:]
    return run, em.stats()


def test_module_results_under_faults(em, module_run, ledger):
    run, stats = module_run
    results = run.results
    baseline = results["baseline"]
    assert not baseline.get("failed"), baseline
    expected = baseline["backup_task_sessions"]
    assert sorted(item["uid"] for item in expected) == sorted(dataset_uids(em.dataset()))
    secrets = password_secrets(USERNAME, em.password)
    problems = []
    for name, (faults, _args, outcome) in CASES.items():
        if name == "baseline":
            continue
        result = dict(results[name])
        fired = result.pop("_faults_fired")
        fault_states = result.pop("_faults")
        text = json.dumps(result, ensure_ascii=False)
        hits = secret_hits(text, secrets)
        kinds = ",".join(sorted({f["kind"] for f in faults}))
        if outcome == "ok":
            items = result.get("backup_task_sessions") or []
            lost, duplicated, changed = compare(expected, items)
            ledger("%s (module: %s)" % (kinds, name), "recovered: same items as without faults", "recovered",
                   faults_injected=fired, items_expected=len(expected), items_lost=len(lost),
                   items_duplicated=len(duplicated), secrets_leaked=sum(hits.values()))
            if result.get("failed") or lost or duplicated or changed or items != expected:
                problems.append((name, result.get("msg"), len(lost), len(duplicated), len(changed)))
            # each answered or timed-out failure retried once (a re-logon restarts the paging instead)
            retried = expected_backoffs(fault_states)
            query_info = result.get("query") or {}
            if "expire_session" not in kinds and query_info.get("requests") != query_info.get("pages", 0) + retried:
                problems.append((name, "requests %r, expected pages + %d" % (query_info, retried)))
        else:
            ledger("%s (module: %s)" % (kinds, name), "failed: %s" % outcome, "failed_cleanly",
                   faults_injected=fired, secrets_leaked=sum(hits.values()))
            if not result.get("failed") or outcome not in result.get("msg", ""):
                problems.append((name, "expected failure %r" % outcome, result.get("msg")))
            if "backup_task_sessions" in result:
                problems.append((name, "a failed run returned items (partial results)"))
            if "Traceback" in str(result.get("exception", "")) or "module_stderr" in result:
                problems.append((name, "traceback", result.get("exception") or result.get("module_stderr")))
        if hits:
            problems.append((name, "secret in result", hits))
        try:
            assert_every_fault_fired({"faults": fault_states})
        except AssertionError as error:
            problems.append((name, str(error)))
    assert not problems, problems
    assert_no_traceback(run.output)
    assert not secret_hits(run.output, secrets)
    # -vvv shows each module invocation, the password (from VEEAM_EM_PASSWORD) masked
    assert run.proc.stdout.count("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") >= len(CASES)
