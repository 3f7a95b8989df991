"""em_pager: the pager's own decisions; the walks themselves are exercised in test_em_client.

The empty-page checks live here (one home): the page's own PagingInfo, and page 1's PagesCount.
"""
import json

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_pager
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
from unit.plugins.module_utils.em_fake import FakeEM, Reply, paging_info, query_result_xml
from unit.plugins.module_utils.test_em_client import make_client, run_query
from unit.plugins.module_utils.test_em_parse_versions import camel, pascal_query


def items_of(body):
    """The items a query reads when EM answers every page with ``body`` (through the pager)."""
    media = "xml" if body.lstrip().startswith(b"<") else "json"
    items, _info = run_query(make_client(FakeEM(media, lambda call: Reply(200, body)), media=media), concurrency=1)
    return items


# (moved from test_em_parse_versions with the check it tests: em_parse.normalise_document -> em_pager)
@pytest.mark.parametrize("paging", [paging_info(1, 3, 100), paging_info(2, 3, 100),
                                    {"Links": [{"Rel": "Next", "Href": "https://em/api/query?page=2"}]}])
@pytest.mark.parametrize("media", ["json", "json13", "xml"])
def test_empty_page_that_paging_info_says_holds_items_raises(paging, media):
    if media == "xml":
        body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [], paging)
    else:
        body = pascal_query([], paging)
        if media == "json13":
            body = json.dumps(camel(json.loads(body))).encode()
    with pytest.raises(EMResponseError, match="PagingInfo says page .* but no BackupTaskSession could be read"):
        items_of(body)


@pytest.mark.parametrize("media", ["json", "xml"])
def test_an_empty_last_page_is_an_empty_result(media):
    if media == "xml":
        body = query_result_xml("BackupTaskSessions", "BackupTaskSession", [], paging_info(1, 1, 100))
    else:
        body = pascal_query([], paging_info(1, 1, 100))
    assert list(items_of(body)) == []


@pytest.mark.parametrize("page_num, pages_count, has_next, refused", [
    (1, 3, False, True), (2, 3, False, True), (None, None, True, True),
    (3, 3, False, False), (4, 3, False, False), (None, None, False, False), (1, None, False, False),
])
def test_refuse_empty_page_reads_the_pages_own_paging_info(page_num, pages_count, has_next, refused):
    if refused:
        with pytest.raises(EMResponseError, match="BackupTaskSession answer: PagingInfo says page"):
            em_pager.refuse_empty_page([], page_num, pages_count, has_next, BACKUP_TASK_SESSION)
    else:
        em_pager.refuse_empty_page([], page_num, pages_count, has_next, BACKUP_TASK_SESSION)
    em_pager.refuse_empty_page([{"uid": "u"}], page_num, pages_count, has_next, BACKUP_TASK_SESSION)


def test_only_the_last_pages_of_page_ones_count_may_be_empty():
    tail = em_pager.MAX_EMPTY_TAIL
    assert tail == 3
    em_pager.refuse_empty_inner_page([], 10, 10, "q")
    em_pager.refuse_empty_inner_page([], 10 - tail + 1, 10, "q")
    with pytest.raises(EMResponseError, match="EM reported 10 pages but page 7 is empty") as error:
        em_pager.refuse_empty_inner_page([], 10 - tail, 10, "GET /api/query")
    assert error.value.request == "GET /api/query"
    em_pager.refuse_empty_inner_page([{"uid": "u"}], 2, 10, "q")
