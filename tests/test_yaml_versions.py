"""A spec means the same to every YAML reader: a plain scalar that YAML 1.1 (PyYAML, which
the loader uses) and YAML 1.2 (ruamel.yaml, the reference 1.2 implementation on PyPI, here
only as the oracle) read differently is refused at its line and column, never guessed."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.spec import yaml_source

YAML_1_2 = YAML(typ="safe", pure=True)
WORDS = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "true", "False", "null", "~"]
# Plain scalars built from what numbers, times and booleans are made of in either version.
SCALARS = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet="0123456789:_.+-eExXoObB", min_size=1, max_size=8),
    st.from_regex(r"\A[-+]?0[0-9]{1,3}(:[0-5][0-9])?(\.[0-9]+)?\Z"),
)


def _read(text: str):
    source, errors = yaml_source.read("t.yaml", f"a: {text}\n")
    return (source.data["a"], None) if source else (None, errors)


@given(SCALARS)
def test_an_accepted_plain_scalar_means_the_same_in_yaml_1_2(text: str) -> None:
    try:
        reference = YAML_1_2.load(f"a: {text}\n")["a"]
    except Exception:  # not valid YAML 1.2 either: nothing to compare
        return
    value, errors = _read(text)
    if errors is not None:
        assert all(e.line == 1 and e.column == 4 for e in errors), errors
        return
    if isinstance(reference, datetime.date):
        return  # dates: both read them as dates; the schema refuses a date in any field
    assert value == reference and type(value) is type(reference), (text, value, reference)


def test_the_instances_are_refused_with_both_readings() -> None:
    for text, says in (
        ("010", "010 is 8 in YAML 1.1 (octal) but 10 in YAML 1.2"),
        ("1:30", "1:30 is 90 in YAML 1.1 (base 60) but text in YAML 1.2"),
        ("on", "on is true in YAML 1.1 but text in YAML 1.2"),
    ):
        _, errors = _read(text)
        assert errors and says in errors[0].message, (text, errors)


def test_quoted_and_ordinary_values_are_read_as_before() -> None:
    for text, want in (
        ("'010'", "010"),
        ("10", 10),
        ("0.5", 0.5),
        ("true", True),
        ("1:30x", "1:30x"),
    ):
        assert _read(text) == (want, None), text
