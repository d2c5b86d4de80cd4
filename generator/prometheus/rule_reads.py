"""Which raw metrics a rule reads, through the recordings and alerts it reads.

Read with a real PromQL parser (``promql-parser``), never from the generator's own idea of
what a rule should read: the answer is about the rule as written. A rule whose reads cannot
be bounded (an expression that does not parse as PromQL, a selector without a metric name,
``ALERTS`` without an ``alertname`` equality) reads :data:`ANYTHING`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import promql_parser

# A rule's reads when they cannot be bounded.
ANYTHING = None

_ALERT_SERIES = ("ALERTS", "ALERTS_FOR_STATE")


def selectors(node: object) -> Iterator[promql_parser.VectorSelector]:
    """Yield every vector selector of a parsed PromQL expression (``node``), range and
    subquery selectors included."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
    elif isinstance(node, promql_parser.MatrixSelector):
        yield node.vector_selector
    else:
        for attr in ("expr", "lhs", "rhs", "param"):
            child = getattr(node, attr, None)
            if isinstance(child, promql_parser.Expr):
                yield from selectors(child)
        for arg in getattr(node, "args", None) or ():
            yield from selectors(arg)


def metric_name(selector: promql_parser.VectorSelector) -> str | None:
    """The metric name a selector reads, by name or ``__name__`` equality; None for any
    other (a regex on ``__name__``, no name at all)."""
    if selector.name:
        return selector.name
    on_name = [m for m in selector.matchers.matchers if m.name == "__name__"]
    if len(on_name) == 1 and on_name[0].op == promql_parser.MatchOp.Equal:
        return on_name[0].value
    return None


def _direct(expr: str) -> tuple[set[str], set[str]] | None:
    """The series names and alert names ``expr`` reads directly; None if unbounded."""
    try:
        tree = promql_parser.parse(expr)
    except ValueError:
        return ANYTHING
    names: set[str] = set()
    alerts: set[str] = set()
    for sel in selectors(tree):
        name = metric_name(sel)
        if name is None:
            return ANYTHING
        if name in _ALERT_SERIES:
            on_alert = [m for m in sel.matchers.matchers if m.name == "alertname"]
            if not on_alert or any(m.op != promql_parser.MatchOp.Equal for m in on_alert):
                return ANYTHING
            alerts |= {m.value for m in on_alert}
        else:
            names.add(name)
    return names, alerts


def raw_reads(rules: Iterable[Mapping[str, str]]) -> dict[str, frozenset[str] | None]:
    """Return, for each alert name among ``rules`` (rule dicts with ``record`` or ``alert``
    and ``expr``), the raw metric names its rules read, closed over the recordings and the
    alerts (through ``ALERTS``) they read; :data:`ANYTHING` where that cannot be bounded.

    A name that some rule records counts as read through that rule, not as a raw metric."""
    records: dict[str, list[str]] = {}
    alerting: dict[str, list[str]] = {}
    for rule in rules:
        if "record" in rule:
            records.setdefault(rule["record"], []).append(rule["expr"])
        else:
            alerting.setdefault(rule["alert"], []).append(rule["expr"])
    direct = {}

    def reads_of(exprs: list[str]) -> tuple[set[str], set[str]] | None:
        names: set[str] = set()
        alerts: set[str] = set()
        for expr in exprs:
            if expr not in direct:
                direct[expr] = _direct(expr)
            found = direct[expr]
            if found is ANYTHING:
                return ANYTHING
            names |= found[0]
            alerts |= found[1]
        return names, alerts

    def closure(alert: str) -> frozenset[str] | None:
        raw: set[str] = set()
        seen = ({alert}, set())  # alerts and recordings already followed
        pending = [reads_of(alerting[alert])]
        while pending:
            found = pending.pop()
            if found is ANYTHING:
                return ANYTHING
            names, alerts = found
            for name in names:
                if name not in records:
                    raw.add(name)
                elif name not in seen[1]:
                    seen[1].add(name)
                    pending.append(reads_of(records[name]))
            for other in alerts - seen[0]:
                seen[0].add(other)
                pending.append(reads_of(alerting.get(other, [])))
        return frozenset(raw)

    return {alert: closure(alert) for alert in alerting}
