#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_task_info
short_description: Read (and wait for) Enterprise Manager tasks of the current logon session
version_added: 1.0.0
description:
  - Reads EM C(Task) objects with C(GET /api/query?type=Task), optionally waiting until every returned
    task is C(Finished).
  - B(Tasks belong to one logon session.) EM lists only the tasks created by requests made in the
    I(current) logon session (starting a job, cloning, ...). A module run that logs on by itself therefore
    sees no tasks. Use it with O(session_id) from M(backupops.veeam_em.veeam_em_session), the same session
    that started the operation.
  - Tasks are asynchronous-operation handles, not backup activity; use
    M(backupops.veeam_em.veeam_em_backup_task_session_info) to report on backups.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.attributes.info_module
  - backupops.veeam_em.task_wait
options:
  task_id:
    description:
      - Task IDs (C(task-5)), ORed. Omit for all tasks of the session.
    type: list
    elements: str
  state:
    description:
      - Task states, ORed. One or more of C(Running), C(OperationFinished), C(Finished) (case-insensitive).
    type: list
    elements: str
  operation:
    description:
      - Operation names (for example C(StartJob)), ORed. A string or a list of strings.
    type: raw
  wait:
    description:
      - Poll until every returned task is C(Finished) (C(OperationFinished) means the backup server is
        done but EM has not collected the data yet).
      - Fails with the last seen tasks when O(wait_timeout) is reached.
    type: bool
    default: false
  media_type:
    description:
      - Representation requested from EM. Both give identical results.
    type: str
    default: json
    choices: [json, xml]
seealso:
  - module: backupops.veeam_em.veeam_em_session
"""

EXAMPLES = r"""
- name: Log on once
  backupops.veeam_em.veeam_em_session:
    server: em.example.com
    username: 'EXAMPLE\svc-ansible'
    password: "{{ vault_em_password }}"
  register: em

- name: Start a job in that session
  ansible.builtin.uri:
    url: "https://em.example.com:9398/api/jobs/{{ job_guid }}?action=start"
    method: POST
    headers:
      X-RestSvcSessionId: "{{ em.session_id }}"
      Accept: application/json
    status_code: 202
    return_content: true
  register: started

- name: Wait for the task the start created
  backupops.veeam_em.veeam_em_task_info:
    server: em.example.com
    session_id: "{{ em.session_id }}"
    task_id: "{{ started.json.TaskId }}"
    wait: true
    wait_timeout: 600
  register: tasks

- name: Log off
  backupops.veeam_em.veeam_em_session:
    server: em.example.com
    session_id: "{{ em.session_id }}"
    state: absent
"""

RETURN = r"""
tasks:
  description: The tasks of the session that match, ordered by task id.
  returned: always
  type: list
  elements: dict
  contains:
    task_id:
      description: Task id.
      type: str
      sample: task-5
    href:
      description: URL of the task.
      type: str
      sample: https://em.example.com:9398/api/tasks/task-5
    state:
      description: C(Running), C(OperationFinished) or C(Finished).
      type: str
      sample: Finished
    operation:
      description: What the task does.
      type: str
      sample: StartJob
    result_success:
      description: Whether the operation succeeded; null while running.
      type: bool
      sample: true
    result_message:
      description: EM's result message, or null.
      type: str
      sample: Ok
    related:
      description: Objects the task affects (job sessions, jobs, ...), with their UID rebuilt from the link.
      type: list
      elements: dict
      sample: [{"type": "BackupJobSession", "name": null,
                "href": "https://em:9398/api/backupSessions/35c24055-bdee-4e43-b655-a42de408d2ec?format=Entity",
                "uid": "urn:veeam:BackupJobSession:35c24055-bdee-4e43-b655-a42de408d2ec"}]
    links:
      description: EM links of the task.
      type: list
      elements: dict
      sample: [{"rel": "Delete", "type": null, "href": "https://em:9398/api/tasks/task-5", "name": null}]
query:
  description: What was sent to EM for the last poll.
  returned: always
  type: dict
  sample: {"type": "Task", "filter": "TaskId==\"task-5\"", "sort": "sortAsc=TaskId", "page_size": 1000,
           "pages": 1, "requests": 1}
waited:
  description: Seconds spent waiting (0 without O(wait)).
  returned: always
  type: float
  sample: 12.5
"""

import time

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_actions, em_module, em_query, em_waiter
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError, EMTaskTimeout
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import TASK


def wait_for_tasks(client, module, filter_expr):
    """Poll the query until every task is Finished or the timeout passes; returns the result.
    On timeout raises ``EMTaskTimeout`` carrying the tasks last seen (em_module.fail returns them)."""
    params = module.params

    def read():
        return client.query(TASK, filter_expr, "TaskId", "asc", em_query.DEFAULT_PAGE_SIZE)

    def done(answer):
        return not params["wait"] or all(em_actions.task_finished(task) for task in answer[0])

    finished, (items, info), waited = em_waiter.wait_until(
        read, done, params["wait_timeout"], params["wait_interval"], sleep=time.sleep, clock=time.monotonic)
    result = {"tasks": items, "query": info.as_dict(), "waited": round(waited, 3)}
    if not finished:
        unfinished = [task["task_id"] for task in items if not em_actions.task_finished(task)]
        raise EMTaskTimeout("tasks %s not Finished after %s seconds" % (", ".join(unfinished), result["waited"]),
                            result=result)
    return result


def main():
    spec = em_query.filter_argument_spec(TASK)
    spec.update(
        wait=dict(type="bool", default=False),
        media_type=em_query.media_type_argument_spec(),
    )
    spec.update(em_module.wait_argument_spec())
    module = em_module.create_module(spec)
    try:
        em_module.check_wait(module.params)
        filter_expr = em_query.build_filter(TASK, module.params)
    except EMError as error:
        em_module.fail(module, error)
        return
    if not module.params.get("session_id"):
        module.warn("EM lists only tasks created in the current logon session; without session_id this "
                    "module logs on afresh and will normally find no tasks")
    result = em_module.run(module, lambda client: wait_for_tasks(client, module, filter_expr),
                           media_type=module.params["media_type"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
