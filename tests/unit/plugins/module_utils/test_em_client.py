"""The client against a fake EM mounted at the requests transport layer."""
import base64
import json

import pytest
import requests

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMAuthError, EMBadRequestError, EMForbiddenError, EMNotFoundError, EMResponseError, EMServerError,
    EMTransportError)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION, TASK
from unit.plugins.module_utils.em_fake import (
    SESSION_ID, TOKEN, FakeEM, Reply, error_body, mount, paged_handler, paging_info, query_result_json,
    synthetic_task_session)

PASSWORD = "S3cret-Pa55!"


def make_client(fake, media="json", sleeps=None, **options):
    settings = dict(server="em.example.com", username="EM\\svc", password=PASSWORD, retry_backoff=1.0)
    settings.update(options)
    client = EMClient(ConnectionOptions(**settings), media_type=media,
                      sleep=(sleeps.append if sleeps is not None else lambda seconds: None))
    mount(client, fake)
    return client


def run_query(client, **kwargs):
    params = dict(filter_expr=None, sort_field="CreationTime", sort_order="desc", page_size=100)
    params.update(kwargs)
    with client:
        return client.query(BACKUP_TASK_SESSION, **params)


ITEMS = [synthetic_task_session(i) for i in range(250)]


# ---- logon / logoff ----------------------------------------------------------------------------

@pytest.mark.parametrize("media", ["json", "xml"])
def test_logon_and_logoff_wire_format(media):
    fake = FakeEM(media, paged_handler(ITEMS[:3], media))
    items, info = run_query(make_client(fake, media))
    logon, query, logoff = fake.calls
    assert (logon.method, logon.path, logon.query) == ("POST", "/api/sessionMngr/", {"v": "latest"})
    assert logon.headers["Authorization"] == "Basic " + base64.b64encode(("EM\\svc:" + PASSWORD).encode()).decode()
    assert not logon.body and logon.headers.get("Content-Length") == "0"
    assert "X-RestSvcSessionId" not in logon.headers
    assert query.headers["X-RestSvcSessionId"] == TOKEN
    assert query.headers["Accept"] == ("application/json" if media == "json" else "application/xml")
    assert "Authorization" not in query.headers
    assert (logoff.method, logoff.path) == ("DELETE", "/api/logonSessions/%s" % SESSION_ID)
    assert logoff.headers["X-RestSvcSessionId"] == TOKEN
    assert len(items) == 3 and info.requests == 1


def test_token_header_is_used_verbatim_even_if_not_base64_of_session_id():
    fake = FakeEM("json", paged_handler(ITEMS[:1], "json"),
                  logon=lambda call: Reply(201, json.dumps({"SessionId": SESSION_ID, "UserName": "u"}).encode(),
                                           {"X-RestSvcSessionId": "O9Msj3rq7EGUhtSMBQx+mw=="}))
    run_query(make_client(fake))
    assert fake.calls[1].headers["X-RestSvcSessionId"] == "O9Msj3rq7EGUhtSMBQx+mw=="
    assert fake.calls[-1].path == "/api/logonSessions/%s" % SESSION_ID


def test_api_version_is_sent_at_logon():
    fake = FakeEM("json", paged_handler([], "json"))
    run_query(make_client(fake, api_version="v1_6"))
    assert fake.calls[0].query == {"v": "v1_6"}


def test_logon_without_token_header_is_a_response_error_and_no_logoff():
    fake = FakeEM("json", logon=lambda call: Reply(201, b"{}"))
    with pytest.raises(EMResponseError) as error:
        run_query(make_client(fake))
    assert "X-RestSvcSessionId" in str(error.value)
    assert fake.logoffs == 0


def test_logon_401_hints_at_credentials_and_hides_password():
    headers = {"WWW-Authenticate": "Basic Realm=RestSvc"}
    fake = FakeEM("json", logon=lambda call: Reply(401, error_body("json", 401, "Unauthorized"), headers))
    with pytest.raises(EMAuthError) as error:
        run_query(make_client(fake))
    text = str(error.value)
    assert "POST /api/sessionMngr/" in text and "401" in text and "check username and password" in text
    assert PASSWORD not in text and "Secret.Stack" not in text
    assert fake.logoffs == 0


def test_logon_404_on_9419_says_it_is_the_vbr_api():
    fake = FakeEM("json", logon=lambda call: Reply(404, b""))
    with pytest.raises(EMNotFoundError) as error:
        run_query(make_client(fake, port=9419))
    assert "9419 is the VBR REST API; EM is 9398" in str(error.value)


@pytest.mark.parametrize("status", [400, 403, 404, 500, 503])
def test_logoff_happens_when_the_query_fails(status):
    fake = FakeEM("json", lambda call: Reply(status, error_body("json", status, "boom")) if call.method == "GET" else None)
    with pytest.raises(em_client.EMError):
        run_query(make_client(fake, retries=1))
    assert fake.logons == 1 and fake.logoffs == 1


def test_logoff_happens_on_unexpected_exceptions_too():
    def handler(call):
        raise RuntimeError("bug")
    fake = FakeEM("json", handler)
    with pytest.raises(RuntimeError):
        run_query(make_client(fake))
    assert fake.logoffs == 1


def test_logoff_failure_becomes_a_warning_not_an_error():
    fake = FakeEM("json", paged_handler(ITEMS[:2], "json"),
                  logoff=lambda call: Reply(500, error_body("json", 500, "db down")))
    client = make_client(fake, retries=0)
    items, _info = run_query(client)
    assert len(items) == 2
    assert client.warnings and "logoff" in client.warnings[0]


def test_logoff_of_an_expired_session_is_not_an_error():
    fake = FakeEM("json", paged_handler(ITEMS[:2], "json"), logoff=lambda call: Reply(401, b""))
    client = make_client(fake)
    run_query(client)
    assert client.warnings == []


def test_session_reuse_sends_given_token_and_never_logs_on_or_off():
    fake = FakeEM("json", paged_handler(ITEMS[:5], "json"))
    items, _info = run_query(make_client(fake, session_id="given-token", username=None, password=None))
    assert fake.logons == 0 and fake.logoffs == 0
    assert [call.headers["X-RestSvcSessionId"] for call in fake.calls] == ["given-token"]
    assert len(items) == 5


def test_session_reuse_401_is_not_retried_and_says_session_expired():
    fake = FakeEM("json", lambda call: Reply(401, error_body("json", 401, "expired")))
    with pytest.raises(EMAuthError) as error:
        run_query(make_client(fake, session_id="old-token"))
    assert fake.logons == 0 and "session_id is no longer valid" in str(error.value)
    assert "old-token" not in str(error.value)


def test_cookies_are_never_sent():
    fake = FakeEM("json", paged_handler(ITEMS[:1], "json"))
    client = make_client(fake)
    client.http.cookies.set("X-RestSvcSessionId", "stale-cookie", domain="em.example.com", path="/api")
    run_query(client)
    assert all("Cookie" not in call.headers for call in fake.calls)


def test_cookie_policy_refuses_set_cookie():
    policy = em_client._NoCookies()
    assert not policy.set_ok(None, None) and not policy.return_ok(None, None)


def test_username_required_without_session():
    with pytest.raises(EMAuthError) as error:
        run_query(make_client(FakeEM("json"), username=None))
    assert "username and password are required" in str(error.value)


# ---- TLS verify ----------------------------------------------------------------------------------

@pytest.mark.parametrize("options, expected", [
    ({"validate_certs": True}, True),
    ({"validate_certs": False}, False),
    ({"validate_certs": True, "ca_path": "/tmp/ca.pem"}, "/tmp/ca.pem"),
    ({"validate_certs": False, "ca_path": "/tmp/ca.pem"}, "/tmp/ca.pem"),
])
def test_verify_is_passed_on_every_request_despite_env_bundles(monkeypatch, options, expected):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/env-bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/env-bundle.pem")
    fake = FakeEM("json", paged_handler(ITEMS, "json"))
    run_query(make_client(fake, **options), page_size=100)
    assert len(fake.calls) == 5  # logon, 3 pages, logoff
    for call in fake.calls:
        if expected is True:  # requests may resolve True to the env bundle; never to False
            assert call.verify not in (False, "/tmp/ca.pem")
        else:
            assert call.verify == expected


def test_ssl_error_hints_at_ca_path():
    fake = FakeEM("json", logon=lambda call: Reply(exc=requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED")))
    with pytest.raises(EMTransportError) as error:
        run_query(make_client(fake))
    assert "ca_path" in str(error.value) and "validate_certs" in str(error.value)


# ---- paging --------------------------------------------------------------------------------------

@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_walks_every_page_with_explicit_page_size_and_sort(media, concurrency):
    fake = FakeEM(media, paged_handler(ITEMS, media, bom=True))
    items, info = run_query(make_client(fake, media), page_size=100, concurrency=concurrency,
                            filter_expr='Result=="Failed"')
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS]
    pages = fake.api_calls()
    assert sorted(int(call.query["page"]) for call in pages) == [1, 2, 3]
    for call in pages:
        assert call.query["pageSize"] == "100" and call.query["sortDesc"] == "CreationTime"
        assert call.query["type"] == "BackupTaskSession" and call.query["format"] == "Entities"
        assert call.query["filter"] == 'Result=="Failed"'
        assert "filter=Result%3D%3D%22Failed%22" in call.raw_query
    assert info.as_dict() == {"type": "BackupTaskSession", "filter": 'Result=="Failed"',
                              "sort": "sortDesc=CreationTime", "page_size": 100, "pages": 3, "requests": 3}


@pytest.mark.parametrize("media", ["json", "xml"])
def test_a_utf8_bom_before_either_media_is_skipped(media):
    # The fake really sends the BOM (asserted), so "type detection ignores the BOM" cannot pass.
    served = []
    handler = paged_handler(ITEMS[:5], media, bom=True)

    def recording(call):
        reply = handler(call)
        served.append(reply.body)
        return reply
    items, _info = run_query(make_client(FakeEM(media, recording), media))
    assert served and all(body.startswith(b"\xef\xbb\xbf") for body in served)
    assert served[0][3:].lstrip().startswith(b"<" if media == "xml" else b"{")
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS[:5]]


def test_sort_ascending():
    fake = FakeEM("json", paged_handler(ITEMS[:1], "json"))
    run_query(make_client(fake), sort_order="asc", sort_field="Name")
    assert fake.api_calls()[0].query["sortAsc"] == "Name" and "sortDesc" not in fake.api_calls()[0].query


def test_page_urls_are_rebuilt_not_taken_from_hrefs():
    def handler(call):
        page = int(call.query["page"])
        paging = paging_info(page, 2, 1, href="https://evil.example/api/query?type=Other")
        return Reply(200, query_result_json("BackupTaskSessions", [ITEMS[page]], paging))
    fake = FakeEM("json", handler)
    items, _info = run_query(make_client(fake), page_size=1)
    assert len(items) == 2
    assert all(call.url.startswith("https://em.example.com:9398/") for call in fake.calls)


def test_a_next_link_on_the_page_pages_count_calls_the_last_is_followed_until_an_empty_page():
    # (h-attack) PagesCount used to win over a Next link: when PagesCount was short the rest of the
    # query was dropped without a word. Now the link is followed; an empty next page ends the walk.
    def handler(call):
        page = int(call.query["page"])
        paging = paging_info(page, 1, 100)
        if page == 1:
            paging["Links"].append({"Rel": "Next", "Href": "x", "Name": None, "Type": None})
        return Reply(200, query_result_json("BackupTaskSessions", ITEMS[:100] if page == 1 else [], paging))
    fake = FakeEM("json", handler)
    items, _info = run_query(make_client(fake))
    assert len(items) == 100 and [int(call.query["page"]) for call in fake.api_calls()] == [1, 2]


def test_without_pages_count_follows_next_links_sequentially():
    def handler(call):
        page = int(call.query["page"])
        paging = paging_info(page, 3, 100)
        del paging["PagesCount"]
        return Reply(200, query_result_json("BackupTaskSessions", ITEMS[(page - 1) * 100: page * 100], paging))
    fake = FakeEM("json", handler)
    items, info = run_query(make_client(fake))
    assert len(items) == 250 and info.pages == 3
    assert [int(call.query["page"]) for call in fake.api_calls()] == [1, 2, 3]


def test_without_paging_info_one_page_is_all():
    fake = FakeEM("json", lambda call: Reply(200, query_result_json("BackupTaskSessions", ITEMS[:7], None)))
    items, _info = run_query(make_client(fake))
    assert len(items) == 7 and len(fake.api_calls()) == 1


@pytest.mark.parametrize("concurrency", [1, 3])
def test_limit_stops_early(concurrency):
    fake = FakeEM("json", paged_handler(ITEMS, "json"))
    items, info = run_query(make_client(fake), page_size=10, limit=25, concurrency=concurrency)
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS[:25]]
    assert sorted(int(call.query["page"]) for call in fake.api_calls()) == [1, 2, 3]
    assert info.pages == 3


def test_limit_within_first_page_fetches_one_page():
    fake = FakeEM("json", paged_handler(ITEMS, "json"))
    items, _info = run_query(make_client(fake), page_size=100, limit=5)
    assert len(items) == 5 and len(fake.api_calls()) == 1


def test_duplicates_across_pages_are_dropped_and_limit_fetches_more():
    # sessions added while paging shift items: page 2 repeats the last two of page 1
    pages = {1: ITEMS[0:10], 2: ITEMS[8:18], 3: ITEMS[18:28]}

    def handler(call):
        page = int(call.query["page"])
        return Reply(200, query_result_json("BackupTaskSessions", pages[page], paging_info(page, 3, 10)))
    fake = FakeEM("json", handler)
    items, _info = run_query(make_client(fake), page_size=10, limit=19)
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS[:19]]
    assert len({item["uid"] for item in items}) == 19


def test_pages_count_growing_while_paging_is_followed():
    def handler(call):
        page = int(call.query["page"])
        count = 2 if page == 1 else 3
        return Reply(200, query_result_json("BackupTaskSessions", ITEMS[(page - 1) * 10: page * 10],
                                            paging_info(page, count, 10)))
    fake = FakeEM("json", handler)
    items, _info = run_query(make_client(fake), page_size=10, concurrency=1)
    assert len(items) == 30


def test_concurrency_is_bounded():
    import threading
    import time
    state = {"now": 0, "max": 0}
    lock = threading.Lock()
    inner = paged_handler(ITEMS, "json")

    def handler(call):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return inner(call)
    fake = FakeEM("json", handler)
    items, _info = run_query(make_client(fake), page_size=10, concurrency=3)
    assert len(items) == 250
    assert state["max"] == 3


def test_task_query_has_no_format_and_sorts_by_task_id():
    fake = FakeEM("xml", lambda call: Reply(200, open_sample("query_task_resources.xml")))
    client = make_client(fake, "xml")
    with client:
        items, _info = client.query(TASK, 'State=="Finished"', "TaskId", "asc", 100)
    call = fake.api_calls()[0]
    assert "format" not in call.query and call.query["sortAsc"] == "TaskId" and call.query["type"] == "Task"
    assert [item["task_id"] for item in items] == ["task-5", "task-6", "task-7"]


def open_sample(name):
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "em_samples", name)
    with open(path, "rb") as handle:
        return handle.read()


# ---- retries -------------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [
    Reply(503, b""), Reply(502, b""), Reply(504, b""),
    Reply(exc=requests.exceptions.ConnectionError("reset")), Reply(exc=requests.exceptions.ReadTimeout("slow")),
])
def test_get_is_retried_with_exponential_backoff(failure):
    attempts = {"n": 0}
    inner = paged_handler(ITEMS[:3], "json")

    def handler(call):
        attempts["n"] += 1
        return failure if attempts["n"] <= 3 else inner(call)
    sleeps = []
    fake = FakeEM("json", handler)
    items, info = run_query(make_client(fake, sleeps=sleeps, retries=3, retry_backoff=0.5))
    # Three failures, so the third wait tells doubling (2.0) from linear growth (1.5).
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS[:3]]
    assert sleeps == [0.5, 1.0, 2.0]
    assert attempts["n"] == 4 and info.requests == 4


def test_retry_after_is_honoured():
    attempts = {"n": 0}
    inner = paged_handler(ITEMS[:3], "json")

    def handler(call):
        attempts["n"] += 1
        return Reply(503, b"", {"Retry-After": "7"}) if attempts["n"] == 1 else inner(call)
    sleeps = []
    run_query(make_client(FakeEM("json", handler), sleeps=sleeps))
    assert sleeps == [7.0]


def test_retries_are_bounded_and_the_last_error_is_raised():
    sleeps = []
    fake = FakeEM("json", lambda call: Reply(503, error_body("json", 503, "overloaded")) if call.method == "GET" else None)
    with pytest.raises(EMServerError) as error:
        run_query(make_client(fake, sleeps=sleeps, retries=2, retry_backoff=1.0))
    assert len(fake.api_calls()) == 3 and sleeps == [1.0, 2.0]
    assert "overloaded" in str(error.value)


def test_backoff_is_capped():
    client = make_client(FakeEM("json"), retry_backoff=10.0)
    assert client._backoff(10, None) == em_client.MAX_BACKOFF
    assert client._backoff(0, "100000") == em_client.MAX_RETRY_AFTER


def test_retry_after_http_date():
    assert em_client.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert em_client.retry_after_seconds("soon") is None
    assert em_client.retry_after_seconds(None) is None


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_other_errors_are_not_retried(status):
    fake = FakeEM("json", lambda call: Reply(status, b"") if call.method == "GET" else None)
    with pytest.raises(em_client.EMError):
        run_query(make_client(fake))
    assert len(fake.api_calls()) == 1


def test_logon_post_is_not_retried():
    fake = FakeEM("json", logon=lambda call: Reply(503, b""))
    with pytest.raises(EMServerError):
        run_query(make_client(fake))
    assert fake.logons == 1


def test_401_relogs_on_once_and_restarts_from_page_one():
    state = {"expired": True}
    inner = paged_handler(ITEMS[:30], "json")

    def handler(call):
        if call.path == "/api/query" and call.query["page"] == "2" and state["expired"]:
            state["expired"] = False
            return Reply(401, error_body("json", 401, "expired"))
        return inner(call)
    fake = FakeEM("json", handler)
    items, info = run_query(make_client(fake), page_size=10, concurrency=1)
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS[:30]]
    # the expired session is logged off best effort before the re-logon, the new one at the end
    assert fake.logons == 2 and fake.logoffs == 2
    assert [call.query["page"] for call in fake.api_calls()] == ["1", "2", "1", "2", "3"]
    assert info.requests == 7  # 5 pages + the old session's logoff + the re-logon


def test_second_401_is_raised():
    fake = FakeEM("json", lambda call: Reply(401, b"") if call.method == "GET" else None)
    with pytest.raises(EMAuthError):
        run_query(make_client(fake))
    assert fake.logons == 2


# ---- error mapping -------------------------------------------------------------------------------

@pytest.mark.parametrize("status, error_class, hint", [
    (400, EMBadRequestError, None),
    (403, EMForbiddenError, "Portal Administrator"),
    (404, EMNotFoundError, None),
    (500, EMServerError, None),
    (501, EMServerError, None),
])
@pytest.mark.parametrize("media", ["json", "xml"])
def test_error_mapping_names_request_and_em_message_only(status, error_class, hint, media):
    fake = FakeEM(media, lambda call: Reply(status, error_body(media, status, "Invalid filter field 'Foo'"))
                  if call.method == "GET" else None)
    with pytest.raises(error_class) as error:
        run_query(make_client(fake, media, retries=0), filter_expr='Foo=="bar"')
    text = str(error.value)
    assert text.startswith("GET /api/query (type=BackupTaskSession) failed: HTTP %d" % status)
    assert "Invalid filter field 'Foo'" in text
    assert "Secret.Stack" not in text and TOKEN not in text and PASSWORD not in text
    assert error.value.status == status
    if hint:
        assert hint in text


def test_unparsable_body_is_a_response_error():
    fake = FakeEM("json", lambda call: Reply(200, b"<html>proxy error</html") if call.method == "GET" else None)
    with pytest.raises(EMResponseError) as error:
        run_query(make_client(fake))
    assert str(error.value).startswith("GET /api/query (type=BackupTaskSession) failed: the XML response cannot")
    assert fake.logoffs == 1


def test_body_size_is_capped():
    fake = FakeEM("json", paged_handler(ITEMS, "json"))
    client = make_client(fake)
    client.max_body = 10000
    with pytest.raises(EMResponseError) as error:
        run_query(client)
    assert "exceeds" in str(error.value)


def test_connection_refused_is_a_transport_error_with_hint():
    fake = FakeEM("json", logon=lambda call: Reply(exc=requests.exceptions.ConnectionError("refused")))
    with pytest.raises(EMTransportError) as error:
        run_query(make_client(fake))
    assert "check server and port" in str(error.value)


def test_get_entity_and_404_is_empty():
    body = open_sample("backuptasksession_entity.xml")
    guid = "88322206-a645-4aa3-9228-028ce51e7c0f"
    fake = FakeEM("xml", lambda call: Reply(200, body) if guid in call.path else Reply(404, b""))
    client = make_client(fake, "xml")
    with client:
        assert client.get_entity(BACKUP_TASK_SESSION, guid)[0]["vm_display_name"] == "AnT_VM2"
        assert client.get_entity(BACKUP_TASK_SESSION, "00000000-0000-0000-0000-000000000000") == []
    call = [c for c in fake.calls if guid in c.path][0]
    assert call.path == "/api/backupTaskSessions/%s" % guid and call.query == {"format": "Entity"}


# ---- URLs ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("server, port, expected", [
    ("em.example.com", 9398, "https://em.example.com:9398"),
    ("https://em.example.com", 9398, "https://em.example.com:9398"),
    ("https://em.example.com:9999/api/", 9398, "https://em.example.com:9999"),
    ("HTTPS://em.example.com/", 1234, "https://em.example.com:1234"),
    ("http://127.0.0.1:8080", 9398, "http://127.0.0.1:8080"),
    ("::1", 9398, "https://[::1]:9398"),
    ("https://[::1]:9400", 9398, "https://[::1]:9400"),
    (" em ", 9398, "https://em:9398"),
])
def test_base_url(server, port, expected):
    assert em_client.base_url(server, port) == expected


# ---- logon session lookup (veeam_em_session state=absent) ----------------------------------------

def test_current_logon_session_matches_token():
    other = "44cfbdbe-5a95-4156-8867-91f069b7c2cc"
    body = json.dumps({"LogonSessions": [{"SessionId": other, "UserName": "x"},
                                         {"SessionId": SESSION_ID, "UserName": "EM\\svc"}]}).encode()
    fake = FakeEM("json", lambda call: Reply(200, body) if call.path == "/api/logonSessions" else None)
    client = make_client(fake, session_id=TOKEN)
    with client:
        assert client.current_logon_session() == (SESSION_ID, "EM\\svc")
        assert client.logoff(SESSION_ID) is True
    assert fake.logoffs == 1


def test_unreadable_logon_body_still_logs_off_via_logon_sessions():
    listing = json.dumps({"LogonSessions": [{"SessionId": SESSION_ID, "UserName": "u"}]}).encode()

    def handler(call):
        if call.path == "/api/logonSessions":
            return Reply(200, listing)
        return paged_handler(ITEMS[:1], "json")(call)
    fake = FakeEM("json", handler, logon=lambda call: Reply(201, b"<broken", {"X-RestSvcSessionId": "opaque-token"}))
    client = make_client(fake)
    items, _info = run_query(client)
    assert len(items) == 1 and fake.logoffs == 1
    assert fake.calls[-1].path == "/api/logonSessions/%s" % SESSION_ID
    assert client.warnings and "logon response body" in client.warnings[0]


def test_redirects_are_not_followed():
    fake = FakeEM("json", logon=lambda call: Reply(301, b"", {"Location": "https://other.example/api/sessionMngr/"}))
    with pytest.raises(EMResponseError) as error:
        run_query(make_client(fake))
    assert "redirect" in str(error.value) and len(fake.calls) == 1


# ---- reliability fixes (issue 5) ---------------------------------------------------------------

def test_non_latin1_credentials_are_sent_as_utf8():
    """requests' auth=(user, password) raised UnicodeEncodeError (a module traceback) here."""
    fake = FakeEM("json", paged_handler(ITEMS[:1], "json"))
    items, _info = run_query(make_client(fake, username="EM\\jürgen", password="pässwΩrd-日本"))
    expected = base64.b64encode("EM\\jürgen:pässwΩrd-日本".encode("utf-8")).decode("ascii")
    assert fake.calls[0].headers["Authorization"] == "Basic " + expected
    assert len(items) == 1 and fake.logoffs == 1


class _BrokenBody:
    """A response body that breaks after the headers arrived (truncated / reset mid-body)."""

    def __init__(self, exc):
        self.exc = exc

    def read(self, *args, **kwargs):
        raise self.exc

    def close(self):
        pass


class _LogonBodyBreaks(FakeEM):
    def __init__(self, exc, *args, **kwargs):
        super(_LogonBodyBreaks, self).__init__(*args, **kwargs)
        self.exc = exc

    def build(self, request, reply):
        response = super(_LogonBodyBreaks, self).build(request, reply)
        if request.method == "POST":
            response.raw = _BrokenBody(self.exc)
        return response


@pytest.mark.parametrize("exc", [requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)"),
                                 requests.exceptions.ConnectionError("Connection reset by peer")])
def test_logon_body_lost_after_the_token_header_keeps_the_session_and_logs_it_off(exc):
    """EM created the session (201 + token header); losing the optional body must not orphan it."""
    fake = _LogonBodyBreaks(exc, "json", paged_handler(ITEMS[:3], "json"))
    client = make_client(fake)
    items, _info = run_query(client)
    assert len(items) == 3
    assert fake.logoffs == 1 and fake.calls[-1].path == "/api/logonSessions/%s" % SESSION_ID
    assert client.warnings and "logon response body could not be read" in client.warnings[0]


def test_logon_body_too_large_keeps_the_session_and_logs_it_off():
    fake = FakeEM("json", paged_handler(ITEMS[:2], "json"),
                  logon=lambda call: Reply(201, b"{" + b" " * 200000 + b"}", {"X-RestSvcSessionId": TOKEN}))
    client = make_client(fake)
    client.max_body = 100000
    with client:
        items, _info = client.query(BACKUP_TASK_SESSION, None, "CreationTime", "desc", 100)
    assert len(items) == 2 and fake.logoffs == 1


def test_logon_body_lost_without_a_token_is_still_an_error():
    fake = _LogonBodyBreaks(requests.exceptions.ChunkedEncodingError("broken"), "json",
                            logon=lambda call: Reply(500, b"{}"))
    with pytest.raises(EMTransportError):
        run_query(make_client(fake))
    assert fake.logoffs == 0


def test_relogon_logs_off_the_old_session_when_it_is_still_alive():
    """A 401 that is not an expiry (a proxy, a hiccup) must not leave the old session open on EM."""
    second_token = base64.b64encode(b"6b1e1f57-1111-4222-8333-944455556666").decode()
    tokens = [TOKEN, second_token]
    state = {"spurious": True}
    inner = paged_handler(ITEMS[:5], "json")

    def logon(call):
        token = tokens.pop(0)
        return Reply(201, json.dumps({"SessionId": base64.b64decode(token).decode(), "UserName": "u"}).encode(),
                     {"X-RestSvcSessionId": token})

    def handler(call):
        if call.path == "/api/query" and state["spurious"]:
            state["spurious"] = False
            return Reply(401, error_body("json", 401, "Unauthorized"))
        return inner(call)
    fake = FakeEM("json", handler, logon=logon)
    items, _info = run_query(make_client(fake))
    assert len(items) == 5
    deletes = [(call.path, call.headers["X-RestSvcSessionId"]) for call in fake.calls if call.method == "DELETE"]
    assert deletes == [("/api/logonSessions/%s" % SESSION_ID, TOKEN),
                       ("/api/logonSessions/6b1e1f57-1111-4222-8333-944455556666", second_token)]
