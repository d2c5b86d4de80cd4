"""Generated tests of burn-rate alert quality: the SRE Workbook's detection and reset times of
every window pair, measured on a step change of the error ratio, and silence below each
pair's factor.

A *step case* runs clean traffic long enough to fill the longest long window measured, then
a burst at a chosen burn rate ``b`` (error ratio ``b x budget``, same traffic), then clean
traffic again. For each SLO x window pair with factor ``f`` it asserts, from
``windows.detection_time`` and ``windows.reset_time``:

- ``b`` clearly above ``f``: the pair never fires before ``t0 + long x f / b`` (+ ``for``),
  fires by then plus the tolerance, is still firing shortly before
  ``t1 + short x (1 - f / b)`` after the burst ends at ``t1``, and stays silent after it
  plus the tolerance;
- ``b`` clearly below ``f``: the pair never fires at all.

A *steady case* burns at 98 % of a factor from the first sample, so every window holds that
ratio at once, and asserts that each pair with that factor never fires.

Tolerance. The engines see the continuous Workbook figure ``t*`` through three grids:

- evaluations every ``e`` (the rate window, the event-count group's interval, 5m here): a
  crossing shows at the first evaluation after it;
- the error ratios add 5m count slices (``recording.slo_ratio_rules``). Prometheus 2 reads
  a closed range ``[t - w, t]`` and sums one slice more than ``w / e``: its window is
  ``w + e`` long, which moves a crossing by ``e x f / b`` (onset) or ``e x (1 - f / b)``
  (reset), both less than ``e``;
- Prometheus 3 computes the slice a step falls in from 4 of its 5 samples and extrapolates,
  which misjudges the step by up to one scrape interval ``s`` either way; MetricsQL counts
  the slice exactly.

So no engine fires before ``t* - s`` or later than ``t* + e`` (when the pair's ``for`` is a
whole number of evaluations; else one evaluation more), and likewise for the reset. Each
check sits outside that band: *silent* at the last evaluation before ``t* - s``, *firing*
at the first after ``t* + e``. vmalert-tool evaluates the groups in ``group_eval_order`` at
each step and was measured without lag (a vmalert server, whose groups run independently,
lags one evaluation per dependency level; these files do not model it). Steps start and end
between evaluations (``ONSET``, ``OFFSET``), not on the rule phases.

Checks read the engine's own ``ALERTS`` series, so each one concerns exactly one SLO and
pair, whatever the others do, and no annotation text (whose ``$value`` is engine-specific
while a window fills) is compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction

from ..promql import format_duration, format_number
from ..spec.model import BURN_ALERT, SLO, BurnRate, Service
from . import alerts
from .promtool_cases import EXPRESSION_TESTS
from .synthetic import Feed, segments, sli_counts, sli_feeds
from .windows import detection_time, reset_time

SAMPLE = 60  # seconds between input samples: the test's scrape interval
# Step cases burn each SLO at these rates (capped at 100 % errors): a total outage of a
# 99.9 % SLO and a burn ten times the sustainable one. SLOs that read the same series get the
# burn rate those series give them, so one case measures several rates.
STEP_BURN_RATES = (1000.0, 10.0)
STEADY_SHARE = 0.98  # a steady burn just under a factor never fires
CLEAR = 0.05  # burn rates within 5 % of a factor are not asserted either way


@dataclass(frozen=True)
class Pair:
    """One SLO's window pair and the burn rate a case gives it."""

    slo: SLO
    burn: BurnRate
    rate: float


Key = tuple[str, int, int]  # SLO name, long window, short window


def key(pair: Pair) -> Key:
    """Return what names one burn-rate rule: SLO, long and short window."""
    return (pair.slo.name, pair.burn.long, pair.burn.short)


def alert_selector(service: Service, slo: SLO, burn: BurnRate, extra: dict | None = None) -> str:
    """Return the selector of the engine's ``ALERTS`` series of one firing SLO x pair (with
    the series labels ``extra``, such as a cluster's)."""
    rule = alerts.burn_rate_rule(service, slo, burn)
    labels = {"alertname": rule["alert"], "alertstate": "firing", **rule["labels"]}  # type: ignore[dict-item]
    labels |= extra or {}
    # A JSON string is a valid PromQL string literal (Go's escapes).
    inner = ", ".join(f"{k}={json.dumps(str(v), ensure_ascii=False)}" for k, v in labels.items())
    return f"ALERTS{{{inner}}}"


def _firing(selector: str, at: int, count: int) -> dict:
    """Check that ``count`` alerts of ``selector`` fire at ``at`` seconds."""
    return {
        "expr": f"count({selector}) or vector(0)",
        "eval_time": format_duration(at),
        "exp_samples": [{"labels": "{}", "value": count}],
    }


def _never(selector: str, after: int, until: int) -> dict:
    """Check that ``selector`` did not fire at any evaluation in ``(after, until]`` seconds."""
    return {
        "expr": f"count(max_over_time({selector}[{format_duration(until - after)}])) or vector(0)",
        "eval_time": format_duration(until),
        "exp_samples": [{"labels": "{}", "value": 0}],
    }


def _grid_before(t: Fraction, e: int) -> int:
    """The last evaluation strictly before ``t`` (seconds), on a grid of ``e``."""
    return max(0, -(-int(t.__ceil__()) // e) * e - e)


def _grid_after(t: Fraction, e: int) -> int:
    """The first evaluation strictly after ``t`` (seconds), on a grid of ``e``."""
    return (int(t.__floor__()) // e + 1) * e


def _merged_feeds(service: Service, burns: dict[str, float]) -> tuple[list[Feed], list[Feed]]:
    """Return (clean, hot) feeds: each SLO in ``burns`` at its burn rate (capped at 100 %
    errors), skipping an SLO whose series another SLO already drives."""
    clean: list[Feed] = []
    hot: list[Feed] = []
    taken: set[str] = set()
    for slo in service.slos:
        if slo.name not in burns:
            continue
        ratio = min(burns[slo.name] * slo.error_budget, 1.0)
        cold, warm = sli_feeds(slo.sli, 0.0), sli_feeds(slo.sli, ratio)
        if {f.selector for f in cold + warm} & taken:
            continue
        taken |= {f.selector for f in cold + warm}
        clean += cold
        hot += warm
    return clean, hot


def _pairs(service: Service, clean: list[Feed] | None, hot: list[Feed]) -> list[Pair]:
    """Return every SLO x pair with the burn rate ``hot`` gives it. With ``clean`` (a step),
    SLOs whose traffic the step changes, or that are not clean before it, are left out: the
    Workbook's figures assume steady traffic."""
    out = []
    for slo in service.slos:
        bad, events = sli_counts(slo.sli, hot)
        if not events:
            continue
        if clean is not None:
            bad0, events0 = sli_counts(slo.sli, clean)
            if events != events0 or bad0:
                continue
        out += [Pair(slo, b, bad / events / slo.error_budget) for b in service.slo_burn_rates(slo)]
    return out


def _clearly(pair: Pair) -> str:
    """'above' or 'below' the pair's factor, or '' when too close to call."""
    factor = pair.burn.factor(pair.slo.period)
    if pair.rate > factor * (1 + CLEAR):
        return "above"
    if pair.rate < factor * (1 - CLEAR):
        return "below"
    return ""


def _series(plan: list[tuple[int, list[Feed]]]) -> list[dict[str, str]]:
    steps: dict[str, list[tuple[int, float]]] = {}
    for minutes, feeds in plan:
        for f in feeds:
            steps.setdefault(f.selector, []).append((minutes, f.step))
    return [{"series": k, "values": segments(v)} for k, v in steps.items()]


def _rates_text(pairs: list[Pair]) -> str:
    seen: dict[str, float] = {}
    for p in pairs:
        seen.setdefault(p.slo.name, p.rate)
    return ", ".join(f"{name} {format_number(round(r, 3))}x" for name, r in seen.items())


def step_case(
    service: Service, burns: dict[str, float], burst: int = 0, only: set[Key] | None = None
) -> dict | None:
    """Return a step case: clean traffic, a burst at ``burns[slo]`` x each SLO's budget, then
    clean traffic; None when no pair can be measured.

    ``burst`` (seconds) is the burst's length; 0 picks the shortest that lets every pair
    above its factor fire and be seen firing before the burst ends. ``only`` limits the
    pairs measured (and so the clean prefix, which fills their long windows). Raises
    ValueError when a given ``burst`` is too short.
    """
    e, s = service.rate_window, SAMPLE
    clean, hot = _merged_feeds(service, burns)
    pairs = [
        p for p in _pairs(service, clean, hot) if _clearly(p) and (only is None or key(p) in only)
    ]
    if not pairs:
        return None
    above = [p for p in pairs if _clearly(p) == "above"]
    longest = max((p.burn.long for p in above), default=0)
    # Prefix: the longest window full of clean traffic, one slice more for Prometheus 2's
    # closed range and one for the first slice's extrapolation; then ONSET into a slice.
    onset = _onset(e)
    t0 = -(-(longest + 2 * e) // e) * e + onset
    # (pair, last evaluation it must be silent at, first one it must fire at)
    onsets: list[tuple[Pair, int, int]] = []
    for p in above:
        detect = detection_time(p.slo.period, p.burn, p.rate)
        assert detect is not None
        late = e + (e if p.burn.for_ % e else 0)
        onsets.append((p, _grid_before(t0 + detect - s, e), _grid_after(t0 + detect + late, e)))
    need = max((f for _, _, f in onsets), default=t0) + e - t0
    if burst and burst < need:
        raise ValueError(f"a {format_duration(burst)} burst ends before every pair fires")
    t1 = t0 + (burst or -(-need // SAMPLE) * SAMPLE)
    if not burst:  # end the burst between evaluations too
        t1 += (_offset(e) - t1) % e
    # (pair, last evaluation it must still fire at, first one it must be silent from)
    resets: list[tuple[Pair, int, int]] = []
    for p, _, fires_at in onsets:
        reset = reset_time(p.slo.period, p.burn, p.rate)
        assert reset is not None
        still = _grid_before(t1 + reset - s, e)
        if still < fires_at:
            raise ValueError("the burst is too short to see the alert fire before it resets")
        resets.append((p, still, _grid_after(t1 + reset + e, e)))
    end = max([t1 + e] + [gone for _, _, gone in resets]) + e
    checks = []
    for (p, silent_until, fires_at), (_, still, gone) in zip(onsets, resets, strict=True):
        sel = alert_selector(service, p.slo, p.burn)
        if silent_until > 0:
            checks.append(_never(sel, 0, silent_until))
        checks += [_firing(sel, fires_at, 1), _firing(sel, still, 1)]
        # (gone - 1m, end]: holds the evaluation at `gone`, not the one before it.
        checks.append(_never(sel, gone - SAMPLE, end))
    for p in pairs:
        if _clearly(p) == "below":
            checks.append(_never(alert_selector(service, p.slo, p.burn), 0, end))
    minutes = end // SAMPLE + 1
    plan = [(t0 // SAMPLE, clean), ((t1 - t0) // SAMPLE, hot), (minutes - t1 // SAMPLE, clean)]
    return {
        "name": f"{BURN_ALERT}: a step to {_rates_text(pairs)} for {format_duration(t1 - t0)} "
        f"after {format_duration(t0)} of clean traffic: every window pair fires within its "
        "detection time, resets within its reset time, and stays silent below its factor",
        "interval": format_duration(SAMPLE),
        "input_series": _series(plan),
        EXPRESSION_TESTS: checks,
    }


def _onset(e: int) -> int:
    """Seconds into a count slice where a step starts: 2 of 5 minutes, never on the grid."""
    return max(SAMPLE, (2 * e // 5) // SAMPLE * SAMPLE) % e or SAMPLE


def _offset(e: int) -> int:
    """Seconds into a count slice where a burst ends: 3 of 5 minutes."""
    return max(SAMPLE, (3 * e // 5) // SAMPLE * SAMPLE) % e or SAMPLE


def steady_case(service: Service, factor: float) -> dict | None:
    """Return a case that burns every SLO at 98 % of ``factor`` from the first sample (so
    every window holds that ratio from the first count on) and checks that no pair below
    its factor fires before the longest short window among them has filled."""
    e = service.rate_window
    burns = {slo.name: STEADY_SHARE * factor for slo in service.slos}
    _, hot = _merged_feeds(service, burns)
    pairs = [p for p in _pairs(service, None, hot) if p.rate < p.burn.factor(p.slo.period)]
    if not any(abs(p.burn.factor(p.slo.period) - factor) < 1e-9 for p in pairs):
        return None
    end = -(-(max(p.burn.short for p in pairs) + 2 * e) // e) * e
    return {
        "name": f"{BURN_ALERT}: a steady burn at {_rates_text(pairs)}, just under the "
        f"{format_number(round(factor, 3))}x factor: its window pairs never fire",
        "interval": format_duration(SAMPLE),
        "input_series": _series([(end // SAMPLE + 1, hot)]),
        EXPRESSION_TESTS: [_never(alert_selector(service, p.slo, p.burn), 0, end) for p in pairs],
    }


def burn_rate_cases(service: Service) -> list[dict]:
    """Return the step cases and one steady case per distinct factor.

    The first step case gives the SLOs that read separate series the ``STEP_BURN_RATES`` in
    turn (SLOs on shared series get what those series give them), so one costly case, whose
    clean prefix fills the longest window, measures several burn rates. Step cases follow,
    without the longest pairs, until every burn rate has been used; then one for any pair
    not yet measured above its factor. Each prefix is as long as its own pairs' windows.
    """
    groups = _groups(service)
    every = {(s.name, b.long, b.short) for s in service.slos for b in service.slo_burn_rates(s)}
    if not every:  # every SLO's pairs switched off
        return []
    longest = max(long_ for _, long_, _ in every)
    cases: list[dict] = []
    done: set[Key] = set()
    used: set[float] = set()
    turn = 0
    while set(STEP_BURN_RATES) - used and turn < len(STEP_BURN_RATES):
        rates = {}
        for i, group in enumerate(groups):
            rate = STEP_BURN_RATES[(i + turn) % len(STEP_BURN_RATES)]
            used.add(rate)
            rates.update({name: rate for name in group})
        burns = {s.name: min(rates[s.name], 1 / s.error_budget) for s in service.slos}
        # Only the first case fills the longest window (days of evaluations); later ones
        # measure the shorter pairs, with a prefix as long as theirs.
        only = None if turn == 0 else {k for k in every if k[1] < longest}
        turn += 1
        case = step_case(service, burns, only=only)
        if case is not None:
            done |= _detected(service, burns) & (every if only is None else only)
            cases.append(case)
    missing = every - done
    if missing:
        rate = STEP_BURN_RATES[0]
        burns = {s.name: min(rate, 1 / s.error_budget) for s in service.slos}
        todo = missing & _detected(service, burns)
        if todo:
            case = step_case(service, burns, only=todo)
            if case is not None:
                cases.append(case)
    factors = sorted({b.factor(s.period) for s in service.slos for b in service.slo_burn_rates(s)})
    for factor in factors:
        case = steady_case(service, factor)
        if case is not None:
            cases.append(case)
    return cases


def _groups(service: Service) -> list[list[str]]:
    """Return the SLOs in groups that read the same series (in spec order)."""
    groups: list[tuple[set[str], list[str]]] = []
    for slo in service.slos:
        mine = {f.selector for f in sli_feeds(slo.sli, 0.0)}
        for selectors, names in groups:
            if selectors & mine:
                selectors |= mine
                names.append(slo.name)
                break
        else:
            groups.append((mine, [slo.name]))
    return [names for _, names in groups]


def _detected(service: Service, burns: dict[str, float]) -> set[Key]:
    """Return the pairs a step to ``burns`` measures above their factor."""
    clean, hot = _merged_feeds(service, burns)
    return {key(p) for p in _pairs(service, clean, hot) if _clearly(p) == "above"}
