"""Input series that put a signal or an SLI at a chosen value: the raw material of the
generated promtool tests. Each function returns ``Feed`` objects: one series, its labels
and its increase (counters) or level (gauges) per minute.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from .. import label_values, signals
from ..promql import Matcher, le_matcher, openmetrics_bound, quote
from ..spec.model import SLI, SLO, Series, Service, Signal

# Events per minute behind every synthetic ratio. Counts are whole numbers, so promtool's
# floating-point expansion of `a+bxn` stays exact and the test files carry no float noise.
# One event must be a negligible share of any error budget: a case meant to leave 9.8 % of a
# 99.99 % budget at 1e6 events a minute rounds to exactly 10 %, on the threshold, where
# engines disagree. At 1e9, one event is 0.1 % of even a 99.9999 % budget, far inside the
# cases' 2 % margins; a values suite's counters stay below 1e13, exact in a float64.
PER_MINUTE = 1_000_000_000.0


def _events(share: float) -> float:
    """Return ``share`` of PER_MINUTE as a whole number of events."""
    return float(round(share * PER_MINUTE))


INSTANCE = "test-instance:9100"


def up_feed(service: Service, job: str, value: float) -> Feed:
    """Return ``up`` of one target of ``job``, steady at ``value``, with labels that satisfy
    the service's environment selector (as every ``up`` it reads must), whichever labels it
    names: ``instance`` is INSTANCE unless the selector constrains it. A per-instance alert
    on ``up`` carries all of these labels (:func:`target_labels`)."""
    labels = {**dict(labels_for(service.environment_matchers)), "job": job}
    return Feed("up", tuple(sorted(labels.items())), value, False)


def target_labels(service: Service, job: str) -> dict[str, str]:
    """Return the labels of the ``up`` series :func:`up_feed` writes for ``job``: those of
    the per-instance TargetDown alert its target being down raises."""
    return {"job": job, **{k: v for k, v in up_feed(service, job, 0).labels if k != "job"}}


def slo_labels(service: Service, slo: SLO) -> dict[str, str]:
    """Return the labels of ``slo``'s recordings and alerts over the series of
    :func:`sli_feeds`: ``signals.slo_labels``, then each kept label (the cluster label,
    ``group_by``: ``signals.kept_labels``) that those series carry, with their value. A
    kept label no matcher names is absent from them, and so from the rules' output; one the
    SLI's selectors constrain (``handler!=""``) has a value the rules keep."""
    own = signals.slo_labels(service, slo)
    kept = signals.kept_labels(service, slo)
    if not kept:
        return own
    carried = dict(labels_for(slo.sli.total.all_matchers))
    return {**own, **{k: carried[k] for k in kept if k in carried}}


class UntestableSpec(ValueError):
    """The spec is valid, but no synthetic series can exercise one of its matchers."""


@dataclass(frozen=True)
class Feed:
    """One synthetic series: a counter growing by ``step`` a minute, or a gauge at ``step``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    step: float
    counter: bool

    @property
    def selector(self) -> str:
        """Return ``name{label="value", ...}`` as promtool's input_series expects."""
        inner = ", ".join(f'{k}="{quote(v)}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


def matches(labels: dict[str, str], matchers: tuple[Matcher, ...]) -> bool:
    """Return True when ``labels`` satisfy every PromQL matcher (RE2, fully anchored)."""
    return all(m.holds(labels.get(m.name, "")) for m in matchers)


def labels_for(
    matchers: tuple[Matcher, ...], avoid: tuple[Matcher, ...] = (), extra: dict | None = None
) -> tuple[tuple[str, str], ...]:
    """Return labels that satisfy ``matchers`` (and miss ``avoid``), plus job and instance.

    Values come from ``label_values``; a label whose value is empty is left out, as
    Prometheus stores it.
    """
    try:
        chosen = label_values.labels_for(matchers, avoid)
    except label_values.Unsatisfiable as exc:
        raise UntestableSpec(str(exc)) from None
    labels = {"job": "job", "instance": INSTANCE, **(extra or {}), **chosen}
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def _split(part: Series, whole: Series, share: float) -> list[Feed]:
    """Counters where ``part`` grows by share x PER_MINUTE and ``whole`` by PER_MINUTE.

    When both read one metric, the part's series is one the whole selects too, and the rest
    of the whole is a series the part does not select."""
    same = part.metric.name == whole.metric.name
    inside = labels_for(part.all_matchers + (whole.matchers if same else ()))
    feeds = [Feed(part.metric.name, inside, _events(share), True)]
    if same:
        outside = labels_for(whole.all_matchers, avoid=part.matchers)
        feeds.append(Feed(whole.metric.name, outside, PER_MINUTE - _events(share), True))
    else:
        feeds.append(Feed(whole.metric.name, labels_for(whole.all_matchers), PER_MINUTE, True))
    return feeds


def histogram(series: Series, below: dict[float, float], total: float) -> list[Feed]:
    """Bucket, count and sum counters of a histogram: ``below[le]`` observations <= le."""
    base = dict(labels_for(series.all_matchers))
    feeds = []
    for bound, count in sorted(below.items()):
        # As Prometheus 3 stores it (1e+06, 2.0): the rules must match the engines' spelling.
        labels = tuple(sorted({**base, "le": openmetrics_bound(bound)}.items()))
        feeds.append(Feed(series.metric.name + "_bucket", labels, count, True))
    inf = tuple(sorted({**base, "le": "+Inf"}.items()))
    plain = tuple(sorted(base.items()))
    feeds += [
        Feed(series.metric.name + "_bucket", inf, total, True),
        Feed(series.metric.name + "_count", plain, total, True),
        Feed(series.metric.name + "_sum", plain, total, True),
    ]
    return feeds


def sli_feeds(sli: SLI, error_ratio: float) -> list[Feed]:
    """Return series that make an SLI's error ratio equal ``error_ratio``."""
    if sli.kind == "latency":
        bounds = sli.total.metric.buckets or (sli.threshold,)
        good = PER_MINUTE - _events(error_ratio)
        below = {b: (good if b <= sli.threshold else PER_MINUTE) for b in bounds}
        return histogram(sli.total, below, PER_MINUTE)
    if sli.bad is not None:
        return _split(sli.bad, sli.total, error_ratio)
    assert sli.good is not None
    return _split(sli.good, sli.total, 1 - error_ratio)


def sli_error_ratio(sli: SLI, feeds: list[Feed]) -> float:
    """Return the error ratio an SLI computes from ``feeds`` (0 when there is no traffic)."""
    bad, events = sli_counts(sli, feeds)
    return bad / events if events else 0.0


def sli_counts(sli: SLI, feeds: list[Feed]) -> tuple[float, float]:
    """Return (bad events, all events) per minute that an SLI counts from ``feeds``."""

    def total(name: str, matchers: tuple[Matcher, ...]) -> float:
        return sum(f.step for f in feeds if f.name == name and matches(dict(f.labels), matchers))

    if sli.kind == "latency":
        events = total(sli.total.metric.name + "_count", sli.total.all_matchers)
        good = total(
            sli.total.metric.name + "_bucket", sli.total.all_matchers + (le_matcher(sli.threshold),)
        )
        bad = events - good
    else:
        events = total(sli.total.metric.name, sli.total.all_matchers)
        if sli.bad is not None:
            bad = total(sli.bad.metric.name, sli.bad.all_matchers)
        else:
            assert sli.good is not None
            bad = events - total(sli.good.metric.name, sli.good.all_matchers)
    return bad, events


def independent_slos(slos: tuple[SLO, ...] | list[SLO]) -> list[tuple[SLO, ...]]:
    """Return the SLOs in groups whose synthetic series can share one test case: no SLO of a
    group counts an event of another member's series. Greedy, first fit, in spec order.

    A case per group, rather than per SLO, keeps a suite's cost linear in SLOs: promtool
    evaluates every loaded rule over every case's span, so one case per SLO would evaluate
    N SLOs' rules N times. SLOs that read the same series (two objectives on one SLI) fall
    into different groups, so the group count is the largest number of SLOs that share one.
    """
    probes = {slo.name: sli_feeds(slo.sli, 0.5) for slo in slos}

    def apart(a: SLO, b: SLO) -> bool:
        fa, fb = probes[a.name], probes[b.name]
        return (
            not {f.selector for f in fa} & {f.selector for f in fb}
            and sli_counts(a.sli, fb) == (0.0, 0.0)
            and sli_counts(b.sli, fa) == (0.0, 0.0)
        )

    groups: list[list[SLO]] = []
    for slo in slos:
        home = next((g for g in groups if all(apart(slo, other) for other in g)), None)
        if home is None:
            groups.append([slo])
        else:
            home.append(slo)
    return [tuple(g) for g in groups]


def quantile_value(
    sig: Signal, low: float, high: float, nearest: str = "low"
) -> tuple[list[Feed], float] | None:
    """Return feeds putting a quantile signal strictly inside (low, high], and its value.

    Every observation lands in one bucket (lo, hi], so histogram_quantile interpolates
    to lo + (hi - lo) x q; of the buckets whose value fits, the one nearest ``low``
    (or ``high``) is used.
    """
    assert sig.series is not None
    bounds = (0.0,) + sig.series.metric.buckets
    pairs = list(itertools.pairwise(bounds))
    for lo, hi in pairs if nearest == "low" else reversed(pairs):
        value = lo + (hi - lo) * sig.quantile
        if low < value <= high:
            below = {b: (0.0 if b < hi else PER_MINUTE) for b in sig.series.metric.buckets}
            return histogram(sig.series, below, PER_MINUTE), value
    return None


def signal_feeds(service: Service, sig: Signal, value: float) -> list[Feed]:
    """Return series that put a (non-quantile) signal at ``value`` in its unit."""
    share = value / 100 if sig.unit == "percent" else value
    if sig.kind == "availability":
        return sli_feeds(service.slo(sig.slo).sli, 1 - share)
    if sig.kind == "gauge":
        assert sig.series is not None
        return [Feed(sig.series.metric.name, labels_for(sig.series.all_matchers), value, False)]
    assert sig.numerator is not None and sig.denominator is not None
    if sig.complement:
        share = 1 - share
    if sig.counter_based:
        return _split(sig.numerator, sig.denominator, share)
    inside = labels_for(sig.numerator.all_matchers + sig.denominator.all_matchers)
    return [
        Feed(sig.numerator.metric.name, inside, _events(share), False),
        Feed(sig.denominator.metric.name, inside, PER_MINUTE, False),
    ]


def exact_text(value: float) -> str:
    """Return the shortest text that parses back to exactly ``value``."""
    return repr(value).removesuffix(".0")


def largest_end(start: float, step: float, count: int) -> float:
    """Return the largest value promtool's ``start+stepxcount`` can end at, whether it adds
    ``step`` ``count`` times in floating point or multiplies: the next run starts there, so
    rounding never looks like a counter reset."""
    # Cached by exact bits (0.0 and -0.0 are equal keys otherwise): days-long runs loop.
    return _largest_end(float(start).hex(), float(step).hex(), count)


@functools.lru_cache(maxsize=1024)
def _largest_end(start_bits: str, step_bits: str, count: int) -> float:
    start, step = float.fromhex(start_bits), float.fromhex(step_bits)
    added = start
    for _ in range(count):
        added += step
    return max(added, start + step * count)


def segments(steps: list[tuple[int, float]]) -> str:
    """Return promtool's expanding notation for a counter that grows by ``step`` a minute
    during each ``(minutes, step)`` segment, starting from 0.

    A segment's rate holds from its first sample to the next segment's first sample: the
    increase into a segment's first sample still belongs to the segment before. With
    segments a whole number of rate windows long, every rate window then sees one rate,
    and the window's increase is the same on every engine, whether its range is closed
    (Prometheus 2), left-open and extrapolated (Prometheus 3) or anchored on the sample
    before it (MetricsQL).

    promtool expands ``a+bxn`` in floating point; each segment starts from the largest value
    the previous one can have reached, so rounding never looks like a counter reset.
    """
    parts, last, carry = [], None, 0.0
    for minutes, step in steps:
        start = 0.0 if last is None else last + carry
        count = minutes - 1
        parts.append(f"{exact_text(start)}+{exact_text(step)}x{count}")
        last, carry = largest_end(start, step, count), step
    return " ".join(parts)
