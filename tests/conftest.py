"""Loads the Hypothesis profile named by ``HYPOTHESIS_PROFILE`` (tests/depth.py), registers
the markers that say how a test's depth follows it, and sizes the engine matrix by it."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile

import depth
import pytest

from generator.cli import GC_THRESHOLDS
from generator.tools import Engine


def pytest_configure(config) -> None:
    # The tests plan services in-process too: the generator's own collector setting.
    gc.set_threshold(*GC_THRESHOLDS)
    # Every `generate` a test runs keeps its cache of generated services here, not in the
    # user's ~/.cache; the folder goes with the session (or the pytest-xdist worker).
    os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
    config.addinivalue_line(
        "markers",
        "deep: how much this test checks follows the profile (tests/depth.py), like a "
        "Hypothesis test's example count; `make deep` runs these and the Hypothesis tests",
    )
    config.addinivalue_line(
        "markers",
        "deep_only: too costly for the quick profile; deselected by `make test`, run by "
        "`make deep` (CI). The engines a quick run rotates away are marked so too.",
    )
    config.addinivalue_line(
        "markers",
        "replays: runs generated suites that replay hours or days of history; under the "
        "quick profile its engine rotates over the engines that replay at promtool's speed "
        "(tests/depth.py, quick_pick), and `make deep` runs it on the rest",
    )
    config.addinivalue_line(
        "markers",
        "every_engine: runs on every engine of its matrix under every profile (a cheap "
        "check that is itself the proof of the matrix)",
    )
    config.addinivalue_line(
        "markers",
        "long(minutes): takes about that many minutes of a worker under `make deep`; "
        "collected first, longest first, so that pytest-xdist (one test at a time per "
        "worker, --maxschedchunk=1) starts it early rather than leaving it to run alone "
        "while the other worker idles",
    )


_CACHE_HOME = tempfile.mkdtemp(prefix="slo-generator-tests-cache-")


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)


def _engine_argument(item) -> str | None:
    """The name of the parameter of ``item`` that is an engine, if any."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    found = [k for k, v in callspec.params.items() if isinstance(v, Engine)]
    return found[0] if len(found) == 1 else None


def _rotated_away(items) -> list:
    """The cases of engine-parametrized tests that the quick profile leaves to `make deep`:
    each test's cases are grouped by their other parameters, and each group keeps the one
    engine that ``depth.quick_pick`` picks for it."""
    groups: dict[str, dict[str, list]] = {}
    for item in items:
        arg = _engine_argument(item)
        if arg is None or item.get_closest_marker("every_engine") is not None:
            continue
        test = f"{item.path.name}::{item.originalname}"
        # Every engine parameter's id is the engine's name (``prometheus-3.5``).
        ids = item.callspec.id.split("-")
        name = item.callspec.params[arg].name.split("-")
        at = next(i for i in range(len(ids)) if ids[i : i + len(name)] == name)
        others = "-".join(ids[:at] + ids[at + len(name) :])
        groups.setdefault(test, {}).setdefault(others, []).append(item)
    away = []
    for test, cases in groups.items():
        for ordinal, group in enumerate(cases.values()):
            matrix = [item.callspec.params[_engine_argument(item)] for item in group]
            replays = group[0].get_closest_marker("replays") is not None
            keep = depth.quick_pick(test, ordinal, matrix, replays)
            away += [item for i, item in enumerate(group) if i != keep]
    return away


def _minutes(item) -> float:
    """The worker minutes a ``long`` test declares; 0 for any other test."""
    marker = item.get_closest_marker("long")
    return marker.args[0] if marker is not None else 0


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    items.sort(key=_minutes, reverse=True)  # stable: the rest keep their order
    for item in _rotated_away(items):
        item.add_marker(pytest.mark.deep_only)
    if depth.PROFILE != "quick":
        return
    keep = [item for item in items if item.get_closest_marker("deep_only") is None]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
