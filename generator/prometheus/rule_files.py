"""The plain rule files of a service: file name -> rule groups, built once for every target.

The plain files under ``out/<service>/prometheus/`` and every deploy target (Kubernetes,
Mimir, Thanos, vmalert) wrap these same groups; none rebuilds or edits a rule.

Rules are split by concern as well as by kind: the golden-signal recordings and alerts
(``recording_rules.yml``, ``alerts.yml``) and the SLO ones (``slo_recording_rules.yml``,
``slo_alerts.yml``). No SLO rule the generator writes reads a signal rule (a raw SLI's own
query may, and the SLO suites do not drive such an SLI), so a generated suite about SLOs
loads the SLO files alone: promtool evaluates every loaded rule at every step, and the SLO
suites replay days. The threshold and MetricAbsent suites load ``alerts.yml`` and the
recordings its checked alerts read: the golden-signal ones, and the SLO ones for a threshold
on an availability signal.
"""

from __future__ import annotations

from ..memo import per_service
from ..spec.model import Service
from . import alerts, recording

Group = dict[str, object]
RECORDING_FILE = "recording_rules.yml"
SLO_RECORDING_FILE = "slo_recording_rules.yml"
ALERTS_FILE = "alerts.yml"
SLO_ALERTS_FILE = "slo_alerts.yml"
# In evaluation order: recordings before the alerts that read them.
FILES = (RECORDING_FILE, SLO_RECORDING_FILE, ALERTS_FILE, SLO_ALERTS_FILE)
RECORDING_FILES = (RECORDING_FILE, SLO_RECORDING_FILE)
ALERT_FILES = (ALERTS_FILE, SLO_ALERTS_FILE)
SLO_FILES = (SLO_RECORDING_FILE, SLO_ALERTS_FILE)


@per_service
def rule_files(service: Service) -> dict[str, list[Group]]:
    """Return ``{file name: groups}`` in :data:`FILES` order: recordings (in dependency
    order), then alerts. Group names start with the service name, so services never share
    one. A spec with ``environments`` gets the files per environment,
    ``<env>/recording_rules.yml`` and so on (group names ``<service>.<env>-...``, every rule
    labelled ``env``), so each environment's rules load and test on their own.
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
    """Return ``{file name: groups}`` of ``service`` itself, whatever its environments: the
    rules every environment gets, without the ``env`` label (what the docs describe). Every
    file is there, ``recording_rules.yml`` and ``alerts.yml`` possibly without groups (a spec
    has at least one SLO, which always has budget alerts). Shared: callers must not mutate it."""
    signal_recordings, slo_recordings = recording.groups_by_concern(service)
    signal_alerts, slo_alerts = alerts.groups_by_concern(service)
    return {
        RECORDING_FILE: signal_recordings,
        SLO_RECORDING_FILE: slo_recordings,
        ALERTS_FILE: signal_alerts,
        SLO_ALERTS_FILE: slo_alerts,
    }


def loaded_files(service: Service, names: tuple[str, ...] = FILES) -> list[str]:
    """Return the plain files among ``names`` that ``service`` has, in :data:`FILES` order
    (the order to evaluate them in)."""
    files = plain_rule_files(service)
    return [name for name in FILES if name in names and name in files]


def plain_groups(service: Service, names: tuple[str, ...] = FILES) -> list[Group]:
    """Return the groups of the plain files ``names`` of ``service``, in evaluation order."""
    files = plain_rule_files(service)
    return [g for name in loaded_files(service, names) for g in files[name]]


def group_order(service: Service, names: tuple[str, ...] = FILES) -> list[str]:
    """Return the names of the rule groups of the plain files ``names`` in the order they
    must be evaluated (promtool's ``group_eval_order``): recording groups by dependency
    level (``recording.groups`` order), then the alert groups."""
    return [str(g["name"]) for g in plain_groups(service, names)]


@per_service
def all_groups(service: Service) -> list[Group]:
    """Return every rule group of a service, recording groups first, as one list."""
    return [g for groups in rule_files(service).values() for g in groups]
