"""A label value written with PromQL escapes (``job="a\\"b"``) is the value ``a"b``: rules
select it with the escapes, alert labels and tests carry the value itself, and the
generated tests pass on every engine (escaped text kept as the value fails them)."""

from __future__ import annotations

from pathlib import Path

import depth
import pytest
from yaml_io import load_yaml

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.spec.loader import load_text

SPEC = Path(__file__).parent / "fixtures" / "specs" / "regex_jobs.yaml"


@pytest.mark.deep
@pytest.mark.long(2.5)
def test_an_escaped_quote_in_a_job_is_one_quote_everywhere(tmp_path: Path) -> None:
    text = SPEC.read_text().replace("""'job=~"api|wrk"'""", """'job="a\\"b\\\\c"'""")
    service = load_text("spec.yaml", text)
    assert service.jobs == ('a"b\\c',)
    write_tree(tmp_path, service_files(service))
    rules = tmp_path / service.name / "prometheus"
    alerts = load_yaml((rules / "alerts.yml").read_text())
    down = [r for g in alerts["groups"] for r in g["rules"] if r["alert"] == "TargetDown"]
    assert {r["labels"]["job"] for r in down} == {'a"b\\c'}
    assert all('up{job="a\\"b\\\\c"}' in r["expr"] for r in down), [r["expr"] for r in down]
    for engine in depth.engines("escaped quote in a job", tools.RULE_ENGINES, replays=True):
        proc = tools.run_unit_tests(engine, tools.unit_test_files(engine, rules / "tests"))
        assert proc.returncode == 0, f"{engine.name}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
