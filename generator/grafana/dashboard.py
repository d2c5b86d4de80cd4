"""The Grafana dashboard of a service, built with grafanalib from the spec's dashboard section.

grafanalib 0.7.1 writes some fields the way Grafana 5 wanted them; compat.py corrects those in
one place, so this module builds panels the way grafanalib expects and nothing else.
"""

from __future__ import annotations

import json
import math
import re

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from .. import signals as names
from ..memo import per_service
from ..output import header, to_json
from ..prometheus import alerts
from ..promql import format_duration, quote
from ..spec.dashboard import Levels, Panel
from ..spec.model import BUDGET_CRITICAL_ALERT, BUDGET_LOW_ALERT, Service
from . import compat, links
from .queries import ALL_VALUE, CLUSTER_VARIABLE, queries
from .thresholds import threshold_steps

GRID_WIDTH = 24
MAX_PER_LINE = 4  # wider rows wrap, so a panel never gets narrower than 6 columns
HEIGHT = {"stat": 5, "gauge": 6, "timeseries": 8}
# Spec units -> Grafana unit ids (Grafana's "Standard options > Unit").
UNITS = {
    "percent": "percent",
    "seconds": "s",
    "connections": "short",
    "requests_per_second": "reqps",
    "per_second": "cps",
    "short": "short",
    "bytes": "bytes",
}


def _thresholds(levels: Levels | None) -> list[g.Threshold]:
    # grafanalib's Threshold insists on a float even for the base step (index 0, no value).
    return [
        g.Threshold(colour, i, 0.0 if value is None else float(value))
        for i, (colour, value) in enumerate(threshold_steps(levels))
    ]


def layout(service: Service) -> list[tuple[str, int, list[tuple[Panel, g.GridPos]]]]:
    """Return each row's title, its y, and its panels at their grid positions, top to bottom.

    A row's panels share the 24 columns evenly, at most four to a line; more wrap onto
    further lines that again share the width evenly (7 panels: 4 of width 6, 3 of width 8).
    """
    assert service.dashboard is not None
    out = []
    y = 0
    for row in service.dashboard.rows:
        row_y, y = y, y + 1
        lines = math.ceil(len(row.panels) / MAX_PER_LINE)
        per_line = math.ceil(len(row.panels) / lines)
        placed = []
        for start in range(0, len(row.panels), per_line):
            line = row.panels[start : start + per_line]
            width = GRID_WIDTH // len(line)
            height = max(HEIGHT[p.type] for p in line)
            for i, panel in enumerate(line):
                placed.append((panel, g.GridPos(h=height, w=width, x=i * width, y=y)))
            y += height
        out.append((row.title, row_y, placed))
    return out


def _panel(service: Service, panel: Panel, pos: g.GridPos, panel_id: int) -> g.Panel:
    found = queries(service, panel)
    notes = sorted({q.note for q in found if q.note})
    targets = [
        g.Target(
            expr=q.expr,
            legendFormat=q.legend,
            refId=chr(ord("A") + i),
            intervalFactor=1,
            datasource=compat.DATASOURCE_VARIABLE,
        )
        for i, q in enumerate(found)
    ]
    common = {
        "id": panel_id,
        "title": panel.title,
        "description": " ".join((panel.description, *notes)),
        # Grafana's $__interval is never shorter than this: the scrape (and rule) interval.
        "interval": format_duration(service.scrape_interval),
        "dataSource": compat.DATASOURCE_VARIABLE,
        "targets": targets,
        "gridPos": pos,
        "thresholds": _thresholds(panel.levels),
        "links": [
            {"title": f"Runbook: {alert}", "url": url, "targetBlank": True}
            for alert, url in runbook_links(service, panel)
        ],
    }
    unit = UNITS[panel.unit]
    if panel.type == "stat":
        return g.Stat(
            **common,
            format=unit,
            reduceCalc="lastNotNull",
            graphMode="area",
            # Without levels there is no good or bad colour to paint.
            colorMode="background" if panel.levels else "none",
        )
    if panel.type == "gauge":
        bounded = panel.unit == "percent"
        return g.GaugePanel(
            **common,
            format=unit,
            calc="lastNotNull",
            min=0 if bounded else None,
            max=100 if bounded else None,
        )
    return g.TimeSeries(
        **common,
        unit=unit,
        thresholdsStyleMode="line" if panel.levels else "off",
        legendDisplayMode="list",
        tooltipMode="multi",
    )


def runbook_links(service: Service, panel: Panel) -> list[tuple[str, str]]:
    """Return ``(alert, runbook URL)`` of every alert on what ``panel`` shows: the threshold
    alerts of its signal, the burn-rate and budget alerts of its SLO."""
    if panel.slo is None:
        rows = [r for r in service.thresholds if links.shows_signal(service, panel, r.signal.key)]
        found = {r.alert: alerts.runbook_url(service, r.alert, r.runbook_url) for r in rows}
        return [(a, url) for a, url in found.items() if url]
    slo = panel.slo
    burn = [(slo.burn_alert, slo.name)] if service.slo_burn_rates(slo) else []
    out = [
        (a, alerts.runbook_url(service, a, slo.runbook_url, section))
        for a, section in (*burn, (BUDGET_LOW_ALERT, ""), (BUDGET_CRITICAL_ALERT, ""))
    ]
    return [(a, url) for a, url in out if url]


def job_query(service: Service) -> str:
    """Return the job variable's query: the jobs the service's metrics select, as ``up`` knows
    them (every scraped job), or every job when no metric names one."""
    alternatives = []
    for metric in service.metrics:
        for m in metric.matchers:
            if m.name == "job" and m.op == "=":
                alternatives.append(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", m.text))
            elif m.name == "job" and m.op == "=~":
                alternatives.append(f"(?:{m.text})")
    if not alternatives:
        return "label_values(up, job)"
    regex = "|".join(sorted(set(alternatives)))
    return f'label_values(up{{job=~"{quote(regex)}"}}, job)'


def _variable(name: str, label: str, query: str) -> g.Template:
    """A query variable over the datasource, All by default (``.*``), several values allowed,
    its values refreshed with the time range."""
    return g.Template(
        name=name,
        label=label,
        query=query,
        dataSource=compat.DATASOURCE_VARIABLE,
        type="query",
        includeAll=True,
        multi=True,
        allValue=ALL_VALUE,
        default="$__all",
        refresh=2,
        sort=1,
    )


def _environment_variable(service: Service) -> list[g.Template]:
    """Return the ``env`` variable (the environments' names, as the recordings carry them),
    or none without environments."""
    if not service.environments:
        return []
    env = names.ENV_LABEL
    query = f'label_values({names.SLO_OBJECTIVE}{{service="{service.name}"}}, {env})'
    return [_variable(env, "Environment", query)]


def _cluster_variable(service: Service) -> list[g.Template]:
    """Return the ``cluster`` variable (the values of ``cluster_label`` among the service's
    jobs' ``up``), or none without a cluster label."""
    if not service.cluster_label:
        return []
    query = job_query(service).removesuffix(", job)") + f", {service.cluster_label})"
    return [_variable(CLUSTER_VARIABLE, "Cluster", query)]


def _group_variables(service: Service) -> list[g.Template]:
    """Return one variable per ``group_by`` label of the SLOs (its values among their
    budget series), in first-seen order."""
    out: dict[str, list[str]] = {}
    for slo in service.slos:
        for label in slo.group_by:
            out.setdefault(label, []).append(slo.name)
    budget = names.budget_remaining_percent(service)
    return [
        _variable(
            label,
            label.replace("_", " ").capitalize(),
            f'label_values({budget}{{service="{service.name}", slo=~"{"|".join(slos)}"}}, {label})',
        )
        for label, slos in out.items()
    ]


def docs_links(service: Service) -> list[dict]:
    """Return the dashboard's link to the alerts docs; none without ``runbook_base_url``
    (a path in the repository is no link Grafana can open)."""
    if not alerts.runbooks(service):
        return []
    return [
        {
            "asDropdown": False,
            "icon": "doc",
            "includeVars": False,
            "keepTime": False,
            "tags": [],
            "targetBlank": True,
            "title": "Alerts and runbooks",
            "tooltip": "Every alert of this service, what it means and what to do",
            "type": "link",
            "url": alerts.runbooks(service),
        }
    ]


@per_service
def build(service: Service) -> dict:
    """Return the dashboard as current Grafana (10 to 12) reads it: plain JSON data.
    Built once per service and shared (the JSON file, its picture, the Kubernetes
    ConfigMap): callers must not mutate it."""
    dash = service.dashboard
    assert dash is not None
    panels: list[g.Panel] = []
    for (title, row_y, placed), (_, row_id, ids) in zip(
        layout(service), links.numbered(service), strict=True
    ):
        pos = g.GridPos(h=1, w=GRID_WIDTH, x=0, y=row_y)
        panels.append(g.RowPanel(id=row_id, title=title, gridPos=pos))
        for (panel, pos), (_, panel_id) in zip(placed, ids, strict=True):
            panels.append(_panel(service, panel, pos, panel_id))
    datasource = g.Template(
        name=compat.DATASOURCE_NAME,
        label="Data source",
        query=compat.DATASOURCE_TYPE,
        type="datasource",
    )
    chained = [
        *_environment_variable(service),
        *_cluster_variable(service),
        _variable("job", "Job", job_query(service)),
    ]
    if any("$instance" in t.expr for p in panels for t in getattr(p, "targets", [])):
        chained.append(_variable("instance", "Instance", 'label_values(up{job=~"$job"}, instance)'))
    chained += _group_variables(service)
    board = g.Dashboard(
        title=dash.title,
        uid=dash.uid,
        description=" ".join(header(service.source, "").split()),
        tags=[service.name, "golden-signals", "generated"],
        panels=panels,
        templating=g.Templating(list=[datasource, *chained]),
        time=g.Time("now-6h", "now"),
        refresh="1m",
        timezone="browser",
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        links=docs_links(service),
    )
    data = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return compat.modernise(data)


@per_service
def json_bytes(service: Service) -> bytes:
    """Return :func:`build`'s dashboard as JSON text (UTF-8, a final newline), as Grafana
    imports it: the Grafana file and the Kubernetes ConfigMap hold the same text, made
    once. The service must have a dashboard."""
    return to_json(build(service))
