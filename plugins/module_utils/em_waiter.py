# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The one poller (the shape of kubernetes.core ``k8s/waiter.py``): read, test, sleep, until done or
out of time. Both waits of the collection use it: one task after a job action (``em_actions``) and
every listed task (``veeam_em_task_info``). It never fails by itself: it answers
``(satisfied, value, waited)`` and the caller raises its own typed error with what was last seen.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

_UNREAD = object()


def wait_until(read, done, timeout, interval, value=_UNREAD, sleep=None, clock=None):
    """Poll ``read()`` every ``interval`` seconds until ``done(value)``; -> (satisfied, value, waited).

    ``value``: what is already known (read first when not given). No sleep that would end past
    ``timeout``: the last read happens before it. ``sleep``/``clock`` default to ``time.sleep`` and
    ``time.monotonic``, looked up at call time (tests replace them).
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    started = clock()
    if value is _UNREAD:
        value = read()
    while True:
        waited = clock() - started
        if done(value):
            return True, value, waited
        if waited + interval > timeout:
            return False, value, waited
        sleep(interval)
        value = read()
