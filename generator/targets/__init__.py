"""Deploy targets beyond the plain rule files: one planner module per target.

Each reads the Model (its ``deploy`` settings and the rule groups of
:mod:`generator.prometheus.rule_files`) and returns ``{path under out/: bytes}``; a target
the spec does not turn on returns nothing.
"""

from __future__ import annotations

from ..output import Files
from ..spec.model import Service
from . import kubernetes, mimir, thanos, vmalert


def files(service: Service) -> Files:
    """Return the files of every target the spec's ``deploy`` section turns on."""
    out: Files = {}
    for target in (kubernetes, mimir, thanos, vmalert):
        out.update(target.files(service))
    return out
