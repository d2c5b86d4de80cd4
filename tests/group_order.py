"""The check that every engine evaluates a service's rule groups in an order that reads no
stale input: what promtool 3's random order of unlisted groups, and vmalert's separate
evaluation of groups, would otherwise turn into flaky tests."""

from __future__ import annotations

import re
from pathlib import Path

from generated_rules import groups_in
from yaml_io import load_yaml


def assert_groups_are_layered(rules: Path) -> None:
    """No rule reads a series recorded in its own group or a later one, and every test file
    evaluates the groups in file order: otherwise an engine that evaluates groups apart
    (vmalert) or in random order (promtool 3) reads stale inputs."""
    groups = groups_in(rules)
    recorded_in = {
        r["record"]: i for i, g in enumerate(groups) for r in g["rules"] if "record" in r
    }
    for i, group in enumerate(groups):
        for rule in group["rules"]:
            for token in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", rule["expr"]):
                assert recorded_in.get(token, -1) < i, (
                    f"{group['name']}: {rule.get('record') or rule.get('alert')} reads {token}, "
                    f"recorded in {groups[recorded_in[token]]['name']}"
                )
    order = [g["name"] for g in groups]
    for suite in (rules / "tests").rglob("*.yml"):
        data = load_yaml(suite.read_text())
        loaded = {g["name"] for f in data["rule_files"]
                  for g in load_yaml((suite.parent / f).read_text())["groups"]}  # fmt: skip
        # A suite loads some of the files (the SLO suites load the SLO files alone).
        assert data["group_eval_order"] == [g for g in order if g in loaded], suite
