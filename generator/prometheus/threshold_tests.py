"""promtool tests of threshold and TargetDown alerts: each fires just past its threshold,
with its exact labels and annotations once ``for`` has passed, and stays silent just inside."""

from __future__ import annotations

from .. import signals as names
from ..promql import absent_labels, format_duration, format_number
from ..spec.model import TARGET_DOWN_ALERT, Service, Signal, Threshold
from . import alerts
from .edge_tests import zero_denominator_feeds
from .promtool_cases import expect, input_series
from .synthetic import (
    Feed,
    UntestableSpec,
    quantile_value,
    signal_feeds,
    slo_labels,
    target_labels,
    up_feed,
)

FIRING_MARGIN = 4 * 60


def _signal_labels(service: Service, sig: Signal, feeds: list[Feed]) -> dict[str, str]:
    if sig.kind == "availability":
        slo = service.slo(sig.slo)
        return slo_labels(service, slo)
    first = dict(feeds[0].labels)
    kept = names.aggregation_labels(service, sig.by)  # its `by`, then the cluster label
    return {k: first[k] for k in kept if k in first} | names.own_labels(service)


def _healthy_value(row: Threshold) -> float:
    """A value just inside the healthy side of the warning threshold."""
    if row.direction == "above":
        return row.warning * 0.99
    cap = 100.0 if row.signal.unit == "percent" else row.warning * 1.02 + 1
    return row.warning + (cap - row.warning) / 2


def _firing_value(row: Threshold, severity: str) -> float:
    """A value just past ``severity``'s threshold (and short of the next one), so a
    threshold moved by more than about 1 % fails the test."""
    w, c = row.warning, row.critical
    sign = 1 if row.direction == "above" else -1
    if severity == "warning" and c is not None:
        return w + (c - w) * 0.1
    level = c if severity == "critical" and c is not None else w
    value = level * (1 + sign * 0.01) if level else sign * 0.01
    if row.signal.unit == "percent" and sign > 0:
        value = min(value, (level + 100) / 2)
    return value


def _drive(
    service: Service, row: Threshold, value: float, low: float, high: float, nearest: str = "low"
):
    """Return (feeds, value actually reached) for a threshold test."""
    if row.signal.kind == "quantile":
        found = quantile_value(row.signal, low, high, nearest=nearest)
        if found is None:
            raise UntestableSpec(
                f"{row.alert}: no histogram bucket puts the quantile in ({low}, {high}]"
            )
        return found
    return signal_feeds(service, row.signal, value), value


def _pending(alertname: str, for_: int) -> list[dict]:
    """A check one minute before ``for`` has passed: the alert must not fire yet."""
    if for_ < 120:
        return []
    return [{"eval_time": format_duration(for_ - 60), "alertname": alertname, "exp_alerts": []}]


def threshold_cases(service: Service, row: Threshold) -> list[dict]:
    rules = alerts.threshold_rules(service, row)
    # Signals hold their value from the second or third evaluation on; firing is checked
    # FIRING_MARGIN after `for`, so a `for` longer by that much fails the test.
    minutes = (row.for_ + FIRING_MARGIN) // 60
    eval_time = format_duration(minutes * 60)
    cases = []
    levels = dict(row.levels())
    above = row.direction == "above"
    for severity, _ in row.levels():
        target = _firing_value(row, severity)
        nxt = levels.get("critical") if severity == "warning" else None
        bound = levels[severity]
        low, high = (bound, nxt if nxt is not None else float("inf")) if above else (0, bound)
        feeds, value = _drive(service, row, target, low, high)
        labels = _signal_labels(service, row.signal, feeds)
        firing = [
            r for r in rules if (r["labels"]["severity"] == "warning" or severity == "critical")
        ]
        links = alerts.link_annotations(service, row.alert, row.runbook_url, signal=row.signal.key)
        exp = [expect(r, value, labels, links) for r in firing]
        cases.append(
            {
                "name": f"{row.alert} {severity}: {row.signal.key} at {format_number(value)}",
                "interval": "1m",
                "input_series": input_series(feeds, minutes),
                "alert_rule_test": [
                    *_pending(row.alert, row.for_),
                    {"eval_time": eval_time, "alertname": row.alert, "exp_alerts": exp},
                ],
            }
        )
    healthy = _healthy_value(row)
    low, high = (0, row.warning) if above else (row.warning, float("inf"))
    nearest = "high" if above else "low"  # the healthy value closest to the threshold
    feeds, value = _drive(service, row, healthy, low, high, nearest)
    cases.append(
        {
            "name": f"{row.alert} silent: {row.signal.key} at {format_number(value)}, "
            f"just inside the {format_number(row.warning)} threshold",
            "interval": "1m",
            "input_series": input_series(feeds, minutes),
            "alert_rule_test": [{"eval_time": eval_time, "alertname": row.alert, "exp_alerts": []}],
        }
    )
    return cases


def zero_denominator_alert_cases(service: Service, row: Threshold) -> list[dict]:
    """A ratio signal over a zero denominator (a capacity of 0, no traffic): no severity of
    the row fires, whichever its direction, once ``for`` has passed (empty for other kinds)."""
    if row.signal.kind != "ratio":
        return []
    minutes = (row.for_ + FIRING_MARGIN) // 60
    return [
        {
            "name": f"{row.alert} silent: {row.signal.key} over a zero denominator",
            "interval": "1m",
            "input_series": input_series(zero_denominator_feeds(row.signal), minutes),
            "alert_rule_test": [
                {
                    "eval_time": format_duration(minutes * 60),
                    "alertname": row.alert,
                    "exp_alerts": [],
                }
            ],
        }
    ]


def target_cases(service: Service) -> list[dict]:
    """TargetDown: silent while every job is up; one instance down (warning and, as it is
    the only one, critical); a job gone from discovery (critical, through absent())."""

    def up(jobs: tuple[str, ...], value: int) -> list[Feed]:
        return [up_feed(service, j, value) for j in jobs]

    minutes = 12
    check = {"eval_time": format_duration(minutes * 60), "alertname": TARGET_DOWN_ALERT}
    cases = [
        {
            "name": f"{TARGET_DOWN_ALERT} silent: every job is up",
            "interval": "1m",
            "input_series": input_series(up(service.jobs, 1), minutes),
            "alert_rule_test": [{**check, "exp_alerts": []}],
        }
    ]
    for job in service.target_down_jobs:
        warning, critical = alerts.target_rules(service, job)
        links = alerts.link_annotations(service, TARGET_DOWN_ALERT, job=job)
        others = tuple(j for j in service.jobs if j != job)
        gone = absent_labels(alerts.up_matchers(service, job))  # absent(up{...}) fires
        cases.append(
            {
                "name": f"{TARGET_DOWN_ALERT}: the only {job} instance is down",
                "interval": "1m",
                "input_series": input_series(up(others, 1) + up((job,), 0), minutes),
                "alert_rule_test": [
                    {**check, "eval_time": "2m", "exp_alerts": []},
                    {
                        **check,
                        "exp_alerts": [
                            expect(warning, 0, target_labels(service, job), links),
                            expect(critical, 0, {"job": job}, links),
                        ],
                    },
                ],
            }
        )
        cases.append(
            {
                "name": f"{TARGET_DOWN_ALERT}: no {job} target is discovered",
                "interval": "1m",
                "input_series": input_series(up(others, 1), minutes),
                "alert_rule_test": [{**check, "exp_alerts": [expect(critical, 0, gone, links)]}],
            }
        )
    return cases
