"""No two recording rules record the same series. Over random breakdown lists (with
``job``, repeats and reorderings) and a ``x`` / ``x_total`` pair, ``validate`` refuses
exactly the specs whose rules promtool's duplicate-rule lint would reject, and every spec
it accepts writes rules that pass ``promtool check rules --lint=all --lint-fatal``."""

from __future__ import annotations

import re
from pathlib import Path

from cli_support import CHECKOUT
from depth import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus.rule_files import RECORDING_FILES
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load_text

BASE = CHECKOUT.read_text(encoding="utf-8")
BREAKDOWN = "    breakdowns: [[result]]\n"
assert BREAKDOWN in BASE
LABELS = ["job", "result", "method", "region"]
PROMTOOL = tools.PROMETHEUS_3_5


def _spec(breakdowns: list[list[str]], plain_twin: bool) -> str:
    rows = ", ".join("[" + ", ".join(b) + "]" for b in breakdowns)
    text = BASE.replace(BREAKDOWN, f"    breakdowns: [{rows}]\n" if breakdowns else "")
    if plain_twin:  # the same counter name without _total, as a second metric
        text = text.replace(
            "  inflight:\n",
            "  orders_plain:\n    name: shop_checkout_orders\n    type: counter\n"
            "    selector: 'job=\"checkout\"'\n  inflight:\n",
            1,
        )
    return text


def _duplicates(*rules_files: Path) -> list[str]:
    """The series two rules record, read from the written files (record name + labels)."""
    text = "".join(f.read_text() for f in rules_files)
    seen, dup = set(), []
    for block in re.split(r"\n  - record: ", text)[1:]:
        name = block.split("\n", 1)[0].strip()
        labels = tuple(re.findall(r"^      (\w+): (.*)$", block, re.M))
        if (name, labels) in seen:
            dup.append(name)
        seen.add((name, labels))
    return dup


@settings(max_examples=examples(deep=40, quick=12), deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(LABELS), min_size=1, max_size=2, unique=True), max_size=3),
    st.booleans(),
)
def test_validate_refuses_exactly_the_duplicate_recordings(
    tmp_path_factory, breakdowns: list[list[str]], plain_twin: bool
) -> None:
    text = _spec(breakdowns, plain_twin)
    out = tmp_path_factory.mktemp("rules")
    try:
        service = load_text("spec.yaml", text)
    except SpecInvalid as exc:
        assert all("records the same series" in e.message for e in exc.errors), exc.errors
        # What the refusal prevents: promtool rejects the same recordings, unfiltered.
        normalised = {frozenset(("job", *b)) for b in breakdowns}
        assert plain_twin or len(normalised) < len(breakdowns) or frozenset(["job"]) in normalised
        return
    write_tree(out, service_files(service))
    folder = out / service.name / "prometheus"
    rules = [folder / name for name in RECORDING_FILES if (folder / name).is_file()]
    assert _duplicates(*rules) == []
    proc = tools.check_rule_files(PROMTOOL, rules)
    assert proc.returncode == 0, proc.stdout + proc.stderr
