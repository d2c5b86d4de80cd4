"""A fleet of 200 varied services in one ruler: everything loads, nothing collides.

The fleet (tests/fleet.py) mixes services with metrics of their own, one shared exporter
deployed once per cluster (same metric names, same job, told apart by ``cluster``), workers
sharing a job and gauge names, and services in the ``node`` job. Every rule file of every
service is loaded together into one promtool 3.5 and one ``vmalert -dryRun`` (one real
Prometheus 3.5 server loads them in tests/e2e/test_fleet_server.py, ``make e2e``); the rules
are parsed with a real PromQL parser (promql-parser, the Rust crate's bindings) to prove no
two rules write one series and no service's rule reads
another service's recorded series. Two promtool scenarios run the shared exporter's rules
on data.
"""

from __future__ import annotations

import collections
import functools
import textwrap
from pathlib import Path

import promql_parser
import pytest
import yaml
from fleet import FAMILIES, rule_files, shared

from generator import tools
from generator.prometheus.rule_files import RECORDING_FILES
from generator.prometheus.rule_reads import selectors

SIZE = 200


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Return (out/ holding every service's files, the service names)."""
    return shared(tmp_path_factory, SIZE)


@functools.cache
def groups_of(path: Path) -> list[dict]:
    """The rule groups of one rule file, parsed once per test process (with libyaml: the
    fleet holds 800 rule files, which several tests read). Callers must not change them."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["groups"]


# Several tests walk every expression of the fleet; each is parsed once. Read-only, too.
parsed = functools.cache(promql_parser.parse)


def rules_by_service(out: Path) -> list[tuple[str, str, dict]]:
    """Return ``(service, group name, rule)`` for every rule of the fleet."""
    rows = []
    for path in rule_files(out):
        for group in groups_of(path):
            rows += [(path.parts[-3], group["name"], rule) for rule in group["rules"]]
    return rows


def _ok(proc) -> None:
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def test_the_fleet_shares_metric_names_jobs_and_clusters(fleet) -> None:
    """The fixture is what the test claims: shared metric names and jobs, one cluster each."""
    out, names = fleet
    assert len(names) == len(set(names)) == SIZE
    metric_users: dict[str, set[str]] = collections.defaultdict(set)
    job_users: dict[str, set[str]] = collections.defaultdict(set)
    clusters = collections.Counter()
    for service, _, rule in rules_by_service(out):
        for sel in selectors(parsed(rule["expr"])):
            if sel.name and ":" not in sel.name:
                metric_users[sel.name].add(service)
            for m in sel.matchers.matchers:
                if m.name == "job":
                    job_users[m.value].add(service)
                if m.name == "cluster":
                    clusters[(m.value, service)] += 1
    assert len(metric_users["http_requests_total"]) == SIZE // len(FAMILIES)
    assert len(job_users["worker"]) == SIZE // len(FAMILIES)
    assert len({c for c, _ in clusters}) == len({s for _, s in clusters}) == SIZE // len(FAMILIES)


def test_every_rule_file_loads_together_into_promtool_3_5(fleet) -> None:
    out, _ = fleet
    _ok(tools.check_rule_files(tools.PROMETHEUS_3_5, rule_files(out)))


def test_every_rule_file_loads_together_into_one_vmalert(fleet) -> None:
    out, _ = fleet
    _ok(tools.check_rule_files(tools.VICTORIAMETRICS, rule_files(out)))


def test_no_two_groups_share_a_name(fleet) -> None:
    out, _ = fleet
    names = collections.Counter(g["name"] for f in rule_files(out) for g in groups_of(f))
    assert names and not [n for n, c in names.items() if c > 1]


def test_no_two_rules_write_the_same_series(fleet) -> None:
    """A recording's output is its name and static labels (``service`` among them); an
    alert's is ``ALERTS{alertname, labels}``. Two rules with one key would overwrite each
    other's series in a shared ruler."""
    out, _ = fleet
    writers: dict[tuple, list[str]] = collections.defaultdict(list)
    for service, group, rule in rules_by_service(out):
        labels = tuple(sorted((rule.get("labels") or {}).items()))
        assert ("service", service) in labels, f"{group}: {rule}"
        name = rule.get("record") or f"ALERTS:{rule['alert']}"
        # An alert's own expression labels tell its instances apart, so alerts key on expr too.
        key = (name, labels) if "record" in rule else (name, labels, rule["expr"])
        writers[key].append(group)
    assert writers and not {k: v for k, v in writers.items() if len(v) > 1}


def cross_reads(out: Path) -> list[tuple[str, str, str]]:
    """Return ``(service, rule, recorded series)`` where a service's rule selects a series
    that another service also records, without narrowing it to its own ``service``."""
    rows = rules_by_service(out)
    recorders: dict[str, set[str]] = collections.defaultdict(set)
    for service, _, rule in rows:
        if "record" in rule:
            recorders[rule["record"]].add(service)
    found = set()
    for service, _, rule in rows:
        for sel in selectors(parsed(rule["expr"])):
            others = recorders.get(sel.name, set()) - {service}
            own = any(m.name == "service" and m.value == service for m in sel.matchers.matchers)
            if others and not own:
                found.add((service, rule.get("record") or rule.get("alert"), sel.name))
    return sorted(found)


def test_the_cross_read_check_finds_a_rule_reading_another_services_series(tmp_path) -> None:
    """The check below can fail: a rule selecting a shared recording without ``service``."""
    for service in ("a", "b"):
        folder = tmp_path / service / "prometheus"
        folder.mkdir(parents=True)
        rules = [
            {"record": "job:x:rate5m", "expr": "sum(rate(x[5m]))", "labels": {"service": service}}
        ]
        if service == "a":
            rules.append(
                {"record": "job:y:ratio", "expr": "job:x:rate5m / 2", "labels": {"service": "a"}}
            )
        (folder / "r.yml").write_text(
            yaml.safe_dump({"groups": [{"name": service, "rules": rules}]})
        )
    assert cross_reads(tmp_path) == [("a", "job:y:ratio", "job:x:rate5m")]


def test_no_recording_rule_reads_another_services_series(fleet) -> None:
    out, _ = fleet
    assert cross_reads(out) == []


# -- two services on one exporter, on data ---------------------------------------------------


def _shared_exporter_suite(out: Path, names: list[str], series: str, tests: str) -> Path:
    """Write a promtool suite over the first two ``edge`` services' recording rules."""
    a, b = [n for n in names if n.startswith("edge-")][:2]
    suite = out.parent / f"shared-exporter-{len(tests)}.yml"
    rule_files = "\n".join(
        f"  - {out / s / 'prometheus' / n}" for s in (a, b) for n in RECORDING_FILES
    )
    text = f"""\
rule_files:
{rule_files}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{textwrap.indent(series.format(a=a[5:], b=b[5:]), " " * 6)}
    promql_expr_test:
{textwrap.indent(tests.format(a=a, b=b), " " * 6)}
"""
    suite.write_text(text, encoding="utf-8")
    return suite


def test_two_services_on_one_exporter_each_count_their_own_errors(fleet) -> None:
    """Both services read ``http_requests_total{job="edge"}``; cluster A fails 1 request in
    10, cluster B 3 in 4. Each service's error ratio is its own cluster's, on promtool."""
    out, names = fleet
    series = """\
- series: 'http_requests_total{{job="edge", cluster="{a}", code="500"}}'
  values: '0+1x60'
- series: 'http_requests_total{{job="edge", cluster="{a}", code="200"}}'
  values: '0+9x60'
- series: 'http_requests_total{{job="edge", cluster="{b}", code="500"}}'
  values: '0+3x60'
- series: 'http_requests_total{{job="edge", cluster="{b}", code="200"}}'
  values: '0+1x60'
"""
    tests = """\
- expr: 'sum by (service) (slo:sli_error:ratio_rate1h{{slo="availability"}})'
  eval_time: 60m
  exp_samples:
    - labels: '{{service="{a}"}}'
      value: 0.1
    - labels: '{{service="{b}"}}'
      value: 0.75
"""
    suite = _shared_exporter_suite(out, names, series, tests)
    for engine in tools.PROMETHEUSES:
        _ok(tools.run_unit_tests(engine, [suite]))


def test_a_service_records_no_quantile_from_another_services_data(fleet) -> None:
    """Only cluster B has latency data: service A must record no p95 at all."""
    out, names = fleet
    series = """\
- series: 'http_request_duration_seconds_bucket{{job="edge", cluster="{b}", le="0.5"}}'
  values: '0+5x60'
- series: 'http_request_duration_seconds_bucket{{job="edge", cluster="{b}", le="+Inf"}}'
  values: '0+10x60'
"""
    tests = """\
- expr: 'count by (service) (job:http_request_duration_seconds:p95_rate5m)'
  eval_time: 30m
  exp_samples:
    - labels: '{{service="{b}"}}'
      value: 1
"""
    suite = _shared_exporter_suite(out, names, series, tests)
    _ok(tools.run_unit_tests(tools.PROMETHEUS_3_5, [suite]))
