"""em_decode: bodies to the neutral tree (moved from test_em_parse and test_em_parse_versions with the code)."""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_decode
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><QueryResult>&lol;</QueryResult>',
    b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
    b'<?xml version="1.0"?><x><!ENTITY a "b"></x>',
])
def test_dtd_and_entities_are_refused(body):
    with pytest.raises(EMResponseError) as error:
        em_decode.decode(body)
    assert "DOCTYPE" in str(error.value)


@pytest.mark.parametrize("body", [b"", b"   ", b"<unclosed", b"{not json", b"plain text", b"\xef\xbb\xbf{bad"])
def test_unparsable_bodies_raise_response_error(body):
    with pytest.raises(EMResponseError):
        em_decode.decode(body)


@pytest.mark.parametrize("key, expected", [
    ("uid", "UID"), ("Uid", "UID"), ("UID", "UID"), ("creationTimeUTC", "CreationTimeUTC"),
    ("CreationTimeUtc", "CreationTimeUTC"), ("creationtimeutc", "CreationTimeUTC"), ("endTimeUtc", "EndTimeUTC"),
    ("pagesCount", "PagesCount"), ("nasJobs", "NASJobs"), ("enterpiseRoles", "EnterpiseRoles"),
    ("vmUid", "VmUid"), ("sessionId", "SessionId"), ("someNewField", "SomeNewField"), ("#text", "#text"),
])
def test_canonical_key(key, expected):
    assert em_decode.canonical_key(key) == expected
