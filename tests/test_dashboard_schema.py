"""Every generated dashboard is what current Grafana writes, checked by Grafana's own model.

The model is grafana-foundation-sdk's (Grafana Labs' generated code for Grafana's dashboard
schema, tests/grafana_schema.py). Besides the committed out/ tree, a dashboard holding every
panel type with every source and unit is checked, so a panel kind the seed spec does not use
cannot slip past.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from grafana_foundation_sdk.models import dashboard as sdk
from grafana_schema import GRAFANA_VERSION, problems
from yaml_io import load_yaml

from generator.grafana import compat, dashboard
from generator.spec.loader import load_text

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
UNITS = ("percent", "seconds", "connections", "requests_per_second", "per_second", "short", "bytes")
SOURCES = (
    {"signal": "http_errors"},
    {"signal": "node_cpu_utilisation"},
    {"rate": {"metric": "http_requests", "by": ["status"]}},
    {"rate": {"metric": "http_requests", "by": ["endpoint"]}},  # not recorded: raw fallback
    {"quantiles": {"metric": "http_request_duration"}},
    {"quantiles": {"metric": "http_request_duration", "by": ["endpoint"]}},
    {"budget": "availability"},
)
# What the issue found grafanalib writing that current Grafana does not, per kind of object.
GONE = {
    "dashboard": ("style", "hideControls", "sharedCrosshair", "gnetId", "__inputs", "rows"),
    "panel": ("span", "height", "minSpan", "error", "cacheTimeout", "maxDataPoints"),
    "target": ("query", "target", "metric", "step", "intervalFactor"),
    "row": ("fieldConfig", "targets", "maxDataPoints"),
}


def every_kind_of_panel() -> dict:
    """The seed spec plus one row per panel type: every source in every unit."""
    data = load_yaml(SPEC.read_text(encoding="utf-8"))
    for kind in ("timeseries", "stat", "gauge"):
        panels = [
            {"title": f"{kind} {i} {unit}", "type": kind, "unit": unit, **source}
            for i, source in enumerate(SOURCES)
            for unit in UNITS
        ]
        data["dashboard"]["rows"].append({"title": kind, "panels": panels})
    service = load_text("every-kind.yaml", yaml.safe_dump(data, sort_keys=False))
    return dashboard.build(service)


def committed() -> list[Path]:
    return sorted(ROOT.glob("out/*/grafana/*.json"))


@pytest.fixture(scope="module")
def boards() -> dict[str, dict]:
    out = {str(p.relative_to(ROOT)): json.loads(p.read_text(encoding="utf-8")) for p in committed()}
    assert out, "no dashboard under out/: run `make generate`"
    out["every kind of panel"] = every_kind_of_panel()
    return out


def test_every_dashboard_fits_grafanas_own_schema(boards: dict[str, dict]) -> None:
    for name, board in boards.items():
        assert problems(board) == [], f"{name} does not fit Grafana {GRAFANA_VERSION}'s schema"


def test_the_schema_version_is_the_one_the_model_describes(boards: dict[str, dict]) -> None:
    assert GRAFANA_VERSION.startswith(compat.GRAFANA_VERSION)
    for board in boards.values():
        assert board["schemaVersion"] == sdk.Dashboard().schema_version >= 41


def _objects(board: dict):
    """Yield ``(kind, object)`` for the dashboard, each panel, row and target."""
    yield "dashboard", board
    for panel in board["panels"]:
        yield ("row" if panel["type"] == "row" else "panel"), panel
        for target in panel.get("targets", []):
            yield "target", target


def test_no_field_that_current_grafana_no_longer_writes(boards: dict[str, dict]) -> None:
    for name, board in boards.items():
        for kind, obj in _objects(board):
            assert not set(GONE.get(kind, ())) & set(obj), f"{name}: {kind} {obj.get('title')}"
        text = json.dumps(board)
        assert '"noValue": "none"' not in text  # an empty stat would read "none"
        assert "time_options" not in text and '"stacking": {}' not in text
        for panel in board["panels"]:
            custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
            scale = custom.get("scaleDistribution", {"type": "linear"})
            assert scale["type"] == "log" or "log" not in scale, panel["title"]


def _sorted_without_nulls(value: object, key: str = "") -> bool:
    if isinstance(value, dict):
        keys = list(value)
        nulls = [k for k, v in value.items() if v is None and not (key == "steps" and k == "value")]
        return (
            keys == sorted(keys)
            and not nulls
            and all(_sorted_without_nulls(v, k) for k, v in value.items())
        )
    if isinstance(value, list):
        return all(_sorted_without_nulls(v, key) for v in value)
    return True


def test_keys_in_grafanas_order(boards: dict[str, dict]) -> None:
    # Grafana's save model (sortedDeepCloneWithoutNulls) sorts keys and leaves nulls out.
    for name, board in boards.items():
        assert _sorted_without_nulls(board), name


def _first_of(board: dict, kind: str) -> dict:
    return next(p for p in board["panels"] if p["type"] == kind)


# Each breaks one field the way a wrong correction would; the schema check must name it.
BROKEN = {
    "unknown dashboard field": lambda b: b.update(style="dark"),
    "unknown panel field": lambda b: _first_of(b, "stat").update(span=6),
    "unknown row field": lambda b: _first_of(b, "row").update(targets=[]),
    "unknown target field": lambda b: _first_of(b, "stat")["targets"][0].update(step=10),
    "unknown timeseries option": lambda b: _first_of(b, "timeseries")["options"].update(bars=1),
    "unknown custom field": lambda b: _first_of(b, "timeseries")["fieldConfig"]["defaults"][
        "custom"
    ].update(stack=True),
    "null field": lambda b: _first_of(b, "stat").update(interval=None),
    "string for a number": lambda b: _first_of(b, "stat")["gridPos"].update(h="5"),
    "number for a string": lambda b: _first_of(b, "stat").update(title=5),
    "string for a boolean": lambda b: b.update(editable="false"),
    "value outside an enum": lambda b: _first_of(b, "stat")["options"].update(colorMode="loud"),
    "threshold value as a string": lambda b: _first_of(b, "gauge")["fieldConfig"]["defaults"][
        "thresholds"
    ]["steps"][1].update(value="25"),
    "object for a list": lambda b: b["templating"].update(list={}),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_schema_check_catches_a_broken_copy(case: str, boards: dict[str, dict]) -> None:
    broken = copy.deepcopy(boards["every kind of panel"])
    BROKEN[case](broken)
    assert problems(broken), case
