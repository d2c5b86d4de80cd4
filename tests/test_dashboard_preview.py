"""The SVG preview shows the variables and links, and wraps query text between tokens.

A token is what PromQL reads as one: a name (metric, label, function, with colons), a string,
a number, a range ``[...]``, a ``$variable`` or a legend's ``{{label}}``. A line may break
before or after one, never inside it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from depth import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dashboard import with_raw_panels
from test_dashboard_schema import every_kind_of_panel

from generator.grafana import dashboard, preview
from generator.spec.loader import load_text

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
NS = "{http://www.w3.org/2000/svg}"
TOKENS = re.compile(
    r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{\{[^}]*\}\}|\$\{?\w+\}?|[A-Za-z_:][\w:]*|\d+(?:\.\d+)?'
)


def inside(text: str) -> set[int]:
    """Offsets that fall strictly inside a token of ``text``."""
    return {i for m in TOKENS.finditer(text) for i in range(m.start() + 1, m.end())}


def breaks(lines: list[str]) -> list[int]:
    out, at = [], 0
    for line in lines[:-1]:
        at += len(line)
        out.append(at)
    return out


def check_wrap(text: str, room: int) -> None:
    lines = preview.wrap(text, room)
    assert "".join(lines) == text
    cut = set(breaks(lines)) & inside(text)
    assert not cut, f"{text!r} cut inside a token at {sorted(cut)}: {lines}"
    for line in lines:
        body = line.rstrip()
        assert len(body) <= room or len(TOKENS.findall(body)) <= 1 or len(line) <= room, line


@pytest.fixture(scope="module")
def boards() -> dict[str, dict]:
    service = load_text("slo_specs/samokoder.yaml", SPEC.read_text(encoding="utf-8"))
    return {
        "samokoder": dashboard.build(service),
        "raw panels": dashboard.build(with_raw_panels(str(SPEC))),
        "every kind of panel": every_kind_of_panel(),
    }


def test_every_query_text_wraps_between_tokens(boards: dict[str, dict]) -> None:
    for board in boards.values():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                text = f"{target['legendFormat']} ← {target['expr']}"
                for room in (20, 33, 45, 71):
                    check_wrap(text, room)


ALPHABET = st.sampled_from(
    ['sum(', "rate(", "job:x_total:rate5m", '{a="b c", d=~"e|f"}', "[$__interval]", ")", " ",
     " / ", "0.95", "$job", "{{provider}}", ", ", 'le="+Inf"', "by (le, job) ", ">= 0"]
)  # fmt: skip


@settings(max_examples=examples(deep=200, quick=50), deadline=None)
@given(st.lists(ALPHABET, min_size=1, max_size=30), st.integers(min_value=4, max_value=60))
def test_wrapping_never_cuts_a_token(parts: list[str], room: int) -> None:
    check_wrap("".join(parts), room)


def _texts(group: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in group.iter(f"{NS}text")]


def test_the_svg_shows_variables_links_and_wrapped_queries(boards: dict[str, dict]) -> None:
    board = boards["samokoder"]
    root = ET.fromstring(preview.svg(board).split("\n", 1)[1])
    top = [
        "".join(t.itertext())
        for t in root.findall(f"{NS}text")
        if t.get("font-family") == "monospace"
    ]
    header = "".join(top)
    for variable in board["templating"]["list"]:
        assert str(variable["query"]) in header, variable["name"]
    assert '$instance: label_values(up{job=~"$job"}, instance), chained on $job' in header
    for link in board["links"]:
        assert f"{link['title']} → {link['url']}" in header
    groups = {g.get("id"): g for g in root.findall(f"{NS}g")}
    shown = 0
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        lines = [
            "".join(t.itertext())
            for t in groups[f"panel-{panel['id']}"].iter(f"{NS}text")
            if t.get("font-family") == "monospace"
        ]
        text = "".join(lines)
        runbooks = [link["title"].removeprefix("Runbook: ") for link in panel.get("links", [])]
        heading = "runbooks: " + ", ".join(runbooks) if runbooks else ""
        assert text.startswith(heading), (panel["title"], text)
        queries = "".join(f"{t['legendFormat']} ← {t['expr']}" for t in panel["targets"])
        drawn = text[len(heading) :]
        assert queries.startswith(drawn.removesuffix("…")), (panel["title"], drawn)
        shown += drawn == queries
    assert shown >= 15  # the rest is cut at the box's bottom, with "…"
