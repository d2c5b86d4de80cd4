"""promtool unit tests for the generated rules.

Three files: threshold and TargetDown alerts (threshold_tests.py), SLO burn-rate and budget
alerts, and SLO values on a known traffic pattern (slo_tests.py).
"""

from __future__ import annotations

from ..promql import format_duration
from ..spec.model import Service
from .slo_tests import slo_alert_cases, slo_value_case
from .threshold_tests import target_cases, threshold_cases

RULE_FILES = ["../recording_rules.yml", "../alerts.yml"]


def suites(service: Service) -> dict[str, dict]:
    """Return promtool test files by name: threshold alerts, SLO alerts, SLO values."""

    def suite(tests: list[dict], interval: str = "1m", rule_files=RULE_FILES) -> dict:
        return {"rule_files": rule_files, "evaluation_interval": interval, "tests": tests}

    out = {}
    thresholds = [c for row in service.thresholds for c in threshold_cases(service, row)]
    thresholds += target_cases(service) if service.jobs else []
    if thresholds:
        out["threshold_alerts_test.yml"] = suite(thresholds)
    # SLO suites evaluate once per rate window, as the event-count group does in a server:
    # each count is its own slice of time.
    slow = format_duration(service.rate_window)
    slo_alerts = [c for s in service.slos for c in slo_alert_cases(service, s)]
    out["slo_alerts_test.yml"] = suite(slo_alerts, slow)
    # Recording rules only: promtool's run time grows with the span whenever alerting rules
    # are loaded, and this suite spans days.
    values = [slo_value_case(service, s) for s in service.slos]
    out["slo_values_test.yml"] = suite(values, slow, RULE_FILES[:1])
    return out
