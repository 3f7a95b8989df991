"""Shared helpers of the reliability suite: the emulator account, direct client calls, playbook runs,
what the dataset says must come back, and the secret detectors.

Imported by the test modules as ``from reliability.support import ...`` (``tests/`` is on sys.path).
"""
import base64
import json
import os
import re
import subprocess
import sys

from collection_layout import REPO_ROOT, ansible_env

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    BACKUP_TASK_SESSION, REPLICA_TASK_SESSION)

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, "playbooks")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

# A password nobody else uses (so a grep hit is a real leak), with non-ASCII characters and
# characters that mean something to shells, URLs and Basic auth.
USERNAME = "emadmin"
PASSWORD = u"Rel!ab1e:S3cr3t-\u03a9m\u00e9ga;&%=\"q\""
FLEET = dict(vms=30, days=4, seed=21)

RESOURCES = {"Backup": BACKUP_TASK_SESSION, "Replica": REPLICA_TASK_SESSION}


def certifi_bundle():
    import certifi
    return certifi.where()


# ---- direct client calls ---------------------------------------------------------------------

def options(em, **overrides):
    settings = dict(server=em.base_url, username=em.username, password=em.password, ca_path=em.ca_file,
                    timeout=2.0, retries=3, retry_backoff=0.05)
    settings.update(overrides)
    return ConnectionOptions(**settings)


def query(em, kind="Backup", media="json", page_size=10, concurrency=4, sort_order="desc", filter_expr=None,
          sleeps=None, limit=None, **overrides):
    """One module-equivalent query through the real client: (items, info dict, warnings).

    Raises the client's EMError like the modules see it. ``sleeps`` (a list) records back-off
    waits instead of sleeping.
    """
    sleep = sleeps.append if sleeps is not None else None
    kwargs = {"media_type": media}
    if sleep is not None:
        kwargs["sleep"] = sleep
    client = EMClient(options(em, **overrides), **kwargs)
    try:
        with client:
            items, info = client.query(RESOURCES[kind], filter_expr, "CreationTime", sort_order, page_size,
                                       limit=limit, concurrency=concurrency)
    finally:
        query.last_client = client
    return items, dict(info.as_dict(), relogons=info.relogons), list(client.warnings)


query.last_client = None


def dataset_uids(dataset, kind="Backup"):
    """UIDs of the task sessions of ``kind`` that the dataset holds right now."""
    job_type = {job["id"]: job["type"] for job in dataset["jobs"]}
    session_job = {session["id"]: session["job_id"] for session in dataset["job_sessions"]}
    return ["urn:veeam:%sTaskSession:%s" % (kind, task["id"]) for task in dataset["task_sessions"]
            if job_type[session_job[task["job_session_id"]]] == kind]


def compare(expected_items, got_items):
    """(lost, duplicated, changed): items of ``expected`` missing, returned twice, or different."""
    expected = {item["uid"]: item for item in expected_items}
    counts = {}
    for item in got_items:
        counts[item["uid"]] = counts.get(item["uid"], 0) + 1
    lost = sorted(uid for uid in expected if uid not in counts)
    duplicated = sorted(uid for uid, count in counts.items() if count > 1)
    got = {item["uid"]: item for item in got_items}
    changed = sorted(uid for uid in expected if uid in got and got[uid] != expected[uid])
    return lost, duplicated, changed


def assert_every_fault_fired(state):
    """Each injected fault fired: a counted fault exactly ``count`` times, a forever fault at least once.

    ``state`` is ``em.faults_state()`` read BEFORE ``clear_faults()``. A fault mix whose faults did
    not all fire proves nothing about the faults that did not; returns {kind: fired} (kinds summed).
    """
    faults = state["faults"]
    assert faults, "no faults were set"
    fired = {}
    for fault in faults:
        if fault["remaining"] is None:  # a forever fault (count null/-1, or bom by default)
            assert fault["fired"] > 0, "fault never fired: %r" % (fault,)
        else:
            count = int(fault.get("count", 1))
            assert fault["fired"] == count and fault["remaining"] == 0, "fault fired %d of %d times: %r" % (
                fault["fired"], count, fault)
        fired[fault["kind"]] = fired.get(fault["kind"], 0) + fault["fired"]
    return fired


def expected_backoffs(faults):
    """How many back-off waits the client must make: one per fired transient failure (502/503/504,
    reset, truncated body, a delay longer than the client's timeout) of a retried request; the logon
    POST is never retried. ``faults`` as ``em.faults_state()["faults"]``."""
    waits = 0
    for fault in faults:
        transient = fault["kind"] in ("reset", "truncate", "delay") or (
            fault["kind"] == "status" and int(fault.get("status", 503)) in (502, 504, 503))
        if transient and not (fault.get("path") or "/api/").lower().startswith("/api/sessionmngr"):
            waits += fault["fired"]
    return waits


def assert_exactly_once(expected_uids, got_items, allowed_extra=()):
    """The multiset of returned UIDs is the expected set, each once (plus optional ``allowed_extra``, once)."""
    counts = {}
    for item in got_items:
        counts[item["uid"]] = counts.get(item["uid"], 0) + 1
    expected = set(expected_uids)
    lost = sorted(expected - set(counts))
    duplicated = sorted(uid for uid, count in counts.items() if count != 1)
    foreign = sorted(set(counts) - expected - set(allowed_extra))
    assert not lost and not duplicated and not foreign, "lost %s, duplicated %s, foreign %s" % (
        lost[:5], duplicated[:5], foreign[:5])


# ---- ansible-playbook ------------------------------------------------------------------------

def em_environment(em, tmp_path, **extra):
    """VEEAM_EM_* pointing at the emulator, and CA bundles in the environment that do NOT know the
    emulator's CA (as on our machines): only ca_path can make TLS work."""
    env = ansible_env()
    env.update({
        "VEEAM_EM_SERVER": em.base_url, "VEEAM_EM_USERNAME": em.username, "VEEAM_EM_PASSWORD": em.password,
        "VEEAM_EM_CA_PATH": em.ca_file, "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log"),
        "REQUESTS_CA_BUNDLE": certifi_bundle(), "CURL_CA_BUNDLE": certifi_bundle(),
    })
    for key in ("VEEAM_EM_SESSION_ID", "VEEAM_EM_PORT", "VEEAM_EM_VALIDATE_CERTS"):
        env.pop(key, None)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class PlaybookRun:
    def __init__(self, proc, results, log_text, out_path):
        self.proc = proc
        self.results = results
        self.log_text = log_text
        self.out_path = out_path

    @property
    def output(self):
        """Everything a user or a log collector could see: stdout, stderr and the Ansible log."""
        return self.proc.stdout + "\n" + self.proc.stderr + "\n" + self.log_text


def run_playbook(em, tmp_path, playbook, extra_vars=None, env=None, verbosity=0, playbook_path=None):
    out = tmp_path / ("%s.results.json" % playbook)
    variables = dict(extra_vars or {}, out=str(out), em_control=em.base_url, em_ca=em.ca_file)
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local",
               playbook_path or os.path.join(PLAYBOOKS, playbook + ".yml"), "-e", json.dumps(variables)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    proc = subprocess.run(command, env=em_environment(em, tmp_path, **(env or {})), capture_output=True,
                          text=True, timeout=300, cwd=str(tmp_path), check=False)
    results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    log_path = tmp_path / "ansible.log"
    log_text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    return PlaybookRun(proc, results, log_text, out)


def assert_no_traceback(text):
    for marker in ("Traceback (most recent call last)", "MODULE FAILURE", "An exception occurred during task execution"):
        assert marker not in text, "found %r in output:\n%s" % (marker, text[-4000:])


# ---- secrets ---------------------------------------------------------------------------------

GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
B64_RE = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def basic_auth_value(username, password):
    return base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")


def token_like(text):
    """Every base64 string in ``text`` that decodes to a GUID: what EM session tokens look like
    (em-api-facts.md 1.2; the emulator's tokens are exactly that). Catches tokens we never saw."""
    found = set()
    for candidate in B64_RE.findall(text):
        for cut in (candidate, candidate[:48]):
            try:
                decoded = base64.b64decode(cut + "=" * (-len(cut) % 4), validate=True).decode("ascii")
            except (ValueError, UnicodeDecodeError):
                continue
            if GUID_RE.fullmatch(decoded.strip()):
                found.add(cut)
    return found


def secret_hits(text, secrets, token_shaped=True):
    """{secret description: number of occurrences} for every secret found in ``text``."""
    hits = {}
    for name, value in secrets.items():
        if value and value in text:
            hits[name] = text.count(value)
    for token in (token_like(text) if token_shaped else ()):
        hits["token-shaped " + token[:6] + "..."] = text.count(token)
    return hits


def password_secrets(username, password):
    return {
        "password": password,
        "password (JSON-escaped)": json.dumps(password)[1:-1],
        "password (ASCII head)": password.split(u"\u03a9")[0] if len(password.split(u"\u03a9")[0]) >= 8 else None,
        "Basic auth header": basic_auth_value(username, password),
    }


def repo_path(*parts):
    return os.path.join(REPO_ROOT, *parts)
