"""The generator writes YAML with libyaml's C emitter for speed; its bytes must equal the
pure-Python emitter's (the output of every earlier release) for any data, including strings
where the two emitters disagree (there ``to_yaml`` falls back to PyYAML)."""

from __future__ import annotations

import yaml
from depth import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator import output, yaml_text

# Strings that stress both emitters: any code point, long lines, YAML indicators and blank
# lines, which pick quoting and block styles (|, |-, |+, indentation indicators).
_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=300),
    st.text(alphabet=" \n\t:#-'\"{}[]|>*&!%@`?,a1.\x85\u2028\ufeff\U00016e40", max_size=30),
)
_LEAF = st.one_of(_TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
_TREE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=20,
)


def _pure_python(data: object, source: str) -> bytes:
    body = yaml.dump(
        data,
        Dumper=yaml_text._Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
    )
    return (output.header(source) + body).encode("utf-8")


@settings(
    max_examples=examples(deep=1500, quick=300),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.one_of(st.dictionaries(_TEXT, _TREE, max_size=5), st.lists(_TREE, max_size=5)))
# Each example is a disagreement fuzzing found between the two emitters.
@example({"\x85": None})  # NEL: libyaml quotes it as "\N"
@example({"\U00016e40": None})  # outside the BMP: libyaml escapes it
@example({"0": ["\n", "0"]})  # |+ keeps blank lines: libyaml ends the document with ...
@example({"": []})  # an empty key: PyYAML writes a complex key (? '')
@example({"0": {"a\nb": "0"}})  # a multi-line key
@example({"0": -0.0, "1": [0.0, -0.0]})  # equal floats, written differently
@example([["\x85"]])  # NEL, a YAML line break, inside a nested list
# A plain scalar PyYAML folds past column 10,000: where depends on how deep it sits.
@example({"k" * 60: [{"x" * 50: ("ab " * 3400)[:9990]}]})
# Found by a reviewer: long keys are complex keys in PyYAML from about 123 characters, in
# libyaml past 128 bytes; libyaml does not fold a double-quoted string after an escape.
@example({"k" * 123: 1, "\u00e9" * 65: 2, "a": [{"-" + "k" * 122: None}]})
@example({"k": "a \n" + "b\n" * 3333 + "b"})
def test_fast_emitter_writes_pythons_bytes(data: object) -> None:
    assert output.to_yaml(data, "spec.yaml") == _pure_python(data, "spec.yaml")


def test_the_fast_emitter_is_used_for_generated_rules() -> None:
    """Plain rule text takes the C path (else the speed-up would silently vanish)."""
    rules = {"groups": [{"name": "g", "rules": [{"record": "a:b:c", "expr": 'x{a="1"}\n'}]}]}
    assert _takes_fast_path(rules)
    assert not _takes_fast_path({"groups": [{"name": "\x85"}]})


def _takes_fast_path(data: object) -> bool:
    try:
        yaml_text._nodes(data)
    except yaml_text._NotFast:
        return False
    return True
