"""Every Grafana file of a service: the dashboard JSON, its SVG picture and provisioning."""

from __future__ import annotations

from ..output import Files, header, to_json, to_yaml
from ..spec.model import Service
from . import dashboard, preview, provisioning

DASHBOARD_FILE = "four-golden-signals.json"


def files(service: Service) -> Files:
    """Return the Grafana files, keyed by path under ``out/``; none without a dashboard section."""
    if service.dashboard is None:
        return {}
    base, src = f"{service.name}/grafana", service.source
    board = dashboard.build(service)
    picture = preview.svg(board, header(src, " "))
    return {
        f"{base}/{DASHBOARD_FILE}": to_json(board),  # JSON has no comments: no header
        f"{base}/{DASHBOARD_FILE.removesuffix('.json')}.svg": picture.encode("utf-8"),
        f"{base}/provisioning/dashboards/{service.name}.yaml": to_yaml(
            provisioning.dashboards(service), src
        ),
        f"{base}/provisioning/datasources/{service.name}.yaml": to_yaml(
            provisioning.datasources(service), src
        ),
    }
