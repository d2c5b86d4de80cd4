"""The Grafana dashboard: 22 panels in the seed's rows, valid PromQL, nothing dangling."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from yaml_io import load_yaml

from generator import tools
from generator.grafana import compat, dashboard, lint, preview, provisioning
from generator.grafana.files import DASHBOARD_FILE, files
from generator.prometheus import recording
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load_text
from generator.spec.model import Service

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
SEED_ROWS = [  # the seed's rows, in order, and how many data panels each holds
    ("Four golden signals", 4),
    ("Traffic", 1),
    ("Latency", 2),
    ("Errors", 2),
    ("Saturation", 7),
    ("SLO & error budget", 3),
    ("Database", 2),
    ("LLM", 1),
]
# Grafana's interval variables, as a rule file can hold them (two scrapes of 1m and more).
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


@pytest.fixture(scope="module")
def service() -> Service:
    # Named as `make generate` names it, so the header matches the committed files.
    return load_text("slo_specs/samokoder.yaml", SPEC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def board(service: Service) -> dict:
    return dashboard.build(service)


def data_panels(board: dict) -> list[dict]:
    return [p for p in board["panels"] if p["type"] != "row"]


def rows_of(board: dict) -> list[tuple[str, list[dict]]]:
    rows: list[tuple[str, list[dict]]] = []
    for panel in board["panels"]:
        if panel["type"] == "row":
            rows.append((panel["title"], []))
        else:
            rows[-1][1].append(panel)
    return rows


def with_raw_panels(service_spec: str) -> Service:
    """The Samokoder spec plus panels whose breakdown is not recorded (raw-metric fallback)."""
    data = load_yaml(Path(service_spec).read_text(encoding="utf-8"))
    data["dashboard"]["rows"].append(
        {
            "title": "Raw",
            "panels": [
                {"title": "By endpoint", "rate": {"metric": "http_requests", "by": ["endpoint"]}},
                {
                    "title": "Latency by endpoint",
                    "quantiles": {"metric": "http_request_duration", "by": ["endpoint"]},
                },
                {"title": "P90", "quantiles": {"metric": "db_query_duration", "quantiles": [0.9]}},
            ],
        }
    )
    return load_text("raw.yaml", yaml.safe_dump(data, sort_keys=False))


# -- shape ------------------------------------------------------------------------------------


def test_22_panels_in_the_seeds_rows_with_the_seeds_uid(service: Service, board: dict) -> None:
    assert board["uid"] == "samokoder-golden-signals"
    assert "samokoder" in board["title"].lower()
    assert len(data_panels(board)) == 22
    assert [(title, len(panels)) for title, panels in rows_of(board)] == SEED_ROWS
    golden = [p["title"] for p in rows_of(board)[0][1]]
    assert golden == ["Traffic", "Latency P95", "Errors (5xx)", "Saturation (CPU)"]
    assert {p["type"] for p in rows_of(board)[0][1]} == {"stat"}


def test_current_grafana_conventions(board: dict) -> None:
    text = json.dumps(board)
    assert board["schemaVersion"] == compat.SCHEMA_VERSION >= 36
    assert board["editable"] is False
    assert '"null"' not in text, "grafanalib's string 'null' threshold survived"
    assert {p["type"] for p in data_panels(board)} <= {"stat", "timeseries", "gauge"}
    variable = board["templating"]["list"][0]
    assert (variable["name"], variable["type"], variable["query"], variable["label"]) == (
        "datasource",
        "datasource",
        "prometheus",
        "Data source",
    )
    for panel in data_panels(board):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"])
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


def test_the_committed_dashboard_is_what_the_spec_generates(service: Service) -> None:
    for rel, content in files(service).items():
        committed = ROOT / "out" / rel
        assert committed.is_file(), f"{committed} is missing: run `make generate`"
        assert committed.read_bytes() == content, f"{committed} is stale: run `make generate`"


def test_generation_is_deterministic(service: Service) -> None:
    again = load_text(service.source, SPEC.read_text(encoding="utf-8"))
    assert files(again) == files(service)


# -- PromQL -----------------------------------------------------------------------------------


def _exprs(board: dict) -> list[str]:
    return [t["expr"] for p in data_panels(board) for t in p["targets"]]


def _substituted(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


@pytest.mark.every_engine
@pytest.mark.parametrize("engine", [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES])
def test_every_panel_expression_is_valid_on_every_engine(
    engine: tools.Engine, board: dict, tmp_path: Path
) -> None:
    raw = dashboard.build(with_raw_panels(str(SPEC)))
    exprs = _exprs(board) + _exprs(raw)
    assert any("$__rate_interval" in e for e in _exprs(raw)), "the raw fallback was not exercised"
    rules = [
        {"record": f"dashboard:panel_{i}:check", "expr": _substituted(e)}
        for i, e in enumerate(exprs)
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    proc = tools.check_rule_files(engine, [path])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def series_names(expr: str) -> set[str]:
    """Return the metric names an expression selects (not functions, labels or keywords)."""
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    code = re.sub(r"\{[^}]*\}", "", code)  # label matchers
    code = re.sub(r"\[[^\]]*\]", "", code)  # range windows
    code = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", code)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", code):
        rest = code[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in PROMQL_WORDS:
            continue
        names.add(match.group())
    return names


def test_series_names_reads_only_metric_names() -> None:
    expr = 'sum by (job) (rate(x_total{a="b(c)"}[$__rate_interval])) / on (job) y:z'
    assert series_names(expr) == {"x_total", "y:z"}


def test_nothing_dangles(service: Service, board: dict) -> None:
    recorded = {r["record"] for g in recording.groups(service) for r in g["rules"]}
    declared = set()
    for m in service.metrics:
        suffixes = ("_bucket", "_count", "_sum") if m.type == "histogram" else ("",)
        declared |= {m.name + s for s in suffixes}
    raw = dashboard.build(with_raw_panels(str(SPEC)))
    read = set()
    for expr in _exprs(board) + _exprs(raw):
        names = series_names(expr)
        assert names, expr
        assert names <= recorded | declared, f"{expr} reads {names - recorded - declared}"
        read |= names
    # Samokoder's own panels read recordings only: every breakdown they show is recorded.
    assert {n for e in _exprs(board) for n in series_names(e)} <= recorded
    assert read & declared, "the raw fallback should read a declared metric"


# -- lint -------------------------------------------------------------------------------------


def test_the_generated_dashboard_is_lint_clean(board: dict) -> None:
    assert lint.lint(board) == []
    assert lint.lint(dashboard.build(with_raw_panels(str(SPEC)))) == []


def _first(board: dict) -> dict:
    return data_panels(board)[0]


BROKEN = {
    "template-datasource": lambda b: b["templating"].update(list=[]),
    "panel-datasource": lambda b: _first(b).update(datasource="Prometheus"),
    "target-datasource": lambda b: _first(b)["targets"][0].update(datasource=None),
    "panel-units": lambda b: _first(b)["fieldConfig"]["defaults"].update(unit=""),
    "panel-title-description": lambda b: _first(b).update(description=""),
    "target-rate-interval": lambda b: _first(b)["targets"][0].update(
        expr="sum(rate(samokoder_http_requests_total[5m]))"
    ),
    "counter-outside-rate": lambda b: _first(b)["targets"][0].update(
        expr="sum(samokoder_http_requests_total)"
    ),
    "uneditable-dashboard": lambda b: b.update(editable=True),
    "panel-type": lambda b: _first(b).update(type="graph"),
    "panel-id": lambda b: _first(b).update(id=data_panels(b)[1]["id"]),
    "panel-overlap": lambda b: _first(b).update(gridPos=dict(data_panels(b)[1]["gridPos"])),
    "target-legend": lambda b: _first(b)["targets"][0].update(legendFormat=""),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_lint_catches_a_broken_copy(rule: str, board: dict) -> None:
    broken = copy.deepcopy(board)
    BROKEN[rule](broken)
    problems = lint.lint(broken)
    assert any(p.startswith(rule + ":") for p in problems), problems


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(x_total[$__rate_interval]))",
        "sum(increase(x_total[$__range]))",
        'sum(job:x:rate5m{path="/a_total"})',
        "histogram_quantile(0.9, sum by (le) (rate(x_bucket[$__rate_interval])))",
    ],
)
def test_lint_accepts_good_expressions(expr: str) -> None:
    assert lint.expr_problems(expr) == []


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(x_total[1m]))",
        "sum(irate(x_total[$__interval]))",
        "sum(x_total) / sum(rate(y_total[$__rate_interval]))",
    ],
)
def test_lint_rejects_bad_expressions(expr: str) -> None:
    assert lint.expr_problems(expr) != []


# -- thresholds -------------------------------------------------------------------------------


def expected_steps(service: Service, panel) -> list[tuple[str, float | None]]:
    """Colour steps straight from the spec's threshold table and error_budget."""
    if panel.source == "budget":
        eb = service.error_budget
        return [("red", None), ("yellow", eb.low_below), ("green", eb.healthy_above)]
    row = next(
        (t for t in service.thresholds if panel.signal and t.signal.key == panel.signal.key), None
    )
    if row is None:
        return [("green", None)]
    if row.direction == "above":
        steps = [("green", None), ("yellow", row.warning)]
        return steps + ([("red", row.critical)] if row.critical is not None else [])
    if row.critical is None:
        return [("yellow", None), ("green", row.warning)]
    return [("red", None), ("yellow", row.critical), ("green", row.warning)]


def test_thresholds_equal_the_spec(service: Service, board: dict) -> None:
    assert service.dashboard is not None
    model_panels = service.dashboard.panels
    json_panels = data_panels(board)
    assert [p.title for p in model_panels] == [p["title"] for p in json_panels]
    coloured = 0
    for model, panel in zip(model_panels, json_panels, strict=True):
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        got = [(s["color"], s["value"]) for s in steps]
        assert got == expected_steps(service, model), panel["title"]
        coloured += len(got) > 1
    # 3 golden stats + 5xx + 7 saturation + 3 budgets carry levels; traffic does not.
    assert coloured == 14
    assert _first(board)["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "green", "value": None}
    ]


def test_budget_colours_follow_the_error_budget_row(service: Service, board: dict) -> None:
    budgets = [p for p in data_panels(board) if "budget" in p["title"].lower()]
    assert len(budgets) == 3
    eb = service.error_budget
    for panel in budgets:
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [s["value"] for s in steps] == [None, eb.low_below, eb.healthy_above]
        assert panel["type"] == "gauge"
        assert panel["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]


# -- spec errors ------------------------------------------------------------------------------


def _broken_spec(old: str, new: str) -> tuple[str, int]:
    text = SPEC.read_text(encoding="utf-8")
    head, dash = text.split("\ndashboard:\n", 1)
    assert old in dash
    dash = dash.replace(old, new, 1)
    full = head + "\ndashboard:\n" + dash
    line = full[: full.index(new)].count("\n") + 1
    return full, line


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("signal: http_latency_p95", "signal: http_latency_p59", "did you mean 'http_latency_p95'"),
        ("metric: llm_errors,", "metric: llm_erors,", "did you mean 'llm_errors'"),
        ("budget: error-rate", "budget: error-rat", "did you mean 'error-rate'"),
        ("metric: db_query_duration}", "metric: db_errors}", "this needs a histogram"),
        ("signal: worker_queue_saturation", "signall: worker_queue_saturation", "did you mean"),
    ],
)
def test_bad_references_are_located(old: str, new: str, message: str) -> None:
    text, line = _broken_spec(old, new)
    with pytest.raises(SpecInvalid) as caught:
        load_text("spec.yaml", text)
    errors = caught.value.errors
    assert any(e.line == line and message in e.message for e in errors), [str(e) for e in errors]
    assert all(str(e).startswith(f"spec.yaml:{e.line}:{e.column}: dashboard.") for e in errors)


def test_a_panel_shows_exactly_one_thing() -> None:
    text, _ = _broken_spec(
        "signal: http_errors\n", "signal: http_errors\n          budget: latency\n"
    )
    with pytest.raises(SpecInvalid) as caught:
        load_text("spec.yaml", text)
    assert any("exactly one of" in e.message for e in caught.value.errors)


def test_threshold_override_is_checked() -> None:
    text, _ = _broken_spec(
        "signal: worker_queue_saturation\n",
        "signal: worker_queue_saturation\n          thresholds: {warning: 80, critical: 50}\n",
    )
    with pytest.raises(SpecInvalid) as caught:
        load_text("spec.yaml", text)
    assert any("must be above warning" in e.message for e in caught.value.errors)


# -- provisioning and picture -----------------------------------------------------------------


def test_provisioning_points_grafana_at_the_dashboard(service: Service) -> None:
    out = provisioning.tree_files([service])
    base = f"{provisioning.TREE}/provisioning"
    provider = load_yaml(out[f"{base}/dashboards/{service.name}.yaml"])
    (entry,) = provider["providers"]
    assert entry["type"] == "file" and entry["allowUiUpdates"] is False
    # out/ is mounted at the dashboards root: the provider reads <service>/grafana/
    folder = entry["options"]["path"].removeprefix(provisioning.DASHBOARDS_ROOT + "/")
    assert f"{folder}/{DASHBOARD_FILE}" in files(service)
    sources = load_yaml(out[f"{base}/datasources/prometheus.yaml"])
    (ds,) = sources["datasources"]
    assert ds["type"] == compat.DATASOURCE_TYPE and ds["isDefault"] is True
    assert ds["jsonData"]["timeInterval"] == "1m"  # $__rate_interval needs the scrape interval
    for content in out.values():
        assert content.startswith(b"# Generated from ")


def test_the_svg_draws_every_panel_with_its_colours(service: Service, board: dict) -> None:
    text = files(service)[f"{service.name}/grafana/four-golden-signals.svg"].decode()
    assert "Generated from" in text.split("<svg", 1)[0]
    root = ET.fromstring(text.split("\n", 1)[1])  # parse past the XML declaration
    ns = {"s": "http://www.w3.org/2000/svg"}
    groups = root.findall("s:g", ns)
    assert [g.get("id") for g in groups] == [f"panel-{p['id']}" for p in data_panels(board)]
    words = "".join(root.itertext())
    for title, _ in SEED_ROWS:
        assert title in words
    for panel in data_panels(board):
        assert panel["title"] in words
    fills = {r.get("fill") for r in root.iter("{http://www.w3.org/2000/svg}rect")}
    assert set(preview.COLOURS.values()) <= fills
    assert preview.svg(board) == preview.svg(copy.deepcopy(board))
