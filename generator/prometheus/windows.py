"""Burn-rate arithmetic: which windows are recorded and how fast a window may burn."""

from __future__ import annotations

from ..promql import format_number
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
