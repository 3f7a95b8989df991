"""Every secret, in every form, planted in every EM answer the collection can surface: none comes out.

A hostile stand-in EM (standin.py) echoes back everything it knows - the session token it issued
(raw and URL-encoded), the SessionId GUID (lower and upper case; its Base64 IS the token), the
``Authorization: Basic <base64(user:password)>`` header it received (raw and URL-encoded), the
password decoded from it (raw, URL-encoded, form-encoded) - into:

* the logon answer (``UserName``), every item of every query page (``Name``, ``VmDisplayName``,
  ``Reason``), an error answer (500 ``Message``), a redirect (``Location``), a 401 to a wrong password
  (a proxy quoting the request's Authorization header), and every logoff answer (500 with the token,
  issue 15 item 1);

while real ``ansible-playbook -vvv`` runs the modules and the compliance module (its JSON, JUnit and
HTML reports written to files as the role does). Then stdout, stderr, ``ANSIBLE_LOG_PATH``, the
registered results and the report files are grepped for every form (and for anything shaped like a
token). Planted: counted by the stand-in; found: want 0.
"""
import base64
import gzip
import json
from urllib.parse import quote, quote_plus, unquote

from reliability.standin import Reply, StandIn, error_reply, json_reply
from reliability.support import assert_no_traceback, run_playbook, secret_hits
from unit.plugins.module_utils.em_fake import paging_info, query_result_json, synthetic_task_session

WRONG_PASSWORD = u"Wr0ng-\u0394&x=\"1\"/+"
LIST_TAGS = {"BackupTaskSession": "BackupTaskSessions", "ReplicaTaskSession": "ReplicaTaskSessions",
             "BackupServer": "BackupServers", "BackupJobSession": "BackupJobSessions",
             "ReplicaJobSession": "ReplicaJobSessions"}


class Echo(object):
    """What the hostile EM knows about the client it answers, and how often it planted it.

    Only that client's own secrets: its token (from the request, or the one just issued), the
    SessionId it encodes, the Authorization header of its logon. A token issued to another module
    process is not this process's to know (nor to scrub)."""

    def __init__(self):
        self.planted = 0
        self.answers = 0
        self.logon_headers = {}  # token -> the Authorization header that created it

    @staticmethod
    def forms_of(token=None, authorization=None):
        forms = {}
        if token:
            session_id = base64.b64decode(token).decode("ascii")
            forms.update({"token": token, "token URL-encoded": quote(token, safe=""),
                          "session id": session_id, "session id upper": session_id.upper()})
        if authorization:
            value = authorization.split(" ", 1)[-1]
            password = base64.b64decode(value).decode("utf-8").split(":", 1)[1]
            forms.update({"Authorization header": "Authorization: " + authorization,
                          "Basic value URL-encoded": quote(value, safe=""), "password": password,
                          "password URL-encoded": quote(password, safe=""),
                          "password form-encoded": quote_plus(password)})
        return forms

    def text(self, where, token=None, authorization=None, header=False):
        """The forms as one text; ``header``: only those a header can carry (ASCII; a raw non-ASCII
        password can only travel URL-encoded there, and those forms are planted)."""
        if token and not authorization:
            authorization = self.logon_headers.get(token)
        forms = self.forms_of(token, authorization)
        if header:
            forms = dict((name, value) for name, value in forms.items() if value.isascii() and value.isprintable())
        self.planted += len(forms)
        self.answers += 1
        return "%s echoes: %s" % (where, " | ".join(forms.values()))


def hostile_em(echo):
    def logon(standin, request):
        authorization = request.headers.get("Authorization", "")
        reply = standin.logon_default(request)
        if reply.status == 401:  # a proxy's error page quoting the request (issue 15 item 2)
            return error_reply(401, echo.text("401", authorization=authorization))
        token = reply.headers["X-RestSvcSessionId"]
        echo.logon_headers[token] = authorization
        body = json.loads(reply.body)
        body["UserName"] = echo.text("logon", token)
        return json_reply(body, status=201, headers={"X-RestSvcSessionId": token})

    def logoff(standin, request, session_id):
        return error_reply(500, echo.text("logoff", request.headers.get("X-RestSvcSessionId")))

    def query(standin, request):
        token = request.headers.get("X-RestSvcSessionId")
        page_size = int(request.query.get("pageSize", 100))
        kind = request.query.get("type")
        if page_size == 3:
            return error_reply(500, echo.text("query error", token))
        if page_size == 4:
            location = "https://elsewhere.example/?%s" % echo.text("redirect", token, header=True)
            return Reply(302, b"", {"Location": location})
        items = []
        if kind in ("BackupTaskSession", "ReplicaTaskSession"):
            for index in range(3):
                item = synthetic_task_session(index, kind=kind[:-len("TaskSession")])
                item["Reason"] = echo.text("item reason", token)
                item["VmDisplayName"] = "vm%d %s" % (index, echo.text("item vm name", token))
                item["Name"] = echo.text("item name", token)
                item["CreationTimeUTC"] = item["EndTimeUTC"] = "2025-06-28T%02d:00:00Z" % (index + 1)
                items.append(item)
        body = query_result_json(LIST_TAGS.get(kind, "BackupTaskSessions"), items, paging_info(1, 1, page_size))
        return Reply(200, body, {"Content-Type": "application/json"})

    return dict(logon=logon, logoff=logoff, query=query)


def task(name, module, args, **extra):
    entry = {"name": name, "backupops.veeam_em.%s" % module: args, "ignore_errors": True}
    entry.update(extra)
    return entry


def playbook(report_dir):
    tasks = [
        task("items full of secrets", "veeam_em_backup_task_session_info", {}, register="items"),
        task("EM error quoting secrets", "veeam_em_backup_task_session_info", {"page_size": 3, "retries": 0},
             register="error"),
        task("redirect carrying secrets", "veeam_em_backup_task_session_info", {"page_size": 4},
             register="redirect"),
        task("wrong password, 401 quoting the Authorization header", "veeam_em_backup_task_session_info",
             {"password": WRONG_PASSWORD}, register="wrong"),
        task("log on (no_log, as documented)", "veeam_em_session", {}, register="em_session", no_log=True),
        task("reuse the session", "veeam_em_replica_task_session_info",
             {"session_id": "{{ em_session.session_id }}"}, register="reuse"),
        task("log off, EM answers 500 with the token", "veeam_em_session",
             {"session_id": "{{ em_session.session_id }}", "state": "absent"}, register="logoff"),
        task("compliance with reports", "veeam_em_compliance_info",
             {"now": "2025-06-29T00:00:00Z", "lookback_days": 7, "report_formats": ["json", "junit", "html"],
              "check_jobs": False}, register="compliance"),
        {"name": "write the reports as the role does", "ansible.builtin.copy": {
            "dest": "%s/compliance.{{ item.key }}" % report_dir, "content": "{{ item.value }}", "mode": "0644"},
         "loop": "{{ compliance.reports | default({}) | dict2items }}"},
        {"name": "write the results", "ansible.builtin.copy": {
            "dest": "{{ out }}", "mode": "0600",
            "content": "{{ {'items': items, 'error': error, 'redirect': redirect, 'wrong': wrong, 'reuse': reuse, "
                       "'logoff': logoff, 'compliance': compliance} | to_json }}"}},
    ]
    return [{"name": "hostile EM", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def detector_forms(echo, standin):
    """What to grep for: every form of every secret planted, and how each looks JSON- or HTML-escaped."""
    forms = {}
    secrets = [Echo.forms_of(token=token) for token in standin.all_sessions.values()]
    secrets += [Echo.forms_of(authorization=header) for header in set(standin.authorizations)]
    every = {}
    for index, group in enumerate(secrets):
        every.update(("%s #%d" % (name, index), value) for name, value in group.items())
    for name, value in every.items():
        forms[name] = value
        forms[name + " (JSON)"] = json.dumps(value)[1:-1]
        forms[name + " (HTML)"] = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        forms[name + " (decoded)"] = unquote(value)
    return forms


def test_every_secret_form_planted_everywhere_is_found_nowhere(em, tmp_path, ledger):
    echo = Echo()
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    path = tmp_path / "hostile.yml"
    path.write_text(json.dumps(playbook(str(report_dir)), indent=1), encoding="utf-8")
    with StandIn(**hostile_em(echo)) as standin:
        run = run_playbook(standin, tmp_path, "hostile", verbosity=3, playbook_path=str(path))
        assert run.results is not None, run.proc.stdout[-6000:] + run.proc.stderr[-3000:]
        # the gzip'd history cache (issue 18) is scanned too, uncompressed
        reports = {name.name: gzip.decompress(name.read_bytes()).decode("utf-8") if name.name.endswith(".gz")
                   else name.read_text(encoding="utf-8") for name in sorted(report_dir.iterdir())}
        channels = {"stdout/stderr/ansible.log (-vvv)": run.output, "registered results": json.dumps(run.results)}
        channels.update(("report " + name, text) for name, text in reports.items())
        forms = detector_forms(echo, standin)
        found = {channel: secret_hits(text, forms) for channel, text in channels.items()}
        found_total = sum(sum(hits.values()) for hits in found.values())
        ledger("every secret form (token, session id, Basic header, password; raw and URL-encoded) planted in "
               "every answer: logon, items, 500, redirect, 401, logoff 500 (%d answers)" % echo.answers,
               "found in none of stdout -vvv, ansible.log, results, JSON/JUnit/HTML reports", "held",
               secrets_leaked=found_total,
               note="%d forms planted, %d found" % (echo.planted, found_total))
        results = run.results
        # the plants did reach every channel they aim at (else this test would prove nothing)
        assert len(results["items"]["backup_task_sessions"]) == 3 and "********" in json.dumps(results["items"])
        error, wrong = results["error"], results["wrong"]
        assert error["failed"] and "HTTP 500" in error["msg"] and "********" in error["msg"]
        assert results["redirect"]["failed"] and "redirect" in results["redirect"]["msg"]
        assert wrong["failed"] and "HTTP 401" in wrong["msg"] and "********" in wrong["msg"]
        assert results["logoff"]["failed"] and "HTTP 500" in results["logoff"]["msg"]
        assert "logoff of the EM session failed" in run.output
        assert set(reports) == {"compliance.html", "compliance.json", "compliance.junit"}
        assert all("********" in text for text in reports.values())
        assert echo.planted >= 100 and len(standin.all_sessions) >= 5
        assert found_total == 0, found
        assert_no_traceback(run.output)
