"""Registers the ``e2e`` marker (tests that start a real engine, ``make e2e``) and the
``scenarios`` marker, which keeps a test to the scenarios it names: its other scenario
instances are deselected at collection, not skipped after setting up a server."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: starts a real engine (E2E_ENGINE) on synthetic history"
    )
    config.addinivalue_line(
        "markers", "scenarios(*names): run this test only on the named scenarios"
    )


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("scenarios")
        callspec = getattr(item, "callspec", None)
        scenario = callspec.params.get("env") if callspec else None
        if marker and scenario is not None and scenario not in marker.args:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
