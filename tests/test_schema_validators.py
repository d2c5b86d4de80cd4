"""The spec's two JSON Schema validators agree (generator/spec/loader.py).

jsonschema-rs decides whether a spec fits the schema; the jsonschema package explains a
spec that does not. If the decider accepted what the explainer refuses, a spec that breaks
the schema would reach the resolver unexplained; if it refused what the explainer accepts,
the spec would fail without a reader's sentence. Both are checked on every spec of the
corpus (good, bad, hostile) and on random damage to Samokoder's spec: a value replaced by
any JSON value, a field removed, a field added, text with a newline or a control character.

The one allowed difference is the documented one: a ``pattern`` ending in '$' refuses text
with a final newline under ECMA-262 (jsonschema-rs) and accepts it under Python's ``re``
(the jsonschema package). That case must be reported, with the field's own sentence.
"""

from __future__ import annotations

import copy

import jsonschema
import jsonschema_rs
import pytest
from cli_support import ROOT, SAMOKODER, run_cli_in_process
from depth import draws
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.spec import loader
from generator.spec.yaml_source import read

SCHEMA = loader.schema()
DECIDER = jsonschema_rs.validator_for(SCHEMA)
EXPLAINER = jsonschema.Draft202012Validator(SCHEMA)
CORPUS = sorted(
    p
    for folder in ("bad", "hostile", "specs", "packing", "native")
    for p in (ROOT / "tests" / "fixtures" / folder).rglob("*.yaml")
) + sorted((ROOT / "slo_specs").glob("*.yaml"))


def _data(path) -> object | None:
    try:
        source, _ = read(str(path), path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, RecursionError):
        return None
    return None if source is None else source.data


def _pattern_newline_only(data: object) -> bool:
    """True when every error jsonschema-rs finds is a pattern refusing a final newline."""
    return all(
        isinstance(e.kind, jsonschema_rs.ValidationErrorKind.Pattern)
        and isinstance(e.instance, str)
        and e.instance.endswith("\n")
        for e in DECIDER.iter_errors(data)
    )


def assert_agree(data: object) -> None:
    try:
        decided = DECIDER.is_valid(data)
    except ValueError:  # a type JSON lacks (a non-text key): the explainer alone decides
        return
    explained = not any(True for _ in EXPLAINER.iter_errors(data))
    if decided:
        assert explained, f"jsonschema-rs accepts what jsonschema refuses: {data!r}"[:2000]
    elif explained:
        assert _pattern_newline_only(data), f"only jsonschema-rs refuses: {data!r}"[:2000]


def test_the_corpus_is_read() -> None:
    readable = [p for p in CORPUS if _data(p) is not None]
    assert len(readable) >= 120, len(readable)
    assert any(not DECIDER.is_valid(_data(p)) for p in readable)
    assert any(DECIDER.is_valid(_data(p)) for p in readable)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_validators_agree_on_the_corpus(path) -> None:
    data = _data(path)
    if data is not None:
        assert_agree(data)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.text(max_size=12).map(lambda t: t + "\n")
    | st.sampled_from(["", "5m", "page", "99.9", "samokoder", "x\x1c", "a b", "https://x/"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
BASE = _data(SAMOKODER)


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


PATHS = _paths(BASE)[1:]


def _damaged(path: tuple, action: str, value: object, key: str) -> object:
    data = copy.deepcopy(BASE)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "remove":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][key] = value
    elif isinstance(parent[last], list):
        parent[last].append(value)
    else:
        parent[last] = value
    return data


@settings(**draws(deep=2000, quick=300), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    damage=st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.sampled_from(["replace", "remove", "add"]),
            VALUES,
            st.text(max_size=8) | st.sampled_from(["objective", "for", "severity", "labels"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_the_validators_agree_on_damaged_specs(damage) -> None:
    for path, action, value, key in damage:
        assert_agree(_damaged(path, action, value, key))


SLUG = (
    "is not valid: a service name is a slug: lower-case letters, digits and '-', starting "
    "with a letter"
)


@pytest.mark.parametrize("other_mistake", [False, True])
def test_a_final_newline_in_a_patterned_field_is_refused_with_its_sentence(
    tmp_path, other_mistake: bool
) -> None:
    """Python's re (the jsonschema package) accepts 'samokoder\\n' for ^[a-z][a-z0-9-]{0,62}$;
    the error is reported alone and beside a mistake both validators find."""
    text = SAMOKODER.read_text(encoding="utf-8")
    text = text.replace("\nservice: samokoder\n", '\nservice: "samokoder\\n"\n', 1)
    if other_mistake:
        text = text.replace("\nperiod: 30d\n", "\nperiod: 30d\nperiode: 30d\n", 1)
    spec = tmp_path / "newline.yaml"
    spec.write_text(text, encoding="utf-8")
    proc = run_cli_in_process("validate", "--spec", spec)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert f"{spec}:6:1: service: 'samokoder\\n' {SLUG}" in lines, lines
    assert len(lines) == 2 + other_mistake, lines
    if other_mistake:
        assert any("unknown field 'periode'" in line for line in lines), lines
