"""No password, no session token in any output, result, error or log: every module and the role at -vvv,
with failures forced.

How the user's own ``veeam_em_session`` task is treated: its result *is* the token (``session_id``,
by design, to pass to later tasks), so users must put ``no_log: true`` on it, as the role does
(docs/reliability.md). The playbook here does exactly that; the test then asserts that the token
appears nowhere else: not in the later tasks' -vvv invocation lines (``session_id`` is a no_log
option), results, failure messages, the logoff task, the Ansible log or the role's reports.

Detectors (tests/reliability/support.py): the password in raw, JSON-escaped and ASCII-prefix form,
the Basic auth header value, the tokens the playbook obtained (kept in a side file by a no_log task),
and any base64 string that decodes to a GUID (the shape of every EM token, including the ones the
modules obtain internally and never return).
"""
import json
import os

from reliability.support import (
    USERNAME, assert_every_fault_fired, assert_no_traceback, certifi_bundle, password_secrets, repo_path,
    run_playbook, secret_hits)

WRONG_PASSWORD = u"Wr0ng-Pa55-\u0394-n0t-the-real-one"
MODULE_DIR = repo_path("plugins", "modules")
FQCN = "backupops.veeam_em.%s"
# Modules also run without session_id (their own logon and logoff: the password path). The
# connection handling is the same shared code (em_module.run) for all of them.
SELF_LOGON = ("veeam_em_backup_task_session_info", "veeam_em_job", "veeam_em_task_info")


def modules():
    """Every module that talks to EM: the action group ``veeam_em`` of meta/runtime.yml (the modules
    with the connection options; new ones join it, test_the_action_group_is_every_module_with_connection_options
    checks). A module outside it (veeam_em_compliance_merge reads no EM) has no session_id to mask:
    ansible-core echoes an unsupported option's value in -vvv, as for any module."""
    import yaml

    with open(repo_path("meta", "runtime.yml"), encoding="utf-8") as handle:
        return sorted(yaml.safe_load(handle)["action_groups"]["veeam_em"])


def test_the_action_group_is_every_module_with_connection_options():
    """A module that takes session_id and is left out of the group would escape the -vvv test below."""
    names = sorted(name[:-3] for name in os.listdir(MODULE_DIR) if name.startswith("veeam_em_") and name.endswith(".py"))
    with_connection = [name for name in names
                       if "backupops.veeam_em.connection" in open(os.path.join(MODULE_DIR, name + ".py"), encoding="utf-8").read()]
    assert with_connection and with_connection == modules()


def module_args(name):
    if name == "veeam_em_job":  # changes things: check mode, and a job that does not exist
        return {"action": "start", "name": "reliability-no-such-job"}, True
    return {}, False


def task(name, module, args, **extra):
    entry = {"name": name, FQCN % module: args}
    entry.update(extra)
    return entry


def uri_faults(method, spec=None):
    args = {"url": "{{ em_control }}/_emulator/faults", "method": method, "ca_path": "{{ em_ca }}"}
    if spec is not None:
        args.update(body_format="json", body=spec)
    return {"name": "faults: %s" % method, "ansible.builtin.uri": args}


def secrets_playbook(token_dir):
    session = "{{ em_session.session_id }}"
    tasks = [
        task("Log on (a user's task: no_log, as documented)", "veeam_em_session", {},
             register="em_session", no_log=True),
        {"name": "Keep the token for the test", "ansible.builtin.copy": {
            "content": session, "dest": os.path.join(token_dir, "token1"), "mode": "0600"}, "no_log": True},
    ]
    for name in modules():
        if name == "veeam_em_session":
            continue
        args, check = module_args(name)
        extra = {"ignore_errors": True}
        if check:
            extra["check_mode"] = True
        tasks.append(task("%s with the session" % name, name, dict(args, session_id=session), **extra))
        if name in SELF_LOGON:
            tasks.append(task("%s logging on itself" % name, name, dict(args), **extra))
    tasks += [
        # forced failures
        uri_faults("POST", {"kind": "status", "status": 503, "count": -1, "path": "/api/query", "skip": 1}),
        task("query failing with the session", "veeam_em_backup_task_session_info",
             {"session_id": session, "page_size": 5, "retry_backoff": 0}, ignore_errors=True),
        task("query failing after its own logon", "veeam_em_replica_task_session_info",
             {"page_size": 2, "retry_backoff": 0}, ignore_errors=True),
        uri_faults("DELETE"),
        task("wrong password", "veeam_em_backup_task_session_info", {"password": WRONG_PASSWORD},
             ignore_errors=True),
        task("wrong password, session module", "veeam_em_session", {"password": WRONG_PASSWORD},
             ignore_errors=True),
        task("untrusted certificate", "veeam_em_backup_task_session_info", {"ca_path": certifi_bundle()},
             ignore_errors=True),
        task("Log off (no no_log: the result must not carry the token)", "veeam_em_session",
             {"session_id": session, "state": "absent"}, register="logoff1"),
        task("Log on again", "veeam_em_session", {}, register="em_session", no_log=True),
        {"name": "Keep the second token", "ansible.builtin.copy": {
            "content": session, "dest": os.path.join(token_dir, "token2"), "mode": "0600"}, "no_log": True},
        uri_faults("POST", {"kind": "expire_session", "count": 1}),
        task("expired session", "veeam_em_task_info", {"session_id": session}, ignore_errors=True),
        task("expired session, backup query", "veeam_em_backup_task_session_info", {"session_id": session},
             ignore_errors=True),
        task("Log off the expired session", "veeam_em_session", {"session_id": session, "state": "absent"},
             register="logoff2"),
        {"name": "Write the results for the test", "ansible.builtin.copy": {
            "dest": "{{ out }}", "mode": "0600",
            "content": "{{ {'logoff1': logoff1, 'logoff2': logoff2} | to_json }}"}},
    ]
    return [{"name": "Secrets never leak", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def read_tokens(token_dir):
    tokens = {}
    for name in ("token1", "token2"):
        path = os.path.join(token_dir, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                tokens[name] = handle.read().strip()
    return tokens


def test_modules_at_vvv_with_forced_failures_leak_nothing(em, tmp_path, ledger):
    token_dir = tmp_path / "tokens"
    token_dir.mkdir()
    playbook = tmp_path / "secrets.yml"
    playbook.write_text(json.dumps(secrets_playbook(str(token_dir)), indent=1), encoding="utf-8")
    em.reset_stats()
    run = run_playbook(em, tmp_path, "secrets", verbosity=3, playbook_path=str(playbook))
    assert run.results is not None, run.proc.stdout[-6000:] + run.proc.stderr[-3000:]
    tokens = read_tokens(str(token_dir))
    assert len(tokens) == 2 and all(len(token) >= 20 for token in tokens.values())
    secrets = password_secrets(USERNAME, em.password)
    secrets.update(password_secrets(USERNAME, WRONG_PASSWORD))
    secrets.update(tokens)
    hits = secret_hits(run.output + json.dumps(run.results), secrets)
    stats = em.stats()
    last_faults = em.faults_state()  # the expire_session fault (the 503 one was deleted in the play)
    failed_tasks = run.proc.stdout.count("...ignoring")
    ledger("-vvv, every module (%d) + forced failures (503, 401 wrong password, TLS, expired token)"
           % (len(modules())), "no password/token in stdout, stderr, ansible.log, results", "held",
           faults_injected=stats["faults_injected"], secrets_leaked=sum(hits.values()),
           note="%d tasks failed as forced" % failed_tasks)
    assert not hits, hits
    assert_no_traceback(run.output)
    assert failed_tasks >= 8
    # the later tasks did receive the token: as a no_log option, masked in their -vvv invocation
    assert run.proc.stdout.count('"session_id": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"') >= len(modules())
    assert "HTTP 401" in run.proc.stdout and "session_id is no longer valid" in run.proc.stdout
    assert "HTTP 503" in run.proc.stdout and "certificate" in run.proc.stdout
    assert run.results["logoff1"]["changed"] is True and run.results["logoff2"]["changed"] is False
    # each forced failure happened: 503s answered, the expiry fault fired exactly once
    assert stats["statuses"].get("503", 0) > 0
    assert assert_every_fault_fired(last_faults) == {"expire_session": 1}


def test_the_detectors_find_a_token_when_no_log_is_missing(em, tmp_path, ledger):
    """The negative control: without no_log on the user's logon task, -v prints the token and the
    detectors above must see it (else they would prove nothing). This is why the documentation tells
    users to set no_log on veeam_em_session."""
    playbook = tmp_path / "careless.yml"
    tasks = [task("Log on WITHOUT no_log", "veeam_em_session", {}, register="em_session"),
             task("Log off", "veeam_em_session", {"session_id": "{{ em_session.session_id }}", "state": "absent"}),
             {"name": "Write the results for the test", "ansible.builtin.copy": {
                 "dest": "{{ out }}", "mode": "0600", "content": "{{ em_session.session_id | to_json }}"}}]
    playbook.write_text(json.dumps([{"name": "careless", "hosts": "localhost", "gather_facts": False,
                                     "tasks": tasks}]), encoding="utf-8")
    run = run_playbook(em, tmp_path, "careless", verbosity=1, playbook_path=str(playbook))
    token = run.results
    hits = secret_hits(run.proc.stdout, {"token": token})
    ledger("negative control: logon task without no_log, -v", "token printed by Ansible (detected)", "held",
           note="proves the detectors work; not a collection leak")
    assert hits.get("token", 0) >= 1 and any(name.startswith("token-shaped") for name in hits), hits
    assert not secret_hits(run.proc.stdout, password_secrets(USERNAME, em.password), token_shaped=False)
