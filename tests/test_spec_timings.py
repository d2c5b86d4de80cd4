"""Property: whatever timing a team chooses, and however many SLOs, every spec the loader
accepts generates unit tests that pass on every engine ``make test`` runs (promtool 2.42,
2.53 and 3.5, and vmalert-tool). Each spec runs on the engines ``depth.example_engines``
picks by its hash (one, rotating), so the property samples pairs of spec and engine.

The specs come from ``timed_specs``: periods of 1-90 days, rate windows of 1-10 minutes,
scrapes of 10 s-2 min, the SRE Workbook's burn-rate pairs fitted to them, and SLOs that
share series. The planner's own assumptions (a test step, where a burst sits inside the
period, which SLOs can share a case) are what these specs attack; a fixed example count
keeps the run to minutes (the README quotes the figures).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from cli_support import unit_test_failures
from depth import draws, example_engines, examples
from hypothesis import HealthCheck, example, given, settings
from timed_specs import timed_specs

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus.synthetic import independent_slos
from generator.spec.loader import load_text

# 1-5 SLOs each, besides the @example: `make test` runs the @example only (a random timing
# costs up to several CPU-minutes on vmalert-tool; `make deep` draws 6).
TIMING_DRAWS = draws(deep=6, quick=0)
SCALE_EXAMPLES = 1
# A spec of many SLOs: 15-20 in `make deep` (CI; one costs about 20 s of CPU per SLO across the
# four engines, tests/bench/suite_cost.py, and it runs on one); TIMING_MAX_SLOS=50 runs the top
# of the range.
SCALE_SLOS = (15, int(os.environ.get("TIMING_MAX_SLOS", "20")))


def _check(spec: dict) -> None:
    service = load_text("timed.yaml", yaml.safe_dump(spec, sort_keys=False))
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), service_files(service))
        tests = Path(tmp) / service.name / "prometheus" / "tests"
        key = yaml.safe_dump(spec, sort_keys=True)  # the engine rotates with the spec
        engines = example_engines(key, tools.RULE_ENGINES)
        failed = unit_test_failures(tests, engines, workers=len(engines))
        assert not failed, yaml.safe_dump(spec, sort_keys=False) + "\n".join(failed)


# Found by this property: a 1m rate window fed one sample a minute records nothing on
# Prometheus 3.5 (left-open ranges hold one sample), so its budget read 100 % (resample.py).
ONE_MINUTE_WINDOW = {
    "service": "app",
    "period": "1d",
    "scrape_interval": "10s",
    "rate_window": "1m",
    "burn_rates": [
        {"severity": "critical", "long": "60m", "short": "5m", "budget_consumed": 60.0},
        {"severity": "critical", "long": "360m", "short": "30m", "budget_consumed": 100},
        {"severity": "warning", "long": "1440m", "short": "120m", "budget_consumed": 100},
    ],
    "metrics": {"req0": {"name": "app_req0_total", "type": "counter", "selector": 'job="app"'}},
    "slos": [
        {
            "name": "slo0",
            "objective": 95,
            "sli": {"bad": {"metric": "req0", "match": 'code=~"5.."'}, "total": {"metric": "req0"}},
        }
    ],
}


@pytest.mark.long(10)
@settings(**TIMING_DRAWS, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=timed_specs(max_slos=5))
@example(spec=ONE_MINUTE_WINDOW)
def test_any_timing_passes_its_own_tests_on_every_engine(spec: dict) -> None:
    _check(spec)


@pytest.mark.deep_only
@pytest.mark.long(6)
@settings(max_examples=SCALE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=timed_specs(min_slos=SCALE_SLOS[0], max_slos=SCALE_SLOS[1]))
def test_many_slos_pass_their_own_tests_on_every_engine(spec: dict) -> None:
    _check(spec)


def _reads(slo: dict) -> tuple[str, str]:
    """Return (metric key, handler slice or "") of an SLI in a ``timed_specs`` spec."""
    series = slo["sli"].get("total") or slo["sli"]["latency"]
    return series["metric"], series.get("match", "")


@settings(
    max_examples=examples(deep=200, quick=50),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(spec=timed_specs(max_slos=12))
def test_slos_that_share_series_never_share_a_case(spec: dict) -> None:
    """The grouping behind the linear cost, judged from the spec's text alone: two SLOs on
    one metric share series unless they are two different handler slices, and must then
    be in different groups (one case per group: their inputs would collide); and there are
    no more groups than one plus the most SLOs any one SLO shares series with, so the
    suites stay linear in SLOs."""
    service = load_text("timed.yaml", yaml.safe_dump(spec, sort_keys=False))
    groups = independent_slos(service.slos)
    home = {slo.name: i for i, g in enumerate(groups) for slo in g}
    assert sorted(home) == sorted(s.name for s in service.slos)
    assert sum(len(g) for g in groups) == len(service.slos)

    def share(a: dict, b: dict) -> bool:
        (ma, pa), (mb, pb) = _reads(a), _reads(b)
        return ma == mb and not (pa and pb and pa != pb)

    slos = spec["slos"]
    degree = 0
    for a in slos:
        sharing = [b for b in slos if b is not a and share(a, b)]
        degree = max(degree, len(sharing))
        for b in sharing:
            assert home[a["name"]] != home[b["name"]], f"{a['name']} and {b['name']} share a case"
    assert len(groups) <= degree + 1
