"""The generated Prometheus rules, proven on every engine: promtool 2.42, 2.53 and 3.5, and
VictoriaMetrics (vmalert -dryRun, vmalert-tool unittest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from generated_rules import alert_rules, recording_rules
from group_order import assert_groups_are_layered
from mutants import assert_caught, budget_over_3d
from yaml_io import load_yaml

from generator import tools
from generator.plan import service_files
from generator.prometheus.rule_files import FILES
from generator.spec.loader import load

ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]


@pytest.fixture(scope="module", params=[SAMOKODER, CHECKOUT], ids=["samokoder", "checkout"])
def generated(request, tmp_path_factory) -> Path:
    """Generate one spec into a temporary out/ and return its service folder."""
    service = load(request.param)
    root = tmp_path_factory.mktemp(service.name)
    for rel, content in service_files(service).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root / service.name


SAMOKODER_RULES = ROOT / "out" / "samokoder" / "prometheus"


@pytest.mark.every_engine
@pytest.mark.parametrize("engine", ENGINES)
def test_rule_files_load_on_every_engine(generated: Path, engine: tools.Engine) -> None:
    files = sorted((generated / "prometheus").glob("*.yml"))
    assert [f.name for f in files] == sorted(FILES)
    proc = tools.check_rule_files(engine, files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_suite_evaluates_the_groups_in_a_stale_free_order(generated: Path) -> None:
    """promtool 3 evaluates groups missing from group_eval_order in a random order, and
    vmalert evaluates groups apart: a missing or wrong order would be a flake that one
    passing run does not rule out. This proves the order itself, for every suite."""
    assert_groups_are_layered(generated / "prometheus")


@pytest.mark.long(2)
@pytest.mark.replays
@pytest.mark.parametrize("engine", ENGINES)
def test_generated_unit_tests_pass_on_every_engine(generated: Path, engine: tools.Engine) -> None:
    suites = tools.unit_test_files(engine, generated / "prometheus" / "tests")
    assert len(suites) >= 2
    proc = tools.run_unit_tests(engine, suites)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_alert_rule_has_a_firing_and_a_silent_test(generated: Path) -> None:
    alerts = {r["alert"] for r in alert_rules(generated / "prometheus")}
    fired, silent = set(), set()
    for suite in (generated / "prometheus" / "tests").glob("*.yml"):
        for case in load_yaml(suite.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check["exp_alerts"] else silent).add(check["alertname"])
    assert fired == alerts
    assert silent == alerts


@pytest.fixture(scope="module")
def samokoder_rules(tmp_path_factory) -> Path:
    """The Samokoder prometheus folder, generated into a temporary directory."""
    root = tmp_path_factory.mktemp("mutations")
    for rel, content in service_files(load(SAMOKODER)).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root / "samokoder" / "prometheus"


def _unweighted_period(text: str) -> str:
    """Sloth's default: the period ratio as an average of 5m ratios."""
    data = load_yaml(text)
    for group in data["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == "slo:sli_error:ratio_rate30d":
                sel = re.search(r"\{[^}]*\}", rule["expr"])[0]
                rule["expr"] = f"avg_over_time(slo:sli_error:ratio_rate5m{sel}[30d])"
    return yaml.safe_dump(data, sort_keys=False)


def _burn_for(text: str, duration: str) -> str:
    """The burn-rate pairs with a `for` again, as before the SRE Workbook's defaults."""
    data = load_yaml(text)
    for group in data["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == "ErrorBudgetBurn":
                rule["for"] = duration
    return yaml.safe_dump(data, sort_keys=False)


MUTATIONS = {
    # A threshold moved: the silent test just inside the old boundary, or the annotation
    # text of the firing test, must notice.
    "threshold": ("alerts.yml", lambda t: t.replace("> 70\n", "> 69\n", 1), "threshold_alerts"),
    "for": (
        "alerts.yml",
        lambda t: (
            t[: t.index("alert: HighCPUUsage")]
            + t[t.index("alert: HighCPUUsage") :].replace("for: 10m", "for: 30m", 1)
        ),
        "threshold_alerts",
    ),
    "severity": (
        "alerts.yml",
        lambda t: t.replace("severity: critical", "severity: warning", 1),
        "threshold_alerts",
    ),
    # A burn rate off by a little: the tests bracket every factor.
    # Without the short window, a burn that has ended keeps paging for an hour.
    "no-short-window": (
        "slo_alerts.yml",
        lambda t: re.sub(
            r"\n +and\n +slo:sli_error:ratio_rate\w+\{[^}]*\} / [0-9.]+ > [0-9.]+", "", t
        ),
        "slo_alerts",
    ),
    "burn-rate": ("slo_alerts.yml", lambda t: t.replace("> 14.4", "> 20", 1), "slo_alerts"),
    "budget-level": ("slo_alerts.yml", lambda t: t.replace("< 25", "< 20", 1), "slo_alerts"),
    "unweighted-period": ("slo_recording_rules.yml", _unweighted_period, "slo_values"),
    # The budget over the longest alert window instead of the period forgets old incidents.
    "budget-over-3d": (
        "slo_recording_rules.yml",
        budget_over_3d,
        "slo_values",
    ),
    # The pre-Workbook defaults: `for` on the burn-rate pairs delays every detection.
    "burn-for": ("slo_alerts.yml", lambda t: _burn_for(t, "1h"), "burn_rate_times"),
    # A factor off: the latency SLO's 1h/5m pair at 20x must open within 43m12s.
    "burn-factor": ("slo_alerts.yml", lambda t: t.replace("> 14.4\n", "> 20\n"), "burn_rate_times"),
    "for-zero": ("alerts.yml", lambda t: re.sub(r"for: \d+m", "for: 0s", t), "threshold_alerts"),
    # Without increase() behind the exact slices, a slice holding a counter reset (or any
    # series whose slice cannot be differenced) counts nothing.
    "slice-without-reset-fallback": (
        "slo_recording_rules.yml",
        lambda t: re.sub(r" or increase\(.*?\[5m\]\)\)", ")", t),
        "edge_values",
    ),
    # Without the zero guard, a window without traffic divides 0 by 0.
    "nan-at-zero-traffic": (
        "slo_recording_rules.yml",
        lambda t: t.replace(", 0.000000001)", ")").replace("clamp_min(", "("),
        "slo_values",
    ),
}


# The suites whose cases replay hours to days at a 5m evaluation interval: a mutation they
# must catch runs, under the quick profile, on a promtool version (tests/depth.py).
REPLAYING_SUITES = {"slo_alerts", "slo_values", "burn_rate_times"}
# Run by `make deep` only, on every engine: test_value_cases proves in `make test` that the
# same value-case planner's 3-day case catches the same mutation (on a spec whose objectives
# share that case), and each of these replays three days twice.
DEEP_ONLY = {"budget-over-3d"}


def _mutation_marks(name: str) -> list:
    """A mutation of a replaying suite is ``replays`` and, as on vmalert-tool it can take
    over 2 minutes of a worker (budget-over-3d: 132 s), ``long``, so that it starts early."""
    replays = MUTATIONS[name][2] in REPLAYING_SUITES
    marks = [pytest.mark.replays, pytest.mark.long(2)] if replays else []
    return marks + ([pytest.mark.deep_only] if name in DEEP_ONLY else [])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=_mutation_marks(n)) for n in MUTATIONS],
)
def test_unit_tests_catch_a_broken_rule(
    samokoder_rules: Path, tmp_path: Path, name: str, engine: tools.Engine
) -> None:
    """The checks of the named suite that cover the mutated rule fail on the mutant, and the
    earliest of them pass unmutated (tests/mutants.py says why that subset is proof for the
    whole suite)."""
    file, mutate, suite = MUTATIONS[name]
    assert_caught(engine, samokoder_rules, file, mutate, [suite], tmp_path)


# The alert contract from the Samokoder audit: on-call pages and routes depend on it.
SEED_CONTRACT = {
    "HighCPUUsage": (">", 70, 90),
    "HighMemoryUsage": (">", 80, 90),
    "HighDiskUsage": (">", 80, 90),
    "HighFileDescriptorUsage": (">", 70, 85),
    "DatabaseConnectionPoolSaturated": (">", 70, 80),
    "HighErrorRate": (">", 1, 5),
    "LatencySLOViolation": (">", 2, 5),
    "AvailabilitySLOViolation": ("<", 99.9, 99),
    "WorkerQueueSaturated": (">", 80, None),
    "HighNetworkConnections": (">", 5000, None),
}


def test_samokoder_alerts_match_the_audit() -> None:
    rules = alert_rules(SAMOKODER_RULES)
    seen: dict[str, dict[str, tuple[str, float]]] = {}
    for r in rules:
        assert len(r["alert"]) < 40 and re.fullmatch(r"[A-Z][A-Za-z0-9]+", r["alert"])
        m = re.search(r"([<>]) ([0-9.]+)$", r["expr"])
        if r["alert"] in SEED_CONTRACT:
            seen.setdefault(r["alert"], {})[r["labels"]["severity"]] = (m[1], float(m[2]))
        for label in ("severity", "service"):
            assert r["labels"][label]
        # grafana_url is set: every alert links its dashboard, most their panel
        assert set(r["annotations"]) - {"panel_url"} == {
            "summary",
            "description",
            "runbook_url",
            "dashboard_url",
        }
        assert "{{" not in r["annotations"]["summary"]
        if r["alert"] not in ("TargetDown", "MetricAbsent"):  # value: just 0 or 1
            assert "$value" in r["annotations"]["description"]
    for alert, (op, warning, critical) in SEED_CONTRACT.items():
        want = {"warning": (op, warning)} | ({"critical": (op, critical)} if critical else {})
        assert seen[alert] == want, alert


def _for_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", text))


def test_slo_alerts_carry_the_contract_labels_and_bounded_for() -> None:
    rules = alert_rules(SAMOKODER_RULES)
    burn = [r for r in rules if r["alert"] == "ErrorBudgetBurn"]
    windows = {(r["labels"]["long"], r["labels"]["short"], r["labels"]["severity"]) for r in burn}
    assert windows == {
        ("1h", "5m", "critical"),
        ("6h", "30m", "critical"),
        ("1d", "2h", "warning"),
        ("3d", "6h", "warning"),
    }
    assert len(burn) == 4 * 3  # every pair for each of the three SLOs
    for r in rules:
        slow = r["alert"] == "ErrorBudgetBurn" and r["labels"]["long"] in ("1d", "3d")
        assert _for_seconds(r.get("for", "0s")) <= (3 * 3600 if slow else 3600), r
        if r["alert"].startswith("ErrorBudget"):
            assert {"slo", "slo_type"} <= set(r["labels"])
    factors = sorted(float(re.search(r"> ([0-9.]+)$", r["expr"].splitlines()[0])[1]) for r in burn)
    assert set(factors) == {14.4, 6, 3, 1}
    low = {r["labels"]["slo"] for r in rules if r["alert"] == "ErrorBudgetLow"}
    critical = {r["labels"]["slo"] for r in rules if r["alert"] == "ErrorBudgetCritical"}
    assert low == critical == {"availability", "latency", "error-rate"}


def test_burn_rates_follow_the_period(generated: Path) -> None:
    """A 28d period gives the Workbook's 13.44, 5.6, 2.8 and 0.933 (2/5/10/10 % of budget)."""
    service = load(CHECKOUT)
    assert service.period == 28 * 86400
    assert [round(b.factor(service.period), 3) for b in service.burn_rates] == [
        13.44,
        5.6,
        2.8,
        0.933,
    ]
    text = (generated.parent / service.name / "prometheus" / "slo_alerts.yml").exists()
    assert text or generated.name != service.name


def test_numbers_are_written_deliberately() -> None:
    for path in (ROOT / "out").rglob("*.yml"):
        text = path.read_text()
        assert not re.search(r"\.\d*[1-9](0{6,}|9{6,})\d", text), f"float noise in {path}"
        assert not re.search(r"\d[eE][-+]?\d", text), f"exponent notation in {path}"


def test_recording_rules_follow_the_naming_convention() -> None:
    for r in recording_rules(SAMOKODER_RULES):
        name = r["record"]
        assert re.fullmatch(r"[a-z_]+:[a-zA-Z0-9_]+:[a-z0-9_]+", name) or name.startswith(
            "samokoder_"
        ), name
