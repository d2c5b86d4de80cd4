"""A service's docs, dashboard and deploy targets (Kubernetes, Mimir, Thanos, vmalert): the
files that present or package its rules rather than test them. Pure: reads only the Model.

Their planners' imports (grafanalib's classes, Jinja2) are the most costly of a run, so this
module imports nothing at load time: ``validate`` never pays for them, and ``generate`` can
fork a helper that pays for them (:func:`planners`) while the spec is still loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .output import Files
    from .spec.model import Service


def planners():
    """Import and return the docs', the dashboard's and the deploy targets'
    ``files(service)`` planners."""
    from . import targets
    from .docs import render as docs
    from .grafana import files as grafana

    return docs.files, grafana.files, targets.files


def files(service: Service) -> Files:
    """Return one service's docs, dashboard and deploy-target files, keyed by path under
    ``out/``."""
    docs, grafana, targets = planners()
    found: Files = {
        f"{service.name}/docs/{name}": text.encode("utf-8") for name, text in docs(service).items()
    }
    found.update(grafana(service))
    found.update(targets(service))
    return found
