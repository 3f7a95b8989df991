# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Raw filter, paging and media options of the query-based info modules.

    Mirrors em_query.query_argument_spec() (all but ``sort_by``/``sort_order``, whose choices and
    defaults differ per resource); a unit test compares them.

    ``fields`` is documented here without ``choices``: each module adds ``fields: choices:`` with its
    resource's output keys, and ansible-core merges the two entries key by key.
    """

    DOCUMENTATION = r"""
options:
  fields:
    description:
      - Return only these keys in each item (the choices are the item keys listed under RETURN, in that order);
        the module then computes only those keys, which makes the result smaller and faster to hand to Ansible
        when many items are read.
      - The item's key field (C(uid)) is always returned, also when not listed, because
        the pages read are deduplicated on it.
      - Omit (or give an empty list) for every key. An unknown name fails the module before any request.
      - The C(task_sessions) key of the job-session info modules is not a choice; it is always returned, as
        set by their option C(include_task_sessions).
    type: list
    elements: str
  filter:
    description:
      - A raw EM filter expression (for example V(Result==Failed,Result==Warning)), ANDed in parentheses with
        the typed options. It must have balanced parentheses and quotes.
      - Values in it should be quoted, C(Name=="a b"); EM silently drops unquoted spaces.
    type: str
  limit:
    description:
      - Return at most this many items (in sort order); paging stops as soon as they are read.
      - Omit for all matching items.
    type: int
  page_size:
    description:
      - Items per request. Every page is read.
    type: int
    default: 1000
  concurrency:
    description:
      - Pages fetched in parallel (1 to 32) once the number of pages is known from the first page.
    type: int
    default: 4
  media_type:
    description:
      - Representation requested from EM. Both give identical results; V(json) parses faster.
    type: str
    default: json
    choices: [json, xml]
"""
