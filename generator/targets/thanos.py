"""The Thanos ruler target: the plain rule files, with ``partial_response_strategy`` on
every group when the spec sets it.

The Thanos ruler reads the Prometheus rule format plus that one group field; promtool does
not know the field, so checks strip it (as ``thanos tools rules-check`` accepts it).
"""

from __future__ import annotations

from ..output import Files, to_yaml
from ..prometheus.rule_files import Group, rule_files
from ..spec.model import Service

FOLDER = "thanos"
STRATEGY = "partial_response_strategy"


def groups(service: Service) -> dict[str, list[Group]]:
    """Return ``{file name: groups}``: the plain groups, each with the strategy after its
    name when the spec sets one (the Thanos ruler's default is abort)."""
    assert service.deploy.thanos is not None
    strategy = service.deploy.thanos.partial_response_strategy
    if not strategy:
        return rule_files(service)
    out: dict[str, list[Group]] = {}
    for name, file_groups in rule_files(service).items():
        out[name] = [{"name": g["name"], STRATEGY: strategy, **g} for g in file_groups]
    return out


def files(service: Service) -> Files:
    """Return ``{"<service>/thanos/<file>": bytes}``, or nothing when the target is off."""
    if service.deploy.thanos is None:
        return {}
    return {
        f"{service.name}/{FOLDER}/{name}": to_yaml({"groups": file_groups}, service.source)
        for name, file_groups in groups(service).items()
    }
