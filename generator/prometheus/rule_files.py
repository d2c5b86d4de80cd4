"""The plain rule files of a service: file name -> rule groups, built once for every target.

The plain files under ``out/<service>/prometheus/`` and every deploy target (Kubernetes,
Mimir, Thanos, vmalert) wrap these same groups; none rebuilds or edits a rule.
"""

from __future__ import annotations

from ..memo import per_service
from ..spec.model import Service
from . import alerts, recording

Group = dict[str, object]
RECORDING_FILE = "recording_rules.yml"
ALERTS_FILE = "alerts.yml"


@per_service
def rule_files(service: Service) -> dict[str, list[Group]]:
    """Return ``{file name: groups}``: the recording groups (in dependency order), then the
    alerting groups. Group names start with the service name, so services never share one.
    A spec with ``environments`` gets both files per environment, ``<env>/recording_rules.yml``
    and ``<env>/alerts.yml`` (group names ``<service>.<env>-...``, every rule labelled
    ``env``), so each environment's rules load and test on their own.
    Computed once per service and shared: callers must not mutate it."""
    if service.environments:
        return {
            f"{env.environment}/{name}": groups
            for env in service.environments
            for name, groups in plain_rule_files(env).items()
        }
    return plain_rule_files(service)


@per_service
def plain_rule_files(service: Service) -> dict[str, list[Group]]:
    """Return ``{recording_rules.yml: groups, alerts.yml: groups}`` of ``service`` itself,
    whatever its environments: the rules every environment gets, without the ``env`` label
    (what the docs describe). Shared: callers must not mutate it."""
    return {RECORDING_FILE: recording.groups(service), ALERTS_FILE: alerts.groups(service)}


@per_service
def all_groups(service: Service) -> list[Group]:
    """Return every rule group of a service, recording groups first, as one list."""
    return [g for groups in rule_files(service).values() for g in groups]
