"""Threshold and TargetDown cases of alerts that read disjoint metrics share a promtool test
group (generator/prometheus/case_packing.py): a suite's cost is its groups' steps times its
rules, so Samokoder's 40 threshold groups became 10 (12 s to 3.4 s on promtool 2.42, 37 s to
12.5 s on vmalert-tool).

The proof that packing hides nothing: each packed suite passes on every engine (test_rules
and the random-spec properties), and here every case also passes alone, as before packing,
so no check passes only because of a neighbour's series. The reads that decide what may
share a group come from the rules themselves, through a real PromQL parser: tested below on
expressions written by hand, with the cases where the reads cannot be bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from yaml_io import load_yaml

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus import case_packing, unittests
from generator.prometheus.case_packing import NAME_SEPARATOR, pack
from generator.prometheus.resample import resampled_case, samples_per_minute
from generator.prometheus.rule_files import plain_groups
from generator.prometheus.rule_reads import ANYTHING, RuleReads
from generator.prometheus.unittests import threshold_suite_files
from generator.spec.loader import load

ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]
FIXTURES = ROOT / "tests" / "fixtures" / "specs"


def test_reads_follow_recordings_and_alerts_to_raw_metrics() -> None:
    rules = [
        {
            "record": "job:errors:rate5m",
            "expr": 'sum by (job) (rate(errors_total{code=~"5.."}[5m]))',
        },
        {"record": "job:requests:rate5m", "expr": "sum by (job) (rate(requests_total[5m]))"},
        {"record": "job:error:ratio", "expr": "job:errors:rate5m / job:requests:rate5m"},
        {"alert": "Errors", "expr": "job:error:ratio > 0.01"},
        # A second rule of one alert name adds its reads.
        {"alert": "Errors", "expr": "job:error:ratio > 0.1 unless on () absent(up)"},
        {"alert": "Saturated", "expr": 'queue_depth / on (job) queue_capacity{job!=""} > 0.9'},
        {"alert": "Inhibited", "expr": 'disk_free < 1 unless on () ALERTS{alertname="Errors"}'},
        {"alert": "Subquery", "expr": "max_over_time(job:error:ratio[1h:5m]) > 1"},
    ]
    recorded = {"job:error:ratio", "job:errors:rate5m", "job:requests:rate5m"}
    assert RuleReads(rules).by_alert() == {
        "Errors": {"errors_total", "requests_total", "up", *recorded},
        "Saturated": {"queue_depth", "queue_capacity"},
        "Inhibited": {"disk_free", "errors_total", "requests_total", "up", *recorded},
        "Subquery": {"errors_total", "requests_total", *recorded},
    }


def test_the_rules_that_may_fail_on_what_they_meet_are_the_joins_and_relabellings() -> None:
    rules = [
        {"record": "a:sum", "expr": "sum(rate(a_total[5m]))"},
        {"record": "ratio", "expr": "a:sum / on () sum(b)"},  # a join: fails on duplicates
        {"record": "scaled", "expr": "(c * 100) > -(1)"},  # numbers only: cannot fail
        {"record": "either", "expr": "d and e or f unless g"},  # set operators: cannot fail
        {"record": "renamed", "expr": 'label_replace(h, "x", "$1", "y", "(.*)")'},
        {"alert": "Joined", "expr": "up == on (job) group_left k"},
    ]
    assert sorted(map(sorted, RuleReads(rules).failing_joins())) == [
        ["a:sum", "a_total", "b"],
        ["h"],
        ["k", "up"],
    ]


@pytest.mark.parametrize(
    "expr",
    [
        '{__name__=~"node_.+"} > 1',  # a metric name by regex
        '{job="api"} > 1',  # no metric name
        "ALERTS > 0",  # any alert
        'ALERTS{alertname=~"High.*"} > 0',
        "not PromQL at all (",
    ],
)
def test_reads_that_cannot_be_bounded_are_anything(expr: str) -> None:
    rules = [{"record": "x:y:z", "expr": expr}, {"alert": "A", "expr": "x:y:z > 0"}]
    assert RuleReads(rules).by_alert() == {"A": ANYTHING}


def _case(name: str, alert: str, *series: str, interval: str = "1m") -> dict:
    return {
        "name": name,
        "interval": interval,
        "input_series": [{"series": s, "values": "1+0x10"} for s in series],
        "alert_rule_test": [{"eval_time": "10m", "alertname": alert, "exp_alerts": []}],
    }


def test_only_cases_that_cannot_see_each_other_share_a_group() -> None:
    reads = {"Cpu": frozenset({"cpu"}), "Mem": frozenset({"mem"}), "Both": frozenset({"cpu"})}
    reads |= {"Blind": ANYTHING, "Disk": frozenset({"disk"})}
    cases = [
        _case("cpu high", "Cpu", 'cpu{job="a"}'),
        _case("cpu silent", "Cpu", 'cpu{job="a"}'),  # the same alert: apart
        _case("mem high", "Mem", 'mem{job="a"}'),  # joins "cpu high"
        _case("both", "Both", 'other{job="a"}'),  # reads cpu, which the first two write
        _case("blind", "Blind", 'disk{job="a"}'),  # reads anything: alone
        _case("slow mem", "Mem", 'mem{job="b"}', interval="30s"),  # another interval
        # Writes mem, which the first group reads: joins the second.
        _case("writes mem", "Disk", '{__name__="mem", job="c"}', 'disk{job="c"}'),
    ]
    packed = pack(cases, reads)
    assert [p["name"].split(NAME_SEPARATOR) for p in packed] == [
        ["cpu high", "mem high"],
        ["cpu silent", "writes mem"],
        ["both"],
        ["blind"],
        ["slow mem"],
    ]
    first = packed[0]
    assert first["input_series"] == cases[0]["input_series"] + cases[2]["input_series"]
    assert first["alert_rule_test"] == cases[0]["alert_rule_test"] + cases[2]["alert_rule_test"]


def test_cases_whose_series_meet_in_a_rule_that_may_fail_stay_apart() -> None:
    reads = {"Cpu": frozenset({"cpu"}), "Mem": frozenset({"mem"})}
    cases = [_case("cpu", "Cpu", "cpu"), _case("mem", "Mem", "mem")]
    assert len(pack(cases, reads)) == 1
    assert len(pack(cases, reads, [frozenset({"cpu", "mem"})])) == 2
    assert len(pack(cases, reads, [frozenset({"cpu", "disk"})])) == 1
    assert len(pack(cases, reads, [ANYTHING])) == 2  # such a rule reading anything: all apart


def test_a_case_with_expression_checks_keeps_a_group_of_its_own() -> None:
    values = {**_case("values", "Cpu", "cpu"), "promql_expr_test": []}
    assert pack([values, _case("mem", "Mem", "mem")], {"Cpu": {"cpu"}, "Mem": {"mem"}}) == [
        values,
        _case("mem", "Mem", "mem"),
    ]


def _unpacked(service, suite: dict) -> dict:
    """``suite`` (the threshold suite as generated) with its cases a group each."""
    per_minute = samples_per_minute(service.rate_window)
    cases = unittests.threshold_suite_cases(service)
    return {**suite, "tests": [resampled_case(c, per_minute) for c in cases]}


# make test proves the checkout fixture (9 cases in 4 groups) on one engine; make deep the
# rest of the matrix and every other shipped spec.
SPECS = [
    pytest.param(CHECKOUT, id="checkout"),
    *(
        pytest.param(p, id=p.stem, marks=pytest.mark.deep_only)
        for p in [SAMOKODER, *sorted(FIXTURES.glob("*.yaml"))]
        if p != CHECKOUT
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("spec", SPECS)
def test_every_packed_case_passes_alone_too(
    spec: Path, engine: tools.Engine, tmp_path: Path
) -> None:
    """Every case of the packed threshold suite passes in a group of its own as well, on
    the engine: a check that passed only beside another case's series would fail here."""
    service = load(spec)
    write_tree(tmp_path, service_files(service))
    rules = tmp_path / service.name / "prometheus"
    # A spec with environments has suites per environment, in prometheus/<env>/tests/.
    planned = [(rules / e.environment, e) for e in service.environments] or [(rules, service)]
    files = []
    for folder, planned_service in planned:
        packed_path = folder / "tests" / "threshold_alerts_test.yml"
        packed = load_yaml(packed_path.read_text(encoding="utf-8"))
        alone = _unpacked(planned_service, packed)
        members = [n for c in packed["tests"] for n in c["name"].split(NAME_SEPARATOR)]
        assert sorted(members) == sorted(c["name"] for c in alone["tests"])
        alone_path = folder / "tests" / "alone_test.yml"
        alone_path.write_text(yaml.safe_dump(alone, sort_keys=False), "utf-8")
        files += [packed_path, alone_path]
    proc = tools.run_unit_tests(engine, files)
    assert proc.returncode == 0, f"{engine.name}:\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}"


def test_a_packing_blind_to_metrics_fails_on_the_engine(tmp_path: Path, monkeypatch) -> None:
    """The rule is not vacuous: Samokoder's cases packed as if they wrote and read no metric
    (only cases checking one alert name kept apart) put HighErrorRate's series beside
    AvailabilitySLOViolation's checks, which read the same request counter, and promtool
    fails the suite."""
    service = load(SAMOKODER)
    write_tree(tmp_path, service_files(service))
    monkeypatch.setattr(case_packing, "_written", lambda case: set())
    tests = tmp_path / service.name / "prometheus" / "tests"
    suite = load_yaml((tests / "threshold_alerts_test.yml").read_text(encoding="utf-8"))
    cases = unittests.threshold_suite_cases(service)
    blind = {c["alertname"]: frozenset() for case in cases for c in case["alert_rule_test"]}
    per_minute = samples_per_minute(service.rate_window)
    packed = [resampled_case(c, per_minute) for c in pack(cases, blind)]
    assert [c["name"] for c in packed] != [c["name"] for c in suite["tests"]]
    path = tests / "blind_test.yml"
    path.write_text(yaml.safe_dump({**suite, "tests": packed}, sort_keys=False), "utf-8")
    proc = tools.run_unit_tests(tools.PROMETHEUS_3_5, [path])
    assert proc.returncode != 0, "the blindly packed suite passed"
    assert "AvailabilitySLOViolation" in proc.stdout + proc.stderr


JOINED = ROOT / "tests" / "fixtures" / "packing" / "joined_raw_sli.yaml"


def test_series_of_two_cases_never_meet_in_a_join_of_any_loaded_rule(tmp_path: Path) -> None:
    """A reviewer's instance: a raw SLI joins the pool gauge with the order counter, which two
    threshold rows read apart. Their checks never read the join, but the suite loads it, and
    promtool fails a group on any rule's error: side by side, the rows' series would meet in
    it (``many-to-many matching not allowed``). The generated suite keeps them apart and
    passes; packed as if no rule could fail, it fails on promtool."""
    service = load(JOINED)
    write_tree(tmp_path, service_files(service))
    tests = tmp_path / service.name / "prometheus" / "tests"
    path = tests / "threshold_alerts_test.yml"
    suite = load_yaml(path.read_text(encoding="utf-8"))
    for group in suite["tests"]:
        names = group["name"]
        assert not ("OrderFailuresHigh" in names and "PoolSaturated" in names), names
    engine = tools.PROMETHEUS_3_5
    proc = tools.run_unit_tests(engine, [path])
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    cases = unittests.threshold_suite_cases(service)
    reads = RuleReads(
        r for g in plain_groups(service, threshold_suite_files(service)) for r in g["rules"]
    )
    per_minute = samples_per_minute(service.rate_window)
    blind = [resampled_case(c, per_minute) for c in pack(cases, reads.by_alert())]  # no joins
    path.write_text(yaml.safe_dump({**suite, "tests": blind}, sort_keys=False), "utf-8")
    proc = tools.run_unit_tests(engine, [path])
    assert proc.returncode != 0, "cases whose series meet in a join passed side by side"
    assert "many-to-many matching not allowed" in proc.stdout + proc.stderr
