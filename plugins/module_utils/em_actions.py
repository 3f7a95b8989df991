# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
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

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_filter_expr, em_parse, em_waiter
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMError, EMResponseError, EMTaskTimeout)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import TASK, TASK_FINISHED

JOB_ACTIONS = ("start", "stop", "retry")


def post_job_action(client, job_guid, action):
    """``POST /api/jobs/{guid}?action=<action>`` -> the normalised Task EM created."""
    if action not in JOB_ACTIONS:
        raise EMError("internal: unknown job action %r" % action)
    describe = "POST /api/jobs/{id}?action=%s" % action
    # client.post: never repeated after a transport error or a 5xx (a non-idempotent POST).
    document = client.post("/api/jobs/%s" % job_guid, [("action", action)], describe=describe)
    tasks = em_parse.normalise_document(document, TASK) if document is not None else []
    if not tasks:
        raise EMResponseError("EM accepted the action but returned no Task", request=describe)
    return tasks[0]


def task_filter(task_id):
    return em_filter_expr.comparison("TaskId", "==", task_id, "task_id")


def read_task(client, task_id):
    """The task as ``veeam_em_task_info`` reads it (query type=Task, TaskId filter); None if unlisted."""
    items, _info = client.query(TASK, task_filter(task_id), "TaskId", "asc", 100)
    return items[0] if items else None


def task_finished(task):
    return task["state"] == TASK_FINISHED


def wait_for_task(client, task, timeout, interval, sleep=None, clock=None):
    """Poll until the task is Finished; returns (task, waited seconds). Raises ``EMTaskTimeout``
    whose ``result["task"]`` is the task as last seen."""
    def read():
        latest = read_task(client, task["task_id"])
        if latest is None:
            raise EMResponseError("task %s is no longer listed in this logon session" % task["task_id"],
                                  request="GET /api/query (type=Task)")
        return latest

    finished, last, waited = em_waiter.wait_until(read, task_finished, timeout, interval, value=task,
                                                  sleep=sleep or time.sleep, clock=clock or time.monotonic)
    if not finished:
        raise EMTaskTimeout("task %s is still %s after %.1f seconds" % (last["task_id"], last["state"], waited),
                            result={"task": last},
                            hint="raise wait_timeout, or poll later with veeam_em_task_info and the same session_id")
    return last, round(waited, 3)
