"""The job and instance variables: chained, and honoured by every selector they can filter.

Each panel expression is parsed by promtool (``promql format``, Prometheus 3.5's own parser and
printer). A selector must carry ``job=~"$job"`` / ``instance=~"$instance"`` whenever its series
carry that label: every raw metric carries both; a recording carries the labels of its level
(``level:metric:operations``), a recording without a level those of what it reads. Where every
selector of an expression must carry a variable, promtool's ``label-matchers set`` of that
matcher must leave the expression as it is (where no selector matches that label twice): the
proof comes from the parser, not a regex.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from test_dashboard import with_raw_panels
from test_dashboard_schema import every_kind_of_panel
from yaml_io import load_yaml

from generator import tools
from generator.grafana import dashboard
from generator.grafana.queries import VARIABLES
from generator.prometheus import recording
from generator.promql import fullmatch, unquote
from generator.spec.loader import load_text
from generator.spec.model import Service

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
PROMTOOL = tools.PROMETHEUS_3_5
# promtool prints a selector as name{a="b",c=~"d"} (or {..} alone): names, then matchers.
SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}')
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@cache
def _promtool(*args: str) -> str:
    proc = tools.run(PROMTOOL.tool("promtool"), "--experimental", "promql", *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def service() -> Service:
    return load_text("slo_specs/samokoder.yaml", SPEC.read_text(encoding="utf-8"))


def recorded_labels(service: Service):
    rules = {r["record"]: r for g in recording.groups(service) for r in g["rules"]}

    @cache
    def labels(name: str) -> frozenset[str]:
        if name not in rules:  # a scraped metric
            return frozenset(VARIABLES)
        if ":" in name:
            return frozenset(name.split(":", 1)[0].split("_"))
        inputs = {n for n in NAME.findall(rules[name]["expr"]) if n in rules}
        return frozenset().union(*(labels(n) for n in inputs)) if inputs else frozenset()

    return labels


def boards(service: Service) -> dict[str, dict]:
    return {
        "samokoder": dashboard.build(service),
        "raw panels": dashboard.build(with_raw_panels(str(SPEC))),
        "every kind of panel": every_kind_of_panel(),
    }


def variable_problems(board: dict, labels) -> tuple[list[str], int]:
    """Return the selectors lacking a variable that applies, and how many expressions the
    parser's ``label-matchers set`` proved."""
    problems, proved = [], 0
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "5m")
            formatted = _promtool("format", expr.replace("$__interval", "1m"))
            selectors = SELECTOR.findall(formatted)
            assert selectors, formatted
            for variable in VARIABLES:
                matcher = f'{variable}=~"${variable}"'
                need = [(n, m) for n, m in selectors if variable in labels(n)]
                for name, matchers in need:
                    if matcher not in matchers:
                        problems.append(f"{panel['title']}: {name} lacks {matcher}")
                # (promtool's set replaces a selector's first matcher on the label: only an
                # expression whose selectors match the label once proves it this way)
                once = len(re.findall(rf"\b{variable}(?:=~|!~|!=|=)", formatted))
                if need and len(need) == len(selectors) == once:
                    args = (
                        "label-matchers",
                        "set",
                        "-t",
                        "=~",
                        formatted,
                        variable,
                        f"${variable}",
                    )
                    if _promtool(*args) != formatted:
                        problems.append(f"{panel['title']}: promtool added {matcher}")
                    proved += 1
    return problems, proved


def test_every_selector_honours_the_variables_that_apply(service: Service) -> None:
    labels = recorded_labels(service)
    proved = 0
    for name, board in boards(service).items():
        problems, n = variable_problems(board, labels)
        assert not problems, name + ":\n" + "\n".join(problems)
        proved += n
    assert proved >= 30  # the parser's proof covered most expressions


@pytest.mark.parametrize("variable", VARIABLES)
def test_a_selector_without_its_variable_is_caught(variable: str, service: Service) -> None:
    board = dashboard.build(service)
    matcher = f', {variable}=~"${variable}"'
    target = next(t for p in board["panels"] for t in p.get("targets", []) if matcher in t["expr"])
    target["expr"] = target["expr"].replace(matcher, "", 1)
    problems, _ = variable_problems(board, recorded_labels(service))
    assert any(f"lacks {matcher[2:]}" in p for p in problems), problems


def test_instance_is_chained_on_job_and_job_lists_the_services_jobs(service: Service) -> None:
    variables = dashboard.build(service)["templating"]["list"]
    assert [v["name"] for v in variables] == ["datasource", "job", "instance"]
    job, instance = variables[1], variables[2]
    for v in (job, instance):
        assert v["type"] == "query" and v["includeAll"] and v["multi"]
        assert v["allValue"] == ".*" and v["datasource"]["uid"] == "${datasource}"
    assert instance["query"] == 'label_values(up{job=~"$job"}, instance)'
    (regex,) = re.findall(r'job=~"((?:[^"\\]|\\.)*)"', job["query"])
    regex = unquote(f'"{regex}"')
    assert service.jobs and all(fullmatch(regex, j) for j in service.jobs)
    assert not fullmatch(regex, service.jobs[0] + "x")


def test_no_instance_variable_when_no_panel_is_per_instance() -> None:
    data = load_yaml(SPEC.read_text(encoding="utf-8"))
    rows = data["dashboard"]["rows"]
    data["dashboard"]["rows"] = [r for r in rows if r["title"] in ("Traffic", "Errors")]
    board = dashboard.build(load_text("jobs-only.yaml", yaml.safe_dump(data, sort_keys=False)))
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "job"]
    assert "$instance" not in str(board["panels"])
