"""Every Grafana file of a service: the dashboard JSON and its SVG picture.

Provisioning is written once for the whole tree (:func:`provisioning.tree_files`).
"""

from __future__ import annotations

from ..memo import per_service
from ..output import Files, header, to_json
from ..spec.model import Service
from . import dashboard, preview

DASHBOARD_FILE = "four-golden-signals.json"


@per_service
def dashboard_json(service: Service) -> bytes:
    """Return the dashboard's JSON text (UTF-8, a final newline), as Grafana imports it;
    the Kubernetes ConfigMap holds the same text. The service must have a dashboard."""
    return to_json(dashboard.build(service))


def files(service: Service) -> Files:
    """Return the Grafana files, keyed by path under ``out/``; none without a dashboard section."""
    if service.dashboard is None:
        return {}
    base, src = f"{service.name}/grafana", service.source
    board = dashboard.build(service)
    picture = preview.svg(board, header(src, " "))
    return {
        f"{base}/{DASHBOARD_FILE}": dashboard_json(service),  # JSON has no comments: no header
        f"{base}/{DASHBOARD_FILE.removesuffix('.json')}.svg": picture.encode("utf-8"),
    }
