"""The one place that turns grafanalib 0.7.1's dated JSON into what Grafana 10 to 12 expects.

grafanalib 0.7.1 still writes Grafana 5/6-era fields. Each fix below names the field, what
grafanalib writes, and what current Grafana wants. Nothing else in the generator patches JSON.

1. ``schemaVersion``: 12 -> 38 (Grafana 10.0's). Grafana migrates a dashboard forward from its
   schemaVersion on load; from 12 it would run every migration since Grafana 5, and those
   rewrite panels. 10.0 reads 38 as its own; 10.x to 12 migrate it forward cleanly.
2. Threshold steps: the base step's ``"value": "null"`` (a string) -> ``null``: the base has
   no lower bound, and the string makes Grafana read a threshold at NaN. The old Graph panel's
   ``op``/``yaxis``/``line``/``index`` are dropped; a step is a colour and a value.
3. Datasources: grafanalib writes a bare string. Since schema 33 a datasource is a reference
   ``{"type": ..., "uid": ...}``; panels and targets point at the ``datasource`` variable.
4. ``editable``: True -> False, on the dashboard and every panel: the dashboard is generated,
   and edits made in the UI would be lost at the next provisioning.
5. ``rows`` (the pre-Grafana-5 layout, always empty here) is dropped: panels carry the layout.
6. Gauge: grafanalib puts the reduce calculation and threshold markers under
   ``fieldConfig.defaults`` (Grafana 6); Grafana 7+ reads them from ``options``.
"""

from __future__ import annotations

SCHEMA_VERSION = 38
DATASOURCE_TYPE = "prometheus"
DATASOURCE_NAME = "datasource"
DATASOURCE_VARIABLE = "${" + DATASOURCE_NAME + "}"
DATASOURCE_REF = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_VARIABLE}
_GAUGE_LEGACY = ("calcs", "limit", "values", "override", "title", "links")


def _datasource(value: object) -> object:
    return dict(DATASOURCE_REF) if isinstance(value, str) else value


def _panel(panel: dict) -> dict:
    panel["editable"] = False
    panel["datasource"] = _datasource(panel.get("datasource"))
    for target in panel.get("targets", []):
        target["datasource"] = _datasource(target.get("datasource"))
    field_config = panel.get("fieldConfig", {})
    thresholds = field_config.get("defaults", {}).get("thresholds", {})
    if "steps" in thresholds:
        thresholds["steps"] = [
            {"color": s["color"], "value": None if s["value"] == "null" else s["value"]}
            for s in thresholds["steps"]
        ]
    if panel.get("type") == "gauge":
        defaults = field_config["defaults"]
        calcs = defaults.get("calcs", ["lastNotNull"])
        for key in _GAUGE_LEGACY:
            defaults.pop(key, None)
        panel["options"] = {
            "reduceOptions": {"calcs": calcs, "fields": "", "values": False},
            "showThresholdLabels": field_config.pop("showThresholdLabels", False),
            "showThresholdMarkers": field_config.pop("showThresholdMarkers", True),
        }
    for child in panel.get("panels", []):
        _panel(child)
    return panel


def modernise(data: dict) -> dict:
    """Return grafanalib's dashboard JSON with the fixes above applied (in place)."""
    data["schemaVersion"] = SCHEMA_VERSION
    data["editable"] = False
    data.pop("rows", None)
    for panel in data.get("panels", []):
        _panel(panel)
    return data
