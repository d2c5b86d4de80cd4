"""Loads the Hypothesis profile named by ``HYPOTHESIS_PROFILE`` (tests/depth.py) and registers
the markers that say how a test's depth follows it."""

import depth


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "deep: how much this test checks follows the profile (tests/depth.py), like a "
        "Hypothesis test's example count; `make deep` runs these and the Hypothesis tests",
    )
    config.addinivalue_line(
        "markers",
        "deep_only: too costly for the quick profile; deselected by `make test`, run by "
        "`make deep` (CI)",
    )


def pytest_collection_modifyitems(config, items) -> None:
    if depth.PROFILE != "quick":
        return
    keep = [item for item in items if item.get_closest_marker("deep_only") is None]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
