"""Which alerts a history should make fire, derived from the spec's model and the synthetic
numbers alone (never from the generated rules), to compare with a real server's answer."""

from __future__ import annotations

from collections import defaultdict

from generator.prometheus.synthetic import matches
from generator.prometheus.windows import burn_threshold
from generator.promql import format_duration
from generator.spec.model import (
    BUDGET_CRITICAL_ALERT,
    BUDGET_LOW_ALERT,
    BURN_ALERT,
    TARGET_DOWN_ALERT,
    Service,
    Signal,
)

from .synthetic import FeedMap, History, sli_counts

AlertKey = tuple[str, str, str, str]  # alertname, severity, slo, long window
MARGIN = 0.02  # values this close to a threshold are too close to call
SETTLE = 600  # seconds: a condition that turned true this close to 'for' may go either way
# seconds: how old the data behind a server's answer at the end may be. The SLO counts are
# recorded in 5m slices (300 s: the newest slice may end up to 300 s before the end), and
# vmalert adds one 60 s evaluation per dependency level above the counts (error ratios,
# budget, signals: 3 levels, 180 s). A condition that changes within this span of the end
# may be reported either way.
LAG = 300 + 3 * 60


def _groups(fm: FeedMap, name: str, matchers, by: tuple[str, ...]) -> dict[tuple, float]:
    out: dict[tuple, float] = defaultdict(float)
    for (n, labels), level in fm.items():
        lab = dict(labels)
        if n == name and matches(lab, matchers):
            out[tuple(lab.get(b, "") for b in by)] += level.step
    return out


def _histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """Prometheus's histogram_quantile on cumulative bucket counts (linear in a bucket)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return float("nan")
    rank = q * total
    prev_b, prev_c = 0.0, 0.0
    for b in bounds:
        c = buckets[b]
        if c >= rank:
            if b == float("inf"):
                return prev_b
            return prev_b + (b - prev_b) * (rank - prev_c) / (c - prev_c)
        prev_b, prev_c = b, c
    return bounds[-2]


def signal_values(service: Service, history: History, sig: Signal, t: int) -> list[float]:
    """Return the signal's value for each of its groups at ``t`` (a steady segment)."""
    fm = history.feeds_at(t - 60)
    by = tuple(sig.by)
    scale = 100.0 if sig.unit == "percent" else 1.0
    if sig.kind == "availability":
        slo = service.slo(sig.slo)
        bad, total = sli_counts(history, slo.sli, t - sig.window, t)
        return [(1 - (bad / total if total else 0.0)) * 100]
    if sig.kind == "gauge":
        assert sig.series is not None
        vals = _groups(fm, sig.series.metric.name, sig.series.all_matchers, by + ("instance",))
        per: dict[tuple, list[float]] = defaultdict(list)
        for k, v in vals.items():
            per[k[:-1]].append(v)
        agg = {"sum": sum, "max": max, "min": min, "avg": lambda x: sum(x) / len(x)}
        return [agg[sig.aggregate](v) for v in per.values()]
    if sig.kind == "quantile":
        assert sig.series is not None
        m = sig.series.metric
        buckets: dict[float, float] = defaultdict(float)
        for (n, labels), level in fm.items():
            lab = dict(labels)
            if n == m.name + "_bucket" and matches(lab, sig.series.all_matchers):
                buckets[float(lab["le"])] += level.step
        return [_histogram_quantile(sig.quantile, buckets)]
    assert sig.numerator and sig.denominator
    num = _groups(fm, sig.numerator.metric.name, sig.numerator.all_matchers, by)
    den = _groups(fm, sig.denominator.metric.name, sig.denominator.all_matchers, by)
    out = []
    for k, d in den.items():
        share = num.get(k, 0.0) / d if d > 0 else 0.0
        out.append(((1 - share) if sig.complement else share) * scale)
    return out


def _conditions(service: Service, history: History):
    """Yield (key, for seconds, cond(t) -> list of (value, threshold, op))."""
    for row in service.thresholds:
        for severity, level in row.levels():

            def cond(t, row=row, level=level):
                vals = signal_values(service, history, row.signal, t)
                op = ">" if row.direction == "above" else "<"
                return "any", [(v, level, op) for v in vals]

            yield (row.alert, severity, "", ""), row.for_, cond
    for job in service.jobs:

        def up(t, job=job):
            fm = history.feeds_at(t - 60)
            return [v.step for (n, lab), v in fm.items() if n == "up" and dict(lab)["job"] == job]

        # TargetDown: one instance down (warning); every instance down or none (critical).
        yield (
            (TARGET_DOWN_ALERT, "warning", "", ""),
            300,
            lambda t, up=up: (
                "any",
                [(v, 0.5, "<") for v in up(t)],
            ),
        )
        yield (
            (TARGET_DOWN_ALERT, "critical", "", ""),
            180,
            lambda t, up=up: (
                "any",
                [(sum(up(t)), 0.5, "<")],
            ),
        )
    for slo in service.slos:
        for burn in service.burn_rates:

            def cond(t, slo=slo, burn=burn):
                limit = burn_threshold(slo, burn)
                out = []
                for w in (burn.long, burn.short):
                    bad, total = sli_counts(history, slo.sli, t - w, t)
                    out.append((bad / total if total else 0.0, limit, ">"))
                return "all", out

            key = (BURN_ALERT, burn.severity, slo.name, format_duration(burn.long))
            yield key, burn.for_, cond
        policy = service.error_budget
        for alert, severity, below in (
            (BUDGET_LOW_ALERT, "warning", policy.low_below),
            (BUDGET_CRITICAL_ALERT, "critical", policy.critical_below),
        ):

            def cond(t, slo=slo, below=below):
                bad, total = sli_counts(history, slo.sli, t - slo.period, t)
                ratio = bad / total if total else 0.0
                return "any", [(100 * (1 - ratio / slo.error_budget), below, "<")]

            yield (alert, severity, slo.name, ""), policy.for_, cond


def _holds(cond) -> bool:
    """A threshold alert fires when any group crosses; a burn alert needs both windows."""
    mode, parts = cond
    hits = [v > lim if op == ">" else v < lim for v, lim, op in parts]
    return bool(hits) and (all(hits) if mode == "all" else any(hits))


def _close(cond) -> bool:
    _, parts = cond
    return any(abs(v - lim) <= MARGIN * max(abs(lim), 1e-12) for v, lim, _ in parts)


def expected_states(service: Service, history: History) -> dict[AlertKey, set[str]]:
    """Return, per alert, the states a server at the end of ``history`` may report.

    ``firing`` when the condition held over the whole ``for``; ``pending`` when it holds now
    but not for that long; ``inactive`` when it does not hold now. Conditions too close to
    a threshold, that changed within ``LAG`` of the end, or that turned true about ``for``
    ago, allow either neighbouring state.
    """
    end = history.end
    out: dict[AlertKey, set[str]] = {}
    for key, hold, cond in _conditions(service, history):
        now = cond(end)
        unsure = _close(now) or any(
            _holds(cond(t)) != _holds(now) for t in range(end - LAG, end, 60)
        )
        if not _holds(now):
            out[key] = {"inactive", "pending", "firing"} if unsure else {"inactive"}
            continue
        states = {"pending", "firing", "inactive"} if unsure else set()
        t, run_start = end, end
        while t >= end - hold - SETTLE and t >= history.start:
            if not _holds(cond(t)):
                break
            run_start = t
            t -= 60
        held = end - run_start
        if held >= hold + SETTLE or (t < history.start):
            states.add("firing")
        elif held <= hold - SETTLE:
            states.add("pending")
        else:
            states |= {"pending", "firing"}
        out[key] = states
    return out


def alert_key(labels: dict[str, str]) -> AlertKey:
    """Return the comparison key of an alert reported by the server (or of a rule).

    Threshold alerts are told apart by name and severity only: a signal read from SLO
    recordings (availability) carries their ``slo`` label, which names no SLO alert.
    """
    name = labels.get("alertname", "")
    slo_alert = name in (BURN_ALERT, BUDGET_LOW_ALERT, BUDGET_CRITICAL_ALERT)
    return (
        name,
        labels.get("severity", ""),
        labels.get("slo", "") if slo_alert else "",
        labels.get("long", "") if slo_alert else "",
    )
