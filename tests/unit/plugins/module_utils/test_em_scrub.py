"""The scrubber itself (em_module.scrub / error_message / warn_client), without AnsibleModule.

The module tests go through AnsibleModule, whose own no_log masking would hide a scrubber that
does nothing; these tests call the functions with a bare stand-in so that only our code masks.
"""
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_module

PASSWORD = "S3cret-Pa55!"
SESSION = "O9Msj3rq7EGUhtSMBQx+mw=="
TOKEN = "MTVhM2ZjOTctMDMyNS00MTE5LWI3ODktNWMwMzY3YzZjNTY1"


class StandIn:
    """Just what the scrubber reads: ``params``; ``warn`` records what would be shown."""

    def __init__(self, password=PASSWORD, session_id=None, username="EM\\svc"):
        self.params = {"username": username, "password": password, "session_id": session_id}
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


class ClientStandIn:
    def __init__(self, token=TOKEN, warnings=()):
        self.token = token
        self.warnings = list(warnings)


def test_scrub_masks_every_occurrence_of_the_password():
    text = "logon failed for EM\\svc:%s (password %s)" % (PASSWORD, PASSWORD)
    out = em_module.scrub(text, StandIn())
    assert PASSWORD not in out
    # "user:password" is itself a registered secret form (the Basic header's plain text), so the
    # account name goes with it.
    assert out == "logon failed for ******** (password ********)"


def test_scrub_masks_the_given_session_id():
    out = em_module.scrub("401 for session %s" % SESSION, StandIn(password=None, session_id=SESSION))
    assert out == "401 for session ********"


def test_scrub_accepts_exceptions_and_leaves_clean_text_alone():
    assert em_module.scrub(ValueError("plain message"), StandIn()) == "plain message"


def test_scrub_does_not_mask_a_trivially_short_secret_everywhere():
    # A one- or two-character password would turn every message into stars; it is left alone
    # (no_log still hides it from results).
    assert em_module.scrub("a b", StandIn(password="a")) == "a b"


def test_error_message_also_masks_the_clients_own_token():
    error = RuntimeError("GET /api/query failed; X-RestSvcSessionId: %s; pw %s" % (TOKEN, PASSWORD))
    out = em_module.error_message(StandIn(), error, ClientStandIn())
    assert TOKEN not in out and PASSWORD not in out
    assert out == "GET /api/query failed; X-RestSvcSessionId: ********; pw ********"


def test_warn_client_scrubs_each_warning():
    module = StandIn()
    em_module.warn_client(module, ClientStandIn(warnings=["retry 1 (pw %s)" % PASSWORD, "logoff failed"]))
    assert module.warnings == ["retry 1 (pw ********)", "logoff failed"]
