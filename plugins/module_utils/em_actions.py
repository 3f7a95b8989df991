# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Job actions (``POST /api/jobs/{id}?action=start|stop|retry``) and waiting for their Task.

EM answers an action with ``202 Accepted`` and a ``Task`` (em-api-facts.md 4/5.1); the task
belongs to the logon session that posted the action, so the polling below must use the same
client (same session). Polling reads ``query?type=Task&filter=TaskId=="task-N"`` exactly as
``veeam_em_task_info`` does (same TASK table, same normalisation).

Actions are never retried on transport errors or 5xx: a POST that timed out may have started
the job, and a second one would start it twice. A 401 on an owned session is safe to repeat
after a re-logon (EM refused the request before acting on it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client, em_filter, em_parse
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMError, EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import TASK

JOB_ACTIONS = ("start", "stop", "retry")
TASK_FINISHED = "Finished"


class EMTaskTimeout(EMError):
    """The task did not reach Finished within the wait timeout."""


def post_job_action(client, job_guid, action):
    """``POST /api/jobs/{guid}?action=<action>`` -> the normalised Task EM created."""
    if action not in JOB_ACTIONS:
        raise EMError("internal: unknown job action %r" % action)
    describe = "POST /api/jobs/{id}?action=%s" % action
    path = "/api/jobs/%s" % job_guid

    def send():
        # retry=False: never repeat a non-idempotent POST after a transport error or a 5xx.
        response = client._request("POST", path, [("action", action)], describe=describe, retry=False)
        return em_client._decode(response, describe) if response.content else None

    document = client._with_relogon(send, None)
    tasks = em_parse.normalise_document(document, TASK) if document is not None else []
    if not tasks:
        raise EMResponseError("EM accepted the action but returned no Task", request=describe)
    return tasks[0]


def task_filter(task_id):
    return em_filter.comparison("TaskId", "==", task_id, "task_id")


def read_task(client, task_id):
    """The task as ``veeam_em_task_info`` reads it (query type=Task, TaskId filter); None if unlisted."""
    items, _info = client.query(TASK, task_filter(task_id), "TaskId", "asc", 100)
    return items[0] if items else None


def wait_for_task(client, task, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Poll until the task is Finished; returns (task, waited seconds). Raises EMTaskTimeout."""
    started = clock()
    while task["state"] != TASK_FINISHED:
        waited = clock() - started
        if waited + interval > timeout:
            error = EMTaskTimeout("task %s is still %s after %.1f seconds" % (task["task_id"], task["state"], waited),
                                  hint="raise wait_timeout, or poll later with veeam_em_task_info and the same "
                                       "session_id")
            error.task = task
            raise error
        sleep(interval)
        latest = read_task(client, task["task_id"])
        if latest is None:
            raise EMResponseError("task %s is no longer listed in this logon session" % task["task_id"],
                                  request="GET /api/query (type=Task)")
        task = latest
    return task, round(clock() - started, 3)
