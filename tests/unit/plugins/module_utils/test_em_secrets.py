"""em_secrets: one registry, every form of every secret, one scrubber; and to_int's number bounds."""
import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_secrets
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_parse import to_int

PASSWORD = u"Un1t-\u03a9&<x>\"y\"/+="
SESSION_ID = "0f4c8c1e-52a9-4b3e-9c55-7d2d1e9a6b10"
TOKEN = base64.b64encode(SESSION_ID.encode()).decode()


def test_credentials_register_every_form_and_return_the_header():
    header = em_secrets.register_credentials("unit-user", PASSWORD)
    basic = base64.b64encode((u"unit-user:" + PASSWORD).encode("utf-8")).decode()
    assert header == "Basic " + basic
    forms = [PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), json.dumps(PASSWORD)[1:-1],
             json.dumps(PASSWORD, ensure_ascii=False)[1:-1], html.escape(PASSWORD), basic, quote(basic, safe="")]
    for form in forms:
        assert em_secrets.scrub("<<%s>>" % form) == "<<********>>", form


def test_token_and_session_id_register_each_other():
    em_secrets.register_token(TOKEN)
    for form in (TOKEN, SESSION_ID, SESSION_ID.upper(), quote(TOKEN, safe="")):
        assert em_secrets.scrub("x %s y" % form) == "x ******** y", form


def test_session_id_registers_its_token():
    session_id = "7a1d2c3b-0000-4444-8888-123456789abc"
    em_secrets.register_session_id(session_id)
    token = base64.b64encode(session_id.encode()).decode()
    assert em_secrets.scrub(token) == "********"


def test_attached_no_log_sets_get_past_and_future_forms():
    em_secrets.register(PASSWORD)  # a past form, whichever tests ran before in this worker (pytest-xdist)
    sink = set()
    em_secrets.attach(sink)
    try:
        assert PASSWORD in sink or not em_secrets.registered_count()
        em_secrets.register("a-later-secret")
        assert "a-later-secret" in sink
    finally:
        em_secrets.detach(sink)


def test_short_values_and_none_are_not_registered():
    before = em_secrets.registered_count()
    em_secrets.register(None)
    em_secrets.register("abc")
    assert em_secrets.registered_count() == before
    assert em_secrets.scrub(None) is None
    assert em_secrets.scrub("abc") == "abc"


def test_scrub_data_walks_nested_values():
    em_secrets.register("nested-secret-1")
    data = {"a": ["x nested-secret-1", {"b": "NESTED-SECRET-1"}], "n": 3}
    assert em_secrets.scrub_data(data) == {"a": ["x ********", {"b": "********"}], "n": 3}


@pytest.mark.parametrize("value, expected", [("12", 12), ("12.0", 12), (" 7 ", 7), (3.0, 3), ("abc", None), ("", None),
                                             (None, None), ("x" * 60, None), (str(2 ** 62), 2 ** 62)])
def test_to_int_keeps_ordinary_values(value, expected):
    assert to_int(value) == expected


@pytest.mark.parametrize("value, message", [
    ("Infinity", "not a finite number"), ("-Infinity", "not a finite number"), ("NaN", "not a finite number"),
    ("1e999", "not a finite number"), ("1e999999", "not a finite number"), (float("inf"), "not a finite number"),
    ("9" * 5000, "(5000 characters)"), ("-1e30", "beyond what EM can send"), (2 ** 70, "beyond what EM can send"),
])
def test_to_int_refuses_impossible_numbers(value, message):
    with pytest.raises(EMResponseError) as raised:
        to_int(value)
    assert message in str(raised.value)


# ---- letter case: every form in any case; weak ones (ordinary words) as whole words only ------------

@pytest.fixture
def own_registry(monkeypatch):
    """A registry of this test's own: a weak secret must not mask words in the tests that run after it."""
    for name, value in (("_FORMS", set()), ("_PATTERN", [None]), ("_WEAK_PATTERN", [None]), ("_LOWERED", []),
                        ("_WEAK", []), ("_SINKS", [])):
        monkeypatch.setattr(em_secrets, name, value, raising=False)


def test_a_weak_secret_is_masked_in_any_case_as_a_whole_word_only(own_registry):
    """A password that is an ordinary word ("backup") masked inside words turned every report key
    "backup_server_name" into stars; it is masked only where it stands as a word, but in any case: an
    echo upper-cased ("PW=BACKUP") is still the password."""
    em_secrets.register("backup")
    text = "backup failed; Backup Job 1; BACKUP; backups; backup_server_name; pw=backup"
    assert em_secrets.scrub(text) == "******** failed; ******** Job 1; ********; backups; backup_server_name; pw=********"
    assert em_secrets.scrub_data({"backup_rpo_hours": "x backup"}) == {"backup_rpo_hours": "x ********"}
    assert em_secrets.scrub('{"backup": "backup", "pw": "x\\"backup\\": y"}') == '{"backup": "********", "pw": "x\\"********\\": y"}'


def test_case_variants_are_the_other_cases_as_they_occur(own_registry):
    """What EMModule adds to ansible-core's exact-case no_log set: a value's other cases as they occur, a weak
    value's as whole words only (so that the result is masked as em_secrets.scrub masks)."""
    values = {"Pa55-w0rd!", "backup", "MTVhM2ZjOTc="}
    texts = ["INVALID CREDENTIALS PA55-W0RD! and pa55-W0RD!", "BACKUP Backup backup BACKUPS", "mtvhm2zjotc=",
             "Pa55-w0rd!"]
    assert em_secrets.case_variants(values, texts) == {"PA55-W0RD!", "pa55-W0RD!", "mtvhm2zjotc=", "BACKUP", "Backup"}
    assert em_secrets.case_variants(values, ["nothing here"]) == set()
