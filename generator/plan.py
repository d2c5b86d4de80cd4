"""Every artifact of a service, as ``{relative path: bytes}``. Pure: reads only the Model."""

from __future__ import annotations

from . import alertmanager, alertmanager_config
from .grafana.provisioning import tree_files
from .output import Files, to_yaml
from .prometheus import native_tests, unittests, vmalert_unittests
from .prometheus.environment_tests import environment_suites
from .prometheus.rule_files import rule_files
from .spec.model import Service


def test_suites(service: Service) -> dict[str, dict]:
    """Return every generated unit-test suite of one service, keyed by its path under
    ``out/``. These planners are the only ones that can refuse a valid spec (raising
    ``synthetic.UntestableSpec`` when no synthetic series can drive a check), so
    ``validate`` runs them, and not the dashboard's and the docs' (grafanalib and Jinja2,
    the most costly imports)."""
    base = service.name
    suites = {}
    # An environment's tests sit beside its rule files: prometheus/<env>/tests/.
    for env in service.environments or (service,):
        tests = f"{base}/prometheus/{env.environment}/tests" if env.environment else None
        tests = tests or f"{base}/prometheus/tests"
        for name, suite in unittests.suites(env).items():
            suites[f"{tests}/{name}"] = suite
        for name, suite in vmalert_unittests.vmalert_suites(env).items():
            suites[f"{tests}/{name}"] = suite
    for name, suite in environment_suites(service).items():  # every environment at once
        suites[f"{base}/prometheus/tests/{name}"] = suite
    if (native := native_tests.native_suite(service)) is not None:
        suites[f"{base}/prometheus/tests/{native_tests.FOLDER}/{native_tests.FILE}"] = native
    return suites


def service_files(service: Service) -> Files:
    """Return every generated file of one service, keyed by its path under ``out/``."""
    # Imported here, not above: test_suites (validate) needs none of them.
    from . import targets
    from .docs import render as docs
    from .grafana.files import files as grafana_files

    src = service.source
    base = service.name
    files: Files = {
        f"{base}/prometheus/{name}": to_yaml({"groups": groups}, src)
        for name, groups in rule_files(service).items()
    }
    files.update({path: to_yaml(suite, src) for path, suite in test_suites(service).items()})
    if (subtree := alertmanager.route_file(service)) is not None:
        files[f"{base}/alertmanager/route.yml"] = to_yaml(subtree, src)
    for name, text in docs.files(service).items():
        files[f"{base}/docs/{name}"] = text.encode("utf-8")
    files.update(grafana_files(service))
    files.update(targets.files(service))
    return files


def shared_files(services: list[Service]) -> Files:
    """Return the files every service shares (Grafana provisioning, the Alertmanager config),
    keyed by path under ``out/``. Raises SpecInvalid when services clash (two dashboards
    with one uid)."""
    files = tree_files(services)
    if (config := alertmanager_config.config(services)) is not None:
        sources = ", ".join(sorted(s.source for s in services if s.routing is not None))
        files[alertmanager_config.FILE] = to_yaml(config, sources)
    return files
