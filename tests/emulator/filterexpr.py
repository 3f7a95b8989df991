"""EM query ``filter`` grammar: parser and evaluator.

Grammar (docs/em-api-facts.md §2.4)::

    expr       := and_expr ( ',' and_expr )*          ',' = OR
    and_expr   := term ( ';' term )*                    ';' = AND (binds tighter than OR [INF])
    term       := '(' expr ')' | comparison
    comparison := FIELD OP VALUE                        OP: == != <= >= < >
    VALUE      := '"' ( any char but '"' | '""' )* '"'  (quotes protect ; , ( ) and spaces)
                | bare chars up to ; , ( ) or the end  (unquoted spaces are dropped, as EM does)

Fields, their types and enum orders come from ``querydefs``. Comparison rules:
strings compare case-insensitively (SQL Server default collation [UNCONFIRMED]); enums by
index in the documented order; UIDs accept the full URN or the bare GUID; DateTimes accept
quoted or bare ISO values, with or without ``Z``/fraction, or a date alone; a missing (null)
field value only satisfies ``!=``. Every problem raises ``FilterError`` whose message names it
(the server turns that into ``400`` + ``Error``).
"""
import operator

from .timeutil import parse_dt

OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_SPECIAL = set(';,()"')
_OPCHARS = set("=!<>")


class FilterError(ValueError):
    """A filter that cannot be parsed or applied; the message is shown to the client."""


class Field:
    """One query field of a type: canonical name, kind, value getter and (for enums) the order.

    kind: 'str' | 'uid' | 'datetime' | 'int' | 'bool' | 'enum'
    """

    __slots__ = ("name", "kind", "get", "enum", "_enum_index")

    def __init__(self, name, kind, get, enum=None):
        self.name = name
        self.kind = kind
        self.get = get
        self.enum = list(enum or ())
        self._enum_index = {v.lower(): i for i, v in enumerate(self.enum)}

    def enum_index(self, value):
        return self._enum_index.get(str(value).lower())

    def sort_key(self, item):
        """Key for sortAsc/sortDesc: (is-not-null, comparable value); nulls sort first."""
        v = self.get(item)
        if v is None:
            return (0, 0)
        k = self.kind
        if k == "str":
            return (1, v.casefold())
        if k == "uid":
            return (1, v.lower())
        if k == "enum":
            i = self.enum_index(v)
            return (1, -1 if i is None else i)
        if k == "bool":
            return (1, 1 if v else 0)
        return (1, v)


# --------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text):
        self.s = text
        self.i = 0
        self.n = len(text)

    def error(self, msg):
        raise FilterError("Invalid filter: %s at position %d" % (msg, self.i + 1))

    def skip_ws(self):
        while self.i < self.n and self.s[self.i].isspace():
            self.i += 1

    def peek(self):
        self.skip_ws()
        return self.s[self.i] if self.i < self.n else ""

    def parse(self):
        if not self.s.strip():
            return None
        node = self.parse_or()
        if self.peek():
            self.error("unexpected %r" % self.peek())
        return node

    def parse_or(self):
        items = [self.parse_and()]
        while self.peek() == ",":
            self.i += 1
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ("or", items)

    def parse_and(self):
        items = [self.parse_term()]
        while self.peek() == ";":
            self.i += 1
            items.append(self.parse_term())
        return items[0] if len(items) == 1 else ("and", items)

    def parse_term(self):
        c = self.peek()
        if c == "(":
            self.i += 1
            node = self.parse_or()
            if self.peek() != ")":
                self.error("missing ')'")
            self.i += 1
            return node
        if c == "":
            self.error("expression expected but the filter ended")
        if c in ";,)":
            self.error("expression expected before %r" % c)
        return self.parse_comparison()

    def parse_comparison(self):
        # field name: letters, digits, underscore (spaces inside are dropped like EM does)
        name = []
        while self.i < self.n:
            ch = self.s[self.i]
            if ch.isalnum() or ch == "_":
                name.append(ch)
            elif ch.isspace():
                pass
            else:
                break
            self.i += 1
        if not name:
            self.error("field name expected, found %r" % (self.s[self.i] if self.i < self.n else "end"))
        field = "".join(name)
        # operator
        self.skip_ws()
        op = self.s[self.i:self.i + 2]
        if op in ("==", "!=", "<=", ">="):
            self.i += 2
        elif op[:1] in ("<", ">"):
            op = op[:1]
            self.i += 1
        else:
            self.error("comparison operator (==, !=, <, >, <=, >=) expected after field %r" % field)
        # value
        self.skip_ws()
        if self.i < self.n and self.s[self.i] == '"':
            return ("cmp", field, op, self._quoted(), True)
        buf = []
        while self.i < self.n:
            ch = self.s[self.i]
            if ch in ";,()":
                break
            if ch == '"':
                self.error("unexpected '\"' inside an unquoted value (quote the whole value)")
            if ch in _OPCHARS:
                self.error("unexpected operator character %r in an unquoted value (quote the value)" % ch)
            if not ch.isspace():
                buf.append(ch)
            self.i += 1
        if not buf:
            self.error("value expected after %s%s" % (field, op))
        return ("cmp", field, op, "".join(buf), False)

    def _quoted(self):
        self.i += 1  # opening quote
        buf = []
        while True:
            if self.i >= self.n:
                self.error("unterminated quoted value")
            ch = self.s[self.i]
            if ch == '"':
                if self.i + 1 < self.n and self.s[self.i + 1] == '"':
                    buf.append('"')
                    self.i += 2
                    continue
                self.i += 1
                break
            buf.append(ch)
            self.i += 1
        # after a quoted value only whitespace, a separator, ')' or the end may follow
        self.skip_ws()
        if self.i < self.n and self.s[self.i] not in ";,)":
            self.error("unexpected %r after a quoted value" % self.s[self.i])
        return "".join(buf)


def parse(text):
    """Parse filter text into an AST (``None`` for an empty filter)."""
    return _Parser(text or "").parse()


# --------------------------------------------------------------------------- compiler

def _uid_matcher(value):
    v = value.strip().lower()
    if v.startswith("urn:"):
        return lambda x: x.lower(), v
    return (lambda x: x.rsplit(":", 1)[-1].lower()), v


def _compile_cmp(node, fields, type_name):
    fname, op, raw = node[1], node[2], node[3]
    f = fields.get(fname.lower())
    if f is None:
        raise FilterError("Invalid filter: unknown field '%s' for type '%s'" % (fname, type_name))
    fn = OPS[op]
    get = f.get
    kind = f.kind
    if kind == "str":
        const = raw.casefold()

        def pred(it, get=get, fn=fn, c=const, ne=(op == "!=")):
            x = get(it)
            return ne if x is None else fn(x.casefold(), c)
    elif kind == "uid":
        norm, const = _uid_matcher(raw)

        def pred(it, get=get, fn=fn, c=const, norm=norm, ne=(op == "!=")):
            x = get(it)
            return ne if x is None else fn(norm(x), c)
    elif kind == "datetime":
        try:
            const = parse_dt(raw)
        except ValueError:
            raise FilterError("Invalid filter: '%s' is not a valid UTC DateTime value for field '%s'" % (raw, f.name))

        def pred(it, get=get, fn=fn, c=const, ne=(op == "!=")):
            x = get(it)
            return ne if x is None else fn(x, c)
    elif kind == "int":
        try:
            const = int(raw.strip())
        except ValueError:
            raise FilterError("Invalid filter: '%s' is not a valid integer value for field '%s'" % (raw, f.name))

        def pred(it, get=get, fn=fn, c=const, ne=(op == "!=")):
            x = get(it)
            return ne if x is None else fn(x, c)
    elif kind == "bool":
        low = raw.strip().lower()
        if low not in ("true", "false"):
            raise FilterError("Invalid filter: '%s' is not a valid Boolean value for field '%s' (true/false)"
                              % (raw, f.name))
        const = low == "true"

        def pred(it, get=get, fn=fn, c=const, ne=(op == "!=")):
            x = get(it)
            return ne if x is None else fn(bool(x), c)
    elif kind == "enum":
        idx = f.enum_index(raw.strip())
        if idx is None:
            raise FilterError("Invalid filter: '%s' is not a valid value for field '%s' (expected one of: %s)"
                              % (raw, f.name, ", ".join(f.enum)))
        index_of = f.enum_index

        def pred(it, get=get, fn=fn, c=idx, index_of=index_of, ne=(op == "!=")):
            x = get(it)
            if x is None:
                return ne
            i = index_of(x)
            return ne if i is None else fn(i, c)
    else:  # pragma: no cover
        raise FilterError("Invalid filter: field '%s' cannot be filtered" % f.name)
    return pred


def compile_filter(ast, fields, type_name):
    """Turn an AST into ``predicate(item) -> bool`` against the type's ``fields`` (lower-case keys)."""
    if ast is None:
        return lambda it: True
    tag = ast[0]
    if tag == "cmp":
        return _compile_cmp(ast, fields, type_name)
    parts = [compile_filter(a, fields, type_name) for a in ast[1]]
    if tag == "and":
        return lambda it, parts=parts: all(p(it) for p in parts)
    return lambda it, parts=parts: any(p(it) for p in parts)


def time_bounds(ast, field_lower="creationtime"):
    """Bounds on ``field_lower`` implied by a top-level AND (or single comparison), for bisecting.

    Returns ``(lo, hi)`` in epoch µs (inclusive, ``None`` = unbounded) or ``None`` when the filter
    does not constrain that field at top level. The full predicate is still evaluated on the
    narrowed slice, so this is a pure optimisation.
    """
    if ast is None:
        return None
    terms = [ast] if ast[0] == "cmp" else (ast[1] if ast[0] == "and" else [])
    lo = hi = None
    found = False
    for t in terms:
        if t[0] != "cmp" or t[1].lower() != field_lower:
            continue
        try:
            v = parse_dt(t[3])
        except ValueError:
            continue
        op = t[2]
        if op in (">=", ">", "=="):
            lo = v if lo is None else max(lo, v)
            found = True
        if op in ("<=", "<", "=="):
            hi = v if hi is None else min(hi, v)
            found = True
    if not found:
        return None
    return lo, hi
