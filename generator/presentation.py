"""A service's dashboard and deploy targets (Kubernetes, Mimir, Thanos, vmalert): the files
that present or package its rules rather than test them. Pure: reads only the Model.

Their planners' imports (grafanalib's classes above all) are the most costly of a run, so
this module imports nothing at load time: ``validate`` never pays for them, and ``generate``
can fork a helper that pays for them (:func:`planners`) while the spec is still loading.
The docs (Jinja2) are planned beside the rules instead (``plan.docs_files``): the helper's
imports are a lone spec's longest path, and the first process waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .output import Files
    from .spec.model import Service


def planners():
    """Import and return the dashboard's and the deploy targets' ``files(service)``
    planners."""
    from . import targets
    from .grafana import files as grafana

    return grafana.files, targets.files


def files(service: Service) -> Files:
    """Return one service's dashboard and deploy-target files, keyed by path under
    ``out/``."""
    grafana, targets = planners()
    found: Files = grafana(service)
    found.update(targets(service))
    return found
