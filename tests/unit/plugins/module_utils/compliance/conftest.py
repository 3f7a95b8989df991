"""Hand-made task sessions for the compliance filter tests.

The factory builds items with exactly the keys of docs/CONTRACTS.md section 2, so the tests
exercise the same shape the info modules return.
"""
import itertools
from datetime import datetime, timedelta, timezone

import pytest

_COUNTER = itertools.count(1)


def plus_minutes(iso, minutes):
    """iso + minutes, as a UTC 'Z' string."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(minutes=minutes)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_session(vm="vm01", created="2025-06-05T01:00:00Z", end="default", result="Success",
                  state="Completed", server="vbr01.example.com", server_uid="default", vm_uid=None,
                  job="Backup Job 1", kind="backup", reason="", **extra):
    """A normalised BackupTaskSession (kind='backup') or ReplicaTaskSession (kind='replica').

    end='default' means ten minutes after creation for finished sessions and None for running
    ones; pass end=None explicitly to model EM omitting EndTime.
    """
    number = next(_COUNTER)
    guid = "00000000-0000-0000-0000-%012d" % number
    if end == "default":
        end = None if state in ("InProgress", "Pending") else plus_minutes(created, 10)
    if server_uid == "default":
        server_uid = "urn:veeam:BackupServer:%s" % server if server else None
    prefix = "BackupTaskSession" if kind == "backup" else "ReplicaTaskSession"
    item = {
        "uid": "urn:veeam:%s:%s" % (prefix, guid),
        "id": guid,
        "name": "%s@%s" % (vm, created),
        "vm_display_name": vm,
        "vm_uid": vm_uid if kind == "backup" else None,
        "job_session_uid": "urn:veeam:BackupJobSession:%s" % guid,
        "job_session_id": guid,
        "job_session_name": "%s@%s" % (job, created),
        "job_name": job,
        "backup_server_uid": server_uid,
        "backup_server_name": server,
        "creation_time": created,
        "end_time": end,
        "state": state,
        "result": result,
        "reason": reason,
        "total_size": 1024,
        "links": [],
    }
    if kind == "backup":
        item["restore_point_uid"] = "urn:veeam:VmRestorePoint:%s" % guid if result else None
    else:
        item["replica_point_uid"] = "urn:veeam:VmReplicaPoint:%s" % guid if result else None
    item.update(extra)
    return item


@pytest.fixture
def session():
    """Factory fixture: session(vm=..., created=..., result=...)."""
    return build_session


@pytest.fixture
def pages_as_given(monkeypatch):
    """The fake EM's pages folded as given (no em_parse normalising): the attack tests' items are already
    normalised sessions."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_compliance_read
    monkeypatch.setattr(em_compliance_read.em_parse, "normalise_document", lambda document, resource: document)


def moment(iso, **delta):
    """The datetime of an ISO time plus a timedelta's keywords (days=-4, hours=2)."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils import em_time
    return em_time.parse_iso(iso) + timedelta(**delta)


def history_items(fold):
    """The history a fold keeps (before settle) as (kind, dict) pairs: a VM's session as as_session makes it, one
    without a VM identity as the item read (what the history cache's lines stand for)."""
    from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance import fold as fold_module

    for _created, kept in fold.history.values():
        if isinstance(kept, tuple) and len(kept) == 2:
            yield kept[1], kept[0]
        else:
            record = fold._packer.unpack(kept)  # pylint: disable=protected-access
            kind = fold_module.base_kind(record)
            yield kind, fold_module.as_session(record, kind)
