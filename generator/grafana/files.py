"""Every Grafana file of a service: the dashboard JSON and its SVG picture.

Provisioning is written once for the whole tree (:func:`provisioning.tree_files`).
"""

from __future__ import annotations

from ..output import Files, header
from ..spec.model import Service
from . import dashboard, preview

DASHBOARD_FILE = "four-golden-signals.json"


def files(service: Service) -> Files:
    """Return the Grafana files, keyed by path under ``out/``; none without a dashboard section."""
    if service.dashboard is None:
        return {}
    base, src = f"{service.name}/grafana", service.source
    board = dashboard.build(service)
    picture = preview.svg(board, header(src, " "))
    return {
        f"{base}/{DASHBOARD_FILE}": dashboard.json_bytes(
            service
        ),  # JSON has no comments: no header
        f"{base}/{DASHBOARD_FILE.removesuffix('.json')}.svg": picture.encode("utf-8"),
    }
