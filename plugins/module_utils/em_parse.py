# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The neutral tree of an EM answer to normalised items: what the modules return.

Whatever the wire says, modules see the same dicts (docs/CONTRACTS.md 2). Two steps, two files:

1. ``decode`` (em_decode) turns a body into a plain tree whose keys are EM's names, XML and
   JSON alike; it is imported here because every reader starts with it.
2. Here: ``extract_items`` finds the entities of a query result, collection or single entity
   (never reading an unrecognised answer as "no items"), and ``normalise`` applies a resource's
   ``Output`` table (em_resources) to one entity, with em_values' converters. Also here: the
   readers of paging, logon and error documents, and placeholder times.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_decode import decode, is_blank
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMResponseError
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_resources import (
    JOB_SESSION_RUNNING_STATES, TASK_SESSION_RUNNING_STATES)
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_values import (
    guid_of, to_bool, to_datetime, to_int, to_text)


def as_list(value):
    """EM lists: None -> [], a lone dict -> [dict], a list stays."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


QUERY_RESULT_KEYS = ("Entities", "Resources", "Refs", "PagingInfo")


def _keys_of(node):
    """A short description of what an unreadable answer held instead (for error messages)."""
    if isinstance(node, dict):
        keys = sorted(node)
        return "keys: %s%s" % (", ".join(keys[:8]), ", ..." if len(keys) > 8 else "") if keys else "no keys"
    return "a %s" % type(node).__name__


def _list_items(node, list_tag, item_tag, what):
    """The entities of one collection node: XML ``{item_tag: [...]}``, JSON doubled or plain list.

    A blank node (JSON null, ``[]``, XML self-closed element) is an empty collection; a node that
    holds something else, or items that are not objects, cannot be read and raise.
    """
    if is_blank(node):
        return []
    if isinstance(node, dict):
        for key in (item_tag, list_tag):
            if key in node:
                return _list_items(as_list(node[key]), list_tag, item_tag, what)
        raise EMResponseError("%s: the %s collection holds no %s items (%s)" % (what, list_tag, item_tag,
                                                                                _keys_of(node)))
    items = as_list(node)
    unreadable = [item for item in items if not isinstance(item, dict)]
    if unreadable:
        raise EMResponseError("%s: %d of %d %s items are not objects (first: %r)"
                              % (what, len(unreadable), len(items), item_tag, str(unreadable[0])[:80]))
    return items


def _query_items(document, resource, what):
    """Entities of a ``QueryResult`` (_query_collection); an empty one is refused when the answer holds items
    anywhere else (_refuse_stray_items)."""
    items = _query_collection(document, resource, what)
    if not items:
        _refuse_stray_items(document.data, resource, what)
    return items


def _query_collection(document, resource, what):
    """Entities of a ``QueryResult``: ``<container>.<list_tag>``, else ``Refs``; never a guess.

    Real EM 12 JSON lists every ``Entities`` key with the unrequested ones null, so the requested
    key is there even when the result is empty; a container that lacks it is an answer we do not
    understand (e.g. another key spelling), not an empty result (em-api-facts.md 3.3).
    """
    data = document.data
    container = data.get(resource.container)
    if isinstance(container, dict) and resource.list_tag in container:
        return _list_items(container[resource.list_tag], resource.list_tag, resource.item_tag, what)
    if not is_blank(container):
        raise EMResponseError("%s: %s holds no %s collection (%s)"
                              % (what, resource.container, resource.list_tag, _keys_of(container)))
    if not is_blank(data.get("Refs")):  # format=References: reference representations
        return _list_items(data["Refs"], "Refs", "Ref", what)
    # [INF] an empty container element/object, or (XML, format=References) an empty <Refs />
    if resource.container in data or (document.media == "xml" and "Refs" in data):
        return []
    raise EMResponseError("%s: the answer has no %s.%s collection (%s)"
                          % (what, resource.container, resource.list_tag, _keys_of(data)))


# Beside the result container, a QueryResult holds its own Links and PagingInfo (FACTS 3.2, 3.3); nothing else.
_QUERY_RESULT_OWN = ("Links", "PagingInfo")


def _refuse_stray_items(data, resource, what):
    """An empty requested collection beside anything that holds items is not an empty result.

    [OBS: EM 12 JSON] one query answers in one collection, every other key null. An answer whose items are
    elsewhere - another ``Entities`` collection (a mangled ``type``, a proxy's cached answer of another query),
    ``Refs`` (``format`` not applied: the QueryResult keeps ``Entities`` with its keys null [INF]), the other
    container (``Resources`` for ``Entities``), a key beside the list in the requested collection - read as "no
    sessions", and a page that PagingInfo calls the last may be empty; so it is refused, naming where the items
    are. Runs for empty pages only (no per-item work)."""
    stray = []
    for key, value in data.items():
        if key in _QUERY_RESULT_OWN:
            continue
        if key == resource.container and isinstance(value, dict):
            stray.extend(_stray_in_container(value, resource))
        elif isinstance(value, (dict, list)) and _holds_items(value):  # an attribute of the root is no item
            stray.append(key)
    if stray:
        raise EMResponseError("%s: the %s collection is empty but the answer holds %s; refused (not the query that "
                              "was sent)" % (what, resource.list_tag, ", ".join(sorted(stray)[:3])))


def _stray_in_container(container, resource):
    """The keys of the result container that hold items: other collections, or keys beside the requested list."""
    for name, value in container.items():
        if name != resource.list_tag:
            if _holds_items(value):
                yield name
        elif isinstance(value, dict):
            for inner, items in value.items():
                if inner not in (resource.list_tag, resource.item_tag) and _holds_items(items):
                    yield "%s.%s" % (name, inner)


def _holds_items(node):
    """Anything but nothing: not None, "", [], {} nor a (doubled) collection of those."""
    if isinstance(node, dict):
        return any(_holds_items(value) for value in node.values())
    if isinstance(node, list):
        return bool(node)
    return not is_blank(node)


def extract_items(document, resource):
    """Raw entities of a query result, a collection or a single entity document.

    Raises ``EMResponseError`` naming the resource when the expected collection is not in the
    answer: an unrecognised answer is never read as "no items".
    """
    what = "%s answer" % resource.query_type
    data = document.data
    if document.root in (resource.list_tag, "EntityReferences") and is_blank(data):
        return []  # XML resource collection without items: <BackupTaskSessions ... />
    if not isinstance(data, dict):
        raise EMResponseError("%s: the response is not an object/element (%s)" % (what, _keys_of(data)))
    if document.root == resource.item_tag or _looks_like_entity(data, resource):
        return [data]
    if document.root == "QueryResult" or any(key in data for key in QUERY_RESULT_KEYS):
        return _query_items(document, resource, what)
    # resource collection: XML <Tasks><Task/>...</Tasks>, <EntityReferences><Ref/>...; JSON {"Tasks": [...]}
    for key, item_tag in ((resource.item_tag, resource.item_tag), (resource.list_tag, resource.item_tag),
                          ("Ref", "Ref")):
        if key in data:
            return _list_items(data[key], resource.list_tag, item_tag, what)
    raise EMResponseError("%s: no %s or %s in the answer (%s)" % (what, resource.list_tag, resource.item_tag,
                                                                  _keys_of(data)))


def _looks_like_entity(data, resource):
    """A JSON single entity has no root tag: recognise it by its ``Type``."""
    return data.get("Type") in (resource.item_tag, resource.item_tag + "Reference")


def paging(document):
    """(PageNum, PagesCount, has Next link) from ``PagingInfo``; Nones when EM sent none."""
    info = document.data.get("PagingInfo") if isinstance(document.data, dict) else None
    if not isinstance(info, dict):
        return None, None, False
    links = as_list(info.get("Links"))
    # Rel compared without case: keys are canonicalised by em_decode, values are not (EM 13 kept
    # "Next" [OBS]); a "next" that went unseen would end a walk without PagesCount after page 1.
    has_next = any(isinstance(link, dict) and str(link.get("Rel") or "").lower() == "next" for link in links)
    return to_int(info.get("PageNum")), to_int(info.get("PagesCount")), has_next


def page_size(document):
    """``PagingInfo.PageSize`` as EM sent it (the size it really used), or None."""
    info = document.data.get("PagingInfo") if isinstance(document.data, dict) else None
    return to_int(info.get("PageSize")) if isinstance(info, dict) else None


def error_fields(body):
    """EM's ``Error`` (XML attributes or JSON keys): (Message, StatusCode); never the StackTrace."""
    try:
        document = decode(body)
    except EMResponseError:
        return None, None
    data = document.data if isinstance(document.data, dict) else {}
    message = data.get("Message")
    if isinstance(message, str):
        message = message.strip() or None
    else:
        message = None
    return message, to_int(data.get("StatusCode"))


def logon_fields(document):
    """(SessionId, UserName, Delete link Href) of a LogonSession body, XML or JSON."""
    data = document.data if isinstance(document.data, dict) else {}
    if "LogonSession" in data and isinstance(data["LogonSession"], list):  # LogonSessions wrapper
        data = data["LogonSession"][0] if data["LogonSession"] else {}
    delete = [link.get("Href") for link in as_list(data.get("Links"))
              if isinstance(link, dict) and link.get("Rel") == "Delete"]
    return data.get("SessionId") or None, data.get("UserName") or None, (delete or [None])[0]


def logon_sessions(document):
    """Every LogonSession of ``GET /logonSessions`` (XML ``LogonSessions/LogonSession``, JSON list)."""
    data = document.data
    if isinstance(data, dict):
        if document.root == "LogonSession" or "SessionId" in data:
            return [data]
        return as_list(data.get("LogonSession", data.get("LogonSessions")))
    return as_list(data)


def links_of(entity):
    """``Links`` as a list of ``{rel, type, href, name}`` (None for missing attributes)."""
    return [
        {"rel": to_text(link.get("Rel")), "type": to_text(link.get("Type")),
         "href": to_text(link.get("Href")), "name": to_text(link.get("Name"))}
        for link in as_list(entity.get("Links")) if isinstance(link, dict)
    ]


def find_link(links, rel, type_suffix):
    for link in links:
        if link["rel"] == rel and (link["type"] or "").endswith(type_suffix):
            return link
    return None


def related_of(links):
    """Task ``Related`` links as ``{type, href, name, uid}``; uid rebuilt from the Href GUID."""
    related = []
    for link in links:
        if link["rel"] != "Related":
            continue
        guid = guid_of(link["href"])
        kind = link["type"]
        related.append({"type": kind, "href": link["href"], "name": link["name"],
                        "uid": "urn:veeam:%s:%s" % (kind, guid) if kind and guid else None})
    return related


def _dig(entity, path):
    value = entity
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _from_link(output, links):
    link = find_link(links, *output.link)
    if link is None:
        return None
    if output.convert == "link_name":
        return link["name"]
    if output.convert == "job_name":  # [INF]: EM does not send JobName; "<job>@<timestamp>"
        name = link["name"]
        return name.rsplit("@", 1)[0] if name and "@" in name else name
    guid = guid_of(link["href"])
    return "urn:veeam:%s:%s" % (output.urn_kind, guid) if guid else None


CONVERTERS = {
    "text": to_text,
    "int": to_int,
    "bool": to_bool,
    "datetime": to_datetime,
    "guid": guid_of,
}


def normalise(entity, resource, with_links=True):
    """One raw entity -> the flat, typed, snake_case dict of CONTRACTS.md 2 (every key present).

    Only ``resource.outputs`` are computed: a projected resource (``Resource.project``) skips the
    others. ``with_links=False`` skips parsing ``Links`` when no output needs them.
    """
    links = links_of(entity) if with_links else []
    item = {}
    for output in resource.outputs:
        if output.link is not None:
            item[output.key] = _from_link(output, links)
        elif output.convert == "links":
            item[output.key] = links
        elif output.convert == "related":
            item[output.key] = related_of(links)
        else:
            value = _dig(entity, output.source)
            if value is None and output.fallback is not None:
                value = _dig(entity, output.fallback)
            item[output.key] = CONVERTERS[output.convert](value)
            if output.convert == "datetime":
                item[output.key] = _real_time(item[output.key])
    for key in ENUM_KEYS:
        value = item.get(key)
        if value is not None and value not in ENUM_VALUES:
            item[key] = _enum_spelling(value)
    if "end_time" in item and item["end_time"] is not None:
        item["end_time"] = _real_end(entity, item["end_time"], item.get("creation_time", _UNSET))
    return item


# ---- enum values in EM's spelling (FACTS 2.4, 5.2-5.5) ---------------------------------------------
# EM documents its enums in one spelling and compares them without case in filters [DOC]; answers
# were only seen in that spelling, EM 13's camelCase JSON included (values unchanged) [OBS]. A value
# in another case ("success", "COMPLETED") means the same and is given EM's spelling, so the rules'
# exact comparisons see it; anything else is kept as sent (an unknown State or Result is never a
# success: _compliance/sessions.py).
ENUM_KEYS = ("state", "result")
ENUM_VALUES = frozenset(("InProgress", "Pending", "Completed", "Starting", "Stopping", "Working", "Pausing",
                         "Resuming", "Stopped", "Running", "OperationFinished", "Finished",
                         "Success", "Warning", "Failed"))
_ENUM_BY_LOWER = dict((value.lower(), value) for value in ENUM_VALUES)


def _enum_spelling(value):
    return _ENUM_BY_LOWER.get(value.strip().lower(), value) if isinstance(value, str) else value


# ---- placeholder and impossible times (em-api-facts.md 5, 6) -----------------------------------
# A running session may carry 1900-01-01T00:00:00 or .NET's 0001-01-01T00:00:00 as its end time,
# unset dates appear as 1753-01-01 (SQL minimum) [OBS]. EM did not exist before 1970: any earlier
# time is a placeholder. An end on a running session, or before the creation, is no end either.
RUNNING_STATES = frozenset(TASK_SESSION_RUNNING_STATES + JOB_SESSION_RUNNING_STATES + ("Running",))
EPOCH_YEAR = 1970
# .NET's DateTime.MaxValue (9999-12-31T23:59:59.9999999) is the other "no date" of .NET code [INF: the
# same serializer that writes DateTime.MinValue, 0001-01-01, above; not seen from EM]. A session dated
# there is not real; as a creation time it would be a success "ahead" until the year 9999.
MAX_VALUE_YEAR = 9999
_UNSET = object()


def _time_key(text):
    """A ``to_datetime`` string (``YYYY-MM-DDTHH:MM:SS[.f]Z``) as text that sorts like the time.

    String slicing, not strptime: this runs for every session of every page (strptime tripled
    the per-item cost). None for anything that is not in that form.
    """
    if not isinstance(text, str) or len(text) < 20 or text[10] != "T" or text[-1] != "Z":
        return None
    head, _dot, fraction = text[:-1].partition(".")
    return head + "." + fraction.ljust(6, "0")


def _real_time(text):
    """None for a placeholder time (before 1970, or in year 9999); anything else unchanged."""
    if isinstance(text, str) and text[:4].isdigit() and not EPOCH_YEAR <= int(text[:4]) < MAX_VALUE_YEAR:
        return None
    return text


def _real_end(entity, end_time, item_created):
    """The normalised end time, or None when the session is running or it ends before it began."""
    if _enum_spelling(to_text(entity.get("State"))) in RUNNING_STATES:
        return None
    created = item_created if item_created is not _UNSET else _real_time(to_datetime(entity.get("CreationTimeUTC")))
    created, ended = _time_key(created), _time_key(end_time)
    if created is not None and ended is not None and ended < created:
        return None
    return end_time


def normalise_document(document, resource):
    """All items of one decoded page, normalised (the raw tree can then be dropped).

    Whether an empty page may be empty is the pager's question (em_pager: ``refuse_empty_page``).
    """
    with_links = resource.uses_links
    return [normalise(entity, resource, with_links) for entity in extract_items(document, resource)]


# ---- items that lack what a consumer needs ------------------------------------------------------

def incomplete_items_warning(items, resource):
    """A warning naming how many items lack their key (UID, TaskId) or creation time; None if none.

    Such items are still returned (with ``None`` there): an info module never drops an item, but
    it says so, with the count and the first offending item's UID (or name when it has no UID).
    Only the keys the (possibly projected) items carry are checked; ``items`` may be ``Rows``.
    """
    needed = [key for key in (resource.key_field, "creation_time") if key in resource.output_keys()]
    count, first = 0, None
    for item in items:
        missing = [key for key in needed if item.get(key) in (None, "")]
        if missing:
            count += 1
            if first is None:
                first = (item.get(resource.key_field) or item.get("name") or "(no UID, no name)", missing)
    if not count:
        return None
    return ("%d %s item(s) lack %s (placeholder or unreadable in EM's answer; returned with null there); "
            "first: %s" % (count, resource.item_tag, " or ".join(needed), first[0]))
