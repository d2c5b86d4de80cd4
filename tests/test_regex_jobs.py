"""A regex that names jobs (``job=~"api|wrk"``) selects exactly those jobs: each gets its
TargetDown pair, and the generated tests that take each one down pass on every engine. A
regex matching unboundedly many jobs names none (its outage alert is MetricAbsent's
``absent()``)."""

from __future__ import annotations

from pathlib import Path

import depth
import pytest
from yaml_io import load_yaml

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus.case_packing import NAME_SEPARATOR
from generator.spec.loader import load, load_text

SPEC = Path(__file__).parent / "fixtures" / "specs" / "regex_jobs.yaml"


@pytest.mark.parametrize(
    ("selector", "jobs"),
    [
        ('job=~"api|wrk"', ("api", "wrk")),
        ('job=~"(api|wrk)"', ("api", "wrk")),
        ('job=~"api|wrk", env="prod"', ("api", "wrk")),
        ('job=~"shop-.*"', ()),
        ('job=~"a.b|c"', ()),  # `.` matches any character: not a list of names
        # A finite list however it is spelt: a group inside a name, a class, an escape.
        ('job=~"shop-(api|web)"', ("shop-api", "shop-web")),
        ('job=~"web-[0-2]"', ("web-0", "web-1", "web-2")),
        ('job=~"api\\\\.v1|wrk"', ("api.v1", "wrk")),
        ('job=~"(?i)api"', ()),  # case folding: API, Api, ... cannot be listed
        ('job=~"w[^x]"', ()),  # a negated class: any character but one
        ('job=~"web-[0-9]{2}"', ()),  # 100 names: more than MAX_LISTED_JOBS
    ],
)
def test_the_jobs_a_selector_names(selector: str, jobs: tuple[str, ...]) -> None:
    text = SPEC.read_text().replace("""'job=~"api|wrk"'""", f"'{selector}'")
    assert load_text("spec.yaml", text).jobs == jobs


@pytest.mark.deep
@pytest.mark.long(3)
def test_each_job_of_a_regex_alternation_gets_target_down_and_its_tests_pass(
    tmp_path: Path,
) -> None:
    service = load(SPEC)
    write_tree(tmp_path, service_files(service))
    rules = tmp_path / service.name / "prometheus"
    alerts = load_yaml((rules / "alerts.yml").read_text())
    down = {
        (r["labels"]["job"], r["labels"]["severity"])
        for g in alerts["groups"]
        for r in g["rules"]
        if r["alert"] == "TargetDown"
    }
    assert down == {(j, s) for j in ("api", "wrk") for s in ("warning", "critical")}
    suite = load_yaml((rules / "tests" / "threshold_alerts_test.yml").read_text())
    # Cases of alerts that read disjoint metrics share a group, their names joined.
    names = [n for t in suite["tests"] for n in t["name"].split(NAME_SEPARATOR)]
    for job in ("api", "wrk"):
        assert f"TargetDown: the only {job} instance is down" in names
        assert f"TargetDown: no {job} target is discovered" in names
    for engine in depth.engines("regex job alternation", tools.RULE_ENGINES, replays=True):
        proc = tools.run_unit_tests(engine, tools.unit_test_files(engine, rules / "tests"))
        assert proc.returncode == 0, f"{engine.name}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
