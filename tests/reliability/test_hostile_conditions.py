"""Hostile answers and hostile environments (issue 15), against the stand-in EM (standin.py).

Each test is one attacker's (or sick server's) move and the behaviour the collection must show:
a clear error or a refusal, bounded time and memory, never a traceback, and the logon session
closed (the stand-in counts DELETEs). Figures (seconds, peak memory) go into the ledger notes.
"""
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMDeadlineError, EMError, EMResponseError, EMValidationError)
from collection_layout import COLLECTIONS_ROOT, TESTS_DIR
from reliability.standin import Reply, StandIn, error_reply, page_reply
from reliability.support import USERNAME, assert_no_traceback, options, query, run_playbook
from unit.plugins.module_utils.em_fake import paging_info, query_result_json, synthetic_task_session

MODULE = "ansible_collections.backupops.veeam_em.plugins.modules.veeam_em_backup_task_session_info"


def closed(standin):
    """Every logon session the stand-in handed out was deleted again (DELETE arrived)."""
    return standin.created >= 1 and standin.wait_closed() == 0


# ---- 4. one overall deadline -------------------------------------------------------------------

def trickle(pause=2.0, size=1000):
    """A page whose body arrives one byte every ``pause`` seconds (each read well within ``timeout``)."""
    body = query_result_json("BackupTaskSessions", [synthetic_task_session(i) for i in range(3)],
                             paging_info(1, 1, 100))
    body = body + b" " * max(0, size - len(body))
    return lambda standin, request: Reply(200, pieces=[body[i:i + 1] for i in range(len(body))], pause=pause,
                                          headers={"Content-Type": "application/json"})


def test_trickling_body_ends_at_the_deadline_and_logs_off(ledger):
    with StandIn(query=trickle()) as em:
        started = time.monotonic()
        with pytest.raises(EMDeadlineError) as raised:
            query(em, timeout=5.0, deadline=6.0)
        seconds = time.monotonic() - started
        message = str(raised.value)
        ledger("body trickling 1 byte / 2 s under timeout 5 s (1,000 bytes = 33 min without a deadline)",
               "deadline 6 s: `exceeded its deadline`, session logged off", "failed_cleanly",
               note="ended after %.1f s" % seconds)
        assert "GET /api/query (type=BackupTaskSession) failed: the module call exceeded its deadline of 6.0" in message
        assert closed(em)


def test_deadline_caps_retry_after_and_back_off(ledger):
    def unavailable(standin, request):
        reply = error_reply(503, "busy")
        reply.headers["Retry-After"] = "100"
        return reply

    sleeps = []
    with StandIn(query=unavailable) as em:
        client = EMClient(options(em, deadline=2.0, retries=5), sleep=lambda s: (sleeps.append(s), time.sleep(s)))
        with pytest.raises(EMDeadlineError):
            with client:
                client.query(em_client_resource(), None, "CreationTime", "desc", 10)
        ledger("503 with Retry-After: 100, deadline 2 s", "no sleep past the deadline; deadline error; logged off",
               "failed_cleanly", note="sleeps %s" % [round(s, 2) for s in sleeps])
        assert sleeps and max(sleeps) <= 2.0
        assert closed(em)


def em_client_resource():
    from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
    return BACKUP_TASK_SESSION


def test_logoff_has_its_own_budget_after_the_deadline(ledger):
    """The deadline passed while reading a page: the logoff still goes out (and arrives)."""
    with StandIn(query=trickle(pause=0.5)) as em:
        with pytest.raises(EMDeadlineError):
            query(em, timeout=5.0, deadline=1.5)
        ledger("deadline passes mid-page", "logoff still sent with its own budget", "failed_cleanly")
        assert len(em.deletes) == 1 and closed(em)


# ---- 5 + 7. bounded parsing, validated numbers ----------------------------------------------------

def nested_xml(levels):
    return (b'<?xml version="1.0" encoding="utf-8"?>' + b"<QueryResult>" + b"<a>" * levels + b"x"
            + b"</a>" * levels + b"</QueryResult>")


HOSTILE_BODIES = {
    # name: (body, media, what the error says)
    "nested-xml-560KB": (nested_xml(80000), "xml", "more than 64 levels deep"),
    "nested-xml-never-closed": (b"<QueryResult>" + b"<a>" * 150000, "xml", "more than 64 levels deep"),
    "nested-json-600KB": (b'{"a":' * 100000 + b"1" + b"}" * 100000, "json", "more than 64 levels deep"),
    "nested-json-arrays": (b"[" * 300000 + b"]" * 300000, "json", "more than 64 levels deep"),
}


def body_reply(body, media):
    return lambda standin, request: Reply(200, body, {"Content-Type": "application/%s" % media})


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_deeply_nested_answers_are_refused(name, ledger):
    body, media, expected = HOSTILE_BODIES[name]
    with StandIn(query=body_reply(body, media)) as em:
        with pytest.raises(EMResponseError) as raised:
            query(em, media=media)
        ledger("%s (%d bytes)" % (name, len(body)), "refused before parsing: depth > 64, no RecursionError",
               "failed_cleanly")
        assert expected in str(raised.value) and "GET /api/query" in str(raised.value)
        assert closed(em)


def paging_document(pages_count, total_size=1024, items=3):
    rows = [synthetic_task_session(i) for i in range(items)]
    for row in rows:
        row["TotalSize"] = total_size
    paging = paging_info(1, 1, 100)
    paging["PagesCount"] = pages_count
    return query_result_json("BackupTaskSessions", rows, paging)


FIVE_THOUSAND_DIGITS = "9" * 5000
NUMBERS = {
    # name: (raw JSON body, part of the error)
    "PagesCount-Infinity-literal": (paging_document(1).replace(b'"PagesCount": 1', b'"PagesCount": Infinity'),
                                    "not a finite number"),
    "PagesCount-Infinity-text": (paging_document("Infinity"), "not a finite number"),
    "PagesCount-1e999": (paging_document(1).replace(b'"PagesCount": 1', b'"PagesCount": 1e999'),
                         "not a finite number"),
    "PagesCount-5000-digits-text": (paging_document(FIVE_THOUSAND_DIGITS), "(5000 characters)"),
    "PagesCount-5000-digits-number": (paging_document(1).replace(b'"PagesCount": 1', b'"PagesCount": '
                                                                 + FIVE_THOUSAND_DIGITS.encode()),
                                      "the JSON response cannot be parsed"),
    "PagesCount-1e9": (paging_document(10 ** 9), "PagesCount 1000000000; refused"),
    "TotalSize-1e999999": (paging_document(1).replace(b'"TotalSize": 1024', b'"TotalSize": "1e999999"'),
                           "not a finite number"),
    "TotalSize-beyond-int64": (paging_document(1, total_size=2 ** 70), "beyond what EM can send"),
}


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_impossible_numbers_are_clear_errors(name, ledger):
    body, expected = NUMBERS[name]
    with StandIn(query=body_reply(body, "json")) as em:
        with pytest.raises(EMResponseError) as raised:
            query(em)
        ledger("number: %s" % name, "clear error naming the value, no traceback", "failed_cleanly")
        assert expected in str(raised.value), str(raised.value)
        assert "GET /api/query" in str(raised.value)
        assert closed(em)


# ---- 6. paging bounded by what PagesCount and the items make plausible -----------------------------

def empty_pages(pages_count):
    def answer(standin, request):
        page = int(request.query.get("page", 1))
        items = [synthetic_task_session(i) for i in range(10)] if page == 1 else []
        return page_reply(items, page, pages_count, 10)
    return answer


def test_pages_count_with_empty_pages_stops_at_once(ledger):
    with StandIn(query=empty_pages(50000)) as em:
        with pytest.raises(EMResponseError) as raised:
            query(em, concurrency=4)
        queries = sum(1 for method, path, _h in em.requests if path == "/api/query")
        ledger("PagesCount 50,000, every page after the first empty", "error at the first empty page",
               "failed_cleanly", note="%d query requests" % queries)
        # the pager refuses the page itself (an empty page PagingInfo says is not the last, issue 13)
        assert "page 2 failed" in str(raised.value) and "says page 2 of 50000, but no BackupTaskSession could be read" \
            in str(raised.value)
        assert queries <= 1 + 4 + 4  # page 1, then at most two rounds of concurrency
        assert closed(em)


def test_pages_count_billion_is_refused_after_page_one(ledger):
    with StandIn(query=empty_pages(10 ** 9)) as em:
        with pytest.raises(EMResponseError) as raised:
            query(em)
        queries = sum(1 for method, path, _h in em.requests if path == "/api/query")
        ledger("PagesCount 10^9", "refused after page 1 (ceiling 100,000 pages)", "failed_cleanly")
        assert "PagesCount 1000000000; refused" in str(raised.value) and queries == 1
        assert closed(em)


def next_forever(new_items):
    """No PagesCount, a Next link on every page; the same items again, or new ones every time."""
    def answer(standin, request):
        page = int(request.query.get("page", 1))
        first = page * 5 if new_items else 0
        paging = {"Links": [{"Rel": "Next", "Href": "https://em:9398/api/query?page=%d" % (page + 1)}]}
        return Reply(200, query_result_json("BackupTaskSessions",
                                            [synthetic_task_session(first + i) for i in range(5)], paging),
                     {"Content-Type": "application/json"})
    return answer


def test_next_link_loop_is_an_error(ledger):
    with StandIn(query=next_forever(new_items=False)) as em:
        with pytest.raises(EMResponseError) as raised:
            query(em, page_size=5)
        queries = sum(1 for method, path, _h in em.requests if path == "/api/query")
        ledger("Next link forever, same items", "error after 3 pages without a new item", "failed_cleanly")
        assert "EM's Next links loop: 3 pages in a row" in str(raised.value) and queries == 4
        assert closed(em)


def test_next_link_forever_hits_the_hard_ceiling(monkeypatch, ledger):
    monkeypatch.setattr(em_client, "MAX_PAGES", 25)  # the real ceiling is 100,000 pages
    with StandIn(query=next_forever(new_items=True)) as em:
        with pytest.raises(EMResponseError) as raised:
            query(em, page_size=5)
        queries = sum(1 for method, path, _h in em.requests if path == "/api/query")
        ledger("Next link forever, new items every page", "clear error at the page ceiling, never a silent stop",
               "failed_cleanly")
        assert "EM still links a Next page after 25 pages; refused" in str(raised.value) and queries == 25
        assert closed(em)


# ---- 3. plain HTTP, a CA path that is not there ----------------------------------------------------

def test_plain_http_is_refused_unless_allowed(ledger):
    with StandIn(tls=False) as em:
        with pytest.raises(EMValidationError) as raised:
            EMClient(options(em, ca_path=None))
        assert not em.requests
        items, _info, _warnings = query(em, ca_path=None, allow_http=True)
        ledger("server: http://", "refused before any request unless allow_http: true", "refused")
        assert "option server: http://127.0.0.1" in str(raised.value) and "allow_http" in str(raised.value)
        assert len(items) == 5 and closed(em)


def test_playbook_http_ca_path_and_ambient_identity(tmp_path, ledger):
    """As a playbook user sees it: http:// refused / allowed with a warning, a missing ca_path named,
    VEEAM_EM_SESSION_ID from the environment losing to the task's own credentials."""
    with StandIn(tls=False) as plain, StandIn() as tls_em:
        cases = [
            {"name": "http-refused", "args": {"server": plain.base_url}},
            {"name": "http-allowed", "args": {"server": plain.base_url, "allow_http": True}},
            {"name": "http-allowed-from-env", "args": {"server": plain.base_url},
             "env": {"VEEAM_EM_ALLOW_HTTP": "true"}},
            {"name": "missing-ca_path", "args": {"ca_path": "/nonexistent/em-ca.pem"}},
            {"name": "env-session-vs-task-credentials", "args": {"username": USERNAME, "password": tls_em.password},
             "env": {"VEEAM_EM_SESSION_ID": "c3RhbGUtc2Vzc2lvbi1mcm9tLXRoZS1lbnZpcm9ubWVudA=="}},
            {"name": "env-session-alone", "args": {},
             "env": {"VEEAM_EM_SESSION_ID": "c3RhbGUtc2Vzc2lvbi1mcm9tLXRoZS1lbnZpcm9ubWVudA=="}},
        ]
        run = run_playbook(tls_em, tmp_path, "cases", {"cases": cases})
        assert run.results is not None, run.proc.stdout[-4000:]
        results = run.results
        refused = results["http-refused"]
        assert refused.get("failed") and "is plain http://" in refused["msg"] and "allow_http" in refused["msg"]
        for name in ("http-allowed", "http-allowed-from-env"):
            assert not results[name].get("failed"), results[name].get("msg")
            assert len(results[name]["backup_task_sessions"]) == 5
        missing = results["missing-ca_path"]
        assert missing.get("failed") and "option ca_path: '/nonexistent/em-ca.pem' does not exist" in missing["msg"]
        mixed = results["env-session-vs-task-credentials"]
        assert not mixed.get("failed"), mixed.get("msg")
        # warnings are printed, not registered, in a loop (ansible-core 2.19); a repeated one is shown once
        assert "[WARNING]: allow_http is true and server is %s: the password" % plain.base_url in run.output
        assert "cross the network unencrypted" in run.output
        assert "[WARNING]: VEEAM_EM_SESSION_ID from the environment is ignored" in run.output
        alone = results["env-session-alone"]  # no credentials in the task: the environment's session is used
        assert alone.get("failed") and "HTTP 401" in alone["msg"] and "session_id is no longer valid" in alone["msg"]
        assert plain.created == 2 and tls_em.created == 1  # only the allowed runs and the task credentials logged on
        assert closed(plain) and closed(tls_em)
        assert_no_traceback(run.output)
        ledger("playbook: http:// (refused, allowed, allowed from env), missing ca_path, env session vs task "
               "credentials", "refused / warned / named / task credentials win", "held")


# ---- 8. ~/.netrc never authenticates ---------------------------------------------------------------

def test_netrc_is_never_used(tmp_path, monkeypatch, ledger):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password from-netrc\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    with StandIn() as em:
        # negative control: requests on its own does send the .netrc credentials to this host
        plain = requests.get(em.base_url + "/api/", verify=em.ca_file, timeout=5)
        control = list(em.authorizations)
        del em.authorizations[:]
        items, _info, _warnings = query(em)
        ledger("~/.netrc entry for the EM host", "never sent; only the configured account logs on", "held")
        assert plain.status_code == 401 and control and control[0].startswith("Basic aW50cnVkZXI6")  # intruder:
        assert len(items) == 5
        assert len(em.authorizations) == 1  # the logon's own Basic header, nothing on the token requests
        assert em.authorizations[0].startswith("Basic ZW1hZG1pbj")  # emadmin:
        assert closed(em)


# ---- 9. SIGTERM logs off -----------------------------------------------------------------------------

def stall(seconds):
    def answer(standin, request):
        time.sleep(seconds)
        return error_reply(503, "too late")
    return answer


def test_sigterm_to_the_module_logs_off(tmp_path, ledger):
    with StandIn(query=stall(60)) as em:
        args = {"ANSIBLE_MODULE_ARGS": {"server": em.base_url, "username": em.username, "password": em.password,
                                        "ca_path": em.ca_file, "timeout": 120, "retries": 0}}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([COLLECTIONS_ROOT, TESTS_DIR]))
        proc = subprocess.Popen([sys.executable, "-m", MODULE, json.dumps(args)], env=env, cwd=str(tmp_path),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            waited = 0.0
            while not any(path == "/api/query" for _m, path, _h in em.requests) and waited < 60:
                time.sleep(0.05)
                waited += 0.05
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        result = json.loads(stdout.strip().splitlines()[-1])
        ledger("SIGTERM to the module while a page is pending", "logoff DELETE sent, then a clear failure",
               "failed_cleanly")
        assert em.deletes and closed(em)
        assert proc.returncode == 1 and result["failed"]
        assert "stopped by signal 15 (SIGTERM) and logged off its EM session" in result["msg"]
        assert_no_traceback(stdout + stderr)


# ---- 10. decompression bombs: bounded by urllib3 >= 2.6.3 -------------------------------------------

PROBE = r"""
import json, sys, time


def peak_kb():
    # VmHWM: this process image's peak RSS (ru_maxrss would carry the forking parent's peak across exec)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])


sys.path[:0] = sys.argv[2].split("|")
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
settings = json.loads(sys.argv[1])
max_body = settings.pop("max_body")
media = settings.pop("media", "json")
before = peak_kb()
started = time.monotonic()
outcome = {}
try:
    with EMClient(ConnectionOptions(**settings), media_type=media, max_body=max_body) as client:
        client.query(BACKUP_TASK_SESSION, None, "CreationTime", "desc", 10)
    outcome["error"] = None
except EMError as error:
    outcome["error"] = str(error)
outcome["seconds"] = time.monotonic() - started
outcome["peak_kb"] = peak_kb()
outcome["baseline_kb"] = before
print(json.dumps(outcome))
"""


def probe(em, max_body=em_client.MAX_BODY_BYTES, media="json", **settings):
    """One query in a fresh process: (error text, seconds, peak RSS growth in MiB)."""
    options_ = dict(server=em.base_url, username=em.username, password=em.password, ca_path=em.ca_file,
                    timeout=10.0, retries=0, max_body=max_body, media=media)
    options_.update(settings)
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(options_), "|".join([COLLECTIONS_ROOT, TESTS_DIR])],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    return outcome["error"], outcome["seconds"], (outcome["peak_kb"] - outcome["baseline_kb"]) / 1024.0


_BOMBS = {}


def gzip_bomb(inflated_mib, layers=2):
    """``inflated_mib`` MiB of zeros, gzip'ed ``layers`` times (1 GiB -> about 1 MB -> a few KB)."""
    key = (inflated_mib, layers)
    if key not in _BOMBS:
        data = gzip.compress(b"\0" * (inflated_mib << 20), compresslevel=9)
        for _layer in range(layers - 1):
            data = gzip.compress(data, compresslevel=9)
        _BOMBS[key] = data
    return _BOMBS[key]


def test_gzip_gzip_bomb_is_cut_with_bounded_memory(ledger):
    """With urllib3 1.26 this grew to gigabytes (issue 15, item 10); urllib3 >= 2.6 inflates in bounded
    steps, and the client's cap (8 MiB here) stops the read. Peak memory must stay near the cap."""
    bomb = gzip_bomb(1024)

    def answer(standin, request):
        return Reply(200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip, gzip"})

    with StandIn(query=answer) as em:
        error, seconds, grown = probe(em, max_body=8 << 20)
        ledger("`Content-Encoding: gzip, gzip` bomb: %d KB -> 1 GiB" % (len(bomb) // 1024),
               "cut at the body cap (8 MiB here, 64 MiB by default), memory bounded", "failed_cleanly",
               note="peak memory +%.0f MiB, %.1f s" % (grown, seconds))
        assert error and "the response body exceeds 8388608 bytes; refused" in error
        assert grown < 128, "peak memory grew by %.0f MiB for an 8 MiB cap" % grown
        assert closed(em)


def test_too_many_content_encodings_are_an_error(ledger):
    layered = gzip_bomb(1, layers=6)

    def answer(standin, request):
        return Reply(200, layered, {"Content-Type": "application/json", "Content-Encoding": ", ".join(["gzip"] * 6)})

    with StandIn(query=answer) as em:
        with pytest.raises(EMError) as raised:
            query(em, retries=0)
        ledger("Content-Encoding with 6 layers", "refused by urllib3 (at most 5), named as such", "failed_cleanly")
        assert "cannot be decompressed" in str(raised.value)
        assert closed(em)


def test_installed_urllib3_carries_the_bounds():
    import urllib3
    version = tuple(int(part) for part in urllib3.__version__.split(".")[:3])
    assert version >= (2, 6, 3), urllib3.__version__


MEMORY_CASES = {
    "nested-xml-560KB": (HOSTILE_BODIES["nested-xml-560KB"][0], "xml"),
    "nested-json-600KB": (HOSTILE_BODIES["nested-json-600KB"][0], "json"),
    "64-MiB-plus-one-body": (None, "json"),
}


@pytest.mark.parametrize("name", sorted(MEMORY_CASES))
def test_peak_memory_under_hostile_bodies(name, ledger):
    """Figures for docs/reliability.md: each hostile body in a fresh process, peak RSS growth."""
    body, media = MEMORY_CASES[name]
    if body is None:
        body = b"[" + b" " * (em_client.MAX_BODY_BYTES + 1) + b"]"
    with StandIn(query=body_reply(body, media)) as em:
        error, seconds, grown = probe(em, media=media)
        ledger("peak memory: %s" % name, "clear error, memory bounded", "failed_cleanly",
               note="peak memory +%.0f MiB, %.2f s" % (grown, seconds))
        assert error and ("levels deep" in error or "exceeds 67108864 bytes" in error), error
        assert grown < 3 * len(body) / (1 << 20) + 64
        assert closed(em)


def test_logon_body_that_trickles_keeps_the_token_and_logs_off(ledger):
    """The deadline passes while the logon body trickles: the token came in the headers, so the
    session is owned and closed, not orphaned."""
    def logon(standin, request):
        session_id, token = standin.new_session()
        body = json.dumps({"SessionId": session_id, "UserName": "x"}).encode() + b" " * 200
        return Reply(201, pieces=[body[i:i + 1] for i in range(len(body))], pause=0.5,
                     headers={"X-RestSvcSessionId": token, "Content-Type": "application/json"})

    with StandIn(logon=logon) as em:
        with pytest.raises(EMDeadlineError):
            query(em, deadline=2.0)
        ledger("logon body trickles past the deadline", "token kept from the header, session logged off",
               "failed_cleanly")
        assert closed(em)


def test_task_timeout_leaves_the_module_to_log_off_by_itself(tmp_path, ledger):
    """What a task's ``timeout:`` does to a module (ansible-core 2.19, connection local): the task fails at once,
    but the module process is not signalled; it runs on, unobserved, and logs off when its own limits end
    (here the 5 s read timeout; in general ``deadline``). docs/reliability.md § Ansible's timeout and async."""
    def stall_then_fail(standin, request):
        time.sleep(8)
        return error_reply(503, "late")

    playbook = [{"name": "task timeout", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "slow EM", "backupops.veeam_em.veeam_em_backup_task_session_info": {"timeout": 5, "retries": 0},
         "timeout": 2, "ignore_errors": True, "register": "slow"},
        {"name": "write", "ansible.builtin.copy": {"dest": "{{ out }}", "content": "{{ slow | to_json }}"}}]}]
    path = tmp_path / "task_timeout.yml"
    path.write_text(json.dumps(playbook), encoding="utf-8")
    with StandIn(query=stall_then_fail) as em:
        run = run_playbook(em, tmp_path, "task_timeout", playbook_path=str(path))
        assert run.results is not None, run.proc.stdout[-3000:]
        ledger("task `timeout: 2` while EM stalls", "task fails; the module is not killed and logs off by itself",
               "failed_cleanly")
        assert run.results["failed"] and "Timed out after 2 second" in run.results["msg"]
        assert closed(em) and len(em.deletes) == 1
