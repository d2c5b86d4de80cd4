"""The PromQL each panel reads, with its legend.

Panels read the generator's recording rules (named by generator.signals) wherever one exists,
filtered by the ``service`` label the recordings carry. Only a breakdown or quantile that is not
recorded falls back to the raw metric, and then the window is Grafana's ``$__rate_interval``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import signals as names
from ..promql import Matcher, format_number, selector
from ..spec.dashboard import Panel
from ..spec.model import Metric, Service

RATE_INTERVAL = "$__rate_interval"
SINGLE_VALUE = ("stat", "gauge")


@dataclass(frozen=True)
class Query:
    """One target of a panel: a PromQL expression and the legend that names its series."""

    expr: str
    legend: str


def _recorded(service: Service, name: str) -> str:
    return selector(name, (Matcher("service", "=", service.name),))


def _legend(by: tuple[str, ...], fallback: str) -> str:
    return " ".join("{{" + label + "}}" for label in by) or fallback


def _aggregate(op: str, by: tuple[str, ...], expr: str) -> str:
    return f"{op} by ({', '.join(by)}) ({expr})" if by else f"{op}({expr})"


def _recorded_breakdown(metric: Metric, by: tuple[str, ...]) -> tuple[str, ...] | None:
    """Return the recorded breakdown holding exactly the labels ``by`` (in its order), or None."""
    if not by:
        return ()
    return next((b for b in metric.breakdowns if set(b) == set(by)), None)


def _raw(metric: Metric, suffix: str = "", extra: tuple[Matcher, ...] = ()) -> str:
    return f"rate({selector(metric.name + suffix, metric.matchers + extra)}[{RATE_INTERVAL}])"


def _raw_quantile(metric: Metric, q: float, by: tuple[str, ...]) -> str:
    """histogram_quantile of the raw buckets, per ``by`` group that observed something in
    the window: a group without observations would show NaN."""
    buckets = _aggregate("sum", ("le", *by), _raw(metric, "_bucket"))
    observed = _aggregate("sum", by, _raw(metric, "_bucket", (Matcher("le", "=", "+Inf"),)))
    observed_groups = f"{buckets} and on ({', '.join(by)}) ({observed} > 0)"
    return f"histogram_quantile({format_number(q)}, {observed_groups})"


def queries(service: Service, panel: Panel) -> list[Query]:
    """Return the targets of ``panel``: one series per ``by`` group (one value on a stat)."""
    # A stat or gauge shows one value per panel, so it aggregates every label away.
    by = () if panel.type in SINGLE_VALUE else panel.by
    if panel.source == "signal":
        assert panel.signal is not None
        expr = _recorded(service, names.signal(service, panel.signal))
        return [Query(_aggregate(panel.aggregate, by, expr), _legend(by, panel.title))]
    if panel.source == "budget":
        assert panel.slo is not None
        sel = names.budget_remaining_percent(service) + names.slo_selector(service, panel.slo)
        return [Query(_aggregate(panel.aggregate, by, sel), _legend(by, panel.slo.name))]
    assert panel.metric is not None
    metric, breakdown = panel.metric, _recorded_breakdown(panel.metric, panel.by)
    if panel.source == "rate":
        if breakdown is not None:
            expr = _recorded(service, names.counter_rate(service, metric, breakdown))
        else:
            expr = _raw(metric)
        return [Query(_aggregate(panel.aggregate, by, expr), _legend(by, panel.title))]
    out = []
    for q in panel.quantiles:
        label = names.quantile_suffix(q).upper().replace("_", ".")
        if breakdown is not None and q in metric.quantiles:
            sel = _recorded(service, names.quantile(service, metric, q, breakdown))
            expr = _aggregate(panel.aggregate, by, sel)
        else:
            expr = _raw_quantile(metric, q, by)
        out.append(Query(expr, f"{_legend(by, '')} {label}".strip()))
    return out
