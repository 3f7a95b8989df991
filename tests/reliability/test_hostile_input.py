"""Hostile input: values in every string option designed to alter the query (quotes, ``;``, ``,``,
parentheses, operators, URL syntax, non-ASCII) never change its meaning; invalid ones (control
characters, escaping raw filters, malformed ids) are refused before any request.

"Meaning unchanged" is checked against the emulator's real filter parser: a value returns exactly the
task sessions whose field equals it (EM compares text case-insensitively), nothing more, and an
injection payload returns nothing (not everything, not a 400).
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_query
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError, EMValidationError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
from reliability.support import assert_no_traceback, options, run_playbook

TEXT_OPTIONS = [option for option, field, _op in BACKUP_TASK_SESSION.filter_options() if field.kind == "text"]
SPECIAL = set('";,()=<>!&%+#\\ ') | {"'"}

PAYLOADS = [
    'x",Result=="Success', 'x");(Result!="x', 'x" , VmDisplayName!="', '*', "' OR '1'='1", 'x%22,Result==Success',
    '&pageSize=1&page=2', 'a==b;c!=d', '>=', '!=', '""', '"', ')', '(', '\\', '\\"', ' ', 'x"x',
    u'\u65e5\u672c\u8a9e-vm01" , Result=="Failed', u'na\u00efve caf\u00e9",(Result=="Failed"',
    'dc01";Result!="', 'dc01,Result!=Success', 'dc01)', '(dc01', 'dc01 ; State==Completed',
    u'\u202edc01', u'dc01\u200b', '%', '%00', '#fragment', '../../logonSessions',
]

INVALID = [  # option, value, message part
    ("vm_display_name", "web01\nResult==Failed", "control character"),
    ("name", "x\r\nX-RestSvcSessionId: abc", "control character"),
    ("job_name", "job\x00", "control character"),
    ("backup_server_name", u"srv\u2028", "control character"),
    ("reason", "tab\there", "control character"),
    ("filter", 'Result=="Failed"),(State=="Completed"', "closes a parenthesis"),
    ("filter", 'Name=="x', "unterminated double quote"),
    ("filter", '(Result=="Failed"', "unclosed parenthesis"),
    ("filter", "   ", "empty"),
    ("uid", 'urn:veeam:BackupTaskSession:x",Result=="Failed', "option uid"),
    ("job_uid", '00000000-0000-0000-0000-000000000000",Result=="x', "option job_uid"),
    ("result", 'Failed",Result=="Success', "option result"),
    ("state", "Completed;Result==Failed", "option state"),
    ("created_after", '2025-01-01";Result=="Failed', "option created_after"),
]


def field_values(dataset):
    """Per task session (backup kind): the value of every text option, as EM filters them."""
    servers = {server["id"]: server["name"] for server in dataset["backup_servers"]}
    jobs = {job["id"]: job for job in dataset["jobs"]}
    job_sessions = {session["id"]: session for session in dataset["job_sessions"]}
    rows = []
    for task in dataset["task_sessions"]:
        job = jobs[job_sessions[task["job_session_id"]]["job_id"]]
        if job["type"] != "Backup":
            continue
        rows.append({"uid": "urn:veeam:BackupTaskSession:%s" % task["id"], "name": task["name"],
                     "vm_display_name": task["vm_display_name"], "job_name": job["name"],
                     "backup_server_name": servers[job["backup_server_id"]], "reason": task["reason"] or ""})
    return rows


def expected(rows, option, values):
    wanted = {value.casefold() for value in values}
    return sorted(row["uid"] for row in rows if row[option].casefold() in wanted)


def hostile_values(rows, option, limit=6):
    """The dataset's own values of ``option`` that carry filter syntax or non-ASCII characters."""
    every = sorted({row[option] for row in rows if row[option]})
    values = [value for value in every if set(value) & SPECIAL or any(ord(c) > 127 for c in value)]
    return (values or every)[:limit]  # server names are plain FQDNs


@pytest.fixture(scope="module")
def rows(em):
    return field_values(em.dataset())


@pytest.fixture
def client(em):
    """One logon per test, logged off before the per-test session check."""
    with EMClient(options(em)) as em_client:
        yield em_client


def run_filter(client, params):
    expression = em_query.build_filter(BACKUP_TASK_SESSION, params)
    items, _info = client.query(BACKUP_TASK_SESSION, expression, "CreationTime", "desc", 1000)
    return sorted(item["uid"] for item in items), expression


@pytest.mark.parametrize("option", TEXT_OPTIONS)
def test_hostile_values_keep_their_meaning(rows, client, ledger, option):
    values = hostile_values(rows, option)
    assert values, "the dataset has no %s values" % option
    checked, wrong = 0, []
    for value in values:  # real values full of syntax: exactly their own items
        got, expression = run_filter(client, {option: value})
        want = expected(rows, option, [value])
        checked += 1
        if got != want or not want:
            wrong.append((value, expression, len(got), len(want)))
    if len(values) >= 2:  # a list is an OR of exact matches, still nothing else
        got, expression = run_filter(client, {option: values[:3]})
        checked += 1
        if got != expected(rows, option, values[:3]):
            wrong.append((values[:3], expression))
    real = values[0]  # payloads grafted onto a real value: would match it (and more) if they escaped
    derived = [real + '",Result!="x', real + '";Name!="', real + '")', '"' + real, real + '"', real + " ",
               real + "\\", real + '"",Result=="Failed']
    for payload in PAYLOADS + derived:  # injection attempts: no item has such a value
        try:
            got, expression = run_filter(client, {option: payload})
        except EMValidationError as error:
            got, expression = "refused", str(error)
        except EMError as error:
            got, expression = "EM error", str(error)
        checked += 1
        if got != expected(rows, option, [payload]):
            wrong.append((payload, expression, got if isinstance(got, str) else len(got)))
    ledger("hostile %s values (%d real, %d payloads)" % (option, len(values), len(PAYLOADS) + len(derived)),
           "exactly the matching items; payloads match nothing", "held",
           note="%d queries, %d wrong" % (checked, len(wrong)))
    assert not wrong, wrong


def test_payloads_combined_with_typed_options_cannot_widen_them(rows, client, ledger):
    """A payload in one option is ANDed with the others and cannot escape its clause."""
    vm = hostile_values(rows, "vm_display_name")[0]
    base = expected(rows, "vm_display_name", [vm])
    failed_vm = [row for row in rows if row["vm_display_name"] == vm]
    got, _expr = run_filter(client, {"vm_display_name": vm, "filter": 'Result=="Failed",Result!="Failed"'})
    assert got == base and failed_vm
    got, expression = run_filter(client, {"vm_display_name": [vm, 'x"),(Result!="none'], "result": ["Failed"]})
    wrong_result = [uid for uid in got if uid not in base]
    ledger("payload next to typed options", "the typed options still apply", "held")
    assert not wrong_result, expression


@pytest.mark.parametrize("option, value, message", INVALID, ids=["%s-%d" % (c[0], i) for i, c in enumerate(INVALID)])
def test_invalid_values_are_refused(option, value, message, ledger):
    with pytest.raises(EMValidationError) as raised:
        em_query.build_filter(BACKUP_TASK_SESSION, {option: value})
    ledger("invalid %s value %r" % (option, value), "refused before any request", "refused")
    assert message in str(raised.value)


# ---- the same as a playbook user sees it ------------------------------------------------------------

def test_playbook_hostile_and_invalid_values(em, rows, tmp_path_factory, ledger):
    """As a playbook user sees it (one test, so that pytest-xdist never runs the playbooks twice):
    hostile values return exactly their items; invalid ones fail before any request is sent."""
    accepted = []
    for option in TEXT_OPTIONS:
        values = hostile_values(rows, option, limit=2)
        accepted.append({"name": "%s-real" % option, "args": {option: values}})
        accepted.append({"name": "%s-payload" % option, "args": {option: PAYLOADS[0]}})
    refused = [{"name": "invalid-%d" % index, "args": {option: value}} for index, (option, value, _m) in enumerate(INVALID)]
    refused += [
        {"name": "invalid-id", "args": {"id": "../logonSessions"}},
        {"name": "invalid-session_id", "args": {"session_id": "abc\r\nX-Evil: 1"}},
        {"name": "invalid-username", "args": {"username": "emadmin:extra"}},
        {"name": "invalid-sort", "args": {"sort_by": "CreationTime;Result"}},
        {"name": "invalid-total-size", "args": {"total_size_min": "1;Result==Failed"}},
        {"name": "invalid-page-size", "args": {"page_size": 0}},
    ]
    em.reset_stats()
    refused_run = run_playbook(em, tmp_path_factory.mktemp("refused"), "cases", {"cases": refused})
    refused_stats = em.stats()
    accepted_run = run_playbook(em, tmp_path_factory.mktemp("accepted"), "cases", {"cases": accepted})
    assert accepted_run.results is not None, accepted_run.proc.stdout[-4000:]
    assert refused_run.results is not None, refused_run.proc.stdout[-4000:]

    wrong = []
    for case in accepted:
        result = accepted_run.results[case["name"]]
        (option, values), = case["args"].items()
        want = expected(rows, option, values if isinstance(values, list) else [values])
        got = sorted(item["uid"] for item in result.get("backup_task_sessions", []))
        if result.get("failed") or got != want:
            wrong.append((case["name"], result.get("msg"), result.get("query", {}).get("filter")))
    ledger("playbook: hostile values in %d option runs" % len(accepted), "exactly the matching items", "held")
    not_failed = [case["name"] for case in refused if not refused_run.results[case["name"]].get("failed")]
    ledger("playbook: %d invalid option values" % len(refused), "failed, no request sent", "refused")
    assert not wrong, wrong
    assert not not_failed, not_failed
    assert refused_stats["requests_total"] == 0, refused_stats["requests"]
    assert_no_traceback(accepted_run.output + refused_run.output)
    # the refused value is not echoed by the module (Ansible itself shows the loop item it was given)
    assert "X-Evil" not in refused_run.results["invalid-session_id"]["msg"]
