"""Every error points at a line the spec writes. A check between two fields, one of them
left to its default (the default lives in no line), is reported on the field that is
written and names the default; never at 1:1 on a path the file does not have."""

from __future__ import annotations

import re

from cli_support import CHECKOUT
from depth import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.spec.errors import SpecInvalid
from generator.spec.loader import load_text
from generator.spec.yaml_source import read

BASE = CHECKOUT.read_text(encoding="utf-8")
TIMING = re.compile(r"^(period|scrape_interval|rate_window): .*\n", re.M)
DURATIONS = {
    "period": ["1d", "3d", "7d", "28d", "30d", "90d"],
    "scrape_interval": ["10s", "15s", "30s", "1m", "2m", "5m", "10m"],
    "rate_window": ["30s", "1m", "2m", "5m", "7m", "10m"],
}


def _spec(fields: dict[str, str | None]) -> str:
    head = "".join(f"{k}: {v}\n" for k, v in fields.items() if v is not None)
    return TIMING.sub("", BASE).replace("labels:\n", head + "labels:\n", 1)


def _errors(text: str):
    try:
        load_text("spec.yaml", text)
    except SpecInvalid as exc:
        return exc.errors
    return []


def _assert_located(text: str) -> None:
    lines = text.splitlines()
    for e in _errors(text):
        assert (e.line, e.column) != (1, 1) or e.path == "(top level)", str(e)
        key = re.findall(r"[A-Za-z_]+", e.path)[-1]
        assert key in lines[e.line - 1], (str(e), lines[e.line - 1])
        for field in ("scrape_interval", "rate_window"):  # "period" is also a plain word
            if field in e.message and f"{field}:" not in text:
                assert f"{field} is not set: its default is" in e.message, str(e)


@settings(max_examples=examples(deep=120, quick=40), deadline=None)
@given(st.fixed_dictionaries({k: st.none() | st.sampled_from(v) for k, v in DURATIONS.items()}))
def test_timing_clashes_point_at_a_written_line(fields: dict[str, str | None]) -> None:
    _assert_located(_spec(fields))


def test_the_instances():
    period = _errors(_spec({"period": "1d", "scrape_interval": None, "rate_window": None}))
    assert [(e.path, e.line) for e in period] == [("period", 5)], period
    assert "burn_rates[3].long is not set: its default is 3d" in period[0].message
    scrape = _errors(_spec({"period": None, "scrape_interval": "10m", "rate_window": None}))
    assert {e.path for e in scrape} == {"scrape_interval"}, scrape
    assert "rate_window is not set: its default is 5m" in scrape[0].message


def _renamed_keys(text: str):
    """Yield (line, text) for each mapping key of ``text`` written plain at the start of its
    line, with that one key renamed to a name no field, label or receiver accepts."""
    source, _ = read("spec.yaml", text)
    lines = text.splitlines(keepends=True)
    for path, (line, column) in source.positions.items():
        key = path[-1] if path else None
        here = lines[line - 1]
        if not isinstance(key, str) or not here[column - 1 :].startswith(f"{key}:"):
            continue
        renamed = here[: column - 1] + '"Bad Key!"' + here[column - 1 + len(key) :]
        yield line, "".join(lines[: line - 1]) + renamed + "".join(lines[line:])


def test_a_bad_key_is_reported_at_the_key():
    """The kind behind "a bad receiver name points at `receivers:`": JSON Schema reports a
    key that breaks ``propertyNames`` (receiver names, label names, Kubernetes labels) or
    ``additionalProperties`` at the mapping holding it. Every key of a full spec is renamed
    in turn; each error that names the new key must be on that key's own line."""
    checked = named = 0
    for line, text in _renamed_keys(BASE):
        for e in _errors(text):
            if "'Bad Key!'" in e.message:
                named += 1
                assert e.line == line, (line, str(e))
        checked += 1
    assert checked > 50 and named > checked // 2, (checked, named)
