"""Clusters and per-label SLOs (issue 15: ``cluster_label``, an SLO's ``group_by``): labels the
rules keep through every aggregation, alert and inhibition, named once by
``signals.kept_labels``.

Instances, on tests/fixtures/specs/clusters.yaml (a cluster label, an SLO grouped by
endpoint, one that is not): the generated two-cluster suite passes on every engine and fails
once the rules drop the cluster; a metric or every target gone in one cluster alerts for that
cluster alone; a critical in one cluster or group never mutes a warning in another
(a real Alertmanager decides); every panel query filters on the cluster variable.

The kind: every spec in the repository, given a cluster label and a grouped SLO, is parsed
rule by rule with the real PromQL parser (``promql_parser``): every aggregation keeps the
cluster (and, in a grouped SLO's rules, the group labels), every vector matching ``on``
lists them, every ``absent()`` has a per-cluster twin, every inhibition's ``equal`` holds
them, and every dashboard selector filters on the cluster variable.
"""

from __future__ import annotations

from pathlib import Path

import promql_parser
import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER
from grafana_schema import problems as grafana_problems
from test_alertmanager_inhibition import _alert, key, running, verdicts
from yaml_io import load_yaml

from generator import alertmanager, signals, tools
from generator.alertmanager_config import FILE as ALERTMANAGER_FILE
from generator.grafana import dashboard
from generator.output import write_tree
from generator.plan import service_files, shared_files
from generator.prometheus import (
    alerts,
    environment_tests,
    recording,
    unittests,
    vmalert_unittests,
)
from generator.prometheus.alerts import absent_rule, watched_metrics
from generator.prometheus.promtool_cases import EXPRESSION_TESTS
from generator.prometheus.rule_files import (
    FILES,
    RECORDING_FILES,
    SLO_RECORDING_FILE,
    all_groups,
    loaded_files,
    plain_rule_files,
)
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load, load_text
from generator.spec.model import Service

SPECS = ROOT / "tests" / "fixtures" / "specs"
CLUSTERS = SPECS / "clusters.yaml"
ENGINES = [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES]
SUITE = "kept_labels_test.yml"


@pytest.fixture(scope="module")
def base() -> Service:
    return load(CLUSTERS)


@pytest.fixture(scope="module")
def service(base: Service) -> Service:
    """The prod environment's copy (its rules carry env="prod")."""
    assert [e.environment for e in base.environments] == ["prod", "staging"]
    return base.environments[0]


@pytest.fixture(scope="module")
def out(base: Service, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated tree's prod folder (prometheus/prod/: its rule files and tests)."""
    root = tmp_path_factory.mktemp("clusters") / "out"
    write_tree(root, {**service_files(base), **shared_files([base])})
    return root / base.name / "prometheus" / "prod"


def _rules(service: Service) -> list[dict]:
    groups = recording.groups(service) + alerts.groups(service)
    return [r for g in groups for r in g["rules"]]


# -- instances: the generated two-cluster suite ------------------------------------------------


def test_the_suite_covers_two_clusters_and_two_groups(service: Service) -> None:
    suite = unittests.suites(service)[SUITE]
    checks = [c["expr"] for case in suite["tests"] for c in case[EXPRESSION_TESTS]]
    # One page expected in cluster A (and endpoint A for the grouped SLO); B silent.
    assert sum('cluster="' in c and "count(ALERTS{alertname=" in c for c in checks) == 2
    assert any('endpoint="' in c and "count(ALERTS{alertname=" in c for c in checks)
    assert any("max_over_time(ALERTS{" in c and 'cluster="' in c for c in checks)
    assert any("max_over_time(ALERTS{" in c and 'endpoint="' in c for c in checks)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_outage_in_one_cluster_pages_for_that_cluster_only(
    engine: tools.Engine, out: Path
) -> None:
    files = [f for f in tools.unit_test_files(engine, out / "tests") if f.name == SUITE]
    assert len(files) == 1
    proc = tools.run_unit_tests(engine, files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_an_outage_in_one_environment_pages_for_that_environment_only(
    engine: tools.Engine, out: Path
) -> None:
    """Every environment's rule files loaded at once (as one Prometheus would load them):
    prod's outage pages with env="prod", staging's SLO stays silent."""
    tests = out.parent / "tests"
    name = environment_tests.FILE
    path = tests / "vmalert" / name if engine.family == "victoriametrics" else tests / name
    proc = tools.run_unit_tests(engine, [path])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_environment_group_names_and_recorded_series_never_collide(base: Service) -> None:
    groups = all_groups(base)
    names = [g["name"] for g in groups]
    assert (
        len(names)
        == len(set(names))
        == 2 * sum(len(groups) for groups in plain_rule_files(base).values())
    )
    series = [
        (r["record"], tuple(sorted(r["labels"].items())))
        for g in groups
        for r in g["rules"]
        if "record" in r
    ]
    assert len(series) == len(set(series))
    assert {dict(labels).get("env") for _, labels in series} == {"prod", "staging"}
    # Each environment reads only its own recordings.
    for env in base.environments:
        for rule in (r for g in plain_rule_files(env).values() for x in g for r in x["rules"]):
            for sel in _selectors(promql_parser.parse(rule["expr"])):
                if ":" in sel.name:
                    assert ("env", env.environment) in {
                        (m.name, m.value) for m in sel.matchers.matchers
                    }, rule


def test_the_suite_fails_when_the_rules_drop_the_cluster(out: Path, tmp_path: Path) -> None:
    """The suite can fail: rules that sum the cluster away page without a cluster label."""
    (tmp_path / "prometheus/tests").mkdir(parents=True)
    for name in FILES:  # the cluster dropped from every recording file, SLO and signal alike
        rules = (out / name).read_text()
        if name in RECORDING_FILES:
            rules = rules.replace(", cluster", "").replace("by (cluster) ", "")
        (tmp_path / "prometheus" / name).write_text(rules)
    assert (tmp_path / "prometheus" / SLO_RECORDING_FILE).read_text() != (
        out / SLO_RECORDING_FILE
    ).read_text()
    suite = tmp_path / "prometheus/tests" / SUITE
    suite.write_text((out / "tests" / SUITE).read_text())
    proc = tools.run_unit_tests(tools.PROMETHEUS_3_5, [suite])
    assert proc.returncode != 0 and "ErrorBudgetBurn" in proc.stdout + proc.stderr


def _absence_suite(service: Service, out: Path, cases: list[dict], engine: tools.Engine) -> Path:
    field = vmalert_unittests.METRICSQL_TESTS if engine.family == "victoriametrics" else None
    if field:
        cases = [{(field if k == EXPRESSION_TESTS else k): v for k, v in c.items()} for c in cases]
    suite = {
        "rule_files": [f"../{name}" for name in loaded_files(service)],
        "evaluation_interval": "1m",
        "group_eval_order": unittests.group_order(service),
        "tests": cases,
    }
    path = out / "tests" / f"absence_{engine.name}.yml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def _firing(alertname: str, by: str, at: str, expected: list[str]) -> dict:
    """Check that exactly the ``expected`` label sets (of ``by``) fire ``alertname``."""
    return {
        "expr": f'count by ({by}) (ALERTS{{alertname="{alertname}", alertstate="firing"}})',
        "eval_time": at,
        "exp_samples": [{"labels": e, "value": 1} for e in expected],
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_a_metric_or_every_target_gone_in_one_cluster_alerts_for_that_cluster_only(
    engine: tools.Engine, service: Service, out: Path
) -> None:
    """absent() keeps no labels: with two clusters it would stay silent while one still
    exports. MetricAbsent and TargetDown name the cluster that went dark, and only it."""
    watched = {w.series: w for w in watched_metrics(service)}
    requests = watched["edge_http_requests_total"]
    for_ = int(absent_rule(service, requests)["for"].removesuffix("m"))
    minutes = 10 + 5 + for_ + 5
    live = f"1+0x{minutes}"

    def present(cluster: str, until: int | None = None, without: object = None) -> list[dict]:
        values = live if until is None else f"1+0x{until}"
        return [
            {
                "series": f'{w.series}{{job="{w.job}", env="prod", cluster="{cluster}"}}',
                "values": values,
            }
            for w in watched.values()
            if w is not without
        ]

    metric_gone = {
        "name": "the request counter of cluster eu-1 is gone while its targets are up",
        "interval": "1m",
        "input_series": [
            *present("us-1"),
            *present("eu-1", without=requests),
            {
                "series": 'edge_http_requests_total{job="edge-api", env="prod", cluster="eu-1"}',
                "values": "1+0x10",
            },
            *(
                {"series": f'up{{job="{j}", env="prod", cluster="{c}"}}', "values": live}
                for j in service.jobs
                for c in ("eu-1", "us-1")
            ),
        ],
        EXPRESSION_TESTS: [
            _firing(
                "MetricAbsent",
                "cluster, metric",
                f"{minutes}m",
                ['{cluster="eu-1", metric="edge_http_requests_total"}'],
            )
        ],
    }
    targets_gone = {
        "name": "every target of cluster us-1 left service discovery",
        "interval": "1m",
        "input_series": [
            *present("eu-1"),
            *present("us-1", 10),
            *(
                {
                    "series": f'up{{job="{j}", env="prod", cluster="{c}"}}',
                    "values": live if c == "eu-1" else "1+0x10",
                }
                for j in service.jobs
                for c in ("eu-1", "us-1")
            ),
        ],
        EXPRESSION_TESTS: [
            {
                "expr": 'count by (cluster, job) (ALERTS{alertname="TargetDown", '
                'alertstate="firing", severity="critical"})',
                "eval_time": "25m",
                "exp_samples": [
                    {"labels": f'{{cluster="us-1", job="{j}"}}', "value": 1} for j in service.jobs
                ],
            },
            {
                "expr": 'count(ALERTS{alertstate="firing", cluster="eu-1"}) or vector(0)',
                "eval_time": "25m",
                "exp_samples": [{"labels": "{}", "value": 0}],
            },
        ],
    }
    path = _absence_suite(service, out, [metric_gone, targets_gone], engine)
    proc = tools.run_unit_tests(engine, [path])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- instances: inhibition and dashboard ------------------------------------------------------


@pytest.mark.parametrize("engine", tools.CONFIG_ALERTMANAGERS, ids=lambda e: e.name)
def test_a_critical_in_one_cluster_or_group_never_mutes_a_warning_in_another(
    engine: tools.Engine, service: Service, out: Path, tmp_path: Path
) -> None:
    rules = _rules(service)
    errors = {
        r["labels"]["severity"]: {**r["labels"], "alertname": r["alert"], "job": "edge-api"}
        for r in rules
        if r.get("alert") == "EdgeErrorsHigh"
    }
    budget = {
        r["alert"]: {**r["labels"], "alertname": r["alert"]}
        for r in rules
        if r.get("alert") in ("ErrorBudgetLow", "ErrorBudgetCritical")
        and r["labels"]["slo"] == "availability"
    }
    here = {"cluster": "eu-1"}
    group = {"cluster": "eu-1", "endpoint": "/checkout"}
    critical = errors["critical"] | here
    same = errors["warning"] | here
    other_cluster = errors["warning"] | {"cluster": "us-1"}
    exhausted = budget["ErrorBudgetCritical"] | group
    low = budget["ErrorBudgetLow"] | group
    low_elsewhere = [
        budget["ErrorBudgetLow"] | group | {"cluster": "us-1"},
        budget["ErrorBudgetLow"] | group | {"endpoint": "/search"},
    ]
    hidden = {key(same): (same, critical), key(low): (low, exhausted)}
    other_env = same | {"env": "staging"}
    with running(engine, out.parents[2] / ALERTMANAGER_FILE, tmp_path) as am:
        verdicts(am, hidden, [critical, other_cluster, exhausted, *low_elsewhere, other_env])


@pytest.mark.parametrize("engine", tools.CONFIG_ALERTMANAGERS, ids=lambda e: e.name)
def test_each_cluster_and_environment_gets_its_own_notification(
    engine: tools.Engine, service: Service, out: Path, tmp_path: Path
) -> None:
    """The same page from two clusters and from two environments: four notification groups
    on a real Alertmanager (grouped by its config), and two endpoints of one SLO in one."""
    page = next(
        {**r["labels"], "alertname": r["alert"]}
        for r in _rules(service)
        if r.get("alert") == "ErrorBudgetBurn" and r["labels"]["severity"] == "critical"
    )
    where = [
        {"cluster": c, "env": e, "endpoint": p}
        for c in ("eu-1", "us-1")
        for e in ("prod", "staging")
        for p in ("/checkout", "/search")
    ]
    with running(engine, out.parents[2] / ALERTMANAGER_FILE, tmp_path) as am:
        am.post([_alert(page | w) for w in where])

        def grouped() -> list[dict] | None:
            found = [g for g in am.groups() if g["labels"].get("service") == service.name]
            return found if sum(len(g["alerts"]) for g in found) == len(where) else None

        groups = am.wait_for("the pages to be grouped", grouped)
    seen = sorted((g["labels"]["cluster"], g["labels"]["env"], len(g["alerts"])) for g in groups)
    assert seen == [(c, e, 2) for c in ("eu-1", "us-1") for e in ("prod", "staging")]


def test_every_panel_query_filters_on_the_cluster_and_environment_variables(base: Service) -> None:
    board = dashboard.build(base)
    assert not grafana_problems(board)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["cluster"]["query"].endswith(", cluster)")
    assert variables["env"]["query"].endswith(", env)")
    assert "endpoint" in variables["endpoint"]["query"]
    targets = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert targets
    for expr in targets:
        for sel in _selectors(promql_parser.parse(_grafana(expr))):
            assert ("cluster", "$cluster") in _regex_matchers(sel), (expr, sel)
            # Every panel here reads a recording, which carries its environment's name.
            assert ("env", "$env") in _regex_matchers(sel), (expr, sel)
    budget = [e for e in targets if 'slo="availability"' in e]
    assert budget and all('endpoint=~"$endpoint"' in e for e in budget)


# -- the kind: every spec, every expression, parsed --------------------------------------------

CLUSTER = "k8s_cluster"
GROUP = "shard"


def _with_dimensions(spec: Path) -> Service:
    data = load_yaml(spec.read_text(encoding="utf-8"))
    data["cluster_label"] = CLUSTER
    data["slos"][0]["group_by"] = [GROUP]
    data["environments"] = {"blue": 'stage="blue"', "green": 'stage=~"green|teal"'}
    return load_text(str(spec), yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _keeps_labels(spec: Path) -> bool:
    """Whether cluster_label and group_by may be set on ``spec``: not beside a raw-query or
    native-histogram SLI, which the loader refuses (fixture 126 and the test below)."""
    return not any(s.sli.kind in ("query", "ratio_query") or s.sli.native for s in load(spec).slos)


KIND_SPECS = [
    SAMOKODER,
    CHECKOUT,
    *sorted(p for p in SPECS.glob("*.yaml") if p != CHECKOUT and _keeps_labels(p)),
]


def test_dimensions_beside_a_raw_or_native_sli_are_refused() -> None:
    refused = [p for p in SPECS.glob("*.yaml") if not _keeps_labels(p)]
    assert refused, "no fixture spec has a raw or native SLI: the refusal goes untested"
    for spec in refused:
        with pytest.raises(SpecInvalid) as refusal:
            _with_dimensions(spec)
        messages = [e.message for e in refusal.value.errors]
        assert messages, spec
        refusals = ("cluster_label and group_by need", "environments need an SLI of metrics")
        assert all(m.startswith(refusals) for m in messages), messages


def _grafana(expr: str) -> str:
    return expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")


def _walk(node: object):
    yield node
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr | promql_parser.VectorSelector):
            yield from _walk(child)
    for arg in getattr(node, "args", None) or ():
        yield from _walk(arg)


def _selectors(tree: object) -> list:
    return [n for n in _walk(tree) if isinstance(n, promql_parser.VectorSelector)]


def _regex_matchers(sel) -> set[tuple[str, str]]:
    return {(m.name, m.value) for m in sel.matchers.matchers if m.op == promql_parser.MatchOp.Re}


def kept_problems(service: Service, rule: dict) -> list[str]:
    """Return where one rule drops a kept label: an aggregation without it in ``by``, an
    ``on (...)`` without it, an ``absent()`` without a per-cluster twin."""
    slo = rule.get("labels", {}).get("slo")
    kept = set(
        signals.kept_labels(service, service.slo(slo))
        if slo and "record" in rule
        else signals.kept_labels(service)
    )
    if "alert" in rule and slo and rule["alert"] not in ("MetricAbsent",):
        kept |= set(service.slo(slo).group_by)
    tree = promql_parser.parse(rule["expr"])
    name = rule.get("record") or rule.get("alert")
    out = []
    nodes = list(_walk(tree))
    for node in nodes:
        if isinstance(node, promql_parser.AggregateExpr):
            labels = set(node.modifier.labels) if node.modifier else set()
            by = (
                node.modifier is not None and node.modifier.type == promql_parser.AggModifierType.By
            )
            if not (by and kept <= labels):
                out.append(f"{name}: {node} drops {sorted(kept - labels)}")
        if isinstance(node, promql_parser.BinaryExpr) and node.modifier is not None:
            matching = node.modifier.matching
            if matching is not None and not kept <= set(matching.labels):
                out.append(f"{name}: {node.op} {matching} drops {sorted(kept)}")
        if isinstance(node, promql_parser.Call) and node.func.name == "absent":
            twins = [
                n
                for n in nodes
                if isinstance(n, promql_parser.Call) and n.func.name == "last_over_time"
            ]
            if not twins:
                out.append(f"{name}: absent() without a per-cluster twin")
    return out


@pytest.mark.parametrize("spec", KIND_SPECS, ids=lambda p: p.stem)
def test_every_expression_keeps_the_cluster_the_groups_and_its_environment(spec: Path) -> None:
    base = _with_dimensions(spec)
    assert [e.environment for e in base.environments] == ["blue", "green"]
    for service in base.environments:
        grouped = service.slos[0]
        assert signals.kept_labels(service, grouped) == (CLUSTER, GROUP)
        problems = [p for r in _rules(service) for p in kept_problems(service, r)]
        recorded = {r["record"] for r in _rules(service) if "record" in r}
        problems += [p for r in _rules(service) for p in environment_problems(service, r, recorded)]
        assert not problems, "\n".join(problems[:10])
        # Every rule of the grouped SLO keeps its group: the kind check above did read them.
        assert any(r.get("labels", {}).get("slo") == grouped.name for r in _rules(service))
    groups = all_groups(base)
    assert len({g["name"] for g in groups}) == len(groups)
    series = [
        (r["record"], str(sorted(r["labels"].items())))
        for g in groups
        for r in g["rules"]
        if "record" in r
    ]
    assert len(set(series)) == len(series)
    service = base
    for rule in alertmanager.inhibit_rules(service):
        assert {CLUSTER, GROUP} <= set(rule["equal"]), rule
    if service.dashboard is not None:
        board = dashboard.build(service)
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                for sel in _selectors(promql_parser.parse(_grafana(target["expr"]))):
                    assert (CLUSTER, "$cluster") in _regex_matchers(sel), target["expr"]


def _op(op: object) -> str:
    if op == promql_parser.MatchOp.Equal:
        return "="
    return "=~" if op == promql_parser.MatchOp.Re else "?"


def environment_problems(service: Service, rule: dict, recorded: set[str]) -> list[str]:
    """Return where a rule of one environment's copy reads another's: a recorded series
    without its ``env`` matcher, or a raw series or ``up`` without the environment's
    selector; and a rule without its ``env`` label."""
    name = rule.get("record") or rule.get("alert")
    out = []
    if rule.get("labels", {}).get("env") != service.environment:
        out.append(f"{name}: no env label {service.environment!r}")
    own = {(m.name, m.op, m.text) for m in service.environment_matchers}
    for sel in _selectors(promql_parser.parse(rule["expr"])):
        if sel.name == "ALERTS":
            continue
        got = {(m.name, _op(m.op), m.value) for m in sel.matchers.matchers}
        want = {("env", "=", service.environment)} if sel.name in recorded else own
        if not want <= got:
            out.append(f"{name}: {sel} lacks {sorted(want - got)}")
    return out


def test_the_kind_checks_catch_a_dropped_cluster_and_a_foreign_environment(
    service: Service,
) -> None:
    rule = next(r for r in _rules(service) if r.get("record") == "job:error_share:percent_rate5m")
    assert not kept_problems(service, rule)
    broken = {**rule, "expr": rule["expr"].replace("by (job, cluster)", "by (job)", 1)}
    assert kept_problems(service, broken)
    absent = {"alert": "MetricAbsent", "expr": "absent(up)", "labels": {}}
    assert kept_problems(service, absent)
    ratio = next(r for r in _rules(service) if r.get("record") == "slo:sli_error:ratio_rate1h")
    recorded = {r["record"] for r in _rules(service) if "record" in r}
    assert not environment_problems(service, ratio, recorded)
    other = {**ratio, "expr": ratio["expr"].replace(', env="prod"', "")}
    assert environment_problems(service, other, recorded)


# Environment selectors on labels other than `env`: a Kubernetes namespace, an instance
# pattern. The rule label `env` used to hide what `up == 0` and `absent(up{...})` carry.
ENVIRONMENT_KEYS = {
    "namespace": {"prod": 'namespace="prod"', "staging": 'namespace=~"stag.+"'},
    "instance": {"prod": 'instance=~"prod-.+"', "canary": 'instance=~"canary-.+"'},
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("key", ENVIRONMENT_KEYS)
def test_environments_keyed_on_any_label_pass_their_target_and_absence_suites(
    key: str, engine: tools.Engine, tmp_path: Path
) -> None:
    """Each environment's TargetDown and MetricAbsent suites pass: each ``up`` and metric
    series of the tests satisfies the environment's selector, and TargetDown is expected
    with the labels ``up == 0`` keeps and the equality labels ``absent(up{...})`` carries.
    (Their SLO suites read the same series; ``clusters.yaml``'s run on every engine.)"""
    data = load_yaml(CHECKOUT.read_text(encoding="utf-8"))
    data["environments"] = ENVIRONMENT_KEYS[key]
    base = load_text(str(CHECKOUT), yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    write_tree(tmp_path, service_files(base))
    signal_suites = ("threshold_alerts_test.yml", "absent_data_alerts_test.yml")
    files = [
        tmp_path / base.name / "prometheus" / env.environment / "tests" / name
        for env in base.environments
        for name in signal_suites
    ]
    assert all(f.is_file() for f in files), files
    proc = tools.run_unit_tests(engine, files)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.parametrize("engine", ENGINES)
def test_kept_labels_the_selectors_constrain_are_expected_where_the_rules_keep_them(
    engine: tools.Engine, tmp_path: Path
) -> None:
    """``group_by: [endpoint]`` with ``endpoint!=""`` in the selector (an SLO per endpoint
    that skips unlabelled series): the tests' series carry an endpoint, every recording and
    alert of the SLO keeps it, and every generated suite expects it (``synthetic.slo_labels``).
    """
    data = load_yaml(CLUSTERS.read_text(encoding="utf-8"))
    data["metrics"]["requests"]["selector"] = 'job="edge-api", endpoint!=""'
    base = load_text(str(CLUSTERS), yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    write_tree(tmp_path, service_files(base))
    tests = tmp_path / base.name / "prometheus" / base.environments[0].environment / "tests"
    files = tools.unit_test_files(engine, tests)
    assert {f.name for f in files} >= {"slo_alerts_test.yml", "slo_values_test.yml"}, files
    proc = tools.run_unit_tests(engine, files)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
