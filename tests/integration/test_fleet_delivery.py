"""One message for the fleet (playbooks/fleet_compliance.yml, veeam_em_fleet_delivery): real ansible-playbook
over two emulators, the messages caught by a webhook server and an SMTP server on 127.0.0.1.

em-a is readable (its 1 h RPO makes violations), em-b refuses the password: the fleet is in error. By
default the merge sends ONE message for the fleet with the role's own channels (same variables, same
Teams / Slack / generic shapes) and the EMs send none; ``each`` sends one per EM and none for the fleet;
channels set for the EM hosts only (not for localhost, where the fleet message goes from) are said
loudly, never a silent nothing; an unknown value is refused before any EM is read.
"""
import json

import pytest

from delivery_support import (
    SMTP_PASSWORD, TOKEN, SmtpSink, WebhookSink, community_general_installed, free_port, require)
from fleet_support import WRONG_PASSWORD, em_host_vars, emulators, run_fleet, write_inventory

pytestmark = pytest.mark.slow

FLEET = {"em-a": dict(vms=12, days=8, seed=21), "em-b": dict(vms=12, days=8, seed=22)}


@pytest.fixture(scope="module")
def fleet():
    with emulators(FLEET) as ems:
        yield ems


def hosts_of(fleet, **more):
    return {"em-a": em_host_vars(fleet["em-a"], veeam_em_compliance_backup_rpo_hours=1, **more),
            "em-b": em_host_vars(fleet["em-b"], password=WRONG_PASSWORD, **more)}


def webhook_vars(sink, kind="generic"):
    return {"veeam_em_compliance_webhook_url": sink.url, "veeam_em_compliance_webhook_kind": kind}


def run(fleet, tmp_path, extra, **host_vars):
    inventory = write_inventory(tmp_path / "inventory.json", hosts_of(fleet, **host_vars))
    extra = dict({"veeam_em_fleet_report_dir": str(tmp_path / "reports")}, **extra)
    result = run_fleet(inventory, extra, forks=2)
    result.output = result.stdout + result.stderr
    return result


def test_the_fleet_sends_one_message_naming_every_em_and_the_ems_send_none(fleet, tmp_path):
    with WebhookSink() as hook:
        result = run(fleet, tmp_path, webhook_vars(hook))
    assert result.returncode == 2, result.output[-3000:]  # the fleet is in error (em-b): the play still fails
    assert len(hook.requests) == 1, [r["body"].get("title") for r in hook.requests]
    body = hook.requests[0]["body"]
    merged = json.loads((tmp_path / "reports" / "fleet_compliance.json").read_text(encoding="utf-8"))
    assert body["status"] == merged["status"] == "error" and body["compliant"] is False
    assert body["ems"] == {"em-a": "violation", "em-b": "error"}
    assert body["summary"]["vms_violation"] == merged["summary"]["vms_violation"] > 0
    assert body["title"].startswith("[ERROR] Veeam backup compliance - fleet - ")
    assert "in 2 Enterprise Manager(s), 1 error(s)" in body["title"]
    # each line names its EM; em-b's error is there, and the violations are em-a's
    assert [line.split(": ", 1)[0] for line in body["first_errors"]] == ["em-b"]
    assert body["first_violations"] and all(line.startswith("em-a: ") for line in body["first_violations"])
    assert body["violations_omitted"] + len(body["first_violations"]) == merged["summary"]["violations_total"]
    assert body["reports"]["html"] == str(tmp_path / "reports" / "fleet_compliance.html")
    assert "Errors (the fleet not read in full):" in body["text"]
    assert "Enterprise Managers: 2 total, 0 compliant, 0 warning, 1 violation, 1 error" in body["text"]
    assert TOKEN not in result.output and WRONG_PASSWORD not in result.output


def test_a_teams_card_for_the_fleet_has_its_counts(fleet, tmp_path):
    with WebhookSink(status=202) as hook:
        result = run(fleet, tmp_path, webhook_vars(hook, "teams"))
    assert result.returncode == 2, result.output[-3000:]
    assert len(hook.requests) == 1
    card = hook.requests[0]["body"]["attachments"][0]["content"]
    facts = dict((fact["title"], fact["value"]) for fact in card["body"][1]["facts"])
    assert facts["Enterprise Managers"] == "2 total, 0 compliant, 0 warning, 1 violation, 1 error"
    assert card["body"][0]["color"] == "Attention"
    assert card["body"][2]["text"].startswith("- em-b: ")


def test_each_sends_one_message_per_em_and_none_for_the_fleet(fleet, tmp_path):
    with WebhookSink() as hook:
        result = run(fleet, tmp_path, dict(webhook_vars(hook), veeam_em_fleet_delivery="each"))
    assert result.returncode == 2, result.output[-3000:]
    servers = sorted(request["body"]["em_server"] for request in hook.requests)
    assert len(servers) == 2 and not any("Enterprise Manager(s)" in server for server in servers)
    assert sorted(request["body"]["status"] for request in hook.requests) == ["error", "violation"]


def test_channels_set_only_for_the_em_hosts_are_said_loudly(fleet, tmp_path):
    with WebhookSink() as hook:
        result = run(fleet, tmp_path, {}, **webhook_vars(hook))
    assert result.returncode == 2, result.output[-3000:]
    assert hook.requests == []  # nobody hears of the fleet ...
    assert "Delivery FAILED by configuration: mail or webhook is set for the Enterprise Manager hosts but not " \
           "for localhost" in result.output  # ... and the run says so


def test_a_failed_fleet_delivery_fails_the_play_only_when_asked(fleet, tmp_path):
    url = "http://127.0.0.1:%d/hook/%s" % (free_port(), TOKEN)
    extra = {"veeam_em_compliance_webhook_url": url, "veeam_em_fleet_fail_on_violation": False,
             "veeam_em_compliance_delivery_fail_on_error": True}
    hosts = {"em-a": em_host_vars(fleet["em-a"], veeam_em_compliance_backup_rpo_hours=100000)}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    result = run_fleet(inventory, dict(extra, veeam_em_fleet_report_dir=""), forks=1)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "Delivery FAILED by webhook (generic)" in output
    assert "The fleet compliance message could not be delivered: webhook (generic): " in output
    assert TOKEN not in output


def test_the_fleet_mail_has_the_fleet_report_attached(fleet, tmp_path):
    require("the community.general collection", community_general_installed())
    require("aiosmtpd", __import__("importlib").util.find_spec("aiosmtpd") is not None)
    with SmtpSink() as smtp:
        extra = {"veeam_em_compliance_mail_to": ["backup-team@example.test"],
                 "veeam_em_compliance_mail_host": "127.0.0.1", "veeam_em_compliance_mail_port": smtp.port,
                 "veeam_em_compliance_mail_secure": "never",
                 "veeam_em_compliance_mail_username": "svc-mail", "veeam_em_compliance_mail_password": SMTP_PASSWORD}
        result = run(fleet, tmp_path, extra)
    assert result.returncode == 2, result.output[-3000:]
    assert len(smtp.messages) == 1
    message = smtp.messages[0]["message"]
    assert message["Subject"].startswith("[ERROR] Veeam backup compliance - fleet - ")
    attachments = [part.get_filename() for part in message.iter_attachments()]
    assert attachments == ["fleet_compliance.html"]
    body = message.get_body(("plain",)).get_content()
    assert "- em-b: " in body and "Status: error - the fleet could not be read in full" in body
    assert SMTP_PASSWORD not in result.output


def test_an_unknown_delivery_choice_is_refused_before_any_read(fleet, tmp_path):
    for em in fleet.values():
        em.reset_stats()
    result = run(fleet, tmp_path, {"veeam_em_fleet_delivery": "everyone"})
    assert result.returncode == 2, result.output[-3000:]
    assert "veeam_em_fleet_delivery=everyone: must be fleet" in result.output
    assert all(em.stats()["requests_total"] == 0 for em in fleet.values())


@pytest.mark.parametrize("choice", ["fleet", "both"])
def test_the_documented_choice_given_outright_keeps_the_fleet_verdict_and_its_message(fleet, tmp_path, choice):
    """Found by attack (session D): the merge kept its delivery outcome in a fact named veeam_em_fleet_delivery - the
    choice's own name. Given outright (-e veeam_em_fleet_delivery=fleet, an AWX survey), the extra var outranked the
    fact: the merge ended at its set_stats ("'str' object has no attribute 'mail'") before the verdict's fail tasks,
    and a failed delivery could never fail the play; in a workflow the next node got the outcome (a dict) as the
    choice and refused it. The outcome is now veeam_em_fleet_delivery_result."""
    with WebhookSink() as hook:
        result = run(fleet, tmp_path, dict(webhook_vars(hook), veeam_em_fleet_delivery=choice))
    assert result.returncode == 2, result.output[-3000:]
    assert "has no attribute" not in result.output, result.output[-3000:]
    assert "Fleet status error: em-b could not be read in full" in result.output
    assert len([r for r in hook.requests if "fleet" in r["body"]["title"]]) == 1
