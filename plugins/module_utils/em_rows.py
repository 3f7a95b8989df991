# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Memory: normalised items held compactly while a query collects them (the pager's ``_Collector``).

``Interner`` shares the equal strings of plain item lists; ``Rows`` packs and compresses items
for the compliance read (``compact=True``), handing them out again as fresh, equal dicts;
``PackedRows`` holds the compliance evaluation's VM rows the same way, sortable and writable by index.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import marshal
import pickle
import zlib

from ansible.module_utils.six.moves.collections_abc import Sequence


class Interner:
    """One string object per distinct value of an output key (state, result, job, server, VM...).

    A page of 1000 sessions carries the same few states, job and server names a thousand times,
    each a separate string after parsing; sharing them saves most of the items' memory. The
    pool of a key whose values turn out (nearly) all different - names, times, UIDs - is dropped
    after a sample, so unique values cost nothing extra. Values and equality are unchanged.
    """

    CHECK_EVERY = 4096   # values seen between two looks at a key's pool
    MAX_DISTINCT = 0.5   # a pool holding more than this share of the values seen is given up

    def __init__(self):
        self._pools = {}
        self._seen = {}

    def share(self, key, value):
        """``value`` itself, or the equal string seen before under ``key``."""
        if type(value) is not str:  # pylint: disable=unidiomatic-typecheck
            return value
        pool = self._pools.get(key)
        if pool is None:
            if key in self._pools:  # given up
                return value
            pool = self._pools[key] = {}
            self._seen[key] = 0
        shared = pool.setdefault(value, value)
        seen = self._seen[key] = self._seen[key] + 1
        if seen % self.CHECK_EVERY == 0 and len(pool) > self.MAX_DISTINCT * seen:
            self._pools[key] = None
        return shared

    def share_item(self, item):
        """The item with its string values (and those of its lists of dicts) shared, in place."""
        for key, value in item.items():
            if isinstance(value, list):
                for entry in value:
                    if isinstance(entry, dict):
                        for name, inner in entry.items():
                            entry[name] = self.share((key, name), inner)
            else:
                item[key] = self.share(key, value)
        return item


class Rows(Sequence):
    """Normalised items kept packed and compressed, handed out as fresh dicts (a read-only sequence).

    A dict of 13-19 keys costs ~460 bytes and each of its unique strings 50-110 more; 100,000
    sessions held as dicts take several times the JSON they become. Here an item is a tuple of
    its values (a list of link dicts becomes ``(keys, values, values, ...)``), and every ``block``
    items are marshalled and zlib-compressed together (the same job, server, VM and link texts
    repeat throughout a page). Iterating or indexing rebuilds equal dicts in the original key
    order; items whose keys differ from the first item's are stored as they are. Only values of
    JSON types are expected (str, int, float, bool, None, list, dict): what normalise produces.
    """

    BLOCK = 1000

    def __init__(self, block=None):
        self._block = block or self.BLOCK
        self._keys = None
        self._blocks = []      # compressed, ``block`` rows each
        self._tail = []        # the rows of the block being filled
        self._length = 0
        self._cached = (None, None)  # (block number, its rows): indexing within a block

    def __len__(self):
        return self._length

    def __bool__(self):
        return self._length > 0

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("Rows index out of range")
        number, offset = divmod(index, self._block)
        return self._expand(self._rows_of(number)[offset])

    def __iter__(self):
        for number in range(len(self._blocks) + 1):
            for row in self._rows_of(number):
                yield self._expand(row)

    def __eq__(self, other):
        return list(self) == list(other) if isinstance(other, (list, Rows)) else NotImplemented

    __hash__ = None

    def append(self, item):
        if self._keys is None and isinstance(item, dict):
            self._keys = tuple(item)
        if isinstance(item, dict) and tuple(item) == self._keys:
            item = tuple(_pack(value) for value in item.values())
        self._tail.append(item)
        self._length += 1
        if len(self._tail) >= self._block:
            self._blocks.append(zlib.compress(marshal.dumps(self._tail), 1))
            self._tail = []

    def _rows_of(self, number):
        if number == len(self._blocks):
            return self._tail
        if self._cached[0] != number:
            self._cached = (None, None)
            self._cached = (number, marshal.loads(zlib.decompress(self._blocks[number])))
        return self._cached[1]

    def _expand(self, row):
        if not isinstance(row, tuple):
            return copy.deepcopy(row)
        item = {}
        for key, value in zip(self._keys, row):
            if isinstance(value, tuple):
                keys = value[0]
                value = [dict(zip(keys, entry)) for entry in value[1:]]
            elif isinstance(value, (list, dict)):
                value = copy.deepcopy(value)
            item[key] = value
        return item


def _pack(value):
    """A list of dicts with the same keys -> ``(keys, values, ...)``; anything else unchanged."""
    if not isinstance(value, list) or not value or not all(isinstance(entry, dict) for entry in value):
        return value
    keys = tuple(value[0])
    if any(tuple(entry) != keys for entry in value):
        return value
    return (keys,) + tuple(tuple(entry.values()) for entry in value)


class PackedRows(Sequence):
    """Rows (dicts) kept pickled and zlib-compressed in blocks, handed out as fresh, equal dicts.

    For the evaluation's VM rows (issue 18: 50,000 full rows - findings, day grids - were 65 MB as
    dicts, the largest thing the module held after the read). A row is pickled once (any value
    pickle takes, exactly: types, key order, float bits), ``block`` rows' pickles are compressed
    together. Reading is the sequence protocol (len, iteration, indexing), each row a new dict:
    a caller that changes a row writes it back (``rows[index] = row``), as with a list it changes
    nothing. ``sort`` (stable, as ``list.sort``) moves the pickles, not dicts, a chunk at a time.
    """

    BLOCK = 256
    SORT_CHUNK = 4000  # at least this many rows' pickles are placed per pass of ``sort`` (~1.3 KB each)

    def __init__(self, rows=(), block=None):
        self._block = block or self.BLOCK
        self._blocks = []     # zlib of the pickled list of ``block`` row pickles
        self._tail = []       # the row pickles of the block being filled
        self._length = 0
        self._cached = (None, None)  # (block number, its row pickles)
        for row in rows:
            self.append(row)

    def __len__(self):
        return self._length

    def __bool__(self):
        return self._length > 0

    __nonzero__ = __bool__

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(self._length))]
        number, offset = divmod(self._position(index), self._block)
        return pickle.loads(self._pickles_of(number)[offset])

    def __setitem__(self, index, row):
        number, offset = divmod(self._position(index), self._block)
        pickles = list(self._pickles_of(number))
        pickles[offset] = _pickled(row)
        if number == len(self._blocks):
            self._tail = pickles
        else:
            self._blocks[number] = _compressed(pickles)
            self._cached = (None, None)

    def __iter__(self):
        for data in self._all_pickles():
            yield pickle.loads(data)

    def __eq__(self, other):
        return list(self) == list(other) if isinstance(other, (list, PackedRows)) else NotImplemented

    __hash__ = None

    def append(self, row):
        self._append_pickle(_pickled(row))

    def sort(self, key):
        """Sort in place by ``key(row)``, stable; the keys are computed once, then the pickles are
        placed in their new order a chunk of positions at a time (one decompression pass each), so
        neither all rows as dicts nor all pickles uncompressed are held at once."""
        keys = [key(row) for row in self]
        order = sorted(range(self._length), key=keys.__getitem__)
        keys = None
        rank = [0] * self._length
        for place, index in enumerate(order):
            rank[index] = place
        order = None
        sorted_rows = PackedRows(block=self._block)
        chunk = max(self.SORT_CHUNK, -(-self._length // 16))
        for low in range(0, self._length, chunk):
            placed = [None] * min(chunk, self._length - low)
            for index, data in enumerate(self._all_pickles()):
                if low <= rank[index] < low + chunk:
                    placed[rank[index] - low] = data
            for data in placed:
                sorted_rows._append_pickle(data)  # pylint: disable=protected-access
        self.__dict__.update(sorted_rows.__dict__)

    def _position(self, index):
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("PackedRows index out of range")
        return index

    def _append_pickle(self, data):
        self._tail.append(data)
        self._length += 1
        if len(self._tail) >= self._block:
            self._blocks.append(_compressed(self._tail))
            self._tail = []

    def _pickles_of(self, number):
        if number == len(self._blocks):
            return self._tail
        if self._cached[0] != number:
            self._cached = (None, None)
            self._cached = (number, pickle.loads(zlib.decompress(self._blocks[number])))
        return self._cached[1]

    def _all_pickles(self):
        for number in range(len(self._blocks)):
            yield from pickle.loads(zlib.decompress(self._blocks[number]))
        yield from list(self._tail)


def _pickled(row):
    return pickle.dumps(row, pickle.HIGHEST_PROTOCOL)


def _compressed(pickles):
    return zlib.compress(pickle.dumps(pickles, pickle.HIGHEST_PROTOCOL), 1)
