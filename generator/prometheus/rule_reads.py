"""Which raw metrics a rule reads, through the recordings and alerts it reads.

Read with a real PromQL parser (``promql-parser``), never from the generator's own idea of
what a rule should read: the answer is about the rules as written, a raw SLI's own query
included. A rule whose reads cannot be bounded (an expression that does not parse as
PromQL, a selector without a metric name, ``ALERTS`` without an ``alertname`` equality)
reads :data:`ANYTHING`. Recordings are told apart by name only: every rule recording a name
counts as a reader of whatever any of them reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import promql_parser

# A rule's reads when they cannot be bounded.
ANYTHING = None

_ALERT_SERIES = ("ALERTS", "ALERTS_FOR_STATE")
# Binary operators that never fail on the series they meet; any other between two vectors
# fails on a duplicate match ("many-to-many matching not allowed").
_SET_OPERATORS = ("and", "or", "unless")
# Functions that fail when their output holds one label set twice.
_RELABELLING = ("label_replace", "label_join")


def _children(node: object) -> Iterator[object]:
    if isinstance(node, promql_parser.MatrixSelector):
        yield node.vector_selector
        return
    for attr in ("expr", "lhs", "rhs", "param"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr):
            yield child
    yield from getattr(node, "args", None) or ()


def _walk(node: object) -> Iterator[object]:
    yield node
    for child in _children(node):
        yield from _walk(child)


def selectors(node: object) -> Iterator[promql_parser.VectorSelector]:
    """Yield every vector selector of a parsed PromQL expression (``node``), range and
    subquery selectors included."""
    return (n for n in _walk(node) if isinstance(n, promql_parser.VectorSelector))


def metric_name(selector: object) -> str | None:
    """The metric name a parsed selector reads, by name or ``__name__`` equality; None for
    any other (a regex on ``__name__``, no name at all, not a selector)."""
    if not isinstance(selector, promql_parser.VectorSelector):
        return None
    if selector.name:
        return selector.name
    on_name = [m for m in selector.matchers.matchers if m.name == "__name__"]
    if len(on_name) == 1 and on_name[0].op == promql_parser.MatchOp.Equal:
        return on_name[0].value
    return None


def _number(node: object) -> bool:
    """Whether ``node`` is a number literal (in parentheses or negated, too)."""
    while isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        node = node.expr
    return isinstance(node, promql_parser.NumberLiteral)


def _may_fail(tree: object) -> bool:
    """Whether evaluating ``tree`` may fail on the series it meets: a binary operator other
    than ``and``, ``or`` and ``unless`` between two operands that are not number literals (a
    duplicate match), or a relabelling function (a duplicate label set)."""
    for node in _walk(tree):
        if isinstance(node, promql_parser.BinaryExpr):
            if str(node.op) not in _SET_OPERATORS and not (_number(node.lhs) or _number(node.rhs)):
                return True
        elif isinstance(node, promql_parser.Call) and node.func.name in _RELABELLING:
            return True
    return False


class _Parsed:
    """One expression: the series names and alert names it reads directly, or unbounded."""

    def __init__(self, expr: str) -> None:
        self.names: set[str] = set()
        self.alerts: set[str] = set()
        self.bounded = True
        self.may_fail = True
        try:
            tree = promql_parser.parse(expr)
        except ValueError:
            self.bounded = False
            return
        self.may_fail = _may_fail(tree)
        for sel in selectors(tree):
            name = metric_name(sel)
            if name is None:
                self.bounded = False
                return
            if name in _ALERT_SERIES:
                on_alert = [m for m in sel.matchers.matchers if m.name == "alertname"]
                if not on_alert or any(m.op != promql_parser.MatchOp.Equal for m in on_alert):
                    self.bounded = False
                    return
                self.alerts |= {m.value for m in on_alert}
            else:
                self.names.add(name)


class RuleReads:
    """The raw reads of a set of rules (rule dicts with ``record`` or ``alert``, and
    ``expr``), each expression parsed once."""

    def __init__(self, rules: Iterable[Mapping[str, str]]) -> None:
        self._records: dict[str, list[str]] = {}
        self._alerting: dict[str, list[str]] = {}
        for rule in rules:
            key, table = (
                (rule["record"], self._records)
                if "record" in rule
                else (rule["alert"], self._alerting)
            )
            table.setdefault(key, []).append(rule["expr"])
        self._parsed: dict[str, _Parsed] = {}

    def _parse(self, expr: str) -> _Parsed:
        if expr not in self._parsed:
            self._parsed[expr] = _Parsed(expr)
        return self._parsed[expr]

    def _closure(self, exprs: list[str], alert: str | None = None) -> frozenset[str] | None:
        """The raw metric names ``exprs`` read, through every recording and alert they read;
        a recorded name counts as read as well (an input series may carry it)."""
        raw: set[str] = set()
        seen_alerts = {alert}
        seen_records: set[str] = set()
        pending = list(exprs)
        while pending:
            parsed = self._parse(pending.pop())
            if not parsed.bounded:
                return ANYTHING
            raw |= parsed.names
            for name in parsed.names - seen_records:
                seen_records.add(name)
                pending += self._records.get(name, [])
            for other in parsed.alerts - seen_alerts:
                seen_alerts.add(other)
                pending += self._alerting.get(other, [])
        return frozenset(raw)

    def by_alert(self) -> dict[str, frozenset[str] | None]:
        """Each alert name's raw reads (:data:`ANYTHING` if unbounded)."""
        return {name: self._closure(exprs, name) for name, exprs in self._alerting.items()}

    def failing_joins(self) -> list[frozenset[str] | None]:
        """The raw reads of every rule whose evaluation may fail on the series it meets
        (see :func:`_may_fail`), recording or alert, read by a check or not: a test group
        fails on any rule's error, so series of two cases must not meet in one."""
        exprs = [
            e for table in (self._records, self._alerting) for es in table.values() for e in es
        ]
        return [self._closure([e]) for e in dict.fromkeys(exprs) if self._parse(e).may_fail]
