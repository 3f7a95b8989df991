# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""The declarations the resource tables are written in: ``QueryField``, ``Output``, ``Resource``.

The tables themselves (one ``Resource`` per EM resource) are in em_resources; everything else
(the options, ``sort_by`` choices, filters, normalisation, projection, docs check) derives from them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


class QueryField:
    """One documented ``/api/query`` field of a resource.

    kind: ``uid`` (URN or GUID, list = OR), ``text`` (string or list = OR), ``enum`` (documented
    values, case-insensitive, list = OR), ``datetime`` and ``int`` (range options), ``bool``
    (``true``/``false``).
    ``options`` maps each module option to the filter operator it produces; the default is
    ``{<snake name>: "=="}``.
    """

    def __init__(self, em_name, name, kind, choices=None, uid_kind=None, options=None, sortable=True,
                 option_type=None):
        self.em_name = em_name
        self.name = name
        self.kind = kind
        self.choices = tuple(choices or ())
        self.uid_kind = uid_kind
        self.options = options or ((name, "=="),)
        self.sortable = sortable
        # Argument-spec type override; free text defaults to ``raw`` (a string or a list)
        # because Ansible splits a ``list`` option given as a string on commas, which would
        # silently turn ``reason: "a, b"`` into an OR of two values.
        self.option_type = option_type


class Output:
    """One key of a normalised item and where its value comes from.

    ``source`` is an EM key path (tuple) in the entity, or ``None`` when the value comes from a
    link (``link=(rel, type suffix)``); ``convert`` names a function of ``em_parse.CONVERTERS``.
    ``fallback`` is a second key path read when ``source`` is absent (EM spells some fields two
    ways, e.g. VmRestorePoint ``VmName`` element vs ``VmDisplayName`` attribute).
    """

    def __init__(self, key, source=None, convert="text", link=None, urn_kind=None, fallback=None):
        self.key = key
        self.source = source if source is None or isinstance(source, tuple) else (source,)
        self.convert = convert
        self.link = link
        self.urn_kind = urn_kind
        self.fallback = fallback if fallback is None or isinstance(fallback, tuple) else (fallback,)


class Resource:
    """Everything the client and the modules need to know about one EM resource."""

    def __init__(self, name, query_type, entity_path, list_tag, item_tag, return_key, key_field,
                 fields, outputs, container="Entities", default_sort=None, sort_direction="desc"):
        self.name = name
        self.query_type = query_type
        self.entity_path = entity_path
        self.list_tag = list_tag
        self.item_tag = item_tag
        self.return_key = return_key
        self.key_field = key_field
        self.fields = tuple(fields)
        self.outputs = tuple(outputs)
        self.container = container
        self.default_sort = default_sort
        self.sort_direction = sort_direction

    @property
    def format_param(self):
        """``format=Entities`` for key resources; Task has a single representation (no format)."""
        return "Entities" if self.container == "Entities" else None

    def field(self, name):
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    def filter_options(self):
        """(option name, field, operator) for every typed filter option, in table order."""
        return [(option, field, operator) for field in self.fields for option, operator in field.options]

    def sort_choices(self):
        return [field.name for field in self.fields if field.sortable]

    def output_keys(self):
        """The keys of a normalised item, in table order (the ``fields`` choices)."""
        return [output.key for output in self.outputs]

    def project(self, keys):
        """This resource with only the outputs named in ``keys``, plus the key field.

        The key field (``uid``, ``task_id``) is always kept: the client deduplicates pages on it.
        ``None`` or an empty list means every output (the resource itself is returned). The
        copy shares everything else, so the client queries it exactly like the full resource,
        and normalisation computes only the kept outputs.
        """
        if not keys:
            return self
        known = self.output_keys()
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise ValueError("%s has no output key %s (known: %s)"
                             % (self.name, ", ".join(unknown), ", ".join(known)))
        wanted = set(keys)
        wanted.add(self.key_field)
        projected = copy.copy(self)
        projected.outputs = tuple(output for output in self.outputs if output.key in wanted)
        return projected

    @property
    def uses_links(self):
        """Whether any output is read from the entity's ``Links`` (else they are not parsed)."""
        return any(output.link is not None or output.convert in ("links", "related") for output in self.outputs)
