"""em_http: the wire-level helpers of the EM transport, each against its own contract.

``retry_after_seconds`` (RFC 9110 10.2.3: delta-seconds or an HTTP-date), ``decode_response``
(depth check, errors naming the request), ``read_chunks`` (bounded reads, urllib3 errors as
requests' own) and ``short_error``. The body cap itself is ``EMClient``'s; it is driven here
through the fake EM with a real urllib3 body (a gzip bomb), since bounded chunks are what make
the cap hold before the whole body is inflated.
"""
import email.utils
import gzip
import io
import time

import pytest
import requests
import urllib3

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_bounds, em_http
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMResponseError, EMTransportError)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_http import (
    decode_response, read_chunks, retry_after_seconds, short_error)
from unit.plugins.module_utils.em_fake import (
    FakeEM, Reply, paged_handler, query_result_json, synthetic_task_session)
from unit.plugins.module_utils.test_em_client import make_client, run_query

NOW = 1750000000.0  # 2025-06-15T15:06:40Z, a fixed clock for the HTTP-date cases


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(em_http.time, "time", lambda: NOW)
    return NOW


def http_date(timestamp):
    return email.utils.formatdate(timestamp, usegmt=True)  # IMF-fixdate: "Sun, 15 Jun 2025 15:06:40 GMT"


def response(body, status=200):
    reply = requests.Response()
    reply.status_code = status
    reply._content = body
    return reply


# ---- retry_after_seconds --------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("7", 7.0), ("0", 0.0), (" 120 ", 120.0), ("86400", 86400.0),
    ("99999999999", 99999999999.0),  # huge but readable: the client caps it (MAX_RETRY_AFTER)
])
def test_retry_after_delta_seconds(value, expected):
    assert retry_after_seconds(value) == expected


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "-5", "-0", "1.5", "7s", "0x10", "inf", "nan",
                                   "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT",
                                   # digits to str.isdigit() but not to float(): Latin-1 header bytes
                                   "\u00b2", "1\u00b3", "\u00b9\u00b2\u00b3"])
def test_retry_after_garbage_and_negative_values_are_unreadable(value):
    """None (the client falls back to its own back-off), never an exception out of the retry loop."""
    assert retry_after_seconds(value) is None


def test_retry_after_http_date_in_the_future_is_the_seconds_until_then(frozen_clock):
    assert retry_after_seconds(http_date(NOW + 90)) == 90.0


def test_retry_after_http_date_in_the_past_is_zero_not_negative(frozen_clock):
    assert retry_after_seconds(http_date(NOW - 3600)) == 0.0


@pytest.mark.parametrize("form", [
    "Sunday, 15-Jun-25 15:08:10 GMT",   # RFC 850, obsolete but to be accepted (RFC 9110 5.6.7)
    "Sun Jun 15 15:08:10 2025",         # asctime: no zone at all, and it means GMT
    "Sun, 15 Jun 2025 15:08:10 -0000",  # RFC 5322 "-0000": UTC, zone unknown
])
def test_retry_after_obsolete_and_zoneless_dates_are_utc_whatever_the_local_zone(frozen_clock, monkeypatch, form):
    """A date without a usable zone is GMT (HTTP dates always are), not the controller's local time."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert retry_after_seconds(form) == 90.0
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# ---- decode_response ------------------------------------------------------------------------

def test_decode_response_reads_json_and_xml():
    json_doc = decode_response(response(b'{"SessionId": "x", "UserName": "u"}'), "GET /x")
    xml_doc = decode_response(response(b'<?xml version="1.0"?><LogonSession xmlns="http://www.veeam.com/ent/v1.0">'
                                       b'<UserName>u</UserName></LogonSession>'), "GET /x")
    assert (json_doc.media, json_doc.data["UserName"]) == ("json", "u")
    assert (xml_doc.media, xml_doc.root, xml_doc.data["UserName"]) == ("xml", "LogonSession", "u")


@pytest.mark.parametrize("body, text", [
    (b"<html>proxy error</html", "the XML response cannot"),
    (b"{broken", "the JSON response cannot be parsed"),
    (b"plain text", "neither XML nor JSON"),
])
def test_decode_response_failure_names_the_request(body, text):
    with pytest.raises(EMResponseError) as error:
        decode_response(response(body), "GET /api/query (type=Job)")
    assert error.value.request == "GET /api/query (type=Job)"
    assert str(error.value).startswith("GET /api/query (type=Job) failed: ") and text in str(error.value)


@pytest.mark.parametrize("body", [b"[" * 100 + b"]" * 100, b"{\"a\":" * 100 + b"1" + b"}" * 100,
                                  b"<a>" * 100 + b"</a>" * 100])
def test_decode_response_refuses_deep_nesting_before_parsing(body):
    with pytest.raises(EMResponseError) as error:
        decode_response(response(body), "GET /deep")
    assert error.value.request == "GET /deep" and "levels deep; refused" in str(error.value)


def test_decode_response_recursion_error_behind_the_depth_check_is_an_em_error(monkeypatch):
    """Were the depth check ever to miss a shape, the parser's own RecursionError is no traceback."""
    monkeypatch.setattr(em_bounds, "check_depth", lambda body: None)
    with pytest.raises(EMResponseError) as error:
        decode_response(response(b"[" * 200000 + b"]" * 200000), "GET /deeper")
    assert str(error.value) == "GET /deeper failed: the response nests too deeply to be parsed; refused"


# ---- read_chunks --------------------------------------------------------------------------

def urllib3_body(body, headers=None):
    return urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers or {}, status=200,
                                preload_content=False, decode_content=True)


def test_read_chunks_of_a_plain_stream_falls_back_to_iter_content():
    reply = requests.Response()
    reply.raw = io.BytesIO(b"x" * 2500)  # no read1/decode_content: a test double
    chunks = list(read_chunks(reply, size=1000))
    assert [len(chunk) for chunk in chunks] == [1000, 1000, 500]


def test_read_chunks_of_a_urllib3_body_are_bounded_and_complete():
    body = bytes(range(256)) * 40
    reply = requests.Response()
    reply.raw = urllib3_body(body)
    chunks = list(read_chunks(reply, size=1000))
    assert b"".join(chunks) == body
    assert len(chunks) >= 11 and max(len(chunk) for chunk in chunks) <= 1000


def test_read_chunks_inflates_a_gzip_bomb_in_bounded_steps():
    inflated = 8 * 1024 * 1024
    reply = requests.Response()
    reply.raw = urllib3_body(gzip.compress(b"\0" * inflated), {"Content-Encoding": "gzip"})
    sizes = [len(chunk) for chunk in read_chunks(reply, size=4096)]
    assert sum(sizes) == inflated and max(sizes) <= 4096


class _CountingBody(urllib3.HTTPResponse):
    """A real urllib3 body that counts the decoded bytes it handed out."""

    handed_out = 0

    def read1(self, amt=None, decode_content=None):
        chunk = super(_CountingBody, self).read1(amt, decode_content=decode_content)
        type(self).handed_out += len(chunk)
        return chunk


class _GzipBombEM(FakeEM):
    """GET answers carry a gzip bomb as a real urllib3 body (FakeEM's own bodies are BytesIO)."""

    BOMB = gzip.compress(b"\0" * (16 * 1024 * 1024))

    def build(self, request, reply):
        built = super(_GzipBombEM, self).build(request, reply)
        if request.method == "GET":
            built.headers["Content-Encoding"] = "gzip"
            built.raw = _CountingBody(body=io.BytesIO(self.BOMB), headers={"Content-Encoding": "gzip"},
                                      status=200, preload_content=False, decode_content=True)
        return built


def test_body_over_the_cap_is_refused_after_at_most_one_chunk_beyond_it():
    _CountingBody.handed_out = 0
    fake = _GzipBombEM("json", paged_handler([synthetic_task_session(0)], "json"))
    client = make_client(fake, retries=0)
    client.max_body = 1024 * 1024
    with pytest.raises(EMResponseError) as error:
        run_query(client)
    assert "the response body exceeds 1048576 bytes; refused" in str(error.value)
    assert "lower page_size" in str(error.value)
    # the cap stopped the inflating: 16 MiB were on offer, at most one read past 1 MiB was taken
    assert client.max_body < _CountingBody.handed_out <= client.max_body + em_http.READ_CHUNK
    assert fake.logoffs == 1


@pytest.mark.parametrize("spare", [0, 1])
def test_body_exactly_at_the_cap_is_accepted(spare):
    body = query_result_json("BackupTaskSessions", [synthetic_task_session(i) for i in range(3)], None)
    fake = FakeEM("json", lambda call: Reply(200, body) if call.path == "/api/query" else None)
    client = make_client(fake)
    client.max_body = len(body) + spare
    found, _info = run_query(client)
    assert len(found) == 3


def test_body_one_byte_over_the_cap_is_refused():
    body = query_result_json("BackupTaskSessions", [synthetic_task_session(i) for i in range(3)], None)
    fake = FakeEM("json", lambda call: Reply(200, body) if call.path == "/api/query" else None)
    client = make_client(fake, retries=0)
    client.max_body = len(body) - 1
    with pytest.raises(EMResponseError, match="the response body exceeds %d bytes; refused" % (len(body) - 1)):
        run_query(client)
    assert fake.logoffs == 1


class _FailingRaw:
    """A urllib3-like body whose read fails with ``exc`` (read1 and decode_content: the urllib3 path)."""

    decode_content = True

    def __init__(self, exc):
        self.exc = exc

    def read1(self, amt=None, decode_content=None):
        raise self.exc

    def close(self):
        pass


@pytest.mark.parametrize("exc, expected", [
    (urllib3.exceptions.ReadTimeoutError(None, "/api/query", "Read timed out."), requests.exceptions.ReadTimeout),
    (urllib3.exceptions.DecodeError("bad gzip"), requests.exceptions.ContentDecodingError),
    (urllib3.exceptions.SSLError("bad record mac"), requests.exceptions.SSLError),
    (urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead"), requests.exceptions.ChunkedEncodingError),
    (ConnectionResetError(104, "Connection reset by peer"), requests.exceptions.ChunkedEncodingError),
])
def test_read_chunks_turns_urllib3_errors_into_requests_errors(exc, expected):
    reply = requests.Response()
    reply.raw = _FailingRaw(exc)
    with pytest.raises(expected):
        list(read_chunks(reply))


@pytest.mark.parametrize("exc, error_class, text", [
    (urllib3.exceptions.ReadTimeoutError(None, "/api/query", "Read timed out."), EMTransportError, "no answer from"),
    (urllib3.exceptions.DecodeError("bad gzip"), EMResponseError, "cannot be decompressed"),
    (urllib3.exceptions.ProtocolError("Connection broken"), EMTransportError, "cannot reach"),
])
def test_a_body_read_failure_becomes_a_typed_error_and_the_session_is_logged_off(exc, error_class, text):
    class _BodyFails(FakeEM):
        def build(self, request, reply):
            built = super(_BodyFails, self).build(request, reply)
            if request.method == "GET":
                built.raw = _FailingRaw(exc)
            return built
    fake = _BodyFails("json", paged_handler([synthetic_task_session(0)], "json"))
    with pytest.raises(error_class) as error:
        run_query(make_client(fake, retries=0))
    assert text in str(error.value) and fake.logoffs == 1


# ---- short_error ----------------------------------------------------------------------------

def test_short_error_is_the_first_line():
    assert short_error(ValueError("first line\nsecond line\nthird")) == "first line"


def test_short_error_of_an_empty_message_is_the_class_name():
    assert short_error(requests.exceptions.ConnectionError()) == "ConnectionError"


def test_short_error_is_at_most_300_characters():
    assert short_error(ValueError("x" * 1000)) == "x" * 300


def test_short_error_skips_blank_leading_lines():
    """A message that starts with a newline still says something (never "cannot reach X: ")."""
    assert short_error(ValueError("\n  \nreal reason\nmore")) == "real reason"
    assert short_error(ValueError("\n")) == "ValueError"
