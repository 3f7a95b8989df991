"""Delivery of the compliance report (issue 17): mail and webhook, against real servers on loopback.

The role runs with real ansible-playbook against the bundled emulator; the mail goes through
community.general.mail to an aiosmtpd server on 127.0.0.1 (with SMTP AUTH, so the password really
travels), the webhook through ansible.builtin.uri to an http.server on 127.0.0.1. The tests assert
what arrives (recipients, subject with the status, attachment names and content, the Teams Adaptive
Card and Slack blocks shapes), that a failing verdict still mails, that a failed delivery changes
neither the verdict nor the play's result unless asked to, and that the SMTP password and the
webhook URL's token never appear in the output, even with -vvv.

The mail tests need community.general (the `ansible` package of requirements-dev.txt brings it) and
aiosmtpd; in CI (CI=true) their absence fails them instead of skipping them.
"""
import importlib.util
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import jinja2
import pytest
import yaml

from collection_layout import REPO_ROOT, ansible_env
from delivery_support import (
    SMTP_PASSWORD, TOKEN, SmtpSink, WebhookSink, community_general_installed, free_port, require)
from emulator.harness import Emulator

pytestmark = pytest.mark.slow

PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "nightly_compliance.yml")
EXAMPLE = os.path.join(REPO_ROOT, "playbooks", "examples", "compliance_with_delivery.yml")
CREDENTIAL_TYPE = os.path.join(REPO_ROOT, "extensions", "awx", "credential_type_veeam_em_delivery.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
NOW = "2025-06-05T06:00:00Z"
SMTP_USER = "svc-veeam-mail"
BEARER = "Bearer-5ecret-11e2"          # a secret webhook header
HOSTILE = 'web <b>&"01'                # Slack mrkdwn control characters in a VM name


# --- a small fleet: one compliant VM, two failing (one with a hostile name) ------------------------

def _guid(number):
    return str(uuid.UUID(int=number))


def _at(hours_before_now):
    moment = datetime(2025, 6, 5, 6, 0, tzinfo=timezone.utc) - timedelta(hours=hours_before_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# (vm, hours before NOW, result, reason)
SESSIONS = [
    ("ok01", 5, "Success", ""),
    ("fail01", 30, "Success", ""),
    ("fail01", 5, "Failed", "Error: There is not enough space on the disk."),
    (HOSTILE, 5, "Failed", "Error: Failed to create snapshot"),
]


def build_dataset():
    server = {"id": _guid(1), "name": "vbr01.test"}
    vms, job_sessions, task_sessions = {}, [], []
    job = {"id": _guid(1000), "name": "Backup Job A", "type": "Backup", "backup_server_id": server["id"], "vms": []}
    for number, (vm, hours, result, reason) in enumerate(SESSIONS, start=100):
        vm_id = vms.setdefault(vm, {"id": "urn:VMware:Vm:vc-a.vm-%d" % (len(vms) + 1), "name": vm,
                                    "backup_server_id": server["id"], "size_bytes": 10 ** 9})["id"]
        if vm_id not in job["vms"]:
            job["vms"].append(vm_id)
        created, ended = _at(hours), _at(hours - 0.2)
        job_sessions.append({"id": _guid(number), "job_id": job["id"], "creation_time": created, "end_time": ended,
                             "state": "Stopped", "result": result, "progress": 100, "is_retry": False})
        task_sessions.append({"id": _guid(5000 + number), "job_session_id": _guid(number), "vm_id": vm_id,
                              "vm_display_name": vm, "creation_time": created, "end_time": ended,
                              "state": "Completed", "result": result, "reason": reason, "total_size": 10 ** 9})
    return {"format": "veeam-em-emulator-dataset/1", "generated_now": NOW, "backup_servers": [server],
            "vms": list(vms.values()), "jobs": [job], "job_sessions": job_sessions, "task_sessions": task_sessions}


# --- the receiving ends ----------------------------------------------------------------------------

# --- running the role ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def em():
    with Emulator(dataset=build_dataset(), now=NOW, tls=True) as emulator:
        yield emulator


@pytest.fixture
def community_general():
    """Mail goes through community.general.mail."""
    require("the community.general collection", community_general_installed())


@pytest.fixture
def smtp(community_general):
    require("aiosmtpd", importlib.util.find_spec("aiosmtpd") is not None)
    with SmtpSink() as sink:
        yield sink


def run_role(em, report_dir, *options, em_port=None, playbook=PLAYBOOK, more_env=None, **extra_vars):
    env = ansible_env()
    env.update(more_env or {})
    env.update({"VEEAM_EM_SERVER": em.host, "VEEAM_EM_PORT": str(em_port or em.port),
                "VEEAM_EM_USERNAME": em.username, "VEEAM_EM_PASSWORD": em.password,
                "VEEAM_EM_VALIDATE_CERTS": "true", "VEEAM_EM_CA_PATH": em.ca_file,
                "ANSIBLE_SHOW_CUSTOM_STATS": "1", "ANSIBLE_STDOUT_CALLBACK": "default"})
    variables = {"veeam_em_compliance_report_dir": str(report_dir), "veeam_em_compliance_now": NOW,
                 "veeam_em_compliance_report_history": 0}
    variables.update(extra_vars)
    command = [ANSIBLE_PLAYBOOK, playbook, "-i", "localhost,", "-e", "ansible_python_interpreter=" + sys.executable,
               "-e", json.dumps(variables)] + list(options)
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT, check=False)
    run.output = run.stdout + run.stderr
    return run


def mail_vars(smtp, **more):
    variables = {"veeam_em_compliance_mail_to": ["Backup team <backup@example.test>", "oncall@example.test"],
                 "veeam_em_compliance_mail_cc": ["lead@example.test"],
                 "veeam_em_compliance_mail_from": "veeam-report@example.test",
                 "veeam_em_compliance_mail_host": "127.0.0.1", "veeam_em_compliance_mail_port": smtp.port,
                 "veeam_em_compliance_mail_secure": "never",
                 "veeam_em_compliance_mail_username": SMTP_USER, "veeam_em_compliance_mail_password": SMTP_PASSWORD}
    variables.update(more)
    return variables


def credential_extra_vars(**inputs):
    """The extra vars AWX injects from a credential of the delivery credential type (its injectors
    rendered with the credential's inputs; AWX renders them with Jinja the same way)."""
    with open(CREDENTIAL_TYPE, encoding="utf-8") as handle:
        credential_type = yaml.safe_load(handle)
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    assert {name for name, field in fields.items() if field.get("secret")} == {"smtp_password", "webhook_url"}
    values = {name: inputs.get(name, "") for name in fields}
    return {name: jinja2.Template(template).render(**values)
            for name, template in credential_type["injectors"]["extra_vars"].items()}


def assert_no_secret(run):
    assert SMTP_PASSWORD not in run.output
    assert TOKEN not in run.output
    assert BEARER not in run.output


def attachments(message):
    return {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}


def custom_stats(run):
    """The stats block ANSIBLE_SHOW_CUSTOM_STATS prints after the recap (JSON after 'RUN:')."""
    text = run.stdout.split("CUSTOM STATS:", 1)[1]
    start = text.index("{")
    return json.JSONDecoder().raw_decode(text[start:])[0]


# --- tests ---------------------------------------------------------------------------------------

def test_a_failing_run_mails_and_posts_to_teams_without_leaking_secrets(em, smtp, tmp_path):
    with WebhookSink(status=202) as hook:
        run = run_role(em, tmp_path, "-vvv", **mail_vars(smtp, veeam_em_compliance_mail_attach=["html", "json"]),
                       veeam_em_compliance_webhook_url=hook.url, veeam_em_compliance_webhook_kind="teams",
                       veeam_em_compliance_webhook_headers={"Authorization": BEARER})
    # the verdict fails the play (fail_on_violation defaults to true) - after delivering
    assert run.returncode == 2, run.output[-6000:]
    assert "compliance violation(s)" in run.stdout
    assert "Delivery FAILED" not in run.stdout
    assert_no_secret(run)

    assert smtp.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert sent["mail_from"] == "veeam-report@example.test"
    assert sorted(sent["rcpt_tos"]) == ["backup@example.test", "lead@example.test", "oncall@example.test"]
    message = sent["message"]
    assert str(message["To"]) == "Backup team <backup@example.test>, oncall@example.test"
    subject = str(message["Subject"])
    assert subject == ("[VIOLATION] Veeam backup compliance - 4 violation(s) on 2 VM(s), 0 silent backup server(s),"
                       " 0 error(s) - https://%s:%d" % (em.host, em.port)), subject
    files = attachments(message)
    assert sorted(files) == ["compliance.html", "compliance.json"]
    with open(tmp_path / "compliance.html", "rb") as handle:
        assert files["compliance.html"] == handle.read()
    body = message.get_body(("plain",)).get_content()
    assert "Status: violation" in body
    assert "VMs: 3 total, 1 compliant, 0 warning, 2 violation" in body
    assert "Window: 2025-05-29T06:00:00Z .. 2025-06-05T06:00:00Z (UTC)" in body
    assert "not enough space on the disk" in body and HOSTILE in body
    assert "- html: %s" % (tmp_path / "compliance.html") in body
    assert "Enterprise Manager: https://%s:%d (account EMULATOR\\emadmin)" % (em.host, em.port) in body
    assert "Violations (the first 4 of 4):" in body

    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert request["path"] == "/workflows/hook?api-version=1&sig=" + TOKEN
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == BEARER
    card = request["body"]
    assert card["type"] == "message" and len(card["attachments"]) == 1
    attachment = card["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    title, facts, errors, violations = content["body"]
    assert title["type"] == "TextBlock" and title["color"] == "Attention" and title["text"] == subject
    assert facts["type"] == "FactSet"
    assert {fact["title"]: fact["value"] for fact in facts["facts"]}["VMs"] == \
        "3 total, 1 compliant, 0 warning, 2 violation"
    assert errors["text"] == "No errors."
    assert violations["text"].count("\n- ") == 3 and "not enough space" in violations["text"]


def test_slack_gets_text_and_blocks_with_escaped_names(em, tmp_path):
    with WebhookSink() as hook:
        # the URL as AWX injects it from a credential of extensions/awx/credential_type_veeam_em_delivery.yml
        credential = credential_extra_vars(webhook_url=hook.url)
        assert credential == {"veeam_em_compliance_mail_username": "", "veeam_em_compliance_mail_password": "",
                              "veeam_em_compliance_webhook_url": hook.url}
        run = run_role(em, tmp_path, veeam_em_compliance_fail_on_violation=False,
                       veeam_em_compliance_webhook_kind="slack",
                       veeam_em_compliance_webhook_headers={"X-Trace": "nightly"}, **credential)
    assert run.returncode == 0, run.output[-6000:]
    assert_no_secret(run)
    assert len(hook.requests) == 1
    assert hook.requests[0]["headers"]["X-Trace"] == "nightly"
    message = hook.requests[0]["body"]
    assert message["text"].startswith("[VIOLATION] Veeam backup compliance - 4 violation(s) on 2 VM(s)")
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "section", "context"]
    header, counts, findings, context = message["blocks"]
    assert header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    assert counts["text"]["type"] == "mrkdwn"
    assert "*VMs*: 3 total, 1 compliant, 0 warning, 2 violation" in counts["text"]["text"]
    assert findings["text"]["text"].startswith("*Violations*\n- ")
    assert "web &lt;b&gt;&amp;\"01" in findings["text"]["text"]
    assert "<b>" not in json.dumps(message["blocks"])
    assert context["elements"][0]["text"] == "Reports: " + ", ".join(
        str(tmp_path / name) for name in ("compliance.json", "compliance.xml", "compliance.html"))
    assert custom_stats(run)["veeam_em_compliance_delivery"] == {"mail": "off", "webhook": "sent", "failures": []}


def test_a_passing_run_posts_generic_json_and_does_not_mail_on_violation_only(em, smtp, tmp_path):
    with WebhookSink() as hook:
        run = run_role(em, tmp_path, **mail_vars(smtp, veeam_em_compliance_mail_when="on_violation"),
                       veeam_em_compliance_include_vms=["ok01"], veeam_em_compliance_webhook_url=hook.url)
    assert run.returncode == 0, run.output[-6000:]
    assert smtp.messages == [] and smtp.logins == []
    assert len(hook.requests) == 1
    body = hook.requests[0]["body"]
    # compliant, with a warning: the job behind ok01 has a failed run (job_failed, a warning by default)
    assert (body["status"], body["compliant"]) == ("warning", True)
    assert body["summary"]["vms_total"] == 1 and body["first_violations"] == [] and body["violations_omitted"] == 0
    assert body["reports"]["html"] == str(tmp_path / "compliance.html")
    assert body["title"].startswith("[WARNING] Veeam backup compliance - 0 violation(s)")
    assert "No violations." in body["text"]
    assert custom_stats(run)["veeam_em_compliance_delivery"] == {
        "mail": "not_wanted", "webhook": "sent", "failures": []}


def test_em_unreadable_still_mails_status_error(em, smtp, tmp_path):
    closed = free_port()
    run = run_role(em, tmp_path, em_port=closed,
                   **mail_vars(smtp, veeam_em_compliance_mail_when="on_error_or_violation"))
    assert run.returncode == 2, run.output[-6000:]
    assert "could not be read" in run.stdout
    assert len(smtp.messages) == 1
    message = smtp.messages[0]["message"]
    assert str(message["Subject"]).startswith("[ERROR] Veeam backup compliance"), str(message["Subject"])
    body = message.get_body(("plain",)).get_content()
    assert "not a compliance verdict" in body and "Errors (Enterprise Manager not read in full):" in body
    assert "Enterprise Manager: https://%s:%d (account emadmin)" % (em.host, closed) in body
    assert "No violations among what could be read - not a verdict" in body
    assert "\nNo violations.\n" not in body
    assert sorted(attachments(message)) == ["compliance.html"]


def test_a_failed_delivery_is_a_warning_and_the_verdict_decides_the_result(em, community_general, tmp_path):
    closed_smtp, closed_http = free_port(), free_port()
    url = "http://127.0.0.1:%d/services/%s" % (closed_http, TOKEN)
    failing = {"veeam_em_compliance_mail_to": ["backup@example.test"], "veeam_em_compliance_mail_host": "127.0.0.1",
               "veeam_em_compliance_mail_port": closed_smtp, "veeam_em_compliance_mail_secure": "never",
               "veeam_em_compliance_mail_username": SMTP_USER, "veeam_em_compliance_mail_password": SMTP_PASSWORD,
               "veeam_em_compliance_webhook_url": url, "veeam_em_compliance_webhook_kind": "slack"}

    # not failing on violations: the failed deliveries do not fail the play (the default)
    run = run_role(em, tmp_path / "warn", "-vvv", veeam_em_compliance_fail_on_violation=False, **failing)
    assert run.returncode == 0, run.output[-6000:]
    assert "Delivery FAILED by mail: to 127.0.0.1:%d: " % closed_smtp in run.stdout
    assert "Delivery FAILED by webhook (slack): " in run.stdout
    assert "Connection refused" in run.stdout
    assert_no_secret(run)
    delivery = custom_stats(run)["veeam_em_compliance_delivery"]
    assert (delivery["mail"], delivery["webhook"]) == ("failed", "failed")
    assert [failure["channel"] for failure in delivery["failures"]] == ["mail", "webhook (slack)"]
    assert os.path.isfile(tmp_path / "warn" / "compliance.html")

    # failing on violations: the play fails with the verdict's message, as without delivery
    run = run_role(em, tmp_path / "verdict", veeam_em_compliance_delivery_fail_on_error=True, **failing)
    assert run.returncode == 2, run.output[-6000:]
    assert "4 compliance violation(s) on" in run.stdout
    assert "could not be delivered" not in run.stdout
    assert_no_secret(run)

    # asked to: a run that passes its verdict fails for the failed delivery, after the verdict tasks
    run = run_role(em, tmp_path / "strict", veeam_em_compliance_fail_on_violation=False,
                   veeam_em_compliance_delivery_fail_on_error=True, **failing)
    assert run.returncode == 2, run.output[-6000:]
    assert "The compliance report could not be delivered: mail: to 127.0.0.1:%d" % closed_smtp in run.stdout
    assert "webhook (slack): " in run.stdout
    assert_no_secret(run)


def test_the_example_delivers_with_the_environment_it_documents(em, smtp, tmp_path):
    with WebhookSink(status=202) as hook:
        run = run_role(em, tmp_path, playbook=EXAMPLE, more_env={
            "VEEAM_EM_MAIL_TO": "backup@example.test, oncall@example.test", "VEEAM_EM_MAIL_HOST": "127.0.0.1",
            "VEEAM_EM_MAIL_PORT": str(smtp.port), "VEEAM_EM_MAIL_SECURE": "never",
            "VEEAM_EM_MAIL_USERNAME": SMTP_USER, "VEEAM_EM_MAIL_PASSWORD": SMTP_PASSWORD,
            "VEEAM_EM_WEBHOOK_URL": hook.url})
    assert run.returncode == 0, run.output[-6000:]
    assert_no_secret(run)
    assert '"Mail: sent",' in run.stdout and '"Webhook: sent",' in run.stdout
    assert '"Delivery failures: none"' in run.stdout
    assert len(smtp.messages) == 1
    assert sorted(smtp.messages[0]["rcpt_tos"]) == ["backup@example.test", "oncall@example.test"]
    assert sorted(attachments(smtp.messages[0]["message"])) == ["compliance.html"]
    assert len(hook.requests) == 1  # webhook_when on_error_or_violation: this fleet has violations
    assert hook.requests[0]["body"]["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_mail_without_community_general_stops_loudly_after_the_reports(em, tmp_path):
    # ansible-playbook finds no community.general (sys.path, where the `ansible` package puts it, not
    # scanned): the documented outcome is Ansible's own error naming the module, after the reports and the
    # summary - never a run that passes without the mail
    run = run_role(em, tmp_path, more_env={"ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"},
                   veeam_em_compliance_fail_on_violation=False, veeam_em_compliance_mail_to=["backup@example.test"],
                   veeam_em_compliance_mail_host="127.0.0.1", veeam_em_compliance_mail_port=free_port())
    assert run.returncode != 0, run.output[-6000:]
    assert "couldn't resolve module/action 'community.general.mail'" in run.output
    assert "Status: violation" in run.stdout
    assert os.path.isfile(tmp_path / "compliance.html")


def test_an_earlier_workflow_nodes_delivery_artifact_never_stops_this_runs_delivery(em, tmp_path):
    """Found by attack (session D): the role publishes veeam_em_compliance_delivery with set_stats, and AWX hands it
    to the next workflow node as an extra var, which outranks the role's set_fact of the same name. A second node
    running the role (another EM, a retry) then posted nothing - the message's headline and status were the extra
    var's (undefined), the failure was recorded into the shadowed fact and lost - and its stats said the webhook was
    "sent" (the earlier node's outcome)."""
    earlier = {"mail": "off", "webhook": "sent", "failures": []}
    with WebhookSink() as hook:
        run = run_role(em, tmp_path, veeam_em_compliance_webhook_url=hook.url, veeam_em_compliance_delivery=earlier,
                       veeam_em_compliance_fail_on_violation=False)
    assert run.returncode == 0, run.output[-6000:]
    assert len(hook.requests) == 1, run.output[-6000:]
    body = hook.requests[0]["body"]
    assert body["status"] == "violation" and body["title"].startswith("[VIOLATION] ")
    assert custom_stats(run)["veeam_em_compliance_delivery"] == {"mail": "off", "webhook": "sent", "failures": []}


def test_a_failed_delivery_is_reported_also_after_an_earlier_nodes_artifact(em, tmp_path):
    earlier = {"mail": "off", "webhook": "sent", "failures": []}
    with WebhookSink(status=500) as hook:
        run = run_role(em, tmp_path, veeam_em_compliance_webhook_url=hook.url, veeam_em_compliance_delivery=earlier,
                       veeam_em_compliance_fail_on_violation=False, veeam_em_compliance_delivery_fail_on_error=True)
    assert run.returncode != 0, run.output[-6000:]
    assert "The compliance report could not be delivered" in run.output
    assert custom_stats(run)["veeam_em_compliance_delivery"]["webhook"] == "failed"
