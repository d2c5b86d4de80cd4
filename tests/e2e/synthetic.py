"""Synthetic OpenMetrics history for every metric a spec declares, for named scenarios.

A scenario is a list of *segments*: from a start time on, every series grows (counters) or
sits (gauges) at a constant per-minute step. Segment boundaries fall on whole 5-minute
marks and samples sit on a 1-minute (recent) or 5-minute (older) grid aligned to the epoch,
so every ``increase(x[5m])`` evaluated on a 5-minute mark is exact: the expected values the
tests compare against are computed here, from the same numbers that were written.

The per-signal series come from :mod:`generator.prometheus.synthetic` (the feeds behind the
generated promtool tests); this module adds time, traffic shape, realistic ``job`` and
``instance`` labels and the scenarios.
"""

from __future__ import annotations

import bisect
import pathlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from generator.prometheus import synthetic as feeds_lib
from generator.prometheus.synthetic import Feed, matches
from generator.promql import Matcher, format_number
from generator.spec.model import SLI, Metric, Series, Service, Signal

MINUTE = 60
SLICE = 300  # every boundary and every count window sits on a 5-minute mark
DAY = 86400
HOUR = 3600
FAULT_AGE = 4 * HOUR  # faults began this long before the end of the history
NIGHT_SCALE = 0.25  # traffic at night relative to the day: makes traffic weighting visible
FINE_TAIL = 9 * HOUR  # the most recent history is sampled every minute
COARSE = 150  # older history: only the series SLOs count, every 150 s

Key = tuple[str, tuple[tuple[str, str], ...]]  # (metric name, sorted labels)


@dataclass(frozen=True)
class Level:
    """One series during one segment: per-minute increase (counter) or value (gauge)."""

    step: float
    counter: bool


FeedMap = dict[Key, Level]


@dataclass(frozen=True)
class History:
    """A scenario laid out in time: segments ``(start, feeds)``, sorted, over [start, end]."""

    scenario: str
    start: float
    end: int
    segments: tuple[tuple[int, FeedMap], ...]

    def feeds_at(self, t: float) -> FeedMap:
        """Return the feeds in force during the minute that starts at ``t``."""
        starts = [s for s, _ in self.segments]
        i = max(0, bisect.bisect_right(starts, t) - 1)
        return self.segments[i][1]

    def series_keys(self) -> list[Key]:
        """Return every series the history writes, in a stable order."""
        out: dict[Key, None] = {}
        for _, fm in self.segments:
            out.update(dict.fromkeys(fm))
        return sorted(out)

    def grid(self, whole: bool) -> list[float]:
        """Return sample timestamps: every 150 s from the start (``whole``), then every
        minute over the recent tail. Two or more samples fall in any 5-minute window and
        sit closer than 1.1 steps to its ends, so a constant-rate increase is exact."""
        fine_from = float(max(self.start, self.end - FINE_TAIL))
        fine_from -= fine_from % MINUTE
        coarse = []
        if whole:
            n = 0
            while self.start + n * COARSE < fine_from:
                coarse.append(round(self.start + n * COARSE, 3))
                n += 1
        return [*coarse, *(float(t) for t in range(int(fine_from), self.end + 1, MINUTE))]

    def cumulative(self, select: Callable[[FeedMap], float], t: float) -> float:
        """Return the integral, from the history's start to ``t``, of a per-minute rate."""
        total = 0.0
        bounds = [s for s, _ in self.segments] + [max(t, self.end) + 1]
        for (s, fm), nxt in zip(self.segments, bounds[1:], strict=False):
            lo, hi = max(s, self.start), min(nxt, t)
            if hi > lo:
                total += select(fm) * (hi - lo) / MINUTE
        return total


# -- labels -------------------------------------------------------------------------------


def instances(job: str) -> tuple[str, str]:
    """Return two realistic instance addresses for a job (node exporters listen on 9100)."""
    port = 9100 if job.startswith("node") else 8080
    return (f"{job}-1.prod.internal:{port}", f"{job}-2.prod.internal:{port}")


def _sum_gauges(service: Service) -> set[str]:
    """Gauges a signal adds up across instances: split, not copied, over two instances."""
    return {
        s.series.metric.name
        for s in service.signals
        if s.kind == "gauge" and s.aggregate == "sum" and s.series is not None
    }


# -- feeds --------------------------------------------------------------------------------


def _put(fm: FeedMap, feeds: Iterable[Feed]) -> None:
    for f in feeds:
        fm[(f.name, tuple(sorted(f.labels)))] = Level(f.step, f.counter)


def _breakdown_labels(metric: Metric) -> dict[str, str]:
    """One value for every breakdown label, so grouped panels and recordings have a series."""
    values = {"method": "GET", "provider": "openai", "operation": "select", "status": "200"}
    names = {label for b in metric.breakdowns for label in b}
    return {n: values.get(n, "default") for n in sorted(names)}


def _default_feeds(metric: Metric) -> list[Feed]:
    """Background series for a metric no signal or SLI drives: steady, unremarkable."""
    extra = _breakdown_labels(metric)
    if metric.type == "histogram":
        series = Series(metric)
        bounds = metric.buckets or (0.1, 1.0)
        out = feeds_lib.histogram(series, dict.fromkeys(bounds, 600.0), 600.0)
        return [
            Feed(f.name, tuple(sorted({**dict(f.labels), **extra}.items())), f.step, f.counter)
            for f in out
        ]
    labels = feeds_lib.labels_for(metric.matchers, extra=extra)
    if metric.type == "counter":
        return [Feed(metric.name, labels, 120.0, True)]
    return [Feed(metric.name, labels, 10.0, False)]


def _sli_metrics(service: Service) -> set[str]:
    names = set()
    for slo in service.slos:
        for s in (slo.sli.total, slo.sli.bad, slo.sli.good):
            if s is not None:
                names.add(s.metric.name)
    return names


def _signal_metrics(sig: Signal) -> set[str]:
    return {s.metric.name for s in (sig.numerator, sig.denominator, sig.series) if s is not None}


def _healthy_value(sig: Signal, warning: float, direction: str) -> float:
    return warning * 0.5 if direction == "above" else warning


def healthy_feeds(service: Service, error_ratio: float | None = None) -> FeedMap:
    """Return feeds where every signal sits well inside its thresholds and SLOs burn slowly.

    ``error_ratio`` (default: a fifth of the tightest error budget) applies to every SLO.
    """
    fm: FeedMap = {}
    for metric in service.metrics:
        _put(fm, _default_feeds(metric))
    for job in service.jobs:  # every target scraped fine: up is 1
        _put(fm, [Feed("up", (("instance", feeds_lib.INSTANCE), ("job", job)), 1.0, False)])
    sli_metrics = _sli_metrics(service)
    for row in service.thresholds:
        sig = row.signal
        if sig.kind == "availability" or (sig.counter_based and _signal_metrics(sig) & sli_metrics):
            continue  # set through the SLIs below
        if sig.kind == "quantile":
            found = feeds_lib.quantile_value(sig, 0.0, row.warning * 0.5)
            if found and not (_signal_metrics(sig) & sli_metrics):
                _put(fm, found[0])
            continue
        _put(fm, feeds_lib.signal_feeds(service, sig, _healthy_value(sig, row.warning, "above")))
    if error_ratio is None:
        error_ratio = min(s.error_budget for s in service.slos) / 5 if service.slos else 0.0
    for slo in service.slos:
        _put(fm, feeds_lib.sli_feeds(slo.sli, error_ratio))
    return fm


def _scaled(fm: FeedMap, scale: float) -> FeedMap:
    return {k: Level(v.step * scale, True) if v.counter else v for k, v in fm.items()}


def on_phase(t: float, phase: float) -> float:
    """Return the last time at or before ``t`` that is ``phase`` into a 5-minute cycle."""
    return round(t - ((t - phase) % SLICE), 3)


def _day_night(start, end, day: FeedMap, night: FeedMap, phase: float) -> list:
    """Alternate 12-hour day and night segments (night: a quarter of the traffic)."""
    out = []
    t = on_phase(start - start % (12 * HOUR), phase)
    while t <= end:
        is_day = (t // (12 * HOUR)) % 2 == 0
        out.append((max(t, start), day if is_day else _scaled(night, NIGHT_SCALE)))
        t += 12 * HOUR
    return out


def _with_fault(history: list[tuple[int, FeedMap]], at: int, fault: FeedMap) -> list:
    """Apply ``fault`` on top of every segment from ``at`` on (``at`` becomes a boundary)."""
    out: list[tuple[int, FeedMap]] = []
    for i, (s, fm) in enumerate(history):
        nxt = history[i + 1][0] if i + 1 < len(history) else None
        if s >= at:
            out.append((s, {**fm, **fault}))
        elif nxt is None or nxt > at:
            out.append((s, fm))
            out.append((at, {**fm, **fault}))
        else:
            out.append((s, fm))
    return out


# -- scenarios ----------------------------------------------------------------------------


def _sli_fault(service: Service, kinds: tuple[str, ...], ratio: float) -> FeedMap:
    fm: FeedMap = {}
    for slo in service.slos:
        if slo.sli.kind in kinds:
            _put(fm, feeds_lib.sli_feeds(slo.sli, ratio))
    return fm


def _saturation_fault(service: Service) -> FeedMap:
    """Every threshold signal not driven by an SLI goes 5 % past its highest level."""
    fm: FeedMap = {}
    sli_metrics = _sli_metrics(service)
    for row in service.thresholds:
        sig = row.signal
        if sig.kind in ("availability", "quantile") or _signal_metrics(sig) & sli_metrics:
            continue
        top = max(v for _, v in row.levels())
        value = top * 1.05 if row.direction == "above" else top * 0.95
        if sig.unit == "percent":
            value = min(value, (top + 100) / 2)
        _put(fm, feeds_lib.signal_feeds(service, sig, value))
    return fm


SCENARIOS = ("healthy", "error-storm", "latency-degradation", "saturation", "budget-exhausted")


def build(service: Service, scenario: str, end: int, span: int, phase: float = 0.0) -> History:
    """Return the history of ``scenario`` over ``span`` seconds ending at ``end``.

    ``phase`` (seconds into each 5-minute cycle) is when the SLO count group evaluates:
    every boundary and the start sit on that phase, so no count window straddles a change.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
    if span > 35 * DAY:
        raise ValueError("a history spans at most 35 days")
    start = on_phase(end - span, phase)
    fault_at = on_phase(end - FAULT_AGE, phase)
    if scenario == "budget-exhausted":
        # A month of errors at 5x the tightest budget, traffic-weighted: nights carry fewer
        # requests but a higher error ratio, so the mean of ratios differs from the ratio.
        burn = 5 * min(s.error_budget for s in service.slos)
        day = healthy_feeds(service, burn * 0.8)
        night = healthy_feeds(service, burn * 1.8)
        segments = _day_night(start, end, day, night, phase)
    else:
        base = healthy_feeds(service)
        segments = _day_night(start, end, base, base, phase)
        fault: FeedMap = {
            "healthy": {},
            "error-storm": _sli_fault(service, ("events",), 0.2),
            "latency-degradation": _sli_fault(service, ("latency",), 0.3),
            "saturation": _saturation_fault(service),
        }[scenario]
        if fault:
            segments = _with_fault(segments, fault_at, fault)
    return History(scenario, start, end, tuple(segments))


# -- counts the SLO rules see -------------------------------------------------------------


def _total(fm: FeedMap, name: str, matchers: tuple[Matcher, ...]) -> float:
    return sum(
        v.step for (n, labels), v in fm.items() if n == name and matches(dict(labels), matchers)
    )


def sli_rates(sli: SLI, fm: FeedMap) -> tuple[float, float]:
    """Return (bad, all) events per minute of an SLI under one segment's feeds."""
    if sli.kind == "latency":
        le = Matcher("le", "=", format_number(sli.threshold))
        events = _total(fm, sli.total.metric.name + "_count", sli.total.all_matchers)
        good = _total(fm, sli.total.metric.name + "_bucket", sli.total.all_matchers + (le,))
        return events - good, events
    events = _total(fm, sli.total.metric.name, sli.total.all_matchers)
    if sli.bad is not None:
        return _total(fm, sli.bad.metric.name, sli.bad.all_matchers), events
    assert sli.good is not None
    return events - _total(fm, sli.good.metric.name, sli.good.all_matchers), events


def sli_counts(history: History, sli: SLI, a: float, b: float) -> tuple[float, float]:
    """Return (bad, all) events in (a, b], clipped to the history."""

    def bad(fm: FeedMap) -> float:
        return sli_rates(sli, fm)[0]

    def total(fm: FeedMap) -> float:
        return sli_rates(sli, fm)[1]

    a, b = max(a, history.start), min(b, history.end)
    if b <= a:
        return 0.0, 0.0
    return (
        history.cumulative(bad, b) - history.cumulative(bad, a),
        history.cumulative(total, b) - history.cumulative(total, a),
    )


# -- OpenMetrics ----------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def _counter_values(history: History, key: Key, grid: list[float]) -> list[float]:
    """Exact integrals of a series' per-minute step from the start to each grid time."""
    bounds = [s for s, _ in history.segments]
    out, value, prev, seg = [], 0.0, history.start, 0
    for t in grid:
        while prev < t:
            nxt = bounds[seg + 1] if seg + 1 < len(bounds) else float("inf")
            hi = min(nxt, t)
            level = history.segments[seg][1].get(key)
            if level is not None and level.counter:
                value += level.step * (hi - prev) / MINUTE
            prev = hi
            if hi == nxt:
                seg += 1
        out.append(value)
    return out


def sli_series(service: Service) -> set[str]:
    """Names of the series SLO counts read: the only ones written over the whole span."""
    out = set()
    for slo in service.slos:
        for s in (slo.sli.total, slo.sli.bad, slo.sli.good):
            if s is not None:
                base = s.metric.name
                out |= {base, base + "_bucket", base + "_count"}
    return out


def write_openmetrics(service: Service, history: History, path: pathlib.Path) -> int:
    """Write the history as OpenMetrics text; return the number of samples written.

    Each synthetic series becomes two, one per instance: counters split their increase
    between them, gauges are copied (or split when a signal adds them up). Counters start
    at zero with the history: no event happened before it.
    """
    split_gauges = _sum_gauges(service)
    long_lived = sli_series(service)
    written = 0
    with path.open("w") as out:
        for key in history.series_keys():
            name, labels = key
            grid = history.grid(name in long_lived)
            counter = any(fm[key].counter for _, fm in history.segments if key in fm)
            if counter:
                values = _counter_values(history, key, grid)
            else:
                values = [history.feeds_at(t).get(key, Level(0.0, False)).step for t in grid]
            base = dict(labels)
            job = base.pop("instance", None) and base.get("job", "job")
            share = 0.5 if counter or name in split_gauges else 1.0
            for inst in instances(job or "job"):
                lab = {**base, "instance": inst}
                text = ",".join(f'{k}="{v}"' for k, v in sorted(lab.items()))
                out.writelines(
                    f"{name}{{{text}}} {_fmt(v * share)} {t:.3f}\n"
                    for t, v in zip(grid, values, strict=True)
                )
                written += len(grid)
        out.write("# EOF\n")
    return written
