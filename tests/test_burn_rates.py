"""Burn-rate alert quality, measured on the engines: detection and reset times of every
window pair (the SRE Workbook's figures), no `for` by default, and the README's table."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from generated_rules import alert_rules
from yaml_io import load_yaml

from generator import tools
from generator.plan import service_files
from generator.prometheus import alerts, burn_rate_tests, unittests, windows
from generator.prometheus.synthetic import sli_feeds
from generator.prometheus.vmalert_unittests import FOLDER, METRICSQL_TESTS
from generator.spec.loader import load

ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]
BURN_FOR = ROOT / "tests" / "fixtures" / "specs" / "burn_for.yaml"
SUITE = "burn_rate_times_test.yml"
HOUR, DAY = 3600, 86400


def write(service, root: Path) -> Path:
    """Generate ``service`` under ``root`` and return its prometheus folder."""
    for rel, content in service_files(service).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root / service.name / "prometheus"


def run_case(service, prometheus: Path, case: dict, engine: tools.Engine):
    """Run one generated case against the rules in ``prometheus`` on ``engine``."""
    suite = unittests.suites(service)[SUITE]
    if engine.family == "victoriametrics":
        case = {(METRICSQL_TESTS if k == "promql_expr_test" else k): v for k, v in case.items()}
        path = prometheus / "tests" / FOLDER / "instance_test.yml"
        files = [f"../{f}" for f in suite["rule_files"]]
    else:
        path = prometheus / "tests" / "instance_test.yml"
        files = suite["rule_files"]
    path.write_text(yaml.safe_dump({**suite, "rule_files": files, "tests": [case]}))
    return tools.run_unit_tests(engine, [path])


def add_for(text: str, duration: str, long_: str | None = None) -> str:
    """Return slo_alerts.yml with ``for: duration`` on the burn-rate rules (of one long window)."""
    data = load_yaml(text)
    for group in data["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == "ErrorBudgetBurn" and long_ in (None, rule["labels"]["long"]):
                rule["for"] = duration
    return yaml.safe_dump(data, sort_keys=False)


def test_burn_rate_pairs_carry_no_for_by_default() -> None:
    rules = [
        r for r in alert_rules(ROOT / "out/samokoder/prometheus") if r["alert"] == "ErrorBudgetBurn"
    ]
    assert len(rules) == 12
    assert [r for r in rules if "for" in r] == []


def test_workbook_figures_of_the_100x_instance() -> None:
    """Workbook arithmetic for a 99.9 % / 30d SLO at 100x: the 1d/2h pair (3x) detects after
    1d x 3 / 100 = 43.2 min and resets 2h x (1 - 3/100) = 116.4 min after the burst."""
    service = load(SAMOKODER)
    ticket = next(b for b in service.burn_rates if (b.long, b.short) == (DAY, 2 * HOUR))
    assert windows.detection_time(service.period, ticket, 100) == Fraction(432 * 6)
    assert windows.reset_time(service.period, ticket, 100) == Fraction(1164 * 6)
    assert windows.detection_time(service.period, ticket, 3) is None  # at the factor: never


@pytest.mark.replays
@pytest.mark.parametrize("engine", ENGINES)
def test_a_100x_hour_opens_the_1d_ticket_within_the_workbook_time(
    tmp_path: Path, engine: tools.Engine
) -> None:
    """The issue's instance: 99.9 % / 30d, 100x for one hour. The 1d/2h ticket must open
    about 43 min in (the Workbook's 1d x 3 / 100), not 1h43m as with `for: 1h`."""
    service = load(SAMOKODER)
    slo = service.slo("availability")
    assert (slo.objective, service.period) == (99.9, 30 * DAY)
    key = ("availability", DAY, 2 * HOUR)
    case = burn_rate_tests.step_case(service, {"availability": 100.0}, burst=HOUR, only={key})
    assert case is not None
    # The burst starts where the bad series first grows: after its clean first segment.
    bad = sli_feeds(slo.sli, 0.1)[0].selector
    first = next(s["values"] for s in case["input_series"] if s["series"] == bad).split()[0]
    onset = (int(first.rsplit("x", 1)[1]) + 1) * 60
    checks = {c["exp_samples"][0]["value"]: [] for c in case["promql_expr_test"]}
    for c in case["promql_expr_test"]:
        checks[c["exp_samples"][0]["value"]].append(_seconds(c["eval_time"]) - onset)
    # Silent until the last evaluation (5m grid) before 43.2 min less a scrape interval,
    # open by the first one after 43.2 min plus an evaluation; 1h43m would be far too late.
    assert (43.2 - 1 - 5) * 60 <= min(checks[0]) < 43.2 * 60
    assert 43.2 * 60 < min(checks[1]) <= 55 * 60
    prometheus = write(service, tmp_path)
    proc = run_case(service, prometheus, case, engine)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The rules as they were, with `for: 1h` on the 1d/2h pair: the same case fails.
    alerts = prometheus / "slo_alerts.yml"
    alerts.write_text(add_for(alerts.read_text(), "1h", "1d"))
    proc = run_case(service, prometheus, case, engine)
    assert proc.returncode != 0, f"{engine} accepted a 1d/2h ticket delayed by for: 1h"


def _seconds(text: str) -> int:
    units = {"d": DAY, "h": HOUR, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", text))


@pytest.mark.parametrize("spec", [SAMOKODER, CHECKOUT, BURN_FOR], ids=lambda p: p.stem)
def test_every_burn_rate_rule_is_timed(spec: Path) -> None:
    """Kind: every SLO x pair gets a detection (silent, then firing), a reset (firing, then
    silent) and silence below its factor, in the generated suite."""
    service = load(spec)
    suite = unittests.suites(service)[SUITE]
    fired, silent = set(), set()
    for case in suite["tests"]:
        for check in case["promql_expr_test"]:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', check["expr"]))
            rule = (labels["slo"], labels["long"], labels["short"])
            (fired if check["exp_samples"][0]["value"] else silent).add(rule)
    rules = {
        (r["labels"]["slo"], r["labels"]["long"], r["labels"]["short"])
        for g in alerts.groups(service)
        for r in g["rules"]
        if "slo" in r["labels"] and r["alert"] == service.slo(r["labels"]["slo"]).burn_alert
    }
    assert rules, "no burn-rate alert to time"
    assert fired == rules
    assert silent == rules


@pytest.mark.parametrize("engine", ENGINES)
def test_a_spec_for_moves_detection_and_is_priced_in_the_runbook(
    tmp_path: Path, engine: tools.Engine
) -> None:
    """A spec may set `for` on a pair: the runbook states its cost, the generated tests
    expect the later detection, and rules without that `for` fail them."""
    service = load(BURN_FOR)
    prometheus = write(service, tmp_path)
    runbook = (prometheus.parent / "docs" / "alerts.md").read_text()
    assert "The 6h/30m pair waits `for` 1h" in runbook
    assert "The 1h/5m pair waits `for` 2m" in runbook
    tests = [p for p in tools.unit_test_files(engine, prometheus / "tests") if p.name == SUITE]
    proc = tools.run_unit_tests(engine, tests)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    alerts = prometheus / "slo_alerts.yml"
    alerts.write_text(re.sub(r"\n +for: 1h\n", "\n", alerts.read_text()))
    proc = tools.run_unit_tests(engine, tests)
    assert proc.returncode != 0, f"{engine} accepted the 6h/30m pair without its for: 1h"


def test_readme_table_is_the_computed_one() -> None:
    service = load(SAMOKODER)  # the default pairs, 30 days
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- burn-rate-times:[^>]*-->\n(.*?)<!-- /burn-rate-times -->", readme, re.S
    )
    assert block, "README.md lost its burn-rate table"
    assert block[1] == windows.timing_table(service.period, service.burn_rates)
