"""The ``/api/query`` engine: filter → visible items → sort → page, with a small result cache.

Performance notes (150k task sessions must answer a 24 h window in well under a second):
* sources are kept sorted by (CreationTime, GUID); when the filter is a top-level AND (or a
  single comparison) with CreationTime bounds we bisect the slice first and run the full
  predicate only on it — the general evaluator still decides, so results are identical;
* a query's full sorted result is cached per (type, filter, sort, scope, dataset version), so
  walking 150 pages does one filter+sort, not 150. Any change to the data bumps the version.
"""
import bisect
import math
import threading
from collections import OrderedDict
from urllib.parse import quote

from . import filterexpr
from .filterexpr import FilterError

DEFAULT_PAGE_SIZE = 100


def _ct_key(x):
    return x.ct


class QueryError(Exception):
    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status
        self.message = message


class ResultCache:
    def __init__(self, size=32):
        self.size = size
        self.data = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
            return v

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


def select(qtype, items, filter_text, sort_field, sort_desc, visible):
    """Return the filtered, visible, sorted list (uncached)."""
    ast = filterexpr.parse(filter_text)
    pred = filterexpr.compile_filter(ast, qtype.fields, qtype.name)
    field = None
    if sort_field:
        field = qtype.fields.get(sort_field.lower())
        if field is None:
            raise FilterError("Invalid sort field '%s' for type '%s'" % (sort_field, qtype.name))
    src = items
    if qtype.sorted_by_ct:
        bounds = filterexpr.time_bounds(ast)
        if bounds is not None:
            lo, hi = bounds[0], bounds[1]
            i = 0 if lo is None else bisect.bisect_left(src, lo, key=_ct_key)
            j = len(src) if hi is None else bisect.bisect_right(src, hi, key=_ct_key)
            src = src[i:j]
    if visible is None:
        out = [x for x in src if pred(x)]
    else:
        out = [x for x in src if visible(x) and pred(x)]
    if field is not None:
        if not qtype.sorted_by_ct or field.name != "CreationTime":
            # stable tie-break: UID ascending, whatever the direction
            out.sort(key=lambda x: x.uid)
        key = field.sort_key
        out.sort(key=key, reverse=sort_desc)
    return out


def page_params(params):
    """pageSize/page from the (lower-cased) query parameters; QueryError(400) when invalid."""
    def num(name, default):
        raw = params.get(name.lower())
        if raw is None or raw == "":
            return default
        try:
            v = int(raw.strip())
        except ValueError:
            raise QueryError(400, "Invalid %s value '%s': a positive integer is expected" % (name, raw))
        if v <= 0:
            raise QueryError(400, "Invalid %s value '%s': must be greater than 0" % (name, raw))
        return v
    return num("pageSize", DEFAULT_PAGE_SIZE), num("page", 1)


def paging(base, raw_params, total, page_size, page):
    """PagingInfo dict: num/size/count and First/Previous/Next/Last links.

    ``raw_params`` is the list of (name, value) the client sent (original spelling); links repeat
    type/format/sort/filter and set pageSize/page, in EM's observed order.
    """
    count = int(math.ceil(total / float(page_size))) if total else 0
    keep = []
    filt = None
    for k, v in raw_params:
        kl = k.lower()
        if kl in ("type", "format", "sortasc", "sortdesc"):
            keep.append("%s=%s" % (k, quote(v, safe="")))
        elif kl == "filter":
            filt = v

    def href(p):
        parts = keep + ["pageSize=%d" % page_size, "page=%d" % p]
        if filt is not None:
            parts.append("filter=" + quote(filt, safe=";,"))
        return base + "/query?" + "&".join(parts)

    links = [("First", href(1))]
    if page > 1:
        links.append(("Previous", href(page - 1)))
    if page < count:
        links.append(("Next", href(page + 1)))
    links.append(("Last", href(max(count, 1))))
    return {"num": page, "size": page_size, "count": count, "links": links}
