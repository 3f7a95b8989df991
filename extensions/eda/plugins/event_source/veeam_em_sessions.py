# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""veeam_em_sessions - an ansible-rulebook event source: one event per finished Veeam session.

Polls Veeam Backup Enterprise Manager (EM) and puts one event on the queue for every backup or
replica task session (one VM in one job run) and every backup or replica job session that
finished since the last poll.

Arguments (connection arguments default to the VEEAM_EM_* environment variables the modules use):
    server, port (9398), username, password, validate_certs (true), ca_path, timeout (30),
    api_version (latest), retries (3), retry_backoff (1.0) - as the modules' connection options;
    deadline (1800) bounds each poll, compliance check and keep-alive (not the life of the source),
    and the logoff when the source stops has a budget of its own.
    interval: seconds between polls (default 60).
    lookback_minutes: on the first poll without a state file, report sessions that ended this many
        minutes ago or later (default 60).
    overlap_minutes: each poll asks again for sessions that ended this many minutes before the last
        successful poll (default 60), so that a session EM learns about late (EM collects from the
        backup servers periodically [INF]) or whose backup server's clock lags is not missed;
        sessions already reported are recognised by UID and not reported again.
    state_file: path of a JSON file with the last successful poll and the UIDs reported since;
        with it a restart neither repeats nor skips events. Without it a restart starts over with
        lookback_minutes.
    kinds: which of task_session and job_session to report (default both).
    include_replicas: also replica task and job sessions (default true).
    keepalive_seconds: when interval is longer, a request that keeps the logon session alive is
        sent this often (default 600; EM ends a logon session after 15 minutes without requests).
    page_size: items per query page (default 1000).
    compliance_interval: seconds between two compliance checks (default 0: none). A check reads
        and evaluates what the veeam_em_compliance_info module does (window and history, same
        rules) with the logon session the source keeps, and puts one ``compliance`` event on the
        queue for each VM that crossed its RPO since the last check (code rpo_exceeded or
        replica_rpo_exceeded), and one when it is back within it (code rpo_met). A VM whose
        backups stopped produces no session event at all: this is the event that catches it.
    compliance_policy: the policy of the checks, as the module's options (backup_rpo_hours,
        replica_rpo_hours, lookback_days, include_vms, ...); checked before any request.
    The numbers must be finite (nan and inf are refused); interval and compliance_interval at most
    a year (31536000), lookback_minutes and overlap_minutes at most ten years (5256000).

Each event is ``{"veeam_em": {...}}`` with: type (task_session or job_session), kind (backup or
replica), uid, name, state, result, reason (task sessions: EM's Reason; job sessions:
FailureMessage), vm_name and vm_uid (task sessions), job_name, job_uid, job_type, is_retry
(job sessions; for a Failed task session from its job session), job_session_uid (task sessions),
backup_server, backup_server_uid, creation_time, end_time (UTC ISO 8601). A ``compliance``
event has type compliance, code, kind (backup or replica), vm_name, vm_uid, backup_server,
backup_server_uid, status (the VM's status), message, last_success_time, last_success_age_hours
(hours) and rpo_hours. Events are put on the
queue in order of end time, oldest first (a task session before its job session at the same second).

How it reads: one logon kept for the life of the source (logged off when it stops); each poll is
one query per resource with the server-side filter ``EndTime>=<last poll - overlap>`` (a running
session's end time is not documented [UNCONFIRMED]: only sessions EM reports as finished -
State Completed for task sessions, Stopped for job sessions - become events, a running one is
reported once it finishes). An expired logon (401) is logged on again by the client. A poll that
fails is logged (without password or token) and retried after ``interval``; the window start only
moves after every event of a poll is on the queue, so nothing is lost. The state file is written
(atomically) after every event put on the queue, so a restart does not repeat events that were
delivered; a crash between putting an event and writing the file (one write) repeats that one.

Example:
    sources:
      - backupops.veeam_em.veeam_em_sessions:
          interval: 120
          state_file: /var/lib/eda/veeam_em_sessions.json
"""

from __future__ import absolute_import, division, print_function

import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

try:
    from ansible_collections.backupops.veeam_em.plugins.module_utils import (  # noqa: F401
        em_client)
except ImportError:  # ansible-rulebook loads this file by path: make its collection importable
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 7))))

from ansible_collections.backupops.veeam_em.plugins.module_utils import (  # noqa: E402
    em_client, em_compliance, em_compliance_read, em_filter_expr, em_inventory, em_module, em_query, em_resources,
    em_secrets, em_values)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (  # noqa: E402
    EMError, EMValidationError)

LOGGER = logging.getLogger(__name__)

TASK_SESSION = "task_session"
JOB_SESSION = "job_session"
# (event type, kind, resource, the state EM gives a finished session)
SOURCES = (
    (TASK_SESSION, "backup", em_resources.BACKUP_TASK_SESSION, em_compliance.STATE_COMPLETED),
    (TASK_SESSION, "replica", em_resources.REPLICA_TASK_SESSION, em_compliance.STATE_COMPLETED),
    (JOB_SESSION, "backup", em_resources.BACKUP_JOB_SESSION, "Stopped"),
    (JOB_SESSION, "replica", em_resources.REPLICA_JOB_SESSION, "Stopped"),
)
JOB_SESSION_OF = {"backup": em_resources.BACKUP_JOB_SESSION, "replica": em_resources.REPLICA_JOB_SESSION}
# The largest durations taken (a year of seconds, ten years of minutes): larger ones overflow a date
# or the event loop's timer, and mean "never" - which is not a setting of a poller.
MAXIMA = {"interval": 31536000, "compliance_interval": 31536000, "lookback_minutes": 5256000,
          "overlap_minutes": 5256000}
DEFAULTS = {"interval": 60, "lookback_minutes": 60, "overlap_minutes": 60, "state_file": None,
            "kinds": [TASK_SESSION, JOB_SESSION], "include_replicas": True, "keepalive_seconds": 600,
            "page_size": 1000, "compliance_interval": 0, "compliance_policy": None}
COMPLIANCE = "compliance"
RPO_MET = "rpo_met"
# The RPO reason code of each kind a compliance event is about.
RPO_CODES = {em_compliance.RPO_EXCEEDED: "backup", em_compliance.REPLICA_RPO_EXCEEDED: "replica"}
STATE_FORMAT = "backupops.veeam_em.veeam_em_sessions/1"


def utc_text(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Params(object):
    """What em_module.connection_options needs (``params``, ``warn``): one validation of the
    connection options and one set of VEEAM_EM_* defaults for modules, inventory and this source."""

    def __init__(self, args):
        self.params = {}
        # the arguments written in the rulebook: they beat an environment session (em_module._task_args)
        self.written_args = dict((key, value) for key, value in args.items() if value is not None)
        for key, spec in em_module.connection_argument_spec().items():
            value = args.get(key)
            if value is None and spec.get("fallback"):
                value = next((os.environ[name] for name in spec["fallback"][1] if name in os.environ), None)
            if value is None:
                value = spec.get("default")
            self.params[key] = _convert(key, value, spec.get("type"))

    @staticmethod
    def warn(message):
        LOGGER.warning(message)


def _convert(key, value, kind):
    if value is None:
        return None
    try:
        if kind == "bool" and not isinstance(value, bool):
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return text in ("1", "true", "yes", "on")
        if kind == "int":
            return int(value)
        if kind == "float":
            # nan passed every "< 0" check (asyncio.sleep(nan) and timedelta(minutes=nan) then raised, and
            # a compliance_interval of nan never ran a check); inf slept for ever or overflowed a date
            number = em_values.finite_number(value)
            if number is None:
                raise ValueError(value)
            if number > MAXIMA.get(key, number):
                raise EMValidationError("argument %s: %r must be at most %d" % (key, value, MAXIMA[key]))
            return number
    except (TypeError, ValueError):
        raise EMValidationError("argument %s: %r is not a valid %s" % (key, value, kind))
    return value


def check_args(args):
    """The source's own arguments with defaults, checked before any request."""
    # ansible-rulebook adds arguments of its own (eda_feedback_queue): not the user's typos.
    unknown = sorted(key for key in set(args) - set(DEFAULTS) - set(em_module.CONNECTION_OPTIONS)
                     if not key.startswith("eda_"))
    if unknown:
        raise EMValidationError("unknown argument(s): %s" % ", ".join(unknown))
    options = dict(DEFAULTS)
    options.update(dict((key, value) for key, value in args.items() if key in DEFAULTS and value is not None))
    for key in ("interval", "lookback_minutes", "overlap_minutes", "keepalive_seconds", "page_size"):
        options[key] = _convert(key, options[key], "float" if key != "page_size" else "int")
        if options[key] < 0 or (key in ("interval", "keepalive_seconds", "page_size") and options[key] <= 0):
            raise EMValidationError("argument %s: %r must be greater than 0" % (key, options[key]))
    if options["keepalive_seconds"] >= 900:
        raise EMValidationError("argument keepalive_seconds: %r must be under 900 (EM's idle limit)"
                                % options["keepalive_seconds"])
    kinds = options["kinds"] if isinstance(options["kinds"], list) else [options["kinds"]]
    if not kinds or any(kind not in (TASK_SESSION, JOB_SESSION) for kind in kinds):
        raise EMValidationError("argument kinds: %r must be a list of task_session and job_session" % kinds)
    options["kinds"] = kinds
    options["include_replicas"] = _convert("include_replicas", options["include_replicas"], "bool")
    options["compliance_interval"] = _convert("compliance_interval", options["compliance_interval"], "float")
    if options["compliance_interval"] < 0:
        raise EMValidationError("argument compliance_interval: %r must be 0 (no checks) or more"
                                % options["compliance_interval"])
    options["compliance_params"] = compliance_params(options["compliance_policy"], options["page_size"])
    return options


def compliance_params(policy, page_size):
    """The compliance reader's parameters for ``compliance_policy``, checked before any request."""
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise EMValidationError("argument compliance_policy: %r must be a mapping of the compliance options" % (policy,))
    known = set(em_compliance_read.argument_spec())
    unknown = sorted(key for key in policy if key not in known or key == "now")
    if unknown:
        raise EMValidationError("argument compliance_policy: unknown option(s) %s" % ", ".join(unknown))
    params = em_inventory.read_params(dict(policy, page_size=page_size))
    try:
        em_inventory.validate(params)
    except em_compliance.ComplianceInputError as error:
        raise EMValidationError("argument compliance_policy: %s" % error)
    return params


class State(object):
    """The last successful poll and the UIDs reported since, kept in a JSON file when one is given."""

    def __init__(self, path):
        self.path = path
        self.since = None
        self.reported = {}  # reported_key -> end time text (to drop it once it cannot match the window any more)
        self.rpo_exceeded = {}  # "server|vm|code" -> the compliance event body that said so
        if path and os.path.exists(path):
            self._load()

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                doc = json.load(handle)
            if doc.get("format") != STATE_FORMAT:
                raise ValueError("format is %r, not %r" % (doc.get("format"), STATE_FORMAT))
            self.since = em_compliance.parse_time(doc["since"]) if doc.get("since") else None
            self.reported = dict(doc.get("reported") or {})
            self.rpo_exceeded = dict(doc.get("rpo_exceeded") or {})  # absent in files of earlier releases
        except (OSError, ValueError, KeyError, TypeError, em_compliance.ComplianceInputError) as error:
            # Refuse to start rather than start over: starting over would repeat or skip events.
            raise EMValidationError("argument state_file: %s cannot be read (%s); fix or remove it" % (self.path, error))

    def save(self):
        if not self.path:
            return
        doc = {"format": STATE_FORMAT, "since": utc_text(self.since) if self.since else None,
               "reported": self.reported, "rpo_exceeded": self.rpo_exceeded}
        directory = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(prefix=".veeam_em_sessions.", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(doc, stream, sort_keys=True)
            os.replace(temporary, self.path)  # readers see the old file or the new one, never a part
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def prune(self, window_start):
        """Forget UIDs whose end time is before the window: EM's filter cannot return them again."""
        for uid, end in list(self.reported.items()):
            try:
                ended = em_compliance.parse_time(end)
            except (ValueError, em_compliance.ComplianceInputError):
                ended = None
            if ended is not None and ended < window_start:
                del self.reported[uid]


def reported_key(body):
    """What identifies a reported session in State.reported: its UID; for a session EM sent without one
    (the modules return such items, issue 13) the fields that tell it apart - type, kind, backup server,
    job, name, creation and end time. Keyed by the UID alone, every such session after the first
    was None, "already reported", and never an event (attack, session 15)."""
    if body.get("uid"):
        return str(body["uid"])
    return "no-uid|" + "|".join(str(body.get(part) or "") for part in (
        "type", "kind", "backup_server", "job_name", "name", "creation_time", "end_time"))


def event_of(event_type, kind, item):
    """One event of one finished session (the keys of the module docstring)."""
    body = {
        "type": event_type, "kind": kind, "uid": item.get("uid"), "name": item.get("name"),
        "state": item.get("state"), "result": item.get("result"),
        "job_name": item.get("job_name"), "backup_server": item.get("backup_server_name"),
        "backup_server_uid": item.get("backup_server_uid"),
        "creation_time": item.get("creation_time"), "end_time": item.get("end_time"),
    }
    if event_type == TASK_SESSION:
        body.update(reason=item.get("reason"), vm_name=item.get("vm_display_name"), vm_uid=item.get("vm_uid"),
                    job_session_uid=item.get("job_session_uid"), job_uid=None, job_type=None, is_retry=None)
    else:
        body.update(reason=item.get("failure_message"), vm_name=None, vm_uid=None, job_session_uid=item.get("uid"),
                    job_uid=item.get("job_uid"), job_type=item.get("job_type"), is_retry=item.get("is_retry"))
    return {"veeam_em": body}


class Poller(object):
    """The synchronous part (EM client, state): run in a worker thread by main()."""

    def __init__(self, args, session=None, clock=None):
        self.options = check_args(args)
        self.params = _Params(args)
        self.connection = em_module.connection_options(self.params)
        self.state = State(self.options["state_file"])
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.client = em_client.EMClient(self.connection, session=session)
        self.last_request = None
        self.last_check = None  # time.monotonic() of the last compliance check

    def scrub(self, error):
        return em_module.error_message(self.params, error, self.client)

    def sources(self):
        return [source for source in SOURCES if source[0] in self.options["kinds"]
                and (self.options["include_replicas"] or source[1] != "replica")]

    def window_start(self):
        if self.state.since is None:
            return self.clock() - timedelta(minutes=self.options["lookback_minutes"])
        return self.state.since - timedelta(minutes=self.options["overlap_minutes"])

    def poll(self):
        """One poll: (events not reported yet, oldest end first; the time the poll started)."""
        started = self.clock()
        start = self.window_start()
        self.client.restart_deadline()
        if not self.client.token:
            self.client.logon()
        events, job_sessions = [], {}
        for event_type, kind, resource, finished_state in self.sources():
            query_filter = em_query.build_filter(resource, {"ended_after": utc_text(start)})
            items, _info = self.client.query(resource, query_filter, em_query.sort_field(resource, "creation_time"),
                                             "asc", self.options["page_size"], concurrency=1)
            for item in items:
                if event_type == JOB_SESSION and item.get("uid"):
                    job_sessions[str(item["uid"]).lower()] = item
                if item.get("state") != finished_state:
                    continue
                event = event_of(event_type, kind, item)
                if reported_key(event["veeam_em"]) not in self.state.reported:
                    events.append(event)
        for event in events:
            self._add_job_session(event["veeam_em"], job_sessions)
        self.last_request = time.monotonic()
        events.sort(key=_event_order)
        return events, started

    def _add_job_session(self, body, job_sessions):
        """A task session's job type and retry flag, from its job session: read in this poll, else
        (only for a Failed one, which rules act on) one GET of that job session."""
        if body["type"] != TASK_SESSION or not body["job_session_uid"]:
            return
        job = job_sessions.get(str(body["job_session_uid"]).lower())
        if job is None and body["result"] == em_compliance.RESULT_FAILED:
            resource = JOB_SESSION_OF[body["kind"]]
            found = self.client.get_entity(resource, em_filter_expr.bare_guid(
                body["job_session_uid"], resource.query_type, "job_session_uid"))
            job = found[0] if found else None
            if job is not None:
                job_sessions[str(body["job_session_uid"]).lower()] = job
        if job is not None:
            body.update(job_uid=job.get("job_uid"), job_type=job.get("job_type"), is_retry=job.get("is_retry"))

    def compliance_due(self):
        interval = self.options["compliance_interval"]
        return bool(interval) and (self.last_check is None or time.monotonic() - self.last_check >= interval)

    def check_compliance(self):
        """One compliance check: (events of the VMs that crossed their RPO or came back within it).

        A failed read raises (EMError): an RPO verdict from part of EM would announce false
        crossings. The state is only changed by compliance_reported, once the events are queued.
        """
        params = self.options["compliance_params"]
        now = self.clock().replace(microsecond=0)
        self.client.restart_deadline()
        if not self.client.token:
            self.client.logon()
        start = em_compliance.window_start(now, params["lookback_days"])
        fold = em_compliance_read.new_fold(params, now)
        items, _queries, error = em_compliance_read.run_reads(
            self.client, em_compliance_read.planned_reads(params), now, start, False,
            params["page_size"], params["concurrency"], fold)
        self.last_request = time.monotonic()
        if error is not None:
            raise error
        evaluation = em_compliance_read.judge_read(params, fold, items, [])
        self.last_check = time.monotonic()
        return rpo_events(evaluation, self.state.rpo_exceeded)

    def compliance_reported(self, event):
        body = event["veeam_em"]
        key = rpo_key(body)
        if body["code"] == RPO_MET:
            self.state.rpo_exceeded.pop(key, None)
        else:
            self.state.rpo_exceeded[key] = body
        self.state.save()

    def reported(self, event):
        """An event is on the queue: remember it (and write the state file) before the next one."""
        body = event["veeam_em"]
        self.state.reported[reported_key(body)] = body["end_time"]
        self.state.save()

    def advance(self, started):
        """Every event of the poll that started at ``started`` is on the queue: move the window."""
        self.state.since = started
        self.state.prune(self.window_start())
        self.state.save()

    def keepalive(self):
        """One cheap authenticated request so that EM does not end the logon session while idle."""
        if self.client.token and self.client.owns_session:
            self.client.restart_deadline()
            try:
                self.client.get("/api/logonSessions", None, describe="GET /api/logonSessions (keep-alive)")
            except EMError as error:  # an expired session is logged on again by the next poll
                LOGGER.info("veeam_em_sessions: keep-alive failed: %s", self.scrub(error))
            self.last_request = time.monotonic()

    def close(self):
        """Log off through close_session, which gives the logoff a budget of its own: the deadline of the
        last poll may have run out long ago (a direct logoff() then failed and left the session open on EM)."""
        try:
            if self.client.owns_session:
                self.client.close_session()  # never raises an EMError: a failure is one of the client's warnings
        finally:
            for warning in self.client.warnings:
                LOGGER.warning("veeam_em_sessions: %s", self.scrub(warning))
            del self.client.warnings[:]
            self.client.close()


def rpo_key(body):
    """One VM and kind: backup server, VM (UID, else name) and kind, case-insensitive."""
    return "|".join(str(part or "").lower() for part in (
        body.get("backup_server_uid") or body.get("backup_server"), body.get("vm_uid") or body.get("vm_name"),
        body.get("kind")))


def rpo_events(evaluation, known):
    """Compliance events: each VM and kind over its RPO that ``known`` does not hold yet, and
    each one ``known`` holds that is within it again (rpo_met)."""
    events, current = [], set()
    for row in evaluation["vms"]:
        for item in row["findings"]:
            kind = RPO_CODES.get(item["code"])
            if kind is None:
                continue
            summary = row.get(kind) or {}
            body = {"type": COMPLIANCE, "code": item["code"], "kind": kind, "vm_name": row.get("vm_display_name"),
                    "vm_uid": row.get("vm_uid"), "backup_server": row.get("backup_server_name"),
                    "backup_server_uid": row.get("backup_server_uid"), "status": row["status"],
                    "message": item["message"], "last_success_time": summary.get("last_success_time"),
                    "last_success_age_hours": summary.get("last_success_age_hours"),
                    "rpo_hours": evaluation["policy"]["%s_rpo_hours" % kind]}
            current.add(rpo_key(body))
            if rpo_key(body) not in known:
                events.append({"veeam_em": body})
    for key, body in sorted(known.items()):
        if key not in current:
            events.append({"veeam_em": dict(body, code=RPO_MET, status=None,
                                            message="%s of %s is within its RPO again" % (body["kind"], body["vm_name"]))})
    return events


def _event_order(event):
    """Oldest end first; at the same second a task session before the job session it belongs to."""
    body = event["veeam_em"]
    return _sort_time(body["end_time"]), body["type"] != TASK_SESSION, body["uid"] or ""


def _sort_time(text):
    try:
        moment = em_compliance.parse_time(text)
    except (ValueError, em_compliance.ComplianceInputError):
        moment = None
    return moment or datetime.max.replace(tzinfo=timezone.utc)


async def _wait(poller, seconds):
    """Sleep until the next poll, keeping the logon session alive meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        keepalive = poller.options["keepalive_seconds"]
        since_request = time.monotonic() - (poller.last_request or time.monotonic())
        if since_request >= keepalive:
            await asyncio.to_thread(poller.keepalive)
            continue
        await asyncio.sleep(min(left, keepalive - since_request))


async def _put(queue, event):
    """An event on the queue through the one scrubber: EM's text in it (a reason, a name) goes to rulebooks,
    their logs and playbooks with no no_log masking on the way. The poller keeps the event as EM sent it, so
    that its reported key does not change with the secrets registered."""
    await queue.put(em_secrets.scrub_data(event))


async def _check_compliance(queue, poller):
    """A compliance check when one is due; a failed one is logged and tried again at the next poll."""
    if not poller.compliance_due():
        return
    try:
        events = await asyncio.to_thread(poller.check_compliance)
    except EMError as error:
        LOGGER.warning("veeam_em_sessions: compliance check failed, retrying at the next poll: %s",
                       poller.scrub(error))
        return
    for event in events:
        await _put(queue, event)
        poller.compliance_reported(event)


async def run(queue, poller, polls=None):
    """The poll loop (``polls``: stop after that many polls, for tests)."""
    done = 0
    try:
        while polls is None or done < polls:
            done += 1
            try:
                events, started = await asyncio.to_thread(poller.poll)
            except EMError as error:
                # Nothing is lost: the window does not move, the next poll asks for it again.
                LOGGER.warning("veeam_em_sessions: poll failed, retrying in %ss: %s",
                               poller.options["interval"], poller.scrub(error))
            else:
                for event in events:
                    await _put(queue, event)
                    poller.reported(event)
                poller.advance(started)
            await _check_compliance(queue, poller)
            if polls is None or done < polls:
                await _wait(poller, poller.options["interval"])
    finally:
        await asyncio.to_thread(poller.close)


async def main(queue, args):
    """ansible-rulebook's entry point: poll EM until cancelled."""
    poller = Poller(args or {})
    await run(queue, poller)


if __name__ == "__main__":

    class _PrintQueue(object):
        async def put(self, event):
            print(json.dumps(event))

    asyncio.run(main(_PrintQueue(), {}))
