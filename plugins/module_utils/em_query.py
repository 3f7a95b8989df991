# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""From a resource table to module options, and from module options to an EM query.

Everything here is derived from ``em_resources``: the argument spec of the filter options, the
``sort_by`` choices and the filter expression. Validation happens here, before any request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_filter_expr
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import EMValidationError

# Measured with tests/unit/plugins/module_utils/bench_media_type.py (decode + normalise of one
# synthetic BackupTaskSession page, Python 3.11, best of 5):
#   page   100: json   1.7 ms (113 KiB)  xml   7.4 ms (117 KiB)
#   page   500: json   8.8 ms (566 KiB)  xml  38.2 ms (586 KiB)
#   page  1000: json  18.1 ms (1.1 MiB)  xml  89.2 ms (1.1 MiB)
#   page  5000: json 110.2 ms (5.5 MiB)  xml 497.1 ms (5.7 MiB)
# JSON is 4.5-5x cheaper per item (17-22 us vs 75-100 us), so it is the default. Per-item cost
# is flat up to 1000 and grows beyond.
# End to end against the emulator (1000 VMs x 30 days, 30407 backup task sessions, 20 ms added
# latency per request, TLS, whole walk incl. logon/logoff):
#   page_size  100: json 11.9 s (1 thread) / 5.0 s (4)   xml 14.8 s / 5.8 s
#   page_size  500: json  4.4 s / 2.4 s                  xml  6.0 s / 5.3 s
#   page_size 1000: json  2.9 s / 2.3 s                  xml  6.0 s / 5.3 s
#   page_size 2000: json  2.5 s / 2.6 s                  xml  6.1 s / 5.3 s
# 1000 is where larger pages stop paying off (bodies ~1.1 MiB), hence page_size 1000, json,
# concurrency 4.
DEFAULT_PAGE_SIZE = 1000
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32  # = the connection pool size of em_client; EM documents no concurrency limit
DEFAULT_MEDIA_TYPE = "json"


def media_type_argument_spec():
    """Option ``media_type``, declared here once for every module that has it."""
    return {"type": "str", "default": DEFAULT_MEDIA_TYPE, "choices": ["json", "xml"]}


def filter_argument_spec(resource):
    """One option per typed filter of the table (``uid``, ``state``, ``created_after``, ...)."""
    spec = {}
    for option, field, _operator in resource.filter_options():
        spec[option] = _option_spec(field)
    return spec


def _option_spec(field):
    if field.kind in ("uid", "enum"):
        return {"type": "list", "elements": "str"}
    if field.kind == "text":
        if field.option_type == "list":
            return {"type": "list", "elements": "str"}
        return {"type": "raw"}
    if field.kind == "int":
        return {"type": "int"}
    if field.kind == "bool":
        return {"type": "bool"}
    return {"type": "str"}  # datetime: ISO 8601 or relative, parsed by em_filter_expr


def query_argument_spec(resource):
    """Typed filters plus the raw filter, sorting, paging and media options."""
    spec = filter_argument_spec(resource)
    spec.update(
        filter={"type": "str"},
        sort_by={"type": "str", "default": resource.default_sort, "choices": resource.sort_choices()},
        sort_order={"type": "str", "default": resource.sort_direction, "choices": ["asc", "desc"]},
        limit={"type": "int"},
        page_size={"type": "int", "default": DEFAULT_PAGE_SIZE},
        concurrency={"type": "int", "default": DEFAULT_CONCURRENCY},
        media_type=media_type_argument_spec(),
    )
    return spec


def fields_argument_spec(resource):
    """Option ``fields``: which output keys the items carry (choices: the table's outputs)."""
    return {"type": "list", "elements": "str", "choices": resource.output_keys()}


def projected_resource(resource, params):
    """``resource`` with only the outputs of option ``fields`` (and its key field); all when omitted.

    AnsibleModule already refuses names outside the choices; this repeats the check with the
    same wording for callers that bypass the argument spec.
    """
    fields = params.get("fields")
    unknown = [name for name in fields or () if name not in resource.output_keys()]
    if unknown:
        raise EMValidationError("option fields: %s %s not an output key of %s items (choose from %s)"
                                % (", ".join(repr(name) for name in unknown),
                                   "is" if len(unknown) == 1 else "are", resource.name,
                                   ", ".join(resource.output_keys())))
    return resource.project(fields)


def as_values(value, option):
    """A filter option's value(s) as a list of strings: a scalar is one value, never split."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        values = list(value)
    elif isinstance(value, dict):
        raise EMValidationError("option %s: expected a string or a list of strings, got a dictionary" % option)
    else:
        values = [value]
    result = []
    for item in values:
        if isinstance(item, (dict, list, tuple)):
            raise EMValidationError("option %s: list items must be strings, got %r" % (option, item))
        if item is None:
            raise EMValidationError("option %s: list items must not be null" % option)
        result.append(item if isinstance(item, str) else str(item))
    return result


def _field_values(field, option, value):
    values = as_values(value, option)
    if field.kind == "uid":
        return [em_filter_expr.canonical_uid(item, field.uid_kind, option) for item in values]
    if field.kind == "enum":
        return [em_filter_expr.canonical_choice(item, field.choices, option) for item in values]
    return values


def _clause(field, option, operator, value, now):
    if field.kind == "datetime":
        moment = em_filter_expr.parse_datetime(value, option, now=now)
        return em_filter_expr.comparison(field.em_name, operator, em_filter_expr.format_filter_datetime(moment), option)
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise EMValidationError("option %s: %r must be true or false" % (option, value))
        return em_filter_expr.comparison(field.em_name, operator, "true" if value else "false", option)
    if field.kind == "int":
        if isinstance(value, bool) or int(value) < 0:
            raise EMValidationError("option %s: %r must be a non-negative integer" % (option, value))
        return em_filter_expr.comparison(field.em_name, operator, int(value), option)
    values = _field_values(field, option, value)
    if not values:
        return None
    return em_filter_expr.any_of(field.em_name, values, option, operator)


def build_filter(resource, params, now=None):
    """The EM filter expression for the module's parameters (None when nothing is filtered)."""
    clauses = []
    for option, field, operator in resource.filter_options():
        value = params.get(option)
        if value is None or value == []:
            continue
        clauses.append(_clause(field, option, operator, value, now))
    raw = params.get("filter")
    if raw is not None and not str(raw).strip():
        raise EMValidationError("option filter: the filter expression is empty")
    return em_filter_expr.all_of(clauses, raw)


def sort_field(resource, option_name):
    """EM field name for a ``sort_by`` choice (the choices are the table's sortable fields)."""
    field = resource.field(option_name)
    if not field.sortable:
        raise EMValidationError("option sort_by: %s cannot be sorted on" % option_name)
    return field.em_name


def check_paging(params):
    """Refuse paging values EM would reject or misread, before anything is sent."""
    limit = params.get("limit")
    if limit is not None and limit < 1:
        raise EMValidationError("option limit: %r must be 1 or more (omit it for no limit)" % limit)
    if params.get("page_size") is not None and params["page_size"] <= 0:
        raise EMValidationError("option page_size: %r must be greater than 0" % params["page_size"])
    concurrency = params.get("concurrency")
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise EMValidationError("option concurrency: %r must be between 1 and %d" % (concurrency, MAX_CONCURRENCY))
