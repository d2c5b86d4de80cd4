"""The dashboard and every other JSON file are written by ``json_text.dump``, which lays out
``indent=2`` itself around the standard library's C encoders; its text must equal
``json.dumps(data, indent=2, ensure_ascii=False)``'s (the bytes of every earlier release)
for any data, and fall back to it for data it does not write itself."""

from __future__ import annotations

import json
import math

from depth import examples
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator import json_text

_TEXT = st.one_of(
    st.text(),
    st.text(alphabet='"\\\n\t\x00\x1f\x7f\u2028\ufeff/<>&a1 ', max_size=20),
)
_LEAF = st.one_of(
    _TEXT,
    st.integers(),
    st.floats(),  # NaN and the infinities included: json.dumps writes them as NaN, Infinity
    st.booleans(),
    st.none(),
)
_TREE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_TEXT, inner, max_size=4),
        # Keys json.dumps turns into strings itself.
        st.dictionaries(st.one_of(st.integers(), st.booleans(), st.none()), inner, max_size=2),
    ),
    max_leaves=25,
)


@settings(
    max_examples=examples(deep=1500, quick=300),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(_TREE)
@example({"a": [1.0, 1e16, -0.0, 5e-324, float("inf")], "": {"": []}, "b": {}})
@example([[[]], [{}], {"k": [True, False, None, 10**30]}])
def test_json_text_writes_what_json_dumps_writes(data: object) -> None:
    assert json_text.dump(data) == json.dumps(data, indent=2, ensure_ascii=False)


def test_finite_floats_and_plain_data_take_the_layout_path() -> None:
    """The dashboard's data takes the fast path (else the speed-up would silently vanish);
    NaN goes to json.dumps."""
    written: list[str] = []
    json_text._write({"w": [1, 0.5, "x", None, True, {}]}, "\n", written)
    assert "".join(written) == json.dumps({"w": [1, 0.5, "x", None, True, {}]}, indent=2)
    try:
        json_text._write([math.nan], "\n", [])
    except json_text._Other:
        pass
    else:
        raise AssertionError("NaN took the layout path")
