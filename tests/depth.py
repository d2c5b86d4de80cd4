"""How deep the property tests search: Hypothesis profiles and example counts.

``HYPOTHESIS_PROFILE`` picks one:

- ``quick`` (the default, ``make test``): examples derive from each test's name, so every
  run proves the same cases and a failure reproduces on any machine; the costly properties
  (those that run generated suites on every engine) draw their ``quick`` count.
- ``deep`` (``make deep``, which CI runs): the same derivation, every property at its
  ``deep`` count.
- ``explore``: new random examples each run at the ``deep`` counts, for hunting; a failure
  it finds is printed with its ``@reproduce_failure`` blob.
"""

from __future__ import annotations

import os

from hypothesis import Phase, settings

PROFILES = ("quick", "deep", "explore")
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")
if PROFILE not in PROFILES:
    raise SystemExit(f"HYPOTHESIS_PROFILE={PROFILE!r}: expected one of {', '.join(PROFILES)}")

settings.register_profile("quick", derandomize=True, database=None, print_blob=True)
settings.register_profile("deep", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(PROFILE)


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
