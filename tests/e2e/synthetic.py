"""Synthetic history for every metric a spec declares, for named scenarios.

A scenario is a list of *segments*: from a start time on, every series grows (counters) or
sits (gauges) at a constant per-minute step. Nothing is aligned to the rules: segment
boundaries (day/night, the fault) fall on odd seconds, every scrape target has its own
random phase and jitter, one target's counters reset, one target misses scrapes for
7 minutes, and one instance appears halfway through. The random numbers come from a fixed
seed, so a history is a pure function of the spec, the scenario and its end.

The job-level truth does not depend on the targets: counters are split between the
instances alive at the time, so :func:`sli_counts` (integrals of the segments' rates) is
the exact number of events in any window, whatever the engines make of the scrapes.

The per-signal series come from :mod:`generator.prometheus.synthetic` (the feeds behind the
generated promtool tests); this module adds time, traffic shape, targets and the scenarios.
"""

from __future__ import annotations

import bisect
import math
import pathlib
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from generator.prometheus import synthetic as feeds_lib
from generator.prometheus.synthetic import Feed, matches
from generator.promql import Matcher
from generator.spec.model import SLI, Metric, Series, Service, Signal

MINUTE = 60
SLICE = 300
DAY = 86400
HOUR = 3600
SEED = 20261127  # fixed: the same history for the same spec, scenario and end
FAULT_AGE = 4 * HOUR + 97  # faults began this long before the end of the history
# Day and night turn every 12 hours, placed from the end of the history, never from the
# clock: the last night began this long before the end (odd seconds, aligned to nothing).
# Every window an alert reads (5m to 6h) then lies inside that night, and the 1d and 3d
# windows mix days and nights in the same shares at whatever hour a run starts.
NIGHT_AGE = 9 * HOUR + 13 * MINUTE + 27
NIGHT_SCALE = 0.25  # traffic at night relative to the day: makes traffic weighting visible
JITTER = 0.9  # seconds: a scrape happens up to this far from its slot
GAP = 7 * MINUTE + 11  # one target's missed scrapes: longer than a 5m window
# Where the target events fall, as a share of the history back from its end.
GAP_AT, RESET_AT, BIRTH_AT = 0.62, 0.41, 0.5

Key = tuple[str, tuple[tuple[str, str], ...]]  # (metric name, sorted labels)


@dataclass(frozen=True)
class Level:
    """One series during one segment: per-minute increase (counter) or value (gauge)."""

    step: float
    counter: bool


FeedMap = dict[Key, Level]


@dataclass(frozen=True)
class Target:
    """One scrape target: its address, scrape phase (seconds into each interval), when it
    first exists, and its one counter reset or scrape gap, if any."""

    job: str
    instance: str
    phase: float
    born: float
    reset: float | None = None
    gap: tuple[float, float] | None = None

    def scrapes(self, a: float, b: float, interval: int, rng: random.Random) -> list[float]:
        """Return scrape times in [a, b] (millisecond precision): one per interval at the
        target's phase, jittered, none before it is born or inside its gap."""
        out = []
        k = math.ceil((max(a, self.born) - self.phase) / interval)
        while True:
            slot = k * interval + self.phase
            if slot > b + JITTER:
                break
            t = round(slot + rng.uniform(-JITTER, JITTER), 3)
            k += 1
            if t < max(a, self.born) or t > b:
                continue
            if self.gap and self.gap[0] <= t < self.gap[1]:
                continue
            out.append(t)
        return out


@dataclass(frozen=True)
class History:
    """A scenario laid out in time: segments ``(start, feeds)``, sorted, over [start, end],
    and the targets that expose it."""

    scenario: str
    start: float
    end: int
    segments: tuple[tuple[float, FeedMap], ...]
    targets: tuple[Target, ...] = ()
    raw_from: float = 0.0  # series no SLO reads are written from here on
    interval: int = MINUTE  # scrape interval

    @property
    def _starts(self) -> list[float]:
        cached = self.__dict__.get("_starts_cache")
        if cached is None:
            cached = [s for s, _ in self.segments]
            object.__setattr__(self, "_starts_cache", cached)
        return cached

    def feeds_at(self, t: float) -> FeedMap:
        """Return the feeds in force during the minute that starts at ``t``."""
        i = max(0, bisect.bisect_right(self._starts, t) - 1)
        return self.segments[i][1]

    def series_keys(self) -> list[Key]:
        """Return every series the history writes, in a stable order."""
        out: dict[Key, None] = {}
        for _, fm in self.segments:
            out.update(dict.fromkeys(fm))
        return sorted(out)

    def cumulative(self, select: Callable[[FeedMap], float], t: float) -> float:
        """Return the integral, from the history's start to ``t``, of a per-minute rate."""
        total = 0.0
        bounds = [s for s, _ in self.segments] + [max(t, self.end) + 1]
        for (s, fm), nxt in zip(self.segments, bounds[1:], strict=False):
            lo, hi = max(s, self.start), min(nxt, t)
            if hi > lo:
                total += select(fm) * (hi - lo) / MINUTE
        return total

    def job_targets(self, job: str) -> list[Target]:
        """Return the targets of ``job``."""
        return [t for t in self.targets if t.job == job]

    def alive(self, job: str, t: float) -> list[Target]:
        """Return the targets of ``job`` that exist at ``t``."""
        return [x for x in self.job_targets(job) if x.born <= t]


# -- targets ------------------------------------------------------------------------------


def instance_name(job: str, n: int) -> str:
    """Return a realistic instance address (node exporters listen on 9100)."""
    port = 9100 if job.startswith("node") else 8080
    return f"{job}-{n}.prod.internal:{port}"


def instances(job: str) -> tuple[str, str]:
    """Return the two instance addresses every job starts with."""
    return (instance_name(job, 1), instance_name(job, 2))


def _sli_job(service: Service) -> str:
    """The job whose targets the SLOs count: its targets get the reset, gap and birth."""
    for slo in service.slos:
        for m in slo.sli.total.all_matchers:
            if m.name == "job" and m.op == "=":
                return m.value
    return service.jobs[0] if service.jobs else "job"


def make_targets(service: Service, start: float, end: float) -> tuple[Target, ...]:
    """Two targets per job, at seeded random phases; the SLO job's second target resets
    once, its first misses scrapes for ``GAP``, and a third is born halfway through."""
    rng = random.Random(f"{SEED}-targets")
    span = end - start
    special = _sli_job(service)
    out = []
    for job in sorted({*service.jobs, "job"}):
        n = 3 if job == special else 2
        for i in range(1, n + 1):
            phase = round(rng.uniform(0, MINUTE), 3)
            born, reset, gap = start, None, None
            if job == special and i == 1:
                at = round(end - GAP_AT * span + rng.uniform(0, 60), 3)
                gap = (at, at + GAP)
            if job == special and i == 2:
                reset = round(end - RESET_AT * span + rng.uniform(0, 60), 3)
            if job == special and i == 3:
                born = round(end - BIRTH_AT * span + rng.uniform(0, 60), 3)
            out.append(Target(job, instance_name(job, i), phase, born, reset, gap))
    return tuple(out)


def _sum_gauges(service: Service) -> set[str]:
    """Gauges a signal adds up across instances: split, not copied, between them."""
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


def _day_night(start: float, end: float, day: FeedMap, night: FeedMap) -> list:
    """Alternate 12-hour day and night segments (night: a quarter of the traffic), the
    last night beginning ``NIGHT_AGE`` before ``end``: the same shape at any hour."""
    out = []
    turn = end - NIGHT_AGE  # a night begins here; nights are an even number of turns away
    k = math.ceil((turn - start) / (12 * HOUR))
    t = turn - k * 12 * HOUR
    while t <= end:
        is_night = round((turn - t) / (12 * HOUR)) % 2 == 0
        out.append((max(t, start), _scaled(night, NIGHT_SCALE) if is_night else day))
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


def build(
    service: Service, scenario: str, start: float, end: int, raw_from: float | None = None
) -> History:
    """Return the history of ``scenario`` over [start, end]; series no SLO reads are
    written from ``raw_from`` (default: the start) on."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
    if end - start > 35 * DAY:
        raise ValueError("a history spans at most 35 days")
    fault_at = end - FAULT_AGE
    if scenario == "budget-exhausted":
        # Errors at 5x the tightest budget, traffic-weighted: nights carry fewer requests
        # but a higher error ratio, so the mean of ratios differs from the ratio.
        burn = 5 * min(s.error_budget for s in service.slos)
        day = healthy_feeds(service, burn * 0.8)
        night = healthy_feeds(service, burn * 1.8)
        segments = _day_night(start, end, day, night)
    else:
        base = healthy_feeds(service)
        segments = _day_night(start, end, base, base)
        fault: FeedMap = {
            "healthy": {},
            "error-storm": _sli_fault(service, ("events",), 0.2),
            "latency-degradation": _sli_fault(service, ("latency",), 0.3),
            "saturation": _saturation_fault(service),
        }[scenario]
        if fault:
            segments = _with_fault(segments, fault_at, fault)
    return History(
        scenario,
        float(start),
        end,
        tuple(segments),
        make_targets(service, start, end),
        float(start if raw_from is None else raw_from),
        service.scrape_interval,
    )


# -- counts the SLO rules see -------------------------------------------------------------


def _total(fm: FeedMap, name: str, matchers: tuple[Matcher, ...]) -> float:
    return sum(
        v.step for (n, labels), v in fm.items() if n == name and matches(dict(labels), matchers)
    )


def sli_rates(sli: SLI, fm: FeedMap) -> tuple[float, float]:
    """Return (bad, all) events per minute of an SLI under one segment's feeds."""
    if sli.kind == "latency":
        le = feeds_lib.le_matcher(sli.threshold)
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


# -- samples ------------------------------------------------------------------------------


def sli_series(service: Service) -> set[str]:
    """Names of the series SLO counts read: the only ones written over the whole span."""
    out = set()
    for slo in service.slos:
        for s in (slo.sli.total, slo.sli.bad, slo.sli.good):
            if s is not None:
                base = s.metric.name
                out |= {base, base + "_bucket", base + "_count"}
    return out


def _job_of(labels: dict[str, str]) -> str:
    return labels.get("job", "job")


def _share(history: History, target: Target, t: float) -> float:
    """The target's share of a split series at ``t``: 1 / the number of live targets."""
    alive = history.alive(target.job, t)
    return 1.0 / len(alive) if target in alive else 0.0


def _cumulative_fn(history: History, key: Key) -> Callable[[float], float]:
    """Return C(t): the job's events of counter ``key`` from the history's start to ``t``."""
    starts = [max(s, history.start) for s, _ in history.segments]
    rates, at_start, total = [], [], 0.0
    for i, (_, fm) in enumerate(history.segments):
        level = fm.get(key)
        rate = level.step / MINUTE if level is not None and level.counter else 0.0
        rates.append(rate)
        at_start.append(total)
        if i + 1 < len(starts):
            total += rate * (starts[i + 1] - starts[i])

    def c(t: float) -> float:
        i = max(0, bisect.bisect_right(starts, t) - 1)
        return at_start[i] + rates[i] * max(0.0, t - starts[i])

    return c


def _target_counts(history: History, key: Key, target: Target, times: list[float]) -> list[float]:
    """The target's counter at each of ``times``: its share of the job's events since the
    history's start (or since its reset), as a whole number, the way a process counts."""
    c = _cumulative_fn(history, key)
    # The share changes only when a target of the job is born.
    breaks = sorted({history.start, *(x.born for x in history.job_targets(target.job))})
    own_at, acc = [], 0.0
    for i, b in enumerate(breaks):
        own_at.append(acc)
        if i + 1 < len(breaks):
            acc += _share(history, target, b) * (c(breaks[i + 1]) - c(b))
    shares = [_share(history, target, b) for b in breaks]

    def own(t: float) -> float:
        i = max(0, bisect.bisect_right(breaks, t) - 1)
        return own_at[i] + shares[i] * (c(t) - c(breaks[i]))

    base = own(target.reset) if target.reset is not None else 0.0
    out = []
    for t in times:
        value = own(t)
        if target.reset is not None and t >= target.reset:
            value -= base
        out.append(float(math.floor(value + 1e-9)))
    return out


def samples(service: Service, history: History) -> Iterator[tuple[str, str, list, list]]:
    """Yield ``(name, labels text, times, values)`` for every written series.

    Every synthetic series becomes one per target of its job: counters split the job's
    increase between the targets alive at the time, gauges are copied (or split when a
    signal adds them up). Counters start at zero with the history.
    """
    split_gauges = _sum_gauges(service)
    long_lived = sli_series(service)
    per_target: dict[Target, list[float]] = {}
    for target in history.targets:
        rng = random.Random(f"{SEED}-{target.instance}")
        per_target[target] = target.scrapes(history.start, history.end, history.interval, rng)
    for key in history.series_keys():
        name, labels = key
        base = dict(labels)
        base.pop("instance", None)
        job = _job_of(base)
        counter = any(fm[key].counter for _, fm in history.segments if key in fm)
        lo = history.start if name in long_lived else history.raw_from
        for target in history.job_targets(job):
            times = [t for t in per_target[target] if t >= lo]
            if not times:
                continue
            if counter:
                values = _target_counts(history, key, target, times)
            else:
                share = (
                    (lambda t, target=target: _share(history, target, t))
                    if name in split_gauges
                    else (lambda t: 1.0)
                )
                values = [
                    history.feeds_at(t).get(key, Level(0.0, False)).step * share(t) for t in times
                ]
            lab = {**base, "instance": target.instance}
            text = ",".join(f'{k}="{v}"' for k, v in sorted(lab.items()))
            yield name, text, times, values


def _fmt(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def write_openmetrics(service: Service, history: History, path: pathlib.Path) -> int:
    """Write the history as OpenMetrics text (seconds); return the number of samples."""
    written = 0
    with path.open("w") as out:
        for name, text, times, values in samples(service, history):
            out.writelines(
                f"{name}{{{text}}} {_fmt(v)} {t:.3f}\n" for t, v in zip(times, values, strict=True)
            )
            written += len(times)
        out.write("# EOF\n")
    return written


def write_prometheus_text(service: Service, history: History, path: pathlib.Path) -> int:
    """Write the history as Prometheus text with millisecond timestamps (VictoriaMetrics'
    ``/api/v1/import/prometheus``); return the number of samples."""
    written = 0
    with path.open("w") as out:
        for name, text, times, values in samples(service, history):
            out.writelines(
                f"{name}{{{text}}} {_fmt(v)} {round(t * 1000)}\n"
                for t, v in zip(times, values, strict=True)
            )
            written += len(times)
    return written
