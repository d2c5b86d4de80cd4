"""Raw PromQL SLI queries: the ``{{ window }}`` placeholder, parsing with a real PromQL parser
(``promql-parser``, the Rust port of Prometheus's parser), and the shapes the generated tests
can feed.

A raw SLI gives PromQL with one template, ``{{ window }}`` (inner spaces optional), which the
generator replaces by each window it records (``5m``, ``1h``, ...). Problems are values: each
is a plain sentence and the offset in the query text it is about (0: the whole query).

A query is *counted* when its shape is ``sum(rate(selector[{{ window }}]))`` (or
``increase``; parentheses and a grouping-free ``sum`` around it allowed): the events it
counts are then exactly the matching series' increases, so the generated tests can write
series that put the error ratio at any value and predict every recorded number. Any other
shape (other functions, joins, offsets, ``by`` groups, several selectors) still loads and is
watched for absence, but its values cannot be predicted from the selectors alone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import promql_parser

from .promql import (
    LABEL_NAME,
    METRIC_NAME,
    Matcher,
    legacy_name_problem,
    quote,
    regex_problem,
)

PLACEHOLDER = re.compile(r"\{\{\s*window\s*\}\}")
_ANY_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{\{|\}\}", re.S)
# What {{ window }} stands for while the query is parsed: a span no one writes by hand, so a
# range of exactly this length is the placeholder.
PROBE_WINDOW = "3m7s"
_PROBE_SECONDS = 187
_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
COUNTING = ("rate", "increase")  # functions whose sum is an event count (or rate)


@dataclass(frozen=True)
class Problem:
    """Why a raw query is refused, and the offset in the query text it points at."""

    offset: int
    message: str


@dataclass(frozen=True)
class Selector:
    """A vector selector the parser found: its metric name and its matchers."""

    name: str
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class Query:
    """A parsed raw query.

    ``selectors`` lists every selector in the order written; ``counted`` is the one selector
    of a ``sum(rate|increase(sel[{{ window }}]))`` query and its function, or None for any
    other shape (see the module docstring).
    """

    text: str
    selectors: tuple[Selector, ...]
    denominator: tuple[Selector, ...] = ()  # right of a top-level `/`, else every selector
    counted: tuple[str, Selector] | None = None
    ratio: tuple[tuple[str, Selector], tuple[str, Selector]] | None = None  # counted / counted


def render(text: str, window: str) -> str:
    """Return ``text`` with every ``{{ window }}`` replaced by ``window`` (``5m``)."""
    return PLACEHOLDER.sub(window, text)


_MANY = ("topk", "bottomk", "count_values", "limitk", "limit_ratio")  # several series out


def _single(node) -> bool:
    """Return True when ``node`` gives at most one series whatever its input."""
    node = _unwrap(node)
    if isinstance(node, promql_parser.AggregateExpr):
        return node.modifier is None and str(node.op) not in _MANY
    if isinstance(node, promql_parser.BinaryExpr):
        sides = [n for n in (node.lhs, node.rhs) if _value_type(n) == "vector"]
        return all(_single(n) for n in sides)
    if isinstance(node, promql_parser.UnaryExpr):
        return _single(node.expr)
    return isinstance(node, promql_parser.Call) and node.func.name == "vector"


@functools.lru_cache(maxsize=256)
def _is_single(text: str) -> bool:
    return _single(promql_parser.parse(render(text, PROBE_WINDOW)))


def one_series(text: str, window: str, aggregation: str) -> str:
    """Return a valid query over ``window`` as one series: as written when it can give no
    more (``sum(rate(x[5m]))``), else inside ``aggregation(...)``, so the rule's own labels
    never meet two series."""
    query = render(text, window).strip()
    return query if _is_single(text) else f"{aggregation}({query})"


def _value_type(node) -> str:
    """Return ``vector``, ``matrix``, ``scalar`` or ``string``: what ``node`` evaluates to."""
    if isinstance(node, promql_parser.VectorSelector | promql_parser.AggregateExpr):
        return "vector"
    if isinstance(node, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
        return "matrix"
    if isinstance(node, promql_parser.NumberLiteral):
        return "scalar"
    if isinstance(node, promql_parser.StringLiteral):
        return "string"
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return _value_type(node.expr)
    if isinstance(node, promql_parser.Call):
        return str(node.func.return_type).rsplit(".", 1)[-1].lower()
    if isinstance(node, promql_parser.BinaryExpr):
        sides = {_value_type(node.lhs), _value_type(node.rhs)}
        return "scalar" if sides == {"scalar"} else "vector"
    return "vector"


def _children(node) -> list:
    if isinstance(node, promql_parser.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, promql_parser.Call):
        return list(node.args)
    if isinstance(node, promql_parser.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, promql_parser.AggregateExpr):
        return [node.expr] + ([node.param] if node.param is not None else [])
    if hasattr(node, "expr"):  # ParenExpr, UnaryExpr, SubqueryExpr
        return [node.expr]
    return []


def _selectors(node) -> list:
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    return [s for child in _children(node) for s in _selectors(child)]


def _unwrap(node):
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _counted(node) -> tuple[str, object] | None:
    """Return (function, vector selector) when ``node`` is ``sum(f(sel[{{ window }}]))``."""
    node = _unwrap(node)
    if not isinstance(node, promql_parser.AggregateExpr) or str(node.op) != "sum":
        return None
    if node.modifier is not None or node.param is not None:
        return None
    call = _unwrap(node.expr)
    if not isinstance(call, promql_parser.Call) or call.func.name not in COUNTING:
        return None
    rng = call.args[0]
    if not isinstance(rng, promql_parser.MatrixSelector):
        return None
    vs = rng.vector_selector
    if vs.offset is not None or vs.at is not None:
        return None
    if rng.range.total_seconds() != _PROBE_SECONDS:  # a fixed range, not the placeholder
        return None
    return call.func.name, vs


def _find(text: str, *needles: str) -> int:
    """Return the offset of the first of ``needles`` found in ``text``, or 0."""
    for needle in needles:
        at = text.find(needle) if needle else -1
        if at >= 0:
            return at
    return 0


def _selector(vs, text: str, problems: list[Problem]) -> Selector | None:
    name = vs.name or ""
    matchers: list[Matcher] = []
    for m in vs.matchers.matchers:
        op = _OPS[str(m.op).rsplit(".", 1)[-1]]
        if m.name == "__name__" and op == "=" and not name:
            name = m.value
            continue
        at = _find(text, m.name)
        if m.name == "__name__":
            problems.append(
                Problem(at, f"select the metric by its name, not by a __name__{op} matcher")
            )
            return None
        if not LABEL_NAME.match(m.name):
            problems.append(Problem(at, legacy_name_problem(m.name, "label")))
            return None
        if op in ("=~", "!~") and (why := regex_problem(m.value)):
            problems.append(
                Problem(_find(text, m.value, m.name), f"{m.name}{op}: {m.value!r}: {why}")
            )
            return None
        matchers.append(Matcher(m.name, op, quote(m.value)))
    if vs.matchers.or_matchers:
        problems.append(
            Problem(_find(text, " or "), "`or` inside a selector needs Prometheus 3.x; write two")
        )
        return None
    if not name:
        problems.append(Problem(_find(text, "{"), "every selector must name its metric"))
        return None
    if not METRIC_NAME.match(name):
        problems.append(Problem(_find(text, name), legacy_name_problem(name, "metric")))
        return None
    return Selector(name, tuple(matchers))


def parse(text: str) -> tuple[Query | None, list[Problem]]:
    """Return the parsed query (None when refused) and the problems found.

    Refused: no ``{{ window }}``, any other ``{{ ... }}`` template, PromQL the parser refuses,
    a result that is not an instant vector, a selector without a metric name, a UTF-8 name
    (Prometheus 2 and VictoriaMetrics cannot load it), a regex Go's RE2 refuses.
    """
    problems: list[Problem] = []
    for m in _ANY_TEMPLATE.finditer(text):
        if not PLACEHOLDER.fullmatch(m.group()):
            problems.append(
                Problem(
                    m.start(),
                    f"unknown template {m.group()!r}: the only placeholder is {{{{ window }}}}",
                )
            )
    if not PLACEHOLDER.search(text):
        problems.append(
            Problem(
                0,
                "the query has no {{ window }} placeholder: write it where the range goes, "
                "as in rate(http_requests_total[{{ window }}]), so each window is recorded",
            )
        )
    if problems:
        return None, problems
    try:
        node = promql_parser.parse(render(text, PROBE_WINDOW))
    except ValueError as exc:
        return None, [Problem(0, f"not valid PromQL: {exc}")]
    kind = _value_type(node)
    if kind != "vector":
        what = {"matrix": "a range vector", "scalar": "a scalar", "string": "a string"}[kind]
        hint = " (wrap a range in rate() or increase())" if kind == "matrix" else ""
        return None, [Problem(0, f"the query gives {what}; it must give an instant vector{hint}")]
    selectors = [_selector(vs, text, problems) for vs in _selectors(node)]
    if problems:
        return None, problems
    found = tuple(s for s in selectors if s is not None)
    top = _unwrap(node)
    below = found
    if isinstance(top, promql_parser.BinaryExpr) and str(top.op) == "/":
        below = found[len(_selectors(top.lhs)) :]
    counted = _counted(node)
    if counted is not None:
        return Query(text, found, below, counted=(counted[0], found[0])), []
    if isinstance(top, promql_parser.BinaryExpr) and str(top.op) == "/" and top.modifier is None:
        lhs, rhs = _counted(top.lhs), _counted(top.rhs)
        if lhs is not None and rhs is not None and len(found) == 2:
            return Query(text, found, below, ratio=((lhs[0], found[0]), (rhs[0], found[1]))), []
    return Query(text, found, below), []
