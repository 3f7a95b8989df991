# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Typed errors of the EM client, the modules and the pure cores: every exception class of the
collection's module_utils lives here (this file imports nothing).

Each failure the client can meet has its own class so that callers (the module base, the
retry loop, the re-logon logic) decide by type instead of by parsing messages. They become
``fail_json`` in one place, ``em_module.fail``; an ``EMResultError`` hands its partial result
over there. Every error knows the request it belongs to (method, path, query type, never the
token or password) and EM's own ``Message``; ``str(error)`` is the one line a playbook user reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class EMError(Exception):
    """Base class: something went wrong talking to Enterprise Manager."""

    hint = None

    def __init__(self, message, request=None, status=None, em_message=None, hint=None):
        super(EMError, self).__init__(message)
        self.message = message
        self.request = request
        self.status = status
        self.em_message = em_message
        if hint:
            self.hint = hint

    def __str__(self):
        parts = []
        if self.request:
            parts.append("%s failed:" % self.request)
        parts.append(self.message)
        if self.em_message:
            parts.append("EM says: %s" % self.em_message)
        text = " ".join(parts)
        if self.hint:
            text = "%s (hint: %s)" % (text.rstrip("."), self.hint)
        return text


class EMValidationError(EMError):
    """A module option cannot be turned into a safe request; raised before anything is sent."""


class EMTransportError(EMError):
    """No usable HTTP answer: connection refused, DNS, TLS, timeout, body too large."""


class EMDeadlineError(EMError):
    """The module call's overall ``deadline`` passed; deliberately not a transport error, so never retried."""

    hint = "raise deadline (seconds for the whole module call), or find out why EM is this slow"


class EMTerminated(EMError):
    """The module process was told to stop (SIGTERM/SIGHUP); raised after the handler ran, to log off."""


class EMResponseError(EMError):
    """EM answered, but the body cannot be parsed or lacks what the protocol promises."""


class EMResultError(EMError):
    """An error that carries the partial result of the call (as kubernetes.core's ``ResourceTimeout``):
    ``em_module.fail`` returns ``result`` with the failure."""

    def __init__(self, message, result=None, **kwargs):
        super(EMResultError, self).__init__(message, **kwargs)
        self.result = dict(result or {})


class EMTaskTimeout(EMResultError):
    """A task did not reach Finished within ``wait_timeout``; ``result`` holds what was last seen."""


class EMTaskFailed(EMResultError):
    """A task finished without success; ``result`` holds the task and what was read after it."""


class InventoryReadError(EMError):
    """EM answered, but what it holds cannot make an honest inventory (nothing in the window)."""


class EMHTTPError(EMError):
    """EM answered with an error status; subclasses per status class."""


class EMBadRequestError(EMHTTPError):
    """400: EM rejected the request (bad filter, sort field, page size...)."""


class EMAuthError(EMHTTPError):
    """401: wrong credentials, or the session token expired (15 min idle) or was logged off."""

    hint = "check username and password (or that session_id is still valid; EM sessions expire after 15 minutes idle)"


class EMForbiddenError(EMHTTPError):
    """403: the account lacks the EM role for this resource."""

    hint = ("the account's EM role does not allow this; Portal Administrator is needed for jobs, "
            "Portal User can read task sessions and tasks")


class EMNotFoundError(EMHTTPError):
    """404: no such object (or not an EM endpoint at all)."""


class EMServerError(EMHTTPError):
    """5xx: EM failed internally or is overloaded."""


STATUS_ERRORS = {
    400: EMBadRequestError,
    401: EMAuthError,
    403: EMForbiddenError,
    404: EMNotFoundError,
}


def error_class_for_status(status):
    """Pick the typed error for an HTTP status (5xx -> EMServerError, other -> EMHTTPError)."""
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    if 500 <= status <= 599:
        return EMServerError
    return EMHTTPError


# ---- input errors of the pure cores (not EMError: nothing was asked of EM) ---------------------
# The compliance evaluation and the report rendering import nothing but this file, so a filter can
# raise them as Ansible errors too (plugins/filter: ComplianceFilterError, ReportFilterError).

class ComplianceInputError(ValueError):
    """Raised for invalid evaluation options (the filter turns it into a filter error)."""


class ReportInputError(ValueError):
    """Raised when the input is not a compliance result."""


class ReportWriteError(Exception):
    """A report could not be written (the message names the path and the reason)."""


class FleetInputError(ValueError):
    """A fleet part is not what the fleet playbook publishes; the message names the part and the key."""
