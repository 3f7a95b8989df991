"""Attacks on the verdict through the shapes of EM's answers (session 17), each a night stated as the entities EM
holds and read by the compliance module over the fake EM's wire (wire_em: EM 12 JSON, EM 13 camelCase JSON, XML).

* Pages that say nothing of the pages after them (no PagingInfo, ``"PagingInfo": null``, one without PagesCount and
  links): a page filled to the page size asked for was read as the whole window, the failure on the next page was
  lost and the night was compliant (em_pager.may_continue).
"""
import json

import pytest

from unit.plugins.module_utils.em_fake import Reply, query_result_json, query_result_xml

from . import wire_em as wire

NOW = "2025-06-29T06:00:00Z"
MEDIA = [("json", False), ("json", True), ("xml", False)]


def _night_of_two_pages():
    """Five VMs backed up the day before, db01's last run failed: six sessions, on two pages of three."""
    ok = wire.job_session("Job A", "2025-06-28T08:00:00Z", "2025-06-28T09:00:00Z")
    bad = wire.job_session("Job A", "2025-06-29T01:00:00Z", "2025-06-29T02:00:00Z", result="Failed")
    tasks = [wire.task_session("vm%02d" % i, ok, "2025-06-28T08:%02d:05Z" % i, "2025-06-28T08:30:00Z") for i in range(4)]
    tasks += [wire.task_session("db01", ok, "2025-06-28T08:40:05Z", "2025-06-28T08:50:00Z"),
              wire.task_session("db01", bad, "2025-06-29T01:00:05Z", "2025-06-29T01:30:00Z", result="Failed",
                                reason="Error: Failed to create VM snapshot")]
    return {"BackupTaskSession": tasks, "BackupJobSession": [ok, bad], "BackupServer": [wire.server_entity()],
            "Job": [wire.JOB_ENTITY]}


SILENT_PAGING = {"absent": lambda page, size: None,
                 "without_count_and_links": lambda page, size: {"PageNum": page, "PageSize": size, "Links": None}}


def _silent_pages(media, camel, paging):
    def hook(call, items):
        size, page = int(call.query["pageSize"]), int(call.query["page"])
        chunk, info = items[(page - 1) * size: page * size], SILENT_PAGING[paging](page, size)
        if media == "xml":
            return Reply(200, query_result_xml("BackupTaskSessions", "BackupTaskSession", chunk, info))
        body = query_result_json("BackupTaskSessions", chunk, info)
        return Reply(200, json.dumps(wire._camel(json.loads(body))).encode() if camel else body)
    return hook


@pytest.mark.parametrize("media, camel", MEDIA)
@pytest.mark.parametrize("paging", sorted(SILENT_PAGING))
def test_a_failure_on_a_page_no_paging_info_announces_is_read(monkeypatch, capsys, media, camel, paging):
    result, fake = wire.run(monkeypatch, capsys, _night_of_two_pages(), NOW, media=media, camel=camel,
                            check_replicas=False, check_jobs=False, page_size=3,
                            hooks={"BackupTaskSession": _silent_pages(media, camel, paging)})
    assert wire.verdicts(result)["db01"] == ("violation", ["last_backup_failed"])
    assert result["compliance"]["compliant"] is False and result["queries"]["backup_task_sessions"]["items"] == 6


@pytest.mark.parametrize("media, camel", MEDIA)
def test_pages_that_repeat_page_one_without_a_page_number_are_an_error(monkeypatch, capsys, media, camel):
    """PagesCount 2, no PageNum, no links, ``page`` ignored: page 2 repeated page 1, its items were dropped as
    duplicates and db01's failure (on the real page 2) was never read: compliant."""
    def hook(call, items):
        info = {"PageSize": 3, "PagesCount": 2, "Links": None}
        if media == "xml":
            return Reply(200, query_result_xml("BackupTaskSessions", "BackupTaskSession", items[:3], info))
        body = query_result_json("BackupTaskSessions", items[:3], info)
        return Reply(200, json.dumps(wire._camel(json.loads(body))).encode() if camel else body)
    result, _fake = wire.run(monkeypatch, capsys, _night_of_two_pages(), NOW, media=media, camel=camel,
                             check_replicas=False, check_jobs=False, page_size=3, hooks={"BackupTaskSession": hook})
    compliance = result["compliance"]
    assert compliance["compliant"] is False and compliance["status"] == "error"
    assert [item["code"] for item in compliance["errors"]] == ["read_error"]
    assert "repeats the page before it" in compliance["errors"][0]["message"]
