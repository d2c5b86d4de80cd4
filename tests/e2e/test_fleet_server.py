"""The 200-service fleet of tests/test_fleet.py, loaded by one real Prometheus 3.5 server:
every group loads and none fails its first evaluations. A real server is an ``e2e`` test
(``make e2e``): its memory would count against the bad-input tests' child-process limit."""

from __future__ import annotations

import pytest
from fleet import generate, rule_files
from yaml_io import load_yaml

from generator import tools

from . import prom

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("fleet"), 200)


def test_one_prometheus_3_5_server_loads_and_evaluates_the_fleet(fleet, tmp_path) -> None:
    out, _ = fleet
    files = rule_files(out)
    want = {g["name"] for f in files for g in load_yaml(f.read_text())["groups"]}
    with prom.running(tmp_path / "data", files, tools.PROMETHEUS_3_5, "1s") as server:
        server.wait_for("every group", lambda: len(server.rule_groups()) == len(want))
        assert {g["name"] for g in server.rule_groups()} == want
        # Groups on the 1s default interval have run by now; none may have failed.
        server.wait_for(
            "a first evaluation",
            lambda: any(g["lastEvaluation"][:4] != "0001" for g in server.rule_groups()),
        )
        errors = [
            (g["name"], r["name"], r.get("lastError"))
            for g in server.rule_groups()
            for r in g["rules"]
            if r.get("health") == "err"
        ]
        assert not errors, errors[:10]
