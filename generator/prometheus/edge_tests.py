"""promtool tests of recorded values at the edges:

- every ratio signal over a zero denominator (no traffic, a capacity of 0) records nothing:
  not +Inf ("Now +Inf%" pages), not NaN, not a made-up 0;
- every histogram without observations records no quantile (histogram_quantile gives NaN);
- a counter series born non-zero (a ``status="503"`` series that first appears at 3000) is
  not counted by ``increase()``: Prometheus's limitation, shown here beside its remedy (the
  same series created at 0 first is counted);
- an event-count slice across a counter reset counts what the samples show (between the
  increments inside the slice and those since the sample at its start), never a negative or
  the pre-reset total; a series born inside a slice counts from its first sample; the slice
  after either is exact again (``recording.slice_increase``).
"""

from __future__ import annotations

from .. import signals as names
from ..promql import format_duration, format_number
from ..spec.model import SLO, Series, Service, Signal
from .promtool_cases import input_series, labels_text
from .synthetic import (
    PER_MINUTE,
    Feed,
    exact_text,
    histogram,
    independent_slos,
    labels_for,
    sli_counts,
    sli_feeds,
    slo_labels,
)

BORN = 3000.0  # bad events a new series carries when it first appears
BORN_LABEL = ("replica", "born-late")  # sets the new series apart from the steady traffic


def zero_denominator_feeds(sig: Signal) -> list[Feed]:
    """Return series that put a ratio signal's denominator at 0 with its numerator as large
    as it can be: a gauge numerator at PER_MINUTE over a capacity of 0; a counter numerator
    of another metric growing by PER_MINUTE a minute over a flat denominator; a numerator that
    is a part of the denominator's own metric flat with it (no events at all)."""
    num, den = sig.numerator, sig.denominator
    assert num is not None and den is not None
    if not sig.counter_based:
        inside = labels_for(num.all_matchers + den.all_matchers)
        return [
            Feed(num.metric.name, inside, PER_MINUTE, False),
            Feed(den.metric.name, inside, 0.0, False),
        ]
    step = 0.0 if num.metric.name == den.metric.name else PER_MINUTE
    return [
        Feed(num.metric.name, labels_for(num.all_matchers), step, True),
        Feed(den.metric.name, labels_for(den.all_matchers), 0.0, True),
    ]


def _records_nothing(service: Service, record: str, at: int) -> dict:
    return {
        "expr": f"{record}{{{names.own_matchers(service)}}}",
        "eval_time": format_duration(at),
        "exp_samples": [],
    }


def zero_denominator_value_cases(service: Service) -> list[dict]:
    """One case per ratio signal: over a zero denominator its recording holds no sample."""
    minutes = 3 * service.rate_window // 60
    return [
        {
            "name": f"{sig.key}: a zero denominator records no ratio (not +Inf, NaN or 0)",
            "interval": "1m",
            "input_series": input_series(zero_denominator_feeds(sig), minutes),
            "promql_expr_test": [
                _records_nothing(service, names.signal(service, sig), minutes * 60)
            ],
        }
        for sig in service.signals
        if sig.kind == "ratio"
    ]


def no_observation_cases(service: Service) -> list[dict]:
    """One case per histogram with quantiles: buckets that never grow record no quantile."""
    minutes = 3 * service.rate_window // 60
    cases = []
    for metric in service.metrics:
        if metric.type != "histogram" or not metric.quantiles:
            continue
        feeds = histogram(Series(metric), {b: 0.0 for b in metric.buckets}, 0.0)
        checks = [
            _records_nothing(service, names.quantile(service, metric, q, breakdown), minutes * 60)
            for breakdown in ((),) + metric.breakdowns
            for q in metric.quantiles
        ]
        cases.append(
            {
                "name": f"{metric.name}: no observations record no quantile (not NaN)",
                "interval": "1m",
                "input_series": input_series(feeds, minutes),
                "promql_expr_test": checks,
            }
        )
    return cases


def _late(feeds: list[Feed], values: str) -> list[dict[str, str]]:
    """The input series of ``feeds`` set apart by BORN_LABEL, each written as ``values``
    with ``{v}`` standing for the feed's share of BORN."""
    out = []
    for f in feeds:
        labels = tuple(sorted(dict(f.labels, **dict([BORN_LABEL])).items()))
        value = f.step / PER_MINUTE * BORN
        text = values.format(v=int(value) if value == int(value) else value)
        out.append({"series": Feed(f.name, labels, 0.0, True).selector, "values": text})
    return out


def born_nonzero_cases(service: Service, group: tuple[SLO, ...]) -> list[dict]:
    """Steady error-free traffic, and a new series whose every event is bad, on every SLO of
    ``group`` at once (SLOs whose series are independent, see ``independent_slos``).

    Born at 3000 bad events, the series is never counted: ``increase()`` has no earlier
    sample to subtract from (Prometheus's limitation; remedies in the runbook), so the
    period's error ratio stays exactly 0. Created at 0 one minute earlier (the client
    initialising the label combination), the same 3000 errors are counted.
    """
    step = service.rate_window // 60
    birth = 3 * step + 1  # just past a count boundary: the 0 and the jump share a window
    minutes = 6 * step
    rest = minutes - birth - 1  # samples after the first 3000, to the end
    steady = input_series([f for slo in group for f in sli_feeds(slo.sli, 0.0)], minutes)
    bad = [f for slo in group for f in sli_feeds(slo.sli, 1.0)]
    born = _late(bad, f"_x{birth + 1} {{v}}+0x{rest}")
    created = _late(bad, f"_x{birth} 0 {{v}}+0x{rest}")
    at = format_duration(minutes * 60)

    def checks(counted: bool) -> list[dict]:
        """The period's error ratio of each member: exactly 0, or above 0 (``> bool 0``)."""
        out = []
        for slo in group:
            ratio, labels = names.slo_error_ratio(slo.period), slo_labels(service, slo)
            sel = names.slo_selector(service, slo)
            out.append(
                {
                    "expr": f"{ratio}{sel} > bool 0" if counted else f"{ratio}{sel}",
                    "eval_time": at,
                    "exp_samples": [
                        {
                            "labels": labels_text("" if counted else ratio, labels),
                            "value": 1.0 if counted else 0.0,
                        }
                    ],
                }
            )
        return out

    what = f"{', '.join(slo.name for slo in group)}: a new series of {BORN:g} bad events"
    return [
        {
            "name": f"{what}, first scraped at {BORN:g}, is never counted: the error ratio stays 0",
            "interval": "1m",
            "input_series": steady + born,
            "promql_expr_test": checks(counted=False),
        },
        {
            "name": f"{what}, created at 0 a minute before, is counted",
            "interval": "1m",
            "input_series": steady + created,
            "promql_expr_test": checks(counted=True),
        },
    ]


SLICE_SHARE = 0.25  # bad share of the events in the reset and birth cases


def slice_samples(rate_window: int) -> tuple[int, str]:
    """Return how many samples the reset and birth cases put in a slice, and their interval:
    the fewest, from 5, that divide ``rate_window`` (s) into whole seconds (5 for 5m: one a
    minute); 5 at a millisecond interval for a window under 5 s."""
    for n in range(5, rate_window + 1):
        if rate_window % n == 0:
            return n, format_duration(rate_window // n)
    return 5, f"{rate_window * 200}ms"


def _count_check(service: Service, slo: SLO, record: str, at: int, low: float, high: float) -> dict:
    """The recorded count ``record`` of ``slo`` at ``at`` is ``low`` exactly (``high`` ==
    ``low``), or within ``[low, high]`` (``(x >= bool low) * (x <= bool high)`` is 1)."""
    labels, sel = slo_labels(service, slo), names.slo_selector(service, slo)
    if low == high:
        return {
            "expr": f"{record}{sel}",
            "eval_time": format_duration(at),
            "exp_samples": [{"labels": labels_text(record, labels), "value": low}],
        }
    x, lo, hi = f"{record}{sel}", format_number(low), format_number(high)
    return {
        "expr": f"({x} >= bool {lo}) * ({x} <= bool {hi})",
        "eval_time": format_duration(at),
        "exp_samples": [{"labels": labels_text("", labels), "value": 1.0}],
    }


def slice_cases(service: Service, group: tuple[SLO, ...]) -> list[dict]:
    """A counter reset and a series birth inside an event-count slice, on every SLO of
    ``group`` at once, sampled ``S`` times a slice (``slice_samples``); slices end at
    ``k * rate_window``. Every series grows by its feed's step per sample; expected counts
    are those steps times the increments the samples show.

    Reset: growing from 0 up to sample 2S+1 (inside the third slice), one missed scrape, then
    0 again from sample 2S+3 (a restart). The third slice's samples show S-3 increments after
    the restart, S-2 counting the one from the slice's start sample; the count lies between
    (Prometheus 3 extrapolates the in-slice increments to the slice, 2.x and MetricsQL read
    the start sample). The fourth slice is exact: S increments.

    Birth: a series first scraped at 0 at sample 2S+2: the third slice counts its S-2
    increments, the fourth its S.
    """
    w = service.rate_window
    n, interval = slice_samples(w)
    feeds = [f for slo in group for f in sli_feeds(slo.sli, SLICE_SHARE)]
    reset = f"0+{{u}}x{2 * n + 1} _ 0+{{u}}x{3 * n - 3}"
    born = f"_x{2 * n + 2} 0+{{u}}x{3 * n - 2}"

    def series(values: str, labels: tuple[tuple[str, str], ...] = ()) -> list[dict[str, str]]:
        out, seen = [], set()
        for f in feeds:
            sel = Feed(f.name, tuple(sorted(dict(f.labels, **dict(labels)).items())), 0, True)
            if sel.selector not in seen:
                seen.add(sel.selector)
                text = values.format(u=exact_text(f.step))
                out.append({"series": sel.selector, "values": text})
        return out

    def checks(third: tuple[int, int]) -> list[dict]:
        out = []
        for slo in group:
            bad, total = sli_counts(slo.sli, sli_feeds(slo.sli, SLICE_SHARE))
            for record, per in (
                (names.slo_bad_events(service), bad),
                (names.slo_events(service), total),
            ):
                out.append(
                    _count_check(service, slo, record, 3 * w, third[0] * per, third[1] * per)
                )
                out.append(_count_check(service, slo, record, 4 * w, n * per, n * per))
        return out

    what = ", ".join(slo.name for slo in group)
    return [
        {
            "name": f"{what}: a counter reset inside a slice counts {n - 3} to {n - 2} of its "
            f"{n} samples' steps, never a negative; the next slice is exact",
            "interval": interval,
            "input_series": series(reset),
            "promql_expr_test": checks((n - 3, n - 2)),
        },
        {
            "name": f"{what}: a series born at 0 inside a slice counts from its first sample; "
            "the next slice is exact",
            "interval": interval,
            "input_series": series(born, (BORN_LABEL,)),
            "promql_expr_test": checks((n - 2, n - 2)),
        },
    ]


def edge_cases(service: Service) -> list[dict]:
    """Return every edge case of a service sampled a minute: zero denominators, no
    observations, late births (:func:`slice_cases` sets its own sampling)."""
    return (
        zero_denominator_value_cases(service)
        + no_observation_cases(service)
        + [c for g in independent_slos(service.slos) for c in born_nonzero_cases(service, g)]
    )
