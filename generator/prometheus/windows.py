"""Burn-rate arithmetic: which windows are recorded, how fast a window may burn, and how
soon a window pair notices a burn and forgets it (the SRE Workbook's detection and reset
times, chapter 5, "Alerting on SLOs")."""

from __future__ import annotations

from fractions import Fraction

from ..promql import format_duration, format_number
from ..spec.model import SLO, BurnRate, Service


def counted_windows(service: Service) -> tuple[int, ...]:
    """Return the alerting windows whose error ratio is recorded, shortest first."""
    return tuple(w for w in service.slo_windows if w < max(s.period for s in service.slos))


def burn_threshold(slo: SLO, burn: BurnRate) -> float:
    """Return the error ratio at which ``burn`` fires: burn rate x error budget."""
    return round(burn.factor(slo.period) * slo.error_budget, 12)


def describe_factor(slo: SLO, burn: BurnRate) -> str:
    """Return the burn rate as written in rules and docs: ``14.4``."""
    return format_number(burn.factor(slo.period))


def detection_time(period: int, burn: BurnRate, burn_rate: float) -> Fraction | None:
    """Return the seconds from a step of the error ratio to ``burn_rate`` x the budget until
    the pair fires, or None when it never fires (``burn_rate`` at or below its factor).

    With steady traffic a window of length ``w`` that the step entered ``t`` seconds ago
    holds the ratio ``burn_rate x budget x min(t, w) / w``. The pair fires once both windows
    are above ``factor x budget``: the long one after ``long x factor / burn_rate``, the
    short one after ``short x factor / burn_rate``, so detection is the later of the two,
    the long window's, plus the pair's ``for``. Continuous time: engines see it on their
    evaluation grid (see ``burn_rate_tests``).
    """
    factor = Fraction(burn.factor(period)).limit_denominator(10**6)
    rate = Fraction(burn_rate).limit_denominator(10**6)
    if rate <= factor:
        return None
    return max(burn.long, burn.short) * factor / rate + burn.for_


def reset_time(period: int, burn: BurnRate, burn_rate: float) -> Fraction | None:
    """Return the seconds from the end of a burst at ``burn_rate`` until the pair stops
    firing, for a burst that made it fire; None when it never fires.

    After the burst ends, the short window holds ``short - t`` seconds of it, so its ratio is
    ``burn_rate x budget x (short - t) / short``, below ``factor x budget`` once
    ``t > short x (1 - factor / burn_rate)``. The long window, longer, stays above for
    ``long x (1 - factor / burn_rate)``, so the short window resets the alert. ``for`` only
    delays firing; an alert resolves at the first evaluation its condition is false.
    """
    factor = Fraction(burn.factor(period)).limit_denominator(10**6)
    rate = Fraction(burn_rate).limit_denominator(10**6)
    if rate <= factor:
        return None
    return min(burn.long, burn.short) * (1 - factor / rate)


# The burn rates of the README's and the runbook's table: from the slowest leak the Workbook
# alerts on (1x: the budget lasts exactly the period) to a total outage of a 99.9 % SLO.
TABLE_BURN_RATES = (1.0, 2.0, 6.0, 10.0, 14.4, 36.0, 100.0, 1000.0)


def _minutes(seconds: Fraction) -> str:
    """Return a duration for the table, to the second: ``43m12s``, ``8m38s``, ``1d``."""
    return format_duration(round(seconds))


def timing_table(period: int, burn_rates: tuple[BurnRate, ...], error_budget: float = 0.0) -> str:
    """Return the Markdown table of detection and reset times per window pair (rows) and
    burn rate (columns), the Workbook's way: ``detect / reset`` in each cell, "never" at or
    below the pair's factor. Burn rates that need more than 100 % errors at ``error_budget``
    (when given) are left out."""
    rates = [b for b in TABLE_BURN_RATES if not error_budget or b * error_budget <= 1]
    head = "| Pair (factor) | " + " | ".join(f"{format_number(b)}x" for b in rates) + " |"
    rule = "|---|" + "---|" * len(rates)
    rows = [head, rule]
    for burn in burn_rates:
        cells = []
        for rate in rates:
            detect = detection_time(period, burn, rate)
            reset = reset_time(period, burn, rate)
            if detect is None or reset is None:
                cells.append("never")
            else:
                cells.append(f"{_minutes(detect)} / {_minutes(reset)}")
        pair = (
            f"{format_duration(burn.long)}/{format_duration(burn.short)} "
            f"({format_number(round(burn.factor(period), 3))}x"
            + (f", for {format_duration(burn.for_)}" if burn.for_ else "")
            + ")"
        )
        rows.append(f"| {pair} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def for_costs(burn_rates: tuple[BurnRate, ...]) -> list[str]:
    """Return one sentence per pair that carries a ``for``: what it costs in detection."""
    return [
        f"The {format_duration(b.long)}/{format_duration(b.short)} pair waits `for` "
        f"{format_duration(b.for_)}: each of its detection times above includes that "
        f"{format_duration(b.for_)}. The SRE Workbook's pairs carry none: their short window "
        "already resets them once a burn is over."
        for b in burn_rates
        if b.for_
    ]
