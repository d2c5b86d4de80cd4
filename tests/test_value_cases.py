"""Several objectives on one SLI share one 3-day value case (the replay that proves the
budget is traffic-weighted over the whole period): a second objective rides on the case
that writes its series, with its own expected budget, unless its budget cannot take the
busy hour (then it gets a case of its own). Proven on the engines: the shared case passes,
and a budget read over the 3-day window instead of the period fails it."""

from __future__ import annotations

import re
from pathlib import Path

import depth
import pytest
from mutants import assert_caught, budget_over_3d
from yaml_io import load_yaml

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.spec.loader import load_text

SPEC = """\
service: shop
metrics:
  requests: {name: shop_requests_total, type: counter, selector: 'job="api"'}
slos:
  - name: availability
    objective: 99.9
    sli:
      bad: {metric: requests, match: 'code=~"5.."'}
      total: {metric: requests}
  - name: availability-relaxed
    objective: 99
    sli:
      bad: {metric: requests, match: 'code=~"5.."'}
      total: {metric: requests}
  - name: successes
    objective: 99.5
    sli:
      good: {metric: requests, match: 'code!~"5.."'}
      total: {metric: requests}
  - name: availability-strict
    objective: 99.99
    sli:
      bad: {metric: requests, match: 'code=~"5.."'}
      total: {metric: requests}
"""
BUDGET = re.compile(
    r'round\(100 \* slo:error_budget_remaining:ratio\{.*slo="([^"]+)".*\}, 0\.001\)'
)


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("values")
    write_tree(root, service_files(load_text("shop.yaml", SPEC)))
    return root / "shop" / "prometheus"


def _budgets(case: dict) -> dict[str, float]:
    """The expected budget remaining (%) of each SLO a value case checks."""
    out = {}
    for check in case["promql_expr_test"]:
        if found := BUDGET.fullmatch(check["expr"]):
            out[found.group(1)] = check["exp_samples"][0]["value"]
    return out


def test_objectives_on_one_sli_share_a_case_unless_the_busy_hour_breaks_their_budget(
    rules: Path,
) -> None:
    suite = load_yaml((rules / "tests" / "slo_values_test.yml").read_text())
    budgets = [_budgets(case) for case in suite["tests"]]
    assert [sorted(b) for b in budgets] == [
        ["availability", "availability-relaxed", "successes"],
        ["availability-strict"],
    ]
    shared = budgets[0]
    # Each rider has its own figure: the same busy hour spends a bigger share of a tighter
    # budget (errors at 0.2 % for an hour: 99 % keeps more than 99.5 %, which keeps more
    # than 99.9 %), and every figure lies below 100 (the hour counts).
    assert shared["availability"] < shared["successes"] < shared["availability-relaxed"] < 100


@pytest.mark.deep
@pytest.mark.long(5)
def test_the_shared_case_passes_and_catches_a_budget_over_the_longest_window(
    rules: Path, tmp_path: Path
) -> None:
    for engine in depth.engines("shared value case", tools.RULE_ENGINES, replays=True):
        files = [
            p for p in tools.unit_test_files(engine, rules / "tests") if "slo_values" in p.name
        ]
        proc = tools.run_unit_tests(engine, files)
        assert proc.returncode == 0, f"{engine}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        scratch = tmp_path / engine.name
        assert_caught(
            engine,
            rules,
            "slo_recording_rules.yml",
            budget_over_3d,
            ["slo_values"],
            scratch,
            passed_whole=True,  # the suite just passed whole on this engine
        )
