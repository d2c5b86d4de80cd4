"""The spec's ``deploy`` section: which output targets are written besides the plain files.

The plain rule files under ``out/<service>/prometheus/`` are always written. Each key of
``deploy`` turns on one more target, and each target is a planner of its own
(``generator/targets/``) that reads these settings from the Model.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from .errors import Path, SpecError
from .routing import secret_files
from .yaml_source import Source

# The label the Grafana sidecar of kube-prometheus-stack looks for on dashboard ConfigMaps;
# the generator sets it on that ConfigMap only.
DASHBOARD_LABEL = "grafana_dashboard"
# A Kubernetes object name (DNS-1123 subdomain, k8s.io/apimachinery IsDNS1123Subdomain).
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
# A key of a Kubernetes Secret (k8s.io/apimachinery IsConfigMapKey).
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")


@dataclass(frozen=True)
class Kubernetes:
    """Prometheus Operator manifests: their namespace, extra labels and the routing Secret."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    secret: str  # the Secret holding routing's secret files, one key per file name


@dataclass(frozen=True)
class Mimir:
    """A mimirtool namespace file for the Mimir or Cortex ruler."""

    namespace: str


@dataclass(frozen=True)
class Thanos:
    """Rule files for the Thanos ruler; ``partial_response_strategy`` is "" when not set."""

    partial_response_strategy: str = ""


@dataclass(frozen=True)
class Deploy:
    """The targets a spec turns on; None (or False) is off."""

    kubernetes: Kubernetes | None = None
    mimir: Mimir | None = None
    thanos: Thanos | None = None
    vmalert: bool = False


def secret_key(path: str) -> str:
    """Return the key a secret file is stored under in the Kubernetes Secret: its file name
    (``/etc/alertmanager/secrets/telegram_bot_token`` -> ``telegram_bot_token``)."""
    return posixpath.basename(path)


def pattern_hint(path: Path) -> str:
    """Return what a valid value at ``path`` (inside ``deploy``) looks like, in words."""
    if path[1:2] == ("mimir",):
        return "a Mimir namespace is up to 63 letters, digits, '_', '.' and '-'"
    if path[2:] == ("labels",):  # a key (JSON Schema's propertyNames)
        return (
            "a Kubernetes label name is an optional DNS prefix and '/', then up to 63 "
            "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )
    if path[2:3] == ("labels",):
        return (
            "a Kubernetes label value is up to 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return (
        "a Kubernetes name is up to 63 lower-case letters, digits and '-', "
        "starting and ending with a letter or digit"
    )


def resolve(source: Source, errors: list[SpecError]) -> Deploy:
    """Return the spec's Deploy (every target off without a ``deploy`` section); append
    problems to ``errors``. The section has passed the JSON Schema already."""
    data = source.data.get("deploy") if isinstance(source.data, dict) else None
    if data is None:
        return Deploy()
    here: Path = ("deploy",)

    def fail(path: Path, message: str) -> None:
        errors.append(source.error((*here, *path), message))

    kubernetes = None
    if "kubernetes" in data:
        k = data["kubernetes"]
        labels = tuple(sorted(k.get("labels", {}).items()))
        if DASHBOARD_LABEL in dict(labels):
            fail(
                ("kubernetes", "labels", DASHBOARD_LABEL),
                f"{DASHBOARD_LABEL!r} is set by the generator on the dashboard ConfigMap only; "
                "on every manifest it would make the Grafana sidecar load rules as dashboards",
            )
        service = source.data["service"]
        if not _OBJECT_NAME.fullmatch(service):
            fail(
                ("kubernetes",),
                f"the manifests are named after the service, and {service!r} is not a "
                "Kubernetes object name: end the service name with a letter or digit",
            )
        secret = k.get("secret", f"{service}-alertmanager")
        kubernetes = Kubernetes(k["namespace"], labels, secret)
        _secret_keys(source.data.get("routing"), fail)
    mimir = Mimir(data["mimir"]["namespace"]) if "mimir" in data else None
    thanos = Thanos(**data["thanos"]) if "thanos" in data else None
    return Deploy(kubernetes, mimir, thanos, vmalert="vmalert" in data)


def _secret_keys(routing: object, fail) -> None:
    """Check that routing's secret files can share one Kubernetes Secret, keyed by file name."""
    if not isinstance(routing, dict):
        return
    files = [(name, ("routing", *path)) for name, path in secret_files(routing)]
    seen: dict[str, str] = {}
    for name, path in files:
        key = secret_key(name)
        where = ("kubernetes", "secret")
        if not _SECRET_KEY.fullmatch(key):
            fail(
                where,
                f"{name!r} ({'.'.join(map(str, path))}) has no file name usable as a key "
                "of a Kubernetes Secret (letters, digits, '-', '_' and '.')",
            )
        elif key in seen:
            fail(
                where,
                f"{seen[key]!r} and {name!r} would share the key {key!r} in the Kubernetes "
                "Secret: give each secret file its own file name",
            )
        seen.setdefault(key, name)
