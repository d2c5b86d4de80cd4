"""How deep the property tests search: Hypothesis profiles and example counts.

``HYPOTHESIS_PROFILE`` picks one:

- ``quick`` (the default, ``make test``): examples derive from each test's name, so every
  run proves the same cases and a failure reproduces on any machine; the costly properties
  (those that run generated suites on every engine) draw their ``quick`` count.
- ``deep`` (``make deep``, which CI runs): the same derivation, every property at its
  ``deep`` count.
- ``explore``: new random examples each run at the ``deep`` counts, for hunting; a failure
  it finds is printed with its ``@reproduce_failure`` blob.

The engine matrix follows the profile too. Under ``quick`` a test that proves one thing on
every engine proves it on one of them, picked by :func:`rotation` so that the picks spread
over every engine; ``deep`` runs the engines that ``quick`` left out, so that CI, which runs
both, proves each case on every engine once; ``explore`` runs the whole matrix. A test
parametrized over engines gets this from ``conftest.py``; a test that loops over engines
itself calls :func:`engines`; a Hypothesis example that runs its spec's generated suites
calls :func:`example_engines`. A case that replays hours or days of history through the
engines' own suite runners (a test marked ``replays``, a loop that passes ``replays=True``, a
Hypothesis example) rotates under ``quick`` over the engines that replay at promtool's speed
only, since vmalert-tool replays 4-9x slower; ``deep`` runs it on the rest, vmalert-tool
included. A test marked ``every_engine`` (a cheap check that is itself
the proof of the matrix, such as "every engine loads the rules") runs on every engine in
every profile.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from typing import TypeVar

from hypothesis import Phase, settings

PROFILES = ("quick", "deep", "explore")
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")
if PROFILE not in PROFILES:
    raise SystemExit(f"HYPOTHESIS_PROFILE={PROFILE!r}: expected one of {', '.join(PROFILES)}")

settings.register_profile("quick", derandomize=True, database=None, print_blob=True)
settings.register_profile("deep", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(PROFILE)

T = TypeVar("T")


def examples(deep: int, quick: int) -> int:
    """The ``max_examples`` of a property: ``quick`` under the quick profile, else ``deep``."""
    return quick if PROFILE == "quick" else deep


def draws(deep: int, quick: int) -> dict:
    """``settings`` keywords for a property that draws ``examples(deep, quick)`` examples;
    a count of 0 runs only the test's explicit ``@example`` cases (its found regressions)."""
    count = examples(deep, quick)
    if count == 0:
        return {"max_examples": 1, "phases": (Phase.explicit,)}
    return {"max_examples": count}


def rotation(key: str, ordinal: int, size: int) -> int:
    """The index, in ``range(size)``, of the engine that the ``ordinal``-th case of the test
    ``key`` runs on under the quick profile: a stable hash of ``key`` (CRC-32, the same on
    every machine and run) plus ``ordinal``, so that consecutive cases of one test take
    consecutive engines and different tests start on different ones."""
    return (zlib.crc32(key.encode()) + ordinal) % size


def replays_slowly(engine: object) -> bool:
    """Whether ``engine`` replays a unit-test suite several times slower than promtool:
    vmalert-tool ingests every input sample into a real VictoriaMetrics storage (and waits
    for it) before it evaluates, 4-9x promtool's time on the same suites (measured; the
    README's engine notes give the figures)."""
    return getattr(engine, "family", None) == "victoriametrics"


def quick_pick(key: str, ordinal: int, matrix: Sequence[object], replays: bool) -> int:
    """The index in ``matrix`` of the engine the quick profile runs the ``ordinal``-th case
    of the test ``key`` on: :func:`rotation` over the whole matrix, or, for a case that
    ``replays`` hours or days of history through an engine's own suite runner, over the
    engines that do not :func:`replay slowly <replays_slowly>`. ``make deep`` runs such a
    case on the rest of the matrix, vmalert-tool included, so CI still proves it on every
    engine; ``make test`` proves vmalert-tool on the cases that replay little."""
    pool = [i for i, e in enumerate(matrix) if not (replays and replays_slowly(e))] or list(
        range(len(matrix))
    )
    return pool[rotation(key, ordinal, len(pool))]


def _share(key: str, matrix: Sequence[T], deep: int, replays: bool) -> tuple[T, ...]:
    """Under the quick profile the engine :func:`quick_pick` picks for ``key``; under ``deep``
    the ``deep`` engines after it, cyclically; under ``explore`` every one."""
    pick = quick_pick(key, 0, matrix, replays)
    if PROFILE == "quick":
        return (matrix[pick],)
    if PROFILE == "deep":
        return tuple(matrix[(pick + i) % len(matrix)] for i in range(1, deep + 1))
    return tuple(matrix)


def engines(key: str, matrix: Sequence[T], replays: bool = False) -> tuple[T, ...]:
    """The engines of ``matrix`` that a test looping over it runs on. Under the quick profile,
    the one :func:`quick_pick` picks for ``key`` (the test's own name, plus whatever else tells
    its cases apart); under ``deep``, the others, so that `make test` and `make deep` (both in
    CI) run each engine once between them; under ``explore``, all of them. Such a test is
    marked ``deep`` so that `make deep` runs it. ``replays``: see :func:`quick_pick`."""
    return _share(key, matrix, deep=len(matrix) - 1, replays=replays)


def example_engines(key: str, matrix: Sequence[T]) -> tuple[T, ...]:
    """The engines that one Hypothesis example (``key``: its drawn spec, serialised) runs its
    generated suites on: under the quick profile the one :func:`quick_pick` picks among the
    engines that replay at promtool's speed (the suites replay days); under
    ``deep`` the next one in ``matrix``, so that an example both profiles draw (such as an
    explicit ``@example``) meets two engines in CI; under ``explore`` every one. The pick
    rotates with ``key``, so across a run each engine serves a share of the examples (each
    promtool a third under quick; under deep, the engines after them, vmalert-tool a third):
    the property samples pairs of spec and engine rather than proving each spec
    on every engine, and every drawn spec costs one engine's run. That matters because
    vmalert-tool takes 4-9x promtool's time on the same suites (a 20-SLO spec: over 12
    minutes on vmalert-tool alone)."""
    return _share(key, matrix, deep=1, replays=True)
