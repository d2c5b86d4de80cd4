"""promtool unit tests for the generated rules.

The files: threshold and TargetDown alerts (threshold_tests.py), MetricAbsent
(absent_tests.py), SLO burn-rate and budget alerts, SLO values on a known traffic
pattern (slo_tests.py), the burn-rate pairs' detection and reset times
(burn_rate_tests.py), and values at the edges: zero denominators, no observations,
series born non-zero, a counter reset and a birth inside an event-count slice
(edge_tests.py). Cases are planned a sample a minute and sampled finer where the rate
window needs it (resample.py); the slice cases set their own sampling. Every file names the rule
groups in dependency order (``group_eval_order``): promtool 3 evaluates unnamed groups in
an arbitrary order, and a rule would then read its inputs from the previous evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..memo import per_service
from ..promql import format_duration
from ..spec.model import SLO, Service, Signal, Threshold
from .absent_tests import absent_cases
from .burn_rate_tests import burn_rate_cases
from .case_packing import pack
from .edge_tests import edge_cases, slice_cases
from .kept_label_tests import kept_label_cases
from .resample import resampled_case, samples_per_minute
from .rule_files import (
    ALERTS_FILE,
    FILES,
    RECORDING_FILE,
    RECORDING_FILES,
    SLO_FILES,
    SLO_RECORDING_FILE,
    group_order,
    loaded_files,
    plain_groups,
)
from .rule_reads import RuleReads
from .slo_tests import slo_alert_cases, slo_value_cases
from .synthetic import independent_slos
from .threshold_tests import target_cases, threshold_cases, zero_denominator_alert_cases


def suites(service: Service, rules_dir: str = "..") -> dict[str, dict]:
    """Return promtool test files by name: threshold alerts, MetricAbsent, SLO alerts, SLO
    values and edge values.

    ``rules_dir`` is the rule files' folder as seen from the test file. The cases are
    planned once per service (promtool's and vmalert-tool's suites share them).
    """
    return {
        name: {**suite, "rule_files": [f"{rules_dir}/{f}" for f in suite["rule_files"]]}
        for name, suite in _suites(service).items()
    }


def _only(service: Service, keep: Callable[[SLO], bool]) -> Service:
    """Return ``service`` with only the SLOs ``keep`` accepts: the same object when it keeps
    them all (planners memoise per service object, see ``memo.per_service``)."""
    slos = tuple(s for s in service.slos if keep(s))
    return service if len(slos) == len(service.slos) else replace(service, slos=slos)


def _drivable(service: Service, sig: Signal) -> bool:
    """Return False for an availability signal of an SLO synthetic series cannot drive (a
    raw query of another shape, a native histogram): its rules load in every suite."""
    return sig.kind != "availability" or service.slo(sig.slo).sli.testable


def _driven_rows(service: Service) -> list[Threshold]:
    return [row for row in service.thresholds if _drivable(service, row.signal)]


def threshold_suite_cases(service: Service) -> list[dict]:
    """Return the threshold suite's cases, a test group each, before packing: each driven
    threshold row's, then TargetDown's; planned a sample a minute."""
    cases = [
        c
        for row in _driven_rows(service)
        for c in threshold_cases(service, row) + zero_denominator_alert_cases(service, row)
    ]
    return cases + (target_cases(service) if service.target_down_jobs else [])


def threshold_suite_files(service: Service) -> tuple[str, ...]:
    """Return the rule files the threshold suite loads. Its checks name threshold and
    TargetDown alerts (alerts.yml), which read golden-signal recordings, and the SLO
    recordings only for an availability signal."""
    if any(row.signal.kind == "availability" for row in _driven_rows(service)):
        return (*RECORDING_FILES, ALERTS_FILE)
    return (RECORDING_FILE, ALERTS_FILE)


@per_service
def _suites(service: Service) -> dict[str, dict]:
    per_minute = samples_per_minute(service.rate_window)

    def suite(tests: list[dict], interval: str = "1m", names=FILES, sampled=()) -> dict:
        """``tests`` are planned a sample a minute; ``sampled`` cases set their own.
        ``names``: the rule files to load, every file unless the cases read only some.
        promtool evaluates every loaded rule at every step, so each suite loads only the
        files its checks read, with the inputs of the rules they read
        (``tests/test_suite_rule_files.py`` proves it for every suite of every spec)."""
        return {
            "rule_files": loaded_files(service, names),
            "evaluation_interval": interval,
            "group_eval_order": group_order(service, names),
            "tests": [resampled_case(t, per_minute) for t in tests] + list(sampled),
        }

    out = {}
    if thresholds := threshold_suite_cases(service):
        # Cases of alerts that read disjoint metrics share a test group (case_packing.py).
        files = threshold_suite_files(service)
        reads = RuleReads(r for g in plain_groups(service, files) for r in g["rules"])
        packed = pack(thresholds, reads.by_alert(), reads.failing_joins())
        out["threshold_alerts_test.yml"] = suite(packed, names=files)
    if absent := absent_cases(service):
        # MetricAbsent and TargetDown read raw series only.
        out["absent_data_alerts_test.yml"] = suite(absent, names=(ALERTS_FILE,))
    # SLO suites evaluate once per rate window, as the event-count group does in a server:
    # each count is its own slice of time.
    slow = format_duration(service.rate_window)
    # A raw SLI whose queries the synthetic series cannot drive is covered by MetricAbsent
    # and by every suite loading its rules; a ratio_query averages its slices unweighted, so
    # it sits out the cases that vary traffic (values, edges) and keeps the steady ones.
    driven = _only(service, lambda s: s.sli.testable)
    weighted = _only(driven, lambda s: s.sli.weighted)
    if not driven.slos:
        return out
    groups = independent_slos(driven.slos)  # one case drives a whole group: linear cost
    slo_alerts = [c for g in groups for c in slo_alert_cases(driven, g)]
    # These two check burn-rate and budget alerts and SLO series only: they load the SLO
    # files, whose rules read no other (rule_files.py).
    out["slo_alerts_test.yml"] = suite(slo_alerts, slow, SLO_FILES)
    # Detection and reset times of every burn-rate pair on a step of the error ratio.
    if burn_times := burn_rate_cases(driven):  # none when every SLO's pairs are off
        out["burn_rate_times_test.yml"] = suite(burn_times, slow, SLO_FILES)
    # Two clusters or groups at once: an outage in one pages for that one only, and the
    # other raises no alert of any kind, so every rule file loads.
    if kept := kept_label_cases(service):
        out["kept_labels_test.yml"] = suite(kept, slow)
    if not weighted.slos:
        return out
    groups = independent_slos(weighted.slos)
    # Recording rules only: promtool's run time grows with the span whenever alerting rules
    # are loaded, and this suite spans days.
    values = slo_value_cases(weighted, groups)
    out["slo_values_test.yml"] = suite(values, slow, (SLO_RECORDING_FILE,))
    # The slice cases check exact event counts: a raw query's counts are in its own unit
    # (per second for rate()) and as exact as its function, so only the ratios are checked.
    exact = [tuple(s for s in g if s.sli.kind != "query") for g in groups]
    slices = [c for g in exact if g for c in slice_cases(weighted, g)]
    out["edge_values_test.yml"] = suite(edge_cases(weighted), slow, RECORDING_FILES, slices)
    return out
