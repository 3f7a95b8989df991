#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_job
short_description: Start, stop or retry a Veeam backup or replication job through Enterprise Manager
version_added: 1.0.0
description:
  - Runs C(POST /api/jobs/<id>?action=start|stop|retry) on the Veeam Backup Enterprise Manager (EM) REST API and
    returns the EM task it creates; with O(wait) it polls that task (as M(backupops.veeam_em.veeam_em_task_info)
    does) until it is C(Finished) and reports its result.
  - The job is named by O(id) or by O(name) (plus O(backup_server_name) when several backup servers have a job of
    that name).
  - "Idempotent, by the job's latest session (one query, C(sortDesc=CreationTime), one item): a job is I(running)
    when that session is in any state but C(Stopped)."
  - "O(action=start): nothing to do when the job is running (C(changed=false)) unless O(force)."
  - "O(action=stop): nothing to do when the job is not running, unless O(force)."
  - "O(action=retry): nothing to do when the job is running, or when its latest session did not end C(Failed)
    (EM retries only failed jobs), unless O(force)."
  - B(Needs the Portal Administrator role); EM answers 403 to Portal Users.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.task_wait
options:
  id:
    description:
      - The job's UID (C(urn:veeam:Job:<guid>)) or bare GUID (for example C(id) of the RV(job) this module
        returned, or C(job_id) of M(backupops.veeam_em.veeam_em_backup_job_session_info)).
      - Exactly one of O(id) and O(name) is required.
    type: str
  name:
    description:
      - The job's exact name. The module fails when no job or several jobs have it (add O(backup_server_name)).
    type: str
  backup_server_name:
    description:
      - With O(name), the backup server the job is configured on.
    type: str
  action:
    description:
      - V(start) runs the job, V(stop) stops its running session, V(retry) retries the failed VMs of its last
        session (EM allows it only for jobs that finished C(Failed)).
      - Backup copy jobs are started by EM's C(sync) action, which this module does not send.
    type: str
    required: true
    choices: [start, stop, retry]
  force:
    description:
      - Send the action even when the job's state says there is nothing to do (see the description). EM may
        then refuse it; the task reports that.
    type: bool
    default: false
  wait:
    description:
      - Poll the EM task until it is C(Finished) (C(OperationFinished) means the backup server is done but EM has
        not collected the data yet), then read the job session the task names.
      - Fails when the task finishes without success, or when O(wait_timeout) passes (the result then carries the
        last seen task).
      - A finished C(start) task means EM triggered the job, not that the backup has finished; follow the job
        session with M(backupops.veeam_em.veeam_em_backup_job_session_info).
    type: bool
    default: false
  media_type:
    description:
      - Representation requested from EM. Both give identical results.
    type: str
    default: json
    choices: [json, xml]
attributes:
  check_mode:
    support: full
    description: Reads the job and its latest session and reports whether the action would be sent; never sends it.
  diff_mode:
    support: none
    description: No diff is produced.
notes:
  - EM tasks belong to the logon session that created them. Without O(session_id) this module logs on and off by
    itself, so only O(wait) can follow the task; pass O(session_id) from M(backupops.veeam_em.veeam_em_session) to
    follow it later with M(backupops.veeam_em.veeam_em_task_info).
  - The action is never repeated on a transport error or a 5xx answer (a second POST could start the job twice).
seealso:
  - module: backupops.veeam_em.veeam_em_job_info
  - module: backupops.veeam_em.veeam_em_task_info
  - module: backupops.veeam_em.veeam_em_backup_job_session_info
"""

EXAMPLES = r"""
- name: Start a job unless it is already running, and wait for EM to trigger it
  backupops.veeam_em.veeam_em_job:
    server: em.example.com
    username: 'EXAMPLE\emadmin'
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
    name: Backup Job 1
    backup_server_name: vbr01.corp.example.com
    action: start
    wait: true
  register: started

- name: Retry a failed job by id (no change when its last run did not fail)
  backupops.veeam_em.veeam_em_job:
    server: em.example.com
    id: urn:veeam:Job:5658281f-625e-4627-89dd-d2a0c48be99e
    action: retry

- name: Stop a job; in check mode only report whether it is running
  backupops.veeam_em.veeam_em_job:
    server: em.example.com
    name: SQL Servers (nightly)
    action: stop
  check_mode: true
"""

RETURN = r"""
action:
  description: The requested action.
  returned: always
  type: str
  sample: start
sent:
  description: Whether the action was sent to EM (false when there was nothing to do, and in check mode).
  returned: always
  type: bool
  sample: true
msg:
  description: What happened, in one sentence.
  returned: always
  type: str
  sample: 'action start sent for job "Backup Job 1"; task task-5 Finished: Job "Backup Job 1" triggered to start.'
job:
  description: The job, as M(backupops.veeam_em.veeam_em_job_info) returns it.
  returned: always
  type: dict
  sample: {"uid": "urn:veeam:Job:5658281f-625e-4627-89dd-d2a0c48be99e", "id": "5658281f-625e-4627-89dd-d2a0c48be99e",
           "name": "Backup Job 1", "job_type": "Backup", "backup_server_name": "vbr01.corp.example.com"}
latest_session:
  description:
    - The job's latest session before the action (as M(backupops.veeam_em.veeam_em_backup_job_session_info) or
      M(backupops.veeam_em.veeam_em_replica_job_session_info) return it, without task sessions), or null when the
      job has none.
  returned: always
  type: dict
  sample: {"uid": "urn:veeam:BackupJobSession:1f038a6b-7968-4052-be97-3ed6b7aaf6a3", "state": "Stopped",
           "result": "Failed", "is_retry": false}
running:
  description: Whether the job was running before the action.
  returned: always
  type: bool
  sample: false
task:
  description: The EM task the action created (as M(backupops.veeam_em.veeam_em_task_info) returns it; the last
    poll with O(wait)), or null when nothing was sent.
  returned: always
  type: dict
  sample: {"task_id": "task-5", "state": "Finished", "operation": "StartJob", "result_success": true,
           "result_message": "Job \"Backup Job 1\" triggered to start.", "related": [], "links": [],
           "href": "https://em:9398/api/tasks/task-5"}
job_session:
  description: With O(wait), the job session the finished task names (its C(Related) link), read after the task
    finished; null otherwise or when the task names none.
  returned: always
  type: dict
  sample: {"uid": "urn:veeam:BackupJobSession:35c24055-bdee-4e43-b655-a42de408d2ec", "state": "Working",
           "result": null}
waited:
  description: Seconds spent waiting for the task (0 without O(wait)).
  returned: always
  type: float
  sample: 4.2
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_actions, em_filter_expr, em_module, em_query
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMError, EMTaskFailed, EMTaskTimeout, EMValidationError)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_JOB_SESSION, JOB, REPLICA_JOB_SESSION, job_session_running)


def find_job(client, params):
    """The one job named by ``id`` or ``name`` (+ ``backup_server_name``); raises when none/several."""
    if params.get("id"):
        guid = em_filter_expr.bare_guid(params["id"], "Job", "id")
        jobs = client.get_entity(JOB, guid)
        if not jobs:
            raise EMValidationError("option id: no job %s in EM (or not visible to this account)" % guid)
        return jobs[0]
    clauses = [em_filter_expr.comparison("Name", "==", params["name"], "name")]
    if params.get("backup_server_name"):
        clauses.append(em_filter_expr.comparison("BackupServerName", "==", params["backup_server_name"],
                                                 "backup_server_name"))
    jobs, _info = client.query(JOB, em_filter_expr.all_of(clauses), "Name", "asc", 100)
    if not jobs:
        raise EMValidationError("option name: no job named %r%s" % (
            params["name"], " on %r" % params["backup_server_name"] if params.get("backup_server_name") else ""))
    if len(jobs) > 1:
        raise EMValidationError("option name: %d jobs are named %r (on %s); set backup_server_name or use id" % (
            len(jobs), params["name"], ", ".join(sorted(str(job["backup_server_name"]) for job in jobs))))
    return jobs[0]


def session_resource(job):
    return REPLICA_JOB_SESSION if job.get("job_type") == "Replica" else BACKUP_JOB_SESSION


def latest_session(client, job):
    resource = session_resource(job)
    job_filter = em_filter_expr.comparison("JobUid", "==", job["uid"], "id")
    sessions, _info = client.query(resource, job_filter, "CreationTime", "desc", 1, limit=1)
    for session in sessions:
        session["task_sessions"] = None
    return sessions[0] if sessions else None


def decide(action, latest, force):
    """(send?, reason) by the state-style semantics documented in DOCUMENTATION."""
    running = job_session_running(latest)
    if action == "start" and running:
        reason = "job is already running (session %s is %s)" % (latest["name"], latest["state"])
    elif action == "stop" and not running:
        reason = "job is not running"
    elif action == "retry" and running:
        reason = "job is running (session %s is %s)" % (latest["name"], latest["state"])
    elif action == "retry" and (latest is None or latest["result"] != "Failed"):
        reason = "the latest session did not fail (%s)" % ("no session" if latest is None else latest["result"])
    else:
        return True, None
    return force, reason


def run_action(client, module):
    params = module.params
    job = find_job(client, params)
    latest = latest_session(client, job)
    running = job_session_running(latest)
    send, reason = decide(params["action"], latest, params["force"])
    result = {"action": params["action"], "job": job, "latest_session": latest, "running": running,
              "task": None, "job_session": None, "waited": 0.0, "sent": False}
    label = 'action %s for job "%s"' % (params["action"], job["name"])
    if not send:
        result.update(changed=False, msg="%s: nothing to do, %s" % (label, reason))
        return result
    forced = " (forced: %s)" % reason if reason else ""
    if module.check_mode:
        result.update(changed=True, msg="%s would be sent%s (check mode)" % (label, forced))
        return result
    task = em_actions.post_job_action(client, job["id"], params["action"])
    message = "%s sent%s; task %s %s" % (label, forced, task["task_id"], task["state"])
    result.update(changed=True, sent=True, task=task, msg=message)
    if not params["wait"]:
        return result
    try:
        task, waited = em_actions.wait_for_task(client, task, params["wait_timeout"], params["wait_interval"])
    except EMTaskTimeout as error:
        result.update(error.result, waited=float(params["wait_timeout"]))
        error.result = result
        raise
    result.update(task=task, waited=waited)
    result["msg"] = "%s sent%s; task %s %s: %s" % (label, forced, task["task_id"], task["state"],
                                                   task["result_message"])
    related = [item for item in task["related"] if item["uid"] and item["type"] == session_resource(job).item_tag]
    if related:
        sessions = client.get_entity(session_resource(job), related[0]["uid"].rsplit(":", 1)[1])
        for session in sessions:
            session["task_sessions"] = None
        result["job_session"] = sessions[0] if sessions else None
    if task["result_success"] is not True:
        raise EMTaskFailed("task %s finished without success: %s" % (task["task_id"], task["result_message"]),
                           result=result)
    return result


def main():
    spec = dict(
        id=dict(type="str"),
        name=dict(type="str"),
        backup_server_name=dict(type="str"),
        action=dict(type="str", required=True, choices=list(em_actions.JOB_ACTIONS)),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        media_type=em_query.media_type_argument_spec(),
    )
    spec.update(em_module.wait_argument_spec())
    module = em_module.create_module(spec, mutually_exclusive=[("id", "name"), ("id", "backup_server_name")],
                                     required_one_of=[("id", "name")])
    params = module.params
    try:
        em_module.check_wait(params)
        if params.get("id"):
            em_filter_expr.bare_guid(params["id"], "Job", "id")
        if params.get("name") is not None:
            if not params["name"].strip():
                raise EMValidationError("option name: must not be empty")
            em_filter_expr.refuse_control_characters(params["name"], "name")
        if params.get("backup_server_name") is not None:
            em_filter_expr.refuse_control_characters(params["backup_server_name"], "backup_server_name")
    except EMError as error:
        em_module.fail(module, error)
        return
    result = em_module.run(module, lambda client: run_action(client, module), media_type=params["media_type"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
