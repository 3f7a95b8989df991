"""Attack: answers whose pages are not what was asked for must not lose items silently (FACTS 2.6).

Each case read part of the query without a word before the fix (250 sessions, page size 100):
* an answer that ignores ``page`` (page 1 for every page): 100 kept, the duplicates dropped by UID;
* ``PagesCount`` 1 (or short) while the page links a ``Next`` page: the walk stopped at PagesCount;
* an inner page shorter than its own ``PageSize``: its missing items were simply not there.
"""
import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_parse
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import BACKUP_TASK_SESSION
from unit.plugins.module_utils.em_fake import FakeEM, Reply, paging_info, query_result_json, query_result_xml
from unit.plugins.module_utils.test_em_client import ITEMS, make_client, run_query


def body(media, items, paging):
    if media == "xml":
        return query_result_xml("BackupTaskSessions", "BackupTaskSession", items, paging)
    return query_result_json("BackupTaskSessions", items, paging)


def serve(media, page_of):
    """A fake EM answering ``page=N`` with ``page_of(N) -> (items, paging)``."""
    def handler(call):
        if call.path != "/api/query":
            return None
        items, paging = page_of(int(call.query["page"]))
        return Reply(200, body(media, items, paging))
    return FakeEM(media, handler)


def chunk(page):
    return ITEMS[(page - 1) * 100: page * 100]


@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_answer_that_ignores_the_page_parameter_is_refused(media, concurrency):
    fake = serve(media, lambda page: (chunk(1), paging_info(1, 3, 100)))
    with pytest.raises(EMResponseError, match="page 2 was asked for but EM answered PageNum 1"):
        run_query(make_client(fake, media=media), concurrency=concurrency)


@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("said", [1, 2])
def test_a_next_link_beyond_pages_count_is_followed(media, said):
    def page_of(page):
        paging = paging_info(page, 3, 100)   # the links of a 3-page answer ...
        paging["PagesCount"] = said          # ... under a PagesCount that is short
        return chunk(page), paging
    fake = serve(media, page_of)
    items, info = run_query(make_client(fake, media=media))
    assert sorted(item["uid"] for item in items) == sorted(item["UID"] for item in ITEMS)
    assert [int(call.query["page"]) for call in fake.api_calls()] == [1, 2, 3] and info.pages == 3


@pytest.mark.parametrize("media", ["json", "xml"])
def test_an_inner_page_short_of_its_page_size_is_refused(media):
    fake = serve(media, lambda page: (chunk(page)[:10] if page == 2 else chunk(page), paging_info(page, 3, 100)))
    with pytest.raises(EMResponseError, match="page 2 of 3 holds 10 item.s., fewer than its PageSize 100"):
        run_query(make_client(fake, media=media))


def test_a_short_inner_page_is_refused_when_the_normaliser_keeps_only_the_last_item():
    # the compliance reader's PageFold folds each page and hands the pager its last item only
    fake = serve("json", lambda page: (chunk(page)[:10] if page == 2 else chunk(page), paging_info(page, 3, 100)))

    def last_only(document):
        return em_parse.normalise_document(document, BACKUP_TASK_SESSION)[-1:]
    with pytest.raises(EMResponseError, match="page 2 of 3 holds 10 item"):
        run_query(make_client(fake), normalise=last_only)


@pytest.mark.parametrize("media", ["json", "xml"])
def test_a_short_last_page_and_a_page_size_em_chose_itself_are_whole_answers(media):
    # EM may use another page size than asked (PageSize says which): pages of 50, the last one short
    def page_of(page):
        return ITEMS[(page - 1) * 50: page * 50], paging_info(page, 5, 50)
    fake = serve(media, page_of)
    items, _info = run_query(make_client(fake, media=media), concurrency=1)
    assert len(items) == 250 and len(fake.api_calls()) == 5


def test_a_lower_case_next_rel_is_a_next_link():
    def page_of(page):
        paging = paging_info(page, 3, 100)
        del paging["PagesCount"]
        for link in paging["Links"]:
            link["Rel"] = link["Rel"].lower()
        return chunk(page), paging
    items, _info = run_query(make_client(serve("json", page_of)))
    assert len(items) == 250


# ---- pages that say nothing of the pages after them (attack, session 17) ---------------------------------------
# No PagingInfo, "PagingInfo": null, or one without PagesCount and links: a page filled to the size asked for was
# read as the whole result and the walk stopped - 150 of 250 sessions lost without a word.

SILENT_PAGING = {"absent": lambda page: None, "without_count_and_links": lambda page: {"PageNum": page, "PageSize": 100},
                 "links_null": lambda page: {"PageNum": page, "PageSize": 100, "Links": None}}


@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("paging", sorted(SILENT_PAGING))
def test_a_full_page_that_says_nothing_of_more_pages_is_followed(media, paging):
    fake = serve(media, lambda page: (chunk(page), SILENT_PAGING[paging](page)))
    items, info = run_query(make_client(fake, media=media), concurrency=4)
    assert [item["uid"] for item in items] == [item["UID"] for item in ITEMS]
    assert [int(call.query["page"]) for call in fake.api_calls()] == [1, 2, 3] and info.pages == 3


@pytest.mark.parametrize("media", ["json", "xml"])
def test_a_full_page_exactly_at_the_end_costs_one_empty_page(media):
    fake = serve(media, lambda page: (ITEMS[(page - 1) * 100: min(page * 100, 200)], None))
    items, _info = run_query(make_client(fake, media=media))
    assert len(items) == 200 and [int(call.query["page"]) for call in fake.api_calls()] == [1, 2, 3]


def test_a_page_larger_than_asked_without_paging_info_is_the_whole_result():
    # FACTS 2.6: "by default, all query results are displayed on one page": EM did not apply pageSize
    fake = serve("json", lambda page: (ITEMS, None))
    items, _info = run_query(make_client(fake))
    assert len(items) == 250 and len(fake.api_calls()) == 1


def test_full_pages_without_paging_info_that_ignore_the_page_parameter_are_refused():
    fake = serve("json", lambda page: (chunk(1), None))
    with pytest.raises(EMResponseError, match="loop: 3 pages in a row"):
        run_query(make_client(fake))


@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_pages_that_repeat_page_one_without_saying_which_page_they_are_are_refused(media, concurrency):
    # PagesCount 3, no PageNum and no links: refuse_other_page cannot see that ``page`` was ignored; the
    # repeated items were dropped by UID and 150 of 250 sessions were lost without a word
    def page_of(page):
        return chunk(1), {"PageSize": 100, "PagesCount": 3, "Links": None}
    with pytest.raises(EMResponseError, match="page 2 of 3 repeats the page before it"):
        run_query(make_client(serve(media, page_of), media=media), concurrency=concurrency)


def test_a_page_that_repeats_a_few_items_of_the_page_before_is_a_shift_not_a_repeat():
    pages = {1: ITEMS[0:100], 2: ITEMS[98:198], 3: ITEMS[198:250]}
    items, _info = run_query(make_client(serve("json", lambda page: (pages[page], {"PageSize": 100, "PagesCount": 3}))))
    assert len(items) == 250


@pytest.mark.parametrize("media", ["json", "xml"])
@pytest.mark.parametrize("said", [0, "below"])
def test_a_pages_count_below_a_page_of_items_is_no_count(media, said):
    # PagesCount 0 beside a full page 1 (or below the page read): the walk stopped there, 150 of 250 lost
    def page_of(page):
        return chunk(page), {"PageNum": page, "PageSize": 100, "PagesCount": 0 if said == 0 else page - 1}
    items, _info = run_query(make_client(serve(media, page_of), media=media), concurrency=1)
    assert len(items) == 250


def test_a_walk_restarted_after_a_re_logon_reads_its_pages_again_without_a_repeat_refusal():
    # the repeat check compares the pages of one walk: after the restart, pages 1-2 are read again (all items known)
    from unit.plugins.module_utils.em_fake import error_body
    state = {"expired": True}

    def handler(call):
        if call.path != "/api/query":
            return None
        page = int(call.query["page"])
        if page == 3 and state["expired"]:
            state["expired"] = False
            return Reply(401, error_body("json", 401, "expired"))
        return Reply(200, body("json", chunk(page), {"PageSize": 100, "PagesCount": 3, "Links": None}))
    fake = FakeEM("json", handler)
    items, _info = run_query(make_client(fake), concurrency=1)
    assert len(items) == 250 and [call.query["page"] for call in fake.api_calls()] == ["1", "2", "3", "1", "2", "3"]
