"""The spec's ``dashboard`` section: rows of panels, each showing one thing the spec declares.

A panel shows exactly one of: a ``signal``, a counter's ``rate``, a histogram's ``quantiles``
or an SLO's error ``budget``. Thresholds default to the threshold-table row of the signal the
panel shows (budget panels: ``error_budget``), so the dashboard's colours and the alerts can
never disagree. Nothing here knows Grafana; generator/grafana turns this into JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import promql
from .errors import Path, closest
from .model import SLO, ErrorBudgetPolicy, Metric, Signal, Threshold

if TYPE_CHECKING:  # the resolver lives in loader.py, which imports this module
    from .loader import _Resolver

SOURCES = ("signal", "rate", "quantiles", "budget")
DEFAULT_DATASOURCE_URL = "http://prometheus:9090"


@dataclass(frozen=True)
class Levels:
    """Warning and critical levels of a panel; ``below`` means low values are bad."""

    direction: str  # above | below
    warning: float
    critical: float | None


@dataclass(frozen=True)
class Panel:
    """One panel: what it shows (``source``), how, and its colour levels."""

    title: str
    description: str
    type: str  # stat | timeseries | gauge
    unit: str  # a spec unit (percent, seconds, per_second, ...)
    source: str  # signal | rate | quantiles | budget
    signal: Signal | None = None
    metric: Metric | None = None
    by: tuple[str, ...] = ()
    quantiles: tuple[float, ...] = ()
    slo: SLO | None = None
    aggregate: str = ""  # how series combine into one value per `by` group
    levels: Levels | None = None


@dataclass(frozen=True)
class Row:
    """A titled row of panels."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    """The service's dashboard, ready for a renderer."""

    uid: str
    title: str
    rows: tuple[Row, ...]
    datasource_url: str

    @property
    def panels(self) -> tuple[Panel, ...]:
        """Return every panel, row by row."""
        return tuple(p for row in self.rows for p in row.panels)


def _by(labels: tuple[str, ...]) -> str:
    return f" by {', '.join(labels)}" if labels else ""


def _unknown(kind: str, key: object, known: list[str]) -> str:
    hint = closest(str(key), known)
    tip = f"; did you mean {hint!r}?" if hint else f"; known: {', '.join(known) or 'none'}"
    return f"unknown {kind} {key!r}{tip}"


def resolve(
    r: _Resolver,
    metrics: dict[str, Metric],
    signals: tuple[Signal, ...],
    slos: tuple[SLO, ...],
    thresholds: tuple[Threshold, ...],
    error_budget: ErrorBudgetPolicy,
) -> Dashboard | None:
    """Return the Dashboard the spec describes (None without a section); problems go to ``r``."""
    d = r.d.get("dashboard")
    if d is None:
        return None
    service = r.d["service"]
    ctx = _Context(r, metrics, {s.key: s for s in signals}, {s.name: s for s in slos})
    levels_of = {}
    for t in thresholds:  # the first row of a signal wins, as the table reads top down
        levels_of.setdefault(t.signal.key, Levels(t.direction, t.warning, t.critical))
    budget_levels = Levels("below", error_budget.healthy_above, error_budget.low_below)
    rows = []
    for i, row in enumerate(d["rows"]):
        panels = []
        for j, p in enumerate(row["panels"]):
            panel = ctx.panel(("dashboard", "rows", i, "panels", j), p, levels_of, budget_levels)
            if panel is not None:
                panels.append(panel)
        rows.append(Row(row["title"], tuple(panels)))
    return Dashboard(
        uid=d.get("uid", f"{service}-golden-signals"),
        title=d.get("title", f"{service}: four golden signals"),
        rows=tuple(rows),
        datasource_url=d.get("datasource_url", DEFAULT_DATASOURCE_URL),
    )


@dataclass
class _Context:
    r: _Resolver
    metrics: dict[str, Metric]
    signals: dict[str, Signal]
    slos: dict[str, SLO]

    def panel(
        self, path: Path, p: dict, levels_of: dict[str, Levels], budget_levels: Levels
    ) -> Panel | None:
        given = [s for s in SOURCES if s in p]
        if len(given) != 1:
            found = f"found {', '.join(given)}" if given else "found none"
            self.r.fail(path, f"a panel shows exactly one of {', '.join(SOURCES)} ({found})")
            return None
        source = given[0]
        built = getattr(self, source)((*path, source), p[source], levels_of, budget_levels)
        if built is None:
            return None
        fields, default_unit, default_levels, default_description = built
        description = p.get("description", default_description)
        if not description:
            self.r.fail((*path, "description"), "a panel needs a description; add `description`")
        levels = self.levels((*path, "thresholds"), p["thresholds"]) if "thresholds" in p else None
        return Panel(
            title=p["title"],
            description=description,
            type=p.get("type", "timeseries"),
            unit=p.get("unit", default_unit),
            source=source,
            aggregate=p.get("aggregate", fields.pop("aggregate")),
            levels=levels or default_levels,
            **fields,
        )

    # Each source returns (Panel fields, default unit, default levels, default description).

    def signal(self, path: Path, key: str, levels_of: dict, _budget: Levels) -> tuple | None:
        sig = self.signals.get(key)
        if sig is None:
            self.r.fail(path, _unknown("signal", key, sorted(self.signals)))
            return None
        levels = levels_of.get(key)
        worst = "min" if levels and levels.direction == "below" else "max"
        text = sig.help or f"{key.replace('_', ' ').capitalize()} ({sig.kind} signal `{key}`)."
        return {"signal": sig, "by": sig.by, "aggregate": worst}, sig.unit, levels, text

    def rate(self, path: Path, ref: dict, _levels: dict, _budget: Levels) -> tuple | None:
        series = self.r.series(self.metrics, path, ("counter",))
        if series is None:
            return None
        if "quantiles" in ref:
            self.r.fail((*path, "quantiles"), "a rate has no quantiles; use `quantiles:` instead")
        fields = {"metric": series.metric, "by": tuple(ref.get("by", ())), "aggregate": "sum"}
        text = f"Per-second rate of {series.metric.name}{_by(fields['by'])}."
        return fields, "per_second", None, series.metric.help or text

    def quantiles(self, path: Path, ref: dict, _levels: dict, _budget: Levels) -> tuple | None:
        series = self.r.series(self.metrics, path, ("histogram",))
        if series is None:
            return None
        qs = tuple(float(q) for q in ref.get("quantiles", series.metric.quantiles))
        if not qs:
            self.r.fail(path, f"metrics.{series.metric.key} records no quantiles; list `quantiles`")
            return None
        fields = {"metric": series.metric, "by": tuple(ref.get("by", ())), "quantiles": qs}
        shown = ", ".join(f"P{promql.format_number(q * 100)}" for q in qs)
        text = f"{shown} of {series.metric.name}{_by(fields['by'])}."
        return {**fields, "aggregate": "max"}, "seconds", None, series.metric.help or text

    def budget(self, path: Path, name: str, _levels: dict, budget: Levels) -> tuple | None:
        slo = self.slos.get(name)
        if slo is None:
            self.r.fail(path, _unknown("SLO", name, sorted(self.slos)))
            return None
        description = f"Error budget left over the SLO period. {slo.description}".strip()
        return {"slo": slo, "aggregate": "min"}, "percent", budget, description

    def levels(self, path: Path, t: dict) -> Levels:
        direction = t.get("direction", "above")
        warning, critical = float(t["warning"]), t.get("critical")
        if critical is not None:
            critical = float(critical)
            if (critical <= warning) if direction == "above" else (critical >= warning):
                self.r.fail(
                    (*path, "critical"),
                    f"critical ({promql.format_number(critical)}) must be {direction} warning "
                    f"({promql.format_number(warning)})",
                )
        return Levels(direction, warning, critical)
