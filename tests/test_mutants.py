"""The mutation harness itself (tests/mutants.py): it must not call a mutation caught when the
suite cannot tell it apart, and its dependency closure and horizons must be what it claims."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import SAMOKODER
from mutants import affected, assert_caught, covering, horizons

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.spec.loader import load


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("harness")
    write_tree(root, service_files(load(SAMOKODER)))
    return root / "samokoder" / "prometheus"


def test_an_equivalent_rewrite_is_not_reported_as_caught(rules: Path, tmp_path: Path) -> None:
    """`> 70` and `> 70.0` are the same rule: every covering check passes on the "mutant",
    so the harness must refuse to call it caught (on the fastest engine; the logic is
    the engine's exit status, the same for all)."""

    def rewrite(text: str) -> str:
        return text.replace(
            'percent_rate5m{service="samokoder"} > 70\n',
            'percent_rate5m{service="samokoder"} > 70.0\n',
            1,
        )

    with pytest.raises(AssertionError, match="accepted the mutation"):
        assert_caught(
            tools.PROMETHEUS_3_5, rules, "alerts.yml", rewrite, ["threshold_alerts"], tmp_path
        )


def test_a_change_reaches_every_reader_through_recorded_series() -> None:
    before = [
        {"record": "a:x:rate5m", "expr": "rate(x[5m])"},
        {"record": "a:x:ratio", "expr": "a:x:rate5m / 2"},
        {"record": "b:y:rate5m", "expr": "rate(y[5m])"},
        {"alert": "High", "expr": "a:x:ratio > 1"},
        {"alert": "Other", "expr": "b:y:rate5m > 1"},
        {"alert": "Watch", "expr": 'ALERTS{alertname="High"} == 1'},
        {"alert": "Either", "expr": 'ALERTS{alertname=~"Hi.*|Low"} == 1'},
        {"alert": "Unread", "expr": 'ALERTS{alertname="Other"} == 1'},
    ]
    after = [dict(r) for r in before]
    after[0]["expr"] = "rate(x[10m])"
    hit = affected(before, after)
    assert hit == {
        ("record", "a:x:rate5m"),
        ("record", "a:x:ratio"),
        ("alert", "High"),
        ("alert", "Watch"),
        ("alert", "Either"),
    }
    suite = {
        "tests": [
            {
                "interval": "1m",
                "alert_rule_test": [
                    {"alertname": "High", "eval_time": "5m"},
                    {"alertname": "Other", "eval_time": "5m"},
                ],
                "promql_expr_test": [
                    {"expr": "b:y:rate5m", "eval_time": "1h"},
                    {"expr": "sum(a:x:ratio)", "eval_time": "2h"},
                ],
            },
            {"interval": "1m", "alert_rule_test": [{"alertname": "Other", "eval_time": "3d"}]},
        ]
    }
    kept = covering(suite, hit)
    assert kept == {
        "tests": [
            {
                "interval": "1m",
                "alert_rule_test": [{"alertname": "High", "eval_time": "5m"}],
                "promql_expr_test": [{"expr": "sum(a:x:ratio)", "eval_time": "2h"}],
            }
        ]
    }


@pytest.mark.parametrize(
    ("times", "steps"),
    [
        (["5m"], [300]),
        (["5m", "10m", "1h", "3d"], [300, 600, 3600, 259200]),
        # 1h50m, the latest within 3h40m (2h25m), 6h10m and 3d10m (none within twice the
        # step before), then 3d13h50m, the last
        (
            ["1h50m", "2h5m", "2h25m", "6h10m", "3d10m", "3d13h50m"],
            [6600, 8700, 22200, 259800, 309000],
        ),
    ],
)
def test_horizons_double_and_end_at_the_last_check(times: list[str], steps: list[int]) -> None:
    suite = {"tests": [{"alert_rule_test": [{"alertname": "A", "eval_time": t} for t in times]}]}
    assert horizons(suite) == steps
