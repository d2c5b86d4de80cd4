"""An idle service reads "No data" on its quantile and ratio panels, never NaN, on every engine.

1. Every declared metric is fed as a live but idle series (counters and histograms that never
   move), the generated recording rules run over it, and each panel query that shows a quantile
   or a ratio of counts is evaluated: it must return nothing ("No data").
2. The recorded series those panels read are fed as NaN (what a quantile or 0/0 of a ruler
   without the recordings' guards writes): the panels must still return nothing. The same
   queries without their NaN filter return NaN on Prometheus 3.5, so the test can fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from generated_rules import write_recording_files

from generator import tools
from generator.grafana import dashboard
from generator.grafana.queries import ALL_VALUE, VARIABLES
from generator.plan import service_files
from generator.spec.loader import load_text
from generator.spec.model import Service
from tests.e2e import synthetic

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
STEPS = 60  # one hour of idle samples at the 1m interval
NAN_FILTER = re.compile(r" >= 0$")


@pytest.fixture(scope="module")
def service() -> Service:
    return load_text("slo_specs/samokoder.yaml", SPEC.read_text(encoding="utf-8"))


def idle_series(service: Service) -> list[dict]:
    """Every metric's series (with the labels its selector and breakdowns need), not moving."""
    out = []
    for metric in service.metrics:
        for feed in synthetic._default_feeds(metric):
            labels = {**dict(feed.labels), "instance": "idle:9100"}
            text = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            start = "0" if feed.counter else "1"
            out.append({"series": f"{feed.name}{{{text}}}", "values": f"{start}+0x{STEPS}"})
    for job in service.jobs:
        out.append({"series": f'up{{instance="idle:9100", job="{job}"}}', "values": f"1+0x{STEPS}"})
    return out


def nan_prone(service: Service) -> list[tuple[str, str]]:
    """``(panel title, expression)`` of every target showing a quantile or a ratio of counts:
    what is NaN when nothing was observed (a ratio of gauges has a value even when idle)."""
    assert service.dashboard is not None
    board = dashboard.build(service)
    data = [p for p in board["panels"] if p["type"] != "row"]
    out = []
    for model, panel in zip(service.dashboard.panels, data, strict=True):
        sig = model.signal
        quantile = model.source == "quantiles" or (sig is not None and sig.kind == "quantile")
        counted = sig is not None and sig.kind == "ratio" and sig.counter_based
        if quantile or counted:
            out += [(panel["title"], t["expr"]) for t in panel["targets"]]
    return out


def at_all(expr: str) -> str:
    """``expr`` with every dashboard variable at All, as Grafana sends it by default."""
    for variable in VARIABLES:
        expr = expr.replace(f"${variable}", ALL_VALUE)
    return expr


RECORDED = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{service="[^"]*"')


def nan_recordings(service: Service, exprs: list[str]) -> list[dict]:
    """The recorded series ``exprs`` read, NaN throughout, with the labels their level names."""
    out = []
    for name in sorted({n for e in exprs for n in RECORDED.findall(e)}):
        labels = {label: "x" for label in name.split(":", 1)[0].split("_")}
        labels["service"] = service.name
        text = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        out.append({"series": f"{name}{{{text}}}", "values": f"NaN+0x{STEPS}"})
    return out


def suite(
    service: Service,
    work: Path,
    engine: tools.Engine,
    exprs: list[str],
    series: list[dict] | None = None,
) -> Path:
    """A unit-test file: ``series`` (default: every metric idle, under the generated recording
    rules), each of ``exprs`` expected to return nothing near the end."""
    rules = write_recording_files(service_files(service), service.name, work)
    key = "metricsql_expr_test" if engine.family == "victoriametrics" else "promql_expr_test"
    checks = [
        {
            "expr": at_all(e).replace("$__interval", "1m"),
            "eval_time": f"{STEPS - 5}m",
            "exp_samples": [],
        }
        for e in exprs
    ]
    given = idle_series(service) if series is None else series
    test = {"interval": "1m", "input_series": given, key: checks}
    path = work / f"idle_{engine.name}_test.yml"
    # The rules read only raw metrics: over NaN recordings they write nothing.
    doc = {"rule_files": rules, "evaluation_interval": "1m", "tests": [test]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("engine", [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES])
def test_idle_quantiles_and_ratios_read_no_data(
    engine: tools.Engine, service: Service, tmp_path: Path
) -> None:
    targets = nan_prone(service)
    titles = {title for title, _ in targets}
    assert {"Latency P95", "Errors (5xx)", "HTTP latency P50 / P95 / P99"} <= titles
    path = suite(service, tmp_path, engine, [e for _, e in targets])
    proc = tools.run_unit_tests(engine, [path], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("engine", [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES])
def test_nan_recordings_read_no_data(
    engine: tools.Engine, service: Service, tmp_path: Path
) -> None:
    exprs = [e for _, e in nan_prone(service)]
    series = nan_recordings(service, exprs)
    assert len(series) >= 5, series
    proc = tools.run_unit_tests(engine, [suite(service, tmp_path, engine, exprs, series)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_without_the_filter_the_panels_would_show_nan(service: Service, tmp_path: Path) -> None:
    exprs = [e for _, e in nan_prone(service)]
    bare = [NAN_FILTER.sub("", e) for e in exprs]
    assert all(b != e for b, e in zip(bare, exprs, strict=True))
    engine = tools.PROMETHEUS_3_5
    path = suite(service, tmp_path, engine, bare, nan_recordings(service, exprs))
    proc = tools.run_unit_tests(engine, [path])
    assert proc.returncode != 0 and "NaN" in proc.stdout + proc.stderr
