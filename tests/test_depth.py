"""The quick profile's engine picks (tests/depth.py): a case that replays days never lands on
vmalert-tool in `make test`, the others rotate over the whole matrix as before, and between
them `make test` and `make deep` still run every case on every engine."""

from __future__ import annotations

import depth
import pytest

from generator import tools

MATRIX = tools.RULE_ENGINES
KEYS = [f"test_{i}" for i in range(200)]


def test_a_replaying_case_rotates_over_the_promtool_versions_only() -> None:
    picks = [MATRIX[depth.quick_pick(k, n, MATRIX, replays=True)] for k in KEYS for n in range(3)]
    assert not [e for e in picks if depth.replays_slowly(e)]
    assert set(picks) == set(tools.PROMETHEUSES)  # each still serves a share


def test_any_other_case_keeps_the_rotation_over_the_whole_matrix() -> None:
    for k in KEYS:
        for n in range(3):
            want = depth.rotation(k, n, len(MATRIX))
            assert depth.quick_pick(k, n, MATRIX, replays=False) == want
    picks = {MATRIX[depth.quick_pick(k, 0, MATRIX, replays=False)] for k in KEYS}
    assert tools.VICTORIAMETRICS in picks


def test_collected_replaying_cases_leave_vmalert_tool_to_make_deep(request) -> None:
    """Every collected case of a ``replays`` test that `make test` would run (not marked
    ``deep_only``) is on a promtool version; its vmalert-tool case is marked ``deep_only``."""
    replaying = [
        item
        for item in request.session.items
        if item.get_closest_marker("replays") is not None and hasattr(item, "callspec")
    ]
    on_vm = [
        item
        for item in replaying
        if any(depth.replays_slowly(v) for v in item.callspec.params.values())
    ]
    # In `make test` the deep_only cases are deselected before this runs, so a vmalert-tool
    # case left here is one the quick profile kept: the failure this looks for. (Run alone,
    # or with -k, this file may see no replaying test at all.)
    assert all(item.get_closest_marker("deep_only") is not None for item in on_vm), on_vm


@pytest.mark.parametrize("replays", [False, True])
def test_quick_and_deep_together_run_each_engine_once(monkeypatch, replays: bool) -> None:
    for k in KEYS:
        monkeypatch.setattr(depth, "PROFILE", "quick")
        quick = depth.engines(k, MATRIX, replays=replays)
        monkeypatch.setattr(depth, "PROFILE", "deep")
        deep = depth.engines(k, MATRIX, replays=replays)
        assert len(quick) == 1
        assert sorted([*quick, *deep], key=MATRIX.index) == list(MATRIX)
        if replays:
            assert not depth.replays_slowly(quick[0])
