"""Alert rules: threshold alerts, error budget alerts and multi-window burn-rate alerts."""

from __future__ import annotations

from .. import signals as names
from ..promql import format_duration, format_number
from ..spec.model import (
    BUDGET_CRITICAL_ALERT,
    BUDGET_LOW_ALERT,
    BURN_ALERT,
    SLO,
    TARGET_DOWN_ALERT,
    BurnRate,
    Service,
    Signal,
    Threshold,
)
from .windows import describe_factor

Rule = dict[str, object]
UNIT_WORDS = {"percent": "%", "seconds": "", "connections": " connections", "bytes": "B"}


def literal(text: str) -> str:
    """Return ``text`` so that Prometheus's template engine prints it unchanged."""
    return text.replace("{{", '{{ "{{" }}')


def anchor(alert: str) -> str:
    """Return the docs section anchor of an alert (GitHub's heading slug)."""
    return alert.lower()


def runbook_url(service: Service, alert: str, override: str = "") -> str:
    """Return the runbook of an alert: the override, or its section in the generated docs."""
    base = service.runbook_base_url or f"out/{service.name}/docs/alerts.md"
    return override or f"{base}#{anchor(alert)}"


def templated_value(sig: Signal) -> str:
    """Return the Go template that prints ``$value`` in the signal's unit."""
    if sig.unit == "seconds":
        return "{{ $value | humanizeDuration }}"
    return "{{ $value | humanize }}" + UNIT_WORDS.get(sig.unit, "")


def threshold_text(sig: Signal, value: float) -> str:
    """Return a threshold as people read it: ``90%``, ``2s``, ``5000 connections``."""
    if sig.unit == "seconds":
        return f"{format_number(value)}s"
    return format_number(value) + UNIT_WORDS.get(sig.unit, "")


def _where(sig: Signal) -> str:
    return " on {{ $labels.instance }}" if "instance" in sig.by else ""


def threshold_rules(service: Service, row: Threshold) -> list[Rule]:
    """Return one rule per severity of a threshold-table row, warning first."""
    sig = row.signal
    series = f'{names.signal(service, sig)}{{service="{service.name}"}}'
    op = ">" if row.direction == "above" else "<"
    word = "above" if row.direction == "above" else "below"
    rules = []
    for severity, value in row.levels():
        lead = literal(row.description or sig.help or sig.key.replace("_", " ").capitalize())
        description = (
            f"{lead} Now {templated_value(sig)}{_where(sig)}, {word} the {severity} "
            f"threshold of {threshold_text(sig, value)}."
        )
        rules.append(
            {
                "alert": row.alert,
                "expr": f"{series} {op} {format_number(value)}",
                "for": format_duration(row.for_),
                "labels": {**dict(service.labels), "severity": severity, "service": service.name},
                "annotations": {
                    "summary": literal(row.summary),
                    "description": description,
                    "runbook_url": runbook_url(service, row.alert, row.runbook_url),
                },
            }
        )
    return rules


def _slo_labels(service: Service, slo: SLO, severity: str) -> dict[str, str]:
    return {
        **dict(service.labels),
        "severity": severity,
        "service": service.name,
        "slo": slo.name,
        "slo_type": slo.slo_type,
    }


def burn_rate_rule(service: Service, slo: SLO, burn: BurnRate) -> Rule:
    """Return the alert for one long/short window pair of one SLO."""
    sel = names.slo_selector(service, slo)
    budget = format_number(slo.error_budget)
    factor = describe_factor(slo, burn)
    long_, short = format_duration(burn.long), format_duration(burn.short)
    period = format_duration(slo.period)
    clause = "{ratio}{sel} / {budget} > {factor}"
    expr = (
        clause.format(ratio=names.slo_error_ratio(burn.long), sel=sel, budget=budget, factor=factor)
        + "\nand\n"
        + clause.format(
            ratio=names.slo_error_ratio(burn.short), sel=sel, budget=budget, factor=factor
        )
    )
    spent = format_number(burn.budget_consumed)
    # No `for` unless the spec sets one: the short window resets the alert (SRE Workbook).
    delay = {"for": format_duration(burn.for_)} if burn.for_ else {}
    return {
        "alert": BURN_ALERT,
        "expr": expr,
        **delay,
        "labels": {**_slo_labels(service, slo, burn.severity), "long": long_, "short": short},
        "annotations": {
            "summary": literal(f"The {slo.name} SLO is burning its error budget too fast."),
            "description": (
                f"Over the last {long_} the {slo.name} SLO burnt its error budget "
                "{{ $value | humanize }} times faster than the "
                f"{period} period allows (alert above {factor}x, confirmed over {short}). "
                f"At {factor}x, {spent}% of the {period} budget is gone in {long_}."
            ),
            "runbook_url": runbook_url(service, BURN_ALERT, slo.runbook_url),
        },
    }


def budget_levels(service: Service) -> tuple[tuple[str, str, float], ...]:
    """Return ``(alert, severity, budget remaining % it fires below)`` per budget alert."""
    policy = service.error_budget
    return (
        (BUDGET_LOW_ALERT, "warning", policy.low_below),
        (BUDGET_CRITICAL_ALERT, "critical", policy.critical_below),
    )


def budget_rules(service: Service, slo: SLO) -> list[Rule]:
    """Return ErrorBudgetLow (warning) and ErrorBudgetCritical (critical) for one SLO."""
    policy = service.error_budget
    series = f"{names.budget_remaining_percent(service)}{names.slo_selector(service, slo)}"
    out = []
    for alert, severity, below in budget_levels(service):
        out.append(
            {
                "alert": alert,
                "expr": f"{series} < {format_number(below)}",
                "for": format_duration(policy.for_),
                "labels": _slo_labels(service, slo, severity),
                "annotations": {
                    "summary": literal(
                        f"Less than {format_number(below)}% of the {slo.name} error budget is left."
                    ),
                    "description": (
                        "{{ $value | humanize }}% of the "
                        f"{format_duration(slo.period)} error budget of the {slo.name} SLO "
                        f"({format_number(slo.objective)}%) is left; the {severity} "
                        f"level is {format_number(below)}%."
                    ),
                    "runbook_url": runbook_url(service, alert, slo.runbook_url),
                },
            }
        )
    return out


def target_rules(service: Service, job: str) -> list[Rule]:
    """Return TargetDown for one scrape job: one instance down (warning), or every instance
    down or gone from service discovery (critical). During an outage no requests arrive,
    so no SLO alert can fire; this is the page that does."""
    up = f'up{{job="{job}"}}'
    # `job` as a rule label too: promtool counts rules with equal names and labels as duplicates.
    labels = {**dict(service.labels), "service": service.name, "job": job}
    url = runbook_url(service, TARGET_DOWN_ALERT)
    return [
        {
            "alert": TARGET_DOWN_ALERT,
            "expr": f"{up} == 0",
            "for": "5m",
            "labels": {**labels, "severity": "warning"},
            "annotations": {
                "summary": literal(f"A {job} target is down."),
                "description": "Prometheus cannot scrape {{ $labels.instance }} of job "
                "{{ $labels.job }}.",
                "runbook_url": url,
            },
        },
        {
            "alert": TARGET_DOWN_ALERT,
            "expr": f"sum by (job) ({up}) == 0 or absent({up})",
            "for": "3m",
            "labels": {**labels, "severity": "critical"},
            "annotations": {
                "summary": literal(f"Every {job} target is down."),
                "description": "No instance of job {{ $labels.job }} can be scraped, or none "
                "is discovered: the service is down or invisible, and its SLOs cannot see it.",
                "runbook_url": url,
            },
        },
    ]


def groups(service: Service) -> list[dict[str, object]]:
    """Return the alert rule groups of a service."""
    svc = service.name
    out = [
        {
            "name": f"{svc}-target-alerts",
            "rules": [r for job in service.jobs for r in target_rules(service, job)],
        },
        {
            "name": f"{svc}-threshold-alerts",
            "rules": [r for row in service.thresholds for r in threshold_rules(service, row)],
        },
        {
            "name": f"{svc}-slo-burn-rate-alerts",
            "rules": [
                burn_rate_rule(service, s, b) for s in service.slos for b in service.burn_rates
            ],
        },
        {
            "name": f"{svc}-error-budget-alerts",
            "rules": [r for s in service.slos for r in budget_rules(service, s)],
        },
    ]
    return [g for g in out if g["rules"]]
