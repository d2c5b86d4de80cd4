"""Missing and degenerate data, on every engine: a ratio over a zero denominator, an SLI whose
metric vanished while its target is up, a counter series born non-zero, and a spec whose
selectors name no scrape job (issue 14, cases 3, 4, 5 and 8).

Each instance is a hand-written unit-test file run against the generated rules; each kind is
covered by the generated suites (every ratio signal gets a zero denominator, every metric an
SLI or threshold alert reads gets MetricAbsent cases), which must pass on every engine and
fail when the guard they prove is taken out of the rules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from generated_rules import alert_rules
from mutants import assert_caught
from yaml_io import load_yaml

from generator import signals as names
from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus import unittests
from generator.prometheus.rule_files import loaded_files
from generator.spec.loader import load
from generator.spec.model import Service

QUEUE = ROOT / "tests" / "fixtures" / "specs" / "queue.yaml"
ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]


def _generate(spec: Path, root: Path) -> tuple[Service, Path]:
    service = load(spec)
    write_tree(root, service_files(service))
    return service, root / service.name / "prometheus"


@pytest.fixture(scope="module")
def queue(tmp_path_factory) -> tuple[Service, Path]:
    return _generate(QUEUE, tmp_path_factory.mktemp("queue"))


@pytest.fixture(scope="module")
def samokoder(tmp_path_factory) -> tuple[Service, Path]:
    return _generate(SAMOKODER, tmp_path_factory.mktemp("samokoder"))


def run_suite(
    engine: tools.Engine, service: Service, rules: Path, tests: list[dict], interval: str = "1m"
):
    """Write ``tests`` as one suite beside the generated ones (in ``engine``'s dialect) and
    run it; return the finished process."""
    key = "metricsql_expr_test" if engine.family == "victoriametrics" else "promql_expr_test"
    suite = {
        "rule_files": [f"../{name}" for name in loaded_files(service)],
        "evaluation_interval": interval,
        "group_eval_order": unittests.group_order(service),
        "tests": [
            {(key if k == "promql_expr_test" else k): v for k, v in case.items()} for case in tests
        ],
    }
    path = rules / "instance" / f"{engine.name}.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return tools.run_unit_tests(engine, [path])


def _rule(rules: Path, alert: str, **labels: str) -> dict:
    return next(
        r
        for r in alert_rules(rules)
        if r.get("alert") == alert and all(r["labels"].get(k) == v for k, v in labels.items())
    )


def _fired(rule: dict, labels: dict[str, str]) -> dict:
    """What promtool reports for ``rule`` firing on a series with ``labels`` (its annotations
    only read ``$labels``, never ``$value``)."""
    text = {
        k: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m[1]], v)
        for k, v in rule["annotations"].items()
    }
    return {"exp_labels": {**labels, **rule["labels"]}, "exp_annotations": text}


# -- 3. a ratio of gauges over a zero denominator -----------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_queue_with_capacity_0_on_one_instance_does_not_page(queue, engine) -> None:
    """queue_length / queue_capacity, capacity 0 on one instance: it used to record +Inf and
    fire both severities ("Now +Inf%"). The fullest defined queue (10 %) is recorded."""
    service, rules = queue
    fill = names.signal(service, service.signal("queue_fill"))
    a = 'env="prod", job="worker", instance="a:9100"'
    b = 'env="prod", job="worker", instance="b:9100"'
    case = {
        "name": "capacity 0 on instance a, 10 of 100 on instance b",
        "interval": "1m",
        "input_series": [
            {"series": f"queue_length{{{a}}}", "values": "5+0x20"},
            {"series": f"queue_capacity{{{a}}}", "values": "0+0x20"},
            {"series": f"queue_length{{{b}}}", "values": "10+0x20"},
            {"series": f"queue_capacity{{{b}}}", "values": "100+0x20"},
            {"series": f"queue_jobs_processed_total{{{a}}}", "values": "0+10x20"},
        ],
        "alert_rule_test": [{"eval_time": "20m", "alertname": "QueueNearlyFull", "exp_alerts": []}],
        "promql_expr_test": [
            {
                "expr": f'{fill}{{service="queue"}}',
                "eval_time": "20m",
                "exp_samples": [
                    {"labels": f'{fill}{{job="worker", service="queue"}}', "value": 10.0}
                ],
            }
        ],
    }
    proc = run_suite(engine, service, rules, [case])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- 4. the SLI's metric is renamed while its target stays up ------------------------------------

API = 'job="samokoder-api", instance="api-1:8000"'


def _api_series(requests: str, renamed: str) -> list[dict[str, str]]:
    """Samokoder's API, healthy (every metric it exports, steady), with the request counter
    given as ``requests`` and its renamed twin as ``renamed``."""
    steady = [
        ("samokoder_http_request_duration_seconds_bucket", ', le="2"', "0+100x90"),
        ("samokoder_http_request_duration_seconds_bucket", ', le="+Inf"', "0+100x90"),
        ("samokoder_http_request_duration_seconds_count", "", "0+100x90"),
        ("samokoder_file_descriptors_open", "", "10+0x90"),
        ("samokoder_file_descriptors_max", "", "1000+0x90"),
        ("samokoder_db_connection_pool_saturation_percent", "", "10+0x90"),
        ("samokoder_network_connections_active", "", "10+0x90"),
    ]
    return [
        {"series": "up{" + API + "}", "values": "1+0x90"},
        {"series": "samokoder_http_requests_total{" + API + ', status="200"}', "values": requests},
        {
            "series": "samokoder_http_server_requests_total{" + API + ', status="200"}',
            "values": renamed,
        },
    ] + [{"series": f"{name}{{{API}{extra}}}", "values": v} for name, extra, v in steady]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_renamed_request_counter_fires_metric_absent_while_up_stays_1(samokoder, engine) -> None:
    """A deploy at minute 30 renames samokoder_http_requests_total; up stays 1. The budget
    still reads 100 % (the SLO sees no events), and MetricAbsent fires for the old name."""
    service, rules = samokoder
    rule = _rule(rules, "MetricAbsent", metric="samokoder_http_requests_total")
    budget = names.budget_remaining_percent(service)
    availability = service.slo("availability")
    labels = names.slo_labels(service, availability)
    case = {
        "name": "samokoder_http_requests_total renamed at minute 30",
        "interval": "1m",
        "input_series": _api_series("0+1000x30 _x60", "_x31 31000+1000x59"),
        "alert_rule_test": [
            {"eval_time": "30m", "alertname": "MetricAbsent", "exp_alerts": []},
            {
                "eval_time": "90m",
                "alertname": "MetricAbsent",
                "exp_alerts": [_fired(rule, {"job": "samokoder-api"})],
            },
        ],
        "promql_expr_test": [
            {
                "expr": f"{budget}{names.slo_selector(service, availability)}",
                "eval_time": "90m",
                "exp_samples": [
                    {
                        "labels": budget
                        + "{"
                        + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                        + "}",
                        "value": 100.0,
                    }
                ],
            }
        ],
    }
    proc = run_suite(engine, service, rules, [case])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_no_metric_absent_while_the_target_is_down_or_the_counter_sits_at_0(
    samokoder, engine
) -> None:
    """No traffic at all (the counter exists at 0) is not absence; a job that is down is
    TargetDown's."""
    service, rules = samokoder
    quiet = _api_series("0+0x90", "_x90")
    down = [{"series": "up{" + API + "}", "values": "0+0x90"}]
    cases = [
        {
            "name": name,
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [
                {"eval_time": "90m", "alertname": "MetricAbsent", "exp_alerts": []}
            ],
        }
        for name, series in (("the counter sits at 0", quiet), ("the API is down", down))
    ]
    proc = run_suite(engine, service, rules, cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- 5. a counter series born non-zero ----------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_503_series_born_at_3000_is_never_counted(samokoder, engine) -> None:
    """Prometheus's limitation, documented by a test: the 3000 errors a new status="503"
    series carries when first scraped never reach the bad-event count; created at 0 a minute
    earlier, they do."""
    service, rules = samokoder
    bad = names.slo_bad_events(service)
    sel = names.slo_selector(service, service.slo("availability"))
    ok = {
        "series": "samokoder_http_requests_total{" + API + ', status="200"}',
        "values": "0+1000x60",
    }
    err = "samokoder_http_requests_total{" + API + ', status="503"}'
    counted = f"sum_over_time({bad}{sel}[1h]) > bool 0"
    cases = [
        {
            "name": name,
            "interval": "1m",
            "input_series": [ok, {"series": err, "values": values}],
            "promql_expr_test": [
                {
                    "expr": counted,
                    "eval_time": "60m",
                    "exp_samples": [
                        {
                            "labels": '{service="samokoder", slo="availability", '
                            'slo_type="availability"}',
                            "value": value,
                        }
                    ],
                }
            ],
        }
        for name, values, value in (
            ("born at 3000", "_x31 3000+0x28", 0.0),
            ("created at 0, then 3000", "_x31 0 3000+0x27", 1.0),
        )
    ]
    proc = run_suite(engine, service, rules, cases, interval="5m")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- 8. a spec whose selectors name no job --------------------------------------------------------


def test_a_spec_without_a_job_still_gets_an_outage_alert(queue) -> None:
    service, rules = queue
    assert service.jobs == ()
    alerts = load_yaml((rules / "alerts.yml").read_text())["groups"]
    absent = [r for g in alerts for r in g["rules"] if r["alert"] == "MetricAbsent"]
    assert {r["labels"]["metric"] for r in absent} == {
        "queue_jobs_processed_total",
        "queue_length",
        "queue_capacity",
    }
    generated = load_yaml((rules / "tests" / "absent_data_alerts_test.yml").read_text())
    # Every metric's outage alert fires in a case where its targets are down (metrics with
    # one `for` share a case: suites stay linear in metrics).
    fired = {
        alert["exp_labels"]["metric"]
        for case in generated["tests"]
        if "down" in case["name"]
        for check in case["alert_rule_test"]
        for alert in check["exp_alerts"]
    }
    assert fired == {r["labels"]["metric"] for r in absent}, [c["name"] for c in generated["tests"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_jobless_service_that_stops_exporting_pages(queue, engine) -> None:
    """Every target gone (nothing left but a failed scrape's up 0): MetricAbsent fires for
    each metric an SLO or threshold reads, after TargetDown's 3 minutes."""
    service, rules = queue
    expected = [
        _fired(_rule(rules, "MetricAbsent", metric=m), {"env": "prod"})
        for m in ("queue_capacity", "queue_jobs_processed_total", "queue_length")
    ]
    case = {
        "name": "the worker is down",
        "interval": "1m",
        "input_series": [{"series": 'up{job="worker", instance="a:9100"}', "values": "0+0x10"}],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "MetricAbsent", "exp_alerts": []},
            {"eval_time": "10m", "alertname": "MetricAbsent", "exp_alerts": expected},
        ],
    }
    proc = run_suite(engine, service, rules, [case])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.replays
@pytest.mark.parametrize("engine", ENGINES)
def test_the_jobless_specs_rules_load_and_its_generated_suites_pass(queue, engine) -> None:
    _, rules = queue
    loaded = tools.check_rule_files(engine, sorted(rules.glob("*.yml")))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    proc = tools.run_unit_tests(engine, tools.unit_test_files(engine, rules / "tests"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the kinds: every ratio and every read metric is covered, and the cover can fail -------------


@pytest.mark.parametrize("spec", [SAMOKODER, CHECKOUT, QUEUE], ids=lambda p: p.stem)
def test_every_ratio_signal_and_read_metric_has_its_generated_cases(spec: Path) -> None:
    service = load(spec)
    suites = unittests.suites(service)
    edge = suites["edge_values_test.yml"]["tests"]
    for sig in (s for s in service.signals if s.kind == "ratio"):
        record = names.signal(service, sig)
        checks = [c for case in edge for c in case.get("promql_expr_test", [])]
        assert any(c["expr"].startswith(record + "{") and c["exp_samples"] == [] for c in checks)
        for row in (t for t in service.thresholds if t.signal is sig):
            cases = suites["threshold_alerts_test.yml"]["tests"]
            assert any("zero denominator" in c["name"] and row.alert in c["name"] for c in cases)
    read = {p.metric.name for s in service.slos for p in (s.sli.total, s.sli.bad, s.sli.good) if p}
    for row in service.thresholds:
        sig = row.signal
        if sig.kind == "availability":
            sli = service.slo(sig.slo).sli
            parts = (sli.total, sli.bad, sli.good)
        else:
            parts = (sig.numerator, sig.denominator, sig.series)
        read |= {p.metric.name for p in parts if p}
    fired = {
        alert["exp_labels"]["metric"]
        for case in suites["absent_data_alerts_test.yml"]["tests"]
        for check in case["alert_rule_test"]
        if check["alertname"] == "MetricAbsent"
        for alert in check["exp_alerts"]
    }
    assert {m.removesuffix("_bucket") for m in fired} == read


MUTATIONS = {
    # The zero guard off a gauge ratio: a capacity of 0 records +Inf again.
    "inf-at-zero-capacity": (
        "recording_rules.yml",
        lambda t: re.sub(r"/ \((\w+\{[^}]*\}) > 0\)", r"/ \1", t),
        ("edge_values", "threshold_alerts"),
        tools.RULE_ENGINES,
    ),
    # Quantiles of empty buckets: NaN (on Prometheus: VictoriaMetrics stores and returns no
    # NaN, so there the guard changes nothing and no test can tell).
    "nan-without-observations": (
        "recording_rules.yml",
        lambda t: re.sub(r" and on \([^)]*\) \(\w+:\w+:\w+\{[^}]*le=\"\+Inf\"\} > 0\)", "", t),
        ("edge_values",),
        tools.PROMETHEUSES,
    ),
    # Absence judged by a zero rate: a quiet service pages.
    "absent-means-zero": (
        "alerts.yml",
        lambda t: re.sub(r"(count by \(job\) \(\w+\{[^}]*\})\)", r"\1 > 0)", t),
        ("absent_data_alerts",),
        tools.RULE_ENGINES,
    ),
    # Not keyed on up: a job that is down fires MetricAbsent beside TargetDown.
    "absent-ignores-up": (
        "alerts.yml",
        lambda t: t.replace("}) == 1\n", "}) >= 0\n"),
        ("absent_data_alerts",),
        tools.RULE_ENGINES,
    ),
}


@pytest.mark.parametrize(
    ("name", "engine"),
    [
        pytest.param(name, e, id=f"{name}-{e.name}")
        for name, (*_, engines) in MUTATIONS.items()
        for e in engines
    ],
)
def test_the_generated_cases_catch_a_removed_guard(
    samokoder, tmp_path: Path, name: str, engine: tools.Engine
) -> None:
    _, rules = samokoder
    file, mutate, suites, _ = MUTATIONS[name]
    assert_caught(engine, rules, file, mutate, suites, tmp_path)


@pytest.mark.parametrize("spec", [SAMOKODER, CHECKOUT], ids=lambda p: p.stem)
def test_the_born_nonzero_limitation_is_shown_by_a_generated_test_and_documented(
    spec: Path, tmp_path: Path
) -> None:
    """Each SLO gets the pair of cases (born at 3000: not counted; created at 0: counted), and
    the runbook and the README name the limitation and both remedies."""
    service = load(spec)
    write_tree(tmp_path, service_files(service))
    edge = load_yaml(
        (tmp_path / service.name / "prometheus/tests/edge_values_test.yml").read_text()
    )
    for slo in service.slos:  # SLOs on independent series share a pair: linear cost
        born = [
            c["name"]
            for c in edge["tests"]
            if "a new series" in c["name"] and slo.name in c["name"].split(":")[0].split(", ")
        ]
        assert len(born) == 2, born
    runbook = (tmp_path / service.name / "docs/alerts.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for text in (runbook, readme):
        assert "--enable-feature=created-timestamp-zero-ingestion" in text
        assert re.search(r"label combination\w* at 0", text)
        assert 'status="503"' in text
