"""The IoT Hub query language for twins and jobs, parsed with lark: the grammar of the query page and what each part
means (docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md, "Basics of an IoT Hub query", "SELECT
clause", "GROUP BY clause", "Expressions and conditions", "Operators", "Functions").

`parse(text)` gives a `Query`; `Query.matches(document)` tells whether one JSON document (a twin, a device job) meets
its WHERE clause, so scheduled jobs can select devices with it. Running a query over a hub is query.py's.
A text the language does not allow raises InvalidQuery with a one-line reason (the hub answers 400).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, v_args
from lark.exceptions import LarkError, VisitError
from lark.visitors import Transformer_NonRecursive

GRAMMAR = r"""
    start: select from_clause where? group_by?

    select: _SELECT top? projection
    top: _TOP INT
    projection: STAR -> select_all
              | item ("," item)* -> select_items
    item: (aggregate | path) (_AS NAME)?
    aggregate: COUNT "(" ")"
             | AGGREGATE "(" path ")"

    from_clause: _FROM path
    where: _WHERE expr
    group_by: _GROUP _BY path ("," path)*

    ?expr: or_expr
    ?or_expr: and_expr | or_expr _OR and_expr -> any_of
    ?and_expr: not_expr | and_expr _AND not_expr -> all_of
    ?not_expr: _NOT not_expr -> negation
             | comparison
    ?comparison: sum
               | sum COMPARE sum -> compare
               | sum _IN array -> within
               | sum _NIN array -> not_within
    ?sum: product | sum ADD product -> arithmetic
    ?product: unary | product MUL unary -> arithmetic
    ?unary: "-" unary -> minus
          | atom
    ?atom: constant
         | NAME "(" expr ")" -> function
         | path
         | "(" expr ")"
         | array
    array: "[" [constant ("," constant)*] "]"
    path: _segment ("." _segment)*
    _segment: NAME | BRACKETED
    ?constant: STRING -> string
             | HEX -> hexadecimal
             | NUMBER -> number
             | _TRUE -> true
             | _FALSE -> false
             | _NULL -> null
             | _UNDEFINED -> undefined

    _SELECT: "SELECT"i
    _TOP: "TOP"i
    _AS: "AS"i
    _FROM: "FROM"i
    _WHERE: "WHERE"i
    _GROUP: "GROUP"i
    _BY: "BY"i
    _AND: "AND"i
    _OR: "OR"i
    _NOT: "NOT"i
    _IN: "IN"i
    _NIN: "NIN"i
    _TRUE: "true"i
    _FALSE: "false"i
    _NULL: "null"i
    _UNDEFINED: "undefined"i
    COUNT: "COUNT"i
    AGGREGATE: "AVG"i | "SUM"i | "MIN"i | "MAX"i
    STAR: "*"
    COMPARE: "<=" | ">=" | "<>" | "!=" | "=" | "<" | ">"
    ADD: "+" | "-"
    MUL: "*" | "/" | "%"
    NAME.-1: /[A-Za-z_$][A-Za-z0-9_$]*/
    BRACKETED: /\[\[[^\[\]]+\]\]/
    HEX.2: /0x[0-9a-fA-F]+/
    NUMBER: /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/ | /\.[0-9]+([eE][+-]?[0-9]+)?/
    INT: /[0-9]+/
    STRING: /'(\\.|[^'\\])*'/ | /"(\\.|[^"\\])*"/

    %import common.WS
    %ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)
MAX_TEXT = 8 * 1024  # a longer query text is refused before it is parsed

COLLECTIONS = ("devices", "devices.modules", "devices.jobs")


class InvalidQuery(ValueError):
    """A query the language does not allow (the hub answers 400 with ArgumentInvalid)."""


class _Undefined:
    """What a path that names no property evaluates to: never equal to anything, not even itself."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


@dataclass(frozen=True)
class Expression:
    """One node of a WHERE or SELECT expression; `kind` says which, `parts` its operands."""

    kind: str
    parts: tuple = ()

    def evaluate(self, document: dict, prefix: tuple[str, ...]) -> Any:
        return _EVALUATORS[self.kind](self, document, prefix)


@dataclass(frozen=True)
class Item:
    """One element of a projection list: a path or an aggregate, and the name it gets in each result row."""

    alias: str
    path: tuple[str, ...] | None = None  # a property
    aggregate: str | None = None  # count, avg, sum, min, max
    argument: tuple[str, ...] | None = None  # what avg/sum/min/max read


@dataclass(frozen=True)
class Query:
    collection: str  # devices, devices.modules or devices.jobs
    items: tuple[Item, ...] | None  # None: SELECT *
    where: Expression | None
    group_by: tuple[tuple[str, ...], ...]
    top: int | None

    @property
    def aggregates(self) -> bool:
        return any(item.aggregate for item in self.items or ())

    @property
    def prefix(self) -> tuple[str, ...]:
        """The collection's own name, which a path may start with (`devices.jobs.jobId`)."""
        return tuple(self.collection.split("."))

    def matches(self, document: dict) -> bool:
        """Whether the document meets the WHERE clause: only Boolean true counts ("Any constant different than
        Boolean true is considered as false")."""
        return self.where is None or self.where.evaluate(document, self.prefix) is True

    def project(self, document: dict) -> dict:
        """One row of a projection without aggregates: each property the document defines, under its alias."""
        assert self.items is not None
        row = {}
        for item in self.items:
            value = resolve(document, item.path or (), self.prefix)
            if value is not UNDEFINED:
                row[item.alias] = value
        return row

    def aggregate(self, documents: list[dict]) -> list[dict]:
        """The rows of an aggregate query: one per group (one in all without GROUP BY), groups in order of first
        appearance."""
        assert self.items is not None
        groups: dict[str, list[dict]] = {}
        for document in documents:
            values = [resolve(document, path, self.prefix) for path in self.group_by]
            # the type keeps 1, True and "1" in groups of their own
            key = repr([(type(v).__name__, v) for v in values if v is not UNDEFINED] + [len(values)])
            groups.setdefault(key, []).append(document)
        if not self.group_by and not groups:
            groups[""] = []
        rows = []
        for members in groups.values():
            row: dict[str, Any] = {}
            for item in self.items:
                if item.aggregate:
                    row[item.alias] = _aggregate(item, members, self.prefix)
                else:
                    value = resolve(members[0], item.path or (), self.prefix) if members else UNDEFINED
                    if value is not UNDEFINED:
                        row[item.alias] = value
            rows.append(row)
        return rows


def parse(text: str) -> Query:
    """The query, checked against what the page allows for its collection; InvalidQuery when it is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidQuery("the query is empty")
    if len(text) > MAX_TEXT:
        raise InvalidQuery(f"the query is {len(text)} characters; the reference reads at most {MAX_TEXT}")
    try:
        tree = _PARSER.parse(text)
        query: Query = _Build().transform(tree)
    except VisitError as exc:
        cause = exc.orig_exc
        raise (cause if isinstance(cause, InvalidQuery) else InvalidQuery(str(cause))) from None
    except LarkError as exc:
        raise InvalidQuery(f"the query is not in the IoT Hub query language: {_first_line(exc)}") from None
    except RecursionError:
        raise InvalidQuery("the query nests too deeply") from None
    _check(query)
    return query


MAX_DEPTH = 64  # expressions nested deeper are refused, so evaluating one never exhausts the stack


def _depth(expression: Expression) -> int:
    deepest, stack = 0, [(expression, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(part, depth + 1) for part in node.parts if isinstance(part, Expression)]
    return deepest


def _check(query: Query) -> None:
    if query.where is not None and _depth(query.where) > MAX_DEPTH:
        raise InvalidQuery(f"the WHERE clause nests more than {MAX_DEPTH} levels deep")
    if query.collection not in COLLECTIONS:
        raise InvalidQuery(f"FROM {query.collection}: the collections are {', '.join(COLLECTIONS)}")
    if query.collection == "devices.jobs" and query.items is not None:
        raise InvalidQuery("queries on devices.jobs support only SELECT * (no projections, no aggregations)")
    if query.group_by and query.collection != "devices":
        raise InvalidQuery("GROUP BY is only supported when querying device twins (FROM devices)")
    if query.group_by and not query.aggregates:
        raise InvalidQuery("GROUP BY needs an aggregate (COUNT, AVG, SUM, MIN, MAX) in the SELECT clause")
    if query.aggregates and query.collection != "devices":
        raise InvalidQuery("aggregates are only supported in queries on device twins (FROM devices)")


def resolve(document: dict, path: tuple[str, ...], prefix: tuple[str, ...] = ()) -> Any:
    """The value a path names in the document, or UNDEFINED. A path may start with the collection's name."""
    if prefix and path[: len(prefix)] == prefix and len(path) > len(prefix):
        path = path[len(prefix):]
    value: Any = document
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return UNDEFINED
        value = value[name]
    return value


def _primitive(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _same_kind(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool)
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return True
    return type(left) is type(right)


def _compare(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    operator, left_node, right_node = node.parts
    left, right = left_node.evaluate(document, prefix), right_node.evaluate(document, prefix)
    # "comparisons are supported only between primitive types (no objects)"; undefined compares to nothing.
    if not (_primitive(left) and _primitive(right)) or left is UNDEFINED or right is UNDEFINED:
        return UNDEFINED
    if operator in ("=", "!=", "<>"):
        equal = _same_kind(left, right) and left == right
        return equal if operator == "=" else not equal
    if left is None or right is None or isinstance(left, bool) or not _same_kind(left, right):
        return UNDEFINED
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]


def _within(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    value_node, constants, negated = node.parts
    value = value_node.evaluate(document, prefix)
    if value is UNDEFINED or not _primitive(value):
        return UNDEFINED
    found = any(_same_kind(value, constant) and value == constant for constant in constants)
    return found != negated


def _all_of(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    return all(part.evaluate(document, prefix) is True for part in node.parts)


def _any_of(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    return any(part.evaluate(document, prefix) is True for part in node.parts)


def _negation(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    value = node.parts[0].evaluate(document, prefix)
    return not value if isinstance(value, bool) else UNDEFINED


def _arithmetic(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    operator, left_node, right_node = node.parts
    left, right = left_node.evaluate(document, prefix), right_node.evaluate(document, prefix)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if not numbers or (operator in "/%" and right == 0):
        return UNDEFINED
    result = {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
              "/": lambda: left / right, "%": lambda: math.fmod(left, right)}[operator]()
    return result if math.isfinite(result) else UNDEFINED


def _minus(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    value = node.parts[0].evaluate(document, prefix)
    return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else UNDEFINED


def _is_defined(node: Expression, document: dict, prefix: tuple[str, ...]) -> Any:
    # "Returns a Boolean indicating if the property has been assigned a value (including null)".
    return node.parts[0].evaluate(document, prefix) is not UNDEFINED


_EVALUATORS = {
    "constant": lambda node, document, prefix: node.parts[0],
    "path": lambda node, document, prefix: resolve(document, node.parts, prefix),
    "compare": _compare, "within": _within, "all": _all_of, "any": _any_of, "not": _negation,
    "arithmetic": _arithmetic, "minus": _minus, "is_defined": _is_defined,
}
# "When querying twins and jobs the only supported function is: IS_DEFINED(property)".
FUNCTIONS = {"IS_DEFINED": "is_defined"}


def _aggregate(item: Item, members: list[dict], prefix: tuple[str, ...]) -> Any:
    if item.aggregate == "count":
        return len(members)
    values = [resolve(member, item.argument or (), prefix) for member in members]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if item.aggregate in ("min", "max"):
        comparable: list = numbers or [v for v in values if isinstance(v, str)]
        return (min if item.aggregate == "min" else max)(comparable) if comparable else None
    if not numbers:
        return None
    total = sum(numbers)
    return total if item.aggregate == "sum" else total / len(numbers)


def _unquote(token: str) -> str:
    """A string literal's value: single or double quotes, escapes \\' \\" \\\\ and \\uXXXX (the page's table)."""
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        following = body[i + 1] if i + 1 < len(body) else ""
        if following in "'\"\\":
            out.append(following)
            i += 2
        elif following == "u" and len(body) >= i + 6 and all(c in "0123456789abcdefABCDEF" for c in body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        else:
            raise InvalidQuery(f"the string {token[:40]} has an escape the language does not allow")
    return "".join(out)


@v_args(inline=True)
class _Build(Transformer_NonRecursive):
    """The parse tree → a Query of Expressions."""

    def start(self, select, collection, *rest):
        top, items = select
        where = next((part for kind, part in rest if kind == "where"), None)
        group_by = next((part for kind, part in rest if kind == "group"), ())
        return Query(collection, items, where, group_by, top)

    def select(self, *parts):
        top = parts[0] if len(parts) == 2 else None
        return top, parts[-1]

    def top(self, count):
        return int(count)

    def select_all(self, _star):
        return None

    def select_items(self, *items):
        aliases = [item.alias for item in items]
        if len(aliases) != len(set(aliases)):
            raise InvalidQuery(f"the SELECT clause names {aliases} twice: each element needs its own alias")
        return tuple(items)

    def item(self, what, alias=None):
        if isinstance(what, Item):  # an aggregate: the grammar gives every aggregate "AS alias"
            if alias is None:
                raise InvalidQuery(f"{what.aggregate.upper() if what.aggregate else ''}() needs AS <alias>")
            return Item(str(alias), aggregate=what.aggregate, argument=what.argument)
        return Item(str(alias) if alias is not None else what.parts[-1], path=what.parts)

    def aggregate(self, name, argument=None):
        return Item("", aggregate=str(name).lower(), argument=argument.parts if argument is not None else None)

    def from_clause(self, path):
        return ".".join(path.parts)

    def where(self, expression):
        return "where", expression

    def group_by(self, *paths):
        return "group", tuple(path.parts for path in paths)

    def any_of(self, left, right):
        # A chain of ORs is one node, so a long condition never nests deeper than it reads.
        return Expression("any", (*(left.parts if left.kind == "any" else (left,)), right))

    def all_of(self, left, right):
        return Expression("all", (*(left.parts if left.kind == "all" else (left,)), right))

    def negation(self, part):
        return Expression("not", (part,))

    def compare(self, left, operator, right):
        return Expression("compare", (str(operator), left, right))

    def within(self, value, constants):
        return Expression("within", (value, constants, False))

    def not_within(self, value, constants):
        return Expression("within", (value, constants, True))

    def arithmetic(self, left, operator, right):
        return Expression("arithmetic", (str(operator), left, right))

    def minus(self, part):
        return Expression("minus", (part,))

    def function(self, name, argument):
        kind = FUNCTIONS.get(str(name).upper())
        if kind is None:
            raise InvalidQuery(f"{name}() is not a function of twin and job queries (only IS_DEFINED)")
        if argument.kind != "path":
            raise InvalidQuery(f"{name}() takes a property")
        return Expression(kind, (argument,))

    def array(self, *constants):
        values = tuple(constant.parts[0] for constant in constants)
        if any(value is UNDEFINED for value in values):
            raise InvalidQuery("an array constant cannot hold undefined")
        return values

    def path(self, *names: Token):
        # `configurations.[[id]].status`: a name in double brackets is taken as written (automatic device
        # management page, "Specify Metrics"), so a configuration id with '-' can be named
        return Expression("path", tuple(str(name)[2:-2] if name.type == "BRACKETED" else str(name) for name in names))

    def string(self, token):
        return Expression("constant", (_unquote(str(token)),))

    def number(self, token):
        text = str(token)
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return Expression("constant", (value,))

    def hexadecimal(self, token):
        return Expression("constant", (int(str(token), 16),))

    def true(self):
        return Expression("constant", (True,))

    def false(self):
        return Expression("constant", (False,))

    def null(self):
        return Expression("constant", (None,))

    def undefined(self):
        return Expression("constant", (UNDEFINED,))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
