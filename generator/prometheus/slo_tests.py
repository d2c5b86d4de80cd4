"""promtool tests of SLO alerts and values: burn rates bracketed around every factor, a
burst that has ended, budget levels, and the traffic-weighted budget on a known pattern."""

from __future__ import annotations

import itertools
from fractions import Fraction

from .. import signals as names
from ..promql import format_duration, format_number
from ..spec.model import SLO, Service
from . import alerts
from .promtool_cases import expect, input_series, labels_text
from .synthetic import (
    PER_MINUTE,
    Feed,
    segments,
    sli_counts,
    sli_error_ratio,
    sli_feeds,
    slo_labels,
)

SETTLE = 5 * 60  # after the rate window fills, before `for` starts counting


def _slo_alerts_at(service: Service, feeds: list[Feed], kind: str) -> list[tuple[str, dict]]:
    """Return (alertname, expectation) of the burn-rate (kind='burn') or budget alerts that
    steady ``feeds`` make fire, for every SLO (several SLOs may read the same series)."""
    out = []
    for slo in service.slos:
        ratio = sli_error_ratio(slo.sli, feeds)
        burn = ratio / slo.error_budget
        if kind == "burn":
            for b in service.slo_burn_rates(slo):
                if burn > b.factor(slo.period) * 1.0000001:
                    rule = alerts.burn_rate_rule(service, slo, b)
                    links = alerts.link_annotations(
                        service, slo.burn_alert, slo.runbook_url, section=slo.name, slo=slo.name
                    )
                    labels = slo_labels(service, slo)
                    out.append((slo.burn_alert, expect(rule, burn, labels, links)))
        else:
            remaining = 100 * (1 - burn)
            rules = alerts.budget_rules(service, slo)
            for rule, (alert, _, limit) in zip(rules, alerts.budget_levels(service), strict=True):
                if remaining < limit:
                    links = alerts.link_annotations(service, alert, slo.runbook_url, slo=slo.name)
                    expectation = expect(rule, remaining, slo_labels(service, slo), links)
                    out.append((rule["alert"], expectation))
    return out


def _burn_states(service: Service, errors: dict[str, list[float]], at: int):
    """Yield (slo, burn rate pair, long burn, short burn, minutes the condition has held)
    at minute ``at``, for per-minute error ratios ``errors[slo]`` on a 5m evaluation grid."""
    step = service.rate_window // 60
    for slo in service.slos:
        e = errors[slo.name]

        def burn(t: int, window: int, e=e, slo=slo) -> float:
            span = e[max(0, t - window // 60) : t]
            return sum(span) / len(span) / slo.error_budget if span else 0.0

        for b in service.slo_burn_rates(slo):
            f = b.factor(slo.period)
            held, t = 0, at
            while t > 0 and burn(t, b.long) > f and burn(t, b.short) > f:
                held, t = at - t + step, t - step
            yield slo, b, burn(at, b.long), burn(at, b.short), held


def _titles(group: tuple[SLO, ...]) -> str:
    return ", ".join(slo.name for slo in group)


def burn_alert_names(service: Service, group: tuple[SLO, ...]) -> list[str]:
    """Return the burn-rate alert names of ``group``'s SLOs that have any pair, sorted."""
    return sorted({slo.burn_alert for slo in group if service.slo_burn_rates(slo)})


def _burst_case(service: Service, group: tuple[SLO, ...]) -> dict | None:
    """A burst that has just ended, on every SLO of ``group`` at once: the fastest pair's
    long window is still hot, its short window is clean, and nothing may page (the short
    window proves the burn is over).

    Designs are tried until one is unambiguous: every burn rate at least 15 % away from its
    factor and every pending condition at least 10 minutes away from its ``for``; with
    continuous windows and no near-misses, promtool's 5m grid cannot tip the outcome.
    """
    if not burn_alert_names(service, group):
        return None
    # The fastest pair is the same for every period: a factor is proportional to it.
    fastest = max(service.burn_rates, key=lambda b: b.factor(group[0].period))
    tail = 2 * fastest.short // 60
    burst = fastest.long // 60 - tail
    for prefix, scale in itertools.product((360, 720, 1440), (2.0, 1.6, 1.3)):
        ratios = {
            slo.name: min(fastest.factor(slo.period) * scale * slo.error_budget, 0.999)
            for slo in group
        }
        hot = [f for slo in group for f in sli_feeds(slo.sli, ratios[slo.name])]
        clean = [f for slo in group for f in sli_feeds(slo.sli, 0.0)]
        plan = [(prefix, clean), (burst, hot), (tail, clean)]
        end = prefix + burst + tail
        errors = {
            y.name: [r for m, feeds in plan for r in [sli_error_ratio(y.sli, feeds)] * m]
            for y in service.slos
        }
        states = list(_burn_states(service, errors, end))
        near = any(
            abs(v / b.factor(y.period) - 1) < 0.15 for y, b, lg, sh, _ in states for v in (lg, sh)
        ) or any(held and abs(held * 60 - b.for_) < 600 for _, b, _, _, held in states)
        firing = any(held * 60 >= b.for_ and held for _, b, _, _, held in states)
        points = [
            lg > fastest.factor(y.period) > sh
            for y, b, lg, sh, _ in states
            if y in group and b is fastest
        ]
        if near or firing or not all(points):
            continue
        series: dict[str, list[tuple[int, float]]] = {}
        for minutes, feeds in plan:
            for f in feeds:
                series.setdefault(f.selector, []).append((minutes, f.step))
        burns = ", ".join(
            f"{slo.name} {format_number(round(ratios[slo.name] / slo.error_budget, 3))}x"
            for slo in group
        )
        alertnames = "/".join(burn_alert_names(service, group))
        return {
            "name": f"{alertnames} {_titles(group)}: a {burst}m burst ({burns}) ended {tail}m "
            f"ago: the {format_duration(fastest.long)} window is hot, the "
            f"{format_duration(fastest.short)} window is clean, nothing pages",
            "interval": "1m",
            "input_series": [{"series": k, "values": segments(v)} for k, v in series.items()],
            "alert_rule_test": [
                {"eval_time": format_duration(end * 60), "alertname": name, "exp_alerts": []}
                for name in burn_alert_names(service, group)
            ],
        }
    return None


def _burst_cases(service: Service, group: tuple[SLO, ...]) -> list[dict]:
    """The ended-burst case for the whole group, or, where no design suits every member at
    once, one per member (and none for a member no design suits)."""
    case = _burst_case(service, group)
    if case is not None or len(group) == 1:
        return [case] if case is not None else []
    return [c for slo in group for c in _burst_cases(service, (slo,))]


def slo_alert_cases(service: Service, group: tuple[SLO, ...]) -> list[dict]:
    """Return the burn-rate and budget alert cases of ``group`` (SLOs whose series are
    independent, see ``independent_slos``): each case drives every member at once."""
    burning = burn_alert_names(service, group)
    cases = _burst_cases(service, group) if burning else []
    longest_for = max([b.for_ for b in service.burn_rates] + [service.error_budget.for_])
    step = service.rate_window // 60
    minutes = -(-((SETTLE + longest_for) // 60 + 10) // step) * step  # a whole evaluation
    eval_time = format_duration(minutes * 60)

    def levels(slo: SLO) -> list[float]:
        factors = sorted({b.factor(slo.period) for b in service.burn_rates}, reverse=True)
        burns = [factors[0] * 1.25] + [(a + b) / 2 for a, b in itertools.pairwise(factors)]
        # A loose SLO cannot burn at the faster factors (an error ratio above 100 %): the
        # fastest factor it can reach is bracketed below 100 % errors, or no case fires it.
        cap = 1 / slo.error_budget
        j = next((i for i, f in enumerate(factors) if f < cap), None)
        if j is not None and burns[j] >= cap:
            burns[j] = (factors[j] + cap) / 2
        return burns + [factors[-1] * 0.9]  # silent: just under the slowest burn rate

    for burns in zip(*(levels(slo) for slo in group), strict=True):
        # An error ratio above 100 % cannot happen: such a member sits this level out.
        driven = [(slo, b) for slo, b in zip(group, burns, strict=True) if b * slo.error_budget < 1]
        if not driven:
            continue
        if not burning:
            break
        feeds = [f for slo, b in driven for f in sli_feeds(slo.sli, b * slo.error_budget)]
        expected = _slo_alerts_at(service, feeds, "burn")
        rates = ", ".join(f"{slo.name} {format_number(round(b, 6))}x" for slo, b in driven)
        cases.append(
            {
                "name": f"{'/'.join(burning)} burning {rates} "
                f"({len(expected)} window pairs firing)",
                "interval": "1m",
                "input_series": input_series(feeds, minutes),
                "alert_rule_test": [
                    {
                        "eval_time": eval_time,
                        "alertname": name,
                        "exp_alerts": [e for n, e in expected if n == name],
                    }
                    for name in burning
                ],
            }
        )
    policy = service.error_budget
    minutes = -(-((SETTLE + policy.for_) // 60 + 10) // step) * step
    eval_time = format_duration(minutes * 60)
    remaining_levels = [
        policy.low_below * 1.02,  # silent, just above the low level
        max(policy.low_below * 0.98, (policy.low_below + policy.critical_below) / 2),  # low
        policy.critical_below * 0.98,  # low and critical
    ]
    alertnames = sorted({r["alert"] for slo in group for r in alerts.budget_rules(service, slo)})
    for remaining in remaining_levels:
        ratio = 1 - remaining / 100
        feeds = [f for slo in group for f in sli_feeds(slo.sli, ratio * slo.error_budget)]
        firing = _slo_alerts_at(service, feeds, "budget")
        cases.append(
            {
                "name": f"error budget {_titles(group)}: {format_number(remaining)}% left",
                "interval": "1m",
                "input_series": input_series(feeds, minutes),
                "alert_rule_test": [
                    {
                        "eval_time": eval_time,
                        "alertname": name,
                        "exp_alerts": [e for n, e in firing if n == name],
                    }
                    for name in alertnames
                ],
            }
        )
    return cases


def _value_case_plan(service: Service, slo: SLO) -> tuple[int, int, int]:
    """Return (quiet minutes before, busy minutes, quiet minutes after) for
    :func:`slo_value_case`, derived from the period and the burn-rate windows.

    The busy hour must end longer ago than the longest burn-rate window (so a budget
    computed over that window instead of the period would forget it) and everything must
    lie inside the period (so the period's sum sees all of it). Where the period leaves no
    room beyond the longest window, the busy hour sits in the middle of the period. All
    spans are whole rate windows, so each count slice sees one rate (see ``segments``).
    """
    step = service.rate_window // 60
    period = slo.period // 60
    longest = max((b.long for b in service.burn_rates), default=0) // 60

    def up(minutes: int) -> int:
        return -(-minutes // step) * step

    def down(minutes: int) -> int:
        return minutes // step * step

    hot, margin = up(60), 4 * step  # the idle edges and the check inside the tail
    after = up(longest + 60)
    if after + hot + margin + step > period:
        after = down((period - hot - margin) // 2)
    before = max(step, down(min(12 * 60, period - hot - after - margin)))
    return before, hot, after


def _rounded(value: Fraction) -> str:
    """Return ``value`` rounded half up to 0.001, as the checks' ``round(x, 0.001)``."""
    return format_number(float((value * 1000 + Fraction(1, 2)).__floor__() / Fraction(1000)))


def _rider_host(service: Service, members: tuple[SLO, ...], rider: SLO) -> SLO | None:
    """Return the member of ``members`` whose series a value case can check ``rider`` on
    too, or None: the rider counts events of that member's series only (none of another
    member's), its busy hour errs at most twice its budget (so its budget stays within
    -100 % to 100 %), its quiet spans carry traffic, and both plan the same spans."""
    if rider.sli.kind == "query":
        return None
    plan = _value_case_plan(service, rider)
    for host in members:
        if host.sli.kind == "query" or _value_case_plan(service, host) != plan:
            continue
        others = [f for o in members if o is not host for f in sli_feeds(o.sli, 0.5)]
        bad, total = sli_counts(rider.sli, sli_feeds(host.sli, min(2 * host.error_budget, 1.0)))
        quiet = sli_counts(rider.sli, sli_feeds(host.sli, 0.0))
        if (
            sli_counts(rider.sli, others) == (0.0, 0.0)
            and total > 0
            and 0 < bad <= 2 * rider.error_budget * total
            and quiet[1] > 0
        ):
            return host
    return None


def slo_value_cases(service: Service, groups: list[tuple[SLO, ...]]) -> list[dict]:
    """Return the value cases of ``groups`` (see ``independent_slos``): one per group, except
    that an SLO which only reads series an earlier case writes (a second objective on one
    SLI) rides on that case, checked on its series, and needs no case of its own. A value
    case replays days, so every case saved is a replay saved on every engine."""
    cases, ridden = [], set()
    for i, group in enumerate(groups):
        members = tuple(slo for slo in group if slo.name not in ridden)
        if not members:
            continue
        riders = []
        for later in groups[i + 1 :]:
            for slo in later:
                host = None if slo.name in ridden else _rider_host(service, members, slo)
                if host is not None:
                    riders.append((slo, host))
                    ridden.add(slo.name)
        cases.append(slo_value_case(service, members, tuple(riders)))
    return cases


def slo_value_case(
    service: Service, group: tuple[SLO, ...], riders: tuple[tuple[SLO, SLO], ...] = ()
) -> dict:
    """Quiet traffic, one busy hour with errors at twice the budget, then quiet traffic for
    longer than the longest burn-rate window (three days by default), inside the period:
    on every SLO of ``group`` at once (see ``independent_slos``), each on its own series,
    and on each (rider, host) of ``riders`` on its host's series (see ``slo_value_cases``).

    The expected budget remaining is bad count / total count over the period, computed
    here exactly from the series written; an average of 5m ratios would report far more
    budget left. Plans of different lengths start with longer idle spans, so that every
    member ends together.
    """
    quiet, busy = PER_MINUTE / 10, PER_MINUTE
    step = service.rate_window // 60  # minutes between the count group's evaluations
    idle = 2 * step  # idle edges keep every window whole
    plans = {}
    for slo in group:
        before, hot, after = _value_case_plan(service, slo)
        busy_ratio = min(2 * slo.error_budget, 1.0)
        plans[slo.name] = [
            (idle, 0.0, 0.0),
            (before, quiet, 0.0),
            (hot, busy, busy_ratio),
            (after, quiet, 0.0),
            (idle, 0.0, 0.0),
        ]
    end = max(sum(m for m, _, _ in plan) for plan in plans.values())
    end_at = format_duration((end - step) * 60)  # an evaluation of every group, in the tail
    series: dict[str, list[tuple[int, float]]] = {}
    for slo in group:
        plan = plans[slo.name]
        plan[0] = (plan[0][0] + end - sum(m for m, _, _ in plan), 0.0, 0.0)
        for minutes, traffic, ratio in plan:
            for f in sli_feeds(slo.sli, ratio):  # one minute of the segment, scaled
                series.setdefault(f.selector, []).append((minutes, f.step * traffic / PER_MINUTE))
    checks, claims = [], []
    for slo, host in [(slo, slo) for slo in group] + list(riders):
        bad, total = Fraction(0), Fraction(0)
        ratio_minutes, busy_minutes = Fraction(0), 0  # for the average of 5m ratios
        for minutes, traffic, ratio in plans[host.name]:
            # Counts come from the very series written, so rounding cannot creep in.
            b, t = sli_counts(slo.sli, sli_feeds(host.sli, ratio))
            scale = Fraction(traffic) / Fraction(PER_MINUTE)
            bad += minutes * scale * Fraction(b)
            total += minutes * scale * Fraction(t)
            if traffic and t:
                ratio_minutes += minutes * Fraction(b) / Fraction(t)
                busy_minutes += minutes
        budget = Fraction(slo.error_budget)
        remaining = 100 * (1 - (bad / total) / budget)
        unweighted = 100 * (1 - ratio_minutes / busy_minutes / budget)
        after = plans[host.name][3][0]
        claims.append(
            f"{slo.name} {_rounded(remaining)}% ({_rounded(unweighted)}%), "
            f"{format_duration(after * 60)} after"
        )
        sel = names.slo_selector(service, slo)
        labels = slo_labels(service, slo)
        checks += [
            *_no_traffic_checks(service, slo),
            # 100 x the ratio: a product drops the metric name on every engine (MetricsQL's
            # round() would keep it).
            {
                "expr": f"round(100 * {names.SLO_BUDGET_REMAINING}{sel}, 0.001)",
                "eval_time": end_at,
                "exp_samples": [
                    {"labels": labels_text("", labels), "value": float(_rounded(remaining))}
                ],
            },
            # The seed's percent series equals 100 x the ratio. Both are computed from one
            # recorded ratio r in one group: 100 * (1 - r / b) against 100 * (that ratio),
            # four float operations on values of magnitude <= 100 here, each off by at most
            # 2^-53 relative: 4 x 100 x 1.1e-16 = 4.4e-14 at most (vmalert-tool differs by
            # 3.6e-15 at a 1m rate window). 1e-9, written out as the output has no exponents,
            # is far above that and far below the 0.001 that a wrong formula moves it by.
            {
                "expr": f"abs({names.budget_remaining_percent(service)}{sel} "
                f"- 100 * {names.SLO_BUDGET_REMAINING}{sel}) < bool 0.000000001",
                "eval_time": end_at,
                "exp_samples": [{"labels": labels_text("", labels), "value": 1.0}],
            },
        ]
    return {
        "name": (
            "one busy hour of errors, then quiet past the longest burn-rate window, leaves "
            "this much of the budget, traffic-weighted (an average of 5m ratios would claim "
            f"the second figure): {'; '.join(claims)}"
        ),
        "interval": "1m",
        "input_series": [
            {"series": sel_, "values": segments(steps)} for sel_, steps in series.items()
        ],
        "promql_expr_test": checks,
    }


def _no_traffic_checks(service: Service, slo: SLO) -> list[dict]:
    """Before any traffic, every ratio is 0 (not NaN) and the whole budget is left."""
    labels = slo_labels(service, slo)
    sel = names.slo_selector(service, slo)
    expected = [(names.slo_error_ratio(w), 0.0) for w in (service.rate_window, slo.period)]
    expected.append((names.budget_remaining_percent(service), 100.0))
    return [
        {
            "expr": f"{metric}{sel}",
            "eval_time": format_duration(service.rate_window),
            "exp_samples": [{"labels": labels_text(metric, labels), "value": value}],
        }
        for metric, value in expected
    ]
