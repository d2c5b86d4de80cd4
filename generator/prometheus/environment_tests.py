"""The generated test of ``environments``: every environment's rules loaded at once, an outage
in one environment, and the other stays silent.

The suite (``prometheus/tests/environments_test.yml``) loads every environment's rule files
together, as one Prometheus would, so it also proves their group names and recorded series
never collide. One case per pair of neighbouring environments (A, B), for the first SLO
with a page: A's SLI series (labelled as A's selector selects) at 100 % errors, B's clean.
From the engine's own ``ALERTS`` series it checks that A's fastest page fires with
``env="A"``, and that no alert of that SLO carries ``env="B"``.
"""

from __future__ import annotations

import itertools

from .. import signals
from ..promql import format_duration, quote
from ..spec.model import Service
from .burn_rate_tests import SAMPLE, _firing, _never, alert_selector
from .promtool_cases import EXPRESSION_TESTS
from .rule_files import group_order, loaded_files
from .synthetic import segments, sli_feeds

FILE = "environments_test.yml"
OUTAGE_MINUTES = 30


def _case(a: Service, b: Service) -> dict | None:
    pages = [(s, x) for s in a.slos for x in a.slo_burn_rates(s) if x.severity == "critical"]
    if not pages:
        return None
    slo, page = pages[0]
    hot, cold = sli_feeds(slo.sli, 1.0), sli_feeds(b.slo(slo.name).sli, 0.0)
    minutes = OUTAGE_MINUTES + 1
    series = [{"series": f.selector, "values": segments([(minutes, f.step)])} for f in hot + cold]
    end = OUTAGE_MINUTES * SAMPLE
    env = f'{signals.ENV_LABEL}="{quote(b.environment)}"'
    other = f'ALERTS{{alertstate="firing", {env}, slo="{quote(slo.name)}"}}'
    return {
        "name": f"{slo.burn_alert}: an outage of the {slo.name} SLO in environment "
        f"{a.environment} pages for it alone; {b.environment}, with clean traffic, stays silent",
        "interval": format_duration(SAMPLE),
        "input_series": series,
        EXPRESSION_TESTS: [
            _firing(alert_selector(a, slo, page), end, 1),
            _never(other, 0, end),
        ],
    }


def environment_suite(service: Service, interval: str) -> dict | None:
    """Return the suite, with rule files as seen from ``prometheus/tests/``; None without
    two environments."""
    envs = service.environments
    cases = [c for a, b in itertools.pairwise(envs) if (c := _case(a, b)) is not None]
    if not cases:
        return None
    files = [f"../{e.environment}/{name}" for e in envs for name in loaded_files(e)]
    order = [name for e in envs for name in group_order(e)]
    return {
        "rule_files": files,
        "evaluation_interval": interval,
        "group_eval_order": order,
        "tests": cases,
    }


def environment_suites(service: Service) -> dict[str, dict]:
    """Return ``{path under prometheus/tests/: suite}``: the suite for promtool, and its twin
    in vmalert-tool's dialect under ``vmalert/`` (rule files one folder further up)."""
    suite = environment_suite(service, format_duration(service.rate_window))
    if suite is None:
        return {}
    field = "metricsql_expr_test"  # vmalert_unittests.METRICSQL_TESTS (it imports unittests)
    twin = {
        **suite,
        "rule_files": [f"../{f}" for f in suite["rule_files"]],
        "tests": [
            {(field if k == EXPRESSION_TESTS else k): v for k, v in case.items()}
            for case in suite["tests"]
        ],
    }
    return {FILE: suite, f"vmalert/{FILE}": twin}
