"""The one place that turns grafanalib 0.7.1's dated JSON into what current Grafana writes.

Target: Grafana 11.6 and 12.x, dashboard ``schemaVersion`` 41. 41 is the version Grafana 11.6
and 12.0 write on save, and the newest whose dashboard model Grafana Labs publishes in
grafana-foundation-sdk on PyPI, which the tests validate every dashboard against. Grafana
migrates a dashboard forward from its schemaVersion on load, so a file at 41 is shown and
exported by those versions as it is committed.

grafanalib still writes Grafana 5/6-era JSON. The corrections are data, applied by
:func:`modernise` in this order:

1. :data:`DROPPED`: fields, per kind of object, that grafanalib writes and Grafana no longer
   does (the pre-Grafana-5 ``span``/``height`` layout, Graphite's ``target``, and so on).
   ``maxDataPoints`` is one: grafanalib's fixed 100 points made Grafana query a 24-hour range at
   a 15-minute step; without it Grafana takes one point per pixel of the panel's width.
2. :data:`ROW_FIELDS`: a row is a header; Grafana writes these fields of it and no others.
3. :data:`DEFAULTS`: a field equal to Grafana's default is left out, as Grafana's own save model
   leaves it out (``transparent: false``, ``links: []``, ...). On timeseries field config,
   grafanalib's ``stacking: {}`` and ``noValue: "none"`` are such empty defaults: without them
   a series is not stacked and an empty stat reads "No data", never "none".
4. :data:`REWRITTEN`: values Grafana reads differently now: the base threshold step's ``"null"``
   string (Grafana reads NaN) -> null; a datasource string -> a reference to the
   ``datasource`` variable (schema 33+); the gauge's Grafana-6 reduce options -> ``options``;
   a log base on a linear axis is dropped.
5. Like Grafana's save model, null fields are left out and keys are sorted at every level; the
   only null kept is the base threshold step's ``value`` (Grafana holds -Infinity, written
   as null).
"""

from __future__ import annotations

from collections.abc import Callable

SCHEMA_VERSION = 41
GRAFANA_VERSION = "11.6"
DATASOURCE_TYPE = "prometheus"
DATASOURCE_NAME = "datasource"
DATASOURCE_VARIABLE = "${" + DATASOURCE_NAME + "}"
DATASOURCE_REF = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_VARIABLE}

DROPPED: dict[str, tuple[str, ...]] = {
    "dashboard": ("__inputs", "gnetId", "hideControls", "id", "rows", "sharedCrosshair", "style"),
    "timepicker": ("time_options",),
    "panel": ("cacheTimeout", "editable", "error", "height", "maxDataPoints", "minSpan", "span"),
    "target": ("intervalFactor", "metric", "query", "step", "target"),
    "variable": ("auto", "auto_count", "auto_min", "tagValuesQuery", "tagsQuery", "useTags"),
    "current": ("tags",),
    "gauge_defaults": ("calcs", "limit", "values", "override", "title", "links"),
}
ROW_FIELDS = ("collapsed", "gridPos", "id", "panels", "title", "type")
DEFAULTS: dict[str, dict[str, object]] = {
    "panel": {
        "hideTimeOverride": False,
        "links": [],
        "options": {},
        "transformations": [],
        "transparent": False,
    },
    "target": {"format": "time_series", "hide": False, "instant": False, "interval": ""},
    "current": {"selected": False},
    "field_defaults": {"custom": {}, "mappings": [], "noValue": "none"},
    "custom": {"stacking": {}},
}
# Grafana's Prometheus query editor writes these on every query typed as code.
TARGET_FIELDS = {"editorMode": "code", "range": True}


def _datasource(value: object) -> object:
    return dict(DATASOURCE_REF) if isinstance(value, str) else value


def _threshold_steps(defaults: dict) -> None:
    thresholds = defaults.get("thresholds", {})
    if "steps" in thresholds:
        thresholds["steps"] = [
            {"color": s["color"], "value": None if s["value"] == "null" else s["value"]}
            for s in thresholds["steps"]
        ]


def _linear_axis(defaults: dict) -> None:
    scale = defaults.get("custom", {}).get("scaleDistribution")
    if scale is not None and scale.get("type") != "log":
        scale.pop("log", None)


def _gauge(panel: dict) -> None:
    if panel.get("type") != "gauge":
        return
    field_config = panel["fieldConfig"]
    calcs = field_config["defaults"].get("calcs", ["lastNotNull"])
    panel["options"] = {
        "reduceOptions": {"calcs": calcs, "fields": "", "values": False},
        "showThresholdLabels": field_config.pop("showThresholdLabels", False),
        "showThresholdMarkers": field_config.pop("showThresholdMarkers", True),
    }


REWRITTEN: tuple[Callable[[dict], None], ...] = (_gauge,)
FIELD_REWRITTEN: tuple[Callable[[dict], None], ...] = (_threshold_steps, _linear_axis)


def _drop(obj: dict, kind: str) -> None:
    for key in DROPPED.get(kind, ()):
        obj.pop(key, None)
    for key, default in DEFAULTS.get(kind, {}).items():
        if key in obj and obj[key] == default:
            del obj[key]


def _panel(panel: dict) -> dict:
    if panel.get("type") == "row":
        for key in [k for k in panel if k not in ROW_FIELDS]:
            del panel[key]
        panel["panels"] = [_panel(child) for child in panel.get("panels", [])]
        return panel
    for rewrite in REWRITTEN:
        rewrite(panel)
    panel["datasource"] = _datasource(panel.get("datasource"))
    for target in panel.get("targets", []):
        target["datasource"] = _datasource(target.get("datasource"))
        target.update(TARGET_FIELDS)
        _drop(target, "target")
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    for rewrite in FIELD_REWRITTEN:
        rewrite(defaults)
    if panel.get("type") == "gauge":
        _drop(defaults, "gauge_defaults")
    _drop(defaults.get("custom", {}), "custom")
    _drop(defaults, "field_defaults")
    _drop(panel, "panel")
    return panel


def _saved(value: object, parent_key: str = "") -> object:
    """Grafana's save model: keys sorted, null fields left out (but a base threshold's)."""
    if isinstance(value, dict):
        keep_null = parent_key == "steps"
        return {
            k: _saved(v, k)
            for k, v in sorted(value.items())
            if v is not None or (keep_null and k == "value")
        }
    if isinstance(value, list):
        return [_saved(v, parent_key) for v in value]
    return value


def modernise(data: dict) -> dict:
    """Return grafanalib's dashboard JSON as current Grafana writes it (a new dict)."""
    data["schemaVersion"] = SCHEMA_VERSION
    data["editable"] = False
    _drop(data, "dashboard")
    _drop(data.get("timepicker", {}), "timepicker")
    for variable in data.get("templating", {}).get("list", []):
        if "datasource" in variable:
            variable["datasource"] = _datasource(variable["datasource"])
        _drop(variable, "variable")
        _drop(variable.get("current", {}), "current")
    data["panels"] = [_panel(panel) for panel in data.get("panels", [])]
    result = _saved(data)
    assert isinstance(result, dict)
    return result
