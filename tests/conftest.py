"""Hypothesis profiles. ``make test`` (and CI) runs the ``repeatable`` profile: examples
derive from each test's name, so a run proves the same cases every time and a failure
reproduces on any machine. ``HYPOTHESIS_PROFILE=explore`` draws new random examples each
run, for hunting (a failure it finds is printed with its ``@reproduce_failure`` blob)."""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
