"""Recording rules: golden signals, signals and SLO error ratios, as plain data."""

from __future__ import annotations

from .. import signals as names
from ..promql import Matcher, format_duration, format_number, le_matcher, selector
from ..raw_query import one_series
from ..spec.model import SLI, SLO, Metric, Series, Service, Signal
from .windows import counted_windows

Rule = dict[str, object]
Group = dict[str, object]


def _by(labels: tuple[str, ...]) -> str:
    return ", ".join(labels)


def _rate(series: Series | Metric, window: int, suffix: str = "", extra=()) -> str:
    if isinstance(series, Metric):
        series = Series(series)
    sel = selector(series.metric.name + suffix, series.all_matchers + tuple(extra))
    return f"rate({sel}[{format_duration(window)}])"


def _sum_rate(series: Series, window: int, by: tuple[str, ...], suffix: str = "", extra=()) -> str:
    return f"sum by ({_by(by)}) ({_rate(series, window, suffix, extra)})"


NO_EVENTS = "0.000000001"  # fewer events than this in a window means no traffic


def defined_ratio(numerator: str, denominator: str) -> str:
    """Return ``numerator / denominator`` only where the denominator is above 0.

    A ratio over a zero denominator is undefined: recording it as ±Inf or NaN would page
    ("Now +Inf%"), and recording 0 instead would trip a threshold on the ``below`` side (a
    cache hit ratio "below 80 %" at night) or show a full resource as empty. So the series
    is left out where the denominator is 0 (or NaN): no alert fires on it, a panel shows a
    gap. A denominator read once per operand keeps the expression linear.
    """
    return f"{numerator} / ({denominator} > 0)"


def golden_signal_rules(service: Service) -> list[Rule]:
    """Return the rate recordings of every counter and the bucket rates of every histogram."""
    rules: list[Rule] = []
    w = service.rate_window
    for metric in service.metrics:
        for breakdown in ((),) + metric.breakdowns:
            by = names.aggregation_labels(service, breakdown)
            if metric.type == "counter":
                record, suffix, by_le = names.counter_rate(service, metric, breakdown), "", by
            elif metric.type == "histogram":
                record = names.bucket_rate(service, metric, breakdown)
                suffix, by_le = "_bucket", by + ("le",)
            else:
                continue
            rules.append({"record": record, "expr": _sum_rate(Series(metric), w, by_le, suffix)})
    return rules


def observed_buckets(buckets: str, by: tuple[str, ...], service: Service) -> str:
    """Return the recorded bucket rates ``buckets`` (by ``by`` and ``le``) of ``service``
    without the groups that observed nothing: histogram_quantile of all-zero buckets is NaN,
    which must reach neither an alert nor a panel. The ``service`` matcher keeps another
    service's recording of the same metric name (one exporter, two services) out."""
    own = names.own_matchers(service)
    return f'{buckets}{{{own}}} and on ({_by(by)}) ({buckets}{{{own}, le="+Inf"}} > 0)'


def quantile_rules(service: Service) -> list[Rule]:
    """Return the quantiles of every histogram, read from the recorded bucket rates; a group
    without observations in the rate window records nothing (not NaN)."""
    return [
        {
            "record": names.quantile(service, metric, q, breakdown),
            "expr": f"histogram_quantile({format_number(q)}, "
            + observed_buckets(
                names.bucket_rate(service, metric, breakdown),
                names.aggregation_labels(service, breakdown),
                service,
            )
            + ")",
        }
        for metric in service.metrics
        if metric.type == "histogram"
        for breakdown in ((),) + metric.breakdowns
        for q in metric.quantiles
    ]


def signal_expr(service: Service, sig: Signal) -> str:
    """Return the PromQL that computes a signal (in its unit) from raw metrics.

    A ratio is recorded only where its denominator is above 0 (:func:`defined_ratio`): no
    traffic, or a gauge capacity of 0, leaves a gap rather than ±Inf, NaN or a made-up 0.
    """
    by = names.aggregation_labels(service, sig.by)
    scale = " * 100" if sig.unit == "percent" else ""
    if sig.kind == "gauge":
        assert sig.series is not None
        sel = selector(sig.series.metric.name, sig.series.all_matchers)
        return f"{sig.aggregate} by ({_by(by)}) ({sel})"  # already in its unit
    if sig.kind == "availability":
        ratio = names.slo_error_ratio(sig.window)
        slo = service.slo(sig.slo)
        return f"(1 - {ratio}{names.slo_selector(service, slo)}) * 100"
    assert sig.kind == "ratio" and sig.numerator and sig.denominator
    if sig.counter_based:
        num = _sum_rate(sig.numerator, service.rate_window, by)
        den = _sum_rate(sig.denominator, service.rate_window, by)
        # No numerator series yet (no 5xx so far) with traffic: none of the events.
        num = f"({num} or {den} * 0)"
        if sig.complement:
            num = f"({den} - {num})"  # complement the counts: exact, and undefined alike
        ratio = f"({defined_ratio(num, den)})"
    else:
        # A missing gauge is not 0: without its numerator, a share is unknown, not empty.
        num = selector(sig.numerator.metric.name, sig.numerator.all_matchers)
        den = selector(sig.denominator.metric.name, sig.denominator.all_matchers)
        if sig.aggregate == "sum":  # the share of the group's total
            ratio = (
                f"({defined_ratio(f'sum by ({_by(by)}) ({num})', f'sum by ({_by(by)}) ({den})')})"
            )
        else:  # divide series by series (same instance), then take the worst, best or mean
            ratio = f"{sig.aggregate} by ({_by(by)}) ({defined_ratio(num, den)})"
        if sig.complement:
            ratio = f"(1 - {ratio})"
    return f"{ratio}{scale}"


def signal_rules(service: Service, reads_slo: bool) -> list[Rule]:
    """Return one recording per signal that is not already a golden-signal recording: those
    that read an SLO's error ratio (availability signals) or those that read raw series."""
    return [
        {"record": names.signal(service, sig), "expr": signal_expr(service, sig)}
        for sig in service.signals
        if sig.kind != "quantile" and (sig.kind == "availability") == reads_slo
    ]


START_LOOKBACK = 3600  # s: how far back a slice looks for a series' sample before it


def slice_increase(sel: str, window: str) -> str:
    """Return PromQL for the exact increase of every series of ``sel`` over the slice
    ``(t - window, t]``, from its samples alone.

    Summed over consecutive slices the differences telescope, so a period's count is exact
    whatever the scrape phase; ``increase()`` extrapolates each slice from the samples inside
    it (off by a relative 3e-3 to 6e-3 over 30 days on unaligned scrapes). Per series:

    - seen before the slice: its last sample in the slice minus its last sample up to
      ``t - window``, looked up to ``START_LOOKBACK`` back (range selectors skip stale
      markers, so a series that died inside the slice, or came back after a scrape gap or a
      stale stretch shorter than that, is exact; an instant ``x offset`` would forget it
      after 5 minutes and lose the gap's events);
    - born inside the slice (no sample in that lookback): its last sample minus its first
      (the least, for a counter that did not reset), so a series first scraped non-zero adds
      nothing, as with ``increase()``, and one created at 0 adds every later event;
    - reset inside the slice (``resets() > 0``): ``increase()``, all the engine can know;
      a reset just before the slice's first sample (a negative difference) counts the
      increments inside the slice;
    - no sample in the slice (dead, or a scrape gap): nothing.

    The operands keep their labels (``le`` included), so ``-``, ``unless`` and ``or`` match
    series one to one (the metric name is dropped by every operand alike).
    """
    rng = f"{sel}[{window}]"
    last = f"last_over_time({rng})"
    start = f"last_over_time({sel}[{format_duration(START_LOOKBACK)}] offset {window})"
    steady = f"({last} - {start} >= 0 or {last} - min_over_time({rng}))"
    return f"{steady} unless resets({rng}) > 0 or increase({rng})"


def zero_like(kept: tuple[str, ...], total: str) -> str:
    """Return the "no events" stand-in for a missing count: ``vector(0)`` when nothing is kept
    (one series), else ``total * 0``, a 0 for each kept group (cluster, SLO group) that has
    traffic; a ``vector(0)`` would add a label-less series beside the groups."""
    return f"{total} * 0" if kept else "vector(0)"


def _sli_bad_and_total(
    sli: SLI, window: int, op: str, kept: tuple[str, ...] = ()
) -> tuple[str, str]:
    """Return PromQL for bad events and all events over ``window``, summed by ``kept`` (see
    :func:`..signals.kept_labels`): ``op`` is ``rate`` or ``increase`` (each window's own
    extrapolation), or ``slice`` (exact counts of the slice ``(t - window, t]``, see
    :func:`slice_increase`)."""
    w = format_duration(window)
    total_of = f"sum by ({_by(kept)}) " if kept else "sum"
    if sli.kind == "query":
        # The user's queries decide the count's exactness (rate() or increase(), and their
        # extrapolation); sum() folds any groups into the SLO's one series.
        return one_series(sli.error_query, w, "sum"), one_series(sli.total_query, w, "sum")

    def agg(series: Series, suffix: str = "", extra: tuple[Matcher, ...] = ()) -> str:
        sel = selector(series.metric.name + suffix, series.all_matchers + extra)
        if op == "slice":
            return f"{total_of}({slice_increase(sel, w)})"
        return f"{total_of}({op}({sel}[{w}]))"

    if sli.native:
        # A native histogram: good events are the share at or below the threshold
        # (histogram_fraction interpolates inside a bucket that straddles it), weighted by
        # the count. No exact slices for histograms: slices use increase(), extrapolated.
        fn = "increase" if op == "slice" else op
        hist = f"sum({fn}({selector(sli.total.metric.name, sli.total.all_matchers)}[{w}]))"
        count = f"histogram_count({hist})"
        good = f"histogram_fraction(0, {format_number(sli.threshold)}, {hist})"
        # 0 x NaN (no observations) is NaN: the comparison drops it, `or vector(0)` follows.
        return f"({count} * (1 - {good}) >= 0)", count
    if sli.kind == "latency":
        # Every spelling of the bound: clients and engines print le differently (2, 2.0,
        # 1e+06, 1.0E7), and Prometheus 3 rewrites it to its own float spelling.
        le = le_matcher(sli.threshold)
        total = agg(sli.total, "_count")
        good = agg(sli.total, "_bucket", (le,))
        return f"({total} - ({good} or {zero_like(kept, total)}))", total
    total = agg(sli.total)
    if sli.bad is not None:
        return agg(sli.bad), total
    assert sli.good is not None
    # No good series at all (every request failed since the counters were born) is no good
    # event, not "no data": without `or vector(0)`, total - nothing is empty and reads 0 bad.
    return f"({total} - ({agg(sli.good)} or {zero_like(kept, total)}))", total


def _raw_ratio(sli: SLI, window: int) -> str:
    """Return a ``ratio_query`` over ``window``: its worst group (``max``: an ungrouped query
    is unchanged), without NaN (0 / 0 at no traffic leaves the window out, not 0)."""
    return f"({one_series(sli.ratio_query, format_duration(window), 'max')}) >= 0"


def slo_count_rules(service: Service, slo: SLO) -> list[Rule]:
    """Return bad and total event counts of each rate-window slice, exact per series (see
    :func:`slice_increase`; ``or vector(0)``: never empty)."""
    kept = names.kept_labels(service, slo)
    labels = names.slo_labels(service, slo)
    if slo.sli.kind == "ratio_query":
        # No event counts: the slice is the query's own ratio over the rate window.
        expr = _raw_ratio(slo.sli, service.rate_window)
        return [{"record": names.slo_error_ratio_slice(service), "expr": expr, "labels": labels}]
    bad, total = _sli_bad_and_total(slo.sli, service.rate_window, "slice", kept)
    # Kept labels: a group without any series has no count (its MetricAbsent says why).
    all_ = f"{total} or vector(0)" if not kept else total
    # A bad count made as total - good is never empty where the total is not.
    none = "" if kept and slo.sli.bad is None else f" or {zero_like(kept, total)}"
    return [
        {
            "record": names.slo_bad_events(service),
            "expr": f"{bad}{none}",
            "labels": labels,
        },
        {"record": names.slo_events(service), "expr": all_, "labels": labels},
    ]


def slo_ratio_rules(service: Service, slo: SLO) -> list[Rule]:
    """Return the error ratio over every alert window and over the period."""
    labels = names.slo_labels(service, slo)
    sel = names.slo_selector(service, slo)
    rules: list[Rule] = []
    for window in counted_windows(service) + (slo.period,):
        if slo.sli.kind == "ratio_query":
            if window == service.rate_window:  # fresh every evaluation, as below
                expr = _raw_ratio(slo.sli, window)
            else:  # Sloth's shape: the unweighted mean of the slices' ratios
                w = format_duration(window)
                expr = f"avg_over_time({names.slo_error_ratio_slice(service)}{sel}[{w}])"
            rules.append({"record": names.slo_error_ratio(window), "expr": expr, "labels": labels})
            continue
        if window == service.rate_window:
            # Read raw, every evaluation: a page's short window must see a burn start and
            # stop within one interval, where a slice is up to a rate window old. rate()'s
            # extrapolation is one factor per target for its bad and total series (same
            # scrapes), so it cancels in the ratio; only the long windows sum slices.
            kept = names.kept_labels(service, slo)
            bad, total = _sli_bad_and_total(slo.sli, window, "rate", kept)
            if not kept or slo.sli.bad is not None:  # no bad series yet: no bad events
                bad = f"({bad} or {zero_like(kept, total)})"
        else:
            # Long windows add up the recorded per-window counts: bad count / total count,
            # so a busy hour weighs more than a quiet one, and no raw sample is rescanned.
            w = format_duration(window)
            bad = f"sum_over_time({names.slo_bad_events(service)}{sel}[{w}])"
            total = f"sum_over_time({names.slo_events(service)}{sel}[{w}])"
        rules.append(
            {
                "record": names.slo_error_ratio(window),
                # Without events 0 / tiny = 0, never NaN; the counts are read only once.
                "expr": f"{bad} / clamp_min({total}, {NO_EVENTS})",
                "labels": labels,
            }
        )
    return rules


def slo_budget_rules(service: Service, slo: SLO) -> list[Rule]:
    """Return the objective, the error budget, the budget remaining (ratio, percent), the
    good ratio over the period and, for an availability SLO, the seed's availability series,
    each read straight from the period's error ratio.

    None reads another rule of its own group: vmalert (and any ruler that evaluates a group's
    rules without waiting for their writes) would see the previous evaluation's value.
    """
    labels = names.slo_labels(service, slo)
    sel = names.slo_selector(service, slo)
    period_ratio = f"{names.slo_error_ratio(slo.period)}{sel}"
    budget = format_number(slo.error_budget)
    target = format_number(slo.target)
    remaining = f"1 - {period_ratio} / {budget}"
    seed = [
        {"record": names.availability_current(service), "expr": f"1 - {period_ratio}"},
        {"record": names.availability_target(service), "expr": f"vector({target})"},
    ]
    return [
        {"record": names.SLO_OBJECTIVE, "expr": f"vector({target})", "labels": labels},
        {"record": names.SLO_ERROR_BUDGET, "expr": f"vector({budget})", "labels": labels},
        {"record": names.SLO_BUDGET_REMAINING, "expr": remaining, "labels": labels},
        {
            "record": names.budget_remaining_percent(service),
            "expr": f"100 * ({remaining})",
            "labels": labels,
        },
        {"record": names.SLO_GOOD_RATIO, "expr": f"1 - {period_ratio}", "labels": labels},
        # The seed's names say "availability": only an availability SLO gets them.
        *({**r, "labels": labels} for r in seed if slo.slo_type == "availability"),
    ]


def groups(service: Service) -> list[Group]:
    """Return the recording rule groups of a service, in dependency order: the signal
    groups, then the SLO groups (see :func:`groups_by_concern`)."""
    signal_groups, slo_groups = groups_by_concern(service)
    return signal_groups + slo_groups


def groups_by_concern(service: Service) -> tuple[list[Group], list[Group]]:
    """Return the recording rule groups of a service as ``(signal groups, SLO groups)``,
    each in dependency order; either list may be empty.

    Signal groups: golden-signal rates and quantiles, derived signals. SLO groups: event
    counts, error ratios, budget, and the signals that read SLO ratios. No SLO rule reads a
    signal group (a raw SLI's own query aside), so the SLO groups load and test without them.

    Raw series first (golden-signal rates, signals, SLO event counts), then what reads them
    (quantiles of the bucket rates, error ratios of the counts), then what reads the ratios
    (budget, availability signals). No rule reads a series recorded in its own group or a
    later one, so every engine sees fresh inputs when the groups are evaluated in this order
    (promtool's ``group_eval_order``), and a ruler that evaluates groups independently lags
    by at most one interval per level.
    """
    svc = names.group_prefix(service)
    counts: Group = {
        "name": f"{svc}-slo-event-counts",
        # One evaluation per rate window: every count covers its own slice of time, so the
        # period sums each event once (and reads a fifth of the samples an overlap would).
        "interval": format_duration(service.rate_window),
        "rules": [r for slo in service.slos for r in slo_count_rules(service, slo)],
    }
    ratios: Group = {
        "name": f"{svc}-slo-error-ratios",
        "rules": [r for slo in service.slos for r in slo_ratio_rules(service, slo)],
    }
    budget: Group = {
        "name": f"{svc}-slo-error-budget",
        "rules": [r for slo in service.slos for r in slo_budget_rules(service, slo)],
    }
    golden: Group = {"name": f"{svc}-golden-signals", "rules": golden_signal_rules(service)}
    quantiles: Group = {"name": f"{svc}-golden-signal-quantiles", "rules": quantile_rules(service)}
    derived: Group = {"name": f"{svc}-signals", "rules": signal_rules(service, reads_slo=False)}
    slo_signals: Group = {
        "name": f"{svc}-slo-signals",
        "rules": signal_rules(service, reads_slo=True),
    }
    for group in (golden, quantiles, derived, slo_signals):
        for rule in group["rules"]:  # type: ignore[union-attr]
            rule.setdefault("labels", names.own_labels(service))
    signal_groups = [g for g in (golden, quantiles, derived) if g["rules"]]
    return signal_groups, [g for g in (counts, ratios, budget, slo_signals) if g["rules"]]
