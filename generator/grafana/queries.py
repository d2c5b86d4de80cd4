"""The PromQL each panel reads, with its legend.

Panels read the generator's recording rules (named by generator.signals) wherever one exists,
filtered by the ``service`` label the recordings carry. Only a breakdown or quantile that is not
recorded falls back to the raw metric, and then the window is Grafana's ``$__rate_interval``.

**Every incident at every zoom.** Grafana draws one point per ``$__interval`` (the range over
the panel's width in pixels, rounded, at least the panel's min interval). Reading a recorded
series at those instants alone would skip whatever happened between them: on a 7-day range a
point every 20 minutes misses a 5-minute burst. So a recorded series is summarised over each
interval (:func:`summary`): its peak (``max_over_time``) where high values are bad (error
ratios, latencies, saturation), its low (``min_over_time``) where low values are bad, and its
mean (``avg_over_time``) where a mean is meant (rates, which then keep their total). The legend
and the panel description say which.

**Variables.** A selector whose series carry ``job`` (every recording, every raw metric) gets
``job=~"$job"``; one whose series carry ``instance`` (raw metrics, recordings kept per
instance) also ``instance=~"$instance"``: the dashboard's variables filter every panel they can.
A budget series carries neither (it is per SLO).

Idle quantiles and ratios (0/0) are NaN; their queries keep only values ``>= 0``, so an idle
series reads "No data" instead of NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import signals as names
from ..promql import Matcher, format_number, selector
from ..spec.dashboard import Panel
from ..spec.model import Metric, Service

RATE_INTERVAL = "$__rate_interval"
INTERVAL = "$__interval"
SINGLE_VALUE = ("stat", "gauge")
# Dashboard variables, in the order they are chained (instance lists the chosen jobs' ones).
VARIABLES = ("job", "instance")
ALL_VALUE = ".*"  # what a variable set to All stands for in a regex matcher
RAW_LABELS = VARIABLES  # a scraped series carries both
# How a recorded series is summarised over each $__interval: function, legend word, sentence.
PEAK = ("max_over_time", "peak", "the peak over each interval, so a short burst stays visible")
LOW = ("min_over_time", "low", "the lowest value over each interval, so a short dip stays visible")
MEAN = ("avg_over_time", "mean", "the mean over each interval")


@dataclass(frozen=True)
class Query:
    """One target of a panel: a PromQL expression and the legend that names its series."""

    expr: str
    legend: str
    note: str = ""  # how the query summarises each interval, for the panel's description


def summary(panel: Panel) -> tuple[str, str, str] | None:
    """Return how ``panel`` summarises a recorded series over each interval (function, legend
    word, sentence), or None for a budget gauge (the budget is itself a whole-period figure)."""
    if panel.source == "budget":
        return None
    if panel.source == "quantiles" or (panel.signal and panel.signal.kind == "quantile"):
        return PEAK
    if panel.levels is not None:
        return PEAK if panel.levels.direction == "above" else LOW
    return MEAN


def _drops_nan(panel: Panel) -> bool:
    return panel.source == "quantiles" or (
        panel.signal is not None and panel.signal.kind in ("quantile", "ratio")
    )


CLUSTER_VARIABLE = "cluster"  # the dashboard variable of a spec's cluster_label


def honoured(labels: tuple[str, ...], service: Service | None = None) -> tuple[Matcher, ...]:
    """Return the variable matchers for a series carrying ``labels``; with ``service``, also
    ``<cluster_label>=~"$cluster"``: every series of a service with a cluster label carries
    it (its recordings keep it through every aggregation)."""
    own = tuple(Matcher(v, "=~", f"${v}") for v in VARIABLES if v in labels)
    if service is not None and service.cluster_label:
        own += (Matcher(service.cluster_label, "=~", f"${CLUSTER_VARIABLE}"),)
    return own


def group_variables(slo) -> tuple[Matcher, ...]:
    """Return ``<label>=~"$<label>"`` per ``group_by`` label of ``slo``: its series'
    variables (each named after its label)."""
    return tuple(Matcher(x, "=~", f"${x}") for x in slo.group_by)


def recorded_variables(service: Service) -> tuple[Matcher, ...]:
    """Return ``env=~"$env"`` for a service with environments (every recording carries its
    environment's name), else nothing."""
    if not service.environments:
        return ()
    return (Matcher(names.ENV_LABEL, "=~", f"${names.ENV_LABEL}"),)


def _recorded(service: Service, name: str, panel: Panel, labels: tuple[str, ...]) -> str:
    own = (Matcher("service", "=", service.name), *recorded_variables(service))
    sel = selector(name, (*own, *honoured(labels, service)))
    how = summary(panel)
    return f"{how[0]}({sel}[{INTERVAL}])" if how else sel


def _summarised(panel: Panel, expr: str, legend: str) -> Query:
    how = summary(panel)
    return (
        Query(expr, f"{legend} ({how[1]})", f"Each point is {how[2]}.")
        if how
        else Query(expr, legend)
    )


def _legend(by: tuple[str, ...], fallback: str) -> str:
    return " ".join("{{" + label + "}}" for label in by) or fallback


def _aggregate(op: str, by: tuple[str, ...], expr: str) -> str:
    return f"{op} by ({', '.join(by)}) ({expr})" if by else f"{op}({expr})"


def _recorded_breakdown(metric: Metric, by: tuple[str, ...]) -> tuple[str, ...] | None:
    """Return the recorded breakdown holding exactly the labels ``by`` (in its order), or None."""
    if not by:
        return ()
    return next((b for b in metric.breakdowns if set(b) == set(by)), None)


def _raw(
    metric: Metric,
    suffix: str = "",
    extra: tuple[Matcher, ...] = (),
    service: Service | None = None,
) -> str:
    matchers = metric.matchers + extra + honoured(RAW_LABELS, service)
    return f"rate({selector(metric.name + suffix, matchers)}[{RATE_INTERVAL}])"


def _raw_quantile(metric: Metric, q: float, by: tuple[str, ...], service: Service) -> str:
    """histogram_quantile of the raw buckets, per ``by`` group that observed something in
    the window: a group without observations would show NaN."""
    buckets = _aggregate("sum", ("le", *by), _raw(metric, "_bucket", service=service))
    inf = (Matcher("le", "=", "+Inf"),)
    observed = _aggregate("sum", by, _raw(metric, "_bucket", inf, service))
    observed_groups = f"{buckets} and on ({', '.join(by)}) ({observed} > 0)"
    return f"histogram_quantile({format_number(q)}, {observed_groups})"


_RECORDED = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{service="')


def recordings_read(service: Service, panel: Panel) -> frozenset[str]:
    """Return the names of the recorded series ``panel``'s queries read."""
    return frozenset(n for q in queries(service, panel) for n in _RECORDED.findall(q.expr))


def queries(service: Service, panel: Panel) -> list[Query]:
    """Return the targets of ``panel``: one series per ``by`` group (one value on a stat)."""
    # A stat or gauge shows one value per panel, so it aggregates every label away.
    by = () if panel.type in SINGLE_VALUE else panel.by
    out = _queries(service, panel, by)
    if _drops_nan(panel):  # idle: NaN; a latency or a share is never below 0
        out = [Query(f"{q.expr} >= 0", q.legend, q.note) for q in out]
    return out


def _queries(service: Service, panel: Panel, by: tuple[str, ...]) -> list[Query]:
    if panel.source == "signal":
        assert panel.signal is not None
        labels = names.by_labels(panel.signal.by)
        expr = _recorded(service, names.signal(service, panel.signal), panel, labels)
        return [_summarised(panel, _aggregate(panel.aggregate, by, expr), _legend(by, panel.title))]
    if panel.source == "budget":
        assert panel.slo is not None
        own = (Matcher("service", "=", service.name), Matcher("slo", "=", panel.slo.name))
        variables = recorded_variables(service) + honoured((), service)
        variables += group_variables(panel.slo)
        sel = selector(names.budget_remaining_percent(service), own + variables)
        return [Query(_aggregate(panel.aggregate, by, sel), _legend(by, panel.slo.name))]
    assert panel.metric is not None
    metric, breakdown = panel.metric, _recorded_breakdown(panel.metric, panel.by)
    if panel.source == "rate":
        legend = _legend(by, panel.title)
        if breakdown is None:
            return [Query(_aggregate(panel.aggregate, by, _raw(metric, service=service)), legend)]
        rate = names.counter_rate(service, metric, breakdown)
        expr = _recorded(service, rate, panel, names.by_labels(breakdown))
        return [_summarised(panel, _aggregate(panel.aggregate, by, expr), legend)]
    out = []
    for q in panel.quantiles:
        label = names.quantile_suffix(q).upper().replace("_", ".")
        legend = f"{_legend(by, '')} {label}".strip()
        if breakdown is not None and q in metric.quantiles:
            name = names.quantile(service, metric, q, breakdown)
            sel = _recorded(service, name, panel, names.by_labels(breakdown))
            out.append(_summarised(panel, _aggregate(panel.aggregate, by, sel), legend))
        else:
            out.append(Query(_raw_quantile(metric, q, by, service), legend))
    return out
