"""The client against an EM 13 that writes camelCase JSON (docs/em-api-facts.md 3.3).

Paging (``pagingInfo.pagesCount``, ``links[].rel == "Next"``), logon/logoff (``sessionId``),
error bodies (``message``) and unreadable pages, through the real client and a fake transport.
"""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_client import ConnectionOptions, EMClient
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import (
    EMBadRequestError, EMResponseError)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
from unit.plugins.module_utils.em_fake import (
    SESSION_ID, TOKEN, FakeEM, Reply, error_body, mount, paged_handler, paging_info, query_result_json,
    synthetic_task_session)

ITEMS = [synthetic_task_session(i) for i in range(7)]


def make_client(fake):
    client = EMClient(ConnectionOptions(server="em.example.com", username="EM\\svc", password="S3cret-Pa55!"),
                      media_type="json", sleep=lambda seconds: None)
    mount(client, fake)
    return client


def run_query(client, **kwargs):
    params = dict(filter_expr=None, sort_field="CreationTime", sort_order="desc", page_size=100)
    params.update(kwargs)
    with client:
        return client.query(BACKUP_TASK_SESSION, **params)


def camel(node):
    """EM 13's spelling: first letter lower-cased, ``UID`` -> ``uid`` (facts 3.3)."""
    if isinstance(node, dict):
        return {("uid" if key == "UID" else key[:1].lower() + key[1:]): camel(value) for key, value in node.items()}
    if isinstance(node, list):
        return [camel(value) for value in node]
    return node


def camel_reply(reply):
    if reply is None or not reply.body:
        return reply
    return Reply(reply.status, json.dumps(camel(json.loads(reply.body))).encode(), reply.headers)


def em13(handler):
    """A FakeEM whose every JSON answer (logon, pages, errors) is camelCase."""
    fake = FakeEM("json", lambda call: camel_reply(handler(call)),
                  logon=lambda call: camel_reply(Reply(201, json.dumps({
                      "Links": [{"Rel": "Delete", "Href": "https://em:9398/api/logonSessions/%s" % SESSION_ID}],
                      "UserName": "EM\\emadmin", "SessionId": SESSION_ID, "Type": "LogonSession"}).encode(),
                      {"X-RestSvcSessionId": TOKEN})))
    return fake


@pytest.mark.parametrize("concurrency", [1, 4])
def test_camel_case_paging_info_pages_count_3_reads_3_pages(concurrency):
    fake = em13(paged_handler(ITEMS, "json"))
    items, info = run_query(make_client(fake), page_size=3, concurrency=concurrency)
    pages = sorted(int(call.query["page"]) for call in fake.api_calls())
    assert pages == [1, 2, 3] and info.pages == 3
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS]
    assert fake.calls[-1].path == "/api/logonSessions/%s" % SESSION_ID  # logoff found the camelCase sessionId


def test_camel_case_next_link_without_pages_count_is_followed():
    def handler(call):
        page = int(call.query.get("page", 1))
        paging = paging_info(page, 3, 3)
        del paging["PagesCount"]
        return Reply(200, query_result_json("BackupTaskSessions", ITEMS[(page - 1) * 3: page * 3], paging))

    fake = em13(handler)
    items, info = run_query(make_client(fake), page_size=3)
    assert len(items) == 7 and info.pages == 3


def test_camel_case_error_body_message_is_reported():
    fake = em13(lambda call: Reply(400, error_body("json", 400, "Unknown field 'Bogus'")))
    with pytest.raises(EMBadRequestError) as error:
        run_query(make_client(fake))
    assert "Unknown field 'Bogus'" in str(error.value) and "Secret.Stack" not in str(error.value)


def test_a_page_that_cannot_be_read_fails_the_query_instead_of_ending_it():
    def handler(call):
        page = int(call.query.get("page", 1))
        if page == 2:  # PagingInfo says 3 pages; this one holds a collection under an unknown key
            return Reply(200, json.dumps({"Refs": None, "Entities": {"BackupTaskSessionList": ITEMS[3:6]},
                                          "PagingInfo": paging_info(2, 3, 3)}).encode())
        return paged_handler(ITEMS, "json")(call)

    with pytest.raises(EMResponseError) as error:
        run_query(make_client(em13(handler)), page_size=3)
    assert "BackupTaskSession answer" in str(error.value) and "BackupTaskSessions" in str(error.value)
