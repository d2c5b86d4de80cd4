"""Every artifact of a service, as ``{relative path: bytes}``. Pure: reads only the Model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import alertmanager, alertmanager_config, presentation
from .grafana.provisioning import tree_files
from .output import Files, to_yaml
from .prometheus import native_tests, unittests, vmalert_unittests
from .prometheus.environment_tests import environment_suites
from .prometheus.rule_files import rule_files
from .spec.model import Service

if TYPE_CHECKING:
    from .parallel import Helper


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
        if (native := native_tests.native_suite(env)) is not None:  # beside its rule files
            suites[f"{tests}/{native_tests.FOLDER}/{native_tests.FILE}"] = native
    for name, suite in environment_suites(service).items():  # every environment at once
        suites[f"{base}/prometheus/tests/{name}"] = suite
    return suites


def service_files(service: Service, helper: Helper | None = None) -> Files:
    """Return every generated file of one service, keyed by its path under ``out/``: its
    rules and their tests, its docs, then its dashboard and deploy targets, planned by
    ``helper`` (a process already forked, that ran :func:`presentation.planners`) at the
    same time where one is given. Either way the files and their order are the same."""
    pending = helper.submit(presentation.files, service) if helper is not None else None
    files = rule_and_test_files(service)
    files.update(docs_files(service))
    files.update(pending() if pending is not None else presentation.files(service))
    return files


def rule_and_test_files(service: Service) -> Files:
    """Return one service's rule files, their unit tests and its Alertmanager route."""
    src = service.source
    base = service.name
    files: Files = {
        f"{base}/prometheus/{name}": to_yaml({"groups": groups}, src)
        for name, groups in rule_files(service).items()
    }
    files.update({path: to_yaml(suite, src) for path, suite in test_suites(service).items()})
    if (subtree := alertmanager.route_file(service)) is not None:
        files[f"{base}/alertmanager/route.yml"] = to_yaml(subtree, src)
    return files


def docs_files(service: Service) -> Files:
    """Return one service's runbooks and docs, keyed by path under ``out/``. Jinja2 is
    imported here, so that ``validate`` (which plans the tests) never imports it."""
    from .docs import render as docs

    return {
        f"{service.name}/docs/{name}": text.encode("utf-8")
        for name, text in docs.files(service).items()
    }


def shared_files(services: list[Service]) -> Files:
    """Return the files every service shares (Grafana provisioning, the Alertmanager config),
    keyed by path under ``out/``. Raises SpecInvalid when services clash (two dashboards
    with one uid)."""
    files = tree_files(services)
    if (config := alertmanager_config.config(services)) is not None:
        sources = ", ".join(sorted(s.source for s in services if s.routing is not None))
        files[alertmanager_config.FILE] = to_yaml(config, sources)
    return files
